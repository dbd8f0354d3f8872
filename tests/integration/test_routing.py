"""Routing and attribution in "managed" mode: what a managed extension
allocates through the MEM and OBJ domains goes into gc_plugin's pool with
its exact size, domain and module; nothing else does; frees and
reallocations that cross the pool's boundary keep the contents.

gcp_testext_a is managed, gcp_testext_b is not; both are built from the
same source (ext/testext.h).  Each test runs in its own interpreter.
"""

from __future__ import annotations

import pytest

from .childproc import RunChild

A_AND_B = """
    import gc_plugin
    import gcp_testext_a as a, gcp_testext_b as b
    from gcp_childlib import pool, module_usage, emit
    st = gc_plugin.activate(manage=["gcp_testext_a"])
    assert st.active and st.heap == "managed" and st.attribution is True, st
    assert "gcp_testext_a" in gc_plugin.hook.managed_modules()
    assert pool() == {}, pool()      # imported before activate: nothing routed yet
"""


def test_routed_blocks_have_exact_size_domain_and_module(run_child: RunChild) -> None:
    child = run_child(
        A_AND_B
        + """
    sizes = [1, 8, 15, 16, 17, 100, 512, 1000, 4096, 5000, 16384, 16385, 20000, 100000]
    live = {}        # address -> (size, domain) of what this script holds in the pool
    for size in sizes:
        for kind, domain in (("mem", "mem"), ("obj", "obj"), ("calloc", "mem"), ("ocalloc", "obj")):
            p = a.alloc(kind, size)
            assert p != 0 and p not in live, (kind, size)
            live[p] = (size, domain)
    for dom in ("mem", "obj"):
        p = a.calloc(dom, 7, 13)
        live[p] = (91, dom)
    things = [a.Thing(i) for i in range(10)]
    for t in things:
        live[id(t)] = (a.Thing.__basicsize__, "obj")

    # what is not routed: module b's allocations, RAW allocations of module a
    outside = [b.alloc(kind, 64) for kind in ("mem", "obj", "calloc", "ocalloc")]
    outside += [b.calloc("mem", 3, 5), b.make_things(1)[0]]
    raw = [a.alloc("raw", 64), a.alloc("rawcalloc", 64), a.calloc("raw", 4, 4)]
    init_addr, init_size = a.init_block()   # a was imported before activate

    def check_exact():
        blocks = pool()
        assert set(blocks) == set(live), (set(blocks) ^ set(live))
        for addr, (size, domain) in live.items():
            blk = blocks[addr]
            assert (blk.size, blk.domain, blk.module) == (size, domain, "gcp_testext_a"), blk
        s = gc_plugin.summary()
        want_bytes = sum(size for size, _ in live.values())
        assert (s.blocks, s.bytes) == (len(live), want_bytes), (s, len(live), want_bytes)
        want_modules = [("gcp_testext_a", len(live), want_bytes)] if live else []
        assert [(m.module, m.blocks, m.bytes) for m in s.by_module] == want_modules, s.by_module
        types = {t.type: (t.blocks, t.bytes) for t in s.by_type}
        n_things = sum(1 for addr in live if blocks[addr].type_name == "gcp_testext_a.Thing")
        want_things = (n_things, n_things * a.Thing.__basicsize__)
        assert types.get("gcp_testext_a.Thing", (0, 0)) == want_things, types
        return blocks

    blocks = check_exact()
    for t in things:
        assert blocks[id(t)].type_name == "gcp_testext_a.Thing"
    for x in outside + raw + [init_addr]:
        assert (x if isinstance(x, int) else id(x)) not in blocks
    assert all(blk.type_name is None for blk in blocks.values() if blk.domain == "mem")

    # free half (every other one), and the Things, then the totals are exact again
    for i, addr in enumerate(sorted(a_ for a_ in live if a_ not in {id(t) for t in things})):
        if i % 2 == 0:
            a.free(addr, live.pop(addr)[1])
    for t in things:
        del live[id(t)]
    del things, t
    check_exact()

    for addr, (size, domain) in list(live.items()):
        a.free(addr, domain)
    live.clear()
    check_exact()
    for p in outside[:5]:
        b.free(p, "obj" if p == outside[1] or p == outside[3] else "mem")
    for p in raw:
        a.free(p, "raw")
    emit("ok")
"""
    )
    child.assert_clean()
    assert child.result() == "ok"


