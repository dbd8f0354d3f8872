"""The leak finder: which routed blocks an extension lost.

``leaks()`` runs the cyclic GC (cyclic garbage is not a leak), then the
native check (native/cpython/leaks.c): with every other thread stopped, the
routed blocks are marked conservatively from the process's roots (thread
stacks and registers, every private writable mapping outside the plugin's
own memory), skipping the cyclic GC's list links, and each block is
classified as memcheck does: definite (nothing points to it), indirect
(only lost blocks point to it), possible (only interior pointers reach
it), reachable.  The report groups lost blocks by kind, module, site and
type.  Implements docs/design/leaks.md.
"""

from __future__ import annotations

import gc
import json
import tracemalloc
from dataclasses import dataclass, field
from typing import Any, Literal

from gc_plugin import hook
from gc_plugin._calls import ffi, lib
from gc_plugin.errors import ResourceError
from gc_plugin.heap import _all_types, _Namer, _raw_new, _type_array

__all__ = [
    "LeakKind",
    "LeakTotal",
    "LeakSite",
    "LeakReport",
    "leaks",
    "Snapshot",
    "SnapshotDiff",
    "snapshot",
]

#: The kinds of lost block, most certain first.
LeakKind = Literal["definite", "indirect", "possible"]

_KINDS: dict[int, str] = {
    int(lib.LEAK_REACHABLE): "reachable",
    int(lib.LEAK_POSSIBLE): "possible",
    int(lib.LEAK_INDIRECT): "indirect",
    int(lib.LEAK_DEFINITE): "definite",
}
_DOMAINS = {1: "mem", 2: "obj"}
_GROUP_CAPACITY = 1 << 14


@dataclass(frozen=True)
class LeakTotal:
    """Blocks and requested bytes of one kind."""

    blocks: int = 0
    bytes: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"blocks": self.blocks, "bytes": self.bytes}


@dataclass(frozen=True)
class LeakSite:
    """Lost blocks of one kind with the same module, site and type.

    ``site`` is the allocating native call site, symbolized
    (``function+0xOFF (file.c:LINE)``) with leak tracking on, else the
    loaded object that allocated them;
    ``traceback`` the Python frames, innermost last (empty when unknown).
    """

    kind: LeakKind
    module: str | None
    site: str
    type_name: str | None
    blocks: int
    bytes: int
    traceback: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "module": self.module,
            "site": self.site,
            "type": self.type_name,
            "blocks": self.blocks,
            "bytes": self.bytes,
            "traceback": list(self.traceback),
        }


@dataclass(frozen=True)
class LeakReport:
    """What one leak check found (``leaks()``)."""

    definite: LeakTotal
    indirect: LeakTotal
    possible: LeakTotal
    reachable: LeakTotal
    sites: list[LeakSite]
    #: bytes of roots scanned, and of what: for the report's footer
    root_bytes: int = 0
    gc_heads: int = 0
    #: why the result may be wrong (tracemalloc's table, unstopped threads)
    caveats: list[str] = field(default_factory=list)

    @property
    def lost(self) -> LeakTotal:
        """Definite, indirect and possible together."""
        parts = (self.definite, self.indirect, self.possible)
        return LeakTotal(sum(p.blocks for p in parts), sum(p.bytes for p in parts))

    def as_dict(self) -> dict[str, Any]:
        """The ``"leaks"`` key of the JSON report."""
        return {
            "definite": self.definite.as_dict(),
            "indirect": self.indirect.as_dict(),
            "possible": self.possible.as_dict(),
            "reachable": self.reachable.as_dict(),
            "sites": [s.as_dict() for s in self.sites],
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2)

    def to_text(self, top: int = 20) -> str:
        """Totals by kind, then the largest sites with their tracebacks."""
        lines = ["gc_plugin leak report:"]
        for kind in ("definite", "indirect", "possible", "reachable"):
            t: LeakTotal = getattr(self, kind)
            lines.append(f"  {kind:<10} {t.blocks:>10,} blocks {t.bytes:>14,} bytes")
        for caveat in self.caveats:
            lines.append(f"  note: {caveat}")
        if self.sites:
            lines += ["", f"  {'kind':<9} {'blocks':>8} {'bytes':>12}  module / site / type"]
        for s in self.sites[:top]:
            what = " / ".join(x for x in (s.module or "(interpreter)", s.site, s.type_name) if x)
            lines.append(f"  {s.kind:<9} {s.blocks:>8,} {s.bytes:>12,}  {what}")
            lines += [f"      {frame}" for frame in reversed(s.traceback)]
        if len(self.sites) > top:
            lines.append(f"  ... {len(self.sites) - top} more sites")
        return "\n".join(lines) + "\n"

    def to_html(self) -> str:
        """A self-contained page of the report (gc_plugin.html_report)."""
        from gc_plugin.html_report import render_html

        return render_html({"leaks": self.as_dict()})


