"""CPython's own regression tests give the same results with the whole heap in
gc_plugin's pool as without it.

For each regrtest module below, ``python -m test`` runs twice with this venv's
interpreter (``sys.executable``), at the same time: once without
``GC_PLUGIN_MANAGE`` (the baseline) and once with ``GC_PLUGIN_MANAGE='*'``,
which makes the ``gc_plugin-autostart.pth`` of the venv route every
PyMem_Malloc/PyObject_Malloc allocation of the process into gc_plugin's pool.
The run with the plugin must pass (exit status 0, ``Result: SUCCESS``), with no
"environment altered" (``--fail-env-changed``), and every test case must end
exactly as it does in the baseline: passed, or skipped for the same reason
(compared through regrtest's ``--junit-xml``).

The tests run inside the regrtest process itself (no ``-j``: pytest-xdist
spreads the modules, one pytest test each).  A few lines put in front of
regrtest check, in that very process, that the plugin is active with
``heap == 'all'`` (and, for the baseline, that gc_plugin was not loaded at
all), then hand over to ``runpy.run_module("test")``, which is what
``python -m test`` does.  Interpreters that the tests start themselves
(``test.support.script_helper``, with ``-I``) inherit the environment; the
last test here checks that the plugin is active in those too.

``-u cpu`` enables the CPU-heavy test cases (in test_pickle, test_weakref and
test_unicode), which allocate the most; the other regrtest resources stay
off.  About 40 s of CPU time per side on this machine (Python 3.11.7).

No module is skipped: with Python 3.11.7 on this machine every module listed
passes without the plugin.  A module that fails without the plugin makes its
test fail with a message saying so; it is not skipped automatically.  Only an
interpreter without CPython's test package skips this whole file.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import textwrap
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest

# Longest first, so that pytest-xdist does not start a long one last.
MODULES = [
    "test_threading",
    "test_weakref",
    "test_pickle",
    "test_set",
    "test_gc",
    "test_json",
    "test_bytes",
    "test_unicode",
    "test_array",
    "test_dict",
    "test_list",
]

REGRTEST_OPTIONS = ["-u", "cpu", "--fail-env-changed", "--timeout", "300"]
RUN_TIMEOUT = 600  # seconds for one regrtest run (normal: 1 to 15 s)
TAIL_LINES = 150  # of regrtest's output, shown on failure
WRAPPER_REFUSED = 97  # exit status of the wrapper when the plugin state is wrong

# Runs in the regrtest process, before regrtest: checks that the plugin is (or
# is not) active in this very process, then runs regrtest as `python -m test`.
# It imports nothing new: gc_plugin.hook is already loaded by the .pth file
# when the plugin is on, and is not touched when it is off.
WRAPPER = textwrap.dedent(
    """
    import sys
    want_plugin = sys.argv.pop(1) == "plugin"
    hook = sys.modules.get("gc_plugin.hook")
    if want_plugin:
        status = hook.status() if hook is not None else None
        ok = status is not None and status.active and status.heap == "all"
        print("gc_plugin in the regrtest process:", status, flush=True)
    else:
        ok = "gc_plugin" not in sys.modules
        print("gc_plugin in the regrtest process: not loaded" if ok
              else "gc_plugin in the regrtest process: LOADED", flush=True)
    if not ok:
        sys.exit(%d)
    print("gc_plugin check passed:", "active, heap 'all'" if want_plugin else "not loaded",
          flush=True)
    import runpy
    runpy.run_module("test", run_name="__main__", alter_sys=True)
    """
    % WRAPPER_REFUSED
)

if importlib.util.find_spec("test.libregrtest") is None:
    pytest.skip(
        f"CPython's test package (test.libregrtest) is not installed for {sys.executable}; "
        "nothing to run (an installation matter, not gc_plugin's)",
        allow_module_level=True,
    )


# Left out of both runs: gc_plugin's own variables (GC_PLUGIN_REPORT would
# write to the stderr of every interpreter the tests start) and those that
# change CPython's allocators, so both runs use the default ones.
DROPPED_VARIABLES = ("GC_PLUGIN_", "PYTHONMALLOC", "PYTHONTRACEMALLOC", "PYTHONDEVMODE")


def _environment(plugin: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(DROPPED_VARIABLES)}
    if plugin:
        env["GC_PLUGIN_MANAGE"] = "*"
    return env


@dataclass
class Run:
    label: str
    returncode: int | None  # None: killed after RUN_TIMEOUT
    output: str
    seconds: float
    junit: Path

    def tail(self) -> str:
        lines = self.output.splitlines()[-TAIL_LINES:]
        return f"--- last {len(lines)} lines of regrtest's output {self.label} ---\n" + "\n".join(
            lines
        )


def _run_both(module: str, tmp_path: Path) -> tuple[Run, Run]:
    """Runs regrtest for module without and with the plugin, concurrently."""
    started = {}
    for plugin in (False, True):
        name = "plugin" if plugin else "baseline"
        work = tmp_path / name
        work.mkdir()
        out = open(work / "output.txt", "w+")  # noqa: SIM115 - closed when the run is read
        junit = work / "junit.xml"
        cmd = [sys.executable, "-c", WRAPPER, name, *REGRTEST_OPTIONS]
        cmd += ["--junit-xml", str(junit), module]
        proc = subprocess.Popen(
            cmd,
            cwd=work,
            env=_environment(plugin),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        started[plugin] = (proc, out, junit, time.monotonic())
    runs = []
    for plugin in (False, True):
        proc, out, junit, t0 = started[plugin]
        returncode: int | None
        try:
            returncode = proc.wait(timeout=max(1.0, RUN_TIMEOUT - (time.monotonic() - t0)))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            returncode = None
        seconds = time.monotonic() - t0
        out.seek(0)
        output = out.read()
        out.close()
        label = "WITH gc_plugin (GC_PLUGIN_MANAGE='*')" if plugin else "without gc_plugin"
        runs.append(Run(label, returncode, output, seconds, junit))
    return runs[0], runs[1]


def _outcomes(junit: Path) -> dict[str, tuple[str, str | None]]:
    """Test case name -> (outcome, skip reason) from regrtest's JUnit XML."""
    outcomes: dict[str, tuple[str, str | None]] = {}
    for case in ET.parse(junit).iter("testcase"):
        name = case.get("name", "?")
        kind, reason = "passed", None
        for child in case:
            if child.tag in ("failure", "error"):
                kind, reason = child.tag, None
                break
            if child.tag == "skipped":
                kind = "skipped"
                reason = re.sub(r"0x[0-9a-fA-F]+", "0x?", child.text or "")
        outcomes[name] = (kind, reason)
    return outcomes


