"""Record stage: the nbgrader gradebook, the graded notebooks, and the resumable result store.

Only the coordinator process calls this module, one result at a time, so the SQLite
gradebook is never written concurrently. ``OUT`` is laid out as an nbgrader course
directory (``source/``, ``release/``, ``submitted/``, ``autograded/``, ``gradebook.db``,
``nbgrader_config.py``) so that ``nbgrader export`` and the formgrader work on it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import warnings
from collections.abc import Iterable
from pathlib import Path

import nbformat
import nbgrader
from nbgrader.api import Gradebook, MissingEntry
from sqlalchemy.exc import SAWarning

from .model import NotebookResult, SourceCell, SourceNotebook, Status, nbgrader_meta, release_cells
from .release import generate_assignment
from .roster import Student
from .settings import ASSIGNMENT_ID

COURSE_ID = "course"
GRADER_VERSION = "1"  # bump when a change to the grader changes grades: forces regrading
COURSE_STAMP = ".course-key"  # in OUT: which sources its gradebook was generated from


def db_url(out: Path) -> str:
    return f"sqlite:///{(out / 'gradebook.db').resolve()}"


def prepare_course(out: Path, sources: list[Path]) -> dict[str, SourceNotebook]:
    """Create (or refresh) the course directory and gradebook in ``out`` from the sources.

    nbgrader's ``generate_assignment`` stores every graded and locked cell of the
    sources (hidden tests included) in the gradebook; the grader restores them from there.
    It runs only when ``out`` was generated from other sources (or never); a new ``out``
    gets a copy of the course generated from the same sources before, kept in
    ``course_cache()`` (a few seconds less per run, and per test that grades).
    """
    out.mkdir(parents=True, exist_ok=True)
    key = course_key(sources)
    released = out / "release" / ASSIGNMENT_ID
    stamp = out / COURSE_STAMP
    up_to_date = (out / "gradebook.db").exists() and released.is_dir() and stamp.exists() and stamp.read_text() == key
    if not up_to_date:
        stamp.unlink(missing_ok=True)
        if (out / "gradebook.db").exists() or not _copy_from_cache(key, out):
            shutil.rmtree(out / "source", ignore_errors=True)
            released = generate_assignment(sources, out, out / "gradebook.db")
            _save_to_cache(key, out)
        stamp.write_text(key)
    (out / "nbgrader_config.py").write_text(
        "# Written by the autograder: lets `nbgrader export` and the formgrader use this folder.\n"
        "c = get_config()  # noqa: F821\n"
        f"c.CourseDirectory.root = {str(out.resolve())!r}\n"
        f"c.CourseDirectory.course_id = {COURSE_ID!r}\n"
        f"c.CourseDirectory.db_url = {db_url(out)!r}\n",
        encoding="utf-8",
    )
    with Gradebook(db_url(out), COURSE_ID) as gb:
        return {path.name: _source_notebook(gb, released / path.name) for path in sources}


def course_key(sources: list[Path]) -> str:
    """Changes whenever a source notebook, the set of sources, nbgrader or the grader changes."""
    digest = hashlib.sha256(f"{COURSE_ID}/{ASSIGNMENT_ID}/{nbgrader.__version__}/{GRADER_VERSION}".encode())
    for path in sources:
        digest.update(path.name.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def course_cache() -> Path:
    """Where generated courses are kept between runs: the grader's own cache, never visible to a kernel."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "autograder" / "courses"


_CACHED = ("source", "release", "gradebook.db")


def _copy_from_cache(key: str, out: Path) -> bool:
    """Fill a new output folder with the course generated earlier from the same sources (nbgrader's
    ``generate_assignment`` takes seconds; a copy of its result is the same thing)."""
    cached = course_cache() / key
    if not all((cached / name).exists() for name in _CACHED):
        return False
    try:
        for name in ("source", "release"):
            shutil.rmtree(out / name, ignore_errors=True)
            shutil.copytree(cached / name, out / name)
        shutil.copyfile(cached / "gradebook.db", out / "gradebook.db")
    except OSError:
        return False
    return True


def _save_to_cache(key: str, out: Path) -> None:
    """Keep a copy of a freshly generated course (gradebook with no student yet); best effort, atomic."""
    target = course_cache() / key
    if target.exists():
        return
    staging = target.with_name(f".{key}.{os.getpid()}")
    try:
        staging.mkdir(parents=True, exist_ok=True)
        os.chmod(staging.parent, 0o700)  # it holds the hidden tests
        for name in ("source", "release"):
            shutil.copytree(out / name, staging / name)
        shutil.copyfile(out / "gradebook.db", staging / "gradebook.db")
        os.rename(staging, target)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)


