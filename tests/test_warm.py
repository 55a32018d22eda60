"""Warm kernels when things go wrong: the parent cannot start, or dies while a notebook runs.

Whatever happens to a warm parent costs at most the notebook it was serving: the grader
says so and grades in a cold kernel, or starts a fresh parent for the next notebook.
"""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path

import nbformat
import pytest
from jupyter_core.utils import run_sync

from autograder import pipeline, samples
from autograder.execute import execute, kernel_env
from autograder.model import NotebookResult, Status, Submission
from autograder.pipeline import GradeTask, WarmSlot
from autograder.record import prepare_course
from autograder.sandbox import DEFAULT_SANDBOX_LIMITS, bwrap_works
from autograder.settings import Limits, source_notebooks
from autograder.warm import HostProcess, WarmKernelManager, WarmParent, WarmUnavailable, Zygote
from tests.course import source_numbered

pytestmark = [pytest.mark.notebook,
              pytest.mark.skipif(not bwrap_works(), reason="bubblewrap cannot run here (make setup installs it)")]


def notebook(*sources: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def test_a_parent_that_cannot_import_its_libraries_says_why(tmp_path: Path) -> None:
    with pytest.raises(WarmUnavailable, match="did not start|exited"):
        WarmParent(tmp_path, {}, DEFAULT_SANDBOX_LIMITS, modules=("no_such_module_here",))


def test_a_parent_killed_mid_notebook_costs_that_notebook_and_the_next_gets_a_fresh_parent(tmp_path: Path) -> None:
    slot = WarmSlot()
    parent = slot.parent_for({}, str(tmp_path), [])
    assert parent is not None
    threading.Timer(3.0, parent.own.process.kill).start()
    result = execute(notebook("import time; time.sleep(30)"), parent.folder, Limits(cell_timeout_s=60), sandbox=True,
                     warm=parent)
    assert result.status is Status.KERNEL_DIED
    notes: list[str] = []
    fresh = slot.parent_for({}, str(tmp_path), notes)
    assert fresh is not None and fresh is not parent and notes == []
    after = execute(notebook("print(6 * 7)"), fresh.folder, Limits(cell_timeout_s=60), sandbox=True, warm=fresh)
    assert (after.status, after.notebook.cells[0].outputs[0]["text"]) == (Status.OK, "42\n")
    slot.discard()


def test_when_no_warm_parent_can_start_the_notebook_is_graded_cold_and_the_result_says_so(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args, **kwargs):
        raise WarmUnavailable("the warm parent exited (1) while asked to import the preloaded libraries")

    monkeypatch.setattr(pipeline, "WarmParent", broken)
    monkeypatch.setattr(pipeline, "_WARM", WarmSlot())
    source = source_numbered("01")
    course = prepare_course(tmp_path / "out", source_notebooks())
    path = samples.write(samples.perfect(source.name), tmp_path / "class" / "s1" / source.name)
    task = GradeTask(Submission("s1", source.name, path), course[source.name], Limits(), {},
                     sandbox=True, warm=True, scratch_root=str(tmp_path))
    started = time.monotonic()
    result = pipeline.grade_submission(task).result
    assert isinstance(result, NotebookResult) and time.monotonic() - started < 120
    assert (result.status, result.score) == (Status.OK, 10.0)
    assert result.timings["warm_kernel"] == 0.0
    assert any(n.startswith("graded in a cold kernel: the warm parent exited") for n in result.notes)


def test_the_shared_parent_kills_the_kernels_of_a_worker_that_is_gone_and_serves_the_others(tmp_path: Path) -> None:
    zygote = Zygote(tmp_path / "warm", {}, DEFAULT_SANDBOX_LIMITS)
    try:
        gone = WarmParent.connect(zygote.socket_path, {}, DEFAULT_SANDBOX_LIMITS)
        other = WarmParent.connect(zygote.socket_path, {}, DEFAULT_SANDBOX_LIMITS)
        km = WarmKernelManager(kernel_name="python3", transport="ipc", ip=str(gone.ipc / "kernel"),
                               connection_file=str(gone.ipc / "kernel.json"))
        km.warm = gone
        run_sync(km.start_kernel)(env=kernel_env({}), cwd=str(gone.folder))
        kernel = HostProcess(km.provisioner.pid)
        assert kernel.poll() is None
        gone.connection.close()  # what the zygote sees when a worker process dies: its connection ends
        kernel.wait(timeout=10)  # TimeoutExpired if the kernel outlived its worker
        assert kernel.returncode == -signal.SIGKILL
        result = execute(notebook("print(6 * 7)"), other.folder, Limits(cell_timeout_s=60), sandbox=True, warm=other)
        assert (result.status, result.notebook.cells[0].outputs[0]["text"]) == (Status.OK, "42\n")
    finally:
        zygote.close()


def test_the_parent_pays_the_one_time_work_of_a_kernels_first_traceback(tmp_path: Path) -> None:
    """Every graded notebook shows a traceback (its canary cells fail on purpose). The first one in a
    process resolves the file of every loaded module (``inspect.getmodule``) and compiles Pygments'
    Python patterns: 0.2 s of CPU. The warm parent does that once; a cold kernel does it itself."""
    def probe() -> nbformat.NotebookNode:
        return notebook("import inspect, pygments.lexers.python as python_lexer\n"
                        "print(len(inspect.modulesbyfile), '_tokens' in vars(python_lexer.PythonLexer))")

    parent = WarmParent(tmp_path / "warm", {}, DEFAULT_SANDBOX_LIMITS)
    try:
        warm = execute(probe(), parent.folder, Limits(cell_timeout_s=60), sandbox=True, warm=parent)
    finally:
        parent.close()
    (tmp_path / "cold").mkdir()
    cold = execute(probe(), tmp_path / "cold", Limits(cell_timeout_s=60), sandbox=True)
    warm_modules, warm_lexer = warm.notebook.cells[0].outputs[0]["text"].split()
    cold_modules, cold_lexer = cold.notebook.cells[0].outputs[0]["text"].split()
    assert int(warm_modules) > 1000 and warm_lexer == "True"  # filled before the kernel's first traceback
    assert int(cold_modules) == 0 and cold_lexer == "False"
