"""Builds and runs every C test program in tests/native against the core.

Each tests/native/*.c is a standalone program that uses only the public
headers in native/include.  It is compiled and linked with the static
library (native/Makefile) in the cool, hot and rash varieties and in the
cool variety under AddressSanitizer and UndefinedBehaviorSanitizer, run without
arguments (a program picks and prints its own seed), and must exit 0.
tests/native/registers/test_registers.c (a reference held only in a
callee-saved register) is built separately with gcc and clang at -O2 and at
-O3 -fomit-frame-pointer and linked with the cool and hot libraries, and for
AArch64 with a cross compiler, run under qemu-user.
tests/native/test_thread_stress.c is also run many times with different
seeds, in the hot variety and under ThreadSanitizer.
Each xdist worker builds each variety's library once, in a private
directory, so that parallel workers never race on native/build.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
NATIVE = REPO_ROOT / "native"
PROGRAMS = sorted((REPO_ROOT / "tests" / "native").glob("*.c"))
VARIETIES = ("cool", "hot", "rash", "asan")
# Extra flags a program needs to link with a variety's library.
LINK_FLAGS = {
    "asan": ["-fsanitize=address,undefined", "-fno-sanitize-recover=undefined"],
    "tsan": ["-fsanitize=thread"],
}
REGISTER_PROGRAM = REPO_ROOT / "tests" / "native" / "registers" / "test_registers.c"
REGISTER_BUILDS = {
    "gcc-O2": ("gcc", ["-O2"]),
    "gcc-O3-nofp": ("gcc", ["-O3", "-fomit-frame-pointer"]),
    "clang-O2": ("clang", ["-O2"]),
    "clang-O3-nofp": ("clang", ["-O3", "-fomit-frame-pointer"]),
}
# The register test is also built for AArch64 with a cross compiler and run
# under qemu-user (.ci/run installs both on Debian): the signal frame and the
# callee-saved registers (d8-d15 among them) differ there.
AARCH64_CC = "aarch64-linux-gnu-gcc"
AARCH64_RUN = "qemu-aarch64"
AARCH64_BUILDS = {"O2": ["-O2"], "O3-nofp": ["-O3", "-fomit-frame-pointer"]}
# The thread stress program, run this many times (each with its own seed)
# per variety; "tsan" is the cool variety under ThreadSanitizer.
STRESS_PROGRAM = REPO_ROOT / "tests" / "native" / "test_thread_stress.c"
STRESS_RUNS = {"hot": 20, "tsan": 6}
RUN_TIMEOUT = 300  # seconds per program
OUTPUT_LIMIT = 20000  # characters of output shown on failure


def _env() -> dict[str, str]:
    env = dict(os.environ)
    # The Makefile's per-variety flags apply only when CFLAGS is not given.
    for name in ("CFLAGS", "MAKEFLAGS", "MFLAGS"):
        env.pop(name, None)
    return env


def _tail(text: str) -> str:
    return text if len(text) <= OUTPUT_LIMIT else "...\n" + text[-OUTPUT_LIMIT:]


def _text(data: str | bytes | None) -> str:
    if isinstance(data, bytes):
        return data.decode(errors="replace")
    return data or ""


def _show(result: subprocess.CompletedProcess[str]) -> str:
    return (
        f"command: {' '.join(map(str, result.args))}\nexit status: {result.returncode}\n"
        f"--- stdout ---\n{_tail(result.stdout)}\n--- stderr ---\n{_tail(result.stderr)}"
    )


@pytest.fixture(scope="session")
def native_library(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """Returns a function giving the path of libgcp.a for a variety, built
    on first use into this worker's own temporary directory."""
    built: dict[str, Path] = {}

    def build(variety: str) -> Path:
        if variety not in built:
            if shutil.which("make") is None:
                pytest.fail("make is not installed")
            out = tmp_path_factory.mktemp(f"libgcp-{variety}")
            result = subprocess.run(
                ["make", "-C", str(NATIVE), f"VARIETY={variety}", f"BUILD={out}"],
                capture_output=True,
                text=True,
                env=_env(),
            )
            if result.returncode != 0:
                pytest.fail(
                    f"building the {variety} library failed\n" + _show(result), pytrace=False
                )
            library = out / "libgcp.a"
            if not library.is_file():
                pytest.fail(f"make did not produce {library}\n" + _show(result), pytrace=False)
            built[variety] = library
        return built[variety]

    return build


@pytest.mark.parametrize("variety", VARIETIES)
@pytest.mark.parametrize("program", PROGRAMS, ids=[p.stem for p in PROGRAMS])
def test_native_program(
    program: Path,
    variety: str,
    native_library: Callable[[str], Path],
    tmp_path: Path,
) -> None:
    library = native_library(variety)
    compiler = os.environ.get("CC", "cc")
    if shutil.which(compiler) is None:
        pytest.fail(f"the C compiler {compiler!r} is not installed")
    exe = tmp_path / f"{program.stem}-{variety}"
    compile_cmd = [
        compiler,
        "-std=c11",
        "-O1",
        "-g",
        "-I",
        str(NATIVE / "include"),
        *LINK_FLAGS.get(variety, []),
        str(program),
        str(library),
        "-o",
        str(exe),
        "-lpthread",
        "-lm",
    ]
    _compile_and_run(compile_cmd, exe, f"{program.name} ({variety})", tmp_path)


