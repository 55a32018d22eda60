"""Grading on a Dask cluster: the same grades as the process pool, and lost workers lose nothing.

One class is graded twice, nothing mocked: by the process pool, and by a real Dask
``LocalCluster`` of two worker processes (``--scheduler local:2``) whose workers the test
kills meanwhile, with SIGKILL, from outside. The class is the sample class's notebook 01
(notebook 02 would add a minute to CI: one of its hand-ins runs into the cell time limit)
plus two students: ``asleep``, whose notebook sleeps for a while, and ``always``, whose
notebook the test treats as one that kills every worker it reaches (a notebook cannot do
that itself: its kernel is sandboxed and sees no process of the worker's). On the cluster
the test kills the worker grading ``asleep`` once, mid-notebook, and every worker that
holds ``always``'s notebook alone.

Every row of the sample class and ``asleep`` must come out of the cluster exactly as out of
the pool (retried elsewhere, nothing lost), and ``always`` must end as ``grader_error``
with a plain message after three workers died, costing no classmate.
"""

from __future__ import annotations

import csv
import logging
import os
import shutil
import signal
import threading
import time
from pathlib import Path

import pytest
from distributed import Client, LocalCluster, default_client

from autograder import samples
from autograder.dask_backend import ALLOWED_FAILURES, DaskPool, GradingWorker, parse_scheduler
from autograder.model import SourceNotebook, Status, Submission
from autograder.pipeline import GradeTask, grade_class
from autograder.report import CSV_COLUMNS
from autograder.settings import ASSIGNMENT_ID, SAMPLE_CLASS_DIR, Limits
from tests.course import source_numbered

pytestmark = pytest.mark.notebook
NB01 = source_numbered("01").name
LIMITS = Limits(cell_timeout_s=60, notebook_timeout_s=240)
KILLED_ONCE = ("asleep", NB01)
KILLS_EVERY_WORKER = "always"
SLEEP = "import time\ntime.sleep(5)  # long enough to be caught mid-notebook"


class WorkerKiller(threading.Thread):
    """Kills (SIGKILL, from outside) the worker process that runs a given notebook, through grade_class's client.

    ``once``: the first worker that has run that notebook for ``after_s`` (mid-notebook).
    ``always``: every worker that starts running that student's notebook, as a notebook that
    kills its worker would. ``kills`` lists, per kill, the (student, notebook) tasks the
    killed worker held: Dask counts the death against each of them.
    """

    def __init__(self, once: tuple[str, str], always: str, after_s: float) -> None:
        super().__init__(daemon=True)
        self.once, self.always, self.after_s = once, always, after_s
        self.kills: list[set[tuple[str, str]]] = []
        self.done = threading.Event()

    def run(self) -> None:
        started: dict[tuple, float] = {}
        while not self.done.wait(0.2):
            try:
                client = default_client()  # grade_class's own, once its cluster is up
                processing = client.processing()
            except Exception:  # not started yet, or closing
                continue
            for address, keys in processing.items():
                held = {held_task(key): key for key in keys if isinstance(key, tuple) and key[0] == "grade"}
                watched = [task for task in held if task[0] == self.always or
                           (task == self.once and not any(self.once in kill for kill in self.kills))]
                running = executing(client, address) if watched else []
                for task in watched:
                    if held[task] not in running:
                        continue
                    since = started.setdefault(held[task], time.monotonic())
                    if task[0] == self.always or time.monotonic() - since > self.after_s:
                        self.kill(client, address, set(held))
                        break

    def kill(self, client, address: str, held: set[tuple[str, str]]) -> None:
        try:
            pid = client.run(os.getpid, workers=[address])[address]
        except Exception:  # the worker went away meanwhile
            return
        os.kill(pid, signal.SIGKILL)
        self.kills.append(held)
        time.sleep(1)  # let the scheduler see it gone before looking again


def executing(client, address: str) -> list:
    """The keys of the tasks a worker is running now (not those queued on it)."""
    try:
        return client.run(running_keys, workers=[address])[address]
    except Exception:  # the worker went away meanwhile
        return []


def running_keys(dask_worker) -> list:
    return [ts.key for ts in dask_worker.state.executing]


def held_task(key: tuple) -> tuple[str, str]:
    """(student, notebook file) of a grading task's key, ``("grade", UNIQUE, STUDENT, NOTEBOOK)``."""
    return key[2], key[3] + ".ipynb"


HEADER = ",".join(CSV_COLUMNS)


def grades_csv(out: Path) -> dict[tuple[str, str], str]:
    """Each row of grades.csv, as the line it is, by (student, notebook)."""
    with open(out / "grades.csv", encoding="utf-8", newline="") as f:
        lines = f.read().splitlines()
    assert lines[0] == HEADER
    return {tuple(next(csv.reader([line]))[:2]): line for line in lines[1:]}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("dask")
    klass = root / "class"
    shutil.copytree(SAMPLE_CLASS_DIR, klass)
    samples.write(samples.with_cell(samples.perfect(NB01), SLEEP), klass / KILLED_ONCE[0] / NB01)
    samples.write(samples.perfect(NB01), klass / KILLS_EVERY_WORKER / NB01)
    same = {"jobs": 2, "notebooks": ["01"], "limits": LIMITS, "quiet": True, "similarity_threshold": None}
    pool = grade_class(klass, root / "pool", **same)
    killer = WorkerKiller(once=KILLED_ONCE, always=KILLS_EVERY_WORKER, after_s=2)
    killer.start()
    try:
        dask = grade_class(klass, root / "dask", **same, scheduler="local:2")
    finally:
        killer.done.set()
        killer.join()
    return {"pool": (pool, root / "pool"), "dask": (dask, root / "dask"), "kills": killer.kills}


