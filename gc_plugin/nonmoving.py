"""The non-moving pool classes of the collector: AMS, AMS debug and AWL
(collected), and SNC (scanned, freed by popping allocation frames).

Implements the "Non-moving pools and weakness" part of the Collector section
of docs/design/python-api.md (docs/design/ms.md, snc.md; interface.md §Allocation
frames).  The pools are made by an Arena (``arena.ams(fmt)``, ``arena.awl(fmt)``,
``arena.snc(fmt)``, ...) through this module's ``create_*``.  AMS and AWL
pools are CollectedPools like AMC: objects of their format that nothing
keeps alive are reclaimed, but they never move.  Their allocation points
take a rank: AMS ``"exact"`` (default) or ``"ambig"`` (the objects'
reference slots are scanned as ambiguous words: what they point at is kept
and pinned); AWL ``"exact"`` or ``"weak"`` (references to objects nothing
else keeps are set to NULL by the collector).  Find-dependent functions are
C functions, so AWL pools with dependent objects are made by C clients (the
tests' weak table, tests/gcp_testing).
SNC objects hold exact references and are scanned at every collection; they
live until a frame pushed before them is popped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gc_plugin._calls import Keywords, check, check_misuse, ffi, invalid, lib
from gc_plugin.collected import Chain, CollectedAllocationPoint, CollectedPool, Format
from gc_plugin.pools import DebugPool, Pool

if TYPE_CHECKING:
    from gc_plugin.arena import Arena

__all__ = [
    "AMSPool",
    "AMSDebugPool",
    "AWLPool",
    "SNCPool",
    "SNCAllocationPoint",
    "Frame",
]


class AMSPool(CollectedPool):
    """AMS: non-moving mark-sweep; allocation points of exact or ambiguous rank."""


class AMSDebugPool(AMSPool, DebugPool):
    """AMS debug: AMS with fenceposts around every object and free-space
    splatting; damage is reported as MisuseError (check_fenceposts,
    check_free_space)."""


class AWLPool(CollectedPool):
    """AWL: non-moving; allocation points of exact or weak rank."""


def _ams_handle(
    arena: Arena,
    debug: bool,
    options: Any,
    fmt: Format,
    chain: Chain | None,
    gen: int | None,
    support_ambiguous: bool | None,
) -> Any:
    keys = Keywords()
    if chain is not None:
        keys.have |= lib.GCP_PY_HAVE_CHAIN
    if options is not None:
        keys.have |= lib.GCP_PY_HAVE_DEBUG_OPTIONS
    return arena._create_child(
        "mps_pool_t *",
        "Arena.ams_debug" if debug else "Arena.ams",
        lib.gcp_py_ams_create,
        int(debug),
        options if options is not None else ffi.NULL,
        fmt._live(),
        chain._live() if chain is not None else ffi.NULL,
        keys.size(gen, "gen", lib.GCP_PY_HAVE_GEN),
        keys.flag(support_ambiguous, lib.GCP_PY_HAVE_SUPPORT_AMBIGUOUS),
        keys.have,
    )


def create_ams(
    arena: Arena,
    format: Format,
    chain: Chain | None = None,
    gen: int | None = None,
    support_ambiguous: bool | None = None,
) -> AMSPool:
    """An AMS pool; Arena.ams documents it."""
    handle = _ams_handle(arena, False, None, format, chain, gen, support_ambiguous)
    return AMSPool(arena, handle, format, chain)


def create_ams_debug(
    arena: Arena,
    format: Format,
    fence_template: bytes | None = None,
    free_template: bytes | None = None,
    chain: Chain | None = None,
    gen: int | None = None,
) -> AMSDebugPool:
    """An AMS debug pool; Arena.ams_debug documents it."""
    if fence_template is None and free_template is None:
        handle = _ams_handle(arena, True, None, format, chain, gen, None)
        return AMSDebugPool(arena, handle, format, chain)
    fence = bytes(fence_template or b"")
    free = bytes(free_template or b"")
    # The core may keep pointers to the templates: they live as long as the pool.
    fence_c = ffi.new("char[]", fence) if fence else ffi.NULL
    free_c = ffi.new("char[]", free) if free else ffi.NULL
    options = ffi.new("mps_pool_debug_option_s *")
    options.fence_template = fence_c
    options.fence_size = len(fence)
    options.free_template = free_c
    options.free_size = len(free)
    handle = _ams_handle(arena, True, options, format, chain, gen, None)
    return AMSDebugPool(arena, handle, format, chain, keepalive=(options, fence_c, free_c))


# ---- SNC -----------------------------------------------------------------------------


class Frame:
    """An allocation frame of an SNC allocation point (mps_ap_frame_push)."""

    def __init__(self, ap: SNCAllocationPoint, handle: Any) -> None:
        self._ap = ap
        self._handle = handle

    @property
    def allocation_point(self) -> SNCAllocationPoint:
        return self._ap

    def pop(self) -> None:
        """Pop this frame (and every newer one): see SNCAllocationPoint.pop."""
        self._ap.pop(self)


class SNCAllocationPoint(CollectedAllocationPoint):
    """An allocation point of an SNC pool: objects are allocated with the
    format (reserve, initialise, commit) and freed by popping frames."""

    def push(self) -> Frame:
        """Push a frame (mps_ap_frame_push); FailError while a block is reserved."""
        frame_o = ffi.new("mps_frame_t *")
        check(lib.mps_ap_frame_push(frame_o, self._live()), "SNCAllocationPoint.push")
        return Frame(self, frame_o[0])

    def pop(self, frame: Frame) -> None:
        """Pop ``frame``: every object allocated on this allocation point since
        its push is freed at once, and newer frames are gone too.  Popping a
        frame twice, or one of another allocation point, raises MisuseError."""
        if not isinstance(frame, Frame):
            raise TypeError(f"frame must be a Frame, not {type(frame).__name__}")
        res = lib.mps_ap_frame_pop(self._live(), frame._handle)
        check_misuse()
        check(res, "SNCAllocationPoint.pop")


class SNCPool(Pool):
    """SNC: scanned, non-moving, manually managed by allocation frames."""

    def __init__(self, arena: Arena, handle: Any, fmt: Format) -> None:
        super().__init__(arena, handle, keepalive=(fmt,))
        self._format = fmt
        fmt._pools.add(self)

    @property
    def format(self) -> Format:
        """The pool's object format."""
        return self._format

    def allocation_point(self) -> SNCAllocationPoint:
        """A new allocation point (exact rank) with its own frame stack."""
        handle = self._create_child(
            "mps_ap_t *",
            "SNC.allocation_point",
            lib.gcp_py_collected_ap_create,
            0,
            0,
            0,
        )
        return SNCAllocationPoint(self, handle)


def create_snc(arena: Arena, format: Format) -> SNCPool:
    """An SNC pool; Arena.snc documents it."""
    if format.header_size != 0:
        invalid("SNC pools need a format without in-band headers")
    handle = arena._create_child("mps_pool_t *", "Arena.snc", lib.gcp_py_snc_create, format._live())
    return SNCPool(arena, handle, format)
