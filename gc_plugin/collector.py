"""The collector: formats, chains, the automatic pool classes AMC, AMCZ and
LO, roots, threads, collection control, location dependencies, walks and
teardown.

Implements the "Collector" section of docs/design/python-api.md over the
core's MPS interface (spec sections 2.3-2.4, 3.3, 3.4, 3.7, 4, 6-14).
Messages and finalization live in gc_plugin.messages, which imports this
module; it re-exports their names lazily (``__getattr__`` below).  Formats
are written in C, by extensions that reach the core through its C API
(docs/design/c-api.md) and hand them over with ``Arena.adopt_format``; the
tests' graph format is one (tests/gcp_testing).
Every object here belongs to an Arena and keeps it alive; the lifetime
protocol is _NativeObject's (_lifetime.py): ``destroy()`` is idempotent,
misuse the core detects raises MisuseError with the core's message, and
each object is a context manager.  The arena does not know about these
objects (it knows its pools only), so ``teardown(arena)`` destroys an arena
with everything in it, in the order the spec asks for.

Python holds addresses as ints, which are not references the collector can
see: only exact roots (``RootTable``), ambiguous roots (``ThreadRoot``)
and finalization keep objects alive, and an
address read from Python is only good until the next collection that may
move objects.  Park the arena (``park``) to keep addresses still, or do the
work in C on a stack that is a root (``Thread.stack_root``).

cffi releases the GIL around every call into the core, so a collection in
one thread runs while other threads execute Python; this module holds no
Python lock across a core call.
"""

from __future__ import annotations

import enum
import threading
import weakref
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gc_plugin import _calls
from gc_plugin._calls import Keywords, check, check_misuse, ffi, invalid, lib, size_value
from gc_plugin._lifetime import _NativeObject
from gc_plugin.allocation import AllocationPoint
from gc_plugin.blocks import Block
from gc_plugin.errors import MisuseError, MPSError
from gc_plugin.pools import Pool

if TYPE_CHECKING:
    from gc_plugin.arena import Arena
    from gc_plugin.messages import (
        FinalizationInfo,
        GCInfo,
        GCStartInfo,
        Message,
        MessageType,
        definalize,
        disable_messages,
        enable_messages,
        finalize,
        get_message,
        poll_messages,
        queue_type,
        take_messages,
    )

__all__ = [
    "Format",
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
]


# ---- what each arena holds besides its pools ------------------------------------

_REGISTRY_LOCK = threading.Lock()  # never held across a core call
_REGISTRY: weakref.WeakKeyDictionary[Arena, weakref.WeakSet[_ArenaChild]] = (
    weakref.WeakKeyDictionary()
)


def _children(arena: Arena) -> list[_ArenaChild]:
    """The live collector objects of ``arena`` (formats, chains, roots,
    threads, messages), oldest first is not guaranteed."""
    with _REGISTRY_LOCK:
        found = _REGISTRY.get(arena)
        items = list(found) if found is not None else []
    return [item for item in items if not item.destroyed]


class _ArenaChild(_NativeObject):
    """A core object made in an arena (not in a pool); keeps the arena alive."""

    def __init__(self, arena: Arena, handle: Any) -> None:
        self._arena = arena
        self._handle = handle
        with _REGISTRY_LOCK:
            found = _REGISTRY.get(arena)
            if found is None:
                found = weakref.WeakSet()
                _REGISTRY[arena] = found
            found.add(self)

    @property
    def arena(self) -> Arena:
        """The arena this belongs to."""
        return self._arena

    def _destroy_handle(self, handle: Any) -> None:
        # Once the arena is gone, so is everything in it (or the core kept
        # it together with the arena): never pass a dangling handle.
        if self._arena.destroyed:
            return
        self._destroy_in_core(handle)

    def _destroy_in_core(self, handle: Any) -> None:
        raise NotImplementedError


def _arena_handle(arena: Arena) -> Any:
    return arena._live()


