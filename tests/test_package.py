"""Smoke tests of the package as installed: import, variety, errors, the
demo (``python -m gc_plugin``) and ``mypy --strict gc_plugin``."""

from __future__ import annotations

import ast
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

import gc_plugin

REPO_ROOT = Path(__file__).resolve().parent.parent


def _stub_exports() -> dict[str, str]:
    """Public name -> module, read from gc_plugin/__init__.pyi with ast (the
    package reads the same file its own way)."""
    tree = ast.parse((REPO_ROOT / "gc_plugin" / "__init__.pyi").read_text())
    found: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            assert node.level == 1 and node.module, ast.dump(node)
            for alias in node.names:
                assert alias.asname == alias.name, f"{alias.name} is not re-exported as itself"
                assert alias.name not in found, f"{alias.name} listed twice"
                found[alias.name] = f"gc_plugin.{node.module}"
    return found


def test_public_names() -> None:
    exports = _stub_exports()
    assert sorted(gc_plugin.__all__) == sorted([*exports, "__version__"])
    assert sorted(dir(gc_plugin)) == sorted(gc_plugin.__all__)
    for name, module in exports.items():
        value = getattr(gc_plugin, name)
        assert getattr(importlib.import_module(module), name) is value, name
    with pytest.raises(AttributeError):
        gc_plugin.no_such_name  # noqa: B018


def test_no_public_name_is_also_a_submodule() -> None:
    # importing gc_plugin.X sets the package's attribute X to the module,
    # which would hide a public name X of another module
    submodules = {p.stem for p in (REPO_ROOT / "gc_plugin").glob("*.py")}
    assert not submodules & set(gc_plugin.__all__)


def test_no_public_name_shadows_the_standard_library() -> None:
    shadowed = {n for n in gc_plugin.__all__ if n in sys.stdlib_module_names}
    assert not shadowed
    # the old module-level functions and test clients are gone
    for old in ("collections", "collect", "amc_pool", "teardown", "GraphFormat", "WeakTable"):
        assert old not in gc_plugin.__all__


def test_variety_is_hot() -> None:
    assert gc_plugin.variety() == "hot"


def test_exception_hierarchy() -> None:
    expected = {
        gc_plugin.FailError: (1, "MPS_RES_FAIL"),
        gc_plugin.ResourceError: (2, "MPS_RES_RESOURCE"),
        gc_plugin.MemoryLimitError: (3, "MPS_RES_MEMORY"),
        gc_plugin.LimitError: (4, "MPS_RES_LIMIT"),
        gc_plugin.UnimplementedError: (5, "MPS_RES_UNIMPL"),
        gc_plugin.MPSIOError: (6, "MPS_RES_IO"),
        gc_plugin.CommitLimitError: (7, "MPS_RES_COMMIT_LIMIT"),
        gc_plugin.ParamError: (8, "MPS_RES_PARAM"),
        gc_plugin.MisuseError: (8, "MPS_RES_PARAM"),
    }
    for cls, (code, name) in expected.items():
        assert issubclass(cls, gc_plugin.MPSError)
        err = cls("message")
        assert (err.code, err.name, str(err)) == (code, name, "message")
    assert issubclass(gc_plugin.MPSError, Exception)
    assert not issubclass(gc_plugin.MemoryLimitError, MemoryError)
    assert issubclass(gc_plugin.InvalidArgumentError, gc_plugin.MisuseError)


def test_misuse_raises_and_the_interpreter_goes_on() -> None:
    with gc_plugin.Arena() as arena:
        with arena.mfs(32) as pool:
            block = pool.alloc(32)
            pool.free(block)
            with pytest.raises(gc_plugin.MisuseError, match="double free"):
                pool.free(block)
            assert pool.check()
        assert arena.check()


def test_result_code_becomes_its_exception() -> None:
    with gc_plugin.Arena() as arena:
        limit = arena.commit_limit
        with pytest.raises(gc_plugin.FailError):
            arena.commit_limit = 1
        assert arena.commit_limit == limit


def test_demo_prints_the_table() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gc_plugin"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    for text in (
        "committed",
        "reserved",
        "spare",
        "pool class",
        "total",
        "free",
        "MFS",
        "MVFF",
        "MVFF debug",
        "MVT",
        "arena destroyed",
    ):
        assert text in out, f"{text!r} missing from the demo's output:\n{out}"


