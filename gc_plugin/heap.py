"""The routed heap from Python: every live block gc_plugin holds, by module
and by type.

Blocks come from the pool's own metadata (native/cpython/heapwalk.c).  A
block is attributed to the module whose code allocated it; blocks that the
interpreter allocated on an object's behalf are attributed by the object's
type, to the module that defines the type.  Implements
docs/design/cpython-hook.md (walks) and docs/design/architecture.md §What it does (heap walks).
"""

from __future__ import annotations

import os
import struct
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple

from gc_plugin import hook
from gc_plugin._calls import ffi, lib

__all__ = [
    "HeapBlock",
    "ModuleUsage",
    "TypeUsage",
    "ModuleTypeUsage",
    "HeapSummary",
    "walk",
    "summary",
]

_DOMAINS = {1: "mem", 2: "obj"}


class HeapBlock(NamedTuple):
    """One live routed block."""

    address: int
    size: int  #: bytes requested
    domain: str  #: "mem" or "obj"
    module: str | None  #: the module it is attributed to
    type_name: str | None  #: the object's type, for objects


@dataclass(frozen=True)
class ModuleUsage:
    module: str | None
    blocks: int
    bytes: int


@dataclass(frozen=True)
class TypeUsage:
    type: str | None
    blocks: int
    bytes: int


@dataclass(frozen=True)
class ModuleTypeUsage:
    """One (module, type) pair: the cells of by_module crossed with by_type."""

    module: str | None
    type: str | None
    blocks: int
    bytes: int


@dataclass(frozen=True)
class HeapSummary:
    """Live routed blocks and bytes, in all and grouped (largest first)."""

    blocks: int
    bytes: int
    by_module: list[ModuleUsage] = field(default_factory=list)
    by_type: list[TypeUsage] = field(default_factory=list)
    by_module_type: list[ModuleTypeUsage] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        """The report's JSON form."""
        return {
            "blocks": self.blocks,
            "bytes": self.bytes,
            "by_module": [vars(m) for m in self.by_module],
            "by_type": [vars(t) for t in self.by_type],
            "by_module_type": [vars(p) for p in self.by_module_type],
        }


def _all_types() -> dict[int, type]:
    """Every type reachable through object's subclasses, by address."""
    seen: dict[int, type] = {}
    stack: list[type] = [object]
    while stack:
        t = stack.pop()
        if id(t) in seen:
            continue
        seen[id(t)] = t
        try:
            stack.extend(type.__subclasses__(t))
        except TypeError:
            continue
    return seen


def _type_name(t: type) -> str:
    module = getattr(t, "__module__", None)
    name = getattr(t, "__qualname__", t.__name__)
    return name if module in (None, "builtins") else f"{module}.{name}"


class _Namer:
    """Turns loaded-object ids and types into module names."""

    def __init__(self, types: dict[int, type]) -> None:
        self._types = types
        self._interpreter = int(lib.gcp_objects_interpreter())
        self._objects: dict[int, str | None] = {0: None, self._interpreter: None}
        self._by_path: dict[str, str] | None = None
        self._type_modules: dict[int, str | None] = {0: None}

    def _paths(self) -> dict[str, str]:
        if self._by_path is None:
            self._by_path = {}
            for name, module in list(sys.modules.items()):
                path = getattr(module, "__file__", None)
                if isinstance(path, str) and not path.endswith((".py", ".pyc")):
                    self._by_path[os.path.realpath(path)] = name
        return self._by_path

    def object_module(self, oid: int) -> str | None:
        if oid not in self._objects:
            name = hook.module_of_object(oid)
            if name is None:
                raw = lib.gcp_objects_name(oid)
                path = ffi.string(raw).decode() if raw != ffi.NULL else ""
                name = self._paths().get(os.path.realpath(path)) if path else None
                if name is None and path:
                    name = os.path.basename(path)
            self._objects[oid] = name
        return self._objects[oid]

    def type_module(self, address: int) -> str | None:
        """The module defining the type at address: the extension holding a
        static type, else the type's __module__."""
        if address not in self._type_modules:
            t = self._types[address]
            oid = int(lib.gcp_objects_id_of(address))
            module = self.object_module(oid) if oid not in (0, self._interpreter) else None
            if module is None:
                m = getattr(t, "__module__", None)
                module = m if isinstance(m, str) else None
            self._type_modules[address] = module
        return self._type_modules[address]

    def module(self, oid: int, type_address: int) -> str | None:
        module = self.object_module(oid)
        if module is None and type_address:
            module = self.type_module(type_address)
        return module

    def type_name(self, address: int) -> str | None:
        return _type_name(self._types[address]) if address else None


