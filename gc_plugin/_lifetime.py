"""The lifetime protocol shared by every wrapper of a core object.

Implements what docs/design/python-api.md asks of an Arena, a Pool, an
AllocationPoint and an AllocationCache alike: ``destroy()`` is idempotent
and raises MisuseError with the core's message when the core refuses or
reports damage, ``destroyed`` tells, using a destroyed object raises
InvalidArgumentError, and each is a context manager that destroys it on exit.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from types import TracebackType
from typing import Any, Concatenate, ParamSpec, Self

from gc_plugin import _calls
from gc_plugin._calls import check, ffi, invalid
from gc_plugin.errors import MisuseError

__all__ = ["_NativeObject"]

_P = ParamSpec("_P")


class _NativeObject:
    """Owns one core object through ``_handle`` (None once destroyed).

    A subclass says how to destroy the handle (``_destroy_handle``), when the
    core will refuse to (``_backs_out``), what to forget once it is gone
    (``_forget``), and how it is named in messages (``_kind``) and reprs
    (``_repr_fields``).
    """

    _kind: str = "object"
    _handle: Any = None

    # ---- the subclass's part ------------------------------------------------

    def _destroy_handle(self, handle: Any) -> None:
        raise NotImplementedError

    def _backs_out(self, handle: Any) -> bool:
        """Whether the core will refuse to destroy ``handle`` now."""
        return False

    def _forget(self, handle: Any) -> None:
        """Called once ``handle`` is gone from the core."""

    def _repr_fields(self) -> str:
        """What the repr of a live object shows after its class name."""
        return ""

    # ---- lifetime -----------------------------------------------------------

    @property
    def destroyed(self) -> bool:
        """True once destroy() has succeeded."""
        return self._handle is None

    def _live(self) -> Any:
        handle = self._handle
        if handle is None:
            invalid(f"the {self._kind} has been destroyed")
        return handle

    def _destroy(self) -> str | None:
        """Destroy in the core; returns the misuse message, if any.

        The core backs out only when ``_backs_out`` said it would (the
        object still has live pools, allocation points, caches or an
        uncommitted reservation); after any other report (damage found on
        the way, say) the object is gone all the same, so the handle is
        dropped and never left dangling.
        """
        handle = self._handle
        if handle is None:
            return None
        refused = self._backs_out(handle)
        self._destroy_handle(handle)
        message = _calls.take_misuse()
        if message is None or not refused:
            self._handle = None
            self._forget(handle)
        return message

    def destroy(self) -> None:
        """Destroy it.  Idempotent."""
        message = self._destroy()
        if message is not None:
            raise MisuseError(message)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.destroy()
        else:
            # Do not hide the exception in flight behind a second one.
            with contextlib.suppress(MisuseError):
                self.destroy()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # pragma: no cover - interpreter shutdown
            self._destroy()

    def __repr__(self) -> str:
        if self._handle is None:
            return f"<gc_plugin.{type(self).__name__} (destroyed)>"
        return f"<gc_plugin.{type(self).__name__} {self._repr_fields()}>"

    # ---- making core objects inside this one --------------------------------

    def _create_child(
        self,
        out_type: str,
        context: str,
        create: Callable[Concatenate[Any, Any, _P], int],
        *args: _P.args,
        **kwargs: _P.kwargs,
    ) -> Any:
        """Call the core's ``create(out, handle, *args)``, with ``out`` a new
        ``out_type`` and ``handle`` this object's (taken after ``args`` were
        converted, so a bad argument is reported before a destroyed parent);
        check the result as ``context`` and return the new object's handle.
        """
        out = ffi.new(out_type)
        check(create(out, self._live(), *args, **kwargs), context)
        return out[0]
