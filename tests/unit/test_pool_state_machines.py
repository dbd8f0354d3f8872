"""Stateful (hypothesis) tests of gc_plugin's manual pool classes against a
plain-Python model (tests/unit/model.py: address -> size, route, contents).

One RuleBasedStateMachine per configuration:

* MFS with a drawn unit size (1..256) and extent size;
* MVFF with alignment 8/16/64/4096, random placement keys (arena_high,
  slot_high, first_fit), spare and extend_by, allocating with ``alloc`` and
  (when drawn) through allocation points created before the first alloc;
* MVFF debug (the same, plus random fencepost / free-space templates, and
  check_fenceposts / check_free_space as invariants);
* MVT through allocation points (``ap.alloc`` and the raw reserve/commit
  protocol), freed with ``pool.free``;
* a segregated allocation cache over MVFF (or MVFF debug) and one over MFS;
* SEGFIT, allocating with ``alloc`` (mps_alloc) and ``alloc_tagged`` (sizes
  from 0 up to large blocks, random tags), freeing with mps_free (the exact
  size) and ``free_block``, with ``block_info`` checks; its extra invariants
  are that ``walk()`` lists exactly the model's blocks (address, requested
  size, tag), ``live()`` agrees, and total - free is exactly the blocks'
  extents (class size, or large size rounded up to the grain).  Each block's
  whole usable size is filled and checked.

Rules allocate (random sizes, including sizes above a cache's largest class
and above MVT's fill size), free a random live block, write random bytes into
a live block (through Block.write or a memoryview), and now and then destroy
and recreate an allocation point or flush / recreate a cache.

Invariants after every step: every live block is aligned as the pool says;
no two live blocks overlap; every live block holds exactly what the model
says was last written into it; total_size >= free_size >= 0 and
total - free >= the live blocks' (rounded) sizes (+ what a cache holds);
pool.check() and arena.check() (the core's consistency walks) are True.

The arena's accounts add up (committed = spare + overhead + control +
pools) and arena.pools_committed equals the pool's total_size.

Teardown: free everything, destroy APs / caches, then free_size == total_size;
destroy the pool, and the arena holds no pool memory any more
(arena.pools_committed == 0).

Hypothesis prints the failing steps and a reproduction blob (print_blob);
runs are not derandomized (replay one with --hypothesis-seed=N; soak with
GCP_TEST_EXAMPLES=2000).  At the end: regression tests replaying sequences
the machines found.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Any

import pytest
from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

import gc_plugin

from .model import (
    HeapModel,
    LiveBlock,
    PoolHeldProbe,
    SegfitModel,
    check_arena_accounting,
    payload,
    round_up,
)

#: GCP_TEST_EXAMPLES=2000 for a longer soak run.
SETTINGS = settings(
    max_examples=int(os.environ.get("GCP_TEST_EXAMPLES", "120")),
    stateful_step_count=50,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

SEEDS = st.integers(0, 2**32 - 1)
#: Mostly small, sometimes page-sized, sometimes larger than an extent.
SIZES = st.one_of(
    st.integers(1, 64),
    st.integers(1, 1024),
    st.integers(1, 8192),
    st.integers(8192, 150_000),
)


def _has_blocks(self: PoolMachine) -> bool:
    return self.model is not None and len(self.model) > 0


class PoolMachine(RuleBasedStateMachine):
    """Rules and invariants common to every pool configuration.

    Subclasses create ``self.pool`` and ``self.model`` in an @initialize rule
    and add the allocation rules of their class.
    """

    def __init__(self) -> None:
        super().__init__()
        self.arena = gc_plugin.Arena()
        self.probe = PoolHeldProbe(self.arena)
        self.pool: Any = None
        self.model: HeapModel | None = None
        self.aps: list[gc_plugin.AllocationPoint | None] = []
        self.cache: gc_plugin.AllocationCache | None = None
        self.cache_classes: list[tuple[int, int, int]] = []

    # ---- helpers ------------------------------------------------------------

    def _free_live(self, live: LiveBlock) -> None:
        if live.route == "cache":
            assert self.cache is not None
            self.cache.free_address(live.block.address, live.free_size)
        else:
            self.pool.free_address(live.block.address, live.free_size)

    def _cached(self) -> int:
        return self.cache.cached_size if self.cache is not None else 0

    def _ap(self, slot: int) -> gc_plugin.AllocationPoint:
        ap = self.aps[slot]
        if ap is None:
            ap = self.pool.allocation_point()
            self.aps[slot] = ap
        return ap

    def _ap_alloc(self, slot: int, size: int, seed: int) -> None:
        assert self.model is not None
        size = round_up(size, self.pool.alignment)
        block = self._ap(slot).alloc(size)
        assert block.size == size
        self.model.add(block, size, f"ap:{slot}", seed)

    # ---- common rules -----------------------------------------------------------

    @precondition(_has_blocks)
    @rule(data=st.data())
    def free(self, data: st.DataObject) -> None:
        assert self.model is not None
        address = data.draw(st.sampled_from(self.model.addresses()), label="free block")
        live = self.model.remove(address)
        self._free_live(live)

    @precondition(_has_blocks)
    @rule(data=st.data(), seed=SEEDS, via_view=st.booleans())
    def write(self, data: st.DataObject, seed: int, via_view: bool) -> None:
        assert self.model is not None
        address = data.draw(st.sampled_from(self.model.addresses()), label="write block")
        size = self.model.blocks[address].block.size
        offset = data.draw(st.integers(0, size - 1), label="offset")
        length = data.draw(st.integers(1, size - offset), label="length")
        self.model.write(address, offset, payload(seed, length), via_view)

    # ---- invariants -------------------------------------------------------------

    @invariant()
    def blocks_aligned_and_disjoint(self) -> None:
        if self.model is None:
            return
        self.model.check_alignment()
        self.model.check_no_overlap()

    @invariant()
    def contents_survive(self) -> None:
        if self.model is not None:
            self.model.check_contents()

    @invariant()
    def accounting(self) -> None:
        if self.model is None:
            return
        cached = self._cached()
        assert cached >= 0
        self.model.check_accounting(self.pool, also_allocated=cached)

    @invariant()
    def core_consistent(self) -> None:
        if self.pool is None:
            return
        assert self.pool.check() is True
        assert self.arena.check() is True

    @invariant()
    def arena_accounting(self) -> None:
        if self.pool is None:
            return
        check_arena_accounting(self.arena)
        # The pool is the arena's only one: it holds exactly its segments.
        assert self.arena.pools_committed == self.pool.total_size

    # ---- teardown ---------------------------------------------------------------

    def _release_children(self) -> None:
        if self.cache is not None:
            self.cache.flush()
            assert self.cache.cached_size == 0
            self.cache.destroy()
            assert self.cache.destroyed
            self.cache = None
        for slot, ap in enumerate(self.aps):
            if ap is not None:
                ap.destroy()
                assert ap.destroyed
                self.aps[slot] = None

    def teardown(self) -> None:
        failing = sys.exc_info()[0] is not None
        try:
            if not failing and self.pool is not None and self.model is not None:
                for address in self.model.addresses():
                    self._free_live(self.model.remove(address))
                self._release_children()
                pool = self.pool
                total, free = pool.total_size, pool.free_size
                assert free == total, (
                    f"everything freed, APs and caches gone, but free {free} != total {total}"
                )
                assert pool.check() is True
                assert self.arena.check() is True
                pool.destroy()
                assert pool.destroyed
                assert pool not in self.arena.pools
                assert self.arena.check() is True
                self.probe.check_empty()
        finally:
            self._cleanup()

    def _cleanup(self) -> None:
        """Best effort: leave nothing behind, whatever happened."""
        for obj in [self.cache, *self.aps, self.pool]:
            if obj is not None:
                with contextlib.suppress(gc_plugin.MPSError):
                    obj.destroy()
        with contextlib.suppress(gc_plugin.MPSError):
            self.arena.destroy()


# ---- MFS ----------------------------------------------------------------------


class MFSMachine(PoolMachine):
    @initialize(
        unit=st.integers(1, 256),
        extend_by=st.sampled_from([None, 1, 3000, 4096, 65536]),
    )
    def make_pool(self, unit: int, extend_by: int | None) -> None:
        self.pool = self.arena.mfs(unit, extend_by=extend_by)
        assert self.pool.class_name == "MFS"
        assert self.pool.unit_size == unit
        self.unit = unit
        self.unit_extent = round_up(max(unit, 8), self.pool.alignment)
        self.model = HeapModel(self.pool.alignment)
        self.last_total = 0

    @rule(data=st.data(), seed=SEEDS)
    def alloc(self, data: st.DataObject, seed: int) -> None:
        assert self.model is not None
        size = data.draw(st.integers(1, self.unit), label="size")
        block = self.pool.alloc(size)
        assert block.size == size
        self.model.add(block, size, "pool", seed)

    @invariant()
    def mfs_accounting(self) -> None:
        if self.model is None:
            return
        total, free = self.pool.total_size, self.pool.free_size
        # Every live block takes exactly one unit; MFS never gives memory back.
        assert total - free == len(self.model) * self.unit_extent
        assert total >= self.last_total
        self.last_total = total


# ---- MVFF and MVFF debug ----------------------------------------------------------


MVFF_KEYS: dict[str, st.SearchStrategy[Any]] = dict(
    align=st.sampled_from([8, 16, 64, 4096]),
    arena_high=st.sampled_from([None, False, True]),
    slot_high=st.sampled_from([None, False, True]),
    first_fit=st.sampled_from([None, False, True]),
    spare=st.sampled_from([None, 0.0, 0.3, 1.0]),
    extend_by=st.sampled_from([None, 4096, 65536, 200_000]),
    ap_slots=st.integers(0, 2),
)


class MVFFMachine(PoolMachine):
    def _create(self, **keys: Any) -> Any:
        pool = self.arena.mvff(**keys)
        assert pool.class_name == "MVFF"
        return pool

    @initialize(**MVFF_KEYS)  # type: ignore[call-overload]
    def make_pool(
        self,
        align: int,
        arena_high: bool | None,
        slot_high: bool | None,
        first_fit: bool | None,
        spare: float | None,
        extend_by: int | None,
        ap_slots: int,
    ) -> None:
        self.pool = self._create(
            align=align,
            arena_high=arena_high,
            slot_high=slot_high,
            first_fit=first_fit,
            spare=spare,
            extend_by=extend_by,
        )
        assert self.pool.alignment == align
        self.model = HeapModel(align)
        # docs/design/mvff.md: with both APs and mps_alloc, create the first AP before
        # the first mps_alloc.
        self.aps = [self.pool.allocation_point() for _ in range(ap_slots)]

    @rule(size=SIZES, seed=SEEDS)
    def alloc(self, size: int, seed: int) -> None:
        assert self.model is not None
        block = self.pool.alloc(size)
        assert block.size == size
        self.model.add(block, size, "pool", seed)

    @precondition(lambda self: len(self.aps) > 0)
    @rule(data=st.data(), size=SIZES, seed=SEEDS)
    def ap_alloc(self, data: st.DataObject, size: int, seed: int) -> None:
        slot = data.draw(st.integers(0, len(self.aps) - 1), label="ap")
        self._ap_alloc(slot, size, seed)

    @precondition(lambda self: len(self.aps) > 0)
    @rule(data=st.data())
    def ap_destroy_or_create(self, data: st.DataObject) -> None:
        slot = data.draw(st.integers(0, len(self.aps) - 1), label="ap")
        ap = self.aps[slot]
        if ap is None:
            self.aps[slot] = self.pool.allocation_point()
        else:
            ap.destroy()
            assert ap.destroyed
            ap.destroy()  # idempotent
            self.aps[slot] = None


class MVFFDebugMachine(MVFFMachine):
    TEMPLATES = st.sampled_from([None, b"", b"\xa5", b"POST", b"0123456789abcdefXYZ"])

    @initialize(fence=TEMPLATES, free=TEMPLATES)
    def templates(self, fence: bytes | None, free: bytes | None) -> None:
        self.fence = fence
        self.free_template = free

    def _create(self, **keys: Any) -> Any:
        # initialize rules run in an unspecified order: draw the templates
        # here if make_pool came first.
        templates: dict[str, bytes] = {}
        fence = getattr(self, "fence", None)
        free = getattr(self, "free_template", None)
        if fence is not None:
            templates["fence_template"] = fence
        if free is not None:
            templates["free_template"] = free
        pool = self.arena.mvff_debug(**templates, **keys)
        assert pool.class_name == "MVFF debug"
        assert isinstance(pool, gc_plugin.MVFFDebugPool)
        return pool

    @invariant()
    def debug_checks(self) -> None:
        if self.pool is None:
            return
        self.pool.check_fenceposts()
        self.pool.check_free_space()

    @precondition(_has_blocks)
    @rule(data=st.data())
    def write_whole_block(self, data: st.DataObject) -> None:
        """Fill a block to its last byte: the fenceposts must not notice."""
        assert self.model is not None
        address = data.draw(st.sampled_from(self.model.addresses()), label="block")
        size = self.model.blocks[address].block.size
        self.model.write(address, 0, b"\xff" * size, via_view=True)


# ---- MVT ------------------------------------------------------------------------------


MVT_SIZE_KEYS = st.sampled_from(
    [
        (None, None, None),
        (8, 32, 8192),
        (None, None, 128),
        (64, 256, 1024),
        (None, 512, None),
        (16, 16, 65536),
    ]
)


class MVTMachine(PoolMachine):
    @initialize(
        align=st.sampled_from([None, 8, 16, 64, 4096]),
        sizes=MVT_SIZE_KEYS,
        reserve_depth=st.sampled_from([None, 0, 4, 1024]),
        frag_limit=st.sampled_from([None, 0.1, 0.5, 1.0]),
        ap_slots=st.integers(1, 2),
    )
    def make_pool(
        self,
        align: int | None,
        sizes: tuple[int | None, int | None, int | None],
        reserve_depth: int | None,
        frag_limit: float | None,
        ap_slots: int,
    ) -> None:
        min_size, mean_size, max_size = sizes
        self.pool = self.arena.mvt(
            align=align,
            min_size=min_size,
            mean_size=mean_size,
            max_size=max_size,
            reserve_depth=reserve_depth,
            frag_limit=frag_limit,
        )
        assert self.pool.class_name == "MVT"
        assert not hasattr(self.pool, "alloc")
        if align is not None:
            assert self.pool.alignment == align
        self.model = HeapModel(self.pool.alignment)
        self.aps = [None] * ap_slots

    @rule(data=st.data(), size=SIZES, seed=SEEDS)
    def ap_alloc(self, data: st.DataObject, size: int, seed: int) -> None:
        slot = data.draw(st.integers(0, len(self.aps) - 1), label="ap")
        self._ap_alloc(slot, size, seed)

    @rule(data=st.data(), size=SIZES, seed=SEEDS)
    def reserve_commit(self, data: st.DataObject, size: int, seed: int) -> None:
        """The raw protocol: reserve, initialise, commit (retry if refused)."""
        assert self.model is not None
        slot = data.draw(st.integers(0, len(self.aps) - 1), label="ap")
        ap = self._ap(slot)
        size = round_up(size, self.pool.alignment)
        for _ in range(100):
            address = ap.reserve(size)
            assert address % self.pool.alignment == 0
            block = gc_plugin.Block(address, size)
            block.write(b"\x00" * size)
            if ap.commit(address, size):
                break
        else:
            raise AssertionError("commit refused 100 times in a row with no collector")
        self.model.add(block, size, f"ap:{slot}", seed)

    @rule(data=st.data())
    def ap_destroy_or_create(self, data: st.DataObject) -> None:
        slot = data.draw(st.integers(0, len(self.aps) - 1), label="ap")
        ap = self.aps[slot]
        if ap is None:
            self.aps[slot] = self.pool.allocation_point()
        else:
            ap.destroy()
            assert ap.destroyed
            self.aps[slot] = None


# ---- caches -----------------------------------------------------------------------


class CacheMachine(PoolMachine):
    """Rules for a cache in front of a pool; subclasses make pool and classes."""

    def _make_cache(self) -> None:
        self.cache = self.pool.cache(self.cache_classes)
        assert self.cache.cached_size == 0
        assert self.cache.class_sizes == sorted(c[0] for c in self.cache_classes)

    def _largest_request(self) -> int:
        raise NotImplementedError

    @rule(data=st.data(), seed=SEEDS)
    def cache_alloc(self, data: st.DataObject, seed: int) -> None:
        assert self.model is not None and self.cache is not None
        size = data.draw(st.integers(1, self._largest_request()), label="size")
        block = self.cache.alloc(size)
        classes = [c[0] for c in self.cache_classes]
        expected = next((c for c in classes if c >= size), size)
        assert block.size == expected, f"{block} for {size} bytes, classes {classes}"
        self.model.add(block, size, "cache", seed)

    @rule()
    def flush(self) -> None:
        assert self.cache is not None
        self.cache.flush()
        assert self.cache.cached_size == 0

    @rule()
    def recreate_cache(self) -> None:
        """Blocks may be freed to another cache with the identical class array."""
        assert self.cache is not None
        self.cache.destroy()
        assert self.cache.destroyed
        self._make_cache()


def _classes(align: int, top: int) -> st.SearchStrategy[list[tuple[int, int, int]]]:
    """Up to 8 increasing class sizes (multiples of ``align``, at most ``top``)."""
    multiples = st.lists(st.integers(1, max(1, top // align)), min_size=1, max_size=8, unique=True)
    return multiples.flatmap(
        lambda ms: st.tuples(
            *[
                st.tuples(st.just(m * align), st.integers(0, 16), st.integers(1, 10))
                for m in sorted(ms)
            ]
        ).map(list)
    )


class MVFFCacheMachine(CacheMachine):
    @initialize(
        data=st.data(),
        align=st.sampled_from([8, 16, 64]),
        debug=st.booleans(),
        spare=st.sampled_from([None, 0.0, 1.0]),
    )
    def make_pool(self, data: st.DataObject, align: int, debug: bool, spare: float | None) -> None:
        if debug:
            self.pool = self.arena.mvff_debug(align=align, spare=spare)
        else:
            self.pool = self.arena.mvff(align=align, spare=spare)
        self.model = HeapModel(align)
        self.cache_classes = data.draw(_classes(align, 4096), label="classes")
        self._make_cache()

    def _largest_request(self) -> int:
        return self.cache_classes[-1][0] * 3 // 2 + 1  # includes overlarge requests

    @rule(size=SIZES, seed=SEEDS)
    def pool_alloc(self, size: int, seed: int) -> None:
        assert self.model is not None
        block = self.pool.alloc(size)
        self.model.add(block, size, "pool", seed)

    @invariant()
    def debug_checks(self) -> None:
        if isinstance(self.pool, gc_plugin.MVFFDebugPool):
            self.pool.check_fenceposts()
            self.pool.check_free_space()


class MFSCacheMachine(CacheMachine):
    @initialize(data=st.data(), unit=st.integers(1, 256))
    def make_pool(self, data: st.DataObject, unit: int) -> None:
        self.pool = self.arena.mfs(unit)
        align = self.pool.alignment
        self.model = HeapModel(align)
        self.unit_extent = round_up(max(unit, 8), align)
        classes = data.draw(_classes(align, self.unit_extent), label="classes")
        # The largest class is the unit itself, so no request is overlarge
        # (an MFS pool cannot allocate more than a unit).
        if classes[-1][0] != self.unit_extent:
            classes.append((self.unit_extent, data.draw(st.integers(0, 16)), 1))
        self.cache_classes = classes
        self._make_cache()

    def _largest_request(self) -> int:
        return self.unit_extent

    @rule(seed=SEEDS)
    def pool_alloc(self, seed: int) -> None:
        assert self.model is not None
        block = self.pool.alloc(self.unit_extent)
        self.model.add(block, self.unit_extent, "pool", seed)

    @invariant()
    def units_accounted(self) -> None:
        if self.model is None or self.cache is None:
            return
        # Every live block and every cached block holds exactly one unit; a
        # cached block of class size c accounts for c bytes of cached_size.
        total, free = self.pool.total_size, self.pool.free_size
        extra = total - free - len(self.model) * self.unit_extent
        assert extra >= 0 and extra % self.unit_extent == 0, (total, free, len(self.model))
        units = extra // self.unit_extent
        cached = self.cache.cached_size
        smallest = self.cache_classes[0][0]
        assert units * smallest <= cached <= units * self.unit_extent, (units, cached)


# ---- SEGFIT ----------------------------------------------------------------------------


#: Mostly small (zero included), sometimes up to the largest class, sometimes large.
SEGFIT_SIZES = st.one_of(
    st.integers(0, 600),
    st.integers(0, 600),
    st.integers(0, 600),
    st.integers(0, gc_plugin.SegfitPool.SMALL_MAX),
    st.integers(gc_plugin.SegfitPool.SMALL_MAX + 1, 200_000),
)
TAGS = st.integers(0, 0xFFFF)
FREE_HOW = st.sampled_from(["mps_free", "free_block", "free_block_address"])


class SegfitMachine(PoolMachine):
    """SEGFIT through mps_alloc / mps_free and its own calls."""

    @initialize()
    def make_pool(self) -> None:
        self.pool = self.arena.segfit()
        assert isinstance(self.pool, gc_plugin.SegfitPool)
        assert self.pool.class_name == "SEGFIT"
        assert self.pool.alignment == 16
        self.model = SegfitModel(self.arena.grain_size)

    def _segfit_model(self) -> SegfitModel:
        assert isinstance(self.model, SegfitModel)
        return self.model

    def _free_live(self, live: LiveBlock, how: str = "mps_free") -> None:
        """Check the block's contents, then free it ``how``."""
        assert live.block.read() == bytes(live.content), f"{live.block} changed before its free"
        if how == "mps_free" and live.free_size > 0:
            self.pool.free_address(live.block.address, live.free_size)
        elif how == "free_block_address":
            self.pool.free_block(live.block.address)
        else:
            self.pool.free_block(live.block)

    @rule(size=SEGFIT_SIZES, seed=SEEDS)
    def alloc(self, size: int, seed: int) -> None:
        model = self._segfit_model()
        if size == 0:
            # The generic interface refuses a zero size, as for every pool.
            with pytest.raises(gc_plugin.MisuseError, match="zero"):
                self.pool.alloc(0)
            return
        block = self.pool.alloc(size)
        assert block.size == size
        model.add_block(block.address, size, 0, "pool", seed)

    @rule(size=SEGFIT_SIZES, tag=TAGS, seed=SEEDS)
    def alloc_tagged(self, size: int, tag: int, seed: int) -> None:
        block = self.pool.alloc_tagged(size, tag)
        assert block.size == size
        self._segfit_model().add_block(block.address, size, tag, "tagged", seed)

    @precondition(_has_blocks)
    @rule(data=st.data(), how=FREE_HOW)
    def free(self, data: st.DataObject, how: str) -> None:  # type: ignore[override]
        model = self._segfit_model()
        address = data.draw(st.sampled_from(model.addresses()), label="free block")
        self._free_live(model.remove(address), how)
        assert self.pool.block_info(address) is None

    @precondition(_has_blocks)
    @rule(data=st.data())
    def block_info(self, data: st.DataObject) -> None:
        model = self._segfit_model()
        address = data.draw(st.sampled_from(model.addresses()), label="block")
        assert self.pool.block_info(address) == model.facts[address]
        usable = model.blocks[address].block.size
        inside = data.draw(st.integers(1, usable - 1), label="offset into it")
        assert self.pool.block_info(address + inside) is None

    @invariant()
    def walk_live_and_accounting(self) -> None:
        if self.model is not None:
            self._segfit_model().check_pool(self.pool)


