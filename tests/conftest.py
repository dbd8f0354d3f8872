"""Shared pytest fixtures for the whole suite (kept minimal).

Unit tests of the Python layer live in tests/unit, the C test programs in
tests/native (run by tests/test_native_programs.py), integration tests in
tests/integration.  See README.md for how to run everything.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository's top directory."""
    return REPO_ROOT
