"""cffi build script for ``gc_plugin._native`` (API mode).

Compiles the native core's unity file (``native/src/mps.c``), the bridge to
the Python layer (``native/bridge/gcp_py.c``: the misuse handler, creation
from keyword values, and the C API's capsule, ``native/bridge/capi.c``) and
the CPython integration (``native/cpython``) into one extension module,
against the declarations of ``native/bridge/cdef.h``.  (The test clients
are built apart, by tests/gcp_testing, through the C API.)  Run by
setuptools through ``setup.py`` (``cffi_modules``).  The C lives in C files;
this script only names them.
"""

from __future__ import annotations

import glob
import os

from cffi import FFI

_HERE = os.path.dirname(os.path.abspath(__file__))
_ROOT = os.path.dirname(_HERE)
_NATIVE = os.path.join(_ROOT, "native")
_INCLUDE = os.path.join(_NATIVE, "include")
_SRC = os.path.join(_NATIVE, "src")

# The declarations cffi compiles the module against live in a header of
# their own (cffi's dialect), not in this file.
CDEF_FILE = os.path.join(_NATIVE, "bridge", "cdef.h")
with open(CDEF_FILE, encoding="utf-8") as _f:
    CDEF = _f.read()

SOURCE = '#include "bridge/module.c"\n'
_WARNINGS = ["-Wall", "-Wextra", "-Werror", "-Wno-unused-function"]


def _depends() -> list[str]:
    """Every native source the module is compiled from (for rebuilds)."""
    patterns = ("*.c", "*.h", os.path.join("platform", "*.c"), os.path.join("platform", "*.h"))
    files = [f for p in patterns for f in glob.glob(os.path.join(_SRC, p))]
    files += glob.glob(os.path.join(_NATIVE, "cpython", "*.c"))
    files += glob.glob(os.path.join(_NATIVE, "bridge", "*.[ch]"))
    files += glob.glob(os.path.join(_INCLUDE, "*.h"))
    return sorted(files)


ffibuilder = FFI()
ffibuilder.cdef(CDEF)
ffibuilder.set_source(
    "gc_plugin._native",
    SOURCE,
    include_dirs=[_INCLUDE, _SRC, _NATIVE],
    define_macros=[("_CFFI_NO_LIMITED_API", None), ("CONFIG_VAR_HOT", None)],
    # the warnings of the C library's build (native/Makefile, WARN)
    extra_compile_args=["-std=c11", "-fvisibility=hidden", "-O2", *_WARNINGS],
    py_limited_api=False,
    # the files compiled apart: they need CPython's internal headers
    sources=[
        os.path.join(_NATIVE, "cpython", "gcstate.c"),
        os.path.join(_NATIVE, "cpython", "pyframes.c"),
    ],
    depends=_depends(),
)

if __name__ == "__main__":  # pragma: no cover - manual build aid
    ffibuilder.compile(tmpdir=os.path.join(_ROOT, "build", "cffi"), verbose=True)