# ---- the tests ---------------------------------------------------------------------------

MACHINES = [
    MFSMachine,
    MVFFMachine,
    MVFFDebugMachine,
    MVTMachine,
    MVFFCacheMachine,
    MFSCacheMachine,
    SegfitMachine,
]


@pytest.mark.parametrize("machine", MACHINES, ids=[m.__name__ for m in MACHINES])
def test_pool_state_machine(machine: type[RuleBasedStateMachine]) -> None:
    run_state_machine_as_test(machine, settings=SETTINGS)


# ---- regressions: sequences the machines found, replayed exactly ----------------------


def test_mvff_free_across_an_exhausted_ap_buffer() -> None:
    """MVFFMachine: an AP whose buffer is used up (init == limit) has no
    unused part, so a block reaching across its limit may be freed."""
    with gc_plugin.Arena() as arena:
        pool = arena.mvff(align=4096, extend_by=4096)
        with pool.allocation_point() as ap:
            first = pool.alloc(1)
            second = ap.alloc(4096)  # the whole buffer: init == limit now
            pool.free(first)
            pool.free(second)
            big = pool.alloc(4097)  # reuses the buffer's space and beyond
            pool.free(big)
            assert pool.check() is True
        pool.destroy()


def test_mvff_free_range_next_to_an_exhausted_ap_buffer() -> None:
    """MVFFMachine: a free range running past an exhausted AP buffer's limit
    does not overlap the (empty) unused part; pool.check() must hold."""
    with gc_plugin.Arena() as arena:
        pool = arena.mvff(align=4096, extend_by=4096, arena_high=True, spare=1.0)
        with pool.allocation_point() as ap:
            first = pool.alloc(1)
            second = ap.alloc(4096)
            pool.free(first)
            assert pool.check() is True
            pool.free(second)
            assert pool.check() is True
            assert arena.check() is True
        pool.destroy()


