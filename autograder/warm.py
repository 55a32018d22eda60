"""Warm kernels: a sandboxed parent that has imported TensorFlow forks a fresh kernel per notebook.

A cold kernel spends seconds of CPU importing TensorFlow, Keras and IPython before the
notebook's first line runs, every notebook. Instead, a *zygote* (``zygote.py``), started
under the same bubblewrap sandbox and limits as a cold kernel, imports those libraries
once and forks each notebook's kernel from its memory image in new namespaces with fresh
tmpfs (see ``zygote.py`` for what the kernel cannot reach).

The coordinator starts one zygote per run and machine (``Zygote``) before its workers, so
the import overlaps the workers' own start; each grading worker connects to it
(``WarmParent.connect``) and asks for one kernel at a time, in a socket folder of its own
under the zygote's folder. A kernel sees only its own socket folder: the zygote's folder,
its socket and the other workers' folders are hidden under a tmpfs. The socket folder is
emptied after each notebook, after the notebook's processes are gone. A worker whose
shared zygote cannot serve, and a Dask worker, starts a zygote of its own
(``WarmParent(folder, ...)``).

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
import socket
import struct
import subprocess
import sys
import tempfile
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
CONNECT_WAIT_S = 10.0  # a zygote just started binds its socket within a second, even on a loaded machine
HIDING_TMPFS_BYTES = 2**20  # the tmpfs that hides the zygote's folder from a kernel (it rebinds its own)


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


class Zygote:
    """A zygote process (``zygote.py``) under the sandbox, and the folder bound into it.

    Its owner starts it and does not wait: the imports run while the owner does other work.
    Workers reach it through ``WarmParent.connect`` on ``socket_path``. A worker pool on
    one machine shares one zygote, so the libraries are imported once per machine and run,
    not once per worker; a Dask worker, or a worker whose shared zygote failed, owns one.
    """

    SOCKET_NAME = "zygote.sock"

    def __init__(self, root: Path, env: dict[str, str], sandbox_limits: SandboxLimits,
                 modules: tuple[str, ...] = PRELOADED_MODULES) -> None:
        self.root, self.env, self.limits = root, dict(env), sandbox_limits
        root.mkdir(parents=True, exist_ok=True)
        self.group = KernelGroup(sandbox_limits.processes)
        command = launcher(self.group, sandbox_limits) + bwrap_prefix(root, sandbox_limits) + \
            [sys.executable, "-c", ZYGOTE_SOURCE, str(self.socket_path), *modules]
        self.started = time.monotonic()
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, env=kernel_env(self.env), cwd=root)

    @property
    def socket_path(self) -> Path:
        return self.root / self.SOCKET_NAME

    def wait_ready(self, timeout: float = START_TIMEOUT_S) -> float:
        """Block until the imports are done; the seconds since the start. Raises ``WarmUnavailable``."""
        readable, _, _ = select.select([self.process.stdout], [], [], timeout)
        line = self.process.stdout.readline() if readable else b""
        if not line:
            state = "did not answer in time" if not readable else f"exited ({self.process.poll()})"
            raise WarmUnavailable(f"the warm parent did not start: it {state} while importing the preloaded libraries")
        try:
            ready = json.loads(line)
        except ValueError:
            raise WarmUnavailable(f"the warm parent did not start: it answered {line[:200]!r}") from None
        if ready.get("threads") != 1:  # a fork copies one thread; locks held by the others would never be freed
            raise WarmUnavailable(f"the warm parent has {ready.get('threads')} threads after its imports, "
                                  "so forking it is not safe")
        return time.monotonic() - self.started

    def alive(self) -> bool:
        return self.process.poll() is None

    def close(self) -> None:
        """End the zygote and, with it, every kernel it still holds."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream:
                stream.close()
        self.group.remove()


