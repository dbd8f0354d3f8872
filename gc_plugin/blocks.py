"""Blocks: an allocated run of memory, seen from Python.

Implements the "Blocks" section of docs/design/python-api.md.  A Block is
only an (address, size) pair: it does not keep its pool alive and is
invalid after it is freed.
"""

from __future__ import annotations

from dataclasses import dataclass

from gc_plugin._calls import ffi, invalid

__all__ = ["Block"]


@dataclass(frozen=True)
class Block:
    """``size`` bytes of managed memory starting at ``address``."""

    address: int
    size: int

    def view(self) -> memoryview:
        """A read/write view of exactly ``size`` bytes, format ``"B"``."""
        return memoryview(ffi.buffer(ffi.cast("char *", self.address), self.size))

    def read(self) -> bytes:
        """A copy of the block's contents."""
        data: bytes = ffi.buffer(ffi.cast("char *", self.address), self.size)[:]
        return data

    def write(self, data: bytes | bytearray | memoryview, offset: int = 0) -> None:
        """Copy ``data`` into the block at ``offset``; it must fit."""
        raw = bytes(data)
        if offset < 0 or offset + len(raw) > self.size:
            invalid(
                f"write of {len(raw)} bytes at offset {offset} does not fit "
                f"in a block of {self.size} bytes"
            )
        if raw:
            ffi.memmove(ffi.cast("char *", self.address + offset), raw, len(raw))

    def __repr__(self) -> str:
        return f"Block(address={self.address:#x}, size={self.size})"
