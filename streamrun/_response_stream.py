"""``ResponseStream``: a Responses API stream read as the run-stream events users handle.

A :class:`~streamrun.RunStream` whose protocol adapter is
:class:`~streamrun._protocol_responses.ResponsesProtocol`: the same reading API
(iteration, ``text_deltas``, ``until_done``, ``final_*``, the handler, the
snapshots, the relay), the same errors, over ``POST /responses`` with
``"stream": true``. What the Responses API changes:

* **The end**: a stream is complete after its terminal ``response.*`` event
  (there is no ``data: [DONE]``); one cut before it raises
  :class:`~streamrun.StreamInterrupted` (then :meth:`ResponseStream.recover`).
* **Background responses** (``background=True``) are resumed instead: after a
  drop, a body that ends before the terminal event, or a stall longer than the
  idle timeout, the stream continues
  with ``GET /responses/{id}?stream=true&starting_after=<last sequence_number>``
  — the events already read are skipped, none is missed — up to the client's
  ``max_retries`` consecutive attempts that bring no new event.
* **The tool loop** (``functions=``): the outputs go back as
  ``function_call_output`` input items of a new response, with
  ``previous_response_id`` (or ``conversation`` when the stream used one);
  the same mapper reads every round, so the thread id, steps and snapshots go
  on and the run becomes the newest response.
* **Cancel**: the API cancels only background responses (``POST
  /responses/{id}/cancel``). For any other response, closing the connection
  stops the generation: :meth:`ResponseStream.cancel` closes the stream, and
  cancel-on-abandon sends nothing (leaving the block closes it).
* :meth:`ResponseStream.responses_events` gives the typed Responses events
  themselves.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from typing import Any, ClassVar

import aiohttp
import attrs

from ._exceptions import StreamFailure, StreamrunError, StreamTimeout
from ._handler import AsyncEventHandler
from ._models import Run
from ._options import StreamSettings
from ._pipeline import ConnectionLost, Follow, ProtocolAdapter, Segment, State
from ._protocol_responses import ResponsesProtocol
from ._recover import RecoveredRun
from ._responses_events import ResponseEvent
from ._responses_map import ResponsesMapper, run_and_messages
from ._responses_models import ResponseObject
from ._responses_recover import cancel_response, recover_response, response_path
from ._stream import _ABANDON_TASKS, AdapterFactory, RunStream, _LoopDriver, _ResponseBytes
from ._tool_loop import ToolLoop
from ._transport import Timeouts, Transport
from .sse import DEFAULT_MAX_EVENT_SIZE

__all__ = ["RecoveredResponse", "ResponseStream"]

logger = logging.getLogger("streamrun")

# The mapper each handler's stream reads with: a manual continuation
# (submit_tool_outputs_stream with the same handler) goes on with it.
_MAPPERS: weakref.WeakKeyDictionary[AsyncEventHandler, ResponsesMapper] = (
    weakref.WeakKeyDictionary()
)

# tool_choice values that do not force a call: kept in a tool loop's continuation.
_FREE_CHOICES = (None, "auto", "none")

# Fields of the first request a tool loop's continuation does not repeat.
_NOT_CARRIED = frozenset({"input", "previous_response_id", "conversation", "stream"})


@attrs.frozen(kw_only=True)
class RecoveredResponse(RecoveredRun):
    """The outcome of a recovered response: the final ``response`` (as ``GET
    /responses/{id}`` returns it), and the ``run`` and ``messages`` it maps to."""

    response: ResponseObject


class _ResumableBytes(_ResponseBytes):
    """A background response's body: a stall (the idle timeout) once the stream can
    be resumed is a cut like a dropped connection — the stream resumes after the last
    sequence number — instead of a :class:`~streamrun.StreamTimeout`."""

    __slots__ = ()

    async def __anext__(self) -> bytes:
        try:
            return await super().__anext__()
        except StreamTimeout as exc:
            adapter = self._adapter
            if exc.kind == "idle" and isinstance(adapter, ResponsesProtocol) and adapter.can_resume:
                raise ConnectionLost(str(exc)) from exc
            raise


class ResponseStream(RunStream):
    """The events of one Responses API stream, as run-stream events (see the module).

    Obtain it with ``async with client.responses.stream(...) as stream`` (or
    ``client.responses.submit_tool_outputs_stream``), or over recorded bytes
    with :meth:`from_bytes`. ``run_id`` is the response id (the newest one
    after a tool round); ``thread_id`` the conversation id, else
    ``"thread_" + <the first response id>``.
    """

    _protocol: ClassVar[AdapterFactory] = ResponsesProtocol

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
        self._driver: _LoopDriver | None = None
        self._resumes = 0  # consecutive resume attempts that brought nothing new
        super().__init__(
            transport=transport,
            path=path,
            body=body,
            query=query,
            handler=handler,
            thread_id=thread_id,
            run_id=run_id,
            settings=settings,
            tools=tools,
        )
        adapter = self._responses_adapter()
        if handler is not None:
            known = _MAPPERS.get(handler) if run_id is not None else None
            if known is not None:  # the handler follows the response this stream continues
                adapter.mapper = known
                adapter.thread_id = known.thread_id or adapter.thread_id
            _MAPPERS[handler] = adapter.mapper
        adapter.resumable = transport is not None
        self._mapper = adapter.mapper
        self._background = body.get("background") is True

    @classmethod
    def from_bytes(
        cls,
        chunks: AsyncIterable[bytes] | Iterable[bytes],
        *,
        handler: AsyncEventHandler | None = None,
        max_event_size: int | None = DEFAULT_MAX_EVENT_SIZE,
        thread_id: str | None = None,
        run_id: str | None = None,
    ) -> ResponseStream:
        """A stream that reads a Responses stream's bytes from ``chunks``, with no network.

        The same events, callbacks, snapshots and errors as the same bytes
        from a server; no cancel, recover or resume. Several responses in a row
        (the rounds of a tool loop) read as one stream, as the tool loop reads them.
        """
        stream = super().from_bytes(
            chunks,
            handler=handler,
            max_event_size=max_event_size,
            thread_id=thread_id,
            run_id=run_id,
        )
        assert isinstance(stream, ResponseStream)
        return stream

    async def __aenter__(self) -> ResponseStream:
        await super().__aenter__()
        return self

    def _responses_adapter(self) -> ResponsesProtocol:
        adapter = self._pipeline.adapter
        assert isinstance(adapter, ResponsesProtocol)
        return adapter

    @property
    def response(self) -> ResponseObject | None:
        """The response (the newest round) as of its last status event."""
        return self._mapper.response

    @property
    def last_sequence_number(self) -> int | None:
        """The ``sequence_number`` of the last Responses event read that had one."""
        return self._mapper.last_sequence_number

    # -- reading -------------------------------------------------------------

    def responses_events(self) -> AsyncIterator[ResponseEvent]:
        """The typed Responses events themselves (``ResponseCreatedEvent``,
        ``ResponseOutputTextDeltaEvent`` …), as they arrive.

        Consumes the stream like ``text_deltas`` (the handler still hears
        every mapped event). An ``error`` event raises
        :class:`~streamrun.StreamError` as for the other ways of reading.
        """
        self._claim("responses_events()")
        return _ResponsesEvents(self)

    # -- the seams of RunStream ---------------------------------------------

    def _make_follow(self) -> Follow | None:
        return self._follow

    async def _follow(self) -> Segment | None:
        """A segment ended normally: resume a cut background response, else let the
        tool loop answer the response's calls."""
        adapter = self._responses_adapter()
        if adapter.needs_resume:
            return await self._resume(adapter)
        self._resumes = 0
        if self._tools is None:
            return None
        if self._driver is None:
            self._driver = _LoopDriver(self)
        return await self._tools.follow(self._driver)

    async def _resume(self, adapter: ResponsesProtocol) -> Segment:
        """Continue a cut background response after its last sequence number."""
        settings = self._settings
        if adapter.response_events:
            self._resumes = 0
        self._resumes += 1
        run_id, after = adapter.run_id, adapter.last_sequence_number
        assert run_id is not None and after is not None
        if self._resumes > settings.max_retries:
            raise adapter.interrupted()
        logger.info(
            "resuming background response %s after sequence_number %d",
            self._redact(run_id),
            after,
        )
        query = [("stream", "true"), ("starting_after", str(after)), *self._loop_query]
        try:
            response = await self._send(response_path(run_id), None, query, method="GET")
        except StreamFailure:
            raise
        except StreamrunError as exc:
            raise adapter.interrupted() from exc
        new = ResponsesProtocol(
            max_event_size=settings.max_event_size,
            thread_id=adapter.thread_id,
            run_id=run_id,
            redact=self._redact,
            mapper=adapter.mapper,
            skip_through=after,
            owner=run_id,
        )
        new.resumable = True
        source = self._bytes_of(response, new)
        self._response = source
        return new, source, source.close

    async def _continue(self, outputs: list[dict[str, str]]) -> Segment:
        """The tool loop's round: the outputs as ``function_call_output`` items of a
        new streaming response that continues this one."""
        adapter = self._responses_adapter()
        run_id = adapter.run_id
        assert run_id is not None
        mapper = adapter.mapper
        mapper.set_tool_outputs({o["tool_call_id"]: o["output"] for o in outputs})
        body = continuation_body(self._body, run_id, outputs)
        settings = self._settings
        response = await self._send(self._path, body, self._loop_query)
        new = ResponsesProtocol(
            max_event_size=settings.max_event_size,
            thread_id=adapter.thread_id,
            run_id=run_id,
            redact=self._redact,
            mapper=mapper,
        )
        new.resumable = True
        source = self._bytes_of(response, new)
        self._response = source
        return new, source, source.close

    def _bytes_of(
        self, response: aiohttp.ClientResponse, adapter: ProtocolAdapter
    ) -> _ResponseBytes:
        settings = self._settings
        return _ResumableBytes(response, adapter, settings.timeouts, settings.tap)

    def _is_background(self) -> bool:
        response = self._mapper.response
        if response is not None and response.background is not None:
            return response.background
        return self._background

    def _should_cancel_on_exit(self) -> bool:
        # Only a background response can be cancelled; any other stops when its
        # connection closes (leaving the block closes it).
        return super()._should_cancel_on_exit() and self._is_background()

    async def _cancel_best_effort(self) -> None:
        # Only a background response in progress can be cancelled: one that waits
        # for tool outputs is already complete on the server (nothing to cancel),
        # any other stops with its connection.
        transport = self._transport
        run_id = self.run_id
        assert transport is not None and run_id is not None
        if not self._is_background() or self._responses_adapter().settled:
            return
        seconds = self._settings.cancel_timeout
        timeouts = Timeouts(connect=seconds, idle=seconds, total=seconds)
        task = asyncio.ensure_future(
            cancel_response(transport, run_id, max_retries=0, timeouts=timeouts)
        )
        task.add_done_callback(_seen)
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            await asyncio.wait({task}, timeout=seconds)
            if not task.done():
                task.cancel()
            raise
        except StreamrunError as exc:
            logger.warning(
                "could not cancel abandoned response %s: %s", transport.redact(run_id), str(exc)
            )
        else:
            logger.info("cancelled abandoned response %s", transport.redact(run_id))

    def _schedule_abandon(self, loop: asyncio.AbstractEventLoop, transport: Transport) -> None:
        run_id = self.run_id
        assert run_id is not None
        seconds = self._settings.cancel_timeout

        def start() -> None:
            task = loop.create_task(_abandon_cancel(transport, run_id, seconds))
            _ABANDON_TASKS.add(task)
            task.add_done_callback(_ABANDON_TASKS.discard)

        if loop.is_closed() or not loop.is_running():
            return
        try:
            loop.call_soon_threadsafe(start)
        except RuntimeError:  # closed in between
            pass

    # -- control -------------------------------------------------------------

    async def cancel(self) -> Run:
        """Stop the response, then return the run as the stream left it.

        A background response is cancelled on the server (``POST
        /responses/{id}/cancel``) and the stream is followed to its end
        (normally ``cancelled``). Any other response cannot be cancelled by
        the API: closing its connection stops the generation, so the stream
        is closed (reading it further raises) and the run is returned as it
        was. A response that already ended is returned as it is, without a
        request (and the tool loop answers no more calls).
        """
        transport = self._control("cancel the response")
        while self.run_id is None:
            if await self._next() is None:
                raise StreamrunError("the stream ended before it named its response")
        if self._consumer is None:
            self._consumer = "cancel()"
        if self._tools is not None:
            self._tools.stop()
        adapter = self._responses_adapter()
        if adapter.settled or self._pipeline.state is not State.OPEN:
            return await self.final_run()
        if not self._is_background():
            await self._pipeline.close()
            run = self._accumulator.current_run
            assert run is not None
            return run
        run_id = self.run_id
        assert run_id is not None
        await cancel_response(transport, run_id, max_retries=0)
        return await self.final_run()

    async def recover(
        self, *, timeout: float = 600.0, poll_interval: float = 0.25
    ) -> RecoveredResponse:
        """Fetch the outcome of a response whose stream was cut (no second response).

        Polls ``GET /responses/{id}`` with backoff until the response is
        terminal; returns a :class:`RecoveredResponse`: the final ``response``,
        and the ``run`` and ``messages`` it maps to (``.text``: the assistant's
        text).
        """
        transport = self._control("recover the response")
        run_id = self.run_id
        if run_id is None:
            raise StreamrunError("cannot recover: the stream ended before it named its response")
        response = await recover_response(
            transport, run_id, timeout=timeout, poll_interval=poll_interval
        )
        run, messages = run_and_messages(response, thread_id=self.thread_id)
        return RecoveredResponse(run=run, messages=messages, response=response)

    def __repr__(self) -> str:
        return "<Response" + super().__repr__()[len("<Run") :]


