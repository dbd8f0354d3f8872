"""Exceptions of gc_plugin: one class per MPS result code, plus MisuseError.

Implements the "Errors" section of docs/design/python-api.md.  Pure Python:
importing this module does not load the compiled core.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing is not imported at run time (start-up cost)
if TYPE_CHECKING:
    from typing import Any, ClassVar

__all__ = [
    "MPSError",
    "FailError",
    "ResourceError",
    "MemoryLimitError",
    "LimitError",
    "UnimplementedError",
    "MPSIOError",
    "CommitLimitError",
    "ParamError",
    "MisuseError",
    "InvalidArgumentError",
    "RESULT_NAMES",
    "result_name",
    "error_class",
    "error_for",
]

#: Result code -> its name in mps.h (docs/design/interface.md §Result codes).
RESULT_NAMES: dict[int, str] = {
    0: "MPS_RES_OK",
    1: "MPS_RES_FAIL",
    2: "MPS_RES_RESOURCE",
    3: "MPS_RES_MEMORY",
    4: "MPS_RES_LIMIT",
    5: "MPS_RES_UNIMPL",
    6: "MPS_RES_IO",
    7: "MPS_RES_COMMIT_LIMIT",
    8: "MPS_RES_PARAM",
}

_RESULT_MEANINGS: dict[int, str] = {
    1: "the operation failed",
    2: "a needed resource (such as address space) could not be obtained",
    3: "memory could not be obtained",
    4: "an internal limitation was reached",
    5: "not implemented",
    6: "an input/output error occurred",
    7: "the arena's commit limit would be exceeded",
    8: "a parameter was invalid",
}


def result_name(code: int) -> str:
    """The mps.h name of a result code, e.g. ``"MPS_RES_COMMIT_LIMIT"``."""
    return RESULT_NAMES.get(code, f"MPS_RES_UNKNOWN_{code}")


class MPSError(Exception):
    """Base of every error that carries an MPS result code.

    ``code`` is the numeric result code and ``name`` its mps.h name.
    """

    _CODE: ClassVar[int] = 1

    code: int
    name: str

    def __init_subclass__(cls, code: int | None = None, **kwargs: Any) -> None:
        # ``class FailError(MPSError, code=1)`` sets the code its instances carry.
        super().__init_subclass__(**kwargs)
        if code is not None:
            cls._CODE = code

    def __init__(self, message: str = "", code: int | None = None) -> None:
        super().__init__(message)
        self.code = type(self)._CODE if code is None else code
        self.name = result_name(self.code)
        self.message = message


class FailError(MPSError, code=1):
    """MPS_RES_FAIL (1): the operation failed."""


class ResourceError(MPSError, code=2):
    """MPS_RES_RESOURCE (2): a non-memory resource (address space) ran out."""


class MemoryLimitError(MPSError, code=3):
    """MPS_RES_MEMORY (3): memory could not be obtained."""


class LimitError(MPSError, code=4):
    """MPS_RES_LIMIT (4): an internal limitation was reached."""


class UnimplementedError(MPSError, code=5):
    """MPS_RES_UNIMPL (5): not implemented."""


class MPSIOError(MPSError, code=6):
    """MPS_RES_IO (6): an input/output error."""


class CommitLimitError(MPSError, code=7):
    """MPS_RES_COMMIT_LIMIT (7): the arena's commit limit would be exceeded."""


class ParamError(MPSError, code=8):
    """MPS_RES_PARAM (8): an invalid parameter."""


class MisuseError(MPSError, code=8):
    """The core detected client misuse (foreign pointer, double free, ...).

    The message is the core's own, naming the problem.  ``code`` is
    MPS_RES_PARAM.  The core backed out without changing anything.
    """


class InvalidArgumentError(MisuseError, ValueError):
    """Misuse caught in Python before reaching the core: a value that cannot
    be passed at all (a negative size, an out-of-range offset, an object
    that was already destroyed...).  It is both a MisuseError and a
    ValueError."""


#: Result code -> the class of its exceptions (MisuseError is raised only
#: for misuse, never for a result code).
_CLASSES: dict[int, type[MPSError]] = {
    cls._CODE: cls
    for cls in (
        FailError,
        ResourceError,
        MemoryLimitError,
        LimitError,
        UnimplementedError,
        MPSIOError,
        CommitLimitError,
        ParamError,
    )
}


def error_class(code: int) -> type[MPSError]:
    """The exception class for a (non-zero) result code."""
    return _CLASSES.get(code, MPSError)


def error_for(code: int, context: str) -> MPSError:
    """An exception for result ``code`` returned by the operation ``context``."""
    meaning = _RESULT_MEANINGS.get(code, "unknown result code")
    return error_class(code)(f"{context}: {result_name(code)}: {meaning}", code)
