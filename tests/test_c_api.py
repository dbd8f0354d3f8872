"""gc_plugin's C API (docs/design/c-api.md): the capsule
gc_plugin._native._C_API, the header gc_plugin.h that maps the MPS
interface onto its table, gc_plugin_import() and its refusals,
gc_plugin.get_include(), Arena.adopt_format, and that the test clients
(tests/gcp_testing) stay out of the installed package.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import gc_plugin
import gc_plugin as gc
from gc_plugin import InvalidArgumentError, MisuseError, _calls

REPO_ROOT = Path(__file__).resolve().parent.parent
INCLUDE = REPO_ROOT / "native" / "include"
CLIENT = Path(__file__).resolve().parent / "capi" / "capi_client.c"

# module name -> extra macros (the refusals: another ABI, a larger table)
CLIENTS = {
    "capi_client": [],
    "capi_client_abi": [("GC_PLUGIN_ABI_VERSION", "999")],
    "capi_client_size": [("GC_PLUGIN_API_SIZE", "(sizeof(gc_plugin_api_s) + 8)")],
}


# ---- the list, the mapping and the headers agree ------------------------------------


def _api_list() -> tuple[list[str], list[str]]:
    text = (INCLUDE / "gc_plugin_api.h").read_text()
    functions = re.findall(r"^\s*X\([^,]+, (\w+), \(", text, re.M)
    keys = re.findall(r"^\s*K\((\w+)\)", text, re.M)
    return functions, keys


def _declared() -> set[str]:
    """Every function the public MPS headers declare (mps.h, the arena and
    pool-class headers)."""
    names: set[str] = set()
    headers = ["mps.h", "mpsavm.h", "mpsacl.h"] + [p.name for p in INCLUDE.glob("mpsc*.h")]
    for header in headers:
        text = re.sub(r"/\*.*?\*/", "", (INCLUDE / header).read_text(), flags=re.S)
        for decl in re.findall(r"\bextern\s+(?!\"C\")([^;{]*);", text):
            decl = re.sub(r"\((\w+)\)\(", r" \1(", decl)  # (mps_reserve)(...)
            if "(" in decl:
                names.add(re.findall(r"(\w+)\s*\(", decl)[0])
    return names


def test_the_table_lists_every_function_of_the_public_headers() -> None:
    functions, keys = _api_list()
    assert len(functions) == len(set(functions))
    assert set(functions) == _declared()
    key_objects = set()
    for header in INCLUDE.glob("mps*.h"):
        key_objects |= set(
            re.findall(r"extern const struct mps_key_s _mps_key_(\w+);", header.read_text())
        )
    assert set(keys) == key_objects


def test_the_header_maps_every_entry() -> None:
    functions, keys = _api_list()
    text = (INCLUDE / "gc_plugin.h").read_text()
    mapped = dict(re.findall(r"^#define (\w+) \((.*)\)$", text, re.M))
    # the function forms of the inline macros keep the macros' names
    expected = {
        f: f"gc_plugin_api->{f}" for f in functions if f not in ("mps_reserve", "mps_commit")
    }
    expected["mps_args_none"] = "gc_plugin_api->mps_args_none"
    for key in keys:
        expected[f"_mps_key_{key}"] = f"*gc_plugin_api->_mps_key_{key}"
    assert mapped == expected


def test_get_include_holds_the_headers() -> None:
    include = Path(gc_plugin.get_include())
    for name in ("gc_plugin.h", "gc_plugin_api.h", "mps.h", "mpsavm.h", "mpscamc.h", "mpscawl.h"):
        assert (include / name).is_file(), name
    assert (include / "gc_plugin.h").read_text() == (INCLUDE / "gc_plugin.h").read_text()


def test_importing_the_module_alone_attaches_the_capsule() -> None:
    code = (
        "import sys\nimport gc_plugin._native as n\n"
        "print(repr(n._C_API))\nprint('gc_plugin._calls' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    capsule, calls = done.stdout.split("\n")[:2]
    assert 'capsule object "gc_plugin._native._C_API"' in capsule
    assert calls == "False"


# ---- an extension through the capsule -----------------------------------------------


@pytest.fixture(scope="module")
def clients(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """capi_client.c built as three modules against gc_plugin.get_include()
    only, with the core's warnings as errors."""
    from setuptools import Distribution, Extension
    from setuptools.command.build_ext import build_ext

    out = tmp_path_factory.mktemp("capi")
    extensions = [
        Extension(
            name,
            [str(CLIENT)],
            include_dirs=[gc_plugin.get_include()],
            define_macros=[("CAPI_CLIENT_NAME", name), *macros],
            extra_compile_args=["-std=c11", "-Wall", "-Wextra", "-Werror"],
        )
        for name, macros in CLIENTS.items()
    ]
    cmd = build_ext(Distribution({"name": "capi_clients", "ext_modules": extensions}))
    cmd.build_lib = str(out)
    cmd.build_temp = str(out / "_build")
    cmd.ensure_finalized()
    cmd.run()
    return out


def _import(clients: Path, name: str) -> object:
    sys.path.insert(0, str(clients))
    try:
        return __import__(name)
    finally:
        sys.path.remove(str(clients))


