"""Activation from the environment at interpreter start-up.

The package installs ``gc_plugin-autostart.pth`` into site-packages; its one
line imports this module only when ``GC_PLUGIN_MANAGE`` is set, so an
interpreter without the variable pays one dictionary lookup.  The variable
holds comma-separated module names, or ``*`` for the whole heap.
``GC_PLUGIN_REPORT=text|json[:PATH]`` also writes the heap report at exit
(to PATH, else standard error); ``html:PATH`` needs the PATH.
``GC_PLUGIN_LEAKS=1`` also checks for lost blocks at exit (docs/design/leaks.md):
into that report, or on standard error without one (only if some were lost).  Implements
docs/design/cpython-hook.md (activation from the environment).
"""

from __future__ import annotations

import atexit
import os
import sys

TYPE_CHECKING = False  # typing is not imported at start-up
if TYPE_CHECKING:
    from gc_plugin.hook import HeapMode

__all__ = ["parse_manage", "start"]


def parse_manage(value: str) -> tuple[list[str], HeapMode]:
    """Module names and heap mode from a GC_PLUGIN_MANAGE value."""
    names = [n.strip() for n in value.split(",") if n.strip()]
    heap: HeapMode = "all" if "*" in names else "managed"
    return [n for n in names if n != "*"], heap


def _report_at_exit(fmt: str, path: str | None, check_leaks: bool) -> None:
    from gc_plugin.report import write_report

    leaks = None
    if check_leaks:
        from gc_plugin.leak_finder import leaks as check

        leaks = check()
    write_report(fmt, path, leaks)


def _leaks_at_exit() -> None:
    """GC_PLUGIN_LEAKS without GC_PLUGIN_REPORT: the leak report on stderr,
    if anything was lost for certain (definite or indirect): interpreters
    that inherit the variable and lose nothing say nothing, as tests of
    their output expect (LeakSanitizer does the same)."""
    from gc_plugin.leak_finder import leaks

    report = leaks()
    if report.definite.blocks or report.indirect.blocks:
        sys.stderr.write(report.to_text())
        sys.stderr.flush()


def start() -> None:
    """Activate as the environment says; never stops the interpreter."""
    value = os.environ.get("GC_PLUGIN_MANAGE", "")
    if not value.strip():
        return
    try:
        from gc_plugin.hook import activate

        names, heap = parse_manage(value)
        check_leaks = os.environ.get("GC_PLUGIN_LEAKS", "") not in ("", "0")
        activate(manage=names, heap=heap, leak_tracking=True if check_leaks else None)
        report = os.environ.get("GC_PLUGIN_REPORT", "")
        if report:
            from gc_plugin.report import FILE_ONLY, FORMATS

            fmt, _, path = report.partition(":")
            fmt = fmt or "text"
            if fmt not in FORMATS:
                raise ValueError(f"GC_PLUGIN_REPORT: unknown format {fmt!r}")
            if fmt in FILE_ONLY and not path:
                raise ValueError(f"GC_PLUGIN_REPORT: {fmt} needs a file: {fmt}:PATH")
            atexit.register(_report_at_exit, fmt, path or None, check_leaks)
        elif check_leaks:
            atexit.register(_leaks_at_exit)
    except Exception as exc:  # start-up must go on
        sys.stderr.write(f"gc_plugin: GC_PLUGIN_MANAGE={value!r} not honoured: {exc}\n")


start()
