"""The collector's write barrier under CPython's faulthandler.

Old AMC segments are read-only after a collection; the first write to one
faults into the barrier's SIGSEGV handler (native/src/platform/prot_linux.c),
which chains faults that are not its own to the handler installed before it
and takes SIGSEGV back at each collection if someone replaced it.  Each test
runs a child ``python -X faulthandler`` (faulthandler is on from start-up),
so a barrier fault that reached faulthandler would print "Fatal Python
error" and end the child.

* test_graph_under_faulthandler (barrier on, and GCP_BARRIER=0): a chain
  of three small generations, a graph of anchors (exact root table) ->
  old holders -> new objects (-> more new objects), built and rewired from
  Python through the collector API (GraphFormat.alloc_into / path_link /
  set_ref / path_read); the arena is released so that allocation alone runs
  many nursery and older collections; a second registered Python thread
  rewires its own part of the graph meanwhile; between the phases
  faulthandler is disabled and enabled again and a collection follows (the
  barrier must take SIGSEGV back), then more writes.  Every part of the
  graph is checked against a model; partial collections (GC messages with
  not_condemned_size > 0) must have happened; old holders must be seen
  write-protected with the barrier (read() into them fails with EFAULT) and
  never without; at the end the pool walk finds exactly the reachable
  objects.
* test_faulthandler_replaced_before_a_collection: faulthandler disabled
  (and enabled again, as pytest's faulthandler plugin does at the end of a
  session) after the barrier engaged, then writes into protected objects
  before any collection: the writes should work and faulthandler should not
  report them.  docs/design/barrier.md documents that this window exists
  (SIGSEGV is taken back only at the next collection): strict xfail, so
  that closing it shows.
* test_real_crash_reported_once: after faulthandler was enabled late (and
  the barrier took SIGSEGV back), a real crash must be reported once by
  faulthandler and end the child with SIGSEGV, as without the late enable.
"""

from __future__ import annotations

import signal

import pytest

from .childproc import RunChild

COMMON = r"""
import ctypes, errno, faulthandler, os, random, sys, threading
import gc_plugin
from gcp_childlib import emit
from gcp_testing import GraphFormat

assert faulthandler.is_enabled()
libc = ctypes.CDLL(None, use_errno=True)
rfd, wfd = os.pipe()

def writable(addr):
    # read() into a read-only page fails with EFAULT instead of faulting
    os.write(wfd, ctypes.string_at(addr, 8))
    n = libc.read(rfd, ctypes.c_void_p(addr), 8)
    if n == 8:
        return True
    assert n == -1 and ctypes.get_errno() == errno.EFAULT, (n, ctypes.get_errno())
    os.read(rfd, 8)
    return False

arena = gc_plugin.Arena()
fmt = GraphFormat(arena, 8)
chain = arena.chain([(64, 0.8), (192, 0.6), (512, 0.4)])
pool = arena.amc(fmt, chain)
arena.enable_messages(gc_plugin.MessageType.GC)
"""

