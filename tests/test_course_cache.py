"""nbgrader's generate_assignment runs once per set of sources, not once per grading run.

A new output folder gets a copy of the course generated earlier from the same sources;
a rerun into the same folder reuses its own; any change to a source generates again.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from autograder import record
from autograder.record import prepare_course
from tests.course import source_numbered


@pytest.fixture
def generations(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[Path]:
    """Count nbgrader's generate_assignment calls; the cache lives in this test's folder."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    calls: list[Path] = []
    real = record.generate_assignment

    def counted(sources, course_root, db_path):
        calls.append(course_root)
        return real(sources, course_root, db_path)

    monkeypatch.setattr(record, "generate_assignment", counted)
    return calls


def test_a_new_output_folder_gets_the_course_generated_before_from_the_same_sources(
        tmp_path: Path, generations: list[Path]) -> None:
    sources = [source_numbered("01"), source_numbered("02")]
    first = prepare_course(tmp_path / "out1", sources)
    second = prepare_course(tmp_path / "out2", sources)
    again = prepare_course(tmp_path / "out1", sources)  # a rerun into the same folder
    assert generations == [tmp_path / "out1"]
    assert first == second == again  # every cell, hidden tests included, as nbgrader stored them
    assert (tmp_path / "out2" / "gradebook.db").stat().st_size > 0
    assert sorted(p.name for p in (tmp_path / "out2" / "release" / "ch03").iterdir()) == [s.name for s in sources]


def test_a_changed_source_is_generated_again(tmp_path: Path, generations: list[Path]) -> None:
    source = tmp_path / "solutions" / source_numbered("01").name
    source.parent.mkdir()
    shutil.copy(source_numbered("01"), source)
    before = prepare_course(tmp_path / "out", [source])
    source.write_text(source.read_text(encoding="utf-8").replace("tf.constant", "tf.constant ", 1), encoding="utf-8")
    after = prepare_course(tmp_path / "out", [source])
    assert generations == [tmp_path / "out", tmp_path / "out"]
    assert before != after
