"""The HTML report (gc_plugin/html_report.py): rendered from JSON report
documents and read back with html.parser (self-contained, escaped, the data
round-trips, empty and large reports), then loaded in headless Chromium
(browser.py): no console error, no request but the file, the names drawn;
a deliberately broken page is caught; and ``python -m gc_plugin run
--report html`` end to end."""

from __future__ import annotations

import html.parser
import json
import os
import re
import sys
import time
import tomllib
from pathlib import Path
from typing import Any

import pytest

from gc_plugin.html_report import TABLE_ROWS, render_html

from . import browser
from .childproc import RunChild

REPO_ROOT = Path(__file__).resolve().parents[2]
SITE = "leaky_append+0x1f (leaky.c:42)"
# if any of these reached the page as markup, the browser check would see the
# console error or the request
HOSTILE = [
    '</script><script>console.error("pwned 1")</script>',
    "<img src=x onerror=console.error('pwned-2')>",
    '"><svg onload=console.error("pwned 3")>',
    "<!-- ]]> &amp; \u2028\u2029 \\u003c/script> 'quote' \"dq\"",
    "constructor",
    "__proto__",
    "caf\u00e9 \U0001f600 \udcff",  # a lone surrogate, as from an undecodable file name
]


def _leaks(sites: list[dict[str, Any]]) -> dict[str, Any]:
    total = {k: {"blocks": 0, "bytes": 0} for k in ("definite", "indirect", "possible")}
    for s in sites:
        total[s["kind"]]["blocks"] += s["blocks"]
        total[s["kind"]]["bytes"] += s["bytes"]
    return {**total, "reachable": {"blocks": 3, "bytes": 96}, "sites": sites}


def sample_doc(hostile: bool = True) -> dict[str, Any]:
    names = HOSTILE if hostile else ["other"]
    modules = [("leaky", "leaky.Node", 40, 4000), (None, None, 10, 640)]
    modules += [(n, n, 1, 16) for n in names]
    sites = [
        {
            "kind": "definite",
            "module": "leaky",
            "site": SITE,
            "type": None,
            "blocks": 3,
            "bytes": 300,
            "traceback": ["run.py:3", "leaky_use.py:12"],
        },
        {
            "kind": "indirect",
            "module": None,
            "site": "grow+0x8 (leaky.c:50)",
            "type": "leaky.Node",
            "blocks": 1,
            "bytes": 48,
            "traceback": [],
        },
    ]
    sites += [
        {"kind": "possible", "module": n, "site": n, "type": n, "blocks": 1, "bytes": 8,
         "traceback": [n]}
        for n in names
    ]  # fmt: skip
    return {
        "blocks": sum(m[2] for m in modules),
        "bytes": sum(m[3] for m in modules),
        "by_module": [{"module": m, "blocks": b, "bytes": n} for m, _, b, n in modules],
        "by_type": [{"type": t, "blocks": b, "bytes": n} for _, t, b, n in modules],
        "by_module_type": [
            {"module": m, "type": t, "blocks": b, "bytes": n} for m, t, b, n in modules
        ],
        "heap": "all",
        "attribution": True,
        "leaks": _leaks(sites),
    }


EMPTY_DOCS = {
    "empty": {"blocks": 0, "bytes": 0, "by_module": [], "by_type": [], "heap": None,
              "attribution": None},
    "empty-leaks": {"blocks": 0, "bytes": 0, "by_module": [], "by_type": [],
                    "by_module_type": [], "leaks": _leaks([])},
    "nothing": {},
}  # fmt: skip


