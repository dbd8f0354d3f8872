#!/usr/bin/env python3
"""bench/run.py -- build gc_plugin's native core (hot and rash) and
bench/alloc_bench.c into a temporary directory, run every benchmark
variant several times (sequentially, round-robin so that glibc and the
core see the same machine state), and print markdown tables of medians
and ratios against glibc malloc/free, plus a verdict per target.

    python3 bench/run.py                 # 7 runs, full sizes (~2-3 minutes)
    python3 bench/run.py --runs 5
    python3 bench/run.py --quick         # 1/10 sizes, 3 runs: a smoke test
    python3 bench/run.py --profile       # also callgrind the slowest variants
    python3 bench/run.py --ref HEAD      # benchmark a commit instead of the tree
    python3 bench/run.py --json out.json # also dump every raw measurement

Standard library only.  The core's sources are copied (or, with --ref,
exported with git archive) into the temporary directory before building,
so concurrent edits to native/ cannot change what is measured mid-run and
native/build is never touched.  See bench/README.md.
"""

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH_SRC = os.path.join(ROOT, "bench", "alloc_bench.c")

# Targets (from the task brief); used for the verdict lines.
TARGET_SAC = 1.0  # SAC alloc+free / glibc malloc+free  < 1
TARGET_MVFF = 1.5  # plain MVFF / glibc                  <= 1.5
TARGET_AP_NS = 3.0  # reserve+commit ns per allocation    < 3
TARGET_FRAG = 1.5  # committed / live at the end          <= 1.5


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kw)


