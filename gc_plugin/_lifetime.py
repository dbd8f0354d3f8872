"""The lifetime protocol shared by every wrapper of a core object.

Implements what docs/design/python-api.md asks of every object the core
makes (an Arena and what it owns): ``destroy()`` is idempotent and raises
MisuseError with the core's message when the core refuses or reports
damage, ``destroyed`` tells, using a destroyed object raises
InvalidArgumentError, and each is a context manager that destroys it on
exit.  Whether a refused destroy kept the object is the core's answer
(``gcp_destroy_refused``), never a guess made here.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, Self

from gc_plugin import _calls
from gc_plugin._calls import check, ffi, invalid, lib
from gc_plugin.errors import MisuseError

if TYPE_CHECKING:
    from gc_plugin.arena import Arena

__all__ = ["_NativeObject", "_ArenaChild"]

_P = ParamSpec("_P")


class _NativeObject:
    """Owns one core object through ``_handle`` (None once destroyed).

    A subclass says how to destroy the handle (``_destroy_handle``), what to
    forget once it is gone (``_forget``), and how it is named in messages
    (``_kind``) and reprs (``_repr_fields``).
    """

    _kind: str = "object"
    _handle: Any = None

    # ---- the subclass's part ------------------------------------------------

    def _destroy_handle(self, handle: Any) -> None:
        raise NotImplementedError

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

        The core keeps the object only when it refuses because something
        still depends on it (live pools, allocation points, caches, roots,
        an uncommitted reservation), and says so; after any other report
        (damage found on the way, say) the object is gone all the same, so
        the handle is dropped and never left dangling.
        """
        handle = self._handle
        if handle is None:
            return None
        self._destroy_handle(handle)
        message = _calls.take_misuse()
        if message is None or not lib.gcp_destroy_refused():
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


class _ArenaChild(_NativeObject):
    """A core object made in an arena (not in a pool): a format, chain,
    root, thread registration or message.  The arena owns it (it is among
    ``arena``'s objects until destroyed) and it keeps the arena alive."""

    def __init__(self, arena: Arena, handle: Any) -> None:
        self._arena = arena
        self._handle = handle
        arena._adopt(self)

    @property
    def arena(self) -> Arena:
        """The arena this belongs to."""
        return self._arena

    def _destroy_handle(self, handle: Any) -> None:
        # Once the arena is gone, so is everything in it (or the core kept
        # it together with the arena): never pass a dangling handle.
        if self._arena.destroyed:
            return
        self._destroy_in_core(handle)

    def _destroy_in_core(self, handle: Any) -> None:
        raise NotImplementedError
