#!/usr/bin/env python3
"""bench/hook_profile.py -- instruction profiles (valgrind --tool=callgrind)
of the allocator-hook workloads, plain CPython against the hook.

    .venv/bin/python bench/hook_profile.py       # every workload, plain/passthrough/whole
    .venv/bin/python bench/hook_profile.py --workloads str_list_tuple_churn --cache-sim
    .venv/bin/python bench/hook_profile.py --keep /tmp/cg         # keep the callgrind.out files
    .venv/bin/python bench/hook_profile.py --keep /tmp/cg --reuse # report again from kept files
    .venv/bin/python bench/hook_profile.py --ref HEAD             # profile a commit

Each workload runs under callgrind at two scales (default 0.05 and 0.15) in
each mode, and every figure is the difference of the two runs, so that
interpreter start-up, the import of gc_plugin and a workload's fixed set-up
cancel out: what is left is the cost of (0.15 - 0.05) of the workload's loop.
Reported per workload and mode: instructions (and with --cache-sim the
simulated D1 and last-level misses, LL = 1 MiB 16-way like the reference
machine's L2), the number of calls into the allocators (CPython's
PyObject_/PyMem_ entry points tail-jump to them, and callgrind counts the
jump as a call) with their inclusive instructions per call, and the
functions of the hook and the pool (gc_plugin/_native*.so) and of pymalloc
with the largest self cost.  gc_plugin is built into a temporary directory
as hook_bench.py does (the working tree, or --ref, or --installed).  Needs
valgrind.  Standard library only.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
WORKER = os.path.join(HERE, "hook_workloads.py")
sys.path.insert(0, HERE)
import hook_bench  # noqa: E402
from hook_bench import MODE_LABEL, WORKLOADS, mode_env  # noqa: E402

# The allocator entry points as the installed allocator functions: the hook's,
# and pymalloc's (MEM and OBJ domains both use pymalloc in 3.11).
HOOK_ENTRIES = ("hookMalloc", "hookCalloc", "hookRealloc", "hookFree")
PYMALLOC_ENTRIES = ("_PyObject_Malloc", "_PyObject_Calloc", "_PyObject_Realloc", "_PyObject_Free")
PYMALLOC_FUNCS = PYMALLOC_ENTRIES + (
    "pymalloc_alloc",
    "pymalloc_free",
    "pymalloc_realloc",
    "address_in_range",
    "allocate_from_new_pool",
    "insert_to_freepool",
    "insert_to_usedpool",
    "new_arena",
    "_PyMem_RawMalloc",
    "_PyMem_RawFree",
    "_PyMem_RawRealloc",
    "_PyMem_RawCalloc",
)


class Profile:
    """Self and inclusive costs and call counts from a callgrind.out file."""

    def __init__(self, path):
        self.events = []
        self.totals = None
        self.self_cost = collections.defaultdict(lambda: None)  # (obj, fn) -> [costs]
        self.calls = collections.Counter()  # fn -> calls
        self.incl = {}  # fn -> [costs] over calls
        self.edges = collections.Counter()  # (caller, callee) -> calls
        self.edge_incl = {}  # (caller, callee) -> [costs]
        self.parse(path)

    def _add(self, table, key, costs):
        cur = table.get(key)
        if cur is None:
            table[key] = list(costs)
        else:
            for i, c in enumerate(costs):
                cur[i] += c

    def parse(self, path):
        names = {"fn": {}, "ob": {}}
        fn = ob = cfn = None
        pending_call = None
        self_cost = {}
        comp = re.compile(r"^\((\d+)\)(?: (.*))?$")

        def resolve(kind, value):
            m = comp.match(value)
            if not m:
                return value
            ident, name = m.group(1), m.group(2)
            table = names["ob" if kind in ("ob", "cob") else "fn"]
            if name is not None:
                table[ident] = name
            return table.get(ident, "?")

        with open(path) as f:
            for line in f:
                line = line.rstrip("\n")
                if not line:
                    continue
                c = line[0]
                if c.isdigit() or c in "+-*":
                    parts = line.split()
                    costs = [int(x) for x in parts[1:]]
                    costs += [0] * (len(self.events) - len(costs))
                    if pending_call is not None:
                        target, count = pending_call
                        self.calls[target] += count
                        self._add(self.incl, target, costs)
                        self.edges[(fn, target)] += count
                        self._add(self.edge_incl, (fn, target), costs)
                        pending_call = None
                    else:
                        self._add(self_cost, (ob, fn), costs)
                    continue
                key, _, value = line.partition("=")
                if key == "fn":
                    fn = resolve("fn", value)
                elif key == "ob":
                    ob = os.path.basename(resolve("ob", value))
                elif key == "cob":
                    resolve("cob", value)
                elif key == "cfn":
                    cfn = resolve("cfn", value)
                elif key == "calls":
                    pending_call = (cfn, int(value.split()[0]))
                elif line.startswith("events:"):
                    self.events = line.split()[1:]
                elif line.startswith("summary:") or line.startswith("totals:"):
                    self.totals = [int(x) for x in line.split()[1:]]
        self.self_cost = self_cost
        self.by_name = {}
        for (_obj, name), costs in self_cost.items():
            self._add(self.by_name, name, costs)

    def ir(self, costs):
        return costs[0] if costs else 0


def entry_cost(prof, entries):
    """Calls into the allocator functions `entries` from outside them (a
    realloc that moves a block calls malloc and free inside pymalloc; those
    are not counted again) and their inclusive costs."""
    calls, incl = 0, None
    for (caller, callee), n in prof.edges.items():
        if callee in entries and caller not in entries:
            calls += n
            c = prof.edge_incl[(caller, callee)]
            incl = list(c) if incl is None else [x + y for x, y in zip(incl, c, strict=False)]
    return calls, incl or [0] * len(prof.events)


def diff(a, b):
    """b - a, elementwise (b is the larger scale)."""
    return [y - x for x, y in zip(a or [0] * len(b), b, strict=False)]


def run_callgrind(workload, mode, scale, out, cache_sim):
    argv = ["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out]
    if cache_sim:
        argv += ["--cache-sim=yes", "--I1=32768,8,64", "--D1=32768,8,64", "--LL=1048576,16,64"]
    argv += [sys.executable, WORKER, workload, "--scale", repr(scale)]
    if mode == "tracemalloc":
        argv.append("--tracemalloc")
    p = subprocess.run(argv, env=mode_env(mode), text=True, capture_output=True)
    if p.returncode != 0:
        raise SystemExit("callgrind failed: %s\n%s" % (" ".join(argv), p.stderr[-3000:]))
    return Profile(out)


def fmt_n(x):
    return f"{int(x):,}"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workloads", help="comma-separated subset of " + ",".join(WORKLOADS))
    ap.add_argument("--modes", default="plain,passthrough,whole")
    ap.add_argument(
        "--scales", default="0.05,0.15", help="two scales: the profile is their difference"
    )
    ap.add_argument("--cache-sim", action="store_true", help="also simulate the caches (slower)")
    ap.add_argument("--top", type=int, default=10)
    ap.add_argument("--keep", metavar="DIR", help="keep the callgrind.out files here")
    ap.add_argument(
        "--reuse",
        action="store_true",
        help="with --keep: read callgrind.out files already there instead of "
        "running callgrind again",
    )
    hook_bench.add_build_options(ap)
    args = ap.parse_args(argv)
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind not found")
    workloads = args.workloads.split(",") if args.workloads else WORKLOADS
    modes = args.modes.split(",")
    lo, hi = (float(x) for x in args.scales.split(","))
    outdir = args.keep or tempfile.mkdtemp(prefix="gcp-hookprof-")
    os.makedirs(outdir, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="gcp-hookprof-build-")
    try:
        note = hook_bench.prepare(args, tmp, lambda m: sys.stderr.write(m + "\n"))
        return profile(args, workloads, modes, lo, hi, outdir, note)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if not args.keep:
            shutil.rmtree(outdir, ignore_errors=True)


def profile(args, workloads, modes, lo, hi, outdir, note):
    out = []
    p = out.append
    p("## Callgrind profile of the hook workloads (scale %g minus scale %g)" % (hi, lo))
    p("")
    p("gc_plugin: %s." % note)
    p("")
    results = {}
    for w in workloads:
        for m in modes:
            profs = []
            for s in (lo, hi):
                path = os.path.join(outdir, "callgrind.%s.%s.%g.out" % (w, m, s))
                if args.reuse and os.path.exists(path):
                    profs.append(Profile(path))
                    continue
                sys.stderr.write("callgrind %s %s scale %g\n" % (w, m, s))
                profs.append(run_callgrind(w, m, s, path, args.cache_sim))
            results[(w, m)] = profs
    events = results[(workloads[0], modes[0])][1].events
    cols = ["Ir"] + [e for e in ("D1mr", "D1mw", "DLmr", "DLmw") if e in events]
    idx = {e: events.index(e) for e in cols}
    p("### Totals (whole process, difference of the two scales)")
    p("")
    p(
        "| workload | mode | "
        + " | ".join(cols)
        + " | Ir ÷ plain | allocator calls | allocator Ir (incl.) | Ir per call |"
    )
    p("|---|---|" + "---|" * (len(cols) + 4))
    for w in workloads:
        base = None
        for m in modes:
            a, b = results[(w, m)]
            tot = diff(a.totals, b.totals)
            if m == "plain":
                base = tot[0]
            entries = PYMALLOC_ENTRIES if m in ("plain", "tracemalloc") else HOOK_ENTRIES
            ca, ia = entry_cost(a, entries)
            cb, ib = entry_cost(b, entries)
            calls, incl = cb - ca, ib[0] - ia[0]
            p(
                "| %s | %s | %s | %s | %s | %s | %.1f |"
                % (
                    w,
                    MODE_LABEL[m],
                    " | ".join(fmt_n(tot[idx[e]]) for e in cols),
                    "%.3f×" % (tot[0] / base) if base else "n/a",
                    fmt_n(calls),
                    fmt_n(incl),
                    incl / calls if calls else float("nan"),
                )
            )
    p("")
    p("### Largest self costs in the hook and pool (whole heap) and in pymalloc (plain)")
    p("")
    for w in workloads:
        for m in modes:
            if m == "passthrough":
                continue
            a, b = results[(w, m)]
            rows = []
            for name, costs in b.by_name.items():
                d = diff(a.by_name.get(name), costs)
                native = any(
                    obj and obj.startswith("_native") for (obj, n) in b.self_cost if n == name
                )
                if (m == "whole" and native) or name in PYMALLOC_FUNCS:
                    rows.append((d[0], name, d))
            rows.sort(reverse=True)
            tot = diff(a.totals, b.totals)[0]
            p("**%s, %s** (process total %s Ir)" % (w, MODE_LABEL[m], fmt_n(tot)))
            p("")
            hdr = ["function", "self Ir", "share of process", "calls", "self Ir per call"]
            p("| " + " | ".join(hdr + cols[1:]) + " |")
            p("|" + "---|" * (len(hdr) + len(cols) - 1))
            for ir, name, d in rows[: args.top]:
                if ir <= 0:
                    continue
                calls = b.calls.get(name, 0) - a.calls.get(name, 0)
                cells = [
                    "`%s`" % name,
                    fmt_n(ir),
                    "%.1f%%" % (100.0 * ir / tot),
                    fmt_n(calls) if calls else "(inlined)",
                    "%.1f" % (ir / calls) if calls else "",
                ]
                cells += [fmt_n(d[idx[c]]) for c in cols[1:]]
                p("| " + " | ".join(cells) + " |")
            p("")
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