# ---- formats ---------------------------------------------------------------------


class Format(_ArenaChild):
    """An object format (mps_fmt_t) made by C code; pools that use it keep it
    alive.  Destroying a format that a live pool uses is misuse.  Made by
    ``Arena.adopt_format`` from a format an extension created through the C
    API; ``handle`` may be the format's address as an int."""

    _kind = "format"

    def __init__(self, arena: Arena, handle: Any, header_size: int, alignment: int) -> None:
        if isinstance(handle, int):
            handle = ffi.cast("mps_fmt_t", handle)
        super().__init__(arena, handle)
        self._header_size = header_size
        self._alignment = alignment
        self._pools: weakref.WeakSet[Pool] = weakref.WeakSet()

    @property
    def header_size(self) -> int:
        """The in-band header size (MPS_KEY_FMT_HEADER_SIZE)."""
        return self._header_size

    @property
    def alignment(self) -> int:
        """The format's alignment (MPS_KEY_FMT_ALIGN)."""
        return self._alignment

    @property
    def pools(self) -> list[Pool]:
        """The live pools that use this format."""
        return [pool for pool in list(self._pools) if not pool.destroyed]

    def _destroy_in_core(self, handle: Any) -> None:
        lib.mps_fmt_destroy(handle)

    def _backs_out(self, handle: Any) -> bool:
        return bool(self.pools)

    def _walk_pool(self, pool: CollectedPool) -> list[int]:
        """The objects of ``pool`` (parked arena), by mps_pool_walk."""
        invalid(f"{type(self).__name__} has no pool walker")

    def _repr_fields(self) -> str:
        return f"header_size={self._header_size} pools={len(self.pools)}"


# ---- chains ------------------------------------------------------------------------


class Chain(_ArenaChild):
    """A generation chain: ``[(capacity_kib, mortality), ...]``, nursery first.
    Pools that use it keep it alive; destroying it while a pool uses it (or
    while a collection of it runs) is misuse."""

    _kind = "chain"

    def __init__(self, arena: Arena, generations: Iterable[tuple[int, float]]) -> None:
        gens = [tuple(g) for g in generations]
        params = ffi.new("mps_gen_param_s[]", max(len(gens), 1))
        converted: list[tuple[int, float]] = []
        for i, gen in enumerate(gens):
            if len(gen) != 2:
                invalid(f"generation {gen!r} is not (capacity_kib, mortality)")
            capacity, mortality = gen
            params[i].mps_capacity = size_value(capacity, "capacity")
            params[i].mps_mortality = float(mortality)
            converted.append((int(capacity), float(mortality)))
        handle = arena._create_child(
            "mps_chain_t *", "Chain", lib.mps_chain_create, len(gens), params
        )
        super().__init__(arena, handle)
        self._generations = tuple(converted)
        self._pools: weakref.WeakSet[CollectedPool] = weakref.WeakSet()

    @property
    def generations(self) -> tuple[tuple[int, float], ...]:
        """The (capacity in KiB, mortality) of each generation."""
        return self._generations

    @property
    def pools(self) -> list[CollectedPool]:
        """The live pools that use this chain."""
        return [pool for pool in list(self._pools) if not pool.destroyed]

    def _destroy_in_core(self, handle: Any) -> None:
        lib.mps_chain_destroy(handle)

    def _backs_out(self, handle: Any) -> bool:
        return bool(self.pools)

    def _repr_fields(self) -> str:
        return f"generations={list(self._generations)} pools={len(self.pools)}"


# ---- the automatic pool classes --------------------------------------------------------


class CollectedAllocationPoint(AllocationPoint):
    """An allocation point on an automatically managed pool.  A block must
    hold a valid formatted object before it is committed, so ``alloc(size)``
    (commit without initialising) is refused: use ``reserve``, write the
    object, ``commit`` (repeat while commit returns False), or the format's
    own allocation (the tests' ``GraphFormat.alloc``)."""

    def alloc(self, size: int) -> Block:
        invalid(
            "a block of a formatted pool must be initialised between reserve and "
            "commit: use reserve/commit or the format's alloc"
        )


