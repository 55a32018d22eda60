"""A notebook graded in a warm kernel gets the same outputs and the same points as in a cold one.

Three students of the sample class are graded twice, with ``--kernels cold`` and ``--kernels warm``, on the
notebooks whose outputs depend most on what a shared parent could carry over: 01 (random
tensors, seeded and not) and 05 (Keras layer and model names from Keras's global name
counters, seeded weights and training). Every output of every code cell must be the same
once what truly varies between any two runs is masked (nbval's sanitizer for the course,
``tests/nbval_sanitize.cfg``, and how stdout and stderr were cut into messages), and every graded
cell must get the same points.
"""

from __future__ import annotations

import configparser
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from autograder.pipeline import grade_class
from autograder.settings import ASSIGNMENT_ID, REPO_ROOT, SAMPLE_CLASS_DIR
from tests.course import source_numbered

pytestmark = pytest.mark.notebook
NOTEBOOKS = [source_numbered(n).stem for n in ("01", "05")]
STUDENTS = ("s2026001", "s2026002", "s2026003")


def sanitizer():
    config = configparser.ConfigParser()
    config.read(REPO_ROOT / "tests" / "nbval_sanitize.cfg")
    rules = [(re.compile(config[s]["regex"]), config[s]["replace"]) for s in config.sections()]

    def sanitize(text: str) -> str:
        for pattern, replacement in rules:
            text = pattern.sub(replacement, text)
        return text

    return sanitize


def outputs(out: Path, student: str, notebook: str) -> list[list[str]]:
    """Each code cell's outputs as text (streams, results, error names and messages), in order."""
    sanitize = sanitizer()
    graded = nbformat.read(out / "autograded" / student / ASSIGNMENT_ID / f"{notebook}.ipynb", as_version=4)
    cells = []
    for cell in graded.cells:
        if cell.cell_type != "code":
            continue
        # how stdout and stderr are cut into messages, and interleaved, depends on timing: each is joined
        streams = {name: "".join(o.text for o in cell.outputs if o.output_type == "stream" and o.name == name)
                   for name in ("stdout", "stderr")}
        texts = [f"{name}: {text}" for name, text in streams.items() if text]
        for output in cell.outputs:
            if output.output_type == "stream":
                continue
            if output.output_type == "error":
                texts.append(f"error: {output.ename}: {output.evalue}")
            else:
                texts.append(f"{output.output_type}: {output.get('data', {}).get('text/plain', '')}")
        cells.append([sanitize(t) for t in texts])
    return cells


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    klass = tmp_path_factory.mktemp("class")
    for student in STUDENTS:  # a perfect hand-in, a partial one, and one saved by Colab (the whole class: CI time)
        shutil.copytree(SAMPLE_CLASS_DIR / student, klass / student)
    runs = {}
    for kernels in ("cold", "warm"):
        out = tmp_path_factory.mktemp(kernels) / "out"
        run = grade_class(klass, out, jobs=2, notebooks=NOTEBOOKS, quiet=True, warm=kernels == "warm")
        runs[kernels] = (out, {(r.student_id, r.notebook): r for r in run.results})
    return runs


def test_the_warm_run_really_used_warm_kernels_and_the_cold_run_cold_ones(both) -> None:
    _, cold = both["cold"]
    _, warm = both["warm"]
    graded = [key for key, r in cold.items() if "cells_s" in r.timings]
    assert len(graded) >= 5
    assert {cold[k].timings["warm_kernel"] for k in graded} == {0.0}
    assert {warm[k].timings["warm_kernel"] for k in graded} == {1.0}


def test_every_graded_cell_gets_the_same_points_and_status(both) -> None:
    _, cold = both["cold"]
    _, warm = both["warm"]
    assert cold.keys() == warm.keys()
    for key in cold:
        assert (warm[key].status, warm[key].message) == (cold[key].status, cold[key].message), key
        assert [(t.grade_id, t.points, t.passed, t.error) for t in warm[key].tests] == \
            [(t.grade_id, t.points, t.passed, t.error) for t in cold[key].tests], key


def test_every_output_is_the_same_as_in_a_cold_kernel(both) -> None:
    cold_out, cold = both["cold"]
    warm_out, _ = both["warm"]
    compared = 0
    for student, notebook in sorted(k for k, r in cold.items() if "cells_s" in r.timings):
        stem = Path(notebook).stem
        expected, got = outputs(cold_out, student, stem), outputs(warm_out, student, stem)
        assert len(got) == len(expected), (student, notebook)
        for index, (a, b) in enumerate(zip(expected, got, strict=True)):
            assert b == a, f"{student}/{notebook}, code cell {index}: cold {a!r}, warm {b!r}"
            compared += len(a)
    assert compared > 100  # layer names, seeded values, shapes: the notebooks print a lot
