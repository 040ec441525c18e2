"""One attrs class per stream event, and :func:`parse_event`.

Each class is frozen and slotted, carries its wire name as a ``Literal``
``event`` field, the typed object as ``data`` and the decoded JSON it came
from as ``raw`` (so fields this version does not model stay reachable).
Don't subclass these. An event name this version does not know becomes an
:class:`UnknownEvent`; ``event: done`` (data ``[DONE]``) becomes
:class:`DoneEvent`, which streams never yield.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, Union

from attrs import field, frozen

from . import _json
from ._converter import converter
from ._exceptions import ProtocolError
from ._models import (
    ErrorObject,
    Message,
    MessageDeltaEvent,
    Run,
    RunStep,
    RunStepDeltaEvent,
    Thread,
)
from ._redact import cut

__all__ = [
    "DoneEvent",
    "EVENT_CLASSES",
    "ErrorEvent",
    "Event",
    "MessageEvent",
    "RunEvent",
    "RunStepEvent",
    "TERMINAL_RUN_EVENTS",
    "ThreadCreated",
    "ThreadMessageCompleted",
    "ThreadMessageCreated",
    "ThreadMessageDelta",
    "ThreadMessageInProgress",
    "ThreadMessageIncomplete",
    "ThreadRunCancelled",
    "ThreadRunCancelling",
    "ThreadRunCompleted",
    "ThreadRunCreated",
    "ThreadRunExpired",
    "ThreadRunFailed",
    "ThreadRunInProgress",
    "ThreadRunIncomplete",
    "ThreadRunQueued",
    "ThreadRunRequiresAction",
    "ThreadRunStepCancelled",
    "ThreadRunStepCompleted",
    "ThreadRunStepCreated",
    "ThreadRunStepDelta",
    "ThreadRunStepExpired",
    "ThreadRunStepFailed",
    "ThreadRunStepInProgress",
    "UnknownEvent",
    "parse_event",
    "protocol_error",
]


@frozen(kw_only=True)
class ThreadCreated:
    """``thread.created``: data is a :class:`~streamrun.Thread`."""

    data: Thread
    raw: Any = field(default=None, repr=False, eq=False)
    event: Literal["thread.created"] = "thread.created"


@frozen(kw_only=True)
class ThreadRunCreated:
    """``thread.run.created``: data is a :class:`~streamrun.Run`."""

    data: Run
    raw: Any = field(default=None, repr=False, eq=False)
    event: Literal["thread.run.created"] = "thread.run.created"


@frozen(kw_only=True)
class ThreadRunQueued:
    """``thread.run.queued``: data is a :class:`~streamrun.Run`."""

    data: Run
    raw: Any = field(default=None, repr=False, eq=False)
    event: Literal["thread.run.queued"] = "thread.run.queued"


@frozen(kw_only=True)
class ThreadRunInProgress:
    """``thread.run.in_progress``: data is a :class:`~streamrun.Run`."""

    data: Run
    raw: Any = field(default=None, repr=False, eq=False)
    event: Literal["thread.run.in_progress"] = "thread.run.in_progress"


@frozen(kw_only=True)
class ThreadRunRequiresAction:
    """``thread.run.requires_action``: data is a :class:`~streamrun.Run`."""

    data: Run
    raw: Any = field(default=None, repr=False, eq=False)
    event: Literal["thread.run.requires_action"] = "thread.run.requires_action"


@frozen(kw_only=True)
class ThreadRunCompleted:
    """``thread.run.completed``: data is a :class:`~streamrun.Run`."""

    data: Run
    raw: Any = field(default=None, repr=False, eq=False)
    event: Literal["thread.run.completed"] = "thread.run.completed"


@frozen(kw_only=True)
class ThreadRunIncomplete:
    """``thread.run.incomplete``: data is a :class:`~streamrun.Run`."""

    data: Run
    raw: Any = field(default=None, repr=False, eq=False)
    event: Literal["thread.run.incomplete"] = "thread.run.incomplete"


@frozen(kw_only=True)
class ThreadRunFailed:
    """``thread.run.failed``: data is a :class:`~streamrun.Run`."""

    data: Run
    raw: Any = field(default=None, repr=False, eq=False)
    event: Literal["thread.run.failed"] = "thread.run.failed"


@frozen(kw_only=True)
class ThreadRunCancelling:
    """``thread.run.cancelling``: data is a :class:`~streamrun.Run`."""

    data: Run
    raw: Any = field(default=None, repr=False, eq=False)
    event: Literal["thread.run.cancelling"] = "thread.run.cancelling"


@frozen(kw_only=True)
class ThreadRunCancelled:
    """``thread.run.cancelled``: data is a :class:`~streamrun.Run`."""

    data: Run
    raw: Any = field(default=None, repr=False, eq=False)
    event: Literal["thread.run.cancelled"] = "thread.run.cancelled"


@frozen(kw_only=True)
class ThreadRunExpired:
    """``thread.run.expired``: data is a :class:`~streamrun.Run`."""

    data: Run
    raw: Any = field(default=None, repr=False, eq=False)
    event: Literal["thread.run.expired"] = "thread.run.expired"


@frozen(kw_only=True)
class ThreadRunStepCreated:
    """``thread.run.step.created``: data is a :class:`~streamrun.RunStep`."""

    data: RunStep
    raw: Any = field(default=None, repr=False, eq=False)
    event: Literal["thread.run.step.created"] = "thread.run.step.created"


@frozen(kw_only=True)
class ThreadRunStepInProgress:
    """``thread.run.step.in_progress``: data is a :class:`~streamrun.RunStep`."""

    data: RunStep
    raw: Any = field(default=None, repr=False, eq=False)
    event: Literal["thread.run.step.in_progress"] = "thread.run.step.in_progress"


@frozen(kw_only=True)
class ThreadRunStepDelta:
    """``thread.run.step.delta``: data is a :class:`~streamrun.RunStepDeltaEvent`."""

    data: RunStepDeltaEvent
    raw: Any = field(default=None, repr=False, eq=False)
    event: Literal["thread.run.step.delta"] = "thread.run.step.delta"


@frozen(kw_only=True)
class ThreadRunStepCompleted:
    """``thread.run.step.completed``: data is a :class:`~streamrun.RunStep`."""

    data: RunStep
    raw: Any = field(default=None, repr=False, eq=False)
    event: Literal["thread.run.step.completed"] = "thread.run.step.completed"


@frozen(kw_only=True)
class ThreadRunStepFailed:
    """``thread.run.step.failed``: data is a :class:`~streamrun.RunStep`."""

    data: RunStep
    raw: Any = field(default=None, repr=False, eq=False)
    event: Literal["thread.run.step.failed"] = "thread.run.step.failed"


@frozen(kw_only=True)
class ThreadRunStepCancelled:
    """``thread.run.step.cancelled``: data is a :class:`~streamrun.RunStep`."""

    data: RunStep
    raw: Any = field(default=None, repr=False, eq=False)
    event: Literal["thread.run.step.cancelled"] = "thread.run.step.cancelled"


@frozen(kw_only=True)
class ThreadRunStepExpired:
    """``thread.run.step.expired``: data is a :class:`~streamrun.RunStep`."""

    data: RunStep
    raw: Any = field(default=None, repr=False, eq=False)
    event: Literal["thread.run.step.expired"] = "thread.run.step.expired"


@frozen(kw_only=True)
class ThreadMessageCreated:
    """``thread.message.created``: data is a :class:`~streamrun.Message`."""

    data: Message
    raw: Any = field(default=None, repr=False, eq=False)
    event: Literal["thread.message.created"] = "thread.message.created"


@frozen(kw_only=True)
class ThreadMessageInProgress:
    """``thread.message.in_progress``: data is a :class:`~streamrun.Message`."""

    data: Message
    raw: Any = field(default=None, repr=False, eq=False)
    event: Literal["thread.message.in_progress"] = "thread.message.in_progress"


@frozen(kw_only=True)
class ThreadMessageDelta:
    """``thread.message.delta``: data is a :class:`~streamrun.MessageDeltaEvent`."""

    data: MessageDeltaEvent
    raw: Any = field(default=None, repr=False, eq=False)
    event: Literal["thread.message.delta"] = "thread.message.delta"


@frozen(kw_only=True)
class ThreadMessageCompleted:
    """``thread.message.completed``: data is a :class:`~streamrun.Message`."""

    data: Message
    raw: Any = field(default=None, repr=False, eq=False)
    event: Literal["thread.message.completed"] = "thread.message.completed"


@frozen(kw_only=True)
class ThreadMessageIncomplete:
    """``thread.message.incomplete``: data is a :class:`~streamrun.Message`."""

    data: Message
    raw: Any = field(default=None, repr=False, eq=False)
    event: Literal["thread.message.incomplete"] = "thread.message.incomplete"


@frozen(kw_only=True)
class ErrorEvent:
    """``error``: the server reports an error mid-stream.

    ``data`` is an :class:`~streamrun.ErrorObject`.

    Both shapes of the data are accepted: the bare error object (as the spec
    says) and ``{"error": {...}}`` (as HTTP errors and many clients use).
    Streams do not yield it: they raise :class:`~streamrun.StreamError`.
    """

    data: ErrorObject
    raw: Any = field(default=None, repr=False, eq=False)
    event: Literal["error"] = "error"


@frozen(kw_only=True)
class UnknownEvent:
    """An event whose name this version does not know.

    ``data`` is the decoded JSON, or the raw string when it is not JSON.
    """

    event: str
    data: Any
    raw: Any = field(default=None, repr=False, eq=False)


@frozen(kw_only=True)
class DoneEvent:
    """``done`` / ``data: [DONE]``: the end of the stream (never yielded by streams)."""

    data: str = "[DONE]"
    raw: Any = field(default=None, repr=False, eq=False)
    event: Literal["done"] = "done"


RunEvent = Union[
    ThreadRunCreated,
    ThreadRunQueued,
    ThreadRunInProgress,
    ThreadRunRequiresAction,
    ThreadRunCompleted,
    ThreadRunIncomplete,
    ThreadRunFailed,
    ThreadRunCancelling,
    ThreadRunCancelled,
    ThreadRunExpired,
]
RunStepEvent = Union[
    ThreadRunStepCreated,
    ThreadRunStepInProgress,
    ThreadRunStepCompleted,
    ThreadRunStepFailed,
    ThreadRunStepCancelled,
    ThreadRunStepExpired,
]
MessageEvent = Union[
    ThreadMessageCreated, ThreadMessageInProgress, ThreadMessageCompleted, ThreadMessageIncomplete
]

Event = Union[
    ThreadCreated,
    RunEvent,
    RunStepEvent,
    ThreadRunStepDelta,
    MessageEvent,
    ThreadMessageDelta,
    ErrorEvent,
    UnknownEvent,
]
"""Every event a stream can deliver (``ErrorEvent`` only through :func:`parse_event`)."""

EVENT_CLASSES: dict[str, tuple[Any, type]] = {
    "thread.created": (ThreadCreated, Thread),
    "thread.run.created": (ThreadRunCreated, Run),
    "thread.run.queued": (ThreadRunQueued, Run),
    "thread.run.in_progress": (ThreadRunInProgress, Run),
    "thread.run.requires_action": (ThreadRunRequiresAction, Run),
    "thread.run.completed": (ThreadRunCompleted, Run),
    "thread.run.incomplete": (ThreadRunIncomplete, Run),
    "thread.run.failed": (ThreadRunFailed, Run),
    "thread.run.cancelling": (ThreadRunCancelling, Run),
    "thread.run.cancelled": (ThreadRunCancelled, Run),
    "thread.run.expired": (ThreadRunExpired, Run),
    "thread.run.step.created": (ThreadRunStepCreated, RunStep),
    "thread.run.step.in_progress": (ThreadRunStepInProgress, RunStep),
    "thread.run.step.delta": (ThreadRunStepDelta, RunStepDeltaEvent),
    "thread.run.step.completed": (ThreadRunStepCompleted, RunStep),
    "thread.run.step.failed": (ThreadRunStepFailed, RunStep),
    "thread.run.step.cancelled": (ThreadRunStepCancelled, RunStep),
    "thread.run.step.expired": (ThreadRunStepExpired, RunStep),
    "thread.message.created": (ThreadMessageCreated, Message),
    "thread.message.in_progress": (ThreadMessageInProgress, Message),
    "thread.message.delta": (ThreadMessageDelta, MessageDeltaEvent),
    "thread.message.completed": (ThreadMessageCompleted, Message),
    "thread.message.incomplete": (ThreadMessageIncomplete, Message),
}
"""Wire name → (event class, data class) for every known event except ``error``."""

TERMINAL_RUN_EVENTS = frozenset(
    {
        "thread.run.completed",
        "thread.run.incomplete",
        "thread.run.failed",
        "thread.run.cancelled",
        "thread.run.expired",
        "thread.run.requires_action",
    }
)
"""Run events after which a stream may end (the run is terminal or waits for tool outputs)."""

_EXCERPT = 120

Redact = Callable[[str], str]
"""Scrubs secrets (the API key) from server text before it goes into an error."""


def _build_parsers() -> dict[str, tuple[Any, Callable[[Any, Any], Any], type]]:
    """Wire name → (event class, structure hook, data class): resolved once."""
    return {
        name: (event_cls, converter.get_structure_hook(data_cls), data_cls)
        for name, (event_cls, data_cls) in EVENT_CLASSES.items()
    }


_PARSERS = _build_parsers()
_new = object.__new__
_set = object.__setattr__
_structure_error = converter.get_structure_hook(ErrorObject)


def protocol_error(
    event: str, data: str, position: int | None, why: str, redact: Redact | None = None
) -> ProtocolError:
    """A :class:`~streamrun.ProtocolError` naming the event, its position and an excerpt.

    ``redact`` scrubs secrets from the event name and the data *before* the
    excerpt is cut (a cut key, or a cut ``\\uXXXX`` escape of it, would no
    longer be recognised afterwards).
    """
    if redact is not None:
        event, why = redact(event), redact(why)
    excerpt = cut(data, _EXCERPT, redact)
    where = f"event {event!r}" + (f" (#{position} in the stream)" if position is not None else "")
    return ProtocolError(
        f"{why} in {where}: {excerpt!r}", event=event, position=position, excerpt=excerpt
    )


def parse_event(
    event: str, data: str, *, position: int | None = None, redact: Redact | None = None
) -> Event | DoneEvent:
    """Type one server-sent event of a run stream.

    ``event`` is the SSE event name and ``data`` its data; ``position`` (the
    event's 0-based index in the stream) only enriches error messages. Known
    names become their event class, ``error`` an :class:`ErrorEvent`, ``done``
    (or data ``[DONE]``) a :class:`DoneEvent`, and any other name an
    :class:`UnknownEvent`. Malformed JSON, or JSON of the wrong shape, in a
    known event, and JSON nested deeper than 128 levels in any event, raise
    :class:`~streamrun.ProtocolError` naming the event, its position and an
    excerpt of the data; ``redact`` (e.g. one removing the API key) runs on
    the data before that excerpt is cut.
    """
    entry = _PARSERS.get(event)
    if entry is not None:
        try:
            raw = _json.loads(data)
        except _json.NestingError as exc:
            raise protocol_error(event, data, position, str(exc), redact) from None
        except _json.JSONDecodeError:
            if data.startswith("[DONE]"):
                return DoneEvent(data=data, raw=data)
            raise protocol_error(event, data, position, "malformed JSON", redact) from None
        event_cls, hook, data_cls = entry
        if type(raw) is not dict:
            raise protocol_error(event, data, position, "expected a JSON object", redact)
        try:
            obj = hook(raw, data_cls)
        except Exception as exc:  # cattrs / type errors: the JSON has the wrong shape
            why = f"unexpected JSON shape ({type(exc).__name__}: {exc})"
            raise protocol_error(event, data, position, why, redact) from exc
        # The per-event hot path: set the three slots directly rather than through
        # the frozen attrs __init__ (a third of the cost of building the event);
        # tests check the result equals ``event_cls(data=..., raw=...)``.
        typed = _new(event_cls)
        _set(typed, "data", obj)
        _set(typed, "raw", raw)
        _set(typed, "event", event)
        return typed  # type: ignore[no-any-return]
    if event == "done" or data.startswith("[DONE]"):
        return DoneEvent(data=data, raw=data)
    if event == "error":
        return _parse_error(data, position, redact)
    try:
        raw = _json.loads(data)
    except _json.NestingError as exc:
        raise protocol_error(event, data, position, str(exc), redact) from None
    except _json.JSONDecodeError:
        raw = data
    return UnknownEvent(event=event, data=raw, raw=raw)


def _parse_error(data: str, position: int | None, redact: Redact | None) -> ErrorEvent:
    try:
        raw = _json.loads(data)
    except _json.NestingError as exc:
        raise protocol_error("error", data, position, str(exc), redact) from None
    except _json.JSONDecodeError:
        # An error event whose data is not JSON still reports an error.
        return ErrorEvent(data=ErrorObject(message=data), raw=data)
    body = raw.get("error", raw) if isinstance(raw, dict) else raw
    if isinstance(body, str):
        return ErrorEvent(data=ErrorObject(message=body), raw=raw)
    if not isinstance(body, dict):
        raise protocol_error("error", data, position, "unexpected JSON shape", redact)
    try:
        obj = _structure_error(body, ErrorObject)
    except Exception as exc:
        why = f"unexpected JSON shape ({exc})"
        raise protocol_error("error", data, position, why, redact) from exc
    return ErrorEvent(data=obj, raw=raw)