def _source_notebook(gb: Gradebook, release_path: Path) -> SourceNotebook:
    release_nb = nbformat.read(release_path, as_version=4)
    name = release_path.name
    stored = {c.name: c for c in gb.find_notebook(release_path.stem, ASSIGNMENT_ID).source_cells}
    cells, titles = release_cells(release_nb.cells)
    restore = {}
    for cell in release_nb.cells:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if grade_id and grade_id in stored:
            restore[grade_id] = SourceCell(grade_id, cell.cell_type, stored[grade_id].source,
                                           dict(nbgrader_meta(cell)))
    return SourceNotebook(name, cells, restore, titles)


def content_key(data: bytes | None, source: Path, settings: dict) -> str:
    """Changes whenever the submission, its source notebook, or grading settings change."""
    digest = hashlib.sha256()
    digest.update(data if data is not None else b"<missing>")
    digest.update(source.read_bytes())
    digest.update(json.dumps(settings, sort_keys=True).encode())
    digest.update(GRADER_VERSION.encode())
    return digest.hexdigest()


class ResultStore:
    """One JSON file per student and notebook, written atomically as each grade arrives.

    A rerun skips what is here with an unchanged content key; a killed run loses nothing
    that finished before the kill.
    """

    def __init__(self, out: Path) -> None:
        self.root = out / "results"

    def _path(self, student_id: str, notebook: str) -> Path:
        return self.root / student_id / (Path(notebook).stem + ".json")

    def load(self, student_id: str, notebook: str) -> NotebookResult | None:
        try:
            return NotebookResult.from_json(json.loads(self._path(student_id, notebook).read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError, KeyError):
            return None

    def save(self, result: NotebookResult) -> None:
        text = json.dumps(result.to_json(), ensure_ascii=False, indent=1)
        _write_atomically(self._path(result.student_id, result.notebook), text.encode("utf-8"))

    def all(self) -> list[NotebookResult]:
        found = []
        for path in sorted(self.root.glob("*/*.json")):
            result = self.load(path.parent.name, path.stem + ".ipynb")
            if result is not None:
                found.append(result)
        return found


def record_students(out: Path, students: Iterable[Student]) -> None:
    """Put the roster's students, with their names and e-mail, into the gradebook (formgrader shows them)."""
    with warnings.catch_warnings(), Gradebook(db_url(out), COURSE_ID) as gb:
        warnings.simplefilter("ignore", SAWarning)
        for student in students:
            gb.update_or_create_student(student.student_id, first_name=student.first_name,
                                        last_name=student.last_name, email=student.email)


def record_grades(out: Path, result: NotebookResult) -> None:
    """Write one notebook's scores into the gradebook, as nbgrader's autograde would."""
    with warnings.catch_warnings(), Gradebook(db_url(out), COURSE_ID) as gb:
        warnings.simplefilter("ignore", SAWarning)  # nbgrader's own session use; harmless
        gb.update_or_create_student(result.student_id)
        try:
            gb.find_submission(ASSIGNMENT_ID, result.student_id)
        except MissingEntry:
            gb.add_submission(ASSIGNMENT_ID, result.student_id)
        notebook_id = Path(result.notebook).stem
        earned = {t.grade_id: t.points for t in result.tests}
        submission_nb = gb.find_submission_notebook(notebook_id, ASSIGNMENT_ID, result.student_id)
        for grade in submission_nb.grades:
            grade.auto_score = earned.get(grade.name, 0.0)
            grade.needs_manual_grade = False
        submission_nb.flagged = result.needs_review and result.status is not Status.MISSING
        gb.db.commit()


def save_notebooks(out: Path, student_id: str, notebook: str, submitted: bytes | None, graded: str | None) -> None:
    """Keep the handed-in file and the graded notebook (nbformat JSON) where nbgrader's tools look for them.

    Both arrive as data, the graded one from a worker that may run on another machine;
    each file is replaced atomically, so a run killed meanwhile leaves no half-written copy.
    """
    if submitted is not None:
        _write_atomically(out / "submitted" / student_id / ASSIGNMENT_ID / notebook, submitted)
    if graded is not None:
        _write_atomically(out / "autograded" / student_id / ASSIGNMENT_ID / notebook, graded.encode("utf-8"))


def _write_atomically(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, target)