class CollectedPool(Pool):
    """A garbage-collected pool (AMC, AMCZ, LO; AMS and AWL in
    gc_plugin.nonmoving): objects of its format that no root, reference or
    finalization keeps alive are reclaimed."""

    def __init__(
        self,
        arena: Arena,
        handle: Any,
        fmt: Format,
        chain: Chain | None,
        keepalive: tuple[Any, ...] = (),
    ) -> None:
        super().__init__(arena, handle, keepalive=(fmt, chain, *keepalive))
        self._format = fmt
        self._chain = chain
        fmt._pools.add(self)
        if chain is not None:
            chain._pools.add(self)

    @property
    def format(self) -> Format:
        """The pool's object format."""
        return self._format

    @property
    def chain(self) -> Chain | None:
        """The pool's chain (None: the arena's default chain)."""
        return self._chain

    def allocation_point(
        self, hash_arrays: bool | None = None, rank: Rank | str | None = None
    ) -> CollectedAllocationPoint:
        """A new allocation point (MPS_KEY_AP_HASH_ARRAYS and MPS_KEY_RANK if
        given: AMS takes ``"ambig"``, AWL ``"weak"``; the default is exact)."""
        keys = Keywords()
        flag = keys.flag(hash_arrays, lib.GCP_PY_HAVE_HASH_ARRAYS)
        rank_value = 0
        if rank is not None:
            rank_value = _rank_value(rank)
            keys.have |= lib.GCP_PY_HAVE_RANK
        handle = self._create_child(
            "mps_ap_t *",
            f"{self.class_name}.allocation_point",
            lib.gcp_py_collected_ap_create,
            flag,
            rank_value,
            keys.have,
        )
        return CollectedAllocationPoint(self, handle)

    def walk(self) -> list[int]:
        """Addresses of every object in the pool (mps_pool_walk; the arena
        must be parked), not padding."""
        self._live()
        return self._format._walk_pool(self)


class AMCPool(CollectedPool):
    """AMC: generational, mostly-copying; objects hold exact references and
    move unless an ambiguous reference pins them."""


class AMCZPool(CollectedPool):
    """AMCZ: AMC for leaf objects (no references; never scanned)."""


class LOPool(CollectedPool):
    """LO: leaf objects that never move."""


def _amc_handle(
    arena: Arena,
    zero: bool,
    fmt: Format,
    chain: Chain | None,
    interior: bool | None,
    extend_by: int | None,
    large_size: int | None,
) -> Any:
    keys = Keywords()
    if chain is not None:
        keys.have |= lib.GCP_PY_HAVE_CHAIN
    return arena._create_child(
        "mps_pool_t *",
        "amcz_pool" if zero else "amc_pool",
        lib.gcp_py_amc_create,
        int(zero),
        fmt._live(),
        chain._live() if chain is not None else ffi.NULL,
        keys.flag(interior, lib.GCP_PY_HAVE_INTERIOR),
        keys.size(extend_by, "extend_by", lib.GCP_PY_HAVE_EXTEND_BY),
        keys.size(large_size, "large_size", lib.GCP_PY_HAVE_LARGE_SIZE),
        keys.have,
    )


def amc_pool(
    arena: Arena,
    format: Format,
    chain: Chain | None = None,
    interior: bool | None = None,
    extend_by: int | None = None,
    large_size: int | None = None,
) -> AMCPool:
    """An AMC pool of ``format`` objects (None: the core's default)."""
    handle = _amc_handle(arena, False, format, chain, interior, extend_by, large_size)
    return AMCPool(arena, handle, format, chain)


def amcz_pool(
    arena: Arena,
    format: Format,
    chain: Chain | None = None,
    interior: bool | None = None,
    extend_by: int | None = None,
    large_size: int | None = None,
) -> AMCZPool:
    """An AMCZ pool of leaf ``format`` objects."""
    handle = _amc_handle(arena, True, format, chain, interior, extend_by, large_size)
    return AMCZPool(arena, handle, format, chain)


