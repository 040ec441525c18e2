"""``RunStream``: one run's event stream, read over aiohttp.

The pipeline per chunk of bytes: :class:`~streamrun.sse.SSEDecoder` →
:func:`~streamrun.parse_event` → :class:`~streamrun._accumulate.Accumulator`
→ the handler's callbacks → the caller. Events are processed one at a time
as the caller asks for them, so callbacks and the caller stay in step.

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
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections import deque
from collections.abc import AsyncIterator, Callable
from types import TracebackType
from typing import Any

import aiohttp

from . import _relaying
from ._accumulate import Accumulator, Callback
from ._compat import OpenAIStreamAliases
from ._converter import structure
from ._events import (
    TERMINAL_RUN_EVENTS,
    DoneEvent,
    ErrorEvent,
    Event,
    ThreadCreated,
    parse_event,
    protocol_error,
)
from ._exceptions import (
    APIStatusError,
    ProtocolError,
    StreamConsumedError,
    StreamError,
    StreamFailure,
    StreamInterrupted,
    StreamrunError,
    StreamTimeout,
)
from ._handler import AsyncEventHandler, call_hook, dispatch
from ._models import Message, Run, RunStep
from ._recover import RecoveredRun, recover_run, run_path
from ._transport import Timeouts, Transport, page_excerpt, timeout_error
from .sse import ServerSentEvent, SSEDecoder

__all__ = ["RunStream"]

logger = logging.getLogger("streamrun")


class RunStream(OpenAIStreamAliases):
    """The events of one run, as an async iterator and through a handler.

    Obtain it with ``async with client.runs.stream(...) as stream`` (or
    ``create_and_run_stream`` / ``submit_tool_outputs_stream``). Consume it
    once, in any one of these ways: ``async for event in stream``,
    ``async for text in stream.text_deltas``, ``await stream.until_done()``
    or a ``final_*`` method (these also finish a stream that was partly
    iterated; openai-python's ``get_final_*`` names are aliases). The
    handler's callbacks fire for every event whichever way is used.
    """

    def __init__(
        self,
        *,
        transport: Transport,
        path: str,
        body: dict[str, Any],
        query: list[tuple[str, str]],
        handler: AsyncEventHandler | None,
        thread_id: str | None,
        run_id: str | None,
        max_retries: int,
        timeouts: Timeouts,
        cancel_on_abandon: bool,
        cancel_timeout: float,
        max_event_size: int | None,
        extra_headers: dict[str, str] | None = None,
        tap: Callable[[bytes], None] | None = None,
    ) -> None:
        self._transport = transport
        self._tap = tap
        self._path = path
        self._body = body
        self._query = query
        self._handler = handler
        self._thread_id = thread_id
        self._run_id = run_id
        self._max_retries = max_retries
        self._timeouts = timeouts
        self._cancel_on_abandon = cancel_on_abandon
        self._cancel_timeout = cancel_timeout
        self._extra_headers = extra_headers
        self._decoder = SSEDecoder(max_event_size=max_event_size)
        self._accumulator = Accumulator()
        self._queue: deque[ServerSentEvent] = deque()
        self._response: aiohttp.ClientResponse | None = None
        self._position = 0
        self._eof = False
        self._ended = False  # [DONE] (or a tolerated end after a terminal run event)
        self._settled = False  # a terminal / requires_action run event arrived
        self._error: StreamrunError | None = None
        self._last_event: Event | None = None
        self._consumer: str | None = None
        self._end_notified = False
        self._reading = False
        self._entered = False
        self._closed = False
        self._owners: dict[str, str] = {}  # "run"/"thread" -> the id the stream first named
        if handler is not None:
            handler._attach(self._accumulator)

    # -- context management ------------------------------------------------

    async def __aenter__(self) -> RunStream:
        if self._entered:
            raise StreamConsumedError("this RunStream was already opened; make a new one")
        self._entered = True
        self._loop = asyncio.get_running_loop()
        try:
            response = await self._transport.send(
                "POST",
                self._path,
                json_body=self._body,
                query=self._query,
                accept="text/event-stream",
                max_retries=self._max_retries,
                timeouts=self._timeouts,
                extra_headers=self._extra_headers,
                creates_run=True,
            )
        except StreamTimeout as exc:
            await self._fail(exc, exc.__cause__)
        content_type = response.headers.get("Content-Type", "")
        if not content_type.lower().startswith("text/event-stream"):
            try:
                raw = await response.content.read(2000)
            except (aiohttp.ClientError, asyncio.TimeoutError):
                raw = b""
            response.release()
            text = self._transport.redact(raw.decode("utf-8", "replace"))
            excerpt = page_excerpt(text) or "(empty body)"
            raise APIStatusError(
                f"expected an event stream (text/event-stream), got {content_type or 'no'} "
                f"content type: {excerpt}",
                status=response.status,
                request_id=self._transport.redact(response.headers.get("x-request-id", "")) or None,
                headers=self._transport.redact_headers(response.headers),
            )
        self._response = response
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._should_cancel_on_exit():
                self._close_response()
                await self._cancel_best_effort()
        finally:
            self._close_response()
            if self._response is not None:
                await self._notify_end()

    async def aclose(self) -> None:
        """Close the response (same as leaving the ``async with`` block)."""
        await self.__aexit__(None, None, None)

    def __del__(self, _warn: Any = warnings.warn) -> None:
        # Entered, then dropped without leaving the block: warn, free the connection,
        # and (the run not settled) schedule the abandon-cancel on a running loop.
        if not getattr(self, "_entered", False) or self._closed or self._response is None:
            return
        _warn(
            f"unclosed {self!r}: leave its 'async with' block or call aclose()",
            ResourceWarning,
            source=self,
        )
        cancel = self._should_cancel_on_exit()
        try:
            self._close_response()
        except Exception:  # e.g. its loop is closed already: nothing more to free
            pass
        if cancel:
            assert self._thread_id is not None and self._run_id is not None
            _schedule_abandon_cancel(
                self._loop, self._transport, self._thread_id, self._run_id, self._cancel_timeout
            )

    def _should_cancel_on_exit(self) -> bool:
        if not self._cancel_on_abandon or self._ended or self._settled or self._response is None:
            return False
        if isinstance(self._error, (StreamInterrupted, StreamError)):
            return False
        return self._run_id is not None and self._thread_id is not None

    def _close_response(self) -> None:
        if self._closed:
            return
        self._closed = True
        response = self._response
        if response is None:
            return
        if self._ended and self._eof:
            response.release()
        else:
            response.close()

    async def _cancel_best_effort(self) -> None:
        assert self._thread_id is not None and self._run_id is not None
        run_id = self._run_id
        seconds = self._cancel_timeout
        timeouts = Timeouts(connect=seconds, idle=seconds, total=seconds)
        task = asyncio.ensure_future(
            self._transport.request_json(
                "POST",
                run_path(self._thread_id, run_id) + "/cancel",
                max_retries=0,
                timeouts=timeouts,
            )
        )
        # Whatever happens below, the request's outcome counts as seen (no "Task
        # exception was never retrieved" when it fails after we stopped waiting).
        task.add_done_callback(_retrieve)
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            # Cancelled again while cancelling: give the request its bounded time,
            # so no task outlives the stream, then let the cancellation through.
            await asyncio.wait({task}, timeout=seconds)
            if not task.done():
                task.cancel()
            raise
        except StreamrunError as exc:
            # str(exc): a log record holding the exception would keep the stream alive.
            logger.warning(
                "could not cancel abandoned run %s: %s", self._transport.redact(run_id), str(exc)
            )
        else:
            logger.info("cancelled abandoned run %s", self._transport.redact(run_id))

    # -- the event pipeline ----------------------------------------------

    async def _next(self) -> tuple[Event, list[Callback]] | None:
        """The next event and its callbacks (already dispatched), or None at the end."""
        if self._reading:
            raise StreamConsumedError(
                "another task is reading this stream: its events are delivered once, "
                "to one consumer at a time"
            )
        self._reading = True
        try:
            return await self._next_unguarded()
        finally:
            self._reading = False

    async def _next_unguarded(self) -> tuple[Event, list[Callback]] | None:
        if self._error is not None:
            raise self._error
        if self._response is None:
            if not self._entered:
                raise StreamrunError("use the stream inside 'async with': it is not open yet")
            return None
        while True:
            if self._queue:
                item = await self._handle(self._queue.popleft())
                if item is not None:
                    return item
            elif self._ended:
                return None
            elif self._eof:
                await self._end_of_input()
            else:
                await self._fill()

    async def _fill(self) -> None:
        assert self._response is not None
        try:
            chunk = await self._response.content.readany()
        except asyncio.TimeoutError as exc:  # distinct from TimeoutError on 3.10
            await self._fail(
                timeout_error(exc, self._timeouts, f"after {self._position} events"), exc
            )
        except (aiohttp.ClientError, ConnectionError) as exc:
            if self._closed:
                raise StreamrunError("the stream was closed") from exc
            if self._settled:
                # Cut after the run settled (some servers reset instead of closing):
                # nothing is lost, so it ends like a clean end of input.
                self._eof = True
                self._queue.extend(self._decoder.close())
                return
            error = StreamInterrupted(
                f"the connection was lost after {self._position} events, before [DONE] "
                f"({type(exc).__name__}: {exc})"
            )
            await self._fail(error, exc)
        if self._tap is not None and chunk:
            self._tap(chunk)
        if not chunk:
            self._eof = True
            self._queue.extend(self._decoder.close())
            return
        try:
            self._queue.extend(self._decoder.feed(chunk))
        except ProtocolError as exc:
            await self._fail(exc, None)

    async def _end_of_input(self) -> None:
        if self._settled:
            # Some compatible servers close after the terminal run event without [DONE].
            await self._end()
            return
        where = " in the middle of an event" if self._decoder.incomplete else ""
        await self._fail(
            StreamInterrupted(
                f"the server closed the stream after {self._position} events{where}, "
                "before [DONE] and before the run settled"
            ),
            None,
        )

    async def _handle(self, sse: ServerSentEvent) -> tuple[Event, list[Callback]] | None:
        position = self._position
        self._position = position + 1
        try:
            event = parse_event(sse.event, sse.data, position=position)
        except ProtocolError as exc:
            await self._fail(exc, None)
        if isinstance(event, DoneEvent):
            await self._end()
            return None
        if isinstance(event, ErrorEvent):
            data = event.data
            redact = self._transport.redact
            await self._fail(
                StreamError(
                    redact(data.message),
                    code=data.code and redact(data.code),
                    type=data.type and redact(data.type),
                    param=data.param and redact(data.param),
                ),
                None,
            )
        name = event.event
        if name.startswith("thread.run.") and isinstance(event.data, Run):
            await self._check_owner("run", event.data.id, name, position)
            await self._check_owner("thread", event.data.thread_id, name, position)
            self._run_id = event.data.id or self._run_id
            self._thread_id = event.data.thread_id or self._thread_id
            if name in TERMINAL_RUN_EVENTS:
                self._settled = True
        elif isinstance(event.data, RunStep) and name.startswith("thread.run.step."):
            await self._check_owner("run", event.data.run_id, name, position)
            await self._check_owner("thread", event.data.thread_id, name, position)
        elif isinstance(event, ThreadCreated):
            await self._check_owner("thread", event.data.id, name, position)
            self._thread_id = event.data.id or self._thread_id
        try:
            callbacks = self._accumulator.feed(event)
        except ProtocolError as exc:  # data the accumulator cannot merge
            await self._fail(protocol_error(sse.event, sse.data, position, str(exc)), exc)
        self._last_event = event
        if self._handler is not None:
            await dispatch(self._handler, callbacks)
        return event, callbacks

    async def _check_owner(self, kind: str, got: str | None, name: str, position: int) -> None:
        """A stream belongs to one run and one thread: an event naming another one than
        the stream's first is a ProtocolError (raised before the id is adopted, so
        cancel-on-abandon keeps the first run)."""
        if not got:
            return
        known = self._owners.setdefault(kind, got)
        if got != known:
            await self._fail(
                ProtocolError(
                    f"{name} (#{position} in the stream) names {kind} {got[:80]!r}, but this "
                    f"stream belongs to {kind} {known!r}",
                    event=name,
                    position=position,
                ),
                None,
            )

    async def _end(self) -> None:
        self._ended = True
        self._queue.clear()  # nothing after [DONE] is delivered, whatever the chunking
        callbacks = self._accumulator.end()
        if self._handler is not None:
            await dispatch(self._handler, callbacks)
        await self._notify_end()

    async def _notify_end(self) -> None:
        """Call the handler's ``on_end`` once: at the end, after a failure, or on close."""
        if self._handler is not None and not self._end_notified:
            self._end_notified = True
            await call_hook(self._handler, "on_end")

    async def _fail(self, error: StreamFailure, cause: BaseException | None) -> Any:
        """Record ``error``, close the response, tell the handler, raise ``error``."""
        error.run_id = self._run_id
        error.last_event = self._last_event
        if error.args and isinstance(error.args[0], str):
            error.args = (self._transport.redact(error.args[0]), *error.args[1:])
        if isinstance(error, ProtocolError) and error.excerpt:
            error.excerpt = self._transport.redact(error.excerpt)
        self._error = error
        self._close_response()
        if self._handler is not None:
            if isinstance(error, StreamTimeout):
                await call_hook(self._handler, "on_timeout")
            await call_hook(self._handler, "on_exception", error)
            await self._notify_end()
        raise error from cause

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

    async def cancel(self) -> Run:
        """Ask the server to cancel the run, then follow the stream to its end.

        Returns the run as the stream left it (normally ``cancelled``). A run
        that already ended is returned as it is, without a request; a run whose
        stream is over but which is not terminal (``requires_action``) is
        cancelled and the cancel reply (``cancelling``) is returned.
        """
        while self._run_id is None or self._thread_id is None:
            if await self._next() is None:
                raise StreamrunError("the stream ended before it named its run")
        if self._consumer is None:
            self._consumer = "cancel()"
        run = self._accumulator.current_run
        if run is not None and run.is_terminal:
            return await self.final_run()
        raw = await self._transport.request_json(
            "POST", run_path(self._thread_id, self._run_id) + "/cancel", max_retries=0
        )
        if self._ended or self._settled:
            # The stream is over (e.g. the run waits for tool outputs): nothing more
            # will arrive on it, so the cancel reply is the run's latest state.
            await self.until_done()
            return structure(raw, Run)
        return await self.final_run()

    async def recover(self, *, timeout: float = 600.0, poll_interval: float = 0.25) -> RecoveredRun:
        """Fetch the outcome of a run whose stream was cut (no second run is created).

        Polls ``GET .../runs/{run_id}`` with backoff until the run is terminal
        or requires action, then lists its messages.
        """
        if self._run_id is None or self._thread_id is None:
            raise StreamrunError(
                "cannot recover: the stream ended before it named its run and thread"
            )
        return await recover_run(
            self._transport,
            self._thread_id,
            self._run_id,
            timeout=timeout,
            poll_interval=poll_interval,
        )

    # -- state ---------------------------------------------------------------

    @property
    def run_id(self) -> str | None:
        """The run's id, once known."""
        return self._run_id

    @property
    def thread_id(self) -> str | None:
        """The thread's id, once known."""
        return self._thread_id

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
        return self._error

    @property
    def done(self) -> bool:
        """True once the stream ended normally."""
        return self._ended

    def __repr__(self) -> str:
        state = "ended" if self._ended else "failed" if self._error else "open"
        return f"<RunStream run_id={self._run_id!r} thread_id={self._thread_id!r} {state}>"


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
        task = loop.create_task(_abandon_cancel(transport, thread_id, run_id, seconds))
        _ABANDON_TASKS.add(task)
        task.add_done_callback(_ABANDON_TASKS.discard)

    if loop.is_closed() or not loop.is_running():
        return
    try:
        loop.call_soon_threadsafe(start)
    except RuntimeError:  # closed in between
        pass


async def _abandon_cancel(
    transport: Transport, thread_id: str, run_id: str, seconds: float
) -> None:
    """The best-effort cancel of a run whose stream was garbage-collected unclosed."""
    shown = transport.redact(run_id)  # a server chose the id: it could echo the key
    try:
        await transport.request_json(
            "POST",
            run_path(thread_id, run_id) + "/cancel",
            max_retries=0,
            timeouts=Timeouts(connect=seconds, idle=seconds, total=seconds),
        )
    except StreamrunError as exc:
        logger.warning("could not cancel abandoned run %s: %s", shown, str(exc))
    except Exception as exc:  # a session closed meanwhile, ...: never unhandled
        logger.warning("could not cancel abandoned run %s: %s", shown, type(exc).__name__)
    else:
        logger.info("cancelled abandoned run %s (its stream was never closed)", shown)


def _retrieve(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()


class _TextDeltas:
    """Async iterator over text fragments (a class, so nothing needs closing)."""

    __slots__ = ("_next", "_pending")

    def __init__(self, next_item: Callable[[], Any]) -> None:
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
            for name, args in item[1]:
                if name == "on_text_delta":
                    value = args[0].value
                    if value:
                        pending.append(value)
        return pending.popleft()
