"""Builds the extension module ``leaky`` (the metadata is in pyproject.toml)."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension("leaky", ["leaky.c"], extra_compile_args=["-O2", "-Wall", "-Wextra"]),
    ],
)