MAIN = (
    COMMON
    + r"""
SEED, BARRIER = int(sys.argv[1]), sys.argv[2] == "on"
NA, NH, HS = 6, 12, 8            # anchors (table slots), holders each, slots each
WORKER_ANCHOR, MAIN_SCRATCH, WORKER_SCRATCH = NA - 1, NA, NA + 1
main_thread = arena.register_thread()
main_root = main_thread.stack_root()
table = arena.root_table(NA + 2)
refs = {}                        # the model: id -> slot targets (ids or None)
anchors, holders = {}, {}        # table slot -> id; (anchor, k) -> id
counts = {"gcs": 0, "partial": 0, "protected": 0, "probes": 0}
ids = iter(range(1, 10**9))
id_lock = threading.Lock()

def new_id():
    with id_lock:
        return next(ids)

def take_gc():
    for info in arena.take_messages(gc_plugin.MessageType.GC):
        counts["gcs"] += 1
        counts["partial"] += info.not_condemned_size > 0
        assert info.live_size <= info.condemned_size, info

def check(anchor_slots):
    # every object reachable from the anchors, through paths of slot numbers
    for a in anchor_slots:
        seen = set()
        stack = [([], anchors[a])]
        while stack:
            path, ident = stack.pop()
            got, targets = fmt.path_read(table, a, path)
            assert got == ident, (a, path, got, ident)
            want = [0 if t is None else t for t in refs[ident]]
            assert targets == want, (a, path, ident, targets, want)
            if ident in seen:
                continue
            seen.add(ident)
            stack.extend((path + [j], t) for j, t in enumerate(refs[ident]) if t is not None)

def op(rng, ap, own, scratch):
    a = rng.choice(own)
    k, j = rng.randrange(NH), rng.randrange(HS)
    h = holders[a, k]
    r = rng.random()
    if r < 0.45:                 # a new object (maybe referring to an old holder) in an old slot
        ident = new_id()
        fmt.alloc_into(ap, table, scratch, 2, 2 + ident % 5, ident)
        refs[ident] = [None, None]
        if rng.random() < 0.5:
            a2, k2 = rng.choice(own), rng.randrange(NH)
            fmt.path_link(table, scratch, [], 0, a2, [k2])
            refs[ident][0] = holders[a2, k2]
        leaf = refs[h][j]
        if leaf is not None and leaf not in holder_ids and rng.random() < 0.4:
            fmt.path_link(table, a, [k, j], 1, scratch)      # deeper: new under new
            refs[leaf][1] = ident
        else:
            fmt.path_link(table, a, [k], j, scratch)
            refs[h][j] = ident
        table[scratch] = None
    elif r < 0.6:                # another old holder, or what another slot holds
        a2, k2, j2 = rng.choice(own), rng.randrange(NH), rng.randrange(HS)
        t = refs[holders[a2, k2]][j2]
        if t is not None and rng.random() < 0.5:
            fmt.path_link(table, a, [k], j, a2, [k2, j2])
        else:
            fmt.path_link(table, a, [k], j, a2, [k2])
            t = holders[a2, k2]
        refs[h][j] = t
    elif r < 0.65:
        fmt.path_link(table, a, [k], j, None)
        refs[h][j] = None
    else:                        # garbage
        fmt.alloc(ap, 0, rng.choice([2, 40, 400]), 0)

def probe():
    # arena parked: addresses hold still
    for a in range(NA):
        for k in range(NH):
            counts["probes"] += 1
            counts["protected"] += not writable(fmt.ref(table[a], k))

# ---- set-up: anchors and holders, made old
main_ap = pool.allocation_point()
arena.park()
for a in range(NA):
    anchors[a] = new_id()
    fmt.alloc_into(main_ap, table, a, NH, 2, anchors[a])
    refs[anchors[a]] = [None] * NH
    for k in range(NH):
        holders[a, k] = new_id()
        fmt.alloc_into(main_ap, table, MAIN_SCRATCH, HS, 3, holders[a, k])
        refs[holders[a, k]] = [None] * HS
        fmt.path_link(table, a, [], k, MAIN_SCRATCH)
        refs[anchors[a]][k] = holders[a, k]
table[MAIN_SCRATCH] = None
holder_ids = set(holders.values())
for _ in range(300):
    fmt.alloc(main_ap, 0, 40, 0)
arena.collect()
arena.collect()
check(range(NA))
probe()

# ---- phase 1: the main thread and a worker rewire their parts, released
errors = []

def worker(seed):
    try:
        thread = arena.register_thread()
        root = thread.stack_root()
        ap = pool.allocation_point()
        rng = random.Random(seed)
        for i in range(6000):
            op(rng, ap, [WORKER_ANCHOR], WORKER_SCRATCH)
            if i % 1500 == 0:
                check([WORKER_ANCHOR])
        check([WORKER_ANCHOR])
        ap.destroy()
        root.destroy()
        thread.deregister()
    except BaseException as exc:
        errors.append(repr(exc))
        raise

rng = random.Random(SEED)
own = list(range(NA - 1))
t = threading.Thread(target=worker, args=(SEED + 1,))
arena.release()
t.start()
for i in range(12000):
    op(rng, main_ap, own, MAIN_SCRATCH)
    if i % 400 == 0:
        take_gc()
    if i % 3000 == 2999:
        check(own)
t.join()
assert not errors, errors
arena.collect()
take_gc()
check(range(NA))
probe()

# ---- faulthandler replaced: the next collection takes SIGSEGV back
faulthandler.disable()
faulthandler.enable()
arena.collect()
probe()

# ---- phase 2: writes from Python into old objects, parked (set_ref) and released
for i in range(300):
    a, k, j = rng.randrange(NA), rng.randrange(NH), rng.randrange(HS)
    ident = new_id()
    obj = fmt.alloc(main_ap, 2, 2, ident)
    refs[ident] = [None, None]
    fmt.set_ref(fmt.ref(table[a], k), j, obj)
    refs[holders[a, k]][j] = ident
check(range(NA))
arena.release()
for i in range(8000):
    op(rng, main_ap, list(range(NA)), MAIN_SCRATCH)
    if i % 400 == 0:
        take_gc()
arena.collect()
take_gc()
check(range(NA))
probe()

# ---- no ambiguous root left: the walk finds exactly the reachable objects
main_root.destroy()
arena.collect()
reachable, stack = set(), list(anchors.values())
while stack:
    ident = stack.pop()
    if ident not in reachable:
        reachable.add(ident)
        stack.extend(x for x in refs[ident] if x is not None)
walked = sorted(fmt.ident(x) for x in pool.walk() if fmt.kind(x) == "object")
assert walked == sorted(reachable), (len(walked), len(reachable))
assert fmt.errors()[0] == 0, fmt.errors()
take_gc()
counts["objects"] = len(reachable)
emit(counts)
"""
)

