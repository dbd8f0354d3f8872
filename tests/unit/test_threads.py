"""Real Python threads sharing pools through the Python layer.

cffi releases the GIL around every call into the core, so these threads run
the core concurrently: each has its own allocation point and cache on shared
MVFF and MVT pools (an allocation point and a cache belong to one thread) and
also allocates and frees directly, while the main thread runs the core's
consistency check.  Every block carries its owner's tag and serial number,
checked before it is freed; misuse in one thread must not leak into
another's error state.

SEGFIT: threads allocate tagged blocks from one pool and hand half of them
to the next thread through a queue, which checks and frees them (remote
frees) while the main thread watches the live counts and walks; and threads
that exit still owning blocks, which the main thread frees before a new
thread takes over the orphaned cache.  At the end the pool is consistent,
live() is zero and walk() is empty.
"""

from __future__ import annotations

import queue
import random
import threading
from collections.abc import Callable

import pytest

import gc_plugin

THREADS = 4
ROUNDS = 1500


def _payload(tag: int, serial: int, size: int) -> bytes:
    seed = (tag * 1_000_003 + serial) & 0xFF
    return bytes((seed + i) & 0xFF for i in range(size))


def test_threads_share_pools(arena: gc_plugin.Arena, rng: random.Random) -> None:
    mvff = arena.mvff()
    mvt = arena.mvt()
    seeds = [rng.randrange(1 << 30) for _ in range(THREADS)]
    errors: list[BaseException] = []

    def work(tag: int) -> None:
        local = random.Random(seeds[tag])
        # (how to free it, block, serial)
        live: list[tuple[Callable[[gc_plugin.Block], None], gc_plugin.Block, int]] = []
        try:
            with (
                mvff.allocation_point() as ap,
                mvt.allocation_point() as mvt_ap,
                mvff.cache([(16, 20, 1), (64, 20, 1), (256, 10, 1)]) as cache,
            ):
                for serial in range(ROUNDS):
                    choice = local.randrange(4)
                    size = 8 * local.randint(1, 40)
                    if choice == 0:
                        block = ap.alloc(size)
                    elif choice == 1:
                        block = mvt_ap.alloc(size)
                    elif choice == 2:
                        block = mvff.alloc(local.randint(1, 300))
                    else:
                        block = cache.alloc(local.randint(1, 256))
                    block.write(_payload(tag, serial, block.size))
                    release: Callable[[gc_plugin.Block], None] = (
                        cache.free if choice == 3 else mvt.free if choice == 1 else mvff.free
                    )
                    live.append((release, block, serial))
                    if len(live) > 60 or local.random() < 0.3:
                        release, old, old_serial = live.pop(local.randrange(len(live)))
                        assert old.read() == _payload(tag, old_serial, old.size)
                        release(old)
                    if serial % 200 == 0:
                        # misuse in this thread raises here and nowhere else
                        with pytest.raises(gc_plugin.MisuseError):
                            mvff.free_address(id(live), 8)
                for release, old, old_serial in live:
                    assert old.read() == _payload(tag, old_serial, old.size)
                    release(old)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(THREADS)]
    for t in threads:
        t.start()
    checks = 0
    while any(t.is_alive() for t in threads):
        assert arena.check()
        checks += 1
    for t in threads:
        t.join()
    assert not errors, errors[0]
    assert checks > 0
    assert arena.check()
    assert mvff.free_size == mvff.total_size
    assert mvt.free_size == mvt.total_size
    mvff.destroy()
    mvt.destroy()
    assert arena.pools_committed == 0


# ---- SEGFIT: remote frees and orphaned caches -----------------------------------

SEGFIT_ROUNDS = 2500
#: (block, serial, tag) on its way to the thread that frees it; None: no more.
Passed = tuple[gc_plugin.Block, int, int] | None


def _segfit_size(local: random.Random) -> int:
    """Mostly small (zero included), sometimes up to the largest class,
    now and then a large block."""
    r = local.random()
    if r < 0.75:
        return local.randint(0, 600)
    if r < 0.98:
        return local.randint(0, gc_plugin.SegfitPool.SMALL_MAX)
    return local.randint(gc_plugin.SegfitPool.SMALL_MAX + 1, 100_000)


def _segfit_check_and_free(
    pool: gc_plugin.SegfitPool, block: gc_plugin.Block, serial: int, tag: int, how: int
) -> None:
    assert pool.block_info(block.address) == (block.size, tag)
    assert block.read() == _payload(tag, serial, block.size)
    if how and block.size > 0:
        pool.free(block)  # mps_free with the exact size
    else:
        pool.free_block(block)


