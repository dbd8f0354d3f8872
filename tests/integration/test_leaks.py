"""The leak finder (gc_plugin.leaks(), gc_plugin/leak_finder.py): blocks an
extension lost, found with exact counts per kind; blocks it keeps (from
.bss, a malloc block, another thread's stack, a register of a stopped
thread) never called lost; sites named with leak tracking; the command
line and environment routes.  Each scenario runs in a child process with
the test extension gcp_leaky managed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .childproc import RunChild

pytestmark = pytest.mark.subprocess

PRELUDE = """
    import gc_plugin
    from gcp_childlib import emit
    gc_plugin.activate(manage=["gcp_leaky"])
    import gcp_leaky as m

    def kinds(report):
        return {k: (getattr(report, k).blocks, getattr(report, k).bytes)
                for k in ("definite", "indirect", "possible", "reachable")}
"""


def _run(run_child: RunChild, body: str) -> dict[str, list[int]]:
    child = run_child(PRELUDE + body)
    child.assert_clean()
    result = child.result()
    assert isinstance(result, dict)
    return result


def test_nothing_lost_before_anything_is_allocated(run_child: RunChild) -> None:
    got = _run(
        run_child,
        """
    emit(kinds(gc_plugin.leaks()))
    """,
    )
    assert got["definite"] == [0, 0] and got["indirect"] == [0, 0]
    assert got["possible"] == [0, 0]


def test_dropped_buffers_are_definite(run_child: RunChild) -> None:
    got = _run(
        run_child,
        """
    base = kinds(gc_plugin.leaks())
    m.drop(25, 100)
    emit(kinds(gc_plugin.leaks()))
    """,
    )
    assert got["definite"] == [25, 2500]
    assert got["indirect"] == [0, 0] and got["possible"] == [0, 0]


def test_a_dropped_list_is_one_definite_and_the_rest_indirect(run_child: RunChild) -> None:
    got = _run(
        run_child,
        """
    m.drop_list(40)
    m.drop_cycle(10)
    emit(kinds(gc_plugin.leaks()))
    """,
    )
    assert got["definite"] == [2, 2 * 48]
    assert got["indirect"] == [39 + 9, 48 * 48]


def test_interior_pointers_make_blocks_possible(run_child: RunChild) -> None:
    got = _run(
        run_child,
        """
    m.keep_interior(12)
    r = gc_plugin.leaks()
    m.release_all()
    emit(kinds(r))
    """,
    )
    assert got["possible"] == [12, 12 * 64]
    assert got["definite"] == [0, 0]


def test_blocks_kept_anywhere_are_reachable(run_child: RunChild) -> None:
    got = _run(
        run_child,
        """
    m.keep_static(7)
    m.keep_malloc(9)
    m.keep_thread(11)
    m.keep_register()
    r = gc_plugin.leaks()
    m.release_all()
    emit(kinds(r))
    """,
    )
    assert got["definite"] == [0, 0] and got["indirect"] == [0, 0]
    assert got["possible"] == [0, 0]
    assert got["reachable"][0] >= 7 + 9 + 11 + 1


SCRIPT = """
import gcp_leaky as m

def work():
    m.drop(6, 50)
    m.drop_list(4)
    m.keep_static(3)

