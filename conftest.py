"""pytest settings shared by tests/ and the nbval run over solutions/.

Kernels inherit this process's environment, so TensorFlow is silenced, seeded and
sized to the number of xdist workers here, before any kernel starts.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from autograder.settings import QUIET_TF_ENV, tf_thread_env

pytest_plugins = ["tests.ci_strict"]  # in CI (CI=true) a skipped test fails, with its reason

collect_ignore_glob = ["notebooks/*", "data/*", "build/*", ".venv/*"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--gpu", action="store_true", default=False,
        help="run the notebooks on the GPU runtime, comparing printed floats with a tolerance "
             "(tests/nbval_tolerance.py); a usage error if there is no NVIDIA driver or TensorFlow sees no GPU",
    )


def pytest_configure(config: pytest.Config) -> None:
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    os.environ.update(QUIET_TF_ENV)
    for key, value in tf_thread_env(workers).items():
        os.environ.setdefault(key, value)
    if not config.getoption("--gpu"):
        os.environ["CUDA_VISIBLE_DEVICES"] = "-1"  # CPU runtime: the stored outputs are CPU outputs
        return
    if shutil.which("nvidia-smi") is None:
        raise pytest.UsageError("--gpu: no NVIDIA driver on this machine (nvidia-smi not found); "
                                "`make test` skips the GPU leg by itself on such a machine")
    from tests import nbval_tolerance

    nbval_tolerance.install()


def _tensorflow_sees_a_gpu() -> bool:
    probe = "import tensorflow as tf; print(len(tf.config.list_physical_devices('GPU')))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1]) > 0


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("--gpu"):
        return
    if not _tensorflow_sees_a_gpu():
        raise pytest.UsageError(
            "--gpu: an NVIDIA driver is present but TensorFlow sees no GPU. "
            "Install the GPU build (make setup TF_EXTRA=gpu) and check CUDA_VISIBLE_DEVICES."
        )
