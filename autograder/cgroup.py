"""A control group per kernel, where the machine lets the grader make one.

``pids.max`` is the only limit on the number of processes that holds for root (the kernel
exempts root from RLIMIT_NPROC), and a control group knows every process of the kernel,
even one that left its parent's tree, so all of them can be killed when the notebook ends.
cgroup v2 (a delegated subtree) and the v1 ``pids`` hierarchy are both tried; where neither
is writable (an unprivileged user without delegation), ``KernelGroup`` is inert and the
grader relies on RLIMIT_NPROC, the pid namespace and its watchdog.
"""

from __future__ import annotations

import os
import secrets
import signal
import time
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


def _own_path(controller: str) -> str | None:
    """This process's cgroup path for ``controller`` ("" for the v2 unified hierarchy)."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers.split(",") == [controller] or (controller == "" and controllers == ""):
            return path
    return None


def _candidates() -> list[Path]:
    found = []
    v2 = _own_path("")
    if v2 is not None and (CGROUP_ROOT / "cgroup.controllers").exists():
        parent = CGROUP_ROOT / v2.lstrip("/")
        if "pids" in (parent / "cgroup.subtree_control").read_text() if (parent / "cgroup.subtree_control").exists() \
                else False:
            found.append(parent)
    v1 = _own_path("pids")
    if v1 is not None and (CGROUP_ROOT / "pids").is_dir():
        found.append(CGROUP_ROOT / "pids" / v1.lstrip("/"))
    return found


class KernelGroup:
    """A fresh pids control group limited to ``max_tasks``; ``procs`` is None where none could be made."""

    def __init__(self, max_tasks: int) -> None:
        self.path: Path | None = None
        for parent in _candidates():
            path = parent / f"autograder-{os.getpid()}-{secrets.token_hex(4)}"
            try:
                path.mkdir()
                (path / "pids.max").write_text(str(max_tasks))
            except OSError:
                try:
                    path.rmdir()
                except OSError:
                    pass
                continue
            self.path = path
            break

    @property
    def procs(self) -> str | None:
        return str(self.path / "cgroup.procs") if self.path else None

    def adopt(self, pids: list[int]) -> None:
        """Move processes that were started elsewhere (a warm kernel, forked by its parent) into the group."""
        if self.path is None:
            return
        for pid in pids:
            try:
                (self.path / "cgroup.procs").write_text(str(pid))
            except OSError:  # it has already ended
                pass

    def members(self) -> list[int]:
        if self.path is None:
            return []
        try:
            return [int(p) for p in (self.path / "cgroup.procs").read_text().split()]
        except OSError:
            return []

    def peak(self) -> int:
        try:
            return int((self.path / "pids.peak").read_text()) if self.path else 0
        except (OSError, ValueError):
            return 0

    def kill_all(self) -> int:
        """Kill every process still in the group; how many were killed."""
        killed = 0
        for _ in range(20):
            members = self.members()
            if not members:
                break
            for pid in members:
                try:
                    os.kill(pid, signal.SIGKILL)
                    killed += 1
                except ProcessLookupError:
                    pass
            time.sleep(0.05)
        return killed

    def remove(self) -> None:
        self.kill_all()
        if self.path is not None:
            try:
                self.path.rmdir()
            except OSError:
                pass
