"""The grading pipeline: collect → normalize → execute → score → record → report.

``grade_submission`` runs the middle stages for one notebook in a worker process: it takes
plain data (the hand-in's bytes, the source notebook, the limits) and returns plain data
(a ``NotebookResult`` and the graded notebook), so the same task runs in a local worker
process or on a Dask cluster (``dask_backend.py``). ``grade_class`` is the coordinator: it
prepares the gradebook, hands tasks to the workers, and keeps each result as it arrives
(the only writer of the gradebook, the result store and the notebook copies), so an
interrupted run keeps every finished grade and a rerun picks up where it stopped.
"""

from __future__ import annotations

import copy
import dataclasses
import io
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from multiprocessing import get_context
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Protocol, TypeVar

import nbformat

from . import report, similarity
from .collect import Collection, collect
from .execute import Execution, become_subreaper, execute
from .guard import SOCKET_NAME, is_grader_cell, protect
from .model import NotebookResult, SourceNotebook, Status, Submission
from .normalize import InvalidNotebook, normalize
from .progress import Progress
from .record import ResultStore, content_key, prepare_course, record_grades, record_students, save_notebooks
from .roster import read_roster
from .sandbox import DEFAULT_SANDBOX_LIMITS, visible_to_kernels
from .sandbox import resolve as resolve_sandbox
from .score import score
from .settings import SOLUTIONS_DIR, Limits, put_venv_on_path, source_notebooks, tf_thread_env
from .warm import WarmParent, WarmUnavailable, Zygote

MAX_ATTEMPTS = 2  # a submission whose worker process itself dies is retried once
IDLE_EXIT_S = 1.0  # an idle worker exits within milliseconds of its pipe closing; a busy one is then sent SIGTERM


@dataclass(frozen=True)
class GradeTask:
    """Everything a worker needs to grade one notebook, as plain data: it may cross to another machine.

    The worker reads no file of the coordinator's and writes none: the hand-in travels as
    bytes (``load`` reads them just before the task is sent, so a class of thousands is
    never held in memory at once), and the graded notebook comes back in ``Graded``.
    """

    submission: Submission
    source: SourceNotebook
    limits: Limits
    kernel_env: dict[str, str]
    command_prefix: tuple[str, ...] = ()
    content_key: str = ""
    sandbox: bool = False  # run the kernel under bubblewrap (see sandbox.py)
    warm: bool = True  # fork sandboxed kernels from a warm parent (see warm.py); only with the sandbox
    scratch_root: str | None = None  # where the scratch folders of this run's kernels are made (None: TMPDIR)
    zygote: str | None = None  # the socket of the warm parent this machine's workers share, if there is one
    handed_in: bytes | None = None  # the file's bytes, once loaded; None when missing or unreadable
    unreadable: str = ""  # why the coordinator could not read the file, if it could not

    def load(self) -> GradeTask:
        """This task with the hand-in's bytes, read now by the coordinator (or why they cannot be read)."""
        if self.submission.path is None or self.handed_in is not None:
            return self
        try:
            return dataclasses.replace(self, handed_in=_read(self.submission.path), unreadable="")
        except InvalidNotebook as error:
            return dataclasses.replace(self, unreadable=str(error))


@dataclass
class Graded:
    """What a worker sends back for one task: the result and the graded notebook (nbformat JSON), if it ran."""

    result: NotebookResult
    notebook: str | None = None


@dataclass
class ClassRun:
    """What ``grade_class`` did: every current result, and how many were graded this time."""

    results: list[NotebookResult]
    graded_now: int
    reused: int
    collection: Collection
    wall_s: float
    outputs: dict[str, Path] = field(default_factory=dict)
    interrupted: bool = False
    sandbox: str = "none"
    similar: similarity.SimilarityReport | None = None  # None when the similarity report was turned off
    workers: str = ""  # what graded the class: local worker processes, or a Dask cluster
    stopped: str = ""  # why the run stopped before the end, when the workers went away (interrupted is set too)


def grade_submission(task: GradeTask) -> Graded:
    """Normalize, execute and score one submission; a fault of the grader becomes a status too."""
    result = new_result(task, Status.OK)
    graded = Graded(result)
    started = time.monotonic()
    try:
        graded.notebook = _grade_into(result, task.load())
    except Exception as error:  # never let one submission stop the class
        result.status = Status.GRADER_ERROR
        result.message = f"the grader failed on this notebook ({type(error).__name__}: {error}); please report it"
        result.notes.append(traceback.format_exc(limit=5))
    result.timings["total_s"] = time.monotonic() - started
    return graded