@pytest.mark.skipif(importlib.util.find_spec("mypy") is None, reason="mypy is not installed")
def test_mypy_strict(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path), "gc_plugin"],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_stub_matches_the_compiled_module() -> None:
    """stubs/gc_plugin/_native.pyi declares exactly what the cdef
    (native/bridge/cdef.h) puts in ``lib``: the same names, and each
    function with as many parameters as its C declaration."""
    from gc_plugin._native import ffi, lib

    stub = ast.parse((REPO_ROOT / "stubs" / "gc_plugin" / "_native.pyi").read_text())
    body = next(n for n in stub.body if isinstance(n, ast.ClassDef) and n.name == "_Lib").body
    stub_functions = {n.name: len(n.args.args) - 1 for n in body if isinstance(n, ast.FunctionDef)}
    stub_values = {
        n.target.id for n in body if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)
    }
    compiled = set(dir(lib))
    functions = {
        name: len(ffi.typeof(getattr(lib, name)).args)
        for name in compiled
        if callable(getattr(lib, name))
    }
    values = compiled - set(functions)
    assert set(stub_functions) == set(functions), (
        f"functions only in the stub: {sorted(set(stub_functions) - set(functions))}; "
        f"only in the cdef: {sorted(set(functions) - set(stub_functions))}"
    )
    assert stub_values == values, (
        f"values only in the stub: {sorted(stub_values - values)}; "
        f"only in the cdef: {sorted(values - stub_values)}"
    )
    wrong = {
        n: (stub_functions[n], functions[n]) for n in functions if stub_functions[n] != functions[n]
    }
    assert not wrong, f"parameter counts differ (stub, C): {wrong}"


@pytest.mark.slow
@pytest.mark.parametrize("compiler", ["gcc", "clang"])
def test_extension_builds_warning_free(compiler: str, tmp_path: Path) -> None:
    """gc_plugin._native compiles with the C library's warnings as errors
    (-Wall -Wextra -Werror) under gcc and clang."""
    import shutil

    if shutil.which(compiler) is None:
        pytest.skip(f"{compiler} is not installed (.ci/run installs clang)")
    env = {k: v for k, v in os.environ.items() if k not in ("CFLAGS", "CC")}
    env["CC"] = compiler
    build = subprocess.run(
        [
            sys.executable,
            "-c",
            "from gc_plugin._build import ffibuilder, _WARNINGS\n"
            "assert '-Werror' in _WARNINGS and '-Wextra' in _WARNINGS\n"
            f"print(ffibuilder.compile(tmpdir={str(tmp_path)!r}))",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-4000:]
    assert Path(build.stdout.strip().splitlines()[-1]).is_file()


@pytest.mark.parametrize(
    "source",
    sorted(str(p.relative_to(REPO_ROOT)) for p in (REPO_ROOT / "native").glob("cpython/*.c"))
    + ["native/bridge/gcp_py.c", "native/bridge/capi.c"],
)
def test_native_python_files_compile_alone(source: str) -> None:
    """Each C file of the CPython integration and of the bridge compiles on
    its own against the headers (what it uses is declared, not merely
    defined by a file the unity build happens to include before it), with
    the warnings of the build as errors.  The core's internal functions are
    file-static only in the unity build (GCP_UNITY_BUILD), so a file alone
    sees them as the external functions the headers declare."""
    import sysconfig

    compiler = os.environ.get("CC", "cc")
    result = subprocess.run(
        [
            compiler,
            "-std=c11",
            "-fsyntax-only",
            "-Wall",
            "-Wextra",
            "-Wno-unused-function",
            "-Werror",
            "-DCONFIG_VAR_HOT",
            "-D_GNU_SOURCE",
            f"-I{sysconfig.get_paths()['include']}",
            "-Inative/include",
            "-Inative/src",
            "-Inative",
            source,
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    # (a warning that a core function is "used but never defined" is the
    # unity build's and expected here)
    assert result.returncode == 0, result.stderr[-4000:]


@pytest.mark.parametrize(
    "source",
    sorted(
        str(p.relative_to(REPO_ROOT))
        for p in [
            *(REPO_ROOT / "native").glob("src/*.c"),
            *(REPO_ROOT / "native").glob("src/platform/*.c"),
        ]
        if p.name != "mps.c"
    ),
)
def test_core_files_compile_alone(source: str) -> None:
    """Each file of the core compiles on its own against the headers, with
    the library's warnings as errors: it includes what it uses, and nothing
    it uses is declared only by a file that the unity build (mps.c) happens
    to include before it.  Compiled alone, the core's internal functions
    have external linkage (core.h, INTERN), so a declaration in a header
    is enough."""
    compiler = os.environ.get("CC", "cc")
    result = subprocess.run(
        [
            compiler,
            "-std=c11",
            "-fsyntax-only",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-Wno-unused-function",
            "-DCONFIG_VAR_COOL",
            "-Inative/include",
            "-Inative/src",
            source,
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-4000:]
