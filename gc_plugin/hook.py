"""Activation of the CPython allocator hook: which allocations gc_plugin holds.

``activate(manage=[...])`` routes the allocations made by the code of the
named extension modules (and their submodules) into gc_plugin's pool;
``activate(heap="all")`` routes every allocation of the MEM and OBJ domains.
A meta-path finder notices managed modules as they are imported: it loads
the module's shared object before its init function runs, so that even the
allocations of the init function are routed.  ``deactivate()`` stops
routing; the hook stays installed as a forwarding shim while routed blocks
are alive.  Implements docs/design/cpython-hook.md (activation) and
docs/design/architecture.md §The CPython integration: requirements.
"""

from __future__ import annotations

import _thread
import _tracemalloc  # not threading: importing it at start-up (GC_PLUGIN_MANAGE) changes programs
import contextlib
import importlib.machinery
import os
import sys
import warnings
from collections.abc import Iterable, Iterator, Sequence
from types import ModuleType

from gc_plugin._calls import check, ffi, lib

# Imported at interpreter start-up when GC_PLUGIN_MANAGE is set: only
# modules the interpreter has loaded anyway (no threading, typing,
# dataclasses or importlib.abc, whose presence programs and tests notice).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from importlib.abc import Loader as _LoaderBase
    from typing import Any, Literal

    #: What is routed: the managed modules' allocations, or every one.
    HeapMode = Literal["managed", "all"]
else:
    _LoaderBase = object

__all__ = [
    "HookStatus",
    "activate",
    "activated",
    "deactivate",
    "is_active",
    "status",
    "managed_modules",
    "AttributionWarning",
]

_HEAPS = ("managed", "all")


class AttributionWarning(RuntimeWarning):
    """Allocations cannot be attributed to their call sites in this process."""


class HookStatus:
    """What the hook is doing now (a snapshot)."""

    __slots__ = ("installed", "active", "heap", "under_tracemalloc", "attribution", "managed")

    def __init__(
        self,
        installed: bool,
        active: bool,
        heap: str | None,
        under_tracemalloc: bool,
        attribution: bool | None,
        managed: tuple[str, ...],
    ) -> None:
        #: our allocator is in CPython's chain (perhaps only as a shim)
        self.installed = installed
        #: allocations are being routed
        self.active = active
        #: "managed" or "all" while active, else None
        self.heap = heap
        #: installed, with tracemalloc tracing above it (call sites hidden)
        self.under_tracemalloc = under_tracemalloc
        #: call sites seen by the hook at activation (None: not tested)
        self.attribution = attribution
        #: module names (and prefixes) given to activate
        self.managed = managed

    def _fields(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, HookStatus) and self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        inner = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__)
        return f"HookStatus({inner})"


class _State:
    def __init__(self) -> None:
        self.lock = _thread.RLock()
        self.names: set[str] = set()
        self.modules: dict[str, str] = {}  # module name -> shared object path
        self.object_modules: dict[int, str] = {}  # object id -> module name
        self.heap: str | None = None
        self.attribution: bool | None = None
        self.finder: _ManagedFinder | None = None
        self.libraries: list[Any] = []  # shared objects loaded ahead of import


_state = _State()


def _wanted(fullname: str) -> bool:
    return any(fullname == n or fullname.startswith(n + ".") for n in _state.names)


def _is_extension(path: str | None) -> bool:
    return path is not None and path.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))


def _object_id(path: str) -> int | None:
    """The loaded-object id of the shared object at path, if it is loaded."""
    count = lib.gcp_objects_refresh()
    for oid in range(1, count + 1):
        name = lib.gcp_objects_name(oid)
        if name == ffi.NULL:
            continue
        try:
            if os.path.samefile(ffi.string(name).decode(), path):
                return oid
        except OSError:
            continue
    return None


