from setuptools import setup

setup(cffi_modules=["gc_plugin/_build.py:ffibuilder"])
