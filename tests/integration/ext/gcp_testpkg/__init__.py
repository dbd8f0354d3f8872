"""A package whose extension submodule _ext is managed by the prefix "gcp_testpkg"."""
