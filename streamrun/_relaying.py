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
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

from . import _json
from ._exceptions import APIStatusError, StreamConsumedError, StreamError, StreamrunError

__all__ = ["error_data", "sse_block", "to_ndjson", "to_sse"]

_LINE_ENDS = re.compile(r"\r\n|\r|\n")
_SURROGATES = re.compile("[\ud800-\udfff]")
_DONE_SSE = b"event: done\ndata: [DONE]\n\n"
_DONE_NDJSON = b'{"event":"done","data":"[DONE]"}\n'


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
    if _LINE_ENDS.search(event):
        raise ValueError(f"an SSE event name cannot hold a line end: {event!r}")
    if "\n" not in data and "\r" not in data:
        block = f"event: {event}\ndata: {data}\n\n"
    else:
        body = "".join(f"data: {line}\n" for line in _LINE_ENDS.split(data))
        block = f"event: {event}\n{body}\n"
    try:
        return block.encode()
    except UnicodeEncodeError:
        # Lone surrogates are not text UTF-8 can carry: U+FFFD, as a decoder would.
        return _SURROGATES.sub("\ufffd", block).encode()


def _dumps(raw: Any) -> str:
    text = _json.dumps(raw)
    try:
        text.encode()
    except UnicodeEncodeError:
        # A lone surrogate (from a "\ud83d" escape the server sent) cannot be
        # UTF-8: write it escaped again, the same JSON value.
        return json.dumps(raw, separators=(",", ":"))
    return text


def _data_text(raw: Any) -> str:
    """The event's data as JSON text, or the original text of non-JSON data."""
    if isinstance(raw, str):
        # Non-JSON data (an unknown event's) is kept as text in ``raw``; a JSON
        # string value also arrives as a str: only the former is not valid JSON.
        try:
            _json.loads(raw)
        except _json.JSONDecodeError:
            return raw
    return _dumps(raw)


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
    stream: Relayable, frame: Callable[[str, Any], bytes], done: bytes
) -> AsyncIterator[bytes]:
    owned = False
    try:
        try:
            await stream.__aenter__()
            owned = True
        except StreamConsumedError:
            pass  # already entered by the caller, who closes it
        event: _Event
        async for event in stream:
            yield frame(event.event, event.raw)
    except StreamrunError as exc:
        yield frame("error", error_data(exc))
    finally:
        if owned:
            # Leaving early (the consumer stopped, the task was cancelled) cancels
            # the run, exactly as leaving ``async with`` early does.
            await stream.aclose()
    yield done


def _sse_frame(event: str, raw: Any) -> bytes:
    return sse_block(event, _data_text(raw))


def _ndjson_frame(event: str, raw: Any) -> bytes:
    return (_dumps({"event": event, "data": raw}) + "\n").encode()


def to_sse(stream: Relayable) -> AsyncIterator[bytes]:
    """The stream's events as SSE blocks (UTF-8 bytes), ending with ``event: done``.

    Each event is one block with its wire name and its JSON (``event.raw``,
    compact); a failure is relayed as one ``event: error`` block (see
    :func:`error_data`) before the end. Also :meth:`RunStream.to_sse`.
    """
    return _relay(stream, _sse_frame, _DONE_SSE)


def to_ndjson(stream: Relayable) -> AsyncIterator[bytes]:
    """The stream's events as JSON lines ``{"event": ..., "data": ...}``, ending with done.

    The last line is ``{"event":"done","data":"[DONE]"}``; a failure is relayed
    first as ``{"event":"error","data":{...}}``. Also :meth:`RunStream.to_ndjson`.
    """
    return _relay(stream, _ndjson_frame, _DONE_NDJSON)
