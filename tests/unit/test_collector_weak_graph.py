"""Randomized object graphs over the non-moving collected pools and every
reference rank: AMS (allocation points of exact and of ambiguous rank) and
AWL (exact and weak) next to AMC, AMCZ and LO, with weak references and
finalization of objects of every class, checked against the reachability
model of test_collector_graph.py (docs/design/ms.md, docs/design/collector-interface.md §Fixing).

WeakGraphMachine extends GraphMachine (whose rules, model and checks it
reuses: see that module's docstring) with the kinds

* ``ams``: AMS, exact allocation point (rank given explicitly);
* ``ams_ambig``: AMS, allocation point of rank ambig: the object's slots
  are ambiguous words, which keep whatever they point at alive and pin it
  (if it is in AMC) -- as long as the AMS object itself is alive;
* ``awl``: AWL, exact allocation point (the default rank);
* ``awl_weak``: AWL, allocation point of rank weak: the object's slots keep
  nothing alive; after a collection a weak slot is NULL iff its target did
  not survive, and otherwise leads to it at its current (maybe new) address.

It draws an AMS pool (or an AMS debug pool, with fenceposts and free-space
splatting) and an AWL pool on the format, with the default chain or the
drawn one and a drawn generation.  Every allocation rule may use every
kind; rewiring stores references into the slots of objects of every
scanned kind (so exact, ambiguous and weak edges mix in one graph, cycles
included).  Three more rules aim at the interesting cases:

* ``alloc_watched``: a new object of any kind that only weak slots refer
  to, often registered for finalization: it survives the collection that
  finalizes it (weak slots still lead to it), and is splatted only once its
  message is discarded and it is unreachable in a later collection (unless
  it was stored back into a root: resurrection);
* ``alloc_pinned``: an ambiguous-rank AMS object holding the only
  references to new AMC objects (their allocation point is then detached,
  so their segment could be evacuated), stored in a root, a slot of a known
  object or nowhere;
* ``collect_detached``: detach every allocation point, then collect (no
  segment is kept in place for its buffer: AMC evacuates, the others
  sweep everything).

The model (test_collector_graph.closure) follows exact and ambiguous edges
and not weak ones; registrations and pending messages keep objects.  After
each collection GraphMachine._collection checks, for every kind:
finalization messages exactly once and only for unreachable registered
objects; every live object intact at one address, reached through roots,
held references, messages, slots, or else the walk; no garbage left in any
pool after a collection without ambiguous roots; arena and pool walks
agree; bytes in use of LO, AMS and AWL drop when they had garbage; and

* every weak slot of every live weak object is NULL iff its target was
  neither strongly reachable nor kept for finalization (a collection with
  objects held on a C stack may keep a dead target alive by a stale stack
  word: then the target and all it refers to must be intact, and no weak
  reference to any of them splatted); a splatted slot stays NULL;
* AMS, AWL and LO objects did not move; targets of ambiguous slots of live
  ambiguous objects did not move (and the slots are unchanged).

Invariants after every step: those of GraphMachine, and with AMS debug
the fenceposts and the free-space pattern are intact.

Deterministic tests at the end: an ambiguous-rank AMS object reachable only
through exact references, holding the only reference to an AMC object
(or one an exact root, traced earlier, shares), keeps it alive, unmoved
and intact while its neighbours move; weak slots
into every kind are splatted, kept, or updated, and a finalized target is
splatted only after its message is discarded; ambiguous interior pointers
do not keep AMS or AWL objects.

Replay a failure with the blob hypothesis prints, or --hypothesis-seed=N;
soak with GCP_TEST_EXAMPLES=N.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import ClassVar

import pytest
from hypothesis import event, settings, strategies as st
from hypothesis.stateful import (
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

import gc_plugin
from gc_plugin import AMSDebugPool, MessageType
from gcp_testing import GraphFormat

from .test_collector_graph import ROOT_SLOTS, SETTINGS, GraphMachine, Heap, closure

WEAK_SETTINGS = settings(
    SETTINGS,
    max_examples=int(os.environ.get("GCP_TEST_EXAMPLES", "100")),
    stateful_step_count=60,
)


class WeakGraphMachine(GraphMachine):
    KINDS: ClassVar[tuple[str, ...]] = ("amc", "amcz", "lo", "ams", "ams_ambig", "awl", "awl_weak")
    POOL: ClassVar[dict[str, str]] = {
        "amc": "amc",
        "amcz": "amcz",
        "lo": "lo",
        "ams": "ams",
        "ams_ambig": "ams",
        "awl": "awl",
        "awl_weak": "awl",
    }
    RANK: ClassVar[dict[str, str]] = {"ams": "exact", "ams_ambig": "ambig", "awl_weak": "weak"}
    SCANNED: ClassVar[tuple[str, ...]] = ("amc", "ams", "ams_ambig", "awl", "awl_weak")
    LEAF_KINDS: ClassVar[tuple[str, ...]] = ("amcz", "lo")
    MOVING: ClassVar[tuple[str, ...]] = ("amc", "amcz")
    STRUCTURE_KINDS: ClassVar[tuple[str, ...]] = (
        "amc",
        "amc",
        "ams",
        "ams_ambig",
        "awl",
        "awl_weak",
        "amcz",
        "lo",
    )
    SWEPT_POOLS: ClassVar[tuple[str, ...]] = ("lo", "ams", "awl")

    # ---- set-up (replaces GraphMachine.setup) ------------------------------------------

    @initialize(
        header=st.sampled_from([0, 8, 16]),
        interior=st.sampled_from([None, True, False]),
        gens=st.sampled_from([None, [(64, 0.9)], [(128, 0.8), (512, 0.5)], [(16, 0.5)] * 3]),
        gen=st.tuples(*[st.sampled_from([None, 0, 1])] * 3),
        debug=st.booleans(),
        support_ambiguous=st.sampled_from([None, True, False]),
    )
    def setup(
        self,
        header: int,
        interior: bool | None,
        gens: list[tuple[int, float]] | None,
        gen: tuple[int | None, int | None, int | None],
        debug: bool,
        support_ambiguous: bool | None,
    ) -> None:
        arena = self.arena
        self.fmt = GraphFormat(arena, header)
        chain = arena.chain(gens) if gens is not None else None
        lo_gen, ams_gen, awl_gen = (
            None if chain is None or g is None or g >= len(chain.generations) else g for g in gen
        )
        ams = (
            arena.ams_debug(self.fmt, chain=chain, gen=ams_gen)
            if debug
            else arena.ams(self.fmt, chain, gen=ams_gen, support_ambiguous=support_ambiguous)
        )
        self.pools = {
            "amc": arena.amc(self.fmt, chain, interior=interior),
            "amcz": arena.amcz(self.fmt, chain, interior=interior),
            "lo": arena.lo(self.fmt, chain, gen=lo_gen),
            "ams": ams,
            "awl": arena.awl(self.fmt, chain, gen=awl_gen),
        }
        assert [p.class_name for p in self.pools.values()] == [
            "AMC",
            "AMCZ",
            "LO",
            "AMS debug" if debug else "AMS",
            "AWL",
        ]
        for pool in self.pools.values():
            assert pool.alignment == 8 and pool.format is self.fmt
        for kind in self.KINDS:
            self.aps[kind] = self._new_ap(kind)
        self.table = arena.root_table(ROOT_SLOTS)

    def _ready(self) -> bool:
        return self.fmt is not None

    # ---- rules aimed at weakness and pinning -----------------------------------------------

    def _weak_slot(self, data: st.DataObject) -> tuple[int, int]:
        """A slot of a known weak object, or of a new one stored in a root."""
        holders = self._known(("awl_weak",), with_refs=True)
        if bool(holders) and data.draw(st.booleans(), label="a known weak holder"):
            src = data.draw(st.sampled_from(holders), label="weak holder")
        else:
            src = self._new("awl_weak", data.draw(st.integers(1, 4), label="nrefs"), 2)
            self._set_root(data.draw(st.integers(0, ROOT_SLOTS - 1), label="root slot"), src)
        return src, data.draw(st.integers(0, self.objs[src].nrefs - 1), label="weak slot")

    @precondition(_ready)
    @rule(data=st.data(), kind=st.sampled_from(KINDS), register=st.integers(0, 3))
    def alloc_watched(self, data: st.DataObject, kind: str, register: int) -> None:
        """A new object that only weak slots refer to (one or two), often
        registered for finalization."""
        nrefs = data.draw(st.integers(0, 2), label="nrefs") if kind in self.SCANNED else 0
        ident = self._new(kind, nrefs, 3)
        for slot in range(nrefs):
            self._set_ref(ident, slot, self._target(data, "target"))
        for _ in range(data.draw(st.integers(1, 2), label="weak references")):
            src, slot = self._weak_slot(data)
            self._set_ref(src, slot, ident)
        if register:
            self.arena.finalize(self.addr[ident])
            self.registered.add(ident)

    @precondition(_ready)
    @rule(data=st.data(), count=st.integers(1, 4))
    def alloc_pinned(self, data: st.DataObject, count: int) -> None:
        """An ambiguous-rank AMS object holding the only references to
        ``count`` new AMC objects, whose allocation point is then detached
        (their segment could be evacuated but for the pins)."""
        holder = self._new("ams_ambig", count, 2)
        for slot in range(count):
            target = self._new("amc", data.draw(st.integers(0, 2), label="nrefs"), 3)
            self._set_ref(holder, slot, target)
        self.aps["amc"].destroy()
        self.aps["amc"] = self._new_ap("amc")
        self._place(data, holder)

    @precondition(_ready)
    @rule()
    def collect_detached(self) -> None:
        """Detach every allocation point, then collect: every segment may
        be evacuated (AMC) or swept whole (the others)."""
        for kind in self.KINDS:
            self.aps[kind].destroy()
            self.aps[kind] = self._new_ap(kind)
        self._collection({})

    # ---- collections: what they exercised (hypothesis events: to see them, run
    # WeakGraphMachine.TestCase with pytest --hypothesis-show-statistics) ----------------------

    def _collection(self, held: dict[int, int]) -> None:
        live = closure(self.objs, self._strong(held) | self.registered)
        candidates = self.registered - self._strong(held)
        weak = [
            (i, t)
            for i, o in self.objs.items()
            if i in live and o.rank == "weak"
            for t in o.refs
            if t is not None
        ]
        if any(t not in live for _, t in weak):
            event("a weak reference is splatted")
        if any(t in candidates for _, t in weak):
            event("a weak reference to a finalization candidate is kept")
        if any(t not in live and t in self.discarded for _, t in weak):
            event("a weak reference to a finalized object is splatted after its message")
        for c in candidates:
            event(f"a {self.objs[c].kind} object is a finalization candidate")
        if any(
            o.rank == "ambig"
            and i in live
            and any(t is not None and self.objs[t].kind == "amc" and t in self.addr for t in o.refs)
            for i, o in self.objs.items()
        ):
            event("an AMC object is pinned by a live ambiguous-rank AMS object")
        old = {i: a for i, a in self.addr.items() if self.objs[i].kind == "amc"}
        super()._collection(held)
        if any(i in self.addr and self.addr[i] != a for i, a in old.items()):
            event("an AMC object moved")

    # ---- invariants ------------------------------------------------------------------------------

    @invariant()
    def debug_patterns_intact(self) -> None:
        pool = self.pools.get("ams")
        if isinstance(pool, AMSDebugPool):
            pool.check_fenceposts()
            pool.check_free_space()


def test_weak_graph_state_machine() -> None:
    run_state_machine_as_test(WeakGraphMachine, settings=WEAK_SETTINGS)


# ---- deterministic tests --------------------------------------------------------------------


GARBAGE = 999


class NonMovingHeap(Heap):
    """Heap (AMC, AMCZ, LO, an exact root table) with an AMS (or AMS debug)
    pool and an AWL pool too."""

    def __init__(self, header: int = 0, interior: bool | None = None, debug: bool = False) -> None:
        super().__init__(header=header, interior=interior)
        self.ams = self.arena.ams_debug(self.fmt) if debug else self.arena.ams(self.fmt)
        self.awl = self.arena.awl(self.fmt)
        self.arena.enable_messages(MessageType.FINALIZATION)

    def alloc(
        self,
        pool: gc_plugin.CollectedPool,
        ident: int,
        nrefs: int = 1,
        rank: str | None = None,
        ndata: int = 3,
    ) -> int:
        """One object on a fresh allocation point of ``rank``, destroyed
        afterwards (nothing is attached to its segment in a collection),
        followed there by a garbage object: AMC keeps a segment of one
        object in place, as a large object."""
        with pool.allocation_point(rank=rank) as ap:
            address = self.fmt.alloc(ap, nrefs, ndata, ident)
            self.fmt.alloc(ap, 0, 2, GARBAGE)
            return address

    def ids(self) -> set[int]:
        return {
            self.fmt.ident(o.address)
            for o in self.arena.formatted_objects()
            if self.fmt.kind(o.address) == "object"
        }


@pytest.fixture(
    params=[(0, None, False), (16, None, True), (8, False, False)],
    ids=["no-header", "header16-debug", "header8-not-interior"],
)
def nm_heap(request: pytest.FixtureRequest) -> Iterator[NonMovingHeap]:
    header, interior, debug = request.param
    h = NonMovingHeap(header=header, interior=interior, debug=debug)
    try:
        yield h
    finally:
        h.close()


@pytest.mark.parametrize("shared", [False, True], ids=["only-ambiguous", "also-exact-root"])
def test_ambiguous_object_reached_exactly_pins_its_referent(
    nm_heap: NonMovingHeap, shared: bool
) -> None:
    """root -> AMC -> exact AMS -> AMC -> ambiguous-rank AMS object X,
    whose slot is the only reference to AMC object T (T refers on to an AMC
    object U); with ``shared``, an exact root refers to T too, and is
    traced before X is reached (without the ambiguous heap pre-pass T would
    be copied there, leaving X's slot behind).  X is found only while exact
    references are traced, after objects have started to move; T must
    still not move: it survives at its address, intact, X's slot (and the
    root) unchanged, U intact (updated in T if it moved).  A twin T2 that an
    exact AMS object holds moves in the first collection (so T could have).
    Twice; then, once X is unreachable, T goes (or, with ``shared``, may
    move at last)."""
    h, fmt = nm_heap, nm_heap.fmt
    a = h.alloc(h.amc, 1)
    b = h.alloc(h.ams, 2, rank="exact")
    c = h.alloc(h.amc, 3)
    x = h.alloc(h.ams, 4, rank="ambig")
    u = h.alloc(h.amc, 6, nrefs=0)
    t = h.alloc(h.amc, 5)
    fmt.set_ref(t, 0, u)
    y = h.alloc(h.ams, 7, rank="exact")
    t2 = h.alloc(h.amc, 8, nrefs=0)
    fmt.set_ref(y, 0, t2)
    h.table[0] = a
    fmt.set_ref(a, 0, b)
    fmt.set_ref(b, 0, c)
    fmt.set_ref(c, 0, x)
    fmt.set_ref(x, 0, t)
    h.table[1] = y
    if shared:
        h.table[2] = t

    for round in range(2):
        h.arena.collect()
        if round == 0:
            assert fmt.ref(y, 0) != t2, "the exactly held twin did not move: the test shows nothing"
        chain = [h.table[0]]
        for _ in range(3):
            chain.append(fmt.ref(chain[-1], 0))
        assert [fmt.ident(p) for p in chain] == [1, 2, 3, 4]
        assert chain[1] == b and chain[3] == x, "an AMS object moved"
        assert fmt.ref(x, 0) == t, "an ambiguous slot changed"
        assert fmt.valid(t) and fmt.ident(t) == 5, (
            f"round {round}: the AMC object an ambiguous-rank AMS object refers to did not "
            f"survive in place (kind there: {fmt.kind(t)})"
        )
        if shared:
            assert h.table[2] == t, (
                f"round {round}: an object an ambiguous-rank AMS object refers to moved "
                f"({t:#x} -> {h.table[2]:#x})"
            )
        u_now = fmt.ref(t, 0)
        assert fmt.valid(u_now) and fmt.ident(u_now) == 6
        assert fmt.ident(fmt.ref(y, 0)) == 8
        assert h.arena.check() and h.amc.check() and h.ams.check()
        assert h.ids() == {1, 2, 3, 4, 5, 6, 7, 8}

    fmt.set_ref(h.table[0], 0, None)  # X is garbage now, and so are T and U unless shared
    h.arena.collect()
    if shared:
        assert fmt.ident(h.table[2]) == 5 and fmt.ident(fmt.ref(h.table[2], 0)) == 6
        assert h.ids() == {1, 5, 6, 7, 8}
    else:
        assert h.ids() == {1, 7, 8}


@pytest.mark.parametrize("kind", ["amc", "amcz", "lo", "ams", "ams_ambig", "awl", "awl_weak"])
def test_weak_references_splat_only_the_dead(nm_heap: NonMovingHeap, kind: str) -> None:
    """A weak AWL object W refers to a rooted object K, to an unreachable D
    and to an unreachable F registered for finalization, all of one kind.
    After a collection K's slot leads to K (moved, in AMC and AMCZ), D's
    is NULL, F's leads to F (the message's object, finalized once); after
    the message is discarded the next collection splats F's slot, and F is
    reclaimed.  An exact AWL object E keeps its reference to K."""
    h, fmt = nm_heap, nm_heap.fmt
    pool, rank = {
        "amc": (h.amc, None),
        "amcz": (h.amcz, None),
        "lo": (h.lo, None),
        "ams": (h.ams, "exact"),
        "ams_ambig": (h.ams, "ambig"),
        "awl": (h.awl, None),
        "awl_weak": (h.awl, "weak"),
    }[kind]
    nrefs = 0 if kind in ("amcz", "lo") else 1
    w = h.alloc(h.awl, 1, nrefs=3, rank="weak")
    e = h.alloc(h.awl, 2, nrefs=1)
    k, d, fin = (h.alloc(pool, i, nrefs=nrefs, rank=rank) for i in (10, 11, 12))
    h.table[0] = w
    h.table[1] = e
    h.table[2] = k
    for slot, target in enumerate((k, d, fin)):
        fmt.set_ref(w, slot, target)
    fmt.set_ref(e, 0, k)
    h.arena.finalize(fin)

    h.arena.collect()
    assert h.table[0] == w and h.table[1] == e, "an AWL object moved"
    k_now, d_now, fin_now = fmt.refs(w)
    assert k_now == h.table[2] == fmt.ref(e, 0) and fmt.ident(k_now) == 10
    assert (k_now != k) == (kind in ("amc", "amcz")), "moving kinds move, the others do not"
    assert d_now == 0, f"the weak reference to a dead {kind} object was not splatted"
    message = h.arena.get_message(MessageType.FINALIZATION)
    assert message is not None, f"no finalization message for the {kind} object"
    assert fin_now != 0, "a weak reference to an object being finalized was splatted"
    assert message.finalization_ref() == fin_now and fmt.ident(fin_now) == 12
    assert h.arena.get_message(MessageType.FINALIZATION) is None
    assert h.ids() == {1, 2, 10, 12}

    h.arena.collect()  # the message still keeps it
    assert fmt.ref(w, 2) == message.finalization_ref() != 0
    assert h.arena.get_message(MessageType.FINALIZATION) is None, "finalized twice"
    message.discard()
    h.arena.collect()
    assert fmt.refs(w) == [h.table[2], 0, 0]
    assert h.ids() == {1, 2, 10}
    assert h.arena.get_message(MessageType.FINALIZATION) is None
    assert h.arena.check() and pool.check() and h.awl.check()


def test_interior_pointers_do_not_keep_nonmoving_objects(nm_heap: NonMovingHeap) -> None:
    """Ambiguous references (on a C stack) keep AMS and AWL objects by
    their client pointers only, never by interior pointers."""
    h, fmt = nm_heap, nm_heap.fmt
    objs = {
        1: h.alloc(h.ams, 1, nrefs=0, ndata=8, rank="exact"),
        2: h.alloc(h.ams, 2, nrefs=0, ndata=8, rank="ambig"),
        3: h.alloc(h.awl, 3, nrefs=0, ndata=8),
        4: h.alloc(h.awl, 4, nrefs=0, ndata=8, rank="weak"),
    }
    base_held = {5: h.alloc(h.ams, 5, nrefs=0), 6: h.alloc(h.awl, 6, nrefs=0)}
    fmt.collect_holding(h.thread, [a + 24 for a in objs.values()] + list(base_held.values()))
    ids = h.ids()
    assert {5, 6} <= ids, "an ambiguous client pointer did not keep an AMS/AWL object"
    assert not ids & set(objs), (
        f"interior pointers kept objects {sorted(ids & set(objs))} of AMS/AWL"
    )
