"""The run-stream protocol: Assistants SSE bytes → typed events, and how such a stream ends.

Pure and synchronous, like :mod:`streamrun.sse` (no aiohttp, no asyncio): it
is the protocol adapter :class:`~streamrun._pipeline.Pipeline` drives for run
streams (a Responses adapter plugs into the same seam). Its job, per stream:

* decoding: bytes go through an :class:`~streamrun.sse.SSEDecoder` (with the
  ``max_event_size`` cap) into a queue of server-sent events, each typed by
  :func:`~streamrun.parse_event` only when the reader asks for it;
* the end rules of run streams:

  - ``data: [DONE]`` is the normal end (anything after it is not read);
  - a terminal or ``requires_action`` ``thread.run.*`` event *settles* the
    run: when the input ends (or the connection is lost) after that, nothing
    was missed and the stream ends normally — some compatible servers close
    without ``[DONE]``;
  - the input ending before that is :class:`~streamrun.StreamInterrupted`;

* error mapping: an ``error`` event becomes :class:`~streamrun.StreamError`
  (its fields passed through ``redact``: a server may echo the key),
  malformed or oversized events :class:`~streamrun.ProtocolError` (raised by
  :meth:`RunStreamProtocol.next_event` / :meth:`RunStreamProtocol.feed`);
* identity: the run id and thread id, from the request and then from the
  ``thread.run.*`` and ``thread.created`` events. A stream belongs to one run
  and one thread — the ones its request named when it continues a run
  (``submit_tool_outputs``), else the first ones its events name: a run,
  step, message or thread event naming another one is a
  :class:`~streamrun.ProtocolError` (raised before the id is adopted, so
  cancel-on-abandon never targets another run).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from ._events import (
    TERMINAL_RUN_EVENTS,
    DoneEvent,
    ErrorEvent,
    Event,
    ThreadCreated,
    parse_event,
    protocol_error,
)
from ._exceptions import ProtocolError, StreamError, StreamFailure, StreamInterrupted
from ._models import Message, Run, RunStep
from ._redact import cut
from .sse import DEFAULT_MAX_EVENT_SIZE, ServerSentEvent, SSEDecoder

__all__ = ["RunStreamProtocol"]


_ID_LIMIT = 80  # characters of a server-chosen id shown in a message


def _unchanged(text: str) -> str:
    return text


class RunStreamProtocol:
    """The protocol adapter of Assistants run streams (see the module docstring).

    ``thread_id`` / ``run_id`` are the ids the request named, if any; the
    events update them. ``redact`` scrubs secrets from server text that goes
    into an error.
    """

    __slots__ = (
        "_decoder",
        "_last",
        "_owners",
        "_queue",
        "_redact",
        "_requested_thread",
        "ended",
        "position",
        "run_id",
        "settled",
        "thread_id",
    )

    def __init__(
        self,
        *,
        max_event_size: int | None = DEFAULT_MAX_EVENT_SIZE,
        thread_id: str | None = None,
        run_id: str | None = None,
        redact: Callable[[str], str] = _unchanged,
    ) -> None:
        self._decoder = SSEDecoder(max_event_size=max_event_size)
        self._queue: deque[ServerSentEvent] = deque()
        self._redact = redact
        # "run"/"thread" -> the stream's id: a continuation's (the request named its
        # run and thread), else the first one the events name.
        self._owners: dict[str, str] = {}
        # The thread the request named stays the stream's thread (the cancel and
        # continuation target) whatever the events say.
        self._requested_thread = thread_id
        if run_id:
            self._owners["run"] = run_id
            if thread_id:
                self._owners["thread"] = thread_id
        self._last: ServerSentEvent | None = None  # the wire event taken last
        self.position = 0
        """How many wire events were taken from the input (``[DONE]`` and errors included)."""
        self.run_id = run_id
        """The run's id, once known."""
        self.thread_id = thread_id
        """The thread's id, once known."""
        self.settled = False
        """A terminal or ``requires_action`` run event arrived: the run will not go on
        on this stream, so its end (with or without ``[DONE]``) loses nothing."""
        self.ended = False
        """``[DONE]`` arrived: the stream ended normally."""

    def feed(self, chunk: bytes) -> None:
        """Take a chunk of bytes (raises :class:`~streamrun.ProtocolError` for an
        oversized event)."""
        self._queue.extend(self._decoder.feed(chunk))

    def close(self) -> None:
        """The input ended: flush the decoder (an unterminated event is discarded)."""
        self._queue.extend(self._decoder.close())

    def next_event(self) -> Event | None:
        """The next event, or ``None`` when more input is needed or the stream ended
        (:attr:`ended`).

        Raises :class:`~streamrun.StreamError` for an ``error`` event and
        :class:`~streamrun.ProtocolError` for malformed data.
        """
        queue = self._queue
        if not queue or self.ended:
            return None
        sse = queue.popleft()
        self._last = sse
        position = self.position
        self.position = position + 1
        event = parse_event(sse.event, sse.data, position=position, redact=self._redact)
        if isinstance(event, DoneEvent):
            self.ended = True
            return None
        if isinstance(event, ErrorEvent):
            data = event.data
            redact = self._redact
            raise StreamError(
                redact(data.message),
                code=data.code and redact(data.code),
                type=data.type and redact(data.type),
                param=data.param and redact(data.param),
            )
        name = event.event
        if name.startswith("thread.run.") and isinstance(event.data, Run):
            self._check_owner("run", event.data.id, name, position)
            self._check_owner("thread", event.data.thread_id, name, position)
            self.run_id = event.data.id or self.run_id
            self.thread_id = self._requested_thread or event.data.thread_id or self.thread_id
            if name in TERMINAL_RUN_EVENTS:
                self.settled = True
        elif isinstance(event.data, (RunStep, Message)):  # thread.run.step.* / thread.message.*
            self._check_owner("run", event.data.run_id, name, position)
            self._check_owner("thread", event.data.thread_id, name, position)
        elif isinstance(event, ThreadCreated):
            self._check_owner("thread", event.data.id, name, position)
            self.thread_id = self._requested_thread or event.data.id or self.thread_id
        return event

    def _check_owner(self, kind: str, got: str | None, name: str, position: int) -> None:
        """Raise :class:`~streamrun.ProtocolError` when ``got`` is not the stream's
        first ``kind`` ("run" or "thread")."""
        if not got:
            return
        known = self._owners.setdefault(kind, got)
        if got != known:
            # Redacted before the cut: a server-chosen id may embed the key.
            shown = cut(got, _ID_LIMIT, self._redact)
            raise ProtocolError(
                f"{name} (#{position} in the stream) names {kind} {shown!r}, but this "
                f"stream belongs to {kind} {cut(known, _ID_LIMIT, self._redact)!r}",
                event=name,
                position=position,
            )

    def event_rejected(self, why: str) -> StreamFailure:
        """The last event taken could not be accumulated (``why``): the
        :class:`~streamrun.ProtocolError` naming it, its position and an excerpt."""
        sse = self._last
        if sse is None:  # pragma: no cover - an event is always taken first
            return ProtocolError(why)
        return protocol_error(sse.event, sse.data, self.position - 1, why, self._redact)

    def end_of_input(self) -> StreamFailure | None:
        """The input ended without ``[DONE]`` (after :meth:`close` and every event
        read): ``None`` when that is a normal end, else the failure."""
        if self.settled:
            # Some compatible servers close after the terminal run event without [DONE].
            return None
        where = " in the middle of an event" if self._decoder.incomplete else ""
        return StreamInterrupted(
            f"the server closed the stream after {self.position} events{where}, "
            "before [DONE] and before the run settled"
        )

    def connection_lost(self, detail: str) -> StreamFailure | None:
        """The connection broke (``detail`` says how): ``None`` when nothing can have
        been lost (the run settled: read what arrived, then end normally), else
        the failure."""
        if self.settled:
            # Cut after the run settled (some servers reset instead of closing).
            return None
        return StreamInterrupted(
            f"the connection was lost after {self.position} events, before [DONE] ({detail})"
        )
