"""One source of truth for the course's paths, names and grading limits.

The repository URL and branch for Colab badges live in ``pyproject.toml`` under
``[tool.course]``; everything else the tools share is defined here.
"""

from __future__ import annotations

import os
import sys
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS_DIR = REPO_ROOT / "solutions"
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
SAMPLE_CLASS_DIR = REPO_ROOT / "data" / "sample_class"

# nbgrader groups notebooks into assignments; the whole chapter is one assignment.
ASSIGNMENT_ID = "ch03"

# Environment every course kernel starts with: TensorFlow quiet and deterministic.
QUIET_TF_ENV = {
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "TF_ENABLE_ONEDNN_OPTS": "0",
    "PYTHONHASHSEED": "0",
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
}


def course_config() -> dict[str, str]:
    """The ``[tool.course]`` table of pyproject.toml (repository, branch)."""
    with open(REPO_ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["tool"]["course"]


def colab_url(notebook_name: str) -> str:
    """The "Open in Colab" address of a student edition, built from pyproject.toml."""
    cfg = course_config()
    return (
        f"https://colab.research.google.com/github/{cfg['repository']}/blob/{cfg['branch']}"
        f"/notebooks/{notebook_name}"
    )


def cpu_count() -> int:
    """Cores this process may use (a container's CPU set, not the host's)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def tf_thread_env(workers: int) -> dict[str, str]:
    """Thread settings that share the CPU fairly between ``workers`` parallel kernels.

    Without them every kernel sizes its TensorFlow thread pools to all cores, and N
    kernels on N cores spend their time preempting each other.
    """
    return thread_env(cpu_count() // max(1, workers))


def thread_env(threads: int) -> dict[str, str]:
    """TensorFlow's and OpenMP's thread pools set to ``threads`` (at least one)."""
    value = str(max(1, threads))
    return {
        "TF_NUM_INTRAOP_THREADS": value,
        "TF_NUM_INTEROP_THREADS": value,
        "OMP_NUM_THREADS": value,
    }


def source_notebooks(solutions_dir: Path = SOLUTIONS_DIR) -> list[Path]:
    """The instructor source notebooks, in course order (``NN_name.ipynb``)."""
    return sorted(p for p in solutions_dir.glob("[0-9][0-9]_*.ipynb"))


# The similarity report lists two answers to one exercise when the larger of the shares of each
# that matches the other (own code only: stub, given code and solution left out) reaches this.
# README, "Similarity report", says why this value (measured on the sample class); the
# command line sets another with --similarity-threshold.
SIMILARITY_THRESHOLD = 0.5


@dataclass(frozen=True)
class Limits:
    """Resource limits for one graded notebook; every one can be set from the CLI."""

    cell_timeout_s: float = 120.0  # one cell; a student's endless loop
    notebook_timeout_s: float = 600.0  # the whole notebook, kernel start included
    memory_mb: int = 4096  # resident memory of the kernel and its children

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def put_venv_on_path() -> None:
    """Make the tools installed beside this Python (nbgrader calls ``alembic``) findable.

    ``.venv/bin/python -m autograder`` works without an activated environment this way.
    """
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
