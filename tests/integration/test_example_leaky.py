"""The example of the README's first command: examples/leaky (a third-party-
style extension with two leak bugs) built from its own setup.py, and its
demo.py run with the module managed and checked for leaks at the end.

The demo's counts are fixed, so the report is exact (examples/leaky/README.md
derives it): put's error path loses 100 entries of 44 bytes and clear(),
which frees only the head, loses 5 lists of 19 entries with their values —
each list's first lost entry definite, the 18 entries and 19 values behind it
indirect.  The 100 sessions the live cache holds (100 entries, 100 values)
are reachable, not lost, and freed when the cache goes.

The check is made two ways: a driver that activates the hook, runs demo.py
with runpy and calls gc_plugin.leaks() (what the API offers today), and
``python -m gc_plugin run --manage leaky --leaks`` (the README's command).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from .childproc import Child

pytestmark = pytest.mark.subprocess

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = REPO_ROOT / "examples" / "leaky"
DEMO = EXAMPLE / "demo.py"
TIMEOUT = 120

ENTRY = 32 + 12  # an entry: its header, then a 12-byte key
VALUE = 28  # a stored record
CACHE = 56  # a leaky.Cache object: the interpreter allocates it for leaky (routed)
DEFINITE = {"blocks": 100 + 5, "bytes": (100 + 5) * ENTRY}
INDIRECT = {"blocks": 5 * (18 + 19), "bytes": 5 * (18 * ENTRY + 19 * VALUE)}
REACHABLE = {"blocks": 2 + 100 + 100, "bytes": 2 * CACHE + 100 * (ENTRY + VALUE)}
NOTHING = {"blocks": 0, "bytes": 0}
DEMO_SAYS = (
    "sessions cached: 100 of 1000 (100 malformed, skipped)",
    "lookups: 100 hits in 5 batches",
)
# and in numbers, as the text report writes them
assert (DEFINITE, INDIRECT, REACHABLE) == (
    {"blocks": 105, "bytes": 4620},
    {"blocks": 185, "bytes": 6620},
    {"blocks": 202, "bytes": 7312},
)


@pytest.fixture(scope="session")
def leaky_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the built extension module ``leaky``, built once per
    session (shared by the xdist workers) by the example's own setup.py."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    out = root / "example_leaky"
    with open(root / "example_leaky.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not (out / "done").exists():
                if out.exists():
                    shutil.rmtree(out)
                out.mkdir()
                build = subprocess.run(
                    [sys.executable, "setup.py", "-q", "build_ext"]
                    + ["--build-lib", str(out), "--build-temp", str(out / "_build")],
                    cwd=EXAMPLE,
                    capture_output=True,
                    text=True,
                    timeout=TIMEOUT,
                )
                assert build.returncode == 0, build.stdout + build.stderr
                (out / "done").write_text("ok\n")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return out


def _run(leaky_dir: Path, cwd: Path, *args: str) -> Child:
    """Run ``python *args`` in cwd with leaky importable and no GC_PLUGIN_*
    variables from the environment."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GC_PLUGIN_", "PYTHONMALLOC", "PYTHONTRACEMALLOC", "PYTHONDEVMODE"))
    }
    env["PYTHONPATH"] = str(leaky_dir)
    argv = [sys.executable, "-X", "faulthandler", *args]
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    child = Child(argv, proc.returncode, proc.stdout, proc.stderr)
    return child


DRIVER = """
    import json, runpy, sys
    import gc_plugin

    def emit(name, report):
        print("RESULT " + json.dumps({"name": name, **report.as_dict(),
                                      "caveats": report.caveats}))

    gc_plugin.activate(manage=["leaky"], leak_tracking=True)
    sys.argv = [sys.argv[1]]
    copy = runpy.run_path(sys.argv[0], run_name="__main__")
    demo_globals = copy["main"].__globals__  # alive, as at the CLI's exit
    emit("at exit", gc_plugin.leaks())
    for g in (copy, demo_globals):
        del g["sessions"], g["scratch"]
    emit("caches gone", gc_plugin.leaks())
"""


