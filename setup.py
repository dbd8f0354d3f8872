"""Builds gc_plugin._native (cffi) and installs gc_plugin-autostart.pth.

The .pth file must sit at the top of site-packages, where the interpreter
reads it at start-up (docs/design/cpython-hook.md, activation from the
environment).  Wheels get it from build_py, which copies it next to the
packages; editable installs, whose wheel holds only a path hook, get it
written into that wheel beside the hook.
"""

import os

from setuptools import setup
from setuptools.command.build_py import build_py

_HERE = os.path.dirname(os.path.abspath(__file__))
_PTH = "gc_plugin-autostart.pth"


class BuildPyWithPth(build_py):
    def run(self):
        super().run()
        if not getattr(self, "editable_mode", False):
            self.copy_file(os.path.join(_HERE, _PTH), os.path.join(self.build_lib, _PTH))

    def get_outputs(self, include_bytecode=True):
        outputs = super().get_outputs(include_bytecode)
        if getattr(self, "editable_mode", False):
            return outputs
        return outputs + [os.path.join(self.build_lib, _PTH)]


cmdclass = {"build_py": BuildPyWithPth}

try:
    from setuptools.command.editable_wheel import editable_wheel
except ImportError:  # setuptools without PEP 660 support
    editable_wheel = None

if editable_wheel is not None and hasattr(editable_wheel, "_select_strategy"):

    class _WithPth:
        """Wraps an editable strategy: also writes the .pth into the wheel."""

        def __init__(self, inner):
            self._inner = inner

        def __call__(self, wheel, files, mapping):
            result = self._inner(wheel, files, mapping)
            with open(os.path.join(_HERE, _PTH), "rb") as f:
                wheel.writestr(_PTH, f.read())
            return result

        def __enter__(self):
            self._inner.__enter__()
            return self

        def __exit__(self, *exc):
            return self._inner.__exit__(*exc)

    class EditableWheelWithPth(editable_wheel):
        def _select_strategy(self, *args, **kwargs):
            return _WithPth(super()._select_strategy(*args, **kwargs))

    cmdclass["editable_wheel"] = EditableWheelWithPth

setup(cffi_modules=["gc_plugin/_build.py:ffibuilder"], cmdclass=cmdclass)
