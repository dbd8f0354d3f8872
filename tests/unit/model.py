"""The plain-Python model the pool tests check the real pools against, and
helpers shared by the unit tests.

* ``HeapModel``: address -> ``LiveBlock`` (block, the size to free it with,
  its route, and the bytes last written into it).  Its ``check_*`` methods
  are the invariants of tests/unit/test_pool_state_machines.py: alignment,
  no overlap, contents survive, accounting.
* ``SegfitModel``: a HeapModel for SEGFIT pools, which also knows each
  block's requested size and tag, and checks the pool's walk, live counts
  and exact accounting against them.
* ``PoolHeldProbe`` / ``check_arena_accounting``: the arena's pool-held
  committed memory (``arena.pools_committed``) is zero after the pools are
  destroyed, and committed = spare + overhead + control + pools.
* ``address_of_buffer``: the raw address of a Python bytearray (a pointer
  that is certainly foreign to every arena).
"""

from __future__ import annotations

import ctypes
import random
from dataclasses import dataclass, field

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

    def __len__(self) -> int:
        return len(self.blocks)

    def addresses(self) -> list[int]:
        return sorted(self.blocks)

    def add(self, block: gc_plugin.Block, free_size: int, route: str, seed: int) -> LiveBlock:
        """Record a freshly allocated block and fill it with known bytes."""
        assert isinstance(block, gc_plugin.Block)
        assert block.size >= 1
        assert block.address % self.alignment == 0, f"{block} is not aligned to {self.alignment}"
        assert block.address not in self.blocks, f"{block} handed out twice"
        live = LiveBlock(block, free_size, round_up(block.size, self.alignment), route)
        data = payload(seed, block.size)
        block.write(data)
        live.content = bytearray(data)
        self.blocks[block.address] = live
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
        for _address, live in self.blocks.items():
            actual = live.block.read()
            if actual != bytes(live.content):
                bad = next(
                    i for i, (a, b) in enumerate(zip(actual, live.content, strict=False)) if a != b
                )
                raise AssertionError(
                    f"contents of {live.block} (route {live.route}) changed at offset {bad}: "
                    f"expected {bytes(live.content[bad : bad + 16]).hex()} "
                    f"found {actual[bad : bad + 16].hex()}"
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


class SegfitModel(HeapModel):
    """What the client believes about a SEGFIT pool's blocks.

    Each LiveBlock's ``block`` spans the block's whole usable size (the
    class size, or the requested size above SMALL_MAX), so that the contents
    checks and writes cover all of it; its ``free_size`` is the requested
    size (what mps_free wants).  ``facts`` maps each address to its
    (requested size, tag).
    """

    def __init__(self, grain: int) -> None:
        super().__init__(16)
        self.grain = grain
        self.facts: dict[int, tuple[int, int]] = {}

    def extent(self, size: int) -> int:
        """Bytes the pool sets aside for a block of ``size`` requested bytes:
        the class size, or for a large block its size rounded to the grain."""
        if size > gc_plugin.SegfitPool.SMALL_MAX:
            return round_up(size, self.grain)
        return gc_plugin.SegfitPool.usable_size(size)

    def add_block(self, address: int, size: int, tag: int, route: str, seed: int) -> LiveBlock:
        """Record a block of ``size`` requested bytes and fill its usable size."""
        usable = gc_plugin.SegfitPool.usable_size(size)
        assert usable >= max(size, 1)
        live = self.add(gc_plugin.Block(address, usable), size, route, seed)
        self.facts[address] = (size, tag)
        return live

    def remove(self, address: int) -> LiveBlock:
        del self.facts[address]
        return super().remove(address)

    def expected_walk(self) -> list[tuple[int, int, int]]:
        return sorted((address, size, tag) for address, (size, tag) in self.facts.items())

    def check_pool(self, pool: gc_plugin.SegfitPool) -> None:
        """The pool's walk, live counts and accounting agree with the model."""
        walked = pool.walk()
        assert len(walked) == len(set(walked)), "the walk visited a block twice"
        assert sorted(walked) == self.expected_walk(), (
            f"walk {sorted(walked)} != model {self.expected_walk()}"
        )
        sizes = [size for size, _ in self.facts.values()]
        assert pool.live() == (len(sizes), sum(sizes))
        allocated = pool.total_size - pool.free_size
        expected = sum(self.extent(size) for size in sizes)
        assert allocated == expected, f"total - free = {allocated}, blocks' extents {expected}"


# ---- the arena's pool-held memory ---------------------------------------------


def check_arena_accounting(arena: gc_plugin.Arena) -> None:
    """committed splits into spare + overhead + control + pools, none negative
    (a wrapped-around size_t would show as a huge value)."""
    committed = arena.committed
    parts = {
        "spare": arena.spare_committed,
        "overhead": arena.overhead_committed,
        "control": arena.control_committed,
        "pools": arena.pools_committed,
    }
    for name, value in parts.items():
        assert 0 <= value <= committed, f"{name}_committed {value} vs committed {committed}"
    assert sum(parts.values()) == committed, f"{parts} do not add up to {committed}"


class PoolHeldProbe:
    """Checks that an arena holds no pool memory any more
    (``arena.pools_committed == 0``, i.e. gcp_arena_pools_committed), and that
    the arena's other accounts still add up."""

    def __init__(self, arena: gc_plugin.Arena) -> None:
        self.arena = arena
        check_arena_accounting(arena)

    def check_empty(self) -> None:
        arena = self.arena
        held = arena.pools_committed
        assert held == 0, f"the arena still holds {held} bytes for pools"
        check_arena_accounting(arena)
