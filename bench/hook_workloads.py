#!/usr/bin/env python3
"""bench/hook_workloads.py -- allocation-heavy pure-Python workloads for the
allocator-hook benchmark (bench/hook_bench.py), and the process that runs one
of them and reports its time.

    python bench/hook_workloads.py binary_trees            # one timed run, JSON on stdout
    python bench/hook_workloads.py json_roundtrip --scale 0.1
    python bench/hook_workloads.py dict_churn --tracemalloc
    python bench/hook_workloads.py walk --blocks 1000000   # heap-walk timing (whole-heap mode)

The allocator mode is chosen by the environment the process starts with
(GC_PLUGIN_MANAGE, see gc_plugin/_autostart.py), never here: this module
imports nothing of gc_plugin before the timed region, so a plain run is plain
CPython.  ``--tracemalloc`` calls tracemalloc.start(1) before timing.  Only
the call of the workload function is timed (time.perf_counter), so
interpreter start-up and the activation of the hook are not.

Every workload is a function of one argument, ``scale`` (1.0 = the full
size, about 0.3-1 s on plain CPython on the reference machine), and returns a
checksum that does not depend on the allocator, so runs can be compared.
Standard library only.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import time

# ---- 1. binary trees of tuples ------------------------------------------------
# The benchmarks-game shape: one long-lived tree, then many short-lived trees
# of increasing depth, built from 2-tuples (GC-tracked objects, 56 bytes).


def _make_tree(depth):
    if depth == 0:
        return (None, None)
    depth -= 1
    return (_make_tree(depth), _make_tree(depth))


def _check_tree(node):
    left, right = node
    if left is None:
        return 1
    return 1 + _check_tree(left) + _check_tree(right)


def binary_trees(scale=1.0):
    max_depth = 15
    long_lived = _make_tree(max_depth)
    total = 0
    for depth in range(4, max_depth + 1, 2):
        iterations = max(1, int(scale * (1 << (max_depth - depth + 4))))
        for _ in range(iterations):
            total += _check_tree(_make_tree(depth))
    return total + _check_tree(long_lived)


# ---- 2. dict churn --------------------------------------------------------------
# A sliding window of 20 000 live records (small dicts with fresh str and int
# keys) in an index dict: insert one, delete the oldest; every 2 000 steps
# copy the index and rebuild it by comprehension (large key tables).


def dict_churn(scale=1.0):
    steps = max(1, int(200_000 * scale))
    window = 20_000
    index = {}
    total = 0
    for i in range(steps):
        key = "rec%d" % i
        record = {"id": i, "key": key, "group": i % 97, i: key}
        record["score"] = i * 3
        index[key] = record
        if i >= window:
            old = index.pop("rec%d" % (i - window))
            total += old["group"]
        if i % 2_000 == 0:
            copy = dict(index)
            by_group = {k: r["group"] for k, r in copy.items() if r["score"] & 1}
            total += len(by_group)
    return total + len(index)


# ---- 3. str / list / tuple churn ------------------------------------------------
# Formatting, splitting, joining and slicing: many short-lived strs, lists
# and tuples, and a bounded list of tuples that is sliced down regularly.


def str_list_tuple_churn(scale=1.0):
    steps = max(1, int(360_000 * scale))
    keep = []
    total = 0
    for i in range(steps):
        s = "item-%d-%s" % (i, "x" * (i % 23))
        parts = s.split("-")
        t = tuple(parts) + (i, s.upper())
        words = [p * 2 for p in parts]
        words.append(" ".join(words))
        joined = ",".join(words)
        keep.append((t, joined[: 8 + i % 40]))
        if len(keep) > 4_000:
            keep = keep[2_000:]
        total += len(joined) + len(t)
    return total + len(keep)


# ---- 4. object graph with cycles -------------------------------------------------
# Rounds of building a graph of 20 000 instances (instance dicts, lists of
# edges, back references: cycles everywhere), then dropping it; the cyclic
# garbage collector reclaims it.


class _Node:
    def __init__(self, i):
        self.i = i
        self.edges = []
        self.parent = None
        self.label = "n%d" % i


def object_graph(scale=1.0):
    rounds = max(1, int(14 * scale))
    n = 20_000
    total = 0
    for r in range(rounds):
        nodes = [_Node(i) for i in range(n)]
        for i, node in enumerate(nodes):
            node.edges.append(nodes[(i * 7 + 1) % n])
            node.edges.append(nodes[(i * 13 + r) % n])
            node.parent = nodes[i // 2]
            node.meta = {"round": r, "peer": nodes[(i + 1) % n]}
        total += sum(len(node.edges) for node in nodes[::1_000])
        del nodes, node
    gc.collect()
    return total


# ---- 5. JSON round trip ------------------------------------------------------------
# json.dumps and json.loads (the C accelerators) of a document of 2 000
# records with nested lists, dicts, strs, ints, floats and booleans.


def _document():
    return {
        "version": 3,
        "records": [
            {
                "id": i,
                "name": "user%05d" % i,
                "email": "user%05d@example.org" % i,
                "active": i % 3 != 0,
                "score": i * 1.25,
                "tags": ["t%d" % (i % 7), "g%d" % (i % 11), "common"],
                "address": {"street": "%d Main St" % i, "zip": "%05d" % (i * 7 % 100_000)},
                "history": [i, i + 1, i * 2, None],
            }
            for i in range(2_000)
        ],
    }


def json_roundtrip(scale=1.0):
    rounds = max(1, int(44 * scale))
    doc = _document()
    total = 0
    for _ in range(rounds):
        text = json.dumps(doc)
        back = json.loads(text)
        total += len(text) + len(back["records"])
        doc = back
    return total


WORKLOADS = {
    "binary_trees": binary_trees,
    "dict_churn": dict_churn,
    "str_list_tuple_churn": str_list_tuple_churn,
    "object_graph": object_graph,
    "json_roundtrip": json_roundtrip,
}


# ---- the heap walk of 1M live blocks (whole-heap mode) ---------------------------


def walk_bench(blocks):
    """Make `blocks` live small objects (distinct ints: one 32-byte OBJ block
    each), then time gc_plugin.summary() and a full iteration of
    gc_plugin.walk() over the routed heap (a loop that only counts the
    blocks; the ints are checked in the summary, untimed)."""
    keep = [i + 1_000_000 for i in range(blocks)]
    import gc_plugin
    from gc_plugin._calls import ffi, lib

    status = gc_plugin.status()
    location = gc_plugin.__file__
    t0 = time.perf_counter()
    live = int(lib.gcp_hook_live(ffi.NULL))  # the pool's own walk, counting only
    t1 = time.perf_counter()
    summ = gc_plugin.summary()
    t2 = time.perf_counter()
    it = gc_plugin.walk()
    next(it)  # the snapshot (C walk into records) is taken here
    t3 = time.perf_counter()
    walked = 1
    for _ in it:  # the least a caller does: look at every block
        walked += 1
    t4 = time.perf_counter()
    ints_in_summary = sum(t.blocks for t in summ.by_type if t.type == "int")
    del keep
    return {
        "heap": status.heap,
        "gc_plugin_file": location,
        "native_file": sys.modules["gc_plugin._native"].__file__,
        "live_blocks": live,
        "summary_blocks": summ.blocks,
        "walk_blocks": walked,
        "ints_in_summary": ints_in_summary,
        "count_s": t1 - t0,
        "summary_s": t2 - t1,
        "walk_snapshot_s": t3 - t2,
        "walk_s": t4 - t2,
    }


def _mode_check():
    """After timing: which allocator mode this process really ran in, and
    whether new objects are routed into the pool (by live-block count)."""
    if "gc_plugin" not in sys.modules:
        return {"gc_plugin_loaded": False}
    import gc_plugin
    from gc_plugin._calls import ffi, lib

    st = gc_plugin.status()
    tracking = bool(lib.gcp_hook_tracking_sites())
    before = int(lib.gcp_hook_live(ffi.NULL))
    probe = [object() for _ in range(10_000)]
    after = int(lib.gcp_hook_live(ffi.NULL))
    del probe
    return {
        "gc_plugin_loaded": True,
        "gc_plugin_file": gc_plugin.__file__,
        "native_file": sys.modules["gc_plugin._native"].__file__,
        "active": st.active,
        "heap": st.heap,
        "under_tracemalloc": st.under_tracemalloc,
        "routed_probe": after - before,  # 10 000 in whole-heap mode, 0 in pass-through
        "live_blocks": before,
        "leak_tracking": tracking,
    }


def _cpu_ticks():
    """Busy and total CPU time of the whole machine so far, in seconds (from
    /proc/stat; steal time counts as busy), or None."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        hz = os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError):
        return None
    idle = v[3] + (v[4] if len(v) > 4 else 0)
    total = sum(v[:8])
    return (total - idle) / hz, total / hz


