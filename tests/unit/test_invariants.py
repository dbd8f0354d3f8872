"""A failed internal invariant stops the Python process with its report;
misuse raises MisuseError and the interpreter goes on.

The invariant is provoked for real: an AMC object reached from an exact
root has its header overwritten with a word the format does not know, so
that the collection copies it and the format's scan method fails, which
the collector asserts never happens (the objects after a failed scan
could be reclaimed while referenced).  That must abort the process (the
plinth's handler: report on stderr, SIGABRT), not become an exception
after reclaim has run.  Each case runs in a child interpreter.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

PRELUDE = """
import ctypes
import gc_plugin
from gcp_testing import GraphFormat

arena = gc_plugin.Arena()
arena.park()
fmt = GraphFormat(arena, 0)
pool = arena.amc(fmt, None)
ap = pool.allocation_point()
table = arena.root_table(4)
obj = fmt.alloc(ap, 1, 2, 7)
table[0] = obj
"""


def _run(body: str) -> subprocess.CompletedProcess[str]:
    script = textwrap.dedent(PRELUDE) + textwrap.dedent(body)
    return subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def test_failed_invariant_aborts_with_the_report() -> None:
    child = _run(
        """
        ctypes.c_uint64.from_address(obj).value = 0xEE   # no kind the format knows
        arena.collect()
        print("survived")
        """
    )
    assert child.returncode == -signal.SIGABRT, (child.returncode, child.stdout, child.stderr)
    assert "survived" not in child.stdout
    assert "assertion failed: res == RES_OK" in child.stderr, child.stderr
    assert "trace.c" in child.stderr


def test_misuse_raises_and_the_interpreter_goes_on() -> None:
    child = _run(
        """
        from gc_plugin import MisuseError
        block_pool = arena.mvff()
        block = block_pool.alloc(64)
        block_pool.free(block)
        try:
            block_pool.free(block)
        except MisuseError as e:
            print("misuse:", e)
        arena.collect()
        print("still here", fmt.ident(table[0]))
        """
    )
    assert child.returncode == 0, (child.returncode, child.stdout, child.stderr)
    assert "misuse:" in child.stdout and "still here 7" in child.stdout, child.stdout
