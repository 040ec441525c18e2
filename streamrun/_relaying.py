"""Relay framing: a run stream's events as SSE blocks or JSON lines (no I/O of its own).

The engine of :mod:`streamrun.relay` (documented there), kept below
``_stream`` so that ``RunStream.to_sse()`` / ``to_ndjson()`` need no upward
import. It reads any stream with the ``RunStream`` consuming API
(``__aenter__``, ``async for``, ``aclose``).

Framing follows the WHATWG rules
(https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation):
the data is split on CR, LF and CRLF into ``data:`` lines, each written with
one space after the colon so a leading space survives (the decoder strips
exactly one); an event name never holds a line end. An empty data buffer
dispatches nothing, but every relayed data is non-empty (JSON, or text an
event was dispatched with).

Every frame is redacted (the stream transport's ``redact``: the API key a
server echoed, plainly or JSON-escaped) as text, before it is encoded. A key
cut across the fragments of a growing text (two text deltas) is masked first
by a :class:`~streamrun._redact_fragments.FragmentRedactor`: a delta ending
with what could be the start of the key is relayed without it, the held text
following with the next delta (or, when the text ends, in a delta of its own
relayed before the event that ends it).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

import attrs

from . import _json
from ._converter import converter
from ._events import UnknownEvent
from ._exceptions import APIStatusError, StreamConsumedError, StreamError, StreamrunError
from ._redact_fragments import FragmentRedactor

__all__ = ["Redact", "error_data", "sse_block", "to_ndjson", "to_sse", "wire_json"]

_LINE_ENDS = re.compile(r"\r\n|\r|\n")
_SURROGATES = re.compile("[\ud800-\udfff]")
_DONE_SSE = b"event: done\ndata: [DONE]\n\n"
_DONE_NDJSON = b'{"event":"done","data":"[DONE]"}\n'

Redact = Callable[[str], str]


class _Event(Protocol):
    @property
    def event(self) -> str: ...

    @property
    def raw(self) -> Any: ...


class Relayable(Protocol):
    """What the relay needs of a stream (``RunStream`` has it)."""

    async def __aenter__(self) -> Any: ...

    def __aiter__(self) -> AsyncIterator[Any]: ...

    async def aclose(self) -> None: ...


def sse_block(event: str, data: str) -> bytes:
    """One SSE block (``event:`` line, ``data:`` lines, blank line) as UTF-8 bytes.

    ``data`` may hold any text: each of its lines becomes one ``data:`` line,
    so a WHATWG decoder gives it back with its line ends as LF. ``event`` must
    be a single line (else ``ValueError``).
    """
    return _encode(_sse_text(event, data))


def _sse_text(event: str, data: str) -> str:
    if _LINE_ENDS.search(event):
        raise ValueError(f"an SSE event name cannot hold a line end: {event!r}")
    if "\n" not in data and "\r" not in data:
        return f"event: {event}\ndata: {data}\n\n"
    body = "".join(f"data: {line}\n" for line in _LINE_ENDS.split(data))
    return f"event: {event}\n{body}\n"


def _encode(text: str) -> bytes:
    try:
        return text.encode()
    except UnicodeEncodeError:
        # Lone surrogates are not text UTF-8 can carry: U+FFFD, as a decoder would.
        return _SURROGATES.sub("\ufffd", text).encode()


def wire_json(event: Any) -> Any:
    """The JSON a relay sends for ``event``: the data a consumer parses under its name.

    That is ``event.raw``, the JSON the event came from — except for an event
    mapped from the Responses API (:class:`~streamrun._responses_map.ResponsesMapper`),
    whose ``raw`` is the typed Responses event. A mapped run, step or message
    event relays its own data, in the run-stream shape its name promises
    (``thread.message.delta`` → a ``MessageDelta`` object), so a relayed
    ``ResponseStream`` reads like any run stream in ``streamrun.js`` and
    :func:`~streamrun.relay.from_sse`. A Responses event with no counterpart
    (an :class:`~streamrun.UnknownEvent` under its Responses name) relays its
    Responses JSON (or, for one built without it, its fields).
    """
    raw = event.raw
    if attrs.has(type(raw)):
        if isinstance(event, UnknownEvent):
            source = getattr(raw, "raw", None)
            return source if source is not None else attrs.asdict(raw)
        return converter.unstructure(event.data)
    return raw


def _data_text(raw: Any) -> str:
    """The event's data as JSON text, or the original text of non-JSON data."""
    if isinstance(raw, str):
        # Non-JSON data (an unknown event's) is kept as text in ``raw``; a JSON
        # string value also arrives as a str: only the former is not valid JSON.
        try:
            _json.loads(raw)
        except _json.JSONDecodeError:
            return raw
    return _json.dumps(raw)