def new_result(task: GradeTask, status: Status, message: str = "") -> NotebookResult:
    """A result for ``task`` that carries what collection noted and the key a rerun compares."""
    sub = task.submission
    return NotebookResult(sub.student_id, sub.notebook, status, message, notes=list(sub.notes),
                          original_name=sub.original_name, content_key=task.content_key,
                          max_score=task.source.max_score)


def _grade_into(result: NotebookResult, task: GradeTask) -> str | None:
    """Grade ``task`` into ``result``; the graded notebook as JSON text, or None when nothing ran."""
    if task.submission.path is None:
        result.status, result.message = Status.MISSING, "no notebook was handed in"
        return None
    started = time.monotonic()
    try:
        if task.handed_in is None:
            raise InvalidNotebook(task.unreadable or "the file cannot be read")
        normalized = normalize(task.handed_in, task.source)
    except InvalidNotebook as error:
        result.status, result.message = Status.INVALID, str(error)
        return None
    result.notes += normalized.notes
    result.timings["normalize_s"] = time.monotonic() - started
    execution = _execute(task, normalized.notebook, result)
    result.timings["kernel_start_s"] = execution.kernel_start_s
    result.timings["cells_s"] = execution.cells_s
    result.timings["guard_s"] = execution.guard_s
    result.timings["peak_rss_mb"] = execution.peak_memory_bytes / 2**20
    result.timings["peak_pss_mb"] = execution.peak_proportional_bytes / 2**20
    started = time.monotonic()
    result.tests = score(execution)
    result.score = sum(t.points for t in result.tests)
    result.status, result.message = execution.status, execution.message
    if execution.tampered:
        result.status = Status.TAMPERED
        also = f" ({execution.message})" if execution.message else ""
        result.message = ("the notebook changed how the tests run, so tests from then on were not counted: "
                          + "; ".join(execution.tampered[:5]) + also)
    execution.notebook.cells = [c for c in execution.notebook.cells if not is_grader_cell(c)]
    graded = nbformat.writes(execution.notebook)
    result.timings["score_save_s"] = time.monotonic() - started
    return graded if graded.endswith("\n") else graded + "\n"  # as nbformat.write leaves a file


def _execute(task: GradeTask, notebook: nbformat.NotebookNode, result: NotebookResult) -> Execution:
    """Run the notebook in a warm kernel where one can serve, else in a cold one (and say why)."""
    warm = _WARM.parent_for(task.kernel_env, task.scratch_root, result.notes, task.zygote) \
        if task.sandbox and task.warm else None
    if warm is not None:
        try:
            execution = _execute_in(task, copy.deepcopy(notebook), warm.folder, warm)
            result.timings["warm_kernel"] = 1.0
            # what this worker waited for its warm parent, counted once: on the first notebook it served
            result.timings["warm_parent_start_s"] = _WARM.take_start_s()
            return execution
        except WarmUnavailable as error:
            _WARM.discard(failed=True)
            result.notes.append(f"graded in a cold kernel: {error}")
    with tempfile.TemporaryDirectory(prefix="grade-", dir=task.scratch_root) as scratch:
        result.timings["warm_kernel"] = 0.0
        return _execute_in(task, notebook, Path(scratch), None)


def _execute_in(task: GradeTask, notebook: nbformat.NotebookNode, scratch: Path,
                warm: WarmParent | None) -> Execution:
    protect(notebook, str(scratch / "ipc" / SOCKET_NAME))
    return execute(notebook, scratch, task.limits, task.kernel_env, list(task.command_prefix), task.sandbox,
                   warm=warm)


