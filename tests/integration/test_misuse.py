"""Misuse of pool blocks through the C API is fatal (as in CPython's own
debug hooks) with a message that names gc_plugin and the problem: the
child dies by Py_FatalError's abort, nothing is corrupted silently."""

from __future__ import annotations

import signal

import pytest

from .childproc import RunChild

CASES = {
    # name: (code run with p a fresh pool block, words one of which the message has)
    "double PyMem_Free": (
        "p = a.alloc('mem', 64); keep = a.alloc('mem', 64); a.free(p); a.free(p)",
        ["double free", "already free"],
    ),
    "double PyObject_Free": (
        "p = a.alloc('obj', 200); keep = a.alloc('obj', 200); a.free(p, 'obj'); a.free(p, 'obj')",
        ["double free", "already free"],
    ),
    "PyMem_Free then PyMem_RawFree": (
        "p = a.alloc('mem', 64); keep = a.alloc('mem', 64); a.free(p); a.free(p, 'raw')",
        ["double free", "already free"],
    ),
    "double free of a large block": (
        "p = a.alloc('mem', 100000); a.free(p); a.free(p)",
        ["double free", "already free", "not in an allocated block"],
    ),
    "PyMem_Free into a block": (
        "p = a.alloc('mem', 64); a.free(p + 16)",
        ["not the start of a block"],
    ),
    "PyObject_Free of an odd pointer into a block": (
        "p = a.alloc('obj', 64); a.free(p + 1, 'obj')",
        ["not the start of a block"],
    ),
    "PyMem_Free into a large block": (
        "p = a.alloc('mem', 100000); a.free(p + 4096)",
        ["not the start of a block", "not in an allocated block"],
    ),
    "PyMem_Realloc of a freed block": (
        "p = a.alloc('mem', 64); keep = a.alloc('mem', 64); a.free(p); a.realloc(p, 100)",
        ["not live", "already free", "double free"],
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_misuse_is_fatal_with_a_clear_message(run_child: RunChild, case: str) -> None:
    code, words = CASES[case]
    child = run_child(
        f"""
    import gc_plugin
    import gcp_testext_a as a
    gc_plugin.activate(manage=["gcp_testext_a"])
    {code}
    print("RESULT \\"survived\\"")
"""
    )
    assert child.returncode == -signal.SIGABRT, child.describe()
    assert "survived" not in child.stdout
    assert "Fatal Python error" in child.stderr, child.describe()
    fatal = next(line for line in child.stderr.splitlines() if "Fatal Python error" in line)
    assert "gc_plugin" in fatal, fatal
    assert any(w in fatal for w in words), fatal
