"""Normalize stage: read a handed-in file and rebuild the notebook that will be graded.

The instructor's version always wins for graded and locked cells: test cells (hidden
tests included) come from the gradebook, never from the submission. What the student
wrote in solution cells, and any cells they added, are kept.

Cells are found in three passes, so that nothing depends on metadata surviving:

1. by nbgrader ``grade_id`` in the cell metadata (the first copy wins; later copies of a
   graded cell are duplicates);
2. by content, for cells whose metadata was dropped (Google Colab may save without it):
   the student edition's text of a locked cell is compared with the submission's cells;
3. by position, for solution cells: the answer is the code cell between the matched
   cells that surround the exercise in the student edition.

The graded notebook follows the student edition's order (a moved test cell still runs
after its answer); cells the student added keep their place after the cell they
followed. A deleted solution cell becomes the unanswered stub, a deleted test cell is
restored.
"""

from __future__ import annotations

import copy
import json
import warnings
from dataclasses import dataclass, field

import nbformat
from rapidfuzz import fuzz

from .model import SourceNotebook

MATCH_THRESHOLD = 80.0  # rapidfuzz ratio (0-100) above which two cells are the same cell
MAX_NOTEBOOK_BYTES = 100 * 1024 * 1024
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


class InvalidNotebook(ValueError):
    """The file cannot be graded as a notebook; the message says why in plain words."""


@dataclass
class Normalized:
    notebook: nbformat.NotebookNode
    notes: list[str] = field(default_factory=list)


def read_notebook(data: bytes) -> nbformat.NotebookNode:
    """Parse a handed-in file, accepting what Jupyter, JupyterLab and Colab write."""
    if not data.strip():
        raise InvalidNotebook("the file is empty")
    if len(data) > MAX_NOTEBOOK_BYTES:
        raise InvalidNotebook(f"the file is {len(data) // 2**20} MiB, larger than any notebook of this course")
    try:
        raw = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidNotebook(f"the file is not a Jupyter notebook (not valid JSON: {error})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("cells", raw.get("worksheets")), list):
        raise InvalidNotebook("the file is JSON but not a Jupyter notebook (it has no list of cells)")
    try:
        with warnings.catch_warnings():  # duplicate cell ids are repaired by nbformat; no need to warn
            warnings.simplefilter("ignore")
            nb = nbformat.reads(json.dumps(raw), as_version=4)
    except Exception as error:  # nbformat raises several types for old or odd files
        raise InvalidNotebook(f"the notebook format cannot be read ({type(error).__name__}: {error})") from None
    for cell in nb.cells:
        if not isinstance(cell.get("source", ""), str):
            cell.source = "".join(cell.source) if isinstance(cell.source, list) else str(cell.source)
    return nb


def _text(cell: dict) -> str:
    return "\n".join(line.rstrip() for line in cell.get("source", "").strip().splitlines())


def _grade_id(cell: dict) -> str | None:
    meta = cell.get("metadata", {}).get("nbgrader") or {}
    return meta.get("grade_id") if isinstance(meta, dict) else None


def match_cells(release: list[dict], submitted: list[dict]) -> dict[int, int]:
    """Map student-edition cell index -> submission cell index (see the module docstring)."""
    matched: dict[int, int] = {}
    taken: set[int] = set()
    wanted = {c["grade_id"]: i for i, c in enumerate(release) if c["grade_id"]}
    for j, cell in enumerate(submitted):  # pass 1: metadata
        i = wanted.get(_grade_id(cell))
        if i is not None and i not in matched and cell["cell_type"] == release[i]["cell_type"]:
            matched[i], taken = j, taken | {j}
    is_answer = [c.get("solution", False) for c in release]
    for i, rel in enumerate(release):  # pass 2: content, for everything but answers
        if i in matched or is_answer[i] or not rel["source"].strip():
            continue
        best, best_score = None, MATCH_THRESHOLD
        for j, cell in enumerate(submitted):
            if j in taken or cell["cell_type"] != rel["cell_type"]:
                continue
            score = fuzz.ratio(_text(rel), _text(cell))
            if score > best_score or (score == best_score and best is not None and abs(j - i) < abs(best - i)):
                best, best_score = j, score
        if best is not None:
            matched[i], taken = best, taken | {best}
    for i, rel in enumerate(release):  # pass 3: position, for answers
        if i in matched or not is_answer[i]:
            continue
        before = max((matched[k] for k in range(i) if k in matched), default=-1)
        after = min((matched[k] for k in range(i + 1, len(release)) if k in matched), default=len(submitted))
        gap = [j for j in range(before + 1, after) if j not in taken and submitted[j]["cell_type"] == rel["cell_type"]]
        if gap:
            best = max(gap, key=lambda j: (fuzz.ratio(_text(rel), _text(submitted[j])), -j))
            matched[i], taken = best, taken | {best}
    return matched


def normalize(data: bytes, source: SourceNotebook) -> Normalized:
    """Build the notebook to execute from a submission's bytes (raises InvalidNotebook)."""
    submitted_nb = read_notebook(data)
    submitted = [dict(c) for c in submitted_nb.cells]
    release = source.release_cells
    matched = match_cells(release, submitted)
    notes: list[str] = []

    by_metadata = sum(1 for i, j in matched.items() if release[i]["grade_id"]
                      and _grade_id(submitted[j]) == release[i]["grade_id"])
    graded_total = sum(1 for i in matched if release[i]["grade_id"])
    if graded_total > by_metadata:
        notes.append(f"{graded_total - by_metadata} graded cells had lost their nbgrader metadata "
                     "(e.g. saved by Colab) and were matched by content and position")

    followers: dict[int, list[int]] = {}  # release index -> added cells that follow it
    owner = -1
    release_of = {j: i for i, j in matched.items()}
    for j in range(len(submitted)):
        if j in release_of:
            owner = release_of[j]
        else:
            followers.setdefault(owner, []).append(j)

    cells: list[nbformat.NotebookNode] = []
    cells += _added_cells(submitted, followers.get(-1, []))
    for i, rel in enumerate(release):
        cells.append(_graded_cell(rel, submitted[matched[i]] if i in matched else None, source, notes))
        cells += _added_cells(submitted, followers.get(i, []))

    duplicates = [j for j in range(len(submitted)) if j not in release_of and _grade_id(submitted[j])
                  in {r["grade_id"] for r in release if r["grade_id"]}]
    if duplicates:
        notes.append(f"{len(duplicates)} duplicated graded cells: only the first copy of each was graded")
    added = sum(len(v) for v in followers.values()) - len(duplicates)
    if added > 0:
        notes.append(f"{added} cells added by the student were run but not graded")

    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    nb.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}}
    return Normalized(nb, notes)


