"""The arena seen from Python: statistics, introspection, growth, spare
memory, the commit limit, lifetimes (context managers, destroy), and misuse
of destroyed objects.

* statistics are sane and agree with stats(); reserved >= the size asked for;
* has_addr / addr_pool know managed blocks (and the right Pool object) and
  reject Python objects;
* allocating more than the initial reservation adds chunks and stays
  consistent, with every block's contents intact;
* spare_committed <= spare * committed; lowering spare to 0 releases it;
* committed = spare + overhead + control + pools, and pools_committed is
  what the pools hold (their total_size); destroying a pool gives its memory
  back to the arena (pools_committed is zero again);
* context managers destroy what they made, also when the body raises;
* using a destroyed arena, pool, allocation point or cache raises
  MisuseError instead of crashing, and destroy() is idempotent.
"""

from __future__ import annotations

import gc
import random
from typing import Any

import pytest

import gc_plugin
from gc_plugin import MisuseError

from .model import PoolHeldProbe, address_of_buffer, check_arena_accounting, payload

KIB = 1024
MIB = 1024 * KIB


def all_pools(arena: gc_plugin.Arena) -> list[Any]:
    return [arena.mfs(48), arena.mvff(), arena.mvff_debug(), arena.mvt()]


def alloc_any(pool: Any, size: int = 64) -> tuple[gc_plugin.Block, Any]:
    """A block from any pool class, and the AP used (MVT) or None."""
    if isinstance(pool, gc_plugin.MVTPool):
        ap = pool.allocation_point()
        return ap.alloc(size), ap
    if isinstance(pool, gc_plugin.MFSPool):
        size = min(size, pool.unit_size)
    return pool.alloc(size), None


# ---- statistics ----------------------------------------------------------------------


def test_statistics_are_sane() -> None:
    with gc_plugin.Arena(size=32 * MIB) as arena:
        assert arena.committed > 0
        assert arena.reserved >= 32 * MIB
        grain = arena.grain_size
        assert grain >= 4096 and grain & (grain - 1) == 0
        assert arena.chunk_count == 1
        assert arena.spare == 0.75
        assert arena.commit_limit >= arena.committed
        assert 0 <= arena.spare_committed <= arena.committed
        assert 0 <= arena.control_committed <= arena.committed
        assert arena.pools == []
        stats = arena.stats()
        assert isinstance(stats, gc_plugin.ArenaStats)
        assert stats.committed == arena.committed
        assert stats.reserved == arena.reserved
        assert stats.spare_committed == arena.spare_committed
        assert stats.commit_limit == arena.commit_limit
        assert stats.spare == arena.spare
        assert stats.grain_size == grain
        assert stats.chunk_count == arena.chunk_count
        assert stats.pools == ()
        with pytest.raises(AttributeError):
            stats.committed = 0  # type: ignore[misc]  # frozen
        assert arena.check() is True


def test_statistics_with_pools(arena: gc_plugin.Arena) -> None:
    pools = all_pools(arena)
    names = {p.class_name for p in pools}
    assert names == {"MFS", "MVFF", "MVFF debug", "MVT"}
    aps = []
    for pool in pools:
        block, ap = alloc_any(pool)
        aps.append(ap)
        assert pool.total_size >= pool.free_size + 48
    stats = arena.stats()
    assert sorted(s.class_name for s in stats.pools) == sorted(names)
    for pool_stats in stats.pools:
        assert isinstance(pool_stats, gc_plugin.PoolStats)
        assert pool_stats.total_size >= pool_stats.free_size >= 0
        assert pool_stats.alignment >= 8
    assert set(map(id, arena.pools)) == set(map(id, pools))
    for ap in aps:
        if ap is not None:
            ap.destroy()


@pytest.mark.parametrize("size", [1 << 20, 10 << 20, 100 << 20])
def test_reserved_covers_the_requested_size(size: int) -> None:
    with gc_plugin.Arena(size=size) as arena:
        assert arena.reserved >= size
        assert arena.committed < size  # a VM arena commits what it uses, no more


