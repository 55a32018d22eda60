"""Collecting a class: folder per student, LMS downloads, zips, and the names students give files."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from autograder.collect import CollectError, canonical_notebook, collect
from autograder.roster import RosterError, Student, read_roster

NOTEBOOKS = ["01_tensors.ipynb", "02_variables.ipynb", "04_linear_classifier.ipynb"]


@pytest.mark.parametrize("file_name, notebook", [
    ("01_tensors.ipynb", "01_tensors.ipynb"),
    ("Copy of 01_tensors (1).ipynb", "01_tensors.ipynb"),
    ("Copy of Copy of 02_variables.ipynb", "02_variables.ipynb"),
    ("01_Tensors.ipynb", "01_tensors.ipynb"),
    ("01-tensors copy.ipynb", "01_tensors.ipynb"),
    ("사본 - 02_variables.ipynb", "02_variables.ipynb"),
    ("kimminsu_12345_67890_04_linear_classifier.ipynb", "04_linear_classifier.ipynb"),
    ("04_linear.ipynb", "04_linear_classifier.ipynb"),
    ("01_tensors.ipynb.txt", "01_tensors.ipynb"),
    ("notes.txt", None),
    ("homework.ipynb", None),
])
def test_file_names_students_give_are_recognised(file_name: str, notebook: str | None) -> None:
    assert canonical_notebook(file_name, NOTEBOOKS) == notebook


def _touch(path: Path, text: str = "{}") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_folder_per_student_gives_every_student_every_notebook(tmp_path: Path) -> None:
    _touch(tmp_path / "in/alice/01_tensors.ipynb")
    _touch(tmp_path / "in/alice/Copy of 02_variables (1).ipynb")
    _touch(tmp_path / "in/bob/deep/folder/04_linear_classifier.ipynb")
    _touch(tmp_path / "in/bob/.ipynb_checkpoints/01_tensors-checkpoint.ipynb")
    _touch(tmp_path / "in/bob/readme.md")
    got = collect(tmp_path / "in", NOTEBOOKS, tmp_path / "unpacked")
    assert got.students == ["alice", "bob"]
    table = {(s.student_id, s.notebook): s for s in got.submissions}
    assert len(table) == 6
    assert table[("alice", "02_variables.ipynb")].original_name == "Copy of 02_variables (1).ipynb"
    assert table[("alice", "04_linear_classifier.ipynb")].path is None  # missing
    assert table[("bob", "01_tensors.ipynb")].path is None  # a checkpoint is not a hand-in
    assert table[("bob", "04_linear_classifier.ipynb")].path is not None
    assert got.extra_files == ["bob/readme.md"]


def test_two_files_for_one_notebook_grade_the_exact_name_and_say_so(tmp_path: Path) -> None:
    _touch(tmp_path / "in/alice/Copy of 01_tensors.ipynb")
    _touch(tmp_path / "in/alice/01_tensors.ipynb")
    sub = next(s for s in collect(tmp_path / "in", NOTEBOOKS, tmp_path / "u").submissions
               if s.notebook == "01_tensors.ipynb")
    assert sub.original_name == "01_tensors.ipynb"
    assert any("ignored 'Copy of 01_tensors.ipynb'" in n for n in sub.notes)


def test_lms_zip_with_ids_in_file_names_and_a_hostile_entry(tmp_path: Path) -> None:
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("kimminsu_1001_01_tensors.ipynb", "{}")
        zf.writestr("leejiwoo_1002_Copy of 01_tensors (2).ipynb", "{}")
        zf.writestr("leejiwoo_1002_02_variables.ipynb", "{}")
        zf.writestr("../../escape_01_tensors.ipynb", "{}")
        zf.writestr("__MACOSX/._kimminsu_1001_01_tensors.ipynb", "junk")
    got = collect(archive, NOTEBOOKS, tmp_path / "unpacked", student_pattern=r"^(?P<student_id>[a-z]+)_\d+_")
    assert got.students == ["kimminsu", "leejiwoo"]
    handed = {(s.student_id, s.notebook) for s in got.submissions if s.path is not None}
    assert handed == {("kimminsu", "01_tensors.ipynb"), ("leejiwoo", "01_tensors.ipynb"),
                      ("leejiwoo", "02_variables.ipynb")}
    assert not (tmp_path / "escape_01_tensors.ipynb").exists()
    assert any("unsafe path" in f for f in got.extra_files)


def test_flat_folder_uses_the_leading_id_by_default(tmp_path: Path) -> None:
    _touch(tmp_path / "in/20261234_01_tensors.ipynb")
    got = collect(tmp_path / "in", NOTEBOOKS, tmp_path / "u")
    assert got.students == ["20261234"]


@pytest.mark.parametrize("make, message", [
    (lambda p: p / "nothing-here", "neither a folder"),
    (lambda p: _touch(p / "broken.zip", "PK not really"), "neither a folder"),
    (lambda p: (p / "empty").mkdir() or p / "empty", "no course notebook found"),
])
def test_unusable_input_gets_a_clear_error(tmp_path: Path, make, message: str) -> None:
    with pytest.raises(CollectError, match=message):
        collect(make(tmp_path), NOTEBOOKS, tmp_path / "u")


def test_pattern_without_student_group_is_rejected(tmp_path: Path) -> None:
    _touch(tmp_path / "in/a/01_tensors.ipynb")
    with pytest.raises(CollectError, match="student_id"):
        collect(tmp_path / "in", NOTEBOOKS, tmp_path / "u", student_pattern=r"^(\w+)_")


def test_grading_some_notebooks_leaves_the_others_out_quietly_and_keeps_every_student(tmp_path: Path) -> None:
    """``--notebook 01`` over a class that also handed in 02: the 02 files are course notebooks, not
    stray files, and a student who handed in only 02 is still listed, as missing 01."""
    _touch(tmp_path / "in/alice/01_tensors.ipynb")
    _touch(tmp_path / "in/alice/02_variables.ipynb")
    _touch(tmp_path / "in/bob/02_variables.ipynb")
    _touch(tmp_path / "in/bob/notes.txt")
    got = collect(tmp_path / "in", ["01_tensors.ipynb"], tmp_path / "u", course_notebooks=NOTEBOOKS)
    assert got.students == ["alice", "bob"]
    assert {(s.student_id, s.path is not None) for s in got.submissions} == {("alice", True), ("bob", False)}
    assert got.extra_files == ["bob/notes.txt"]


def test_a_roster_from_an_lms_or_a_korean_spreadsheet_is_understood(tmp_path: Path) -> None:
    roster = _touch(tmp_path / "roster.csv",
                    "\ufeff학번,성,이름,이메일\n2026001,김,민수,kim@example.ac.kr\n\n2026002,이,,\n")
    students = read_roster(roster)
    assert list(students) == ["2026001", "2026002"]
    assert students["2026001"] == Student("2026001", "민수", "김", "kim@example.ac.kr")
    assert students["2026002"] == Student("2026002", None, "이", None)
    nbgrader_style = _touch(tmp_path / "nb.csv", "id,first_name,last_name,email\nalice,Alice,Kim,a@x.org\n")
    assert read_roster(nbgrader_style)["alice"].first_name == "Alice"


@pytest.mark.parametrize("content, message", [
    (None, "does not exist"),
    ("", "empty"),
    ("name,email\nKim,k@x.org\n", "no student id column"),
    ("student_id,first_name\n,Minsu\n", "line 2 .* has no student id"),
    ("학번\n2026001\n2026001\n", "'2026001' is on the roster .* twice"),
])
def test_a_roster_that_cannot_be_used_says_what_is_wrong(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "roster.csv"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(RosterError, match=message):
        read_roster(path)


def test_with_a_roster_every_enrolled_student_is_listed_and_strangers_are_named(tmp_path: Path) -> None:
    _touch(tmp_path / "in/alice/01_tensors.ipynb")
    _touch(tmp_path / "in/alcie/02_variables.ipynb")  # a typo in the folder name
    got = collect(tmp_path / "in", NOTEBOOKS, tmp_path / "u", roster=["alice", "bob"])
    assert got.students == ["alcie", "alice", "bob"]
    assert all(s.path is None for s in got.submissions if s.student_id == "bob")  # handed in nothing: missing
    assert got.not_on_roster == ["alcie"]
    assert collect(tmp_path / "in", NOTEBOOKS, tmp_path / "u").not_on_roster == []  # no roster: nobody is a stranger