class WarmParent:
    """One grading worker's handle on a zygote: kernels for its notebooks, one at a time.

    The worker has its own socket folder under the zygote's folder (the kernel sees only that
    one). ``WarmParent(folder, ...)`` starts a zygote the worker owns, in ``folder``, and waits
    for it; ``WarmParent.connect(socket, ...)`` uses one started by someone else (the
    coordinator's shared zygote), whose imports the first kernel may wait for.
    """

    def __init__(self, folder: Path, env: dict[str, str], sandbox_limits: SandboxLimits,
                 modules: tuple[str, ...] = PRELOADED_MODULES, *, socket_path: Path | None = None) -> None:
        self.env, self.limits = dict(env), sandbox_limits
        self.own: Zygote | None = None
        if socket_path is None:
            self.own = Zygote(folder, env, sandbox_limits, modules)
            try:
                self.own.wait_ready()
            except WarmUnavailable:
                self.own.close()
                raise
            socket_path = self.own.socket_path
        self.start_s = time.monotonic() - self.own.started if self.own else 0.0
        self.socket_path = socket_path
        self.root = socket_path.parent
        try:
            # a zygote of its own serves this worker alone: its folder is the worker's; a shared one gives each
            # worker a folder inside its own (short names: a Unix socket's path holds at most 107 bytes)
            self.folder = self.root if self.own is not None else Path(tempfile.mkdtemp(prefix="w", dir=self.root))
            self.ipc = self.folder / "ipc"
            self.ipc.mkdir(exist_ok=True)
            self.connection = _connect(socket_path)
            creds = self.connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        except OSError as error:
            self.close()
            raise WarmUnavailable(f"the warm parent cannot be reached ({error})") from None
        self.zygote_pid = struct.unpack("3i", creds)[0]  # the zygote's PID as this process sees it
        self._buffer = b""
        self._first = True

    @classmethod
    def connect(cls, socket_path: Path, env: dict[str, str], sandbox_limits: SandboxLimits) -> WarmParent:
        return cls(socket_path.parent, env, sandbox_limits, socket_path=socket_path)

    def start_kernel(self, arguments: list[str], env: dict[str, str]) -> int:
        """Fork a kernel started with ipykernel's command-line ``arguments``; the host PID of its namespace's init."""
        if not self.alive():
            raise WarmUnavailable("the warm parent has exited")
        sizes = (self.limits.workdir_mb, self.limits.tmp_mb, self.limits.shm_mb)
        tmpfs = [[path, size * 2**20] for path, size in zip(tmpfs_paths(), sizes, strict=True)]
        request = {"argv": arguments, "env": dict(env, **SANDBOX_ENV), "cwd": WORKDIR,
                   "tmpfs": [*tmpfs, [str(self.root), HIDING_TMPFS_BYTES]],  # the zygote's socket, other workers
                   "keep": [str(self.ipc), *interpreter_paths()]}
        sent = time.monotonic()
        self._send(request)
        # the first kernel may wait for the zygote's imports; later ones only for a fork
        reply = self._reply(START_TIMEOUT_S if self._first else REPLY_TIMEOUT_S, "fork a kernel")
        if self._first and not self.own:
            self.start_s = time.monotonic() - sent  # what this worker waited for the shared zygote
        self._first = False
        if "init_pid" not in reply:
            raise WarmUnavailable(f"the warm parent could not start a kernel: {reply.get('error', reply)}")
        return self._host_pid(int(reply["init_pid"]))

    def alive(self) -> bool:
        """The zygote still serves this worker (its connection is open, and the zygote runs if it is ours)."""
        if self.own is not None and not self.own.alive():
            return False
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return not readable or self.connection.recv(1, socket.MSG_PEEK) != b""
        except (OSError, ValueError):
            return False

    def empty_socket_folder(self) -> None:
        """After a notebook: nothing it left in the one shared folder reaches the next one."""
        for entry in self.ipc.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)

    def close(self) -> None:
        """Leave the zygote (it kills this worker's kernels) and end it if it is this worker's own."""
        connection = getattr(self, "connection", None)
        if connection is not None:
            connection.close()
        if self.own is not None:
            self.own.close()
            shutil.rmtree(self.own.root, ignore_errors=True)
        elif getattr(self, "folder", None) is not None:
            shutil.rmtree(self.folder, ignore_errors=True)

    def _send(self, message: dict) -> None:
        try:
            self.connection.sendall((json.dumps(message) + "\n").encode())
        except OSError as error:
            raise WarmUnavailable(f"the warm parent is gone ({error})") from None

    def _reply(self, timeout: float, doing: str) -> dict:
        end = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            readable, _, _ = select.select([self.connection], [], [], max(0.0, end - time.monotonic()))
            data = self.connection.recv(65536) if readable else None
            if not data:
                state = "did not answer in time" if data is None else "has exited"
                raise WarmUnavailable(f"the warm parent {state} while asked to {doing}")
            self._buffer += data
        line, self._buffer = self._buffer.split(b"\n", 1)
        try:
            return json.loads(line)
        except ValueError:
            raise WarmUnavailable(f"the warm parent answered {line[:200]!r}") from None

    def _host_pid(self, pid_in_sandbox: int) -> int:
        """Which of the zygote's descendants is the init it reports (its PID one level deeper is 1)."""
        for _ in range(100):
            try:
                children = psutil.Process(self.zygote_pid).children(recursive=True)
            except psutil.Error:
                break
            for process in children:
                levels = _namespace_pids(process.pid)
                if len(levels) >= 2 and levels[-1] == 1 and levels[-2] == pid_in_sandbox:
                    return process.pid
            time.sleep(0.01)
        raise WarmUnavailable(f"the kernel the warm parent started (pid {pid_in_sandbox} in its sandbox) is gone")


def _connect(path: Path, wait_s: float = CONNECT_WAIT_S) -> socket.socket:
    """A connection to the zygote listening on ``path``, which may have been started a moment ago."""
    end = time.monotonic() + wait_s
    while True:
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            connection.connect(str(path))
            return connection
        except (FileNotFoundError, ConnectionRefusedError):
            connection.close()
            if time.monotonic() > end:
                raise
            time.sleep(0.05)
        except OSError:
            connection.close()
            raise


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