class WarmSlot:
    """The warm parent of this worker process: made on its first sandboxed notebook, kept for the next ones.

    It is the coordinator's shared zygote where the task names one, else one the worker
    starts for itself. A parent that has died, or was made for other kernel settings, is
    replaced; a shared one that failed is not tried again by this worker, which starts its
    own; one that cannot start makes the notebook go to a cold kernel, with a note saying so.
    """

    def __init__(self) -> None:
        self.parent: WarmParent | None = None
        self.failed: set[str] = set()  # shared zygotes that could not serve this worker
        self.counted = False

    def parent_for(self, kernel_env: dict[str, str], scratch_root: str | None, notes: list[str],
                   zygote: str | None = None) -> WarmParent | None:
        if self.parent is not None and (not self.parent.alive() or self.parent.env != kernel_env):
            self.discard(failed=True)
        if self.parent is None and zygote and zygote not in self.failed:
            try:
                self.parent, self.counted = WarmParent.connect(Path(zygote), kernel_env, DEFAULT_SANDBOX_LIMITS), False
            except WarmUnavailable as error:
                self.failed.add(zygote)
                notes.append(f"this worker started its own warm parent: the shared one cannot serve ({error})")
        if self.parent is None:
            try:
                folder = Path(tempfile.mkdtemp(prefix="warm-", dir=scratch_root))
                self.parent, self.counted = WarmParent(folder, kernel_env, DEFAULT_SANDBOX_LIMITS), False
            except (WarmUnavailable, OSError) as error:
                notes.append(f"graded in a cold kernel: {error}")
                return None
        return self.parent

    def take_start_s(self) -> float:
        """The wait for the current parent (its imports), the first time it is asked; 0 after."""
        if self.parent is None or self.counted:
            return 0.0
        self.counted = True
        return self.parent.start_s

    def discard(self, failed: bool = False) -> None:
        if self.parent is not None:
            if failed and self.parent.own is None:
                self.failed.add(str(self.parent.socket_path))
            self.parent.close()
            self.parent = None


_WARM = WarmSlot()
T = TypeVar("T")


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise InvalidNotebook(f"the file cannot be read ({error.strerror})") from None


def _worker_init() -> None:
    """Workers leave Ctrl-C to the coordinator; SIGTERM unwinds so kernels are shut down."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    put_venv_on_path()
    become_subreaper()


@dataclass(frozen=True)
class WarmUp:
    """Sent to a worker before its first task: start the warm parent while the coordinator prepares the course."""

    kernel_env: dict[str, str]
    scratch_root: str | None


def _worker_loop(tasks: Connection) -> None:
    """A worker: grade each task it is sent, one at a time, until the coordinator closes the pipe."""
    _worker_init()
    while True:
        try:
            task = tasks.recv()
        except (EOFError, OSError):  # the coordinator is done: end at once, without tearing down every module
            _WARM.discard()
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)
        if isinstance(task, WarmUp):  # no answer: a parent that fails to start is tried again, and noted, then
            _WARM.parent_for(task.kernel_env, task.scratch_root, [])
            continue
        tasks.send(grade_submission(task))


class WorkersLost(RuntimeError):
    """The workers cannot go on (a Dask scheduler lost, a worker that cannot sandbox): the run stops, grades kept."""


class Workers(Protocol):
    """Where tasks run: this machine's ``WorkerPool``, or a Dask cluster (``dask_backend.DaskPool``)."""

    label: str  # for the summary: what graded the class
    same_machine: bool  # the workers see the coordinator's files (its scratch folder)
    shares_zygote: bool  # the workers can use one warm parent the coordinator starts on this machine

    def kernel_env(self) -> dict[str, str]: ...  # thread settings for the kernels, sized to the workers' machines
    def send_to_first(self, message: WarmUp, count: int) -> None: ...
    def results(self, tasks: list[GradeTask]) -> Iterator[tuple[GradeTask, Graded]]: ...
    def close(self) -> None: ...


def start_workers(jobs: int, scheduler: str | None) -> Workers:
    """``jobs`` local worker processes, or the Dask cluster ``scheduler`` names (``local:N`` or ``tcp://...``)."""
    if scheduler is None:
        return WorkerPool(jobs)
    from .dask_backend import DaskPool, parse_scheduler  # Dask is imported only when it is asked for

    return DaskPool(parse_scheduler(scheduler))


