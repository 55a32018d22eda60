"""A progress line on stderr: counts, failures and an estimate of the time left."""

from __future__ import annotations

import sys
import time
from typing import TextIO


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


class Progress:
    """Redraws one line on a terminal; prints a line per finished notebook elsewhere (CI logs)."""

    def __init__(self, total: int, skipped: int = 0, stream: TextIO = sys.stderr, width: int = 28) -> None:
        self.total, self.done, self.skipped, self.problems = total, 0, skipped, 0
        self.stream, self.width = stream, width
        self.started = time.monotonic()
        self.tty = stream.isatty()

    def update(self, label: str, ok: bool) -> None:
        self.done += 1
        self.problems += not ok
        elapsed = time.monotonic() - self.started
        left = elapsed / self.done * (self.total - self.done) if self.done else 0.0
        filled = int(self.width * self.done / max(1, self.total))
        bar = "#" * filled + "-" * (self.width - filled)
        line = (f"[{bar}] {self.done}/{self.total} graded, {self.problems} need a look, "
                f"{_clock(elapsed)} elapsed, ~{_clock(left)} left")
        if self.tty:
            self.stream.write("\r" + line[:160].ljust(160))
        else:
            self.stream.write(f"{line}  ({label})\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()