def test_calloc_blocks_are_zeroed(run_child: RunChild) -> None:
    child = run_child(
        A_AND_B
        + """
    sizes = [1, 16, 24, 100, 256, 1000, 3000, 5120, 16000, 16384, 20000, 70000]
    for rnd in range(3):
        # dirty blocks of each size, free them, then calloc: reused memory is zeroed
        dirty = []
        for size in sizes:
            for kind in ("mem", "obj"):
                for _ in range(8):
                    p = a.alloc(kind, size)
                    a.set(p, size, 0xFF)
                    dirty.append((p, kind))
        for p, kind in dirty:
            a.free(p, kind)
        got = []
        for size in sizes:
            for kind in ("calloc", "ocalloc"):
                for _ in range(8):
                    p = a.alloc(kind, size)
                    assert a.is_zero(p, size), (kind, size)
                    got.append((p, "mem" if kind == "calloc" else "obj"))
            for dom in ("mem", "obj"):
                p = a.calloc(dom, size, 1)
                q = a.calloc(dom, 1, size)
                assert a.is_zero(p, size) and a.is_zero(q, size), (dom, size)
                got += [(p, dom), (q, dom)]
        blocks = pool()
        assert all(p in blocks for p, _ in got)
        reused = sum(1 for p, _ in got if p in {d for d, _ in dirty})
        for p, dom in got:
            a.free(p, dom)
    assert reused > 0   # the zeroing was tested on reused memory
    # an overflowing calloc fails cleanly
    assert a.calloc("mem", 1 << 62, 16) == 0
    assert a.calloc("obj", 1 << 62, 16) == 0
    assert pool() == {}
    emit("ok")
"""
    )
    child.assert_clean()
    assert child.result() == "ok"


def test_zero_size_allocations_are_distinct_blocks(run_child: RunChild) -> None:
    child = run_child(
        A_AND_B
        + """
    ps = []
    for kind in ("mem", "obj", "calloc", "ocalloc"):
        domain = "obj" if kind in ("obj", "ocalloc") else "mem"
        ps += [(a.alloc(kind, 0), domain) for _ in range(50)]
    ps += [(a.calloc("mem", 0, 8), "mem"), (a.calloc("obj", 8, 0), "obj")]
    addrs = [p for p, _ in ps]
    assert 0 not in addrs
    assert len(set(addrs)) == len(addrs)
    blocks = pool()
    for p, dom in ps:
        assert (blocks[p].size, blocks[p].domain, blocks[p].module) == (0, dom, "gcp_testext_a")
    assert module_usage("gcp_testext_a") == (len(ps), 0)
    # a zero-size block grows; a block shrinks to zero size
    p, dom = ps.pop()
    q = a.realloc(p, 40, dom)
    a.fill(q, 40, 3)
    r = a.realloc(q, 0, dom)
    assert r != 0 and pool()[r].size == 0
    ps.append((r, dom))
    for p, dom in ps:
        a.free(p, dom)
    assert pool() == {}
    emit("ok")
"""
    )
    child.assert_clean()
    assert child.result() == "ok"


