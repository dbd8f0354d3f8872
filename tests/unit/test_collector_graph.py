"""Randomized object graphs in the collected pools (AMC, AMCZ, LO), checked
against a reachability model computed in Python from the model's own roots
and edges, never from the heap.

GraphMachine (hypothesis RuleBasedStateMachine) draws a graph format
(header size 0, 8 or 16), an AMC pool (interior pointers on or off, the
default chain or a drawn one) and AMCZ and LO pools for leaf objects.  The
arena is parked throughout, so objects move only in the collections the
machine asks for, and the main thread is registered.  Rules:

* allocate objects (random reference and data counts; now and then a
  large one that gets a segment of its own) in AMC, and leaf objects in
  AMCZ and LO, storing each in an exact root table slot, in a reference
  slot of a known AMC object, or nowhere (garbage at once);
* rewire: set / clear root table slots and reference slots;
* collect (mps_arena_collect) with no ambiguous root at all, or with some
  objects held only on a C stack (GraphFormat.collect_holding, a thread
  root over one C frame);
* register objects for finalization, definalize them (and definalize
  unregistered ones: False), discard finalization messages (now and then
  after storing the object back into a root: resurrection);
* detach the allocation points (destroy and recreate one), so that the
  segments they filled can be evacuated.

After every collection the model is checked (``_collection``):

* finalization: messages arrive only for registered objects that were not
  strongly reachable (from the table, held, or pending messages), exactly
  once each, at the latest for those not reachable from another candidate;
  their ref leads to the intact object; registered objects and all they
  refer to survive;
* every object the model says is alive survives with its id, checksum
  and reference counts, and every reference leads to the right object
  (addresses re-read from the root table, the slots and the messages; an
  object reached twice is at one address; live objects that nothing leads
  to, kept by a registration, are found through the walk);
* ambiguously held objects did not move (the held values are unchanged,
  and exact references to them still hold the same address);
* the formatted-objects walk finds each live object exactly once, at its
  address, in its pool; after a collection with no ambiguous roots it
  finds nothing else (garbage was reclaimed; a collection with held
  objects may keep dead objects of pinned segments); AMC/AMCZ/LO pool
  walks agree with it;
* if an exactly-referenced object moved, mps_collections advanced; LO
  objects did not move; LO bytes in use are at least the live LO objects'
  and drop when LO garbage is reclaimed.

Invariant after every step: arena.check() and every pool's check() hold
(gcp_arena_consistent / gcp_pool_consistent), the format's methods met no
bad header, and every object with a known address is intact.

Deterministic tests at the end: exactly held objects move in a moving
collection (and location dependencies go stale), ambiguously held ones do
not, garbage is reclaimed and free space grows, and the walks agree.

The kinds of objects (which pool, which allocation point rank) are class
attributes of GraphMachine: test_collector_weak_graph.py extends the
machine with AMS and AWL objects of every rank, and the model and checks
here already cover them (a weak object's references keep nothing alive and
are NULL after a collection iff their target did not survive; ambiguous
references keep and pin their targets; objects of non-moving kinds never
move).

Hypothesis prints failing steps and a reproduction blob; replay with
--hypothesis-seed=N; soak with GCP_TEST_EXAMPLES=N.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import ClassVar

import pytest
from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

import gc_plugin
from gc_plugin import MessageType
from gcp_testing import GraphFormat

SETTINGS = settings(
    max_examples=int(os.environ.get("GCP_TEST_EXAMPLES", "150")),
    stateful_step_count=45,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

ROOT_SLOTS = 24


@dataclass
class Obj:
    """The model of one object: where it lives and what it refers to."""

    kind: str  # the allocation point it came from: "amc", "amcz", "lo", ...
    nrefs: int
    ndata: int
    size: int
    refs: list[int | None] = field(default_factory=list)
    rank: str = "exact"  # of its references: "exact", "ambig" or "weak"


def strong_refs(obj: Obj) -> list[int]:
    """The objects ``obj`` keeps alive: what its slots refer to, unless
    they are weak (ambiguous slots keep their targets like exact ones)."""
    if obj.rank == "weak":
        return []
    return [r for r in obj.refs if r is not None]


def closure(objs: dict[int, Obj], starts: set[int]) -> set[int]:
    """Every object reachable from ``starts`` along the model's strong
    edges (a weak slot keeps nothing alive)."""
    seen: set[int] = set()
    stack = list(starts)
    while stack:
        ident = stack.pop()
        if ident in seen:
            continue
        seen.add(ident)
        stack.extend(strong_refs(objs[ident]))
    return seen


class GraphMachine(RuleBasedStateMachine):
    # The kinds of objects: each is allocated on an allocation point of its
    # own, in pool POOL[kind], with references of rank RANK[kind] (default
    # exact; the allocation point gets that rank if one is given).
    # test_collector_weak_graph.py extends them.
    KINDS: ClassVar[tuple[str, ...]] = ("amc", "amcz", "lo")
    POOL: ClassVar[dict[str, str]] = {"amc": "amc", "amcz": "amcz", "lo": "lo"}
    RANK: ClassVar[dict[str, str]] = {}
    SCANNED: ClassVar[tuple[str, ...]] = ("amc",)  # kinds with reference slots
    LEAF_KINDS: ClassVar[tuple[str, ...]] = ("amcz", "lo")
    MOVING: ClassVar[tuple[str, ...]] = ("amc", "amcz")  # kinds whose objects may move
    STRUCTURE_KINDS: ClassVar[tuple[str, ...]] = ("amc", "amc", "amc", "amcz", "lo")
    # Non-moving pools: their bytes in use must drop when garbage is reclaimed.
    SWEPT_POOLS: ClassVar[tuple[str, ...]] = ("lo",)

    def __init__(self) -> None:
        super().__init__()
        self.arena = gc_plugin.Arena()
        self.thread = self.arena.register_thread()
        self.arena.park()
        self.arena.enable_messages(MessageType.FINALIZATION, MessageType.GC, MessageType.GC_START)
        GraphFormat.reset_errors()
        self.fmt: GraphFormat | None = None
        self.pools: dict[str, gc_plugin.CollectedPool] = {}
        self.aps: dict[str, gc_plugin.CollectedAllocationPoint] = {}
        self.table: gc_plugin.RootTable | None = None
        # the model
        self.objs: dict[int, Obj] = {}
        self.addr: dict[int, int] = {}  # known addresses (until the next collection)
        self.roots: list[int | None] = [None] * ROOT_SLOTS
        self.registered: set[int] = set()  # finalization registrations, no message yet
        self.pending: dict[int, gc_plugin.Message] = {}  # finalization messages not discarded
        self.discarded: set[int] = set()  # objects whose finalization message was discarded
        self.next_id = 1
        self.collects = 0

    # ---- set-up ------------------------------------------------------------------

    @initialize(
        header=st.sampled_from([0, 8, 16]),
        interior=st.sampled_from([None, True, False]),
        gens=st.sampled_from([None, [(64, 0.9)], [(128, 0.8), (512, 0.5)], [(16, 0.5)] * 3]),
        lo_gen=st.sampled_from([None, 0, 1]),
    )
    def setup(
        self,
        header: int,
        interior: bool | None,
        gens: list[tuple[int, float]] | None,
        lo_gen: int | None,
    ) -> None:
        arena = self.arena
        self.fmt = GraphFormat(arena, header)
        chain = arena.chain(gens) if gens is not None else None
        if chain is None or lo_gen is not None and lo_gen >= len(chain.generations):
            lo_gen = None
        self.pools = {
            "amc": arena.amc(self.fmt, chain, interior=interior),
            "amcz": arena.amcz(self.fmt, chain, interior=interior),
            "lo": arena.lo(self.fmt, chain, gen=lo_gen),
        }
        assert [self.pools[k].class_name for k in ("amc", "amcz", "lo")] == ["AMC", "AMCZ", "LO"]
        for pool in self.pools.values():
            assert pool.alignment == 8 and pool.format is self.fmt
        for kind in self.KINDS:
            self.aps[kind] = self._new_ap(kind)
        self.table = arena.root_table(ROOT_SLOTS)

    def _ready(self) -> bool:
        return self.fmt is not None

    # ---- helpers -------------------------------------------------------------------

    @property
    def f(self) -> GraphFormat:
        assert self.fmt is not None
        return self.fmt

    @property
    def t(self) -> gc_plugin.RootTable:
        assert self.table is not None
        return self.table

    def _known(self, kinds: tuple[str, ...] | None = None, with_refs: bool = False) -> list[int]:
        kinds = self.KINDS if kinds is None else kinds
        return sorted(
            i
            for i in self.addr
            if self.objs[i].kind in kinds and (not with_refs or self.objs[i].nrefs > 0)
        )

    def _new_ap(self, kind: str) -> gc_plugin.CollectedAllocationPoint:
        return self.pools[self.POOL[kind]].allocation_point(rank=self.RANK.get(kind))

    def _target(self, data: st.DataObject, label: str) -> int | None:
        known = self._known()
        if not known or data.draw(st.integers(0, 4), label=f"{label} is NULL") == 0:
            return None
        return data.draw(st.sampled_from(known), label=label)

    def _new(self, kind: str, nrefs: int, ndata: int) -> int:
        ident = self.next_id
        self.next_id += 1
        address = self.f.alloc(self.aps[kind], nrefs, ndata, ident)
        assert address % 8 == 0
        assert self.f.ident(address) == ident and self.f.nrefs(address) == nrefs
        assert self.f.refs(address) == [0] * nrefs
        self.objs[ident] = Obj(
            kind,
            nrefs,
            ndata,
            self.f.size(nrefs, ndata),
            [None] * nrefs,
            self.RANK.get(kind, "exact"),
        )
        self.addr[ident] = address
        assert self.arena.addr_pool(address) is self.pools[self.POOL[kind]]
        return ident

    def _place(self, data: st.DataObject, ident: int) -> None:
        """Store a new object in a root slot, a reference slot, or nowhere."""
        where = data.draw(st.sampled_from(["root", "slot", "slot", "nowhere"]), label="place")
        if where == "root":
            slot = data.draw(st.integers(0, ROOT_SLOTS - 1), label="root slot")
            self._set_root(slot, ident)
        elif where == "slot":
            holders = [i for i in self._known(self.SCANNED, with_refs=True) if i != ident]
            if holders:
                src = data.draw(st.sampled_from(holders), label="holder")
                slot = data.draw(st.integers(0, self.objs[src].nrefs - 1), label="slot")
                self._set_ref(src, slot, ident)

    def _set_root(self, slot: int, ident: int | None) -> None:
        self.t[slot] = self.addr[ident] if ident is not None else 0
        self.roots[slot] = ident

    def _set_ref(self, src: int, slot: int, ident: int | None) -> None:
        self.f.set_ref(self.addr[src], slot, self.addr[ident] if ident is not None else None)
        self.objs[src].refs[slot] = ident

    # ---- allocation rules ------------------------------------------------------------

    @precondition(_ready)
    @rule(data=st.data(), nrefs=st.integers(0, 5), ndata=st.integers(2, 6))
    def alloc_scanned(self, data: st.DataObject, nrefs: int, ndata: int) -> None:
        kind = data.draw(st.sampled_from(self.SCANNED), label="kind")
        ident = self._new(kind, nrefs, ndata)
        # Sometimes fill the new object's slots straight away.
        for slot in range(nrefs):
            if data.draw(st.booleans(), label=f"fill slot {slot}"):
                self._set_ref(ident, slot, self._target(data, "target"))
        self._place(data, ident)

    @precondition(_ready)
    @rule(data=st.data(), ndata=st.integers(2, 40))
    def alloc_leaf(self, data: st.DataObject, ndata: int) -> None:
        kind = data.draw(st.sampled_from(self.LEAF_KINDS), label="kind")
        self._place(data, self._new(kind, 0, ndata))

    @precondition(_ready)
    @rule(data=st.data(), ndata=st.integers(4000, 9000))
    def alloc_large(self, data: st.DataObject, ndata: int) -> None:
        """Larger than the AMC pools' large size: a segment of its own."""
        kind = data.draw(st.sampled_from(self.KINDS), label="kind")
        nrefs = 2 if kind in self.SCANNED else 0
        self._place(data, self._new(kind, nrefs, ndata))

    @precondition(_ready)
    @rule(data=st.data(), count=st.integers(3, 25))
    def alloc_structure(self, data: st.DataObject, count: int) -> None:
        """A small random graph: each new object refers to earlier ones (or
        to known objects); the first is stored somewhere."""
        made: list[int] = []
        for _ in range(count):
            kind = data.draw(st.sampled_from(self.STRUCTURE_KINDS), label="kind")
            nrefs = data.draw(st.integers(0, 4), label="nrefs") if kind in self.SCANNED else 0
            ident = self._new(kind, nrefs, data.draw(st.integers(2, 5), label="ndata"))
            pool = made + self._known()[-10:]
            for slot in range(nrefs):
                if pool and data.draw(st.integers(0, 3), label="link") > 0:
                    self._set_ref(ident, slot, data.draw(st.sampled_from(pool), label="to"))
            made.append(ident)
        self._place(data, made[-1])

    @precondition(_ready)
    @rule(data=st.data(), count=st.integers(10, 120))
    def alloc_garbage(self, data: st.DataObject, count: int) -> None:
        """Many small objects, only the last one kept anywhere."""
        kind = data.draw(st.sampled_from(self.SCANNED), label="kind")
        last = 0
        for _ in range(count):
            last = self._new(kind, 1, 2)
        self._place(data, last)

    # ---- rewiring ----------------------------------------------------------------------

    @precondition(_ready)
    @rule(data=st.data(), slot=st.integers(0, ROOT_SLOTS - 1))
    def set_root(self, data: st.DataObject, slot: int) -> None:
        self._set_root(slot, self._target(data, "root target"))

    @precondition(lambda self: self._ready() and bool(self._known(self.SCANNED, with_refs=True)))
    @rule(data=st.data())
    def set_ref(self, data: st.DataObject) -> None:
        src = data.draw(st.sampled_from(self._known(self.SCANNED, with_refs=True)), label="source")
        slot = data.draw(st.integers(0, self.objs[src].nrefs - 1), label="slot")
        self._set_ref(src, slot, self._target(data, "target"))

    @precondition(_ready)
    @rule(data=st.data())
    def detach_ap(self, data: st.DataObject) -> None:
        """A new allocation point: the old buffer's segment is no longer
        attached, so a collection may evacuate it."""
        kind = data.draw(st.sampled_from(self.KINDS), label="kind")
        self.aps[kind].destroy()
        self.aps[kind] = self._new_ap(kind)

    # ---- finalization --------------------------------------------------------------------

    @precondition(lambda self: self._ready() and bool(self.addr))
    @rule(data=st.data())
    def finalize(self, data: st.DataObject) -> None:
        choices = [i for i in self._known() if i not in self.registered and i not in self.pending]
        if not choices:
            return
        ident = data.draw(st.sampled_from(choices), label="finalize")
        self.arena.finalize(self.addr[ident])
        self.registered.add(ident)

    @precondition(lambda self: self._ready() and bool(self.addr))
    @rule(data=st.data())
    def definalize(self, data: st.DataObject) -> None:
        ident = data.draw(st.sampled_from(self._known()), label="definalize")
        expected = ident in self.registered
        assert self.arena.definalize(self.addr[ident]) is expected, (
            f"definalize of object {ident} (registered: {expected})"
        )
        self.registered.discard(ident)

    @precondition(lambda self: bool(self.pending))
    @rule(data=st.data(), resurrect=st.booleans())
    def discard_message(self, data: st.DataObject, resurrect: bool) -> None:
        ident = data.draw(st.sampled_from(sorted(self.pending)), label="message of")
        message = self.pending.pop(ident)
        self.discarded.add(ident)
        address = message.finalization_ref()
        assert address == self.addr[ident]
        if resurrect:
            slot = data.draw(st.integers(0, ROOT_SLOTS - 1), label="root slot")
            self._set_root(slot, ident)
        message.discard()
        assert message.destroyed

    # ---- collections ------------------------------------------------------------------------

    @precondition(_ready)
    @rule()
    def collect(self) -> None:
        self._collection({})

    @precondition(lambda self: self._ready() and bool(self.addr))
    @rule(data=st.data())
    def collect_holding(self, data: st.DataObject) -> None:
        known = self._known()
        chosen = data.draw(
            st.lists(st.sampled_from(known), min_size=1, max_size=min(8, len(known)), unique=True),
            label="held",
        )
        self._collection({i: self.addr[i] for i in chosen})

    def _strong(self, held: dict[int, int]) -> set[int]:
        starts = {i for i in self.roots if i is not None} | set(held) | set(self.pending)
        return closure(self.objs, starts)

    def _collection(self, held: dict[int, int]) -> None:
        f, arena = self.f, self.arena
        # ---- what the model predicts, from the model alone
        strong = self._strong(held)
        candidates = self.registered - strong
        must: set[int] = set()
        for c in candidates:
            others = {r for o in candidates if o != c for r in strong_refs(self.objs[o])}
            if c not in closure(self.objs, others):
                must.add(c)
        # What survives: the strongly reachable, and what finalization keeps
        # (registered objects, finalized now or not, and all they refer to).
        # A weak reference to anything else must be NULL afterwards.
        live = closure(self.objs, strong | self.registered)
        # Non-moving pools: (bytes in use, bytes of live objects, any garbage?)
        swept = {
            name: (
                self.pools[name].total_size - self.pools[name].free_size,
                sum(
                    o.size for i, o in self.objs.items() if i in live and self.POOL[o.kind] == name
                ),
                any(i not in live for i, o in self.objs.items() if self.POOL[o.kind] == name),
            )
            for name in self.SWEPT_POOLS
        }
        old_addr = dict(self.addr)
        epoch = arena.collection_count
        heap_bytes = sum(p.total_size for p in self.pools.values())

        # ---- collect
        if held:
            ids = sorted(held)
            after = f.collect_holding(self.thread, [held[i] for i in ids])
            assert after == [held[i] for i in ids], "an ambiguous reference was changed"
        else:
            arena.collect()
        self.collects += 1

        # ---- messages
        starts = arena.take_messages(MessageType.GC_START)
        ends = arena.take_messages(MessageType.GC)
        assert len(starts) == len(ends), (starts, ends)
        if heap_bytes > 0:
            assert len(starts) >= 1, "a collection of a non-empty heap posted no GC messages"
        for s in starts:
            assert isinstance(s, gc_plugin.GCStartInfo) and s.why
        for e in ends:
            assert isinstance(e, gc_plugin.GCInfo)
            assert e.live_size <= e.condemned_size, e
            assert e.condemned_size + e.not_condemned_size <= heap_bytes, (
                f"{e}: more condemned than the {heap_bytes} bytes of the pools"
            )
        finalized: set[int] = set()
        while (message := arena.get_message(MessageType.FINALIZATION)) is not None:
            ref = message.finalization_ref()
            assert f.valid(ref), f"finalization message ref {ref:#x} is not an intact object"
            ident = f.ident(ref)
            assert ident in candidates, (
                f"finalization message for object {ident}, which was strongly reachable "
                f"or not registered (registered {sorted(self.registered)}, "
                f"candidates {sorted(candidates)})"
            )
            assert ident not in finalized, f"two finalization messages for object {ident}"
            finalized.add(ident)
            self.pending[ident] = message
        assert must <= finalized, (
            f"no finalization message for {sorted(must - finalized)} "
            f"(unreachable registered objects); got {sorted(finalized)}"
        )
        self.registered -= finalized

        # ---- addresses, re-read from the heap; contents
        addr: dict[int, int] = {}
        splatted: set[int] = set()  # targets of weak slots found NULL

        def found(ident: int, address: int, via: str) -> None:
            obj = self.objs[ident]
            assert address != 0, f"{via}: object {ident} became NULL"
            assert f.valid(address), f"{via}: no intact object at {address:#x} (object {ident})"
            assert f.ident(address) == ident, (
                f"{via}: {address:#x} holds object {f.ident(address)}, not {ident}"
            )
            assert f.nrefs(address) == obj.nrefs and f.ndata(address) == obj.ndata
            if ident in addr:
                assert addr[ident] == address, (
                    f"{via}: object {ident} at {address:#x} and at {addr[ident]:#x}"
                )
            addr[ident] = address

        def follow(stack: list[int]) -> None:
            """Check the slots of the objects on ``stack`` (found already) and
            of every object they lead to."""
            while stack:
                ident = stack.pop()
                obj = self.objs[ident]
                refs = f.refs(addr[ident])
                for slot, target in enumerate(obj.refs):
                    via = f"object {ident} slot {slot}"
                    if target is None:
                        assert refs[slot] == 0, f"{via}: NULL became {refs[slot]:#x}"
                        continue
                    if obj.rank == "weak" and target not in live:
                        if refs[slot] == 0:  # splatted, as it must be
                            splatted.add(target)
                            obj.refs[slot] = None
                            continue
                        assert held, (
                            f"{via}: a weak reference to object {target}, which nothing kept "
                            f"alive (not strongly reachable, not registered for finalization), "
                            f"was not splatted: it is {refs[slot]:#x}"
                        )
                        # A stale word on the C stack may have kept it: then it
                        # is intact and so is all it refers to, and no weak
                        # reference to any of that was splatted.
                        kept = closure(self.objs, {target}) - live
                        assert not kept & splatted, (
                            f"{via}: object {target} survived, but weak references to "
                            f"{sorted(kept & splatted)} were splatted"
                        )
                        live.update(kept)
                    new = target not in addr
                    found(target, refs[slot], via)
                    if new:
                        stack.append(target)

        for slot, root in enumerate(self.roots):
            if root is not None:
                found(root, self.t[slot], f"root slot {slot}")
            else:
                assert self.t[slot] == 0
        for ident, address in held.items():
            found(ident, address, "held")
        for ident, message in self.pending.items():
            found(ident, message.finalization_ref(), "finalization message")
        follow(list(addr))

        # ---- the heap holds the live objects, once each, and (with no
        # ambiguous roots) nothing else
        walked: dict[int, int] = {}
        items = [o for o in arena.formatted_objects() if f.kind(o.address) == "object"]
        for item in items:
            assert f.valid(item.address), f"walk: damaged object at {item.address:#x}"
            ident = f.ident(item.address)
            assert ident not in walked, (
                f"walk: object {ident} at {walked[ident]:#x} and at {item.address:#x}"
            )
            walked[ident] = item.address
            assert item.format is f
            if ident in self.objs:
                assert item.pool is self.pools[self.POOL[self.objs[ident].kind]]
        missing = live - set(walked)
        assert not missing, f"live objects {sorted(missing)[:10]} are not in the walk"
        # Live objects no root, held reference or message leads to (kept by a
        # registration that was not finalized yet): found through the walk.
        for ident in sorted(live - set(addr)):
            found(ident, walked[ident], "the walk")
            follow([ident])
        unexpected = set(addr) - live
        assert not unexpected, (
            f"objects {sorted(unexpected)[:10]} were reached, but the model has them dead"
        )
        extra = set(walked) - live
        if not held:
            assert not extra, (
                f"unreachable objects {sorted(extra)[:10]} survived a collection with no "
                "ambiguous roots"
            )
        else:
            assert all(0 < i < self.next_id for i in extra)
        for ident, address in addr.items():
            assert walked[ident] == address

        # ---- what moved
        for ident, address in held.items():
            assert addr[ident] == address, (
                f"object {ident} was held ambiguously at {address:#x} but moved to {addr[ident]:#x}"
            )
        for ident, address in addr.items():
            kind = self.objs[ident].kind
            if ident in old_addr and kind not in self.MOVING:
                assert address == old_addr[ident], (
                    f"object {ident} of the non-moving kind {kind} moved from "
                    f"{old_addr[ident]:#x} to {address:#x}"
                )
        for ident in live:
            obj = self.objs[ident]
            if obj.rank != "ambig":
                continue
            for slot, target in enumerate(obj.refs):
                if target is not None and target in old_addr:
                    assert addr[target] == old_addr[target], (
                        f"object {target}, referred to by ambiguous slot {slot} of live "
                        f"object {ident}, moved from {old_addr[target]:#x} to {addr[target]:#x}"
                    )
        moved = [i for i in addr if i in old_addr and addr[i] != old_addr[i]]
        if moved:
            assert arena.collection_count > epoch, (
                f"objects {moved[:5]} moved but mps_collections stayed at {epoch}"
            )

        # ---- the pools' walks agree with the arena's
        for name, pool in self.pools.items():
            in_pool = {o.address for o in items if o.pool is pool}
            assert set(pool.walk()) == in_pool, f"{name} pool walk disagrees with the arena walk"
            count, where, header = f.errors()
            assert count == 0, (
                f"{name} pool walk: an area does not start with a header ({header:#x} at "
                f"{where:#x}): are the areas base pointers (collector-interface.md)?"
            )
            assert pool.check() is True

        # ---- space
        for name, pool in self.pools.items():
            total, free = pool.total_size, pool.free_size
            need = sum(self.objs[i].size for i in live if self.POOL[self.objs[i].kind] == name)
            assert 0 <= free <= total and total - free >= need, (
                f"{name}: total {total}, free {free}, but {need} bytes of live objects"
            )
        for name, (in_use, live_bytes, dead) in swept.items():
            pool = self.pools[name]
            now = pool.total_size - pool.free_size
            assert now >= live_bytes, (name, now, live_bytes)
            if not held and dead:
                assert now < in_use, (
                    f"{name} garbage was reclaimed but bytes in use went {in_use} -> {now}"
                )

        # ---- the model after the collection
        self.objs = {i: o for i, o in self.objs.items() if i in live}
        self.addr = addr

    # ---- invariants ---------------------------------------------------------------------------

    @invariant()
    def consistent(self) -> None:
        assert self.arena.check() is True
        for pool in self.pools.values():
            assert pool.check() is True
        count, where, header = self.fmt.errors() if self.fmt else (0, 0, 0)
        assert count == 0, (
            f"format methods met {count} bad headers, first {header:#x} at {where:#x}"
        )

    @invariant()
    def known_objects_intact(self) -> None:
        if self.fmt is None:
            return
        for ident, address in self.addr.items():
            assert self.fmt.valid(address), f"object {ident} at {address:#x} damaged"
            assert self.fmt.ident(address) == ident
            assert self.fmt.refs(address) == [
                self.addr[r] if r is not None else 0 for r in self.objs[ident].refs
            ], f"object {ident}'s references changed outside a collection"
        for slot, root in enumerate(self.roots):
            assert self.t[slot] == (self.addr[root] if root is not None else 0)

    # ---- teardown ------------------------------------------------------------------------------

    def teardown(self) -> None:
        failing = sys.exc_info()[0] is not None
        try:
            if not failing and self.fmt is not None:
                # Drop every root and message: only registrations keep objects now.
                for message in self.pending.values():
                    message.discard()
                self.pending.clear()
                self.t.clear()
                self.roots = [None] * ROOT_SLOTS
                self._collection({})
        finally:
            self.arena.teardown()
            assert self.arena.destroyed