def test_mvff_debug_free_next_to_an_exhausted_ap_buffer() -> None:
    """MVFFDebugMachine: the same with two APs on a debug pool."""
    with gc_plugin.Arena() as arena:
        pool = arena.mvff_debug(align=8)
        ap0, ap1 = pool.allocation_point(), pool.allocation_point()
        first = pool.alloc(1)
        second = ap0.alloc(8)
        pool.free(second)
        third = ap1.alloc(8)  # ap1's buffer is exactly the 8 bytes just freed
        ap0.destroy()
        pool.free(third)
        assert pool.check() is True
        assert arena.check() is True
        pool.free(first)
        ap1.destroy()
        pool.destroy()


def test_segfit_usable_sizes() -> None:
    """The size classes: every size up to SMALL_MAX maps to a multiple of
    16 that holds it, monotonically, wasting at most a quarter above 128
    bytes; larger sizes are their own usable size."""
    usable = gc_plugin.SegfitPool.usable_size
    previous = 0
    for size in range(gc_plugin.SegfitPool.SMALL_MAX + 1):
        u = usable(size)
        assert u >= max(size, 1) and u % 16 == 0 and u >= previous, (size, u)
        assert u <= max(128, size + size // 4 + 16), (size, u)
        previous = u
    assert usable(gc_plugin.SegfitPool.SMALL_MAX) == gc_plugin.SegfitPool.SMALL_MAX
    for size in (gc_plugin.SegfitPool.SMALL_MAX + 1, 200_000, 1 << 30):
        assert usable(size) == size
