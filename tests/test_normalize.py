"""Normalizing a hand-in: the instructor's tests always come back, the student's answers are kept.

These tests run no kernel: they check the notebook that *would* be executed.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from autograder import samples
from autograder.model import HIDDEN_MARKER, SourceNotebook
from autograder.normalize import InvalidNotebook, normalize
from autograder.record import prepare_course
from tests.course import source_numbered

NB = source_numbered("01").name  # 01_tensors.ipynb: the template notebook
HIDDEN = HIDDEN_MARKER


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> SourceNotebook:
    return prepare_course(tmp_path_factory.mktemp("course"), [source_numbered("01")])[NB]


def _normalize(nb: nbformat.NotebookNode, source: SourceNotebook):
    return normalize(json.dumps(nb).encode(), source)


def _graded(nb: nbformat.NotebookNode) -> dict[str, nbformat.NotebookNode]:
    return {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells if c.metadata.get("nbgrader")}


def _order(nb: nbformat.NotebookNode) -> list[str]:
    return [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id")]


def test_a_clean_hand_in_gets_its_answers_and_the_hidden_tests(source: SourceNotebook) -> None:
    result = _normalize(samples.perfect(NB), source)
    cells = _graded(result.notebook)
    answers = samples.answers(NB)
    for grade_id, answer in answers.items():
        assert cells[grade_id].source == answer
    tests = [c for c in cells.values() if c.metadata["nbgrader"].get("grade")]
    assert len(tests) >= 4 and all(HIDDEN in c.source for c in tests)
    assert result.notes == []


def test_colab_save_without_metadata_is_matched_by_content_and_position(source: SourceNotebook) -> None:
    clean = _normalize(samples.perfect(NB), source).notebook
    result = _normalize(samples.saved_by_colab(samples.perfect(NB)), source)
    assert [c.source for c in result.notebook.cells] == [c.source for c in clean.cells]
    assert _order(result.notebook) == _order(clean)
    assert any("lost their nbgrader metadata" in n for n in result.notes)
    assert all(c.get("outputs", []) == [] for c in result.notebook.cells)  # Colab's outputs dropped


def test_edited_tests_and_claimed_points_are_replaced_by_the_instructors(source: SourceNotebook) -> None:
    result = _normalize(samples.tampered(samples.blank(NB)), source)
    tests = [c for c in result.notebook.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert all(HIDDEN in c.source and c.metadata["nbgrader"]["points"] < 100 for c in tests)
    assert sum("had been edited" in n for n in result.notes) == len(tests)


def test_moved_duplicated_deleted_and_added_cells(source: SourceNotebook) -> None:
    clean = _normalize(samples.perfect(NB), source).notebook
    result = _normalize(samples.reshuffled(samples.perfect(NB)), source)
    assert _order(result.notebook) == _order(clean)  # tests run after their answers; the deleted one is back
    sources = [c.source for c in result.notebook.cells]
    assert "scratch = [i * i for i in range(10)]\nprint(sum(scratch))" in sources  # added cell kept
    second_answer = samples.answers(NB)[samples.solution_ids(samples.blank(NB))[1]]
    assert sources.count(second_answer) == 2  # the duplicate still runs, after the original
    assert any("added by the student" in n for n in result.notes)


def test_duplicated_grade_cells_are_graded_once(source: SourceNotebook) -> None:
    result = _normalize(samples.with_duplicated_grade_cells(samples.perfect(NB)), source)
    assert _order(result.notebook) == _order(_normalize(samples.perfect(NB), source).notebook)
    assert any("duplicated graded cells" in n for n in result.notes)


def test_a_deleted_answer_is_graded_as_unanswered(source: SourceNotebook) -> None:
    nb = samples.perfect(NB)
    first = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("solution"))
    del nb.cells[first]
    result = _normalize(nb, source)
    stub = _graded(result.notebook)[samples.solution_ids(samples.blank(NB))[0]]
    assert "raise NotImplementedError()" in stub.source
    assert any("was missing" in n for n in result.notes)


@pytest.mark.parametrize("data, reason", [
    (b"", "empty"),
    (b"   \n", "empty"),
    (b"{\"cells\": [", "not valid JSON"),
    (b"\xff\xfe\x00garbage", "not valid JSON"),
    (b"[1, 2, 3]", "not a Jupyter notebook"),
    (b"{\"hello\": \"world\"}", "not a Jupyter notebook"),
    (b"PK\x03\x04 a zip renamed to .ipynb", "not valid JSON"),
])
def test_files_that_are_not_notebooks_are_refused_with_a_reason(data: bytes, reason: str,
                                                               source: SourceNotebook) -> None:
    with pytest.raises(InvalidNotebook, match=reason):
        normalize(data, source)


def test_a_notebook_with_a_utf8_bom_and_list_sources_is_read(source: SourceNotebook, tmp_path: Path) -> None:
    path = samples.write(samples.perfect(NB), tmp_path / "x.ipynb")
    data = b"\xef\xbb\xbf" + path.read_bytes()
    assert _normalize(samples.perfect(NB), source).notebook.cells[0].source == \
        normalize(data, source).notebook.cells[0].source
