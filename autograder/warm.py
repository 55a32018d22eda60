"""Warm kernels: a sandboxed parent that has imported TensorFlow forks a fresh kernel per notebook.

A cold kernel spends seconds of CPU importing TensorFlow, Keras and IPython before the
notebook's first line runs, every notebook. A grading worker instead keeps one
``WarmParent``: the zygote (``zygote.py``) started under the same bubblewrap sandbox and
limits as a cold kernel, which imports those libraries once and forks each notebook's
kernel from its memory image in new namespaces with fresh tmpfs (see ``zygote.py`` for
what the kernel cannot reach).

The worker grades one notebook at a time, so a zygote serves one kernel at a time, and
its socket folder (the one host folder the sandbox can write) holds only that notebook's
files: it is emptied after each notebook, after the notebook's processes are gone.

``WarmKernelManager`` plugs this into jupyter_client and nbclient: only the launch
differs; the connection file, channels and shutdown are jupyter_client's own. The
kernel's "process" is the init of its PID namespace: killing it ends every process the
notebook started.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

from .cgroup import KernelGroup
from .execute import PrefixedKernelManager, kernel_env, launcher, process_tree
from .sandbox import SANDBOX_ENV, WORKDIR, SandboxLimits, bwrap_prefix, interpreter_paths, tmpfs_paths

ZYGOTE_SOURCE = (Path(__file__).parent / "zygote.py").read_text(encoding="utf-8")
# What every course notebook imports, and what starting an IPython kernel imports (its debugger
# support alone, debugpy, is 0.4 s a kernel; the history database needs sqlite3). None of them
# starts a thread on import: the zygote reports its thread count when ready, and it is 1.
PRELOADED_MODULES = ("numpy", "tensorflow", "keras", "matplotlib.pyplot", "ipykernel.kernelapp", "ipykernel.ipkernel",
                     "ipykernel.debugger", "sqlite3", "pydoc")
START_TIMEOUT_S = 120.0  # the zygote's imports, on a loaded machine
REPLY_TIMEOUT_S = 20.0  # one fork


class WarmUnavailable(RuntimeError):
    """The warm parent cannot start or serve a kernel; the grader falls back to a cold kernel."""


class HostProcess:
    """A ``Popen``-like view of the kernel's init, which is not the grader's child (jupyter_client needs one)."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._process = psutil.Process(pid)

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                if self._process.status() == psutil.STATUS_ZOMBIE:
                    self.returncode = -signal.SIGKILL
            except psutil.Error:
                self.returncode = -signal.SIGKILL
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        end = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if end is not None and time.monotonic() > end:
                raise subprocess.TimeoutExpired(str(self.pid), timeout or 0)
            time.sleep(0.02)
        return self.returncode or 0

    def send_signal(self, signum: int) -> None:
        os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        """The init of a PID namespace ignores SIGTERM it has no handler for: end it as a kill does."""
        self.kill()


