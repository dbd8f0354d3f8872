"""Pools: the manual pool classes MFS, MVFF, MVFF debug, MVT and SEGFIT.

Implements the "Pools" section of docs/design/python-api.md.  Pools are made
by the Arena's factory methods (arena.mfs, arena.mvff, arena.mvff_debug,
arena.mvt, arena.segfit), which call the create_* functions here.  A pool keeps its arena
alive; allocation points and caches (allocation.py) keep their pool alive.
The lifetime protocol is _NativeObject's (_lifetime.py).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gc_plugin import _calls
from gc_plugin._calls import Keywords, check, check_misuse, ffi, invalid, lib, size_value
from gc_plugin._lifetime import _NativeObject
from gc_plugin.allocation import AllocationCache, AllocationPoint
from gc_plugin.blocks import Block

if TYPE_CHECKING:
    from gc_plugin.arena import Arena

__all__ = [
    "Pool",
    "PoolStats",
    "ManualPool",
    "MFSPool",
    "MVFFPool",
    "MVFFDebugPool",
    "DebugPool",
    "MVTPool",
    "SegfitPool",
    "create_mfs",
    "create_mvff",
    "create_mvff_debug",
    "create_mvt",
    "create_segfit",
]


@dataclass(frozen=True)
class PoolStats:
    """A snapshot of one pool's accounting."""

    class_name: str
    total_size: int
    free_size: int
    alignment: int


class Pool(_NativeObject):
    """A pool of one of the manual classes.  Made by an Arena, not directly.

    Usable as a context manager: the pool is destroyed on exit.
    """

    _kind = "pool"

    def __init__(self, arena: Arena, handle: Any, keepalive: Sequence[Any] = ()) -> None:
        self._arena: Arena = arena
        self._handle = handle
        self._keepalive = tuple(keepalive)  # C data the core points at
        # This pool's allocation points and caches (they keep the pool alive).
        self._children: weakref.WeakSet[_NativeObject] = weakref.WeakSet()
        name = lib.gcp_pool_class_name(handle)
        check_misuse()
        raw: bytes = ffi.string(name) if name != ffi.NULL else b"?"
        self._class_name = raw.decode("ascii", "replace")
        self._kind = f"{self._class_name} pool"
        self._alignment = int(lib.gcp_pool_alignment(handle))
        check_misuse()
        arena._register(self)

    # ---- lifetime -----------------------------------------------------------

    @property
    def arena(self) -> Arena:
        """The arena this pool belongs to."""
        return self._arena

    def _destroy_handle(self, handle: Any) -> None:
        lib.mps_pool_destroy(handle)

    def _forget(self, handle: Any) -> None:
        self._arena._unregister(handle)

    def destroy(self) -> None:
        """Destroy the pool and free all its memory.  Idempotent.

        MisuseError if allocation points or caches of the pool remain (the
        pool is then left as it was), or if the core reports damage found
        while destroying it (the pool is gone all the same).
        """
        super().destroy()

    def _repr_fields(self) -> str:
        return f"total_size={self.total_size} free_size={self.free_size}"

    # ---- properties ---------------------------------------------------------

    @property
    def class_name(self) -> str:
        """The pool class: "MFS", "MVFF", "MVFF debug", "MVT" or "SEGFIT"."""
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
    """A pool that supports ``alloc`` (MFS, MVFF, MVFF debug, SEGFIT)."""

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
    handle = pool._create_child(
        "mps_sac_t *", f"{pool.class_name}.cache", lib.mps_sac_create, len(items), array
    )
    return AllocationCache(pool, handle, sizes)


def _make_ap(pool: Pool) -> AllocationPoint:
    handle = pool._create_child(
        "mps_ap_t *", f"{pool.class_name}.allocation_point", lib.gcp_py_ap_create
    )
    return AllocationPoint(pool, handle)


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


class DebugPool(Pool):
    """What the debug classes (MVFF debug, AMS debug) add: checks of
    fenceposts and of free-space splatting."""

    def check_fenceposts(self) -> None:
        """Check every allocated block's fenceposts; MisuseError names damage."""
        lib.mps_pool_check_fenceposts(self._live())
        check_misuse()

    def check_free_space(self) -> None:
        """Check the splat pattern of free space; MisuseError names damage."""
        lib.mps_pool_check_free_space(self._live())
        check_misuse()


class MVFFDebugPool(MVFFPool, DebugPool):
    """MVFF debug: MVFF with fenceposts and free-space splatting."""


class MVTPool(Pool):
    """MVT: temporal fit; allocates only through allocation points."""

    def allocation_point(self) -> AllocationPoint:
        """A new allocation point on this pool."""
        return _make_ap(self)


_TAG_MAX = (1 << (8 * ffi.sizeof("unsigned"))) - 1


def _visit_block(block: Any, size: int, tag: int, closure: Any) -> None:
    """gcp_segfit_walk's visitor: append (address, size, tag) to the list
    that ``closure`` is a handle of.  Runs with the arena lock held, so it
    must not call into the core."""
    found: list[tuple[int, int, int]] = ffi.from_handle(closure)
    found.append((_calls.as_int(block), int(size), int(tag)))


# One C function for every walk (cffi callbacks are costly to make).
_VISIT_BLOCK = ffi.callback("gcp_segfit_visit_t", _visit_block)


