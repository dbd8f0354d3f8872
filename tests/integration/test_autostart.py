"""Activation from outside the program: GC_PLUGIN_MANAGE (+ GC_PLUGIN_REPORT)
read by the installed gc_plugin-autostart.pth at start-up, and
``python -m gc_plugin run``; the JSON report counts exactly the managed
module's live blocks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from .childproc import RunChild

# Imports the managed module after start-up (so its init block is routed
# too) and keeps blocks alive until the report is written at exit.  What it
# holds is written to expected.json.
WORKLOAD = """
    import json, sys
    import gcp_testext_a as a
    import gcp_testext_b as b
    kept = [a.alloc("mem", 100 + i) for i in range(10)]
    kept += [a.alloc("obj", 3000) for i in range(5)] + [a.alloc("calloc", 20000)]
    gone = [a.alloc("mem", 50) for i in range(7)]
    for p in gone:
        a.free(p)
    things = a.make_things(12)
    unrouted = [b.alloc("mem", 64) for i in range(5)] + [a.alloc("raw", 64)]
    junk = [str(i) * 3 for i in range(1000)]
    thing_size = a.Thing.__basicsize__
    expected = {
        "blocks": 1 + 10 + 5 + 1 + 12,
        "bytes": a.INIT_SIZE + sum(100 + i for i in range(10)) + 5 * 3000 + 20000 + 12 * thing_size,
        "thing_blocks": 12,
        "thing_bytes": 12 * thing_size,
        "gc_plugin_loaded": "gc_plugin" in sys.modules,
    }
    if "gc_plugin" in sys.modules:
        import gc_plugin
        expected["status"] = {"active": gc_plugin.status().active, "heap": gc_plugin.status().heap}
    with open("expected.json", "w") as f:
        json.dump(expected, f)
"""


def _check_report(report: dict[str, Any], expected: dict[str, Any]) -> None:
    assert set(report) >= {"blocks", "bytes", "by_module", "by_type"}, report
    assert (report["blocks"], report["bytes"]) == (expected["blocks"], expected["bytes"]), (
        report,
        expected,
    )
    assert report["by_module"] == [
        {"module": "gcp_testext_a", "blocks": expected["blocks"], "bytes": expected["bytes"]}
    ], report["by_module"]
    by_type = report["by_type"]
    assert isinstance(by_type, list)
    assert all(set(t) == {"type", "blocks", "bytes"} for t in by_type), by_type
    types = {t["type"]: (t["blocks"], t["bytes"]) for t in by_type}
    thing = (expected["thing_blocks"], expected["thing_bytes"])
    assert types == {
        "gcp_testext_a.Thing": thing,
        None: (expected["blocks"] - thing[0], expected["bytes"] - thing[1]),
    }, by_type
    assert sum(t["blocks"] for t in by_type) == report["blocks"]
    assert sum(t["bytes"] for t in by_type) == report["bytes"]
    # the cross of the two: every cell is in gcp_testext_a, one per type
    assert {
        (p["module"], p["type"]): (p["blocks"], p["bytes"]) for p in report["by_module_type"]
    } == {("gcp_testext_a", t): counts for t, counts in types.items()}, report["by_module_type"]
    assert report.get("heap") == "managed"


def test_environment_variables_activate_and_report_json(
    run_child: RunChild, tmp_path: Path
) -> None:
    out = tmp_path / "report.json"
    child = run_child(
        WORKLOAD,
        env={"GC_PLUGIN_MANAGE": "gcp_testext_a", "GC_PLUGIN_REPORT": f"json:{out}"},
    )
    child.assert_clean()
    expected = json.loads((tmp_path / "expected.json").read_text())
    assert expected["gc_plugin_loaded"] is True
    assert expected["status"] == {"active": True, "heap": "managed"}
    _check_report(json.loads(out.read_text()), expected)


def test_environment_report_in_text_on_stderr(run_child: RunChild, tmp_path: Path) -> None:
    child = run_child(
        WORKLOAD, env={"GC_PLUGIN_MANAGE": " gcp_testext_a , ", "GC_PLUGIN_REPORT": "text"}
    )
    child.assert_clean()
    expected = json.loads((tmp_path / "expected.json").read_text())
    assert f"gc_plugin heap report: {expected['blocks']:,} live blocks" in child.stderr
    assert f"({expected['bytes']:,} bytes)" in child.stderr
    assert "gcp_testext_a.Thing" in child.stderr


@pytest.mark.parametrize("how", ["script", "module"])
def test_run_command_reports_json(run_child: RunChild, tmp_path: Path, how: str) -> None:
    (tmp_path / "workload.py").write_text(textwrap.dedent(WORKLOAD))
    out = tmp_path / "report.json"
    target = ["workload.py", "arg1"] if how == "script" else ["-m", "workload", "arg1"]
    child = run_child(
        args=[
            "-m",
            "gc_plugin",
            "run",
            "--manage",
            "gcp_testext_a",
            "--report",
            "json",
            "-o",
            str(out),
            *target,
        ],
    )
    child.assert_clean()
    expected = json.loads((tmp_path / "expected.json").read_text())
    assert expected["status"] == {"active": True, "heap": "managed"}
    _check_report(json.loads(out.read_text()), expected)


def test_run_command_passes_the_exit_status(run_child: RunChild, tmp_path: Path) -> None:
    (tmp_path / "exits.py").write_text(
        "import sys, gcp_testext_a as a\nkeep = a.alloc('mem', 10)\nsys.exit(3)\n"
    )
    out = tmp_path / "report.json"
    child = run_child(
        args=[
            "-m",
            "gc_plugin",
            "run",
            "--manage",
            "gcp_testext_a",
            "--report",
            "json",
            "-o",
            str(out),
            "exits.py",
        ],
    )
    assert child.returncode == 3, child.describe()
    report = json.loads(out.read_text())
    assert (report["blocks"], report["bytes"]) == (2, 777 + 10)


def test_without_the_variable_nothing_is_loaded(run_child: RunChild) -> None:
    child = run_child(
        """
    import sys
    import gcp_testext_a as a
    assert "gc_plugin" not in sys.modules, sorted(m for m in sys.modules if "gc_plugin" in m)
    assert "gc_plugin._autostart" not in sys.modules
    print("RESULT \\"ok\\"")
