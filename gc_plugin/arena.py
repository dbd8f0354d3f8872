"""Arenas: the VM arena that owns address space, and its statistics.

Implements the "Arena" section of docs/design/python-api.md.  An Arena
creates the pools (see pools.py); each pool keeps its arena alive, and the
arena finds the Python pool for a core pool handle through a weak map.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from gc_plugin import _calls
from gc_plugin._calls import check, check_misuse, ffi, invalid, lib, size_value
from gc_plugin.errors import MisuseError
from gc_plugin.pools import (
    MFSPool,
    MVFFDebugPool,
    MVFFPool,
    MVTPool,
    Pool,
    PoolStats,
    create_mfs,
    create_mvff,
    create_mvff_debug,
    create_mvt,
)

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


class Arena:
    """A virtual-memory arena.  ``None`` for a keyword means the core's default.

    Usable as a context manager: the arena is destroyed on exit.
    """

    def __init__(
        self,
        size: int | None = None,
        grain_size: int | None = None,
        commit_limit: int | None = None,
        spare: float | None = None,
        pause_time: float | None = None,
    ) -> None:
        self._handle: Any = None
        self._pools: weakref.WeakValueDictionary[int, Pool] = weakref.WeakValueDictionary()
        have = 0
        c_size = c_grain = c_limit = 0
        c_spare = c_pause = 0.0
        if size is not None:
            c_size = size_value(size, "size")
            have |= lib.GCP_PY_HAVE_SIZE
        if grain_size is not None:
            c_grain = size_value(grain_size, "grain_size")
            have |= lib.GCP_PY_HAVE_GRAIN
        if commit_limit is not None:
            c_limit = size_value(commit_limit, "commit_limit")
            have |= lib.GCP_PY_HAVE_COMMIT_LIMIT
        if spare is not None:
            c_spare = float(spare)
            have |= lib.GCP_PY_HAVE_SPARE
        if pause_time is not None:
            c_pause = float(pause_time)
            have |= lib.GCP_PY_HAVE_PAUSE
        arena_o = ffi.new("mps_arena_t *")
        res = lib.gcp_py_arena_create(arena_o, c_size, c_grain, c_limit, c_spare, c_pause, have)
        check(res, "Arena")
        self._handle = arena_o[0]

    # ---- lifetime -----------------------------------------------------------

    @property
    def destroyed(self) -> bool:
        """True once destroy() has succeeded."""
        return self._handle is None

    def _live(self) -> Any:
        handle = self._handle
        if handle is None:
            invalid("the arena has been destroyed")
        return handle

    def _destroy(self) -> str | None:
        """Destroy in the core; returns the misuse message, if any.  The
        core backs out only while pools remain; after any other report the
        arena is gone and the handle is dropped."""
        handle = self._handle
        if handle is None:
            return None
        refused = any(not pool.destroyed for pool in list(self._pools.values()))
        lib.mps_arena_destroy(handle)
        message = _calls.take_misuse()
        if message is None or not refused:
            self._handle = None
        return message

    def destroy(self) -> None:
        """Destroy the arena.  Idempotent; MisuseError if pools remain."""
        message = self._destroy()
        if message is not None:
            raise MisuseError(message)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.destroy()
        else:
            # Do not hide the exception in flight behind a second one.
            try:
                self.destroy()
            except MisuseError:
                pass

    def __del__(self) -> None:
        try:
            self._destroy()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass

    def __repr__(self) -> str:
        if self._handle is None:
            return "<gc_plugin.Arena (destroyed)>"
        return (
            f"<gc_plugin.Arena committed={self.committed} reserved={self.reserved} "
            f"pools={len(self._pools)}>"
        )

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
            self,
            extend_by=extend_by,
            mean_size=mean_size,
            align=align,
            spare=spare,
            arena_high=arena_high,
            slot_high=slot_high,
            first_fit=first_fit,
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
            extend_by=extend_by,
            mean_size=mean_size,
            align=align,
            spare=spare,
            arena_high=arena_high,
            slot_high=slot_high,
            first_fit=first_fit,
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
        return create_mvt(
            self,
            align=align,
            min_size=min_size,
            mean_size=mean_size,
            max_size=max_size,
            reserve_depth=reserve_depth,
            frag_limit=frag_limit,
        )

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
