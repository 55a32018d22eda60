"""Keep hidden tests out of everything a student reads, whatever student code put into a message.

A failing test's message is shown to the student, and student code decides what an
exception says: it can read the running test cell (IPython keeps every cell's source) and
raise an error that carries it. So the grader does not trust where a message came from; it
removes from every message each piece of hidden-test code it contains, by content.

The pieces are the code of each hidden-test line with its string literals taken out: the
assertion messages written for students ("모양이 다릅니다") may still be shown, while the
code around them, with its inputs and expected values, may not. Whitespace is matched
loosely, so re-indenting or joining lines does not get a piece through.
"""

from __future__ import annotations

import re

from .model import HIDDEN_MARKER

MIN_FRAGMENT_CHARS = 10  # shorter pieces ("x = 1", "])") say nothing about a test and occur everywhere
REDACTED = "[숨겨진 테스트 내용은 표시하지 않습니다]"
_STRING = re.compile(r"""(?:[rbfuRBFU]{0,2})("""
                     r"""'''[\s\S]*?'''|\"\"\"[\s\S]*?\"\"\"|'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*")""")


def hidden_part(test_source: str) -> str:
    return test_source.split(HIDDEN_MARKER, 1)[1] if HIDDEN_MARKER in test_source else ""


def fragments(hidden_sources: list[str]) -> list[str]:
    """The code pieces of hidden tests that must never reach a student."""
    found: set[str] = set()
    for source in hidden_sources:
        for line in source.splitlines():
            for piece in _STRING.split(line)[::2]:  # the code between string literals
                piece = " ".join(piece.split())
                if len(piece) >= MIN_FRAGMENT_CHARS and not piece.startswith("#"):
                    found.add(piece)
    return sorted(found, key=len, reverse=True)


def redactor(hidden_sources: list[str]):
    """A function that removes every hidden-test piece from a text."""
    pieces = fragments(hidden_sources)
    if not pieces:
        return lambda text: text
    pattern = re.compile("|".join(r"\s*".join(re.escape(word) for word in piece.split()) for piece in pieces))
    return lambda text: pattern.sub(REDACTED, text) if text else text
