"""Native threads allocating and freeing through the hook at once: blocks
freed by threads other than their allocator's, mixed MEM/OBJ frees, and
exact totals afterwards."""

from __future__ import annotations

from .childproc import RunChild


def test_native_threads_churn_with_exact_totals(run_child: RunChild) -> None:
    child = run_child(
        """
    import gc_plugin
    import gcp_testext_a as a, gcp_testext_b as b
    from gcp_childlib import pool, module_usage, emit
    gc_plugin.activate(manage=["gcp_testext_a"])

    for rnd, (nthreads, iters, nslots, max_size) in enumerate(
        [(8, 4000, 64, 200), (8, 2000, 1024, 3000), (4, 300, 32, 40000)]
    ):
        survivors, corrupt, failed = a.churn(nthreads, iters, nslots, max_size)
        assert corrupt == 0 and failed == 0, (rnd, corrupt, failed)
        blocks = pool()
        want = {addr: size for addr, size in survivors}
        assert {addr: blk.size for addr, blk in blocks.items()} == want, rnd
        assert all(blk.module == "gcp_testext_a" for blk in blocks.values())
        assert module_usage("gcp_testext_a") == (len(want), sum(want.values()))
        s = gc_plugin.summary()
        assert (s.blocks, s.bytes) == (len(want), sum(want.values()))
        # free the survivors from the main thread, through the other module
        for addr, size in survivors:
            b.free(addr, "obj" if addr % 32 else "mem")
        assert pool() == {}, rnd

    # blocks allocated by many threads, freed partly by the main thread and
    # partly by other native threads' churn (no cross-talk)
    addrs = a.alloc_many(8, 400, 48, "obj") + a.alloc_many(6, 50, 20000, "mem")
    assert len(set(addrs)) == len(addrs) == 8 * 400 + 6 * 50 and 0 not in addrs
    blocks = pool()
    assert set(blocks) == set(addrs)
    assert module_usage("gcp_testext_a") == (3200 + 300, 3200 * 48 + 300 * 20000)
    keep = addrs[::3]
    for addr in addrs:
        if addr not in set(keep):
            a.free(addr, "mem")
    survivors, corrupt, failed = a.churn(6, 2000, 128, 500)
    assert corrupt == 0 and failed == 0
    want = {addr: blocks[addr].size for addr in keep}
    want.update(dict(survivors))
    assert {addr: blk.size for addr, blk in pool().items()} == want
    for addr in list(want):
        a.free(addr, "obj")
    assert pool() == {}
    assert gc_plugin.deactivate() is True
    emit("ok")
"""
    )
    child.assert_clean()
    assert child.result() == "ok"


def test_native_threads_while_python_threads_allocate_whole_heap(run_child: RunChild) -> None:
    # heap="all": the pool takes every object of the interpreter as well,
    # while native threads churn; module a's blocks stay exact
    child = run_child(
        """
    import threading
    import gc_plugin
    import gcp_testext_a as a
    from gcp_childlib import pool, module_usage, emit
    gc_plugin.activate(heap="all")

    stop = threading.Event()
    def python_work(k):
        keep = []
        while not stop.is_set():
            keep.append({"k": k, "v": [str(i) * 3 for i in range(20)]})
            if len(keep) > 200:
                del keep[:100]
    workers = [threading.Thread(target=python_work, args=(k,)) for k in range(3)]
    for w in workers:
        w.start()
    try:
        survivors, corrupt, failed = a.churn(6, 3000, 256, 2000)
    finally:
        stop.set()
        for w in workers:
            w.join()
    assert corrupt == 0 and failed == 0
    want = dict(survivors)
    mine = {addr: blk.size for addr, blk in pool().items() if blk.module == "gcp_testext_a"}
    assert mine == want
    assert module_usage("gcp_testext_a") == (len(want), sum(want.values()))
    for addr in want:
        a.free(addr)
    assert module_usage("gcp_testext_a") == (0, 0)
    emit("ok")
"""
    )
    child.assert_clean()
    assert child.result() == "ok"