def continuation_body(
    first: dict[str, Any], response_id: str, outputs: list[dict[str, str]]
) -> dict[str, Any]:
    """The body of the request that answers ``response_id``'s calls with ``outputs``.

    The first request's fields are repeated (the API does not carry ``tools``
    or ``instructions`` over) except its input and context; ``tool_choice``
    forcing a call is dropped (it would force one again, forever). The
    context is the same ``conversation`` when the first request had one,
    else ``previous_response_id``.
    """
    body = {k: v for k, v in first.items() if k not in _NOT_CARRIED}
    if body.get("tool_choice") not in _FREE_CHOICES:
        del body["tool_choice"]
    body["input"] = [
        {"type": "function_call_output", "call_id": o["tool_call_id"], "output": o["output"]}
        for o in outputs
    ]
    conversation = first.get("conversation")
    if conversation is not None:
        body["conversation"] = conversation
    else:
        body["previous_response_id"] = response_id
    body["stream"] = True
    return body


def _seen(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()


async def _abandon_cancel(transport: Transport, response_id: str, seconds: float) -> None:
    """The best-effort cancel of a background response whose stream was dropped unclosed."""
    shown = transport.redact(response_id)
    timeouts = Timeouts(connect=seconds, idle=seconds, total=seconds)
    try:
        await cancel_response(transport, response_id, max_retries=0, timeouts=timeouts)
    except StreamrunError as exc:
        logger.warning("could not cancel abandoned response %s: %s", shown, str(exc))
    except Exception as exc:  # a session closed meanwhile, ...: never unhandled
        logger.warning("could not cancel abandoned response %s: %s", shown, type(exc).__name__)
    else:
        logger.info("cancelled abandoned response %s (its stream was never closed)", shown)


class _ResponsesEvents:
    """Async iterator over the typed Responses events behind the mapped events."""

    __slots__ = ("_last", "_stream")

    def __init__(self, stream: ResponseStream) -> None:
        self._stream = stream
        self._last: object = None

    def __aiter__(self) -> _ResponsesEvents:
        return self

    async def __anext__(self) -> ResponseEvent:
        while True:
            item = await self._stream._next()
            if item is None:
                raise StopAsyncIteration
            raw = item[0].raw
            if raw is not self._last and raw is not None:
                self._last = raw
                return raw  # type: ignore[no-any-return]
