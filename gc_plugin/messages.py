"""Messages and finalization: the arena's message queue (``MessageType``,
``Message`` and its values ``FinalizationInfo``, ``GCInfo``,
``GCStartInfo``) and registering objects for finalization.

Implements the messages and finalization part of the "Collector" section
of docs/design/python-api.md.  The queue and finalization are methods of
the Arena (this module's ``_ArenaMessages`` is one of its bases:
``arena.enable_messages(...)``, ``arena.get_message(...)``,
``arena.finalize(address)``, ...).  A Message is owned by its arena, so
``arena.teardown()`` discards taken messages first.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from gc_plugin import _calls
from gc_plugin._calls import check, check_misuse, ffi, lib
from gc_plugin._lifetime import _ArenaChild, _NativeObject

if TYPE_CHECKING:
    from gc_plugin.arena import Arena

__all__ = ["MessageType", "Message", "FinalizationInfo", "GCInfo", "GCStartInfo"]


class MessageType(enum.IntEnum):
    """Message types (docs/design/collector-interface.md §Messages)."""

    FINALIZATION = int(lib.GCP_PY_MESSAGE_FINALIZATION)
    GC = int(lib.GCP_PY_MESSAGE_GC)
    GC_START = int(lib.GCP_PY_MESSAGE_GC_START)


@dataclass(frozen=True)
class FinalizationInfo:
    """A finalization message's value: the registered object's address when
    the message was read (it stays alive until the message is discarded)."""

    ref: int


@dataclass(frozen=True)
class GCInfo:
    """A GC message's values (bytes)."""

    live_size: int
    condemned_size: int
    not_condemned_size: int
    clock: int


@dataclass(frozen=True)
class GCStartInfo:
    """A GC-start message's values."""

    why: str
    clock: int


class Message(_ArenaChild):
    """A message taken from the arena's queue (mps_message_get), until
    ``discard`` (or ``destroy``).  An undiscarded finalization message keeps
    its object alive.  Accessors of another type's message are misuse."""

    _kind = "message"

    def __init__(self, arena: Arena, handle: Any) -> None:
        super().__init__(arena, handle)
        value = lib.mps_message_type(arena._live(), handle)
        check_misuse()
        self._type = MessageType(int(value))

    @property
    def type(self) -> MessageType:
        return self._type

    def _destroy_in_core(self, handle: Any) -> None:
        lib.mps_message_discard(self._arena._live(), handle)

    def discard(self) -> None:
        """Give the message back; its storage (and the object a finalization
        message keeps alive) may be reclaimed.  Idempotent."""
        self.destroy()

    def _args(self) -> tuple[Any, Any]:
        handle = self._live()
        return self._arena._live(), handle

    @property
    def clock(self) -> int:
        """mps_clock() when a GC or GC-start message was posted; else 0."""
        value = lib.mps_message_clock(*self._args())
        check_misuse()
        return int(value)

    def finalization_ref(self) -> int:
        """The finalized object's current address."""
        ref_o = ffi.new("mps_addr_t *")
        arena, handle = self._args()
        lib.mps_message_finalization_ref(ref_o, arena, handle)
        check_misuse()
        return _calls.as_int(ref_o[0])

    def gc_live_size(self) -> int:
        value = lib.mps_message_gc_live_size(*self._args())
        check_misuse()
        return int(value)

    def gc_condemned_size(self) -> int:
        value = lib.mps_message_gc_condemned_size(*self._args())
        check_misuse()
        return int(value)

    def gc_not_condemned_size(self) -> int:
        value = lib.mps_message_gc_not_condemned_size(*self._args())
        check_misuse()
        return int(value)

    def gc_start_why(self) -> str:
        text = lib.mps_message_gc_start_why(*self._args())
        check_misuse()
        if text == ffi.NULL:
            return ""
        raw: bytes = ffi.string(text)
        return raw.decode("utf-8", "replace")

    def info(self) -> FinalizationInfo | GCInfo | GCStartInfo:
        """The message's values, by its type."""
        if self._type is MessageType.FINALIZATION:
            return FinalizationInfo(self.finalization_ref())
        if self._type is MessageType.GC:
            return GCInfo(
                self.gc_live_size(),
                self.gc_condemned_size(),
                self.gc_not_condemned_size(),
                self.clock,
            )
        return GCStartInfo(self.gc_start_why(), self.clock)

    def _repr_fields(self) -> str:
        return f"type={self._type.name}"


def _types(types: Iterable[MessageType | int]) -> list[int]:
    return [int(MessageType(t)) for t in types]


class _ArenaMessages(_NativeObject):
    """The Arena's message queue and finalization methods."""

    def enable_messages(self, *types: MessageType) -> None:
        """Post messages of these types from now on."""
        handle = self._live()
        for t in _types(types):
            lib.mps_message_type_enable(handle, t)
            check_misuse()

    def disable_messages(self, *types: MessageType) -> None:
        """Stop posting these types; queued ones are discarded."""
        handle = self._live()
        for t in _types(types):
            lib.mps_message_type_disable(handle, t)
            check_misuse()

    def poll_messages(self) -> bool:
        """Whether any message is queued."""
        result = lib.mps_message_poll(self._live())
        check_misuse()
        return bool(result)

    def queue_type(self) -> MessageType | None:
        """The type of the message at the head of the queue, if any."""
        type_o = ffi.new("mps_message_type_t *")
        found = lib.mps_message_queue_type(type_o, self._live())
        check_misuse()
        return MessageType(int(type_o[0])) if found else None

    def get_message(self, type: MessageType) -> Message | None:
        """Take the first queued message of ``type`` (None if there is none)."""
        t = int(MessageType(type))
        msg_o = ffi.new("mps_message_t *")
        found = lib.mps_message_get(msg_o, self._live(), t)
        check_misuse()
        if not found:
            return None
        return Message(cast("Arena", self), msg_o[0])

    def take_messages(self, type: MessageType) -> list[FinalizationInfo | GCInfo | GCStartInfo]:
        """Take every queued message of ``type``, read its values, discard it."""
        found: list[FinalizationInfo | GCInfo | GCStartInfo] = []
        while (message := self.get_message(type)) is not None:
            try:
                found.append(message.info())
            finally:
                message.discard()
        return found

    def finalize(self, address: int) -> None:
        """Register the object at ``address`` (in a collected pool of ``arena``)
        for finalization: once only this keeps it alive, a finalization message
        is posted for it (if that type is enabled)."""
        ref = ffi.new("mps_addr_t *", _calls.as_ptr(_calls.address_value(address)))
        res = lib.mps_finalize(self._live(), ref)
        check(res, "finalize")

    def definalize(self, address: int) -> bool:
        """Remove one registration of the object at ``address``: True, or False
        if it was not registered (MPS_RES_FAIL)."""
        ref = ffi.new("mps_addr_t *", _calls.as_ptr(_calls.address_value(address)))
        res = lib.mps_definalize(self._live(), ref)
        check_misuse()
        if res == lib.MPS_RES_FAIL:
            return False
        check(res, "definalize")
        return True