def _manage_path(fullname: str, path: str) -> int | None:
    """Manage the extension module fullname loaded from path (its types too,
    if it is initialized); its loaded object's id, or None."""
    oid = _object_id(path)
    if oid is None:
        return None
    if lib.gcp_hook_manage(oid) < 0:
        warnings.warn(
            f"gc_plugin: too many managed code ranges; {fullname} is not managed",
            RuntimeWarning,
            stacklevel=3,
        )
        return None
    _state.modules[fullname] = path
    _state.object_modules[oid] = fullname
    module = sys.modules.get(fullname)
    if module is not None:
        _route_types(module, oid)
    return oid


_HEAPTYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE


def _route_types(module: ModuleType, oid: int) -> None:
    """Route the instances of module's types (the interpreter allocates
    them for it): its static types (in its loaded object) and the heap
    types it made (whose __module__ is its name), as found in its
    namespace once it is initialized."""
    name = module.__name__
    for value in list(vars(module).values()):
        if not isinstance(value, type):
            continue
        static = int(lib.gcp_objects_id_of(id(value))) == oid
        made = value.__flags__ & _HEAPTYPE and getattr(value, "__module__", None) == name
        if (static or made) and lib.gcp_hook_route_type(id(value), oid) < 0:
            warnings.warn(
                f"gc_plugin: too many managed types; instances of {value!r} are not routed",
                RuntimeWarning,
                stacklevel=3,
            )


def _manage_loaded() -> None:
    """Manage the wanted extension modules that are already imported."""
    for fullname, module in list(sys.modules.items()):
        if fullname in _state.modules or not _wanted(fullname):
            continue
        path = getattr(module, "__file__", None)
        if isinstance(path, str) and _is_extension(path):
            _manage_path(fullname, path)


class _ManagingLoader(_LoaderBase):
    """Wraps an extension module's loader: loads the shared object first so
    that its code is managed before its init function allocates."""

    def __init__(self, loader: Any, fullname: str, path: str) -> None:
        self._loader = loader
        self._fullname = fullname
        self._path = path
        self._oid: int | None = None  # its loaded object, once managed

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        import ctypes

        try:
            _state.libraries.append(ctypes.CDLL(self._path, mode=sys.getdlopenflags()))
        except OSError:
            pass  # the real loader will report it
        else:
            with _state.lock:
                self._oid = _manage_path(self._fullname, self._path)
        module: ModuleType | None = self._loader.create_module(spec)
        return module

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        # its types exist now: route their instances too
        if self._oid is not None and self._fullname in _state.modules:
            with _state.lock:
                _route_types(module, self._oid)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)


