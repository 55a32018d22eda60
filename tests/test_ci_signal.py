"""CI reads the truth: the GPU leg compares floats with a tolerance, and a skip in CI is a failure."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.settings import REPO_ROOT
from tests.nbval_tolerance import snap_to_reference


def pytest_in(folder: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """A separate pytest run in ``folder`` (outside this repository's configuration)."""
    environment = {k: v for k, v in os.environ.items() if k not in ("CI", "PYTEST_XDIST_WORKER_COUNT")}
    environment.update(PYTHONPATH=str(REPO_ROOT), **env)
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], cwd=folder,
                          env=environment, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("gpu_output, cpu_output", [
    ("loss: 0.2531 - accuracy: 0.9950", "loss: 0.2498 - accuracy: 0.9960"),  # TF32 and XLA drift
    ("[[0.5012 -1.2498]]", "[[0.5 -1.25]]"),
    ("5/5 ━━━━ 0s 3ms/step - loss: 0.1012", "5/5 ━━━━ 1s 12ms/step - loss: 0.1000"),  # timings masked first
])
def test_floats_that_drift_on_a_gpu_match_the_stored_cpu_output(gpu_output: str, cpu_output: str) -> None:
    def mask_timings(text: str) -> str:
        return re.sub(r"\d+m?s", "T", text)

    assert snap_to_reference(gpu_output, cpu_output, mask_timings) == cpu_output


@pytest.mark.parametrize("gpu_output, cpu_output", [
    ("loss: 0.9000", "loss: 0.2500"),  # a real difference
    ("shape=(2, 784)", "shape=(128, 784)"),  # integers stay exact
    ("dense_2", "dense_1"),
    ("loss: 0.2500 (정답)", "loss: 0.2500 (오답)"),  # the text around the numbers stays exact
    ("loss: 0.25", "loss: 0.25 0.26"),  # a number more or less
])
def test_anything_but_float_drift_still_differs(gpu_output: str, cpu_output: str) -> None:
    assert snap_to_reference(gpu_output, cpu_output) == gpu_output


def _notebook_printing(code: str, stored: str, path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    cell = nbformat.v4.new_code_cell(code, execution_count=1)
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=stored)]
    nb.cells = [cell]
    nbformat.write(nb, path)


@pytest.mark.notebook
def test_nbval_with_the_gpu_comparator_accepts_drift_that_strict_nbval_rejects(tmp_path: Path) -> None:
    _notebook_printing('print("loss: 0.2531")', "loss: 0.2500\n", tmp_path / "drift.ipynb")
    _notebook_printing('print("loss: 0.9000")', "loss: 0.2500\n", tmp_path / "wrong.ipynb")
    (tmp_path / "conftest.py").write_text("from tests import nbval_tolerance\nnbval_tolerance.install()\n")
    tolerant = pytest_in(tmp_path, "--nbval", "--nbval-current-env", "-q")
    assert "1 failed, 1 passed" in tolerant.stdout, tolerant.stdout
    assert "wrong.ipynb" in tolerant.stdout.split("short test summary")[-1]
    (tmp_path / "conftest.py").unlink()
    strict = pytest_in(tmp_path, "--nbval", "--nbval-current-env", "-q", "drift.ipynb")
    assert "1 failed" in strict.stdout, strict.stdout


SKIPPING_TEST = '''
import pytest

def test_needs_a_tool():
    pytest.skip("bubblewrap is not installed")
'''


def test_a_skip_fails_in_ci_with_its_reason_and_stays_a_skip_elsewhere(tmp_path: Path) -> None:
    (tmp_path / "test_tool.py").write_text(SKIPPING_TEST)
    in_ci = pytest_in(tmp_path, "-p", "tests.ci_strict", "-q", CI="true")
    assert in_ci.returncode == 1 and "1 failed" in in_ci.stdout
    assert "skipped in CI (CI=true), which counts as a failure: bubblewrap is not installed" in in_ci.stdout
    locally = pytest_in(tmp_path, "-p", "tests.ci_strict", "-q")
    assert locally.returncode == 0 and "1 skipped" in locally.stdout


def test_make_test_runs_the_main_suite_last() -> None:
    """CI reads the last test-runner summary: it must be the main suite's, never the GPU leg's."""
    planned = subprocess.run(["make", "-n", "--no-print-directory", "test"], cwd=REPO_ROOT, capture_output=True,
                             text=True, check=True, env=dict(os.environ, MAKEFLAGS="")).stdout.strip().splitlines()
    main_suite = planned[-1].split()
    assert main_suite[:3] == [".venv/bin/python", "-m", "pytest"] and "--gpu" not in main_suite
    assert not any(arg.endswith(("solutions", "tests")) for arg in main_suite)  # the whole suite, not a part
    ci = (REPO_ROOT / ".ci" / "run").read_text().strip().splitlines()
    assert ci[-1] == "make test"
