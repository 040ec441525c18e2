"""Reading a relay back: SSE or NDJSON relay bytes as a ``RunStream`` (no network of its own).

The engine of :func:`streamrun.relay.from_sse` and :func:`streamrun.relay.from_ndjson`
(documented there). Both read through :meth:`RunStream.from_bytes` with a
protocol adapter that knows the relay's ``error`` event: a failure the relay
reported comes back as the failure it was (see :func:`relayed_failure`).
NDJSON lines are turned into the same SSE blocks as they arrive, one complete
line at a time (a line may be split across chunks; the body is never
buffered whole).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterable, AsyncIterator
from typing import Union

import aiohttp

from . import _json
from ._events import Event
from ._exceptions import (
    EventTooLargeError,
    ProtocolError,
    StreamError,
    StreamFailure,
    StreamInterrupted,
    StreamTimeout,
    status_error_class,
)
from ._handler import AsyncEventHandler
from ._pipeline import ConnectionLost
from ._protocol_runs import RunStreamProtocol
from ._relaying import _data_text, sse_block
from ._stream import RunStream
from .sse import DEFAULT_MAX_EVENT_SIZE

__all__ = ["RelaySource", "from_ndjson", "from_sse", "relayed_failure"]

RelaySource = Union[AsyncIterable[bytes], aiohttp.ClientResponse]
"""What a relay reader reads: an async iterable of bytes, or an aiohttp response."""

_TIMEOUT = re.compile(r"(connect|idle|total) timeout \((\d+(?:\.\d*)?(?:e-?\d+)?|None)s\)")


def relayed_failure(error: StreamError) -> StreamFailure:
    """The failure a relayed ``error`` event stands for.

    The relay writes a failure that was not a server error as
    ``{"message": str(exc), "type": <class name>, "code": null, "param": null}``
    (:func:`streamrun.relay.error_data`). Such an event with type
    ``StreamInterrupted``, ``StreamTimeout`` (``kind`` and ``seconds`` read
    back from its message) or ``ProtocolError`` / ``EventTooLargeError``
    (as :class:`~streamrun.ProtocolError`) is raised as that class with the same
    message; ``StreamError`` (a server error event without a type) as a
    :class:`~streamrun.StreamError` without a type. Anything else — a server
    ``error`` event, a relayed error reply (its HTTP status is not relayed),
    another failure of the relaying side — stays the
    :class:`~streamrun.StreamError` carrying the relayed ``message``, ``type``,
    ``code`` and ``param``.
    """
    if error.code is not None or error.param is not None:
        return error
    message = error.message
    kind = error.type
    if kind == "StreamInterrupted":
        return StreamInterrupted(message)
    if kind in ("ProtocolError", "EventTooLargeError"):
        return ProtocolError(message)
    if kind == "StreamTimeout":
        match = _TIMEOUT.match(message)  # "idle timeout (0.5s) after 3 events"
        if match is None:
            return StreamTimeout(message)
        seconds = None if match[2] == "None" else float(match[2])
        return StreamTimeout(message, kind=match[1], seconds=seconds)
    if kind == "StreamError":
        return StreamError(message)
    return error


class RelayedProtocol(RunStreamProtocol):
    """The run-stream protocol, with a relay's ``error`` events read back as their failure."""

    __slots__ = ()

    def next_event(self) -> Event | None:
        try:
            return super().next_event()
        except StreamError as exc:
            raise relayed_failure(exc) from None


class RelayedRunStream(RunStream):
    """A :class:`~streamrun.RunStream` reading relay bytes (see :func:`from_sse`)."""

    _protocol = RelayedProtocol


def from_sse(source: RelaySource, *, handler: AsyncEventHandler | None = None) -> RunStream:
    """See :func:`streamrun.relay.from_sse`."""
    return RelayedRunStream.from_bytes(_source_bytes(source), handler=handler)