def test_mixed_frees_raw_free_and_raw_realloc_of_pool_blocks(run_child: RunChild) -> None:
    child = run_child(
        A_AND_B
        + """
    sizes = [8, 100, 2000, 30000]
    # PyMem_Free of PyObject_Malloc blocks and PyObject_Free of PyMem_Malloc blocks
    for size in sizes:
        p, q = a.alloc("obj", size), a.alloc("mem", size)
        assert p in pool() and q in pool()
        a.free(p, "mem")
        a.free(q, "obj")
        assert p not in pool() and q not in pool()
    # PyMem_RawFree of pool blocks of both domains
    for size in sizes:
        p, q = a.alloc("mem", size), a.alloc("obj", size)
        a.free(p, "raw")
        a.free(q, "raw")
        assert pool() == {}
    # the other module frees module a's blocks (its call sites are not managed)
    for size in sizes:
        p, q = a.alloc("mem", size), a.alloc("ocalloc", size)
        b.free(p, "mem")
        b.free(q, "obj")
    # PyMem_RawRealloc of a pool block: RAW is never routed, so it moves out
    for i, size in enumerate(sizes):
        p = a.alloc("mem", size)
        a.fill(p, size, i)
        q = a.realloc(p, size + 10, "raw")
        assert q != p and q not in pool(), (p, q)
        assert a.check(q, size, i)
        r = a.realloc(q, size * 2, "raw")     # and goes on as an ordinary RAW block
        assert a.check(r, size, i)
        a.free(r, "raw")
    # PyObject_Realloc of a PyMem_Malloc pool block, and the other way round
    p = a.alloc("mem", 50); a.fill(p, 50, 9)
    p = a.realloc(p, 5000, "obj"); assert a.check(p, 50, 9) and pool()[p].size == 5000
    q = a.alloc("obj", 50); a.fill(q, 50, 8)
    q = a.realloc(q, 5000, "mem"); assert a.check(q, 50, 8) and pool()[q].size == 5000
    a.free(p, "mem"); a.free(q, "obj")
    assert pool() == {}
    emit("ok")
"""
    )
    child.assert_clean()
    assert child.result() == "ok"


def test_realloc_across_the_pool_boundary_keeps_contents(run_child: RunChild) -> None:
    child = run_child(
        """
    import gc_plugin
    import gcp_testext_a as a, gcp_testext_b as b
    from gcp_childlib import pool, module_usage, emit

    # blocks made before routing: by module a itself, and by module b
    early = []
    for i, (mod, dom, size) in enumerate(
        [(a, "mem", 300), (a, "obj", 40), (b, "mem", 300), (b, "obj", 5000), (b, "mem", 20000)]
    ):
        p = mod.alloc(dom, size)
        mod.fill(p, size, i)
        early.append((p, dom, size, i))

    gc_plugin.activate(manage=["gcp_testext_a"])
    assert pool() == {}

    # realloc'ed by module a: into the pool, contents kept; growing and shrinking
    moved = []
    for p, dom, size, seed in early:
        new_size = size * 2 if size < 1000 else size // 3
        q = a.realloc(p, new_size, dom)
        blk = pool().get(q)
        assert blk is not None, (hex(p), dom, size)
        assert (blk.size, blk.domain, blk.module) == (new_size, dom, "gcp_testext_a"), blk
        assert a.check(q, min(size, new_size), seed), (dom, size)
        moved.append((q, dom, new_size, seed, min(size, new_size)))
    assert module_usage("gcp_testext_a") == (len(moved), sum(m[2] for m in moved))

    # realloc'ed by module b while routing: a pool block stays in the pool and
    # keeps its module
    q, dom, size, seed, valid = moved[0]
    r = b.realloc(q, 3000, dom)
    blk = pool()[r]
    assert (blk.size, blk.module) == (3000, "gcp_testext_a") and a.check(r, valid, seed)
    moved[0] = (r, dom, 3000, seed, valid)
    # in place when it still fits its class
    q, dom, size, seed, valid = moved[1]
    r = a.realloc(q, size - 1, dom)
    assert pool()[r].size == size - 1 and a.check(r, min(valid, size - 1), seed)
    moved[1] = (r, dom, size - 1, seed, min(valid, size - 1))

    # routing stops with pool blocks alive: the hook stays as a shim
    assert gc_plugin.deactivate() is False
    st = gc_plugin.status()
    assert st.installed and not st.active, st
    assert len(pool()) == len(moved)

    # reallocated now, a pool block moves out of the pool with its contents
    out = []
    for i, (q, dom, size, seed, valid) in enumerate(moved):
        mod = a if i % 2 else b
        new_size = size + 100
        r = mod.realloc(q, new_size, dom)
        assert r not in pool() and q not in pool()
        assert mod.check(r, valid, seed), (i, dom, size)
        out.append((r, dom, new_size, seed, valid))
    assert pool() == {}
    # and keeps working as an ordinary block of the wrapped allocator
    for r, dom, size, seed, valid in out:
        s = b.realloc(r, size * 2, dom)
        assert b.check(s, valid, seed)
        b.free(s, dom)
    emit("ok")
"""
    )
    child.assert_clean()
    assert child.result() == "ok"