WINDOW = (
    COMMON
    + r"""
MODE = sys.argv[1]
thread = arena.register_thread()
table = arena.root_table(3)
ap = pool.allocation_point()
arena.park()
fmt.alloc_into(ap, table, 0, 64, 2, 1)
for _ in range(300):
    fmt.alloc(ap, 0, 40, 0)
arena.collect()
arena.collect()
fmt.alloc_into(ap, table, 1, 0, 2, 2)       # a new object, held by the table
assert not writable(table[0]), "the old object is not write-protected"
faulthandler.disable()
if MODE == "disable-enable":
    faulthandler.enable()
# no collection from here on: the arena is parked
for j in range(64):
    fmt.path_link(table, 0, [], j, 1)
assert fmt.path_read(table, 0) == (1, [2] * 64)
emit("ok")
"""
)

CRASH = (
    COMMON
    + r"""
MODE = sys.argv[1]
thread = arena.register_thread()
table = arena.root_table(3)
ap = pool.allocation_point()
arena.park()
fmt.alloc_into(ap, table, 0, 64, 2, 1)
for _ in range(300):
    fmt.alloc(ap, 0, 40, 0)
arena.collect()
arena.collect()
assert not writable(table[0]), "the old object is not write-protected"
if MODE == "late":
    faulthandler.disable()
    arena.collect()            # the barrier takes SIGSEGV back from SIG_DFL
    faulthandler.enable()        # faulthandler chains to the barrier now
    arena.collect()            # and the barrier takes SIGSEGV back again
fmt.alloc_into(ap, table, 1, 0, 2, 2)
fmt.path_link(table, 0, [], 5, 1)           # a barrier fault: not faulthandler's
assert fmt.path_read(table, 0)[1][5] == 2
print("crashing", flush=True)
ctypes.string_at(0)                          # a real crash: faulthandler's
"""
)


@pytest.mark.parametrize("barrier", ["on", "off"])
def test_graph_under_faulthandler(run_child: RunChild, barrier: str) -> None:
    env = {"GCP_BARRIER": None if barrier == "on" else "0"}
    child = run_child(MAIN, args=["12345", barrier], env=env)
    assert child.returncode == 0, child.describe()
    assert "Fatal Python error" not in child.stderr, child.describe()
    counts = child.result()
    assert isinstance(counts, dict)
    assert counts["gcs"] > 20, counts
    assert counts["partial"] > 10, counts  # the generations engaged
    if barrier == "on":
        assert counts["protected"] > 0, counts  # the barrier engaged
    else:
        assert counts["protected"] == 0, counts


@pytest.mark.xfail(
    strict=True,
    reason="documented limit (docs/design/barrier.md): SIGSEGV is taken back only at the "
    "next collection, so a barrier fault after faulthandler.disable()/enable() and before "
    "it kills the process",
)
@pytest.mark.parametrize("mode", ["disable-enable", "disable"])
def test_faulthandler_replaced_before_a_collection(run_child: RunChild, mode: str) -> None:
    child = run_child(WINDOW, args=[mode])
    assert "Fatal Python error" not in child.stderr, child.describe()
    assert child.returncode == 0, child.describe()
    assert child.result() == "ok"


@pytest.mark.parametrize("mode", ["early", "late"])
def test_real_crash_reported_once(run_child: RunChild, mode: str) -> None:
    child = run_child(CRASH, args=[mode])
    assert "crashing" in child.stdout, child.describe()
    reports = child.stderr.count("Fatal Python error: Segmentation fault")
    assert reports == 1, (
        f"faulthandler reported the crash {reports} times\n" + child.describe()[:3000]
    )
    assert child.returncode == -signal.SIGSEGV, child.describe()[:3000]
