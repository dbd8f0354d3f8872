"""Misuse and faults: what the core detects, reported as exceptions, with the
pool left consistent and usable.

Each case provokes one kind of misuse through gc_plugin and checks that

* it raises gc_plugin.MisuseError (or the error class docs/design/python-api.md
  names) whose message names the problem ("double free", "foreign",
  "another pool", "does not match", "fencepost", "written after it was
  freed", ...);
* afterwards pool.check() and arena.check() are True and the pool still
  allocates and frees (the core backed out without changing anything).

Covered: foreign pointers (a bytearray's address, a block of another pool,
through a cache), double frees (MFS, MVFF with and without its quick lists,
MVFF debug, MVT, SEGFIT), wrong sizes, damaged fenceposts (after and before a block,
written with ctypes), writes to freed space on the debug pool, bad keyword
values, misusing allocation points (wrong sizes, commit of the wrong block,
destroy while reserved), destroying a pool with a live allocation point or
cache and an arena with live pools, the commit limit (CommitLimitError, then
working again once the limit is raised), and an arena too big for the
address space.  SEGFIT's own calls: double frees through free_block and
mps_free (small, large, and in a run that went back to the pool), interior
and foreign pointers (a bytearray, another pool, another arena), mps_free
with the wrong size, and tags wider than 16 bits; after each, walk() and
live() show the pool unchanged.
"""

from __future__ import annotations

import ctypes
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import gc_plugin
from gc_plugin import MisuseError

from .model import PoolHeldProbe, address_of_buffer, peek, poke

KIB = 1024
MIB = 1024 * KIB


# ---- helpers -------------------------------------------------------------------


def make_pool(arena: gc_plugin.Arena, kind: str) -> Any:
    if kind == "MFS":
        return arena.mfs(64)
    if kind == "MVFF":
        return arena.mvff()
    if kind == "MVFF placed":  # non-default placement: no quick lists
        return arena.mvff(arena_high=True, slot_high=True, first_fit=False)
    if kind == "MVFF debug":
        return arena.mvff_debug()
    if kind == "MVT":
        return arena.mvt()
    if kind == "SEGFIT":
        return arena.segfit()
    raise AssertionError(kind)


KINDS = ["MFS", "MVFF", "MVFF placed", "MVFF debug", "MVT", "SEGFIT"]


class Allocator:
    """Allocates from any pool: ``alloc`` where it exists, else an AP (MVT)."""

    def __init__(self, pool: Any) -> None:
        self.pool = pool
        self.ap: gc_plugin.AllocationPoint | None = None
        if isinstance(pool, gc_plugin.MVTPool):
            self.ap = pool.allocation_point()

    def alloc(self, size: int = 64) -> gc_plugin.Block:
        if self.ap is not None:
            return self.ap.alloc(size)
        if isinstance(self.pool, gc_plugin.MFSPool):
            size = min(size, self.pool.unit_size)
        return self.pool.alloc(size)

    def close(self) -> None:
        if self.ap is not None:
            self.ap.destroy()
            self.ap = None