def test_graph_state_machine() -> None:
    run_state_machine_as_test(GraphMachine, settings=SETTINGS)


# ---- deterministic tests --------------------------------------------------------------------


class Heap:
    """An arena parked, the calling thread registered, a graph format and
    AMC, AMCZ and LO pools of it, and an exact root table."""

    def __init__(self, header: int = 0, interior: bool | None = None, slots: int = 64) -> None:
        self.arena = gc_plugin.Arena()
        self.thread = self.arena.register_thread()
        self.arena.park()
        self.fmt = GraphFormat(self.arena, header)
        self.amc = self.arena.amc(self.fmt, interior=interior)
        self.amcz = self.arena.amcz(self.fmt, interior=interior)
        self.lo = self.arena.lo(self.fmt)
        self.table = self.arena.root_table(slots)

    def close(self) -> None:
        self.arena.teardown()

    def chain_of(
        self,
        pool: gc_plugin.CollectedPool,
        n: int,
        first_id: int = 1,
        nrefs: int = 1,
        ndata: int = 3,
    ) -> list[int]:
        """n objects linked through slot 0, allocated on a fresh allocation
        point that is destroyed afterwards (the segments are then free to
        move); returns their addresses."""
        with pool.allocation_point() as ap:
            objs = [self.fmt.alloc(ap, nrefs, ndata, first_id + i) for i in range(n)]
        if nrefs:
            for a, b in zip(objs, objs[1:], strict=False):
                self.fmt.set_ref(a, 0, b)
        return objs

    def follow(self, start: int, n: int) -> list[int]:
        out = [start]
        for _ in range(n - 1):
            out.append(self.fmt.ref(out[-1], 0))
        return out


