"""Execute stage: run a normalized notebook in a fresh kernel, within time and memory limits.

Each notebook gets its own kernel, started in an empty scratch folder with a minimal
environment (no inherited secrets, TensorFlow quiet, threads sized to the worker count).
With ``sandbox`` set, the kernel runs under bubblewrap (see ``sandbox.py``) and talks to
the grader over Unix sockets in ``scratch/ipc``; any other wrapper can be put in front of
the kernel command with ``command_prefix``. In both cases ``autograder.launch`` starts it
under hard limits (file size, core dumps, a pids control group where one can be made).

Limits: a per-cell timeout, a wall-time budget for the whole notebook (kernel start
included), and a cap on the memory of the kernel: the resident memory of all its
processes plus what it keeps in the sandbox's tmpfs folders, enforced by a watchdog
thread that also stops a kernel that fills its socket folder or starts too many
processes. After any of them the remaining cells are not run; what ran keeps its
outputs. When the notebook ends, every process the kernel started is killed, including
those that left its process tree.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat
import psutil
import zmq
import zmq.asyncio
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from traitlets import Type, default

from .cgroup import KernelGroup
from .guard import SOCKET_NAME, GuardClient, is_canary, is_grader_cell
from .model import Status, is_test_cell
from .sandbox import DEFAULT_SANDBOX_LIMITS, WORKDIR, SandboxLimits, bwrap_prefix, tmpfs_paths
from .settings import QUIET_TF_ENV, Limits

if TYPE_CHECKING:
    from .warm import WarmParent

MAX_STREAM_CHARS = 20_000  # per output; a runaway print must not bloat the graded copy
PASSED_ENV = ("PATH", "LANG", "LC_ALL", "CUDA_VISIBLE_DEVICES", "LD_LIBRARY_PATH", "SYSTEMROOT")


@dataclass
class Execution:
    """What happened when the notebook ran."""

    notebook: nbformat.NotebookNode
    status: Status = Status.OK
    message: str = ""
    executed: set[int] = field(default_factory=set)  # indices of cells that ran to completion
    kernel_start_s: float = 0.0
    cells_s: float = 0.0
    # of cells_s, the grader's own part: its prelude and canary cells and the guard's checks before
    # test cells (cells_s minus this is the notebook's own compute, measured in the same run)
    guard_s: float = 0.0
    peak_memory_bytes: int = 0  # resident memory of the kernel's processes plus their tmpfs files, at most
    # proportional set size (shared pages split) of the kernel's processes, plus its warm parent's
    # (whose pages it shares): what the notebook costs the machine's memory
    peak_proportional_bytes: int = 0
    tampered: list[str] = field(default_factory=list)  # what the guard found, in plain words
    tampered_from: int | None = None  # index of the first cell whose test results cannot be trusted


class PromptClient(AsyncKernelClient):
    """A kernel client that is ready as soon as the kernel has answered it on both channels.

    jupyter_client's own ``wait_for_ready`` ends by waiting for 0.2 s of silence on IOPub,
    every kernel start: a fifth of a second of idle core per notebook. This one sends
    ``kernel_info`` and is ready when the reply has come on the shell channel and the
    kernel's "idle" status for that same request on IOPub, which proves the IOPub
    subscription is live and everything before it has been read. A request whose status
    was published before the subscription took is simply asked again.
    """

    RECONNECT_S = 0.01  # ZeroMQ retries a connection to a socket not yet bound after 0.1 s by default
    REPLY_WAIT_S = 1.0  # for the shell reply (the kernel may still be starting)
    STATUS_WAIT_S = 0.1  # for the status after it, which follows at once once IOPub is connected

    @default("context")
    def _own_context(self) -> zmq.asyncio.Context:
        """This client's own context (as jupyter_client makes it), retrying connections sooner: the
        channels connect before the kernel has bound its sockets."""
        self._created_context = True
        context = zmq.asyncio.Context()
        context.setsockopt(zmq.RECONNECT_IVL, int(self.RECONNECT_S * 1000))
        return context

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (timeout if timeout is not None else float("inf"))
        while True:
            request = self.kernel_info()
            reply = await self._answer(self.shell_channel, self.REPLY_WAIT_S, request, "kernel_info_reply")
            if reply is not None and await self._answer(
                    self.iopub_channel, self.STATUS_WAIT_S, request, "status", "idle") is not None:
                self._handle_kernel_info_reply(reply)
                return
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")

    @staticmethod
    async def _answer(channel, wait_s: float, request: str, msg_type: str, state: str | None = None) -> dict | None:
        """The message of ``msg_type`` sent in answer to ``request`` on ``channel``; None after ``wait_s``."""
        from queue import Empty

        end = time.monotonic() + wait_s
        while (left := end - time.monotonic()) > 0:
            try:
                message = await channel.get_msg(timeout=left)
            except Empty:
                return None
            if message["parent_header"].get("msg_id") == request and message["msg_type"] == msg_type and (
                    state is None or message["content"].get("execution_state") == state):
                return message
        return None


class PrefixedKernelManager(AsyncKernelManager):
    """A KernelManager whose kernel command starts with ``command_prefix`` (a sandbox hook)."""

    command_prefix: list[str] = []
    client_factory = Type(PromptClient, klass=AsyncKernelClient)  # what ``client()`` makes

    # jupyter_client polls for a killed kernel's exit every 0.1 s, and a kernel is never gone at
    # the first look: a tenth of a second of idle core per notebook. A killed process is gone within
    # milliseconds, so look more often.
    KILLED_POLL_S = 0.005

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        return list(self.command_prefix) + super().format_kernel_cmd(extra_arguments)

    async def _async_wait(self, pollinterval: float = 0.1) -> None:
        await super()._async_wait(pollinterval=min(pollinterval, self.KILLED_POLL_S))


class MemoryWatchdog(threading.Thread):
    """Kills the kernel's processes when they pass a limit the kernel itself cannot lift.

    Memory is the resident memory of every process plus what the sandbox's tmpfs folders
    hold (files in tmpfs and shared memory are RAM that no process's RSS shows). It also
    stops a kernel whose socket folder (the one host folder it can write) grows past
    ``disk_limit_bytes``, or that runs more than ``max_processes`` processes.
    """

    PSS_GROWTH = 1.05
    PSS_EVERY_S = 2.0

    def __init__(self, pid: int, limit_mb: int, interval_s: float = 0.2, group: KernelGroup | None = None,
                 disk_dir: Path | None = None, disk_limit_bytes: int = 0, max_processes: int = 0,
                 pss_also: int | None = None) -> None:
        super().__init__(daemon=True)
        self.pss_also = pss_also  # a process whose PSS counts with the kernel's (its warm parent)
        self.pid, self.limit, self.interval = pid, limit_mb * 2**20, interval_s
        self.group, self.disk_dir, self.disk_limit, self.max_processes = group, disk_dir, disk_limit_bytes, \
            max_processes
        self.tripped = threading.Event()
        self.reason = ""
        self.peak_bytes = 0  # what the limit is checked against
        self.peak_proportional_bytes = 0  # the same memory with shared pages split between their users (PSS)
        self._stop = threading.Event()
        self._pss_basis, self._next_pss = 0, 0.0  # resident size at the last PSS measurement, and when the next may be

    def run(self) -> None:
        try:
            root = psutil.Process(self.pid)
        except psutil.Error:
            return
        while not self._stop.wait(self.interval):
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.Error:
                return
            members = {p.pid for p in procs} | set(self.group.members() if self.group else [])
            used = _resident(members) + _tmpfs_used(members)
            self.peak_bytes = max(self.peak_bytes, used)
            self._sample_proportional(used, members)
            if used > self.limit:
                self._trip("memory")
            elif self.max_processes and len(members) > self.max_processes:
                self._trip("processes")
            elif self.disk_dir is not None and _folder_bytes(self.disk_dir) > self.disk_limit:
                self._trip("disk")
            if self.tripped.is_set():
                _kill(members)
                if self.group:
                    self.group.kill_all()
                return

    def _sample_proportional(self, used: int, members: set[int]) -> None:
        """Measure PSS again when resident memory has grown by ``PSS_GROWTH`` since the last
        measurement, at most every ``PSS_EVERY_S``: reading ``smaps_rollup`` walks every mapping
        of a process that has loaded TensorFlow (about 50 ms of CPU), while the resident size the
        limit needs costs a fraction of a millisecond."""
        now = time.monotonic()
        if used <= self._pss_basis * self.PSS_GROWTH or now < self._next_pss:
            return
        self._pss_basis, self._next_pss = used, now + self.PSS_EVERY_S
        self.peak_proportional_bytes = max(self.peak_proportional_bytes, proportional_bytes(
            members if self.pss_also is None else members | {self.pss_also}))

    def _trip(self, reason: str) -> None:
        self.reason = reason
        self.tripped.set()

    def stop(self) -> None:
        self._stop.set()


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (empty once it has ended)."""
    try:
        return [pid, *(p.pid for p in psutil.Process(pid).children(recursive=True))]
    except psutil.Error:
        return []


def _resident(pids: set[int]) -> int:
    total = 0
    for pid in pids:
        try:
            total += psutil.Process(pid).memory_info().rss
        except psutil.Error:
            pass
    return total


def proportional_bytes(pids: set[int] | list[int]) -> int:
    """Proportional set size of these processes: pages shared with others (a warm parent's libraries,
    another kernel's) count by their share. Reported, never limited: the limit uses resident size."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as rollup:
                total += next(int(line.split()[1]) for line in rollup if line.startswith("Pss:")) * 1024
        except (OSError, StopIteration, ValueError):
            pass
    return total


def _tmpfs_used(pids: set[int]) -> int:
    """Bytes in the sandbox's tmpfs folders, read through a sandboxed process's root (0 outside a sandbox)."""
    own = _mount_namespace("self")
    inside = next((pid for pid in sorted(pids, reverse=True) if _mount_namespace(str(pid)) not in (own, None)), None)
    if inside is None:
        return 0
    total = 0
    for path in tmpfs_paths():
        try:
            stat = os.statvfs(f"/proc/{inside}/root{path}")
        except OSError:
            continue
        total += (stat.f_blocks - stat.f_bfree) * stat.f_frsize
    return total


def _mount_namespace(pid: str) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/mnt")
    except OSError:
        return None


def _folder_bytes(folder: Path) -> int:
    total = 0
    for path, _, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(path, name)).st_blocks * 512
            except OSError:
                pass
    return total


def _kill(pids: set[int]) -> None:
    for pid in sorted(pids, reverse=True):
        try:
            psutil.Process(pid).kill()
        except psutil.Error:
            pass


def kernel_env(extra: dict[str, str]) -> dict[str, str]:
    """The whole environment of a grading kernel: nothing of the grader's own leaks in."""
    env = {k: os.environ[k] for k in PASSED_ENV if k in os.environ}
    env.update(QUIET_TF_ENV)
    env["MPLBACKEND"] = "agg"  # plots are not graded; skip rendering them
    env.update(extra)
    return env


def _truncate_outputs(cell: nbformat.NotebookNode) -> None:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream" and len(output.get("text", "")) > MAX_STREAM_CHARS:
            output["text"] = output["text"][:MAX_STREAM_CHARS] + "\n... [output truncated by the grader]\n"


def launcher(group: KernelGroup, sandbox_limits: SandboxLimits) -> list[str]:
    """``autograder.launch`` with this kernel's hard limits, put in front of everything else."""
    settings = {"cgroup_procs": group.procs, "file_bytes": sandbox_limits.file_mb * 2**20,
                "nproc": sandbox_limits.processes}
    return [sys.executable, "-m", "autograder.launch", json.dumps(settings), "--"]


def execute(nb: nbformat.NotebookNode, scratch: Path, limits: Limits, env: dict[str, str] | None = None,
            command_prefix: list[str] | None = None, sandbox: bool = False,
            sandbox_limits: SandboxLimits = DEFAULT_SANDBOX_LIMITS, warm: WarmParent | None = None) -> Execution:
    """Run every cell of ``nb`` in order in a new kernel; never raises for student faults.

    With ``warm``, the kernel is forked by that warm parent (sandboxed like a cold one, see
    ``warm.py``) and ``scratch`` must be the parent's folder; ``WarmUnavailable`` is raised
    when it cannot serve, so that the caller can grade the notebook in a cold kernel.
    """
    result = Execution(nb)
    deadline = time.monotonic() + limits.notebook_timeout_s
    group = KernelGroup(sandbox_limits.processes)
    existing = _descendants()
    ipc = scratch / "ipc"
    ipc.mkdir(exist_ok=True)
    if warm is not None:
        from .warm import WarmKernelManager

        km = WarmKernelManager(kernel_name="python3", transport="ipc", ip=str(ipc / "kernel"),
                               connection_file=str(ipc / "kernel.json"))
        km.warm, km.group = warm, group
    elif sandbox:  # no network in the sandbox: Unix sockets in the ipc folder instead of TCP
        km = PrefixedKernelManager(kernel_name="python3", transport="ipc", ip=str(ipc / "kernel"),
                                   connection_file=str(ipc / "kernel.json"))
        km.command_prefix = launcher(group, sandbox_limits) + bwrap_prefix(ipc, sandbox_limits) + \
            list(command_prefix or [])
    else:  # the connection file in the scratch folder too: the one place the disk watchdog watches
        km = PrefixedKernelManager(kernel_name="python3", connection_file=str(ipc / "kernel.json"))
        km.command_prefix = launcher(group, sandbox_limits) + list(command_prefix or [])
    cwd = scratch
    env = dict(env or {}, IPYTHONDIR=f"{WORKDIR}/.ipython" if sandbox or warm else str(ipc / ".ipython"))
    client = NotebookClient(nb, km=km, timeout=int(limits.cell_timeout_s), allow_errors=True,
                            interrupt_on_timeout=False, record_timing=False, startup_timeout=120,
                            shutdown_kernel="immediate",
                            resources={"metadata": {"path": str(cwd)}})
    client.on_cell_executed = _insist_on_reported_errors
    watchdog: MemoryWatchdog | None = None
    started = time.monotonic()
    try:
        with client.setup_kernel(env=kernel_env(env), cwd=str(cwd), cleanup_kc=True,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):
            result.kernel_start_s = time.monotonic() - started
            watchdog = MemoryWatchdog(km.provisioner.pid, limits.memory_mb, group=group, disk_dir=scratch,
                                      disk_limit_bytes=sandbox_limits.ipc_mb * 2**20,
                                      max_processes=sandbox_limits.processes,
                                      pss_also=warm.zygote_pid if warm is not None else None)
            watchdog.start()
            cells_started = time.monotonic()
            try:
                _run_cells(client, nb, result, deadline, limits, watchdog, GuardClient(ipc / SOCKET_NAME))
            finally:
                result.cells_s = time.monotonic() - cells_started
                watchdog.stop()
                result.peak_memory_bytes = watchdog.peak_bytes
                result.peak_proportional_bytes = watchdog.peak_proportional_bytes
    except DeadKernelError:  # died during shutdown after a kill: already recorded
        pass
    finally:
        _shutdown(km)
        group.remove()
        kill_orphans(existing)
        if warm is not None:
            warm.empty_socket_folder()
    for cell in nb.cells:
        _truncate_outputs(cell)
    return result


def _descendants() -> set[int]:
    try:
        return {p.pid for p in psutil.Process().children(recursive=True)}
    except psutil.Error:
        return set()


def kill_orphans(existing: set[int]) -> None:
    """Kill this process's descendants that were not there before the kernel started: the kernel's
    daemons, re-parented to this process where it is a subreaper (grading workers are)."""
    _kill(_descendants() - existing)


def become_subreaper() -> None:
    """Orphans of the kernels this process starts become its children, not init's, so none escapes."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass


def _run_cells(client: NotebookClient, nb: nbformat.NotebookNode, result: Execution, deadline: float,
               limits: Limits, watchdog: MemoryWatchdog, guard: GuardClient) -> None:
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        grader_started = time.monotonic()  # the guard's check and the grader's own cells count as its part
        checked = is_test_cell(cell) or is_canary(cell)
        if checked:  # what the cells since the last test cell did: put back before this one runs
            _check(result, nb, guard, index, test_follows=True)
        if not is_grader_cell(cell):
            result.guard_s += time.monotonic() - grader_started
        remaining = deadline - time.monotonic()
        if remaining <= 1:
            _stop(result, Status.TIMEOUT, f"the notebook ran longer than {limits.notebook_timeout_s:g} s; "
                  f"cells from {index} on were not run")
            return
        by_notebook_budget = remaining < limits.cell_timeout_s
        client.timeout = int(max(1, min(limits.cell_timeout_s, remaining)))
        try:
            client.execute_cell(cell, index)
            result.executed.add(index)
            if is_grader_cell(cell):
                result.guard_s += time.monotonic() - grader_started
            if checked:  # what this test cell's own calls changed while its asserts ran, even if undone since
                check_started = time.monotonic()
                _check(result, nb, guard, index)
                result.guard_s += time.monotonic() - check_started
            if is_canary(cell) and not any(o.output_type == "error" for o in cell.outputs):
                # the guard did not see it, so nobody knows since when: no test of this notebook counts
                _tampering(result, 0, ["a hidden check that must fail passed: test cells were neutralised"])
                result.tampered_from = 0
        except CellTimeoutError:
            what = (f"the notebook ran longer than {limits.notebook_timeout_s:g} s" if by_notebook_budget
                    else f"cell {index} ran longer than {limits.cell_timeout_s:g} s")
            _stop(result, Status.TIMEOUT, f"{what}; it and the cells after it were not graded")
            return
        except DeadKernelError:
            if watchdog.tripped.is_set():
                _stop(result, *_limit_status(watchdog, index, limits))
            else:
                _stop(result, Status.KERNEL_DIED, f"the kernel died while running cell {index} "
                      "(it exited or crashed); the cells after it were not graded")
            return
    last_check = time.monotonic()
    _check(result, nb, guard, len(nb.cells))  # what the cells after the last test cell did
    result.guard_s += time.monotonic() - last_check


def _check(result: Execution, nb: nbformat.NotebookNode, guard: GuardClient, index: int,
           test_follows: bool = False) -> None:
    """The guard's check just before or just after test cell ``index``: what it had to put back, what its
    checks after each statement saw (a change a function the test called made and undid before the cell
    ended), and an error hidden since its last check. Any of these voids the tests from ``index`` on."""
    findings = guard.restore(test_follows)
    shown = sum(o.get("output_type") == "error" for i in result.executed for o in nb.cells[i].outputs)
    _tampering(result, index, findings + guard.hidden_errors(shown))


def _tampering(result: Execution, index: int, findings: list[str]) -> None:
    if findings:
        result.tampered_from = index if result.tampered_from is None else min(result.tampered_from, index)
    result.tampered += [f for f in findings if f not in result.tampered]


def _limit_status(watchdog: MemoryWatchdog, index: int, limits: Limits) -> tuple[Status, str]:
    after = "the kernel was stopped and the cells after it were not graded"
    if watchdog.reason == "processes":
        return Status.MEMORY, f"cell {index} started more than {watchdog.max_processes} processes; {after}"
    if watchdog.reason == "disk":
        return Status.MEMORY, f"cell {index} wrote more than {watchdog.disk_limit // 2**20} MB to disk; {after}"
    return Status.MEMORY, (f"cell {index} used more than {limits.memory_mb} MB of memory (files in temporary "
                           f"folders count as memory); {after}")


def _insist_on_reported_errors(cell: nbformat.NotebookNode, cell_index: int, execute_reply: dict) -> None:
    """A cell whose reply says "error" failed, even if student code suppressed the traceback output."""
    content = execute_reply.get("content", {})
    if content.get("status") == "error" and not any(o.get("output_type") == "error" for o in cell.outputs):
        cell.outputs.append(nbformat.v4.new_output(
            "error", ename=content.get("ename", "Error"), evalue=content.get("evalue", ""),
            traceback=content.get("traceback", [])))


def _shutdown(km: AsyncKernelManager) -> None:
    """Make sure no kernel outlives its notebook, whatever happened to it."""
    try:
        if km.has_kernel:
            run_sync(km.shutdown_kernel)(now=True)
    except Exception:  # the kernel may be half-dead; killing is best effort
        pass


def _stop(result: Execution, status: Status, message: str) -> None:
    result.status, result.message = status, message
