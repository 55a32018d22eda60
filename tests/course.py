"""Helpers the tests share: the course's notebooks and a real kernel to run their cells in."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import nbformat
from jupyter_client.manager import KernelManager

from autograder.model import HIDDEN_MARKER, is_test_cell, nbgrader_meta  # noqa: F401 (re-exported)
from autograder.settings import NOTEBOOKS_DIR, SOLUTIONS_DIR, source_notebooks


def source_paths() -> list[Path]:
    return source_notebooks(SOLUTIONS_DIR)


def source_numbered(number: str) -> Path:
    """The instructor source of notebook ``number`` ("01" -> solutions/01_tensors.ipynb)."""
    return next(p for p in source_paths() if p.name.startswith(f"{number}_"))


def student_path(source: Path) -> Path:
    return NOTEBOOKS_DIR / source.name


def is_solution(cell: dict) -> bool:
    return bool(nbgrader_meta(cell).get("solution"))


def is_test(cell: dict) -> bool:
    return is_test_cell(cell)


def visible_part(test_source: str) -> str:
    """The part of a test cell the student sees: everything before the hidden tests."""
    return test_source.split(HIDDEN_MARKER, 1)[0]


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


@dataclass
class Exercise:
    solution_id: str
    solution_index: int
    test_index: int


def exercises(nb: nbformat.NotebookNode) -> list[Exercise]:
    """Each solution cell with the first graded test cell after it."""
    found = []
    for i, cell in enumerate(nb.cells):
        if is_solution(cell):
            test = next(j for j in range(i + 1, len(nb.cells)) if is_test(nb.cells[j]))
            found.append(Exercise(nbgrader_meta(cell)["grade_id"], i, test))
    return found


class Kernel:
    """A real IPython kernel in ``cwd``; ``run`` returns the error a cell raised, or None."""

    def __init__(self, cwd: Path) -> None:
        env = dict(os.environ, MPLBACKEND="agg")
        self.manager = KernelManager(kernel_name="python3")
        self.manager.start_kernel(cwd=str(cwd), env=env)
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=120)

    def run(self, code: str, timeout: float = 300) -> str | None:
        errors: list[str] = []

        def on_output(msg: dict) -> None:
            if msg["header"]["msg_type"] == "error":
                errors.append(f"{msg['content']['ename']}: {msg['content']['evalue']}")

        reply = self.client.execute_interactive(code, output_hook=on_output, timeout=timeout, allow_stdin=False)
        if reply["content"]["status"] == "error":
            return errors[0] if errors else f"{reply['content'].get('ename')}: {reply['content'].get('evalue')}"
        return None

    def close(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)
