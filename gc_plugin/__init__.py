"""gc_plugin: the Memory Pool System's model of memory management for CPython.

The package's public face: the typed wrappers over the compiled core
``gc_plugin._native``, the allocator hook and the heap walks.  The public
names are listed once, in ``__init__.pyi``: type checkers read them there,
and this module reads the same file to load each name from its module on
first use (PEP 562), so that importing the package, as the start-up hook
does when GC_PLUGIN_MANAGE is set, loads only what is used (and no module
a program could notice: the file is read with str methods alone).
Implements docs/design/python-api.md.
"""

import os as _os

__version__ = "0.1.0"


def _read_exports() -> dict[str, str]:
    """Public name -> its module, from the ``from .module import (X as X,
    ...)`` blocks of __init__.pyi."""
    exports: dict[str, str] = {}
    module = None
    stub = _os.path.join(_os.path.dirname(__file__), "__init__.pyi")
    with open(stub, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line.startswith("from .") and line.endswith("import ("):
                module = "gc_plugin." + line[len("from .") :].split()[0]
            elif line == ")":
                module = None
            elif module is not None and line:
                name, _, alias = line.rstrip(",").partition(" as ")
                if name != alias:
                    raise ImportError(f"gc_plugin/__init__.pyi: {line!r} is not 'X as X,'")
                exports[name] = module
    return exports


_EXPORTS = _read_exports()
__all__ = [*_EXPORTS, "__version__"]


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'gc_plugin' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
