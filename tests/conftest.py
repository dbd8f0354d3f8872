"""Shared pytest fixtures for the whole suite (kept minimal).

Unit tests of the Python layer live in tests/unit, the C test programs in
tests/native (run by tests/test_native_programs.py), integration tests in
tests/integration.  See README.md for how to run everything.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
TESTS = Path(__file__).resolve().parent

# The test clients' package (tests/gcp_testing) is imported from here: this
# directory is on sys.path (pytest puts the rootdir conftest's directory
# there), and child processes that tests start find it on PYTHONPATH.
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (str(TESTS), os.environ.get("PYTHONPATH", "")) if p
)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository's top directory."""
    return REPO_ROOT


# Markers, for a fast local loop (``pytest -m "not slow"``, see README.md):
# slow: the C test programs (built and run in every variety) and CPython's
# own regression tests in whole-heap mode; subprocess: tests that run child
# processes (the integration tests, whose hook is process-wide, and a few
# others).  Given here by path, so that a new test in those places is marked.
SLOW_FILES = {"test_native_programs.py", "test_cpython_regrtest.py"}
SUBPROCESS_FILES = {"test_invariants.py", "test_unbuilt_tree.py"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = item.path
        if path.name in SLOW_FILES:
            item.add_marker(pytest.mark.slow)
        if path.parent.name == "integration" or path.name in SUBPROCESS_FILES:
            item.add_marker(pytest.mark.subprocess)
