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
    # the collector (gc_plugin.collector, gc_plugin.graph, gc_plugin.messages)
    "Format": "gc_plugin.collector",
    "GraphFormat": "gc_plugin.graph",
    "CorruptObjectError": "gc_plugin.graph",
    "Chain": "gc_plugin.collector",
    "CollectedPool": "gc_plugin.collector",
    "AMCPool": "gc_plugin.collector",
    "AMCZPool": "gc_plugin.collector",
    "LOPool": "gc_plugin.collector",
    "CollectedAllocationPoint": "gc_plugin.collector",
    "amc_pool": "gc_plugin.collector",
    "amcz_pool": "gc_plugin.collector",
    "lo_pool": "gc_plugin.collector",
    "Rank": "gc_plugin.collector",
    "Root": "gc_plugin.collector",
    "RootTable": "gc_plugin.collector",
    "ThreadRoot": "gc_plugin.collector",
    "Thread": "gc_plugin.collector",
    "collect": "gc_plugin.collector",
    "start_collect": "gc_plugin.collector",
    "park": "gc_plugin.collector",
    "release": "gc_plugin.collector",
    "clamp": "gc_plugin.collector",
    "step": "gc_plugin.collector",
    "collections": "gc_plugin.collector",
    "busy": "gc_plugin.collector",
    "MessageType": "gc_plugin.messages",
    "Message": "gc_plugin.messages",
    "FinalizationInfo": "gc_plugin.messages",
    "GCInfo": "gc_plugin.messages",
    "GCStartInfo": "gc_plugin.messages",
    "enable_messages": "gc_plugin.messages",
    "disable_messages": "gc_plugin.messages",
    "poll_messages": "gc_plugin.messages",
    "queue_type": "gc_plugin.messages",
    "get_message": "gc_plugin.messages",
    "take_messages": "gc_plugin.messages",
    "finalize": "gc_plugin.messages",
    "definalize": "gc_plugin.messages",
    "LocationDependency": "gc_plugin.collector",
    "addr_format": "gc_plugin.collector",
    "addr_object": "gc_plugin.collector",
    "FormattedObject": "gc_plugin.collector",
    "formatted_objects": "gc_plugin.collector",
    "root_references": "gc_plugin.collector",
    "teardown": "gc_plugin.collector",
    "ProcessRoots": "gc_plugin.process_roots",
    "attach_process_roots": "gc_plugin.process_roots",
    "default_arena": "gc_plugin.process_roots",
    "unstoppable_threads": "gc_plugin.process_roots",
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
    "Format",
    "GraphFormat",
    "CorruptObjectError",
    "Chain",
    "CollectedPool",
    "AMCPool",
    "AMCZPool",
    "LOPool",
    "CollectedAllocationPoint",
    "amc_pool",
    "amcz_pool",
    "lo_pool",
    "Rank",
    "Root",
    "RootTable",
    "ThreadRoot",
    "Thread",
    "collect",
    "start_collect",
    "park",
    "release",
    "clamp",
    "step",
    "collections",
    "busy",
    "MessageType",
    "Message",
    "FinalizationInfo",
    "GCInfo",
    "GCStartInfo",
    "enable_messages",
    "disable_messages",
    "poll_messages",
    "queue_type",
    "get_message",
    "take_messages",
    "finalize",
    "definalize",
    "LocationDependency",
    "addr_format",
    "addr_object",
    "FormattedObject",
    "formatted_objects",
    "root_references",
    "teardown",
    "ProcessRoots",
    "attach_process_roots",
    "default_arena",
    "unstoppable_threads",
    "__version__",
]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from gc_plugin._calls import variety
    from gc_plugin.allocation import AllocationCache, AllocationPoint
    from gc_plugin.arena import Arena, ArenaStats
    from gc_plugin.blocks import Block
    from gc_plugin.collector import (
        addr_format,
        addr_object,
        amc_pool,
        AMCPool,
        amcz_pool,
        AMCZPool,
        busy,
        Chain,
        clamp,
        collect,
        CollectedAllocationPoint,
        CollectedPool,
        collections,
        Format,
        formatted_objects,
        FormattedObject,
        lo_pool,
        LocationDependency,
        LOPool,
        park,
        Rank,
        release,
        Root,
        root_references,
        RootTable,
        start_collect,
        step,
        teardown,
        Thread,
        ThreadRoot,
    )
    from gc_plugin.graph import CorruptObjectError, GraphFormat
    from gc_plugin.messages import (
        definalize,
        disable_messages,
        enable_messages,
        FinalizationInfo,
        finalize,
        GCInfo,
        GCStartInfo,
        get_message,
        Message,
        MessageType,
        poll_messages,
        queue_type,
        take_messages,
    )
    from gc_plugin.process_roots import (
        attach_process_roots,
        default_arena,
        ProcessRoots,
        unstoppable_threads,
    )
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
