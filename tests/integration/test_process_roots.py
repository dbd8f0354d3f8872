"""The roots of a Python process (gc_plugin.default_arena,
attach_process_roots): blocks the allocator hook routed, and the C stacks of
threads that never registered, keep collected objects alive and pinned.

Each scenario runs twice in its child: with the process roots attached and,
as the control that shows the test can fail, in an arena without them,
where the same objects are reclaimed (their finalization messages arrive).
"""

from __future__ import annotations

from .childproc import RunChild

COMMON = """
    import struct, threading
    import gc_plugin
    from gcp_childlib import emit
    from gcp_testing import GraphFormat
    from gcp_testing._ffi import ffi, lib

    def setup(arena):
        fmt = GraphFormat(arena)
        pool = arena.amc(fmt)
        ap = pool.allocation_point()
        arena.enable_messages(gc_plugin.MessageType.FINALIZATION)
        return fmt, ap

    def finalized(arena):
        return {m.ref for m in arena.take_messages(gc_plugin.MessageType.FINALIZATION)}
"""


def test_routed_blocks_are_ambiguous_roots(run_child: RunChild) -> None:
    child = run_child(
        COMMON
        + """
    gc_plugin.activate(heap="all")

    def scenario(arena):
        fmt, ap = setup(arena)
        kept, control = [], []
        holders = []
        for i in range(20):
            obj = fmt.alloc(ap, 0, 2, 1000 + i)
            arena.finalize(obj)
            holder = bytearray(64)          # its buffer is a routed block
            struct.pack_into("<Q", holder, 16, obj)
            holders.append(holder)
            kept.append(obj)
        for i in range(50):
            obj = fmt.alloc(ap, 0, 2, 2000 + i)
            arena.finalize(obj)
            control.append(obj)
        for _ in range(3):
            arena.collect()
            arena.release()
        gone = finalized(arena)
        intact = sum(1 for i, obj in enumerate(kept)
                     if obj not in gone and fmt.ident(obj) == 1000 + i)
        return {"kept_alive": sum(obj not in gone for obj in kept), "kept_intact": intact,
                "control_finalized": sum(obj in gone for obj in control)}

    emit({"with": scenario(gc_plugin.default_arena()), "without": scenario(gc_plugin.Arena())})
    """
    )
    child.assert_clean()
    result = child.result()
    assert isinstance(result, dict)
    with_roots, without = result["with"], result["without"]
    # Held only by routed blocks: alive, in place, intact.
    assert with_roots["kept_alive"] == 20 and with_roots["kept_intact"] == 20, result
    # Garbage is still collected (a few stale stack words may pin some).
    assert with_roots["control_finalized"] >= 40, result
    # Without the process roots nothing holds them.
    assert without["kept_alive"] == 0 and without["control_finalized"] == 50, result


def test_unregistered_threads_stacks_are_ambiguous_roots(run_child: RunChild) -> None:
    child = run_child(
        COMMON
        + """
    N = 16

    def scenario(arena):
        fmt, ap = setup(arena)
        objs = [fmt.alloc(ap, 0, 2, 500 + i) for i in range(N)]
        for obj in objs:
            arena.finalize(obj)
        refs = ffi.new("mps_addr_t[]", [ffi.cast("mps_addr_t", o) for o in objs])
        after = ffi.new("mps_addr_t[]", N)
        holding = ffi.new("int *")
        release = ffi.new("int *")
        # A thread that never registers holds the only references on its C
        # stack (the GIL is released while it waits in C).
        t = threading.Thread(
            target=lib.gcp_graph_hold_until, args=(refs, N, after, holding, release)
        )
        t.start()
        while not holding[0]:
            pass
        del refs
        for _ in range(3):
            arena.collect()
            arena.release()
        gone = finalized(arena)
        release[0] = 1
        t.join()
        held = [int(ffi.cast("uintptr_t", after[i])) for i in range(N)]
        alive = [o not in gone for o in objs]
        default = arena is gc_plugin.default_arena()
        return {"alive": sum(alive),
                "unmoved": sum(a == o for a, o in zip(held, objs)),
                "intact": sum(1 for i, o in enumerate(objs)
                              if alive[i] and fmt.ident(o) == 500 + i),
                "unstoppable": arena.unstoppable_threads if default else 0}

    emit({"with": scenario(gc_plugin.default_arena()), "without": scenario(gc_plugin.Arena())})
    """
    )
    child.assert_clean()
    result = child.result()
    assert isinstance(result, dict)
    with_roots, without = result["with"], result["without"]
    assert with_roots == {"alive": 16, "unmoved": 16, "intact": 16, "unstoppable": 0}, result
    assert without["alive"] == 0, result
