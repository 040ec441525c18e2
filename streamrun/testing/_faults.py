"""Fault injection: what can go wrong between the service and the client."""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

import attrs

from streamrun._json import loads as _loads

from ._errors import FakeServerError
from ._wire import WireEvent

__all__ = ["FAULT_LIMITS", "RUN_ENDPOINTS", "Faults"]

#: The endpoints that create or continue a run, or a response (``POST
#: /responses`` also carries tool outputs): the default target of faults.
RUN_ENDPOINTS: frozenset[str] = frozenset(
    {"create_run", "create_thread_and_run", "submit_tool_outputs", "create_response"}
)


#: The largest value each numeric fault parameter may take (sizes in bytes,
#: times in seconds, indexes and counts in events or requests). A fault set
#: beyond a cap is refused (``FakeServerError``; a 400 for the
#: ``x-fake-faults`` header), so no request can make the server allocate or
#: wait without bound.
FAULT_LIMITS: Mapping[str, float] = MappingProxyType(
    {
        "chunk_size": 16 * 1024 * 1024,
        "split_seed": 2**63,
        "delay": 10.0,
        "drop_after": 1_000_000,
        "stall_after": 1_000_000,
        "stall_seconds": 600.0,
        "error_count": 1_000,
        "retry_after": 3_600.0,
        "malformed_at": 1_000_000,
        "oversized_at": 1_000_000,
        "oversized_bytes": 64 * 1024 * 1024,
    }
)


