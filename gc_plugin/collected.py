"""What collected pools are made of: formats, chains, and the automatic
pool classes AMC, AMCZ and LO (AMS, AWL and SNC are in gc_plugin.nonmoving).

Implements the formats, chains and moving pools of the "Collector" section
of docs/design/python-api.md.  Every object here is made by an Arena
(``arena.chain(...)``, ``arena.amc(fmt, chain=...)``, ...), belongs to it
and keeps it alive; the lifetime protocol is _NativeObject's (_lifetime.py).

Python holds addresses as ints, which are not references the collector can
see: only exact roots (``RootTable``), ambiguous roots (``ThreadRoot``,
``ProcessRoots``) and finalization keep objects alive, and an address read
from Python is only good until the next collection that may move objects.
Park the arena (``with arena.parked():``) to keep addresses still, or do
the work in C on a stack that is a root.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from gc_plugin._calls import Keywords, ffi, invalid, lib, size_value
from gc_plugin._lifetime import _ArenaChild
from gc_plugin.allocation import AllocationPoint
from gc_plugin.blocks import Block
from gc_plugin.pools import Pool
from gc_plugin.roots import Rank, RankName, rank_value

if TYPE_CHECKING:
    from gc_plugin.arena import Arena

__all__ = [
    "Format",
    "Chain",
    "CollectedAllocationPoint",
    "CollectedPool",
    "AMCPool",
    "AMCZPool",
    "LOPool",
]


# ---- formats ---------------------------------------------------------------------


class Format(_ArenaChild):
    """An object format (mps_fmt_t) made by C code; pools that use it keep it
    alive.  Destroying a format that a live pool uses is misuse.  Made by
    ``Arena.adopt_format`` from a format an extension created through the C
    API (docs/design/c-api.md); ``handle`` may be the format's address as an
    int."""

    _kind = "format"

    def __init__(self, arena: Arena, handle: Any, header_size: int, alignment: int) -> None:
        if isinstance(handle, int):
            handle = ffi.cast("mps_fmt_t", handle)
        super().__init__(arena, handle)
        self._header_size = header_size
        self._alignment = alignment
        self._pools: weakref.WeakSet[Pool] = weakref.WeakSet()

    @property
    def header_size(self) -> int:
        """The in-band header size (MPS_KEY_FMT_HEADER_SIZE)."""
        return self._header_size

    @property
    def alignment(self) -> int:
        """The format's alignment (MPS_KEY_FMT_ALIGN)."""
        return self._alignment

    @property
    def pools(self) -> list[Pool]:
        """The live pools that use this format."""
        return [pool for pool in list(self._pools) if not pool.destroyed]

    def _destroy_in_core(self, handle: Any) -> None:
        lib.mps_fmt_destroy(handle)

    def _walk_pool(self, pool: CollectedPool) -> list[int]:
        """The objects of ``pool`` (parked arena), by mps_pool_walk."""
        invalid(f"{type(self).__name__} has no pool walker")

    def _repr_fields(self) -> str:
        return f"header_size={self._header_size} pools={len(self.pools)}"


# ---- chains ------------------------------------------------------------------------


class Chain(_ArenaChild):
    """A generation chain: ``[(capacity_kib, mortality), ...]``, nursery first.
    Pools that use it keep it alive; destroying it while a pool uses it (or
    while a collection of it runs) is misuse."""

    _kind = "chain"

    def __init__(self, arena: Arena, generations: Iterable[tuple[int, float]]) -> None:
        gens = [tuple(g) for g in generations]
        params = ffi.new("mps_gen_param_s[]", max(len(gens), 1))
        converted: list[tuple[int, float]] = []
        for i, gen in enumerate(gens):
            if len(gen) != 2:
                invalid(f"generation {gen!r} is not (capacity_kib, mortality)")
            capacity, mortality = gen
            params[i].mps_capacity = size_value(capacity, "capacity")
            params[i].mps_mortality = float(mortality)
            converted.append((int(capacity), float(mortality)))
        handle = arena._create_child(
            "mps_chain_t *", "Arena.chain", lib.mps_chain_create, len(gens), params
        )
        super().__init__(arena, handle)
        self._generations = tuple(converted)
        self._pools: weakref.WeakSet[CollectedPool] = weakref.WeakSet()

    @property
    def generations(self) -> tuple[tuple[int, float], ...]:
        """The (capacity in KiB, mortality) of each generation."""
        return self._generations

    @property
    def pools(self) -> list[CollectedPool]:
        """The live pools that use this chain."""
        return [pool for pool in list(self._pools) if not pool.destroyed]

    def _destroy_in_core(self, handle: Any) -> None:
        lib.mps_chain_destroy(handle)

    def _repr_fields(self) -> str:
        return f"generations={list(self._generations)} pools={len(self.pools)}"


# ---- the automatic pool classes --------------------------------------------------------