def _site_of(module: str | None, domain: int, object_name: str | None) -> str:
    """What is known of a site without leak tracking: the allocating loaded
    object (or the interpreter) and the domain."""
    where = object_name or module or "python"
    return f"{where} ({_DOMAINS.get(domain, '?')})"


def _sites(numbers: set[int]) -> dict[int, str]:
    """Site numbers recorded by leak tracking -> their symbolized call sites."""
    addresses = {n: int(lib.gcp_site_address(n)) for n in numbers if n}
    addresses = {n: a for n, a in addresses.items() if a}
    if not addresses:
        return {}
    from gc_plugin.symbols import symbolize

    names = symbolize(set(addresses.values()))
    return {n: names.get(a, f"{a:#x}") for n, a in addresses.items()}


def _traceback(number: int) -> tuple[str, ...]:
    """The Python frames site number recorded, as "file:line", innermost last."""
    frames = []
    buf = ffi.new("char[]", 4096)
    for i in range(int(lib.gcp_site_frames(number))):
        line = int(lib.gcp_site_frame(number, i, buf, 4096))
        frames.append(f"{ffi.string(buf).decode('utf-8', 'replace')}:{line}")
    return tuple(reversed(frames))


# (kind, module, site, type name, traceback) -> [blocks, bytes]
_Groups = dict[tuple[str, str | None, str, str | None, tuple[str, ...]], list[int]]


@dataclass
class _Check:
    """One native check, named: totals by kind and the groups of blocks."""

    totals: dict[str, LeakTotal]
    groups: _Groups
    root_bytes: int
    gc_heads: int
    truncated: bool


def _check(collect: bool) -> _Check:
    if collect:
        gc.collect()
    types = _all_types()
    array = _type_array(types)
    totals = ffi.new("gcp_leak_totals *")
    groups = _raw_new("gcp_leak_group[]", _GROUP_CAPACITY)
    # zero the stack below this frame first: the check's own frames take
    # their places there (gcp_leaks_scrub_stack says why)
    lib.gcp_leaks_scrub_stack()
    if lib.gcp_leaks_check(totals, groups, _GROUP_CAPACITY, array, len(types)) != 0:
        raise ResourceError(
            "gc_plugin: the leak check could not be made (threads could not be stopped, "
            "or no memory for the check)"
        )
    namer = _Namer(types)
    count = min(int(totals.groups), _GROUP_CAPACITY)
    numbers = {int(groups[i].site) for i in range(count)}
    site_names = _sites(numbers)
    tracebacks = {n: _traceback(n) for n in numbers if n}
    merged: _Groups = {}
    for i in range(count):
        g = groups[i]
        kind = _KINDS.get(int(g.kind))
        if kind is None:
            continue
        module = namer.module(int(g.object), int(g.type))
        site = site_names.get(int(g.site)) or _site_of(
            module, int(g.domain), namer.object_module(int(g.object))
        )
        key = (kind, module, site, namer.type_name(int(g.type)), tracebacks.get(int(g.site), ()))
        acc = merged.setdefault(key, [0, 0])
        acc[0] += int(g.blocks)
        acc[1] += int(g.bytes)
    return _Check(
        totals={
            name: LeakTotal(int(totals.blocks[k]), int(totals.bytes[k]))
            for k, name in _KINDS.items()
        },
        groups=merged,
        root_bytes=int(totals.rootBytes),
        gc_heads=int(totals.gcHeads),
        truncated=int(totals.groups) > _GROUP_CAPACITY,
    )