class WarmParent:
    """One zygote for one grading worker; kernels for its notebooks, one at a time."""

    def __init__(self, folder: Path, env: dict[str, str], sandbox_limits: SandboxLimits,
                 modules: tuple[str, ...] = PRELOADED_MODULES) -> None:
        self.folder, self.env, self.limits = folder, dict(env), sandbox_limits
        self.ipc = folder / "ipc"
        self.ipc.mkdir(parents=True, exist_ok=True)
        self.group = KernelGroup(sandbox_limits.processes)
        command = launcher(self.group, sandbox_limits) + bwrap_prefix(self.ipc, sandbox_limits) + \
            [sys.executable, "-c", ZYGOTE_SOURCE, *modules]
        started = time.monotonic()
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, env=kernel_env(self.env), cwd=folder)
        ready = self._reply(START_TIMEOUT_S, "import the preloaded libraries")
        if "ready" not in ready:
            self.close()
            raise WarmUnavailable(f"the warm parent did not start: {ready}")
        if ready.get("threads") != 1:  # a fork copies one thread; locks held by the others would never be freed
            self.close()
            raise WarmUnavailable(f"the warm parent has {ready.get('threads')} threads after its imports, "
                                  "so forking it is not safe")
        self.start_s = time.monotonic() - started

    def start_kernel(self, arguments: list[str], env: dict[str, str]) -> int:
        """Fork a kernel started with ipykernel's command-line ``arguments``; the host PID of its namespace's init."""
        if self.process.poll() is not None:
            raise WarmUnavailable(f"the warm parent has exited ({self.process.returncode})")
        request = {"argv": arguments, "env": dict(env, **SANDBOX_ENV), "cwd": WORKDIR,
                   "tmpfs": [[path, size * 2**20] for path, size in zip(
                       tmpfs_paths(), (self.limits.workdir_mb, self.limits.tmp_mb, self.limits.shm_mb), strict=True)],
                   "keep": [str(self.ipc), *interpreter_paths()]}
        self._send(request)
        reply = self._reply(REPLY_TIMEOUT_S, "fork a kernel")
        if "init_pid" not in reply:
            raise WarmUnavailable(f"the warm parent could not start a kernel: {reply.get('error', reply)}")
        return self._host_pid(int(reply["init_pid"]))

    def alive(self) -> bool:
        return self.process.poll() is None

    def empty_socket_folder(self) -> None:
        """After a notebook: nothing it left in the one shared folder reaches the next one."""
        for entry in self.ipc.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream:
                stream.close()
        self.group.remove()

    def _send(self, message: dict) -> None:
        try:
            self.process.stdin.write((json.dumps(message) + "\n").encode())
            self.process.stdin.flush()
        except OSError as error:
            raise WarmUnavailable(f"the warm parent is gone ({error})") from None

    def _reply(self, timeout: float, doing: str) -> dict:
        readable, _, _ = select.select([self.process.stdout], [], [], timeout)
        line = self.process.stdout.readline() if readable else b""
        if not line:
            state = "did not answer in time" if not readable else f"exited ({self.process.poll()})"
            raise WarmUnavailable(f"the warm parent {state} while asked to {doing}")
        try:
            return json.loads(line)
        except ValueError:
            raise WarmUnavailable(f"the warm parent answered {line[:200]!r}") from None

    def _host_pid(self, pid_in_sandbox: int) -> int:
        """Which of the zygote's descendants is the init it reports (its PID one level deeper is 1)."""
        for _ in range(100):
            for process in psutil.Process(self.process.pid).children(recursive=True):
                levels = _namespace_pids(process.pid)
                if len(levels) >= 2 and levels[-1] == 1 and levels[-2] == pid_in_sandbox:
                    return process.pid
            time.sleep(0.01)
        raise WarmUnavailable(f"the kernel the warm parent started (pid {pid_in_sandbox} in its sandbox) is gone")


def _namespace_pids(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("NSpid:"):
                    return [int(n) for n in line.split()[1:]]
    except OSError:
        pass
    return []


class WarmKernelManager(PrefixedKernelManager):
    """A kernel manager whose kernel is forked by a ``WarmParent`` instead of started by a command."""

    warm: WarmParent | None = None
    group: KernelGroup | None = None

    async def _async_launch_kernel(self, kernel_cmd: list[str], **kw) -> None:
        assert self.warm is not None and self.provisioner is not None
        if "ipykernel_launcher" not in kernel_cmd:
            raise WarmUnavailable(f"a warm parent can only start ipykernel, not {kernel_cmd}")
        arguments = kernel_cmd[kernel_cmd.index("ipykernel_launcher") + 1:]  # -f FILE and what nbclient adds
        init = self.warm.start_kernel(arguments, dict(kw.get("env") or {}))
        if self.group is not None:
            self.group.adopt(process_tree(init))
        self.provisioner.process = HostProcess(init)
        self.provisioner.pid, self.provisioner.pgid = init, None
        self._reconcile_connection_info(self.provisioner.connection_info)