@pytest.fixture(params=[0, 16], ids=["no-header", "header16"])
def heap(request: pytest.FixtureRequest) -> Iterator[Heap]:
    h = Heap(header=request.param)
    try:
        yield h
    finally:
        h.close()


def test_exactly_held_objects_move(heap: Heap) -> None:
    """A full collection copies objects that only exact references hold
    (once no allocation point is attached to their segment): the root and
    the slots are updated to the copies, which are intact; mps_collections
    advances; a location dependency on the old addresses is stale."""
    fmt = heap.fmt
    objs = heap.chain_of(heap.amc, 50)
    heap.table[0] = objs[0]
    ld = heap.arena.location_dependency()
    for a in objs:
        ld.add(a)
    assert not ld.is_stale(objs[0]) and not ld.is_stale_any()
    epoch = heap.arena.collection_count
    heap.arena.collect()
    now = heap.follow(heap.table[0], 50)
    assert [fmt.ident(a) for a in now] == list(range(1, 51))
    assert all(fmt.valid(a) for a in now)
    moved = [i for i in range(50) if now[i] != objs[i]]
    assert moved, "no exactly-held object moved in a full collection"
    assert len(moved) == 50, f"only {len(moved)} of 50 unpinned objects moved"
    assert heap.arena.collection_count > epoch
    assert ld.is_stale(objs[0]) and ld.is_stale_any()
    ld.reset()
    assert not ld.is_stale_any()
    # The old copies are gone: nothing of the arena's objects is at the old addresses.
    walked = {o.address for o in heap.arena.formatted_objects()}
    assert walked.isdisjoint(objs)


