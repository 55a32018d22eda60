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
and the class goes on. Dask counts a lost worker against every task the worker held, so a
worker is sent only the notebook it runs (``worker-saturation`` 1.0): the others wait at
the scheduler, and a lost worker costs only its own notebook an attempt. The coordinator
keeps a little over twice as many tasks in flight as the cluster has threads (enough for
Dask to hold the waiting ones at the scheduler), so a class of thousands is never all in
memory at once.
"""

from __future__ import annotations

import concurrent.futures
import logging
import re
import signal
import socket
import threading
import uuid
import warnings
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import dask
from distributed import Client, Future, LocalCluster, WorkerPlugin, as_completed
from distributed.scheduler import KilledWorker

from . import pipeline
from .execute import become_subreaper
from .model import Status
from .pipeline import Graded, GradeTask, WarmUp, WorkersLost, grade_submission, new_result, worker_died
from .sandbox import HOW_TO_FIX, SandboxUnavailable, bwrap_binary, bwrap_works
from .settings import put_venv_on_path, tf_thread_env, thread_env

ALLOWED_FAILURES = 2  # a notebook may lose this many workers and still be tried again: 3 attempts in all
# The scheduler settings the grader relies on (README, "Scale-out"): bounded retries, and each worker sent only the
# notebook it runs (queued tasks wait at the scheduler, where a worker's death does not count against them).
SCHEDULER_SETTINGS = {"distributed.scheduler.allowed-failures": ALLOWED_FAILURES,
                      "distributed.scheduler.worker-saturation": 1.0}
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
    """The coordinator's handle on a Dask cluster; the same four calls as ``pipeline.WorkerPool``.

    A ``LocalCluster`` starts in the background (its workers import Dask and the grader for
    seconds), while the coordinator collects the hand-ins and builds the gradebook, as the
    local pool's workers do; a ``tcp://`` scheduler is reached at once, so that a wrong
    address is reported before anything else is done.
    """

    shares_zygote = False  # each Dask worker starts its own warm parent

    def __init__(self, scheduler: Scheduler) -> None:
        self.scheduler = scheduler
        self.cluster: LocalCluster | None = None
        self.warming: list[Future] = []
        self.same_machine = scheduler.address is None
        self._ready: concurrent.futures.Future[Client] = concurrent.futures.Future()
        if scheduler.address is None:
            self.label = f"a Dask LocalCluster of {scheduler.workers} worker processes"
            threading.Thread(target=self._start, name="autograder-dask-start", daemon=True).start()
        else:
            self.label = f"the Dask cluster at {scheduler.address}"
            self._start()
            self._ready.result()  # raises WorkersLost for an address nobody answers at

    def _start(self) -> None:
        client = None
        try:
            if self.scheduler.address is None:
                # processes, one thread each: a notebook per worker process at a time, like the local pool
                with dask.config.set(SCHEDULER_SETTINGS):
                    self.cluster = LocalCluster(n_workers=self.scheduler.workers, threads_per_worker=1,
                                                processes=True, dashboard_address=None, silence_logs=logging.CRITICAL)
                client = Client(self.cluster)
            else:
                try:
                    client = Client(self.scheduler.address, timeout=CONNECT_TIMEOUT_S)
                except (OSError, TimeoutError) as error:
                    raise WorkersLost(f"cannot reach the Dask scheduler at {self.scheduler.address} ({error})") \
                        from None
                _check_settings(client, self.scheduler.address)
            client.register_plugin(GradingWorker())
            self._ready.set_result(client)
        except BaseException as error:
            if client is not None:
                client.close()
            if self.cluster is not None:
                self.cluster.close()
            self._ready.set_exception(error)

    @property
    def client(self) -> Client:
        """The client, once the cluster is up (waits for a LocalCluster still starting)."""
        return self._ready.result()

    def kernel_env(self) -> dict[str, str]:
        """Threads per kernel: the local pool's rule for a LocalCluster; one on a cluster of one worker per core."""
        if self.scheduler.address is None:
            return tf_thread_env(self.scheduler.workers)
        return thread_env(1)

    def send_to_first(self, message: WarmUp, count: int) -> None:
        """Start the warm parent of up to ``count`` workers, one pinned task each, as soon as the cluster is up."""
        self._ready.add_done_callback(lambda ready: self._warm_up(ready, message, count))

    def _warm_up(self, ready: concurrent.futures.Future[Client], message: WarmUp, count: int) -> None:
        if ready.exception() is not None:
            return  # the run reports why when it asks for the client
        client = ready.result()
        try:
            for address in list(client.nthreads())[:count]:
                self.warming.append(client.submit(warm_up_on_worker, message, key=f"warm-up-{uuid.uuid4().hex}",
                                                  workers=[address], allow_other_workers=False, pure=False))
        except Exception:  # closed meanwhile (Ctrl-C while the gradebook was being built): nothing to warm
            pass

    def results(self, tasks: Iterable[GradeTask]) -> Iterator[tuple[GradeTask, Graded]]:
        """Yield each task with its ``Graded`` as futures complete; about twice as many tasks in flight as threads."""
        self._wait_for_a_worker()
        pending = deque(tasks)
        running: dict[Future, GradeTask] = {}
        finished = as_completed()
        try:
            while pending or running:
                self._restore_local_workers()
                # more than twice the threads, sent together: Dask then keeps the waiting ones at the scheduler
                # ("queued"), rather than on a worker where its death would count against them
                room = 2 * sum(self.client.nthreads().values()) + 2 - len(running)
                batch = [pending.popleft().load() for _ in range(min(room, len(pending)))]  # bytes read now
                if batch:
                    futures = self.client.map(grade_on_worker, batch, key=[task_key(t) for t in batch], pure=False)
                    for future, task in zip(futures, batch, strict=True):
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

    def _restore_local_workers(self) -> None:
        """Bring a LocalCluster back to its N workers when a nanny gave up on one.

        A nanny starts its worker again when it dies, but gives up, and leaves the cluster,
        when the worker dies while still starting (a notebook that kills its worker at once
        can do that): the cluster is asked for its N workers again, which starts only those
        missing.
        """
        if self.cluster is not None and len(self.cluster.workers) < self.scheduler.workers:
            self.cluster.scale(self.scheduler.workers)

    def _wait_for_a_worker(self) -> None:
        try:
            self.client.wait_for_workers(1, timeout=WORKERS_TIMEOUT_S)
        except TimeoutError:
            raise WorkersLost(f"no Dask worker joined the scheduler at {self.scheduler.address} within "
                              f"{WORKERS_TIMEOUT_S} s (README, 'Scale-out', says how to start them)") from None

    def close(self) -> None:
        try:
            client = self._ready.result()
        except BaseException:  # it never started, and _start closed what it had made
            return
        for future in self.warming:
            future.release()
        client.close()
        if self.cluster is not None:
            self.cluster.close()


def _check_settings(client: Client, address: str) -> None:
    """Warn when a scheduler of one's own lacks ``SCHEDULER_SETTINGS``: grading works, but less safely."""
    failures, saturation = client.run_on_scheduler(
        lambda dask_scheduler: (dask_scheduler.allowed_failures, dask_scheduler.WORKER_SATURATION))
    if (failures, saturation) != tuple(SCHEDULER_SETTINGS.values()):
        warnings.warn(f"the Dask scheduler at {address} has allowed-failures {failures} and worker-saturation "
                      f"{saturation}; README ('Scale-out') asks for {ALLOWED_FAILURES} and 1.0, so that a worker holds "
                      "only the notebook it runs and its death counts against that notebook alone", stacklevel=2)


def task_key(task: GradeTask) -> tuple[str, str, str, str]:
    """A key unique to this attempt at this notebook (a shared scheduler may hold other runs' keys).

    A tuple whose first item is "grade": Dask groups tasks by it, and queues a large group at
    the scheduler; string keys would be grouped by the student id when it is a plain word.
    """
    sub = task.submission
    return ("grade", uuid.uuid4().hex, sub.student_id, sub.notebook.removesuffix(".ipynb"))


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
