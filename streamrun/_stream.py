"""``RunStream``: one run's event stream, read over aiohttp (or from plain bytes).

``RunStream`` is the driver: it sends the request, turns the response body into
a byte source for a :class:`~streamrun._pipeline.Pipeline` (with the idle and
total timeouts and connection errors translated), and cancels, recovers and
closes. The pipeline does the rest: the run-stream protocol adapter
(:class:`~streamrun._protocol_runs.RunStreamProtocol`: SSE decoding, parsing,
the end rules), the :class:`~streamrun._accumulate.Accumulator`, the handler's
callbacks, the reader. Events are processed one at a time as the caller asks
for them, so callbacks and the caller stay in step.

How it ends:

* ``data: [DONE]`` — the normal end (``on_end``).
* The connection ends without ``[DONE]`` — :class:`~streamrun.StreamInterrupted`,
  unless a terminal run event (completed, failed, cancelled, expired,
  incomplete, requires_action) already arrived: some compatible servers
  close without ``[DONE]``, and then the stream ends normally.
* An ``error`` event — ``on_exception(StreamError)`` once, then
  :class:`~streamrun.StreamError`; the events before it were delivered.
* Malformed JSON, an oversized event — ``on_exception(ProtocolError)``, then
  :class:`~streamrun.ProtocolError`.
* Idle or total timeout — ``on_timeout()`` and ``on_exception(StreamTimeout)``,
  then :class:`~streamrun.StreamTimeout`.

The handler's ``on_end`` fires once in every case, as in the official SDK: after
``[DONE]``, after a failure's ``on_exception``, or when the stream is closed
early.

Every failure carries ``run_id`` and ``last_event``, and ``current_*`` stay
readable afterwards. Leaving the ``async with`` block closes the response
(releasing the connection); leaving it before the run settled — ``break``, an
exception, task cancellation, Ctrl-C, a timeout — also asks the server to
cancel the run (``cancel_on_abandon``, best effort, bounded, shielded), except
after ``StreamInterrupted`` or ``StreamError``, where the run may be
recovered with :meth:`RunStream.recover`.

:meth:`RunStream.from_bytes` reads a stream's bytes from any (async) iterable
instead — a recording, a relay — through the same pipeline, with no network:
the same events, callbacks, snapshots and errors, but no cancel or recover.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections import deque
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
)
from types import TracebackType
from typing import Any, ClassVar, Protocol

import aiohttp

from . import _relaying
from ._accumulate import Accumulator, Callback
from ._callbacks import OnTextDelta
from ._compat import OpenAIStreamAliases
from ._events import Event
from ._exceptions import (
    APIStatusError,
    StreamConsumedError,
    StreamError,
    StreamInterrupted,
    StreamrunError,
    StreamTimeout,
)
from ._handler import AsyncEventHandler
from ._models import Message, Run, RunStep
from ._options import StreamSettings
from ._pipeline import ConnectionLost, Follow, Pipeline, ProtocolAdapter, Segment, State
from ._protocol_runs import RunStreamProtocol
from ._recover import (
    RecoveredRun,
    cancel_run,
    cancel_run_shielded,
    recover_run,
    run_path,
    structure_reply,
)
from ._redact import page_excerpt
from ._tool_loop import ToolLoop
from ._transport import Timeouts, Transport, timeout_error
from .sse import DEFAULT_MAX_EVENT_SIZE

__all__ = ["RunStream"]

logger = logging.getLogger("streamrun")

_Next = Callable[[], Awaitable["tuple[Event, list[Callback]] | None"]]


class AdapterFactory(Protocol):
    """A protocol adapter class: what ``RunStream._protocol`` holds."""

    def __call__(
        self,
        *,
        max_event_size: int | None,
        thread_id: str | None,
        run_id: str | None,
        redact: Callable[[str], str],
    ) -> ProtocolAdapter: ...


class RunStream(OpenAIStreamAliases):
    """The events of one run, as an async iterator and through a handler.

    Obtain it with ``async with client.runs.stream(...) as stream`` (or
    ``create_and_run_stream`` / ``submit_tool_outputs_stream``), or over bytes
    with :meth:`from_bytes`. Consume it once, in any one of these ways:
    ``async for event in stream``, ``async for text in stream.text_deltas``,
    ``await stream.until_done()`` or a ``final_*`` method (these also finish a
    stream that was partly iterated; openai-python's ``get_final_*`` names are
    aliases). The handler's callbacks fire for every event whichever way is used.
    """

    #: The protocol adapter class of the stream's bytes (a relay reader refines it:
    #: ``streamrun.relay.from_sse``; a Responses stream swaps in its own).
    _protocol: ClassVar[AdapterFactory] = RunStreamProtocol

    def __init__(
        self,
        *,
        transport: Transport | None,
        path: str,
        body: dict[str, Any],
        query: list[tuple[str, str]],
        handler: AsyncEventHandler | None,
        thread_id: str | None,
        run_id: str | None,
        settings: StreamSettings,
        tools: ToolLoop | None = None,
    ) -> None:
        self._transport: Transport | None = transport
        self._path = path
        self._body = body
        self._query = query
        self._settings = settings
        self._chunks: _Chunks | None = None  # from_bytes: the source to read
        redact = _unchanged if transport is None else transport.redact
        self._redact = redact
        adapter = self._protocol(
            max_event_size=settings.max_event_size,
            thread_id=thread_id,
            run_id=run_id,
            redact=redact,
        )
        self._accumulator = _accumulator_for(handler, run_id)
        self._handler = handler
        self._tools = tools
        self._pipeline = Pipeline(
            adapter, self._accumulator, handler, redact=redact, follow=self._make_follow()
        )
        self._next: _Next = self._pipeline.next
        self._response: _ResponseBytes | None = None
        self._consumer: str | None = None
        self._loop: asyncio.AbstractEventLoop | None = None  # where it was opened
        # The per-call query (extra_query) of the continuations the tool loop opens.
        self._loop_query: list[tuple[str, str]] = []

    @classmethod
    def from_bytes(
        cls,
        chunks: AsyncIterable[bytes] | Iterable[bytes],
        *,
        handler: AsyncEventHandler | None = None,
        max_event_size: int | None = DEFAULT_MAX_EVENT_SIZE,
        thread_id: str | None = None,
        run_id: str | None = None,
    ) -> RunStream:
        """A stream that reads a run stream's bytes from ``chunks``, with no network.

        ``chunks`` is an async iterable of ``bytes`` (or a plain iterable): a
        recording, a relay, a file. Use it like any stream (``async with``,
        then iterate, ``text_deltas``, ``final_*``, the handler): the events,
        callbacks, snapshots and errors are those of the same bytes read from
        a server. It has no run to control: :meth:`cancel` and :meth:`recover`
        raise :class:`~streamrun.StreamrunError`, and leaving it early cancels
        nothing. ``thread_id`` / ``run_id`` preset the ids (the events set them).
        """
        stream = cls(
            transport=None,
            path="",
            body={},
            query=[],
            handler=handler,
            thread_id=thread_id,
            run_id=run_id,
            settings=StreamSettings(
                max_retries=0,
                timeouts=Timeouts(connect=None, idle=None, total=None),
                cancel_on_abandon=False,
                cancel_timeout=0.0,
                max_event_size=max_event_size,
            ),
        )
        stream._chunks = _Chunks(chunks)
        return stream

    # -- context management ------------------------------------------------

    async def __aenter__(self) -> RunStream:
        pipeline = self._pipeline
        if pipeline.state is not State.NEW:
            raise StreamConsumedError("this RunStream was already opened; make a new one")
        if self._transport is None:
            assert self._chunks is not None
            pipeline.open(self._chunks)
            return self
        pipeline.opening()
        self._loop = asyncio.get_running_loop()
        if self._tools is not None:
            self._tools.request_sent()
        try:
            response = await self._send(self._path, self._body, self._query)
        except StreamTimeout as exc:
            await pipeline.fail(exc, exc.__cause__)
        except BaseException:
            await pipeline.close()
            raise
        self._response = self._bytes_of(response, pipeline.adapter)
        pipeline.open(self._response, self._response.close)
        return self

    def _bytes_of(
        self, response: aiohttp.ClientResponse, adapter: ProtocolAdapter
    ) -> _ResponseBytes:
        """The pipeline's byte source over a response body (a seam: a Responses
        stream turns a stall it can resume into a cut)."""
        settings = self._settings
        return _ResponseBytes(response, adapter, settings.timeouts, settings.tap)

    def _make_follow(self) -> Follow | None:
        """The pipeline's ``follow`` (a seam): the tool loop's, when there is one."""
        return None if self._tools is None else _LoopDriver(self).follow

    async def _continue(self, outputs: list[dict[str, str]]) -> Segment:
        """The tool loop's continuation (a seam): submit the outputs in one streaming
        request; the continuation's response as the pipeline's next segment."""
        thread_id, run_id = self.thread_id, self.run_id
        assert thread_id is not None and run_id is not None
        settings = self._settings
        path = run_path(thread_id, run_id) + "/submit_tool_outputs"
        body = {"tool_outputs": outputs, "stream": True}
        response = await self._send(path, body, self._loop_query)
        adapter = RunStreamProtocol(
            max_event_size=settings.max_event_size,
            thread_id=thread_id,
            run_id=run_id,
            redact=self._redact,
        )
        source = self._bytes_of(response, adapter)
        self._response = source
        return adapter, source, source.close

    async def _send(
        self,
        path: str,
        body: dict[str, Any] | None,
        query: list[tuple[str, str]],
        *,
        method: str = "POST",
    ) -> aiohttp.ClientResponse:
        """Send a request that creates or continues a run (``POST``), or reads one
        on (``GET``); the response of an event stream, headers read."""
        assert self._transport is not None
        response = await self._transport.send(
            method,
            path,
            json_body=body,
            query=query,
            accept="text/event-stream",
            max_retries=self._settings.max_retries,
            timeouts=self._settings.timeouts,
            extra_headers=self._settings.extra_headers,
            creates_run=method == "POST",
        )
        content_type = response.headers.get("Content-Type", "")
        if not content_type.lower().startswith("text/event-stream"):
            try:
                raw = await response.content.read(2000)
            except (aiohttp.ClientError, asyncio.TimeoutError):
                raw = b""
            response.release()
            # Redacted after HTML entities are decoded, before the cut.
            excerpt = page_excerpt(raw, redact=self._transport.redact) or "(empty body)"
            raise APIStatusError(
                f"expected an event stream (text/event-stream), got {content_type or 'no'} "
                f"content type: {excerpt}",
                status=response.status,
                request_id=self._transport.redact(response.headers.get("x-request-id", "")) or None,
                headers=self._transport.redact_headers(response.headers),
            )
        return response

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._should_cancel_on_exit():
                self._pipeline.stop_source()
                await self._cancel_best_effort()
        finally:
            await self._pipeline.close()
            if self._chunks is not None:
                await self._chunks.aclose()

    async def aclose(self) -> None:
        """Close the response (same as leaving the ``async with`` block)."""
        await self.__aexit__(None, None, None)

    def __del__(self, _warn: Any = warnings.warn) -> None:
        # Opened, then dropped without leaving the block: warn, free the connection,
        # and (the run not settled) schedule the abandon-cancel on a running loop.
        response = getattr(self, "_response", None)
        if response is None or response.closed:
            return
        _warn(
            f"unclosed {self!r}: leave its 'async with' block or call aclose()",
            ResourceWarning,
            source=self,
        )
        cancel = self._should_cancel_on_exit()
        try:
            self._pipeline.stop_source()
        except Exception:  # e.g. its loop is closed already: nothing more to free
            pass
        if cancel and self._loop is not None and self._transport is not None:
            self._schedule_abandon(self._loop, self._transport)

    def _schedule_abandon(self, loop: asyncio.AbstractEventLoop, transport: Transport) -> None:
        """Start the abandon-cancel of a stream garbage-collected unclosed (a seam)."""
        thread_id, run_id = self.thread_id, self.run_id
        assert thread_id is not None and run_id is not None
        _schedule_abandon_cancel(loop, transport, thread_id, run_id, self._settings.cancel_timeout)

    def _should_cancel_on_exit(self) -> bool:
        """Leaving now abandons a run that would go on: cancel it (cancel_on_abandon)."""
        adapter = self._pipeline.adapter
        if not self._settings.cancel_on_abandon or self._response is None or adapter.settled:
            return False
        state = self._pipeline.state
        if state is State.FAILED:
            # After a cut or an error event the run may be recovered: leave it be.
            if isinstance(self._pipeline.error, (StreamInterrupted, StreamError)):
                return False
        elif state is not State.OPEN:
            return False
        return adapter.run_id is not None and adapter.thread_id is not None

    async def _cancel_best_effort(self) -> None:
        transport = self._transport
        assert transport is not None
        thread_id, run_id = self.thread_id, self.run_id
        assert thread_id is not None and run_id is not None
        await _abandon_cancel(transport, thread_id, run_id, self._settings.cancel_timeout)

    # -- consumption -------------------------------------------------------

    def _claim(self, how: str) -> None:
        if self._consumer is not None:
            raise StreamConsumedError(
                f"the stream's events were already consumed by {self._consumer}; "
                f"{how} cannot see them again (events are delivered once)"
            )
        self._consumer = how

    def __aiter__(self) -> RunStream:
        self._claim("async iteration")
        return self

    async def __anext__(self) -> Event:
        item = await self._next()
        if item is None:
            raise StopAsyncIteration
        return item[0]

    @property
    def text_deltas(self) -> AsyncIterator[str]:
        """The non-empty text fragments of text parts, as they arrive.

        Refusals are not text: they are not included (see
        ``AsyncEventHandler.on_refusal_delta``).
        """
        self._claim("text_deltas")
        return _TextDeltas(self._next)

    async def until_done(self) -> None:
        """Consume the rest of the stream (callbacks fire); raise its error if it failed."""
        if self._consumer is None:
            self._consumer = "until_done()"
        while await self._next() is not None:
            pass

    async def final_run(self) -> Run:
        """The run as the stream left it (consumes the rest of the stream if needed)."""
        await self.until_done()
        run = self._accumulator.current_run
        if run is None:
            raise StreamrunError("the stream ended without any run event")
        return run

    async def final_messages(self) -> list[Message]:
        """The messages the stream ended, as their completed objects."""
        await self.until_done()
        return self._accumulator.final_messages()

    async def final_run_steps(self) -> list[RunStep]:
        """Every step the stream ended, with its final status and usage."""
        await self.until_done()
        return self._accumulator.final_run_steps()

    def to_sse(self) -> AsyncIterator[bytes]:
        """The events relayed as server-sent events (see :func:`streamrun.relay.to_sse`)."""
        return _relaying.to_sse(self)

    def to_ndjson(self) -> AsyncIterator[bytes]:
        """The events relayed as JSON lines (see :func:`streamrun.relay.to_ndjson`)."""
        return _relaying.to_ndjson(self)

    # -- control -----------------------------------------------------------

    def _control(self, what: str) -> Transport:
        if self._transport is None:
            raise StreamrunError(
                f"cannot {what}: this stream reads bytes (RunStream.from_bytes), "
                "it has no connection to the server"
            )
        return self._transport

    async def cancel(self) -> Run:
        """Ask the server to cancel the run, then follow the stream to its end.

        Returns the run as the stream left it (normally ``cancelled``). A run
        that already ended is returned as it is, without a request; a run whose
        stream is over but which is not terminal (``requires_action``) is
        cancelled and the cancel reply (``cancelling``) is returned.
        """
        transport = self._control("cancel the run")
        adapter = self._pipeline.adapter
        while adapter.run_id is None or adapter.thread_id is None:
            if await self._next() is None:
                raise StreamrunError("the stream ended before it named its run")
        if self._consumer is None:
            self._consumer = "cancel()"
        run = self._accumulator.current_run
        if run is not None and run.is_terminal:
            return await self.final_run()
        if self._tools is not None:
            self._tools.stop()  # a cancelled run gets no more tool outputs
        raw = await cancel_run(transport, adapter.thread_id, adapter.run_id, max_retries=0)
        if self._pipeline.state is State.ENDED or adapter.settled:
            # The stream is over (e.g. the run waits for tool outputs): nothing more
            # will arrive on it, so the cancel reply is the run's latest state.
            await self.until_done()
            return structure_reply(raw, Run, f"POST cancel run {adapter.run_id}", adapter.run_id)
        return await self.final_run()

    async def recover(self, *, timeout: float = 600.0, poll_interval: float = 0.25) -> RecoveredRun:
        """Fetch the outcome of a run whose stream was cut (no second run is created).

        Polls ``GET .../runs/{run_id}`` with backoff until the run is terminal
        or requires action, then lists its messages.
        """
        transport = self._control("recover the run")
        thread_id, run_id = self.thread_id, self.run_id
        if run_id is None or thread_id is None:
            raise StreamrunError(
                "cannot recover: the stream ended before it named its run and thread"
            )
        return await recover_run(
            transport, thread_id, run_id, timeout=timeout, poll_interval=poll_interval
        )

    # -- state ---------------------------------------------------------------

    @property
    def run_id(self) -> str | None:
        """The run's id, once known."""
        return self._pipeline.adapter.run_id

    @property
    def thread_id(self) -> str | None:
        """The thread's id, once known."""
        return self._pipeline.adapter.thread_id

    @property
    def current_event(self) -> Event | None:
        """The last event delivered."""
        return self._accumulator.current_event

    @property
    def current_run(self) -> Run | None:
        """The run as of the last run event."""
        return self._accumulator.current_run

    @property
    def current_message_snapshot(self) -> Message | None:
        """The message being streamed (or the last one), with everything received."""
        return self._accumulator.current_message_snapshot

    @property
    def current_run_step_snapshot(self) -> RunStep | None:
        """The run step being streamed (or the last one), with everything received."""
        return self._accumulator.current_run_step_snapshot

    @property
    def error(self) -> StreamrunError | None:
        """The error the stream failed with, if any."""
        return self._pipeline.error

    @property
    def done(self) -> bool:
        """True once the stream ended normally."""
        return self._pipeline.state is State.ENDED

    def __repr__(self) -> str:
        state = self._pipeline.state
        shown = state.value if state in _SHOWN_STATES else "open"
        return f"<RunStream run_id={self.run_id!r} thread_id={self.thread_id!r} {shown}>"


