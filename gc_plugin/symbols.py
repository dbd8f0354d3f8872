"""Native call sites as ``function+0xOFF (file.c:LINE)``, at report time.

``symbolize(addresses)`` names return addresses of this process: the mapped
object and its load bias come from ``/proc/self/maps`` (and the object's
program headers), the function from the object's ``.symtab`` (static
functions included), else its ``.dynsym``, also read from a separate debug
file found by build-id or ``.gnu_debuglink``; the file and line from the
DWARF line table, read by binutils' ``addr2line``, one helper process per
object kept for the process's life (``close()`` ends them). Without
``addr2line`` the sites have no line (``SymbolsWarning`` says so once).

Nothing here runs at allocation time, and importing the module does nothing
but define it. Every object is parsed once per process (keyed by device,
inode and path); its symbols are sorted arrays searched with bisect, and
every site found is kept. Implements docs/design/leaks.md (symbolizing sites).
"""

from __future__ import annotations

import atexit
import bisect
import contextlib
import os
import select
import shutil
import stat
import struct
import subprocess
import threading
import time
import warnings
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import BinaryIO

__all__ = ["DEBUG_DIRS", "SymbolsWarning", "close", "symbolize"]

# Where separate debug files are looked for (build-id and debuglink), as gdb
# does by default.
DEBUG_DIRS: list[str] = ["/usr/lib/debug"]

_ADDR2LINE_TIMEOUT = 120.0  # seconds for addr2line to answer a chunk (or a run)

# ELF constants (the System V gABI and the GNU extensions)
_PT_LOAD = 1
_SHT_NOBITS = 8
_SHF_EXECINSTR = 0x4
_SHF_COMPRESSED = 0x800
_ELFCOMPRESS_ZLIB = 1
_SHN_UNDEF = 0
_SHN_LORESERVE = 0xFF00
_SHN_XINDEX = 0xFFFF
_STT_NOTYPE, _STT_FUNC, _STT_GNU_IFUNC = 0, 2, 10
_STB_LOCAL, _STB_GLOBAL, _STB_WEAK = 0, 1, 2
_NT_GNU_BUILD_ID = 3


class SymbolsWarning(UserWarning):
    """Sites are symbolized with less than they could be (no addr2line, or
    it failed): they still name function+offset, without file:line."""


# --------------------------------------------------------------------------
# ELF reading (headers, program headers, sections, symbols, notes)


@dataclass(frozen=True)
class _Section:
    name: str
    type: int
    flags: int
    addr: int
    offset: int
    size: int
    link: int
    entsize: int


class _SymbolTable:
    """Function symbols sorted by address: ``starts``, ``ends`` and
    ``names`` are parallel lists; ``ends[i] == starts[i]`` for a symbol of
    no size, which covers up to the next symbol or the end of its section."""

    def __init__(self, entries: list[tuple[int, int, str, int, int]]) -> None:
        # entries: (start, size, name, preference, limit); the lower
        # preference wins among the symbols of one address.
        entries.sort(key=lambda e: (e[0], e[3], e[2]))
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.limits: list[int] = []  # end of the symbol's section (size 0)
        self.names: list[str] = []
        for start, size, name, _pref, limit in entries:
            if self.starts and self.starts[-1] == start:
                continue  # an alias of the preferred name
            self.starts.append(start)
            self.ends.append(start + size)
            self.names.append(name)
            self.limits.append(limit)

    def lookup(self, vaddr: int) -> tuple[str, int] | None:
        """(name, start) of the function holding ``vaddr``, or None."""
        i = bisect.bisect_right(self.starts, vaddr) - 1
        if i < 0:
            return None
        if self.ends[i] == self.starts[i]:
            if vaddr < self.limits[i]:
                return self.names[i], self.starts[i]
        elif vaddr < self.ends[i]:
            return self.names[i], self.starts[i]
        # A small symbol just before may sit inside a larger one (a local
        # label of assembly code, say): look back a little for a container.
        for j in range(i - 1, max(i - 8, -1), -1):
            if self.starts[j] <= vaddr < self.ends[j]:
                return self.names[j], self.starts[j]
        return None


