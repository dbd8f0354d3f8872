"""The pytest plugin (gc_plugin.pytest_plugin): ``pytest
--gc-plugin-leaks=MOD`` fails exactly the tests after which MOD lost
blocks, names their sites, spares tests marked gc_plugin_allow_leaks, and
never fails a clean test.  Runs pytest in a child process."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from .childproc import RunChild

pytestmark = pytest.mark.subprocess

TESTS = """
import pytest
import gcp_leaky as m

def test_clean():
    m.keep_static(2)           # kept: reachable, not a leak
    assert sum(range(10)) == 45

def test_leaks_buffers():
    m.drop(3, 40)

def test_clean_after_a_leaky_one():
    m.keep_malloc(2)

def test_leaks_a_list():
    m.drop_list(5)

@pytest.mark.gc_plugin_allow_leaks
def test_exempt():
    m.drop(2, 30)

def test_fails_for_its_own_reason():
    assert False, "its own failure"

def test_clean_at_the_end():
    pass
"""


def _outcomes(junit: Path) -> dict[str, str]:
    found = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        failure = case.find("failure")
        found[case.get("name", "")] = (
            "passed" if failure is None else failure.get("message", "") or "failed"
        )
    return found


def test_the_plugin_fails_exactly_the_leaking_tests(run_child: RunChild, tmp_path: Path) -> None:
    (tmp_path / "test_target.py").write_text(TESTS)
    junit = tmp_path / "junit.xml"
    child = run_child(
        args=[
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            "--gc-plugin-leaks=gcp_leaky",
            f"--junitxml={junit}",
            "test_target.py",
        ]
    )
    assert child.returncode == 1, child.describe()
    got = _outcomes(junit)
    assert got["test_clean"] == "passed"
    assert got["test_clean_after_a_leaky_one"] == "passed"
    assert got["test_exempt"] == "passed"
    assert got["test_clean_at_the_end"] == "passed"
    assert "its own failure" in got["test_fails_for_its_own_reason"]
    assert "lost blocks of gcp_leaky" in got["test_leaks_buffers"]
    assert "lost blocks of gcp_leaky" in got["test_leaks_a_list"]
    assert "definite: 3 block(s), 120 bytes" in child.stdout, child.stdout
    assert "indirect: 4 block(s), 192 bytes" in child.stdout, child.stdout
    assert "leaky_alloc+0x" in child.stdout, child.stdout


def test_without_the_option_the_plugin_is_inert(run_child: RunChild, tmp_path: Path) -> None:
    (tmp_path / "test_target.py").write_text(TESTS)
    junit = tmp_path / "junit.xml"
    child = run_child(
        args=[
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            f"--junitxml={junit}",
            "test_target.py",
        ]
    )
    got = _outcomes(junit)
    assert [n for n, o in got.items() if o != "passed"] == ["test_fails_for_its_own_reason"]
    assert "gc_plugin" not in child.stdout
