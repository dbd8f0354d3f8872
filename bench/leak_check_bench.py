#!/usr/bin/env python3
"""bench/leak_check_bench.py -- the time of one leak check (gc_plugin.leaks)
over a whole routed heap of a given size, and the root bytes it scanned.

Each size runs in a fresh process: whole-heap mode, N short strings and N/4
small lists allocated and kept, then one check (gc.collect() is timed
apart).  Prints a markdown table.  See docs/design/leaks.md (Costs).

    .venv/bin/python bench/leak_check_bench.py                  # 1M and 9M strings (~0.1, ~1 GB)
    .venv/bin/python bench/leak_check_bench.py --sizes 4000000
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = r"""
import gc, json, sys, time
import gc_plugin
gc_plugin.activate(heap="all")
n = int(sys.argv[1])
data = [("x%d" % i) * 3 for i in range(n)]
data2 = [[i, i + 1] for i in range(n // 4)]
s = gc_plugin.summary()
t0 = time.perf_counter(); gc.collect(); t1 = time.perf_counter()
r = gc_plugin.leaks(collect=False); t2 = time.perf_counter()
print(json.dumps({"heap_bytes": s.bytes, "blocks": s.blocks, "gc_collect_s": t1 - t0,
                  "check_s": t2 - t1, "root_bytes": r.root_bytes, "gc_heads": r.gc_heads}))
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1000000,9000000", help="comma-separated string counts")
    args = ap.parse_args()
    print("| heap (MB) | blocks | gc.collect (s) | leak check (s) | GB/s of heap | roots (MB) |")
    print("|---|---|---|---|---|---|")
    for n in (int(x) for x in args.sizes.split(",")):
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(n)], capture_output=True, text=True, check=True
        ).stdout
        r = json.loads(out.strip().splitlines()[-1])
        print(
            f"| {r['heap_bytes'] / 1e6:.0f} | {r['blocks']:,} | {r['gc_collect_s']:.3f} "
            f"| {r['check_s']:.2f} | {r['heap_bytes'] / 1e9 / r['check_s']:.2f} "
            f"| {r['root_bytes'] / 1e6:.1f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