def lo_pool(
    arena: Arena, format: Format, chain: Chain | None = None, gen: int | None = None
) -> LOPool:
    """An LO pool of leaf ``format`` objects (``gen``: MPS_KEY_GEN)."""
    keys = Keywords()
    if chain is not None:
        keys.have |= lib.GCP_PY_HAVE_CHAIN
    handle = arena._create_child(
        "mps_pool_t *",
        "lo_pool",
        lib.gcp_py_lo_create,
        format._live(),
        chain._live() if chain is not None else ffi.NULL,
        keys.size(gen, "gen", lib.GCP_PY_HAVE_GEN),
        keys.have,
    )
    return LOPool(arena, handle, format, chain)


# ---- threads and roots ----------------------------------------------------------------


class Rank(enum.Enum):
    """Reference ranks (spec §1.3)."""

    AMBIG = "ambig"
    EXACT = "exact"
    WEAK = "weak"


def _rank_value(rank: Rank | str) -> int:
    r = Rank(rank)
    if r is Rank.AMBIG:
        return int(lib.mps_rank_ambig())
    if r is Rank.EXACT:
        return int(lib.mps_rank_exact())
    return int(lib.mps_rank_weak())


class Thread(_ArenaChild):
    """A thread registered with an arena (mps_thread_reg).  Register each
    thread that touches automatically managed memory, from the thread
    itself; deregister it (``deregister``/``destroy``) before it ends,
    after destroying its roots."""

    _kind = "thread registration"

    def __init__(self, arena: Arena, handle: Any, ident: int) -> None:
        super().__init__(arena, handle)
        self._ident = ident
        self._roots: weakref.WeakSet[ThreadRoot] = weakref.WeakSet()

    @classmethod
    def register(cls, arena: Arena) -> Thread:
        """Register the calling thread with ``arena``."""
        handle = arena._create_child("mps_thr_t *", "Thread.register", lib.mps_thread_reg)
        return cls(arena, handle, threading.get_ident())

    @property
    def ident(self) -> int:
        """threading.get_ident() of the registered thread."""
        return self._ident

    @property
    def is_current(self) -> bool:
        """Whether the calling thread is the registered one."""
        return threading.get_ident() == self._ident

    def _check_current(self, what: str) -> None:
        if not self.is_current:
            invalid(f"{what} must be called from the registered thread")

    def _destroy_in_core(self, handle: Any) -> None:
        lib.mps_thread_dereg(handle)

    def _backs_out(self, handle: Any) -> bool:
        # The core refuses while a root of the thread remains.
        return any(not root.destroyed for root in list(self._roots))

    def deregister(self) -> None:
        """Deregister the thread (destroy its roots first).  Idempotent."""
        self.destroy()

    def stack_root(self, cold: int | None = None) -> ThreadRoot:
        """An ambiguous root over this thread's registers and stack up to
        ``cold`` (an address; None: the top of the calling thread's whole
        stack, so every C frame it will have is covered, which must then be
        the registered thread)."""
        if cold is None:
            self._check_current("stack_root() without a cold end")
            end = lib.gcp_py_stack_cold_end()
            if end == ffi.NULL:
                raise MisuseError("the calling thread's stack could not be found")
            cold_value = _calls.as_int(end)
        else:
            cold_value = _calls.address_value(cold, "cold")
        handle = self._arena._create_child(
            "mps_root_t *",
            "Thread.stack_root",
            lib.mps_root_create_thread,
            self._live(),
            _calls.as_ptr(cold_value),
        )
        root = ThreadRoot(self._arena, handle, self, cold_value)
        self._roots.add(root)
        return root

    def _repr_fields(self) -> str:
        return f"ident={self._ident}"


