"""gc_plugin.symbols: return addresses of this process named as
``function+0xOFF (file.c:LINE)`` (docs/design/leaks.md, symbolizing sites).

The test library is built here with ``cc -shared`` in several variants
(with and without ``-g``, stripped with its debug file beside it or under a
build-id folder, with its symbol table removed but its DWARF kept, deleted
after loading) and loaded with ctypes. Its functions are ``static``: not in
the dynamic symbols. Expected offsets come from ``nm`` of the built file and
the address ctypes gives an exported function (the load bias), expected
lines from a marker comment in the source.
"""

from __future__ import annotations

import ctypes
import mmap
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

import gc_plugin.symbols as symbols

TOOLS = ("cc", "nm", "objcopy", "strip", "addr2line")
pytestmark = pytest.mark.skipif(
    any(shutil.which(t) is None for t in TOOLS) or not sys.platform.startswith("linux"),
    reason="needs Linux, a C compiler and binutils",
)

SOURCE = r"""
#include <stddef.h>

#if defined(__GNUC__) && !defined(__clang__)
#define KEEP __attribute__((noipa))
#else
#define KEEP __attribute__((noinline))
#endif

void *volatile gcp_sym_sink;

KEEP static void *gcp_sym_capture(void)
{
  return __builtin_return_address(0);
}

/* The attribution's case: a return address inside a static function. */
KEEP static void *gcp_sym_site(int n)
{
  void *ra = gcp_sym_capture(); /* CALL-SITE */
  gcp_sym_sink = ra;
  return n ? ra : NULL;
}

void *gcp_sym_return_address(void)
{
  return gcp_sym_site(1);
}

void *gcp_sym_static_address(void)
{
  return (void *)&gcp_sym_site;
}
"""
SOURCE_NAME = "gcp_symtest.c"
CALL_LINE = next(i for i, line in enumerate(SOURCE.splitlines(), 1) if "CALL-SITE" in line)


def _run(*cmd: str | Path) -> str:
    return subprocess.run([str(c) for c in cmd], check=True, capture_output=True, text=True).stdout


def _nm(path: Path, *flags: str) -> dict[str, int]:
    """Symbol name -> value, from nm."""
    out = {}
    for line in _run("nm", *flags, path).splitlines():
        parts = line.split()
        if len(parts) == 3:
            out[parts[2]] = int(parts[0], 16)
    return out


class Lib:
    """One built variant, loaded: its exported functions' results and the
    values of its symbols (from nm of the unstripped build)."""

    def __init__(self, path: Path, values: dict[str, int]) -> None:
        self.path = path
        self.dll = ctypes.CDLL(str(path))
        for name in ("gcp_sym_return_address", "gcp_sym_static_address"):
            getattr(self.dll, name).restype = ctypes.c_void_p
        exported = ctypes.cast(self.dll.gcp_sym_return_address, ctypes.c_void_p).value
        assert exported is not None
        self.bias = exported - values["gcp_sym_return_address"]
        self.site_start = self.bias + values["gcp_sym_site"]

    def return_address(self) -> int:
        ra = self.dll.gcp_sym_return_address()
        assert isinstance(ra, int)
        return ra

    def static_address(self) -> int:
        a = self.dll.gcp_sym_static_address()
        assert isinstance(a, int)
        return a


