"""The import hook: a module named to activate() before it is imported is
managed from the start, so even what its PyInit_ function allocates is
routed; a package name manages the package's extension submodules."""

from __future__ import annotations

from .childproc import RunChild


def test_module_imported_after_activate_is_managed_from_its_init(run_child: RunChild) -> None:
    child = run_child(
        """
    import ctypes, sys
    import gc_plugin
    from gcp_childlib import pool, module_usage, emit

    gc_plugin.activate(manage=["gcp_testext_a"])
    assert "gcp_testext_a" not in sys.modules
    import gcp_testext_a as a
    import gcp_testext_b as b
    assert gc_plugin.hook.managed_modules() == {"gcp_testext_a": a.__file__}

    # the block PyInit_gcp_testext_a allocated and kept in a static
    init_addr, init_size = a.init_block()
    assert init_size == a.INIT_SIZE == 777
    blk = pool().get(init_addr)
    assert blk is not None, "the init function's block was not routed"
    assert (blk.size, blk.domain, blk.module) == (777, "mem", "gcp_testext_a"), blk
    assert ctypes.string_at(init_addr, 777) == b"\\x5a" * 777
    # module b was not named: its init block is not routed
    assert b.init_block()[0] not in pool()

    p = a.alloc("mem", 64)
    t = a.Thing(3)
    blocks = pool()
    assert set(blocks) == {init_addr, p, id(t)}, blocks
    assert blocks[id(t)].type_name == "gcp_testext_a.Thing"
    assert module_usage("gcp_testext_a") == (3, 777 + 64 + a.Thing.__basicsize__)
    a.free(p)
    del t
    a.release_init_block()
    assert pool() == {}
    emit("ok")
"""
    )
    child.assert_clean()
    assert child.result() == "ok"


def test_package_prefix_manages_extension_submodules(run_child: RunChild) -> None:
    child = run_child(
        """
    import sys
    import gc_plugin
    from gcp_childlib import pool, module_usage, emit

    gc_plugin.activate(manage=["gcp_testpkg"])
    import gcp_testpkg._ext as e
    import gcp_testext_a as a
    assert gc_plugin.hook.managed_modules() == {"gcp_testpkg._ext": e.__file__}
    init_addr, _ = e.init_block()
    p = e.alloc("obj", 200)
    q = a.alloc("obj", 200)       # not managed
    blocks = pool()
    assert set(blocks) == {init_addr, p}, blocks
    assert {blk.module for blk in blocks.values()} == {"gcp_testpkg._ext"}
    assert module_usage("gcp_testpkg._ext") == (2, 777 + 200)
    t = e.Thing(1)
    assert pool()[id(t)].type_name == "gcp_testpkg._ext.Thing"
    emit("ok")
"""
    )
    child.assert_clean()
    assert child.result() == "ok"


def test_name_is_not_a_string_prefix(run_child: RunChild) -> None:
    # "gcp_testext" names a module (and its submodules), not every module
    # whose name starts with those letters
    child = run_child(
        """
    import gc_plugin
    from gcp_childlib import pool, emit
    gc_plugin.activate(manage=["gcp_testext"])
    import gcp_testext_a as a
    p = a.alloc("mem", 10)
    assert pool() == {} and gc_plugin.hook.managed_modules() == {}
    a.free(p)
    emit("ok")
"""
    )
    child.assert_clean()
    assert child.result() == "ok"


def test_already_imported_submodule_is_managed_by_package_name(run_child: RunChild) -> None:
    child = run_child(
        """
    import gc_plugin
    import gcp_testpkg._ext as e
    from gcp_childlib import pool, emit
    gc_plugin.activate(manage=["gcp_testpkg"])
    assert e.init_block()[0] not in pool()   # allocated before activation
    p = e.alloc("mem", 33)
    assert [(b.size, b.module) for b in pool().values()] == [(33, "gcp_testpkg._ext")]
    e.free(p)
    # activate() again adds modules to the managed set
    gc_plugin.activate(manage=["gcp_testext_b"])
    import gcp_testext_b as b
    q = b.alloc("mem", 44)
    r = e.alloc("mem", 55)
    assert sorted((blk.size, blk.module) for blk in pool().values()) == [
        (44, "gcp_testext_b"), (55, "gcp_testpkg._ext"), (777, "gcp_testext_b")
    ], pool()
    emit("ok")
"""
    )
    child.assert_clean()
    assert child.result() == "ok"
