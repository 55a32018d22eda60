"""The plain records that pass between the grading stages.

collect → normalize → execute → score → record → report: every stage takes and returns
these dataclasses (or dicts of them), so any stage can be run, tested or replaced alone
and a result can cross a process boundary as JSON.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path

HIDDEN_MARKER = "### BEGIN HIDDEN TESTS"  # what follows it in a test cell is hidden from students


def nbgrader_meta(cell: dict) -> dict:
    """A cell's nbgrader metadata, or {} when it has none (or a broken one)."""
    meta = cell.get("metadata", {}).get("nbgrader")
    return meta if isinstance(meta, dict) else {}


def is_test_cell(cell: dict) -> bool:
    """A graded code cell that holds tests (not an autograded answer)."""
    meta = nbgrader_meta(cell)
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


class Status(str, Enum):
    """Why a notebook got the grade it got; ``OK`` means it ran to the end within every limit."""

    OK = "ok"
    MISSING = "missing"  # no file for this notebook was handed in
    INVALID = "invalid_notebook"  # empty, not JSON, or not a notebook
    TIMEOUT = "timeout"  # a cell or the whole notebook ran past its time limit
    MEMORY = "memory"  # the kernel used more memory than allowed and was stopped
    KERNEL_DIED = "kernel_died"  # the kernel exited or crashed on its own
    GRADER_ERROR = "grader_error"  # a fault of the grader itself; the message says what
    TAMPERED = "tampered"  # student code changed how tests run; tests from then on score 0 (see guard.py)


@dataclass(frozen=True)
class Submission:
    """One handed-in file, or the absence of one (``path`` is None when missing)."""

    student_id: str
    notebook: str  # the canonical file name, as in notebooks/ (e.g. "01_tensors.ipynb")
    path: Path | None
    original_name: str = ""  # the name the student gave the file (e.g. "Copy of 01_tensors (1).ipynb")
    notes: tuple[str, ...] = ()  # what collection noticed (renamed, duplicates, ...)


@dataclass(frozen=True)
class SourceCell:
    """A graded or locked cell as the instructor wrote it (from the nbgrader gradebook)."""

    grade_id: str
    cell_type: str
    source: str
    nbgrader: dict  # the cell's nbgrader metadata in the student edition (points, checksum, ...)


def release_cells(cells: list[dict]) -> tuple[list[dict], dict[str, str]]:
    """A student edition's cells as the grader keeps them (``SourceNotebook.release_cells``), and the
    heading of the exercise each test cell belongs to (``SourceNotebook.titles``)."""
    kept, titles, heading = [], {}, ""
    for cell in cells:
        meta = nbgrader_meta(cell)
        grade_id = meta.get("grade_id")
        if cell["cell_type"] == "markdown" and cell["source"].lstrip().startswith("#"):
            heading = cell["source"].lstrip().splitlines()[0].lstrip("# ").strip()
        if grade_id and meta.get("grade") and cell["cell_type"] == "code":
            titles[grade_id] = heading
        kept.append({"cell_type": cell["cell_type"], "source": cell["source"], "grade_id": grade_id,
                     "solution": bool(meta.get("solution"))})
    return kept, titles


@dataclass(frozen=True)
class SourceNotebook:
    """What the grader needs to know of one course notebook."""

    name: str
    release_cells: list[dict]  # the student edition's cells: cell_type, source, grade_id (or None)
    restore: dict[str, SourceCell]  # grade_id -> the instructor's version
    titles: dict[str, str] = field(default_factory=dict)  # test grade_id -> the exercise's heading

    @property
    def max_score(self) -> float:
        return sum(float(c.nbgrader.get("points", 0)) for c in self.restore.values()
                   if c.nbgrader.get("grade") and c.cell_type == "code")


@dataclass
class TestResult:
    """The outcome of one graded test cell."""

    grade_id: str
    points: float
    max_points: float
    passed: bool
    executed: bool
    error: str = ""  # "AssertionError: ..." for a failure; empty when passed
    in_hidden_tests: bool = False  # the failing line was in the hidden part of the cell


@dataclass
class NotebookResult:
    """Everything the record and report stages need about one student's notebook."""

    student_id: str
    notebook: str
    status: Status
    message: str = ""
    score: float = 0.0
    max_score: float = 0.0
    tests: list[TestResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # things a human may want to look at
    original_name: str = ""
    content_key: str = ""  # identifies submission + source + limits, for resuming
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def needs_review(self) -> bool:
        return self.status not in (Status.OK, Status.MISSING) or bool(self.notes)

    def to_json(self) -> dict:
        data = asdict(self)
        data["status"] = self.status.value
        return data

    @classmethod
    def from_json(cls, data: dict) -> NotebookResult:
        data = dict(data)
        data["status"] = Status(data["status"])
        data["tests"] = [TestResult(**t) for t in data.get("tests", [])]
        return cls(**data)
