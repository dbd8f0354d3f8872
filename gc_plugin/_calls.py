"""Glue between the typed wrappers and the compiled module ``gc_plugin._native``.

Loads the compiled core, installs the misuse handler, and turns the core's
misuse reports and result codes into exceptions; also converts and checks
the integers the wrappers pass.  Implements the "Errors" section of
docs/design/python-api.md (how misuse reaches Python) and docs/design/architecture.md §Build.
"""

from __future__ import annotations

from gc_plugin.errors import InvalidArgumentError, MisuseError, error_for

TYPE_CHECKING = False  # typing is not imported at run time (start-up cost)
if TYPE_CHECKING:
    from typing import Any, NoReturn

try:
    from gc_plugin._native import ffi, lib
except ModuleNotFoundError as exc:  # pragma: no cover - exercised in a child process
    if exc.name != "gc_plugin._native":
        raise
    raise ModuleNotFoundError(
        "gc_plugin's compiled core (gc_plugin._native) is not built: this looks like "
        "a source tree that was never installed. Build it with `pip install -e .` "
        "(or `pip install .`) from the top of the clone, then import gc_plugin again.",
        name=exc.name,
    ) from exc

__all__ = [
    "ffi",
    "lib",
    "take_misuse",
    "check_misuse",
    "check",
    "invalid",
    "size_value",
    "address_value",
    "Keywords",
    "as_int",
    "as_ptr",
    "variety",
]

# Misuse reports of the core land in a per-thread buffer; the wrappers
# collect them after each call and raise MisuseError.  A failed internal
# invariant is not misuse: it prints its report and aborts the process.
lib.gcp_py_install_handler()

_MESSAGE_SIZE = 1536
_SIZE_MAX = (1 << (8 * ffi.sizeof("size_t"))) - 1
_ADDR_MAX = (1 << (8 * ffi.sizeof("uintptr_t"))) - 1


def take_misuse() -> str | None:
    """The calling thread's pending misuse message (and clear it), or None."""
    if not lib.gcp_py_misuse_pending():
        return None
    buf = ffi.new("char[]", _MESSAGE_SIZE)
    lib.gcp_py_take_misuse(buf, _MESSAGE_SIZE)
    text: bytes = ffi.string(buf)
    return text.decode("utf-8", "replace")


def check_misuse() -> None:
    """Raise MisuseError if the last core call on this thread reported misuse."""
    message = take_misuse()
    if message is not None:
        raise MisuseError(message)


def check(res: int, context: str) -> None:
    """After a core call returning ``res``: misuse first, then the result code."""
    check_misuse()
    if res != lib.MPS_RES_OK:
        raise error_for(res, context)


def invalid(message: str) -> NoReturn:
    """Raise the error for misuse detected before calling the core."""
    raise InvalidArgumentError(message)


def size_value(value: object, what: str) -> int:
    """``value`` as a size_t, or raise TypeError / InvalidArgumentError."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, not {type(value).__name__}")
    if value < 0 or value > _SIZE_MAX:
        invalid(f"{what} {value} is not a valid size (0 to {_SIZE_MAX})")
    return value


def address_value(value: object, what: str = "address") -> int:
    """``value`` as an address, or raise TypeError / InvalidArgumentError."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, not {type(value).__name__}")
    if value < 0 or value > _ADDR_MAX:
        invalid(f"{what} {value} is not a valid address")
    return value


class Keywords:
    """The optional keywords of one core create call, on their way in.

    Each method converts one keyword for the call: a keyword given (not
    None) is converted and sets its ``bit`` in ``have``; one left out passes
    zero and leaves its bit clear, so that the core uses its default.
    """

    def __init__(self) -> None:
        self.have = 0

    def size(self, value: int | None, what: str, bit: int) -> int:
        """A size keyword named ``what`` (see size_value)."""
        if value is None:
            return 0
        converted = size_value(value, what)
        self.have |= bit
        return converted

    def fraction(self, value: float | None, bit: int) -> float:
        """A float keyword."""
        if value is None:
            return 0.0
        converted = float(value)
        self.have |= bit
        return converted

    def flag(self, value: bool | None, bit: int) -> int:
        """A boolean keyword, passed as 0 or 1."""
        if value is None:
            return 0
        self.have |= bit
        return int(bool(value))


def as_int(pointer: Any) -> int:
    """A cdata pointer as an integer address."""
    return int(ffi.cast("uintptr_t", pointer))


def as_ptr(address: int) -> Any:
    """An integer address as a ``mps_addr_t`` cdata."""
    return ffi.cast("mps_addr_t", address)


def variety() -> str:
    """The checking variety the compiled core was built in."""
    text: bytes = ffi.string(lib.gcp_variety())
    return text.decode("ascii")
