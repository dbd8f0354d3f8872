"""Arenas: the VM arena that owns address space, and its statistics.

Implements the "Arena" section of docs/design/python-api.md.  An Arena
creates the pools (see pools.py); each pool keeps its arena alive, and the
arena finds the Python pool for a core pool handle through a weak map.
The lifetime protocol is _NativeObject's (_lifetime.py).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gc_plugin import _calls
from gc_plugin._calls import Keywords, check, check_misuse, ffi, lib, size_value
from gc_plugin._lifetime import _NativeObject
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

if TYPE_CHECKING:
    from gc_plugin.collector import Format

__all__ = ["Arena", "ArenaStats"]


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


class Arena(_NativeObject):
    """A virtual-memory arena.  ``None`` for a keyword means the core's default.

    Usable as a context manager: the arena is destroyed on exit.
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

    def _backs_out(self, handle: Any) -> bool:
        # The core refuses while pools, or formats, chains, roots or
        # registered threads (gc_plugin.collector) remain.
        if any(not pool.destroyed for pool in list(self._pools.values())):
            return True
        from gc_plugin import collector  # imported late: it imports this module

        blocking = (collector.Format, collector.Chain, collector.Thread, collector.Root)
        return any(isinstance(child, blocking) for child in collector._children(self))

    def destroy(self) -> None:
        """Destroy the arena.  Idempotent; MisuseError if pools, formats,
        chains, roots or registered threads remain."""
        super().destroy()

    def _repr_fields(self) -> str:
        return f"committed={self.committed} reserved={self.reserved} pools={len(self._pools)}"

    # ---- formats made in C ----------------------------------------------------

    def adopt_format(self, address: int, *, header_size: int = 0) -> Format:
        """Wrap the format (mps_fmt_t) at ``address``, which an extension made
        in this arena through the C API (docs/design/c-api.md), so that pools
        can use it; from now on it is the Format's to destroy (``destroy()``,
        or the arena's teardown).  ``header_size`` must be the format's
        in-band header size (MPS_KEY_FMT_HEADER_SIZE)."""
        from gc_plugin.collector import Format, _children  # late: they import this module

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
        if any(isinstance(c, Format) and _calls.as_int(c._handle) == addr for c in _children(self)):
            _calls.invalid(f"the format at {addr:#x} is already adopted")
        return Format(self, addr, h, int(align_o[0]))

    # ---- pools --------------------------------------------------------------

    def _register(self, pool: Pool) -> None:
        self._pools[_calls.as_int(pool._handle)] = pool

    def _unregister(self, handle: Any) -> None:
        self._pools.pop(_calls.as_int(handle), None)

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

    @property
    def pools(self) -> list[Pool]:
        """The live pools of this arena, oldest first."""
        return [pool for pool in list(self._pools.values()) if not pool.destroyed]

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
