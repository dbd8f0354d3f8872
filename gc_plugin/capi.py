"""gc_plugin's C API for extension modules: where its headers are.

An extension that includes ``gc_plugin.h`` (the MPS interface mapped onto
the table of the capsule ``gc_plugin._native._C_API``) and calls
``gc_plugin_import()`` in its init function uses the core of this package
instead of linking one of its own: the same arenas, the same signal
handlers.  Build it with ``include_dirs=[gc_plugin.get_include()]``.
Implements docs/design/c-api.md.
"""

from __future__ import annotations

import os

__all__ = ["get_include"]


def get_include() -> str:
    """The directory holding ``gc_plugin.h`` and the MPS headers (mps.h, the
    arena and pool-class headers): package data, installed with gc_plugin
    (in a source tree, a link to native/include)."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "include")
