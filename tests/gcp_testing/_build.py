"""Builds the test clients' extension ``gcp_testing._clients`` (cffi, API
mode) on first import, into this directory, and loads it.

The C (clients.c: graph.c and weaktable.c) is compiled against gc_plugin's
C API (``gc_plugin.get_include()``, gc_plugin.h) with the core's warnings as
errors; the module reaches the core of gc_plugin._native through its
capsule and links no core of its own.  It is rebuilt when a source, the
cdef, a header of the C API or this file is newer than the built module.
Several processes may import at once (pytest-xdist workers, child
processes): the build runs under an exclusive lock (``fcntl.flock`` on
``.build.lock`` here), each in a directory of its own, and the result is
moved into place with one rename, so an importer sees the old module or the
new one, never a part.  Design: docs/design/c-api.md (the test package).
"""

from __future__ import annotations

import fcntl
import glob
import importlib
import importlib.machinery
import os
import shutil
import tempfile
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
MODULE = "gcp_testing._clients"
SOURCES = ["clients.c", "graph.c", "graph.h", "weaktable.c", "weaktable.h", "cdef.h"]
WARNINGS = ["-Wall", "-Wextra", "-Werror"]


def _target() -> str:
    return os.path.join(HERE, "_clients" + importlib.machinery.EXTENSION_SUFFIXES[0])


def _inputs() -> list[str]:
    import gc_plugin

    files = [os.path.join(HERE, name) for name in SOURCES] + [os.path.abspath(__file__)]
    return files + glob.glob(os.path.join(gc_plugin.get_include(), "*.h"))


def _up_to_date(target: str) -> bool:
    if not os.path.exists(target):
        return False
    built = os.path.getmtime(target)
    return all(os.path.getmtime(f) <= built for f in _inputs())


def builder(module: str = MODULE, extra_macros: list[tuple[str, str | None]] | None = None) -> Any:
    """The cffi builder of the extension (``module`` and extra macros: for
    tests that build variants of it)."""
    from cffi import FFI

    import gc_plugin

    ffibuilder = FFI()
    with open(os.path.join(HERE, "cdef.h"), encoding="utf-8") as f:
        ffibuilder.cdef(f.read())
    ffibuilder.set_source(
        module,
        '#include "clients.c"\n',
        include_dirs=[HERE, gc_plugin.get_include()],
        define_macros=[("_CFFI_NO_LIMITED_API", None), *(extra_macros or [])],
        extra_compile_args=["-std=c11", "-O2", *WARNINGS],
        py_limited_api=False,
    )
    return ffibuilder


def build(tmpdir: str, module: str = MODULE, **kwargs: Any) -> str:
    """Compile the extension in ``tmpdir``; the path of the built module."""
    return str(builder(module, **kwargs).compile(tmpdir=tmpdir))


def ensure_built() -> None:
    """Build the extension into this directory unless it is up to date."""
    target = _target()
    if _up_to_date(target):
        return
    with open(os.path.join(HERE, ".build.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if _up_to_date(target):
                return
            tmp = tempfile.mkdtemp(prefix=".build-", dir=HERE)
            try:
                os.replace(build(tmp), target)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def load() -> tuple[Any, Any]:
    """The extension's ``ffi`` and ``lib`` (built first if need be)."""
    ensure_built()
    module = importlib.import_module(MODULE)
    return module.ffi, module.lib