def _caveats(truncated: bool) -> list[str]:
    caveats = []
    if tracemalloc.is_tracing():
        caveats.append(
            "tracemalloc is tracing: its table of traces holds every block's address, "
            "so lost blocks may be reported reachable"
        )
    if truncated:
        caveats.append(f"only the first {_GROUP_CAPACITY} groups of blocks are in the sites")
    if not hook.status().installed:
        caveats.append("the allocator hook is not installed: nothing is routed")
    elif not lib.gcp_hook_tracking_sites():
        caveats.append(
            "leak tracking is off: sites name the allocating module only "
            "(activate(leak_tracking=True), run --leaks, GC_PLUGIN_LEAKS=1)"
        )
    return caveats


def leaks(collect: bool = True) -> LeakReport:
    """Check the routed heap for lost blocks (see the module's docstring).

    ``collect``: run ``gc.collect()`` first (default).  Works whenever the
    hook has routed something; with nothing routed the report is empty.
    """
    c = _check(collect)
    sites = [
        LeakSite(kind, module, site, type_name, blocks, nbytes, list(tb))  # type: ignore[arg-type]
        for (kind, module, site, type_name, tb), (blocks, nbytes) in c.groups.items()
        if kind != "reachable"
    ]
    sites.sort(key=lambda s: (-s.bytes, s.kind, s.module or "", s.site))
    return LeakReport(
        definite=c.totals["definite"],
        indirect=c.totals["indirect"],
        possible=c.totals["possible"],
        reachable=c.totals["reachable"],
        sites=sites,
        root_bytes=c.root_bytes,
        gc_heads=c.gc_heads,
        caveats=_caveats(c.truncated),
    )


# ---- snapshots ------------------------------------------------------------------


@dataclass(frozen=True)
class SnapshotDiff:
    """Growth of one (module, site, type) between two snapshots: live blocks
    (all routed blocks) and lost ones (definite, indirect, possible)."""

    module: str | None
    site: str
    type_name: str | None
    live_blocks: int
    live_bytes: int
    lost_blocks: int
    lost_bytes: int


@dataclass(frozen=True)
class Snapshot:
    """The routed heap at one point, classified (``snapshot()``)."""

    # (module, site, type name) -> (live blocks, live bytes, lost blocks, lost bytes)
    groups: dict[tuple[str | None, str, str | None], tuple[int, int, int, int]]

    def compare_to(self, earlier: Snapshot) -> list[SnapshotDiff]:
        """What grew (or shrank) since ``earlier``, largest lost growth first,
        then largest live growth; unchanged groups left out."""
        diffs = []
        for key in self.groups.keys() | earlier.groups.keys():
            now = self.groups.get(key, (0, 0, 0, 0))
            then = earlier.groups.get(key, (0, 0, 0, 0))
            d = tuple(a - b for a, b in zip(now, then, strict=True))
            if any(d):
                module, site, type_name = key
                diffs.append(SnapshotDiff(module, site, type_name, *d))
        diffs.sort(key=lambda x: (-x.lost_bytes, -x.live_bytes, x.module or "", x.site))
        return diffs


def snapshot(collect: bool = True) -> Snapshot:
    """The routed heap now, by module, site and type, live and lost (a leak
    check; ``later.compare_to(earlier)`` gives the growth)."""
    groups: dict[tuple[str | None, str, str | None], list[int]] = {}
    for (kind, module, site, type_name, _), (blocks, nbytes) in _check(collect).groups.items():
        acc = groups.setdefault((module, site, type_name), [0, 0, 0, 0])
        acc[0] += blocks
        acc[1] += nbytes
        if kind != "reachable":
            acc[2] += blocks
            acc[3] += nbytes
    return Snapshot({k: (v[0], v[1], v[2], v[3]) for k, v in groups.items()})
