"""The non-moving collected pool classes AMS, AMS debug and AWL.

Implements the "Non-moving pools and weakness" part of the Collector section
of docs/design/python-api.md over spec sections 3.5, 3.6 and 3.12.  These
pools are CollectedPools like AMC: objects of their format that nothing keeps
alive are reclaimed, but they never move.  Their allocation points take a
rank: AMS ``"exact"`` (default) or ``"ambig"`` (the objects' reference slots
are scanned as ambiguous words: what they point at is kept and pinned);
AWL ``"exact"`` or ``"weak"`` (references to objects nothing else keeps are
set to NULL by the collector).  Find-dependent functions are C functions, so
AWL pools with dependent objects are made by C clients (gc_plugin.weaktable).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gc_plugin._calls import Keywords, check_misuse, ffi, lib
from gc_plugin.collector import Chain, CollectedPool, Format

if TYPE_CHECKING:
    from gc_plugin.arena import Arena

__all__ = ["AMSPool", "AMSDebugPool", "AWLPool", "ams_pool", "ams_debug_pool", "awl_pool"]


class AMSPool(CollectedPool):
    """AMS: non-moving mark-sweep; allocation points of exact or ambiguous rank."""


class AMSDebugPool(AMSPool):
    """AMS debug: AMS with fenceposts around every object and free-space
    splatting; damage is reported as MisuseError."""

    def check_fenceposts(self) -> None:
        """Check every object's fenceposts (mps_pool_check_fenceposts)."""
        lib.mps_pool_check_fenceposts(self._live())
        check_misuse()

    def check_free_space(self) -> None:
        """Check the splat pattern of free space (mps_pool_check_free_space)."""
        lib.mps_pool_check_free_space(self._live())
        check_misuse()


class AWLPool(CollectedPool):
    """AWL: non-moving; allocation points of exact or weak rank."""


def _ams_handle(
    arena: Arena, debug: bool, options: Any, fmt: Format, chain: Chain | None,
    gen: int | None, support_ambiguous: bool | None,
) -> Any:
    keys = Keywords()
    if chain is not None:
        keys.have |= lib.GCP_PY_HAVE_CHAIN
    if options is not None:
        keys.have |= lib.GCP_PY_HAVE_DEBUG_OPTIONS
    return arena._create_child(
        "mps_pool_t *",
        "ams_debug_pool" if debug else "ams_pool",
        lib.gcp_py_ams_create,
        int(debug),
        options if options is not None else ffi.NULL,
        fmt._live(),
        chain._live() if chain is not None else ffi.NULL,
        keys.size(gen, "gen", lib.GCP_PY_HAVE_GEN),
        keys.flag(support_ambiguous, lib.GCP_PY_HAVE_SUPPORT_AMBIGUOUS),
        keys.have,
    )


def ams_pool(
    arena: Arena, format: Format, chain: Chain | None = None, gen: int | None = None,
    support_ambiguous: bool | None = None,
) -> AMSPool:
    """An AMS pool of ``format`` objects (``gen``: MPS_KEY_GEN;
    ``support_ambiguous``: MPS_KEY_AMS_SUPPORT_AMBIGUOUS)."""
    handle = _ams_handle(arena, False, None, format, chain, gen, support_ambiguous)
    return AMSPool(arena, handle, format, chain)


def ams_debug_pool(
    arena: Arena, format: Format, fence_template: bytes | None = None,
    free_template: bytes | None = None, chain: Chain | None = None, gen: int | None = None,
) -> AMSDebugPool:
    """An AMS debug pool.  Without templates the core's defaults apply
    ("POST", "FREE"); with either, both are passed (b"" or None disables
    that check)."""
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


def awl_pool(
    arena: Arena, format: Format, chain: Chain | None = None, gen: int | None = None
) -> AWLPool:
    """An AWL pool of ``format`` objects (no dependent objects)."""
    keys = Keywords()
    if chain is not None:
        keys.have |= lib.GCP_PY_HAVE_CHAIN
    handle = arena._create_child(
        "mps_pool_t *",
        "awl_pool",
        lib.gcp_py_awl_create,
        format._live(),
        chain._live() if chain is not None else ffi.NULL,
        keys.size(gen, "gen", lib.GCP_PY_HAVE_GEN),
        keys.have,
    )
    return AWLPool(arena, handle, format, chain)
