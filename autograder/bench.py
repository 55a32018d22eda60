"""Benchmark: this grader against sequential ``nbgrader autograde`` on the same submissions.

``python -m autograder.bench --jobs N`` (``make bench``) builds a class of well-formed
submissions from the course notebooks (``samples``: perfect, partial and blank notebooks
in turn), grades it twice on this machine, in one run:

* (a) the standard nbgrader way, as an instructor does it: a course directory with
  ``source/ch03/`` (the instructor sources), ``nbgrader generate_assignment ch03``,
  ``submitted/STUDENT/ch03/NB.ipynb``, then one ``nbgrader autograde ch03``, which runs
  the notebooks one after the other;
* (b) ``grade_class(..., jobs=N)``.

It prints both wall times and their ratio, where this grader's time goes beyond kernel
start and TensorFlow import, the median TensorFlow import time, and whether the two
graders give the same points to every graded cell. It is a benchmark, not a test: it
reports what it measures and exits 0 unless a grader fails outright.

``--similarity`` times the similarity stage instead (no kernel runs): on the sample class,
and on a fabricated class (100 students x notebooks 01-06 by default) whose answers are
the solutions and the own-words answers of ``samples``, left unanswered, disguised, copied
from a classmate or varied at random.

The functions that run real nbgrader on a folder of submissions and read per-cell
scores out of a gradebook are shared with ``tests/test_nbgrader_equivalence.py``.
"""

from __future__ import annotations

import argparse
import ast
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from . import samples, similarity
from .collect import collect
from .model import nbgrader_meta
from .settings import (
    ASSIGNMENT_ID,
    NOTEBOOKS_DIR,
    QUIET_TF_ENV,
    SAMPLE_CLASS_DIR,
    SIMILARITY_THRESHOLD,
    SOLUTIONS_DIR,
    Limits,
    cpu_count,
    source_notebooks,
)

COURSE_ID = "course"  # the same course id as the grader's gradebook (record.COURSE_ID)
THREAD_VARS = ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS")
_FAILED_STUDENT = re.compile(r"There was an error processing assignment '[^']*' for student '([^']*)'")
_STARTED_STUDENT = re.compile(r"Creating/updating student with ID '([^']*)'")

Scores = dict[tuple[str, str], dict[str, float | None]]  # (student, notebook stem) -> grade_id -> points


# --------------------------------------------------------------------------- nbgrader, the standard way


@dataclass
class NbgraderRun:
    """What one sequential ``nbgrader autograde`` over a class did."""

    course: Path
    returncode: int
    wall_s: float  # `nbgrader autograde ch03` alone, the grading-time command
    generate_s: float  # `nbgrader generate_assignment ch03`, done once at release time
    log: str  # nbgrader's stdout and stderr
    scores: Scores  # from nbgrader's gradebook
    started: list[str] = field(default_factory=list)  # students nbgrader began to grade, in its order
    failed_students: list[str] = field(default_factory=list)  # students nbgrader reported an error for

    def autograded(self, student: str, notebook: str) -> Path:
        return self.course / "autograded" / student / ASSIGNMENT_ID / notebook


def venv_bin() -> Path:
    return Path(sys.executable).parent


def nbgrader_env() -> dict[str, str]:
    """The environment nbgrader (and so its kernels, which inherit it) runs with.

    The grader's kernels get the same TensorFlow quieting (``QUIET_TF_ENV``, plots to
    ``agg``); nbgrader runs one kernel at a time, so TensorFlow keeps its default of
    every core, as it would for an instructor (thread limits a caller set are dropped).
    """
    env = dict(os.environ)
    env.update(QUIET_TF_ENV)
    env["MPLBACKEND"] = "agg"
    for key in THREAD_VARS:
        env.pop(key, None)
    env["PATH"] = str(venv_bin()) + os.pathsep + env.get("PATH", "")  # nbgrader calls `alembic`
    return env


def _nbgrader(course: Path, *args: str, timeout: float | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(venv_bin() / "nbgrader"), *args], cwd=course, env=nbgrader_env(),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)


def nbgrader_course(course: Path, sources: list[Path], cell_timeout_s: float = Limits.cell_timeout_s) -> float:
    """Make ``course`` an nbgrader course directory and generate the assignment; return its seconds.

    ``Execute.timeout`` is raised from nbgrader's 30 s to the grader's cell limit, as an
    instructor of a TensorFlow course would (the first cell imports TensorFlow).
    """
    course.mkdir(parents=True, exist_ok=True)
    (course / "nbgrader_config.py").write_text(
        "c = get_config()  # noqa: F821\n"
        f"c.CourseDirectory.root = {str(course.resolve())!r}\n"
        f"c.CourseDirectory.course_id = {COURSE_ID!r}\n"
        f"c.Execute.timeout = {int(cell_timeout_s)}\n",
        encoding="utf-8",
    )
    source = course / "source" / ASSIGNMENT_ID
    source.mkdir(parents=True, exist_ok=True)
    for path in sources:
        shutil.copy2(path, source / path.name)
    started = time.perf_counter()
    done = _nbgrader(course, "generate_assignment", ASSIGNMENT_ID, "--force")
    if done.returncode != 0:
        raise RuntimeError(f"nbgrader generate_assignment failed:\n{done.stdout[-4000:]}")
    return time.perf_counter() - started


def submit(course: Path, submissions: Path, notebooks: list[str]) -> list[str]:
    """Copy ``submissions/STUDENT/NB.ipynb`` to ``course/submitted/STUDENT/ch03/NB.ipynb``; return the students."""
    students = []
    for folder in sorted(p for p in submissions.iterdir() if p.is_dir()):
        handed_in = [folder / n for n in notebooks if (folder / n).is_file()]
        if not handed_in:
            continue
        target = course / "submitted" / folder.name / ASSIGNMENT_ID
        target.mkdir(parents=True, exist_ok=True)
        for path in handed_in:
            shutil.copyfile(path, target / path.name)
        students.append(folder.name)
    return students