_SHOWN_STATES = frozenset({State.ENDED, State.FAILED, State.CLOSED})


class _LoopDriver:
    """What the tool loop (``functions=``) does through its stream: read the run,
    tell the handler, submit the outputs and open the continuation, cancel the run."""

    __slots__ = ("_stream",)

    def __init__(self, stream: RunStream) -> None:
        self._stream = stream

    async def follow(self) -> Segment | None:
        tools = self._stream._tools
        assert tools is not None
        return await tools.follow(self)

    @property
    def current_run(self) -> Run | None:
        return self._stream._accumulator.current_run

    @property
    def loop_handler(self) -> AsyncEventHandler | None:
        return self._stream._handler

    def redact(self, text: str) -> str:
        return self._stream._redact(text)

    def submit_tool_outputs(self, outputs: list[dict[str, str]]) -> Awaitable[Segment]:
        """POST the outputs (one request, streaming); the continuation as the next segment."""
        return self._stream._continue(outputs)

    async def cancel_run(self, *, abandoned: bool) -> None:
        stream = self._stream
        if stream._transport is None or (abandoned and not stream._settings.cancel_on_abandon):
            return
        if stream.thread_id is None or stream.run_id is None:
            return
        await stream._cancel_best_effort()


_ABANDON_TASKS: set[asyncio.Task[None]] = set()
"""Abandon-cancels started by garbage collection, held until done (no task is lost)."""


