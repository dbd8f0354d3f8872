"""Helpers for the child processes of tests/integration (copied next to the
built test extensions, which are on the child's sys.path).

The tests' child scripts assert inside the child; a failed assertion ends
the child with a traceback on stderr, which the parent shows."""

from __future__ import annotations

import ctypes
import json
import sys

import gc_plugin

_DOMAINS = {"raw": 0, "mem": 1, "obj": 2}


def pool() -> dict[int, gc_plugin.HeapBlock]:
    """The live routed blocks by address."""
    return {b.address: b for b in gc_plugin.walk()}


def module_usage(module: str) -> tuple[int, int]:
    """(blocks, bytes) that summary() gives module (0, 0 if absent)."""
    for m in gc_plugin.summary().by_module:
        if m.module == module:
            return m.blocks, m.bytes
    return 0, 0


def type_usage(summary: gc_plugin.HeapSummary, type_name: str) -> tuple[int, int]:
    for t in summary.by_type:
        if t.type == type_name:
            return t.blocks, t.bytes
    return 0, 0


class _Allocator(ctypes.Structure):
    _fields_ = [
        ("ctx", ctypes.c_void_p),
        ("malloc", ctypes.c_void_p),
        ("calloc", ctypes.c_void_p),
        ("realloc", ctypes.c_void_p),
        ("free", ctypes.c_void_p),
    ]


def allocators() -> dict[str, tuple[int | None, ...]]:
    """The installed allocator of each domain (PyMem_GetAllocator)."""
    get = ctypes.pythonapi.PyMem_GetAllocator
    get.argtypes = [ctypes.c_int, ctypes.POINTER(_Allocator)]
    get.restype = None
    out: dict[str, tuple[int | None, ...]] = {}
    for name, domain in _DOMAINS.items():
        a = _Allocator()
        get(domain, ctypes.byref(a))
        out[name] = (a.ctx, a.malloc, a.calloc, a.realloc, a.free)
    return out


def emit(obj: object) -> None:
    """One JSON line on stdout for the parent (prefixed so it can be found)."""
    sys.stdout.write("RESULT " + json.dumps(obj) + "\n")
    sys.stdout.flush()