work()
"""


def test_run_leaks_reports_and_fails_on_leak(run_child: RunChild, tmp_path: Path) -> None:
    (tmp_path / "script.py").write_text(SCRIPT)
    out = tmp_path / "report.json"
    child = run_child(
        args=[
            "-m",
            "gc_plugin",
            "run",
            "--manage",
            "gcp_leaky",
            "--leaks",
            "--fail-on-leak",
            "--report",
            "json",
            "-o",
            str(out),
            "script.py",
        ]
    )
    assert child.returncode == 1, child.describe()
    assert "leaks found" in child.stderr
    doc = json.loads(out.read_text())
    leaks = doc["leaks"]
    assert leaks["definite"] == {"blocks": 7, "bytes": 6 * 50 + 48}
    assert leaks["indirect"] == {"blocks": 3, "bytes": 3 * 48}
    assert leaks["possible"] == {"blocks": 0, "bytes": 0}
    assert leaks["reachable"]["blocks"] >= 3
    kinds = {(s["kind"], s["module"]) for s in leaks["sites"]}
    assert kinds == {("definite", "gcp_leaky"), ("indirect", "gcp_leaky")}
    for site in leaks["sites"]:
        assert set(site) == {"kind", "module", "site", "type", "blocks", "bytes", "traceback"}
    assert sum(s["bytes"] for s in leaks["sites"]) == 6 * 50 + 48 + 3 * 48
    # run --leaks turns leak tracking on: the sites are the static function
    assert all(s["site"].startswith("leaky_alloc+0x") for s in leaks["sites"]), leaks["sites"]
    # without --fail-on-leak the exit status is the script's
    child = run_child(
        args=["-m", "gc_plugin", "run", "--manage", "gcp_leaky", "--leaks", "script.py"]
    )
    assert child.returncode == 0, child.describe()
    assert "definite" in child.stderr and "gcp_leaky" in child.stderr


def test_leaks_from_the_environment(run_child: RunChild, tmp_path: Path) -> None:
    (tmp_path / "script.py").write_text(SCRIPT)
    child = run_child(
        args=["script.py"], env={"GC_PLUGIN_MANAGE": "gcp_leaky", "GC_PLUGIN_LEAKS": "1"}
    )
    child.assert_clean()
    line = next(x for x in child.stderr.splitlines() if x.strip().startswith("definite"))
    assert line.split()[1] == "7", child.stderr
    out = tmp_path / "r.json"
    child = run_child(
        args=["script.py"],
        env={
            "GC_PLUGIN_MANAGE": "gcp_leaky",
            "GC_PLUGIN_LEAKS": "1",
            "GC_PLUGIN_REPORT": f"json:{out}",
        },
    )
    child.assert_clean()
    assert json.loads(out.read_text())["leaks"]["indirect"]["blocks"] == 3
    # a process that loses nothing says nothing
    (tmp_path / "clean.py").write_text("import gcp_leaky as m\nm.keep_static(2)\n")
    child = run_child(
        args=["clean.py"], env={"GC_PLUGIN_MANAGE": "gcp_leaky", "GC_PLUGIN_LEAKS": "1"}
    )
    child.assert_clean()
    assert child.stderr == "", child.stderr


def test_run_refuses_leak_options_without_leaks(run_child: RunChild, tmp_path: Path) -> None:
    (tmp_path / "script.py").write_text(SCRIPT)
    child = run_child(
        args=["-m", "gc_plugin", "run", "--manage", "gcp_leaky", "--fail-on-leak", "script.py"]
    )
    assert child.returncode == 2 and "--leaks" in child.stderr


def test_leak_tracking_names_the_static_allocating_function(run_child: RunChild) -> None:
    child = run_child("""
    import gc_plugin
    from gcp_childlib import emit
    gc_plugin.activate(manage=["gcp_leaky"], leak_tracking=True)
    import gcp_leaky as m
    m.drop(5, 100)
    m.drop_list(3)
    r = gc_plugin.leaks()
    emit([s.as_dict() for s in r.sites] + [r.caveats])
    """)
    child.assert_clean()
    *sites, caveats = child.result()
    assert not any("leak tracking is off" in c for c in caveats), caveats
    blocks = {"definite": 0, "indirect": 0}
    for s in sites:
        blocks[s["kind"]] += s["blocks"]
    assert blocks == {"definite": 6, "indirect": 2}, sites
    for s in sites:
        assert s["module"] == "gcp_leaky"
        # leaky_alloc is static: named from the symbol table, its line from DWARF
        assert s["site"].startswith("leaky_alloc+0x"), s
        assert "(gcp_leaky.c:" in s["site"], s


def test_without_leak_tracking_sites_name_the_module(run_child: RunChild) -> None:
    child = run_child("""
    import gc_plugin
    from gcp_childlib import emit
    gc_plugin.activate(manage=["gcp_leaky"])
    import gcp_leaky as m
    m.drop(2, 10)
    r = gc_plugin.leaks()
    emit([[s.site for s in r.sites], r.caveats])
    """)
    child.assert_clean()
    sites, caveats = child.result()
    assert len(sites) == 1 and "gcp_leaky" in sites[0] and "+0x" not in sites[0], sites
    assert any("leak tracking is off" in c for c in caveats), caveats


def test_tracebacks_name_the_python_lines(run_child: RunChild) -> None:
    child = run_child("""
    import gc_plugin
    from gcp_childlib import emit
    gc_plugin.activate(manage=["gcp_leaky"], leak_tracking=True, leak_frames=2)
    import gcp_leaky as m

    def inner():
        m.drop(3, 20)  # line 8

    def outer():
        inner()  # line 11

    outer()
    r = gc_plugin.leaks()
    emit([s.as_dict() for s in r.sites])
    """)
    child.assert_clean()
    (site,) = child.result()
    assert site["blocks"] == 3 and site["kind"] == "definite"
    assert [f.rsplit("/", 1)[-1] for f in site["traceback"]] == ["child.py:11", "child.py:8"]


def test_whole_heap_reference_leaks_of_str_list_dict_and_instances(run_child: RunChild) -> None:
    # list, dict and instances are containers on the cyclic GC's lists: this
    # is also the regression test for skipping the PyGC_Head links, which
    # would otherwise make every one of them reachable
    child = run_child("""
    import gc_plugin
    from gcp_childlib import emit
    gc_plugin.activate(heap="all", leak_tracking=True, leak_frames=1)
    import gcp_leaky as m

    def make():
        text = "x" * 5000          # line 8
        items = [object()] * 300   # line 9
        table = {i: i for i in range(100)}  # line 10
        thing = Thing()            # line 11
        for obj in (text, items, table, thing):
            m.leak_ref(obj)

    class Thing:
        def __init__(self):
            self.payload = "y" * 3000

    # lists and dicts come from free lists that may hold objects made
    # before activation (not routed): drain them first
    drained = [[] for _ in range(200)], [{} for _ in range(200)]

    make()
    r = gc_plugin.leaks()
    emit([s.as_dict() for s in r.sites if s.kind == "definite"])
    """)
    child.assert_clean()
    definite = child.result()
    by_type = {
        s["type"]: s
        for s in definite
        if s["traceback"] and s["traceback"][-1].endswith(("8", "9", "10", "11"))
    }
    assert "str" in by_type and "list" in by_type, definite
    assert by_type["str"]["blocks"] == 1 and by_type["str"]["bytes"] >= 5000
    assert by_type["list"]["blocks"] == 1
    assert [f.rsplit("/", 1)[-1] for f in by_type["str"]["traceback"]] == ["child.py:8"]
    assert [f.rsplit("/", 1)[-1] for f in by_type["list"]["traceback"]] == ["child.py:9"]
    assert by_type["dict"]["blocks"] == 1
    assert [f.rsplit("/", 1)[-1] for f in by_type["dict"]["traceback"]] == ["child.py:10"]
    # the instance: in 3.11 a managed-dict pre-header comes before its
    # PyGC_Head and object header (where a start pointer points)
    assert by_type["__main__.Thing"]["blocks"] == 1, definite
    assert [f.rsplit("/", 1)[-1] for f in by_type["__main__.Thing"]["traceback"]] == ["child.py:11"]
    assert by_type["str"]["module"] == "builtins"
    assert by_type["str"]["site"].startswith("PyUnicode_New+0x"), by_type["str"]


def test_managed_mode_routes_the_modules_own_types(run_child: RunChild) -> None:
    # instances of gcp_leaky.Holder are allocated by the interpreter
    # (PyType_GenericAlloc), for the module: routed and attributed to it
    child = run_child("""
    import gc_plugin
    from gcp_childlib import emit
    gc_plugin.activate(manage=["gcp_leaky"], leak_tracking=True)
    import gcp_leaky as m

    class Sub(m.Holder):   # a Python class: not the module's type
        pass

    def make():
        kept = [m.Holder(40) for _ in range(3)]
        for _ in range(4):
            m.leak_ref(m.Holder(24))
        m.leak_ref(Sub(16))
        return kept

    kept = make()
    r = gc_plugin.leaks()
    s = gc_plugin.summary()
    emit({"sites": [x.as_dict() for x in r.sites],
          "types": {t.type: t.blocks for t in s.by_type}})
    """)
    child.assert_clean()
    got = child.result()
    definite = [s for s in got["sites"] if s["kind"] == "definite"]
    indirect = [s for s in got["sites"] if s["kind"] == "indirect"]
    by_type = {s["type"]: s["blocks"] for s in definite}
    assert by_type == {"gcp_leaky.Holder": 4}, definite
    assert all(s["module"] == "gcp_leaky" for s in definite + indirect)
    # their buffers are lost with them, indirectly
    assert sum(s["blocks"] for s in indirect) == 4 and all(s["type"] is None for s in indirect)
    # the kept ones are routed too (3 kept + 4 lost); the Python subclass's
    # instance is the interpreter's (its buffer, allocated by the module, is
    # routed and reachable from it: not lost)
    assert got["types"]["gcp_leaky.Holder"] == 7 and "__main__.Sub" not in got["types"]