def cpu_model():
    """The processor's model name from /proc/cpuinfo, or "?"."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "?"


def machine_info():
    info = {
        "nproc": os.cpu_count(),
        "cpu": cpu_model(),
        "gcc": "?",
        "kernel": platform.release(),
        "glibc": " ".join(platform.libc_ver()),
    }
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        info["gcc"] = sh(["gcc", "--version"]).stdout.splitlines()[0]
    try:
        info["commit"] = sh(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"]).stdout.strip()
        dirty = sh(["git", "-C", ROOT, "status", "--porcelain", "--", "native"]).stdout.strip()
        info["native_dirty"] = dirty.replace("\n", "; ") if dirty else ""
    except (OSError, subprocess.CalledProcessError):
        info["commit"] = "?"
    return info


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def snapshot_native(tmp, ref):
    """Copy native/ (at git ref ``ref``, or the working tree without its
    build directory) into tmp/src/native and return that path."""
    src = os.path.join(tmp, "src")
    if ref:
        os.makedirs(src)
        archive = subprocess.run(
            ["git", "-C", ROOT, "archive", ref, "native"], check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", src], input=archive, check=True)
    else:
        shutil.copytree(
            os.path.join(ROOT, "native"),
            os.path.join(src, "native"),
            ignore=shutil.ignore_patterns("build"),
        )
    return os.path.join(src, "native")


def build(tmp, ref, varieties, cc):
    """Snapshot native/ into tmp/src, build each variety, link the bench."""
    native = snapshot_native(tmp, ref)
    bins, cmds = {}, []
    for v in varieties:
        bdir = os.path.join(tmp, "build")
        make = ["make", "-C", native, "VARIETY=" + v, "BUILD=" + bdir, "CC=" + cc]
        sh(make)
        lib = os.path.join(bdir, v, "libgcp.a")
        exe = os.path.join(tmp, "alloc_bench_" + v)
        link = [
            cc,
            "-O2",
            "-g",
            "-I",
            os.path.join(native, "include"),
            BENCH_SRC,
            lib,
            "-lpthread",
            "-lm",
            "-o",
            exe,
        ]
        sh(link)
        bins[v] = exe
        cmds.append(" ".join(make))
        cmds.append(" ".join(link))
    return bins, cmds


def parse(line):
    return {k: v for k, v in re.findall(r"(\w+)=(\S+)", line)}


def jobs_for(varieties, sizes):
    """(key, variety-or-None, argv-tail).  glibc rows run once per round
    (from the first variety's binary: they do not link the core's code)."""
    c, a, f = sizes["churn_ops"], sizes["ap_allocs"], sizes["frag_blocks"]
    jobs = []
    jobs.append(("churn/none", None, ["churn", "none", str(c)]))
    jobs.append(("churn/malloc", None, ["churn", "malloc", str(c)]))
    jobs.append(("churn/malloc64", None, ["churn", "malloc64", str(c)]))
    for v in varieties:
        for impl in ("sac", "mvff", "mfs", "sac64"):
            jobs.append(("churn/" + impl, v, ["churn", impl, str(c)]))
        # the same cache holding 256 blocks a class: fewer trips to the pool
        jobs.append(("churn/sac256", v, ["churn", "sac", str(c), "10000", "256"]))
    jobs.append(("ap/bump", None, ["ap", "bump", str(a)]))
    jobs.append(("ap/malloc", None, ["ap", "malloc", str(a)]))
    for v in varieties:
        jobs.append(("ap/apcommit", v, ["ap", "apcommit", str(a)]))
    jobs.append(("frag/malloc", None, ["frag", "malloc", str(f)]))
    for v in varieties:
        jobs.append(("frag/mvff", v, ["frag", "mvff", str(f)]))
    return jobs


def run_all(bins, varieties, sizes, runs, log):
    jobs = jobs_for(varieties, sizes)
    results = {}  # (key, variety) -> list of parsed dicts
    argvs = {}
    for r in range(runs):
        t0 = time.time()
        for key, v, tail in jobs:
            exe = bins[v or varieties[0]]
            argv = [exe] + tail
            argvs[(key, v)] = argv
            out = sh(argv).stdout.strip().splitlines()[-1]
            results.setdefault((key, v), []).append(parse(out))
        log("  run %d/%d done in %.1f s" % (r + 1, runs, time.time() - t0))
    return results, argvs


def med(results, key, v, field):
    vals = [float(d[field]) for d in results.get((key, v), []) if field in d]
    return statistics.median(vals) if vals else float("nan")


def spread(results, key, v, field):
    """The best (minimum) of the runs, in brackets: on a shared machine it
    is the figure least disturbed by other processes."""
    vals = [float(d[field]) for d in results.get((key, v), []) if field in d]
    if len(vals) < 2:
        return ""
    return "[%.2f]" % min(vals)


def fmt(x, nd=2):
    return "n/a" if x != x else ("%.*f" % (nd, x))


def report(results, varieties, sizes, runs, info, cmds, argvs):
    out = []
    p = out.append
    p("## Results (medians of %d runs; ratio = gc_plugin ÷ glibc, lower is better)" % runs)
    p("")
    p(
        "Each cell: median [minimum] over the runs.  Ratios are of medians.  Load "
        "average before/after the runs: %s / %s (1-min, 5-min, 15-min)."
        % (info.get("load_before", "?"), info.get("load_after", "?"))
    )
    p("")
    p(
        "Machine: %s, nproc=%s, %s, kernel %s, %s. Core: commit %s%s."
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
        )
    )
    p("")
    # --- churn
    nsop = "ns_per_op"
    p(
        "### 1. Random-replacement churn (%d live blocks, %.0e ops, ns per free+alloc pair)"
        % (10000, sizes["churn_ops"])
    )
    p("")
    hdr = (
        "| variant | glibc ns | "
        + " | ".join("%s ns | %s ratio" % (v, v) for v in varieties)
        + " |"
    )
    p(hdr)
    p("|" + "---|" * (2 + 2 * len(varieties)))
    rows = [
        ("SAC over MVFF, 16–256 B (8 classes 32..256, 64 cached)", "churn/sac", "churn/malloc"),
        ("SAC over MVFF, 16–256 B (same classes, 256 cached)", "churn/sac256", "churn/malloc"),
        ("MVFF mps_alloc/mps_free, 16–256 B", "churn/mvff", "churn/malloc"),
        ("MFS 64 B units vs malloc(64)", "churn/mfs", "churn/malloc64"),
        ("(diagnostic) SAC, every request 64 B, vs malloc(64)", "churn/sac64", "churn/malloc64"),
    ]
    for label, key, ref in rows:
        g = med(results, ref, None, nsop)
        cells = []
        for v in varieties:
            x = med(results, key, v, nsop)
            cells.append("%s %s | %s×" % (fmt(x), spread(results, key, v, nsop), fmt(x / g)))
        p(
            "| %s | %s %s | %s |"
            % (label, fmt(g), spread(results, ref, None, nsop), " | ".join(cells))
        )
    p("")
    p(
        "Loop overhead (same loop, no allocation, one word written): %s ns/op — included "
        "in every figure above." % fmt(med(results, "churn/none", None, nsop))
    )
    p("")
    # --- ap
    nsa = "ns_per_alloc"
    bump = med(results, "ap/bump", None, nsa)
    mal = med(results, "ap/malloc", None, nsa)
    p(
        "### 2. Allocation point reserve+commit (MVFF AP, sizes 16/32/48/64 B cycling, "
        "%.0e allocations, one word written per block)" % sizes["ap_allocs"]
    )
    p("")
    p("| loop | ns/alloc | ÷ bump | ÷ malloc |")
    p("|---|---|---|---|")
    for v in varieties:
        x = med(results, "ap/apcommit", v, nsa)
        p(
            "| mps_reserve+mps_commit (%s) | %s %s | %s× | %s× |"
            % (v, fmt(x), spread(results, "ap/apcommit", v, nsa), fmt(x / bump), fmt(x / mal))
        )
    p(
        "| plain bump pointer | %s %s | 1.00× | %s× |"
        % (fmt(bump), spread(results, "ap/bump", None, nsa), fmt(bump / mal))
    )
    p(
        "| glibc malloc (alloc only; frees untimed) | %s %s | %s× | 1.00× |"
        % (fmt(mal), spread(results, "ap/malloc", None, nsa), fmt(mal / bump))
    )
    p("")
    # --- frag
    p(
        "### 3. Fragmentation (%.0e blocks of 16–128 B, free random 90 %%, refill with "
        "16–512 B to the same live bytes)" % sizes["frag_blocks"]
    )
    p("")
    p(
        "| allocator | memory ÷ live at end | after phase 1 | other measures | "
        "ns alloc (ph.1) | ns free (ph.2) | ns alloc (ph.3) |"
    )
    p("|---|---|---|---|---|---|---|")

    def fm(k, v, fld, nd=3):
        return fmt(med(results, k, v, fld), nd)

    p(
        "| glibc (mallinfo2 arena+hblkhd) | %s | %s | RSS delta ÷ live %s | %s | %s | %s |"
        % (
            fm("frag/malloc", None, "ratio"),
            fm("frag/malloc", None, "phase1_ratio"),
            fm("frag/malloc", None, "ratio_rss"),
            fm("frag/malloc", None, "ns_alloc1", 1),
            fm("frag/malloc", None, "ns_free", 1),
            fm("frag/malloc", None, "ns_alloc3", 1),
        )
    )
    for v in varieties:
        k = "frag/mvff"
        ctl = med(results, k, v, "control_committed")
        pc = med(results, k, v, "pools_committed")
        pf = med(results, k, v, "pool_free")
        p(
            "| MVFF %s (pools+control committed) | %s | %s | mps_arena_committed ÷ live %s; "
            "pools %.1f MB (free in pool %.1f MB), control %.1f MB | %s | %s | %s |"
            % (
                v,
                fm(k, v, "ratio"),
                fm(k, v, "phase1_ratio"),
                fm(k, v, "ratio_arena_committed"),
                pc / 1e6,
                pf / 1e6,
                ctl / 1e6,
                fm(k, v, "ns_alloc1", 1),
                fm(k, v, "ns_free", 1),
                fm(k, v, "ns_alloc3", 1),
            )
        )
    p("")
    # --- verdicts
    p("### Verdicts")
    p("")
    gm = med(results, "churn/malloc", None, nsop)
    for v in varieties:
        sac = med(results, "churn/sac", v, nsop)
        mv = med(results, "churn/mvff", v, nsop)
        ap = med(results, "ap/apcommit", v, nsa)
        fr = med(results, "frag/mvff", v, "ratio")

        def ok(b):
            return "**met**" if b else "**missed**"

        p(
            "- %s: SAC alloc+free faster than glibc: %s (%.2f vs %.2f ns, %.2f×)"
            % (v, ok(sac < gm), sac, gm, sac / gm)
        )
        p(
            "- %s: plain MVFF within %.1f× of glibc: %s (%.2f vs %.2f ns, %.2f×)"
            % (v, TARGET_MVFF, ok(mv <= TARGET_MVFF * gm), mv, gm, mv / gm)
        )
        p(
            "- %s: reserve+commit under %.0f ns: %s (%.2f ns)"
            % (v, TARGET_AP_NS, ok(ap < TARGET_AP_NS), ap)
        )
        p(
            "- %s: fragmentation at most %.1f× live: %s (%.3f×; glibc %.3f×)"
            % (
                v,
                TARGET_FRAG,
                ok(fr <= TARGET_FRAG),
                fr,
                med(results, "frag/malloc", None, "ratio"),
            )
        )
    p("")
    p("### Command lines")
    p("")
    p("```")
    for c in cmds:
        p(c)
    seen = set()
    for argv in argvs.values():
        s = " ".join([os.path.basename(argv[0])] + argv[1:])
        if s not in seen:
            seen.add(s)
            p(s)
    p("```")
    return "\n".join(out)


def profile(bins, variety, log):
    """callgrind the slowest core variants on shortened runs; collect only
    inside the core's entry points so set-up and the loop are excluded."""
    exe = bins[variety]
    tmp = os.path.dirname(exe)
    runs = [
        (
            "churn mvff, 3e5 ops (cost inside mps_alloc + mps_free)",
            ["churn", "mvff", "300000"],
            ["mps_alloc", "mps_free"],
        ),
        (
            "frag mvff, 2e5 blocks (cost inside mps_alloc + mps_free)",
            ["frag", "mvff", "200000"],
            ["mps_alloc", "mps_free"],
        ),
        (
            "churn sac, 3e6 ops (cost inside mps_sac_fill + mps_sac_empty)",
            ["churn", "sac", "3000000"],
            ["mps_sac_fill", "mps_sac_empty"],
        ),
        (
            "churn mfs, 1e6 ops (cost inside mps_alloc + mps_free)",
            ["churn", "mfs", "1000000"],
            ["mps_alloc", "mps_free"],
        ),
    ]
    out = ["## Profile (valgrind --tool=callgrind, %s variety, instructions)" % variety, ""]
    for label, tail, toggles in runs:
        cg = os.path.join(tmp, "cg.%s.%s" % (tail[0], tail[1]))
        cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + cg]
        cmd += ["--toggle-collect=" + t for t in toggles]
        cmd += [exe] + tail
        log("  " + " ".join(cmd[: -len(tail) - 1] + [os.path.basename(exe)] + tail))
        res = subprocess.run(cmd, text=True, capture_output=True)
        if res.returncode != 0:
            out.append("%s: callgrind failed: %s" % (label, res.stderr[-500:]))
            continue
        ops = float(tail[2])
        unit = "per block of phase 1" if tail[0] == "frag" else "per operation (free+alloc)"

        def annotate(extra, cg=cg):
            ann = sh(["callgrind_annotate", "--auto=no", "--threshold=99"] + extra + [cg]).stdout
            total, rows = None, []
            for line in ann.splitlines():
                m = re.match(r"\s*([\d,]+)\s+\(\s*([\d.]+)%\)\s+(.*)", line)
                if not m:
                    continue
                n = int(m.group(1).replace(",", ""))
                what = m.group(3)
                if "PROGRAM TOTALS" in what:
                    total = n
                    continue
                # "file:function [object]" -> function (the file is often that
                # of inlined code in the unity build, so it misleads).
                what = re.sub(r"\s*\[.*\]$", "", what)
                what = what.rsplit(":", 1)[-1] if ":" in what else what
                rows.append((n, float(m.group(2)), what))
            return total, rows

        total, raw = annotate([])
        _, iraw = annotate(["--inclusive=yes"])
        # One function can appear under several file names (inlining);
        # add up self costs, keep the largest inclusive cost.
        merged = {}
        for n, pct, what in raw:
            a = merged.setdefault(what, [0, 0.0])
            a[0] += n
            a[1] += pct
        rows = sorted(((a[0], a[1], w) for w, a in merged.items()), reverse=True)
        incl, irows = {}, []
        for n, pct, what in iraw:
            if what not in incl:
                incl[what] = pct
                irows.append((n, pct, what))
        out.append(
            "**%s** — `%s`"
            % (
                label,
                " ".join(
                    ["valgrind", "--tool=callgrind"]
                    + ["--toggle-collect=" + t for t in toggles]
                    + ["alloc_bench_" + variety]
                    + tail
                ),
            )
        )
        if total:
            out.append("")
            out.append(
                "Total %s instructions collected ≈ %.0f %s." % (f"{total:,}", total / ops, unit)
            )
        out.append("")
        out.append("| rank | function | self share | inclusive share |")
        out.append("|---|---|---|---|")
        for i, (_n, pct, what) in enumerate(rows[:8]):
            out.append(
                "| %d | `%s` | %.1f%% | %s |"
                % (i + 1, what, pct, ("%.1f%%" % incl[what]) if what in incl else "?")
            )
        out.append("")
        out.append(
            "Largest inclusive costs: "
            + ", ".join(
                "`%s` %.1f%%" % (w, p) for n, p, w in [r for r in irows if r[1] < 99.95][:8]
            )
            + "."
        )
        out.append("")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--quick", action="store_true", help="1/10 sizes, 3 runs")
    ap.add_argument("--varieties", default="hot,rash")
    ap.add_argument("--ref", help="git ref to benchmark instead of the working tree")
    ap.add_argument("--profile", action="store_true", help="callgrind the slowest variants")
    ap.add_argument("--profile-only", action="store_true")
    ap.add_argument("--profile-variety", default="hot")
    ap.add_argument("--json", help="write raw results here")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("--cc", default=os.environ.get("CC", "cc"))
    args = ap.parse_args()
    varieties = [v for v in args.varieties.split(",") if v]
    sizes = {"churn_ops": 10_000_000, "ap_allocs": 100_000_000, "frag_blocks": 1_000_000}
    runs = args.runs
    if args.quick:
        sizes = {k: v // 10 for k, v in sizes.items()}
        runs = min(runs, 3)

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    tmp = tempfile.mkdtemp(prefix="gcp-bench-")
    try:
        info = machine_info()
        log("building in %s ..." % tmp)
        bvars = list(
            dict.fromkeys(
                varieties + ([args.profile_variety] if args.profile or args.profile_only else [])
            )
        )
        bins, cmds = build(tmp, args.ref, bvars, args.cc)
        if not args.profile_only:
            log("running %d rounds ..." % runs)
            t0 = time.time()
            info["load_before"] = loadavg()
            results, argvs = run_all(bins, varieties, sizes, runs, log)
            info["load_after"] = loadavg()
            log("benchmarks took %.0f s" % (time.time() - t0))
            print(report(results, varieties, sizes, runs, info, cmds, argvs))
            if args.json:
                with open(args.json, "w") as f:
                    json.dump(
                        {
                            "info": info,
                            "sizes": sizes,
                            "runs": runs,
                            "results": {
                                "%s@%s" % (k, v or "glibc"): r for (k, v), r in results.items()
                            },
                        },
                        f,
                        indent=1,
                    )
        if args.profile or args.profile_only:
            if shutil.which("valgrind") is None:
                log("valgrind not found; skipping the profile")
            else:
                log("profiling ...")
                print()
                print(profile(bins, args.profile_variety, log))
    finally:
        if args.keep:
            log("kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
