"""Plausible wrong answers per exercise; the hidden tests of each notebook must reject them.

One module per notebook (``nb01.py`` …) defines ``WRONG_ANSWERS``: a mapping from the
``grade_id`` of an exercise's solution cell to the wrong answers that replace that cell.
A module may also define ``OTHER_RIGHT_ANSWERS`` (same keys, ``Right`` values): correct answers
written differently from the solution, which the hidden tests must accept.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Wrong:
    """A wrong answer that replaces a whole solution cell.

    ``hardcoded`` marks an answer written to pass the visible self-check only: it must pass
    the visible part of the test cell and still fail the whole cell (the hidden tests).
    """

    why: str
    code: str
    hardcoded: bool = False


@dataclass(frozen=True)
class Right:
    """A correct answer written another way than the solution; the whole test cell must pass."""

    why: str
    code: str
