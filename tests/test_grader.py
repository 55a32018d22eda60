"""Grading a class end to end: every kind of hand-in gets the grade and status it must get.

One class of notebook-01 hand-ins is graded once (real kernels, two in parallel, the real
nbgrader gradebook); each test then checks one promise the grader makes to instructors.
"""

from __future__ import annotations

import ast
import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograder import samples
from autograder.pipeline import ClassRun, grade_class
from autograder.settings import SOLUTIONS_DIR, Limits
from tests.course import HIDDEN_MARKER, source_numbered
from tests.tools import require
from tests.wrong_answers.nb01 import WRONG_ANSWERS

pytestmark = pytest.mark.notebook

NB01, NB02 = source_numbered("01").name, source_numbered("02").name
POINTS = {"nb01_ex1_tests": 1, "nb01_ex2_tests": 2, "nb01_ex3_tests": 2, "nb01_ex4_tests": 2, "nb01_ex5_tests": 3}
FULL = sum(POINTS.values())
LIMITS = Limits(cell_timeout_s=15, notebook_timeout_s=240, memory_mb=1500)
ENDLESS_LOOP = "import time\nwhile True:\n    time.sleep(0.2)"
MEMORY_HOG = "import numpy as np\nhog = [np.ones((64, 1024, 1024)) for _ in range(64)]  # 512 MB at a time"
EXIT = "import os\nos._exit(1)"


def hardcoded_first_answer() -> nbformat.NotebookNode:
    nb = samples.perfect(NB01)
    wrong = next(w for w in WRONG_ANSWERS["nb01_ex1_solution"] if w.hardcoded)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "nb01_ex1_solution")
    cell.source = wrong.code
    return nb


def dies_after_second_test() -> nbformat.NotebookNode:
    nb = samples.perfect(NB01)
    at = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "nb01_ex2_tests")
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell(EXIT))
    return nb


def cheats_with_a_patched_numpy() -> nbformat.NotebookNode:
    """A wrong standardize() plus np.allclose patched to always agree: the guard must undo the patch."""
    nb = samples.perfect(NB01)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "nb01_ex3_solution")
    cell.source = ("np.allclose = lambda *args, **kwargs: True\n"
                   "def standardize(x):\n    return tf.zeros_like(x)\n")
    return nb


STEAL_ANSWERS = (f"import pathlib\nprint(sorted(p.name for p in pathlib.Path({str(SOLUTIONS_DIR)!r}).glob('*')))\n"
                 "print(sorted(p.name for p in pathlib.Path('..').glob('*')))  # other students' scratch folders")
SILENCE_ERRORS = "get_ipython().showtraceback = lambda *args, **kwargs: None  # hide every failure"

# student id -> (file name, content, expected score, expected status)
CLASS = {
    "perfect": (NB01, lambda: samples.perfect(NB01), FULL, "ok"),
    "partial": (NB01, lambda: samples.partial(NB01, 2), POINTS["nb01_ex1_tests"] + POINTS["nb01_ex2_tests"], "ok"),
    "blank": (NB01, lambda: samples.blank(NB01), 0, "ok"),
    "hardcoded": (NB01, hardcoded_first_answer, FULL - POINTS["nb01_ex1_tests"], "ok"),
    "colab": ("Copy of 01_tensors (1).ipynb", lambda: samples.saved_by_colab(samples.perfect(NB01)), FULL, "ok"),
    "tampered": (NB01, lambda: samples.tampered(samples.blank(NB01)), 0, "ok"),
    # from the patch on, no test counts: the guard restored np.allclose and saw notebook code had replaced it
    "patcher": (NB01, cheats_with_a_patched_numpy, POINTS["nb01_ex1_tests"] + POINTS["nb01_ex2_tests"], "tampered"),
    "snoop": (NB01, lambda: samples.with_cell(samples.perfect(NB01), STEAL_ANSWERS), FULL, "ok"),
    "silencer": (NB01, lambda: samples.with_cell(samples.blank(NB01), SILENCE_ERRORS), 0, "tampered"),
    "reshuffled": (NB01, lambda: samples.reshuffled(samples.perfect(NB01)), FULL, "ok"),
    "duplicated": (NB01, lambda: samples.with_duplicated_grade_cells(samples.perfect(NB01)), FULL, "ok"),
    "stderr": (NB01, lambda: samples.chatty_on_stderr(samples.perfect(NB01)), FULL, "ok"),
    "sleeper": (NB01, lambda: samples.with_cell(samples.perfect(NB01), "import time\ntime.sleep(2)"), FULL, "ok"),
    "megabytes": (NB01, lambda: samples.with_megabytes_of_output(samples.perfect(NB01), 5), FULL, "ok"),
    "endless": (NB01, lambda: samples.with_cell(samples.perfect(NB01), ENDLESS_LOOP, after_setup=False), FULL,
                "timeout"),
    "hog": (NB01, lambda: samples.with_cell(samples.perfect(NB01), MEMORY_HOG, after_setup=False), FULL, "memory"),
    "quits": (NB01, lambda: samples.with_cell(samples.perfect(NB01), EXIT), 0, "kernel_died"),
    "midway": (NB01, dies_after_second_test, POINTS["nb01_ex1_tests"] + POINTS["nb01_ex2_tests"], "kernel_died"),
    "badjson": (NB01, lambda: '{"cells": [{"cell_type": "code", "source": "print(1)"', 0, "invalid_notebook"),
    "emptyfile": (NB01, lambda: "", 0, "invalid_notebook"),
    "notanotebook": (NB01, lambda: '{"name": "not a notebook"}', 0, "invalid_notebook"),
    "absent": (NB02, lambda: "", 0, "invalid_notebook"),  # handed in a broken 02 and no 01
}