def test_grain_size_is_honoured() -> None:
    with gc_plugin.Arena(grain_size=64 * KIB) as arena:
        assert arena.grain_size == 64 * KIB
        with arena.mvff(align=64 * KIB) as pool:
            block = pool.alloc(1)
            assert block.address % (64 * KIB) == 0
            pool.free(block)


# ---- introspection -------------------------------------------------------------------


def test_has_addr_and_addr_pool(arena: gc_plugin.Arena) -> None:
    pools = all_pools(arena)
    other_arena = gc_plugin.Arena()
    try:
        other_pool = other_arena.mvff()
        elsewhere = other_pool.alloc(64)
        aps = []
        for pool in pools:
            block, ap = alloc_any(pool)
            aps.append(ap)
            for address in (block.address, block.address + block.size - 1):
                assert arena.has_addr(address)
                found = arena.addr_pool(address)
                assert found is pool, f"{found} is not {pool}"
            assert not other_arena.has_addr(block.address)
            assert other_arena.addr_pool(block.address) is None
        assert arena.addr_pool(elsewhere.address) is None
        assert not arena.has_addr(elsewhere.address)
        assert other_arena.addr_pool(elsewhere.address) is other_pool
        buf = bytearray(100)
        obj = object()
        for foreign in (address_of_buffer(buf), id(obj), id(arena), 0, 8):
            assert arena.has_addr(foreign) is False
            assert arena.addr_pool(foreign) is None
        for ap in aps:
            if ap is not None:
                ap.destroy()
        other_pool.free(elsewhere)
        other_pool.destroy()
    finally:
        for pool in other_arena.pools:
            pool.destroy()
        other_arena.destroy()


def test_addr_pool_forgets_destroyed_pools(arena: gc_plugin.Arena) -> None:
    pool = arena.mvff()
    block = pool.alloc(64)
    assert arena.addr_pool(block.address) is pool
    pool.destroy()
    assert arena.addr_pool(block.address) is None
    assert pool not in arena.pools


# ---- growth ------------------------------------------------------------------------------


@pytest.mark.parametrize("align", [8, 4096])
def test_growth_beyond_the_initial_reservation(align: int, rng: random.Random) -> None:
    with gc_plugin.Arena(size=1 << 20) as arena:
        reserved, chunks = arena.reserved, arena.chunk_count
        probe = PoolHeldProbe(arena)
        pool = arena.mvff(align=align)
        blocks: dict[int, tuple[gc_plugin.Block, bytes]] = {}
        total = 0
        while total < 8 * MIB:
            size = rng.choice([64, 1000, 4096, 64 * KIB, 300 * KIB])
            block = pool.alloc(size)
            data = payload(rng.randrange(1 << 32), size)
            block.write(data)
            blocks[block.address] = (block, data)
            total += size
        big = pool.alloc(4 * MIB)  # one block bigger than the whole first chunk
        big.write(b"B" * big.size)
        assert arena.chunk_count > chunks
        assert arena.reserved > reserved
        assert arena.committed >= 12 * MIB
        assert pool.total_size - pool.free_size >= total + 4 * MIB
        assert pool.check() is True and arena.check() is True
        for block, data in blocks.values():
            assert block.read() == data
            assert arena.addr_pool(block.address) is pool
        assert big.read() == b"B" * big.size
        # Free in random order; everything stays consistent.
        order = list(blocks.values())
        rng.shuffle(order)
        for i, (block, _) in enumerate(order):
            pool.free(block)
            if i % 50 == 0:
                assert pool.check() is True and arena.check() is True
        pool.free(big)
        assert pool.free_size == pool.total_size
        assert arena.check() is True
        pool.destroy()
        probe.check_empty()
        assert arena.check() is True


