"""The test clients' cffi module and the crossing between it and gc_plugin's.

gcp_testing._clients and gc_plugin._native are two cffi modules, each with
its own types: a handle (arena, pool, allocation point, thread, table
array) made by one is passed to the other as an integer address and cast
there.  Design: docs/design/c-api.md (the test package).
"""

from __future__ import annotations

from typing import Any

from gc_plugin import _calls
from gcp_testing._build import load

ffi, lib = load()


def handle(ctype: str, cdata: Any) -> Any:
    """gc_plugin's ``cdata`` (or an int address) as ``ctype`` of this module."""
    address = cdata if isinstance(cdata, int) else _calls.as_int(cdata)
    return ffi.cast(ctype, address)


def as_int(pointer: Any) -> int:
    """A pointer of this module as an integer address."""
    return int(ffi.cast("uintptr_t", pointer))


def as_ptr(address: int) -> Any:
    """An integer address as this module's ``mps_addr_t``."""
    return ffi.cast("mps_addr_t", address)
