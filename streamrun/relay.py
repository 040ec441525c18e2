"""Relay a run stream to a browser: SSE or NDJSON bytes, and an aiohttp.web response.

A Python server holds the key, opens the run stream and relays it::

    async def chat(request: web.Request) -> web.StreamResponse:
        stream = client.runs.stream(thread_id, assistant_id=assistant_id)
        return await streamrun.relay.sse_response(request, stream)

:func:`to_sse` re-emits every event of a :class:`~streamrun.RunStream` as one
SSE block with its wire name and its JSON (:func:`wire_json`: ``event.raw``,
compact), then
``event: done`` / ``data: [DONE]``. An ``error`` event from the server, or a
failure of the stream (cut connection, timeout, malformed data, an error
reply), is relayed as one ``event: error`` block (``{"message", "type",
"code", "param"}``) before the end. :func:`to_ndjson` writes the same events as
one ``{"event": ..., "data": ...}`` JSON object per line. The key stays in
the process: every block is redacted (a ``RunStream``'s transport redaction:
a key the server echoed, in an error message or a text delta) before it is
written, and a key cut across two deltas of a growing text (message text or
refusal, tool-call arguments) is masked too: a delta ending with what could
be the start of the key is relayed without that tail, which follows with the
next delta of the text or, when the text ends, in a delta of its own just
before the event that ends it (``streamrun._redact_fragments``).

Relaying consumes the stream (as ``async for`` would); a handler attached to
it still hears every event. Both may be given a stream that has not been
entered yet (as a ``StreamingResponse`` body is built): the iterator then
enters it when first read and closes it when it ends, so a consumer that
stops early (a browser that went away) cancels the run on the server, like
leaving ``async with`` early does.

Framing follows the WHATWG rules (data split into ``data:`` lines on CR,
LF and CRLF): the bytes decode with :class:`streamrun.sse.SSEDecoder`, or in
any browser, into exactly the events sent. ``streamrun/web/streamrun.js`` is
a small ES module that reads such a relay in the page.

:func:`from_sse` and :func:`from_ndjson` read a relay back in Python (another
service, a test, a CLI): the result is a :class:`~streamrun.RunStream` with
the same events, snapshots, handler callbacks and errors as the stream that
was relayed, and no network of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING

from aiohttp import web

from . import _rehydrate
from ._rehydrate import RelaySource
from ._relaying import Redact, error_data, sse_block, to_ndjson, to_sse, wire_json

if TYPE_CHECKING:
    from ._handler import AsyncEventHandler
    from ._stream import RunStream

__all__ = [
    "SSE_HEADERS",
    "RelaySource",
    "error_data",
    "from_ndjson",
    "from_sse",
    "sse_block",
    "sse_response",
    "to_ndjson",
    "to_sse",
    "wire_json",
]

#: The headers of an SSE relay response: no caching, and no buffering by
#: nginx-style proxies (``X-Accel-Buffering``), so every block reaches the
#: browser as it is written.
SSE_HEADERS: Mapping[str, str] = MappingProxyType(
    {
        "Content-Type": "text/event-stream; charset=utf-8",
        "Cache-Control": "no-cache",
        "X-Accel-Buffering": "no",
    }
)

_KEEPALIVE = b": keepalive\n\n"
# How often sse_response looks for a vanished client while the run is silent.
_POLL = 0.5


def _client_gone(request: web.BaseRequest) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


async def sse_response(
    request: web.BaseRequest,
    stream: RunStream,
    *,
    keepalive: float = 15.0,
    redact: Redact | None = None,
) -> web.StreamResponse:
    """Relay ``stream`` to ``request``'s client as ``text/event-stream``; return the response.

    Headers: ``Content-Type: text/event-stream; charset=utf-8``,
    ``Cache-Control: no-cache``, ``X-Accel-Buffering: no``. Each block is
    written (and drained) as soon as the event arrives; while the run is
    silent for ``keepalive`` seconds a ``: keepalive`` comment is written.
    When the client goes away (tab closed, connection reset) the relay stops
    and the stream is closed, which cancels the run on the server if the
    relay entered the stream itself (give it a stream not yet entered); a
    stream the caller entered is cancelled when the caller leaves its
    ``async with`` block. Blocks are redacted as in :func:`to_sse`.
    """
    if keepalive <= 0:
        raise ValueError(f"keepalive must be > 0 seconds, got {keepalive!r}")
    response = web.StreamResponse(headers=SSE_HEADERS)
    body = to_sse(stream, redact=redact)
    pending: asyncio.Task[bytes] | None = None
    try:
        await response.prepare(request)
        loop = asyncio.get_running_loop()
        silent_since = loop.time()
        while True:
            if pending is None:
                pending = asyncio.ensure_future(body.__anext__())
            done, _ = await asyncio.wait({pending}, timeout=min(_POLL, keepalive))
            if not done:
                if _client_gone(request):
                    break
                if loop.time() - silent_since >= keepalive:
                    await response.write(_KEEPALIVE)
                    silent_since = loop.time()
                continue
            task, pending = pending, None
            try:
                chunk = task.result()
            except StopAsyncIteration:
                await response.write_eof()
                break
            await response.write(chunk)
            silent_since = loop.time()
    except ConnectionError:
        pass  # the client went away while a block was written: abandon below
    finally:
        if pending is not None:
            # Cancelling the read closes the stream inside the relay (cancelling
            # the run); wait for that, without swallowing our own cancellation.
            pending.cancel()
            await asyncio.wait({pending})
            if not pending.cancelled():
                pending.exception()
        await body.aclose()  # type: ignore[attr-defined]
    return response


def from_sse(source: RelaySource, *, handler: AsyncEventHandler | None = None) -> RunStream:
    """Read an SSE relay (:func:`to_sse`, :func:`sse_response`) back as a run stream.

    ``source`` is an async iterable of ``bytes`` (chunked any way) or an
    aiohttp ``ClientResponse`` (a non-2xx one raises
    :class:`~streamrun.APIStatusError` at once). Use the result as any
    :class:`~streamrun.RunStream`: ``async with``, then ``async for``,
    ``text_deltas``, ``final_*``, ``current_*``, ``handler``'s callbacks — the
    same events, snapshots and callbacks as the stream that was relayed. It
    has no run to control (``cancel()``/``recover()`` raise); leaving it early
    closes the source (a response's connection, so the relaying server sees
    the reader go away and cancels the run).

    How it ends: ``event: done`` ends it normally. A relayed ``error`` event
    is raised as the failure it relays: ``StreamInterrupted``,
    ``StreamTimeout`` and ``ProtocolError`` (also for ``EventTooLargeError``)
    come back as those classes with the same message, a server error event as
    :class:`~streamrun.StreamError` with its ``message``, ``type``, ``code`` and
    ``param``; any other relayed failure (an error reply: its HTTP status is
    not relayed) as a ``StreamError`` with the relayed fields. The relay
    ending (or its connection breaking) before ``done`` and before the run
    settled is :class:`~streamrun.StreamInterrupted`, as for a server stream.
    """
    return _rehydrate.from_sse(source, handler=handler)


def from_ndjson(source: RelaySource, *, handler: AsyncEventHandler | None = None) -> RunStream:
    """Read an NDJSON relay (:func:`to_ndjson`) back as a run stream; see :func:`from_sse`.

    Each line ``{"event": ..., "data": ...}`` is read as soon as it is complete
    (a line may be split across chunks; blank lines are skipped). A line that
    is not such an object is a :class:`~streamrun.ProtocolError` (the events
    before it are delivered first); a last line without its line end is read
    if it is whole, else dropped as a cut (then ``StreamInterrupted``).
    """
    return _rehydrate.from_ndjson(source, handler=handler)
