"""The bundled sample class is exactly what data/make_sample_class.py builds from today's notebooks."""

from __future__ import annotations

import runpy
from pathlib import Path

from autograder.settings import REPO_ROOT, SAMPLE_CLASS_DIR


def test_committed_sample_class_is_up_to_date(tmp_path: Path) -> None:
    build = runpy.run_path(str(REPO_ROOT / "data" / "make_sample_class.py"))["build"]
    fresh = {p.relative_to(tmp_path / "class"): p for p in build(tmp_path / "class")}
    committed = {p.relative_to(SAMPLE_CLASS_DIR): p for p in SAMPLE_CLASS_DIR.rglob("*") if p.is_file()}
    assert sorted(fresh) == sorted(committed), "run `.venv/bin/python data/make_sample_class.py` and commit"
    stale = [str(name) for name, path in fresh.items() if path.read_bytes() != committed[name].read_bytes()]
    assert not stale, f"stale sample hand-ins {stale}: run `.venv/bin/python data/make_sample_class.py` and commit"
