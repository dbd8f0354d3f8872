"""Weak tables in AWL (the C test client tests/gcp_testing/weaktable.c through
gcp_testing.weaktable), driven by hypothesis against a plain-Python model.

WeakTableMachine keeps two tables in one AWL pool: one with weak keys and
strong values, one with strong keys and weak values.  Keys and values are
graph objects in AMC (and some keys in AMS); the only strong references the
test keeps are slots of an exact root table.  The arena is parked and no
thread is registered, so nothing is held ambiguously: a collection keeps
exactly what the model says is strongly reachable.  Rules: insert entries
(with the weak side held in a root slot or not), drop root slots, remove
entries, look keys up, register weak keys for finalization, take and
discard finalization messages, detach the allocation point (so that the
objects it filled can move), and collect.

After every collection (``_check``):

* weak keys: an entry is present iff its key is held by a root slot or is
  kept for finalization (registered and dead: its message is pending, or
  taken and not yet discarded); present entries are found by lookup with the
  key's current address (the table rehashes when its location dependency
  is stale) and give the intact value object; entries whose key died are
  gone, and the table counted exactly those deletions;
* weak values: an entry is present iff its value is held by a root slot;
* finalization messages arrive exactly once, only for registered keys that
  are no longer held, and while such a key's message is not discarded its
  entry stays (weak references to an object kept for finalization are not
  cleared); after the discard, the next collection clears it;
* ``items()`` agrees with the model, and the arena's and pools'
  consistency checks hold after every step.

Deterministic tests at the end: keys that move make the table rehash;
a weak root area loses dead objects and follows moved ones.
Hypothesis prints failing steps; replay with --hypothesis-seed=N; soak with
GCP_TEST_EXAMPLES=N.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

import gc_plugin
from gc_plugin import Message, MessageType
from gcp_testing import GraphFormat, WeakTable, WeakTableFormat

SLOTS = 96
EXAMPLES = int(os.environ.get("GCP_TEST_EXAMPLES", "60"))


@dataclass
class Entry:
    key: int  # ident of the key object
    value: int  # ident of the value object
    weak_keys: bool  # which table


class WeakTableMachine(RuleBasedStateMachine):
    @initialize()
    def setup(self) -> None:
        self.arena = gc_plugin.Arena()
        self.arena.park()
        self.arena.enable_messages(MessageType.FINALIZATION)
        self.fmt = GraphFormat(self.arena)
        self.amc = self.arena.amc(self.fmt)
        self.ams = self.arena.ams(self.fmt)
        self.ap = self.amc.allocation_point()
        self.ams_ap = self.ams.allocation_point()
        self.roots = self.arena.root_table(SLOTS)
        self.table_format = WeakTableFormat(self.arena)
        self.awl = self.table_format.pool()
        self.wk = WeakTable(self.awl, weak_keys=True, capacity=4)
        self.wv = WeakTable(self.awl, weak_keys=False, capacity=4)
        self.next_ident = 1
        self.slot_of: dict[int, int] = {}  # ident -> root slot holding it
        self.entries: dict[int, Entry] = {}  # key ident -> entry (both tables)
        self.registered: set[int] = set()  # key idents registered, no message yet
        self.pending: dict[int, Message | None] = {}  # finalized key idents -> taken message
        self.splats = {True: 0, False: 0}  # deletions the model expects

    def teardown(self) -> None:
        for message in self.pending.values():
            if message is not None:
                message.discard()
        self.arena.teardown()

    # ---- helpers ----------------------------------------------------------------

    def _free_slot(self) -> int | None:
        used = set(self.slot_of.values())
        for s in range(SLOTS):
            if s not in used:
                return s
        return None

    def _alloc(self, in_ams: bool = False) -> tuple[int, int]:
        ident = self.next_ident
        self.next_ident += 1
        addr = self.fmt.alloc(self.ams_ap if in_ams else self.ap, 0, 2, ident)
        return ident, addr

    def _address(self, ident: int) -> int | None:
        slot = self.slot_of.get(ident)
        return None if slot is None else self.roots[slot]

    def _kept(self, entry: Entry) -> bool:
        """Is the entry's weak side strongly reachable (or kept for finalization)?"""
        weak = entry.key if entry.weak_keys else entry.value
        return weak in self.slot_of or weak in self.pending

    # ---- rules --------------------------------------------------------------------

    @rule(weak_keys=st.booleans(), hold=st.booleans(), in_ams=st.booleans())
    def insert(self, weak_keys: bool, hold: bool, in_ams: bool) -> None:
        slot = self._free_slot()
        if slot is None:
            return
        key, key_addr = self._alloc(in_ams and weak_keys)
        value, value_addr = self._alloc()
        table = self.wk if weak_keys else self.wv
        table.put(key_addr, value_addr)
        entry = Entry(key, value, weak_keys)
        self.entries[key] = entry
        weak_side = key if weak_keys else value
        if hold:
            self.roots[slot] = key_addr if weak_keys else value_addr
            self.slot_of[weak_side] = slot
        if not weak_keys:
            # the strong key is found again by address only through the table:
            # keep it in a root slot too when there is room, so it can be looked up
            other = self._free_slot()
            if other is not None:
                self.roots[other] = key_addr
                self.slot_of[key] = other

    @rule(data=st.data())
    def drop(self, data: st.DataObject) -> None:
        if not self.slot_of:
            return
        ident = data.draw(st.sampled_from(sorted(self.slot_of)))
        self.roots[self.slot_of.pop(ident)] = None

    @rule(data=st.data())
    def lookup(self, data: st.DataObject) -> None:
        keys = [k for k in self.entries if k in self.slot_of]
        if not keys:
            return
        key = data.draw(st.sampled_from(sorted(keys)))
        entry = self.entries[key]
        table = self.wk if entry.weak_keys else self.wv
        found = table.get(self._address(key))  # type: ignore[arg-type]
        assert found is not None, f"entry of live key {key} not found"
        assert self.fmt.ident(found) == entry.value

    @rule(data=st.data())
    def remove(self, data: st.DataObject) -> None:
        keys = [k for k in self.entries if k in self.slot_of]
        if not keys:
            return
        key = data.draw(st.sampled_from(sorted(keys)))
        entry = self.entries.pop(key)
        table = self.wk if entry.weak_keys else self.wv
        assert table.remove(self._address(key))  # type: ignore[arg-type]
        assert table.get(self._address(key)) is None  # type: ignore[arg-type]

    @rule(data=st.data(), drop=st.booleans())
    def register(self, data: st.DataObject, drop: bool) -> None:
        keys = [
            k
            for k, e in self.entries.items()
            if e.weak_keys
            and k in self.slot_of
            and k not in self.registered
            and k not in self.pending
        ]
        if not keys:
            return
        key = data.draw(st.sampled_from(sorted(keys)))
        self.arena.finalize(self._address(key))  # type: ignore[arg-type]
        self.registered.add(key)
        if drop:
            self.roots[self.slot_of.pop(key)] = None

    @rule()
    def discard_messages(self) -> None:
        for key, message in list(self.pending.items()):
            if message is not None:
                message.discard()
                del self.pending[key]

    @rule()
    def detach(self) -> None:
        self.ap.destroy()
        self.ap = self.amc.allocation_point()

    @rule(detach=st.booleans())
    def collect(self, detach: bool) -> None:
        if detach:
            self.detach()
        # what the model expects this collection to do
        finalized = {k for k in self.registered if k not in self.slot_of}
        dying = [e for e in self.entries.values() if not self._kept(e) and e.key not in finalized]
        self.arena.collect()
        for entry in dying:
            self.splats[entry.weak_keys] += 1
            del self.entries[entry.key]
        # messages: exactly the registered keys that were not held
        got = set()
        while (message := self.arena.get_message(MessageType.FINALIZATION)) is not None:
            ident = self.fmt.ident(message.finalization_ref())
            assert ident in finalized, (
                f"finalization message for {ident}, not a dead registered key"
            )
            assert ident not in got, f"two messages for {ident}"
            got.add(ident)
            self.pending[ident] = message
        assert got == finalized, f"messages for {sorted(got)}, expected {sorted(finalized)}"
        self.registered -= finalized
        self._check()

    @rule(data=st.data())
    def drop_and_collect(self, data: st.DataObject) -> None:
        """Collections are what the machine is about: a second way in."""
        self.drop(data)
        self.collect(detach=data.draw(st.booleans()))

    # ---- checks -------------------------------------------------------------------

    def _check(self) -> None:
        for weak_keys, table in ((True, self.wk), (False, self.wv)):
            expect = {k: e for k, e in self.entries.items() if e.weak_keys == weak_keys}
            assert len(table) == len(expect), (
                f"{'weak-key' if weak_keys else 'weak-value'} table has {len(table)} entries, "
                f"model {len(expect)}"
            )
            assert table.splatted == self.splats[weak_keys], (
                f"table counted {table.splatted} deletions, model {self.splats[weak_keys]}"
            )
            seen = {}
            for key_addr, value_addr in table.items():
                seen[self.fmt.ident(key_addr)] = self.fmt.ident(value_addr)
            assert seen == {k: e.value for k, e in expect.items()}
            for key, entry in expect.items():
                addr = self._address(key)
                if addr is None:
                    continue
                found = table.get(addr)
                assert found is not None and self.fmt.ident(found) == entry.value

    @invariant()
    def consistent(self) -> None:
        if not hasattr(self, "arena"):
            return
        self.arena.check()
        for pool in (self.amc, self.ams, self.awl):
            pool.check()