def grade_class(submissions: Path, out: Path, jobs: int, notebooks: list[str] | None = None,
                force: bool = False, limits: Limits | None = None, student_pattern: str | None = None,
                command_prefix: tuple[str, ...] = (), quiet: bool = False,
                solutions_dir: Path = SOLUTIONS_DIR, sandbox: str = "auto", warm: bool = True,
                similarity_threshold: float | None = similarity.SIMILARITY_THRESHOLD,
                scheduler: str | None = None, roster: Path | None = None) -> ClassRun:
    """Grade every submission in ``submissions`` into ``out`` with ``jobs`` parallel kernels.

    ``warm`` forks sandboxed kernels from a warm parent (``warm.py``); it applies only with the
    bwrap sandbox and without a ``command_prefix`` (a wrapper the parent would bypass).
    ``scheduler`` sends the notebooks to a Dask cluster instead (``local:N`` starts one of N
    worker processes here, ``tcp://HOST:PORT`` uses a running one; ``jobs`` is then unused):
    the tasks and the coordinator's part are the same either way. ``roster`` (a CSV, see
    ``roster.py``) lists the enrolled students: each gets every notebook's grade, and their
    names go into the gradebook.
    """
    started = time.monotonic()
    limits = limits or Limits()
    out, submissions = out.resolve(), submissions.resolve()
    sandbox = resolve_sandbox(sandbox)
    put_venv_on_path()
    enrolled = read_roster(roster) if roster is not None else None  # a bad roster stops the run before any work
    sources = course_sources(solutions_dir, sandbox)
    selected = [p for p in sources if not notebooks or any(p.name.startswith(n) or p.stem == n for n in notebooks)]
    if not selected:
        raise ValueError(f"no course notebook matches {notebooks}; choose from {[p.stem for p in sources]}")
    pool = start_workers(jobs, scheduler)  # workers start (and import the grader) while nbgrader builds the gradebook
    scratch_root = tempfile.mkdtemp(prefix="autograder-scratch-")
    task_scratch = scratch_root if pool.same_machine else None  # a remote worker makes its own, in its TMPDIR
    env = pool.kernel_env()
    warm = warm and sandbox == "bwrap" and not command_prefix
    # this machine's workers share one warm parent: TensorFlow is imported once, while they start
    zygote = shared_zygote(Path(scratch_root) / "warm", env) if warm and pool.shares_zygote else None
    try:
        collection = collect(submissions, [p.name for p in selected], out / ".unpacked", student_pattern,
                             [p.name for p in sources], list(enrolled) if enrolled is not None else None)
        if warm and zygote is None:  # the workers' own warm parents import TensorFlow while the course is prepared
            pool.send_to_first(WarmUp(env, task_scratch), sum(s.path is not None for s in collection.submissions))
        course = prepare_course(out, sources)
        if enrolled is not None:
            record_students(out, enrolled.values())
    except BaseException:
        pool.close()
        if zygote is not None:
            zygote.close()
        shutil.rmtree(scratch_root, ignore_errors=True)
        raise
    store = ResultStore(out)
    settings = {"limits": limits.as_dict(), "prefix": list(command_prefix), "sandbox": sandbox}
    source_path = {p.name: p for p in selected}

    tasks, current, reused = [], [], 0
    for sub in collection.submissions:
        try:
            data = _read(sub.path) if sub.path is not None else None
        except InvalidNotebook as error:
            data = str(error).encode()  # the worker reports it; the key still changes when the file does
        key = content_key(data, source_path[sub.notebook], settings)
        previous = store.load(sub.student_id, sub.notebook)
        if previous is not None and previous.content_key == key and not force:
            current.append(previous)
            reused += 1
            continue
        tasks.append(GradeTask(sub, course[sub.notebook], limits, env, tuple(command_prefix), key,
                               sandbox == "bwrap", warm, task_scratch,
                               str(zygote.socket_path) if zygote is not None else None))

    progress = Progress(len(tasks), skipped=reused, stream=io.StringIO() if quiet else sys.stderr)
    interrupted, stopped = False, ""
    in_background(report.chart_library)  # the class report's charts need it at the end: import it now
    # files only, nothing runs: it uses a core that the kernels leave idle, at the lowest priority
    similar_later = None if similarity_threshold is None else in_background(
        similarity.compare_class, collection.submissions, course, similarity_threshold, solutions_dir)
    try:
        tasks.sort(key=lambda t: t.submission.notebook, reverse=True)  # later notebooks run longest: start them first
        with CtrlC():
            for task, graded in _run_pool(tasks, pool):
                keep(out, store, task, graded)
                current.append(graded.result)
                progress.update(f"{graded.result.student_id}/{graded.result.notebook}: "
                                f"{graded.result.status.value}", ok=not graded.result.needs_review)
    except KeyboardInterrupt:
        interrupted = True
    except WorkersLost as error:
        interrupted, stopped = True, str(error)
    finally:
        progress.close()
        pool.close()
        if zygote is not None:
            zygote.close()
        shutil.rmtree(scratch_root, ignore_errors=True)
    similar = None if similar_later is None else similar_later.result()
    outputs = report.write_all(out, current, course, collection, settings, similar)
    return ClassRun(current, len(current) - reused, reused, collection, time.monotonic() - started,
                    outputs, interrupted, sandbox, similar, pool.label, stopped)