class Builder:
    """builder(variant) -> Lib: each variant built and loaded once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.src = root / SOURCE_NAME
        self.src.write_text(SOURCE)
        self.built: dict[str, Lib] = {}

    def _compile(self, out: Path, *flags: str) -> dict[str, int]:
        _run("cc", "-shared", "-fPIC", "-O2", "-Wl,--build-id", *flags, "-o", out, self.src)
        values = _nm(out)
        assert "gcp_sym_site" in values and "gcp_sym_site" not in _nm(out, "-D")
        return values

    def __call__(self, variant: str) -> Lib:
        if variant in self.built:
            return self.built[variant]
        folder = self.root / variant
        folder.mkdir()
        lib = folder / f"libgcp_sym_{variant}.so"
        values = self._compile(lib, "-g0" if variant == "nodebug" else "-g")
        if variant == "debuglink":  # stripped, its debug file beside it
            debug = folder / (lib.name + ".debug")
            _run("objcopy", "--only-keep-debug", lib, debug)
            _run("strip", "--strip-all", lib)
            _run("objcopy", f"--add-gnu-debuglink={debug}", lib)
        elif variant == "buildid":  # stripped, its debug file found by build-id
            build_id = _run("readelf", "-n", lib).split("Build ID:")[1].split()[0]
            debug = self.root / "debugroot" / ".build-id" / build_id[:2] / f"{build_id[2:]}.debug"
            debug.parent.mkdir(parents=True)
            _run("objcopy", "--only-keep-debug", lib, debug)
            _run("strip", "--strip-all", lib)
        elif variant == "dwarfonly":  # no .symtab, DWARF kept
            _run("objcopy", "--strip-all", "--keep-section=.debug_*", lib)
        loaded = Lib(lib, values)
        if variant == "deleted":
            lib.unlink()
        self.built[variant] = loaded
        return loaded


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Builder:
    return Builder(tmp_path_factory.mktemp("symbols"))


def _offset(lib: Lib, address: int) -> str:
    return f"{address - lib.site_start:#x}"


def test_static_function_with_line(build: Builder) -> None:
    lib = build("debug")
    ra = lib.return_address()
    assert lib.site_start < ra < lib.site_start + 64
    site = symbols.symbolize([ra])[ra]
    assert site == f"gcp_sym_site+{_offset(lib, ra)} ({SOURCE_NAME}:{CALL_LINE})"
    # an address that is not a return address is taken as one all the same:
    # the function holding address - 1, the offset of the address itself
    start = lib.static_address()
    assert start == lib.site_start
    sites = symbols.symbolize([start + 1, start + 3, ra])
    assert sites[start + 1].startswith("gcp_sym_site+0x1 (")
    assert sites[start + 3].startswith("gcp_sym_site+0x3 (")
    assert sites[ra] == site


def test_static_function_without_debug_info(build: Builder) -> None:
    lib = build("nodebug")
    ra = lib.return_address()
    assert symbols.symbolize([ra]) == {ra: f"gcp_sym_site+{_offset(lib, ra)}"}


def test_separate_debug_file_by_debuglink(build: Builder) -> None:
    lib = build("debuglink")
    ra = lib.return_address()
    site = symbols.symbolize([ra])[ra]
    assert site == f"gcp_sym_site+{_offset(lib, ra)} ({SOURCE_NAME}:{CALL_LINE})"


def test_separate_debug_file_by_build_id(build: Builder, monkeypatch: pytest.MonkeyPatch) -> None:
    lib = build("buildid")
    monkeypatch.setattr(symbols, "DEBUG_DIRS", [str(build.root / "debugroot")])
    ra = lib.return_address()
    site = symbols.symbolize([ra])[ra]
    assert site == f"gcp_sym_site+{_offset(lib, ra)} ({SOURCE_NAME}:{CALL_LINE})"


def test_debug_info_without_symbol_table(build: Builder) -> None:
    lib = build("dwarfonly")
    ra = lib.return_address()
    vaddr = ra - lib.bias
    site = symbols.symbolize([ra])[ra]
    assert site == f"gcp_sym_site at {lib.path.name}+{vaddr:#x} ({SOURCE_NAME}:{CALL_LINE})"


def test_deleted_file(build: Builder) -> None:
    lib = build("deleted")
    ra = lib.return_address()
    site = symbols.symbolize([ra])[ra]
    if not os.access(f"/proc/{os.getpid()}/map_files", os.R_OK | os.X_OK):
        # the mapped file cannot be read once deleted: the object's name only
        assert site.startswith(f"{lib.path.name}+0x")
    else:
        assert site == f"gcp_sym_site+{_offset(lib, ra)} ({SOURCE_NAME}:{CALL_LINE})"


def test_without_addr2line_sites_have_no_line(
    build: Builder, monkeypatch: pytest.MonkeyPatch
) -> None:
    lib = build("noaddr2line")
    monkeypatch.setattr(symbols, "_addr2line_tool", lambda: None)
    monkeypatch.setattr(symbols, "_warned", set())
    ra = lib.return_address()
    with pytest.warns(symbols.SymbolsWarning, match="addr2line"):
        sites = symbols.symbolize([ra])
    assert sites == {ra: f"gcp_sym_site+{_offset(lib, ra)}"}


def test_close_ends_helpers_and_symbolize_starts_again(build: Builder) -> None:
    lib = build("close")
    start = lib.static_address()
    symbols.symbolize([start + 1])
    symbols.close()
    site = symbols.symbolize([start + 2])[start + 2]
    assert site.startswith("gcp_sym_site+0x2 (")


def test_forked_child_starts_its_own_helpers(build: Builder) -> None:
    lib = build("fork")
    start = lib.static_address()
    parent_site = symbols.symbolize([start + 1])[start + 1]  # the helper runs
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: a new address, so the helper is asked again
        try:
            os.write(write, symbols.symbolize([start + 2])[start + 2].encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as f:
        child_site = f.read().decode()
    os.waitpid(pid, 0)
    assert child_site.startswith("gcp_sym_site+0x2 ("), child_site
    # the parent's helper still answers
    assert symbols.symbolize([start + 3])[start + 3].startswith("gcp_sym_site+0x3 (")
    assert parent_site.startswith("gcp_sym_site+0x1 (")


def test_libpython_function() -> None:
    address = ctypes.cast(ctypes.pythonapi.PyList_New, ctypes.c_void_p).value
    assert address is not None
    site = symbols.symbolize([address + 1])[address + 1]
    assert site.startswith("PyList_New+0x1"), site


def test_libc_and_its_installed_debug_file() -> None:
    """malloc in libc (its .dynsym); with Debian's libc6-dbg installed, its
    debug file under /usr/lib/debug/.build-id gives the line too."""
    address = ctypes.cast(ctypes.CDLL(None).malloc, ctypes.c_void_p).value
    assert address is not None
    site = symbols.symbolize([address + 4])[address + 4]
    assert site.split("+")[0] in {"malloc", "__libc_malloc"}, site
    assert site.split(" ")[0].endswith("+0x4")
    (path,) = {m.path for m in symbols._read_maps() if m.start <= address < m.end}
    build_id = _run("readelf", "-n", path).split("Build ID:")[1].split()[0]
    debug = Path("/usr/lib/debug/.build-id", build_id[:2], build_id[2:] + ".debug")
    if debug.exists():
        assert "(malloc.c:" in site, site


def test_addresses_in_no_file_and_in_a_file_that_is_not_elf(tmp_path: Path) -> None:
    anonymous = mmap.mmap(-1, mmap.PAGESIZE)
    data = tmp_path / "data.bin"
    data.write_bytes(b"not an ELF file\n" * (2 * mmap.PAGESIZE // 16))
    with open(data, "rb") as f:
        mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ, offset=mmap.PAGESIZE)
    try:
        a = ctypes.addressof(ctypes.c_char.from_buffer(anonymous)) + 8
        buf = (ctypes.c_char * 1).from_buffer_copy(b"x")  # heap, not a file
        b = ctypes.addressof(buf)
        # a read-only mapping gives no writable buffer: find it in the maps
        (m,) = [m for m in symbols._read_maps() if m.path == str(data)]
        c = m.start + 5
        sites = symbols.symbolize([a, b, c, 16])
        assert sites == {
            a: f"{a:#x}",
            b: f"{b:#x}",
            c: f"data.bin+{mmap.PAGESIZE + 5:#x}",  # the file offset
            16: "0x10",
        }
    finally:
        anonymous.close()
        mapped.close()


def test_empty_and_repeated() -> None:
    assert symbols.symbolize([]) == {}
    address = ctypes.cast(ctypes.pythonapi.PyList_New, ctypes.c_void_p).value
    assert address is not None
    sites = symbols.symbolize([address + 1, address + 1, address + 1])
    assert list(sites) == [address + 1]


def test_import_has_no_side_effects() -> None:
    code = (
        "import sys, threading, atexit; before = set(sys.modules); n = threading.active_count()\n"
        "import gc_plugin.symbols as s\n"
        "assert threading.active_count() == n and not s._objects and not s._servers\n"
        "assert s._servers_pid == 0 and not s._atexit_registered\n"
        "new = set(sys.modules) - before - {'gc_plugin', 'gc_plugin.symbols'}\n"
        "assert not any(m.startswith('gc_plugin') for m in new), new\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


PIE_SOURCE = r"""
#include <Python.h>
#include <stdio.h>
#include <stdlib.h>

