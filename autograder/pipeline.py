"""The grading pipeline: collect → normalize → execute → score → record → report.

``grade_submission`` runs the middle stages for one notebook in a worker process and
returns a plain ``NotebookResult``; ``grade_class`` is the coordinator: it prepares the
gradebook, hands submissions to a pool of workers, and records each result as it
arrives (the only writer of the gradebook and the result store), so an interrupted run
keeps every finished grade and a rerun picks up where it stopped.
"""

from __future__ import annotations

import copy
import io
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from multiprocessing import get_context
from multiprocessing.connection import Connection, wait
from pathlib import Path

import nbformat

from . import report, similarity
from .collect import Collection, collect
from .execute import Execution, become_subreaper, execute
from .guard import SOCKET_NAME, is_grader_cell, protect
from .model import NotebookResult, SourceNotebook, Status, Submission
from .normalize import InvalidNotebook, normalize
from .progress import Progress
from .record import ResultStore, content_key, prepare_course, record_grades, save_notebooks
from .sandbox import DEFAULT_SANDBOX_LIMITS
from .sandbox import resolve as resolve_sandbox
from .score import score
from .settings import SOLUTIONS_DIR, Limits, put_venv_on_path, source_notebooks, tf_thread_env
from .warm import WarmParent, WarmUnavailable

MAX_ATTEMPTS = 2  # a submission whose worker process itself dies is retried once


@dataclass(frozen=True)
class GradeTask:
    """Everything a worker needs to grade one notebook; crosses the process boundary."""

    submission: Submission
    source: SourceNotebook
    limits: Limits
    out: Path
    kernel_env: dict[str, str]
    command_prefix: tuple[str, ...] = ()
    content_key: str = ""
    sandbox: bool = False  # run the kernel under bubblewrap (see sandbox.py)
    warm: bool = True  # fork sandboxed kernels from a warm parent (see warm.py); only with the sandbox
    scratch_root: str | None = None  # where the scratch folders of this run's kernels are made


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


def grade_submission(task: GradeTask) -> NotebookResult:
    """Normalize, execute and score one submission; a fault of the grader becomes a status too."""
    sub = task.submission
    result = NotebookResult(sub.student_id, sub.notebook, Status.OK, notes=list(sub.notes),
                            original_name=sub.original_name, content_key=task.content_key,
                            max_score=task.source.max_score)
    started = time.monotonic()
    try:
        _grade_into(result, task)
    except Exception as error:  # never let one submission stop the class
        result.status = Status.GRADER_ERROR
        result.message = f"the grader failed on this notebook ({type(error).__name__}: {error}); please report it"
        result.notes.append(traceback.format_exc(limit=5))
    result.timings["total_s"] = time.monotonic() - started
    return result


def _grade_into(result: NotebookResult, task: GradeTask) -> None:
    sub = task.submission
    if sub.path is None:
        result.status, result.message = Status.MISSING, "no notebook was handed in"
        return
    started = time.monotonic()
    try:
        data = _read(sub.path)
        normalized = normalize(data, task.source)
    except InvalidNotebook as error:
        result.status, result.message = Status.INVALID, str(error)
        save_notebooks(task.out, sub.student_id, sub.notebook, sub.path, None)
        return
    result.notes += normalized.notes
    result.timings["normalize_s"] = time.monotonic() - started
    execution = _execute(task, normalized.notebook, result)
    result.timings["kernel_start_s"] = execution.kernel_start_s
    result.timings["cells_s"] = execution.cells_s
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
    save_notebooks(task.out, sub.student_id, sub.notebook, sub.path, execution.notebook)
    result.timings["score_save_s"] = time.monotonic() - started