""",
        env={"GC_PLUGIN_MANAGE": None, "GC_PLUGIN_REPORT": "json:/nonexistent/x.json"},
    )
    child.assert_clean()
    assert child.result() == "ok"
    # an empty value is "unset" too
    child = run_child(
        """
    import sys
    assert "gc_plugin" not in sys.modules
    print("RESULT \\"ok\\"")
""",
        env={"GC_PLUGIN_MANAGE": ""},
    )
    child.assert_clean()
    assert child.result() == "ok"


def test_star_routes_the_whole_heap(run_child: RunChild) -> None:
    child = run_child(
        """
    import sys
    assert "gc_plugin" in sys.modules
    import gc_plugin
    from gcp_childlib import pool, emit
    st = gc_plugin.status()
    assert st.active and st.heap == "all" and st.managed == (), st
    s = [str(i) * 4 for i in range(500)]
    blocks = pool()
    assert all(id(x) in blocks and blocks[id(x)].type_name == "str" for x in s)
    emit("ok")
""",
        env={"GC_PLUGIN_MANAGE": "*"},
    )
    child.assert_clean()
    assert child.result() == "ok"


def test_bad_report_format_is_reported_and_the_program_runs(run_child: RunChild) -> None:
    child = run_child(
        """
    print("RESULT \\"ran\\"")
""",
        env={"GC_PLUGIN_MANAGE": "gcp_testext_a", "GC_PLUGIN_REPORT": "yaml"},
    )
    child.assert_clean()
    assert child.result() == "ran"
    assert "GC_PLUGIN_MANAGE" in child.stderr and "yaml" in child.stderr


def test_start_up_does_not_import_threading(run_child: RunChild) -> None:
    # threading binds its main thread when first imported, and programs (and
    # CPython's test_threading) look at whether it is imported yet: the
    # activation at start-up must not import it for them
    child = run_child(
        """
    import sys
    assert "gc_plugin" in sys.modules
    assert "threading" not in sys.modules
    import gc_plugin
    assert gc_plugin.status().active
    print("RESULT \\"ok\\"")
""",
        env={"GC_PLUGIN_MANAGE": "gcp_testext_a"},
    )
    child.assert_clean()
    assert child.result() == "ok"


def test_start_up_loads_only_the_hook(tmp_path: Path) -> None:
    # The modules an isolated interpreter loads with GC_PLUGIN_MANAGE='*'
    # beyond those it loads without: gc_plugin's own and the built-in
    # modules they need, nothing that a program could notice being imported.
    code = "import sys; print(' '.join(sorted(sys.modules)))"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GC_PLUGIN_", "PYTHON"))}
    plain = subprocess.run(
        [sys.executable, "-I", "-c", code], env=env, capture_output=True, text=True, check=True
    )
    env["GC_PLUGIN_MANAGE"] = "*"
    hooked = subprocess.run(
        [sys.executable, "-I", "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert hooked.stderr == ""
    extra = set(hooked.stdout.split()) - set(plain.stdout.split())
    assert "gc_plugin.hook" in extra
    foreign = {m for m in extra if not m.startswith("gc_plugin")}
    assert foreign <= {"_cffi_backend", "_tracemalloc", "atexit", "collections.abc"}, foreign