def run_nbgrader(submissions: Path, course: Path, sources: list[Path], timeout: float | None = None) -> NbgraderRun:
    """Grade ``submissions`` (STUDENT/NB.ipynb) with real ``nbgrader autograde``, sequentially, in ``course``."""
    generate_s = nbgrader_course(course, sources)
    submit(course, submissions, [p.name for p in sources])
    started = time.perf_counter()
    done = _nbgrader(course, "autograde", ASSIGNMENT_ID, timeout=timeout)
    wall_s = time.perf_counter() - started
    return NbgraderRun(course, done.returncode, wall_s, generate_s, done.stdout,
                       gradebook_scores(course / "gradebook.db"), _STARTED_STUDENT.findall(done.stdout),
                       sorted(set(_FAILED_STUDENT.findall(done.stdout))))


def gradebook_scores(db: Path, course_id: str = COURSE_ID, assignment: str = ASSIGNMENT_ID) -> Scores:
    """Points of every graded cell of every submitted notebook in an nbgrader gradebook.

    Works on nbgrader's gradebook and on the grader's ``OUT/gradebook.db`` alike. A
    cell that was never scored (no automatic score and no manual one: nbgrader leaves
    such cells for manual grading) has ``None``; nbgrader's own ``Grade.score`` would
    show it as 0.
    """
    scores: Scores = {}
    with Gradebook(f"sqlite:///{db.resolve()}", course_id) as gb:
        for student in gb.students:
            try:
                submission = gb.find_submission(assignment, student.id)
            except MissingEntry:
                continue
            for nb in submission.notebooks:
                scores[(student.id, nb.name)] = {g.name: _points(g) for g in nb.grades}
    return scores


def _points(grade) -> float | None:
    value = grade.manual_score if grade.manual_score is not None else grade.auto_score
    return None if value is None else float(value)


def max_points(db: Path, course_id: str = COURSE_ID, assignment: str = ASSIGNMENT_ID) -> dict[str, dict[str, float]]:
    """notebook stem -> grade_id -> points, as the gradebook has them from the sources."""
    with Gradebook(f"sqlite:///{db.resolve()}", course_id) as gb:
        return {nb.name: {c.name: float(c.max_score) for c in nb.grade_cells}
                for nb in gb.find_assignment(assignment).notebooks}


def compare(ours: Scores, theirs: Scores, pairs: list[tuple[str, str]]) -> tuple[int, list[str]]:
    """How many graded cells of ``pairs`` get the same points from both, and each difference in words."""
    same, differences = 0, []
    for pair in pairs:
        a, b = ours.get(pair, {}), theirs.get(pair, {})
        for grade_id in sorted(set(a) | set(b)):
            if a.get(grade_id) == b.get(grade_id):
                same += 1
            else:
                differences.append(f"{pair[0]}/{pair[1]} {grade_id}: ours {a.get(grade_id)}, "
                                   f"nbgrader {b.get(grade_id)}")
    return same, differences


# --------------------------------------------------------------------------- the benchmark class

