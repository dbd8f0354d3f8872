"""The roots of a Python process for a collected arena.

In a Python process no thread calls ``mps_thread_reg``, and objects the
allocator hook routed into its pool (Python objects, buffers) may hold the
only reference to a collected object.  :func:`attach_process_roots` makes
an arena see both, as ambiguous roots: every thread of the process counts
as registered (it is stopped at each collection and its C stack and
registers are scanned), and the hook's live blocks are scanned.
:func:`default_arena` is the process-wide arena with those roots attached.
Design: docs/design/trace.md ("CPython roots"), docs/design/threads.md.
"""

from __future__ import annotations

import threading

from gc_plugin._calls import check, ffi, lib
from gc_plugin.arena import Arena
from gc_plugin.collector import Rank, Root

__all__ = ["ProcessRoots", "attach_process_roots", "default_arena", "unstoppable_threads"]


class ProcessRoots(Root):
    """The process's threads and the allocator hook's live blocks, as
    ambiguous roots of one arena.  Destroying it makes the arena count only
    explicitly registered threads again."""

    _kind = "process roots"

    def _destroy_in_core(self, handle: object) -> None:
        lib.mps_root_destroy(handle)
        lib.gcp_arena_all_threads(self.arena._live(), 0)


def attach_process_roots(arena: Arena) -> ProcessRoots:
    """Make every thread of this process, and every block the allocator hook
    routed, an ambiguous root of ``arena``."""
    out = ffi.new("mps_root_t *")
    check(lib.gcp_python_arena_attach(arena._live(), out), "attach_process_roots")
    return ProcessRoots(arena, out[0], Rank.AMBIG)


_default_lock = threading.Lock()
_default: tuple[Arena, ProcessRoots] | None = None


def default_arena() -> Arena:
    """The plugin's arena for this process, made on first use with the
    process's roots attached (and kept for the life of the process)."""
    global _default
    with _default_lock:
        if _default is None or _default[0].destroyed:
            arena = Arena()
            _default = (arena, attach_process_roots(arena))
        return _default[0]


def unstoppable_threads(arena: Arena) -> int:
    """How many times a thread could not be stopped for a collection of
    ``arena`` (it blocked the suspend signal and went unscanned)."""
    return int(lib.gcp_arena_unstoppable_threads(arena._live()))