def from_ndjson(source: RelaySource, *, handler: AsyncEventHandler | None = None) -> RunStream:
    """See :func:`streamrun.relay.from_ndjson`."""
    return RelayedRunStream.from_bytes(
        _ndjson_to_sse(_source_bytes(source), DEFAULT_MAX_EVENT_SIZE), handler=handler
    )


def _source_bytes(source: RelaySource) -> AsyncIterable[bytes]:
    if isinstance(source, aiohttp.ClientResponse):
        status = source.status
        if not 200 <= status < 300:
            source.release()
            raise status_error_class(status)(
                f"the relay answered with status {status}, not a stream "
                f"({source.method} {source.url.path})",
                status=status,
            )
        return _response_bytes(source)
    if not isinstance(source, AsyncIterable):
        raise TypeError(
            "a relay source is an async iterable of bytes or an aiohttp ClientResponse, "
            f"not {type(source).__name__}"
        )
    return source


async def _response_bytes(response: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
    """The body of a relay response; its connection closed when the stream is closed
    before the end (so the relaying server sees the reader go away)."""
    complete = False
    try:
        while True:
            try:
                chunk = await response.content.readany()
            except (aiohttp.ClientError, ConnectionError, asyncio.TimeoutError) as exc:
                raise ConnectionLost(f"{type(exc).__name__}: {exc}") from exc
            if not chunk:
                complete = True
                return
            yield chunk
    finally:
        if complete:
            response.release()
        else:
            response.close()


async def _ndjson_to_sse(source: AsyncIterable[bytes], limit: int | None) -> AsyncIterator[bytes]:
    """NDJSON relay lines as SSE blocks, each line converted once it is complete."""
    chunks = aiter(source)
    buffer = bytearray()
    number = 0  # the 0-based index of the next line
    try:
        async for chunk in chunks:
            start = len(buffer)
            buffer += chunk
            end = buffer.rfind(b"\n", start)
            if end < 0:
                if limit is not None and len(buffer) > limit:
                    raise EventTooLargeError(len(buffer), limit, position=number)
                continue
            lines = bytes(buffer[:end]).split(b"\n")
            del buffer[: end + 1]
            blocks: list[bytes] = []
            try:
                for line in lines:
                    if limit is not None and len(line) > limit:
                        raise EventTooLargeError(len(line), limit, position=number)
                    blocks.append(_ndjson_block(line, number))
                    number += 1
            except ProtocolError:
                if blocks:
                    yield b"".join(blocks)  # the events before the bad line first
                raise
            yield b"".join(blocks)
        if buffer.strip():
            # A last line without its line end: kept if it is a whole event, else the
            # relay was cut inside it (dropped, as an unterminated SSE event is).
            try:
                block = _ndjson_block(bytes(buffer), number)
            except ProtocolError:
                return
            yield block
    finally:
        # Closed early (the stream was left): close the source too (a response, a generator).
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()


def _ndjson_block(line: bytes, number: int) -> bytes:
    """One NDJSON relay line ``{"event": ..., "data": ...}`` as the SSE block it stands for."""
    if not line.strip():
        return b""
    try:
        item = _json.loads(line.decode())
    except ValueError as exc:  # not UTF-8, not JSON, nested too deep
        raise _bad_line(line, number, f"it is not JSON ({exc})") from None
    if not isinstance(item, dict) or not isinstance(item.get("event"), str) or "data" not in item:
        raise _bad_line(line, number, 'it is not an object {"event": <string>, "data": ...}')
    try:
        return sse_block(item["event"], _data_text(item["data"]))
    except ValueError as exc:
        raise _bad_line(line, number, str(exc)) from None


def _bad_line(line: bytes, number: int, why: str) -> ProtocolError:
    excerpt = line[:200].decode("utf-8", "replace")
    return ProtocolError(
        f"NDJSON relay line {number + 1} is not a relayed event: {why}: {excerpt!r}",
        position=number,
        excerpt=excerpt,
    )