class _Page(html.parser.HTMLParser):
    """Elements, attributes, script bodies and table cells of a page."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.styles: list[str] = []
        self.cells: list[str] = []
        self._in: str | None = None
        self._attrs: dict[str, str | None] = {}
        self._text: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))
        if tag in ("script", "style", "td"):
            self._in, self._attrs, self._text = tag, dict(attrs), []

    def handle_endtag(self, tag: str) -> None:
        if tag != self._in:
            return
        text = "".join(self._text)
        if tag == "script":
            self.scripts.append((self._attrs, text))
        elif tag == "style":
            self.styles.append(text)
        else:
            self.cells.append(text)
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in:
            self._text.append(data)

    def data(self) -> Any:
        (body,) = [t for a, t in self.scripts if a.get("id") == "gcp-data"]
        return json.loads(body)


def test_the_page_is_self_contained() -> None:
    text = render_html(sample_doc())
    page = _Page(text)
    urls = [
        (tag, name, value)
        for tag, attrs in page.tags
        for name, value in attrs
        if name in ("src", "href", "srcset", "action", "data", "poster", "xlink:href")
    ]
    assert not urls
    assert not [t for t, _ in page.tags if t in ("link", "iframe", "img", "object", "embed")]
    assert all("url(" not in s and "@import" not in s for s in page.styles)
    # the only URL-looking text is the SVG namespace name, which is never fetched
    assert set(re.findall(r"[a-z][a-z0-9+.-]*://[^\s\"'<>)]*", text)) == {
        "http://www.w3.org/2000/svg"
    }
    assert len(page.scripts) == 2  # the data and the drawing code, no other
    assert [a.get("type") for a, _ in page.scripts] == ["application/json", None]


def test_names_are_escaped_and_the_data_round_trips() -> None:
    doc = sample_doc()
    page = _Page(render_html(doc))
    assert page.data() == doc
    # no hostile name made an element or attribute of its own
    assert {t for t, _ in page.tags} <= {
        "html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "b", "section",
        "div", "span", "table", "thead", "tbody", "tr", "th", "td", "code", "script",
    }  # fmt: skip
    assert not [a for _, attrs in page.tags for a, _ in attrs if a.startswith("on")]
    for name in HOSTILE:
        shown = name.encode("utf-8", "backslashreplace").decode()
        assert shown in page.cells, name  # the module's row, read back as text
        assert f"{shown}{shown}" in "".join(page.cells), name  # site and type, side by side


def test_package_data_holds_the_page_assets() -> None:
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    for name in ("html_report.js", "html_report.css"):
        assert name in config["package-data"]["gc_plugin"]
        assert (REPO_ROOT / "gc_plugin" / name).is_file()


@pytest.mark.parametrize("name", sorted(EMPTY_DOCS))
def test_empty_reports_render(name: str) -> None:
    doc = EMPTY_DOCS[name]
    page = _Page(render_html(doc))
    assert page.data() == doc
    assert "none" in page.cells
    assert ('id="lost-chart"' in render_html(doc)) == ("leaks" in doc)


def big_doc(sites: int = 100_000, modules: int = 500) -> dict[str, Any]:
    kinds = ("definite", "indirect", "possible")
    leak_sites = [
        {
            "kind": kinds[i % 3],
            "module": f"mod{i % modules}",
            "site": f"fn{i}+0x{i:x} (file{i % 97}.c:{i % 1000})",
            "type": None if i % 2 else f"mod{i % modules}.T{i % 7}",
            "blocks": 1 + i % 5,
            "bytes": 16 * (1 + (sites - i) % 1000),
            "traceback": [f"a{i % 13}.py:{i % 300}", f"b{i % 11}.py:{i % 200}"],
        }
        for i in range(sites)
    ]
    leak_sites.sort(key=lambda s: -s["bytes"])
    cross = [
        {"module": f"mod{m}", "type": f"mod{m}.T{t}", "blocks": 10 + t, "bytes": 1000 * (m + t)}
        for m in range(modules)
        for t in range(20)
    ]
    return {
        "blocks": sum(c["blocks"] for c in cross),
        "bytes": sum(c["bytes"] for c in cross),
        "by_module": [{"module": f"mod{m}", "blocks": 1, "bytes": 1} for m in range(modules)],
        "by_type": [{"type": c["type"], "blocks": 1, "bytes": 1} for c in cross],
        "by_module_type": cross,
        "leaks": _leaks(leak_sites),
    }


def test_a_large_report_renders_with_capped_tables() -> None:
    doc = big_doc()
    start = time.perf_counter()
    text = render_html(doc)
    took = time.perf_counter() - start
    print(f"rendered 100,000 leak sites ({len(text):,} characters) in {took:.3f} s")
    assert text.count("<tr><td>") == 500 + TABLE_ROWS + TABLE_ROWS  # modules, types, sites
    assert "99,000 more rows" in text and "9,000 more rows" in text
    assert _Page(text).data() == doc


# The browser ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chromium() -> str:
    found = browser.find()
    if found is None:
        if os.environ.get("CI") or os.environ.get("GCP_CI"):
            pytest.fail(f"no browser ({', '.join(browser.NAMES)}) in CI: .ci/run installs one")
        pytest.skip(f"no browser: none of {', '.join(browser.NAMES)} on PATH")
    return found


def _load(chromium: str, path: Path, text: str) -> browser.PageLoad:
    path.write_text(text, encoding="utf-8")
    return browser.load(chromium, path)


def _clean(load: browser.PageLoad, path: Path) -> None:
    assert load.errors == [], load.errors
    assert load.requests == [path.resolve().as_uri()]  # nothing but the file itself
    assert 'data-gcp-drawn="yes"' in load.dom


@pytest.mark.subprocess
def test_the_page_renders_in_a_browser(chromium: str, tmp_path: Path) -> None:
    path = tmp_path / "report.html"
    load = _load(chromium, path, render_html(sample_doc()))
    _clean(load, path)
    # drawn by the script: the site's box in the lost chart, with its tooltip
    assert re.search(r'id="lost-chart" data-nodes="[1-9]', load.dom)
    assert re.search(r"<title>lost › leaky › " + re.escape(SITE) + "\n", load.dom), load.dom
    assert re.search(r"<title>live › leaky › leaky\.Node\n", load.dom)
    assert "run.py:3" in load.dom


@pytest.mark.subprocess
@pytest.mark.parametrize("name", sorted(EMPTY_DOCS))
def test_an_empty_page_renders_in_a_browser(chromium: str, tmp_path: Path, name: str) -> None:
    path = tmp_path / "report.html"
    load = _load(chromium, path, render_html(EMPTY_DOCS[name]))
    _clean(load, path)
    assert "No live blocks in gc_plugin's pool." in load.dom


BREAKAGES = {
    "uncaught": ("</body>", "<script>noSuchFunction();</script></body>", "noSuchFunction"),
    "console.error": ("</body>", "<script>console.error('oops');</script></body>", "oops"),
    "bad data": ('id="gcp-data">', 'id="gcp-data">{', "JSON"),
    "syntax": ('"use strict";', '"use strict"; var = ;', "SyntaxError"),
    "fetch": ("</body>", '<img src="missing.png"></body>', "missing.png"),
}


@pytest.mark.subprocess
@pytest.mark.parametrize("name", sorted(BREAKAGES))
def test_the_browser_check_catches_a_broken_page(chromium: str, tmp_path: Path, name: str) -> None:
    old, new, sign = BREAKAGES[name]
    text = render_html(sample_doc(hostile=False))
    assert text.count(old) == 1
    path = tmp_path / "broken.html"
    load = _load(chromium, path, text.replace(old, new))
    assert load.errors, load
    assert any(sign in e for e in load.errors), load.errors
    with pytest.raises(AssertionError):
        _clean(load, path)


WORKLOAD = """
import gcp_testext_a as a
things = a.make_things(12)
kept = [a.alloc("mem", 1000 + i) for i in range(20)]
"""


@pytest.mark.subprocess
def test_run_writes_a_page_that_loads(chromium: str, run_child: RunChild, tmp_path: Path) -> None:
    (tmp_path / "workload.py").write_text(WORKLOAD)
    out = tmp_path / "report.html"
    child = run_child(
        args=["-m", "gc_plugin", "run", "--heap", "all", "--report", "html", "-o", str(out),
              "workload.py"],
    )  # fmt: skip
    child.assert_clean()
    load = browser.load(chromium, out)
    _clean(load, out)
    data = _Page(out.read_text(encoding="utf-8")).data()
    assert data["heap"] == "all" and "leaks" not in data
    assert re.search(r"<title>live › gcp_testext_a\n", load.dom)
    assert re.search(r"<title>live › gcp_testext_a › gcp_testext_a\.Thing\n", load.dom)
    assert "<td>gcp_testext_a.Thing</td>" in load.dom


@pytest.mark.subprocess
def test_html_needs_a_file(run_child: RunChild, tmp_path: Path) -> None:
    (tmp_path / "workload.py").write_text(WORKLOAD)
    child = run_child(
        args=["-m", "gc_plugin", "run", "--manage", "gcp_testext_a", "--report", "html",
              "workload.py"],
    )  # fmt: skip
    assert child.returncode == 2, child.describe()
    assert "--report html needs -o FILE" in child.stderr
    child = run_child(
        "import gcp_testext_a\n",
        env={"GC_PLUGIN_MANAGE": "gcp_testext_a", "GC_PLUGIN_REPORT": "html"},
    )
    assert child.returncode == 0, child.describe()
    assert "GC_PLUGIN_REPORT: html needs a file" in child.stderr
    assert "<html" not in child.stderr


@pytest.mark.subprocess
def test_environment_writes_the_page(run_child: RunChild, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    child = run_child(
        "import gcp_testext_a as a\nthings = a.make_things(3)\n",
        env={"GC_PLUGIN_MANAGE": "gcp_testext_a", "GC_PLUGIN_REPORT": f"html:{out}"},
    )
    child.assert_clean()
    data = _Page(out.read_text(encoding="utf-8")).data()
    assert data["by_module"][0]["module"] == "gcp_testext_a"
    assert any(p["type"] == "gcp_testext_a.Thing" for p in data["by_module_type"])


def test_write_report_refuses_html_without_a_file() -> None:
    from gc_plugin.report import write_report

    with pytest.raises(ValueError, match="needs a file"):
        write_report("html", None)
    assert sys.modules["gc_plugin.report"].FORMATS[-1] == "html"
