"""Sandboxing the grading kernels with bubblewrap (``bwrap``), when the machine has it.

Inside the sandbox a student's kernel sees the file system read-only, with the places
that hold other people's work or the answers replaced by empty folders: the solutions,
the repository's git history and tests, the grader's output folder (gradebook, results,
everyone's graded notebooks), the submissions, and the folder that holds every kernel's
scratch folder (the other students' kernels). It has no network, no view of other
processes, and may write only to its own scratch folder. The kernel talks to the grader
over Unix sockets in that folder, which is why grading under a sandbox uses Jupyter's
``ipc`` transport.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

MODES = ("auto", "bwrap", "none")


class SandboxUnavailable(RuntimeError):
    """``--sandbox bwrap`` was asked for on a machine where bubblewrap cannot run."""


@cache
def bwrap_works() -> bool:
    """Whether bubblewrap is installed and allowed to create namespaces here."""
    if shutil.which("bwrap") is None:
        return False
    probe = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--unshare-net",
             "--unshare-pid", "--die-with-parent", "true"]
    try:
        return subprocess.run(probe, capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def resolve(mode: str) -> str:
    """The sandbox to use for ``mode``: "bwrap" or "none"; raises if bwrap is required but unusable."""
    if mode not in MODES:
        raise ValueError(f"--sandbox must be one of {MODES}, not {mode!r}")
    if mode == "none":
        return "none"
    if bwrap_works():
        return "bwrap"
    if mode == "bwrap":
        raise SandboxUnavailable("--sandbox bwrap: bubblewrap is not installed or cannot create namespaces here "
                                 "(Debian/Ubuntu: apt-get install bubblewrap)")
    return "none"


def _interpreter_paths() -> list[str]:
    return [sys.prefix, sys.base_prefix, str(Path(sys.executable).resolve().parent)]


def bwrap_prefix(scratch: Path, hidden: tuple[str, ...]) -> list[str]:
    """The command that runs a kernel in a sandbox whose only writable place is ``scratch``."""
    command = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    for path in hidden:
        if any(Path(p).is_relative_to(path) for p in _interpreter_paths()):
            continue  # hiding it would hide the kernel's own Python (e.g. a clone whose venv sits in /tmp)
        if Path(path).is_dir():
            command += ["--tmpfs", path]
        elif Path(path).is_file():
            command += ["--ro-bind", "/dev/null", path]
    command += ["--bind", str(scratch), str(scratch), "--chdir", str(scratch), "--setenv", "HOME", str(scratch),
                # ipykernel exits when its parent looks like pid 1, as it does in a pid namespace;
                # --die-with-parent does that job instead
                "--setenv", "JPY_PARENT_PID", "1",
                "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--die-with-parent",
                "--new-session", "--"]
    return command