class _ManagedFinder:
    """First on sys.meta_path: finds managed extension modules through the
    other finders and wraps their loaders."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if not _wanted(fullname):
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec: importlib.machinery.ModuleSpec | None = finder.find_spec(fullname, path, target)
            if spec is None:
                continue
            if spec.loader is not None and _is_extension(spec.origin):
                assert spec.origin is not None
                spec.loader = _ManagingLoader(spec.loader, fullname, spec.origin)
            return spec
        return None


def activate(
    manage: Iterable[str] = (),
    heap: HeapMode = "managed",
    leak_tracking: bool | None = None,
    leak_frames: int = 1,
) -> HookStatus:
    """Start routing allocations into gc_plugin's pool.

    ``manage``: module names whose extension code (the module and every
    submodule) is routed, now and when imported later.  ``heap="all"``
    routes every MEM and OBJ allocation.  ``leak_tracking=True``: each
    routed block records its allocation site, which leak reports name
    (docs/design/leaks.md), with the ``leak_frames`` innermost Python frames
    (0 to 8); turn it on with the first activation, before blocks are
    routed (None: as it was).  May be called again to add modules or to
    change the heap mode.
    """
    if heap not in _HEAPS:
        raise ValueError(f"heap must be one of {_HEAPS}, not {heap!r}")
    if not 0 <= leak_frames <= 8:
        raise ValueError(f"leak_frames must be 0 to 8, not {leak_frames!r}")
    if leak_tracking is not None:
        check(lib.gcp_hook_track_sites(1 if leak_tracking else 0, leak_frames), "leak tracking")
    names = [manage] if isinstance(manage, str) else list(manage)
    for name in names:
        if not isinstance(name, str) or not name or name.startswith("."):
            raise ValueError(f"not a module name: {name!r}")
    with _state.lock:
        installed = bool(lib.gcp_hook_state() & lib.GCP_HOOK_INSTALLED)
        under = not installed and _tracemalloc.is_tracing()
        check(
            lib.gcp_hook_activate(1 if heap == "all" else 0, 1 if under else 0),
            "activating the allocator hook",
        )
        _state.heap = heap
        _state.names.update(names)
        if _state.names and _state.finder is None:
            _state.finder = _ManagedFinder()
            sys.meta_path.insert(0, _state.finder)
        _manage_loaded()
        result = lib.gcp_hook_selftest()
        _state.attribution = None if result < 0 else bool(result)
        if _state.attribution is False:
            why = (
                "the hook sits below tracemalloc's, which hides the call sites"
                if _tracemalloc.is_tracing()
                else "PyMem_Malloc does not tail-call the hook (a CPython built "
                "without optimization?)"
            )
            warnings.warn(
                f"gc_plugin: allocations cannot be attributed to their call sites: {why}; "
                + (
                    "managed modules' allocations are not routed"
                    if heap == "managed"
                    else "blocks are attributed by their type only"
                ),
                AttributionWarning,
                stacklevel=2,
            )
    return status()


def deactivate() -> bool:
    """Stop routing.  Returns True if the hook was removed, False if it stays
    installed as a forwarding shim (routed blocks are still alive, or another
    hook such as tracemalloc's sits above it)."""
    with _state.lock:
        if _state.finder is not None:
            with contextlib.suppress(ValueError):
                sys.meta_path.remove(_state.finder)
            _state.finder = None
        lib.gcp_hook_unmanage_all()
        _state.names.clear()
        # no longer managed: a later activate() must manage them again
        # (object_modules stays, to name the blocks they left in the pool)
        _state.modules.clear()
        _state.heap = None
        return bool(lib.gcp_hook_deactivate())


@contextlib.contextmanager
def activated(manage: Iterable[str] = (), heap: HeapMode = "managed") -> Iterator[HookStatus]:
    """``with gc_plugin.activated(manage=[...]):`` routes inside the block:
    ``activate(manage, heap)`` on entry; on the way out the hook goes back
    to what it was (deactivated, or routing the modules and heap it routed
    before).  Blocks routed inside stay valid after it."""
    with _state.lock:
        before = (_state.heap, sorted(_state.names)) if is_active() else None
    try:
        yield activate(manage, heap)
    finally:
        deactivate()
        if before is not None:
            previous_heap, previous_names = before
            activate(previous_names, "all" if previous_heap == "all" else "managed")


def is_active() -> bool:
    """Whether allocations are being routed."""
    return bool(lib.gcp_hook_state() & lib.GCP_HOOK_ROUTING)


def status() -> HookStatus:
    """The hook's state."""
    s = lib.gcp_hook_state()
    active = bool(s & lib.GCP_HOOK_ROUTING)
    installed = bool(s & lib.GCP_HOOK_INSTALLED)
    return HookStatus(
        installed=installed,
        active=active,
        heap=("all" if s & lib.GCP_HOOK_ALL else "managed") if active else None,
        # tracemalloc's hook is above ours whenever it traces: spliced in
        # below it (activated while tracing) or wrapped by it (started
        # later); after tracemalloc.stop() ours is on top again
        under_tracemalloc=installed and _tracemalloc.is_tracing(),
        # call sites are hidden while tracemalloc's hook calls ours
        attribution=False if installed and _tracemalloc.is_tracing() else _state.attribution,
        managed=tuple(sorted(_state.names)),
    )


def managed_modules() -> dict[str, str]:
    """The managed extension modules seen so far: name -> shared object."""
    with _state.lock:
        return dict(_state.modules)


def module_of_object(oid: int) -> str | None:
    """The managed module name recorded for loaded-object id ``oid``."""
    return _state.object_modules.get(oid)
