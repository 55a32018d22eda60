"""Start a grading kernel under hard limits: ``python -m autograder.launch LIMITS.json -- COMMAND...``.

Runs in front of the sandbox command, outside it, and replaces itself with ``COMMAND``, so
everything the kernel starts inherits what it set:

- it moves itself into the kernel's control group (``cgroup_procs``), whose ``pids.max``
  bounds the number of processes and threads, before anything else can fork;
- RLIMIT_FSIZE: no file larger than ``file_bytes`` can be written (a disk-filling cell stops
  with "File size limit exceeded" instead of filling the disk);
- RLIMIT_CORE 0: no core dumps; RLIMIT_NPROC, where the grader is not root (for root the
  kernel ignores it, which is why the control group exists).
"""

from __future__ import annotations

import json
import os
import resource
import sys


def apply(settings: dict) -> None:
    procs = settings.get("cgroup_procs")
    if procs:
        with open(procs, "w") as f:
            f.write(str(os.getpid()))
    size = int(settings["file_bytes"])
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    nproc = settings.get("nproc")
    if nproc and os.getuid() != 0:
        soft, hard = resource.getrlimit(resource.RLIMIT_NPROC)
        limit = int(nproc) if hard == resource.RLIM_INFINITY else min(int(nproc), hard)
        resource.setrlimit(resource.RLIMIT_NPROC, (limit, limit))


def main(argv: list[str]) -> None:
    if len(argv) < 3 or argv[1] != "--":
        sys.exit("usage: python -m autograder.launch LIMITS_JSON -- COMMAND...")
    apply(json.loads(argv[0]))
    os.execvp(argv[2], argv[2:])


if __name__ == "__main__":
    main(sys.argv[1:])
