"""The event pipeline of one stream, protocol-neutral and without I/O of its own.

Per chunk of bytes::

    any async iterator of bytes → a ProtocolAdapter (decoding, end rules, error
    mapping) → typed events → the Accumulator → the handler's hooks → the reader

Events are processed one at a time as the reader asks for them (:meth:`Pipeline.next`),
so the handler's callbacks and the reader stay in step. The pipeline knows nothing of
HTTP: :class:`~streamrun.RunStream` drives it over aiohttp (and over plain bytes for
replays), and which protocol's bytes it reads is the adapter's business
(:class:`~streamrun._protocol_runs.RunStreamProtocol` for run streams).

The lifecycle of a stream is one state machine, :class:`State`; every transition
goes through :meth:`Pipeline._to`, checked against :data:`_TRANSITIONS`::

    NEW ─► OPENING ─► OPEN ─► ENDED    the protocol's normal end
     │        │        ├────► FAILED   a StreamFailure (raised again on every read)
     │        │        └────► CLOSED   closed before it ended or failed
     │        ├─────────────► FAILED   e.g. a timeout while sending the request
     │        └─────────────► CLOSED   sending failed otherwise
     └─────────────► OPEN              a byte source given at once (no request)

A stream may span several HTTP responses of one run (a tool loop submits outputs and
reads the continuation): give the pipeline a ``follow`` coroutine function. When a
segment ends normally it is awaited; returning the next :data:`Segment` (adapter,
source, close) makes the pipeline read on from it with the same accumulator and
handler — no ``on_end``, no end callbacks in between — and returning ``None`` ends
the stream.

How a failure is handled, whoever detects it (the adapter, the byte source, the
driver): :meth:`Pipeline.fail` records ``run_id`` and ``last_event`` on it, passes
its message (and a protocol error's excerpt) through ``redact`` (a server may echo
the key), closes the source, calls the handler's ``on_timeout`` (timeouts),
``on_exception`` and ``on_end``, then raises it. ``on_end`` fires once in every case.

A byte source is any async iterator of ``bytes``. It ends with ``StopAsyncIteration``;
it raises :class:`ConnectionLost` when the bytes stopped because the connection broke
(the adapter decides whether that lost anything) and a
:class:`~streamrun.StreamFailure` (e.g. a timeout) to fail the stream with it; any
other exception propagates unchanged.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, NoReturn, Protocol

from ._exceptions import (
    ProtocolError,
    StreamConsumedError,
    StreamFailure,
    StreamrunError,
    StreamTimeout,
)
from ._handler import AsyncEventHandler, call_hook, dispatch

if TYPE_CHECKING:
    from ._accumulate import Accumulator, Callback
    from ._events import Event

__all__ = ["ConnectionLost", "Follow", "Pipeline", "ProtocolAdapter", "Segment", "State"]


class ProtocolAdapter(Protocol):
    """What the pipeline needs from a protocol: bytes in, typed events out, end rules.

    Pure and synchronous (sans-I/O). ``position`` counts the wire events taken so
    far (for messages); ``run_id`` / ``thread_id`` name the run being streamed
    once known; ``settled`` says the run will not go on on this stream (its end
    loses nothing); ``ended`` says the protocol's normal end arrived.
    """

    position: int
    run_id: str | None
    thread_id: str | None
    settled: bool
    ended: bool

    def feed(self, chunk: bytes) -> None:
        """Take bytes (may raise a :class:`~streamrun.StreamFailure`)."""

    def close(self) -> None:
        """The input ended."""

    def next_event(self) -> Event | None:
        """The next event, or ``None`` (more input needed, or :attr:`ended`); may raise
        a :class:`~streamrun.StreamFailure`."""

    def event_rejected(self, why: str) -> StreamFailure:
        """The accumulator could not merge the last event (``why``): the failure naming
        that event as it came on the wire."""

    def end_of_input(self) -> StreamFailure | None:
        """The input ended before :attr:`ended`: ``None`` for a normal end, else the failure."""

    def connection_lost(self, detail: str) -> StreamFailure | None:
        """The connection broke: ``None`` when nothing was lost, else the failure."""


Segment = tuple[ProtocolAdapter, AsyncIterator[bytes], Callable[[bool], None]]
"""One response of a stream: its adapter, its byte source and how to close that source."""

Follow = Callable[[], Awaitable["Segment | None"]]
"""Awaited when a segment ends normally: the next segment of the same run, or ``None``."""


class ConnectionLost(Exception):
    """Raised by a byte source when its bytes stopped because the connection broke.

    ``detail`` says how (it ends up in the :class:`~streamrun.StreamInterrupted`
    message); chain the original exception (``raise ConnectionLost(...) from exc``).
    """

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class State(enum.Enum):
    """Where a stream is in its life (see the module docstring)."""

    NEW = "new"
    OPENING = "opening"
    OPEN = "open"
    ENDED = "ended"
    FAILED = "failed"
    CLOSED = "closed"


_TRANSITIONS: dict[State, frozenset[State]] = {
    State.NEW: frozenset({State.OPENING, State.OPEN}),
    State.OPENING: frozenset({State.OPEN, State.FAILED, State.CLOSED}),
    State.OPEN: frozenset({State.ENDED, State.FAILED, State.CLOSED}),
    State.ENDED: frozenset(),
    State.FAILED: frozenset(),
    State.CLOSED: frozenset(),
}

_OPEN = State.OPEN


def _nothing(ended: bool) -> None:
    pass


def _unchanged(text: str) -> str:
    return text


class Pipeline:
    """Reads one stream's events through an adapter, an accumulator and a handler.

    The accumulator is given, not owned: the caller decides how long it lives
    (one stream, or several streams of one run). The handler, if any, is
    attached to it (unless it already is: a handler following its run).
    """

    __slots__ = (
        "_adapter",
        "_close_source",
        "_end_notified",
        "_exhausted",
        "_follow",
        "_handler",
        "_reading",
        "_redact",
        "_rejected",
        "_source",
        "accumulator",
        "error",
        "last_event",
        "state",
    )

    def __init__(
        self,
        adapter: ProtocolAdapter,
        accumulator: Accumulator,
        handler: AsyncEventHandler | None,
        *,
        follow: Follow | None = None,
        redact: Callable[[str], str] = _unchanged,
    ) -> None:
        self._adapter = adapter
        self._follow = follow
        self._redact = redact
        self.accumulator = accumulator
        self._handler = handler
        self._source: AsyncIterator[bytes] | None = None
        self._close_source: Callable[[bool], None] = _nothing
        self._exhausted = False  # the source ended (or broke after the run settled)
        self._reading = False  # a reader is inside next(): one at a time
        self._end_notified = False  # on_end fired (hooks may raise in between)
        # An event rejected while its hook's exception went to the reader: the
        # failure the next read raises.
        self._rejected: tuple[StreamFailure, ProtocolError] | None = None
        self.state = State.NEW
        self.error: StreamFailure | None = None
        """The failure the stream failed with (state FAILED)."""
        self.last_event: Event | None = None
        """The last event delivered."""
        if handler is not None and handler._accumulator is not accumulator:
            handler._attach(accumulator)

    # -- lifecycle -----------------------------------------------------------

    def _to(self, state: State) -> None:
        """The one place the state changes."""
        if state not in _TRANSITIONS[self.state]:
            raise StreamrunError(f"stream state {self.state.value} cannot become {state.value}")
        self.state = state

    @property
    def adapter(self) -> ProtocolAdapter:
        """The adapter of the segment being read (run and thread ids, settled, ...)."""
        return self._adapter

    @property
    def position(self) -> int:
        """How many wire events were read so far."""
        return self._adapter.position

    def opening(self) -> None:
        """The driver started opening the stream (e.g. sent its request)."""
        self._to(State.OPENING)

    def open(self, source: AsyncIterator[bytes], close: Callable[[bool], None] = _nothing) -> None:
        """Start reading ``source``; ``close(ended)`` (idempotent) stops it when the
        stream fails or is closed (``ended``: the stream had ended normally)."""
        self._source = source
        self._close_source = close
        self._to(State.OPEN)

    async def close(self) -> None:
        """Stop reading (closing the source) and tell the handler the stream is over.

        A stream that ended or failed keeps its state; one opened but not over
        becomes CLOSED. ``on_end`` fires once, and only for a stream that was opened.
        """
        if self.state is _OPEN or self.state is State.OPENING:
            self._to(State.CLOSED)
        self._close_source(self.state is State.ENDED)
        if self._source is not None:
            await self._notify_end()

    def stop_source(self) -> None:
        """Close the source without changing the state (before a last request)."""
        self._close_source(self.state is State.ENDED)

    async def fail(self, error: StreamFailure, cause: BaseException | None) -> NoReturn:
        """Record ``error`` (state FAILED), close the source, tell the handler, raise it.

        A stream closed meanwhile (by another task) stays closed: that is what is
        raised, with ``error`` as its cause.
        """
        if self.state is State.CLOSED:
            raise StreamrunError("the stream was closed") from error
        error.run_id = self._adapter.run_id
        error.last_event = self.last_event
        redact = self._redact
        if error.args and isinstance(error.args[0], str):
            error.args = (redact(error.args[0]), *error.args[1:])
        if isinstance(error, ProtocolError):
            if error.excerpt:
                error.excerpt = redact(error.excerpt)
            if error.event:  # an oversized event's name, say: the server chose it
                error.event = redact(error.event)
        self.error = error
        self._to(State.FAILED)
        self._close_source(False)
        handler = self._handler
        if handler is not None:
            if isinstance(error, StreamTimeout):
                await call_hook(handler, "on_timeout")
            await call_hook(handler, "on_exception", error)
            await self._notify_end()
        raise error from cause

    async def _end(self) -> None:
        self._to(State.ENDED)
        callbacks = self.accumulator.end()
        if self._handler is not None:
            await dispatch(self._handler, callbacks)
        await self._notify_end()

    async def _notify_end(self) -> None:
        """Call the handler's ``on_end`` once: at the end, after a failure, or on close."""
        if self._handler is not None and not self._end_notified:
            self._end_notified = True
            await call_hook(self._handler, "on_end")

    # -- reading ---------------------------------------------------------------

    async def next(self) -> tuple[Event, list[Callback]] | None:
        """The next event and its callbacks (already dispatched), or ``None`` at the end.

        Raises the stream's failure (again, on every call after it failed).
        """
        if self._reading:
            raise StreamConsumedError(
                "another task is reading this stream: its events are delivered once, "
                "to one consumer at a time"
            )
        self._reading = True
        try:
            state = self.state
            if state is not _OPEN:
                if state is State.FAILED:
                    assert self.error is not None
                    raise self.error
                if state is State.NEW:
                    raise StreamrunError("use the stream inside 'async with': it is not open yet")
                if state is State.CLOSED and self._source is not None:
                    raise StreamrunError("the stream was closed")
                return None
            rejected = self._rejected
            if rejected is not None:
                self._rejected = None
                await self.fail(*rejected)
            adapter = self._adapter
            while True:
                try:
                    event = adapter.next_event()
                except StreamFailure as exc:
                    await self.fail(exc, None)
                if event is not None:
                    return event, await self._apply(event)
                if adapter.ended or self._exhausted:
                    if not adapter.ended:
                        failure = adapter.end_of_input()
                        if failure is not None:
                            await self.fail(failure, None)
                    if self._follow is not None and await self._follow_on():
                        adapter = self._adapter
                        continue
                    await self._end()
                    return None
                await self._fill()
        finally:
            self._reading = False

    async def _apply(self, event: Event) -> list[Callback]:
        """Feed ``event`` to the accumulator and its callbacks to the handler; return them.

        With a handler, an event carrying several fragments is applied one
        fragment at a time (:meth:`~streamrun._accumulate.Accumulator.feed_in_steps`),
        each step's hooks called before the next is applied: every hook sees the
        live snapshots as they stand at its own fragment.
        """
        handler = self._handler
        batch: list[Callback] | None
        try:
            if handler is None:
                callbacks = self.accumulator.feed(event)
                self.last_event = event
                return callbacks
            steps = self.accumulator.feed_in_steps(event)
            batch = next(steps)
        except ProtocolError as exc:  # data the accumulator cannot merge
            await self.fail(self._adapter.event_rejected(str(exc)), exc)
        callbacks = []
        while batch is not None:
            callbacks += batch
            try:
                await dispatch(handler, batch)
            except BaseException:
                # A hook raised, or the reader was cancelled: the event is still
                # applied in full (its hook's exception is what the reader gets);
                # a malformed fragment after it fails the stream at the next read.
                try:
                    for _ in steps:
                        pass
                except ProtocolError as exc:
                    self._rejected = (self._adapter.event_rejected(str(exc)), exc)
                self.last_event = event
                raise
            try:
                batch = next(steps, None)
            except ProtocolError as exc:  # the hooks of the fragments before it have run
                await self.fail(self._adapter.event_rejected(str(exc)), exc)
        self.last_event = event
        return callbacks

    async def _follow_on(self) -> bool:
        """A segment ended normally: switch to the next one, if ``follow`` gives one."""
        assert self._follow is not None
        try:
            segment = await self._follow()
        except StreamFailure as exc:
            await self.fail(exc, exc.__cause__)
        if segment is None:
            return False
        self._close_source(True)
        self._adapter, self._source, self._close_source = segment
        self._exhausted = False
        return True

    async def _fill(self) -> None:
        """Read one chunk from the source into the adapter."""
        assert self._source is not None
        adapter = self._adapter
        try:
            chunk = await self._source.__anext__()
        except StopAsyncIteration:
            await self._input_ended()
            return
        except ConnectionLost as exc:
            failure = adapter.connection_lost(exc.detail)
            if failure is not None:
                await self.fail(failure, exc.__cause__)
            await self._input_ended()
            return
        except StreamFailure as exc:
            await self.fail(exc, exc.__cause__)
        try:
            adapter.feed(chunk)
        except StreamFailure as exc:
            await self.fail(exc, None)

    async def _input_ended(self) -> None:
        """No more bytes: close the adapter. A failure only the end reveals (an
        oversized last event) fails the stream like any other."""
        self._exhausted = True
        try:
            self._adapter.close()
        except StreamFailure as exc:
            await self.fail(exc, None)