def _others_cpu(before, after, own_cpu, wall):
    """CPUs' worth of time the rest of the machine was busy while we were
    timed (0: we had the machine to ourselves; 1: one other CPU was busy
    the whole time), from /proc/stat at 10 ms resolution."""
    if before is None or after is None or wall <= 0:
        return None
    busy = after[0] - before[0]
    return max(0.0, busy - own_cpu) / wall


def _maxrss_kib():
    try:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    except (ImportError, OSError):
        return None


def main(argv=None):
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("workload", choices=sorted(WORKLOADS) + ["walk"])
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--tracemalloc", action="store_true", help="tracemalloc.start(1) before timing")
    ap.add_argument(
        "--memray", metavar="FILE", help="time the workload inside memray.Tracker(FILE)"
    )
    ap.add_argument("--blocks", type=int, default=1_000_000, help="walk: live objects")
    args = ap.parse_args(argv)

    if args.workload == "walk":
        out = walk_bench(args.blocks)
        out["workload"] = "walk"
        out["maxrss_kib"] = _maxrss_kib()
        print(json.dumps(out))
        return 0

    fn = WORKLOADS[args.workload]
    tracker = None
    if args.memray:
        import memray

        tracker = memray.Tracker(args.memray)
        tracker.__enter__()
    if args.tracemalloc:
        import tracemalloc

        tracemalloc.start(1)
    gc.collect()
    m0 = _cpu_ticks()
    t0 = time.perf_counter()
    c0 = time.process_time()
    checksum = fn(args.scale)
    c1 = time.process_time()
    t1 = time.perf_counter()
    m1 = _cpu_ticks()
    if tracker is not None:
        tracker.__exit__(None, None, None)
    out = {
        "workload": args.workload,
        "scale": args.scale,
        "seconds": t1 - t0,
        "cpu_seconds": c1 - c0,
        "others_cpu": _others_cpu(m0, m1, c1 - c0, t1 - t0),
        "checksum": checksum,
        "tracemalloc": args.tracemalloc,
        "memray": bool(args.memray),
        "maxrss_kib": _maxrss_kib(),
    }
    if args.tracemalloc:
        import tracemalloc

        out["tracemalloc_peak"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    out.update(_mode_check())
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
