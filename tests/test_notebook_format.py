"""Every source notebook follows the course template (CONTRIBUTING.md)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from autograder.settings import REPO_ROOT, colab_url
from tests.course import HIDDEN_MARKER, exercises, is_solution, is_test, nbgrader_meta, read, source_paths, student_path

SOURCES = source_paths()
IDS = [p.stem for p in SOURCES]
HANGUL = re.compile(r"[\uac00-\ud7a3]")
COLAB_LINK = re.compile(r"https://colab\.research\.google\.com/github/[^\s\"')]+")


def test_the_course_has_its_opening_and_six_chapter_notebooks() -> None:
    assert [p.name[:2] for p in SOURCES][:7] == ["00", "01", "02", "03", "04", "05", "06"]


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_header_has_title_goals_and_a_colab_badge_to_the_student_edition(source: Path) -> None:
    for nb in (read(source), read(student_path(source))):
        header = nb.cells[0]
        assert header.cell_type == "markdown" and re.search(r"^# \d\d\.", header.source, re.M)
        assert "학습 목표" in header.source
        assert COLAB_LINK.findall(header.source) == [colab_url(source.name)]


def test_readme_badges_point_at_the_configured_repository() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    for source in SOURCES:
        assert colab_url(source.name) in readme, f"README has no Colab badge for {source.name}"
    for link in COLAB_LINK.findall(readme):
        assert link in {colab_url(p.name) for p in SOURCES}, f"README links to an unknown notebook: {link}"


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_setup_cell_quiets_tensorflow_before_importing_it_and_seeds(source: Path) -> None:
    setup = read(source).cells[1].source
    assert setup.index("TF_CPP_MIN_LOG_LEVEL") < setup.index("import tensorflow")
    assert setup.index("TF_ENABLE_ONEDNN_OPTS") < setup.index("import tensorflow")
    assert "keras.utils.set_random_seed(" in setup


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_exercises_have_solution_test_points_and_unique_ids(source: Path) -> None:
    nb = read(source)
    ids = [nbgrader_meta(c)["grade_id"] for c in nb.cells if nbgrader_meta(c).get("grade_id")]
    assert len(ids) == len(set(ids)), f"duplicated grade_id in {source.name}"
    found = exercises(nb)
    assert len(found) >= 4
    for exercise in found:
        solution, test = nb.cells[exercise.solution_index], nb.cells[exercise.test_index]
        assert "### BEGIN SOLUTION" in solution.source and "### END SOLUTION" in solution.source
        assert nbgrader_meta(test)["points"] > 0 and nbgrader_meta(test)["locked"]
        assert HIDDEN_MARKER in test.source, f"{nbgrader_meta(test)['grade_id']} has no hidden tests"
    assert all(is_solution(c) or not nbgrader_meta(c).get("solution") for c in nb.cells)


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_visible_assertions_say_in_korean_what_was_expected(source: Path) -> None:
    for cell in read(source).cells:
        if not is_test(cell):
            continue
        tree = ast.parse(cell.source.split(HIDDEN_MARKER, 1)[0])
        for node in ast.walk(tree):
            if isinstance(node, ast.Assert):
                message = ast.unparse(node.msg) if node.msg is not None else ""
                assert HANGUL.search(message), (
                    f"{source.name} {nbgrader_meta(cell)['grade_id']}: `{ast.unparse(node)[:80]}` "
                    "needs a Korean message"
                )


@pytest.mark.parametrize("source", SOURCES, ids=IDS)
def test_stored_outputs_are_complete_clean_and_quiet(source: Path) -> None:
    for index, cell in enumerate(read(source).cells):
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        assert cell.execution_count is not None, f"{source.name} cell {index} was never executed"
        for output in cell.outputs:
            assert output.output_type != "error", f"{source.name} cell {index} stores an error"
            assert output.get("name") != "stderr", f"{source.name} cell {index} writes to stderr: {output.text[:200]}"
