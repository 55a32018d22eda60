"""Execute stage: run a normalized notebook in a fresh kernel, within time and memory limits.

Each notebook gets its own kernel, started in an empty scratch folder with a minimal
environment (no inherited secrets, TensorFlow quiet, threads sized to the worker count).
With ``sandbox_hidden`` set, the kernel runs under bubblewrap (see ``sandbox.py``) and
talks to the grader over Unix sockets in its scratch folder; any other wrapper can be
put in front of the kernel command with ``command_prefix``.

Limits: a per-cell timeout, a wall-time budget for the whole notebook (kernel start
included), and a cap on the resident memory of the kernel and its children, enforced by
a watchdog thread that kills the kernel. After any of them the remaining cells are not
run; what ran keeps its outputs.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import psutil
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

from .model import Status
from .sandbox import bwrap_prefix
from .settings import QUIET_TF_ENV, Limits

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


class PrefixedKernelManager(AsyncKernelManager):
    """A KernelManager whose kernel command starts with ``command_prefix`` (a sandbox hook)."""

    command_prefix: list[str] = []

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        return list(self.command_prefix) + super().format_kernel_cmd(extra_arguments)


class MemoryWatchdog(threading.Thread):
    """Kills the kernel process tree when its resident memory passes ``limit_mb``."""

    def __init__(self, pid: int, limit_mb: int, interval_s: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.pid, self.limit, self.interval = pid, limit_mb * 2**20, interval_s
        self.tripped = threading.Event()
        self.peak_bytes = 0
        self._stop = threading.Event()

    def run(self) -> None:
        try:
            root = psutil.Process(self.pid)
        except psutil.Error:
            return
        while not self._stop.wait(self.interval):
            try:
                procs = [root, *root.children(recursive=True)]
                used = sum(p.memory_info().rss for p in procs if p.is_running())
            except psutil.Error:
                return
            self.peak_bytes = max(self.peak_bytes, used)
            if used > self.limit:
                self.tripped.set()
                for proc in reversed(procs):
                    try:
                        proc.kill()
                    except psutil.Error:
                        pass
                return

    def stop(self) -> None:
        self._stop.set()


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


def execute(nb: nbformat.NotebookNode, scratch: Path, limits: Limits, env: dict[str, str] | None = None,
            command_prefix: list[str] | None = None, sandbox_hidden: tuple[str, ...] | None = None) -> Execution:
    """Run every cell of ``nb`` in order in a new kernel; never raises for student faults."""
    result = Execution(nb)
    deadline = time.monotonic() + limits.notebook_timeout_s
    if sandbox_hidden is None:
        km = PrefixedKernelManager(kernel_name="python3")
        km.command_prefix = list(command_prefix or [])
    else:  # no network in the sandbox: Unix sockets in the scratch folder instead of TCP
        km = PrefixedKernelManager(kernel_name="python3", transport="ipc", ip=str(scratch / "kernel-ipc"),
                                   connection_file=str(scratch / "kernel.json"))
        km.command_prefix = bwrap_prefix(scratch, sandbox_hidden) + list(command_prefix or [])
    env = dict(env or {}, IPYTHONDIR=str(scratch / ".ipython"))
    client = NotebookClient(nb, km=km, timeout=int(limits.cell_timeout_s), allow_errors=True,
                            interrupt_on_timeout=False, record_timing=False, startup_timeout=120,
                            shutdown_kernel="immediate",
                            resources={"metadata": {"path": str(scratch)}})
    client.on_cell_executed = _insist_on_reported_errors
    watchdog: MemoryWatchdog | None = None
    started = time.monotonic()
    try:
        with client.setup_kernel(env=kernel_env(env), cwd=str(scratch), cleanup_kc=True,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):
            result.kernel_start_s = time.monotonic() - started
            watchdog = MemoryWatchdog(km.provisioner.pid, limits.memory_mb)
            watchdog.start()
            cells_started = time.monotonic()
            try:
                _run_cells(client, nb, result, deadline, limits, watchdog)
            finally:
                result.cells_s = time.monotonic() - cells_started
                watchdog.stop()
    except DeadKernelError:  # died during shutdown after a kill: already recorded
        pass
    finally:
        _shutdown(km)
    for cell in nb.cells:
        _truncate_outputs(cell)
    return result


def _run_cells(client: NotebookClient, nb: nbformat.NotebookNode, result: Execution, deadline: float,
               limits: Limits, watchdog: MemoryWatchdog) -> None:
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
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
        except CellTimeoutError:
            what = (f"the notebook ran longer than {limits.notebook_timeout_s:g} s" if by_notebook_budget
                    else f"cell {index} ran longer than {limits.cell_timeout_s:g} s")
            _stop(result, Status.TIMEOUT, f"{what}; it and the cells after it were not graded")
            return
        except DeadKernelError:
            if watchdog.tripped.is_set():
                _stop(result, Status.MEMORY, f"cell {index} used more than {limits.memory_mb} MB of memory; "
                      "the kernel was stopped and the cells after it were not graded")
            else:
                _stop(result, Status.KERNEL_DIED, f"the kernel died while running cell {index} "
                      "(it exited or crashed); the cells after it were not graded")
            return


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