class Root(_ArenaChild):
    """A root: references the collector starts from."""

    _kind = "root"

    def __init__(self, arena: Arena, handle: Any, rank: Rank) -> None:
        super().__init__(arena, handle)
        self._rank = rank

    @property
    def rank(self) -> Rank:
        """The rank of every reference in the root."""
        return self._rank

    def _destroy_in_core(self, handle: Any) -> None:
        lib.mps_root_destroy(handle)


class ThreadRoot(Root):
    """The registers and stack of a registered thread, scanned ambiguously."""

    def __init__(self, arena: Arena, handle: Any, thread: Thread, cold: int) -> None:
        super().__init__(arena, handle, Rank.AMBIG)
        self._thread = thread
        self._cold = cold

    @property
    def thread(self) -> Thread:
        return self._thread

    @property
    def cold(self) -> int:
        """The cold end of the scanned stack."""
        return self._cold


class RootTable(Root):
    """A table root (mps_root_create_table) over a C array of ``count``
    references that this object owns, all NULL at first.  Slots read and
    written as ints (0 is NULL); an exact table's slots are updated by the
    collector when their objects move."""

    def __init__(self, arena: Arena, count: int, rank: Rank | str = Rank.EXACT) -> None:
        n = size_value(count, "count")
        r = Rank(rank)
        array = ffi.new("mps_addr_t[]", max(n, 1))  # zeroed: NULL before registering
        handle = arena._create_child(
            "mps_root_t *",
            "RootTable",
            lib.mps_root_create_table,
            _rank_value(r),
            0,
            array,
            n,
        )
        super().__init__(arena, handle, r)
        self._array = array
        self._count = n

    def __len__(self) -> int:
        return self._count

    def _index(self, index: int) -> int:
        if isinstance(index, bool) or not isinstance(index, int):
            raise TypeError(f"index must be an int, not {type(index).__name__}")
        i = index + self._count if index < 0 else index
        if not 0 <= i < self._count:
            raise IndexError(f"index {index} out of range for a table of {self._count}")
        return i

    def __getitem__(self, index: int) -> int:
        self._live()
        return _calls.as_int(self._array[self._index(index)])

    def __setitem__(self, index: int, address: int | None) -> None:
        self._live()
        i = self._index(index)
        self._array[i] = _calls.as_ptr(_calls.address_value(address or 0, "reference"))

    def clear(self) -> None:
        """Set every slot to NULL."""
        self._live()
        for i in range(self._count):
            self._array[i] = ffi.NULL

    def values(self) -> list[int]:
        """Every slot (0 for NULL)."""
        self._live()
        return [_calls.as_int(self._array[i]) for i in range(self._count)]

    def _array_live(self) -> Any:
        self._live()
        return self._array

    @property
    def address(self) -> int:
        """The address of the C array (for C code that works on the table)."""
        return _calls.as_int(ffi.cast("void *", self._array))


# ---- collection control -----------------------------------------------------------------


def collect(arena: Arena) -> None:
    """Collect everything collectable, then leave the arena parked."""
    res = lib.mps_arena_collect(_arena_handle(arena))
    check(res, "collect")


def start_collect(arena: Arena) -> None:
    """Unclamp the arena and start a full collection that runs incrementally."""
    res = lib.mps_arena_start_collect(_arena_handle(arena))
    check(res, "start_collect")


def park(arena: Arena) -> None:
    """Finish any collection in progress and hold the arena (no collection
    starts, nothing moves) until ``release``."""
    lib.mps_arena_park(_arena_handle(arena))
    check_misuse()


def release(arena: Arena) -> None:
    """Return the arena to the unclamped state."""
    lib.mps_arena_release(_arena_handle(arena))
    check_misuse()


def clamp(arena: Arena) -> None:
    """Clamp the arena: no new collection starts; one in progress may go on
    invisibly."""
    lib.mps_arena_clamp(_arena_handle(arena))
    check_misuse()