def _capped(inst: object, attr: attrs.Attribute[Any], value: float | None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise FakeServerError(f"Faults.{attr.name} must be a number, got {value!r}")
    cap = FAULT_LIMITS[attr.name]
    if abs(value) > cap:
        raise FakeServerError(
            f"Faults.{attr.name} is {value!r}, over the fake server's limit of {cap:g}"
        )


def _endpoints(value: Iterable[str]) -> frozenset[str]:
    if isinstance(value, str):
        return frozenset({value})
    return frozenset(value)


def _non_negative(inst: object, attr: attrs.Attribute[Any], value: float | None) -> None:
    if value is not None and value < 0:
        raise FakeServerError(f"Faults.{attr.name} must be >= 0, got {value!r}")


def _positive(inst: object, attr: attrs.Attribute[Any], value: int | None) -> None:
    if value is not None and value < 1:
        raise FakeServerError(f"Faults.{attr.name} must be >= 1, got {value!r}")


@attrs.frozen(kw_only=True)
class Faults:
    """Faults applied to a request (all off by default).

    Installed per server (``FakeAssistantsServer(faults=...)`` or
    ``server.faults = ...``: every matching request), queued
    (``server.queue_faults(...)``: the next matching request) or sent as the
    ``x-fake-faults`` request header (a JSON object of these field names).

    Event indexes count the events of one response stream from 0
    (``thread.created``/``thread.run.created`` ... ``done``; for the Responses
    API ``response.created`` ... ``response.completed``, or the first event a
    resumed stream sends).
    """

    #: Write the stream in pieces of at most this many bytes (pieces can end
    #: inside an event, a line or a UTF-8 sequence). ``None``: one write per
    #: batch of ready events.
    chunk_size: int | None = attrs.field(default=None, validator=[_capped, _positive])
    #: With a seed, piece sizes are random between 1 and ``chunk_size``
    #: (16 when ``chunk_size`` is unset), reproducibly.
    split_seed: int | None = attrs.field(default=None, validator=_capped)
    #: Seconds between two events while the run is generated (the run
    #: itself progresses at this pace; a cancel request interrupts the wait).
    delay: float = attrs.field(default=0.0, validator=[_capped, _non_negative])
    #: Close the connection abruptly after this many events were written
    #: (no ``done``, no final chunk). The run keeps going on the server.
    drop_after: int | None = attrs.field(default=None, validator=[_capped, _non_negative])
    #: After this many events were written, send nothing for
    #: ``stall_seconds`` (connection left open), then go on.
    stall_after: int | None = attrs.field(default=None, validator=[_capped, _non_negative])
    #: Length of the stall.
    stall_seconds: float = attrs.field(default=0.0, validator=[_capped, _non_negative])
    #: Answer with this HTTP status (429, 500, 503...) and the official error
    #: body instead of serving the request; no run is created or changed.
    error_status: int | None = None
    #: How many requests get ``error_status`` before requests are served.
    error_count: int = attrs.field(default=1, validator=[_capped, _positive])
    #: With ``error_status``: serve the request first (the run is created or
    #: continued and plays on the server), then answer the error instead of
    #: its reply: a gateway (502/504) that lost the upstream's answer.
    #: Clients retrying such a POST blindly create a second run.
    error_after_create: bool = attrs.field(
        default=False, validator=attrs.validators.instance_of(bool)
    )
    #: ``Retry-After`` header (seconds) sent with ``error_status``.
    retry_after: float | None = attrs.field(default=None, validator=[_capped, _non_negative])
    #: Replace the data of the event at this index with invalid JSON (the
    #: event name is kept).
    malformed_at: int | None = attrs.field(default=None, validator=[_capped, _non_negative])
    #: Pad the event at this index to ``oversized_bytes`` bytes (spaces
    #: inside its JSON, so it stays valid JSON with the same value).
    oversized_at: int | None = attrs.field(default=None, validator=[_capped, _non_negative])
    #: Size of the padded event in bytes.
    oversized_bytes: int = attrs.field(default=1_048_577, validator=[_capped, _positive])
    #: The endpoints these faults apply to (names: create_run,
    #: create_thread_and_run, submit_tool_outputs, get_run, cancel_run,
    #: list_messages, list_run_steps, create_thread, create_message, get_thread,
    #: list_runs, create_assistant, get_assistant, list_assistants,
    #: create_response, get_response, cancel_response, create_conversation,
    #: get_conversation, list_conversation_items).
    endpoints: frozenset[str] = attrs.field(default=RUN_ENDPOINTS, converter=_endpoints)

    def __attrs_post_init__(self) -> None:
        if self.error_status is not None and (
            isinstance(self.error_status, bool)
            or not isinstance(self.error_status, int)
            or not 400 <= self.error_status <= 599
        ):
            raise FakeServerError(
                f"Faults.error_status must be 4xx or 5xx, got {self.error_status}"
            )

    @classmethod
    def from_json(cls, spec: str | Mapping[str, Any]) -> Faults:
        """Faults from a JSON object (text or mapping) of field names.

        Example: ``{"drop_after": 5, "chunk_size": 7}``.
        """
        try:
            obj = _loads(spec) if isinstance(spec, str) else spec
        except ValueError as exc:
            raise FakeServerError(f"fault spec is not valid JSON: {exc}") from None
        if not isinstance(obj, Mapping):
            raise FakeServerError("fault spec must be a JSON object")
        names = {a.name for a in attrs.fields(cls)}
        unknown = sorted(set(obj) - names)
        if unknown:
            raise FakeServerError(f"unknown fault fields: {', '.join(unknown)}")
        try:
            return cls(**obj)
        except (TypeError, ValueError) as exc:
            raise FakeServerError(f"bad fault spec: {exc}") from None

    def transform(self, event: WireEvent, index: int) -> WireEvent:
        """The event at ``index`` after the malformed/oversized faults."""
        if self.malformed_at == index:
            data = event.data
            cut = data[: max(1, len(data) // 2)] if data.startswith("{") else '{"broken":'
            event = event.with_data(cut)
        if self.oversized_at == index:
            padding = self.oversized_bytes - len(event.raw)
            if padding > 0:
                data = event.data
                if data.endswith("}"):
                    data = data[:-1] + " " * padding + "}"
                else:
                    data = data + " " * padding
                event = event.with_data(data)
        return event


class ChunkSplitter:
    """Cuts outgoing bytes into pieces according to :class:`Faults`."""

    def __init__(self, faults: Faults | None) -> None:
        self._size = faults.chunk_size if faults else None
        self._rng: random.Random | None = None
        if faults is not None and faults.split_seed is not None:
            self._rng = random.Random(faults.split_seed)
            if self._size is None:
                self._size = 16

    def split(self, data: bytes) -> list[bytes]:
        """``data`` as the list of pieces to write."""
        if not data:
            return []
        if self._size is None:
            return [data]
        pieces: list[bytes] = []
        pos = 0
        while pos < len(data):
            size = self._rng.randint(1, self._size) if self._rng else self._size
            pieces.append(data[pos : pos + size])
            pos += size
        return pieces