def error_data(exc: BaseException) -> dict[str, Any]:
    """The JSON object relayed in an ``error`` event for ``exc``.

    A server ``error`` event (or an error reply) keeps its ``message``,
    ``type``, ``code`` and ``param``; any other failure gives its message and
    its class name as ``type`` (``"StreamInterrupted"``, ``"StreamTimeout"``...).
    """
    if isinstance(exc, (StreamError, APIStatusError)):
        return {
            "message": exc.message,
            "type": exc.type or type(exc).__name__,
            "code": exc.code,
            "param": exc.param,
        }
    return {"message": str(exc), "type": type(exc).__name__, "code": None, "param": None}


async def _relay(
    stream: Relayable, frame: Callable[[str, Any], str], done: bytes, redact: Redact | None
) -> AsyncIterator[bytes]:
    if redact is None:
        redact = _stream_redact(stream)
    fragments = FragmentRedactor(_stream_secrets(stream))
    owned = False
    failure: StreamrunError | None = None
    try:
        try:
            try:
                await stream.__aenter__()
                owned = True
            except StreamConsumedError:
                pass  # already entered by the caller, who closes it
            event: _Event
            async for event in stream:
                for name, data in fragments.feed(event.event, wire_json(event)):
                    yield _encode(redact(frame(name, data)))
        except StreamrunError as exc:
            failure = exc
        for name, data in fragments.flush():  # what was held goes before any failure
            yield _encode(redact(frame(name, data)))
        if failure is not None:
            yield _encode(redact(frame("error", error_data(failure))))
    finally:
        if owned:
            # Leaving early (the consumer stopped, the task was cancelled) cancels
            # the run, exactly as leaving ``async with`` early does.
            await stream.aclose()
    yield done


def _stream_redact(stream: Relayable) -> Redact:
    """The redaction of a stream's transport (a ``RunStream``'s), else none."""
    redact = getattr(getattr(stream, "_transport", None), "redact", None)
    return redact if callable(redact) else _unchanged


def _stream_secrets(stream: Relayable) -> tuple[str, ...]:
    """The secrets of a stream's transport (a ``RunStream``'s API key), else none."""
    secrets = getattr(getattr(stream, "_transport", None), "secrets", None)
    return tuple(secrets()) if callable(secrets) else ()


def _unchanged(text: str) -> str:
    return text


def _sse_frame(event: str, raw: Any) -> str:
    return _sse_text(event, _data_text(raw))


def _ndjson_frame(event: str, raw: Any) -> str:
    return _json.dumps({"event": event, "data": raw}) + "\n"


def to_sse(stream: Relayable, *, redact: Redact | None = None) -> AsyncIterator[bytes]:
    """The stream's events as SSE blocks (UTF-8 bytes), ending with ``event: done``.

    Each event is one block with its wire name and its JSON (:func:`wire_json`,
    compact); a failure is relayed as one ``event: error`` block (see
    :func:`error_data`) before the end. Each block is passed through
    ``redact`` (by default the stream's own: a ``RunStream`` redacts its API
    key) before it is encoded. Also :meth:`RunStream.to_sse`.
    """
    return _relay(stream, _sse_frame, _DONE_SSE, redact)


def to_ndjson(stream: Relayable, *, redact: Redact | None = None) -> AsyncIterator[bytes]:
    """The stream's events as JSON lines ``{"event": ..., "data": ...}``, ending with done.

    The last line is ``{"event":"done","data":"[DONE]"}``; a failure is relayed
    first as ``{"event":"error","data":{...}}``. Lines are redacted as in
    :func:`to_sse`. Also :meth:`RunStream.to_ndjson`.
    """
    return _relay(stream, _ndjson_frame, _DONE_NDJSON, redact)