@pytest.fixture(params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def pool_and_allocator(arena: gc_plugin.Arena, kind: str) -> Iterator[tuple[Any, Allocator]]:
    pool = make_pool(arena, kind)
    allocator = Allocator(pool)
    try:
        yield pool, allocator
    finally:
        allocator.close()


def assert_usable(pool: Any, allocator: Allocator | None = None) -> None:
    """The pool is consistent and still allocates, holds data and frees."""
    assert pool.check() is True
    assert pool.arena.check() is True
    own = allocator is None
    use = Allocator(pool) if allocator is None else allocator
    blocks = [use.alloc(64) for _ in range(4)]
    for i, block in enumerate(blocks):
        block.write(bytes([i]) * block.size)
    for i, block in enumerate(blocks):
        assert block.read() == bytes([i]) * block.size
    for block in blocks:
        pool.free(block)
    if own:
        use.close()
    assert pool.check() is True
    assert pool.arena.check() is True
    assert pool.total_size >= pool.free_size >= 0


def raises_misuse(fn: Callable[[], Any], *keywords: str) -> MisuseError:
    with pytest.raises(MisuseError) as info:
        fn()
    message = str(info.value)
    for keyword in keywords:
        assert keyword in message, f"{keyword!r} not in {message!r}"
    assert info.value.code == 8 and info.value.name == "MPS_RES_PARAM"
    return info.value


# ---- foreign pointers -------------------------------------------------------------


def test_foreign_pointer_from_a_bytearray(pool_and_allocator: tuple[Any, Allocator]) -> None:
    pool, allocator = pool_and_allocator
    keep = allocator.alloc(64)
    buf = bytearray(b"\x5a" * 256)
    address = address_of_buffer(buf) + 64  # 64 is aligned for every pool here
    address -= address % 64
    raises_misuse(lambda: pool.free_address(address, 64), "foreign")
    assert buf == bytearray(b"\x5a" * 256), "the core wrote into foreign memory"
    assert_usable(pool, allocator)
    pool.free(keep)


def test_foreign_pointer_from_another_pool(arena: gc_plugin.Arena, kind: str) -> None:
    pool = make_pool(arena, kind)
    allocator = Allocator(pool)
    other = arena.mfs(64) if kind != "MFS" else arena.mvff()
    theirs = other.alloc(64)
    mine = allocator.alloc(64)
    theirs.write(b"t" * 64)
    raises_misuse(lambda: pool.free(theirs), "another pool")
    raises_misuse(lambda: other.free(mine), "another pool")
    assert theirs.read() == b"t" * 64
    assert other.check() is True
    assert_usable(pool, allocator)
    pool.free(mine)
    other.free(theirs)
    allocator.close()


def test_foreign_pointer_into_a_cache(arena: gc_plugin.Arena) -> None:
    pool = arena.mvff()
    other = arena.mvff()
    with pool.cache([(32, 4, 1), (64, 4, 1)]) as cache:
        theirs = other.alloc(64)
        raises_misuse(lambda: cache.free(theirs), "foreign")
        buf = bytearray(64)
        raises_misuse(lambda: cache.free_address(address_of_buffer(buf), 64), "foreign")
        block = cache.alloc(40)
        assert block.size == 64
        cache.free(block)
        assert cache.cached_size >= 64 and cache.cached_size % 64 == 0  # fill preloads
    assert_usable(pool)
    other.free(theirs)


def test_null_and_zero_size_frees(pool_and_allocator: tuple[Any, Allocator]) -> None:
    pool, allocator = pool_and_allocator
    block = allocator.alloc(64)
    raises_misuse(lambda: pool.free_address(0, 64), "NULL")
    raises_misuse(lambda: pool.free_address(block.address, 0), "zero")
    assert_usable(pool, allocator)
    pool.free(block)


def test_misaligned_free(arena: gc_plugin.Arena, kind: str) -> None:
    pool = make_pool(arena, kind)
    allocator = Allocator(pool)
    block = allocator.alloc(64)
    keep = allocator.alloc(64)
    block.write(b"b" * 64)
    with pytest.raises(MisuseError):
        pool.free_address(block.address + 1, 32)
    assert block.read() == b"b" * 64
    assert_usable(pool, allocator)
    pool.free(block)
    pool.free(keep)
    allocator.close()


@pytest.mark.parametrize("kind", ["MFS", "MVFF debug", "SEGFIT"])
def test_interior_free(arena: gc_plugin.Arena, kind: str) -> None:
    """Pools that know where blocks start refuse a pointer into the middle."""
    pool = make_pool(arena, kind)
    block = pool.alloc(64)
    with pytest.raises(MisuseError) as info:
        pool.free_address(block.address + 16, 48 if kind != "MFS" else 64)
    assert "start" in str(info.value) or "middle" in str(info.value)
    assert_usable(pool)
    pool.free(block)


def test_mvt_free_of_an_aps_unallocated_space(arena: gc_plugin.Arena) -> None:
    pool = arena.mvt()
    with pool.allocation_point() as ap:
        block = ap.alloc(64)
        # The AP's buffer continues after the block and is not allocated.
        raises_misuse(lambda: pool.free_address(block.address + 64, 64), "allocation point")
        assert pool.check() is True
        pool.free(block)
        again = ap.alloc(64)
        pool.free(again)
    assert pool.free_size == pool.total_size


def test_mvff_free_of_an_aps_unallocated_space(arena: gc_plugin.Arena) -> None:
    pool = arena.mvff()
    with pool.allocation_point() as ap:
        block = ap.alloc(64)
        raises_misuse(lambda: pool.free_address(block.address + 64, 64), "allocation point")
        assert pool.check() is True
        pool.free(block)
    assert pool.free_size == pool.total_size


# ---- double frees -------------------------------------------------------------------


def test_double_free(pool_and_allocator: tuple[Any, Allocator]) -> None:
    pool, allocator = pool_and_allocator
    first = allocator.alloc(64)
    keep = allocator.alloc(64)  # keeps the segment in the pool (MVFF may return it)
    keep.write(b"k" * 64)
    pool.free(first)
    free_before, total_before = pool.free_size, pool.total_size
    raises_misuse(lambda: pool.free(first), "double free")
    assert (pool.free_size, pool.total_size) == (free_before, total_before)
    assert keep.read() == b"k" * 64
    assert_usable(pool, allocator)
    pool.free(keep)
    raises_misuse(lambda: pool.free(keep))
    assert pool.check() is True


def test_double_free_of_a_small_block_among_many(arena: gc_plugin.Arena, kind: str) -> None:
    """Many small blocks, so that MVFF frees through its quick lists."""
    pool = make_pool(arena, kind)
    allocator = Allocator(pool)
    blocks = [allocator.alloc(16) for _ in range(50)]
    for block in blocks[::2]:
        pool.free(block)
    for block in blocks[::2][:5]:
        raises_misuse(lambda block=block: pool.free(block), "free")
        assert pool.check() is True
    for block in blocks[1::2]:
        pool.free(block)
    assert pool.check() is True
    allocator.close()
    assert pool.free_size == pool.total_size


# ---- wrong sizes --------------------------------------------------------------------


def test_wrong_size_on_the_debug_pool(arena: gc_plugin.Arena) -> None:
    pool = arena.mvff_debug()
    block = pool.alloc(64)
    keep = pool.alloc(64)
    raises_misuse(lambda: pool.free_address(block.address, 32), "does not match")
    raises_misuse(lambda: pool.free_address(block.address, 128), "does not match")
    raises_misuse(lambda: pool.free_address(block.address + 8, 56), "middle")
    pool.check_fenceposts()
    assert_usable(pool)
    pool.free(block)
    pool.free(keep)
    pool.check_free_space()


def test_wrong_size_on_mfs(arena: gc_plugin.Arena) -> None:
    pool = arena.mfs(32)
    block = pool.alloc(32)
    raises_misuse(lambda: pool.free_address(block.address, 33), "does not match")
    raises_misuse(lambda: pool.alloc(33), "unit size")
    assert_usable(pool)
    pool.free(block)


@pytest.mark.parametrize("kind", ["MVFF", "MVFF placed", "MVT"])
def test_free_running_into_free_space(arena: gc_plugin.Arena, kind: str) -> None:
    """Freeing a block with a size that reaches into a freed neighbour."""
    pool = make_pool(arena, kind)
    allocator = Allocator(pool)
    blocks = sorted((allocator.alloc(64) for _ in range(3)), key=lambda b: b.address)
    low, mid, high = blocks
    assert low.address + 64 == mid.address, "expected neighbouring blocks"
    pool.free(mid)
    free_before = pool.free_size
    raises_misuse(lambda: pool.free_address(low.address, 128), "free")
    assert pool.free_size == free_before
    assert_usable(pool, allocator)
    pool.free(low)
    pool.free(high)
    allocator.close()
    assert pool.free_size == pool.total_size


# ---- the debug pool's fenceposts and free-space splatting ---------------------------


@pytest.mark.parametrize("size", [64, 100, 1, 4096])
def test_damaged_fencepost_after(arena: gc_plugin.Arena, size: int) -> None:
    pool = arena.mvff_debug()
    block = pool.alloc(size)
    neighbour = pool.alloc(size)
    pool.check_fenceposts()
    end = block.address + size
    original = peek(end, 1)
    poke(end, bytes([original[0] ^ 0xFF]))
    raises_misuse(pool.check_fenceposts, "fencepost", "after")
    assert pool.check() is True  # the structures are fine, only the client's bytes
    # Freeing the damaged block reports it too, and changes nothing.
    total, free = pool.total_size, pool.free_size
    raises_misuse(lambda: pool.free(block), "fencepost")
    assert (pool.total_size, pool.free_size) == (total, free)
    poke(end, original)
    pool.check_fenceposts()
    pool.free(block)
    pool.free(neighbour)
    pool.check_free_space()
    assert_usable(pool)


def test_damaged_fencepost_through_a_wide_memoryview(arena: gc_plugin.Arena) -> None:
    """Write one byte past the end through a view wider than the block."""
    pool = arena.mvff_debug(fence_template=b"\x11\x22\x33\x44")
    block = pool.alloc(48)
    wide = memoryview((ctypes.c_char * (block.size + 1)).from_address(block.address)).cast("B")
    wide[: block.size] = b"\x00" * block.size  # inside: harmless
    pool.check_fenceposts()
    saved = wide[block.size]
    wide[block.size] = saved ^ 0x01
    raises_misuse(pool.check_fenceposts, "fencepost")
    wide[block.size] = saved
    pool.check_fenceposts()
    pool.free(block)
    assert_usable(pool)


def test_damaged_fencepost_before(arena: gc_plugin.Arena) -> None:
    pool = arena.mvff_debug()
    block = pool.alloc(64)
    original = peek(block.address - 1, 1)
    poke(block.address - 1, b"!")
    raises_misuse(pool.check_fenceposts, "fencepost", "before")
    assert pool.check() is True
    poke(block.address - 1, original)
    pool.check_fenceposts()
    pool.free(block)
    assert_usable(pool)


def test_write_after_free(arena: gc_plugin.Arena) -> None:
    pool = arena.mvff_debug()
    freed = pool.alloc(256)
    keep = pool.alloc(256)  # keeps the freed space in the pool
    pool.free(freed)
    pool.check_free_space()
    target = freed.address + 100
    original = peek(target, 1)
    poke(target, bytes([original[0] ^ 0xFF]))
    raises_misuse(pool.check_free_space, "written after it was freed")
    assert pool.check() is True
    pool.check_fenceposts()
    poke(target, original)
    pool.check_free_space()
    assert_usable(pool)
    pool.free(keep)


def test_debug_pool_without_templates_checks_nothing(arena: gc_plugin.Arena) -> None:
    pool = arena.mvff_debug(fence_template=b"", free_template=b"")
    block = pool.alloc(64)
    keep = pool.alloc(64)
    pool.free(block)
    poke(block.address, b"scribble")
    pool.check_free_space()
    pool.check_fenceposts()
    pool.free(keep)
    assert pool.check() is True


# ---- bad keyword values -----------------------------------------------------------------


BAD_POOL_KEYS: list[tuple[str, Callable[[gc_plugin.Arena], Any], str]] = [
    ("MFS unit_size=0", lambda a: a.mfs(0), "UNIT_SIZE"),
    ("MFS extend_by=0", lambda a: a.mfs(16, extend_by=0), "EXTEND_BY"),
    ("MVFF align=3", lambda a: a.mvff(align=3), "ALIGN"),
    ("MVFF align=4", lambda a: a.mvff(align=4), "ALIGN"),
    ("MVFF align > grain", lambda a: a.mvff(align=2 * a.grain_size), "ALIGN"),
    ("MVFF spare=1.5", lambda a: a.mvff(spare=1.5), "SPARE"),
    ("MVFF extend_by=0", lambda a: a.mvff(extend_by=0), "EXTEND_BY"),
    ("MVFF mean_size=0", lambda a: a.mvff(mean_size=0), "MEAN_SIZE"),
    ("MVFF debug align=3", lambda a: a.mvff_debug(align=3), "ALIGN"),
    ("MVFF debug long template", lambda a: a.mvff_debug(fence_template=b"x" * 1000), "template"),
    ("MVT frag_limit=0.0", lambda a: a.mvt(frag_limit=0.0), "FRAG_LIMIT"),
    ("MVT frag_limit=1.5", lambda a: a.mvt(frag_limit=1.5), "FRAG_LIMIT"),
    ("MVT align=3", lambda a: a.mvt(align=3), "align"),
    ("MVT align > grain", lambda a: a.mvt(align=2 * a.grain_size), "align"),
    ("MVT min_size=0", lambda a: a.mvt(min_size=0), "MIN_SIZE"),
    ("MVT min > max", lambda a: a.mvt(min_size=64, mean_size=64, max_size=32), "min"),
]


@pytest.mark.parametrize(
    "create,keyword", [c[1:] for c in BAD_POOL_KEYS], ids=[c[0] for c in BAD_POOL_KEYS]
)
def test_bad_pool_keyword(
    arena: gc_plugin.Arena, create: Callable[[gc_plugin.Arena], Any], keyword: str
) -> None:
    probe = PoolHeldProbe(arena)
    raises_misuse(lambda: create(arena), keyword)
    assert arena.pools == []
    assert arena.check() is True
    probe.check_empty()  # nothing kept for the pool that was not made
    with arena.mvff() as pool:  # the arena still works
        assert_usable(pool)


BAD_ARENA_KEYS: list[tuple[str, dict[str, Any], str]] = [
    ("spare=1.5", {"spare": 1.5}, "SPARE"),
    ("spare=-0.1", {"spare": -0.1}, "SPARE"),
    ("grain_size=3000", {"grain_size": 3000}, "GRAIN_SIZE"),
    ("pause_time=-1", {"pause_time": -1.0}, "PAUSE_TIME"),
]


@pytest.mark.parametrize(
    "keys,keyword", [c[1:] for c in BAD_ARENA_KEYS], ids=[c[0] for c in BAD_ARENA_KEYS]
)
def test_bad_arena_keyword(keys: dict[str, Any], keyword: str) -> None:
    raises_misuse(lambda: gc_plugin.Arena(**keys), keyword)
    with gc_plugin.Arena() as arena:  # creation still works afterwards
        assert arena.check() is True


def test_bad_settable_values(arena: gc_plugin.Arena) -> None:
    raises_misuse(lambda: setattr(arena, "spare", 1.5), "between 0 and 1")
    assert arena.spare == 0.75
    raises_misuse(lambda: setattr(arena, "pause_time", -1.0), "negative")
    assert arena.check() is True


def test_values_python_refuses(arena: gc_plugin.Arena) -> None:
    """Values that cannot even be passed raise InvalidArgumentError (a
    MisuseError and a ValueError) or TypeError before reaching the core."""
    pool = arena.mvff()
    with pytest.raises(gc_plugin.InvalidArgumentError):
        pool.alloc(-1)
    with pytest.raises(MisuseError):
        pool.alloc(-1)
    with pytest.raises(ValueError):
        pool.free_address(-8, 8)
    with pytest.raises(TypeError):
        pool.alloc(8.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        arena.mfs(True)  # type: ignore[arg-type]
    raises_misuse(lambda: pool.alloc(0), "zero")
    block = pool.alloc(8)
    with pytest.raises(MisuseError):
        block.write(b"123456789")  # does not fit
    with pytest.raises(MisuseError):
        block.write(b"1", offset=-1)
    pool.free(block)
    assert_usable(pool)


def test_mvt_has_no_alloc_and_mfs_no_allocation_points(arena: gc_plugin.Arena) -> None:
    mvt = arena.mvt()
    assert not hasattr(mvt, "alloc")
    assert not hasattr(mvt, "cache")
    mfs = arena.mfs(16)
    assert not hasattr(mfs, "allocation_point")
    assert mvt.check() and mfs.check()


# ---- allocation points ----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["MVFF", "MVFF debug", "MVT"])
def test_ap_misuse(arena: gc_plugin.Arena, kind: str) -> None:
    pool = make_pool(arena, kind)
    ap = pool.allocation_point()
    with pytest.raises(MisuseError):
        ap.alloc(pool.alignment + 1)  # not a multiple of the alignment
    with pytest.raises(MisuseError):
        ap.alloc(0)
    address = ap.reserve(64)
    raises_misuse(lambda: ap.commit(address + 8, 64), "not the one just reserved")
    raises_misuse(lambda: ap.commit(address, 32), "not the one just reserved")
    raises_misuse(ap.destroy, "reserved")
    assert not ap.destroyed
    raises_misuse(pool.destroy, "allocation point")
    assert not pool.destroyed
    assert ap.commit(address, 64) is True
    block = gc_plugin.Block(address, 64)
    block.write(b"c" * 64)
    assert pool.check() is True
    other = ap.alloc(64)
    pool.free(other)
    pool.free(block)
    ap.destroy()
    assert pool.free_size == pool.total_size
    pool.destroy()
    assert pool.destroyed


@pytest.mark.parametrize("kind", ["MVFF", "MVFF debug", "MVT"])
def test_double_reserve_is_caught(arena: gc_plugin.Arena, kind: str) -> None:
    """A second reserve before the commit is misuse (interface.md §Allocation points: reserve, then
    commit).  The fast path of reserve may not look (interface.md), but then the
    commit must refuse: the block is not "the one just reserved"."""
    pool = make_pool(arena, kind)
    ap = pool.allocation_point()
    first = ap.alloc(64)  # the AP now has a buffer: the next reserve is the fast path
    address = ap.reserve(64)
    try:
        second = ap.reserve(64)
    except MisuseError as e:
        assert "reserved" in str(e)
        assert ap.commit(address, 64) is True
        size = 64
    else:
        raises_misuse(lambda: ap.commit(second, 64), "not the one just reserved")
        raises_misuse(lambda: ap.commit(address, 64), "not the one just reserved")
        # Both reserves are still outstanding, as one block: commit that.
        handle = ap._handle
        init = gc_plugin._calls.as_int(handle.init)
        size = gc_plugin._calls.as_int(handle.alloc) - init
        assert init == address and size == 128
        assert ap.commit(address, size) is True
    assert pool.check() is True
    pool.free(first)
    pool.free_address(address, size)
    ap.destroy()
    assert pool.free_size == pool.total_size


# ---- destroying things that are still in use -------------------------------------------


@pytest.mark.parametrize("kind", ["MVFF", "MVFF debug", "MVT"])
def test_destroy_pool_with_live_ap(arena: gc_plugin.Arena, kind: str) -> None:
    pool = make_pool(arena, kind)
    ap = pool.allocation_point()
    block = ap.alloc(64)
    block.write(b"a" * 64)
    raises_misuse(pool.destroy, "allocation point")
    assert not pool.destroyed
    assert pool in arena.pools
    assert block.read() == b"a" * 64
    assert_usable(pool, Allocator(pool) if kind != "MVT" else _ApAllocator(pool, ap))
    more = ap.alloc(128)
    pool.free(more)
    pool.free(block)
    ap.destroy()
    pool.destroy()
    assert pool.destroyed and pool not in arena.pools


class _ApAllocator(Allocator):
    def __init__(self, pool: Any, ap: gc_plugin.AllocationPoint) -> None:
        self.pool = pool
        self.ap = ap


@pytest.mark.parametrize("kind", ["MFS", "MVFF", "MVFF debug"])
def test_destroy_pool_with_live_cache(arena: gc_plugin.Arena, kind: str) -> None:
    pool = make_pool(arena, kind)
    cache = pool.cache([(16, 8, 1), (64, 8, 1)])
    block = cache.alloc(10)
    cache.free(block)
    raises_misuse(pool.destroy, "cache")
    assert not pool.destroyed
    assert_usable(pool)
    cache.destroy()
    pool.destroy()


def test_destroy_arena_with_live_pools() -> None:
    arena = gc_plugin.Arena()
    pool = arena.mvff()
    block = pool.alloc(64)
    raises_misuse(arena.destroy, "pool")
    assert not arena.destroyed
    assert arena.check() is True
    assert_usable(pool)
    pool.free(block)
    pool.destroy()
    arena.destroy()
    assert arena.destroyed


# ---- the commit limit ----------------------------------------------------------------------


def _fill_until_limit(
    alloc: Callable[[], gc_plugin.Block], arena: gc_plugin.Arena
) -> list[gc_plugin.Block]:
    blocks: list[gc_plugin.Block] = []
    with pytest.raises(gc_plugin.CommitLimitError) as info:
        for _ in range(100_000):
            blocks.append(alloc())
            assert arena.committed <= arena.commit_limit
    assert info.value.code == 7 and info.value.name == "MPS_RES_COMMIT_LIMIT"
    assert arena.committed <= arena.commit_limit
    return blocks


@pytest.mark.parametrize("kind", ["MFS", "MVFF", "MVFF debug", "MVT", "SEGFIT", "cache"])
def test_commit_limit(kind: str) -> None:
    with gc_plugin.Arena(spare=0.0) as arena:
        pool = make_pool(arena, "MVFF" if kind == "cache" else kind)
        allocator = Allocator(pool)
        cache = pool.cache([(32, 8, 1), (4096, 4, 1)]) if kind == "cache" else None
        size = 64 if kind == "MFS" else 4096
        first = allocator.alloc(size) if cache is None else cache.alloc(size)
        limit = arena.committed + 4 * arena.grain_size
        arena.commit_limit = limit
        assert arena.commit_limit == limit

        def alloc() -> gc_plugin.Block:
            if cache is not None:
                return cache.alloc(size)
            return allocator.alloc(size)

        blocks = [first, *_fill_until_limit(alloc, arena)]
        assert pool.check() is True and arena.check() is True
        for i, block in enumerate(blocks):
            block.write(i.to_bytes(4, "little"))
        # Raise the limit: allocation works again.
        arena.commit_limit = arena.committed + 64 * MIB
        more = [alloc() for _ in range(10)]
        for block in more:
            block.write(b"m" * 4)
        for i, block in enumerate(blocks):
            assert block.read()[:4] == i.to_bytes(4, "little")
        for block in blocks + more:
            if cache is not None:
                cache.free(block)
            else:
                pool.free(block)
        if cache is not None:
            cache.destroy()
        allocator.close()
        assert pool.free_size == pool.total_size
        assert pool.check() is True
        pool.destroy()


def test_commit_limit_below_committed_fails_and_keeps_the_limit(arena: gc_plugin.Arena) -> None:
    arena.spare = 0.0
    pool = arena.mvff()
    block = pool.alloc(64 * KIB)
    before = arena.commit_limit
    with pytest.raises(gc_plugin.FailError):
        arena.commit_limit = arena.committed - arena.spare_committed - arena.grain_size
    assert arena.commit_limit == before
    arena.commit_limit = arena.committed  # at exactly committed: fine
    assert arena.commit_limit == arena.committed
    pool.free(block)
    assert arena.check() is True


def test_commit_limit_at_creation() -> None:
    with gc_plugin.Arena(commit_limit=8 * MIB, spare=0.0) as arena:
        assert arena.commit_limit == 8 * MIB
        pool = arena.mvff(extend_by=MIB)
        blocks = _fill_until_limit(lambda: pool.alloc(256 * KIB), arena)
        assert len(blocks) >= 16
        assert pool.check() is True
        for block in blocks:
            pool.free(block)
        pool.destroy()


# ---- SEGFIT's own calls ---------------------------------------------------------------------


class SegfitState:
    """A SEGFIT pool's blocks, walk, live counts and sizes, to compare after
    a refused call (which must change nothing)."""

    def __init__(self, pool: gc_plugin.SegfitPool) -> None:
        self.walk = sorted(pool.walk())
        self.live = pool.live()
        self.sizes = (pool.total_size, pool.free_size)

    def assert_unchanged(self, pool: gc_plugin.SegfitPool) -> None:
        assert sorted(pool.walk()) == self.walk
        assert pool.live() == self.live
        assert (pool.total_size, pool.free_size) == self.sizes
        assert pool.check() is True
        assert pool.arena.check() is True


@pytest.fixture
def segfit(arena: gc_plugin.Arena) -> gc_plugin.SegfitPool:
    return arena.segfit()


def _tagged(pool: gc_plugin.SegfitPool, size: int, tag: int) -> gc_plugin.Block:
    block = pool.alloc_tagged(size, tag)
    if size:
        block.write(bytes([tag & 0xFF]) * size)
    return block


def _segfit_usable(pool: gc_plugin.SegfitPool, *blocks: gc_plugin.Block) -> None:
    """The blocks kept their facts and contents; the pool still works."""
    for block in blocks:
        assert pool.block_info(block.address) is not None
        info = pool.block_info(block.address)
        assert info is not None and info[0] == block.size
        assert block.read() == bytes([info[1] & 0xFF]) * block.size
    fresh = [_tagged(pool, size, 77) for size in (0, 24, 700, 20000)]
    for block in fresh:
        assert pool.block_info(block.address) == (block.size, 77)
        pool.free_block(block)
    assert_usable(pool)


@pytest.mark.parametrize("size", [0, 40, 5000, 16384, 40000])
def test_segfit_double_free(segfit: gc_plugin.SegfitPool, size: int) -> None:
    keep = _tagged(segfit, size, 1)
    block = _tagged(segfit, size, 2)
    segfit.free_block(block)
    state = SegfitState(segfit)
    raises_misuse(lambda block=block: segfit.free_block(block), "free")
    if size <= segfit.SMALL_MAX:
        raises_misuse(lambda: segfit.free_block(block.address), "double free")
    state.assert_unchanged(segfit)
    if size > 0:
        raises_misuse(lambda block=block: segfit.free(block), "free")  # mps_free
        state.assert_unchanged(segfit)
    _segfit_usable(segfit, keep)
    segfit.free_block(keep)
    raises_misuse(lambda: segfit.free_block(keep), "free")
    assert segfit.live() == (0, 0)
    assert segfit.free_size == segfit.total_size


def test_segfit_double_free_with_mps_free(segfit: gc_plugin.SegfitPool) -> None:
    keep = _tagged(segfit, 64, 3)
    block = segfit.alloc(64)
    segfit.free(block)
    state = SegfitState(segfit)
    raises_misuse(lambda: segfit.free(block), "double free")
    raises_misuse(lambda: segfit.free_block(block), "double free")
    state.assert_unchanged(segfit)
    _segfit_usable(segfit, keep)
    segfit.free(keep)


def test_segfit_double_free_in_an_emptied_run(segfit: gc_plugin.SegfitPool) -> None:
    """Every block of several runs freed, so that runs go back to the pool;
    a second free of their blocks is still refused."""
    blocks = [_tagged(segfit, 1024, 4) for _ in range(400)]
    keep = _tagged(segfit, 32, 5)
    for block in blocks:
        segfit.free_block(block)
    state = SegfitState(segfit)
    for block in blocks[::37]:
        raises_misuse(lambda block=block: segfit.free_block(block), "free")
        raises_misuse(lambda block=block: segfit.free(block), "free")
    state.assert_unchanged(segfit)
    _segfit_usable(segfit, keep)
    segfit.free_block(keep)


@pytest.mark.parametrize("size", [0, 48, 3000, 30000])
def test_segfit_interior_pointer(segfit: gc_plugin.SegfitPool, size: int) -> None:
    block = _tagged(segfit, size, 6)
    usable = segfit.usable_size(size)
    state = SegfitState(segfit)
    for offset in sorted(o for o in {1, 8, 16, usable // 2, usable - 1} if 0 < o < usable):
        address = block.address + offset
        assert segfit.block_info(address) is None
        raises_misuse(lambda a=address: segfit.free_block(a), "not the start")
        if size > 0:
            raises_misuse(lambda a=address: segfit.free_address(a, size), "")
    state.assert_unchanged(segfit)
    _segfit_usable(segfit, block)
    segfit.free_block(block)


def test_segfit_foreign_pointers(arena: gc_plugin.Arena, segfit: gc_plugin.SegfitPool) -> None:
    mine = _tagged(segfit, 64, 7)
    other_pool = arena.mvff()
    theirs = other_pool.alloc(64)
    theirs.write(b"t" * 64)
    other_segfit = arena.segfit()
    sibling = _tagged(other_segfit, 64, 8)
    buf = bytearray(b"\x5a" * 256)
    outside = address_of_buffer(buf) + 64
    outside -= outside % 16
    with gc_plugin.Arena() as other_arena:
        elsewhere_pool = other_arena.segfit()
        elsewhere = _tagged(elsewhere_pool, 64, 9)
        state = SegfitState(segfit)
        for address in (outside, theirs.address, sibling.address, elsewhere.address):
            assert segfit.block_info(address) is None
            raises_misuse(lambda a=address: segfit.free_block(a), "not in this SEGFIT pool")
        raises_misuse(lambda: segfit.free_address(outside, 64), "foreign")
        raises_misuse(lambda: segfit.free(theirs), "another pool")
        raises_misuse(lambda: segfit.free(sibling), "another pool")
        raises_misuse(lambda: segfit.free(elsewhere), "foreign")
        raises_misuse(lambda: other_segfit.free_block(mine), "not in this SEGFIT pool")
        state.assert_unchanged(segfit)
        assert other_segfit.block_info(sibling.address) == (64, 8)
        assert elsewhere_pool.block_info(elsewhere.address) == (64, 9)
        elsewhere_pool.free_block(elsewhere)
        elsewhere_pool.destroy()
    assert buf == bytearray(b"\x5a" * 256), "the core wrote into foreign memory"
    assert theirs.read() == b"t" * 64
    _segfit_usable(segfit, mine)
    segfit.free_block(mine)
    other_segfit.free_block(sibling)
    other_pool.free(theirs)


@pytest.mark.parametrize("size", [1, 40, 48, 16384, 20000])
def test_segfit_wrong_size(segfit: gc_plugin.SegfitPool, size: int) -> None:
    block = _tagged(segfit, size, 10)
    state = SegfitState(segfit)
    wrong = {size + 1, size - 1, segfit.usable_size(size), segfit.usable_size(size) + 16} - {
        0,
        size,
    }
    for other in sorted(wrong):
        raises_misuse(
            lambda other=other: segfit.free_address(block.address, other), "does not match"
        )
    state.assert_unchanged(segfit)
    _segfit_usable(segfit, block)
    segfit.free(block)  # the exact size is right
    assert segfit.live() == (0, 0)


def test_segfit_tag_too_wide(segfit: gc_plugin.SegfitPool) -> None:
    keep = _tagged(segfit, 16, 0xFFFF)
    assert segfit.block_info(keep.address) == (16, 0xFFFF)
    state = SegfitState(segfit)
    raises_misuse(lambda: segfit.alloc_tagged(16, 0x10000), "16 bits")
    raises_misuse(lambda: segfit.alloc_tagged(0, 0xFFFFFFFF), "16 bits")
    raises_misuse(lambda: segfit.alloc_tagged(20000, 0x12345), "16 bits")
    with pytest.raises(gc_plugin.InvalidArgumentError):  # cannot even be passed
        segfit.alloc_tagged(16, 1 << 32)
    with pytest.raises(gc_plugin.InvalidArgumentError):
        segfit.alloc_tagged(16, -1)
    with pytest.raises(TypeError):
        segfit.alloc_tagged(16, 1.0)  # type: ignore[arg-type]
    state.assert_unchanged(segfit)
    _segfit_usable(segfit, keep)
    segfit.free_block(keep)


def test_segfit_null_and_zero(segfit: gc_plugin.SegfitPool) -> None:
    """free_block(0) does nothing, like free(NULL); mps_alloc and mps_free
    refuse a zero size as for every pool, alloc_tagged allows it."""
    keep = _tagged(segfit, 0, 11)
    state = SegfitState(segfit)
    segfit.free_block(0)
    raises_misuse(lambda: segfit.alloc(0), "zero")
    raises_misuse(lambda: segfit.free_address(keep.address, 0), "zero")
    state.assert_unchanged(segfit)
    assert segfit.block_info(keep.address) == (0, 11)
    segfit.free_block(keep)


def test_segfit_calls_on_a_destroyed_pool(arena: gc_plugin.Arena) -> None:
    pool = arena.segfit()
    block = pool.alloc_tagged(16, 1)
    pool.free_block(block)
    pool.destroy()
    for call in (
        lambda: pool.alloc_tagged(16, 1),
        lambda: pool.free_block(block),
        pool.walk,
        pool.live,
        lambda: pool.block_info(block.address),
    ):
        with pytest.raises(gc_plugin.InvalidArgumentError, match="destroyed"):
            call()


# ---- address space --------------------------------------------------------------------------


def test_arena_larger_than_the_address_space() -> None:
    with pytest.raises((gc_plugin.ResourceError, gc_plugin.MemoryLimitError)):
        gc_plugin.Arena(size=1 << 60)
    with gc_plugin.Arena(size=1 << 24) as arena:  # and the next one works
        assert arena.reserved >= 1 << 24


_HUGE_ALLOC = """
import sys, gc_plugin
route, size = sys.argv[1], int(sys.argv[2])
with gc_plugin.Arena() as arena:
    pool = arena.mvt() if route.startswith("MVT") else (
        arena.mvff_debug() if route == "MVFF debug" else
        arena.segfit() if route.startswith("SEGFIT") else arena.mvff())
    cache = pool.cache([(32, 4, 1)]) if route == "cache" else None
    ap = pool.allocation_point() if route.endswith("-ap") else None
    try:
        if ap is not None:
            ap.alloc(size)
        elif cache is not None:
            cache.alloc(size)
        elif route == "SEGFIT-tagged":
            pool.alloc_tagged(size, 1)
        else:
            pool.alloc(size)
    except (gc_plugin.ResourceError, gc_plugin.MemoryLimitError,
            gc_plugin.CommitLimitError, gc_plugin.MisuseError) as e:
        print("refused:", type(e).__name__, e)
    else:
        raise SystemExit("allocated %d bytes" % size)
    assert pool.check(), "pool inconsistent after the refusal"
    assert arena.check(), "arena inconsistent after the refusal"
    block = ap.alloc(64) if ap is not None else pool.alloc(64)
    block.write(b"x" * 64)
    pool.free(block)
    for child in (ap, cache):
        if child is not None:
            child.destroy()
    pool.destroy()
    assert arena.pools_committed == 0
print("ok")
"""


HUGE = [
    ("MVFF", 1 << 60),
    ("MVFF-ap", 1 << 60),
    ("MVT-ap", 1 << 60),
    ("MVFF", (1 << 64) - 4096),
    ("MVFF", (1 << 64) - 1),  # rounds up past SIZE_MAX
    ("MVFF debug", (1 << 64) - 8),
    ("MVFF-ap", (1 << 64) - 8),
    ("MVT-ap", (1 << 64) - 8),
    ("cache", (1 << 64) - 1),
    ("SEGFIT", 1 << 60),
    ("SEGFIT", (1 << 64) - 1),
    ("SEGFIT-tagged", 1 << 60),
    ("SEGFIT-tagged", (1 << 64) - 1),
]


@pytest.mark.parametrize("route,size", HUGE, ids=[f"{r}-{s:#x}" for r, s in HUGE])
def test_allocation_larger_than_the_address_space(route: str, size: int) -> None:
    """Refused promptly with ResourceError / MemoryLimitError (or a clean
    MisuseError), leaving pool and arena consistent and usable.  Runs in a
    subprocess with a timeout so that a hang or a crash fails this test
    instead of the whole run."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", _HUGE_ALLOC, route, str(size)],
            capture_output=True,
            text=True,
            timeout=5,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{route} allocation of {size:#x} bytes did not return within 5 s")
    assert done.returncode == 0, (
        f"exit status {done.returncode}\n{done.stdout}{done.stderr[-2000:]}"
    )
    assert "refused:" in done.stdout and done.stdout.strip().endswith("ok"), done.stdout