def test_growth_with_every_pool_class(rng: random.Random) -> None:
    with gc_plugin.Arena(size=1 << 20) as arena:
        mfs = arena.mfs(256)
        mvt = arena.mvt()
        debug = arena.mvff_debug()
        with mvt.allocation_point() as ap:
            blocks = []
            for _ in range(3000):
                blocks.append((mfs, mfs.alloc(256)))
                blocks.append((mvt, ap.alloc(rng.choice([8, 512, 4096]))))
                blocks.append((debug, debug.alloc(rng.randrange(1, 2000))))
            assert arena.chunk_count > 1
            assert arena.check() is True
            for _pool, block in blocks:
                block.write(b"\xee" * block.size)
            rng.shuffle(blocks)
            for pool, block in blocks:
                pool.free(block)
        debug.check_fenceposts()
        debug.check_free_space()
        for pool in (mfs, mvt, debug):
            assert pool.free_size == pool.total_size
            assert pool.check() is True
            pool.destroy()
        assert arena.check() is True


# ---- spare memory --------------------------------------------------------------------------


@pytest.mark.parametrize("spare", [0.0, 0.25, 0.75, 1.0])
def test_spare_bound_after_freeing(spare: float) -> None:
    with gc_plugin.Arena(spare=spare) as arena:
        assert arena.spare == spare
        pool = arena.mvff(spare=0.0)  # the pool keeps nothing: it all goes to the arena
        blocks = [pool.alloc(64 * KIB) for _ in range(64)]
        for block in blocks:
            pool.free(block)
            assert arena.spare_committed <= spare * arena.committed + 1e-9
        pool.destroy()
        assert arena.spare_committed <= spare * arena.committed + 1e-9
        if spare > 0:
            assert arena.spare_committed > 0  # something was kept
        assert arena.check() is True


def test_lowering_spare_releases_spare_memory() -> None:
    with gc_plugin.Arena(spare=1.0) as arena:
        pool = arena.mvff(spare=0.0)
        blocks = [pool.alloc(64 * KIB) for _ in range(32)]
        for block in blocks:
            pool.free(block)
        pool.destroy()
        spare_before = arena.spare_committed
        committed_before = arena.committed
        assert spare_before >= 16 * 64 * KIB
        arena.spare = 0.5
        assert arena.spare == 0.5
        assert arena.spare_committed <= 0.5 * arena.committed + 1e-9
        arena.spare = 0.0
        assert arena.spare == 0.0
        assert arena.spare_committed == 0
        assert arena.committed == committed_before - spare_before
        assert arena.check() is True
        # Spare memory is reused before new memory is committed.
        arena.spare = 1.0
        with arena.mvff(spare=0.0) as again:
            block = again.alloc(MIB)
            again.free(block)


def test_spare_memory_is_reused(arena: gc_plugin.Arena) -> None:
    arena.spare = 1.0
    pool = arena.mvff(spare=0.0)
    block = pool.alloc(MIB)
    pool.free(block)
    spare = arena.spare_committed
    assert spare >= MIB
    committed = arena.committed
    block = pool.alloc(MIB)
    assert arena.spare_committed <= spare - MIB + arena.grain_size * 4
    assert arena.committed <= committed + arena.grain_size * 4
    pool.free(block)


def test_commit_limit_releases_spare(arena: gc_plugin.Arena) -> None:
    arena.spare = 1.0
    pool = arena.mvff(spare=0.0)
    block = pool.alloc(MIB)
    pool.free(block)
    assert arena.spare_committed >= MIB
    target = arena.committed - arena.spare_committed
    arena.commit_limit = target
    assert arena.commit_limit == target
    assert arena.spare_committed == 0
    assert arena.committed <= target
    with pytest.raises(gc_plugin.CommitLimitError):
        pool.alloc(MIB)
    arena.commit_limit = (1 << 64) - 1
    block = pool.alloc(MIB)
    pool.free(block)


# ---- destroying pools gives memory back ------------------------------------------------------