def test_ambiguously_held_objects_do_not_move(heap: Heap) -> None:
    """Objects held only on a C stack survive in place; exact references
    to them keep the same address, while their unpinned neighbours in other
    segments move."""
    fmt = heap.fmt
    pinned = heap.chain_of(heap.amc, 10, first_id=1, nrefs=0)
    others = heap.chain_of(heap.amc, 10, first_id=100, nrefs=0)
    for i, a in enumerate(others):
        heap.table[i] = a
    heap.table[20] = pinned[3]  # pinned[3] is held both ways
    after = fmt.collect_holding(heap.thread, pinned)
    assert after == pinned
    assert heap.table[20] == pinned[3]
    for i, a in enumerate(pinned):
        assert fmt.valid(a) and fmt.ident(a) == 1 + i
    moved = [heap.table[i] for i in range(10) if heap.table[i] != others[i]]
    assert moved, "no unpinned object moved"
    for i in range(10):
        assert fmt.ident(heap.table[i]) == 100 + i
    # Once nothing holds the pinned objects, a collection reclaims them
    # (except the one the table holds).
    heap.arena.collect()
    ids = {
        fmt.ident(o.address)
        for o in heap.arena.formatted_objects()
        if fmt.kind(o.address) == "object"
    }
    assert ids == set(range(100, 110)) | {4}


