"""gcp_testing: the test clients of gc_plugin, a test-only package.

The graph format (GraphFormat, CorruptObjectError) and the weak table
(WeakTableFormat, WeakTable) that the collector tests allocate with, over
C (graph.c, weaktable.c) compiled into the extension gcp_testing._clients,
which reaches the core of gc_plugin._native through its C API (one core per
process) and is built on first import (_build.py).  Not part of gc_plugin
and not installed by ``pip install .``; the tests find it on sys.path
(tests/, the directory of the rootdir's conftest.py; child processes get it
on PYTHONPATH).  Design: docs/design/c-api.md.
"""

from __future__ import annotations

from gcp_testing.graph import CorruptObjectError, GraphFormat
from gcp_testing.weaktable import WeakTable, WeakTableFormat

__all__ = ["GraphFormat", "CorruptObjectError", "WeakTableFormat", "WeakTable"]
