"""Whole-heap mode: every MEM and OBJ allocation goes into the pool, and
summary() names the objects' types and the modules that define them."""

from __future__ import annotations

from .childproc import RunChild

SHAPES = """
    class Point:
        def __init__(self, x, y):
            self.x, self.y = x, y

    class Slotted:
        __slots__ = ("a", "b")
        def __init__(self, a):
            self.a = a
"""


def test_summary_counts_types_and_their_modules(run_child: RunChild) -> None:
    child = run_child(
        """
    import sys
    import gc_plugin
    import gcp_testext_a as a
    import shapes
    from gcp_childlib import pool, type_usage, emit

    class Local:
        pass

    N = 3000
    st = gc_plugin.activate(heap="all")
    assert st.heap == "all" and st.attribution is True, st
    # empty the free lists of dicts and lists first: their entries were
    # allocated before activation
    drain = ([{} for _ in range(200)], [[] for _ in range(200)])
    made = {
        "dict": [{"k": i} for i in range(N)],
        "list": [[i] for i in range(N)],
        "tuple": [tuple(range(i % 5 + 25)) for i in range(N)],   # too long for the free list
        "str": ["s%d" % i * 5 for i in range(N)],
        "shapes.Point": [shapes.Point(i, -i) for i in range(N)],
        "shapes.Slotted": [shapes.Slotted(i) for i in range(N)],
        "__main__.Local": [Local() for i in range(N)],
        "gcp_testext_a.Thing": [a.Thing(i) for i in range(N)],
        "gcp_testext_a.Box": [a.Box(i) for i in range(N)],
    }
    s = gc_plugin.summary()
    counts = {}
    for name in made:
        counts[name] = type_usage(s, name)[0]
        assert counts[name] >= N, (name, counts[name], s.by_type[:20])
    modules = {m.module: (m.blocks, m.bytes) for m in s.by_module}
    # Things are allocated by the module's code, Boxes by the interpreter on
    # the static type's behalf: both are the extension's
    assert modules["gcp_testext_a"][0] >= 2 * N, modules
    # a Python class is attributed to the module defining it
    assert modules["shapes"][0] >= 2 * N, modules
    assert modules["__main__"][0] >= N, modules
    assert s.blocks == sum(m.blocks for m in s.by_module) == sum(t.blocks for t in s.by_type)
    assert s.bytes == sum(m.bytes for m in s.by_module) == sum(t.bytes for t in s.by_type)

    # walk() agrees, object by object
    blocks = pool()
    def block_of(o):
        for pre in (0, 16, 32):
            b = blocks.get(id(o) - pre)
            if b is not None:
                return b
        return None
    for name, objs in made.items():
        for o in objs[::97]:
            b = block_of(o)
            assert b is not None and b.type_name == name and b.domain == "obj", (name, b)
    for o in made["gcp_testext_a.Thing"][::97] + made["gcp_testext_a.Box"][::97]:
        assert block_of(o).module == "gcp_testext_a"
    for o in made["shapes.Point"][::97]:
        assert block_of(o).module == "shapes"

    # freeing them takes them out of the summary
    before = {name: type_usage(s, name)[0] for name in ("gcp_testext_a.Thing", "shapes.Point")}
    del made["gcp_testext_a.Thing"], made["shapes.Point"], o, b
    s2 = gc_plugin.summary()
    for name, n in before.items():
        assert type_usage(s2, name)[0] == n - N, (name, n, type_usage(s2, name))
    emit(counts)
""",
        files={"shapes.py": SHAPES},
    )
    child.assert_clean()
    counts = child.result()
    assert isinstance(counts, dict) and all(n >= 3000 for n in counts.values())


def test_managed_and_whole_heap_modes_switch(run_child: RunChild) -> None:
    child = run_child(
        """
    import gc_plugin
    import gcp_testext_a as a, gcp_testext_b as b
    from gcp_childlib import pool, module_usage, emit
    gc_plugin.activate(manage=["gcp_testext_a"])
    p = a.alloc("mem", 10); q = b.alloc("mem", 20)
    assert p in pool() and q not in pool()
    gc_plugin.activate(heap="all")
    assert gc_plugin.status().heap == "all"
    r = b.alloc("mem", 30)
    blocks = pool()
    assert r in blocks and blocks[r].module == "gcp_testext_b"
    # a managed module keeps its name in whole-heap mode
    assert blocks[p].module == "gcp_testext_a"
    gc_plugin.activate(heap="managed")
    s = b.alloc("mem", 40)
    assert s not in pool()
    for x in (p, q, r, s):
        b.free(x)
    emit("ok")
"""
    )
    child.assert_clean()
    assert child.result() == "ok"
