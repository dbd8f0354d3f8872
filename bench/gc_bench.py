#!/usr/bin/env python3
"""bench/gc_bench.py -- build gc_plugin's native core (hot and rash) and
bench/gc_bench.c into a temporary directory, run the garbage-collection
benchmarks (allocation rate, binary trees, full-collection pause; and for
issue #5 binary trees on the non-moving AMS pool and a weak-key table in
AWL) several times, interleaved so that machine load affects every column
alike, and print markdown tables of medians, min-max ranges, ratios and
verdicts.

    python3 bench/gc_bench.py                  # 5 rounds, full sizes
    python3 bench/gc_bench.py --reps 7
    python3 bench/gc_bench.py --quick          # small sizes, 2 rounds: a smoke run
    python3 bench/gc_bench.py --json raw.json  # also keep every measurement
    python3 bench/gc_bench.py --only trees     # some of alloc,trees,pause,ams,weak
    python3 bench/gc_bench.py --only ams,weak  # issue #5: AMS trees, weak table
    python3 bench/gc_bench.py --ref HEAD       # benchmark a commit, not the tree

Standard library only.  The Boehm column needs libgc-dev: if
/usr/include/gc.h is missing the script runs `apt-get install -y libgc-dev`
when it is root, and otherwise (or if that fails) says so and leaves the
column out.  See bench/README.md.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCH_DIR)
from run import cpu_model, loadavg, machine_info, snapshot_native  # noqa: E402  (bench/run.py)

ROOT = os.path.dirname(BENCH_DIR)
BENCH_SRC = os.path.join(BENCH_DIR, "gc_bench.c")

# Targets (from the issue); used for the verdict lines.
TARGET_ALLOC_NS = 5.0  # AMC ns per 32-byte object, collections included
MPS_ALLOC_NS = "18.7-20.3"  # the real MPS on the same pattern (from the issue)

FULL = {
    "allocs": 50_000_000,
    "nursery_kb": 4096,
    "trees": (16, 20),
    "trees_big_nursery_kb": 131072,
    "pause_mb": (10, 50, 100),
    "collects": 5,
    "weak_entries": 1_000_000,
    "weak_cycles": 5,
    "weak_churn_pct": 10,
}
QUICK = {
    "allocs": 5_000_000,
    "nursery_kb": 4096,
    "trees": (14, 16),
    "trees_big_nursery_kb": 32768,
    "pause_mb": (10, 20),
    "collects": 3,
    "weak_entries": 200_000,
    "weak_cycles": 3,
    "weak_churn_pct": 10,
}
ALL_PARTS = ("alloc", "trees", "pause", "ams", "weak")
WEAK_MODES = ("weak", "strong", "pruned")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def run_cmd(cmd, **kw):
    return subprocess.run(cmd, text=True, capture_output=True, **kw)


# ---------------------------------------------------------------- build


def ensure_boehm():
    """True when <gc.h> is there (installing libgc-dev if root)."""
    if os.path.exists("/usr/include/gc.h"):
        return True, ""
    if os.geteuid() != 0:
        return False, (
            "/usr/include/gc.h is missing and this is not root: "
            "install libgc-dev (apt-get install -y libgc-dev) for the Boehm column"
        )
    log("installing libgc-dev (apt-get install -y libgc-dev) ...")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    res = run_cmd(["apt-get", "install", "-y", "libgc-dev"], env=env)
    if res.returncode != 0:
        run_cmd(["apt-get", "update"], env=env)
        res = run_cmd(["apt-get", "install", "-y", "libgc-dev"], env=env)
    if res.returncode != 0 or not os.path.exists("/usr/include/gc.h"):
        return False, (
            "`apt-get install -y libgc-dev` failed (status %d): %s"
            % (res.returncode, (res.stderr or res.stdout).strip()[-400:])
        )
    return True, ""


def build(tmp, ref, varieties, cc, want_boehm):
    """Snapshot native/ into tmp/src; build libgcp.a per variety and the
    program against each.  Returns ({name: exe}, [commands], {name: error}).
    Names: the varieties, "ref" (no core: the malloc rows) and "boehm"."""
    native = snapshot_native(tmp, ref)
    inc = os.path.join(native, "include")
    bdir = os.path.join(tmp, "build")
    bins, cmds, errors = {}, [], {}

    def step(name, cmd):
        cmds.append(" ".join(cmd))
        res = run_cmd(cmd)
        if res.returncode != 0:
            errors[name] = "$ %s\n%s" % (" ".join(cmd), (res.stderr + res.stdout).strip()[-3000:])
            return False
        return True

    base = [cc, "-O2", "-g", "-I", inc, BENCH_SRC]
    exe = os.path.join(tmp, "gc_bench_ref")
    if step("ref", base[:1] + ["-DWITHOUT_MPS"] + base[1:] + ["-lm", "-o", exe]):
        bins["ref"] = exe
    if want_boehm:
        exe = os.path.join(tmp, "gc_bench_boehm")
        if step(
            "boehm",
            base[:1]
            + ["-DWITH_BOEHM", "-DWITHOUT_MPS"]
            + base[1:]
            + ["-lgc", "-lpthread", "-lm", "-o", exe],
        ):
            bins["boehm"] = exe
    for v in varieties:
        if not step(v, ["make", "-C", native, "VARIETY=" + v, "BUILD=" + bdir, "CC=" + cc]):
            continue
        exe = os.path.join(tmp, "gc_bench_" + v)
        if step(v, base + [os.path.join(bdir, v, "libgcp.a"), "-lpthread", "-lm", "-o", exe]):
            bins[v] = exe
    return bins, cmds, errors


# ---------------------------------------------------------------- run


def parse(line):
    out = {}
    for tok in line.split():
        if "=" in tok:
            k, v = tok.split("=", 1)
            try:
                out[k] = float(v)
            except ValueError:
                out[k] = v
    return out


def job_groups(bins, varieties, sizes, only):
    """Groups of jobs (key, binary name, argv tail).  Within a round the
    groups run in order and each group's jobs in an order rotated from
    round to round."""
    vs = [v for v in varieties if v in bins]
    groups = []
    if "alloc" in only:
        n, nk = str(sizes["allocs"]), str(sizes["nursery_kb"])
        g = [("alloc/malloc", "ref", ["alloc", "malloc", n])]
        for v in vs:
            g.append(("alloc/amc@" + v, v, ["alloc", "amc", n, nk]))
            g.append(("alloc/amcdef@" + v, v, ["alloc", "amcdef", n]))
        groups.append(g)
    if "trees" in only or "ams" in only:
        # "ams" (issue #5) needs the malloc, Boehm and AMC rows too: with
        # "trees" they share one group (each job runs once a round).
        lo, hi = (str(x) for x in sizes["trees"])
        g = [("trees/malloc", "ref", ["trees", "malloc", lo, hi])]
        if "boehm" in bins:
            g.append(("trees/boehm", "boehm", ["trees", "boehm", lo, hi]))
        for v in vs:
            g.append(("trees/amc@" + v, v, ["trees", "amc", lo, hi]))
        if vs and "trees" in only:  # diagnostic: the first variety with a large nursery
            big = sizes["trees_big_nursery_kb"]
            g.append(
                (
                    "trees/amcbig@" + vs[0],
                    vs[0],
                    ["trees", "amc", lo, hi, str(int(hi) + 1), hi, "500000", str(big)],
                )
            )
        if "ams" in only:
            for v in vs:
                g.append(("trees/ams@" + v, v, ["trees", "ams", lo, hi]))
        groups.append(g)
    if "pause" in only:
        g = []
        for mb in sizes["pause_mb"]:
            for v in vs:
                g.append(
                    ("pause/%d@%s" % (mb, v), v, ["pause", "amc", str(mb), str(sizes["collects"])])
                )
        groups.append(g)
    if "weak" in only:
        g = []
        for mode in WEAK_MODES:
            for v in vs:
                g.append(
                    (
                        "weak/%s@%s" % (mode, v),
                        v,
                        [
                            "weak",
                            mode,
                            str(sizes["weak_entries"]),
                            str(sizes["weak_cycles"]),
                            str(sizes["weak_churn_pct"]),
                        ],
                    )
                )
        groups.append(g)
    return [[j for j in g if j[1] in bins] for g in groups]


def run_all(bins, groups, reps, timeout):
    results, argvs, failures = {}, {}, {}
    for r in range(reps):
        t0 = time.time()
        for g in groups:
            k = r % len(g) if g else 0
            for key, b, tail in g[k:] + g[:k]:
                argv = [bins[b]] + tail
                argvs[key] = argv
                if len(failures.get(key, [])) >= 2:
                    continue  # failed twice: do not spend more time on it
                try:
                    res = run_cmd(argv, timeout=timeout)
                    rc, out, err = res.returncode, res.stdout, res.stderr
                except subprocess.TimeoutExpired as e:
                    rc, out, err = "timeout after %d s" % timeout, e.stdout or "", e.stderr or ""
                    out = out.decode() if isinstance(out, bytes) else out
                    err = err.decode() if isinstance(err, bytes) else err
                lines = [ln for ln in out.splitlines() if ln.startswith("bench=")]
                d = parse(lines[-1]) if lines else {}
                if rc != 0 or d.get("verified") != 1:
                    f = {
                        "round": r + 1,
                        "status": rc,
                        "stdout": out.strip()[-1500:],
                        "stderr": err.strip()[-1500:],
                        "command": " ".join(argv),
                    }
                    failures.setdefault(key, []).append(f)
                    log(
                        "  FAILED %s (status %s): %s"
                        % (" ".join(argv), rc, (err or out).strip()[-300:])
                    )
                    continue
                results.setdefault(key, []).append(d)
        log("  round %d/%d done in %.1f s" % (r + 1, reps, time.time() - t0))
    return results, argvs, failures


# ---------------------------------------------------------------- report


def vals(results, key, field):
    return [d[field] for d in results.get(key, []) if isinstance(d.get(field), float)]


def med(results, key, field):
    v = vals(results, key, field)
    return statistics.median(v) if v else float("nan")


def rng(results, key, field, nd=2):
    v = vals(results, key, field)
    if not v:
        return "n/a"
    return "%.*f–%.*f" % (nd, min(v), nd, max(v))


def cpu_per(results, key, field, per, scale=1e9, cpu="cpu_seconds"):
    """Median of CPU time per unit (cpu / per * scale) over the rounds."""
    v = [
        d[cpu] / d[per] * scale
        for d in results.get(key, [])
        if isinstance(d.get(cpu), float) and d.get(per)
    ]
    return statistics.median(v) if v else float("nan")


def fmt(x, nd=2):
    return "n/a" if x != x else "%.*f" % (nd, x)


def ratio(a, b):
    return "n/a" if a != a or b != b or b == 0 else "%.2f×" % (a / b)


def verdict(ok):
    return "met" if ok else "MISSED"


def report(
    results, failures, varieties, sizes, reps, info, cmds, argvs, build_errors, only=ALL_PARTS
):
    out = []
    p = out.append
    vs = varieties
    p("## GC benchmarks (medians of %d rounds; ranges are min–max over the rounds)" % reps)
    p("")
    p(
        "Machine: %s, nproc=%s, %s, kernel %s, %s.  Core: commit %s%s.  Load average "
        "before/after: %s / %s.%s"
        % (
            info["cpu"],
            info["nproc"],
            info["gcc"],
            info["kernel"],
            info["glibc"],
            info.get("commit", "?"),
            (" + uncommitted changes in native/ (%s)" % info["native_dirty"])
            if info.get("native_dirty")
            else "",
            info.get("load_before", "?"),
            info.get("load_after", "?"),
            (" Boehm: %s." % info["boehm"]) if info.get("boehm") else "",
        )
    )
    p("")
    verdicts = []

    if any(k.startswith("alloc/") for k in argvs):
        mal = med(results, "alloc/malloc", "ns_per_obj")
        p(
            "### 1. Allocation rate: %.0e objects of 32 B, live window of 1024 in an exact "
            "root (ns per object, collections included)" % sizes["allocs"]
        )
        p("")
        cmal = cpu_per(results, "alloc/malloc", "cpu_seconds", "allocs")
        p(
            "| variant | ns/object | range | ÷ malloc | CPU ns/object | CPU ÷ malloc "
            "| collections | commit retries | committed MB at end |"
        )
        p("|---|---|---|---|---|---|---|---|---|")
        p(
            "| malloc/free (ring of 1024 blocks) | %s | %s | 1.00× | %s | 1.00× | – | – | – |"
            % (fmt(mal), rng(results, "alloc/malloc", "ns_per_obj"), fmt(cmal))
        )
        for v in vs:
            for impl, label in (
                (
                    "amc",
                    "AMC %s, chain {%d KB, %d KB}"
                    % (v, sizes["nursery_kb"], 4 * sizes["nursery_kb"]),
                ),
                ("amcdef", "AMC %s, default chain" % v),
            ):
                key = "alloc/%s@%s" % (impl, v)
                x = med(results, key, "ns_per_obj")
                cx = cpu_per(results, key, "cpu_seconds", "allocs")
                p(
                    "| %s | %s | %s | %s | %s | %s | %s | %s | %s |"
                    % (
                        label,
                        fmt(x),
                        rng(results, key, "ns_per_obj"),
                        ratio(x, mal),
                        fmt(cx),
                        ratio(cx, cmal),
                        fmt(med(results, key, "collections"), 0),
                        fmt(med(results, key, "commit_retries"), 0),
                        fmt(med(results, key, "committed_mb"), 1),
                    )
                )
                if x == x:
                    verdicts.append(
                        "AMC allocation ≤ %.0f ns/object (%s): **%s** (%.2f ns; "
                        "CPU time %.2f ns; malloc/free %.2f ns, CPU %.2f ns; "
                        "the MPS: %s ns)"
                        % (
                            TARGET_ALLOC_NS,
                            label,
                            verdict(x <= TARGET_ALLOC_NS),
                            x,
                            cx,
                            mal,
                            cmal,
                            MPS_ALLOC_NS,
                        )
                    )
                else:
                    verdicts.append(
                        "AMC allocation ≤ %.0f ns/object (%s): **not measured** "
                        "(see failures)" % (TARGET_ALLOC_NS, label)
                    )
        p("")

    if "trees" in only and any(k.startswith("trees/") for k in argvs):
        lo, hi = sizes["trees"]
        bo = med(results, "trees/boehm", "seconds")
        mal = med(results, "trees/malloc", "seconds")
        sample = next(
            iter(
                results.get("trees/malloc", [])
                or [d for k in results if k.startswith("trees/") for d in results[k]]
            ),
            {},
        )
        p(
            "### 2. Binary trees (GCBench structure): depths %d..%d top-down and bottom-up, "
            "stretch tree of depth %d, long-lived tree of depth %d and array of %d doubles; "
            "%s nodes of 32 B (seconds, verification excluded)"
            % (lo, hi, hi + 1, hi, 500000, "{:,}".format(int(sample.get("nodes", 0))))
        )
        p("")
        p(
            "| variant | seconds | range | CPU seconds | ns/node | ÷ Boehm | ÷ malloc "
            "| collections | heap MB |"
        )
        p("|---|---|---|---|---|---|---|---|---|")
        rows = [("malloc/free (explicit frees)", "trees/malloc")]
        if "trees/boehm" in argvs:
            rows.append(
                (
                    "Boehm GC %s (GC_MALLOC, %s marker thread(s))"
                    % (
                        info.get("boehm_version", ""),
                        fmt(med(results, "trees/boehm", "boehm_markers"), 0),
                    ),
                    "trees/boehm",
                )
            )
        rows += [("AMC %s (default chain)" % v, "trees/amc@" + v) for v in vs]
        big = sizes["trees_big_nursery_kb"]
        rows += [
            (
                "(diagnostic) AMC %s, chain {%d MB, %d MB}" % (v, big // 1024, 4 * big // 1024),
                "trees/amcbig@" + v,
            )
            for v in vs
            if "trees/amcbig@" + v in argvs
        ]
        for label, key in rows:
            x = med(results, key, "seconds")
            heap = med(results, key, "heap_mb")
            p(
                "| %s | %s | %s | %s | %s | %s | %s | %s | %s |"
                % (
                    label,
                    fmt(x, 3),
                    rng(results, key, "seconds", 3),
                    fmt(med(results, key, "cpu_seconds"), 3),
                    fmt(med(results, key, "ns_per_node"), 1),
                    ratio(x, bo),
                    ratio(x, mal),
                    fmt(med(results, key, "collections"), 0) if key != "trees/malloc" else "–",
                    fmt(heap, 1) if key != "trees/malloc" else "–",
                )
            )
        p("")
        phases = ["stretch_s", "longlived_s"]
        for d in range(lo, hi + 1, 2):
            phases += ["td%d_s" % d, "bu%d_s" % d]
        p(
            "Phases (medians, seconds): "
            + "; ".join(
                "%s: %s"
                % (
                    label,
                    ", ".join("%s %s" % (ph[:-2], fmt(med(results, key, ph), 3)) for ph in phases),
                )
                for label, key in rows
            )
            + "."
        )
        p("")
        for v in vs:
            x = med(results, "trees/amc@" + v, "seconds")
            cx = med(results, "trees/amc@" + v, "cpu_seconds")
            cbo = med(results, "trees/boehm", "cpu_seconds")
            if x == x and bo == bo:
                verdicts.append(
                    "binary trees, AMC %s faster than Boehm: **%s** (%.3f s vs "
                    "%.3f s, %.2f×; CPU %.3f s vs %.3f s, %.2f×; malloc/free "
                    "%.3f s)" % (v, verdict(x < bo), x, bo, x / bo, cx, cbo, cx / cbo, mal)
                )
            else:
                verdicts.append(
                    "binary trees, AMC %s faster than Boehm: **not measured** "
                    "(%s)" % (v, "no Boehm column" if bo != bo else "see failures")
                )

    if any(k.startswith("pause/") for k in argvs):
        p(
            "### 3. Pause of a full collection (mps_arena_collect, arena parked before "
            "timing; a graph of 40-byte nodes held by an exact root; ms)"
        )
        p("")
        p(
            "| live MB | variety | pause ms | range | CPU ms | first collect ms | ms per MB "
            "| collections in the process |"
        )
        p("|---|---|---|---|---|---|---|---|")
        for mb in sizes["pause_mb"]:
            for v in vs:
                key = "pause/%d@%s" % (mb, v)
                x = med(results, key, "pause_ms")
                p(
                    "| %d | %s | %s | %s | %s | %s | %s | %s |"
                    % (
                        mb,
                        v,
                        fmt(x, 1),
                        rng(results, key, "pause_ms", 1),
                        fmt(med(results, key, "pause_cpu_ms"), 1),
                        fmt(med(results, key, "first_ms"), 1),
                        fmt(x / mb, 2),
                        fmt(med(results, key, "collections"), 0),
                    )
                )
        p("")
        p(
            'Each process builds the graph (default chain), runs one full collection ("first"), '
            "then %d more; the pause is the median of those %d in a process, and the table "
            "gives the median and range of that over the rounds."
            % (sizes["collects"], sizes["collects"])
        )
        p("")

    if "ams" in only and any(k.startswith("trees/ams@") for k in argvs):
        lo, hi = sizes["trees"]
        sample = next(
            iter(
                results.get("trees/malloc", [])
                or [d for k in results if k.startswith("trees/") for d in results[k]]
            ),
            {},
        )
        p(
            "### 4. Non-moving mark-sweep (issue #5): binary trees on AMS vs Boehm vs AMC vs "
            "malloc/free (the workload of section 2: depths %d..%d, %s nodes of 32 B; seconds, "
            "verification excluded)" % (lo, hi, "{:,}".format(int(sample.get("nodes", 0))))
        )
        p("")
        p(
            "| variant | seconds | range | CPU seconds | CPU range | ns/node | ÷ Boehm "
            "| CPU ÷ Boehm | ÷ AMC | ÷ malloc | collections | heap MB |"
        )
        p("|---|---|---|---|---|---|---|---|---|---|---|---|")
        rows = [("malloc/free (explicit frees)", "trees/malloc", None)]
        if "trees/boehm" in argvs:
            rows.append(
                (
                    "Boehm GC %s (GC_MALLOC, %s marker thread(s))"
                    % (
                        info.get("boehm_version", ""),
                        fmt(med(results, "trees/boehm", "boehm_markers"), 0),
                    ),
                    "trees/boehm",
                    None,
                )
            )
        rows += [("AMC %s (default chain)" % v, "trees/amc@" + v, None) for v in vs]
        rows += [("**AMS %s** (default chain)" % v, "trees/ams@" + v, "trees/amc@" + v) for v in vs]
        bo = med(results, "trees/boehm", "seconds")
        cbo = med(results, "trees/boehm", "cpu_seconds")
        mal = med(results, "trees/malloc", "seconds")
        for label, key, amc in rows:
            x = med(results, key, "seconds")
            cx = med(results, key, "cpu_seconds")
            p(
                "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |"
                % (
                    label,
                    fmt(x, 3),
                    rng(results, key, "seconds", 3),
                    fmt(cx, 3),
                    rng(results, key, "cpu_seconds", 3),
                    fmt(med(results, key, "ns_per_node"), 1),
                    ratio(x, bo),
                    ratio(cx, cbo),
                    ratio(x, med(results, amc, "seconds")) if amc else "–",
                    ratio(x, mal),
                    fmt(med(results, key, "collections"), 0) if key != "trees/malloc" else "–",
                    fmt(med(results, key, "heap_mb"), 1) if key != "trees/malloc" else "–",
                )
            )
        p("")
        phases = ["stretch_s", "longlived_s"]
        for d in range(lo, hi + 1, 2):
            phases += ["td%d_s" % d, "bu%d_s" % d]
        p(
            "Phases (medians, seconds): "
            + "; ".join(
                "%s: %s"
                % (
                    label.replace("**", ""),
                    ", ".join("%s %s" % (ph[:-2], fmt(med(results, key, ph), 3)) for ph in phases),
                )
                for label, key, _ in rows
            )
            + "."
        )
        p("")
        p(
            "AMS: the same mutator code as AMC (reserve/commit on an allocation point; the "
            "temporary and long-lived trees in an exact root, the stack an ambiguous root); "
            "condemned / survived MB summed over the collections (GC messages): "
            + "; ".join(
                "%s %s / %s"
                % (
                    v,
                    fmt(med(results, "trees/ams@" + v, "condemned_mb"), 0),
                    fmt(med(results, "trees/ams@" + v, "survived_mb"), 0),
                )
                for v in vs
            )
            + "."
        )
        p("")
        for v in vs:
            x = med(results, "trees/ams@" + v, "seconds")
            cx = med(results, "trees/ams@" + v, "cpu_seconds")
            xa = med(results, "trees/amc@" + v, "seconds")
            if x == x and bo == bo:
                verdicts.append(
                    "binary trees, AMS %s vs Boehm (no target given): AMS takes "
                    "**%.2f×** Boehm's time (%.3f s vs %.3f s; CPU %.3f s vs %.3f s, "
                    "%.2f×); %.2f× AMC %s (%.3f s), %.2f× malloc/free (%.3f s)"
                    % (v, x / bo, x, bo, cx, cbo, cx / cbo, x / xa, v, xa, x / mal, mal)
                )
            else:
                verdicts.append(
                    "binary trees, AMS %s vs Boehm: **not measured** (%s)"
                    % (v, "no Boehm column" if bo != bo else "see failures")
                )

    if "weak" in only and any(k.startswith("weak/") for k in argvs):
        n = sizes["weak_entries"]
        p(
            "### 5. Weak-key table in AWL (issue #5): %s entries, half the keys held by an exact "
            "root, %d %% of the held keys replaced and the table refilled before each of %d timed "
            "full collections (mps_arena_collect, arena parked; ms)"
            % (f"{n:,}", sizes["weak_churn_pct"], sizes["weak_cycles"])
        )
        p("")
        p(
            "| table | variety | collect ms | range | CPU ms | CPU range | key refs scanned "
            "| ms per 10^6 key refs | CPU ms per 10^6 key refs | ÷ strong (wall / CPU) "
            "| ÷ pruned (wall / CPU) | entries deleted by the GC | live MB after "
            "| first collect ms | churn s | rehash s |"
        )
        p("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        labels = {
            "weak": "**weak keys**",
            "strong": "exact keys, same heap",
            "pruned": "exact keys, same survivors",
        }
        for mode in WEAK_MODES:
            for v in vs:
                key = "weak/%s@%s" % (mode, v)
                x = med(results, key, "collect_ms")
                cx = med(results, key, "collect_cpu_ms")

                def both(other, v=v, x=x, cx=cx):
                    o = "weak/%s@%s" % (other, v)
                    return "%s / %s" % (
                        ratio(x, med(results, o, "collect_ms")),
                        ratio(cx, med(results, o, "collect_cpu_ms")),
                    )

                p(
                    "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s "
                    "| %s |"
                    % (
                        labels[mode],
                        v,
                        fmt(x, 1),
                        rng(results, key, "collect_ms", 1),
                        fmt(cx, 1),
                        rng(results, key, "collect_cpu_ms", 1),
                        fmt(med(results, key, "key_refs"), 0),
                        fmt(med(results, key, "ms_per_mref"), 1),
                        fmt(cpu_per(results, key, None, "key_refs", 1e6, "collect_cpu_ms"), 1),
                        both("strong"),
                        both("pruned"),
                        fmt(med(results, key, "splats"), 0),
                        fmt(med(results, key, "live_mb"), 1),
                        fmt(med(results, key, "first_ms"), 1),
                        fmt(med(results, key, "churn_s"), 3),
                        fmt(med(results, key, "rehash_s"), 3),
                    )
                )
        p("")
        p(
            "Each process builds the table (%s entries, keys and values 24 B and 16 B AMC "
            'objects, two AWL arrays of %s slots), runs one full collection ("first"), then '
            '%d cycles of churn + one timed collection; "collect ms" is the median of those '
            "%d in a process (the table gives the median and range of that over the rounds).  "
            '"Key refs scanned": reference slots of the keys array the scan method saw in one '
            'collection (weak references in the weak table).  "Weak keys": the collector '
            'deletes the entries of dead keys.  "Same heap": exact keys, so every entry '
            'survives; the program deletes the unheld ones after the collection.  "Same '
            'survivors": exact keys, the program deletes the unheld entries just before the '
            "collection.  Churn and rehash are mutator time (summed over the cycles); the "
            "rehash is needed because AMC moved the keys."
            % (
                f"{n:,}",
                "{:,}".format(
                    int(
                        next(
                            iter(
                                [
                                    d.get("table_slots", 0)
                                    for k in results
                                    if k.startswith("weak/")
                                    for d in results[k]
                                ]
                                or [0]
                            )
                        )
                    )
                ),
                sizes["weak_cycles"],
                sizes["weak_cycles"],
            )
        )
        p("")
        for v in vs:
            w = med(results, "weak/weak@" + v, "collect_ms")
            st = med(results, "weak/strong@" + v, "collect_ms")
            pr = med(results, "weak/pruned@" + v, "collect_ms")
            per = med(results, "weak/weak@" + v, "ms_per_mref")
            cw = med(results, "weak/weak@" + v, "collect_cpu_ms")
            cst = med(results, "weak/strong@" + v, "collect_cpu_ms")
            cpr = med(results, "weak/pruned@" + v, "collect_cpu_ms")
            cper = cpu_per(results, "weak/weak@" + v, None, "key_refs", 1e6, "collect_cpu_ms")
            if w == w:
                verdicts.append(
                    "weak-key table %s (no target given): a full collection with "
                    "%s weak references takes %.1f ms (CPU %.1f ms) = **%.1f ms per "
                    "10^6 weak references (CPU %.1f ms)**; %s the same heap with "
                    "exact keys (%.1f ms; CPU %s), %s exact keys with the same "
                    "survivors (%.1f ms; CPU %s)"
                    % (
                        v,
                        fmt(med(results, "weak/weak@" + v, "weak_refs"), 0),
                        w,
                        cw,
                        per,
                        cper,
                        ratio(w, st),
                        st,
                        ratio(cw, cst),
                        ratio(w, pr),
                        pr,
                        ratio(cw, cpr),
                    )
                )
            else:
                verdicts.append("weak-key table %s: **not measured** (see failures)" % v)
    p("### Verdicts")
    p("")
    for s in verdicts:
        p("- " + s)
    if not verdicts:
        p("- nothing measured")
    p("")
    if build_errors or failures:
        p("### Failures")
        p("")
        for name, err in build_errors.items():
            p("Build of `%s` failed:" % name)
            p("")
            p("```")
            p(err)
            p("```")
            p("")
        for key, fl in failures.items():
            f = fl[0]
            p(
                "`%s` failed %d time(s) (first in round %d, status %s):"
                % (key, len(fl), f["round"], f["status"])
            )
            p("")
            p("```")
            p("$ " + f["command"])
            if f["stdout"]:
                p(f["stdout"])
            if f["stderr"]:
                p(f["stderr"])
            p("```")
            p("")
    p("### Command lines")
    p("")
    p("```")
    for c in cmds:
        p(c)
    for argv in argvs.values():
        p(" ".join([os.path.basename(argv[0])] + argv[1:]))
    p("```")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=5, help="rounds (default 5)")
    ap.add_argument("--quick", action="store_true", help="small sizes, at most 2 rounds")
    ap.add_argument("--json", help="write every measurement here")
    ap.add_argument(
        "--only",
        default="alloc,trees,pause",
        help="comma-separated subset of %s (default alloc,trees,pause; "
        "ams and weak are issue #5's parts)" % ",".join(ALL_PARTS),
    )
    ap.add_argument("--varieties", default="hot,rash")
    ap.add_argument("--ref", help="git ref to benchmark instead of the working tree")
    ap.add_argument("--no-boehm", action="store_true", help="leave the Boehm column out")
    ap.add_argument("--timeout", type=int, default=600, help="seconds per process")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("--cc", default=os.environ.get("CC", "cc"))
    ap.add_argument("--from-json", help="print the report of a run saved with --json again")
    args = ap.parse_args()
    if args.from_json:
        with open(args.from_json) as f:
            d = json.load(f)
        argvs = d["argv"]
        parts = set(k.split("/")[0] for k in argvs)
        if any(k.startswith("trees/ams@") for k in argvs):
            parts.add("ams")
            if not any(k.startswith("trees/amcbig@") for k in argvs):
                parts.discard("trees")
        vs = [v for v in args.varieties.split(",") if v]
        print(
            report(
                d["results"],
                d["failures"],
                vs,
                d["sizes"],
                d["reps"],
                d["info"],
                d["commands"],
                argvs,
                d["build_errors"],
                parts,
            )
        )
        return
    varieties = [v for v in args.varieties.split(",") if v]
    only = set(x for x in args.only.split(",") if x)
    if only - set(ALL_PARTS):
        ap.error(
            "--only: unknown part(s) %s (known: %s)"
            % (",".join(sorted(only - set(ALL_PARTS))), ",".join(ALL_PARTS))
        )
    sizes = dict(QUICK if args.quick else FULL)
    reps = min(args.reps, 2) if args.quick else args.reps

    info = machine_info()
    info["cpu"] = cpu_model()
    if args.ref:  # the core measured is the ref's, not the working tree's
        res = run_cmd(["git", "-C", ROOT, "rev-parse", "--short", args.ref])
        info["commit"] = (res.stdout.strip() or args.ref) + " (--ref %s)" % args.ref
        info["native_dirty"] = ""
    want_boehm = False
    if ("trees" in only or "ams" in only) and not args.no_boehm:
        want_boehm, why = ensure_boehm()
        if not want_boehm:
            log("NOTE: no Boehm column: " + why)
            info["boehm"] = "not measured: " + why

    tmp = tempfile.mkdtemp(prefix="gcp-gcbench-")
    try:
        log("building in %s ..." % tmp)
        bins, cmds, build_errors = build(tmp, args.ref, varieties, args.cc, want_boehm)
        for name, err in build_errors.items():
            log("BUILD FAILED (%s):\n%s" % (name, err))
        if "boehm" in bins:
            res = run_cmd([bins["boehm"], "trees", "boehm", "2", "4"])
            d = parse(res.stdout.strip().splitlines()[-1]) if res.returncode == 0 else {}
            info["boehm_version"] = d.get("boehm_version", "?")
            info["boehm"] = "libgc %s, %s marker thread(s)" % (
                info["boehm_version"],
                fmt(d.get("boehm_markers", float("nan")), 0),
            )
        elif want_boehm:
            info["boehm"] = "not measured: the Boehm program did not build"
        groups = job_groups(bins, varieties, sizes, only)
        log("running %d rounds ..." % reps)
        t0 = time.time()
        info["load_before"] = loadavg()
        results, argvs, failures = run_all(bins, groups, reps, args.timeout)
        info["load_after"] = loadavg()
        log("benchmarks took %.0f s" % (time.time() - t0))
        print(
            report(results, failures, varieties, sizes, reps, info, cmds, argvs, build_errors, only)
        )
        if args.json:
            with open(args.json, "w") as f:
                json.dump(
                    {
                        "info": info,
                        "sizes": sizes,
                        "reps": reps,
                        "results": results,
                        "failures": failures,
                        "build_errors": build_errors,
                        "commands": cmds,
                        "argv": {k: v for k, v in argvs.items()},
                    },
                    f,
                    indent=1,
                )
        if failures or build_errors:
            sys.exit(1)
    finally:
        if args.keep:
            log("kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
