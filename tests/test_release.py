"""The student editions in notebooks/ are generated from solutions/ and give nothing away."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from autograder.release import release
from autograder.settings import NOTEBOOKS_DIR
from tests.course import HIDDEN_MARKER, is_solution, is_test, read, source_paths, student_path

SOURCES = source_paths()
IDS = [p.stem for p in SOURCES]


def test_committed_student_editions_match_a_fresh_release(tmp_path: Path) -> None:
    fresh = release(notebooks_dir=tmp_path)
    stale = [p.name for p in fresh if not (NOTEBOOKS_DIR / p.name).exists()
             or (NOTEBOOKS_DIR / p.name).read_text(encoding="utf-8") != p.read_text(encoding="utf-8")]
    assert not stale, f"notebooks/ is out of date with solutions/ for {stale}: run `make release` and commit"
    extra = {p.name for p in NOTEBOOKS_DIR.glob("*.ipynb")} - {p.name for p in fresh}
    assert not extra, f"notebooks/ holds editions with no source in solutions/: {sorted(extra)}"


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_student_edition_holds_no_solution_no_hidden_test_no_output(source: Path) -> None:
    student = read(student_path(source))
    text = json.dumps(student, ensure_ascii=False)
    for marker in ("BEGIN SOLUTION", "END SOLUTION", HIDDEN_MARKER, "END HIDDEN TESTS"):
        assert marker not in text, f"{source.name}: the student edition contains '{marker}'"
    for cell in student.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, f"{source.name}: stored output leaked"
    hidden_lines = _hidden_test_lines(read(source))
    leaked = [line for line in hidden_lines if line in text]
    assert not leaked, f"{source.name}: hidden test lines appear in the student edition: {leaked[:3]}"


def _hidden_test_lines(nb: nbformat.NotebookNode) -> list[str]:
    lines = []
    for cell in nb.cells:
        if is_test(cell) and HIDDEN_MARKER in cell.source:
            hidden = cell.source.split(HIDDEN_MARKER, 1)[1].split("### END HIDDEN TESTS")[0]
            lines += [ln.strip() for ln in hidden.splitlines() if len(ln.strip()) > 25]
    return lines


@pytest.mark.notebook
@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_student_edition_runs_and_fails_only_at_the_exercises(source: Path, tmp_path: Path) -> None:
    student = read(student_path(source))
    NotebookClient(student, timeout=300, allow_errors=True, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    failing = [(i, cell) for i, cell in enumerate(student.cells) if cell.cell_type == "code"
               and any(o.output_type == "error" for o in cell.outputs)]
    outside = [i for i, cell in failing if not (is_solution(cell) or is_test(cell))]
    assert not outside, f"{source.name}: cells {outside} fail without the exercise answers; only exercises may"
    stub_errors = {o.ename for _, cell in failing if is_solution(cell) for o in cell.outputs
                   if o.output_type == "error"}
    assert stub_errors <= {"NotImplementedError"}, f"{source.name}: a stub fails with {stub_errors}"
    unsolved_tests = [cell for cell in student.cells if is_test(cell)]
    assert unsolved_tests and all(any(o.output_type == "error" for o in cell.outputs) for cell in unsolved_tests), (
        f"{source.name}: a test cell passes without an answer"
    )
