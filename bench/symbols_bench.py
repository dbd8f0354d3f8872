"""Timing of gc_plugin.symbols (docs/design/leaks.md, symbolizing sites).

Two cases, each in a fresh interpreter (so that every object is parsed
anew):

* ``readers``: 1,000 distinct return-like addresses (random offsets inside
  random functions: 800 in libpython, 100 each in _ctypes and _pickle), the
  line lookup done by binutils addr2line, elfutils eu-addr2line (if
  installed) and pyelftools (if importable): the choice of reader.
* ``symbolize``: 10,000 distinct addresses over libpython, libc and three
  extension modules through ``symbolize()``: the first call (every object
  parsed, addr2line run), the same addresses again (cached sites), and
  10,000 addresses not seen before (objects parsed, addr2line run again).

    python3 bench/symbols_bench.py [readers|symbolize] [--seed N]

Uses the interpreter's shared libpython; prints one line per measurement.
"""

from __future__ import annotations

import argparse
import bisect
import random
import shutil
import subprocess
import sys
import time

import gc_plugin.symbols as S


def _functions(obj: S._Object) -> list[tuple[int, int]]:
    """(start, size) of the sized functions of an object's symbol tables."""
    out = []
    for f in (obj.debug, obj.elf):
        table = f.symtab if f is not None else None
        if table is not None:
            for start, end in zip(table.starts, table.ends, strict=True):
                if end - start > 8:
                    out.append((start, end - start))
            break
    return out


def _objects(names: list[str]) -> dict[str, tuple[S._Object, int]]:
    """Loaded object whose file name contains each of ``names`` -> (object, bias)."""
    found: dict[str, tuple[S._Object, int]] = {}
    for m in S._read_maps():
        for n in names:
            if n in m.path and n not in found:
                obj = S._object_for(m)
                bias = obj.bias(m.start, m.offset)
                if bias is not None:
                    found[n] = (obj, bias)
    missing = set(names) - set(found)
    if missing:
        sys.exit(f"not loaded: {sorted(missing)}")
    return found


def _sample(obj: S._Object, n: int, rng: random.Random) -> list[int]:
    funcs = _functions(obj)
    picked: set[int] = set()
    while len(picked) < n:
        start, size = rng.choice(funcs)
        picked.add(start + rng.randrange(1, size))
    return sorted(picked)


def _pyelftools_lines(path: str, vaddrs: list[int]) -> int:
    """Lines of ``vaddrs - 1`` through pyelftools (.debug_aranges to the
    compilation unit, its whole line program decoded once); returns how
    many were found."""
    from elftools.elf.elffile import ELFFile

    found = 0
    with open(path, "rb") as f:
        dwarf = ELFFile(f).get_dwarf_info()
        aranges = dwarf.get_aranges()
        units: dict[int, tuple[list[int], list[int]]] = {}
        for v in vaddrs:
            offset = aranges.cu_offset_at_addr(v - 1) if aranges else None
            if offset is None:
                continue
            if offset not in units:
                program = dwarf.line_program_for_CU(dwarf.get_CU_at(offset))
                rows = sorted(
                    (e.state.address, e.state.line) for e in program.get_entries() if e.state
                )
                units[offset] = ([r[0] for r in rows], [r[1] for r in rows])
            keys, lines = units[offset]
            i = bisect.bisect_right(keys, v - 1) - 1
            found += i >= 0 and lines[i] > 0
    return found


def readers(seed: int) -> None:
    import _ctypes  # noqa: F401
    import _pickle  # noqa: F401

    rng = random.Random(seed)
    objs = _objects(["libpython", "_ctypes.", "_pickle."])
    work = []
    for name, n in (("libpython", 800), ("_ctypes.", 100), ("_pickle.", 100)):
        obj, _ = objs[name]
        path = obj.line_file()
        assert path is not None, f"{name} has no line table"
        work.append((path, _sample(obj, n, rng)))
    total = sum(len(v) for _, v in work)
    tools = [("binutils addr2line -a -f -i -s", ["addr2line", "-a", "-f", "-i", "-s"])]
    tools.append(("binutils addr2line (lines only)", ["addr2line"]))
    if shutil.which("eu-addr2line"):
        flags = ["-a", "-f", "-i", "-s"]
        tools.append(("elfutils eu-addr2line -a -f -i -s", ["eu-addr2line", *flags]))
        tools.append(("elfutils eu-addr2line (lines only)", ["eu-addr2line"]))
    for label, cmd in tools:
        best = float("inf")
        for _ in range(3):
            t = time.perf_counter()
            for path, vaddrs in work:
                subprocess.run(
                    [*cmd, "-e", path],
                    input="".join(f"{v - 1:#x}\n" for v in vaddrs),
                    capture_output=True,
                    text=True,
                    check=False,  # eu-addr2line exits 1 when an address has no line
                )
            best = min(best, time.perf_counter() - t)
        print(f"{label}: {total} addresses in {best:.3f} s (best of 3)")
    try:
        import elftools  # noqa: F401
    except ImportError:
        print("pyelftools: not installed")
        return
    t = time.perf_counter()
    found = sum(_pyelftools_lines(path, vaddrs) for path, vaddrs in work)
    print(f"pyelftools: {total} addresses ({found} lines) in {time.perf_counter() - t:.3f} s")


def symbolize(seed: int) -> None:
    import _ctypes  # noqa: F401
    import _json  # noqa: F401
    import _pickle  # noqa: F401

    rng = random.Random(seed)
    t = time.perf_counter()
    objs = _objects(["libpython", "libc.so", "_ctypes.", "_pickle.", "_json."])
    print(f"parse 5 objects (symbols, debug files): {time.perf_counter() - t:.3f} s")
    share = {"libpython": 0.6, "libc.so": 0.2, "_ctypes.": 0.1, "_pickle.": 0.05, "_json.": 0.05}
    first, second = [], []
    for name, frac in share.items():
        obj, bias = objs[name]
        vaddrs = _sample(obj, int(20_000 * frac), rng)
        rng.shuffle(vaddrs)
        half = len(vaddrs) // 2
        first += [v + bias for v in vaddrs[:half]]
        second += [v + bias for v in vaddrs[half:]]
    for label, addrs in (
        ("10,000 addresses, first time", first),
        ("the same 10,000 again (cached)", first),
        ("10,000 new addresses", second),
    ):
        t = time.perf_counter()
        sites = S.symbolize(addrs)
        dt = time.perf_counter() - t
        lines = sum(s.endswith(")") for s in sites.values())
        print(f"{label}: {dt:.3f} s ({lines} with file:line)")
    S._addr2line_tool = lambda: None  # type: ignore[assignment]
    for obj, _ in objs.values():
        obj.sites.clear()
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = time.perf_counter()
        S.symbolize(first)
    print(f"10,000 addresses, symbol tables only (no addr2line): {time.perf_counter() - t:.3f} s")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("case", nargs="?", choices=["readers", "symbolize", "both"], default="both")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--here", action="store_true", help="run the case in this process")
    args = p.parse_args()
    cases = {"readers": readers, "symbolize": symbolize}
    for case in cases:
        if args.case not in (case, "both"):
            continue
        if args.here:
            cases[case](args.seed)
        else:  # a fresh interpreter: nothing parsed yet
            print(f"## {case}", flush=True)
            cmd = [sys.executable, __file__, case, "--here", "--seed", str(args.seed)]
            subprocess.run(cmd, check=True)


if __name__ == "__main__":
    main()
