"""Real Python threads mutating object graphs in one AMC pool while another
thread collects.

Each worker registers itself with the arena, makes its whole C stack an
ambiguous root (Thread.stack_root(): every address a C call of the worker
holds is then pinned while it is in use), and has its own allocation point
on the shared AMC pool (and one on a shared AMCZ pool for leaves) and its
own exact root table.  Python never holds an address between calls: the
workers allocate into table slots, link objects named by a table index and
a path of slot numbers, drop table entries, and read objects back, all
through the graph format's path operations (GraphFormat.alloc_into,
path_link, path_read), checking every read against the worker's own model
(ids and edges).  Meanwhile a collector thread calls mps_arena_collect over
and over (and start_collect + park, release + step + park), with the GIL
released inside each call, so collections stop the workers (signals) at
arbitrary points of their C calls.

Afterwards (workers gone, their stack roots destroyed and threads
deregistered, one more collection with no ambiguous root) the main thread
checks every worker's whole reachable graph through the exact tables and
that the formatted-objects walk finds exactly the objects reachable from
all tables.  Parametrized over 2 and 4 workers and header sizes 0 and 16.

A thread that exits without deregistering must not hang the next
collection: that runs in a subprocess with a timeout.
"""

from __future__ import annotations

import random
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

import pytest

import gc_plugin
from gcp_testing import GraphFormat

ROUNDS = 1200  # at least this many operations per worker
MIN_COLLECTIONS = 150  # ... and on until this many collections ran
MAX_SECONDS = 4.0  # ... or this long
SLOTS = 24
JOIN_TIMEOUT = 120.0


@dataclass
class WorkerModel:
    """One worker's objects: table slot -> id, id -> reference targets."""

    tag: int
    table: list[int | None] = field(default_factory=lambda: [None] * SLOTS)
    refs: dict[int, list[int | None]] = field(default_factory=dict)

    def reachable(self) -> set[int]:
        seen: set[int] = set()
        stack = [i for i in self.table if i is not None]
        while stack:
            i = stack.pop()
            if i not in seen:
                seen.add(i)
                stack.extend(r for r in self.refs[i] if r is not None)
        return seen

    def random_path(
        self, rng: random.Random, index: int, max_depth: int = 3
    ) -> tuple[list[int], int]:
        """A path of slot numbers from table[index] along non-NULL edges; the
        id it reaches."""
        ident = self.table[index]
        assert ident is not None
        path: list[int] = []
        for _ in range(rng.randint(0, max_depth)):
            slots = [s for s, r in enumerate(self.refs[ident]) if r is not None]
            if not slots:
                break
            slot = rng.choice(slots)
            path.append(slot)
            target = self.refs[ident][slot]
            assert target is not None
            ident = target
        return path, ident


def worker(
    arena: gc_plugin.Arena,
    fmt: GraphFormat,
    amc: gc_plugin.AMCPool,
    amcz: gc_plugin.AMCZPool,
    model: WorkerModel,
    seed: int,
    tables: dict[int, gc_plugin.RootTable],
    errors: list[BaseException],
    counts: dict[str, int],
) -> None:
    rng = random.Random(seed)
    until = time.monotonic() + MAX_SECONDS
    try:
        thread = arena.register_thread()
        root = thread.stack_root()
        table = arena.root_table(SLOTS)
        tables[model.tag] = table
        ap, leaf_ap = amc.allocation_point(), amcz.allocation_point()
        counter = 0
        rounds = 0
        while rounds < ROUNDS or (
            counts["collections"] < MIN_COLLECTIONS and time.monotonic() < until
        ):
            rounds += 1
            op = rng.random()
            filled = [i for i, x in enumerate(model.table) if x is not None]
            if op < 0.35 or not filled:
                index = rng.randrange(SLOTS)
                counter += 1
                ident = (model.tag << 32) | counter
                if rng.random() < 0.2:
                    fmt.alloc_into(leaf_ap, table, index, 0, rng.randint(2, 12), ident)
                    model.refs[ident] = []
                else:
                    nrefs = rng.randint(1, 4)
                    fmt.alloc_into(ap, table, index, nrefs, rng.randint(2, 5), ident)
                    model.refs[ident] = [None] * nrefs
                model.table[index] = ident
            elif op < 0.7:
                src = rng.choice(filled)
                path, src_id = model.random_path(rng, src)
                if not model.refs[src_id]:
                    continue
                slot = rng.randrange(len(model.refs[src_id]))
                if rng.random() < 0.15:
                    fmt.path_link(table, src, path, slot, None)
                    model.refs[src_id][slot] = None
                else:
                    dst = rng.choice(filled)
                    dst_path, dst_id = model.random_path(rng, dst, 2)
                    fmt.path_link(table, src, path, slot, dst, dst_path)
                    model.refs[src_id][slot] = dst_id
            elif op < 0.78:
                index = rng.choice(filled)
                table[index] = 0
                model.table[index] = None
            elif op < 0.8:
                # A new allocation point: the filled segment may now move.
                ap.destroy()
                ap = amc.allocation_point()
            else:
                index = rng.choice(filled)
                path, ident = model.random_path(rng, index)
                got_id, ref_ids = fmt.path_read(table, index, path)
                expected = [r or 0 for r in model.refs[ident]]
                assert (got_id, ref_ids) == (ident, expected), (
                    f"worker {model.tag}: table[{index}] path {path}: read {got_id:#x} "
                    f"{[hex(r) for r in ref_ids]}, expected {ident:#x} {[hex(r) for r in expected]}"
                )
        # A last look at every entry before leaving.
        for index, ident in enumerate(model.table):
            if ident is not None:
                got_id, ref_ids = fmt.path_read(table, index, [])
                assert (got_id, ref_ids) == (ident, [r or 0 for r in model.refs[ident]])
        ap.destroy()
        leaf_ap.destroy()
        root.destroy()
        thread.deregister()
    except BaseException as e:
        errors.append(e)


