"""gc_plugin: the Memory Pool System's model of memory management for CPython.

The package's public face: re-exports every public name of the typed
wrappers over the compiled core ``gc_plugin._native``.  Implements
docs/design/python-api.md (and DESIGN §5, the Python layer).
"""

from __future__ import annotations

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
from gc_plugin.hook import AttributionWarning, HookStatus, activate, deactivate, is_active, status
from gc_plugin.pools import (
    ManualPool,
    MFSPool,
    MVFFDebugPool,
    MVFFPool,
    MVTPool,
    Pool,
    PoolStats,
)

#: Alias: a segregated allocation cache.
Cache = AllocationCache

__version__ = "0.1.0"

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
    "Block",
    "AllocationPoint",
    "AllocationCache",
    "Cache",
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
    "__version__",
]
