"""Generate the student editions in ``notebooks/`` from the instructor sources.

nbgrader does the work (``generate_assignment``: clear solutions, hidden tests and
outputs, lock and checksum the graded cells); this module only maps our flat
``solutions/`` → ``notebooks/`` layout onto the course directory nbgrader expects.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path

from nbgrader.converters import GenerateAssignment
from nbgrader.coursedir import CourseDirectory
from traitlets.config import Config

from .settings import ASSIGNMENT_ID, NOTEBOOKS_DIR, SOLUTIONS_DIR, put_venv_on_path, source_notebooks


class ReleaseError(RuntimeError):
    """nbgrader refused to generate an edition; the message says which notebook and why."""


def nbgrader_config(course_root: Path, db_path: Path) -> Config:
    """nbgrader settings for a course directory rooted at ``course_root``."""
    config = Config()
    config.CourseDirectory.root = str(course_root.resolve())
    config.CourseDirectory.db_url = f"sqlite:///{db_path.resolve()}"
    config.CourseDirectory.course_id = "course"
    return config


def generate_assignment(sources: list[Path], course_root: Path, db_path: Path) -> Path:
    """Run nbgrader's ``generate_assignment`` on ``sources``; return the release folder.

    Besides the student editions this fills the gradebook at ``db_path`` with every
    graded cell as written in the source (hidden tests included), which is what the
    grader restores at grading time.
    """
    source_dir = course_root / "source" / ASSIGNMENT_ID
    source_dir.mkdir(parents=True, exist_ok=True)
    for path in sources:
        shutil.copy2(path, source_dir / path.name)
    put_venv_on_path()
    config = nbgrader_config(course_root, db_path)
    config.CourseDirectory.assignment_id = ASSIGNMENT_ID
    config.GenerateAssignment.force = True
    converter = GenerateAssignment(coursedir=CourseDirectory(config=config), config=config)
    converter.log.setLevel(logging.ERROR)
    try:
        converter.start()
    except Exception as error:  # nbgrader raises bare exceptions with the reason logged
        raise ReleaseError(f"nbgrader could not generate the student editions from {sources}: {error}") from error
    return course_root / "release" / ASSIGNMENT_ID


def release(prefixes: list[str] | None = None, solutions_dir: Path = SOLUTIONS_DIR,
            notebooks_dir: Path = NOTEBOOKS_DIR) -> list[Path]:
    """Regenerate the student editions whose names start with one of ``prefixes`` (all if none)."""
    sources = [p for p in source_notebooks(solutions_dir)
               if not prefixes or any(p.name.startswith(x) for x in prefixes)]
    if not sources:
        raise ReleaseError(f"no source notebook in {solutions_dir} matches {prefixes or 'NN_*.ipynb'}")
    written = []
    with tempfile.TemporaryDirectory(prefix="release-") as tmp:
        released = generate_assignment(sources, Path(tmp), Path(tmp) / "gradebook.db")
        notebooks_dir.mkdir(parents=True, exist_ok=True)
        for path in sources:
            target = notebooks_dir / path.name
            shutil.copyfile(released / path.name, target)
            written.append(target)
    return written
