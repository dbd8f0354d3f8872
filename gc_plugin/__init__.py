"""gc_plugin: the Memory Pool System's model of memory management for CPython.

The package's public face: every public name of the typed wrappers over the
compiled core ``gc_plugin._native``, the allocator hook and the heap walks.
Names are loaded on first use (PEP 562), so that importing the package, as
the start-up hook does when GC_PLUGIN_MANAGE is set, loads only what is used.
Implements docs/design/python-api.md (and DESIGN §5, the Python layer).
"""

from __future__ import annotations

__version__ = "0.1.0"

# public name -> the module that defines it
_EXPORTS = {
    "variety": "gc_plugin._calls",
    "Arena": "gc_plugin.arena",
    "ArenaStats": "gc_plugin.arena",
    "Pool": "gc_plugin.pools",
    "PoolStats": "gc_plugin.pools",
    "ManualPool": "gc_plugin.pools",
    "MFSPool": "gc_plugin.pools",
    "MVFFPool": "gc_plugin.pools",
    "MVFFDebugPool": "gc_plugin.pools",
    "MVTPool": "gc_plugin.pools",
    "SegfitPool": "gc_plugin.pools",
    "Block": "gc_plugin.blocks",
    "AllocationPoint": "gc_plugin.allocation",
    "AllocationCache": "gc_plugin.allocation",
    "MPSError": "gc_plugin.errors",
    "FailError": "gc_plugin.errors",
    "ResourceError": "gc_plugin.errors",
    "MemoryLimitError": "gc_plugin.errors",
    "LimitError": "gc_plugin.errors",
    "UnimplementedError": "gc_plugin.errors",
    "MPSIOError": "gc_plugin.errors",
    "CommitLimitError": "gc_plugin.errors",
    "ParamError": "gc_plugin.errors",
    "MisuseError": "gc_plugin.errors",
    "InvalidArgumentError": "gc_plugin.errors",
    "activate": "gc_plugin.hook",
    "deactivate": "gc_plugin.hook",
    "is_active": "gc_plugin.hook",
    "status": "gc_plugin.hook",
    "HookStatus": "gc_plugin.hook",
    "AttributionWarning": "gc_plugin.hook",
    "walk": "gc_plugin.heap",
    "summary": "gc_plugin.heap",
    "HeapBlock": "gc_plugin.heap",
    "HeapSummary": "gc_plugin.heap",
    "ModuleUsage": "gc_plugin.heap",
    "TypeUsage": "gc_plugin.heap",
}

__all__ = [
    "variety",
    "Arena",
    "ArenaStats",
    "Pool",
    "PoolStats",
    "ManualPool",
    "MFSPool",
    "MVFFPool",
    "MVFFDebugPool",
    "MVTPool",
    "SegfitPool",
    "Block",
    "AllocationPoint",
    "AllocationCache",
    "MPSError",
    "FailError",
    "ResourceError",
    "MemoryLimitError",
    "LimitError",
    "UnimplementedError",
    "MPSIOError",
    "CommitLimitError",
    "ParamError",
    "MisuseError",
    "InvalidArgumentError",
    "activate",
    "deactivate",
    "is_active",
    "status",
    "HookStatus",
    "AttributionWarning",
    "walk",
    "summary",
    "HeapBlock",
    "HeapSummary",
    "ModuleUsage",
    "TypeUsage",
    "Cache",
    "__version__",
]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from gc_plugin._calls import variety
    from gc_plugin.allocation import AllocationCache, AllocationPoint
    from gc_plugin.arena import Arena, ArenaStats
    from gc_plugin.blocks import Block
    from gc_plugin.errors import (
        CommitLimitError,
        FailError,
        InvalidArgumentError,
        LimitError,
        MemoryLimitError,
        MisuseError,
        MPSError,
        MPSIOError,
        ParamError,
        ResourceError,
        UnimplementedError,
    )
    from gc_plugin.heap import HeapBlock, HeapSummary, ModuleUsage, TypeUsage, summary, walk
    from gc_plugin.hook import (
        AttributionWarning,
        HookStatus,
        activate,
        deactivate,
        is_active,
        status,
    )
    from gc_plugin.pools import (
        ManualPool,
        MFSPool,
        MVFFDebugPool,
        MVFFPool,
        MVTPool,
        Pool,
        PoolStats,
        SegfitPool,
    )

    #: Alias: a segregated allocation cache.
    Cache = AllocationCache


def __getattr__(name: str) -> object:
    if name == "Cache":
        name = "AllocationCache"
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'gc_plugin' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