def test_interior_pointers_pin_only_when_interior(heap: Heap) -> None:
    """An ambiguous pointer into the middle of an object keeps it alive in
    an AMC pool with interior pointers (the default), not in one without."""
    fmt = heap.fmt
    strict = heap.arena.amc(fmt, interior=False)
    [loose_obj] = heap.chain_of(heap.amc, 1, first_id=1, nrefs=0, ndata=8)
    [strict_obj] = heap.chain_of(strict, 1, first_id=2, nrefs=0, ndata=8)
    fmt.collect_holding(heap.thread, [loose_obj + 24, strict_obj + 24])
    ids = {
        fmt.ident(o.address)
        for o in heap.arena.formatted_objects()
        if fmt.kind(o.address) == "object"
    }
    assert 1 in ids, "an interior pointer did not keep the object of an interior AMC pool"
    assert 2 not in ids, "an interior pointer kept an object of a non-interior AMC pool"
    assert fmt.valid(loose_obj) and fmt.ident(loose_obj) == 1


@pytest.mark.parametrize("kind", ["amc", "amcz", "lo"])
def test_garbage_is_reclaimed_and_free_space_grows(heap: Heap, kind: str) -> None:
    """Dropping most of a pool's objects and collecting leaves only the
    live ones, and the pool's bytes in use go down accordingly."""
    pool = {"amc": heap.amc, "amcz": heap.amcz, "lo": heap.lo}[kind]
    fmt = heap.fmt
    objs = heap.chain_of(pool, 3000, nrefs=0, ndata=6)
    keep = objs[::100]
    for i, a in enumerate(keep):
        heap.table[i] = a
    in_use = pool.total_size - pool.free_size
    garbage = sum(fmt.object_size(a) for a in objs) - sum(fmt.object_size(a) for a in keep)
    heap.arena.collect()
    now = pool.total_size - pool.free_size
    assert now >= sum(fmt.object_size(heap.table[i]) for i in range(len(keep)))
    assert in_use - now >= garbage // 2, (
        f"{kind}: in use went {in_use} -> {now} after dropping {garbage} bytes"
    )
    assert [fmt.ident(heap.table[i]) for i in range(len(keep))] == [
        1 + 100 * i for i in range(len(keep))
    ]
    assert len(
        [o for o in heap.arena.formatted_objects() if fmt.kind(o.address) == "object"]
    ) == len(keep)
    assert heap.arena.check() and pool.check()