def _describe(run: Run) -> str:
    if run.returncode is None:
        return f"killed after {RUN_TIMEOUT} s (hang?)"
    if run.returncode == WRAPPER_REFUSED:
        return "the plugin state in the regrtest process was not the one expected"
    if run.returncode < 0:
        return f"killed by signal {-run.returncode} (crash)"
    meaning = {
        0: "all passed",
        2: "test failures",
        3: "environment altered (--fail-env-changed)",
        4: "no tests ran",
    }.get(run.returncode, "regrtest error")
    return f"exit status {run.returncode}: {meaning}"


@pytest.mark.parametrize("module", MODULES)
def test_regrtest_module_same_with_plugin(module: str, tmp_path: Path) -> None:
    baseline, plugin = _run_both(module, tmp_path)
    print(
        f"{module}: without gc_plugin {baseline.seconds:.1f} s, {_describe(baseline)}; "
        f"with gc_plugin {plugin.seconds:.1f} s, {_describe(plugin)}"
    )

    # The baseline must be a clean run without the plugin, or there is no
    # reference to compare with.  A failure here is not gc_plugin's, but it
    # is not hidden either: find out why and fix the environment.
    if not (baseline.returncode == 0 and "Result: SUCCESS" in baseline.output):
        pytest.fail(
            f"regrtest {module} fails WITHOUT gc_plugin ({_describe(baseline)}; "
            f"with it: {_describe(plugin)}), so the comparison cannot be made on this "
            f"machine\n{baseline.tail()}",
            pytrace=False,
        )

    if not (plugin.returncode == 0 and "Result: SUCCESS" in plugin.output):
        pytest.fail(
            f"regrtest {module} with GC_PLUGIN_MANAGE='*': {_describe(plugin)}, "
            f"while it passes without gc_plugin\n{plugin.tail()}",
            pytrace=False,
        )
    if "gc_plugin check passed: active, heap 'all'" not in plugin.output:
        pytest.fail(f"gc_plugin was not active in the regrtest process\n{plugin.tail()}")

    # Same test cases, same outcomes, same skip reasons.
    before, after = _outcomes(baseline.junit), _outcomes(plugin.junit)
    if not before:
        pytest.fail(f"no test cases in the baseline's JUnit XML\n{baseline.tail()}")
    differences = [
        f"  {name}: without {before.get(name, ('absent', None))}, "
        f"with {after.get(name, ('absent', None))}"
        for name in sorted(before.keys() | after.keys())
        if before.get(name) != after.get(name)
    ]
    if differences:
        pytest.fail(
            f"regrtest {module}: test cases that end differently with gc_plugin:\n"
            + "\n".join(differences)
            + "\n"
            + plugin.tail(),
            pytrace=False,
        )


# Runs in a child interpreter started the way regrtest's tests start theirs
# (test.support.script_helper: `-X faulthandler -I`, environment inherited).
CHILD_PROBE = textwrap.dedent(
    """
    import sys
    assert "gc_plugin._autostart" in sys.modules, "the .pth file did not start gc_plugin"
    import gc_plugin
    before = gc_plugin.summary().blocks
    keep = [object() for _ in range(10000)]
    after = gc_plugin.summary().blocks
    status = gc_plugin.status()
    print(status)
    print("active", status.active, "heap", status.heap)
    print("routed blocks grew by", after - before)
    """
)


def test_plugin_active_in_interpreters_the_tests_start(tmp_path: Path) -> None:
    code = textwrap.dedent(
        f"""
        import os, sys
        assert os.environ.get("GC_PLUGIN_MANAGE") == "*"
        from test.support.script_helper import assert_python_ok
        rc, out, err = assert_python_ok("-c", {CHILD_PROBE!r})
        sys.stdout.write(out.decode())
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=_environment(plugin=True),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "active True heap all" in result.stdout, result.stdout
    grew = re.search(r"routed blocks grew by (-?\d+)", result.stdout)
    assert grew is not None and int(grew.group(1)) >= 10000, result.stdout