def test_an_extension_uses_the_core_of_gc_plugin(clients: Path) -> None:
    client = _import(clients, "capi_client")
    # an arena of its own, made with keyword arguments (keys through the table)
    before, after, committed = client.run(0, 1 << 20)  # type: ignore[attr-defined]
    assert after == before + 1 and committed >= 1 << 20
    # an arena made in Python: the same core (the collection counts there)
    with gc_plugin.Arena() as arena:
        address = int(_calls.as_int(arena._live()))
        start = arena.collection_count
        before, after, committed = client.run(address, 1 << 22)  # type: ignore[attr-defined]
        assert (before, after) == (start, start + 1)
        assert arena.collection_count == start + 1
        assert committed >= (1 << 22)


def test_import_refuses_another_abi_version(clients: Path) -> None:
    with pytest.raises(ImportError, match=r"incompatible ABI version.*provides version 1.*999"):
        _import(clients, "capi_client_abi")


def test_import_refuses_a_smaller_table(clients: Path) -> None:
    with pytest.raises(ImportError, match=r"table has \d+ bytes, this module needs \d+"):
        _import(clients, "capi_client_size")


def test_import_without_gc_plugin(clients: Path) -> None:
    # -I -S: neither the working directory, PYTHONPATH nor site-packages
    # (where gc_plugin is installed) is on sys.path
    code = (
        f"import sys\nsys.path.insert(0, {str(clients)!r})\n"
        "try:\n    import capi_client\nexcept ImportError as e:\n    print('IMPORT ERROR', e)\n"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=clients,
    )
    assert done.returncode == 0, done.stderr
    assert "IMPORT ERROR gc_plugin C API: cannot import gc_plugin._native" in done.stdout
    assert "No module named 'gc_plugin'" in done.stdout


# ---- Arena.adopt_format -------------------------------------------------------------


def _graph_format(arena: gc_plugin.Arena, header_size: int = 0) -> int:
    from gcp_testing._ffi import as_int, ffi as tffi, handle, lib as tlib

    fmt_o = tffi.new("mps_fmt_t *")
    assert (
        tlib.gcp_graph_format_create(fmt_o, handle("mps_arena_t", arena._live()), header_size) == 0
    )
    return as_int(fmt_o[0])


def test_adopt_format() -> None:
    from gcp_testing._ffi import as_int, ffi as tffi, handle, lib as tlib

    arena = gc_plugin.Arena()
    try:
        fmt = arena.adopt_format(_graph_format(arena, 8), header_size=8)
        assert isinstance(fmt, gc.Format)
        assert (fmt.header_size, fmt.alignment) == (8, 8)
        pool = arena.amc(fmt)
        ap = pool.allocation_point()
        table = arena.root_table(1)
        obj_o = tffi.new("mps_addr_t *")
        assert tlib.gcp_graph_alloc(obj_o, handle("mps_ap_t", ap._live()), 8, 0, 2, 42) == 0
        table[0] = as_int(obj_o[0])
        arena.collect()
        assert tlib.gcp_graph_id(tffi.cast("mps_addr_t", table[0]), 8) == 42
        assert fmt.pools == [pool]
    finally:
        arena.teardown()
    assert fmt.destroyed


def test_adopt_format_refuses() -> None:
    arena, other = gc_plugin.Arena(), gc_plugin.Arena()
    try:
        address = _graph_format(arena)
        with pytest.raises(InvalidArgumentError, match="header size is 0, not 8"):
            arena.adopt_format(address, header_size=8)
        with pytest.raises(InvalidArgumentError, match="not a format of this arena"):
            other.adopt_format(address)
        adopted = arena.adopt_format(address)
        with pytest.raises(InvalidArgumentError, match="already adopted"):
            arena.adopt_format(address)
        adopted.destroy()  # the Format owns it: dropping the Format destroys it too
        with pytest.raises(MisuseError, match="not a live format"):
            arena.adopt_format(_calls.as_int(arena._live()))
        with pytest.raises(TypeError):
            arena.adopt_format("0x1234")  # type: ignore[arg-type]
    finally:
        arena.teardown()
        other.teardown()


# ---- the test clients are not part of the installed package -------------------------


def test_the_package_exports_no_test_client() -> None:
    for name in ("GraphFormat", "CorruptObjectError", "WeakTableFormat", "WeakTable"):
        assert name not in gc_plugin.__all__
        assert not hasattr(gc_plugin, name), name
        assert not hasattr(gc, name), name
    for module in ("gc_plugin.graph", "gc_plugin.weaktable"):
        with pytest.raises(ImportError):
            __import__(module)
    from gc_plugin._native import lib

    assert not [n for n in dir(lib) if n.startswith(("gcp_graph", "gcp_wtable", "GCP_GRAPH"))]
    assert not (REPO_ROOT / "native" / "testfmt").exists()


def test_setup_installs_no_test_package() -> None:
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert config["packages"] == ["gc_plugin", "gc_plugin-stubs"]
    assert "include/*.h" in config["package-data"]["gc_plugin"]
    # what that pattern gives setuptools: the C API's headers, through the link
    found = {p.name for p in (REPO_ROOT / "gc_plugin").glob("include/*.h")}
    assert {"gc_plugin.h", "gc_plugin_api.h", "mps.h", "mpscawl.h"} <= found
    from gc_plugin._build import _depends

    module = (REPO_ROOT / "native" / "bridge" / "module.c").read_text()
    assert not [f for f in _depends() if "testfmt" in f or "gcp_testing" in f]
    assert "graph.c" not in module and "weaktable.c" not in module