def walks_agree(header: int) -> None:
    """The arena walk and the pool walks list the same objects, with their
    pools and format; the pool walk fixes every reference on the way."""
    heap = Heap(header=header)
    try:
        _walks_agree(heap)
    finally:
        heap.close()


def test_walks_agree_and_skip_padding() -> None:
    walks_agree(0)


def test_walks_agree_with_headers() -> None:
    """The same with in-band headers, in a subprocess (a walker that gets
    client pointers where the spec promises base pointers can crash)."""
    code = f"import runpy\nrunpy.run_path({__file__!r})['walks_agree'](16)\nprint('WALK OK')\n"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "WALK OK" in done.stdout, (
        f"exit {done.returncode}\n{done.stdout}\n{done.stderr[-2000:]}"
    )


def _walks_agree(heap: Heap) -> None:
    fmt = heap.fmt
    amc = heap.chain_of(heap.amc, 30)
    leaves = heap.chain_of(heap.lo, 5, first_id=100, nrefs=0)
    for a, leaf in zip(amc, leaves, strict=False):
        fmt.set_ref(a, 0, leaf)  # the chain is cut into pieces ending at leaves
    for i in range(5):
        heap.table[i] = amc[i]
    heap.arena.collect()
    walked = [o for o in heap.arena.formatted_objects() if fmt.kind(o.address) == "object"]
    by_pool: dict[str, set[int]] = {"AMC": set(), "AMCZ": set(), "LO": set()}
    for o in walked:
        assert o.format is fmt and o.pool is not None
        by_pool[o.pool.class_name].add(o.address)
    assert by_pool["AMC"] == set(heap.amc.walk())
    assert by_pool["LO"] == set(heap.lo.walk())
    assert by_pool["AMCZ"] == set(heap.amcz.walk()) == set()
    assert sorted(fmt.ident(a) for a in by_pool["AMC"]) == [1, 2, 3, 4, 5]
    assert sorted(fmt.ident(a) for a in by_pool["LO"]) == [100, 101, 102, 103, 104]
    refs = heap.arena.root_references()
    assert sorted(r for r, root in refs if root is heap.table) == sorted(
        heap.table[i] for i in range(5)
    )
    assert fmt.errors()[0] == 0, "the pool walker met something that is not a header"
