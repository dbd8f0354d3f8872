"""Pools: the manual pool classes MFS, MVFF, MVFF debug and MVT.

Implements the "Pools" section of docs/design/python-api.md.  Pools are made
by the Arena's factory methods (arena.mfs, arena.mvff, arena.mvff_debug,
arena.mvt), which call the create_* functions here.  A pool keeps its arena
alive; allocation points and caches (allocation.py) keep their pool alive.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
import weakref
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from gc_plugin import _calls
from gc_plugin._calls import check, check_misuse, ffi, invalid, lib, size_value
from gc_plugin.allocation import AllocationCache, AllocationPoint, _Handle
from gc_plugin.blocks import Block
from gc_plugin.errors import MisuseError

if TYPE_CHECKING:
    from gc_plugin.arena import Arena

__all__ = [
    "Pool",
    "PoolStats",
    "ManualPool",
    "MFSPool",
    "MVFFPool",
    "MVFFDebugPool",
    "MVTPool",
    "create_mfs",
    "create_mvff",
    "create_mvff_debug",
    "create_mvt",
]


@dataclass(frozen=True)
class PoolStats:
    """A snapshot of one pool's accounting."""

    class_name: str
    total_size: int
    free_size: int
    alignment: int


class Pool:
    """A pool of one of the manual classes.  Made by an Arena, not directly.

    Usable as a context manager: the pool is destroyed on exit.
    """

    def __init__(self, arena: Arena, handle: Any, keepalive: Sequence[Any] = ()) -> None:
        self._arena: Arena = arena
        self._handle: Any = handle
        self._keepalive = tuple(keepalive)  # C data the core points at
        # This pool's allocation points and caches (they keep the pool alive).
        self._children: weakref.WeakSet[_Handle] = weakref.WeakSet()
        name = lib.gcp_pool_class_name(handle)
        check_misuse()
        raw: bytes = ffi.string(name) if name != ffi.NULL else b"?"
        self._class_name = raw.decode("ascii", "replace")
        self._alignment = int(lib.gcp_pool_alignment(handle))
        check_misuse()
        arena._register(self)

    # ---- lifetime -----------------------------------------------------------

    @property
    def arena(self) -> Arena:
        """The arena this pool belongs to."""
        return self._arena

    @property
    def destroyed(self) -> bool:
        """True once destroy() has succeeded."""
        return self._handle is None

    def _live(self) -> Any:
        handle = self._handle
        if handle is None:
            invalid(f"the {self._class_name} pool has been destroyed")
        return handle

    def _destroy(self) -> str | None:
        """Destroy in the core; returns the misuse message, if any.

        The core backs out only while allocation points or caches of the
        pool remain; any other report (damage found while finishing, say)
        comes after the pool is gone, so the handle is dropped then.
        """
        handle = self._handle
        if handle is None:
            return None
        refused = any(not child.destroyed for child in list(self._children))
        lib.mps_pool_destroy(handle)
        message = _calls.take_misuse()
        if message is None or not refused:
            self._handle = None
            self._arena._unregister(handle)
        return message

    def destroy(self) -> None:
        """Destroy the pool and free all its memory.  Idempotent.

        MisuseError if allocation points or caches of the pool remain (the
        pool is then left as it was), or if the core reports damage found
        while destroying it (the pool is gone all the same).
        """
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
            return f"<gc_plugin.{type(self).__name__} (destroyed)>"
        return (
            f"<gc_plugin.{type(self).__name__} total_size={self.total_size} "
            f"free_size={self.free_size}>"
        )

    # ---- properties ---------------------------------------------------------

    @property
    def class_name(self) -> str:
        """The pool class: "MFS", "MVFF", "MVFF debug" or "MVT"."""
        return self._class_name

    @property
    def alignment(self) -> int:
        """Alignment in bytes of every block the pool hands out."""
        return self._alignment

    @property
    def total_size(self) -> int:
        """Bytes of arena memory the pool holds."""
        size = lib.mps_pool_total_size(self._live())
        check_misuse()
        return int(size)

    @property
    def free_size(self) -> int:
        """Bytes of the pool's memory that are not allocated."""
        size = lib.mps_pool_free_size(self._live())
        check_misuse()
        return int(size)

    def check(self) -> bool:
        """The core's full consistency check of this pool."""
        ok = lib.gcp_pool_consistent(self._live())
        check_misuse()
        return bool(ok)

    def stats(self) -> PoolStats:
        """A snapshot of the pool's accounting."""
        return PoolStats(
            class_name=self._class_name,
            total_size=self.total_size,
            free_size=self.free_size,
            alignment=self._alignment,
        )

    # ---- freeing (every manual class) ---------------------------------------

    def free(self, block: Block) -> None:
        """Free a block this pool handed out."""
        self.free_address(block.address, block.size)

    def free_address(self, address: int, size: int) -> None:
        """Free ``size`` bytes at ``address``; misuse raises MisuseError."""
        addr = _calls.address_value(address)
        nbytes = size_value(size, "size")
        lib.mps_free(self._live(), _calls.as_ptr(addr), nbytes)
        check_misuse()


