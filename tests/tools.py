"""What a test needs from the machine: a missing tool skips the test on a laptop and fails it in CI.

CI (the ``CI`` environment variable set to ``true``, as GitHub Actions and most CI services do)
installs every tool the suite uses (``.ci/run``), so a missing one there is a broken CI machine,
not a reason to skip. The only skip the README allows in CI is the GPU run on a machine without
an NVIDIA driver.
"""

from __future__ import annotations

import os

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def require(available: bool, reason: str) -> None:
    """Go on if ``available``; otherwise skip the test with ``reason``, or fail it in CI."""
    if available:
        return
    if in_ci():
        pytest.fail(f"{reason} [CI=true: a missing tool fails the test instead of skipping it]",
                    pytrace=False)
    pytest.skip(reason)
