"""The plain-Python model the pool tests check the real pools against, and
helpers shared by the unit tests.

* ``HeapModel``: address -> ``LiveBlock`` (block, the size to free it with,
  its route, and the bytes last written into it).  Its ``check_*`` methods
  are the invariants of tests/unit/test_pool_state_machines.py: alignment,
  no overlap, contents survive, accounting.
* ``pools_committed(arena)``: the arena's pool-held committed memory
  (``gcp_arena_pools_committed``) if the Python layer exposes it, else None;
  ``PoolHeldProbe`` is the fallback measurement used when it does not.
* ``address_of_buffer``: the raw address of a Python bytearray (a pointer
  that is certainly foreign to every arena).
"""

from __future__ import annotations

import ctypes
import random
from dataclasses import dataclass, field
from typing import Any

import gc_plugin


def round_up(size: int, align: int) -> int:
    return (size + align - 1) // align * align


def payload(seed: int, length: int) -> bytes:
    """``length`` pseudo-random bytes determined by ``seed``."""
    return random.Random(seed).randbytes(length)


def address_of_buffer(buf: bytearray) -> int:
    """The address of a bytearray's storage (keep ``buf`` alive meanwhile)."""
    return ctypes.addressof((ctypes.c_char * len(buf)).from_buffer(buf))


def poke(address: int, data: bytes) -> None:
    """Write ``data`` at a raw address, bypassing every Block bound check."""
    ctypes.memmove(address, data, len(data))


def peek(address: int, length: int) -> bytes:
    return ctypes.string_at(address, length)


# ---- the model --------------------------------------------------------------


@dataclass
class LiveBlock:
    """One block the client holds, as the model sees it."""

    block: gc_plugin.Block
    free_size: int  # the size to pass back when freeing it
    extent: int  # bytes the pool set aside (client size rounded to the alignment)
    route: str  # "pool", "ap:<n>" or "cache"
    content: bytearray = field(default_factory=bytearray)


class HeapModel:
    """What the client believes about its live blocks."""

    def __init__(self, alignment: int) -> None:
        self.alignment = alignment
        self.blocks: dict[int, LiveBlock] = {}
        self.lowest: int | None = None  # lowest / highest address ever handed out
        self.highest: int | None = None

    def __len__(self) -> int:
        return len(self.blocks)

    def addresses(self) -> list[int]:
        return sorted(self.blocks)

    def add(self, block: gc_plugin.Block, free_size: int, route: str, seed: int) -> LiveBlock:
        """Record a freshly allocated block and fill it with known bytes."""
        assert isinstance(block, gc_plugin.Block)
        assert block.size >= 1
        assert block.address % self.alignment == 0, (
            f"{block} is not aligned to {self.alignment}"
        )
        assert block.address not in self.blocks, f"{block} handed out twice"
        live = LiveBlock(block, free_size, round_up(block.size, self.alignment), route)
        data = payload(seed, block.size)
        block.write(data)
        live.content = bytearray(data)
        self.blocks[block.address] = live
        lo, hi = block.address, block.address + live.extent
        self.lowest = lo if self.lowest is None else min(self.lowest, lo)
        self.highest = hi if self.highest is None else max(self.highest, hi)
        return live

    def remove(self, address: int) -> LiveBlock:
        return self.blocks.pop(address)

    def write(self, address: int, offset: int, data: bytes, via_view: bool) -> None:
        live = self.blocks[address]
        if via_view:
            live.block.view()[offset : offset + len(data)] = data
        else:
            live.block.write(data, offset)
        live.content[offset : offset + len(data)] = data

    def live_bytes(self) -> int:
        return sum(live.extent for live in self.blocks.values())

    # ---- invariants -----------------------------------------------------------

    def check_alignment(self) -> None:
        for address in self.blocks:
            assert address % self.alignment == 0, f"block {address:#x} misaligned"

    def check_no_overlap(self) -> None:
        previous: LiveBlock | None = None
        for address in sorted(self.blocks):
            live = self.blocks[address]
            if previous is not None:
                end = previous.block.address + previous.extent
                assert end <= address, (
                    f"live blocks overlap: {previous.block} (extent {previous.extent}) "
                    f"and {live.block}"
                )
            previous = live

    def check_contents(self) -> None:
        for address, live in self.blocks.items():
            actual = live.block.read()
            if actual != bytes(live.content):
                bad = next(i for i, (a, b) in enumerate(zip(actual, live.content)) if a != b)
                raise AssertionError(
                    f"contents of {live.block} (route {live.route}) changed at offset {bad}: "
                    f"expected {bytes(live.content[bad:bad + 16]).hex()} "
                    f"found {actual[bad:bad + 16].hex()}"
                )

    def check_accounting(self, pool: gc_plugin.Pool, also_allocated: int = 0) -> None:
        total = pool.total_size
        free = pool.free_size
        assert total >= free >= 0, f"total {total} free {free}"
        assert total - free >= self.live_bytes() + also_allocated, (
            f"total {total} - free {free} < live {self.live_bytes()} + {also_allocated}"
        )
        stats = pool.stats()
        assert stats.total_size == total and stats.free_size == free
        assert stats.alignment == pool.alignment