def course_sources(solutions_dir: Path, sandbox: str) -> list[Path]:
    """The instructor source notebooks in ``solutions_dir``: this repository's, or a private copy whose
    hidden tests students have not read (``--solutions``). A copy the kernels could read is refused."""
    sources = source_notebooks(solutions_dir)
    if not sources:
        raise ValueError(f"{solutions_dir} holds no course source notebook (NN_name.ipynb, as in solutions/)")
    if sandbox != "none" and visible_to_kernels(solutions_dir):
        raise ValueError(f"{solutions_dir} lies in a folder the sandboxed kernels can read (the system's or the "
                         "Python's), so student code could read its hidden tests: keep it elsewhere, e.g. in your "
                         "home folder")
    return sources


def shared_zygote(folder: Path, env: dict[str, str]) -> Zygote | None:
    """The warm parent this machine's workers share, started now; None if it cannot even be started
    (then each worker tries one of its own, and else grades cold, saying why)."""
    try:
        return Zygote(folder, env, DEFAULT_SANDBOX_LIMITS)
    except (OSError, WarmUnavailable):
        return None


def in_background(function: Callable[..., T], *args) -> Future[T]:
    """``function(*args)`` in a thread of its own at the lowest CPU priority, so that it takes only
    what the kernels leave (Linux gives each thread its own nice value)."""
    later: Future[T] = Future()

    def run() -> None:
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
        except (OSError, AttributeError):
            pass
        try:
            later.set_result(function(*args))
        except BaseException as error:  # handed to whoever asks for the result
            later.set_exception(error)

    threading.Thread(target=run, name=getattr(function, "__name__", "background"), daemon=True).start()
    return later


def keep(out: Path, store: ResultStore, task: GradeTask, graded: Graded) -> None:
    """The coordinator's part for one finished notebook: the copies nbgrader's tools read, the result, the gradebook.

    The result is saved after the notebook copies, so a run killed in between regrades the
    notebook rather than keeping a result without its graded copy.
    """
    sub = task.submission
    save_notebooks(out, sub.student_id, sub.notebook, task.handed_in, graded.notebook)
    store.save(graded.result)
    record_grades(out, graded.result)


def _run_pool(tasks: list[GradeTask], pool: Workers) -> Iterator[tuple[GradeTask, Graded]]:
    """Yield each task with what came back for it, as workers finish (the one place the coordinator waits)."""
    yield from pool.results(tasks)


class CtrlC:
    """Ctrl-C stops the run even when it lands where Python swallows a KeyboardInterrupt.

    A KeyboardInterrupt raised while the interpreter runs a weakref callback or a ``__del__``
    is printed as "Exception ignored" and lost, and the run would go on to the end. The
    handler therefore also sets a flag, which the loop that waits for workers checks at
    least every ``CHECK_EVERY_S``. Outside the main thread the default handling stays.
    """

    CHECK_EVERY_S = 1.0
    pressed = threading.Event()

    def __enter__(self) -> CtrlC:
        CtrlC.pressed.clear()
        try:
            self.previous = signal.signal(signal.SIGINT, self._handle)
        except ValueError:  # not the main thread
            self.previous = None
        return self

    def __exit__(self, *exc) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)

    @staticmethod
    def _handle(signum, frame) -> None:
        CtrlC.pressed.set()
        raise KeyboardInterrupt

    @staticmethod
    def raise_if_pressed() -> None:
        if CtrlC.pressed.is_set():
            raise KeyboardInterrupt


