"""An interrupted grading run (Ctrl-C or kill) keeps every finished grade; a rerun finishes the rest."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder import samples
from tests.course import source_numbered

pytestmark = pytest.mark.notebook
NB01 = source_numbered("01").name
STUDENTS = ["a1", "a2", "a3", "a4"]


def start_grading(klass: Path, out: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "autograder", "grade", str(klass), "--out", str(out), "--jobs", "1",
               "--notebook", "01"]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def wait_for_results(out: Path, count: int, process: subprocess.Popen, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while len(list((out / "results").glob("*/*.json"))) < count:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "grading made no progress"
        time.sleep(0.2)


@pytest.mark.parametrize("how", ["ctrl-c", "kill"])
def test_interrupted_run_keeps_finished_grades_and_a_rerun_completes(tmp_path: Path, how: str) -> None:
    klass, out = tmp_path / "class", tmp_path / "out"
    for student in STUDENTS:
        samples.write(samples.perfect(NB01), klass / student / NB01)
    process = start_grading(klass, out)
    wait_for_results(out, 1, process)
    if how == "ctrl-c":  # what a terminal sends: SIGINT to the whole foreground process group
        os.killpg(process.pid, signal.SIGINT)
        _, err = process.communicate(timeout=120)
        assert process.returncode == 130, err
        assert "run the same command again" in err
        assert (out / "grades.csv").exists()  # reports are written for what finished
    else:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=60)
    finished = len(list((out / "results").glob("*/*.json")))
    assert 1 <= finished < len(STUDENTS)

    rerun = start_grading(klass, out)
    stdout, stderr = rerun.communicate(timeout=600)
    assert rerun.returncode == 0, stderr
    assert f"{len(STUDENTS) - finished} notebooks graded now, {finished} unchanged and kept" in stdout
    grades = (out / "grades.csv").read_text().splitlines()[1:]
    assert len(grades) == len(STUDENTS) and all(",10,10,ok," in row for row in grades)



def test_idle_workers_end_by_themselves_when_the_run_is_over(tmp_path: Path, monkeypatch) -> None:
    """At the end of a run the coordinator closes the workers' pipes: an idle worker ends its warm parent
    and exits on its own (status 0), rather than being sent SIGTERM and tearing down every module."""
    from autograder import pipeline

    pools = []
    start_workers = pipeline.start_workers
    monkeypatch.setattr(pipeline, "start_workers", lambda *args: pools.append(start_workers(*args)) or pools[-1])
    roster = tmp_path / "roster.csv"  # one enrolled student who handed in nothing: a task that runs no kernel
    roster.write_text("student_id\nnobody\n", encoding="utf-8")
    (tmp_path / "class").mkdir()
    run = pipeline.grade_class(tmp_path / "class", tmp_path / "out", 1, notebooks=["01"], quiet=True, roster=roster)
    assert [r.status.value for r in run.results] == ["missing"]
    assert [process.exitcode for process, _ in pools[0].slots] == [0]