class SegfitPool(ManualPool):
    """SEGFIT: segregated fit for many small blocks shared by many threads.

    Blocks up to SMALL_MAX bytes come from size classes (``usable_size``),
    larger ones get pages of their own; every block is 16-byte aligned and
    carries its requested size and a 16-bit tag.  Any thread may free any
    block, with its size (``free``) or without (``free_block``).
    """

    #: The largest block served from size classes; larger blocks get pages.
    SMALL_MAX: int = int(lib.GCP_SEGFIT_SMALL_MAX)

    def alloc_tagged(self, size: int, tag: int) -> Block:
        """Allocate ``size`` bytes (zero is allowed and gives a distinct
        block) carrying ``tag``; a tag wider than 16 bits is misuse."""
        nbytes = size_value(size, "size")
        if isinstance(tag, bool) or not isinstance(tag, int):
            raise TypeError(f"tag must be an int, not {type(tag).__name__}")
        if tag < 0 or tag > _TAG_MAX:
            invalid(f"tag {tag} is not a valid tag (0 to 65535)")
        p = ffi.new("mps_addr_t *")
        res = lib.gcp_segfit_alloc(p, self._live(), nbytes, tag)
        check(res, f"SEGFIT.alloc_tagged({nbytes}, {tag})")
        return Block(_calls.as_int(p[0]), nbytes)

    def free_block(self, block: Block | int) -> None:
        """Free a block (or the block at an address) without its size, from
        any thread.  Misuse (foreign or interior pointer, double free)
        raises MisuseError; address 0 is ignored, like free(NULL)."""
        address = block.address if isinstance(block, Block) else block
        addr = _calls.address_value(address)
        lib.gcp_segfit_free(self._live(), _calls.as_ptr(addr))
        check_misuse()

    def block_info(self, address: int) -> tuple[int, int] | None:
        """(requested size, tag) of the live block starting at ``address``,
        or None if no live block of this pool starts there."""
        addr = _calls.address_value(address)
        size_o = ffi.new("size_t *")
        tag_o = ffi.new("unsigned *")
        found = lib.gcp_segfit_block(self._live(), _calls.as_ptr(addr), size_o, tag_o)
        check_misuse()
        if not found:
            return None
        return int(size_o[0]), int(tag_o[0])

    def walk(self) -> list[tuple[int, int, int]]:
        """Every live block as (address, requested size, tag), in the
        pool's order (not sorted)."""
        found: list[tuple[int, int, int]] = []
        closure = ffi.new_handle(found)
        lib.gcp_segfit_walk(self._live(), _VISIT_BLOCK, closure)
        check_misuse()
        return found

    def live(self) -> tuple[int, int]:
        """(live blocks, the sum of their requested sizes)."""
        blocks = ffi.new("size_t *")
        nbytes = ffi.new("size_t *")
        lib.gcp_segfit_live(self._live(), blocks, nbytes)
        check_misuse()
        return int(blocks[0]), int(nbytes[0])

    @staticmethod
    def usable_size(size: int) -> int:
        """The usable size of a block of ``size`` requested bytes: its class
        size, or ``size`` itself above SMALL_MAX."""
        return int(lib.gcp_segfit_usable_size(size_value(size, "size")))


# ---- creation (called by Arena) ---------------------------------------------
#
# A create call's keywords are converted (Keywords) as its arguments are
# evaluated, left to right, so ``keys.have`` comes last; the arena's handle
# is taken after them (_create_child), so a bad keyword is reported first.


def create_mfs(arena: Arena, unit_size: int, extend_by: int | None) -> MFSPool:
    keys = Keywords()
    unit = size_value(unit_size, "unit_size")
    handle = arena._create_child(
        "mps_pool_t *",
        "Arena.mfs",
        lib.gcp_py_mfs_create,
        unit,
        keys.size(extend_by, "extend_by", lib.GCP_PY_HAVE_EXTEND_BY),
        keys.have,
    )
    return MFSPool(arena, handle, unit)


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
    """An MVFF pool in the core; a debug one when ``options`` is not None."""
    debug = options is not None
    keys = Keywords()
    if debug:
        keys.have |= lib.GCP_PY_HAVE_DEBUG_OPTIONS
    return arena._create_child(
        "mps_pool_t *",
        "Arena.mvff_debug" if debug else "Arena.mvff",
        lib.gcp_py_mvff_create,
        int(debug),
        options if debug else ffi.NULL,
        keys.size(extend_by, "extend_by", lib.GCP_PY_HAVE_EXTEND_BY),
        keys.size(mean_size, "mean_size", lib.GCP_PY_HAVE_MEAN_SIZE),
        keys.size(align, "align", lib.GCP_PY_HAVE_ALIGN),
        keys.fraction(spare, lib.GCP_PY_HAVE_SPARE),
        keys.flag(arena_high, lib.GCP_PY_HAVE_ARENA_HIGH),
        keys.flag(slot_high, lib.GCP_PY_HAVE_SLOT_HIGH),
        keys.flag(first_fit, lib.GCP_PY_HAVE_FIRST_FIT),
        keys.have,
    )


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
    keys = Keywords()
    handle = arena._create_child(
        "mps_pool_t *",
        "Arena.mvt",
        lib.gcp_py_mvt_create,
        keys.size(align, "align", lib.GCP_PY_HAVE_ALIGN),
        keys.size(min_size, "min_size", lib.GCP_PY_HAVE_MIN_SIZE),
        keys.size(mean_size, "mean_size", lib.GCP_PY_HAVE_MEAN_SIZE),
        keys.size(max_size, "max_size", lib.GCP_PY_HAVE_MAX_SIZE),
        keys.size(reserve_depth, "reserve_depth", lib.GCP_PY_HAVE_RESERVE_DEPTH),
        keys.fraction(frag_limit, lib.GCP_PY_HAVE_FRAG_LIMIT),
        keys.have,
    )
    return MVTPool(arena, handle)


def create_segfit(arena: Arena) -> SegfitPool:
    handle = arena._create_child("mps_pool_t *", "Arena.segfit", lib.gcp_py_segfit_create)
    return SegfitPool(arena, handle)
