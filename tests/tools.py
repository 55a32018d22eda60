"""What a test needs from the machine: a missing tool skips the test, with the reason.

In CI (``CI=true``) ``tests/ci_strict.py`` turns every such skip into a failure that keeps
the reason, since ``.ci/run`` installs every tool the suite uses: a missing one there is a
broken CI machine, not a reason to skip.
"""

from __future__ import annotations

import pytest


def require(available: bool, reason: str) -> None:
    """Go on if ``available``; otherwise skip the test with ``reason`` (a failure in CI)."""
    if not available:
        pytest.skip(reason)