@pytest.fixture(scope="module")
def driven(leaky_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The demo run by the driver: its output, and the two reports by name."""
    tmp = tmp_path_factory.mktemp("driver")
    (tmp / "driver.py").write_text(textwrap.dedent(DRIVER))
    child = _run(leaky_dir, tmp, "driver.py", str(DEMO))
    child.assert_clean()
    reports = {r["name"]: r for r in child.results()}  # type: ignore[index]
    return {"child": child, **reports}


def _totals(report: dict[str, Any]) -> dict[str, dict[str, int]]:
    return {k: report[k] for k in ("definite", "indirect", "possible", "reachable")}


def test_the_demo_runs_and_says_what_it_did(driven: dict[str, Any]) -> None:
    for line in DEMO_SAYS:
        assert line in driven["child"].stdout, driven["child"].describe()


def test_the_leaks_found_are_exactly_the_bugs(driven: dict[str, Any]) -> None:
    report = driven["at exit"]
    assert _totals(report) == {
        "definite": DEFINITE,
        "indirect": INDIRECT,
        "possible": NOTHING,
        "reachable": REACHABLE,
    }, driven["child"].describe()
    assert report["caveats"] == []


def test_every_lost_block_is_the_modules(driven: dict[str, Any]) -> None:
    sites = driven["at exit"]["sites"]
    assert {s["module"] for s in sites} == {"leaky"}
    # leak tracking names the allocating functions of leaky.c, with lines
    assert all("(leaky.c:" in s["site"] for s in sites), sites
    for kind, total in (("definite", DEFINITE), ("indirect", INDIRECT)):
        of_kind = [s for s in sites if s["kind"] == kind]
        assert sum(s["blocks"] for s in of_kind) == total["blocks"]
        assert sum(s["bytes"] for s in of_kind) == total["bytes"]


def test_the_live_caches_hold_the_reachable_blocks(driven: dict[str, Any]) -> None:
    """Dropping the caches frees what they held (Cache's dealloc is right):
    nothing is reachable any more, and nothing more is lost."""
    report = driven["caches gone"]
    assert _totals(report) == {
        "definite": DEFINITE,
        "indirect": INDIRECT,
        "possible": NOTHING,
        "reachable": NOTHING,
    }, driven["child"].describe()


def _report_line(kind: str, total: dict[str, int]) -> re.Pattern[str]:
    return re.compile(rf"{kind}\s+{total['blocks']:,} blocks\s+{total['bytes']:,} bytes")


CLI = ("-m", "gc_plugin", "run", "--manage", "leaky", "--leaks")


def test_the_readme_command_prints_the_report(leaky_dir: Path, tmp_path: Path) -> None:
    """``run --manage leaky --leaks demo.py``: the demo's output on stdout,
    the leak report on stderr, status 0."""
    child = _run(leaky_dir, tmp_path, *CLI, str(DEMO))
    child.assert_clean()
    for line in DEMO_SAYS:
        assert line in child.stdout, child.describe()
    for kind, total in (
        ("definite", DEFINITE),
        ("indirect", INDIRECT),
        ("possible", NOTHING),
        ("reachable", REACHABLE),
    ):
        assert _report_line(kind, total).search(child.stderr), child.describe()


def test_the_json_report_has_the_leaks(leaky_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "heap.json"
    child = _run(leaky_dir, tmp_path, *CLI, "--report", "json", "-o", str(out), str(DEMO))
    child.assert_clean()
    leaks = json.loads(out.read_text())["leaks"]
    assert _totals(leaks) == {
        "definite": DEFINITE,
        "indirect": INDIRECT,
        "possible": NOTHING,
        "reachable": REACHABLE,
    }, child.describe()


def test_fail_on_leak_makes_the_status_1(leaky_dir: Path, tmp_path: Path) -> None:
    child = _run(leaky_dir, tmp_path, *CLI, "--fail-on-leak", str(DEMO))
    assert child.returncode == 1, child.describe()
    for line in DEMO_SAYS:
        assert line in child.stdout, child.describe()
