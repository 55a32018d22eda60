"""In CI a skipped test is a failed test, unless the README allows that skip by name.

A test that skips because a tool is missing (bubblewrap, Chromium, a GPU driver) looks
green in a summary line, so a CI machine that lacks the tool would pass without checking
anything. With ``CI=true`` this plugin turns every such skip into a failure whose message
gives the skip's reason, so the missing install step is named in the CI log.
"""

from __future__ import annotations

import os

import pytest

# Skips allowed in CI, each named in the README's "Maintainers: tests and CI" section.
ALLOWED_IN_CI: tuple[str, ...] = ()


def running_in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("true", "1", "yes")


def _reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if not (report.skipped and running_in_ci()) or hasattr(report, "wasxfail"):
        return
    reason = _reason(report)
    if any(allowed in reason for allowed in ALLOWED_IN_CI):
        return
    report.outcome = "failed"
    report.longrepr = (f"skipped in CI (CI=true), which counts as a failure: {reason}\n"
                       "Install what the test needs in .ci/run, or name the skip in the README and ALLOWED_IN_CI.")