class ManualPool(Pool):
    """A pool that supports ``alloc`` (MFS, MVFF, MVFF debug)."""

    def alloc(self, size: int) -> Block:
        """Allocate ``size`` bytes."""
        nbytes = size_value(size, "size")
        p = ffi.new("mps_addr_t *")
        res = lib.mps_alloc(p, self._live(), nbytes)
        check(res, f"{self._class_name}.alloc({nbytes})")
        return Block(_calls.as_int(p[0]), nbytes)


def _make_cache(pool: Pool, classes: Iterable[tuple[int, int, int]]) -> AllocationCache:
    items = [tuple(c) for c in classes]
    if not items:
        invalid("a cache needs at least one size class")
    array = ffi.new("mps_sac_class_s[]", len(items))
    sizes: list[int] = []
    for i, item in enumerate(items):
        if len(item) != 3:
            invalid(f"size class {item!r} is not (block_size, cached_count, frequency)")
        block_size, cached_count, frequency = item
        array[i].mps_block_size = size_value(block_size, "block_size")
        array[i].mps_cached_count = size_value(cached_count, "cached_count")
        freq = size_value(frequency, "frequency")
        if freq > 0xFFFFFFFF:
            invalid(f"frequency {freq} is too large")
        array[i].mps_frequency = freq
        sizes.append(int(block_size))
    sac_o = ffi.new("mps_sac_t *")
    res = lib.mps_sac_create(sac_o, pool._live(), len(items), array)
    check(res, f"{pool.class_name}.cache")
    return AllocationCache(pool, sac_o[0], sizes)


def _make_ap(pool: Pool) -> AllocationPoint:
    ap_o = ffi.new("mps_ap_t *")
    res = lib.gcp_py_ap_create(ap_o, pool._live())
    check(res, f"{pool.class_name}.allocation_point")
    return AllocationPoint(pool, ap_o[0])


class MFSPool(ManualPool):
    """MFS: units of one fixed size."""

    def __init__(self, arena: Arena, handle: Any, unit_size: int) -> None:
        super().__init__(arena, handle)
        self._unit_size = unit_size

    @property
    def unit_size(self) -> int:
        """The unit size the pool was created with."""
        return self._unit_size

    def cache(self, classes: Iterable[tuple[int, int, int]]) -> AllocationCache:
        """A segregated allocation cache: ``[(block_size, cached_count, frequency), ...]``."""
        return _make_cache(self, classes)


class MVFFPool(ManualPool):
    """MVFF: first-fit variable-size blocks."""

    def allocation_point(self) -> AllocationPoint:
        """A new allocation point on this pool."""
        return _make_ap(self)

    def cache(self, classes: Iterable[tuple[int, int, int]]) -> AllocationCache:
        """A segregated allocation cache: ``[(block_size, cached_count, frequency), ...]``."""
        return _make_cache(self, classes)


class MVFFDebugPool(MVFFPool):
    """MVFF debug: MVFF with fenceposts and free-space splatting."""

    def check_fenceposts(self) -> None:
        """Check every allocated block's fenceposts; MisuseError names damage."""
        lib.mps_pool_check_fenceposts(self._live())
        check_misuse()

    def check_free_space(self) -> None:
        """Check the splat pattern of free space; MisuseError names damage."""
        lib.mps_pool_check_free_space(self._live())
        check_misuse()


class MVTPool(Pool):
    """MVT: temporal fit; allocates only through allocation points."""

    def allocation_point(self) -> AllocationPoint:
        """A new allocation point on this pool."""
        return _make_ap(self)


# ---- creation (called by Arena) ---------------------------------------------


def create_mfs(arena: Arena, unit_size: int, extend_by: int | None) -> MFSPool:
    have = 0
    unit = size_value(unit_size, "unit_size")
    extend = 0
    if extend_by is not None:
        extend = size_value(extend_by, "extend_by")
        have |= lib.GCP_PY_HAVE_EXTEND_BY
    pool_o = ffi.new("mps_pool_t *")
    res = lib.gcp_py_mfs_create(pool_o, arena._live(), unit, extend, have)
    check(res, "Arena.mfs")
    return MFSPool(arena, pool_o[0], unit)


