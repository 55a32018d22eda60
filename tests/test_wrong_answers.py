"""Every exercise's hidden tests reject plausible wrong answers while the solution passes.

For each notebook the solution is run top to bottom in one real kernel. At each exercise
every wrong answer from ``tests/wrong_answers/nbNN.py`` replaces the solution cell: an
answer hard-coded to the visible self-check must pass the visible part of the test cell,
and every wrong answer must fail the whole test cell. Correct answers written another way
(``OTHER_RIGHT_ANSWERS``) must pass it. The real solution is then run again so later
exercises start from the intended state.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from tests.course import Kernel, exercises, read, source_paths, visible_part
from tests.wrong_answers import Right, Wrong

SOURCES = source_paths()


def wrong_answers_for(source: Path) -> dict[str, list[Wrong]]:
    module = importlib.import_module(f"tests.wrong_answers.nb{source.name[:2]}")
    return module.WRONG_ANSWERS


def other_right_answers_for(source: Path) -> dict[str, list[Right]]:
    module = importlib.import_module(f"tests.wrong_answers.nb{source.name[:2]}")
    return getattr(module, "OTHER_RIGHT_ANSWERS", {})


@pytest.mark.parametrize("source", SOURCES, ids=[p.stem for p in SOURCES])
def test_every_exercise_has_a_mistake_and_a_hardcoded_answer(source: Path) -> None:
    listed = wrong_answers_for(source)
    for exercise in exercises(read(source)):
        answers = listed.get(exercise.solution_id, [])
        assert any(not w.hardcoded for w in answers), f"{exercise.solution_id}: no typical mistake listed"
        assert any(w.hardcoded for w in answers), f"{exercise.solution_id}: no answer hard-coded to the visible check"
    unknown = (set(listed) | set(other_right_answers_for(source))) - {e.solution_id for e in exercises(read(source))}
    assert not unknown, f"wrong answers for solution cells that do not exist: {sorted(unknown)}"


@pytest.mark.notebook
@pytest.mark.parametrize("source", SOURCES, ids=[p.stem for p in SOURCES])
def test_hidden_tests_reject_wrong_answers_and_accept_the_solution(source: Path, tmp_path: Path) -> None:
    nb = read(source)
    listed = wrong_answers_for(source)
    also_right = other_right_answers_for(source)
    tests_at = {e.test_index: e for e in exercises(nb)}
    problems: list[str] = []
    kernel = Kernel(tmp_path)
    try:
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            exercise = tests_at.get(index)
            if exercise is not None:
                solution_code = nb.cells[exercise.solution_index].source
                for wrong in listed.get(exercise.solution_id, []):
                    problems += check_wrong_answer(kernel, exercise.solution_id, wrong, cell.source)
                for right in also_right.get(exercise.solution_id, []):
                    error = kernel.run(right.code) or kernel.run(cell.source)
                    if error:
                        problems.append(f"{exercise.solution_id} / {right.why}: a correct answer is rejected ({error})")
                kernel.run(solution_code)
            error = kernel.run(cell.source)
            if error:
                problems.append(f"cell {index} of the solution fails: {error}")
    finally:
        kernel.close()
    assert not problems, "\n".join(problems)


def check_wrong_answer(kernel: Kernel, solution_id: str, wrong: Wrong, test_source: str) -> list[str]:
    label = f"{solution_id} / {wrong.why}"
    error = kernel.run(wrong.code)
    if error:
        return [f"{label}: the wrong answer itself does not run ({error}); it must define what the solution defines"]
    problems = []
    if wrong.hardcoded:
        visible_error = kernel.run(visible_part(test_source))
        if visible_error:
            problems.append(f"{label}: meant to pass the visible check, but it fails it: {visible_error}")
    if kernel.run(test_source) is None:
        problems.append(f"{label}: the test cell accepts this wrong answer")
    return problems