def step(arena: Arena, interval: float = 0.0, multiplier: float = 1.0) -> bool:
    """Give the collector ``interval`` seconds of idle time; True if there
    was work to do."""
    result = lib.mps_arena_step(_arena_handle(arena), float(interval), float(multiplier))
    check_misuse()
    return bool(result)


def collections(arena: Arena) -> int:
    """How many collections the arena has run so far (mps_collections)."""
    return int(lib.mps_collections(_arena_handle(arena)))


def busy(arena: Arena) -> bool:
    """Whether some thread holds the arena's lock."""
    return bool(lib.mps_arena_busy(_arena_handle(arena)))


# ---- location dependency ------------------------------------------------------------------


class LocationDependency:
    """A location dependency (mps_ld_s): tells whether objects whose
    addresses were added may have moved since the last reset.  Reset on
    creation.  Keeps its arena alive; no core object to destroy."""

    def __init__(self, arena: Arena) -> None:
        self._arena = arena
        self._ld = ffi.new("mps_ld_s *")
        self.reset()

    @property
    def arena(self) -> Arena:
        return self._arena

    def reset(self) -> None:
        """Empty the dependency and take the current epoch."""
        lib.mps_ld_reset(self._ld, _arena_handle(self._arena))
        check_misuse()

    def add(self, address: int) -> None:
        """Depend on the location of ``address`` (before using it)."""
        addr = _calls.address_value(address)
        lib.mps_ld_add(self._ld, _arena_handle(self._arena), _calls.as_ptr(addr))
        check_misuse()

    def merge(self, other: LocationDependency) -> None:
        """Add everything ``other`` depends on."""
        if other._arena is not self._arena:
            invalid("location dependencies of different arenas cannot be merged")
        lib.mps_ld_merge(self._ld, _arena_handle(self._arena), other._ld)
        check_misuse()

    def is_stale(self, address: int) -> bool:
        """True if something added may have moved (false positives allowed)."""
        addr = _calls.address_value(address)
        result = lib.mps_ld_isstale(self._ld, _arena_handle(self._arena), _calls.as_ptr(addr))
        check_misuse()
        return bool(result)

    def is_stale_any(self) -> bool:
        """``is_stale`` without an address."""
        result = lib.mps_ld_isstale_any(self._ld, _arena_handle(self._arena))
        check_misuse()
        return bool(result)

    @property
    def epoch(self) -> int:
        """The movement epoch of the last reset (mps_ld_s._epoch)."""
        return int(self._ld._epoch)


# ---- introspection and walks ----------------------------------------------------------------


def addr_format(arena: Arena, address: int) -> Format | None:
    """The format of the pool that holds ``address``, if it has one."""
    addr = _calls.address_value(address)
    fmt_o = ffi.new("mps_fmt_t *")
    found = lib.mps_addr_fmt(fmt_o, _arena_handle(arena), _calls.as_ptr(addr))
    check_misuse()
    if not found:
        return None
    for child in _children(arena):
        if isinstance(child, Format) and child._handle == fmt_o[0]:
            return child
    return None


def addr_object(arena: Arena, address: int) -> int:
    """The base of the object containing ``address`` (mps_addr_object):
    FailError if there is none, UnimplementedError if its pool cannot tell."""
    addr = _calls.address_value(address)
    p_o = ffi.new("mps_addr_t *")
    res = lib.mps_addr_object(p_o, _arena_handle(arena), _calls.as_ptr(addr))
    check(res, f"addr_object({addr:#x})")
    return _calls.as_int(p_o[0])


@dataclass(frozen=True)
class FormattedObject:
    """One object met by ``formatted_objects``."""

    address: int
    format: Format | None
    pool: Pool | None


def _visit_object(addr: Any, fmt: Any, pool: Any, closure: Any, size: int) -> None:
    """The formatted-objects stepper: record (address, format, pool) handles.
    Runs with the arena lock held: must not call into the core."""
    found: list[tuple[int, int, int]] = ffi.from_handle(closure)
    found.append((_calls.as_int(addr), _calls.as_int(fmt), _calls.as_int(pool)))


