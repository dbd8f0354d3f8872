"""The graph test format's wrapper: ``GraphFormat`` over the C format in
graph.h (the MPS client the collector tests allocate with, compiled into
gcp_testing._clients) and ``CorruptObjectError``, raised for a damaged
object.

Implements "the graph test format" of the "Collector" section of
docs/design/python-api.md, over gc_plugin's Format, pools, roots
and threads; a test client, not part of gc_plugin (docs/design/c-api.md).

An address read from Python is only good until the next collection that
may move objects (see gc_plugin.collected's notes on addresses); every
accessor checks that the address lies in a pool of the format first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from gc_plugin import _calls
from gc_plugin._calls import check, check_misuse, ffi, invalid, lib, size_value
from gc_plugin.allocation import AllocationPoint
from gc_plugin.collected import CollectedPool, Format
from gc_plugin.roots import RootTable, Thread
from gcp_testing._ffi import as_int, as_ptr, ffi as tffi, handle, lib as tlib

if TYPE_CHECKING:
    from gc_plugin.arena import Arena

__all__ = ["GraphFormat", "CorruptObjectError"]


class CorruptObjectError(Exception):
    """A graph object was found damaged (wrong kind, id, magic or checksum)."""


_KIND_NAMES = {
    int(tlib.GCP_GRAPH_OBJ): "object",
    int(tlib.GCP_GRAPH_FWD): "forwarding",
    int(tlib.GCP_GRAPH_PAD1): "pad",
    int(tlib.GCP_GRAPH_PADN): "pad",
}
_SIZE_T_MAX = (1 << (8 * tffi.sizeof("size_t"))) - 1
_ULONG_MAX = (1 << (8 * tffi.sizeof("unsigned long"))) - 1


class GraphFormat(Format):
    """The graph test format (graph.h), written in C.

    Objects have ``nrefs`` reference slots and ``ndata`` >= 2 data words
    holding an id and a checksum; ``header_size`` is 0, 8 or 16 (in-band
    headers).  Addresses are client pointers.  Every accessor checks that
    the address lies in a pool of this format (mps_addr_fmt) before reading
    it; the object must still be there (see gc_plugin.collected's notes on
    addresses).
    """

    def __init__(self, arena: Arena, header_size: int = 0) -> None:
        h = size_value(header_size, "header_size")
        if not tlib.gcp_graph_header_ok(h):
            invalid(f"header_size {h} is not 0, 8 or 16")
        fmt_o = tffi.new("mps_fmt_t *")
        res = tlib.gcp_graph_format_create(fmt_o, handle("mps_arena_t", arena._live()), h)
        check(res, "GraphFormat")
        super().__init__(arena, as_int(fmt_o[0]), h, int(tlib.GCP_GRAPH_ALIGN))

    # ---- sizes and allocation -------------------------------------------------

    @staticmethod
    def _counts(nrefs: int, ndata: int) -> tuple[int, int]:
        n = size_value(nrefs, "nrefs")
        m = size_value(ndata, "ndata")
        if n > tlib.GCP_GRAPH_MAX_REFS:
            invalid(f"nrefs {n} is more than {tlib.GCP_GRAPH_MAX_REFS}")
        if m < tlib.GCP_GRAPH_MIN_DATA or m > tlib.GCP_GRAPH_MAX_DATA:
            invalid(
                f"ndata {m} is not between {tlib.GCP_GRAPH_MIN_DATA} and {tlib.GCP_GRAPH_MAX_DATA}"
            )
        return n, m

    @staticmethod
    def _ident(ident: int) -> int:
        if isinstance(ident, bool) or not isinstance(ident, int):
            raise TypeError(f"ident must be an int, not {type(ident).__name__}")
        if ident < 0 or ident > _ULONG_MAX:
            invalid(f"ident {ident} is out of range")
        return ident

    def size(self, nrefs: int, ndata: int) -> int:
        """Bytes of an object with these counts."""
        n, m = self._counts(nrefs, ndata)
        return int(tlib.gcp_graph_size(self._header_size, n, m))

    def _ap_handle(self, ap: AllocationPoint) -> Any:
        if getattr(ap.pool, "format", None) is not self:
            invalid("the allocation point's pool does not use this format")
        return handle("mps_ap_t", ap._live())

    def alloc(self, ap: AllocationPoint, nrefs: int, ndata: int, ident: int) -> int:
        """Allocate an object on ``ap`` (reserve, initialise, commit; retried
        while commit fails); every slot NULL.  Returns its address."""
        n, m = self._counts(nrefs, ndata)
        i = self._ident(ident)
        ap_handle = self._ap_handle(ap)
        obj_o = tffi.new("mps_addr_t *")
        res = tlib.gcp_graph_alloc(obj_o, ap_handle, self._header_size, n, m, i)
        check(res, f"GraphFormat.alloc({n}, {m})")
        return as_int(obj_o[0])

    def init(self, ap: AllocationPoint, base: int, nrefs: int, ndata: int, ident: int) -> int:
        """Write an object into the block ``ap`` has just reserved at ``base``
        (the raw protocol: ap.reserve, init, ap.commit).  Returns the
        object's address (base + header_size)."""
        n, m = self._counts(nrefs, ndata)
        i = self._ident(ident)
        self._ap_handle(ap)
        ap_live = ap._live()
        addr = _calls.address_value(base, "base")
        size = int(tlib.gcp_graph_size(self._header_size, n, m))
        init, alloc = _calls.as_int(ap_live.init), _calls.as_int(ap_live.alloc)
        if addr != init or addr + size != alloc:
            invalid(
                f"{addr:#x}+{size} is not the block reserved on the allocation point "
                f"({init:#x}..{alloc:#x})"
            )
        tlib.gcp_graph_init(as_ptr(addr), self._header_size, n, m, i)
        return addr + self._header_size

    # ---- reading and writing objects --------------------------------------------

    def _obj(self, obj: int, what: str = "object") -> Any:
        addr = _calls.address_value(obj, what)
        fmt_o = ffi.new("mps_fmt_t *")
        found = lib.mps_addr_fmt(fmt_o, self._arena._live(), _calls.as_ptr(addr))
        check_misuse()
        if not found or fmt_o[0] != self._live():
            invalid(f"{what} {addr:#x} is not in a pool of this format")
        if addr % self._alignment != 0:
            invalid(f"{what} {addr:#x} is not aligned")
        return as_ptr(addr)

    def kind(self, obj: int) -> str:
        """What starts at ``obj``: "object", "forwarding", "pad" or "bad"."""
        return _KIND_NAMES.get(int(tlib.gcp_graph_kind(self._obj(obj), self._header_size)), "bad")

    def valid(self, obj: int) -> bool:
        """Whether an intact object (kind, id, magic, checksum) is at ``obj``."""
        return bool(tlib.gcp_graph_valid(self._obj(obj), self._header_size))

    def _intact(self, obj: int) -> Any:
        ptr = self._obj(obj)
        if not tlib.gcp_graph_valid(ptr, self._header_size):
            raise CorruptObjectError(f"no intact object at {obj:#x} (kind {self.kind(obj)})")
        return ptr

    def ident(self, obj: int) -> int:
        """The id the object was allocated with (CorruptObjectError if damaged)."""
        return int(tlib.gcp_graph_id(self._intact(obj), self._header_size))

    def nrefs(self, obj: int) -> int:
        """How many reference slots the object has."""
        return int(tlib.gcp_graph_nrefs(self._intact(obj), self._header_size))

    def ndata(self, obj: int) -> int:
        """How many data words the object has."""
        return int(tlib.gcp_graph_ndata(self._intact(obj), self._header_size))

    def object_size(self, obj: int) -> int:
        """The object's size in bytes (from its base)."""
        return int(tlib.gcp_graph_extent(self._intact(obj), self._header_size))

    def _slot(self, obj: int, index: int) -> tuple[Any, int]:
        ptr = self._intact(obj)
        i = size_value(index, "slot")
        n = int(tlib.gcp_graph_nrefs(ptr, self._header_size))
        if i >= n:
            invalid(f"slot {i} out of range: the object has {n} references")
        return ptr, i

    def ref(self, obj: int, index: int) -> int:
        """The reference in slot ``index`` (0 for NULL)."""
        ptr, i = self._slot(obj, index)
        return as_int(tlib.gcp_graph_ref(ptr, self._header_size, i))

    def refs(self, obj: int) -> list[int]:
        """Every reference slot (0 for NULL)."""
        ptr = self._intact(obj)
        h = self._header_size
        return [
            as_int(tlib.gcp_graph_ref(ptr, h, i)) for i in range(int(tlib.gcp_graph_nrefs(ptr, h)))
        ]

    def set_ref(self, obj: int, index: int, target: int | None) -> None:
        """Store ``target`` (an object of this format, or None / 0 for NULL)
        in slot ``index``.  The slot is an exact reference."""
        ptr, i = self._slot(obj, index)
        value = tffi.NULL if not target else self._intact(target)
        tlib.gcp_graph_set_ref(ptr, self._header_size, i, value)

    # ---- collection with ambiguous references on the C stack -------------------

    def collect_holding(self, thread: Thread, refs: Sequence[int]) -> list[int]:
        """Collect (mps_arena_collect) while ``refs`` are held only on a C
        stack frame that a thread root of ``thread`` (the calling thread)
        covers: they are ambiguous references for that collection, so their
        objects survive and do not move.  Returns the held values after the
        collection (an ambiguous reference is never updated)."""
        values = [_calls.address_value(r, "reference") for r in refs]
        if len(values) > tlib.GCP_GRAPH_HOLD_MAX:
            invalid(f"at most {tlib.GCP_GRAPH_HOLD_MAX} references can be held")
        thread._check_current("collect_holding")
        count = max(len(values), 1)
        held = tffi.new("mps_addr_t[]", count)
        after = tffi.new("mps_addr_t[]", count)
        for i, value in enumerate(values):
            held[i] = as_ptr(value)
        res = tlib.gcp_graph_collect_holding(
            handle("mps_arena_t", self._arena._live()),
            handle("mps_thr_t", thread._live()),
            held,
            len(values),
            after,
        )
        check(res, "GraphFormat.collect_holding")
        return [as_int(after[i]) for i in range(len(values))]

    # ---- walks and diagnostics ---------------------------------------------------

    def _walk_pool(self, pool: CollectedPool) -> list[int]:
        pool_handle = handle("mps_pool_t", pool._live())
        count_o = tffi.new("size_t *")
        cap = 1024
        while True:
            out = tffi.new("mps_addr_t[]", cap)
            res = tlib.gcp_graph_pool_walk(pool_handle, self._header_size, out, cap, count_o)
            check(res, f"{pool.class_name}.walk")
            count = int(count_o[0])
            if count <= cap:
                return [as_int(out[i]) for i in range(count)]
            cap = count * 2

    def errors(self) -> tuple[int, int, int]:
        """(count, first address, its header word) of the bad headers the
        format's methods have met (process-wide, every graph format)."""
        addr_o = tffi.new("mps_addr_t *")
        header_o = tffi.new("mps_word_t *")
        count = int(tlib.gcp_graph_errors(addr_o, header_o))
        return count, as_int(addr_o[0]), int(header_o[0])

    @staticmethod
    def reset_errors() -> None:
        """Forget the bad headers met so far."""
        tlib.gcp_graph_errors_reset()

    # ---- path operations (no address leaves C) ------------------------------------

    def _table_args(self, table: RootTable, index: int, path: Sequence[int]) -> tuple[int, Any]:
        i = size_value(index, "index")
        if i >= len(table):
            invalid(f"index {i} out of range for a table of {len(table)}")
        steps = [size_value(s, "path step") for s in path]
        return i, tffi.new("size_t[]", steps or [0])

    @staticmethod
    def _path_error(code: int, what: str) -> Exception:
        if code == -1:
            return LookupError(f"{what}: the path meets NULL")
        if code == -3:
            return IndexError(f"{what}: a slot number on the path is out of range")
        return CorruptObjectError(f"{what}: the path meets a damaged object")

    def alloc_into(
        self,
        ap: AllocationPoint,
        table: RootTable,
        index: int,
        nrefs: int,
        ndata: int,
        ident: int,
    ) -> None:
        """Allocate an object and store it in ``table[index]`` in one call (the
        address never reaches Python)."""
        n, m = self._counts(nrefs, ndata)
        i = self._ident(ident)
        slot, _ = self._table_args(table, index, ())
        ap_handle = self._ap_handle(ap)
        array = handle("mps_addr_t *", table._array_live())
        res = tlib.gcp_graph_alloc_into(ap_handle, self._header_size, array, slot, n, m, i)
        check(res, f"GraphFormat.alloc_into({n}, {m})")

    def path_link(
        self,
        table: RootTable,
        src: int,
        src_path: Sequence[int],
        slot: int,
        dst: int | None,
        dst_path: Sequence[int] = (),
    ) -> None:
        """Set slot ``slot`` of the object reached from ``table[src]`` along
        ``src_path`` (slot numbers) to the object reached from ``table[dst]``
        along ``dst_path`` (NULL if ``dst`` is None)."""
        s, spath = self._table_args(table, src, src_path)
        if dst is None:
            d, dpath, ddepth = _SIZE_T_MAX, tffi.new("size_t[]", 1), 0
        else:
            d, dpath = self._table_args(table, dst, dst_path)
            ddepth = len(dst_path)
        code = tlib.gcp_graph_path_link(
            self._header_size,
            handle("mps_addr_t *", table._array_live()),
            s,
            spath,
            len(src_path),
            size_value(slot, "slot"),
            d,
            dpath,
            ddepth,
        )
        if code != 0:
            raise self._path_error(int(code), "GraphFormat.path_link")

    def path_read(
        self, table: RootTable, index: int, path: Sequence[int] = ()
    ) -> tuple[int, list[int]]:
        """(id, ids of its reference targets (0 for NULL)) of the object
        reached from ``table[index]`` along ``path``."""
        i, cpath = self._table_args(table, index, path)
        id_o = tffi.new("unsigned long *")
        cap = 64
        ref_ids = tffi.new("unsigned long[]", cap)
        array = handle("mps_addr_t *", table._array_live())
        n = int(
            tlib.gcp_graph_path_read(
                self._header_size, array, i, cpath, len(path), id_o, ref_ids, cap
            )
        )
        if n < 0:
            raise self._path_error(n, "GraphFormat.path_read")
        if n > cap:
            invalid(f"the object has {n} references; path_read reads at most {cap}")
        return int(id_o[0]), [int(ref_ids[k]) for k in range(n)]
