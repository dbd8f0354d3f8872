# The public names of gc_plugin, listed once: mypy reads them here, and
# gc_plugin/__init__.py loads each from its module on first use (it reads
# this file), so importing the package loads only what is used.
# ("X as X" marks a re-export for mypy --strict.)

from ._calls import (
    variety as variety,
)
from .allocation import (
    AllocationCache as AllocationCache,
    AllocationPoint as AllocationPoint,
)
from .arena import (
    Arena as Arena,
    ArenaStats as ArenaStats,
    default_arena as default_arena,
)
from .blocks import (
    Block as Block,
)
from .capi import (
    get_include as get_include,
)
from .collected import (
    AMCPool as AMCPool,
    AMCZPool as AMCZPool,
    Chain as Chain,
    CollectedAllocationPoint as CollectedAllocationPoint,
    CollectedPool as CollectedPool,
    Format as Format,
    LOPool as LOPool,
)
from .errors import (
    CommitLimitError as CommitLimitError,
    FailError as FailError,
    InvalidArgumentError as InvalidArgumentError,
    LimitError as LimitError,
    MemoryLimitError as MemoryLimitError,
    MisuseError as MisuseError,
    MPSError as MPSError,
    MPSIOError as MPSIOError,
    ParamError as ParamError,
    ResourceError as ResourceError,
    UnimplementedError as UnimplementedError,
)
from .heap import (
    HeapBlock as HeapBlock,
    HeapSummary as HeapSummary,
    ModuleTypeUsage as ModuleTypeUsage,
    ModuleUsage as ModuleUsage,
    TypeUsage as TypeUsage,
    summary as summary,
    walk as walk,
)
from .hook import (
    AttributionWarning as AttributionWarning,
    HookStatus as HookStatus,
    activate as activate,
    activated as activated,
    deactivate as deactivate,
    is_active as is_active,
    status as status,
)
from .introspection import (
    FormattedObject as FormattedObject,
    LocationDependency as LocationDependency,
)
from .leak_finder import (
    LeakKind as LeakKind,
    LeakReport as LeakReport,
    LeakSite as LeakSite,
    LeakTotal as LeakTotal,
    Snapshot as Snapshot,
    SnapshotDiff as SnapshotDiff,
    leaks as leaks,
    snapshot as snapshot,
)
from .messages import (
    FinalizationInfo as FinalizationInfo,
    GCInfo as GCInfo,
    GCStartInfo as GCStartInfo,
    Message as Message,
    MessageType as MessageType,
)
from .nonmoving import (
    AMSDebugPool as AMSDebugPool,
    AMSPool as AMSPool,
    AWLPool as AWLPool,
    Frame as Frame,
    SNCAllocationPoint as SNCAllocationPoint,
    SNCPool as SNCPool,
)
from .pools import (
    ManualPool as ManualPool,
    MFSPool as MFSPool,
    MVFFDebugPool as MVFFDebugPool,
    MVFFPool as MVFFPool,
    MVTPool as MVTPool,
    Pool as Pool,
    PoolStats as PoolStats,
    SegfitPool as SegfitPool,
)
from .roots import (
    ProcessRoots as ProcessRoots,
    Rank as Rank,
    RankName as RankName,
    Root as Root,
    RootTable as RootTable,
    Thread as Thread,
    ThreadRoot as ThreadRoot,
)

__version__: str
__all__: list[str]
