"""The pytest plugin: fail every test after which an extension lost blocks.

``pytest --gc-plugin-leaks=MOD[,MOD...]`` activates the allocator hook for
those modules before collection (so modules the test files import are
managed from their first allocation) and checks for leaks around each
test: a test fails if, after it, there are more definite or indirect lost
blocks attributed to those modules, at some site, than before it; the
failure lists the sites.  ``@pytest.mark.gc_plugin_allow_leaks`` exempts a
test.  Installed with the package (entry point ``pytest11``); inert unless
the option is given.  Implements docs/design/leaks.md (the pytest plugin).
"""

from __future__ import annotations

from collections.abc import Generator

import pytest

__all__ = ["pytest_addoption", "pytest_configure", "pytest_runtest_call"]

_MARKER = "gc_plugin_allow_leaks"

# (kind, module, site, type) -> (blocks, bytes)
_Counts = dict[tuple[str, str | None, str, str | None], tuple[int, int]]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gc_plugin", "gc_plugin leak checks")
    group.addoption(
        "--gc-plugin-leaks",
        metavar="MOD[,MOD...]",
        default=None,
        help="manage these extension modules and fail each test after which they lost blocks",
    )


class _LeakChecker:
    """The state of one session's checks."""

    def __init__(self, modules: list[str]) -> None:
        self.modules = modules

    def _ours(self, module: str | None) -> bool:
        m = module or ""
        return any(m == name or m.startswith(name + ".") for name in self.modules)

    def lost(self) -> _Counts:
        from gc_plugin.leak_finder import leaks

        counts: _Counts = {}
        for s in leaks().sites:
            if s.kind in ("definite", "indirect") and self._ours(s.module):
                counts[(s.kind, s.module, s.site, s.type_name)] = (s.blocks, s.bytes)
        return counts

    @staticmethod
    def new(before: _Counts, after: _Counts) -> list[str]:
        """The sites with more lost blocks after than before, described."""
        lines = []
        for key, (blocks, nbytes) in sorted(after.items(), key=lambda kv: -kv[1][1]):
            old_blocks, old_bytes = before.get(key, (0, 0))
            if blocks > old_blocks:
                kind, module, site, type_name = key
                what = " / ".join(x for x in (module, site, type_name) if x)
                lines.append(
                    f"  {kind}: {blocks - old_blocks} block(s), {nbytes - old_bytes} bytes  {what}"
                )
        return lines


_checker: _LeakChecker | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _checker
    config.addinivalue_line(
        "markers", f"{_MARKER}: do not fail this test for leaks (--gc-plugin-leaks)"
    )
    value = config.getoption("--gc-plugin-leaks")
    if not value:
        return
    modules = [m.strip() for m in value.split(",") if m.strip()]
    if not modules:
        raise pytest.UsageError("--gc-plugin-leaks: give one or more module names")
    from gc_plugin.hook import activate

    # before collection: test files import them next
    activate(manage=modules, leak_tracking=True)
    _checker = _LeakChecker(modules)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    checker = _checker
    if checker is None or item.get_closest_marker(_MARKER) is not None:
        return (yield)
    before = checker.lost()
    result = yield
    grown = checker.new(before, checker.lost())
    if grown:
        pytest.fail(
            "gc_plugin: this test lost blocks of "
            + ", ".join(checker.modules)
            + " (--gc-plugin-leaks):\n"
            + "\n".join(grown),
            pytrace=False,
        )
    return result
