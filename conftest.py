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

collect_ignore_glob = ["notebooks/*", "data/*", "build/*", ".venv/*"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--gpu", action="store_true", default=False,
        help="run the notebooks on the GPU runtime; fails if TensorFlow sees no GPU, "
             "deselects everything (exit code 5) on a machine without an NVIDIA driver",
    )


def pytest_configure(config: pytest.Config) -> None:
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    os.environ.update(QUIET_TF_ENV)
    for key, value in tf_thread_env(workers).items():
        os.environ.setdefault(key, value)
    if not config.getoption("--gpu"):
        os.environ["CUDA_VISIBLE_DEVICES"] = "-1"  # CPU runtime: the stored outputs are CPU outputs


def _tensorflow_sees_a_gpu() -> bool:
    probe = "import tensorflow as tf; print(len(tf.config.list_physical_devices('GPU')))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1]) > 0


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("--gpu"):
        return
    if shutil.which("nvidia-smi") is None:
        config.hook.pytest_deselected(items=list(items))
        items.clear()
        print("\n--gpu: no NVIDIA driver on this machine (nvidia-smi not found); GPU notebook run skipped.")
        return
    if not _tensorflow_sees_a_gpu():
        raise pytest.UsageError(
            "--gpu: an NVIDIA driver is present but TensorFlow sees no GPU. "
            "Install the GPU build (make setup TF_EXTRA=gpu) and check CUDA_VISIBLE_DEVICES."
        )
