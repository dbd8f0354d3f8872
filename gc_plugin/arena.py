"""Arenas: the VM arena that owns address space and everything made in it.

Implements the "Arena" section of docs/design/python-api.md.  An Arena is
the one place objects are made: its pools (manual and collected), chains,
roots and thread registrations (``arena.mvff()``, ``arena.chain(...)``,
``arena.amc(fmt, chain=...)``, ``arena.root_table(n)``, ...).  It owns
them: it knows its live pools (by core handle, for ``addr_pool``) and its
other objects (for the walks and ``teardown``), each of which keeps the
arena alive in turn.  Collection control, messages and finalization
(``_ArenaMessages``, messages.py) and introspection
(``_ArenaIntrospection``, introspection.py) are its methods too.  The
lifetime protocol is _NativeObject's (_lifetime.py).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from gc_plugin import _calls
from gc_plugin._calls import Keywords, check, check_misuse, ffi, lib, size_value
from gc_plugin._lifetime import _ArenaChild, _NativeObject
from gc_plugin.allocation import AllocationPoint
from gc_plugin.collected import (
    AMCPool,
    AMCZPool,
    Chain,
    Format,
    LOPool,
    create_amc,
    create_gen_pool,
)
from gc_plugin.errors import MPSError
from gc_plugin.introspection import _ArenaIntrospection
from gc_plugin.messages import Message, _ArenaMessages
from gc_plugin.nonmoving import (
    AMSDebugPool,
    AMSPool,
    AWLPool,
    SNCPool,
    create_ams,
    create_ams_debug,
    create_snc,
)
from gc_plugin.pools import (
    MFSPool,
    MVFFDebugPool,
    MVFFPool,
    MVTPool,
    Pool,
    PoolStats,
    SegfitPool,
    create_mfs,
    create_mvff,
    create_mvff_debug,
    create_mvt,
    create_segfit,
)
from gc_plugin.roots import ProcessRoots, Rank, RankName, Root, RootTable, Thread

__all__ = ["Arena", "ArenaStats", "default_arena"]

_Child = TypeVar("_Child", bound=_ArenaChild)


@dataclass(frozen=True)
class ArenaStats:
    """A snapshot of an arena's accounting (bytes unless said otherwise)."""

    committed: int
    reserved: int
    spare_committed: int
    commit_limit: int
    spare: float
    grain_size: int
    chunk_count: int
    pools: tuple[PoolStats, ...]


