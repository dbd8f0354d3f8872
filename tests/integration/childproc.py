"""The child processes of the integration tests: what the run_child
fixture (conftest.py) returns, and the checks made on it."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

# signs in a child's stderr that a block went to the wrong allocator
BAD_FREE_SIGNS = (
    "invalid pointer",
    "double free",
    "corrupted",
    "free(): ",
    "realloc(): ",
    "munmap_chunk",
    "Fatal Python error",
    "Segmentation fault",
)


@dataclass
class Child:
    """A finished child process."""

    args: list[str]
    returncode: int
    stdout: str
    stderr: str

    def results(self) -> list[object]:
        """The objects the child emitted with gcp_childlib.emit."""
        return [
            json.loads(line[len("RESULT ") :])
            for line in self.stdout.splitlines()
            if line.startswith("RESULT ")
        ]

    def result(self) -> object:
        (only,) = self.results()
        return only

    def describe(self) -> str:
        return (
            f"child {self.args} exited with {self.returncode}\n"
            f"--- stdout ---\n{self.stdout}\n--- stderr ---\n{self.stderr}"
        )

    def assert_clean(self) -> None:
        """Exited 0 with no sign of a block freed by the wrong allocator."""
        assert self.returncode == 0, self.describe()
        for sign in BAD_FREE_SIGNS:
            assert sign not in self.stderr, self.describe()


RunChild = Callable[..., Child]
