"""This grader gives what real ``nbgrader autograde`` (0.9.6) gives, except where nbgrader gets it wrong.

One class handing in notebook 01 is graded once by each tool (module-scoped fixtures):
sequential ``nbgrader autograde ch03`` in a standard nbgrader course directory, and
``grade_class(jobs=2)``. Every test below reads those two gradings.

* Well-formed submissions (perfect, two exercises answered, blank, one answer hard-coded
  to the visible self-check) get exactly the same points per graded cell from both.
* Where nbgrader does worse, the tests pin down what nbgrader 0.9.6 was observed to do
  and what this grader does instead: stderr output costs nbgrader every point; a
  notebook saved by Colab without cell metadata is left unscored by nbgrader; duplicated
  graded cells abort nbgrader's whole batch.

nbgrader grades ``submitted/`` in alphabetical order of student id, so the ids below are
numbered in the order it meets them; the student after the duplicated cells is the good
notebook that nbgrader's aborted batch never reaches.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from autograder import samples
from autograder.bench import NbgraderRun, Scores, gradebook_scores, run_nbgrader
from autograder.model import Status
from autograder.pipeline import ClassRun, grade_class
from autograder.settings import SOLUTIONS_DIR
from tests.course import exercises, nbgrader_meta
from tests.wrong_answers.nb01 import WRONG_ANSWERS

pytestmark = [pytest.mark.notebook, pytest.mark.slow]

NB = "01_tensors.ipynb"
STEM = "01_tensors"

SOURCE = nbformat.read(SOLUTIONS_DIR / NB, as_version=4)
EXERCISES = exercises(SOURCE)  # solution cell -> the test cell that grades it, in notebook order
TEST_OF = {e.solution_id: nbgrader_meta(SOURCE.cells[e.test_index])["grade_id"] for e in EXERCISES}
POINTS = {nbgrader_meta(c)["grade_id"]: float(nbgrader_meta(c)["points"])
          for c in SOURCE.cells if nbgrader_meta(c).get("grade") and c.cell_type == "code"}
MAX_SCORE = sum(POINTS.values())

HARDCODED_SOLUTION, HARDCODED = next((gid, w) for gid, ws in WRONG_ANSWERS.items() for w in ws if w.hardcoded)


def _with_answer(nb: nbformat.NotebookNode, solution_id: str, code: str) -> nbformat.NotebookNode:
    for cell in nb.cells:
        if nbgrader_meta(cell).get("grade_id") == solution_id:
            cell.source = code
            return nb
    raise AssertionError(f"no solution cell {solution_id} in {NB}")


CLASS = {
    "s1_perfect": lambda: samples.perfect(NB),
    "s2_partial": lambda: samples.partial(NB, 2),
    "s3_blank": lambda: samples.blank(NB),
    "s4_hardcoded": lambda: _with_answer(samples.perfect(NB), HARDCODED_SOLUTION, HARDCODED.code),
    "s5_chatty": lambda: samples.chatty_on_stderr(samples.perfect(NB)),
    "s6_colab": lambda: samples.saved_by_colab(samples.perfect(NB)),
    "s7_duplicated": lambda: samples.with_duplicated_grade_cells(samples.perfect(NB)),
    "s8_perfect_after_duplicated": lambda: samples.perfect(NB),
}
WELL_FORMED = ["s1_perfect", "s2_partial", "s3_blank", "s4_hardcoded"]

# What each well-formed submission must score, per test cell.
FULL = dict(POINTS)
ANSWERED_FIRST_TWO = {TEST_OF[e.solution_id]: (POINTS[TEST_OF[e.solution_id]] if k < 2 else 0.0)
                      for k, e in enumerate(EXERCISES)}
NOTHING = dict.fromkeys(POINTS, 0.0)
ALL_BUT_HARDCODED = dict(POINTS, **{TEST_OF[HARDCODED_SOLUTION]: 0.0})
EXPECTED = {"s1_perfect": FULL, "s2_partial": ANSWERED_FIRST_TWO, "s3_blank": NOTHING,
            "s4_hardcoded": ALL_BUT_HARDCODED}


@pytest.fixture(scope="module")
def submissions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("class01")
    for student, build in CLASS.items():
        samples.write(build(), root / student / NB)
    return root


@pytest.fixture(scope="module")
def nbgrader(submissions: Path, tmp_path_factory: pytest.TempPathFactory) -> NbgraderRun:
    return run_nbgrader(submissions, tmp_path_factory.mktemp("nbgrader"), [SOLUTIONS_DIR / NB], timeout=600)


@pytest.fixture(scope="module")
def ours(submissions: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[ClassRun, Scores]:
    out = tmp_path_factory.mktemp("ours")
    run = grade_class(submissions, out, jobs=2, notebooks=[STEM], quiet=True)
    return run, gradebook_scores(out / "gradebook.db")


def _result(run: ClassRun, student: str):
    return next(r for r in run.results if r.student_id == student and r.notebook == NB)


# --------------------------------------------------------------------------- well-formed: the same grades


def test_the_expectations_cover_every_test_cell() -> None:
    assert len(EXERCISES) >= 3 and MAX_SCORE > 0
    for expected in EXPECTED.values():
        assert set(expected) == set(POINTS)
    assert 0 < sum(ANSWERED_FIRST_TWO.values()) < MAX_SCORE


@pytest.mark.parametrize("student", WELL_FORMED)
def test_well_formed_submissions_get_the_same_points_per_cell_as_nbgrader(
        student: str, nbgrader: NbgraderRun, ours: tuple[ClassRun, Scores]) -> None:
    _, our_scores = ours
    assert student in nbgrader.started and student not in nbgrader.failed_students
    assert our_scores[(student, STEM)] == nbgrader.scores[(student, STEM)]


@pytest.mark.parametrize("student", WELL_FORMED)
def test_well_formed_submissions_score_what_they_must(
        student: str, nbgrader: NbgraderRun, ours: tuple[ClassRun, Scores]) -> None:
    run, our_scores = ours
    assert nbgrader.scores[(student, STEM)] == EXPECTED[student]
    assert our_scores[(student, STEM)] == EXPECTED[student]
    result = _result(run, student)
    assert result.status is Status.OK
    assert result.max_score == MAX_SCORE
    assert result.score == sum(EXPECTED[student].values())
    assert {t.grade_id: t.points for t in result.tests} == EXPECTED[student]


def test_perfect_gets_the_maximum_and_blank_gets_zero(ours: tuple[ClassRun, Scores], nbgrader: NbgraderRun) -> None:
    run, _ = ours
    assert _result(run, "s1_perfect").score == MAX_SCORE
    assert _result(run, "s3_blank").score == 0
    assert sum(nbgrader.scores[("s1_perfect", STEM)].values()) == MAX_SCORE
    assert sum(nbgrader.scores[("s3_blank", STEM)].values()) == 0


def test_a_hardcoded_answer_fails_its_hidden_tests_in_both(ours: tuple[ClassRun, Scores]) -> None:
    run, _ = ours
    failed = [t for t in _result(run, "s4_hardcoded").tests if not t.passed]
    assert [t.grade_id for t in failed] == [TEST_OF[HARDCODED_SOLUTION]]
    assert failed[0].in_hidden_tests, failed[0].error


# --------------------------------------------------------------------------- where nbgrader does worse


def test_stderr_output_costs_every_point_in_nbgrader_but_nothing_here(
        nbgrader: NbgraderRun, ours: tuple[ClassRun, Scores]) -> None:
    _, our_scores = ours
    # nbgrader's determine_grade: any stderr stream in a test cell's output means 0.
    assert "s5_chatty" not in nbgrader.failed_students
    assert nbgrader.scores[("s5_chatty", STEM)] == NOTHING
    assert our_scores[("s5_chatty", STEM)] == FULL


def test_colab_notebook_without_metadata_is_left_unscored_by_nbgrader_but_graded_here(
        nbgrader: NbgraderRun, ours: tuple[ClassRun, Scores]) -> None:
    run, our_scores = ours
    # nbgrader finds no graded cell (their metadata is gone): no error, but no test cell is
    # scored; every one waits for manual grading and the notebook counts 0 meanwhile.
    assert "s6_colab" in nbgrader.started and "s6_colab" not in nbgrader.failed_students
    assert nbgrader.autograded("s6_colab", NB).exists()
    assert nbgrader.scores[("s6_colab", STEM)] == dict.fromkeys(POINTS)
    assert our_scores[("s6_colab", STEM)] == FULL
    result = _result(run, "s6_colab")
    assert result.status is Status.OK
    assert any("lost their nbgrader metadata" in n for n in result.notes)


def test_duplicated_grade_cells_abort_nbgraders_batch_but_not_ours(
        nbgrader: NbgraderRun, ours: tuple[ClassRun, Scores]) -> None:
    run, our_scores = ours
    # nbgrader 0.9.6: DeduplicateIds clears the metadata of all but the last copy, then
    # CheckCellMetadata takes the emptied metadata for an old schema and raises
    # SchemaTooOldError, which stops `nbgrader autograde` for the whole batch.
    assert nbgrader.returncode != 0
    assert "use an old version" in nbgrader.log and "nbgrader metadata format" in nbgrader.log
    assert nbgrader.started[-1] == "s7_duplicated"
    assert not nbgrader.autograded("s7_duplicated", NB).exists()
    assert nbgrader.scores[("s7_duplicated", STEM)] == dict.fromkeys(POINTS)
    # ... and the good notebook after it in the batch is never graded at all.
    assert "s8_perfect_after_duplicated" not in nbgrader.started
    assert ("s8_perfect_after_duplicated", STEM) not in nbgrader.scores
    assert not nbgrader.autograded("s8_perfect_after_duplicated", NB).exists()
    # Everyone before it was graded.
    assert nbgrader.started == sorted(CLASS)[: sorted(CLASS).index("s7_duplicated") + 1]

    assert our_scores[("s7_duplicated", STEM)] == FULL
    assert our_scores[("s8_perfect_after_duplicated", STEM)] == FULL
    duplicated = _result(run, "s7_duplicated")
    assert duplicated.status is Status.OK
    assert any("duplicated graded cells" in n for n in duplicated.notes)


def test_every_submission_is_graded_here(ours: tuple[ClassRun, Scores]) -> None:
    run, our_scores = ours
    assert sorted(r.student_id for r in run.results) == sorted(CLASS)
    assert all(r.status is Status.OK for r in run.results)
    for result in run.results:  # the result store and the gradebook say the same
        assert {t.grade_id: t.points for t in result.tests} == our_scores[(result.student_id, STEM)]
