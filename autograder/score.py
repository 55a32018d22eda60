"""Score stage: points per graded test cell of an executed notebook.

nbgrader's own rule decides (``nbgrader.utils.determine_grade``: an error output means
0, a numeric result gives partial credit, anything else full marks) with one change:
output on stderr does not cost points. TensorFlow and Keras log warnings to stderr, and
nbgrader would grade a correct answer 0 for them.
"""

from __future__ import annotations

import copy
import re

import nbformat
from nbgrader.utils import determine_grade

from .execute import Execution
from .model import HIDDEN_MARKER, TestResult, is_test_cell
from .redact import hidden_part, redactor

_CELL_LINE = re.compile(r"line (\d+)")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _failing_line(traceback: list[str]) -> int | None:
    """The line of the test cell that raised, from IPython's "Cell In[n], line k" frames."""
    frames = [_ANSI.sub("", t) for t in traceback if "Cell In[" in _ANSI.sub("", t)]
    match = _CELL_LINE.search(frames[0].split("\n", 1)[0]) if frames else None
    return int(match.group(1)) if match else None


def score_cell(cell: nbformat.NotebookNode, executed: bool) -> TestResult:
    meta = cell.metadata["nbgrader"]
    max_points = float(meta.get("points", 0))
    if not executed:
        return TestResult(meta["grade_id"], 0.0, max_points, False, False, "not run")
    quiet = copy.deepcopy(cell)
    quiet.outputs = [o for o in quiet.outputs if not (o.output_type == "stream" and o.get("name") == "stderr")]
    points, _ = determine_grade(quiet)
    points = float(points or 0.0)
    errors = [o for o in cell.outputs if o.output_type == "error"]
    message, hidden = "", False
    if errors:
        message = f"{errors[0].ename}: {_ANSI.sub('', errors[0].evalue)}".strip().rstrip(":")
        line = _failing_line(errors[0].get("traceback", []))
        visible_lines = cell.source.split(HIDDEN_MARKER, 1)[0].count("\n") + 1
        hidden = HIDDEN_MARKER in cell.source and line is not None and line > visible_lines
    return TestResult(meta["grade_id"], points, max_points, points >= max_points, True, message[:2000], hidden)


def score(execution: Execution) -> list[TestResult]:
    """One TestResult per graded test cell, in notebook order; none counts from the first sign of tampering on."""
    results = []
    cells = execution.notebook.cells
    redact = redactor([hidden_part(c.source) for c in cells if is_test_cell(c)])
    for index, cell in enumerate(cells):
        if not is_test_cell(cell):
            continue
        result = score_cell(cell, index in execution.executed)
        result.error = redact(result.error)
        if execution.tampered_from is not None and index >= execution.tampered_from:
            result.points, result.passed = 0.0, False
            result.error = "not counted: the notebook changed how tests run (see the status message)"
        results.append(result)
    return results