def _schedule_abandon_cancel(
    loop: asyncio.AbstractEventLoop,
    transport: Transport,
    thread_id: str,
    run_id: str,
    seconds: float,
) -> None:
    """Start ``_abandon_cancel`` on ``loop`` if it still runs (from any thread)."""

    def start() -> None:
        task = loop.create_task(
            _abandon_cancel(transport, thread_id, run_id, seconds, collected=True)
        )
        _ABANDON_TASKS.add(task)
        task.add_done_callback(_ABANDON_TASKS.discard)

    if loop.is_closed() or not loop.is_running():
        return
    try:
        loop.call_soon_threadsafe(start)
    except RuntimeError:  # closed in between
        pass


async def _abandon_cancel(
    transport: Transport, thread_id: str, run_id: str, seconds: float, *, collected: bool = False
) -> None:
    """The best-effort cancel of an abandoned run: no retry, bounded by ``seconds``,
    the outcome logged (a failure is not raised).

    Leaving a stream, the request is shielded from the caller's cancellation
    (:func:`cancel_run_shielded`); ``collected``: the stream was garbage-collected
    unclosed and this runs as a task of its own, where nothing may go unhandled.
    """
    shown = transport.redact(run_id)  # a server chose the id: it could echo the key
    try:
        if collected:
            timeouts = Timeouts(connect=seconds, idle=seconds, total=seconds)
            await cancel_run(transport, thread_id, run_id, max_retries=0, timeouts=timeouts)
        else:
            await cancel_run_shielded(transport, thread_id, run_id, seconds=seconds)
    except StreamrunError as exc:
        # str(exc): a log record holding the exception would keep the stream alive.
        logger.warning("could not cancel abandoned run %s: %s", shown, str(exc))
    except Exception as exc:  # a session closed meanwhile, ...
        if not collected:
            raise
        logger.warning("could not cancel abandoned run %s: %s", shown, type(exc).__name__)
    else:
        logger.info(
            "cancelled abandoned run %s%s", shown, " (its stream was never closed)" * collected
        )