def build_class(root: Path) -> Path:
    for student, (file_name, make, _, _) in CLASS.items():
        content = make()
        path = root / student / file_name
        if isinstance(content, str):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
        else:
            samples.write(content, path)
    (root / "perfect" / "notes.txt").write_text("not a notebook\n")
    return root


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[ClassRun, Path, Path]:
    root = tmp_path_factory.mktemp("grading")
    klass = build_class(root / "class")
    out = root / "out"
    run = grade_class(klass, out, jobs=2, notebooks=["01", "02"], limits=LIMITS, quiet=True)
    return run, out, klass


def rows(out: Path) -> dict[tuple[str, str], dict]:
    with open(out / "grades.csv", encoding="utf-8") as f:
        return {(r["student_id"], r["notebook"]): r for r in csv.DictReader(f)}


@pytest.mark.parametrize("student", sorted(CLASS))
def test_each_hand_in_gets_its_grade_and_status(graded, student: str) -> None:
    _, out, _ = graded
    file_name, _, score, status = CLASS[student]
    notebook = "02_variables" if file_name == NB02 else "01_tensors"
    row = rows(out)[(student, notebook)]
    assert (float(row["score"]), row["status"]) == (score, status), row["message"]
    assert float(row["max_score"]) == (FULL if notebook == "01_tensors" else float(row["max_score"]))
    if status != "ok":
        assert row["message"], "a failure must say what happened in plain words"


def test_the_graders_own_share_of_kernel_time_is_counted_apart_from_the_notebooks(graded) -> None:
    """``guard_s`` (the guard's prelude, canary cells and checks) is what the benchmark leaves out of a
    notebook's own compute: a student's slow cell must land in the notebook's part, not the grader's."""
    run, _, _ = graded
    timings = {r.student_id: r.timings for r in run.results if r.notebook == NB01}
    perfect, sleeper = timings["perfect"], timings["sleeper"]
    assert 0 < perfect["guard_s"] < perfect["cells_s"]
    assert sleeper["cells_s"] - sleeper["guard_s"] >= 2.0
    assert sleeper["guard_s"] < 2.0


def test_a_notebook_not_handed_in_is_missing_with_zero(graded) -> None:
    _, out, _ = graded
    table = rows(out)
    assert table[("absent", "01_tensors")]["status"] == "missing"
    assert table[("absent", "01_tensors")]["score"] == "0"
    assert table[("perfect", "02_variables")]["status"] == "missing"
    assert len(table) == 2 * len(CLASS)


def test_limits_name_the_limit_and_keep_earlier_points(graded) -> None:
    _, out, _ = graded
    table = rows(out)
    assert "15 s" in table[("endless", "01_tensors")]["message"]
    assert "1500 MB" in table[("hog", "01_tensors")]["message"]
    assert "kernel died" in table[("midway", "01_tensors")]["message"]


def test_the_nbgrader_gradebook_holds_the_same_scores(graded) -> None:
    _, out, _ = graded
    table = rows(out)
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}", "course") as gb:
        for (student, notebook), row in table.items():
            submitted = gb.find_submission_notebook(notebook, "ch03", student)
            assert submitted.score == pytest.approx(float(row["score"])), (student, notebook)
            assert submitted.max_score == pytest.approx(float(row["max_score"]))
        assert gb.find_submission_notebook("01_tensors", "ch03", "endless").flagged


