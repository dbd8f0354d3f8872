"""Command line: ``python -m gc_plugin [demo | variety | run ...]``.

``demo`` (the default) runs the built-in example; ``run`` runs a script or
module with the allocator hook active and writes the heap report at exit,
with a leak check (``--leaks``) made while the script's globals are alive.
Implements "Other" in docs/design/python-api.md and the CLI of
docs/design/cpython-hook.md (docs/design/architecture.md §The Python layer).
"""

from __future__ import annotations

import argparse
import builtins
import os
import runpy
import sys
import types
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gc_plugin.leak_finder import LeakReport

__all__ = ["main"]

_RUN_USAGE = (
    "python -m gc_plugin run [--manage MOD]... [--heap {managed,all}] "
    "[--report {text,json,html}] [-o FILE] [--leaks [--leaks-frames N] [--fail-on-leak]] "
    "(script.py | -m module) [args...]"
)


def _run(args: argparse.Namespace) -> int:
    from gc_plugin.hook import activate
    from gc_plugin.report import write_report

    target: list[str] = args.target
    if args.module is None and not target:
        sys.stderr.write(f"usage: {_RUN_USAGE}\nrun: give a script or -m module\n")
        return 2
    if not args.manage and args.heap == "managed":
        sys.stderr.write("run: nothing to manage: give --manage MOD or --heap all\n")
        return 2
    activate(
        manage=args.manage,
        heap=args.heap,
        leak_tracking=True if args.leaks else None,
        leak_frames=args.leaks_frames,
    )
    status = 0
    try:
        if args.module is not None:
            sys.argv = [args.module, *target]
            sys.path.insert(0, os.getcwd())
            # as ``python -m``: the module runs as the real __main__, whose
            # globals live on until the report is written
            # private, so not in typeshed: reached through getattr
            getattr(runpy, "_run_module_as_main")(args.module, True)  # noqa: B009
        else:
            _run_script(target)
    except SystemExit as exc:
        code = exc.code
        status = code if isinstance(code, int) else (0 if code is None else 1)
        if code is not None and not isinstance(code, int):
            sys.stderr.write(f"{code}\n")
    finally:
        report = None
        if args.leaks:
            from gc_plugin.leak_finder import leaks

            report = leaks()
        write_report(args.report, args.output, report)
    if report is not None and args.fail_on_leak and status == 0 and _lost_in(report, args):
        sys.stderr.write("gc_plugin: leaks found (--fail-on-leak)\n")
        status = 1
    return status


def _lost_in(report: LeakReport, args: argparse.Namespace) -> bool:
    """Definite or indirect leaks in the managed modules (any, with --heap all)."""
    for site in report.sites:
        if site.kind not in ("definite", "indirect"):
            continue
        if args.heap == "all":
            return True
        module = site.module or ""
        if any(module == m or module.startswith(m + ".") for m in args.manage):
            return True
    return False


def _run_script(target: list[str]) -> None:
    """Run a script as ``python script.py`` would, in a real __main__."""
    script = target[0]
    sys.argv = list(target)
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    main = types.ModuleType("__main__")
    main.__file__ = script
    main.__dict__["__builtins__"] = builtins
    sys.modules["__main__"] = main
    with open(script, "rb") as f:
        code = compile(f.read(), script, "exec")
    exec(code, main.__dict__)


_RUN_VALUED = ("--manage", "--heap", "--report", "-o", "--output", "--leaks-frames")


def _split_run(argv: list[str]) -> tuple[list[str], list[str]]:
    """For ``run``: the options that are ours, and the script or module with
    its arguments (everything from the script, or after ``-m MODULE``)."""
    if not argv or argv[0] != "run":
        return argv, []
    i = 1
    while i < len(argv):
        arg = argv[i]
        if arg == "-m":
            return argv[: i + 2], argv[i + 2 :]
        if arg in _RUN_VALUED:
            i += 2
        elif arg.startswith("-") and arg != "-":
            i += 1
        else:
            return argv[:i] + ["--", arg], argv[i + 1 :]
    return argv, []


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` and run the command; returns the exit status."""
    from gc_plugin.report import FILE_ONLY, FORMATS

    parser = argparse.ArgumentParser(
        prog="python -m gc_plugin",
        description="gc_plugin: the Memory Pool System's model of memory management for CPython.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("demo", help="run the built-in example (the default)")
    commands.add_parser("variety", help="print the checking variety of the compiled core")
    run = commands.add_parser(
        "run",
        usage=_RUN_USAGE,
        help="run a script or module with the allocator hook active and report the heap",
    )
    run.add_argument(
        "--manage",
        action="append",
        default=[],
        metavar="MOD",
        help="route the allocations of extension module MOD (and its submodules)",
    )
    run.add_argument(
        "--heap",
        choices=("managed", "all"),
        default="managed",
        help="'all': route every allocation",
    )
    run.add_argument("--report", choices=FORMATS, default="text")
    run.add_argument(
        "-o", "--output", metavar="FILE", help="write the report here (else stderr; html: needed)"
    )
    run.add_argument(
        "--leaks",
        action="store_true",
        help="check for lost blocks at exit and add them to the report",
    )
    run.add_argument(
        "--leaks-frames",
        type=int,
        default=1,
        metavar="N",
        help="Python frames to record per allocation site (0: none)",
    )
    run.add_argument(
        "--fail-on-leak",
        action="store_true",
        help="exit with status 1 if definite or indirect leaks are found in the managed modules",
    )
    run.add_argument("-m", dest="module", metavar="MODULE", help="run a library module")
    run.add_argument("target", nargs="*", help="script.py [args...]")
    argv = list(sys.argv[1:] if argv is None else argv)
    own, target = _split_run(argv)
    args = parser.parse_args(own)
    if args.command == "run":
        args.target = list(args.target) + target
        if args.report in FILE_ONLY and args.output is None:
            run.error(f"--report {args.report} needs -o FILE")
        frames_given = any(a.startswith("--leaks-frames") for a in own)
        if (args.fail_on_leak or frames_given) and not args.leaks:
            run.error("--fail-on-leak and --leaks-frames go with --leaks")
        if not 0 <= args.leaks_frames <= 8:
            run.error("--leaks-frames must be 0 to 8")

    if args.command == "variety":
        from gc_plugin import variety

        print(variety())
        return 0
    if args.command == "run":
        return _run(args)
    from gc_plugin.demo import run_demo

    return run_demo()


if __name__ == "__main__":
    sys.exit(main())
