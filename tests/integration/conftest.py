"""Fixtures of the integration tests: test extension modules built once per
session (under a file lock shared by the xdist workers), and child
processes to activate the hook in (it is process-wide).

Every child runs ``sys.executable`` with the built modules (and the helper
module gcp_childlib) and tests/ (the test clients, gcp_testing) on
PYTHONPATH and without the GC_PLUGIN_* variables unless a test sets them.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from pathlib import Path

import pytest

from .childproc import Child, RunChild

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent  # holds the test clients' package, gcp_testing
EXT_SRC = HERE / "ext"
CHILD_TIMEOUT = 60

# module name -> source, relative to ext/
MODULES = {
    "gcp_testext_a": "gcp_testext_a.c",
    "gcp_testext_b": "gcp_testext_b.c",
    "gcp_testpkg._ext": "gcp_testpkg/_ext.c",
    "gcp_leaky": "gcp_leaky.c",
}


def _build(out: Path) -> None:
    from setuptools import Distribution, Extension
    from setuptools.command.build_ext import build_ext

    depends = [str(EXT_SRC / "testext.h")]
    extensions = [
        Extension(
            name,
            [str(EXT_SRC / src)],
            depends=depends,
            # -g: leak reports name their sites with file:line
            extra_compile_args=["-O2", "-g", "-Wall", "-Wextra", "-Wno-missing-field-initializers"],
        )
        for name, src in MODULES.items()
    ]
    dist = Distribution({"name": "gcp_testext", "ext_modules": extensions})
    cmd = build_ext(dist)
    cmd.build_lib = str(out)
    cmd.build_temp = str(out / "_build")
    cmd.parallel = len(extensions)
    cmd.ensure_finalized()
    cmd.run()
    shutil.copy(EXT_SRC / "gcp_childlib.py", out / "gcp_childlib.py")
    shutil.copy(EXT_SRC / "gcp_testpkg" / "__init__.py", out / "gcp_testpkg" / "__init__.py")


@pytest.fixture(scope="session")
def ext_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder holding the built test extensions (built once per session)."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the session's folder, shared by its workers
    out = root / "gcp_testext"
    with open(root / "gcp_testext.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not (out / "done").exists():
                if out.exists():
                    shutil.rmtree(out)
                out.mkdir()
                _build(out)
                (out / "done").write_text("ok\n")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return out


@pytest.fixture
def run_child(ext_dir: Path, tmp_path: Path) -> RunChild:
    """run_child(script=None, *, args=(), env=None, files=None) -> Child.

    script: Python source (dedented) written to tmp_path/child.py and run
    as ``python -X faulthandler child.py *args``; without script, args
    are the interpreter's arguments.  env: extra environment variables
    (a value of None removes one).  files: more files to write into
    tmp_path (name -> source), e.g. modules the script imports.  The
    child's working directory is tmp_path."""

    def run(
        script: str | None = None,
        *,
        args: tuple[str, ...] | list[str] = (),
        env: Mapping[str, str | None] | None = None,
        files: Mapping[str, str] | None = None,
    ) -> Child:
        for name, text in (files or {}).items():
            (tmp_path / name).write_text(textwrap.dedent(text))
        argv = [sys.executable, "-X", "faulthandler"]
        if script is not None:
            path = tmp_path / "child.py"
            path.write_text(textwrap.dedent(script))
            argv.append(str(path))
        argv += list(args)
        child_env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(
                ("GC_PLUGIN_", "PYTHONMALLOC", "PYTHONTRACEMALLOC", "PYTHONDEVMODE")
            )
        }
        child_env["PYTHONPATH"] = os.pathsep.join([str(ext_dir), str(tmp_path), str(TESTS)])
        for k, v in (env or {}).items():
            if v is None:
                child_env.pop(k, None)
            else:
                child_env[k] = v
        proc = subprocess.run(
            argv,
            cwd=tmp_path,
            env=child_env,
            capture_output=True,
            text=True,
            timeout=CHILD_TIMEOUT,
        )
        return Child(argv, proc.returncode, proc.stdout, proc.stderr)

    return run