def collector_loop(
    arena: gc_plugin.Arena,
    stop: threading.Event,
    counts: dict[str, int],
    errors: list[BaseException],
    seed: int,
) -> None:
    rng = random.Random(seed)
    try:
        thread = arena.register_thread()
        while not stop.is_set():
            how = rng.random()
            if how < 0.6:
                arena.collect()
            elif how < 0.8:
                arena.start_collect()
                arena.park()
            else:
                arena.release()
                arena.step(0.001, 2.0)
                time.sleep(0.001)
                arena.park()
            counts["collections"] += 1
        thread.deregister()
    except BaseException as e:
        errors.append(e)


@pytest.mark.parametrize("header", [0, 16])
@pytest.mark.parametrize("workers", [2, 4])
def test_threads_mutate_while_another_collects(
    workers: int, header: int, rng: random.Random
) -> None:
    arena = gc_plugin.Arena()
    try:
        main = arena.register_thread()
        fmt = GraphFormat(arena, header)
        chain = arena.chain([(256, 0.8), (1024, 0.5)])
        amc = arena.amc(fmt, chain)
        amcz = arena.amcz(fmt, chain)
        arena.enable_messages(gc_plugin.MessageType.GC)
        models = [WorkerModel(tag + 1) for tag in range(workers)]
        tables: dict[int, gc_plugin.RootTable] = {}
        errors: list[BaseException] = []
        stop = threading.Event()
        counts = {"collections": 0}
        collector = threading.Thread(
            target=collector_loop,
            args=(arena, stop, counts, errors, rng.randrange(1 << 30)),
            daemon=True,
        )
        threads = [
            threading.Thread(
                target=worker,
                args=(arena, fmt, amc, amcz, m, rng.randrange(1 << 30), tables, errors, counts),
                daemon=True,
            )
            for m in models
        ]
        collector.start()
        for t in threads:
            t.start()
        deadline = time.monotonic() + JOIN_TIMEOUT
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))
        stop.set()
        collector.join(max(1.0, deadline - time.monotonic()))
        hung = [t.name for t in [*threads, collector] if t.is_alive()]
        assert not hung, f"threads {hung} still running after {JOIN_TIMEOUT} s (errors: {errors})"
        if errors:
            raise errors[0]
        assert counts["collections"] > 0
        print(
            "collections run:",
            counts["collections"],
            "epoch",
            arena.collection_count,
            "objects",
            sum(len(m.refs) for m in models),
        )

        # Every worker's graph, through its exact table, after one more
        # collection with no ambiguous root left.
        arena.park()
        arena.collect()
        assert arena.check() and amc.check() and amcz.check()
        everything: set[int] = set()
        for m in models:
            table = tables[m.tag]
            addr: dict[int, int] = {}
            stack: list[int] = []
            for index, ident in enumerate(m.table):
                if ident is None:
                    assert table[index] == 0
                    continue
                a = table[index]
                assert fmt.ident(a) == ident, f"worker {m.tag} table[{index}]"
                assert addr.setdefault(ident, a) == a
                stack.append(ident)
            while stack:
                ident = stack.pop()
                refs = fmt.refs(addr[ident])
                assert len(refs) == len(m.refs[ident])
                for slot, target in enumerate(m.refs[ident]):
                    if target is None:
                        assert refs[slot] == 0
                        continue
                    assert fmt.ident(refs[slot]) == target, f"object {ident:#x} slot {slot}"
                    if target not in addr:
                        addr[target] = refs[slot]
                        stack.append(target)
                    assert addr[target] == refs[slot]
            assert set(addr) == m.reachable()
            everything |= set(addr)
        walked = [
            fmt.ident(o.address)
            for o in arena.formatted_objects()
            if fmt.kind(o.address) == "object"
        ]
        assert len(walked) == len(set(walked)), "an object appears twice in the walk"
        assert set(walked) == everything, (
            f"walk: {len(set(walked) - everything)} unreachable objects left, "
            f"{len(everything - set(walked))} reachable ones missing"
        )
        count, where, header_word = fmt.errors()
        assert count == 0, (
            f"bad headers met by the format: {count}, first {header_word:#x} at {where:#x}"
        )
        del main
    finally:
        arena.teardown()


_EXITING_THREAD = r"""
import sys, threading
import gc_plugin
from gcp_testing import GraphFormat

arena = gc_plugin.Arena()
main = arena.register_thread()
fmt = GraphFormat(arena)
amc = arena.amc(fmt)
table = arena.root_table(4)
left = []

def leave_registered():
    thread = arena.register_thread()
    with amc.allocation_point() as ap:
        fmt.alloc_into(ap, table, 0, 1, 3, 42)
    left.append(thread)          # never deregistered

for _ in range(int(sys.argv[1])):
    t = threading.Thread(target=leave_registered)
    t.start()
    t.join()
print("threads gone", flush=True)
for _ in range(3):
    arena.collect()
    print("collected", flush=True)
assert fmt.ident(table[0]) == 42
for thread in left:
    try:
        thread.deregister()
    except gc_plugin.MisuseError as e:
        print("dereg refused:", e)
print("done", flush=True)
"""


@pytest.mark.parametrize("count", [1, 3])
def test_thread_exiting_registered_does_not_hang_collection(count: int) -> None:
    try:
        done = subprocess.run(
            [sys.executable, "-c", _EXITING_THREAD, str(count)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else e.stdout
        pytest.fail(f"the collection hung after a registered thread exited; output: {out!r}")
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr[-3000:]}"
    assert done.stdout.count("collected") == 3 and "done" in done.stdout, done.stdout
