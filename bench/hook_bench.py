#!/usr/bin/env python3
"""bench/hook_bench.py -- the CPython allocator hook against plain CPython.

Runs each workload of bench/hook_workloads.py in fresh interpreters under
four modes, interleaved round-robin over several rounds, and prints markdown
tables of medians, spreads and ratios against plain CPython (pymalloc),
then times walks of the routed heap with 1M live blocks.

    .venv/bin/python bench/hook_bench.py              # 7 rounds, full sizes (~3-4 minutes)
    .venv/bin/python bench/hook_bench.py --quick      # 1/5 sizes, 3 rounds, 200k-block walk
    .venv/bin/python bench/hook_bench.py --reps 9 --json raw.json
    .venv/bin/python bench/hook_bench.py --workloads dict_churn,json_roundtrip --modes plain,whole
    .venv/bin/python bench/hook_bench.py --wait-idle 0.25   # wait for a quiet machine each round
    .venv/bin/python bench/hook_bench.py --retry-busy 0.1   # retake runs disturbed by others
    .venv/bin/python bench/hook_bench.py --ref HEAD         # a commit instead of the working tree
    .venv/bin/python bench/hook_bench.py --walk-only        # only the heap walk
    .venv/bin/python bench/hook_bench.py --from-json raw.json   # the report of a saved run

Modes (each a fresh process; see gc_plugin/_autostart.py):
  plain        no GC_PLUGIN_MANAGE: CPython with pymalloc, gc_plugin not imported
  passthrough  GC_PLUGIN_MANAGE=<a module never imported>: the hook is installed
               in every domain and routes nothing (every call is forwarded to pymalloc)
  whole        GC_PLUGIN_MANAGE='*': every MEM and OBJ allocation goes to the pool
  tracemalloc  plain, with tracemalloc.start(1) in the workload process before timing
  tracking     whole heap with leak tracking (GC_PLUGIN_LEAKS=1: each block's site
               and 1 Python frame recorded; the leak check at exit is not timed)
  memray       plain, the workload timed inside memray.Tracker (memray from PyPI:
               pip install memray; the mode is refused without it)

Only the workload call is timed (time.perf_counter inside the workload
process); start-up and activation are not.  After timing, each process
reports the mode it really ran in (hook active? whole heap? are 10 000 new
objects routed into the pool?) and the bench refuses results from a process
in the wrong mode or with a checksum different from the plain run's.
The gc_plugin measured is compiled by the bench into a temporary directory
from the working tree (or from --ref; --installed copies the installed
package instead) and put first on the workers' PYTHONPATH, so rebuilds in
the tree during a run change nothing.  Uses the interpreter it runs under
(sys.executable), which must have cffi (and gc_plugin's .pth file, for
GC_PLUGIN_MANAGE).  Standard library only.  See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time

from run import cpu_model  # bench/run.py, beside this script

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
WORKER = os.path.join(HERE, "hook_workloads.py")

WORKLOADS = ["binary_trees", "dict_churn", "str_list_tuple_churn", "object_graph", "json_roundtrip"]
MODES = ["plain", "passthrough", "whole", "tracemalloc", "tracking", "memray"]
MODE_LABEL = {
    "plain": "plain (pymalloc)",
    "passthrough": "pass-through",
    "whole": "whole heap",
    "tracemalloc": "tracemalloc.start(1)",
    "tracking": "whole heap + leak tracking (1 frame)",
    "memray": "memray Tracker",
}
NOTHING = "gc_plugin_bench_no_such_module"  # managed, never imported

# Targets (from the issue).
TARGET_WHOLE = 1.05  # whole heap / plain
TARGET_PASSTHROUGH = 1.03  # pass-through / plain
TARGET_WALK_S = 0.5  # walk of 1M blocks, seconds


def _newer_sources(pkg_so):
    """Native sources in the tree newer than the compiled module pkg_so."""
    built = os.path.getmtime(pkg_so)
    newer = []
    for d, _, files in os.walk(os.path.join(ROOT, "native")):
        if os.sep + "build" in d:
            continue
        newer += [
            os.path.relpath(os.path.join(d, f), ROOT)
            for f in files
            if f.endswith((".c", ".h")) and os.path.getmtime(os.path.join(d, f)) > built
        ]
    return sorted(newer)


def snapshot_installed(tmp, log):
    """Copy the installed gc_plugin package (with its compiled module) into
    tmp.  Returns the directory to put on PYTHONPATH and a note."""
    import gc_plugin

    pkg = os.path.dirname(os.path.abspath(gc_plugin.__file__))
    shutil.copytree(
        pkg, os.path.join(tmp, "gc_plugin"), ignore=shutil.ignore_patterns("__pycache__")
    )
    sos = [f for f in os.listdir(pkg) if f.startswith("_native") and f.endswith(".so")]
    if not sos:
        raise SystemExit("no compiled module in " + pkg)
    so = os.path.join(pkg, sos[0])
    note = "the installed package %s as is (%s built %s)" % (
        pkg,
        sos[0],
        time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(os.path.getmtime(so))),
    )
    newer = _newer_sources(so)
    if newer:
        note += ", OLDER than %s" % ", ".join(newer)
        log("warning: the compiled module is older than " + ", ".join(newer))
    return tmp, note


def snapshot_build(tmp, ref, log):
    """Put gc_plugin/ and native/ of the working tree (or of commit ref) into
    tmp/src and compile gc_plugin._native there with the package's own cffi
    build script (gc_plugin/_build.py: the flags pip uses).  Returns the
    directory to put on PYTHONPATH and a note."""
    src = os.path.join(tmp, "src")
    os.makedirs(src)
    if ref:
        archive = subprocess.run(
            ["git", "-C", ROOT, "archive", ref, "gc_plugin", "native"],
            check=True,
            capture_output=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", src], input=archive, check=True)
        note = (
            "built from commit %s"
            % subprocess.run(
                ["git", "-C", ROOT, "rev-parse", "--short", ref], text=True, capture_output=True
            ).stdout.strip()
        )
    else:
        for d in ("gc_plugin", "native"):
            shutil.copytree(
                os.path.join(ROOT, d),
                os.path.join(src, d),
                ignore=shutil.ignore_patterns("__pycache__", "build", "*.so"),
            )
        note = "built from the working tree"
    cffi_dir = os.path.join(tmp, "cffi")
    os.makedirs(cffi_dir)
    script = (
        "import importlib.util as u; s = u.spec_from_file_location('b', %r); "
        "m = u.module_from_spec(s); s.loader.exec_module(m); "
        "print(m.ffibuilder.compile(tmpdir=%r))"
        % (os.path.join(src, "gc_plugin", "_build.py"), cffi_dir)
    )
    t0 = time.time()
    # cwd: a directory without pyproject.toml (setuptools would read it)
    p = subprocess.run([sys.executable, "-c", script], cwd=cffi_dir, text=True, capture_output=True)
    if p.returncode != 0:
        raise SystemExit("building gc_plugin._native failed:\n" + p.stderr[-4000:])
    so = p.stdout.strip().splitlines()[-1]
    shutil.copy2(so, os.path.join(src, "gc_plugin", os.path.basename(so)))
    log("built %s in %.1f s (%s)" % (os.path.basename(so), time.time() - t0, note))
    return src, note


SNAPSHOT = None  # PYTHONPATH entry holding the snapshot of gc_plugin, if any


def mode_env(mode):
    env = dict(os.environ)
    for k in (
        "GC_PLUGIN_MANAGE",
        "GC_PLUGIN_REPORT",
        "GC_PLUGIN_LEAKS",
        "PYTHONMALLOC",
        "PYTHONTRACEMALLOC",
        "PYTHONDEVMODE",
        "PYTHONMALLOCSTATS",
    ):
        env.pop(k, None)
    env["PYTHONHASHSEED"] = "0"
    if SNAPSHOT is not None:
        env["PYTHONPATH"] = SNAPSHOT
    else:
        env.pop("PYTHONPATH", None)
    if mode == "passthrough":
        env["GC_PLUGIN_MANAGE"] = NOTHING
    elif mode in ("whole", "tracking"):
        env["GC_PLUGIN_MANAGE"] = "*"
    if mode == "tracking":
        # leak tracking from start-up (1 frame); the check it makes at exit
        # is after the timing
        env["GC_PLUGIN_LEAKS"] = "1"
    return env


def run_worker(argv, env):
    p = subprocess.run([sys.executable, WORKER] + argv, env=env, text=True, capture_output=True)
    if p.returncode != 0:
        raise SystemExit("worker failed (%s): %s\n%s" % (p.returncode, " ".join(argv), p.stderr))
    if p.stderr.strip() and not p.stderr.startswith("gc_plugin leak report"):
        sys.stderr.write(p.stderr)
    return json.loads(p.stdout.strip().splitlines()[-1])


def check_mode(mode, out):
    """Raise unless the process ran in the mode we asked for."""
    ok = {
        "plain": not out["gc_plugin_loaded"] and not out["tracemalloc"],
        "tracemalloc": not out["gc_plugin_loaded"] and out["tracemalloc"],
        "passthrough": out["gc_plugin_loaded"]
        and out.get("active")
        and out.get("heap") == "managed"
        and out.get("routed_probe") == 0,
        "whole": out["gc_plugin_loaded"]
        and out.get("active")
        and out.get("heap") == "all"
        and out.get("routed_probe", 0) >= 10_000
        and not out.get("leak_tracking"),
        "tracking": out["gc_plugin_loaded"]
        and out.get("heap") == "all"
        and out.get("routed_probe", 0) >= 10_000
        and out.get("leak_tracking"),
        "memray": not out["gc_plugin_loaded"] and out.get("memray"),
    }[mode]
    if not ok:
        raise SystemExit("process did not run in mode %s: %r" % (mode, out))
    check_source(out)


def check_source(out):
    """Raise unless gc_plugin (if imported) came from the snapshot."""
    for key in ("gc_plugin_file", "native_file"):
        f = out.get(key)
        if SNAPSHOT is not None and f is not None and not f.startswith(SNAPSHOT + os.sep):
            raise SystemExit("process imported %s, not the benchmarked build in %s" % (f, SNAPSHOT))


def cpu_busy(interval=1.0):
    """Fraction of all CPUs busy over interval (from /proc/stat), or None."""

    def sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        idle = v[3] + (v[4] if len(v) > 4 else 0)
        return sum(v), idle

    try:
        t0, i0 = sample()
        time.sleep(interval)
        t1, i1 = sample()
    except (OSError, ValueError):
        return None
    return 1.0 - (i1 - i0) / max(1, t1 - t0)


def wait_idle(threshold, max_wait, log):
    """Wait (up to max_wait s) until the machine is at most threshold busy."""
    t0 = time.time()
    while True:
        busy = cpu_busy()
        if busy is None or busy <= threshold:
            return busy
        if time.time() - t0 > max_wait:
            log("  machine still %.0f%% busy after %.0f s; going on" % (100 * busy, max_wait))
            return busy
        time.sleep(2.0)


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def machine_info():
    info = {
        "nproc": os.cpu_count(),
        "cpu": cpu_model(),
        "kernel": platform.release(),
        "python": sys.version.split()[0],
        "python_opt": sysconfig.get_config_var("OPT"),
        "python_shared": bool(sysconfig.get_config_var("Py_ENABLE_SHARED")),
        "executable": sys.executable,
    }
    try:
        info["commit"] = (
            subprocess.run(
                ["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], text=True, capture_output=True
            ).stdout.strip()
            or "?"
        )
        dirty = subprocess.run(
            ["git", "-C", ROOT, "status", "--porcelain", "--", "native", "gc_plugin"],
            text=True,
            capture_output=True,
        ).stdout.strip()
        info["dirty"] = dirty.replace("\n", "; ")
    except OSError:
        info["commit"] = "?"
    return info


# ---- statistics and formatting -------------------------------------------------


def med(xs):
    return statistics.median(xs) if xs else float("nan")


def geomean(xs):
    xs = [x for x in xs if x == x and x > 0]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else float("nan")


def fmt_s(xs):
    """median [min–max] in seconds."""
    if not xs:
        return "n/a"
    return "%.3f [%.3f–%.3f]" % (med(xs), min(xs), max(xs))


def verdict(ok):
    return "**met**" if ok else "**missed**"


def paired_ratios(times, w, mode, ref="plain"):
    """Per-round ratios mode/ref (same round, adjacent processes)."""
    a, b = times.get((w, mode), []), times.get((w, ref), [])
    return [x / y for x, y in zip(a, b, strict=False)]


def collect(raw):
    """times, cpu and peak RSS by (workload, mode), and the walk results."""
    times, cpu, rss, walk = {}, {}, {}, []
    for out in raw:
        if out["workload"] == "walk":
            walk.append(out)
            continue
        key = (out["workload"], out["mode"])
        times.setdefault(key, []).append(out["seconds"])
        cpu.setdefault(key, []).append(out["cpu_seconds"])
        if out.get("maxrss_kib"):
            rss.setdefault(key, []).append(out["maxrss_kib"] / 1024.0)
    return times, cpu, rss, walk


def workload_tables(p, times, cpu, workloads, modes):
    """The tables of times and ratios; returns the ratios of medians by mode."""
    p("### Wall time of the workload call (s): median [min–max]; ratio = median ÷ plain median")
    p("")
    hdr = (
        "| workload | "
        + " | ".join(MODE_LABEL[m] + (" s" if m == "plain" else " s | ratio") for m in modes)
        + " |"
    )
    p(hdr)
    p("|---|" + "---|" * (1 + 2 * (len(modes) - 1)))
    ratios = {m: [] for m in modes}
    for w in workloads:
        base = med(times.get((w, "plain"), []))
        cells = [w]
        for m in modes:
            xs = times.get((w, m), [])
            cells.append(fmt_s(xs))
            if m != "plain":
                r = med(xs) / base
                ratios[m].append(r)
                cells.append("%.3f×" % r)
        p("| " + " | ".join(cells) + " |")
    cells = ["geometric mean of ratios", ""]
    for m in modes:
        if m != "plain":
            cells += ["", "%.3f×" % geomean(ratios[m])]
    p("| " + " | ".join(cells) + " |")
    p("")
    p("### Per-round ratios (each round runs the modes back to back): median [min–max]")
    p("")
    p("| workload | " + " | ".join(MODE_LABEL[m] for m in modes if m != "plain") + " |")
    p("|---|" + "---|" * (len(modes) - 1))
    for w in workloads:
        cells = [w]
        for m in modes:
            if m == "plain":
                continue
            rs = paired_ratios(times, w, m)
            cells.append("%.3f× [%.3f–%.3f]" % (med(rs), min(rs), max(rs)) if rs else "n/a")
        p("| " + " | ".join(cells) + " |")
    p("")
    p(
        "### Ratios of the fastest runs (minimum ÷ plain minimum): "
        "the figure least disturbed by other jobs"
    )
    p("")
    p("| workload | " + " | ".join(MODE_LABEL[m] for m in modes if m != "plain") + " |")
    p("|---|" + "---|" * (len(modes) - 1))
    for w in workloads:
        base = min(times.get((w, "plain"), [float("nan")]))
        cells = [w]
        for m in modes:
            if m != "plain":
                cells.append("%.3f×" % (min(times.get((w, m), [float("nan")])) / base))
        p("| " + " | ".join(cells) + " |")
    p("")
    p("### CPU time of the workload call (time.process_time), for comparison: median s (ratio)")
    p("")
    p("| workload | " + " | ".join(MODE_LABEL[m] for m in modes) + " |")
    p("|---|" + "---|" * len(modes))
    for w in workloads:
        base = med(cpu.get((w, "plain"), []))
        cells = [w]
        for m in modes:
            c = med(cpu.get((w, m), []))
            cells.append("%.3f" % c if m == "plain" else "%.3f (%.3f×)" % (c, c / base))
        p("| " + " | ".join(cells) + " |")
    p("")
    return ratios


def report(raw, args, info, workloads, modes, log_lines):
    times, cpu, rss, walk = collect(raw)
    out = []
    p = out.append
    p(
        "## Allocator hook vs plain CPython (%s)"
        % ("medians of %d rounds" % args.reps if workloads else "heap walk only")
    )
    p("")
    p(
        "Machine: %s, nproc=%s, kernel %s; Python %s (OPT=%s, shared=%s); gc_plugin commit %s%s."
        % (
            info["cpu"],
            info["nproc"],
            info["kernel"],
            info["python"],
            info["python_opt"],
            info["python_shared"],
            info.get("commit", "?"),
            (" + uncommitted changes (%s)" % info["dirty"]) if info.get("dirty") else "",
        )
    )
    if info.get("build"):
        p("Build: %s." % info["build"])
    p(
        "Scale %.2f.  Load average before/after: %s / %s."
        % (args.scale, info.get("load_before", "?"), info.get("load_after", "?"))
    )
    p("")
    others = [r.get("others_cpu") for r in raw if r.get("others_cpu") is not None]
    retries = sum(r.get("retries", 0) for r in raw)
    if others:
        p(
            "Other processes while a workload was timed (CPUs' worth, from /proc/stat): median "
            "%.2f, max %.2f; %d of %d measurements above 0.10%s."
            % (
                med(others),
                max(others),
                sum(o > 0.10 for o in others),
                len(others),
                (
                    "; %d measurements retaken because the machine was busy (--retry-busy %g)"
                    % (retries, args.retry_busy)
                )
                if getattr(args, "retry_busy", None) is not None
                else "",
            )
        )
        p("")
    ratios = {m: [] for m in modes}
    if workloads:
        ratios = workload_tables(p, times, cpu, workloads, modes)
    if rss:
        p(
            "### Peak RSS of the workload process (MiB, median; includes start-up and, in the "
            "hook modes, gc_plugin's modules and the pool's metadata)"
        )
        p("")
        p("| workload | " + " | ".join(MODE_LABEL[m] for m in modes) + " |")
        p("|---|" + "---|" * len(modes))
        for w in workloads:
            p("| %s | %s |" % (w, " | ".join("%.1f" % med(rss.get((w, m), [])) for m in modes)))
        p("")
    if walk:
        p(
            "### Heap walk in whole-heap mode "
            "(%d processes, %d live ints + the interpreter's blocks)"
            % (len(walk), args.walk_blocks)
        )
        p("")
        p("| measure | median s [min–max] |")
        p("|---|---|")
        for key, label in (
            ("count_s", "pool walk, counting only (gcp_hook_live)"),
            ("summary_s", "gc_plugin.summary()"),
            ("walk_snapshot_s", "gc_plugin.walk() up to the first block (C walk into records)"),
            ("walk_s", "gc_plugin.walk(), full iteration"),
        ):
            p("| %s | %s |" % (label, fmt_s([r[key] for r in walk])))
        p("")
        p(
            "Live blocks walked: %s (summary: %s blocks, of them %s ints)."
            % (
                ", ".join(sorted({str(r["walk_blocks"]) for r in walk})),
                ", ".join(sorted({str(r["summary_blocks"]) for r in walk})),
                ", ".join(sorted({str(r["ints_in_summary"]) for r in walk})),
            )
        )
        p("")
    p("### Targets")
    p("")
    if "whole" in modes and workloads:
        for w, r in zip(workloads, ratios["whole"], strict=False):
            p(
                "- whole heap ≤ %.2f× plain, %s: %s (%.3f×)"
                % (TARGET_WHOLE, w, verdict(r <= TARGET_WHOLE), r)
            )
        g = geomean(ratios["whole"])
        p(
            "- whole heap ≤ %.2f× plain, geometric mean: %s (%.3f×)"
            % (TARGET_WHOLE, verdict(g <= TARGET_WHOLE), g)
        )
        p(
            "- whole heap faster than plain (the goal): %d of %d workloads"
            % (sum(r < 1.0 for r in ratios["whole"]), len(workloads))
        )
    if "passthrough" in modes and workloads:
        for w, r in zip(workloads, ratios["passthrough"], strict=False):
            p(
                "- pass-through ≤ %.2f× plain, %s: %s (%.3f×)"
                % (TARGET_PASSTHROUGH, w, verdict(r <= TARGET_PASSTHROUGH), r)
            )
        g = geomean(ratios["passthrough"])
        p(
            "- pass-through ≤ %.2f× plain, geometric mean: %s (%.3f×)"
            % (TARGET_PASSTHROUGH, verdict(g <= TARGET_PASSTHROUGH), g)
        )
    if walk:
        per_m = 1e6 / max(1, med([r["walk_blocks"] for r in walk]))
        for key, label in (("summary_s", "summary()"), ("walk_s", "walk() full iteration")):
            s = med([r[key] for r in walk])
            p(
                "- walk of 1M blocks < %.1f s, %s: %s (%.3f s for %d blocks; %.3f s per 1M)"
                % (
                    TARGET_WALK_S,
                    label,
                    verdict(s * per_m < TARGET_WALK_S),
                    s,
                    med([r["walk_blocks"] for r in walk]),
                    s * per_m,
                )
            )
    p("")
    p("### Command lines")
    p("")
    p("```")
    p("%s %s <workload> --scale %g [--tracemalloc]" % (sys.executable, WORKER, args.scale))
    p(
        "   env: plain/tracemalloc: GC_PLUGIN_MANAGE unset; pass-through: GC_PLUGIN_MANAGE=%s;"
        " whole: GC_PLUGIN_MANAGE='*'; all: PYTHONHASHSEED=0" % NOTHING
    )
    if walk:
        p(
            "GC_PLUGIN_MANAGE='*' %s %s walk --blocks %d"
            % (sys.executable, WORKER, args.walk_blocks)
        )
    p("```")
    if log_lines:
        p("")
        p("Rounds: " + "; ".join(log_lines))
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--quick", action="store_true", help="1/5 sizes, 3 rounds, 200k-block walk: a smoke test"
    )
    ap.add_argument("--reps", type=int, help="rounds (default 7; 3 with --quick)")
    ap.add_argument("--scale", type=float, help="workload size (default 1; 0.2 with --quick)")
    ap.add_argument("--workloads", help="comma-separated subset of " + ",".join(WORKLOADS))
    ap.add_argument("--modes", help="comma-separated subset of " + ",".join(MODES))
    ap.add_argument("--walk-blocks", type=int, help="live objects for the walk (default 1e6)")
    ap.add_argument("--walk-reps", type=int, help="walk processes (default 5; 2 with --quick)")
    ap.add_argument("--no-walk", action="store_true")
    ap.add_argument("--walk-only", action="store_true", help="only the heap walk")
    ap.add_argument(
        "--wait-idle",
        type=float,
        metavar="FRACTION",
        help="before each round wait (up to 120 s) until at most this fraction of all CPUs is busy",
    )
    ap.add_argument(
        "--retry-busy",
        type=float,
        metavar="CPUS",
        help="take a measurement again (up to --max-retries times) if the rest "
        "of the machine used more than CPUS CPUs' worth of time while it ran "
        "(from /proc/stat, steal time included)",
    )
    ap.add_argument("--max-retries", type=int, default=8)
    ap.add_argument("--json", metavar="PATH", help="also write every measurement here")
    ap.add_argument(
        "--from-json",
        metavar="PATH",
        help="print the report of a run saved with --json, measuring nothing",
    )
    add_build_options(ap)
    args = ap.parse_args(argv)
    if args.from_json:
        with open(args.from_json) as f:
            saved = json.load(f)
        sargs = argparse.Namespace(**saved["args"])
        runs = saved["runs"]
        workloads = [w for w in WORKLOADS if any(r["workload"] == w for r in runs)]
        modes = [m for m in MODES if any(r.get("mode") == m for r in runs)]
        print(report(runs, sargs, saved["info"], workloads, modes, saved.get("rounds", [])))
        return 0
    if args.reps is None:
        args.reps = 3 if args.quick else 7
    if args.scale is None:
        args.scale = 0.2 if args.quick else 1.0
    if args.walk_blocks is None:
        args.walk_blocks = 200_000 if args.quick else 1_000_000
    if args.walk_reps is None:
        args.walk_reps = 2 if args.quick else 5
    workloads = args.workloads.split(",") if args.workloads else WORKLOADS
    if args.walk_only:
        workloads, args.reps = [], 0
    modes = args.modes.split(",") if args.modes else MODES
    for w in workloads:
        if w not in WORKLOADS:
            ap.error("unknown workload %r" % w)
    for m in modes:
        if m not in MODES:
            ap.error("unknown mode %r" % m)
    if "plain" not in modes:
        modes = ["plain"] + modes
    modes = [m for m in MODES if m in modes]

    def log(msg):
        sys.stderr.write(msg + "\n")
        sys.stderr.flush()

    info = machine_info()
    tmp = tempfile.mkdtemp(prefix="gcp-hookbench-")
    try:
        info["build"] = prepare(args, tmp, log)
        if args.ref:
            info["commit"] = subprocess.run(
                ["git", "-C", ROOT, "rev-parse", "--short", args.ref],
                text=True,
                capture_output=True,
            ).stdout.strip()
            info["dirty"] = ""
        return measure(args, info, workloads, modes, log)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def add_build_options(ap):
    g = ap.add_mutually_exclusive_group()
    g.add_argument(
        "--ref", help="benchmark this commit (git archive + build) instead of the working tree"
    )
    g.add_argument(
        "--installed",
        action="store_true",
        help="benchmark a copy of the installed package as is (no build)",
    )
    g.add_argument(
        "--in-place",
        action="store_true",
        help="run the installed package in place (no copy: a rebuild "
        "during the run changes what is measured)",
    )


def prepare(args, tmp, log):
    """Make the build to measure; set SNAPSHOT.  Returns a note."""
    global SNAPSHOT
    if args.in_place:
        SNAPSHOT = None
        return "the installed package, in place"
    if args.installed:
        SNAPSHOT, note = snapshot_installed(tmp, log)
    else:
        SNAPSHOT, note = snapshot_build(tmp, args.ref, log)
    return note


def measure(args, info, workloads, modes, log):
    info["load_before"] = loadavg()
    raw, checks, round_log = [], {}, []
    t_start = time.time()
    for r in range(args.reps):
        busy = wait_idle(args.wait_idle, 120, log) if args.wait_idle is not None else None
        t0 = time.time()
        order = modes[r % len(modes) :] + modes[: r % len(modes)]  # rotate the start
        for w in workloads:
            for m in order:
                wargv = [w, "--scale", repr(args.scale)]
                if m == "tracemalloc":
                    wargv.append("--tracemalloc")
                if m == "memray":
                    memray_out = os.path.join(tempfile.gettempdir(), "gcp_bench_memray.bin")
                    if os.path.exists(memray_out):
                        os.unlink(memray_out)
                    wargv += ["--memray", memray_out]
                out = run_worker(wargv, mode_env(m))
                tries = 0
                while (
                    args.retry_busy is not None
                    and tries < args.max_retries
                    and (out.get("others_cpu") or 0.0) > args.retry_busy
                ):
                    tries += 1
                    log(
                        "    %s/%s: others used %.2f CPUs while it ran; again"
                        % (w, m, out["others_cpu"])
                    )
                    time.sleep(2.0)
                    out = run_worker(wargv, mode_env(m))
                out["retries"] = tries
                check_mode(m, out)
                if checks.setdefault(w, out["checksum"]) != out["checksum"]:
                    raise SystemExit("checksum of %s differs in mode %s" % (w, m))
                out["mode"] = m
                out["round"] = r
                raw.append(out)
        msg = "round %d/%d %.1f s (load %s%s)" % (
            r + 1,
            args.reps,
            time.time() - t0,
            loadavg(),
            "" if busy is None else ", %.0f%% busy before" % (100 * busy),
        )
        round_log.append(msg)
        log("  " + msg)
    if not args.no_walk:
        for r in range(args.walk_reps):
            out = run_worker(["walk", "--blocks", str(args.walk_blocks)], mode_env("whole"))
            if out.get("heap") != "all":
                raise SystemExit("walk process not in whole-heap mode: %r" % out)
            check_source(out)
            raw.append(out)
            log(
                "  walk %d/%d: summary %.3f s, walk %.3f s, %d blocks"
                % (r + 1, args.walk_reps, out["summary_s"], out["walk_s"], out["walk_blocks"])
            )
    info["load_after"] = loadavg()
    log("total %.1f s" % (time.time() - t_start))
    print(report(raw, args, info, workloads, modes, round_log))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {"info": info, "args": vars(args), "rounds": round_log, "runs": raw}, f, indent=1
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
