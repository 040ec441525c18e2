"""The Responses protocol: Responses API SSE bytes → run-stream events, and how such a stream ends.

Pure and synchronous, the sibling of :mod:`streamrun._protocol_runs` behind the
same :class:`~streamrun._pipeline.ProtocolAdapter` seam (same constructor
keywords), so a :class:`~streamrun.RunStream` reads a Responses stream by
swapping its ``_protocol``. Its job, per segment (one HTTP response):

* decoding: bytes → :class:`~streamrun.sse.SSEDecoder` (``max_event_size``)
  → :func:`~streamrun._responses_events.parse_responses_event` (typed
  Responses events) → :class:`~streamrun._responses_map.ResponsesMapper` →
  a queue of run-stream events, each keeping its Responses event in ``raw``;
* the end rules of the Responses API (there is no ``data: [DONE]``):

  - a terminal ``response.*`` event (completed, incomplete, failed,
    cancelled) *settles* and *ends* the segment once its events were read:
    anything after it is not read;
  - the input ending (or the connection lost) before that is
    :class:`~streamrun.StreamInterrupted` — unless the adapter is
    :attr:`resumable` (a background response whose id and last
    ``sequence_number`` are known): then the cut is not a failure and
    :attr:`needs_resume` says the driver should continue the stream with
    ``GET /responses/{id}?stream=true&starting_after=<n>``;
  - a ``data: [DONE]`` (some compatible servers send one) ends it too;

* error mapping: an ``error`` event (either shape) becomes
  :class:`~streamrun.StreamError` at its :class:`~streamrun.ErrorEvent`
  (fields passed through ``redact``), malformed data a
  :class:`~streamrun.ProtocolError` naming the Responses event;
* identity: the run id is the response id; a segment belongs to one
  response: a status event naming another response than the segment's
  first is a :class:`~streamrun.ProtocolError`. The thread id comes from the
  mapper (the conversation id, else a stable id).

A continuation (a tool round, a resumed background stream) gets a new
adapter sharing the first one's mapper (``mapper=``), so ids, steps and
snapshots go on; ``skip_through`` drops events whose ``sequence_number`` is
not above it (a resumed stream repeating what was already read).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from ._events import DoneEvent, ErrorEvent, Event, protocol_error
from ._exceptions import ProtocolError, StreamError, StreamFailure, StreamInterrupted
from ._redact import cut
from ._responses_events import RESPONSES_TERMINAL_EVENTS, parse_responses_event
from ._responses_map import ResponsesMapper
from ._responses_models import ResponseObject
from .sse import DEFAULT_MAX_EVENT_SIZE, ServerSentEvent, SSEDecoder

_ID_LIMIT = 80  # characters of a server-chosen id shown in a message

__all__ = ["ResponsesProtocol"]


def _unchanged(text: str) -> str:
    return text


class ResponsesProtocol:
    """The protocol adapter of Responses API streams (see the module docstring).

    ``thread_id`` fixes the thread id of a new mapper (responses without a
    conversation); ``run_id`` is the response id known before the first event
    (a continuation: the previous response until the new one is named).
    """

    __slots__ = (
        "_decoder",
        "_last",
        "_out",
        "_owner",
        "_queue",
        "_redact",
        "_skip_through",
        "_terminal",
        "ended",
        "mapper",
        "position",
        "response_events",
        "resumable",
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
        mapper: ResponsesMapper | None = None,
        skip_through: int | None = None,
        owner: str | None = None,
    ) -> None:
        self._decoder = SSEDecoder(max_event_size=max_event_size)
        self._queue: deque[ServerSentEvent] = deque()
        self._out: deque[Event] = deque()
        self._redact = redact
        self._last: ServerSentEvent | None = None
        self._skip_through = skip_through
        self._owner = owner  # the response this segment streams, once named
        self._terminal = False
        self.mapper = mapper if mapper is not None else ResponsesMapper(thread_id=thread_id)
        """The mapper (shared by every segment of one stream)."""
        self.position = 0
        """How many wire events were taken from the input."""
        self.run_id = run_id
        """The response's id, once known."""
        self.thread_id = self.mapper.thread_id or thread_id
        """The thread id of the mapped events, once known."""
        self.settled = False
        """A terminal ``response.*`` event arrived on this segment."""
        self.ended = False
        """The segment ended normally (its terminal event was read, or ``[DONE]``)."""
        self.resumable = False
        """Set by the driver: a cut may be resumed (a background response)."""
        self.response_events: int = 0
        """How many Responses events this segment fed to the mapper."""

    # -- state ---------------------------------------------------------------

    @property
    def response(self) -> ResponseObject | None:
        """The response as of the last status event (of any segment of the mapper)."""
        return self.mapper.response

    @property
    def last_sequence_number(self) -> int | None:
        """The ``sequence_number`` of the last event read that had one."""
        return self.mapper.last_sequence_number

    @property
    def background(self) -> bool:
        """The response is a background one (as its status events say)."""
        response = self.mapper.response
        return response is not None and response.background is True

    @property
    def can_resume(self) -> bool:
        """A cut now could be resumed: resumable, the response and a sequence number known."""
        return (
            self.resumable
            and self.background
            and self.run_id is not None
            and self.mapper.last_sequence_number is not None
        )

    @property
    def needs_resume(self) -> bool:
        """The input ended before the terminal event and the stream can be resumed."""
        return not self.ended and not self.settled and self.can_resume

    # -- input ---------------------------------------------------------------

    def feed(self, chunk: bytes) -> None:
        """Take a chunk of bytes (raises :class:`~streamrun.ProtocolError` for an
        oversized event)."""
        self._queue.extend(self._decoder.feed(chunk))

    def close(self) -> None:
        """The input ended: flush the decoder (an unterminated event is discarded)."""
        self._queue.extend(self._decoder.close())

    def next_event(self) -> Event | None:
        """The next run-stream event, or ``None`` (more input needed, or :attr:`ended`).

        Raises :class:`~streamrun.StreamError` at an ``error`` event and
        :class:`~streamrun.ProtocolError` for malformed data.
        """
        out = self._out
        while not out:
            if self.ended:
                return None
            if self._terminal:
                self.ended = True
                return None
            queue = self._queue
            if not queue:
                return None
            self._take(queue.popleft())
        event = out.popleft()
        if isinstance(event, ErrorEvent):
            data = event.data
            redact = self._redact
            raise StreamError(
                redact(data.message),
                code=data.code and redact(data.code),
                type=data.type and redact(data.type),
                param=data.param and redact(data.param),
            )
        return event

    def _take(self, sse: ServerSentEvent) -> None:
        """Parse and map one wire event into the output queue."""
        self._last = sse
        position = self.position
        self.position = position + 1
        typed = parse_responses_event(sse.event, sse.data, position=position, redact=self._redact)
        seq = getattr(typed, "sequence_number", None)
        skip = self._skip_through
        if skip is not None and isinstance(seq, int) and seq <= skip:
            return  # already read before the stream was resumed
        name = getattr(typed, "type", "")
        response = getattr(typed, "response", None)
        if isinstance(response, ResponseObject) and response.id:
            if self._owner is None:
                self._owner = response.id
            elif response.id != self._owner:
                raise ProtocolError(
                    f"{name} (#{position} in the stream) names response "
                    f"{cut(response.id, _ID_LIMIT, self._redact)!r}, but this stream "
                    f"belongs to response {cut(self._owner, _ID_LIMIT, self._redact)!r}",
                    event=name,
                    position=position,
                )
        if isinstance(typed, DoneEvent):
            self.ended = True  # data: [DONE] from a compatible server
            return
        mapped = self.mapper.feed(typed)
        self.response_events += 1
        if isinstance(response, ResponseObject) and response.id:
            self.run_id = response.id
        self.thread_id = self.mapper.thread_id or self.thread_id
        if name in RESPONSES_TERMINAL_EVENTS:
            self.settled = True
            self._terminal = True
        self._out.extend(mapped)

    # -- the end -------------------------------------------------------------

    def event_rejected(self, why: str) -> StreamFailure:
        """The last event taken could not be accumulated (``why``): the
        :class:`~streamrun.ProtocolError` naming the Responses event."""
        sse = self._last
        if sse is None:  # pragma: no cover - an event is always taken first
            return ProtocolError(why)
        return protocol_error(sse.event, sse.data, self.position - 1, why, self._redact)

    def end_of_input(self) -> StreamFailure | None:
        """The input ended before the terminal event: ``None`` when nothing was lost
        (settled) or the stream will be resumed (:attr:`needs_resume`), else the
        failure."""
        if self.settled or self.can_resume:
            return None
        where = " in the middle of an event" if self._decoder.incomplete else ""
        return StreamInterrupted(
            f"the server closed the stream after {self.position} events{where}, "
            "before the response's terminal event (response.completed, .incomplete, "
            ".failed or .cancelled)"
        )

    def connection_lost(self, detail: str) -> StreamFailure | None:
        """The connection broke: ``None`` when nothing was lost or the stream will be
        resumed, else the failure."""
        if self.settled or self.can_resume:
            return None
        return StreamInterrupted(
            f"the connection was lost after {self.position} events, before the "
            f"response's terminal event ({detail})"
        )

    def interrupted(self) -> StreamInterrupted:
        """The failure of a cut that could not be resumed after all."""
        return StreamInterrupted(
            f"the stream of background response {self.run_id} was cut after "
            f"sequence_number {self.last_sequence_number} and could not be resumed"
        )
