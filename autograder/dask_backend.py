"""Grading on a Dask cluster: one Dask task per notebook, the coordinator the only writer.

When a class outgrows one machine, the notebooks go to an existing distributed engine,
Dask distributed, instead of this machine's ``WorkerPool``. Nothing else changes: a task
is the same plain ``GradeTask`` (the hand-in's bytes, the source notebook, the limits), a
Dask worker runs the same ``grade_submission`` with the same sandbox, limits and warm
parent (``pipeline._WARM`` is a module global, so each worker process keeps its own), and
what comes back is the same ``Graded``, which the coordinator keeps as it arrives (the
gradebook, results and notebook copies never leave its machine), so a run stays resumable.

Faults are Dask's to handle, bounded: a worker lost mid-task (killed, out of memory, its
machine gone) makes the scheduler run the task again on another worker, up to
``distributed.scheduler.allowed-failures`` times (``ALLOWED_FAILURES`` for the
``LocalCluster`` started here; set the same on a cluster of your own). A notebook whose
grading kills every worker it reaches then ends as ``grader_error`` with a plain message,
and the class goes on. The coordinator keeps no more tasks in flight than the cluster has
threads, so a worker normally holds only the task it runs and a lost worker costs only
that one notebook an attempt.
"""

from __future__ import annotations

import logging
import re
import signal
import socket
import threading
import uuid
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from distributed import Client, Future, LocalCluster, WorkerPlugin, as_completed
from distributed.scheduler import KilledWorker

from . import pipeline
from .execute import become_subreaper
from .model import Status
from .pipeline import Graded, GradeTask, WarmUp, WorkersLost, grade_submission, new_result, worker_died
from .sandbox import HOW_TO_FIX, SandboxUnavailable, bwrap_binary, bwrap_works
from .settings import put_venv_on_path, tf_thread_env, thread_env

ALLOWED_FAILURES = 2  # a notebook may lose this many workers and still be tried again: 3 attempts in all
CONNECT_TIMEOUT_S = 30  # reaching a tcp:// scheduler
WORKERS_TIMEOUT_S = 600  # waiting for the first worker of a tcp:// scheduler that has none yet


@dataclass(frozen=True)
class Scheduler:
    """Where to grade: a ``LocalCluster`` of ``workers`` processes here, or the running scheduler at ``address``."""

    address: str | None
    workers: int = 0


def parse_scheduler(text: str) -> Scheduler:
    """``local:N`` or ``tcp://HOST:PORT`` (``tls://`` too); a clear error for anything else."""
    local = re.fullmatch(r"local:(\d+)", text.strip())
    if local and int(local.group(1)) >= 1:
        return Scheduler(None, int(local.group(1)))
    if re.fullmatch(r"(tcp|tls)://[^\s/]+", text.strip()):
        return Scheduler(text.strip())
    raise ValueError(f"--scheduler {text!r}: expected local:N (a Dask LocalCluster of N worker processes on this "
                     "machine, N >= 1) or tcp://HOST:PORT (the address of a running Dask scheduler)")


class GradingWorker(WorkerPlugin):
    """Makes each Dask worker process a grading worker, as ``pipeline._worker_init`` does for the local pool.

    Run on every worker, including one the nanny starts again after a crash: the venv's
    tools on PATH, orphaned kernel processes re-parented to the worker (a subreaper), and
    Ctrl-C left to the coordinator. On close, the worker's warm parent is shut down.
    """

    name = "autograder-grading-worker"
    idempotent = True

    def setup(self, worker) -> None:
        put_venv_on_path()
        become_subreaper()
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, signal.SIG_IGN)

    def teardown(self, worker) -> None:
        pipeline._WARM.discard()


# A worker's warm parent serves one kernel at a time; a worker started with several threads grades one notebook
# at a time all the same (start workers with --nthreads 1, as README's capacity plan does).
_ONE_AT_A_TIME = threading.Lock()


def grade_on_worker(task: GradeTask) -> Graded:
    """The Dask task: grade one notebook on this worker.

    A worker that cannot start the sandbox the run requires raises instead of grading: the
    coordinator stops the run with that message (``outcome``), rather than storing a wrong
    status for every notebook the worker would have taken. Nothing runs unsandboxed.
    """
    if task.sandbox and not bwrap_works():
        raise SandboxUnavailable(f"the Dask worker on {socket.gethostname()} cannot start the kernel sandbox "
                                 f"({bwrap_binary() or 'no bwrap binary found'}): {HOW_TO_FIX}")
    with _ONE_AT_A_TIME:
        return grade_submission(task)


