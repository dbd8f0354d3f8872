"""Unit tests of the Python layer (gc_plugin) over the native core.

A package so that the test modules' names (unit.test_arena, ...) cannot
clash with same-named test files elsewhere under tests/, and so that the
modules can share tests/unit/model.py through relative imports.
"""
