"""Importing gc_plugin from a source tree that was never built says what to
do, instead of a bare "No module named 'gc_plugin._native'".  The package
is copied without its compiled module and imported in a child interpreter
(the running one has the built package imported already)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "gc_plugin"


def test_import_from_an_unbuilt_tree_says_how_to_build(tmp_path: Path) -> None:
    shutil.copytree(
        PACKAGE, tmp_path / "gc_plugin", ignore=shutil.ignore_patterns("_native*", "__pycache__")
    )
    child = subprocess.run(
        # -S: no site packages, so no editable-install finder that would
        # find the built package of the clone instead of the copy
        [
            sys.executable,
            "-S",
            "-c",
            "import sys; sys.path.insert(0, '.'); import gc_plugin; gc_plugin.Arena",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert child.returncode != 0
    assert "ModuleNotFoundError" in child.stderr, child.stderr
    assert "not built" in child.stderr and "pip install -e ." in child.stderr, child.stderr