def test_nbgraders_own_export_reads_the_gradebook(graded, tmp_path: Path) -> None:
    _, out, _ = graded
    exported = tmp_path / "export.csv"
    nbgrader = Path(sys.executable).parent / "nbgrader"
    subprocess.run([str(nbgrader), "export", f"--to={exported}"], cwd=out, check=True, capture_output=True)
    with open(exported, encoding="utf-8") as f:
        totals = {r["student_id"]: float(r["raw_score"]) for r in csv.DictReader(f)}
    assert totals["perfect"] == FULL and totals["blank"] == 0


def test_results_json_has_every_test_cell_with_its_failure(graded) -> None:
    _, out, _ = graded
    results = {(r["student_id"], r["notebook"]): r for r in json.loads((out / "results.json").read_text())["results"]}
    hardcoded = {t["grade_id"]: t for t in results[("hardcoded", NB01)]["tests"]}
    assert set(hardcoded) == set(POINTS)
    first = hardcoded["nb01_ex1_tests"]
    assert (first["points"], first["max_points"], first["passed"]) == (0, 1, False)
    assert first["in_hidden_tests"] and first["error"].startswith("AssertionError")
    assert all(t["passed"] for gid, t in hardcoded.items() if gid != "nb01_ex1_tests")


def test_feedback_is_korean_and_never_shows_hidden_test_code(graded) -> None:
    _, out, _ = graded
    source = nbformat.read(source_numbered("01"), as_version=4)
    hidden_lines = [line.strip() for c in source.cells if HIDDEN_MARKER in c.source
                    for line in c.source.split(HIDDEN_MARKER, 1)[1].splitlines() if len(line.strip()) > 20]
    pages = list((out / "feedback").glob("*/*.html"))
    assert len(pages) == 2 * len(CLASS)
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert "채점 결과" in text
        leaked = [line for line in hidden_lines if line in text]
        assert not leaked, f"{page} shows hidden test code: {leaked[:2]}"
    hardcoded = (out / "feedback" / "hardcoded" / "01_tensors.html").read_text(encoding="utf-8")
    assert "숨겨진 테스트" in hardcoded and "통과" in hardcoded


def test_class_report_lists_what_needs_a_human_look(graded) -> None:
    _, out, _ = graded
    report = (out / "report.html").read_text(encoding="utf-8")
    assert report.count("<img") >= 2  # score histogram and pass rates
    review = report.split("Needs a human look", 1)[1].split("<h2>", 1)[0]
    for student in ("endless", "hog", "quits", "badjson", "colab"):
        assert f"<td>{student}</td>" in review
    assert "<td>perfect</td>" not in review
    assert "notes.txt" in report


def test_class_report_lists_the_solution_apart_and_pairs_no_one_for_handing_it_in(graded) -> None:
    run, out, _ = graded
    section = (out / "report.html").read_text(encoding="utf-8").split('id="similarity"', 1)[1].split("<h2>", 1)[0]
    assert "never changes a grade" in section
    same = section.split("identical to the instructor", 1)[1]
    for student in ("perfect", "colab", "reshuffled", "duplicated", "megabytes", "snoop"):
        assert student in same
    assert run.similar is not None and run.similar.pairs == []  # a dozen copies of the solution are not a ring
    assert (out / "similarity.csv").is_file()


def test_student_code_sees_neither_the_answers_nor_other_students(graded) -> None:
    run, out, _ = graded
    require(run.sandbox == "bwrap", "bubblewrap cannot run here: kernels were not sandboxed")
    graded_nb = nbformat.read(out / "autograded" / "snoop" / "ch03" / NB01, as_version=4)
    printed = next("".join(o.get("text", "") for o in c.outputs) for c in graded_nb.cells
                   if c.source.startswith("import pathlib"))
    solutions, beside_scratch = printed.splitlines()
    assert solutions == "[]"
    assert len(ast.literal_eval(beside_scratch)) == 1  # its own scratch folder, nobody else's