def test_weak_table_machine() -> None:
    run_state_machine_as_test(
        WeakTableMachine,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=60,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


def _setup() -> tuple[
    gc_plugin.Arena, GraphFormat, gc_plugin.AMCPool, gc_plugin.RootTable, WeakTable
]:
    arena = gc_plugin.Arena()
    arena.park()
    fmt = GraphFormat(arena)
    amc = arena.amc(fmt)
    roots = arena.root_table(64)
    table = WeakTable(WeakTableFormat(arena).pool(), weak_keys=True)
    return arena, fmt, amc, roots, table


def test_moved_keys_rehash() -> None:
    arena, fmt, amc, roots, table = _setup()
    ap = amc.allocation_point()
    for i in range(40):
        key = fmt.alloc(ap, 0, 2, i)
        table.put(key, fmt.alloc(ap, 0, 2, 1000 + i))
        roots[i] = key
    before = [roots[i] for i in range(40)]
    ap.destroy()  # its segment is no longer buffered: objects may move
    arena.collect()
    moved = sum(roots[i] != before[i] for i in range(40))
    assert moved > 0, "nothing moved: the test cannot see rehashing"
    for i in range(40):
        value = table.get(roots[i])
        assert value is not None and fmt.ident(value) == 1000 + i
    assert table.rehashes >= 1
    assert len(table) == 40 and table.splatted == 0
    arena.teardown()


def test_dead_keys_are_cleared_and_values_freed() -> None:
    arena, fmt, amc, roots, table = _setup()
    ap = amc.allocation_point()
    for i in range(30):
        key = fmt.alloc(ap, 0, 2, i)
        table.put(key, fmt.alloc(ap, 0, 2, 1000 + i))
        if i % 3 == 0:
            roots[i] = key
    ap.destroy()
    arena.collect()
    assert len(table) == 10 and table.splatted == 20
    assert sorted(fmt.ident(k) for k, _ in table.items()) == list(range(0, 30, 3))
    # the values of deleted entries are garbage now: the next collection frees them
    arena.collect()
    idents = {fmt.ident(o.address) for o in arena.formatted_objects() if o.pool is amc}
    assert idents == {*range(0, 30, 3), *range(1000, 1030, 3)}
    arena.teardown()


def test_weak_root_area() -> None:
    arena = gc_plugin.Arena()
    arena.park()
    fmt = GraphFormat(arena)
    amc = arena.amc(fmt)
    strong = arena.root_table(8)
    weak = arena.root_table(8, rank="weak")
    ap = amc.allocation_point()
    for i in range(8):
        obj = fmt.alloc(ap, 0, 2, i)
        weak[i] = obj
        if i % 2 == 0:
            strong[i] = obj
    ap.destroy()
    arena.collect()
    for i in range(8):
        if i % 2 == 0:
            assert weak[i] == strong[i] and fmt.ident(weak[i]) == i
        else:
            assert weak[i] == 0, f"weak root slot {i} still refers to a dead object"
    arena.teardown()
