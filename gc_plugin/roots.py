"""Roots and threads: reference ranks, thread registrations, the roots
an arena's collections start from (a thread's stack and registers, a table
of references, the whole process's threads and routed blocks).

Implements the roots and threads of the "Collector" section of
docs/design/python-api.md.  Every object here is made by an Arena
(``arena.register_thread()``, ``arena.root_table(n)``,
``arena.attach_process_roots()``), belongs to it and keeps it alive.
"""

from __future__ import annotations

import enum
import threading
import weakref
from typing import TYPE_CHECKING, Any, Literal

from gc_plugin import _calls
from gc_plugin._calls import check, ffi, invalid, lib, size_value
from gc_plugin._lifetime import _ArenaChild
from gc_plugin.errors import MisuseError

if TYPE_CHECKING:
    from gc_plugin.arena import Arena

__all__ = ["Rank", "RankName", "Thread", "Root", "ThreadRoot", "RootTable", "ProcessRoots"]

#: A rank by name, as keyword arguments take it.
RankName = Literal["ambig", "exact", "weak"]


class Rank(enum.Enum):
    """Reference ranks (docs/design/interface.md §Ranks)."""

    AMBIG = "ambig"
    EXACT = "exact"
    WEAK = "weak"


def rank_value(rank: Rank | RankName) -> int:
    """The core's number for ``rank`` (ValueError for an unknown name)."""
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

    def __init__(self, arena: Arena, count: int, rank: Rank | RankName = Rank.EXACT) -> None:
        n = size_value(count, "count")
        r = Rank(rank)
        array = ffi.new("mps_addr_t[]", max(n, 1))  # zeroed: NULL before registering
        handle = arena._create_child(
            "mps_root_t *",
            "Arena.root_table",
            lib.mps_root_create_table,
            rank_value(r),
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


class ProcessRoots(Root):
    """The process's threads and the allocator hook's live blocks, as
    ambiguous roots of one arena (``arena.attach_process_roots()``): every
    thread of the process counts as registered (it is stopped at each
    collection and its C stack and registers are scanned), and the blocks
    the hook routed are scanned.  Destroying it makes the arena count only
    explicitly registered threads again.  Design: docs/design/trace.md
    ("CPython roots"), docs/design/threads.md."""

    _kind = "process roots"

    def __init__(self, arena: Arena) -> None:
        out = ffi.new("mps_root_t *")
        check(lib.gcp_python_arena_attach(arena._live(), out), "Arena.attach_process_roots")
        super().__init__(arena, out[0], Rank.AMBIG)

    def _destroy_in_core(self, handle: Any) -> None:
        lib.mps_root_destroy(handle)
        lib.gcp_arena_all_threads(self.arena._live(), 0)