#if defined(__GNUC__) && !defined(__clang__)
#define KEEP __attribute__((noipa))
#else
#define KEEP __attribute__((noinline))
#endif

void *volatile gcp_pie_sink;

KEEP static void *gcp_pie_capture(void)
{
  return __builtin_return_address(0);
}

KEEP static void *gcp_pie_site(void)
{
  void *ra = gcp_pie_capture(); /* PIE-SITE */
  gcp_pie_sink = ra;
  return ra;
}

int main(int argc, char **argv)
{
  char buf[32];
  snprintf(buf, sizeof buf, "%p", gcp_pie_site());
  setenv("GCP_PIE_ADDRESS", buf, 1);
  snprintf(buf, sizeof buf, "%p", (void *)&main);
  setenv("GCP_PIE_MAIN", buf, 1);
  return Py_BytesMain(argc, argv);
}
"""

PIE_CHILD = r"""
import os, gc_plugin.symbols as s
a = int(os.environ["GCP_PIE_ADDRESS"], 16)
print(os.environ["GCP_PIE_MAIN"], a, s.symbolize([a])[a])
"""


@pytest.mark.subprocess
@pytest.mark.parametrize("kind", ["pie", "no-pie"])
def test_executable(kind: str, tmp_path: Path, repo_root: Path) -> None:
    """A return address in the main program: a PIE (loaded at a bias) and
    a fixed-address executable (bias 0), each embedding the interpreter."""
    if not sysconfig.get_config_var("Py_ENABLE_SHARED"):
        pytest.skip("the interpreter has no shared libpython to embed")
    src = tmp_path / "gcp_pie.c"
    src.write_text(PIE_SOURCE)
    exe = tmp_path / f"gcp_{kind}"
    libdir = sysconfig.get_config_var("LIBDIR")
    version = sysconfig.get_config_var("LDVERSION") or sysconfig.get_config_var("VERSION")
    flags = ["-fPIE", "-pie"] if kind == "pie" else ["-fno-pie", "-no-pie"]
    _run(
        "cc", "-g", "-O2", *flags, "-o", exe, src,
        f"-I{sysconfig.get_paths()['include']}", f"-L{libdir}", f"-Wl,-rpath,{libdir}",
        f"-lpython{version}",
    )  # fmt: skip
    elf_type = _run("readelf", "-h", exe)
    assert ("DYN" in elf_type) == (kind == "pie")
    values = _nm(exe)
    env = dict(os.environ, PYTHONHOME=sys.base_prefix, PYTHONPATH=str(repo_root))
    env.pop("PYTHONSTARTUP", None)
    out = subprocess.run(
        [str(exe), "-c", PIE_CHILD], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    main, ra, site = out.stdout.split(maxsplit=2)
    bias = int(main, 16) - values["main"]
    assert (bias != 0) == (kind == "pie")
    offset = int(ra) - bias - values["gcp_pie_site"]
    line = next(i for i, t in enumerate(PIE_SOURCE.splitlines(), 1) if "PIE-SITE" in t)
    assert site.strip() == f"gcp_pie_site+{offset:#x} (gcp_pie.c:{line})"
