"""Collect stage: turn what the instructor downloaded into one Submission per student and notebook.

Two layouts are understood, in a directory or a ``.zip``:

* ``STUDENT_ID/NOTEBOOK.ipynb`` (any depth below the student's folder);
* an LMS export whose *file names* carry the student id, matched by a regular expression
  with a ``student_id`` group (nbgrader's ``zip_collect`` works the same way), e.g.
  ``kimminsu_12345_01_tensors.ipynb``.

File names are forgiving: ``Copy of 01_tensors (1).ipynb`` and ``01_Tensors.ipynb`` are
both notebook 01. Every student gets a Submission for every notebook asked for; a
notebook not handed in has ``path=None`` and is graded as missing.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .model import Submission

DEFAULT_FLAT_PATTERN = r"^(?P<student_id>[^_\s/]+)[_\s]"
IGNORED_PARTS = {"__MACOSX", ".ipynb_checkpoints", ".DS_Store", "__pycache__"}
MAX_FILE_BYTES = 200 * 1024 * 1024  # a notebook larger than this is not unpacked from a zip
MAX_ZIP_BYTES = 4 * 1024 * 1024 * 1024

_COPY_PREFIX = re.compile(r"^(copy of |사본 - |복사본 )+", re.IGNORECASE)
_COPY_SUFFIX = re.compile(r"(\s*\(\d+\)|[ _-]copy(\s*\d+)?|-checkpoint)+$", re.IGNORECASE)


class CollectError(ValueError):
    """The submissions cannot be read at all (not a folder, not a zip, no student found)."""


@dataclass
class Collection:
    submissions: list[Submission]
    extra_files: list[str] = field(default_factory=list)  # handed in but not a course notebook
    not_on_roster: list[str] = field(default_factory=list)  # ids that handed in but are not enrolled (with a roster)

    @property
    def students(self) -> list[str]:
        return sorted({s.student_id for s in self.submissions})


def canonical_notebook(file_name: str, notebooks: list[str]) -> str | None:
    """The course notebook a file name stands for, or None.

    Colab's "Copy of", download suffixes like " (1)", letter case, spaces for
    underscores and LMS prefixes around the name are all tolerated.
    """
    stem = PurePosixPath(file_name).name
    for ext in (".ipynb", ".json", ".txt"):
        if stem.lower().endswith(ext):
            stem = stem[: -len(ext)]
    stem = _COPY_SUFFIX.sub("", _COPY_PREFIX.sub("", stem.strip())).strip()
    key = re.sub(r"[\s\-]+", "_", stem.lower())
    stems = {Path(n).stem.lower(): n for n in notebooks}
    if key in stems:
        return stems[key]
    inside = [name for s, name in stems.items() if s in key]
    if len(inside) == 1:
        return inside[0]
    numbered = [name for s, name in stems.items() if key[:3] == s[:3] and s[:2].isdigit()]
    return numbered[0] if len(numbered) == 1 else None


def _safe_extract(archive: Path, target: Path) -> list[str]:
    """Unpack a zip without following its paths out of ``target``; return what was skipped."""
    skipped: list[str] = []
    total = 0
    try:
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                name = PurePosixPath(info.filename)
                if info.is_dir():
                    continue
                if name.is_absolute() or ".." in name.parts or (info.external_attr >> 16) & 0o170000 == 0o120000:
                    skipped.append(f"{info.filename} (unsafe path in zip, skipped)")
                    continue
                if info.file_size > MAX_FILE_BYTES or total + info.file_size > MAX_ZIP_BYTES:
                    skipped.append(f"{info.filename} (too large: {info.file_size} bytes, skipped)")
                    continue
                total += info.file_size
                out = target.joinpath(*name.parts)
                out.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(out, "wb") as dst:
                    shutil.copyfileobj(src, dst)
    except zipfile.BadZipFile as error:
        raise CollectError(f"{archive} is not a readable zip file ({error}); download it again from the LMS") from None
    return skipped


def _files_below(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and not (IGNORED_PARTS & set(p.relative_to(root).parts)))


def _student_of(relative: PurePosixPath, pattern: re.Pattern[str] | None) -> str | None:
    """Student folder name, or the id the LMS pattern finds in the file's path."""
    if pattern is not None:
        match = pattern.search(str(relative))
        return match.group("student_id") if match else None
    if len(relative.parts) > 1:
        return relative.parts[0]
    match = re.search(DEFAULT_FLAT_PATTERN, relative.name)
    return match.group("student_id") if match else None


def collect(submissions: Path, notebooks: list[str], unpack_dir: Path,
            student_pattern: str | None = None, course_notebooks: list[str] | None = None,
            roster: list[str] | None = None) -> Collection:
    """Find every student's file for every notebook in ``notebooks``.

    ``unpack_dir`` receives the contents of a zip; ``student_pattern`` (a regex with a
    ``student_id`` group, searched in each file's path relative to ``submissions``)
    overrides the folder-per-student layout. ``course_notebooks`` (default: ``notebooks``)
    are all the course's notebooks: a file for one of them that is not being graded now
    is neither an extra file nor lost, and its student is still listed (as missing the
    notebooks graded now, if they handed none of them in). Every id on ``roster`` is a
    student, whether or not anything of theirs is found.
    """
    course = course_notebooks or notebooks
    pattern = re.compile(student_pattern) if student_pattern else None
    if pattern is not None and "student_id" not in pattern.groupindex:
        raise CollectError(f"the pattern {student_pattern!r} has no (?P<student_id>...) group")
    extra: list[str] = []
    if submissions.is_file() and zipfile.is_zipfile(submissions):
        shutil.rmtree(unpack_dir, ignore_errors=True)
        unpack_dir.mkdir(parents=True)
        extra += _safe_extract(submissions, unpack_dir)
        root = unpack_dir
    elif submissions.is_dir():
        root = submissions
    else:
        raise CollectError(f"{submissions} is neither a folder of submissions nor a .zip file")

    found: dict[tuple[str, str], list[tuple[Path, str]]] = {}
    students_seen: set[str] = set()
    for path in _files_below(root):
        relative = PurePosixPath(path.relative_to(root).as_posix())
        student = _student_of(relative, pattern)
        notebook = canonical_notebook(relative.name, course)
        if student is None or notebook is None:
            extra.append(str(relative))
            continue
        students_seen.add(student)
        if notebook in notebooks:
            found.setdefault((student, notebook), []).append((path, relative.name))

    students = sorted(students_seen | set(roster or ()))
    if not students:
        raise CollectError(
            f"no course notebook found in {submissions}: expected STUDENT_ID/NN_name.ipynb folders "
            "or file names matching --student-pattern"
        )
    result = []
    for student in students:
        for notebook in notebooks:
            result.append(_choose(student, notebook, found.get((student, notebook), [])))
    unknown = sorted(students_seen - set(roster)) if roster is not None else []
    return Collection(result, extra, unknown)


def _choose(student: str, notebook: str, files: list[tuple[Path, str]]) -> Submission:
    """One file per student and notebook: the exactly named one, else the newest."""
    if not files:
        return Submission(student, notebook, None)
    files = sorted(files, key=lambda f: (f[1] == notebook, f[0].stat().st_mtime), reverse=True)
    path, name = files[0]
    notes = []
    if name != notebook:
        notes.append(f"file named '{name}' graded as {notebook}")
    if len(files) > 1:
        ignored = ", ".join(f"'{n}'" for _, n in files[1:])
        notes.append(f"{len(files)} files for {notebook}: graded '{name}', ignored {ignored}")
    return Submission(student, notebook, path, name, tuple(notes))