class Arena(_ArenaMessages, _ArenaIntrospection):
    """A virtual-memory arena.  ``None`` for a keyword means the core's default.

    Usable as a context manager: the arena is destroyed on exit (use
    ``teardown`` to destroy it with everything in it).
    """

    _kind = "arena"

    def __init__(
        self,
        size: int | None = None,
        grain_size: int | None = None,
        commit_limit: int | None = None,
        spare: float | None = None,
        pause_time: float | None = None,
    ) -> None:
        self._pools: weakref.WeakValueDictionary[int, Pool] = weakref.WeakValueDictionary()
        # formats, chains, roots, threads, messages; never held across a core call
        self._objects_lock = threading.Lock()
        self._objects: weakref.WeakSet[_ArenaChild] = weakref.WeakSet()
        keys = Keywords()  # keys.have is read last, after every keyword
        arena_o = ffi.new("mps_arena_t *")
        res = lib.gcp_py_arena_create(
            arena_o,
            keys.size(size, "size", lib.GCP_PY_HAVE_SIZE),
            keys.size(grain_size, "grain_size", lib.GCP_PY_HAVE_GRAIN),
            keys.size(commit_limit, "commit_limit", lib.GCP_PY_HAVE_COMMIT_LIMIT),
            keys.fraction(spare, lib.GCP_PY_HAVE_SPARE),
            keys.fraction(pause_time, lib.GCP_PY_HAVE_PAUSE),
            keys.have,
        )
        check(res, "Arena")
        self._handle = arena_o[0]

    # ---- lifetime -----------------------------------------------------------

    def _destroy_handle(self, handle: Any) -> None:
        lib.mps_arena_destroy(handle)

    def destroy(self) -> None:
        """Destroy the arena.  Idempotent; MisuseError if pools, formats,
        chains, roots or registered threads remain (``teardown`` destroys
        them too)."""
        super().destroy()

    def _repr_fields(self) -> str:
        return f"committed={self.committed} reserved={self.reserved} pools={len(self._pools)}"

    # ---- what the arena owns ------------------------------------------------

    def _register(self, pool: Pool) -> None:
        self._pools[_calls.as_int(pool._handle)] = pool

    def _unregister(self, handle: Any) -> None:
        self._pools.pop(_calls.as_int(handle), None)

    def _adopt(self, child: _ArenaChild) -> None:
        with self._objects_lock:
            self._objects.add(child)

    def _owned(self, kind: type[_Child]) -> list[_Child]:
        """The live objects of ``kind`` made in this arena (not pools)."""
        with self._objects_lock:
            objects = list(self._objects)
        return [obj for obj in objects if isinstance(obj, kind) and not obj.destroyed]

    @property
    def pools(self) -> list[Pool]:
        """The live pools of this arena, oldest first."""
        return [pool for pool in list(self._pools.values()) if not pool.destroyed]

    # ---- manual pools -------------------------------------------------------

    def mfs(self, unit_size: int, extend_by: int | None = None) -> MFSPool:
        """A pool of fixed-size units (MFS)."""
        return create_mfs(self, unit_size, extend_by)

    def mvff(
        self,
        extend_by: int | None = None,
        mean_size: int | None = None,
        align: int | None = None,
        spare: float | None = None,
        arena_high: bool | None = None,
        slot_high: bool | None = None,
        first_fit: bool | None = None,
    ) -> MVFFPool:
        """A first-fit pool of variable-size blocks (MVFF)."""
        return create_mvff(
            self, extend_by, mean_size, align, spare, arena_high, slot_high, first_fit
        )

    def mvff_debug(
        self,
        fence_template: bytes = b"POST",
        free_template: bytes = b"FREE",
        extend_by: int | None = None,
        mean_size: int | None = None,
        align: int | None = None,
        spare: float | None = None,
        arena_high: bool | None = None,
        slot_high: bool | None = None,
        first_fit: bool | None = None,
    ) -> MVFFDebugPool:
        """An MVFF pool with fenceposts and free-space splatting."""
        return create_mvff_debug(
            self,
            fence_template,
            free_template,
            extend_by,
            mean_size,
            align,
            spare,
            arena_high,
            slot_high,
            first_fit,
        )

    def mvt(
        self,
        align: int | None = None,
        min_size: int | None = None,
        mean_size: int | None = None,
        max_size: int | None = None,
        reserve_depth: int | None = None,
        frag_limit: float | None = None,
    ) -> MVTPool:
        """A temporal-fit pool allocated through allocation points (MVT)."""
        return create_mvt(self, align, min_size, mean_size, max_size, reserve_depth, frag_limit)

    def segfit(self) -> SegfitPool:
        """A segregated-fit pool for small blocks shared by threads (SEGFIT)."""
        return create_segfit(self)

    # ---- collected pools and what they are made of ---------------------------

    def adopt_format(self, address: int, *, header_size: int = 0) -> Format:
        """Wrap the format (mps_fmt_t) at ``address``, which an extension made
        in this arena through the C API (docs/design/c-api.md), so that pools
        can use it; from now on it is the Format's to destroy (``destroy()``,
        or the arena's teardown).  ``header_size`` must be the format's
        in-band header size (MPS_KEY_FMT_HEADER_SIZE)."""
        addr = _calls.address_value(address, "format address")
        h = size_value(header_size, "header_size")
        arena_o = ffi.new("mps_arena_t *")
        align_o = ffi.new("size_t *")
        header_o = ffi.new("size_t *")
        found = lib.gcp_fmt_describe(ffi.cast("mps_fmt_t", addr), arena_o, align_o, header_o)
        check_misuse()
        if not found or arena_o[0] != self._live():
            _calls.invalid(f"{addr:#x} is not a format of this arena")
        if int(header_o[0]) != h:
            _calls.invalid(f"the format's header size is {int(header_o[0])}, not {h}")
        if any(_calls.as_int(f._handle) == addr for f in self._owned(Format)):
            _calls.invalid(f"the format at {addr:#x} is already adopted")
        return Format(self, addr, h, int(align_o[0]))

    def chain(self, generations: Iterable[tuple[int, float]]) -> Chain:
        """A generation chain: ``[(capacity_kib, mortality), ...]``, nursery
        first."""
        return Chain(self, generations)

    def amc(
        self,
        format: Format,
        chain: Chain | None = None,
        interior: bool | None = None,
        extend_by: int | None = None,
        large_size: int | None = None,
    ) -> AMCPool:
        """An AMC pool of ``format`` objects (generational, mostly copying;
        ``chain`` None: the arena's default chain)."""
        return create_amc(AMCPool, self, format, chain, interior, extend_by, large_size)

    def amcz(
        self,
        format: Format,
        chain: Chain | None = None,
        interior: bool | None = None,
        extend_by: int | None = None,
        large_size: int | None = None,
    ) -> AMCZPool:
        """An AMCZ pool of leaf ``format`` objects (AMC, never scanned)."""
        return create_amc(AMCZPool, self, format, chain, interior, extend_by, large_size)

    def lo(self, format: Format, chain: Chain | None = None, gen: int | None = None) -> LOPool:
        """An LO pool of leaf ``format`` objects that never move (``gen``:
        MPS_KEY_GEN)."""
        return create_gen_pool(LOPool, "Arena.lo", lib.gcp_py_lo_create, self, format, chain, gen)

    def ams(
        self,
        format: Format,
        chain: Chain | None = None,
        gen: int | None = None,
        support_ambiguous: bool | None = None,
    ) -> AMSPool:
        """An AMS pool of ``format`` objects (non-moving mark-sweep;
        ``support_ambiguous``: MPS_KEY_AMS_SUPPORT_AMBIGUOUS)."""
        return create_ams(self, format, chain, gen, support_ambiguous)

    def ams_debug(
        self,
        format: Format,
        fence_template: bytes | None = None,
        free_template: bytes | None = None,
        chain: Chain | None = None,
        gen: int | None = None,
    ) -> AMSDebugPool:
        """An AMS debug pool.  Without templates the core's defaults apply
        ("POST", "FREE"); with either, both are passed (b"" or None disables
        that check)."""
        return create_ams_debug(self, format, fence_template, free_template, chain, gen)

    def awl(self, format: Format, chain: Chain | None = None, gen: int | None = None) -> AWLPool:
        """An AWL pool of ``format`` objects (exact or weak allocation
        points; no dependent objects)."""
        return create_gen_pool(
            AWLPool, "Arena.awl", lib.gcp_py_awl_create, self, format, chain, gen
        )

    def snc(self, format: Format) -> SNCPool:
        """An SNC pool of ``format`` objects (header size 0), freed by
        popping allocation frames."""
        return create_snc(self, format)

    # ---- roots and threads --------------------------------------------------

    def register_thread(self) -> Thread:
        """Register the calling thread (mps_thread_reg)."""
        handle = self._create_child("mps_thr_t *", "Arena.register_thread", lib.mps_thread_reg)
        return Thread(self, handle, threading.get_ident())

    def root_table(self, count: int, rank: Rank | RankName = Rank.EXACT) -> RootTable:
        """A table root of ``count`` references, all NULL at first."""
        return RootTable(self, count, rank)

    def attach_process_roots(self) -> ProcessRoots:
        """Make every thread of this process, and every block the allocator
        hook routed, an ambiguous root of this arena."""
        return ProcessRoots(self)

    @property
    def unstoppable_threads(self) -> int:
        """How many times a thread could not be stopped for a collection (it
        blocked the suspend signal and went unscanned)."""
        return int(lib.gcp_arena_unstoppable_threads(self._live()))

    # ---- collection control -------------------------------------------------

    def collect(self) -> None:
        """Collect everything collectable, then leave the arena parked."""
        check(lib.mps_arena_collect(self._live()), "collect")

    def start_collect(self) -> None:
        """Unclamp the arena and start a full collection that runs
        incrementally."""
        check(lib.mps_arena_start_collect(self._live()), "start_collect")

    def park(self) -> None:
        """Finish any collection in progress and hold the arena (no
        collection starts, nothing moves) until ``release``."""
        lib.mps_arena_park(self._live())
        check_misuse()

    def release(self) -> None:
        """Return the arena to the unclamped state."""
        lib.mps_arena_release(self._live())
        check_misuse()

    @contextmanager
    def parked(self) -> Iterator[Arena]:
        """``with arena.parked():`` the arena is parked inside (addresses
        stay still) and released on the way out."""
        self.park()
        try:
            yield self
        finally:
            if not self.destroyed:
                self.release()

    def clamp(self) -> None:
        """Clamp the arena: no new collection starts; one in progress may go
        on invisibly."""
        lib.mps_arena_clamp(self._live())
        check_misuse()

    def step(self, interval: float = 0.0, multiplier: float = 1.0) -> bool:
        """Give the collector ``interval`` seconds of idle time; True if
        there was work to do."""
        result = lib.mps_arena_step(self._live(), float(interval), float(multiplier))
        check_misuse()
        return bool(result)

    @property
    def collection_count(self) -> int:
        """How many collections the arena has run so far (mps_collections)."""
        return int(lib.mps_collections(self._live()))

    @property
    def busy(self) -> bool:
        """Whether some thread holds the arena's lock."""
        return bool(lib.mps_arena_busy(self._live()))

    # ---- accounting ---------------------------------------------------------

    @property
    def committed(self) -> int:
        """Bytes of memory the arena has committed (including spare)."""
        return int(lib.mps_arena_committed(self._live()))

    @property
    def reserved(self) -> int:
        """Bytes of address space the arena has reserved."""
        return int(lib.mps_arena_reserved(self._live()))

    @property
    def spare_committed(self) -> int:
        """Bytes committed but unused, kept for reuse."""
        return int(lib.mps_arena_spare_committed(self._live()))

    @property
    def commit_limit(self) -> int:
        """The most the arena may commit; settable.

        Setting it below what the arena can get down to raises FailError and
        leaves the limit unchanged.
        """
        return int(lib.mps_arena_commit_limit(self._live()))

    @commit_limit.setter
    def commit_limit(self, limit: int) -> None:
        value = size_value(limit, "commit_limit")
        res = lib.mps_arena_commit_limit_set(self._live(), value)
        check(res, "Arena.commit_limit")

    @property
    def spare(self) -> float:
        """Fraction (0..1) of committed memory that may stay spare; settable."""
        return float(lib.mps_arena_spare(self._live()))

    @spare.setter
    def spare(self, spare: float) -> None:
        lib.mps_arena_spare_set(self._live(), float(spare))
        check_misuse()

    @property
    def pause_time(self) -> float:
        """Maximum pause time in seconds; settable."""
        return float(lib.mps_arena_pause_time(self._live()))

    @pause_time.setter
    def pause_time(self, pause_time: float) -> None:
        lib.mps_arena_pause_time_set(self._live(), float(pause_time))
        check_misuse()

    @property
    def grain_size(self) -> int:
        """The arena's allocation granule in bytes."""
        return int(lib.gcp_arena_grain_size(self._live()))

    @property
    def chunk_count(self) -> int:
        """How many chunks of address space the arena holds."""
        return int(lib.gcp_arena_chunk_count(self._live()))

    @property
    def control_committed(self) -> int:
        """Bytes holding the core's own structures."""
        return int(lib.gcp_arena_control_committed(self._live()))

    @property
    def overhead_committed(self) -> int:
        """Bytes of chunk headers and page tables."""
        return int(lib.gcp_arena_overhead_committed(self._live()))

    @property
    def pools_committed(self) -> int:
        """Bytes committed to pools' segments; zero when no pool holds memory."""
        return int(lib.gcp_arena_pools_committed(self._live()))

    # ---- introspection ------------------------------------------------------

    def has_addr(self, address: int) -> bool:
        """Whether ``address`` lies in the arena's address space."""
        value = _calls.address_value(address)
        result = lib.mps_arena_has_addr(self._live(), _calls.as_ptr(value))
        check_misuse()
        return bool(result)

    def addr_pool(self, address: int) -> Pool | None:
        """The Python pool that owns ``address``, if it is one of ours."""
        value = _calls.address_value(address)
        pool_o = ffi.new("mps_pool_t *")
        found = lib.mps_addr_pool(pool_o, self._live(), _calls.as_ptr(value))
        check_misuse()
        if not found:
            return None
        return self._pools.get(_calls.as_int(pool_o[0]))

    def check(self) -> bool:
        """The core's full consistency check of the arena and its pools."""
        ok = lib.gcp_arena_consistent(self._live())
        check_misuse()
        return bool(ok)

    def stats(self) -> ArenaStats:
        """A snapshot of the arena's and its pools' accounting."""
        handle = self._live()
        return ArenaStats(
            committed=int(lib.mps_arena_committed(handle)),
            reserved=int(lib.mps_arena_reserved(handle)),
            spare_committed=int(lib.mps_arena_spare_committed(handle)),
            commit_limit=int(lib.mps_arena_commit_limit(handle)),
            spare=float(lib.mps_arena_spare(handle)),
            grain_size=int(lib.gcp_arena_grain_size(handle)),
            chunk_count=int(lib.gcp_arena_chunk_count(handle)),
            pools=tuple(pool.stats() for pool in self.pools),
        )

    # ---- tearing down -------------------------------------------------------

    def teardown(self) -> None:
        """Destroy the arena and everything in it, in the order the core
        needs: park, discard taken messages, destroy roots, deregister
        threads, destroy allocation points, caches and pools, then chains
        and formats, then the arena.  A reserved but uncommitted block is
        committed first (it must be initialised).  Raises the first
        MPSError met, after trying everything."""
        if self.destroyed:
            return
        errors: list[MPSError] = []

        def attempt(obj: _NativeObject) -> None:
            try:
                obj.destroy()
            except MPSError as e:
                errors.append(e)

        try:
            self.park()
        except MPSError as e:
            errors.append(e)
        first: tuple[type[_ArenaChild], ...] = (Message, Root, Thread)
        for kind in first:
            for child in self._owned(kind):
                attempt(child)
        for pool in self.pools:
            for sub in list(pool._children):
                handle = getattr(sub, "_handle", None)
                if isinstance(sub, AllocationPoint) and handle is not None:
                    init, alloc = _calls.as_int(handle.init), _calls.as_int(handle.alloc)
                    if init != alloc:
                        try:
                            sub.commit(init, alloc - init)
                        except MPSError as e:
                            errors.append(e)
                attempt(sub)
            attempt(pool)
        last: tuple[type[_ArenaChild], ...] = (Chain, Format)
        for kind in last:
            for child in self._owned(kind):
                attempt(child)
        attempt(self)
        if errors:
            raise errors[0]


_default_lock = threading.Lock()
_default: tuple[Arena, ProcessRoots] | None = None


def default_arena() -> Arena:
    """The plugin's arena for this process, made on first use with the
    process's roots attached (``Arena.attach_process_roots``) and kept for
    the life of the process."""
    global _default
    with _default_lock:
        if _default is None or _default[0].destroyed:
            arena = Arena()
            _default = (arena, arena.attach_process_roots())
        return _default[0]
