"""Command line: ``autograder release`` and ``autograder grade`` (also ``python -m autograder``).

A thin layer: it parses arguments, calls one function of the package and turns the
package's errors into a one-line message and a non-zero exit status.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import release as release_mod


def _release(args: argparse.Namespace) -> int:
    for path in release_mod.release(args.notebooks or None):
        print(f"wrote {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="autograder", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    rel = commands.add_parser("release", help="regenerate notebooks/ (student editions) from solutions/")
    rel.add_argument("notebooks", nargs="*", help="name prefixes such as 01 or 02_variables (default: all)")
    rel.set_defaults(run=_release)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except release_mod.ReleaseError as error:
        print(f"autograder: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