def _execute(task: GradeTask, notebook: nbformat.NotebookNode, result: NotebookResult) -> Execution:
    """Run the notebook in a warm kernel where one can serve, else in a cold one (and say why)."""
    warm = _WARM.parent_for(task.kernel_env, task.scratch_root, result.notes) if task.sandbox and task.warm else None
    if warm is not None:
        # the warm parent's start-up, counted once: on the first notebook it serves
        result.timings["warm_parent_start_s"] = _WARM.take_start_s()
        try:
            execution = _execute_in(task, copy.deepcopy(notebook), warm.folder, warm)
            result.timings["warm_kernel"] = 1.0
            return execution
        except WarmUnavailable as error:
            _WARM.discard()
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

    A parent that has died, or was made for other kernel settings, is replaced; one that
    cannot start makes the notebook go to a cold kernel, with a note saying so.
    """

    def __init__(self) -> None:
        self.parent: WarmParent | None = None
        self.unreported_start_s = 0.0

    def parent_for(self, kernel_env: dict[str, str], scratch_root: str | None, notes: list[str]) -> WarmParent | None:
        if self.parent is not None and (not self.parent.alive() or self.parent.env != kernel_env):
            self.discard()
        if self.parent is None:
            try:
                folder = Path(tempfile.mkdtemp(prefix="warm-", dir=scratch_root))
                self.parent = WarmParent(folder, kernel_env, DEFAULT_SANDBOX_LIMITS)
                self.unreported_start_s = self.parent.start_s
            except (WarmUnavailable, OSError) as error:
                notes.append(f"graded in a cold kernel: {error}")
                return None
        return self.parent

    def take_start_s(self) -> float:
        taken, self.unreported_start_s = self.unreported_start_s, 0.0
        return taken

    def discard(self) -> None:
        if self.parent is not None:
            self.parent.close()
            shutil.rmtree(self.parent.folder, ignore_errors=True)
            self.parent = None


_WARM = WarmSlot()


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
    scratch_root: str


def _worker_loop(tasks: Connection) -> None:
    """A worker: grade each task it is sent, one at a time, until the coordinator closes the pipe."""
    _worker_init()
    while True:
        try:
            task = tasks.recv()
        except (EOFError, OSError):
            return
        if isinstance(task, WarmUp):  # no answer: a parent that fails to start is tried again, and noted, then
            _WARM.parent_for(task.kernel_env, task.scratch_root, [])
            continue
        tasks.send(grade_submission(task))


def grade_class(submissions: Path, out: Path, jobs: int, notebooks: list[str] | None = None,
                force: bool = False, limits: Limits | None = None, student_pattern: str | None = None,
                command_prefix: tuple[str, ...] = (), quiet: bool = False,
                solutions_dir: Path = SOLUTIONS_DIR, sandbox: str = "auto", warm: bool = True,
                similarity_threshold: float | None = similarity.SIMILARITY_THRESHOLD) -> ClassRun:
    """Grade every submission in ``submissions`` into ``out`` with ``jobs`` parallel kernels.

    ``warm`` forks sandboxed kernels from a warm parent (``warm.py``); it applies only with the
    bwrap sandbox and without a ``command_prefix`` (a wrapper the parent would bypass).
    """
    started = time.monotonic()
    limits = limits or Limits()
    out, submissions = out.resolve(), submissions.resolve()
    sandbox = resolve_sandbox(sandbox)
    put_venv_on_path()
    sources = source_notebooks(solutions_dir)
    selected = [p for p in sources if not notebooks or any(p.name.startswith(n) or p.stem == n for n in notebooks)]
    if not selected:
        raise ValueError(f"no course notebook matches {notebooks}; choose from {[p.stem for p in sources]}")
    pool = WorkerPool(jobs)  # workers start (and import the grader) while nbgrader builds the gradebook
    scratch_root = tempfile.mkdtemp(prefix="autograder-scratch-")
    env = tf_thread_env(jobs)
    warm = warm and sandbox == "bwrap" and not command_prefix
    try:
        collection = collect(submissions, [p.name for p in selected], out / ".unpacked", student_pattern)
        if warm:  # the warm parents import TensorFlow while nbgrader builds the gradebook, too
            pool.send_to_first(WarmUp(env, scratch_root), sum(s.path is not None for s in collection.submissions))
        course = prepare_course(out, sources)
    except BaseException:
        pool.close()
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
        tasks.append(GradeTask(sub, course[sub.notebook], limits, out, env, tuple(command_prefix), key,
                               sandbox == "bwrap", warm, scratch_root))

    progress = Progress(len(tasks), skipped=reused, stream=io.StringIO() if quiet else sys.stderr)
    interrupted = False
    try:
        tasks.sort(key=lambda t: t.submission.notebook, reverse=True)  # later notebooks run longest: start them first
        with CtrlC():
            for result in _run_pool(tasks, jobs, pool):
                store.save(result)
                record_grades(out, result)
                current.append(result)
                progress.update(f"{result.student_id}/{result.notebook}: {result.status.value}",
                                ok=not result.needs_review)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        progress.close()
        pool.close()
        shutil.rmtree(scratch_root, ignore_errors=True)
    similar = None if similarity_threshold is None else similarity.compare_class(  # files only: nothing runs
        collection.submissions, course, similarity_threshold, solutions_dir)
    outputs = report.write_all(out, current, course, collection, settings, similar)
    return ClassRun(current, len(current) - reused, reused, collection, time.monotonic() - started,
                    outputs, interrupted, sandbox, similar)


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

    def __init__(self, jobs: int) -> None:
        self.context = get_context("spawn")
        self.slots = [self._start() for _ in range(max(1, jobs))]

    def _start(self) -> tuple:
        ours, theirs = self.context.Pipe()
        process = self.context.Process(target=_worker_loop, args=(theirs,), daemon=True)
        process.start()
        theirs.close()
        return process, ours

    def replace(self, index: int) -> None:
        process, pipe = self.slots[index]
        _end(process, pipe)
        self.slots[index] = self._start()

    def send_to_first(self, message: object, count: int) -> None:
        """Send ``message`` to the first ``count`` workers (those the first tasks go to)."""
        for _, pipe in self.slots[:count]:
            try:
                pipe.send(message)
            except OSError:  # a dead worker is replaced when its first task is sent
                pass

    def close(self) -> None:
        for process, pipe in self.slots:
            _end(process, pipe)


def _end(process, pipe: Connection) -> None:
    pipe.close()
    if process.is_alive():
        process.terminate()
        process.join(5)
    if process.is_alive():
        process.kill()


def _run_pool(tasks: list[GradeTask], jobs: int, pool: WorkerPool | None = None) -> Iterator[NotebookResult]:
    """Yield results as workers finish; a worker that dies costs only its own task one attempt."""
    own_pool = pool is None
    pool = pool or WorkerPool(jobs)
    attempts = {id(t): 0 for t in tasks}
    pending = deque(tasks)
    running: dict[int, GradeTask] = {}  # slot index -> its task
    try:
        while pending or running:
            for index in range(len(pool.slots)):
                if index not in running and pending:
                    task = pending.popleft()
                    attempts[id(task)] += 1
                    running[index] = task
                    try:
                        pool.slots[index][1].send(task)
                    except OSError:  # the idle worker died: it will be replaced below
                        pass
            ready = wait([pool.slots[i][1] for i in running] + [pool.slots[i][0].sentinel for i in running],
                         timeout=CtrlC.CHECK_EVERY_S)
            CtrlC.raise_if_pressed()
            for index in list(running):
                process, pipe = pool.slots[index]
                if pipe in ready or process.sentinel in ready:
                    task = running.pop(index)
                    result = _receive(pipe)
                    if result is not None:
                        yield result
                        continue
                    pool.replace(index)
                    if attempts[id(task)] < MAX_ATTEMPTS:
                        pending.appendleft(task)
                    else:
                        yield _worker_crashed(task)
    except BaseException:
        for process, _ in pool.slots:
            process.terminate()
        raise
    finally:
        if own_pool:
            pool.close()


def _receive(pipe: Connection) -> NotebookResult | None:
    """The result a worker sent, or None when its process died instead."""
    try:
        if pipe.poll():
            return pipe.recv()
    except (EOFError, OSError):
        pass
    return None


def _worker_crashed(task: GradeTask) -> NotebookResult:
    sub = task.submission
    return NotebookResult(sub.student_id, sub.notebook, Status.GRADER_ERROR,
                          "the grading process itself died twice on this notebook", max_score=task.source.max_score,
                          original_name=sub.original_name, content_key=task.content_key, notes=list(sub.notes))


def cleanup_unpacked(out: Path) -> None:
    shutil.rmtree(out / ".unpacked", ignore_errors=True)
