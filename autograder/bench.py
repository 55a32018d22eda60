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

The functions that run real nbgrader on a folder of submissions and read per-cell
scores out of a gradebook are shared with ``tests/test_nbgrader_equivalence.py``.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from . import samples
from .settings import ASSIGNMENT_ID, QUIET_TF_ENV, SOLUTIONS_DIR, Limits, source_notebooks

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
        self.result_times: list[float] = []  # perf_counter() when each result reached the coordinator
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
        original_pool = pipeline._run_pool

        def timed_pool(tasks, jobs):
            self.pool_started = time.perf_counter()
            for result in original_pool(tasks, jobs):
                self.result_times.append(time.perf_counter())
                yield result
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


def report(runs: list[Measurement], jobs: int, tf_times: list[float], worker_import: float,
           made: dict[tuple[str, str], str]) -> list[str]:
    lines: list[str] = []
    say = lines.append
    n = len(made)
    theirs = [m.nbgrader.wall_s for m in runs]
    ours = [m.ours_wall_s for m in runs]
    generate = [m.nbgrader.generate_s for m in runs]
    ratios = [t / o for t, o in zip(theirs, ours, strict=True)]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    kinds = {k: sum(v == k for v in made.values()) for k in KINDS}
    say(f"class: {len({s for s, _ in made})} students x {len({nb for _, nb in made})} notebooks = {n} notebooks "
        f"({', '.join(f'{v} {k}' for k, v in kinds.items())}); {cores} cores; jobs={jobs}; "
        f"{len(runs)} run(s){' (medians)' if len(runs) > 1 else ''}")
    say("")
    say("wall time")
    say(f"  nbgrader autograde, sequential      {_median(theirs):7.1f} s   [{_fmt_list(theirs)}]"
        f"   (+ generate_assignment, release time: {_median(generate):.1f} s)")
    say(f"  grade_class(jobs={jobs})               {_median(ours):7.1f} s   [{_fmt_list(ours)}]"
        "   (its own gradebook preparation and reports included)")
    say(f"  ratio nbgrader / ours               {_median(ratios):7.2f} x   [{_fmt_list(ratios)}]"
        f"   target >= 1.8 x: {'met' if _median(ratios) >= 1.8 else 'MISSED'}")
    say(f"  per notebook                        nbgrader {_median(theirs) / n:.2f} s, ours {_median(ours) / n:.2f} s")

    timed = [r for m in runs for r in m.ours_results if "kernel_start_s" in r.timings]
    kernel = [r.timings["kernel_start_s"] for r in timed]
    cells = [r.timings["cells_s"] for r in timed]
    total = [r.timings["total_s"] for r in timed]
    in_worker = [r.timings["total_s"] - r.timings["kernel_start_s"] - r.timings["cells_s"] for r in timed]
    normalize = [r.timings.get("normalize_s", 0.0) for r in timed]
    score_save = [r.timings.get("score_save_s", 0.0) for r in timed]
    say("")
    say(f"TensorFlow import alone (python -c 'import tensorflow'): median {_median(tf_times):.2f} s "
        f"[{_fmt_list(tf_times)}]")
    say("")
    say(f"our workers, per notebook (medians over {len(timed)} notebooks, {jobs} kernels sharing the cores)")
    say(f"  total_s (grade_submission)          {_median(total):6.2f} s")
    say(f"  kernel_start_s                      {_median(kernel):6.2f} s")
    say(f"  cells_s (TensorFlow import in the setup cell included) {_median(cells):6.2f} s")
    say(f"  total - kernel_start - cells        {_median(in_worker):6.2f} s   (normalize {_median(normalize):.2f}, "
        f"score+save {_median(score_save):.2f}, rest = scratch dir, kernel shutdown)")

    # The coordinator. With perfect parallelism the pool would take sum(total_s)/jobs; everything
    # above that is overhead paid per class: one-off setup, worker start, load imbalance at the
    # end, and the coordinator's per-result work competing with kernels for the same cores.
    say("")
    say("coordinator (the grade_class process), per run, medians over runs")
    walls, ideal, excess_pool, prep, coll, reports, saves, writes, first_lag = ([] for _ in range(9))
    for m in runs:
        timed_m = [r for r in m.ours_results if "kernel_start_s" in r.timings]
        work = sum(r.timings["total_s"] for r in timed_m)
        c = m.clock
        walls.append(m.ours_wall_s)
        ideal.append(work / jobs)
        pool = c.total("pool")
        excess_pool.append(pool - work / jobs)
        prep.append(c.total("prepare_course"))
        coll.append(c.total("collect"))
        reports.append(c.total("reports"))
        saves += c.spent.get("result_save", [])
        writes += c.spent.get("gradebook_write", [])
        if c.result_times:
            first = min(m.ours_results, key=lambda r: r.timings.get("total_s", 0.0))
            first_lag.append(c.result_times[0] - c.pool_started - first.timings.get("total_s", 0.0))
    unexplained = [w - i for w, i in zip(walls, ideal, strict=True)]
    say(f"  wall - sum(worker total_s)/jobs     {_median(unexplained):6.2f} s per run = "
        f"{_median(unexplained) / n:.2f} s per notebook   (upper bound on the coordinator's cost: "
        "includes one-off setup, worker start and idle cores at the end)")
    say(f"    prepare_course (generate_assignment of every source + gradebook)  {_median(prep):6.2f} s once")
    say(f"    collect                                                            {_median(coll):6.2f} s once")
    say(f"    pool phase beyond sum(total_s)/jobs (worker spawn and imports, "
        f"load imbalance)  {_median(excess_pool):6.2f} s once")
    say(f"      first result arrived {_median(first_lag):.2f} s later than its own total_s "
        f"(≈ spawning a worker; a fresh Python importing autograder.pipeline takes {worker_import:.2f} s)")
    say(f"    per result: result JSON {_median(saves) * 1000:.0f} ms, gradebook write {_median(writes) * 1000:.0f} ms"
        f" (median of {len(writes)}; done while the other kernels run)")
    say(f"    reports (CSV, JSON, feedback pages, class report with charts)      {_median(reports):6.2f} s once")
    per_nb = _median(in_worker) + _median(unexplained) / n
    say(f"  overhead per notebook beyond kernel start and cells: {_median(in_worker):.2f} s in the worker + "
        f"{_median(unexplained) / n:.2f} s coordinator share = {per_nb:.2f} s   target < 1 s: "
        f"{'met' if per_nb < 1 else 'MISSED'}")

    say("")
    pairs = sorted(made)
    for i, m in enumerate(runs):
        same, differences = compare(m.ours_scores, m.nbgrader.scores, pairs)
        total_cells = same + len(differences)
        verdict = "agree on every graded cell" if not differences else f"DISAGREE on {len(differences)} cells"
        say(f"scores, run {i + 1}: {same}/{total_cells} graded cells equal; the two graders {verdict}"
            f" (nbgrader exit status {m.nbgrader.returncode}"
            f"{', errors for ' + ', '.join(m.nbgrader.failed_students) if m.nbgrader.failed_students else ''})")
        for line in differences[:20]:
            say(f"    {line}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2, help="parallel kernels for grade_class (default 2)")
    parser.add_argument("--students", type=int, default=4, help="students in the class (default 4)")
    parser.add_argument("--notebooks", nargs="+", default=["01", "02", "03"],
                        help="notebook name prefixes each student hands in (default: 01 02 03)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="grade the class this many times with each grader, alternating which goes first; "
                             "medians are quoted (default 1)")
    parser.add_argument("--tf-imports", type=int, default=3, help="timed TensorFlow imports (default 3)")
    parser.add_argument("--workdir", type=Path, help="keep everything here instead of a temporary folder")
    args = parser.parse_args(argv)

    sources = [p for p in source_notebooks(SOLUTIONS_DIR) if any(p.name.startswith(x) for x in args.notebooks)]
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
        made = build_class(work / "submissions", args.students, sources)
        print(f"benchmark: {len(made)} notebooks in {work}", file=sys.stderr, flush=True)
        tf_times = tf_import_times(args.tf_imports)
        worker_import = worker_import_s()
        runs = []
        for i in range(args.repeat):
            order = "nbgrader-first" if i % 2 == 0 else "ours-first"
            run_dir = work / f"run{i + 1}"
            shutil.rmtree(run_dir, ignore_errors=True)
            print(f"run {i + 1}/{args.repeat} ({order}) ...", file=sys.stderr, flush=True)
            runs.append(measure_once(work / "submissions", run_dir, sources, args.jobs, order))
        print("\n".join(report(runs, args.jobs, tf_times, worker_import, made)))
        failed = [m for m in runs if m.nbgrader.returncode != 0]
        if failed:
            print("\nnbgrader reported errors; the end of its log:\n" + failed[0].nbgrader.log[-3000:])
        return 0
    finally:
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    sys.exit(main())
