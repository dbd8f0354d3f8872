"""The collector's interface through the Arena: the allocation
protocol across a flip, misuse, messages, arena states, finalization,
location dependencies, introspection and walks.

* Reserve/commit (interface.md §Allocation points): a block reserved on an AMC allocation
  point when the same thread collects was not scanned by the flip, so its
  commit returns False and the AP is reset to the block's base; reserving
  again works and the new object survives.  Without a flip commit is True.
  Leaf pools (AMCZ, LO) may accept the commit (nothing in the block to
  fix), but then the object must be intact.  A formatted block cannot be
  committed uninitialised (``ap.alloc`` is refused), and ``init`` checks it
  writes the reserved block.
* Misuse, each giving a clear exception, with the interpreter going on
  (the cases that could crash run in a subprocess with a timeout):
  destroying a pool with a live AP or an AP with a reserved block, a
  format or a chain while a pool uses it, a thread with its root, an arena
  with collector objects left; bad chains; formats of another arena;
  message accessors of the wrong type and discarded messages; finalizing
  memory that is not in a collected pool; mps_free on AMC; walking a pool
  of an arena that is not parked.
* definalize of an unregistered object is False (MPS_RES_FAIL), of a
  registered one True once.
* Finalization in AMC, AMCZ and LO: one message per registration, its ref
  an intact object, reclaimed after the discard, no second message; a
  pool destroyed while one of its messages is taken drops the queued ones
  and leaves the taken one safe to read and discard.
* Messages: nothing posted for disabled types, poll / queue_type,
  disable discards the queued ones, GC and GC-start in pairs with sane
  sizes.
* Arena states: parked and clamped arenas start no collection however much
  is allocated; released ones collect by themselves; start_collect then
  park finishes a collection; step.
* mps_addr_object: base and interior pointers give the object, foreign
  addresses FailError, manual pools UnimplementedError, an address an
  object moved away from FailError.
* Location dependencies go stale exactly when objects move; merge, reset.
* Weak root tables are splatted when their object dies, updated when it
  moves.
* Repeated collections with nothing changing do not change a pool's
  accounting.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

import gc_plugin
from gc_plugin import InvalidArgumentError, MessageType, MisuseError
from gcp_testing import GraphFormat

HERE = __file__


def run_isolated(scenario: str, timeout: float = 60.0) -> str:
    """Run the function ``scenario`` of this file in a fresh interpreter;
    fail if it does not print its success line (a crash, a hang or an
    exception)."""
    code = (
        "import runpy, sys\n"
        f"ns = runpy.run_path({HERE!r})\n"
        f"ns[{scenario!r}]()\n"
        "print('SCENARIO OK', flush=True)\n"
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{scenario} did not finish within {timeout} s")
    assert done.returncode == 0 and "SCENARIO OK" in done.stdout, (
        f"{scenario}: exit status {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
    return done.stdout


class Heap:
    """An arena (parked), the calling thread registered, a graph format, AMC
    / AMCZ / LO pools, an exact root table."""

    def __init__(
        self, header: int = 0, chain: list[tuple[int, float]] | None = None, park: bool = True
    ) -> None:
        self.arena = gc_plugin.Arena()
        self.thread = self.arena.register_thread()
        if park:
            self.arena.park()
        self.fmt = GraphFormat(self.arena, header)
        self.chain = self.arena.chain(chain) if chain is not None else None
        self.amc = self.arena.amc(self.fmt, self.chain)
        self.amcz = self.arena.amcz(self.fmt, self.chain)
        self.lo = self.arena.lo(self.fmt, self.chain)
        self.table = self.arena.root_table(16)

    def pool(self, kind: str) -> gc_plugin.CollectedPool:
        return {"amc": self.amc, "amcz": self.amcz, "lo": self.lo}[kind]

    def live_ids(self) -> set[int]:
        return {
            self.fmt.ident(o.address)
            for o in self.arena.formatted_objects()
            if self.fmt.kind(o.address) == "object"
        }

    def close(self) -> None:
        self.arena.teardown()


@pytest.fixture
def heap() -> Iterator[Heap]:
    h = Heap()
    try:
        yield h
    finally:
        h.close()


# ---- the reserve/commit protocol across a flip ---------------------------------------


@pytest.mark.parametrize("header", [0, 16])
def test_commit_after_a_flip_fails_and_the_retry_works(header: int) -> None:
    h = Heap(header=header)
    try:
        fmt, amc = h.fmt, h.amc
        ap = amc.allocation_point()
        size = fmt.size(2, 3)
        keep = fmt.alloc(ap, 2, 3, 1)
        h.table[0] = keep
        base = ap.reserve(size)
        obj = fmt.init(ap, base, 2, 3, 2)
        assert obj == base + header
        fmt.set_ref(obj, 0, keep)  # a reference written before the commit
        h.arena.collect()  # the flip happens with the block still reserved
        assert ap.commit(base, size) is False, "commit succeeded across a flip (interface.md)"
        handle = ap._handle
        assert gc_plugin._calls.as_int(handle.init) == base
        assert gc_plugin._calls.as_int(handle.alloc) == base
        for _attempt in range(10):
            base = ap.reserve(size)
            obj = fmt.init(ap, base, 2, 3, 2)
            fmt.set_ref(obj, 0, h.table[0])  # re-read: the old address may be stale
            if ap.commit(base, size):
                break
        else:
            pytest.fail("commit kept failing with no collection running")
        h.table[1] = obj
        h.arena.collect()
        assert fmt.ident(h.table[1]) == 2 and fmt.ref(h.table[1], 0) == h.table[0]
        assert fmt.ident(h.table[0]) == 1
        assert h.arena.check() and amc.check()
        ap.destroy()
    finally:
        h.close()


def test_commit_without_a_flip_succeeds(heap: Heap) -> None:
    fmt = heap.fmt
    ap = heap.amc.allocation_point()
    size = fmt.size(0, 2)
    for i in range(100):
        base = ap.reserve(size)
        fmt.init(ap, base, 0, 2, i + 1)
        assert ap.commit(base, size) is True
    ap.destroy()


@pytest.mark.parametrize("kind", ["amcz", "lo"])
def test_leaf_pool_commit_across_a_flip(heap: Heap, kind: str) -> None:
    """A leaf block holds no references, so the implementation may accept
    its commit after a flip; if it does, the object must be intact and
    collectable like any other; if not, the retry must work."""
    fmt = heap.fmt
    ap = heap.pool(kind).allocation_point()
    size = fmt.size(0, 4)
    base = ap.reserve(size)
    obj = fmt.init(ap, base, 0, 4, 7)
    heap.arena.collect()
    if not ap.commit(base, size):
        base = ap.reserve(size)
        obj = fmt.init(ap, base, 0, 4, 7)
        assert ap.commit(base, size)
    heap.table[0] = obj
    heap.arena.collect()
    assert fmt.valid(heap.table[0]) and fmt.ident(heap.table[0]) == 7
    assert 7 in heap.live_ids()
    heap.table[0] = 0
    heap.arena.collect()
    assert 7 not in heap.live_ids()
    ap.destroy()


def test_blocks_must_be_initialised_before_commit(heap: Heap) -> None:
    fmt = heap.fmt
    ap = heap.amc.allocation_point()
    with pytest.raises(InvalidArgumentError, match="initialised"):
        ap.alloc(64)
    size = fmt.size(1, 2)
    base = ap.reserve(size)
    with pytest.raises(InvalidArgumentError, match="not the block reserved"):
        fmt.init(ap, base + 8, 1, 2, 1)
    with pytest.raises(InvalidArgumentError, match="not the block reserved"):
        fmt.init(ap, base, 2, 2, 1)  # a different size
    fmt.init(ap, base, 1, 2, 1)
    assert ap.commit(base, size)
    other = GraphFormat(heap.arena)
    with pytest.raises(InvalidArgumentError, match="does not use this format"):
        other.alloc(ap, 0, 2, 1)
    with pytest.raises(InvalidArgumentError):
        fmt.alloc(ap, 0, 1, 1)  # ndata below 2
    ap.destroy()


# ---- misuse ---------------------------------------------------------------------------


def scenario_pool_and_ap_destroy() -> None:
    h = Heap()
    ap = h.amc.allocation_point()
    obj = h.fmt.alloc(ap, 0, 2, 1)
    with pytest.raises(MisuseError, match="allocation point"):
        h.amc.destroy()
    assert not h.amc.destroyed and h.amc.check()
    size = h.fmt.size(0, 2)
    base = ap.reserve(size)
    with pytest.raises(MisuseError):
        ap.destroy()  # a reserved block
    assert not ap.destroyed
    h.fmt.init(ap, base, 0, 2, 2)
    assert ap.commit(base, size)
    h.table[0] = obj
    h.arena.collect()
    assert h.fmt.ident(h.table[0]) == 1
    ap.destroy()
    h.table[0] = 0
    h.amc.destroy()
    assert h.amc.destroyed
    h.close()


def test_destroying_a_pool_with_a_live_ap_is_refused() -> None:
    run_isolated("scenario_pool_and_ap_destroy")


def scenario_format_destroy_while_used() -> None:
    h = Heap()
    with pytest.raises(MisuseError, match="still used"):
        h.fmt.destroy()
    assert not h.fmt.destroyed
    ap = h.amc.allocation_point()
    h.table[0] = h.fmt.alloc(ap, 0, 2, 1)
    h.arena.collect()  # the pool still has its format
    assert h.fmt.ident(h.table[0]) == 1
    ap.destroy()
    h.table.destroy()
    for pool in (h.amc, h.amcz, h.lo):
        pool.destroy()
    h.fmt.destroy()
    assert h.fmt.destroyed
    h.close()


def test_destroying_a_format_in_use_is_refused() -> None:
    run_isolated("scenario_format_destroy_while_used")


def scenario_chain_destroy_while_used() -> None:
    h = Heap(chain=[(100, 0.5), (200, 0.5)])
    assert h.chain is not None
    with pytest.raises(MisuseError, match="still used"):
        h.chain.destroy()
    assert not h.chain.destroyed
    ap = h.amc.allocation_point()
    h.table[0] = h.fmt.alloc(ap, 0, 2, 1)
    h.arena.collect()
    assert h.fmt.ident(h.table[0]) == 1
    ap.destroy()
    for pool in (h.amc, h.amcz, h.lo):
        pool.destroy()
    h.chain.destroy()
    assert h.chain.destroyed
    for bad in ([], [(0, 0.5)], [(100, 1.5)], [(100, -0.1)]):
        with pytest.raises(gc_plugin.MPSError):
            h.arena.chain(bad)
    h.close()


def test_destroying_a_chain_in_use_is_refused() -> None:
    run_isolated("scenario_chain_destroy_while_used")


def scenario_thread_and_arena_misuse() -> None:
    arena = gc_plugin.Arena()
    thread = arena.register_thread()
    root = thread.stack_root()
    with pytest.raises(MisuseError, match="root"):
        thread.deregister()
    assert not thread.destroyed
    root.destroy()
    fmt = GraphFormat(arena)
    table = arena.root_table(4)
    with pytest.raises(MisuseError, match="root|thread|format"):
        arena.destroy()  # the core refuses: a root, a thread and a format remain
    # (the Python arena gives its handle up: see docs, "Collector")
    del fmt, table
    print("refused")


def test_thread_and_arena_misuse() -> None:
    out = run_isolated("scenario_thread_and_arena_misuse")
    assert "refused" in out


def test_formats_and_chains_of_another_arena(heap: Heap) -> None:
    other = gc_plugin.Arena()
    try:
        with pytest.raises(MisuseError, match="format"):
            other.amc(heap.fmt)
        chain = heap.arena.chain([(64, 0.5)])
        with pytest.raises(MisuseError, match="chain"):
            other.lo(GraphFormat(other), chain)
    finally:
        other.teardown()
    with pytest.raises(InvalidArgumentError, match="0, 8 or 16"):
        GraphFormat(heap.arena, 4)


def test_finalizing_memory_outside_collected_pools(heap: Heap) -> None:
    mvff = heap.arena.mvff()
    block = mvff.alloc(64)
    with pytest.raises(MisuseError, match="collected pool"):
        heap.arena.finalize(block.address)
    with pytest.raises(MisuseError):
        heap.arena.finalize(0)
    mvff.free(block)
    mvff.destroy()


def test_manual_operations_on_collected_pools(heap: Heap) -> None:
    ap = heap.amc.allocation_point()
    obj = heap.fmt.alloc(ap, 0, 2, 1)
    with pytest.raises(MisuseError):
        heap.amc.free_address(obj, heap.fmt.size(0, 2))
    assert heap.amc.check()
    ap.destroy()


def test_pool_walk_needs_a_parked_arena(heap: Heap) -> None:
    ap = heap.amc.allocation_point()
    heap.table[0] = heap.fmt.alloc(ap, 0, 2, 1)
    assert len(heap.amc.walk()) == 1
    heap.arena.release()
    with pytest.raises(MisuseError, match="parked"):
        heap.amc.walk()
    heap.arena.park()
    assert heap.amc.walk() == [heap.table[0]]
    ap.destroy()


def test_stack_root_of_another_thread_needs_a_cold_end(heap: Heap) -> None:
    errors: list[BaseException] = []

    def other() -> None:
        try:
            with pytest.raises(InvalidArgumentError, match="registered thread"):
                heap.thread.stack_root()
            with pytest.raises(InvalidArgumentError, match="registered thread"):
                heap.fmt.collect_holding(heap.thread, [])
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    t = threading.Thread(target=other)
    t.start()
    t.join()
    assert not errors, errors


# ---- finalization -----------------------------------------------------------------------


def test_definalize(heap: Heap) -> None:
    fmt = heap.fmt
    ap = heap.amc.allocation_point()
    obj = fmt.alloc(ap, 0, 2, 1)
    heap.table[0] = obj
    assert heap.arena.definalize(obj) is False  # never registered: MPS_RES_FAIL
    heap.arena.finalize(obj)
    assert heap.arena.definalize(obj) is True
    assert heap.arena.definalize(obj) is False
    heap.arena.finalize(obj)
    heap.arena.finalize(obj)  # twice: two registrations
    assert heap.arena.definalize(obj) is True
    assert heap.arena.definalize(obj) is True
    assert heap.arena.definalize(obj) is False
    ap.destroy()


@pytest.mark.parametrize("kind", ["amc", "amcz", "lo"])
def test_finalization_message_once_per_registration(heap: Heap, kind: str) -> None:
    fmt = heap.fmt
    heap.arena.enable_messages(MessageType.FINALIZATION)
    with heap.pool(kind).allocation_point() as ap:
        objs = [fmt.alloc(ap, 0, 3, 10 + i) for i in range(3)]
    for obj in objs:
        heap.arena.finalize(obj)
    heap.table[0] = objs[1]  # objs[1] stays reachable
    heap.arena.collect()
    messages = []
    while (m := heap.arena.get_message(MessageType.FINALIZATION)) is not None:
        messages.append(m)
    refs = [m.finalization_ref() for m in messages]
    assert sorted(fmt.ident(r) for r in refs) == [10, 12]
    for r in refs:
        assert fmt.valid(r)
        if kind == "lo":
            assert r in objs  # LO never moves
    heap.arena.collect()  # the messages keep the objects alive
    assert heap.live_ids() == {10, 11, 12}
    assert sorted(fmt.ident(m.finalization_ref()) for m in messages) == [10, 12]
    assert heap.arena.get_message(MessageType.FINALIZATION) is None
    for m in messages:
        m.discard()
        m.discard()  # idempotent
    heap.arena.collect()
    assert heap.live_ids() == {11}
    assert heap.arena.get_message(MessageType.FINALIZATION) is None
    assert heap.arena.definalize(heap.table[0]) is True


def scenario_pool_destroyed_under_a_taken_message() -> None:
    h = Heap()
    h.arena.enable_messages(MessageType.FINALIZATION)
    with h.amc.allocation_point() as ap:
        for i in range(2):
            h.arena.finalize(h.fmt.alloc(ap, 0, 2, i + 1))
    h.arena.collect()
    taken = h.arena.get_message(MessageType.FINALIZATION)
    assert taken is not None and h.fmt.ident(taken.finalization_ref()) in (1, 2)
    assert h.arena.poll_messages()
    h.amc.destroy()  # nothing is finalized at destruction; its queued messages go
    assert not h.arena.poll_messages()
    taken.finalization_ref()  # whatever it says now, it must not crash
    taken.discard()
    h.close()


def test_destroying_a_pool_under_a_taken_message() -> None:
    run_isolated("scenario_pool_destroyed_under_a_taken_message")


# ---- messages -----------------------------------------------------------------------------


def scenario_message_accessors() -> None:
    h = Heap()
    arena = h.arena
    assert not arena.poll_messages() and arena.queue_type() is None
    arena.collect()
    assert not arena.poll_messages(), "a message was posted for a type not enabled"
    arena.enable_messages(MessageType.GC, MessageType.GC_START, MessageType.FINALIZATION)
    ap = h.amc.allocation_point()
    arena.finalize(h.fmt.alloc(ap, 0, 2, 1))
    ap.destroy()
    arena.collect()
    assert arena.poll_messages()
    assert arena.queue_type() is not None
    start = arena.get_message(MessageType.GC_START)
    end = arena.get_message(MessageType.GC)
    final = arena.get_message(MessageType.FINALIZATION)
    assert start is not None and end is not None and final is not None
    assert (start.type, end.type, final.type) == (
        MessageType.GC_START,
        MessageType.GC,
        MessageType.FINALIZATION,
    )
    assert start.gc_start_why() and end.clock >= start.clock >= 0
    assert final.clock == 0
    assert end.gc_live_size() <= end.gc_condemned_size()
    assert h.fmt.ident(final.finalization_ref()) == 1
    wrong = [
        (end, end.finalization_ref),
        (end, end.gc_start_why),
        (start, start.gc_live_size),
        (start, start.gc_condemned_size),
        (start, start.gc_not_condemned_size),
        (start, start.finalization_ref),
        (final, final.gc_live_size),
        (final, final.gc_start_why),
    ]
    for message, accessor in wrong:
        with pytest.raises(MisuseError, match="another type"):
            accessor()
        assert not message.destroyed
    assert isinstance(end.info(), gc_plugin.GCInfo) and isinstance(
        start.info(), gc_plugin.GCStartInfo
    )
    assert isinstance(final.info(), gc_plugin.FinalizationInfo)
    for message in (start, end, final):
        message.discard()
        with pytest.raises(InvalidArgumentError, match="destroyed"):
            message.gc_live_size()
    # Disabling a type discards what is queued of it.
    arena.collect()
    assert arena.poll_messages()
    arena.disable_messages(MessageType.GC, MessageType.GC_START)
    assert not arena.poll_messages()
    with pytest.raises(ValueError):
        arena.enable_messages(7)  # type: ignore[arg-type]
    h.close()


def test_message_accessors_and_the_queue() -> None:
    run_isolated("scenario_message_accessors")


def test_gc_messages_come_in_pairs_with_sane_sizes(heap: Heap) -> None:
    fmt = heap.fmt
    heap.arena.enable_messages(MessageType.GC, MessageType.GC_START)
    with heap.amc.allocation_point() as ap:
        objs = [fmt.alloc(ap, 0, 4, i) for i in range(1, 1001)]
    for i in range(10):
        heap.table[i] = objs[i * 100]
    for _ in range(3):
        total = sum(p.total_size for p in (heap.amc, heap.amcz, heap.lo))
        heap.arena.collect()
        starts = heap.arena.take_messages(MessageType.GC_START)
        ends = heap.arena.take_messages(MessageType.GC)
        assert len(starts) == len(ends) >= 1
        for e in ends:
            assert isinstance(e, gc_plugin.GCInfo)
            assert e.live_size <= e.condemned_size <= total, (e, total)
            assert e.not_condemned_size <= total


def test_gc_message_sizes_with_an_attached_ap(heap: Heap) -> None:
    """The same with the allocation point still attached to the segment."""
    heap.arena.enable_messages(MessageType.GC)
    ap = heap.amc.allocation_point()
    heap.table[0] = heap.fmt.alloc(ap, 0, 2, 1)
    heap.fmt.alloc(ap, 0, 2, 2)  # garbage
    for _ in range(4):
        total = heap.amc.total_size
        heap.arena.collect()
        for e in heap.arena.take_messages(MessageType.GC):
            assert isinstance(e, gc_plugin.GCInfo)
            assert e.live_size <= e.condemned_size <= total, (e, total)
    ap.destroy()


def test_ambiguous_table_root_pins(heap: Heap) -> None:
    """An ambiguous table root keeps its objects alive where they are and is
    never updated; an exact one next to it follows its object."""
    fmt = heap.fmt
    ambig = heap.arena.root_table(2, rank=gc_plugin.Rank.AMBIG)
    with heap.amc.allocation_point() as ap:
        pinned = fmt.alloc(ap, 0, 2, 1)
        free = fmt.alloc(ap, 0, 2, 2)
    ambig[0] = pinned
    heap.table[0] = free
    heap.table[1] = pinned
    heap.arena.collect()
    assert ambig[0] == pinned == heap.table[1] and fmt.ident(pinned) == 1
    assert heap.live_ids() == {1, 2}
    ambig.destroy()


# ---- arena states ----------------------------------------------------------------------------


def _churn(h: Heap, megabytes: int, first: int, rooted: list[int]) -> int:
    """Allocate garbage through a fresh AP (ids from ``first``), keeping
    every thousandth object on a list rooted in table slot 0 (their ids
    appended to ``rooted``); returns the next id."""
    count = megabytes * 1024 * 1024 // h.fmt.size(1, 6)
    with h.amc.allocation_point() as ap:
        for i in range(count):
            obj = h.fmt.alloc(ap, 1, 6, first + i)
            if i % 1000 == 0:
                h.fmt.set_ref(obj, 0, h.table[0] or None)
                h.table[0] = obj
                rooted.append(first + i)
    return first + count


def test_parked_and_clamped_arenas_start_no_collection() -> None:
    h = Heap(chain=[(64, 0.9)])  # a small nursery: allocation would soon trigger
    try:
        h.arena.enable_messages(MessageType.GC_START)
        rooted: list[int] = []
        n = _churn(h, 4, 1, rooted)
        assert h.arena.take_messages(MessageType.GC_START) == [], "a parked arena collected"
        h.arena.clamp()
        n = _churn(h, 4, n, rooted)
        assert h.arena.take_messages(MessageType.GC_START) == [], "a clamped arena collected"
        h.arena.release()
        n = _churn(h, 8, n, rooted)
        h.arena.park()
        assert h.arena.take_messages(MessageType.GC_START), (
            "a released arena never collected while 8 MB went through a 64 KiB nursery"
        )
        h.arena.start_collect()
        h.arena.park()  # finishes the collection
        assert h.arena.take_messages(MessageType.GC_START)
        assert not h.arena.busy
        assert h.arena.step(0.0, 1.0) in (True, False)
        h.arena.park()
        h.arena.collect()
        chain = []
        obj = h.table[0]
        while obj:
            chain.append(h.fmt.ident(obj))
            obj = h.fmt.ref(obj, 0)
        assert chain == rooted[::-1]
    finally:
        h.close()


# ---- introspection -----------------------------------------------------------------------------


@pytest.mark.parametrize("header", [0, 16])
def test_addr_object(header: int) -> None:
    h = Heap(header=header)
    try:
        fmt = h.fmt
        with h.amc.allocation_point() as ap:
            objs = [fmt.alloc(ap, 1, 6, i + 1) for i in range(10)]
        size = fmt.size(1, 6)
        for obj in objs:
            for inside in (obj, obj + 8, obj - header + size - 8):
                found = h.arena.addr_object(inside)
                # the spec says "base"; with in-band headers accept the
                # client pointer too (what the reference returns)
                assert found in (obj, obj - header), (hex(inside), hex(found), hex(obj))
        with pytest.raises(gc_plugin.FailError):
            h.arena.addr_object(4096)
        mvff = h.arena.mvff()
        block = mvff.alloc(64)
        with pytest.raises(gc_plugin.UnimplementedError):
            h.arena.addr_object(block.address)
        mvff.free(block)
        mvff.destroy()
        with h.lo.allocation_point() as ap:
            leaf = fmt.alloc(ap, 0, 3, 99)
        # LO need not support it (only AMC and AMCZ do in the MPS)
        with contextlib.suppress(gc_plugin.UnimplementedError):
            assert h.arena.addr_object(leaf + 8) in (leaf, leaf - header)
        h.table[0] = objs[0]
        h.arena.collect()
        assert h.table[0] != objs[0]
        with pytest.raises(gc_plugin.FailError):
            h.arena.addr_object(objs[0])  # the object moved away
        assert h.arena.addr_object(h.table[0]) in (h.table[0], h.table[0] - header)
        assert h.arena.addr_format(h.table[0]) is fmt
        assert h.arena.addr_format(4096) is None
    finally:
        h.close()


def test_location_dependency(heap: Heap) -> None:
    fmt = heap.fmt
    with heap.amc.allocation_point() as ap:
        objs = [fmt.alloc(ap, 0, 2, i + 1) for i in range(4)]
    with heap.lo.allocation_point() as ap:
        leaf = fmt.alloc(ap, 0, 2, 9)
    heap.table[0], heap.table[1], heap.table[2] = objs[0], objs[1], leaf
    moving, fixed, empty = (heap.arena.location_dependency() for _ in range(3))
    moving.add(objs[0])
    fixed.add(leaf)
    assert not moving.is_stale(objs[0]) and not moving.is_stale_any()
    heap.arena.collect()
    assert heap.table[0] != objs[0]
    assert moving.is_stale(objs[0]) and moving.is_stale_any()
    assert not empty.is_stale_any() and not empty.is_stale(objs[0])
    empty.merge(moving)
    assert empty.is_stale_any()
    moving.reset()
    assert not moving.is_stale_any()
    before = heap.table[0]
    moving.add(before)
    heap.arena.collect()  # survivors may move again (to the next generation)
    if heap.table[0] != before:
        assert moving.is_stale(before)
    fixed.is_stale(leaf)  # either answer is allowed for an object that did not move
    other = gc_plugin.Arena()
    try:
        with pytest.raises(InvalidArgumentError):
            moving.merge(other.location_dependency())
    finally:
        other.destroy()


def test_weak_root_table(heap: Heap) -> None:
    fmt = heap.fmt
    weak = heap.arena.root_table(4, rank="weak")
    assert weak.rank is gc_plugin.Rank.WEAK and len(weak) == 4
    with heap.amc.allocation_point() as ap:
        a = fmt.alloc(ap, 0, 2, 1)
        b = fmt.alloc(ap, 0, 2, 2)
    weak[0], weak[1] = a, b
    heap.table[0] = b
    heap.arena.collect()
    assert weak[0] == 0, "a weak reference to a dead object was not splatted"
    assert weak[1] == heap.table[0] and fmt.ident(weak[1]) == 2
    weak.destroy()


def test_root_table_slots(heap: Heap) -> None:
    table = heap.table
    assert len(table) == 16 and table.values() == [0] * 16
    with pytest.raises(IndexError):
        table[16]
    with pytest.raises(TypeError):
        table["x"]  # type: ignore[index]
    ap = heap.amc.allocation_point()
    table[-1] = heap.fmt.alloc(ap, 0, 2, 1)
    assert table[15] == table[-1] != 0
    table[15] = None
    assert table[15] == 0
    ap.destroy()
    ambig = heap.arena.root_table(2, rank=gc_plugin.Rank.AMBIG)
    ambig.destroy()
    with pytest.raises(InvalidArgumentError):
        ambig[0] = 1
    with pytest.raises(ValueError):
        heap.arena.root_table(2, rank="strong")


def test_repeated_collections_keep_the_accounting(heap: Heap) -> None:
    """With an allocation point still attached, a live and a dead object:
    once the first collection has reclaimed the dead one, further
    collections with nothing allocated change no pool's total or free size
    (and free_size never exceeds total_size)."""
    fmt = heap.fmt
    ap = heap.amc.allocation_point()
    heap.table[0] = fmt.alloc(ap, 0, 2, 1)
    fmt.alloc(ap, 0, 2, 2)  # garbage
    heap.arena.collect()
    sizes = [(p.total_size, p.free_size) for p in (heap.amc, heap.amcz, heap.lo)]
    for _ in range(3):
        heap.arena.collect()
        now = [(p.total_size, p.free_size) for p in (heap.amc, heap.amcz, heap.lo)]
        assert now == sizes, f"(total, free) of AMC, AMCZ, LO went {sizes} -> {now}"
    ap.destroy()


@pytest.mark.parametrize("kind", ["amc", "amcz", "lo"])
def test_dead_large_object_free_size(heap: Heap, kind: str) -> None:
    """A dead object as large as its segment: free_size <= total_size."""
    ap = heap.pool(kind).allocation_point()
    heap.fmt.alloc(ap, 0, 4095, 1)
    pool = heap.pool(kind)
    for _ in range(3):
        heap.arena.collect()
        assert 0 <= pool.free_size <= pool.total_size, (pool.total_size, pool.free_size)
    ap.destroy()


def test_teardown_destroys_everything() -> None:
    h = Heap(chain=[(64, 0.5)])
    ap = h.amc.allocation_point()
    h.table[0] = h.fmt.alloc(ap, 1, 2, 1)
    root = h.thread.stack_root()
    h.arena.enable_messages(MessageType.GC)
    h.arena.collect()
    message = h.arena.get_message(MessageType.GC)
    base = ap.reserve(h.fmt.size(0, 2))
    h.fmt.init(ap, base, 0, 2, 2)  # left reserved
    objects = [ap, h.amc, h.amcz, h.lo, h.fmt, h.chain, h.table, root, h.thread, message]
    h.arena.teardown()
    assert h.arena.destroyed
    assert all(o is not None and o.destroyed for o in objects)
    h.arena.teardown()  # idempotent


def test_parked_holds_the_arena_still_and_releases_it() -> None:
    h = Heap(chain=[(64, 0.5)], park=False)
    ap = h.amc.allocation_point()
    h.table[0] = h.fmt.alloc(ap, 0, 2, 7)
    before = h.arena.collection_count
    with h.arena.parked() as arena:
        assert arena is h.arena
        where = h.table[0]
        for _ in range(2000):  # garbage that would start collections
            h.fmt.alloc(ap, 0, 8, 1)
        assert h.table[0] == where  # nothing moves while parked
        assert h.arena.collection_count == before
    h.arena.collect()  # released: collections run again
    assert h.arena.collection_count > before
    assert h.fmt.ident(h.table[0]) == 7
    ap.destroy()
    h.close()


def test_the_arena_owns_what_is_made_in_it() -> None:
    arena = gc_plugin.Arena()
    fmt = GraphFormat(arena)
    chain = arena.chain([(256, 0.5)])
    pool = arena.amc(fmt, chain=chain)
    table = arena.root_table(2)
    thread = arena.register_thread()
    assert fmt.arena is arena and chain.arena is arena and table.arena is arena
    assert pool in arena.pools and fmt.pools == [pool] and chain.pools == [pool]
    assert arena._owned(gc_plugin.Root) == [table]
    assert arena._owned(gc_plugin.Thread) == [thread]
    # the core refuses while something depends on an object, and the
    # object stays usable; after teardown everything is gone
    with pytest.raises(MisuseError, match="still"):
        arena.destroy()
    assert not arena.destroyed and arena.check()
    arena.teardown()
    for obj in (fmt, chain, pool, table, thread, arena):
        assert obj.destroyed, obj
