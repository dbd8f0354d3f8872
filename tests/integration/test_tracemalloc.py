"""The hook and tracemalloc in one process, in both orders: tracemalloc
keeps tracing (snapshots see pool blocks), stop() never takes the hook
away while pool blocks are alive, and no block reaches the wrong
allocator (the child exits 0 with no allocator complaint)."""

from __future__ import annotations

import pytest

from .childproc import RunChild


@pytest.mark.parametrize("heap", ["all", "managed"])
def test_tracemalloc_started_before_activate(run_child: RunChild, heap: str) -> None:
    child = run_child(
        """
    import sys, tracemalloc, warnings
    import gc_plugin
    import gcp_testext_a as a, gcp_testext_b as b
    from gcp_childlib import pool, allocators, emit
    heap = sys.argv[1]
    original = allocators()
    tracemalloc.start(5)
    traced = allocators()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        st = gc_plugin.activate(manage=["gcp_testext_a"], heap=heap)
    # spliced in below tracemalloc, whose hook stays the installed one
    assert st.installed and st.active and st.under_tracemalloc, st
    assert allocators() == traced
    # tracemalloc's functions are the hook's callers: no call sites
    assert st.attribution is False
    assert [w.category for w in caught] == [gc_plugin.AttributionWarning], caught
    assert "tracemalloc" in str(caught[0].message)

    before = [a.alloc("mem", 1000 + i) for i in range(20)]
    objs = [str(i) * 7 for i in range(3000)]
    blocks = pool()
    if heap == "all":
        # everything is routed, attributed by type only
        assert all(p in blocks for p in before)
        assert all(blocks[p].size == 1000 + i for i, p in enumerate(before))
        assert all(id(o) in blocks and blocks[id(o)].type_name == "str" for o in objs)
    else:
        # as the warning said: managed call sites are not seen
        assert blocks == {}
    snap = tracemalloc.take_snapshot()
    assert sum(s.count for s in snap.statistics("filename")) >= 3000
    tracemalloc.stop()
    # tracemalloc reinstalled what it had saved: the hook
    st = gc_plugin.status()
    assert st.installed and st.active and not st.under_tracemalloc, st
    assert allocators() not in (original, traced)
    after = [a.alloc("obj", 300) for i in range(20)]
    blocks = pool()
    assert all(p in blocks and blocks[p].module == "gcp_testext_a" for p in after), heap

    # a second tracing period on top of the hook
    tracemalloc.start()
    assert gc_plugin.status().under_tracemalloc
    more = [str(i) * 5 for i in range(1000)]
    traced_more = [a.alloc("mem", 64) for i in range(10)]
    tracemalloc.stop()
    assert not gc_plugin.status().under_tracemalloc

    # free everything, through the hook, both domains, both modules
    for p in before + traced_more:
        b.free(p, "mem")
    for p in after:
        a.free(p, "obj")
    del objs, more
    if heap == "managed":
        assert pool() == {}
        assert gc_plugin.deactivate() is True
        assert allocators() == original
    else:
        assert gc_plugin.deactivate() is False   # the heap's objects are in the pool
    emit("ok")
""",
        args=[heap],
    )
    child.assert_clean()
    assert child.result() == "ok"


@pytest.mark.parametrize("heap", ["all", "managed"])
def test_tracemalloc_started_after_activate(run_child: RunChild, heap: str) -> None:
    child = run_child(
        """
    import sys, tracemalloc
    import gc_plugin
    import gcp_testext_a as a, gcp_testext_b as b
    from gcp_childlib import pool, allocators, emit
    heap = sys.argv[1]
    original = allocators()
    st = gc_plugin.activate(manage=["gcp_testext_a"], heap=heap)
    assert st.attribution is True and not st.under_tracemalloc, st
    hooked = allocators()
    routed = [a.alloc("mem", 200 + i) for i in range(30)]
    blocks = pool()
    assert all(p in blocks for p in routed)

    tracemalloc.start(3)
    assert gc_plugin.status().under_tracemalloc
    assert gc_plugin.status().attribution is False  # call sites hidden now
    assert allocators() != hooked
    # pool blocks allocated before tracing are freed through tracemalloc's hook
    for p in routed[:15]:
        b.free(p, "mem")
    blocks = pool()
    assert len([p for p in routed if p in blocks]) == 15
    if heap == "all":
        objs = [str(i) * 9 for i in range(3000)]; line = sys._getframe().f_lineno
        blocks = pool()
        assert all(id(o) in blocks for o in objs)
        # tracemalloc traces them
        assert all(tracemalloc.get_object_traceback(o) is not None for o in objs)
        snap = tracemalloc.take_snapshot()
        mine = [s for s in snap.statistics("lineno")
                if s.traceback[0].filename == __file__ and s.traceback[0].lineno == line]
        assert mine and mine[0].count >= 3000, mine
        assert mine[0].size >= sum(sys.getsizeof(o) for o in objs)
    else:
        snap = tracemalloc.take_snapshot()
        assert len(snap.traces) > 0
        objs = []
    tracemalloc.stop()
    assert allocators() == hooked
    assert not gc_plugin.status().under_tracemalloc
    assert gc_plugin.status().attribution is True
    for p in routed[15:]:
        a.free(p, "mem")
    del objs, snap
    if heap == "managed":
        assert pool() == {}
        assert gc_plugin.deactivate() is True
        assert allocators() == original
    emit("ok")
""",
        args=[heap],
    )
    child.assert_clean()
    assert child.result() == "ok"


def test_deactivate_under_tracemalloc(run_child: RunChild) -> None:
    child = run_child(
        """
    import tracemalloc
    import gc_plugin
    import gcp_testext_a as a
    from gcp_childlib import pool, allocators, emit
    original = allocators()

    # activated after tracemalloc, nothing routed: deactivate removes the
    # splice, and tracemalloc.stop() puts back the original allocators
    tracemalloc.start()
    traced = allocators()
    gc_plugin.activate(manage=["gcp_testext_a"])
    x = [str(i) for i in range(500)]
    assert gc_plugin.deactivate() is True
    assert not gc_plugin.status().installed
    y = [str(i) for i in range(500)]
    tracemalloc.stop()
    assert allocators() == original
    del x, y

    # activated before tracemalloc: tracemalloc's hook is above ours, so
    # deactivate can only leave the hook as a shim, even with no pool block
    gc_plugin.activate(manage=["gcp_testext_a"])
    tracemalloc.start()
    assert pool() == {}
    assert gc_plugin.deactivate() is False
    z = [str(i) for i in range(500)]
    tracemalloc.stop()
    del z
    assert allocators() != original and gc_plugin.status().installed
    emit("ok")
"""
    )
    child.assert_clean()
    assert child.result() == "ok"