def _mvff_handle(
    arena: Arena,
    options: Any,
    extend_by: int | None,
    mean_size: int | None,
    align: int | None,
    spare: float | None,
    arena_high: bool | None,
    slot_high: bool | None,
    first_fit: bool | None,
) -> Any:
    have = 0
    c_extend = c_mean = c_align = 0
    c_spare = 0.0
    c_arena_high = c_slot_high = c_first_fit = 0
    if extend_by is not None:
        c_extend = size_value(extend_by, "extend_by")
        have |= lib.GCP_PY_HAVE_EXTEND_BY
    if mean_size is not None:
        c_mean = size_value(mean_size, "mean_size")
        have |= lib.GCP_PY_HAVE_MEAN_SIZE
    if align is not None:
        c_align = size_value(align, "align")
        have |= lib.GCP_PY_HAVE_ALIGN
    if spare is not None:
        c_spare = float(spare)
        have |= lib.GCP_PY_HAVE_SPARE
    if arena_high is not None:
        c_arena_high = int(bool(arena_high))
        have |= lib.GCP_PY_HAVE_ARENA_HIGH
    if slot_high is not None:
        c_slot_high = int(bool(slot_high))
        have |= lib.GCP_PY_HAVE_SLOT_HIGH
    if first_fit is not None:
        c_first_fit = int(bool(first_fit))
        have |= lib.GCP_PY_HAVE_FIRST_FIT
    debug = 0
    if options is not None:
        debug = 1
        have |= lib.GCP_PY_HAVE_DEBUG_OPTIONS
    pool_o = ffi.new("mps_pool_t *")
    res = lib.gcp_py_mvff_create(
        pool_o,
        arena._live(),
        debug,
        options if options is not None else ffi.NULL,
        c_extend,
        c_mean,
        c_align,
        c_spare,
        c_arena_high,
        c_slot_high,
        c_first_fit,
        have,
    )
    check(res, "Arena.mvff_debug" if debug else "Arena.mvff")
    return pool_o[0]


def create_mvff(
    arena: Arena,
    extend_by: int | None = None,
    mean_size: int | None = None,
    align: int | None = None,
    spare: float | None = None,
    arena_high: bool | None = None,
    slot_high: bool | None = None,
    first_fit: bool | None = None,
) -> MVFFPool:
    handle = _mvff_handle(
        arena, None, extend_by, mean_size, align, spare, arena_high, slot_high, first_fit
    )
    return MVFFPool(arena, handle)


def create_mvff_debug(
    arena: Arena,
    fence_template: bytes,
    free_template: bytes,
    extend_by: int | None = None,
    mean_size: int | None = None,
    align: int | None = None,
    spare: float | None = None,
    arena_high: bool | None = None,
    slot_high: bool | None = None,
    first_fit: bool | None = None,
) -> MVFFDebugPool:
    fence = bytes(fence_template)
    free = bytes(free_template)
    # The core may keep pointers to the templates: they live as long as the pool.
    fence_c = ffi.new("char[]", fence) if fence else ffi.NULL
    free_c = ffi.new("char[]", free) if free else ffi.NULL
    options = ffi.new("mps_pool_debug_option_s *")
    options.fence_template = fence_c
    options.fence_size = len(fence)
    options.free_template = free_c
    options.free_size = len(free)
    handle = _mvff_handle(
        arena, options, extend_by, mean_size, align, spare, arena_high, slot_high, first_fit
    )
    return MVFFDebugPool(arena, handle, keepalive=(options, fence_c, free_c))


def create_mvt(
    arena: Arena,
    align: int | None = None,
    min_size: int | None = None,
    mean_size: int | None = None,
    max_size: int | None = None,
    reserve_depth: int | None = None,
    frag_limit: float | None = None,
) -> MVTPool:
    have = 0
    c_align = c_min = c_mean = c_max = c_depth = 0
    c_frag = 0.0
    if align is not None:
        c_align = size_value(align, "align")
        have |= lib.GCP_PY_HAVE_ALIGN
    if min_size is not None:
        c_min = size_value(min_size, "min_size")
        have |= lib.GCP_PY_HAVE_MIN_SIZE
    if mean_size is not None:
        c_mean = size_value(mean_size, "mean_size")
        have |= lib.GCP_PY_HAVE_MEAN_SIZE
    if max_size is not None:
        c_max = size_value(max_size, "max_size")
        have |= lib.GCP_PY_HAVE_MAX_SIZE
    if reserve_depth is not None:
        c_depth = size_value(reserve_depth, "reserve_depth")
        have |= lib.GCP_PY_HAVE_RESERVE_DEPTH
    if frag_limit is not None:
        c_frag = float(frag_limit)
        have |= lib.GCP_PY_HAVE_FRAG_LIMIT
    pool_o = ffi.new("mps_pool_t *")
    res = lib.gcp_py_mvt_create(
        pool_o, arena._live(), c_align, c_min, c_mean, c_max, c_depth, c_frag, have
    )
    check(res, "Arena.mvt")
    return MVTPool(arena, pool_o[0])