@pytest.mark.parametrize("kind", ["MFS", "MVFF", "MVFF debug", "MVT", "MVFF cache"])
def test_destroy_gives_memory_back(kind: str, rng: random.Random) -> None:
    with gc_plugin.Arena() as arena:
        probe = PoolHeldProbe(arena)
        if kind == "MFS":
            pool: Any = arena.mfs(100)
        elif kind == "MVT":
            pool = arena.mvt()
        elif kind == "MVFF debug":
            pool = arena.mvff_debug()
        else:
            pool = arena.mvff()
        ap = pool.allocation_point() if kind == "MVT" else None
        cache = pool.cache([(16, 10, 1), (96, 10, 2)]) if kind == "MVFF cache" else None
        for _ in range(2000):
            if ap is not None:
                block = ap.alloc(rng.choice([8, 64, 1024]))
            elif cache is not None:
                block = cache.alloc(rng.randrange(1, 200))
            elif kind == "MFS":
                block = pool.alloc(100)
            else:
                block = pool.alloc(rng.randrange(1, 5000))
            block.write(b"\x01" * min(block.size, 8))
        assert arena.pools_committed == pool.total_size > 0
        check_arena_accounting(arena)
        # Destroy with blocks still allocated: the pool frees everything.
        for child in (ap, cache):
            if child is not None:
                child.destroy()
        pool.destroy()
        probe.check_empty()
        assert arena.check() is True


# ---- lifetimes --------------------------------------------------------------------------------


def test_context_managers_destroy_everything() -> None:
    with gc_plugin.Arena() as arena:
        with arena.mvff() as pool:
            with pool.allocation_point() as ap, pool.cache([(32, 4, 1)]) as cache:
                block = ap.alloc(64)
                cached = cache.alloc(10)
            assert ap.destroyed and cache.destroyed
            assert not pool.destroyed
            pool.free(block)
            pool.free(cached)
        assert pool.destroyed
        with arena.mfs(16) as mfs, arena.mvt() as mvt, arena.mvff_debug() as debug:
            mfs.alloc(16)
            debug.alloc(16)
            with mvt.allocation_point() as mvt_ap:
                mvt_ap.alloc(16)
        assert mfs.destroyed and mvt.destroyed and debug.destroyed and mvt_ap.destroyed
        assert arena.pools == []
    assert arena.destroyed


def test_context_managers_destroy_on_exceptions() -> None:
    class Boom(Exception):
        pass

    with (
        pytest.raises(Boom),
        gc_plugin.Arena() as arena,
        arena.mvff() as pool,
        pool.allocation_point() as ap,
    ):
        ap.alloc(64)
        raise Boom()
    assert ap.destroyed and pool.destroyed and arena.destroyed

    # A body that raises while the pool cannot be destroyed (its AP is alive):
    # the body's exception wins, and nothing crashes.
    with pytest.raises(Boom), gc_plugin.Arena() as arena2:
        pool2 = arena2.mvt()
        ap2 = pool2.allocation_point()
        ap2.alloc(64)
        with pool2:
            raise Boom()
    assert not pool2.destroyed  # the core refused: the AP was alive
    ap2.destroy()
    pool2.destroy()
    arena2.destroy()
    assert arena2.destroyed


def test_destroy_is_idempotent(arena: gc_plugin.Arena) -> None:
    pool = arena.mvff()
    ap = pool.allocation_point()
    cache = pool.cache([(8, 1, 1)])
    for obj in (ap, cache, pool):
        obj.destroy()
        assert obj.destroyed
        obj.destroy()
        assert obj.destroyed
    other = gc_plugin.Arena()
    other.destroy()
    other.destroy()
    assert other.destroyed


def test_children_keep_their_parents_alive() -> None:
    arena = gc_plugin.Arena()
    pool = arena.mvff()
    ap = pool.allocation_point()
    del pool, arena
    gc.collect()
    block = ap.alloc(64)
    block.write(b"x" * 64)
    assert ap.pool.check() is True
    ap.pool.free(block)
    parent = ap.pool
    ap.destroy()
    parent_arena = parent.arena
    parent.destroy()
    parent_arena.destroy()