def _preference(bind: int, sized: bool, name: str) -> int:
    """Which of several names of one address is shown: global, then weak,
    then local; sized before unsized; fewer leading underscores, then
    shorter (``malloc`` before ``__libc_malloc`` and ``__GI___libc_malloc``)."""
    rank = {_STB_GLOBAL: 0, _STB_WEAK: 1, _STB_LOCAL: 2}.get(bind, 3)
    underscores = len(name) - len(name.lstrip("_"))
    return (((rank * 2 + (not sized)) * 64 + min(underscores, 63)) << 16) + min(len(name), 0xFFFF)


class _ElfFile:
    """The parts of one ELF file that symbolizing needs, read once."""

    _file: BinaryIO  # while reading

    def __init__(self, path: str) -> None:
        self.path = path
        with open(path, "rb") as f:
            ident = f.read(64)
            if len(ident) < 52 or ident[:4] != b"\x7fELF" or ident[4] not in (1, 2):
                raise ValueError(f"{path}: not an ELF file")
            self.is64 = ident[4] == 2
            self.end = "<" if ident[5] == 1 else ">"
            if self.is64:
                (_, self.type, _, _, _, phoff, shoff, _, _, phentsize, phnum, shentsize, shnum,
                 shstrndx) = struct.unpack(self.end + "16sHHIQQQIHHHHHH", ident[:64])  # fmt: skip
            else:
                (_, self.type, _, _, _, phoff, shoff, _, _, phentsize, phnum, shentsize, shnum,
                 shstrndx) = struct.unpack(self.end + "16sHHIIIIIHHHHHH", ident[:52])  # fmt: skip
            self._file = f
            self.loads = self._read_loads(phoff, phentsize, phnum)
            self.sections = self._read_sections(shoff, shentsize, shnum, shstrndx)
            self.by_name = {s.name: s for s in self.sections}
            self.build_id = self._build_id()
            self.debuglink = self._debuglink()
            self.symtab = self._symbols(".symtab")
            self.dynsym = self._symbols(".dynsym")
            del self._file
        self.has_lines = any(
            n in self.by_name and self.by_name[n].type != _SHT_NOBITS
            for n in (".debug_line", ".zdebug_line")
        )

    def _read_loads(self, phoff: int, entsize: int, num: int) -> list[tuple[int, int, int]]:
        """PT_LOAD segments as (p_offset, p_vaddr, p_filesz)."""
        if not phoff or not num:
            return []
        self._file.seek(phoff)
        raw = self._file.read(entsize * num)
        loads = []
        for i in range(num):
            chunk = raw[i * entsize : (i + 1) * entsize]
            if self.is64:
                p_type, _, p_offset, p_vaddr, _, p_filesz, _, _ = struct.unpack(
                    self.end + "IIQQQQQQ", chunk[:56]
                )
            else:
                p_type, p_offset, p_vaddr, _, p_filesz, _, _, _ = struct.unpack(
                    self.end + "IIIIIIII", chunk[:32]
                )
            if p_type == _PT_LOAD:
                loads.append((p_offset, p_vaddr, p_filesz))
        return loads

    def _read_sections(self, shoff: int, entsize: int, num: int, strndx: int) -> list[_Section]:
        f = self._file
        if not shoff:
            return []
        fmt = self.end + ("IIQQQQIIQQ" if self.is64 else "IIIIIIIIII")
        size = struct.calcsize(fmt)
        f.seek(shoff)
        first = struct.unpack(fmt, f.read(size))
        if num == 0:  # more than SHN_LORESERVE sections: the count is in section 0
            num = first[5]
        if strndx == _SHN_XINDEX:
            strndx = first[6]
        f.seek(shoff)
        raw = f.read(entsize * num)
        rows = [struct.unpack(fmt, raw[i * entsize : i * entsize + size]) for i in range(num)]
        unnamed = [_Section("", r[1], r[2], r[3], r[4], r[5], r[6], r[9]) for r in rows]
        names = self._data(unnamed[strndx]) if strndx < num else b""
        out = []
        for r, s in zip(rows, unnamed, strict=True):
            end = names.find(b"\0", r[0])
            name = names[r[0] : end if end >= 0 else len(names)].decode("utf-8", "replace")
            out.append(_Section(name, s.type, s.flags, s.addr, s.offset, s.size, s.link, s.entsize))
        return out

    def _data(self, s: _Section) -> bytes:
        """A section's contents, uncompressed (SHF_COMPRESSED with zlib, or
        the older .zdebug form); empty for NOBITS or an unknown compression."""
        if s.type == _SHT_NOBITS or not s.size:
            return b""
        f = self._file
        f.seek(s.offset)
        data: bytes = f.read(s.size)
        if s.flags & _SHF_COMPRESSED:
            fmt = self.end + ("IIQQ" if self.is64 else "III")
            ch_type = struct.unpack_from(fmt, data)[0]
            if ch_type != _ELFCOMPRESS_ZLIB:
                return b""
            return zlib.decompress(data[struct.calcsize(fmt) :])
        if s.name.startswith(".zdebug") and data[:4] == b"ZLIB":
            return zlib.decompress(data[12:])
        return data

    def _build_id(self) -> bytes | None:
        s = self.by_name.get(".note.gnu.build-id")
        if s is None:
            return None
        data = self._data(s)
        pos = 0
        while pos + 12 <= len(data):
            namesz, descsz, ntype = struct.unpack_from(self.end + "III", data, pos)
            name_at = pos + 12
            desc_at = name_at + (namesz + 3) // 4 * 4
            if ntype == _NT_GNU_BUILD_ID and data[name_at : name_at + namesz] == b"GNU\0":
                return data[desc_at : desc_at + descsz]
            pos = desc_at + (descsz + 3) // 4 * 4
        return None

    def _debuglink(self) -> tuple[str, int] | None:
        s = self.by_name.get(".gnu_debuglink")
        if s is None:
            return None
        data = self._data(s)
        end = data.find(b"\0")
        if end <= 0:
            return None
        crc_at = (end + 4) // 4 * 4
        if crc_at + 4 > len(data):
            return None
        (crc,) = struct.unpack_from(self.end + "I", data, crc_at)
        return os.fsdecode(data[:end]), crc

    def _symbols(self, name: str) -> _SymbolTable | None:
        s = self.by_name.get(name)
        if s is None or s.link >= len(self.sections):
            return None
        data = self._data(s)
        strings = self._data(self.sections[s.link])
        fmt = self.end + ("IBBHQQ" if self.is64 else "IIIBBH")
        esize = struct.calcsize(fmt)
        data = data[: len(data) // esize * esize]
        code = [
            (sec.addr + sec.size) if sec.flags & _SHF_EXECINSTR else -1 for sec in self.sections
        ]
        entries: list[tuple[int, int, str, int, int]] = []
        for row in struct.iter_unpack(fmt, data):
            if self.is64:
                st_name, info, _, shndx, value, size = row
            else:
                st_name, value, size, info, _, shndx = row
            kind = info & 0xF
            if shndx == _SHN_UNDEF or shndx >= _SHN_LORESERVE or shndx >= len(code):
                continue
            limit = code[shndx]
            if kind in (_STT_FUNC, _STT_GNU_IFUNC):
                limit = max(limit, value + size)
            elif kind != _STT_NOTYPE or limit < 0:
                continue  # data, sections, files; untyped symbols only in code
            end = strings.find(b"\0", st_name)
            label = strings[st_name : end if end >= 0 else len(strings)].decode("utf-8", "replace")
            if not label or label[0] in ".$":  # local labels, ARM mapping symbols
                continue
            pref = _preference(info >> 4, size > 0, label)
            entries.append((value, size, label, pref, max(limit, value)))
        return _SymbolTable(entries) if entries else None


def _find_debug_file(elf: _ElfFile) -> _ElfFile | None:
    """The separate debug file of ``elf``, as gdb finds it: by build-id under
    each of DEBUG_DIRS, then by .gnu_debuglink (checking its CRC) beside the
    file, in its .debug/ folder, and under DEBUG_DIRS by the file's folder."""
    candidates: list[tuple[str, int | None]] = []
    if elf.build_id and len(elf.build_id) > 1:
        hexid = elf.build_id.hex()
        for d in DEBUG_DIRS:
            candidates.append((os.path.join(d, ".build-id", hexid[:2], hexid[2:] + ".debug"), None))
    if elf.debuglink:
        name, link_crc = elf.debuglink
        folder = os.path.dirname(os.path.realpath(elf.path))
        candidates.append((os.path.join(folder, name), link_crc))
        candidates.append((os.path.join(folder, ".debug", name), link_crc))
        for d in DEBUG_DIRS:
            candidates.append((os.path.join(d + folder, name), link_crc))
    for path, crc in candidates:
        if not os.path.isfile(path) or os.path.realpath(path) == os.path.realpath(elf.path):
            continue
        try:
            debug = _ElfFile(path)
        except (OSError, ValueError, struct.error, zlib.error):
            continue
        if crc is None:
            if debug.build_id != elf.build_id:
                continue
        elif _crc32(path) != crc:
            continue
        return debug
    return None


def _crc32(path: str) -> int:
    crc = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            crc = zlib.crc32(chunk, crc)
    return crc


# --------------------------------------------------------------------------
# Objects of the process


@dataclass
class _Object:
    """One mapped file, parsed once: its ELF parts (None if it is no ELF
    file or cannot be read), its debug file, and the sites found so far."""

    name: str  # the file's base name, for "name+0xOFF"
    read_path: str  # where to read it (a map_files link if it was replaced)
    elf: _ElfFile | None
    debug: _ElfFile | None = None
    sites: dict[int, str] = field(default_factory=dict)  # return vaddr -> site

    def bias(self, start: int, offset: int) -> int | None:
        """Load bias of the mapping of file ``offset`` at ``start``: the
        address minus the virtual address the file's PT_LOAD segment gives
        that file offset (a segment may be mapped in several parts)."""
        if self.elf is None:
            return None
        page = os.sysconf("SC_PAGE_SIZE")
        for p_offset, p_vaddr, p_filesz in self.elf.loads:
            if p_offset - p_offset % page <= offset < p_offset + max(p_filesz, 1):
                return start - (p_vaddr + offset - p_offset)
        return None

    def symbol(self, vaddr: int) -> tuple[str, int] | None:
        """.symtab of the debug file, then of the file, then .dynsym."""
        tables = []
        if self.debug is not None:
            tables.append(self.debug.symtab)
        if self.elf is not None:
            tables += [self.elf.symtab, self.elf.dynsym]
        for table in tables:
            if table is not None and (found := table.lookup(vaddr)) is not None:
                return found
        return None

    def line_file(self) -> str | None:
        """The file whose DWARF gives lines: the debug file, or the file."""
        for f in (self.debug, self.elf):
            if f is not None and f.has_lines:
                return f.path
        return None


@dataclass(frozen=True)
class _Mapping:
    start: int
    end: int
    offset: int
    key: tuple[str, int, str]  # (device, inode, path): one object
    path: str
    deleted: bool


_lock = threading.RLock()  # symbolize() and close()
_objects: dict[tuple[str, int, str], _Object] = {}
_warned: set[str] = set()


def _read_maps() -> list[_Mapping]:
    """File-backed mappings of this process, by address."""
    out = []
    with open("/proc/self/maps", encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            parts = line.rstrip("\n").split(maxsplit=5)
            if len(parts) < 6 or not parts[5].startswith("/") or parts[4] == "0":
                continue  # anonymous, [heap], [stack], [vdso], ...
            lo, _, hi = parts[0].partition("-")
            path, deleted = parts[5], False
            if path.endswith(" (deleted)"):
                path, deleted = path[: -len(" (deleted)")], True
                if path == "/dev/zero" or path.startswith("/SYSV"):
                    continue  # shared anonymous memory, System V shared memory
            out.append(
                _Mapping(
                    int(lo, 16),
                    int(hi, 16),
                    int(parts[2], 16),
                    (parts[3], int(parts[4]), path),
                    os.fsdecode(os.fsencode(path)),
                    deleted,
                )
            )
    out.sort(key=lambda m: m.start)
    return out


def _same_file(path: str, dev: str, inode: int) -> bool:
    """Whether ``path`` still names the file mapped from device ``dev``
    (``major:minor`` in hex) and ``inode``."""
    try:
        st = os.stat(path)
    except OSError:
        return False
    major, _, minor = dev.partition(":")
    return st.st_ino == inode and (os.major(st.st_dev), os.minor(st.st_dev)) == (
        int(major, 16),
        int(minor, 16),
    )


def _object_for(m: _Mapping) -> _Object:
    obj = _objects.get(m.key)
    if obj is not None:
        return obj
    read_path = m.path
    if m.deleted or not _same_file(m.path, m.key[0], m.key[1]):
        # deleted or replaced since it was mapped: read the mapped file
        # itself, through /proc (by pid, so that addr2line can open it too)
        read_path = f"/proc/{os.getpid()}/map_files/{m.start:x}-{m.end:x}"
    elf: _ElfFile | None = None
    try:
        if stat.S_ISREG(os.stat(read_path).st_mode):  # no device is opened
            elf = _ElfFile(read_path)
    except (OSError, ValueError, struct.error, zlib.error, IndexError):
        pass
    obj = _Object(os.path.basename(m.path), read_path, elf)
    if elf is not None:
        obj.debug = _find_debug_file(elf)
    _objects[m.key] = obj
    return obj


# --------------------------------------------------------------------------
# Lines, through addr2line


def _warn_once(reason: str, message: str) -> None:
    if reason not in _warned:
        _warned.add(reason)
        warnings.warn(message, SymbolsWarning, stacklevel=4)


def _addr2line_tool() -> str | None:
    return shutil.which("addr2line")


def _no_tool_warning() -> None:
    _warn_once(
        "missing",
        "gc_plugin.symbols: addr2line (binutils) was not found: "
        "native sites show function+offset without file:line",
    )


def _location(text: str) -> tuple[str, int] | None:
    """``file.c:12``, maybe followed by `` (discriminator 3)`` -> ("file.c", 12);
    None for ``??:0``, ``??:?`` or ``file.c:?``."""
    text = text.split(" (discriminator", 1)[0].strip()
    file, _, line = text.rpartition(":")
    if not file or file == "??" or not line.isdigit() or int(line) == 0:
        return None
    return file, int(line)


class _LineServer:
    """``addr2line -s -e FILE`` kept running: it reads the file's DWARF once
    and answers one line per address written (it flushes each answer), so
    later reports pay only for their new addresses. Written and read in
    chunks, so that neither pipe fills while the other side waits."""

    CHUNK = 256

    def __init__(self, tool: str, path: str) -> None:
        self.path = path
        self.proc = subprocess.Popen(
            [tool, "-s", "-e", path],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=dict(os.environ, LC_ALL="C"),
        )
        self.pending = b""

    def lines(self, vaddrs: list[int]) -> dict[int, tuple[str, int] | None]:
        """File and line of each address; raises OSError if the helper
        fails or takes longer than _ADDR2LINE_TIMEOUT for a chunk."""
        assert self.proc.stdin is not None
        out: dict[int, tuple[str, int] | None] = {}
        for i in range(0, len(vaddrs), self.CHUNK):
            chunk = vaddrs[i : i + self.CHUNK]
            self.proc.stdin.write(b"".join(b"%#x\n" % v for v in chunk))
            self.proc.stdin.flush()
            for v, text in zip(chunk, self._read(len(chunk)), strict=True):
                out[v] = _location(text)
        return out

    def _read(self, n: int) -> list[str]:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        data = self.pending
        deadline = time.monotonic() + _ADDR2LINE_TIMEOUT
        while data.count(b"\n") < n:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise OSError(f"addr2line timed out on {self.path}")
            more = os.read(fd, 1 << 16)
            if not more:
                raise OSError(f"addr2line ended on {self.path} (status {self.proc.poll()})")
            data += more
        lines = data.split(b"\n")
        self.pending = b"\n".join(lines[n:])
        return [line.decode("utf-8", "replace") for line in lines[:n]]

    def close(self) -> None:
        with contextlib.suppress(OSError):
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


_servers: dict[str, _LineServer | None] = {}  # line file -> helper (None: failed)
_servers_pid = 0  # the process that started them
_atexit_registered = False


def _lines(path: str, vaddrs: list[int]) -> dict[int, tuple[str, int] | None]:
    """File and line of each virtual address of the file ``path``."""
    global _servers_pid, _atexit_registered
    if _servers_pid != os.getpid():
        # a forked child must not talk to its parent's helpers: forget them
        # (its copies of the pipes close when collected; the parent's stay)
        _servers.clear()
        _servers_pid = os.getpid()
    if path in _servers and _servers[path] is None:
        return {}
    server = _servers.get(path)
    if server is None:
        tool = _addr2line_tool()
        if tool is None:
            _no_tool_warning()
            return {}
        try:
            server = _LineServer(tool, path)
        except OSError as e:
            _warn_once("failed", f"gc_plugin.symbols: could not run addr2line: {e}")
            _servers[path] = None
            return {}
        _servers[path] = server
        if not _atexit_registered:
            atexit.register(close)
            _atexit_registered = True
    try:
        return server.lines(vaddrs)
    except (OSError, ValueError) as e:
        _warn_once("failed", f"gc_plugin.symbols: {e}: sites without file:line")
        server.close()
        _servers[path] = None
        return {}


def _dwarf_functions(path: str, vaddrs: list[int]) -> dict[int, str]:
    """The function that DWARF says holds each address, for addresses no
    symbol holds: ``addr2line -a -f -i``, whose last frame of an address
    is the outermost function (the others are inlined into it). One run,
    for these few addresses only."""
    tool = _addr2line_tool()
    if tool is None:
        return {}
    try:
        run = subprocess.run(
            [tool, "-a", "-f", "-i", "-e", path],
            input="".join(f"{v:#x}\n" for v in vaddrs),
            capture_output=True,
            text=True,
            errors="replace",
            env=dict(os.environ, LC_ALL="C"),
            timeout=_ADDR2LINE_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return {}
    found: dict[int, str] = {}
    addr: int | None = None
    lines = run.stdout.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("0x"):  # -a: an address, then its frames
            addr = int(lines[i], 16)
            i += 1
        else:  # a frame: function, then location
            if addr is not None and lines[i] != "??":
                found[addr] = lines[i]
            i += 2
    return found


def close() -> None:
    """End the addr2line helpers (a later symbolize() starts them again).
    Also run at exit."""
    with _lock:
        if _servers_pid == os.getpid():
            for server in _servers.values():
                if server is not None:
                    server.close()
        _servers.clear()


# --------------------------------------------------------------------------
# The entry point


def _sites(obj: _Object, vaddrs: list[int]) -> None:
    """Find the sites of return addresses ``vaddrs`` of ``obj`` (into
    obj.sites): the function and line are those of the call, at
    ``vaddr - 1``; the offset is the return address's own."""
    path = obj.line_file()
    lines = _lines(path, [v - 1 for v in vaddrs]) if path else {}
    symbols = {v: obj.symbol(v - 1) for v in vaddrs}
    unnamed = [v - 1 for v, s in symbols.items() if s is None]
    functions = _dwarf_functions(path, unnamed) if path and unnamed else {}
    for v in vaddrs:
        where = lines.get(v - 1)
        suffix = f" ({where[0]}:{where[1]})" if where else ""
        symbol = symbols[v]
        if symbol is not None:
            site = f"{symbol[0]}+{v - symbol[1]:#x}{suffix}"
        elif v - 1 in functions:
            # no symbol, but the debug info names the function; its start
            # is not known this way: the object's offset instead
            site = f"{functions[v - 1]} at {obj.name}+{v:#x}{suffix}"
        else:
            site = f"{obj.name}+{v:#x}{suffix}"
        obj.sites[v] = site


def symbolize(addresses: Iterable[int]) -> dict[int, str]:
    """Each return address of this process -> its site:
    ``"function+0xOFF (file.c:LINE)"``, ``"function+0xOFF"`` without line
    information, ``"module.so+0xOFF"`` (a virtual address of the object)
    when no symbol holds it, ``"0x7f..."`` when no file is mapped there.

    The addresses are taken as return addresses: the function and line are
    those of the call before (``address - 1``); the offset is the return
    address's own, as backtraces show it. For report time only: it reads
    files and talks to addr2line."""
    wanted = sorted({int(a) for a in addresses})
    if not wanted:
        return {}
    with _lock:
        maps = _read_maps()
        starts = [m.start for m in maps]
        out: dict[int, str] = {}
        todo: dict[int, tuple[_Object, int]] = {}  # address -> (object, vaddr)
        for a in wanted:
            i = bisect.bisect_right(starts, a) - 1
            if i < 0 or a >= maps[i].end:
                out[a] = f"{a:#x}"
                continue
            m = maps[i]
            obj = _object_for(m)
            bias = obj.bias(m.start, m.offset)
            if bias is None:  # no ELF file, or not in a loaded segment
                out[a] = f"{obj.name}+{a - m.start + m.offset:#x}"
                continue
            vaddr = a - bias
            site = obj.sites.get(vaddr)
            if site is not None:
                out[a] = site
            else:
                todo[a] = (obj, vaddr)
        by_object: dict[int, tuple[_Object, list[int]]] = {}
        for obj, vaddr in todo.values():
            by_object.setdefault(id(obj), (obj, []))[1].append(vaddr)
        for obj, vaddrs in by_object.values():
            _sites(obj, vaddrs)
        for a, (obj, vaddr) in todo.items():
            out[a] = obj.sites[vaddr]
        return out
