"""SNC (docs/design/snc.md) driven by hypothesis against a plain-Python model
of allocation frames.

SNCMachine has two allocation points on one SNC pool of the graph format.
The model keeps, per allocation point, a stack of frames, each with the
objects allocated since its push (the bottom entry is the base frame,
never popped).  Rules: push a frame; allocate an object (one reference
slot, set now and then to a new AMC object that nothing else refers to, or
to an older SNC object); pop a frame at a random depth (it and every newer
frame go, with their objects); pop a frame that was already popped, or one
of the other allocation point (MisuseError, nothing changes); collect (the
arena is parked; AMC objects move); destroy and recreate an allocation
point (its objects stay).

Checked: after a pop the next object of that allocation point is placed
exactly where the popped frame's first object was (popped space reused);
pool total - free = the bytes of the live objects; after a collection every
live SNC object is intact at its address and its reference leads to the
intact target (AMC targets kept alive only by SNC slots, at their new
addresses); the formatted-objects walk finds exactly the live SNC objects;
arena.check() and the pool's check() after every step.
Hypothesis prints failing steps; GCP_TEST_EXAMPLES=N soaks.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

import gc_plugin
from gc_plugin import Frame, SNCAllocationPoint, _calls
from gc_plugin.errors import FailError, MisuseError
from gcp_testing import GraphFormat

EXAMPLES = int(os.environ.get("GCP_TEST_EXAMPLES", "40"))


@dataclass
class Obj:
    ident: int
    addr: int
    size: int
    target: int | None = None  # ident of what slot 0 refers to (AMC or SNC)


@dataclass
class Level:
    frame: Frame | None  # None: the base frame
    objects: list[Obj] = field(default_factory=list)
    start: int | None = None  # where its first object went
    pushed_at: int = 0  # the allocation point's init at the push (0: no buffer)


class SNCMachine(RuleBasedStateMachine):
    @initialize()
    def setup(self) -> None:
        self.arena = gc_plugin.Arena()
        self.arena.park()
        self.fmt = GraphFormat(self.arena)
        self.pool = self.arena.snc(self.fmt)
        self.amc = self.arena.amc(self.fmt)
        self.aps: list[SNCAllocationPoint] = [self.pool.allocation_point() for _ in range(2)]
        self.stacks: list[list[Level]] = [[Level(None)], [Level(None)]]
        self.popped: list[tuple[int, Frame]] = []  # (ap index, frame) no longer valid
        # after a pop: (address, size) -- an object up to that size goes there next
        self.expect_at: list[tuple[int, int] | None] = [None, None]
        self.reused = 0
        self.targets: dict[int, int] = {}  # AMC ident -> SNC ident holding it
        self.next_ident = 1

    def teardown(self) -> None:
        self.arena.teardown()

    def _live(self) -> list[Obj]:
        return [o for stack in self.stacks for level in stack for o in level.objects]

    @rule(ap=st.integers(0, 1))
    def push(self, ap: int) -> None:
        init = _calls.as_int(self.aps[ap]._live().init)
        self.stacks[ap].append(Level(self.aps[ap].push(), pushed_at=init))

    @rule(
        ap=st.integers(0, 1), ndata=st.integers(2, 40), link=st.sampled_from(["none", "amc", "snc"])
    )
    def alloc(self, ap: int, ndata: int, link: str) -> None:
        ident = self.next_ident
        self.next_ident += 1
        addr = self.fmt.alloc(self.aps[ap], 1, ndata, ident)
        self._check_reuse(ap, addr, self.fmt.size(1, ndata))
        obj = Obj(ident, addr, self.fmt.size(1, ndata))
        level = self.stacks[ap][-1]
        if level.start is None:
            level.start = addr
        if link == "amc":
            amc_ap = self.amc.allocation_point()
            target = self.fmt.alloc(amc_ap, 0, 2, self.next_ident)
            amc_ap.destroy()  # its segment can be evacuated
            obj.target = self.next_ident
            self.targets[self.next_ident] = ident
            self.next_ident += 1
            self.fmt.set_ref(addr, 0, target)
        elif link == "snc":
            # only objects that outlive this one (same AP below it, or the base frames)
            older = [o for o in self.stacks[ap][-1].objects] + [
                o for o in self.stacks[ap][0].objects
            ]
            if older:
                other = older[len(older) // 2]
                self.fmt.set_ref(addr, 0, other.addr)
                obj.target = other.ident
        level.objects.append(obj)

    @rule(ap=st.integers(0, 1), data=st.data())
    def pop(self, ap: int, data: st.DataObject) -> None:
        stack = self.stacks[ap]
        if len(stack) < 2:
            return
        depth = data.draw(st.integers(1, len(stack) - 1))
        level = stack[depth]
        assert level.frame is not None
        self.aps[ap].pop(level.frame)
        for gone in stack[depth:]:
            assert gone.frame is not None
            self.popped.append((ap, gone.frame))
            for o in gone.objects:
                if o.target in self.targets:
                    del self.targets[o.target]
        # If the frame's first object went where the frame was pushed, an object
        # no bigger goes there again: the popped space is reused.
        first = next((lv.objects[0] for lv in stack[depth:] if lv.objects), None)
        self.expect_at[ap] = None
        if first is not None and level.pushed_at and first.addr == level.pushed_at:
            self.expect_at[ap] = (level.pushed_at, first.size)
        del stack[depth:]
        # any remaining references to popped objects are the client's business:
        # the model only links to objects that outlive the referrer

    @rule(data=st.data())
    def pop_invalid(self, data: st.DataObject) -> None:
        choices: list[tuple[int, Frame]] = list(self.popped[-5:])
        for ap in (0, 1):
            for level in self.stacks[ap][1:]:
                assert level.frame is not None
                choices.append((1 - ap, level.frame))  # a frame of the other AP
        if not choices:
            return
        ap, frame = data.draw(st.sampled_from(choices))
        before = (self.pool.total_size, self.pool.free_size)
        with pytest.raises(MisuseError):
            self.aps[ap].pop(frame)
        assert (self.pool.total_size, self.pool.free_size) == before

    @rule(ap=st.integers(0, 1))
    def recreate(self, ap: int) -> None:
        """Destroy and recreate the allocation point: its objects stay, its
        frames are gone (popping one later is misuse)."""
        self.aps[ap].destroy()
        self.aps[ap] = self.pool.allocation_point()
        old = self.stacks[ap]
        for level in old[1:]:
            assert level.frame is not None
            self.popped.append((ap, level.frame))
        survivors = [o for level in old for o in level.objects]
        self.stacks[ap] = [Level(None)]
        self.orphans = getattr(self, "orphans", []) + survivors
        self.expect_at[ap] = None

    @rule()
    def collect(self) -> None:
        self.arena.collect()
        live = self._live() + getattr(self, "orphans", [])
        by_ident = {o.ident: o for o in live}
        for o in live:
            assert self.fmt.ident(o.addr) == o.ident, f"SNC object {o.ident} not intact"
            if o.target is None:
                continue
            ref = self.fmt.ref(o.addr, 0)
            assert ref != 0
            assert self.fmt.ident(ref) == o.target
            if o.target in by_ident:
                assert ref == by_ident[o.target].addr
        walked = {f.address for f in self.arena.formatted_objects() if f.pool is self.pool}
        assert walked == {o.addr for o in live}

    @rule()
    def push_while_reserved(self) -> None:
        ap = self.aps[0]
        size = self.fmt.size(0, 2)
        base = ap.reserve(size)
        with pytest.raises(FailError):
            ap.push()
        ident = self.next_ident
        self.next_ident += 1
        self.fmt.init(ap, base, 0, 2, ident)
        assert ap.commit(base, size)
        obj = Obj(ident, base, size)
        self.stacks[0][-1].objects.append(obj)
        if self.stacks[0][-1].start is None:
            self.stacks[0][-1].start = base
        self._check_reuse(0, base, size)

    def _check_reuse(self, ap: int, addr: int, size: int) -> None:
        expected = self.expect_at[ap]
        self.expect_at[ap] = None
        if expected is not None and size <= expected[1]:
            assert addr == expected[0], (
                f"after a pop the next object went to {addr:#x}, not where the popped "
                f"frame began ({expected[0]:#x})"
            )
            self.reused += 1

    @invariant()
    def sizes_and_consistency(self) -> None:
        if not hasattr(self, "pool"):
            return
        self.arena.check()
        self.pool.check()
        live = self._live() + getattr(self, "orphans", [])
        # The unused parts of the allocation points' buffers are allocated
        # (not free), as in the MPS.  A buffer trapped by a flip shows
        # limit 0 until its next reserve: its unused part is out of sight,
        # and the sizes give only a lower bound.
        handles = [ap._live() for ap in self.aps]
        trapped = any(_calls.as_int(h.limit) == 0 and _calls.as_int(h.init) != 0 for h in handles)
        unused = sum(
            _calls.as_int(h.limit) - _calls.as_int(h.init)
            for h in handles
            if _calls.as_int(h.limit)
        )
        allocated = self.pool.total_size - self.pool.free_size
        committed = sum(o.size for o in live)
        if trapped:
            assert allocated >= committed + unused
        else:
            assert allocated == committed + unused


def test_snc_machine() -> None:
    run_state_machine_as_test(
        SNCMachine,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=80,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


def test_popped_space_is_reused() -> None:
    """Objects made after a pop take the popped objects' places in the
    frame's segment, and the pool does not grow (the segments above it went
    back to the arena but one spare, which the next segment reuses)."""
    arena = gc_plugin.Arena()
    arena.park()
    fmt = GraphFormat(arena)
    pool = arena.snc(fmt)
    ap = pool.allocation_point()
    fmt.alloc(ap, 1, 2, 0)
    for round_ in range(5):
        frame = ap.push()
        first = [fmt.alloc(ap, 1, 2 + (i % 7), i) for i in range(2000)]  # several segments
        total = pool.total_size
        frame.pop()
        frame = ap.push()
        again = [fmt.alloc(ap, 1, 2 + (i % 7), i) for i in range(2000)]
        # the objects that went into the frame's own segment, back to back
        same = next(
            i for i in range(1, 2000) if first[i] != first[i - 1] + fmt.size(1, 2 + ((i - 1) % 7))
        )
        assert same > 10
        assert again[:same] == first[:same], f"round {round_}: popped space not reused"
        assert pool.total_size == total, f"round {round_}: the pool grew after a pop"
        frame.pop()
    arena.teardown()