_VISIT_OBJECT = ffi.callback("mps_formatted_objects_stepper_t", _visit_object)


def formatted_objects(arena: Arena) -> list[FormattedObject]:
    """Every formatted object of every pool (padding at the pools'
    discretion), by mps_arena_formatted_objects_walk; call it parked."""
    handle = _arena_handle(arena)
    raw: list[tuple[int, int, int]] = []
    closure = ffi.new_handle(raw)
    lib.mps_arena_formatted_objects_walk(handle, _VISIT_OBJECT, closure, 0)
    check_misuse()
    formats = {_calls.as_int(c._handle): c for c in _children(arena) if isinstance(c, Format)}
    pools = {_calls.as_int(p._handle): p for p in arena.pools}
    return [FormattedObject(a, formats.get(f), pools.get(p)) for a, f, p in raw]


def _visit_root_ref(ref: Any, root: Any, closure: Any, size: int) -> None:
    """The roots stepper: record (reference, root handle)."""
    found: list[tuple[int, int]] = ffi.from_handle(closure)
    found.append((_calls.as_int(ref[0]), _calls.as_int(root)))


_VISIT_ROOT_REF = ffi.callback("mps_roots_stepper_t", _visit_root_ref)


def root_references(arena: Arena) -> list[tuple[int, Root | None]]:
    """(reference, root) for every reference in a root that points into an
    automatically managed pool (mps_arena_roots_walk; call it parked)."""
    handle = _arena_handle(arena)
    raw: list[tuple[int, int]] = []
    closure = ffi.new_handle(raw)
    lib.mps_arena_roots_walk(handle, _VISIT_ROOT_REF, closure, 0)
    check_misuse()
    roots = {_calls.as_int(c._handle): c for c in _children(arena) if isinstance(c, Root)}
    return [(ref, roots.get(root)) for ref, root in raw]


# ---- tearing an arena down -------------------------------------------------------------------


def teardown(arena: Arena) -> None:
    """Destroy ``arena`` and everything in it, in the spec's order: park,
    discard taken messages, destroy roots, deregister threads, destroy
    allocation points, caches and pools, then chains and formats, then the
    arena.  A reserved but uncommitted block is committed first (it must be
    initialised).  Raises the first MPSError met, after trying everything."""
    if arena.destroyed:
        return
    errors: list[MPSError] = []

    def attempt(obj: _NativeObject) -> None:
        try:
            obj.destroy()
        except MPSError as e:
            errors.append(e)

    try:
        park(arena)
    except MPSError as e:
        errors.append(e)
    children = _children(arena)
    from gc_plugin.messages import Message  # imported late: it imports this module

    order: list[type[_ArenaChild]] = [Message, Root, Thread]
    for kind in order:
        for child in children:
            if isinstance(child, kind):
                attempt(child)
    for pool in arena.pools:
        for sub in list(pool._children):
            handle = getattr(sub, "_handle", None)
            if isinstance(sub, AllocationPoint) and handle is not None:
                init, alloc = _calls.as_int(handle.init), _calls.as_int(handle.alloc)
                if init != alloc:
                    try:
                        sub.commit(init, alloc - init)
                    except MPSError as e:
                        errors.append(e)
            attempt(sub)
        attempt(pool)
    for kind in (Chain, Format):
        for child in children:
            if isinstance(child, kind):
                attempt(child)
    attempt(arena)
    if errors:
        raise errors[0]


# ---- names that live in gc_plugin.messages ------------------------------------------------

# That module imports this one, so their names are re-exported on first use
# (PEP 562) rather than imported here, which would be an import cycle.
_MOVED = {
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
}

if not TYPE_CHECKING:  # mypy sees the imports above, so no name is unknown to it

    def __getattr__(name: str) -> object:
        module = _MOVED.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        import importlib

        value = getattr(importlib.import_module(module), name)
        globals()[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*globals(), *_MOVED})
