"""Allocation points and segregated allocation caches.

Implements the "Allocation points" and "Segregated allocation caches"
sections of docs/design/python-api.md.  Both are made by their pool
(pool.allocation_point(), pool.cache(...)) and keep that pool alive; their
lifetime protocol is _NativeObject's (_lifetime.py).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from gc_plugin import _calls
from gc_plugin._calls import check, check_misuse, ffi, invalid, lib, size_value
from gc_plugin._lifetime import _NativeObject
from gc_plugin.blocks import Block
from gc_plugin.errors import MisuseError

if TYPE_CHECKING:
    from gc_plugin.pools import Pool

__all__ = ["AllocationPoint", "AllocationCache"]


class _PoolChild(_NativeObject):
    """A core object owned by a pool, which it keeps alive."""

    def __init__(self, pool: Pool, handle: Any) -> None:
        self._pool = pool
        self._handle = handle
        pool._children.add(self)

    @property
    def pool(self) -> Pool:
        """The pool this belongs to."""
        return self._pool

    def __repr__(self) -> str:
        state = " (destroyed)" if self._handle is None else ""
        return f"<gc_plugin.{type(self).__name__} on {self._pool.class_name}{state}>"


class AllocationPoint(_PoolChild):
    """An allocation point: bump allocation with the reserve/commit protocol."""

    _kind = "allocation point"

    def _destroy_handle(self, handle: Any) -> None:
        lib.mps_ap_destroy(handle)

    def _check_size(self, size: int) -> int:
        nbytes = size_value(size, "size")
        align = self._pool.alignment
        if nbytes == 0 or nbytes % align != 0:
            invalid(f"size {nbytes} is not a positive multiple of the pool alignment {align}")
        return nbytes

    def alloc(self, size: int) -> Block:
        """Reserve and commit ``size`` bytes (a positive multiple of the
        pool's alignment), retrying until the commit succeeds."""
        nbytes = self._check_size(size)
        p = ffi.new("mps_addr_t *")
        res = lib.gcp_py_ap_alloc(p, self._live(), nbytes)
        check(res, f"AllocationPoint.alloc({nbytes})")
        return Block(_calls.as_int(p[0]), nbytes)

    def reserve(self, size: int) -> int:
        """Reserve ``size`` bytes; returns the address.  Commit it next."""
        nbytes = self._check_size(size)
        p = ffi.new("mps_addr_t *")
        res = lib.mps_reserve(p, self._live(), nbytes)
        check(res, f"AllocationPoint.reserve({nbytes})")
        return _calls.as_int(p[0])

    def commit(self, address: int, size: int) -> bool:
        """Commit the block just reserved; False means reserve it again."""
        addr = _calls.address_value(address)
        nbytes = size_value(size, "size")
        ok = lib.mps_commit(self._live(), _calls.as_ptr(addr), nbytes)
        check_misuse()
        return bool(ok)

    def frame_push(self) -> int:
        """Push an allocation frame; returns its handle."""
        frame_o = ffi.new("mps_frame_t *")
        res = lib.mps_ap_frame_push(frame_o, self._live())
        check(res, "AllocationPoint.frame_push")
        return _calls.as_int(frame_o[0])

    def frame_pop(self, frame: int) -> None:
        """Pop the allocation frame ``frame`` (from frame_push)."""
        value = _calls.address_value(frame, "frame")
        res = lib.mps_ap_frame_pop(self._live(), ffi.cast("mps_frame_t", value))
        check(res, "AllocationPoint.frame_pop")


class AllocationCache(_PoolChild):
    """A segregated allocation cache over a manual pool."""

    _kind = "allocation cache"

    def __init__(self, pool: Pool, handle: Any, class_sizes: Sequence[int]) -> None:
        super().__init__(pool, handle)
        self._class_sizes = sorted(class_sizes)

    def _destroy_handle(self, handle: Any) -> None:
        lib.mps_sac_destroy(handle)

    @property
    def class_sizes(self) -> list[int]:
        """The block sizes of the cache's size classes, ascending."""
        return list(self._class_sizes)

    def _class_size(self, size: int) -> int:
        i = bisect_left(self._class_sizes, size)
        return self._class_sizes[i] if i < len(self._class_sizes) else size

    def alloc(self, size: int) -> Block:
        """Allocate ``size`` bytes; the Block's size is that of the class
        it came from (or ``size`` itself above the largest class)."""
        nbytes = size_value(size, "size")
        p = ffi.new("mps_addr_t *")
        res = lib.mps_sac_alloc(p, self._live(), nbytes, 0)
        check(res, f"AllocationCache.alloc({nbytes})")
        return Block(_calls.as_int(p[0]), self._class_size(nbytes) if nbytes else nbytes)

    def free(self, block: Block) -> None:
        """Give a block back to the cache."""
        self.free_address(block.address, block.size)

    def free_address(self, address: int, size: int) -> None:
        """Give ``size`` bytes at ``address`` back to the cache.  The address
        must belong to the cache's pool (MisuseError otherwise): the core's
        fast path does not look."""
        addr = _calls.address_value(address)
        nbytes = size_value(size, "size")
        handle = self._live()
        pool_handle = self._pool._live()
        arena_handle = self._pool.arena._live()
        if addr != 0 and nbytes != 0:
            pool_o = ffi.new("mps_pool_t *")
            last = addr + nbytes - 1
            for probe in (addr, last):
                found = lib.mps_addr_pool(pool_o, arena_handle, _calls.as_ptr(probe))
                check_misuse()
                if not found or pool_o[0] != pool_handle:
                    raise MisuseError(
                        f"AllocationCache.free: block {addr:#x} of {nbytes} bytes does not "
                        f"belong to this cache's {self._pool.class_name} pool (foreign pointer)"
                    )
        lib.mps_sac_free(handle, _calls.as_ptr(addr), nbytes)
        check_misuse()

    def flush(self) -> None:
        """Return every cached block to the pool."""
        lib.mps_sac_flush(self._live())
        check_misuse()

    @property
    def cached_size(self) -> int:
        """Bytes held in the cache's free lists."""
        size = lib.gcp_sac_cached_size(self._live())
        check_misuse()
        return int(size)