# ---- misuse of destroyed objects -----------------------------------------------------------------


def test_destroyed_pool_refuses_everything(arena: gc_plugin.Arena) -> None:
    pool = arena.mvff_debug()
    block = pool.alloc(64)
    pool.destroy()
    calls = [
        lambda: pool.alloc(8),
        lambda: pool.free(block),
        lambda: pool.free_address(block.address, 64),
        lambda: pool.total_size,
        lambda: pool.free_size,
        pool.check,
        pool.stats,
        pool.allocation_point,
        lambda: pool.cache([(8, 1, 1)]),
        pool.check_fenceposts,
        pool.check_free_space,
    ]
    for call in calls:
        with pytest.raises(MisuseError) as info:
            call()
        assert "destroyed" in str(info.value)
    assert pool.class_name == "MVFF debug"  # plain attributes still answer
    assert arena.check() is True


@pytest.mark.parametrize("kind", ["MFS", "MVT"])
def test_destroyed_pool_of_other_classes(arena: gc_plugin.Arena, kind: str) -> None:
    pool = arena.mfs(8) if kind == "MFS" else arena.mvt()
    pool.destroy()
    with pytest.raises(MisuseError):
        pool.free_address(4096, 8)
    with pytest.raises(MisuseError):
        pool.check()
    if kind == "MFS":
        with pytest.raises(MisuseError):
            pool.alloc(8)
    else:
        with pytest.raises(MisuseError):
            pool.allocation_point()


def test_destroyed_ap_and_cache_refuse_everything(arena: gc_plugin.Arena) -> None:
    pool = arena.mvff()
    ap = pool.allocation_point()
    cache = pool.cache([(16, 4, 1)])
    block = cache.alloc(16)
    ap.destroy()
    cache.destroy()
    for call in (
        lambda: ap.alloc(8),
        lambda: ap.reserve(8),
        lambda: ap.commit(block.address, 8),
        ap.frame_push,
        lambda: cache.alloc(8),
        lambda: cache.free(block),
        cache.flush,
        lambda: cache.cached_size,
    ):
        with pytest.raises(MisuseError) as info:
            call()
        assert "destroyed" in str(info.value)
    pool.free(block)  # the block outlives its cache
    assert pool.check() is True


def test_destroyed_arena_refuses_everything() -> None:
    arena = gc_plugin.Arena()
    arena.destroy()
    for call in (
        lambda: arena.committed,
        lambda: arena.reserved,
        lambda: arena.spare_committed,
        lambda: arena.commit_limit,
        lambda: arena.grain_size,
        lambda: arena.chunk_count,
        lambda: arena.control_committed,
        lambda: setattr(arena, "spare", 0.5),
        lambda: setattr(arena, "commit_limit", 1 << 30),
        lambda: arena.has_addr(4096),
        lambda: arena.addr_pool(4096),
        arena.check,
        arena.stats,
        lambda: arena.mfs(8),
        arena.mvff,
        arena.mvff_debug,
        arena.mvt,
    ):
        with pytest.raises(MisuseError) as info:
            call()
        assert "destroyed" in str(info.value)
    assert arena.pools == [] or all(p.destroyed for p in arena.pools)


def test_blocks_are_plain_values(arena: gc_plugin.Arena) -> None:
    pool = arena.mvff()
    block = pool.alloc(10)
    assert block == gc_plugin.Block(block.address, 10)
    assert hash(block) == hash(gc_plugin.Block(block.address, 10))
    view = block.view()
    assert view.format == "B" and view.nbytes == 10 and not view.readonly
    view[:] = bytes(range(10))
    assert block.read() == bytes(range(10))
    block.write(b"\xff", offset=9)
    assert block.read()[-1] == 0xFF
    with pytest.raises(AttributeError):
        block.size = 11  # type: ignore[misc]
    pool.free(block)