def test_segfit_remote_frees(arena: gc_plugin.Arena, rng: random.Random) -> None:
    pool = arena.segfit()
    seeds = [rng.randrange(1 << 30) for _ in range(THREADS)]
    inboxes: list[queue.SimpleQueue[Passed]] = [queue.SimpleQueue() for _ in range(THREADS)]
    errors: list[BaseException] = []
    passed = [0] * THREADS
    remote = [0] * THREADS

    def work(index: int) -> None:
        local = random.Random(seeds[index])
        inbox, outbox = inboxes[index], inboxes[(index + 1) % THREADS]
        kept: list[tuple[gc_plugin.Block, int, int]] = []
        previous_done = False  # the previous thread has passed on its last block
        try:
            for serial in range(SEGFIT_ROUNDS):
                tag = (index + 1) << 12 | serial & 0xFFF
                block = pool.alloc_tagged(_segfit_size(local), tag)
                block.write(_payload(tag, serial, block.size))
                if serial % 2 == 0:
                    outbox.put((block, serial, tag))
                    passed[index] += 1
                else:
                    kept.append((block, serial, tag))
                if kept and (len(kept) > 50 or local.random() < 0.3):
                    old, old_serial, old_tag = kept.pop(local.randrange(len(kept)))
                    _segfit_check_and_free(pool, old, old_serial, old_tag, local.randrange(2))
                while not previous_done and not inbox.empty():
                    item = inbox.get()
                    if item is None:  # only if the previous thread failed
                        previous_done = True
                        break
                    theirs, their_serial, their_tag = item
                    assert their_tag >> 12 != index + 1
                    _segfit_check_and_free(pool, theirs, their_serial, their_tag, serial % 2)
                    remote[index] += 1
            for old, old_serial, old_tag in kept:
                _segfit_check_and_free(pool, old, old_serial, old_tag, 0)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            outbox.put(None)  # the next thread stops waiting for this one
        try:
            # Free what the previous thread still passes on, until it is done.
            while not previous_done and (item := inbox.get(timeout=120)) is not None:
                theirs, their_serial, their_tag = item
                _segfit_check_and_free(pool, theirs, their_serial, their_tag, 1)
                remote[index] += 1
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(THREADS)]
    for t in threads:
        t.start()
    watches = 0
    while any(t.is_alive() for t in threads):
        # Safe while the threads run (the walk holds the arena lock); exact
        # only once they stop.
        blocks, nbytes = pool.live()
        assert 0 <= blocks <= THREADS * SEGFIT_ROUNDS and nbytes >= 0
        assert len(pool.walk()) <= THREADS * SEGFIT_ROUNDS
        watches += 1
    for t in threads:
        t.join()
    assert not errors, errors[0]
    assert remote == [passed[(t - 1) % THREADS] for t in range(THREADS)]
    assert sum(remote) > 0 and watches > 0
    assert pool.check() is True
    assert arena.check() is True
    assert pool.live() == (0, 0)
    assert pool.walk() == []
    assert pool.free_size == pool.total_size
    pool.destroy()
    assert arena.pools_committed == 0


def test_segfit_orphaned_caches(arena: gc_plugin.Arena, rng: random.Random) -> None:
    """Threads that exit owning blocks: the main thread frees them (into the
    orphaned cache), and the next thread takes the cache over."""
    pool = arena.segfit()
    mine = pool.alloc_tagged(48, 0)  # the main thread's own cache, first
    errors: list[BaseException] = []
    left: list[tuple[gc_plugin.Block, int, int]] = []

    def work(round_: int, seed: int) -> None:
        local = random.Random(seed)
        try:
            for serial in range(400):
                tag = round_ << 8 | serial & 0xFF
                block = pool.alloc_tagged(_segfit_size(local), tag)
                block.write(_payload(tag, serial, block.size))
                left.append((block, serial, tag))
            # some of the blocks the last thread left are freed here (by the
            # thread that now owns their cache, or remotely)
            for _ in range(100):
                block, serial, tag = left.pop(local.randrange(len(left)))
                _segfit_check_and_free(pool, block, serial, tag, local.randrange(2))
        except BaseException as exc:
            errors.append(exc)

    for round_ in range(8):
        thread = threading.Thread(target=work, args=(round_, rng.randrange(1 << 30)))
        thread.start()
        thread.join()
        assert not errors, errors[0]
        assert pool.check() is True
        expected = sorted((b.address, b.size, tag) for b, _, tag in left)
        assert sorted(pool.walk()) == sorted([*expected, (mine.address, 48, 0)])
        # the main thread frees half of what the thread left behind
        for _ in range(len(left) // 2):
            block, serial, tag = left.pop(rng.randrange(len(left)))
            _segfit_check_and_free(pool, block, serial, tag, rng.randrange(2))
        assert pool.check() is True
        assert pool.live()[0] == len(left) + 1
    for block, serial, tag in left:
        _segfit_check_and_free(pool, block, serial, tag, 0)
    pool.free_block(mine)
    assert pool.check() is True
    assert pool.live() == (0, 0) and pool.walk() == []
    assert pool.free_size == pool.total_size
    pool.destroy()
    assert arena.pools_committed == 0