# ---- the arena's pool-held memory ---------------------------------------------


def pools_committed(arena: gc_plugin.Arena) -> int | None:
    """gcp_arena_pools_committed(arena) if the Python layer exposes it.

    Looked for as ``arena.pools_committed``, ``arena.stats().pools_committed``
    or ``gc_plugin._native.lib.gcp_arena_pools_committed``; None when none of
    them exists (then PoolHeldProbe is the fallback).
    """
    value: Any = getattr(arena, "pools_committed", None)
    if value is not None:
        return int(value() if callable(value) else value)
    stats = arena.stats()
    if hasattr(stats, "pools_committed"):
        return int(stats.pools_committed)
    from gc_plugin import _native

    fn = getattr(_native.lib, "gcp_arena_pools_committed", None)
    if fn is not None:
        return int(fn(arena._handle))
    return None


def _in_use_or_overhead(arena: gc_plugin.Arena) -> int:
    """committed - spare - control = pools' pages + chunk heads and page tables."""
    return arena.committed - arena.spare_committed - arena.control_committed


class PoolHeldProbe:
    """Checks that an arena holds no pool memory any more.

    Exact through ``pools_committed`` when available.  Otherwise it compares
    committed - spare - control (pool pages + overhead) with its value when the
    probe was made, before any pool existed: the only growth allowed is the
    page-table pages that describing the used address range may have
    committed (one 8-byte entry per page; page-table pages are never
    decommitted), so a pool that kept even a few pages is caught.
    """

    def __init__(self, arena: gc_plugin.Arena) -> None:
        self.arena = arena
        self.baseline = _in_use_or_overhead(arena)
        self.chunks = arena.chunk_count

    def check_empty(self, lowest: int | None, highest: int | None) -> None:
        arena = self.arena
        exact = pools_committed(arena)
        if exact is not None:
            assert exact == 0, f"the arena still holds {exact} bytes for pools"
            return
        after = _in_use_or_overhead(arena)
        grain = arena.grain_size
        growth = after - self.baseline
        assert growth >= 0, f"committed - spare - control shrank by {-growth}"
        if arena.chunk_count != self.chunks:
            return  # new chunks brought heads of unknown size; nothing exact to say
        span = 0 if lowest is None or highest is None else highest - lowest
        span += 1 << 20  # segments reach beyond the blocks seen (extend_by)
        pages_per_pt_page = grain // 8
        pt_pages = -(-(span // grain) // pages_per_pt_page) + 1
        assert growth <= pt_pages * grain, (
            f"after destroying every pool the arena still holds {growth} bytes more "
            f"(committed - spare - control) than before; page tables explain at most "
            f"{pt_pages * grain}"
        )