KINDS: dict[str, Callable[[str], object]] = {
    "perfect": samples.perfect,
    "partial": lambda name: samples.partial(name, max(1, len(samples.answers(name)) // 2)),
    "blank": samples.blank,
}


def build_class(root: Path, students: int, sources: list[Path]) -> dict[tuple[str, str], str]:
    """``students`` students, each handing in every notebook of ``sources``: perfect / partial / blank in turn."""
    kinds = list(KINDS)
    made = {}
    for i in range(students):
        student = f"s{i + 1:03d}"
        for j, source in enumerate(sources):
            kind = kinds[(i + j) % len(kinds)]
            samples.write(KINDS[kind](source.name), root / student / source.name)
            made[(student, source.stem)] = kind
    return made


def tf_import_times(repeat: int) -> list[float]:
    """Seconds of ``python -c "import tensorflow"`` in the kernels' environment, ``repeat`` times."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import tensorflow"], env=nbgrader_env(), check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return times


def worker_import_s() -> float:
    """Seconds a fresh Python takes to import what a spawned worker imports (autograder.pipeline)."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import autograder.pipeline"], check=True, env=nbgrader_env(),
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


class CoordinatorClock:
    """Wall time of the coordinator's own stages inside ``grade_class``, by wrapping them in this process.

    Workers are spawned processes, so nothing of theirs is touched; each wrapper adds one
    clock read around a call.
    """

    def __init__(self) -> None:
        self.spent: dict[str, list[float]] = {}
        self.arrivals: list[tuple[float, object]] = []  # (perf_counter(), result) as results reach the coordinator
        self.pool_started = 0.0
        self._undo: list[Callable[[], None]] = []

    def _wrap(self, owner, name: str, label: str) -> None:
        original = getattr(owner, name)

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.spent.setdefault(label, []).append(time.perf_counter() - started)

        setattr(owner, name, timed)
        self._undo.append(lambda: setattr(owner, name, original))

    def __enter__(self) -> CoordinatorClock:
        from . import pipeline, report

        self._wrap(pipeline, "prepare_course", "prepare_course")
        self._wrap(pipeline, "collect", "collect")
        self._wrap(pipeline.ResultStore, "save", "result_save")
        self._wrap(pipeline, "record_grades", "gradebook_write")
        self._wrap(report, "write_all", "reports")
        self._wrap(pipeline.similarity, "compare_class", "similarity")
        original_pool = pipeline._run_pool

        def timed_pool(tasks, pool):
            self.pool_started = time.perf_counter()
            for task, graded in original_pool(tasks, pool):
                self.arrivals.append((time.perf_counter(), graded.result))
                yield task, graded
            self.spent["pool"] = [time.perf_counter() - self.pool_started]

        pipeline._run_pool = timed_pool
        self._undo.append(lambda: setattr(pipeline, "_run_pool", original_pool))
        return self

    def __exit__(self, *exc) -> None:
        for undo in reversed(self._undo):
            undo()

    def total(self, label: str) -> float:
        return sum(self.spent.get(label, []))


# --------------------------------------------------------------------------- one run of both graders


@dataclass
class Measurement:
    nbgrader: NbgraderRun
    ours_wall_s: float
    ours_scores: Scores
    ours_results: list
    clock: CoordinatorClock


def measure_once(submissions: Path, work: Path, sources: list[Path], jobs: int, order: str) -> Measurement:
    from .pipeline import grade_class

    def ours():
        with CoordinatorClock() as clock:
            started = time.perf_counter()
            run = grade_class(submissions, work / "ours", jobs, notebooks=[p.stem for p in sources], force=True,
                              quiet=True)
            wall = time.perf_counter() - started
        return run, wall, clock

    if order == "nbgrader-first":
        theirs = run_nbgrader(submissions, work / "nbgrader", sources)
        run, wall, clock = ours()
    else:
        run, wall, clock = ours()
        theirs = run_nbgrader(submissions, work / "nbgrader", sources)
    return Measurement(theirs, wall, gradebook_scores(work / "ours" / "gradebook.db"), run.results, clock)


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _fmt_list(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def _row(label: str, value: str, note: str = "") -> str:
    return f"  {label:<44} {value:>9}" + (f"   {note}" if note else "")


def summary(runs: list[Measurement], jobs: int, tf_times: list[float], worker_import: float,
           made: dict[tuple[str, str], str]) -> list[str]:
    """The printout: wall times, where this grader's time goes, and whether the scores agree."""
    lines: list[str] = []
    say = lines.append
    n = len(made)
    theirs = [m.nbgrader.wall_s for m in runs]
    ours = [m.ours_wall_s for m in runs]
    generate = [m.nbgrader.generate_s for m in runs]
    ratios = [t / o for t, o in zip(theirs, ours, strict=True)]
    ratio = _median(ratios)
    cores = cpu_count()
    kinds = {k: sum(v == k for v in made.values()) for k in KINDS}
    several = len(runs) > 1
    say(f"class: {len({s for s, _ in made})} students x {len({nb for _, nb in made})} notebooks = {n} notebooks "
        f"({', '.join(f'{v} {k}' for k, v in kinds.items())}); {cores} cores; jobs={jobs}; {len(runs)} run(s)"
        f"{'; medians over runs, each run in [ ]' if several else ''}")
    say("")
    say("wall time")
    say(_row("nbgrader autograde ch03 (sequential)", f"{_median(theirs):.1f} s",
             f"[{_fmt_list(theirs)}]; generate_assignment before it (release time, not counted) "
             f"{_median(generate):.1f} s"))
    say(_row(f"grade_class(jobs={jobs})", f"{_median(ours):.1f} s",
             f"[{_fmt_list(ours)}]; counts its own generate_assignment, gradebook and reports"))
    say(_row("ratio nbgrader / ours", f"{ratio:.2f} x",
             f"[{_fmt_list(ratios)}]; target >= 1.8 x: {'met' if ratio >= 1.8 else 'MISSED'}"))
    say(_row("wall per notebook: nbgrader / ours", f"{_median(theirs) / n:.2f} s",
             f"/ {_median(ours) / n:.2f} s"))
    say(_row("TensorFlow import alone (python -c ...)", f"{_median(tf_times):.2f} s",
             f"median of [{_fmt_list(tf_times)}]"))

    timed = [r for m in runs for r in m.ours_results if "kernel_start_s" in r.timings]
    kernel = [r.timings["kernel_start_s"] for r in timed]
    cells = [r.timings["cells_s"] for r in timed]
    total = [r.timings["total_s"] for r in timed]
    in_worker = [r.timings["total_s"] - r.timings["kernel_start_s"] - r.timings["cells_s"] for r in timed]
    say("")
    say(f"our workers: medians over {len(timed)} graded notebooks ({jobs} kernels at a time on {cores} cores)")
    say(_row("total_s (one grade_submission)", f"{_median(total):.2f} s"))
    say(_row("kernel_start_s", f"{_median(kernel):.2f} s"))
    say(_row("cells_s (TensorFlow import included)", f"{_median(cells):.2f} s"))
    say(_row("total - kernel_start - cells", f"{_median(in_worker):.2f} s",
             f"normalize {_median([r.timings.get('normalize_s', 0.0) for r in timed]):.2f} s, score+save "
             f"{_median([r.timings.get('score_save_s', 0.0) for r in timed]):.2f} s, the rest is kernel "
             "shutdown and the scratch folder"))

    walls, excess, prep, coll, reports, pool_excess, first_lag, tail, similar = ([] for _ in range(9))
    saves, writes = [], []
    for m in runs:
        c = m.clock
        work = sum(r.timings.get("total_s", 0.0) for r in m.ours_results)
        walls.append(m.ours_wall_s)
        excess.append(m.ours_wall_s - work / jobs)
        prep.append(c.total("prepare_course"))
        coll.append(c.total("collect"))
        reports.append(c.total("reports"))
        similar.append(c.total("similarity"))
        pool_excess.append(c.total("pool") - work / jobs)
        saves += c.spent.get("result_save", [])
        writes += c.spent.get("gradebook_write", [])
        if c.arrivals:  # the first result back: everything before its own grading is worker start-up
            arrived, first = c.arrivals[0]
            lag = arrived - c.pool_started - first.timings.get("total_s", 0.0)
            first_lag.append(lag)
            tail.append(c.total("pool") * jobs - work - lag * jobs)  # idle core-seconds once all had started
    share = _median(excess) / n
    say("")
    say("coordinator: the grade_class process, and cores left idle")
    say("  With perfect parallelism grade_class would take sum(worker total_s) / jobs. What it takes beyond that")
    say("  is an upper bound on the coordinator's cost: one-off setup, worker start-up, idle cores at the end,")
    say("  and per-result bookkeeping (which mostly overlaps the kernels).")
    say(_row("wall - sum(worker total_s) / jobs", f"{_median(excess):.2f} s", f"= {share:.2f} s per notebook"))
    say(_row("  prepare_course (all sources, gradebook)", f"{_median(prep):.2f} s", "once per run"))
    say(_row("  collect", f"{_median(coll):.2f} s", "once per run"))
    say(_row("  pool beyond sum(total_s) / jobs", f"{_median(pool_excess):.2f} s", "once per run:"))
    say(_row("    worker start (first result's delay)", f"{_median(first_lag):.2f} s",
             f"spawned Pythons importing autograder.pipeline (alone: {worker_import:.2f} s)"))
    say(_row("    idle cores after start-up", f"{_median(tail):.2f} core-s", "the last notebooks of an uneven split"))
    say(_row("  reports (CSV, JSON, feedback, charts)", f"{_median(reports):.2f} s", "once per run"))
    say(_row("  similarity report (reads, never runs)", f"{_median(similar):.2f} s",
             f"once per run: {100 * _median(similar) / _median(walls):.1f}% of the wall time"))
    say(_row("  per result: JSON / gradebook write", f"{_median(saves) * 1000:.0f} ms",
             f"/ {_median(writes) * 1000:.0f} ms (medians of {len(writes)}), while kernels run"))
    per_nb = _median(in_worker) + share
    say(_row("overhead per notebook beyond kernel+cells", f"{per_nb:.2f} s",
             f"{_median(in_worker):.2f} s in the worker + {share:.2f} s coordinator share; target < 1 s: "
             f"{'met' if per_nb < 1 else 'MISSED'}"))

    say("")
    pairs = sorted(made)
    for i, m in enumerate(runs):
        same, differences = compare(m.ours_scores, m.nbgrader.scores, pairs)
        verdict = "the same points from both graders" if not differences else f"{len(differences)} DIFFERENCES"
        failed = f"; nbgrader errors for {', '.join(m.nbgrader.failed_students)}" if m.nbgrader.failed_students else ""
        say(f"scores{f' (run {i + 1})' if several else ''}: {same}/{same + len(differences)} graded cells of "
            f"{len(pairs)} notebooks: {verdict} (nbgrader exit status {m.nbgrader.returncode}{failed})")
        for line in differences[:20]:
            say(f"    {line}")
    return lines


# --------------------------------------------------------------------------- warm kernels against cold ones

# Two classes, each graded by one command as an instructor grades a class: one hands in 01-04 (where the
# import dominates), the other all six (05 and 06 are mostly their own compute).
NOTEBOOK_SETS = {"01-04": ("01", "02", "03", "04"), "01-06": ("01", "02", "03", "04", "05", "06")}
RATIO_TARGETS = {"01-04": 5.0, "01-06": 3.5}  # issue 10, at --jobs 2 on two cores


@dataclass
class OursRun:
    """One ``grade_class`` run of a notebook set with a given kernel kind and number of jobs."""

    kernels: str
    jobs: int
    wall_s: float
    results: list
    scores: Scores
    clock: CoordinatorClock


def notebook_cells_s(result) -> float:
    """The notebook's own cells in one graded run: its cells' time less the grader's part among them
    (the guard's prelude and canary cells and its checks before test cells)."""
    return result.timings.get("cells_s", 0.0) - result.timings.get("guard_s", 0.0)


def compute_bound(sets: dict[str, list[Path]], made: dict[str, dict], own: dict[tuple[str, str], float],
                  beside: dict[tuple[str, str], float], nb_walls: dict[str, float], jobs: int) -> list[str]:
    """The limits no grader passes here: the notebooks' own cells spread over ``jobs`` cores with nothing
    else, and the ratio to nbgrader each allows. ``own``: each notebook graded alone (--jobs 1, every
    core's TensorFlow threads); ``beside``: as they ran in the warm --jobs ``jobs`` run, side by side."""

    def spread(cells: dict[tuple[str, str], float]) -> str:
        compute = {name: sum(seconds for (student, notebook), seconds in cells.items()
                             if (student, notebook.removesuffix(".ipynb")) in made[name]) / jobs for name in sets}
        return "; ".join(f"{name} {seconds:.1f} s ({nb_walls[name] / seconds:.2f} x)"
                         for name, seconds in compute.items() if seconds)

    return [f"  the notebooks' own cells (the grader's cells left out), spread over {jobs} cores, and the best "
            "ratio that allows:",
            f"    {'each graded alone (warm --jobs 1):':<44}{spread(own)}",
            f"    {f'as they ran side by side (warm --jobs {jobs}):':<44}{spread(beside)}"]


def _verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def run_ours(submissions: Path, out: Path, sources: list[Path], jobs: int, kernels: str) -> OursRun:
    from .pipeline import grade_class

    with CoordinatorClock() as clock:
        started = time.perf_counter()
        run = grade_class(submissions, out, jobs, notebooks=[p.stem for p in sources], force=True, quiet=True,
                          warm=kernels == "warm")
        wall = time.perf_counter() - started
    return OursRun(kernels, jobs, wall, run.results, gradebook_scores(out / "gradebook.db"), clock)


def own_cells(runs: list[OursRun], kernels: str = "warm", jobs: int = 1) -> dict[tuple[str, str], float]:
    """Each notebook's own compute (``notebook_cells_s``, median over runs) in the ``kernels`` --jobs ``jobs``
    runs. The default, warm kernels one at a time, is the notebook graded alone, where imports are free."""
    found: dict[tuple[str, str], list[float]] = {}
    for run in runs:
        if run.kernels == kernels and run.jobs == jobs:
            for result in run.results:
                found.setdefault((result.student_id, result.notebook), []).append(notebook_cells_s(result))
    return {key: _median(values) for key, values in found.items()}


def coordinator_share(run: OursRun) -> float:
    """Seconds per notebook that the run's wall time holds beyond its workers' busy time: start-up,
    the coordinator's own work, and workers idle at the end."""
    timed = [r for r in run.results if "total_s" in r.timings]
    return (run.wall_s - sum(r.timings["total_s"] for r in timed) / run.jobs) / max(1, len(timed))


def overhead_per_notebook(run: OursRun, own: dict[tuple[str, str], float]) -> float:
    """Seconds per notebook beyond its own cells graded alone: in the worker (kernel start, TensorFlow import
    in a cold kernel, the guard's cells and checks, normalize, score, save, cells slowed by a notebook running
    beside it) plus its share of what the coordinator adds to the wall time."""
    timed = [r for r in run.results if "total_s" in r.timings]
    in_worker = [r.timings["total_s"] - own.get((r.student_id, r.notebook), 0.0) for r in timed]
    return _median(in_worker) + coordinator_share(run)


def overhead_parts(runs: list[OursRun], own: dict[tuple[str, str], float]) -> str:
    """Where the overhead of ``runs`` goes, as per-notebook medians (which need not add up exactly)."""
    results = [x for r in runs for x in r.results if "total_s" in x.timings]

    def median_of(part) -> float:
        return _median([part(x) for x in results])

    parts = {
        "kernel start": median_of(lambda x: x.timings["kernel_start_s"]),
        "the guard (prelude, canary cells, checks)": median_of(lambda x: x.timings.get("guard_s", 0.0)),
        "normalize, score, save": median_of(lambda x: x.timings["total_s"] - x.timings["kernel_start_s"]
                                            - x.timings["cells_s"]),
        "own cells slower than alone": median_of(
            lambda x: notebook_cells_s(x) - own.get((x.student_id, x.notebook), 0.0)),
        "coordinator and start-up": _median([coordinator_share(r) for r in runs]),
    }
    return ", ".join(f"{name} {seconds:.2f} s" for name, seconds in parts.items())


def kernel_comparison(work: Path, students: int, jobs: int, repeat: int) -> list[str]:
    """nbgrader, cold kernels and warm kernels (--jobs 1 and JOBS) on the same classes, in one run."""
    sources = source_notebooks(SOLUTIONS_DIR)
    sets = {name: [p for p in sources if p.name[:2] in prefixes] for name, prefixes in NOTEBOOK_SETS.items()}
    made = {name: build_class(work / name / "submissions", students, chosen) for name, chosen in sets.items()}
    configs = [("cold", jobs), ("warm", 1), ("warm", jobs)] if jobs > 1 else [("cold", 1), ("warm", 1)]
    theirs: dict[str, list[NbgraderRun]] = {name: [] for name in sets}
    ours: dict[tuple[str, str, int], list[OursRun]] = {}
    for i in range(repeat):
        for name, chosen in sets.items():
            folder, submissions = work / name / f"run{i + 1}", work / name / "submissions"
            order = configs if i % 2 == 0 else configs[::-1]
            print(f"run {i + 1}/{repeat}, notebooks {name}: nbgrader ...", file=sys.stderr, flush=True)
            theirs[name].append(run_nbgrader(submissions, folder / "nbgrader", chosen))
            for kernels, j in order:
                print(f"run {i + 1}/{repeat}, notebooks {name}: ours, {kernels} kernels, --jobs {j} ...",
                      file=sys.stderr, flush=True)
                ours.setdefault((name, kernels, j), []).append(
                    run_ours(submissions, folder / f"ours-{kernels}-{j}", chosen, j, kernels))
    return kernel_summary(sets, made, theirs, ours, configs, jobs)


def kernel_summary(sets: dict[str, list[Path]], made: dict[str, dict], theirs: dict[str, list[NbgraderRun]],
                   ours: dict[tuple[str, str, int], list[OursRun]], configs: list[tuple[str, int]],
                   jobs: int) -> list[str]:
    lines: list[str] = []
    say = lines.append
    counts = {name: len(m) for name, m in made.items()}
    say(f"classes: {', '.join(f'notebooks {n}: {c} hand-ins' for n, c in counts.items())} "
        f"(perfect, partial and blank in turn); {cpu_count()} cores; medians over {len(theirs['01-04'])} run(s)")
    say("")
    say("wall time (s) and nbgrader's time / ours")
    header = f"  {'':<34}" + "".join(f"{n:>18}" for n in sets)
    say(header)

    def walls(runs: list) -> float:
        return _median([r.wall_s for r in runs])

    nb_walls = {name: walls(theirs[name]) for name in sets}
    say(f"  {'nbgrader autograde (sequential)':<34}" + "".join(f"{nb_walls[n]:>16.1f} s" for n in nb_walls))
    met = []
    for kernels, j in configs:
        mine = {name: walls(ours[(name, kernels, j)]) for name in sets}
        cells = "".join(f"{mine[n]:>7.1f} s {nb_walls[n] / mine[n]:>6.2f} x" for n in mine)
        say(f"  {f'ours, {kernels} kernels, --jobs {j}':<34}{cells}")
        if kernels == "warm" and j == jobs:
            met = [f"{n} {nb_walls[n] / mine[n]:.2f} x (target {t:g} x: {_verdict(nb_walls[n] / mine[n] >= t)})"
                   for n, t in RATIO_TARGETS.items()]
    say(f"  each class graded by one command (nbgrader: one `autograde` of the assignment). At --jobs {jobs}: "
        + "; ".join(met))

    all_runs = [r for runs in ours.values() for r in runs]
    own = own_cells(all_runs)
    lines += compute_bound(sets, made, own, own_cells(all_runs, "warm", jobs), nb_walls, jobs)
    say("")
    say("per notebook, medians (own cells: the notebook's cells less the grader's, warm kernel graded alone: "
        "imports are free)")
    say(f"  {'':<34}{'kernel start':>14}{'cells':>9}{'guard':>8}{'own cells':>11}{'overhead':>10}"
        f"{'peak RSS':>10}{'peak PSS':>10}")
    for kernels, j in configs:
        runs = [r for name in sets for r in ours[(name, kernels, j)]]
        results = [x for r in runs for x in r.results if "total_s" in x.timings]
        overhead = _median([overhead_per_notebook(r, own) for r in runs])
        say(f"  {f'{kernels} kernels, --jobs {j}':<34}"
            f"{_median([x.timings['kernel_start_s'] for x in results]):>12.2f} s"
            f"{_median([x.timings['cells_s'] for x in results]):>7.2f} s"
            f"{_median([x.timings.get('guard_s', 0.0) for x in results]):>6.2f} s"
            f"{_median([own.get((x.student_id, x.notebook), 0.0) for x in results]):>9.2f} s"
            f"{overhead:>8.2f} s"
            f"{_median([x.timings.get('peak_rss_mb', 0.0) for x in results]):>7.0f} MB"
            f"{_median([x.timings.get('peak_pss_mb', 0.0) for x in results]):>7.0f} MB")
    warm_results = [x for name in sets for r in ours[(name, "warm", jobs)] for x in r.results]
    starts = [x.timings["warm_parent_start_s"] for x in warm_results if x.timings.get("warm_parent_start_s")]
    warm_overhead = _median([overhead_per_notebook(r, own) for n in sets for r in ours[(n, "warm", jobs)]])
    say(f"  overhead target <= 0.5 s per notebook (warm, --jobs {jobs}): {_verdict(warm_overhead <= 0.5)}; "
        f"where it goes (medians): {overhead_parts([r for n in sets for r in ours[(n, 'warm', jobs)]], own)}")
    say("  cells: every cell the kernel ran; guard: the grader's own among them (its prelude, its canary cells, its")
    say("  checks before each test cell; in a cold kernel its prelude is also where TensorFlow is first imported);")
    say("  own cells: the notebook's cells alone (cells less guard, warm, --jobs 1)")
    say(f"  one warm parent per run imports the libraries while the workers start; a worker's first kernel "
        f"waited {_median(starts):.2f} s for it (median, once per worker and run)")
    say("  peak PSS: a cold kernel's processes; for a warm kernel, the kernel's processes and the warm parent's share")
    say("  of the pages they have in common; RSS counts the pages a kernel shares with its parent in full")
    say("")
    for (name, kernels, j), runs in sorted(ours.items()):
        pairs = sorted(made[name])
        for i, run in enumerate(runs):
            same, differences = compare(run.scores, theirs[name][i].scores, pairs)
            verdict = "the same points as nbgrader" if not differences else f"{len(differences)} DIFFERENCES"
            say(f"scores, notebooks {name}, {kernels} --jobs {j}, run {i + 1}: {same}/{same + len(differences)} "
                f"graded cells: {verdict}")
            for line in differences[:10]:
                say(f"    {line}")
    return lines


# --------------------------------------------------------------------------- the process pool against Dask

CAPACITY = (1000, 8, 30 * 60)  # the README's capacity plan: students, notebooks each, turnaround (s)


@dataclass
class BackendRun:
    """One ``grade_class`` run of the class on the process pool or a Dask LocalCluster."""

    backend: str  # "pool" or "dask"
    workers: int
    wall_s: float
    cpu_s: float  # busy CPU-seconds of the whole machine during the run (every process: coordinator, workers, kernels)
    results: list
    scores: Scores
    worker_pss_mb: list[float] = field(default_factory=list)  # each Dask worker process itself, before it closed

    @property
    def label(self) -> str:
        return f"process pool, --jobs {self.workers}" if self.backend == "pool" else \
            f"Dask, --scheduler local:{self.workers}"

    @property
    def graded(self) -> list:
        return [r for r in self.results if "total_s" in r.timings and "cells_s" in r.timings]


def busy_cpu_s() -> float:
    """CPU-seconds this machine has spent busy since boot (all cores; idle and I/O wait left out)."""
    import psutil

    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


def worker_pss_mb() -> float:
    """Run on a Dask worker: the worker process's own proportional memory (its kernels are counted per notebook)."""
    import psutil

    return psutil.Process().memory_full_info().pss / 2**20


class WorkerMemory:
    """Reads every Dask worker's own memory just before ``grade_class`` closes its cluster."""

    def __init__(self) -> None:
        self.pss_mb: list[float] = []

    def __enter__(self) -> WorkerMemory:
        from . import dask_backend

        self._original = original = dask_backend.DaskPool.close

        def close(pool) -> None:
            try:
                self.pss_mb += list(pool.client.run(worker_pss_mb).values())
            finally:
                original(pool)

        dask_backend.DaskPool.close = close
        return self

    def __exit__(self, *exc) -> None:
        from . import dask_backend

        dask_backend.DaskPool.close = self._original


def run_backend(submissions: Path, out: Path, sources: list[Path], backend: str, workers: int) -> BackendRun:
    from .pipeline import grade_class

    with WorkerMemory() as memory:
        cpu, started = busy_cpu_s(), time.perf_counter()
        run = grade_class(submissions, out, workers, notebooks=[p.stem for p in sources], force=True, quiet=True,
                          scheduler=f"local:{workers}" if backend == "dask" else None)
        wall, cpu = time.perf_counter() - started, busy_cpu_s() - cpu
    return BackendRun(backend, workers, wall, cpu, run.results, gradebook_scores(out / "gradebook.db"), memory.pss_mb)


def dask_comparison(work: Path, students: int, sources: list[Path], jobs: int, repeat: int) -> list[str]:
    """The same class graded on the process pool and on Dask LocalClusters (1 and ``jobs`` workers), in one run."""
    made = build_class(work / "submissions", students, sources)
    configs = [(backend, n) for backend in ("pool", "dask") for n in sorted({1, jobs})]
    runs: dict[tuple[str, int], list[BackendRun]] = {}
    for i in range(repeat):
        for backend, n in (configs if i % 2 == 0 else configs[::-1]):
            print(f"run {i + 1}/{repeat}: {backend}, {n} worker(s) ...", file=sys.stderr, flush=True)
            out = work / f"run{i + 1}" / f"{backend}-{n}"
            runs.setdefault((backend, n), []).append(run_backend(work / "submissions", out, sources, backend, n))
    return dask_summary(runs, made, jobs)


def dask_summary(runs: dict[tuple[str, int], list[BackendRun]], made: dict[tuple[str, str], str],
                 jobs: int) -> list[str]:
    lines: list[str] = []
    say = lines.append
    n = len(made)
    say(f"class: {len({s for s, _ in made})} students x {len({nb for _, nb in made})} notebooks = {n} notebooks "
        f"(perfect, partial and blank in turn), warm kernels; {cpu_count()} cores; medians over "
        f"{len(next(iter(runs.values())))} run(s)")
    say("  wall: grade_class from call to return (cluster start, gradebook, grading, reports); CPU: the whole")
    say("  machine's busy CPU-seconds meanwhile; worker: one worker's time per notebook (mean total_s);")
    say("  PSS: a notebook's warm parent and kernel at their peak (median / largest)")
    say(f"  {'':<30}{'wall':>9}{'per nb':>9}{'CPU/nb':>9}{'worker/nb':>11}{'PSS med':>10}{'PSS max':>10}")
    for group in runs.values():
        graded = [r for run in group for r in run.graded]
        pss = [r.timings.get("peak_pss_mb", 0.0) for r in graded]
        wall = _median([r.wall_s for r in group])
        say(f"  {group[0].label:<30}{wall:>7.1f} s{wall / n:>7.2f} s"
            f"{_median([r.cpu_s / n for r in group]):>7.2f} s"
            f"{statistics.fmean([r.timings['total_s'] for r in graded]):>9.2f} s"
            f"{_median(pss):>7.0f} MB{max(pss, default=0.0):>7.0f} MB")
    dask = runs.get(("dask", jobs), [])
    if dask:
        worker_own = [mb for run in dask for mb in run.worker_pss_mb]
        say(f"  a Dask worker process itself (PSS, before its cluster closed): median {_median(worker_own):.0f} MB, "
            f"largest {max(worker_own, default=0.0):.0f} MB")
        say("")
        say(capacity(dask, n))
    say("")
    reference = runs[("pool", jobs)][0]
    for group in runs.values():
        for i, run in enumerate(group):
            same, differences = compare(run.scores, reference.scores, sorted(made))
            verdict = "the same points as the process pool" if not differences else f"{len(differences)} DIFFERENCES"
            say(f"scores, {run.label}, run {i + 1}: {same}/{same + len(differences)} graded cells: {verdict}")
            for line in differences[:10]:
                say(f"    {line}")
    return lines


def capacity(dask: list[BackendRun], n: int) -> str:
    """The README's capacity plan from this run's Dask figures (``CAPACITY``: students, notebooks, turnaround).

    A notebook costs a worker ``worker/nb`` seconds on one core (one single-thread worker per
    core, the cores all busy); the one-off costs of a run (cluster and warm-parent start,
    gradebook, reports) are what ``CPU/nb`` adds on top in a class this small.
    """
    students, notebooks, turnaround = CAPACITY
    total = students * notebooks
    busy = statistics.fmean([r.timings["total_s"] for run in dask for r in run.graded])
    lines = [f"capacity for {students} students x {notebooks} notebooks = {total} notebooks, at {busy:.2f} s of one "
             f"worker (one core) per notebook: {total * busy / 3600:.1f} CPU-hours; "
             f"{-(-total * busy // turnaround):.0f} single-thread workers for a {turnaround / 60:.0f}-minute "
             "turnaround",
             "per notebook at this setting (mean worker seconds / largest peak PSS):"]
    by_notebook: dict[str, list] = {}
    for run in dask:
        for r in run.graded:
            by_notebook.setdefault(r.notebook, []).append(r)
    for name, results in sorted(by_notebook.items()):
        lines.append(f"    {Path(name).stem:<28}{statistics.fmean([r.timings['total_s'] for r in results]):>7.2f} s"
                     f"{max(r.timings.get('peak_pss_mb', 0.0) for r in results):>7.0f} MB")
    return "\n".join(lines)


def sandbox_overhead(submissions: Path, work: Path, sources: list[Path], jobs: int, repeat: int) -> list[str]:
    """Grade the same class with and without the sandbox, alternating; per-notebook medians side by side."""
    from .pipeline import grade_class

    per_mode: dict[str, dict[str, list[float]]] = {"bwrap": {}, "none": {}}
    for i in range(repeat):
        for mode in (("bwrap", "none") if i % 2 == 0 else ("none", "bwrap")):
            print(f"sandbox overhead: run {i + 1}/{repeat}, --sandbox {mode} ...", file=sys.stderr, flush=True)
            run = grade_class(submissions, work / f"overhead-{mode}-{i}", jobs, notebooks=[p.stem for p in sources],
                              force=True, quiet=True, sandbox=mode)
            for result in run.results:
                for key in ("kernel_start_s", "cells_s", "total_s"):
                    per_mode[mode].setdefault(key, []).append(result.timings.get(key, float("nan")))
    lines = [f"sandbox overhead per notebook ({len(per_mode['bwrap']['total_s']) // repeat} notebooks x {repeat} "
             f"runs each way, --jobs {jobs}; medians)",
             _row("", "bwrap", "none      difference")]
    for key in ("kernel_start_s", "cells_s", "total_s"):
        with_, without = _median(per_mode["bwrap"][key]), _median(per_mode["none"][key])
        lines.append(_row(key, f"{with_:.2f} s", f"{without:.2f} s   {with_ - without:+.2f} s"))
    return lines


# --------------------------------------------------------------------------- the similarity stage


def vary(code: str, rng: random.Random) -> str:
    """An answer changed the way a student who started from it might: a number changed, a line added."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code
    starts = sorted({(n.lineno, n.col_offset) for n in ast.walk(tree) if isinstance(n, ast.stmt)
                     and n.col_offset > 0 and not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))})
    lines = code.split("\n")
    for lineno, col in sorted(rng.sample(starts, min(len(starts), rng.randint(1, 3))), reverse=True):
        at = lineno - 1
        what = rng.randrange(3)
        if what == 0:
            lines[at] = re.sub(r"\b\d+\b", lambda m: str(int(m.group()) + rng.randint(1, 9)), lines[at], count=1)
        elif what == 1:
            lines.insert(at, " " * col + f"check_{rng.randrange(100)} = {rng.randrange(1000)}  # 확인용")
        else:
            lines.insert(at, " " * col + f"print({rng.choice(['shape', 'step', 'value'])!r}, {rng.randrange(100)})")
    return "\n".join(lines)


def fabricate_class(root: Path, students: int, sources: list[Path], seed: int = 0) -> dict[str, int]:
    """``students`` hand-ins of every notebook, built without a kernel; returns how many answers of each kind."""
    rng = random.Random(seed)
    made: dict[str, int] = {}
    for source in sources:
        solutions = samples.answers(source.name)
        own = samples.OWN_WORDS.get(source.name, {})
        handed: dict[str, list[str]] = {gid: [] for gid in solutions}
        for i in range(students):
            nb = samples.student_edition(source.name)
            for cell in nb.cells:
                grade_id = nbgrader_meta(cell).get("grade_id")
                if not nbgrader_meta(cell).get("solution"):
                    continue
                pool = [solutions[grade_id]] + [style[grade_id] for style in own.values()]
                draw = rng.random()
                if draw < 0.15:
                    kind = "unanswered"
                elif draw < 0.35:
                    kind, cell.source = "solution", solutions[grade_id]
                elif draw < 0.45:
                    kind, cell.source = "solution disguised", samples.disguise(solutions[grade_id])
                elif draw < 0.55 and handed[grade_id]:
                    kind, cell.source = "copied from a classmate", samples.disguise(rng.choice(handed[grade_id]))
                else:
                    kind, cell.source = "varied", vary(rng.choice(pool), rng)
                handed[grade_id].append(cell.source)
                made[kind] = made.get(kind, 0) + 1
            samples.write(nb, root / f"f{i + 1:03d}" / source.name)
    return made


def time_similarity(submissions: Path, names: list[str], work: Path, repeat: int) -> tuple[list[float], object]:
    """Seconds of ``similarity.compare_class`` on a class folder (files read, nothing run), ``repeat`` times."""
    course = {name: similarity.release_source(NOTEBOOKS_DIR / name) for name in names}
    collection = collect(submissions, names, work / "unpacked")
    times, report = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        report = similarity.compare_class(collection.submissions, course, SIMILARITY_THRESHOLD)
        times.append(time.perf_counter() - started)
    return times, report


def similarity_bench(work: Path, students: int, sources: list[Path], repeat: int) -> list[str]:
    """The similarity stage's cost on the sample class and on a fabricated class; every pair the sample class scores."""
    lines = []
    all_names = [p.name for p in source_notebooks(SOLUTIONS_DIR)]
    similarity.boilerplate_hashes(["x = 1"])  # imports (copydetect, Pygments) outside the timings
    for label, folder, names in (("sample class (data/sample_class)", SAMPLE_CLASS_DIR, all_names),
                                 (f"fabricated class ({students} students)", work / "fabricated",
                                  [p.name for p in sources])):
        times, report = time_similarity(folder, names, work / label.split()[0], repeat)
        handed_in = sum(1 for _ in folder.glob("*/*.ipynb"))
        kinds = Counter()
        for counts in report.kinds.values():
            kinds.update(counts)
        lines.append(f"{label}: {handed_in} notebook files, {len(names)} course notebooks")
        lines.append(_row("  answers", ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))))
        lines.append(_row("  answer pairs scored / listed", f"{report.compared_pairs} / {len(report.pairs)}",
                          f"student pairs listed: {len(report.overall)}"))
        lines.append(_row("  similarity stage", f"{_median(times):.2f} s",
                          f"median of [{_fmt_list(times)}]; {1000 * _median(times) / max(handed_in, 1):.0f} ms "
                          "per notebook file"))
        if folder == SAMPLE_CLASS_DIR:
            sample = report
    lines.append("")
    lines.append(f"sample class: every answer pair scored (threshold {SIMILARITY_THRESHOLD}; listed also needs "
                 f"{similarity.MIN_OWN_TOKENS} matching filtered characters)")
    for notebook, grade_id, a, b, sim_a, sim_b, listed in sample.scored:
        lines.append(f"    {Path(notebook).stem} {grade_id:<20} {a} {b}  {sim_a:.2f} {sim_b:.2f}"
                     f"{'  listed' if listed else ''}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2, help="parallel kernels for grade_class (default 2)")
    parser.add_argument("--students", type=int, help="students in the class (default 4; --similarity: 100)")
    parser.add_argument("--notebooks", nargs="+",
                        help="notebook name prefixes each student hands in, or 'all' for every course notebook "
                             "(00-08; default: 01 02 03; --similarity: 01 to 06)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="grade the class this many times with each grader, alternating which goes first; "
                             "medians are quoted (default 1)")
    parser.add_argument("--tf-imports", type=int, default=3, help="timed TensorFlow imports (default 3)")
    parser.add_argument("--workdir", type=Path, help="keep everything here instead of a temporary folder")
    parser.add_argument("--sandbox-overhead", action="store_true",
                        help="instead of the comparison with nbgrader: this grader with and without the sandbox")
    parser.add_argument("--kernels", action="store_true",
                        help="nbgrader, cold and warm kernels (--jobs 1 and JOBS) on a class handing in 01-04 "
                             "and one handing in 01-06")
    parser.add_argument("--dask", action="store_true",
                        help="instead of the comparison with nbgrader: the process pool against Dask LocalClusters, "
                             "1 and JOBS workers each, warm kernels (default notebooks 01-04)")
    parser.add_argument("--similarity", action="store_true",
                        help="instead of the comparison with nbgrader: the similarity stage on the sample class and "
                             "on a fabricated class (no kernels)")
    args = parser.parse_args(argv)
    args.students = args.students or (100 if args.similarity else 4)
    args.notebooks = args.notebooks or (["01", "02", "03", "04", "05", "06"] if args.similarity else
                                        ["01", "02", "03", "04"] if args.dask else ["01", "02", "03"])

    sources = [p for p in source_notebooks(SOLUTIONS_DIR)
               if args.notebooks == ["all"] or any(p.name.startswith(x) for x in args.notebooks)]
    if not sources:
        parser.error(f"no notebook in {SOLUTIONS_DIR} matches {args.notebooks}")
    tmp = None
    if args.workdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="bench-")
        work = Path(tmp.name)
    else:
        work = args.workdir.resolve()
        work.mkdir(parents=True, exist_ok=True)
    try:
        if args.kernels:
            print("\n".join(kernel_comparison(work, args.students, args.jobs, args.repeat)))
            return 0
        if args.dask:
            print("\n".join(dask_comparison(work, args.students, sources, args.jobs, args.repeat)))
            return 0
        if args.similarity:
            made_kinds = fabricate_class(work / "fabricated", args.students, sources)
            print(f"similarity benchmark: fabricated {', '.join(f'{n} {k}' for k, n in made_kinds.items())} "
                  f"answers in {work}", file=sys.stderr, flush=True)
            print("\n".join(similarity_bench(work, args.students, sources, args.repeat)))
            return 0
        made = build_class(work / "submissions", args.students, sources)
        print(f"benchmark: {len(made)} notebooks in {work}", file=sys.stderr, flush=True)
        if args.sandbox_overhead:
            print("\n".join(sandbox_overhead(work / "submissions", work, sources, args.jobs, args.repeat)))
            return 0
        tf_times = tf_import_times(args.tf_imports)
        worker_import = worker_import_s()
        runs = []
        for i in range(args.repeat):
            order = "nbgrader-first" if i % 2 == 0 else "ours-first"
            run_dir = work / f"run{i + 1}"
            shutil.rmtree(run_dir, ignore_errors=True)
            print(f"run {i + 1}/{args.repeat} ({order}) ...", file=sys.stderr, flush=True)
            runs.append(measure_once(work / "submissions", run_dir, sources, args.jobs, order))
        print("\n".join(summary(runs, args.jobs, tf_times, worker_import, made)))
        failed = [m for m in runs if m.nbgrader.returncode != 0]
        if failed:
            print("\nnbgrader reported errors; the end of its log:\n" + failed[0].nbgrader.log[-3000:])
        return 0
    finally:
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    sys.exit(main())
