"""The HTML report: one self-contained page (no URL of any kind) showing
live bytes by module, then type, and lost bytes (definite, indirect,
possible) by module, then site, as icicles, with the tables below them.

``render_html(doc)`` takes the JSON report's document (``render_json``'s,
parsed; ``"by_module_type"`` and ``"leaks"`` are optional).  The document
is embedded whole as JSON in a ``<script type="application/json">``
element (every ``<``, ``>`` and ``&`` escaped as ``\\u00XX``, so no name can
close the element) and drawn by html_report.js; the tables are written
here, HTML-escaped, and show the first ``TABLE_ROWS`` rows of each list.
Implements docs/design/reports.md.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["TABLE_ROWS", "render_html"]

TABLE_ROWS = 1000  # rows per table; the chart and the embedded data hold all
LEAK_KINDS = ("definite", "indirect", "possible", "reachable")
_HERE = Path(__file__).resolve().parent


def _asset(name: str) -> str:
    return (_HERE / name).read_text(encoding="utf-8")


def _embed(doc: Mapping[str, Any]) -> str:
    """The document as JSON that is safe inside a script element: the three
    characters only ever occur inside JSON strings, where the escapes mean
    the same characters."""
    text = json.dumps(doc, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _e(value: object, none: str = "") -> str:
    return html.escape(none if value is None else str(value))


def _n(value: object) -> str:
    return f"{value:,}" if isinstance(value, int) else _e(value)


def _size(n: object) -> str:
    if not isinstance(n, int):
        return ""
    x = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if x < 1024 or unit == "GiB":
            return f"{n:,} B" if unit == "B" else f"{x:.1f} {unit}"
        x /= 1024
    raise AssertionError("unreachable")


def _pct(part: object, whole: object) -> str:
    if isinstance(part, int) and isinstance(whole, int) and whole > 0:
        return f"{100 * part / whole:.1f}%"
    return ""


def _table(
    title: str,
    head: Sequence[str],
    rows: Iterable[Sequence[str]],
    total: int,
    klass: str,
) -> str:
    """A table of already escaped cells, with a note when rows were left off."""
    out = [f'<h2>{title}</h2>\n<table class="{klass}">\n<thead><tr>']
    out += [f"<th>{h}</th>" for h in head]
    out.append("</tr></thead>\n<tbody>\n")
    shown = 0
    for row in rows:
        out.append("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>\n")
        shown += 1
    if not shown:
        out.append(f'<tr><td colspan="{len(head)}" class="empty">none</td></tr>\n')
    out.append("</tbody></table>\n")
    if total > shown:
        out.append(
            f'<p class="more">{total - shown:,} more rows are in the chart and the embedded '
            f"data (<code>#gcp-data</code>).</p>\n"
        )
    return "".join(out)


def _list(doc: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    value = doc.get(key)
    return [x for x in value if isinstance(x, Mapping)] if isinstance(value, list) else []


def _usage_rows(
    items: list[Mapping[str, Any]], key: str, none: str, whole: object
) -> Iterable[list[str]]:
    for item in items[:TABLE_ROWS]:
        yield [
            _e(item.get(key), none),
            _n(item.get("blocks")),
            _n(item.get("bytes")),
            _pct(item.get("bytes"), whole),
        ]


def _leak_rows(sites: list[Mapping[str, Any]]) -> Iterable[list[str]]:
    for site in sites[:TABLE_ROWS]:
        kind = _e(site.get("kind"))
        tb = site.get("traceback")
        frames = tb if isinstance(tb, list) else []
        yield [
            f'<span class="kind {kind}">{kind}</span>',
            _e(site.get("module"), "(interpreter)"),
            f'<span class="site">{_e(site.get("site"))}</span>',
            _e(site.get("type"), "(not an object)"),
            _n(site.get("blocks")),
            _n(site.get("bytes")),
            "".join(f'<span class="frame">{_e(f)}</span>' for f in frames),
        ]


def _leak_totals(leaks: Mapping[str, Any]) -> str:
    cells = []
    for kind in LEAK_KINDS:
        k = leaks.get(kind)
        k = k if isinstance(k, Mapping) else {}
        cells.append(
            f'<div class="total"><span class="kind {kind}">{kind}</span> '
            f"<b>{_size(k.get('bytes', 0))}</b> in {_n(k.get('blocks', 0))} blocks</div>"
        )
    return '<div class="totals">' + "".join(cells) + "</div>\n"


def render_html(doc: Mapping[str, Any]) -> str:
    """The report as one HTML page (a str with only encodable characters)."""
    blocks, nbytes = doc.get("blocks", 0), doc.get("bytes", 0)
    modules, types = _list(doc, "by_module"), _list(doc, "by_type")
    attribution = {True: "yes", False: "no", None: "untested"}.get(doc.get("attribution"), "?")
    parts = [
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n',
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
        "<title>gc_plugin heap report</title>\n",
        f"<style>\n{_asset('html_report.css')}</style>\n</head>\n<body>\n",
        "<h1>gc_plugin heap report</h1>\n",
        f'<p class="summary"><b>{_n(blocks)}</b> live blocks, <b>{_size(nbytes)}</b> '
        f"({_n(nbytes)} bytes) in gc_plugin's pool; heap: {_e(doc.get('heap'), 'inactive')}; "
        f"attribution by call site: {attribution}</p>\n",
        '<section><h2>Live bytes by module, then type</h2>\n<div class="chart" id="live-chart">'
        '<p class="nojs">The chart needs JavaScript; the tables are below.</p></div></section>\n',
    ]
    leaks = doc.get("leaks")
    sites: list[Mapping[str, Any]] = []
    if isinstance(leaks, Mapping):
        sites = _list(leaks, "sites")
        parts += [
            "<section><h2>Lost bytes by module, then site</h2>\n",
            _leak_totals(leaks),
            '<div class="chart" id="lost-chart"></div></section>\n',
        ]
    else:
        parts.append('<p class="note" id="no-leaks">This report has no leak check.</p>\n')
    parts += [
        _table(
            "Modules",
            ["module", "blocks", "bytes", "share"],
            _usage_rows(modules, "module", "(interpreter)", nbytes),
            len(modules),
            "modules",
        ),
        _table(
            "Types",
            ["type", "blocks", "bytes", "share"],
            _usage_rows(types, "type", "(not an object)", nbytes),
            len(types),
            "types",
        ),
    ]
    if isinstance(leaks, Mapping):
        parts.append(
            _table(
                "Leak sites",
                ["kind", "module", "site", "type", "blocks", "bytes", "traceback"],
                _leak_rows(sites),
                len(sites),
                "sites",
            )
        )
    parts += [
        f'<script type="application/json" id="gcp-data">{_embed(doc)}</script>\n',
        f"<script>\n{_asset('html_report.js')}</script>\n</body>\n</html>\n",
    ]
    page = "".join(parts)
    # lone surrogates (undecodable file names) would stop the page being written
    return page.encode("utf-8", "backslashreplace").decode("utf-8")