@pytest.mark.parametrize("variety", ("cool", "hot"))
@pytest.mark.parametrize("build", REGISTER_BUILDS)
def test_register_roots(
    build: str,
    variety: str,
    native_library: Callable[[str], Path],
    tmp_path: Path,
) -> None:
    compiler, flags = REGISTER_BUILDS[build]
    if shutil.which(compiler) is None:
        if compiler == "clang":
            pytest.skip("clang is not installed")
        pytest.fail(f"the C compiler {compiler!r} is not installed")
    library = native_library(variety)
    exe = tmp_path / f"test_registers-{build}-{variety}"
    compile_cmd = [
        compiler,
        "-std=c11",
        *flags,
        "-g",
        "-I",
        str(NATIVE / "include"),
        str(REGISTER_PROGRAM),
        str(library),
        "-o",
        str(exe),
        "-lpthread",
        "-lm",
    ]
    _compile_and_run(compile_cmd, exe, f"{REGISTER_PROGRAM.name} ({build}, {variety})", tmp_path)


@pytest.mark.parametrize("build", AARCH64_BUILDS)
def test_register_roots_aarch64(build: str, tmp_path: Path) -> None:
    """test_registers.c for AArch64 (the cool core compiled from the unity
    file with the cross compiler, linked statically) under qemu-user."""
    missing = [tool for tool in (AARCH64_CC, AARCH64_RUN) if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{' and '.join(missing)} not installed (.ci/run installs them on Debian)")
    core = tmp_path / "mps-aarch64.o"
    result = subprocess.run(
        [
            AARCH64_CC,
            "-std=c11",
            "-O1",
            "-g",
            "-DCONFIG_VAR_COOL",
            "-I",
            str(NATIVE / "include"),
            "-I",
            str(NATIVE / "src"),
            "-c",
            str(NATIVE / "src" / "mps.c"),
            "-o",
            str(core),
        ],
        capture_output=True,
        text=True,
        env=_env(),
    )
    if result.returncode != 0:
        pytest.fail("compiling the core for AArch64 failed\n" + _show(result), pytrace=False)
    exe = tmp_path / f"test_registers-aarch64-{build}"
    compile_cmd = [
        AARCH64_CC,
        "-std=c11",
        *AARCH64_BUILDS[build],
        "-g",
        "-I",
        str(NATIVE / "include"),
        str(REGISTER_PROGRAM),
        str(core),
        "-o",
        str(exe),
        "-static",
        "-lpthread",
        "-lm",
    ]
    _compile_and_run(
        compile_cmd,
        exe,
        f"{REGISTER_PROGRAM.name} (AArch64 {build})",
        tmp_path,
        runner=[AARCH64_RUN],
    )


@pytest.mark.parametrize("variety", STRESS_RUNS)
def test_thread_stress_repeated(
    variety: str, native_library: Callable[[str], Path], tmp_path: Path
) -> None:
    """test_thread_stress.c (threads registering twice, creating allocation
    points and allocating while collections start on any of them: the MPS's
    amcssth pattern, which deadlocked) run many times, each with its own
    seed; under ThreadSanitizer a report fails the run (exit status 66)."""
    compiler = os.environ.get("CC", "cc")
    exe = tmp_path / f"{STRESS_PROGRAM.stem}-{variety}"
    _compile(
        [
            compiler,
            "-std=c11",
            "-O1",
            "-g",
            "-I",
            str(NATIVE / "include"),
            *LINK_FLAGS.get(variety, []),
            str(STRESS_PROGRAM),
            str(native_library(variety)),
            "-o",
            str(exe),
            "-lpthread",
            "-lm",
        ],
        f"{STRESS_PROGRAM.name} ({variety})",
    )
    first = int.from_bytes(os.urandom(4), "little")
    for run in range(STRESS_RUNS[variety]):
        _run(
            exe,
            f"{STRESS_PROGRAM.name} ({variety}, run {run + 1})",
            tmp_path,
            args=[str(first + run)],
        )


def _compile(compile_cmd: list[str], label: str) -> None:
    result = subprocess.run(compile_cmd, capture_output=True, text=True, env=_env())
    if result.returncode != 0:
        pytest.fail(f"compiling {label} failed\n" + _show(result), pytrace=False)


def _compile_and_run(
    compile_cmd: list[str], exe: Path, label: str, tmp_path: Path, runner: list[str] | None = None
) -> None:
    _compile(compile_cmd, label)
    _run(exe, label, tmp_path, runner)


def _run(
    exe: Path,
    label: str,
    tmp_path: Path,
    runner: list[str] | None = None,
    args: list[str] | None = None,
) -> None:
    try:
        run = subprocess.run(
            [*(runner or []), str(exe), *(args or [])],
            capture_output=True,
            text=True,
            errors="replace",
            cwd=tmp_path,
            timeout=RUN_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        out, err = _text(exc.stdout), _text(exc.stderr)
        pytest.fail(
            f"{label} did not finish within {RUN_TIMEOUT} s\n"
            f"--- stdout ---\n{_tail(out)}\n--- stderr ---\n{_tail(err)}",
            pytrace=False,
        )
    if run.returncode != 0:
        pytest.fail(f"{label} failed\n" + _show(run), pytrace=False)
