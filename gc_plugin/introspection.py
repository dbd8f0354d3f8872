"""What an arena can tell about addresses and objects: location
dependencies (whether objects may have moved), the format and object base
of an address, and walks over the formatted objects and root references.

Implements the introspection part of the "Collector" section of
docs/design/python-api.md.  The walks are methods of the Arena (this
module's ``_ArenaIntrospection`` is one of its bases); a location
dependency is made by ``arena.location_dependency()``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, cast

from gc_plugin import _calls
from gc_plugin._calls import check, check_misuse, ffi, invalid, lib
from gc_plugin._lifetime import _ArenaChild, _NativeObject
from gc_plugin.collected import Format
from gc_plugin.pools import Pool
from gc_plugin.roots import Root

if TYPE_CHECKING:
    from gc_plugin.arena import Arena

__all__ = ["LocationDependency", "FormattedObject"]


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
        lib.mps_ld_reset(self._ld, self._arena._live())
        check_misuse()

    def add(self, address: int) -> None:
        """Depend on the location of ``address`` (before using it)."""
        addr = _calls.address_value(address)
        lib.mps_ld_add(self._ld, self._arena._live(), _calls.as_ptr(addr))
        check_misuse()

    def merge(self, other: LocationDependency) -> None:
        """Add everything ``other`` depends on."""
        if other._arena is not self._arena:
            invalid("location dependencies of different arenas cannot be merged")
        lib.mps_ld_merge(self._ld, self._arena._live(), other._ld)
        check_misuse()

    def is_stale(self, address: int) -> bool:
        """True if something added may have moved (false positives allowed)."""
        addr = _calls.address_value(address)
        result = lib.mps_ld_isstale(self._ld, self._arena._live(), _calls.as_ptr(addr))
        check_misuse()
        return bool(result)

    def is_stale_any(self) -> bool:
        """``is_stale`` without an address."""
        result = lib.mps_ld_isstale_any(self._ld, self._arena._live())
        check_misuse()
        return bool(result)

    @property
    def epoch(self) -> int:
        """The movement epoch of the last reset (mps_ld_s._epoch)."""
        return int(self._ld._epoch)


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


def _visit_root_ref(ref: Any, root: Any, closure: Any, size: int) -> None:
    """The roots stepper: record (reference, root handle)."""
    found: list[tuple[int, int]] = ffi.from_handle(closure)
    found.append((_calls.as_int(ref[0]), _calls.as_int(root)))


_VISIT_ROOT_REF = ffi.callback("mps_roots_stepper_t", _visit_root_ref)


_Owned = TypeVar("_Owned", bound=_ArenaChild)


class _ArenaIntrospection(_NativeObject):
    """The Arena's introspection methods."""

    # what they need of the Arena
    def _owned(self, kind: type[_Owned]) -> list[_Owned]:
        raise NotImplementedError

    @property
    def pools(self) -> list[Pool]:
        raise NotImplementedError

    def location_dependency(self) -> LocationDependency:
        """A new location dependency on this arena, reset."""
        return LocationDependency(cast("Arena", self))

    def addr_format(self, address: int) -> Format | None:
        """The format of the pool that holds ``address``, if it has one."""
        addr = _calls.address_value(address)
        fmt_o = ffi.new("mps_fmt_t *")
        found = lib.mps_addr_fmt(fmt_o, self._live(), _calls.as_ptr(addr))
        check_misuse()
        if not found:
            return None
        for child in self._owned(Format):
            if child._handle == fmt_o[0]:
                return child
        return None

    def addr_object(self, address: int) -> int:
        """The base of the object containing ``address`` (mps_addr_object):
        FailError if there is none, UnimplementedError if its pool cannot
        tell."""
        addr = _calls.address_value(address)
        p_o = ffi.new("mps_addr_t *")
        res = lib.mps_addr_object(p_o, self._live(), _calls.as_ptr(addr))
        check(res, f"addr_object({addr:#x})")
        return _calls.as_int(p_o[0])

    def formatted_objects(self) -> list[FormattedObject]:
        """Every formatted object of every pool (padding at the pools'
        discretion), by mps_arena_formatted_objects_walk; call it parked."""
        raw: list[tuple[int, int, int]] = []
        closure = ffi.new_handle(raw)
        lib.mps_arena_formatted_objects_walk(self._live(), _VISIT_OBJECT, closure, 0)
        check_misuse()
        formats = {_calls.as_int(f._handle): f for f in self._owned(Format)}
        pools = {_calls.as_int(p._handle): p for p in self.pools}
        return [FormattedObject(a, formats.get(f), pools.get(p)) for a, f, p in raw]

    def root_references(self) -> list[tuple[int, Root | None]]:
        """(reference, root) for every reference in a root that points into
        an automatically managed pool (mps_arena_roots_walk; call it
        parked)."""
        raw: list[tuple[int, int]] = []
        closure = ffi.new_handle(raw)
        lib.mps_arena_roots_walk(self._live(), _VISIT_ROOT_REF, closure, 0)
        check_misuse()
        roots = {_calls.as_int(r._handle): r for r in self._owned(Root)}
        return [(ref, roots.get(root)) for ref, root in raw]
