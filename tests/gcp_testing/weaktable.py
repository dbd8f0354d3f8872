"""The weak table test client's wrapper: ``WeakTableFormat`` and
``WeakTable`` over weaktable.h (compiled into gcp_testing._clients), an
address-hashed table with
weak keys or weak values in an AWL pool (two arrays, each the other's
dependent object; a location dependency triggers rehashing).

Implements "the weak table" of the "Non-moving pools and weakness" part of
docs/design/python-api.md; a test client, not part of gc_plugin
(docs/design/c-api.md).  Keys and values are addresses of objects in
collected pools of the same arena (the tests use GraphFormat objects); like
every address read from Python they are only good until the next collection
that may move objects, so call with the arena parked or keep the objects in
a RootTable and read their addresses afresh.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gc_plugin import _calls
from gc_plugin._calls import check, size_value
from gc_plugin.allocation import _PoolChild
from gc_plugin.collected import Chain, Format
from gc_plugin.nonmoving import AWLPool
from gcp_testing._ffi import as_int, as_ptr, ffi as tffi, handle, lib as tlib

if TYPE_CHECKING:
    from gc_plugin.arena import Arena

__all__ = ["WeakTableFormat", "WeakTable"]


class WeakTableFormat(Format):
    """The format of the weak table's arrays (word-tagged, AWL-friendly)."""

    def __init__(self, arena: Arena) -> None:
        fmt_o = tffi.new("mps_fmt_t *")
        res = tlib.gcp_wtable_format_create(fmt_o, handle("mps_arena_t", arena._live()), 0)
        check(res, "WeakTableFormat")
        super().__init__(arena, as_int(fmt_o[0]), 0, 8)

    def pool(self, chain: Chain | None = None) -> AWLPool:
        """An AWL pool for tables, with the tables' find-dependent method."""
        pool_o = tffi.new("mps_pool_t *")
        res = tlib.gcp_wtable_pool_create(
            pool_o,
            handle("mps_arena_t", self.arena._live()),
            handle("mps_fmt_t", self._live()),
            handle("mps_chain_t", chain._live()) if chain is not None else tffi.NULL,
            0,
        )
        check(res, "WeakTableFormat.pool")
        return AWLPool(self.arena, _calls.ffi.cast("mps_pool_t", as_int(pool_o[0])), self, chain)


class WeakTable(_PoolChild):
    """A table with weak keys (``weak_keys=True``) or weak values in
    ``pool`` (from ``WeakTableFormat.pool``)."""

    _kind = "weak table"

    def __init__(self, pool: AWLPool, weak_keys: bool = True, capacity: int = 8) -> None:
        if not isinstance(pool, AWLPool) or not isinstance(pool.format, WeakTableFormat):
            raise TypeError("a WeakTable needs a pool made by WeakTableFormat.pool")
        out = tffi.new("gcp_wtable_t *")
        check(
            tlib.gcp_wtable_create(
                out,
                handle("mps_arena_t", pool.arena._live()),
                handle("mps_pool_t", pool._live()),
                0,
                int(bool(weak_keys)),
                size_value(capacity, "capacity"),
            ),
            "WeakTable",
        )
        super().__init__(pool, out[0])
        self._weak_keys = bool(weak_keys)

    def _destroy_handle(self, handle: Any) -> None:
        tlib.gcp_wtable_destroy(handle)

    @property
    def weak_keys(self) -> bool:
        """True: weak keys, strong values; False: strong keys, weak values."""
        return self._weak_keys

    def put(self, key: int, value: int) -> None:
        """Insert or replace the entry of ``key``."""
        k = as_ptr(_calls.address_value(key, "key"))
        v = as_ptr(_calls.address_value(value, "value"))
        check(tlib.gcp_wtable_put(self._live(), k, v), "WeakTable.put")

    def get(self, key: int) -> int | None:
        """The value of ``key``, or None."""
        v = tlib.gcp_wtable_get(self._live(), as_ptr(_calls.address_value(key, "key")))
        return None if v == tffi.NULL else as_int(v)

    def remove(self, key: int) -> bool:
        """Remove the entry of ``key``; False if there was none."""
        k = as_ptr(_calls.address_value(key, "key"))
        return bool(tlib.gcp_wtable_remove(self._live(), k))

    def __len__(self) -> int:
        return int(tlib.gcp_wtable_count(self._live()))

    @property
    def splatted(self) -> int:
        """Entries the collector deleted because their weak side died."""
        return int(tlib.gcp_wtable_splatted(self._live()))

    @property
    def rehashes(self) -> int:
        """Rehashes a stale location dependency caused."""
        return int(tlib.gcp_wtable_rehashes(self._live()))

    def items(self) -> list[tuple[int, int]]:
        """Every live entry as (key address, value address)."""
        table = self._live()
        n = int(tlib.gcp_wtable_entries(table, tffi.NULL, tffi.NULL, 0))
        keys = tffi.new("mps_addr_t[]", max(n, 1))
        values = tffi.new("mps_addr_t[]", max(n, 1))
        m = int(tlib.gcp_wtable_entries(table, keys, values, n))
        return [(as_int(keys[i]), as_int(values[i])) for i in range(min(n, m))]