def test_the_sample_class_gets_the_same_grades_csv_on_a_local_cluster_as_in_the_process_pool(graded) -> None:
    pool_run, pool_out = graded["pool"]
    dask_run, dask_out = graded["dask"]
    assert "Dask LocalCluster of 2 worker processes" in dask_run.workers
    pool_rows, dask_rows = grades_csv(pool_out), grades_csv(dask_out)
    sample = {key: line for key, line in pool_rows.items() if key[0].startswith("s2026")}
    assert len(sample) == 6
    # every column, every row of the sample class: no column of grades.csv depends on timing
    assert {key: dask_rows.get(key) for key in sample} == sample
    assert (dask_run.graded_now, dask_run.interrupted) == (pool_run.graded_now, False)


def test_a_worker_killed_mid_notebook_loses_nothing(graded) -> None:
    _, pool_out = graded["pool"]
    _, dask_out = graded["dask"]
    assert any(KILLED_ONCE in kill for kill in graded["kills"]), "the test never caught the notebook running"
    key = (KILLED_ONCE[0], "01_tensors")
    assert grades_csv(dask_out)[key] == grades_csv(pool_out)[key]
    assert ",10,10,ok," in grades_csv(dask_out)[key]  # graded again elsewhere, in full
    assert len(list((dask_out / "results").glob("*/*.json"))) == len(grades_csv(dask_out)) == 8


def test_a_notebook_that_kills_every_worker_it_reaches_ends_as_grader_error_alone(graded) -> None:
    _, pool_out = graded["pool"]
    _, dask_out = graded["dask"]
    attempts = ALLOWED_FAILURES + 1
    assert sum(any(student == KILLS_EVERY_WORKER for student, _ in kill) for kill in graded["kills"]) == attempts
    row = next(csv.DictReader([HEADER, grades_csv(dask_out)[(KILLS_EVERY_WORKER, "01_tensors")]]))
    assert (row["score"], row["max_score"], row["status"]) == ("0", "10", "grader_error")
    assert f"grading process died {attempts} times" in row["message"]
    assert "no other notebook was affected" in row["message"]
    assert ",10,10,ok," in grades_csv(pool_out)[(KILLS_EVERY_WORKER, "01_tensors")]  # the pool graded it


def test_the_coordinator_keeps_the_hand_ins_and_graded_copies_of_a_cluster_run(graded) -> None:
    _, pool_out = graded["pool"]
    dask_run, dask_out = graded["dask"]

    def copies(out: Path, folder: str) -> set[Path]:
        return {p.relative_to(out) for p in (out / folder).rglob("*.ipynb")}

    assert copies(dask_out, "submitted") == copies(pool_out, "submitted")
    never_graded = Path("autograded", KILLS_EVERY_WORKER, ASSIGNMENT_ID, NB01)
    assert copies(pool_out, "autograded") - copies(dask_out, "autograded") == {never_graded}
    s1 = next(s for s in dask_run.collection.submissions if s.student_id == "s2026001")
    assert (dask_out / "submitted" / "s2026001" / ASSIGNMENT_ID / NB01).read_bytes() == s1.path.read_bytes()
    assert not list(dask_out.rglob("*.tmp"))


def test_a_scheduler_is_local_n_or_an_address() -> None:
    assert parse_scheduler("local:3").workers == 3
    assert parse_scheduler("tcp://grader-head:8786").address == "tcp://grader-head:8786"
    for wrong in ("local:0", "local", "grader-head:8786", "http://grader-head:8786"):
        with pytest.raises(ValueError, match="local:N .* or tcp://HOST:PORT"):
            parse_scheduler(wrong)


def test_a_tcp_scheduler_runs_the_same_tasks_on_workers_made_grading_workers(tmp_path: Path) -> None:
    """A cluster reached by address, as a remote one is: tasks that need no kernel, so no gradebook either."""
    source = SourceNotebook(NB01, [], {})
    handed_in = tmp_path / "broken" / NB01
    handed_in.parent.mkdir()
    handed_in.write_text('{"cells": [', encoding="utf-8")
    tasks = [GradeTask(Submission("absent", NB01, None), source, LIMITS, {}),
             GradeTask(Submission("broken", NB01, handed_in), source, LIMITS, {})]
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=logging.CRITICAL) as cluster, Client(cluster) as client:
        with pytest.warns(UserWarning, match="allowed-failures 3 and worker-saturation 1.1; README"):
            pool = DaskPool(parse_scheduler(cluster.scheduler_address))  # Dask's defaults: the grader says so
        try:
            assert (pool.same_machine, pool.kernel_env()["OMP_NUM_THREADS"]) == (False, "1")
            back = {task.submission.student_id: (task, graded) for task, graded in pool.results(tasks)}
        finally:
            pool.close()
        plugins = client.run(lambda dask_worker: list(dask_worker.plugins))
        assert plugins and all(GradingWorker.name in names for names in plugins.values())
    assert back["absent"][1].result.status is Status.MISSING
    task, graded = back["broken"]
    assert (graded.result.status, graded.notebook) == (Status.INVALID, None)
    assert task.handed_in == handed_in.read_bytes()  # read by the coordinator, sent as bytes