def _unchanged(text: str) -> str:
    return text


def _accumulator_for(handler: AsyncEventHandler | None, run_id: str | None) -> Accumulator:
    """The accumulator of a new stream: the handler's when the stream continues the run
    the handler follows (``run_id``: a submit_tool_outputs continuation), else a new one.

    A handler follows one run: attached to another run's stream (or to a stream
    of a new run) it raises :class:`~streamrun.StreamConsumedError`.
    """
    accumulator = None if handler is None else handler._accumulator
    if accumulator is None:
        return Accumulator()
    run = accumulator.current_run
    if run_id is not None and run is not None and run.id == run_id:
        accumulator.resume()
        return accumulator
    followed = f" (it follows run {run.id})" if run is not None and run.id else ""
    raise StreamConsumedError(
        f"this handler is already attached to a stream{followed}: a handler follows one run, "
        "so pass it only to that run's submit_tool_outputs_stream, or make a new handler"
    )


class _ResponseBytes:
    """An aiohttp response body as the pipeline's byte source.

    Timeouts become :class:`~streamrun.StreamTimeout`, connection errors
    :class:`~streamrun._pipeline.ConnectionLost` (or "the stream was closed" when
    the stream closed it); every chunk goes to ``tap`` first.
    """

    __slots__ = ("_adapter", "_response", "_tap", "_timeouts", "at_eof", "closed")

    def __init__(
        self,
        response: aiohttp.ClientResponse,
        adapter: ProtocolAdapter,
        timeouts: Timeouts,
        tap: Callable[[bytes], None] | None,
    ) -> None:
        self._response = response
        self._adapter = adapter  # to say how far the stream got (and if it can resume)
        self._timeouts = timeouts
        self._tap = tap
        self.at_eof = False
        self.closed = False

    def __aiter__(self) -> _ResponseBytes:
        return self

    async def __anext__(self) -> bytes:
        try:
            chunk = await self._response.content.readany()
        except asyncio.TimeoutError as exc:  # distinct from TimeoutError on 3.10
            raise timeout_error(
                exc, self._timeouts, f"after {self._adapter.position} events"
            ) from exc
        except (aiohttp.ClientError, ConnectionError) as exc:
            if self.closed:
                raise StreamrunError("the stream was closed") from exc
            raise ConnectionLost(f"{type(exc).__name__}: {exc}") from exc
        if not chunk:
            self.at_eof = True
            raise StopAsyncIteration
        if self._tap is not None:
            self._tap(chunk)
        return chunk

    def close(self, ended: bool) -> None:
        """Release the connection after a complete stream, else close it (once)."""
        if self.closed:
            return
        self.closed = True
        if ended and self.at_eof:
            self._response.release()
        else:
            self._response.close()


