"""The built-in example behind ``python -m gc_plugin``, and its text tables.

One arena, one pool of each manual class (MFS, MVFF, MVFF debug, MVT,
SEGFIT), some allocations through alloc, an allocation point and a cache;
prints the arena and pool statistics as tables, then frees everything.
The collected pools are not shown: their objects need a format written in
C (scan, skip, forward, pad), which an extension provides through the C
API (docs/design/c-api.md); gc_plugin ships none.  Implements "Other" in
docs/design/python-api.md.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TextIO

from gc_plugin._calls import variety
from gc_plugin.arena import Arena, ArenaStats
from gc_plugin.blocks import Block
from gc_plugin.pools import PoolStats

__all__ = ["render_table", "arena_table", "pool_table", "run_demo"]


def render_table(
    headers: Sequence[str], rows: Sequence[Sequence[object]], right: Sequence[bool] | None = None
) -> str:
    """A plain-text table; ``right[i]`` right-aligns column i (numbers)."""
    cells = [[str(h) for h in headers]] + [[_fmt(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    if right is None:
        right = [isinstance(v, (int, float)) for v in (rows[0] if rows else headers)]

    def line(row: Sequence[str]) -> str:
        parts = [
            c.rjust(w) if r else c.ljust(w) for c, w, r in zip(row, widths, right, strict=False)
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule] + [line(r) for r in cells[1:]])


def _fmt(value: object) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def arena_table(stats: ArenaStats) -> str:
    """The arena's accounting as a two-column table."""
    limit: object = stats.commit_limit
    if stats.commit_limit >= (1 << 63):
        limit = "unlimited"
    rows: list[tuple[str, object]] = [
        ("committed (bytes)", stats.committed),
        ("reserved (bytes)", stats.reserved),
        ("spare committed (bytes)", stats.spare_committed),
        ("commit limit (bytes)", limit),
        ("spare fraction", stats.spare),
        ("grain size (bytes)", stats.grain_size),
        ("chunks", stats.chunk_count),
        ("pools", len(stats.pools)),
    ]
    return render_table(("arena", "value"), rows, right=(False, True))


def pool_table(pools: Sequence[PoolStats]) -> str:
    """Per-pool accounting, with a total row."""
    rows: list[tuple[object, ...]] = []
    for p in pools:
        rows.append(
            (p.class_name, p.total_size, p.free_size, p.total_size - p.free_size, p.alignment)
        )
    total = sum(p.total_size for p in pools)
    free = sum(p.free_size for p in pools)
    rows.append(("total", total, free, total - free, ""))
    return render_table(
        ("pool class", "total (bytes)", "free (bytes)", "in use (bytes)", "alignment"),
        rows,
        right=(False, True, True, True, True),
    )


def run_demo(out: TextIO | None = None) -> int:
    """Run the example, writing to ``out`` (stdout by default); returns 0."""
    stream = out if out is not None else sys.stdout

    def say(text: str = "") -> None:
        print(text, file=stream)

    say(f"gc_plugin demo: the native core ({variety()} variety) in one arena\n")
    with Arena() as arena:
        mfs = arena.mfs(64)
        mvff = arena.mvff()
        debug = arena.mvff_debug()
        mvt = arena.mvt()
        segfit = arena.segfit()

        # Manual allocation with alloc/free, touching each block.
        units = [mfs.alloc(64) for _ in range(200)]
        variable = [mvff.alloc(16 + 24 * (i % 40)) for i in range(300)]
        checked = [debug.alloc(8 + 8 * (i % 16)) for i in range(100)]
        small = [segfit.alloc_tagged(i % 600, tag=i % 7) for i in range(500)]
        for n, block in enumerate(units + variable + checked + small):
            block.write(bytes([n % 251]) * min(block.size, 8))

        # Allocation points: reserve + commit on MVT and MVFF.
        mvt_ap = mvt.allocation_point()
        mvff_ap = mvff.allocation_point()
        temporal = [mvt_ap.alloc(8 * (1 + i % 32)) for i in range(400)]
        bumped = [mvff_ap.alloc(32) for _ in range(100)]

        # A segregated allocation cache over MVFF.
        cache = mvff.cache([(16, 100, 4), (64, 50, 2), (256, 20, 1)])
        cached = [cache.alloc(s) for s in (8, 16, 40, 64, 200, 256) * 20]

        stats = arena.stats()
        say(arena_table(stats))
        say()
        say(pool_table(stats.pools))
        say()
        blocks: list[Block] = units + variable + checked + small + temporal + bumped + cached
        say(f"{len(blocks):,} live blocks; arena consistent: {arena.check()}")

        # Free everything and tear down in order.
        for block in cached:
            cache.free(block)
        cached_bytes = cache.cached_size
        cache.destroy()
        for block in bumped:
            mvff.free(block)
        mvff_ap.destroy()
        for block in temporal:
            mvt.free(block)
        mvt_ap.destroy()
        for block in checked:
            debug.free(block)
        debug.check_fenceposts()
        debug.check_free_space()
        for block in variable:
            mvff.free(block)
        for block in units:
            mfs.free(block)
        for block in small:
            segfit.free_block(block)
        say(
            f"freed every block ({cached_bytes:,} bytes were cached before the cache was "
            f"destroyed); arena consistent: {arena.check()}"
        )
        say()
        say(pool_table(arena.stats().pools))
        for pool in (mfs, mvff, debug, mvt, segfit):
            pool.destroy()
        say()
        say(
            f"pools destroyed; committed {arena.committed:,} bytes, "
            f"{arena.spare_committed:,} of them spare"
        )
    say("arena destroyed")
    return 0
