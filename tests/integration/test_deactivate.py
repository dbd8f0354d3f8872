"""deactivate(): with routed blocks alive the hook stays as a forwarding
shim that still frees and reallocates them (also during interpreter
exit); with none, the original allocators are put back."""

from __future__ import annotations

from .childproc import RunChild


def test_deactivate_with_live_blocks_leaves_a_working_shim(run_child: RunChild) -> None:
    child = run_child(
        """
    import gc_plugin
    import gcp_testext_a as a, gcp_testext_b as b
    from gcp_childlib import pool, module_usage, allocators, emit
    original = allocators()
    gc_plugin.activate(manage=["gcp_testext_a"])
    blocks = []
    for i, (dom, size) in enumerate([("mem", 24), ("obj", 100), ("mem", 4000), ("obj", 50000)] * 3):
        p = a.alloc(dom, size)
        a.fill(p, size, i)
        blocks.append((p, dom, size, i))
    things = a.make_things(50)
    kept_at_exit = a.alloc("mem", 123)       # still alive when the interpreter exits
    a.fill(kept_at_exit, 123, 99)

    assert gc_plugin.deactivate() is False
    st = gc_plugin.status()
    assert st.installed and not st.active and st.heap is None and st.managed == (), st
    assert not gc_plugin.is_active()
    assert allocators() != original        # the shim is still installed
    n_live = len(blocks) + len(things) + 1
    assert len(pool()) == n_live

    # nothing new is routed
    fresh = a.alloc("mem", 64)
    assert fresh not in pool()
    a.free(fresh)
    # pool blocks: free some, reallocate some (they move out), check contents
    for p, dom, size, seed in blocks[:6]:
        assert a.check(p, size, seed)
        (a if seed % 2 else b).free(p, dom)
    for p, dom, size, seed in blocks[6:]:
        q = a.realloc(p, size + 7, dom)
        assert q not in pool() and a.check(q, size, seed)
        a.free(q, dom)
    del things[::2]
    assert len(pool()) == 25 + 1
    things_left = things             # freed during interpreter exit, through the shim
    emit("ok")
"""
    )
    child.assert_clean()
    assert child.result() == "ok"


def test_deactivate_after_the_last_block_is_freed_removes_the_hook(run_child: RunChild) -> None:
    child = run_child(
        """
    import gc_plugin
    import gcp_testext_a as a
    from gcp_childlib import pool, allocators, emit
    original = allocators()
    gc_plugin.activate(manage=["gcp_testext_a"])
    p = a.alloc("mem", 10)
    assert gc_plugin.deactivate() is False
    a.free(p)
    assert pool() == {}
    assert gc_plugin.deactivate() is True
    assert allocators() == original and not gc_plugin.status().installed
    emit("ok")
"""
    )
    child.assert_clean()
    assert child.result() == "ok"


def test_deactivate_without_routed_blocks_restores_the_allocators(run_child: RunChild) -> None:
    child = run_child(
        """
    import gc_plugin
    from gcp_childlib import pool, allocators, emit
    original = allocators()

    # managed mode, the module never imported: nothing was routed
    st = gc_plugin.activate(manage=["gcp_testext_a"])
    assert st.installed and st.active
    hooked = allocators()
    assert all(hooked[d] != original[d] for d in ("raw", "mem", "obj")), (hooked, original)
    x = [str(i) for i in range(1000)]
    assert pool() == {}
    assert gc_plugin.deactivate() is True
    st = gc_plugin.status()
    assert not st.installed and not st.active, st
    assert allocators() == original

    # a fresh cycle installs the hook again and removes it again
    gc_plugin.activate(manage=["gcp_testext_a"])
    assert allocators() == hooked
    import gcp_testext_a as a
    p = a.alloc("obj", 80)
    assert p in pool()
    a.free(p)
    a.release_init_block()
    assert pool() == {}
    assert gc_plugin.deactivate() is True
    assert allocators() == original

    # and again with the whole heap: the objects made meanwhile keep it a shim
    gc_plugin.activate(heap="all")
    y = [str(i) * 2 for i in range(1000)]
    assert len(pool()) >= 1000
    assert gc_plugin.deactivate() is False
    assert allocators() == hooked
    del y                             # freed through the shim
    emit("ok")
"""
    )
    child.assert_clean()
    assert child.result() == "ok"


def test_activate_again_manages_an_already_imported_module(run_child: RunChild) -> None:
    # deactivate() forgets the managed modules; activating again with the
    # same names must manage them again although they are imported already
    child = run_child(
        """
    import gc_plugin
    import gcp_testext_a as a
    from gcp_childlib import pool, emit
    for cycle in range(3):
        gc_plugin.activate(manage=["gcp_testext_a"])
        assert gc_plugin.hook.managed_modules() == {"gcp_testext_a": a.__file__}, cycle
        p = a.alloc("mem", 10 + cycle)
        assert p in pool(), cycle
        a.free(p)
        assert gc_plugin.deactivate() is True, cycle
        assert gc_plugin.hook.managed_modules() == {}
        q = a.alloc("mem", 10)
        assert q not in pool()
        a.free(q)
    emit("ok")
"""
    )
    child.assert_clean()
    assert child.result() == "ok"


def test_activated_routes_inside_the_block_and_restores_the_hook(run_child: RunChild) -> None:
    child = run_child(
        """
    import gc_plugin
    import gcp_testext_a as a
    from gcp_childlib import pool, emit
    assert not gc_plugin.is_active()
    with gc_plugin.activated(manage=["gcp_testext_a"]) as st:
        assert st.active and st.heap == "managed" and st.managed == ("gcp_testext_a",), st
        inside = a.alloc("mem", 64)
        assert inside in pool()
    assert not gc_plugin.is_active()
    outside = a.alloc("mem", 64)
    assert outside not in pool()
    a.free(outside)
    # nested in an outer activation: on the way out the outer one is back
    gc_plugin.activate(manage=["gcp_testext_a"])
    with gc_plugin.activated(heap="all") as st:
        assert st.heap == "all", st
    st = gc_plugin.status()
    assert st.active and st.heap == "managed" and st.managed == ("gcp_testext_a",), st
    # an exception in the block still deactivates
    gc_plugin.deactivate()
    try:
        with gc_plugin.activated(manage=["gcp_testext_a"]):
            raise KeyError("boom")
    except KeyError:
        pass
    assert not gc_plugin.is_active()
    a.free(inside)          # routed inside the block, still freed correctly
    emit("ok")
"""
    )
    child.assert_clean()
    assert child.result() == "ok"