def test_a_rerun_keeps_unchanged_grades_and_regrades_what_changed(graded, tmp_path: Path) -> None:
    _, out, klass = graded
    out2, klass2 = tmp_path / "out", tmp_path / "class"
    shutil.copytree(out, out2)
    shutil.copytree(klass, klass2)
    samples.write(samples.perfect(NB01), klass2 / "blank" / NB01)  # the blank student hands in again
    run = grade_class(klass2, out2, jobs=2, notebooks=["01", "02"], limits=LIMITS, quiet=True)
    assert (run.graded_now, run.reused) == (1, 2 * len(CLASS) - 1)
    assert float(rows(out2)[("blank", "01_tensors")]["score"]) == FULL
    with Gradebook(f"sqlite:///{out2 / 'gradebook.db'}", "course") as gb:
        assert gb.find_submission_notebook("01_tensors", "ch03", "blank").score == FULL
    forced = grade_class(klass2, out2, jobs=2, notebooks=["02"], force=True, limits=LIMITS, quiet=True)
    # every student's 02 row is made again though unchanged: "absent"'s file, and everyone else's "missing"
    assert (forced.graded_now, forced.reused) == (len(CLASS), 0)
    assert {r.student_id for r in forced.results if r.status.value == "missing"} == set(CLASS) - {"absent"}


def test_a_roster_gives_every_enrolled_student_a_grade_and_their_names_to_the_gradebook(tmp_path: Path) -> None:
    """``--roster``: a student who handed in nothing still gets 0 (not a missing row), formgrader shows
    names instead of "None, None", and a hand-in under an id not on the roster is graded and pointed out."""
    samples.write(samples.perfect(NB01), tmp_path / "class" / "2026001" / NB01)
    samples.write(samples.blank(NB01), tmp_path / "class" / "2026O03" / NB01)  # a letter O for a zero
    roster = tmp_path / "roster.csv"
    roster.write_text("학번,성,이름,이메일\n2026001,김,민수,kim@example.ac.kr\n2026002,이,지우,lee@example.ac.kr\n"
                      "2026003,박,서준,\n", encoding="utf-8")
    out = tmp_path / "out"
    command = [sys.executable, "-m", "autograder", "grade", str(tmp_path / "class"), "--out", str(out),
               "--jobs", "1", "--notebook", "01", "--roster", str(roster), "--no-similarity"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    got = {student: (float(r["score"]), r["status"]) for (student, _), r in rows(out).items()}
    assert got == {"2026001": (FULL, "ok"), "2026002": (0.0, "missing"), "2026003": (0.0, "missing"),
                   "2026O03": (0.0, "ok")}
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}", "course") as gb:
        kim = gb.find_student("2026001")
        assert (kim.last_name, kim.first_name, kim.email) == ("김", "민수", "kim@example.ac.kr")
        assert gb.find_student("2026002").first_name == "지우"
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "not on the roster" in report and "2026O03" in report
    assert json.loads((out / "results.json").read_text(encoding="utf-8"))["not_on_roster"] == ["2026O03"]


def test_a_private_copy_of_the_sources_grades_with_its_own_hidden_tests(tmp_path: Path) -> None:
    """``--solutions DIR``: this repository is public, hidden tests included, so an instructor who grades for
    credit keeps a copy whose hidden tests students have not read. Hand-ins made from the public student
    edition are graded against that copy's hidden tests, and a copy the kernels could read is refused."""
    private = tmp_path / "private"
    private.mkdir()
    source = nbformat.read(SOLUTIONS_DIR / NB01, as_version=4)
    cell = next(c for c in source.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "nb01_ex1_tests")
    assert HIDDEN_MARKER in cell.source
    cell.source = cell.source.replace(  # a hidden check the public solution does not pass
        HIDDEN_MARKER, HIDDEN_MARKER + '\nassert make_filled((2,), 1.0).numpy().sum() == 3.0, "비공개 테스트"', 1)
    nbformat.write(source, private / NB01)
    samples.write(samples.perfect(NB01), tmp_path / "class" / "s1" / NB01)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "autograder", "grade", str(tmp_path / "class"), "--out", str(out),
               "--jobs", "1", "--notebook", "01", "--no-similarity", "--solutions", str(private)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert {key: float(r["score"]) for key, r in rows(out).items()} == {
        ("s1", Path(NB01).stem): FULL - POINTS["nb01_ex1_tests"]}
    tests = json.loads((out / "results.json").read_text(encoding="utf-8"))["results"][0]["tests"]
    assert [t["grade_id"] for t in tests if not t["passed"]] == ["nb01_ex1_tests"]

    inside = Path(sys.prefix) / "private-solutions"  # the kernel's own Python: bound into every sandbox
    from autograder.sandbox import visible_to_kernels

    assert visible_to_kernels(inside) and not visible_to_kernels(private)
