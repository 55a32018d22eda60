"""Realistic student submissions, built from the course notebooks.

The bundled sample class (``data/sample_class``), the grader's tests and the benchmark
all use these builders, so that every fixture follows the notebooks when they change.
Each builder starts from the student edition a student would download and changes it
the way students (and Google Colab) do.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from pathlib import Path

import nbformat

from .model import nbgrader_meta
from .settings import NOTEBOOKS_DIR, SOLUTIONS_DIR

SOLUTION_MARKERS = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$\n?", re.M)


def student_edition(name: str, notebooks_dir: Path = NOTEBOOKS_DIR) -> nbformat.NotebookNode:
    return nbformat.read(notebooks_dir / name, as_version=4)


def answers(name: str, solutions_dir: Path = SOLUTIONS_DIR) -> dict[str, str]:
    """grade_id of each solution cell -> the instructor's answer as a student would type it."""
    nb = nbformat.read(solutions_dir / name, as_version=4)
    return {nbgrader_meta(c)["grade_id"]: SOLUTION_MARKERS.sub("", c.source)
            for c in nb.cells if nbgrader_meta(c).get("solution")}


def solution_ids(nb: nbformat.NotebookNode) -> list[str]:
    return [nbgrader_meta(c)["grade_id"] for c in nb.cells if nbgrader_meta(c).get("solution")]


def solved(name: str, which: Callable[[int, str], bool] = lambda i, gid: True) -> nbformat.NotebookNode:
    """The student edition with the exercises chosen by ``which(index, grade_id)`` answered."""
    nb = student_edition(name)
    right = answers(name)
    index = 0
    for cell in nb.cells:
        if nbgrader_meta(cell).get("solution"):
            if which(index, nbgrader_meta(cell)["grade_id"]):
                cell.source = right[nbgrader_meta(cell)["grade_id"]]
            index += 1
    return nb


def perfect(name: str) -> nbformat.NotebookNode:
    return solved(name)


def partial(name: str, answered: int) -> nbformat.NotebookNode:
    """The first ``answered`` exercises answered, the rest left as stubs."""
    return solved(name, lambda i, gid: i < answered)


def blank(name: str) -> nbformat.NotebookNode:
    return student_edition(name)


def saved_by_colab(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """What Colab may hand back: nbgrader metadata gone, Colab's own notebook and cell metadata."""
    nb = copy.deepcopy(nb)
    nb.metadata = {"colab": {"provenance": [], "name": "student copy"}, "kernelspec": {
        "name": "python3", "display_name": "Python 3"}, "language_info": {"name": "python"}, "accelerator": "GPU"}
    for i, cell in enumerate(nb.cells):
        cell.metadata = {"id": f"cell{i:03d}"}
        if cell.cell_type == "code":
            cell.outputs = [{"output_type": "stream", "name": "stdout", "text": "ran in Colab\n"}]
            cell.execution_count = i + 1
    return nb


def tampered(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Every test cell emptied of its assertions, and 100 points claimed for it."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if nbgrader_meta(cell).get("grade"):
            cell.source = "pass  # tests removed"
            cell.metadata["nbgrader"]["points"] = 100
    return nb


def reshuffled(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Cells moved, duplicated, deleted and added the way a messy notebook ends up."""
    nb = copy.deepcopy(nb)
    tests = [i for i, c in enumerate(nb.cells) if nbgrader_meta(c).get("grade")]
    solutions = [i for i, c in enumerate(nb.cells) if nbgrader_meta(c).get("solution")]
    del nb.cells[tests[-1]]  # the last test cell deleted (last first: earlier indices stay valid)
    nb.cells.insert(solutions[1] + 1, copy.deepcopy(nb.cells[solutions[1]]))  # an answer duplicated
    moved = nb.cells.pop(tests[0])  # the first test cell moved above its answer
    nb.cells.insert(solutions[0], moved)
    nb.cells.insert(2, nbformat.v4.new_code_cell("scratch = [i * i for i in range(10)]\nprint(sum(scratch))",
                                                 id="added-scratch"))
    nb.cells.append(nbformat.v4.new_markdown_cell("제 메모: 다시 볼 것", id="added-note"))
    return nb


def chatty_on_stderr(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Correct answers whose functions also write debugging lines to stderr (as logging does)."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if not nbgrader_meta(cell).get("solution"):
            continue
        names = re.findall(r"^def (\w+)\(", cell.source, re.M)
        for name in names:
            cell.source += (f"\n\nimport sys as _sys\n_{name}_quiet = {name}\n\n"
                            f"def {name}(*args, **kwargs):\n"
                            f"    print('debug: {name} called', file=_sys.stderr)\n"
                            f"    return _{name}_quiet(*args, **kwargs)\n")
    return nb


def with_cell(nb: nbformat.NotebookNode, code: str, after_setup: bool = True) -> nbformat.NotebookNode:
    """Insert a code cell right after the setup cell (or at the end)."""
    nb = copy.deepcopy(nb)
    cell = nbformat.v4.new_code_cell(code, id="added-cell")  # a fixed id keeps the sample files reproducible
    if after_setup:
        nb.cells.insert(2, cell)
    else:
        nb.cells.append(cell)
    return nb


def with_megabytes_of_output(nb: nbformat.NotebookNode, megabytes: int = 5) -> nbformat.NotebookNode:
    """A notebook carrying megabytes of stored output, as after printing a huge array."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            text = "0123456789" * (megabytes * 2**20 // 10)
            cell.outputs = [{"output_type": "stream", "name": "stdout", "text": text}]
            break
    return nb


def with_duplicated_grade_cells(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Every graded cell pasted twice: the case that aborts a whole nbgrader batch (issue #1083)."""
    nb = copy.deepcopy(nb)
    cells = []
    for cell in nb.cells:
        cells.append(cell)
        if nbgrader_meta(cell).get("grade"):
            cells.append(copy.deepcopy(cell))
    nb.cells = cells
    return nb


def write(nb: nbformat.NotebookNode, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path
