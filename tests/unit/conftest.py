"""Fixtures for the unit tests of gc_plugin's Python layer (tests/unit).

* ``arena``: a fresh VM arena per test, destroyed afterwards together with
  anything the test left in it (so a failing test does not leak into the
  next one; every test gets its own arena, which keeps them independent
  under pytest-xdist).
* ``rng``: a ``random.Random`` whose seed is printed and recorded in the
  test report (``record_property("seed", ...)``); set GCP_TEST_SEED to
  replay one.
"""

from __future__ import annotations

import contextlib
import os
import random
from collections.abc import Iterator

import pytest

import gc_plugin


def destroy_quietly(arena: gc_plugin.Arena) -> None:
    """Destroy an arena and whatever is left in it, ignoring misuse reports."""
    if arena.destroyed:
        return
    for pool in arena.pools:
        for child in list(pool._children):
            handle = getattr(child, "_handle", None)
            if isinstance(child, gc_plugin.AllocationPoint) and handle is not None:
                # Commit whatever a failed test left reserved, so that the
                # allocation point (and then the pool) can be destroyed.
                init = int(gc_plugin._calls.as_int(handle.init))
                alloc = int(gc_plugin._calls.as_int(handle.alloc))
                if init != alloc:
                    child.commit(init, alloc - init)
            with contextlib.suppress(gc_plugin.MPSError):
                child.destroy()
        with contextlib.suppress(gc_plugin.MPSError):
            pool.destroy()
    arena.destroy()


@pytest.fixture
def arena() -> Iterator[gc_plugin.Arena]:
    a = gc_plugin.Arena()
    try:
        yield a
    finally:
        destroy_quietly(a)


@pytest.fixture
def rng(request: pytest.FixtureRequest, record_property: object) -> random.Random:
    env = os.environ.get("GCP_TEST_SEED")
    seed = int(env) if env else random.SystemRandom().randrange(1 << 32)
    print(f"{request.node.nodeid}: random seed {seed} (replay with GCP_TEST_SEED={seed})")
    record_property("seed", seed)  # type: ignore[operator]
    return random.Random(seed)