def _type_array(types: dict[int, type]) -> object:
    return ffi.new("uintptr_t[]", sorted(types))


# The walk's own buffers are scratch memory (native/cpython/scratch.c):
# never routed, so a walk of the whole heap does not count its own records,
# and unmapped when freed, so no list of block addresses outlives it where
# the leak finder would take it for references.
_raw_new = ffi.new_allocator(lib.gcp_scratch_alloc, lib.gcp_scratch_free, False)


def _record_struct() -> struct.Struct:
    """The unpacking of a ``gcp_heap_record`` (native/cpython/heapwalk.c),
    from the layout the C compiler gave it, which reaches Python through
    the cdef: field offsets and sizes, not a format written here again."""
    codes = {1: "B", 2: "H", 4: "I", 8: "Q"}
    fields = ffi.typeof("gcp_heap_record").fields
    assert [name for name, _ in fields] == ["address", "size", "domain", "object", "type"]
    fmt, at = "=", 0
    for _, member in fields:
        if member.offset > at:
            fmt += f"{member.offset - at}x"
        size = ffi.sizeof(member.type)
        fmt += codes[size]
        at = member.offset + size
    total = ffi.sizeof("gcp_heap_record")
    if total > at:
        fmt += f"{total - at}x"
    return struct.Struct(fmt)


_RECORD = _record_struct()


def walk() -> Iterator[HeapBlock]:
    """Yield every live routed block (a snapshot taken when iteration starts)."""
    types = _all_types()
    array = _type_array(types)
    capacity = int(lib.gcp_hook_live(ffi.NULL)) + 1024
    while True:
        records = _raw_new("gcp_heap_record[]", capacity)
        count = int(lib.gcp_heap_walk(records, capacity, array, len(types)))
        if count <= capacity:
            break
        capacity = count + count // 8 + 1024
    namer = _Namer(types)
    # (domain, object, type) -> the record's last three fields
    tails: dict[tuple[int, int, int], tuple[str, str | None, str | None]] = {}
    make = tuple.__new__
    for address, size, domain, oid, tp in _RECORD.iter_unpack(
        ffi.buffer(records, count * _RECORD.size)
    ):
        key = (domain, oid, tp)
        tail = tails.get(key)
        if tail is None:
            tail = tails[key] = (
                _DOMAINS.get(domain, "?"),
                namer.module(oid, tp),
                namer.type_name(tp),
            )
        yield make(HeapBlock, (address, size, *tail))


def summary() -> HeapSummary:
    """Live routed blocks and bytes by module and by type."""
    types = _all_types()
    array = _type_array(types)
    capacity = 1024
    while True:
        groups = _raw_new("gcp_heap_group[]", capacity)
        count = int(lib.gcp_heap_summary(groups, capacity, array, len(types)))
        if count != (1 << (8 * ffi.sizeof("size_t"))) - 1:
            break
        capacity *= 4
    namer = _Namer(types)
    modules: dict[str | None, list[int]] = {}
    by_type: dict[str | None, list[int]] = {}
    pairs: dict[tuple[str | None, str | None], list[int]] = {}
    blocks = nbytes = 0
    for i in range(count):
        g = groups[i]
        module = namer.module(g.object, g.type)
        tname = namer.type_name(g.type)
        for entry in (
            modules.setdefault(module, [0, 0]),
            by_type.setdefault(tname, [0, 0]),
            pairs.setdefault((module, tname), [0, 0]),
        ):
            entry[0] += g.blocks
            entry[1] += g.bytes
        blocks += g.blocks
        nbytes += g.bytes
    return HeapSummary(
        blocks=blocks,
        bytes=nbytes,
        by_module=[
            ModuleUsage(m, b, n)
            for m, (b, n) in sorted(modules.items(), key=lambda kv: (-kv[1][1], str(kv[0])))
        ],
        by_type=[
            TypeUsage(t, b, n)
            for t, (b, n) in sorted(by_type.items(), key=lambda kv: (-kv[1][1], str(kv[0])))
        ],
        by_module_type=[
            ModuleTypeUsage(m, t, b, n)
            for (m, t), (b, n) in sorted(pairs.items(), key=lambda kv: (-kv[1][1], str(kv[0])))
        ],
    )
