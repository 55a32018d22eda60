"""The Python code of the repository is ruff-clean."""

import shutil
import subprocess
import sys
from pathlib import Path

from autograder.settings import REPO_ROOT


def test_ruff_finds_nothing() -> None:
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or "ruff"
    result = subprocess.run([ruff, "check", "."], cwd=REPO_ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