class CollectedAllocationPoint(AllocationPoint):
    """An allocation point on an automatically managed pool.  A block must
    hold a valid formatted object before it is committed, so ``alloc(size)``
    (commit without initialising) is refused: use ``reserve``, write the
    object, ``commit`` (repeat while commit returns False), or the format's
    own allocation (the tests' ``GraphFormat.alloc``)."""

    def alloc(self, size: int) -> Block:
        invalid(
            "a block of a formatted pool must be initialised between reserve and "
            "commit: use reserve/commit or the format's alloc"
        )


class CollectedPool(Pool):
    """A garbage-collected pool (AMC, AMCZ, LO; AMS and AWL in
    gc_plugin.nonmoving): objects of its format that no root, reference or
    finalization keeps alive are reclaimed."""

    def __init__(
        self,
        arena: Arena,
        handle: Any,
        fmt: Format,
        chain: Chain | None,
        keepalive: tuple[Any, ...] = (),
    ) -> None:
        super().__init__(arena, handle, keepalive=(fmt, chain, *keepalive))
        self._format = fmt
        self._chain = chain
        fmt._pools.add(self)
        if chain is not None:
            chain._pools.add(self)

    @property
    def format(self) -> Format:
        """The pool's object format."""
        return self._format

    @property
    def chain(self) -> Chain | None:
        """The pool's chain (None: the arena's default chain)."""
        return self._chain

    def allocation_point(
        self, hash_arrays: bool | None = None, rank: Rank | RankName | None = None
    ) -> CollectedAllocationPoint:
        """A new allocation point (MPS_KEY_AP_HASH_ARRAYS and MPS_KEY_RANK if
        given: AMS takes ``"ambig"``, AWL ``"weak"``; the default is exact)."""
        keys = Keywords()
        flag = keys.flag(hash_arrays, lib.GCP_PY_HAVE_HASH_ARRAYS)
        rank_number = 0
        if rank is not None:
            rank_number = rank_value(rank)
            keys.have |= lib.GCP_PY_HAVE_RANK
        handle = self._create_child(
            "mps_ap_t *",
            f"{self.class_name}.allocation_point",
            lib.gcp_py_collected_ap_create,
            flag,
            rank_number,
            keys.have,
        )
        return CollectedAllocationPoint(self, handle)

    def walk(self) -> list[int]:
        """Addresses of every object in the pool (mps_pool_walk; the arena
        must be parked), not padding."""
        self._live()
        return self._format._walk_pool(self)


class AMCPool(CollectedPool):
    """AMC: generational, mostly-copying; objects hold exact references and
    move unless an ambiguous reference pins them."""


class AMCZPool(CollectedPool):
    """AMCZ: AMC for leaf objects (no references; never scanned)."""


class LOPool(CollectedPool):
    """LO: leaf objects that never move."""


def _amc_handle(
    arena: Arena,
    zero: bool,
    fmt: Format,
    chain: Chain | None,
    interior: bool | None,
    extend_by: int | None,
    large_size: int | None,
) -> Any:
    keys = Keywords()
    if chain is not None:
        keys.have |= lib.GCP_PY_HAVE_CHAIN
    return arena._create_child(
        "mps_pool_t *",
        "Arena.amcz" if zero else "Arena.amc",
        lib.gcp_py_amc_create,
        int(zero),
        fmt._live(),
        chain._live() if chain is not None else ffi.NULL,
        keys.flag(interior, lib.GCP_PY_HAVE_INTERIOR),
        keys.size(extend_by, "extend_by", lib.GCP_PY_HAVE_EXTEND_BY),
        keys.size(large_size, "large_size", lib.GCP_PY_HAVE_LARGE_SIZE),
        keys.have,
    )


_AMC = TypeVar("_AMC", AMCPool, AMCZPool)


def create_amc(
    kind: type[_AMC],
    arena: Arena,
    fmt: Format,
    chain: Chain | None,
    interior: bool | None,
    extend_by: int | None,
    large_size: int | None,
) -> _AMC:
    """An AMC or AMCZ pool (``kind``); Arena.amc and Arena.amcz document it."""
    zero = kind is AMCZPool
    handle = _amc_handle(arena, zero, fmt, chain, interior, extend_by, large_size)
    return kind(arena, handle, fmt, chain)


_Gen = TypeVar("_Gen", bound=CollectedPool)


def create_gen_pool(
    kind: type[_Gen],
    context: str,
    create: Any,
    arena: Arena,
    fmt: Format,
    chain: Chain | None,
    gen: int | None,
) -> _Gen:
    """A pool of a class whose keywords are a format, a chain and a
    generation (LO here, AWL in nonmoving.py): ``create`` is its bridge
    function; Arena.lo and Arena.awl document them."""
    keys = Keywords()
    if chain is not None:
        keys.have |= lib.GCP_PY_HAVE_CHAIN
    handle = arena._create_child(
        "mps_pool_t *",
        context,
        create,
        fmt._live(),
        chain._live() if chain is not None else ffi.NULL,
        keys.size(gen, "gen", lib.GCP_PY_HAVE_GEN),
        keys.have,
    )
    return kind(arena, handle, fmt, chain)
