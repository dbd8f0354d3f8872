"""Reports of the routed heap: text for people, JSON for programs, HTML (a
page with pictures, gc_plugin/html_report.py; to a file only).

JSON keys: ``blocks``, ``bytes``, ``by_module`` (list of ``{module, blocks,
bytes}``), ``by_type`` (list of ``{type, blocks, bytes}``), ``by_module_type``
(list of ``{module, type, blocks, bytes}``, the two crossed), plus ``heap``
and ``attribution`` saying how the blocks were routed and attributed, and
``leaks`` when a leak check was made (gc_plugin/leak_finder.py, LeakReport.as_dict).
Implements docs/design/cpython-hook.md (reports) and docs/design/architecture.md (renderers).
"""

from __future__ import annotations

import json
import sys
import time
from typing import TYPE_CHECKING, TextIO

from gc_plugin import hook
from gc_plugin.heap import HeapSummary, summary

if TYPE_CHECKING:
    from gc_plugin.leak_finder import LeakReport

__all__ = ["FILE_ONLY", "FORMATS", "render_text", "render_json", "take_summary", "write_report"]

FORMATS = ("text", "json", "html")
FILE_ONLY = ("html",)  # formats written to a file, never to standard error
_PROGRESS_BLOCKS = 200_000  # walks at least this long say so on a terminal


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    raise AssertionError("unreachable")


def take_summary(progress: TextIO | None = None) -> HeapSummary:
    """summary(), saying on ``progress`` (if a terminal) when the walk is long."""
    from gc_plugin._calls import ffi, lib

    live = int(lib.gcp_hook_live(ffi.NULL))
    talk = progress is not None and progress.isatty() and live >= _PROGRESS_BLOCKS
    if talk:
        assert progress is not None
        progress.write(f"gc_plugin: walking {live:,} blocks...")
        progress.flush()
    start = time.perf_counter()
    result = summary()
    if talk:
        assert progress is not None
        progress.write(f" done in {time.perf_counter() - start:.2f} s\n")
        progress.flush()
    return result


def render_text(s: HeapSummary, top: int = 15) -> str:
    """Totals, then the top modules and types by bytes."""
    st = hook.status()
    lines = [
        f"gc_plugin heap report: {s.blocks:,} live blocks, {_size(s.bytes)} "
        f"({s.bytes:,} bytes) in gc_plugin's pool",
        f"  heap: {st.heap or 'inactive'}; attribution by call site: "
        + {True: "yes", False: "no", None: "untested"}[st.attribution],
        "",
        f"  {'module':<40} {'blocks':>10} {'bytes':>14}",
    ]
    for m in s.by_module[:top]:
        lines.append(f"  {m.module or '(interpreter)':<40} {m.blocks:>10,} {m.bytes:>14,}")
    if len(s.by_module) > top:
        lines.append(f"  ... {len(s.by_module) - top} more modules")
    lines += ["", f"  {'type':<40} {'blocks':>10} {'bytes':>14}"]
    for t in s.by_type[:top]:
        lines.append(f"  {t.type or '(not an object)':<40} {t.blocks:>10,} {t.bytes:>14,}")
    if len(s.by_type) > top:
        lines.append(f"  ... {len(s.by_type) - top} more types")
    return "\n".join(lines) + "\n"


def render_json(s: HeapSummary, leaks: LeakReport | None = None) -> str:
    """The JSON report (with a ``"leaks"`` key if a leak check is given)."""
    st = hook.status()
    doc = s.to_json()
    doc["heap"] = st.heap
    doc["attribution"] = st.attribution
    if leaks is not None:
        doc["leaks"] = leaks.as_dict()
    return json.dumps(doc, indent=2) + "\n"


def write_report(
    fmt: str = "text", path: str | None = None, leaks: LeakReport | None = None
) -> HeapSummary:
    """Walk the heap and write the report to ``path`` (or standard error;
    not for the formats in FILE_ONLY), with the leak check ``leaks`` if
    one was made."""
    if fmt not in FORMATS:
        raise ValueError(f"report format must be one of {FORMATS}, not {fmt!r}")
    if fmt in FILE_ONLY and path is None:
        raise ValueError(f"the {fmt} report needs a file to be written to")
    s = take_summary(progress=sys.stderr)
    if fmt == "html":
        from gc_plugin.html_report import render_html

        text = render_html(json.loads(render_json(s, leaks)))
    elif fmt == "json":
        text = render_json(s, leaks)
    else:
        text = render_text(s) + ("\n" + leaks.to_text() if leaks is not None else "")
    if path is None:
        sys.stderr.write(text)
        sys.stderr.flush()
    else:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    return s
