"""Under bubblewrap a student's kernel cannot read the answers, other students' work or the network."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from autograder.execute import execute
from autograder.sandbox import bwrap_works, resolve
from autograder.settings import REPO_ROOT, SOLUTIONS_DIR, Limits
from tests.tools import require


@pytest.fixture(autouse=True)
def _bubblewrap() -> None:
    require(bwrap_works(), "bubblewrap is not installed or cannot run here (apt-get install bubblewrap); "
                           ".ci/run installs it")


SNOOP = f"""
import os, socket
print("solutions:", sorted(os.listdir({str(SOLUTIONS_DIR)!r})))
print("git:", sorted(os.listdir({str(REPO_ROOT / ".git")!r})))
try:
    socket.create_connection(("1.1.1.1", 53), timeout=2)
    print("network: open")
except OSError as error:
    print("network: closed")
for target in ({str(REPO_ROOT / "stolen.txt")!r}, "/root/stolen.txt", "scratch.txt"):
    try:
        open(target, "w").write("x")
        print("write", os.path.basename(target), "ok")
    except OSError:
        print("write", os.path.basename(target), "refused")
"""


def run(code: str, tmp_path: Path) -> str:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(code)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    hidden = (str(SOLUTIONS_DIR), str(REPO_ROOT / ".git"))
    result = execute(nb, tmp_path, Limits(cell_timeout_s=60), sandbox_hidden=hidden)
    assert result.status.value == "ok", result.message
    return "".join(o.get("text", "") for o in result.notebook.cells[0].outputs)


def test_the_kernel_sees_no_answers_no_network_and_writes_only_its_scratch_folder(tmp_path: Path) -> None:
    assert any(SOLUTIONS_DIR.iterdir())  # outside the sandbox the answers are there
    printed = run(SNOOP, tmp_path)
    assert "solutions: []" in printed and "git: []" in printed
    assert "network: closed" in printed
    assert "write stolen.txt refused" in printed.splitlines()[3]
    assert printed.splitlines()[-1] == "write scratch.txt ok"
    assert not (REPO_ROOT / "stolen.txt").exists()


def test_auto_picks_bubblewrap_where_it_works_and_none_turns_it_off() -> None:
    assert resolve("auto") == "bwrap"
    assert resolve("none") == "none"
    with pytest.raises(ValueError, match="--sandbox"):
        resolve("docker")
