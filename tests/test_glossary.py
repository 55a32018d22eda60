"""The notebooks speak with one voice: one Korean term per concept, as listed in GLOSSARY.md."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from autograder.settings import REPO_ROOT
from tests.course import read, source_paths

SOURCES = source_paths()
GLOSSARY = REPO_ROOT / "GLOSSARY.md"
BARE = " (bare)"


def glossary_rows() -> list[dict[str, str]]:
    rows = []
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[2].isdigit():
            rows.append({"korean": cells[0], "english": cells[1], "first": cells[2], "avoid": cells[3]})
    return rows


def rejected_variants() -> dict[str, str]:
    """Each variant the glossary rejects, mapped to the term to use instead."""
    variants = {}
    for row in glossary_rows():
        for variant in filter(None, (v.strip() for v in row["avoid"].split(","))):
            variants[variant.removesuffix(BARE)] = row["korean"]
    return variants


def prose(markdown: str) -> str:
    """Korean prose only: no code spans or blocks, no formulas, no English gloss in parentheses, no links."""
    text = re.sub(r"```.*?```", " ", markdown, flags=re.S)
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"\$\$.*?\$\$|\$[^$]*\$", " ", text, flags=re.S)
    text = re.sub(r"\]\([^)]*\)", "]", text)               # link targets
    text = re.sub(r"\([A-Za-z0-9 ,.:/+*'-]*\)", " ", text)  # (forward pass), (NumPy), (dtype)
    text = re.sub(r"\*[A-Za-z][^*]*\*", " ", text)          # *Deep Learning with Python*
    return text


def variant_pattern(variant: str) -> re.Pattern[str]:
    if variant.isascii():  # an English word: whole words only
        return re.compile(rf"(?<![A-Za-z_.]){re.escape(variant)}(?![A-Za-z_])")
    return re.compile(re.escape(variant))


def test_the_glossary_lists_terms_with_their_first_notebook() -> None:
    rows = glossary_rows()
    assert len(rows) >= 20
    assert len({r["korean"] for r in rows}) == len(rows), "a Korean term is listed twice"
    numbers = {p.name[:2] for p in SOURCES}
    for row in rows:
        assert row["first"] in numbers, f"{row['korean']}: no notebook {row['first']}"
        first = next(p for p in SOURCES if p.name[:2] == row["first"])
        text = "\n".join(c.source for c in read(first).cells if c.cell_type == "markdown")
        assert row["korean"] in text, f"{row['korean']} is said to appear first in {first.name}, but is not there"


def test_prose_rejects_nothing_but_obvious_variants() -> None:
    # The filter itself: glosses and code survive, bare variants do not.
    sample = "넘파이(NumPy) 배열의 자료형(dtype)은 `dtype`으로 읽습니다. NumPy 배열"
    assert not variant_pattern("dtype").search(prose(sample))
    assert variant_pattern("NumPy").search(prose(sample))


@pytest.mark.parametrize("source", SOURCES, ids=[p.stem for p in SOURCES])
def test_notebook_prose_uses_the_glossary_terms(source: Path) -> None:
    found = []
    for index, cell in enumerate(read(source).cells):
        if cell.cell_type != "markdown":
            continue
        text = prose(cell.source)
        for variant, term in rejected_variants().items():
            for match in variant_pattern(variant).finditer(text):
                context = text[max(0, match.start() - 20):match.end() + 20].replace("\n", " ")
                found.append(f"cell {index}: {variant!r} -> use {term!r}  (…{context}…)")
    assert not found, f"{source.name}:\n" + "\n".join(found)
