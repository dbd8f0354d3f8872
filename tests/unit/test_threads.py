"""Real Python threads sharing pools through the Python layer.

cffi releases the GIL around every call into the core, so these threads run
the core concurrently: each has its own allocation point and cache on shared
MVFF and MVT pools (an allocation point and a cache belong to one thread) and
also allocates and frees directly, while the main thread runs the core's
consistency check.  Every block carries its owner's tag and serial number,
checked before it is freed; misuse in one thread must not leak into
another's error state.
"""

from __future__ import annotations

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
            with mvff.allocation_point() as ap, mvt.allocation_point() as mvt_ap, \
                    mvff.cache([(16, 20, 1), (64, 20, 1), (256, 10, 1)]) as cache:
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