class _Chunks:
    """Any (async) iterable of bytes as the pipeline's byte source."""

    __slots__ = ("_async", "_sync")

    def __init__(self, chunks: AsyncIterable[bytes] | Iterable[bytes]) -> None:
        self._async: AsyncIterator[bytes] | None = None
        self._sync: Iterator[bytes] | None = None
        if isinstance(chunks, AsyncIterable):
            self._async = aiter(chunks)
        else:
            self._sync = iter(chunks)

    def __aiter__(self) -> _Chunks:
        return self

    async def __anext__(self) -> bytes:
        if self._async is not None:
            return await anext(self._async)
        assert self._sync is not None
        for chunk in self._sync:
            return chunk
        raise StopAsyncIteration

    async def aclose(self) -> None:
        """Close an async generator source (a no-op for anything else)."""
        aclose = getattr(self._async, "aclose", None)
        if aclose is not None:
            await aclose()


class _TextDeltas:
    """Async iterator over text fragments (a class, so nothing needs closing)."""

    __slots__ = ("_next", "_pending")

    def __init__(self, next_item: _Next) -> None:
        self._next = next_item
        self._pending: deque[str] = deque()

    def __aiter__(self) -> _TextDeltas:
        return self

    async def __anext__(self) -> str:
        pending = self._pending
        while not pending:
            item = await self._next()
            if item is None:
                raise StopAsyncIteration
            for callback in item[1]:
                if callback[0] is OnTextDelta:
                    value = callback[1].value
                    if value:
                        pending.append(value)
        return pending.popleft()
