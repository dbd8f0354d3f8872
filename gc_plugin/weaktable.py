"""The weak table test client's wrapper: ``WeakTableFormat`` and
``WeakTable`` over native/testfmt/weaktable.h, an address-hashed table with
weak keys or weak values in an AWL pool (two arrays, each the other's
dependent object; a location dependency triggers rehashing).

Implements "the weak table" of the "Non-moving pools and weakness" part of
docs/design/python-api.md.  Keys and values are addresses of objects in
collected pools of the same arena (the tests use GraphFormat objects); like
every address read from Python they are only good until the next collection
that may move objects, so call with the arena parked or keep the objects in
a RootTable and read their addresses afresh.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gc_plugin import _calls
from gc_plugin._calls import check, ffi, lib, size_value
from gc_plugin.allocation import _PoolChild
from gc_plugin.collected import Chain, Format
from gc_plugin.nonmoving import AWLPool

if TYPE_CHECKING:
    from gc_plugin.arena import Arena

__all__ = ["WeakTableFormat", "WeakTable"]


class WeakTableFormat(Format):
    """The format of the weak table's arrays (word-tagged, AWL-friendly)."""

    def __init__(self, arena: Arena) -> None:
        handle = arena._create_child("mps_fmt_t *", "WeakTableFormat", lib.gcp_wtable_format_create)
        super().__init__(arena, handle, 0, 8)

    def pool(self, chain: Chain | None = None) -> AWLPool:
        """An AWL pool for tables, with the tables' find-dependent method."""
        handle = self.arena._create_child(
            "mps_pool_t *",
            "WeakTableFormat.pool",
            lib.gcp_wtable_pool_create,
            self._live(),
            chain._live() if chain is not None else ffi.NULL,
        )
        return AWLPool(self.arena, handle, self, chain)


class WeakTable(_PoolChild):
    """A table with weak keys (``weak_keys=True``) or weak values in
    ``pool`` (from ``WeakTableFormat.pool``)."""

    _kind = "weak table"

    def __init__(self, pool: AWLPool, weak_keys: bool = True, capacity: int = 8) -> None:
        if not isinstance(pool, AWLPool) or not isinstance(pool.format, WeakTableFormat):
            raise TypeError("a WeakTable needs a pool made by WeakTableFormat.pool")
        out = ffi.new("gcp_wtable_t *")
        check(
            lib.gcp_wtable_create(
                out,
                pool.arena._live(),
                pool._live(),
                int(bool(weak_keys)),
                size_value(capacity, "capacity"),
            ),
            "WeakTable",
        )
        super().__init__(pool, out[0])
        self._weak_keys = bool(weak_keys)

    def _destroy_handle(self, handle: Any) -> None:
        lib.gcp_wtable_destroy(handle)

    @property
    def weak_keys(self) -> bool:
        """True: weak keys, strong values; False: strong keys, weak values."""
        return self._weak_keys

    def put(self, key: int, value: int) -> None:
        """Insert or replace the entry of ``key``."""
        k = _calls.as_ptr(_calls.address_value(key, "key"))
        v = _calls.as_ptr(_calls.address_value(value, "value"))
        check(lib.gcp_wtable_put(self._live(), k, v), "WeakTable.put")

    def get(self, key: int) -> int | None:
        """The value of ``key``, or None."""
        v = lib.gcp_wtable_get(self._live(), _calls.as_ptr(_calls.address_value(key, "key")))
        return None if v == ffi.NULL else _calls.as_int(v)

    def remove(self, key: int) -> bool:
        """Remove the entry of ``key``; False if there was none."""
        k = _calls.as_ptr(_calls.address_value(key, "key"))
        return bool(lib.gcp_wtable_remove(self._live(), k))

    def __len__(self) -> int:
        return int(lib.gcp_wtable_count(self._live()))

    @property
    def splatted(self) -> int:
        """Entries the collector deleted because their weak side died."""
        return int(lib.gcp_wtable_splatted(self._live()))

    @property
    def rehashes(self) -> int:
        """Rehashes a stale location dependency caused."""
        return int(lib.gcp_wtable_rehashes(self._live()))

    def items(self) -> list[tuple[int, int]]:
        """Every live entry as (key address, value address)."""
        handle = self._live()
        n = int(lib.gcp_wtable_entries(handle, ffi.NULL, ffi.NULL, 0))
        keys = ffi.new("mps_addr_t[]", max(n, 1))
        values = ffi.new("mps_addr_t[]", max(n, 1))
        m = int(lib.gcp_wtable_entries(handle, keys, values, n))
        return [(_calls.as_int(keys[i]), _calls.as_int(values[i])) for i in range(min(n, m))]
