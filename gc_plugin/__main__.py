"""Command line: ``python -m gc_plugin [demo]`` runs the built-in example.

Implements "Other" in docs/design/python-api.md (the CLI of DESIGN §5).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the command; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m gc_plugin",
        description="gc_plugin: the Memory Pool System's model of memory management "
        "for CPython.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("demo", help="run the built-in example (the default)")
    commands.add_parser("variety", help="print the checking variety of the compiled core")
    args = parser.parse_args(argv)

    if args.command == "variety":
        from gc_plugin import variety

        print(variety())
        return 0
    from gc_plugin.demo import run_demo

    return run_demo()


if __name__ == "__main__":
    sys.exit(main())