def warm_up_on_worker(message: WarmUp) -> None:
    """A Dask task pinned to one worker: start its warm parent while the coordinator prepares the course.

    It runs in the worker's task thread, the one that grades: the sandbox dies with the
    thread that started it (bubblewrap's --die-with-parent), and that thread lives as long
    as the worker.
    """
    with _ONE_AT_A_TIME:
        pipeline._WARM.parent_for(message.kernel_env, message.scratch_root, [])


class DaskPool:
    """The coordinator's handle on a Dask cluster; the same four calls as ``pipeline.WorkerPool``."""

    def __init__(self, scheduler: Scheduler) -> None:
        self.scheduler = scheduler
        self.cluster: LocalCluster | None = None
        self.client: Client | None = None
        self.warming: list[Future] = []
        self.same_machine = scheduler.address is None
        try:
            if scheduler.address is None:
                # processes, one thread each: a notebook per worker process at a time, like the local pool
                self.cluster = LocalCluster(n_workers=scheduler.workers, threads_per_worker=1, processes=True,
                                            dashboard_address=None, silence_logs=logging.CRITICAL,
                                            scheduler_kwargs={"allowed_failures": ALLOWED_FAILURES})
                self.client = Client(self.cluster)
                self.label = f"a Dask LocalCluster of {scheduler.workers} worker processes"
            else:
                try:
                    self.client = Client(scheduler.address, timeout=CONNECT_TIMEOUT_S)
                except (OSError, TimeoutError) as error:
                    raise WorkersLost(f"cannot reach the Dask scheduler at {scheduler.address} ({error})") from None
                self.label = f"the Dask cluster at {scheduler.address}"
            self.client.register_plugin(GradingWorker())
        except BaseException:
            self.close()
            raise

    def kernel_env(self) -> dict[str, str]:
        """Threads per kernel: the local pool's rule for a LocalCluster; one on a cluster of one worker per core."""
        if self.scheduler.address is None:
            return tf_thread_env(self.scheduler.workers)
        return thread_env(1)

    def send_to_first(self, message: WarmUp, count: int) -> None:
        """Start the warm parent of up to ``count`` workers now, one pinned task each."""
        for address in list(self.client.nthreads())[:count]:
            self.warming.append(self.client.submit(warm_up_on_worker, message, key=f"warm-up-{uuid.uuid4().hex}",
                                                   workers=[address], allow_other_workers=False, pure=False))

    def results(self, tasks: Iterable[GradeTask]) -> Iterator[tuple[GradeTask, Graded]]:
        """Yield each task with its ``Graded`` as futures complete; never more tasks in flight than threads."""
        self._wait_for_a_worker()
        pending = deque(tasks)
        running: dict[Future, GradeTask] = {}
        finished = as_completed()
        try:
            while pending or running:
                room = max(1, sum(self.client.nthreads().values())) - len(running)
                for _ in range(min(room, len(pending))):
                    task = pending.popleft().load()  # the hand-in's bytes, read now: only in-flight ones are held
                    future = self.client.submit(grade_on_worker, task, key=task_key(task), pure=False)
                    running[future] = task
                    finished.add(future)
                future = next(finished)
                task = running.pop(future)
                graded = outcome(future, task)
                future.release()
                yield task, graded
        finally:
            for future in running:
                future.cancel()

    def _wait_for_a_worker(self) -> None:
        try:
            self.client.wait_for_workers(1, timeout=WORKERS_TIMEOUT_S)
        except TimeoutError:
            raise WorkersLost(f"no Dask worker joined the scheduler at {self.scheduler.address} within "
                              f"{WORKERS_TIMEOUT_S} s (README, 'Scale-out', says how to start them)") from None

    def close(self) -> None:
        for future in self.warming:
            future.release()
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def task_key(task: GradeTask) -> str:
    """A key unique to this attempt at this notebook (a shared scheduler may hold other runs' keys)."""
    sub = task.submission
    return f"grade-{sub.student_id}-{sub.notebook.removesuffix('.ipynb')}-{uuid.uuid4().hex}"


def outcome(future: Future, task: GradeTask) -> Graded:
    """What a finished future means for its notebook: its grade, or why there is none."""
    if future.status == "finished":
        return future.result()
    if future.status != "error":  # cancelled or lost: the scheduler itself went away or was restarted
        raise WorkersLost(f"the Dask scheduler dropped this run's tasks ({future.status}: it was restarted, or the "
                          "connection to it was lost)")
    error = future.exception()
    if isinstance(error, SandboxUnavailable):
        raise WorkersLost(str(error))
    if isinstance(error, KilledWorker):
        return worker_died(task, error.allowed_failures + 1)
    return Graded(new_result(task, Status.GRADER_ERROR, f"the Dask task for this notebook failed "
                             f"({type(error).__name__}: {error}); please report it"))