@pytest.mark.parametrize("pymalloc", ["debug", "malloc"])
def test_routing_over_other_base_allocators(run_child: RunChild, pymalloc: str) -> None:
    # PYTHONMALLOC=debug puts CPython's debug hooks (which check every free)
    # under the hook; =malloc makes libc the wrapped allocator of every domain
    child = run_child(
        A_AND_B
        + """
    early = [b.alloc(dom, 50) for dom in ("mem", "obj") for _ in range(10)]
    for i, p in enumerate(early):
        b.fill(p, 50, i)
    routed = [a.alloc(dom, size) for dom in ("mem", "obj") for size in (16, 700, 30000)]
    moved = [a.realloc(p, 300, "mem" if i < 10 else "obj") for i, p in enumerate(early)]
    blocks = pool()
    assert all(p in blocks for p in routed + moved)
    assert all(a.check(p, 50, i) for i, p in enumerate(moved))
    plain = [b.alloc("mem", 40) for _ in range(10)]
    assert not any(p in blocks for p in plain)
    for p in routed + moved:
        b.free(p, "raw")
    for p in plain:
        a.free(p)
    assert pool() == {}
    assert gc_plugin.deactivate() is True
    gc_plugin.activate(heap="all")
    objs = [str(i) * 3 for i in range(3000)] + [{"k": i} for i in range(1000)]
    blocks = pool()
    assert sum(1 for o in objs if id(o) in blocks) >= 3000
    gc_plugin.deactivate()
    del objs
    emit("ok")
""",
        env={"PYTHONMALLOC": pymalloc},
    )
    child.assert_clean()
    assert child.result() == "ok"


def test_fork_with_routed_blocks(run_child: RunChild) -> None:
    # a forked child (multiprocessing's default on Linux) inherits the pool:
    # it reads and frees the parent's blocks and allocates its own
    child = run_child(
        """
    import os
    import gc_plugin
    import gcp_testext_a as a
    from gcp_childlib import pool, module_usage, emit
    gc_plugin.activate(heap="all")
    inherited = [a.alloc("mem", 100 + i) for i in range(100)]
    for i, p in enumerate(inherited):
        a.fill(p, 100 + i, i)
    survivors, corrupt, failed = a.churn(4, 1000, 64, 300)   # thread caches left behind
    objs = [str(i) * 3 for i in range(3000)]
    pids = []
    for k in range(3):
        pid = os.fork()
        if pid == 0:
            status = 9
            try:
                ok = all(a.check(p, 100 + i, i) for i, p in enumerate(inherited))
                for p in inherited + [addr for addr, _ in survivors]:
                    a.free(p)
                more = [str(i) * 4 for i in range(3000)]
                s2, c2, f2 = a.churn(4, 1000, 64, 300)
                assert module_usage("gcp_testext_a") == (len(s2), sum(n for _, n in s2))
                for addr, _ in s2:
                    a.free(addr)
                del objs[::2], more
                status = 0 if ok and c2 == 0 and f2 == 0 else 5
            finally:
                os._exit(status)
        pids.append(pid)
    codes = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in pids]
    assert codes == [0, 0, 0], codes
    # the parent's pool is its own
    assert all(a.check(p, 100 + i, i) for i, p in enumerate(inherited))
    assert module_usage("gcp_testext_a") == (
        100 + len(survivors), sum(100 + i for i in range(100)) + sum(n for _, n in survivors))
    for p in inherited + [addr for addr, _ in survivors]:
        a.free(p)
    emit("ok")
"""
    )
    child.assert_clean()
    assert child.result() == "ok"