class WorkerPool:
    """``jobs`` long-lived worker processes, each with its own pipe.

    Unlike a ``ProcessPoolExecutor``, where one dead worker breaks the whole pool and every
    task in flight with it, a worker that dies here costs only the task it was running: the
    coordinator sees which worker's process ended, starts a fresh one in its place, and
    retries that task alone. A submission that kills its own grading process (or its
    parent) therefore never turns a classmate's notebook into ``grader_error``.
    """

    same_machine = shares_zygote = True

    def __init__(self, jobs: int) -> None:
        self.context = get_context("spawn")
        self.slots = [self._start() for _ in range(max(1, jobs))]
        self.label = f"{len(self.slots)} worker processes on this machine"

    def _start(self) -> tuple:
        ours, theirs = self.context.Pipe()
        process = self.context.Process(target=_worker_loop, args=(theirs,), daemon=True)
        process.start()
        theirs.close()
        return process, ours

    def kernel_env(self) -> dict[str, str]:
        return tf_thread_env(len(self.slots))

    def replace(self, index: int) -> None:
        _end(self.slots[index])
        self.slots[index] = self._start()

    def send_to_first(self, message: WarmUp, count: int) -> None:
        """Send ``message`` to the first ``count`` workers (those the first tasks go to)."""
        for _, pipe in self.slots[:count]:
            try:
                pipe.send(message)
            except OSError:  # a dead worker is replaced when its first task is sent
                pass

    def results(self, tasks: Iterable[GradeTask]) -> Iterator[tuple[GradeTask, Graded]]:
        """Yield results as workers finish; a worker that dies costs only its own task one attempt."""
        attempts: dict[int, int] = {}
        pending = deque(tasks)
        running: dict[int, GradeTask] = {}  # slot index -> its task
        try:
            while pending or running:
                for index in range(len(self.slots)):
                    if index not in running and pending:
                        task = pending.popleft().load()
                        attempts[id(task.submission)] = attempts.get(id(task.submission), 0) + 1
                        running[index] = task
                        try:
                            self.slots[index][1].send(task)
                        except OSError:  # the idle worker died: it will be replaced below
                            pass
                ready = wait([self.slots[i][1] for i in running] + [self.slots[i][0].sentinel for i in running],
                             timeout=CtrlC.CHECK_EVERY_S)
                CtrlC.raise_if_pressed()
                for index in list(running):
                    process, pipe = self.slots[index]
                    if pipe in ready or process.sentinel in ready:
                        task = running.pop(index)
                        graded = _receive(pipe)
                        if graded is not None:
                            yield task, graded
                            continue
                        self.replace(index)
                        if attempts[id(task.submission)] < MAX_ATTEMPTS:
                            pending.appendleft(task)
                        else:
                            yield task, worker_died(task, MAX_ATTEMPTS)
        except BaseException:
            for process, _ in self.slots:
                process.terminate()
            raise

    def close(self) -> None:
        _end(*self.slots)


def _end(*slots: tuple) -> None:
    """Stop these workers together. An idle worker ends by itself when its pipe closes (a few milliseconds);
    one still busy, or stuck, ends its warm parent and kernels on SIGTERM, all at the same time."""
    for _, pipe in slots:
        pipe.close()
    _join_all(slots, IDLE_EXIT_S)
    for process, _ in slots:
        if process.is_alive():
            process.terminate()
    _join_all(slots, 5.0)
    for process, _ in slots:
        if process.is_alive():
            process.kill()


def _join_all(slots: tuple, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    for process, _ in slots:
        process.join(max(0.0, deadline - time.monotonic()))


def _receive(pipe: Connection) -> Graded | None:
    """What a worker sent back, or None when its process died instead."""
    try:
        if pipe.poll():
            return pipe.recv()
    except (EOFError, OSError):
        pass
    return None


def worker_died(task: GradeTask, times: int) -> Graded:
    """The grade of a notebook whose grading process (not just its kernel) died ``times`` times: none, and why."""
    return Graded(new_result(task, Status.GRADER_ERROR,
                             f"the notebook's grading process died {times} times (the worker process itself, not "
                             "only the notebook's kernel), so it was not graded; no other notebook was affected. "
                             "Look at it by hand."))


def cleanup_unpacked(out: Path) -> None:
    shutil.rmtree(out / ".unpacked", ignore_errors=True)