def _added_cells(submitted: list[dict], indices: list[int]) -> list[nbformat.NotebookNode]:
    """Cells the student added, stripped of outputs and of any grading metadata they carry."""
    cells = []
    for j in indices:
        cell = submitted[j]
        if _grade_id(cell) and cell["cell_type"] == "code" and (cell["metadata"]["nbgrader"] or {}).get("grade"):
            continue  # a second copy of a test cell: never run student-edited tests
        cells.append(_fresh_cell(cell["cell_type"], cell.get("source", ""), {}))
    return cells


def _graded_cell(rel: dict, student: dict | None, source: SourceNotebook,
                 notes: list[str]) -> nbformat.NotebookNode:
    """The cell to run in place of student-edition cell ``rel``."""
    grade_id = rel["grade_id"]
    truth = source.restore.get(grade_id) if grade_id else None
    if truth is not None and not truth.nbgrader.get("solution"):
        if student is not None and _text(student) != _text({"source": truth.source}) and \
                _text(student) != _text(rel) and truth.nbgrader.get("grade"):
            notes.append(f"test cell {grade_id} had been edited; the instructor's version was graded")
        return _fresh_cell(truth.cell_type, truth.source, {"nbgrader": copy.deepcopy(truth.nbgrader)})
    if student is None:
        if grade_id:
            notes.append(f"cell {grade_id} was missing and was graded as unanswered")
        metadata = {"nbgrader": copy.deepcopy(truth.nbgrader)} if truth else {}
        return _fresh_cell(rel["cell_type"], rel["source"], metadata)
    metadata = {"nbgrader": copy.deepcopy(truth.nbgrader)} if truth else {}
    return _fresh_cell(rel["cell_type"], student.get("source", ""), metadata)


def _fresh_cell(cell_type: str, text: str, metadata: dict) -> nbformat.NotebookNode:
    if cell_type == "code":
        return nbformat.v4.new_code_cell(text, metadata=metadata)
    if cell_type == "markdown":
        return nbformat.v4.new_markdown_cell(text, metadata=metadata)
    return nbformat.v4.new_raw_cell(text, metadata=metadata)
