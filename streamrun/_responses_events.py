"""Typed events of the Responses API stream, and :func:`parse_responses_event`.

``POST /v1/responses`` with ``"stream": true`` sends ``event: <type>`` /
``data: <json>`` pairs whose JSON repeats the name in ``type`` (RESPONSES.md
§3-4). Each event is a frozen, slotted attrs class carrying its wire name as
a ``Literal`` ``type`` field, its fields typed, ``sequence_number`` (``None``
when the server sends none, as streams from early 2025 do) and the decoded
JSON in ``raw`` (so fields this version does not model, such as ``logprobs``
or the ``obfuscation`` padding, stay reachable). Don't subclass these.

Real servers differ from the spec; all of these are accepted:

* no ``sequence_number`` at all;
* ``error`` with ``code`` / ``message`` / ``param`` at the top level (the
  spec) or nested under ``error`` (the recordings);
* ``response.function_call_arguments.done`` without ``name``;
* streams without ``event:`` lines (the name is then taken from ``type``);
* a resumed stream starting at ``response.queued`` (no ``response.created``);
* event names the spec does not list: they become
  :class:`UnknownResponseEvent` with the name and the decoded data.

Tool progress events (``response.web_search_call.searching`` …) share one
class, :class:`ResponseToolCallProgressEvent`. Event names of the spec that
carry nothing the mapping uses (audio, MCP arguments, custom tool input,
image partials, shell output …) are :class:`UnknownResponseEvent` too.
JSON of the wrong shape in a known event, and JSON nested deeper than 128
levels in any event (known or not), raise :class:`~streamrun.ProtocolError`,
as :func:`streamrun.parse_event` does; an unknown event whose data is not
JSON is kept with the text as its ``data``, as run streams keep it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, Union

import attrs
from attrs import field, frozen

from . import _json
from ._converter import _optional_text, converter
from ._events import DoneEvent, Redact, protocol_error
from ._responses_models import (
    ResponseContentPart,
    ResponseObject,
    ResponseOutputItem,
    ResponseTextAnnotation,
    UnknownResponseAnnotation,
    UnknownResponseContentPart,
    UnknownResponseOutputItem,
)

__all__ = [
    "RESPONSES_TERMINAL_EVENTS",
    "RESPONSE_EVENT_CLASSES",
    "ResponseCancelledEvent",
    "ResponseCodeInterpreterCallCodeDeltaEvent",
    "ResponseCodeInterpreterCallCodeDoneEvent",
    "ResponseCompletedEvent",
    "ResponseContentPartAddedEvent",
    "ResponseContentPartDoneEvent",
    "ResponseCreatedEvent",
    "ResponseErrorEvent",
    "ResponseEvent",
    "ResponseFailedEvent",
    "ResponseFunctionCallArgumentsDeltaEvent",
    "ResponseFunctionCallArgumentsDoneEvent",
    "ResponseInProgressEvent",
    "ResponseIncompleteEvent",
    "ResponseLifecycleEvent",
    "ResponseOutputItemAddedEvent",
    "ResponseOutputItemDoneEvent",
    "ResponseOutputTextAnnotationAddedEvent",
    "ResponseOutputTextDeltaEvent",
    "ResponseOutputTextDoneEvent",
    "ResponseQueuedEvent",
    "ResponseReasoningSummaryPartAddedEvent",
    "ResponseReasoningSummaryPartDoneEvent",
    "ResponseReasoningSummaryTextDeltaEvent",
    "ResponseReasoningSummaryTextDoneEvent",
    "ResponseReasoningTextDeltaEvent",
    "ResponseReasoningTextDoneEvent",
    "ResponseRefusalDeltaEvent",
    "ResponseRefusalDoneEvent",
    "ResponseToolCallProgressEvent",
    "UnknownResponseEvent",
    "is_terminal_responses_event",
    "parse_responses_event",
]


@frozen(kw_only=True)
class ResponseCreatedEvent:
    """``response.created``: A response was created (status ``queued`` or ``in_progress``)."""

    response: ResponseObject = field(factory=ResponseObject)
    sequence_number: int | None = None
    raw: Any = field(default=None, repr=False, eq=False)
    type: Literal["response.created"] = "response.created"


@frozen(kw_only=True)
class ResponseQueuedEvent:
    """``response.queued``: The response waits to be processed (background responses)."""

    response: ResponseObject = field(factory=ResponseObject)
    sequence_number: int | None = None
    raw: Any = field(default=None, repr=False, eq=False)
    type: Literal["response.queued"] = "response.queued"


@frozen(kw_only=True)
class ResponseInProgressEvent:
    """``response.in_progress``: The response is being generated."""

    response: ResponseObject = field(factory=ResponseObject)
    sequence_number: int | None = None
    raw: Any = field(default=None, repr=False, eq=False)
    type: Literal["response.in_progress"] = "response.in_progress"


@frozen(kw_only=True)
class ResponseCompletedEvent:
    """``response.completed``: The response is complete (terminal)."""

    response: ResponseObject = field(factory=ResponseObject)
    sequence_number: int | None = None
    raw: Any = field(default=None, repr=False, eq=False)
    type: Literal["response.completed"] = "response.completed"


@frozen(kw_only=True)
class ResponseIncompleteEvent:
    """``response.incomplete``: The response ended incomplete (terminal)."""

    response: ResponseObject = field(factory=ResponseObject)
    sequence_number: int | None = None
    raw: Any = field(default=None, repr=False, eq=False)
    type: Literal["response.incomplete"] = "response.incomplete"


@frozen(kw_only=True)
class ResponseFailedEvent:
    """``response.failed``: The response failed (terminal); ``response.error`` says why."""

    response: ResponseObject = field(factory=ResponseObject)
    sequence_number: int | None = None
    raw: Any = field(default=None, repr=False, eq=False)
    type: Literal["response.failed"] = "response.failed"


@frozen(kw_only=True)
class ResponseCancelledEvent:
    """``response.cancelled``: The response was cancelled (terminal).

    Not in the spec's event list; accepted in case a server sends it.
    """

    response: ResponseObject = field(factory=ResponseObject)
    sequence_number: int | None = None
    raw: Any = field(default=None, repr=False, eq=False)
    type: Literal["response.cancelled"] = "response.cancelled"


@frozen(kw_only=True)
class ResponseOutputItemAddedEvent:
    """``response.output_item.added``: An output item starts; ``item`` is its first state."""

    output_index: int = 0
    item: ResponseOutputItem = field(factory=UnknownResponseOutputItem)
    sequence_number: int | None = None
    raw: Any = field(default=None, repr=False, eq=False)
    type: Literal["response.output_item.added"] = "response.output_item.added"


@frozen(kw_only=True)
class ResponseOutputItemDoneEvent:
    """``response.output_item.done``: An output item is complete; ``item`` is authoritative."""

    output_index: int = 0
    item: ResponseOutputItem = field(factory=UnknownResponseOutputItem)
    sequence_number: int | None = None
    raw: Any = field(default=None, repr=False, eq=False)
    type: Literal["response.output_item.done"] = "response.output_item.done"


@frozen(kw_only=True)
class ResponseContentPartAddedEvent:
    """``response.content_part.added``: A content part of a message item starts."""

    item_id: str = ""
    output_index: int = 0
    content_index: int = 0
    part: ResponseContentPart = field(factory=UnknownResponseContentPart)
    sequence_number: int | None = None
    raw: Any = field(default=None, repr=False, eq=False)
    type: Literal["response.content_part.added"] = "response.content_part.added"


@frozen(kw_only=True)
class ResponseContentPartDoneEvent:
    """``response.content_part.done``: A content part of a message item is complete."""

    item_id: str = ""
    output_index: int = 0
    content_index: int = 0
    part: ResponseContentPart = field(factory=UnknownResponseContentPart)
    sequence_number: int | None = None
    raw: Any = field(default=None, repr=False, eq=False)
    type: Literal["response.content_part.done"] = "response.content_part.done"


@frozen(kw_only=True)
class ResponseOutputTextDeltaEvent:
    """``response.output_text.delta``:

    A fragment of output text (``obfuscation`` padding, if any, stays in ``raw``).
    """

    item_id: str = ""
    output_index: int = 0
    content_index: int = 0
    delta: str = ""
    sequence_number: int | None = None
    raw: Any = field(default=None, repr=False, eq=False)
    type: Literal["response.output_text.delta"] = "response.output_text.delta"


@frozen(kw_only=True)
class ResponseOutputTextDoneEvent:
    """``response.output_text.done``: The whole text of an output_text part."""

    item_id: str = ""
    output_index: int = 0
    content_index: int = 0
    text: str = ""
    sequence_number: int | None = None
    raw: Any = field(default=None, repr=False, eq=False)
    type: Literal["response.output_text.done"] = "response.output_text.done"


@frozen(kw_only=True)
class ResponseOutputTextAnnotationAddedEvent:
    """``response.output_text.annotation.added``: An annotation was added to an output_text part."""

    item_id: str = ""
    output_index: int = 0
    content_index: int = 0
    annotation_index: int = 0
    annotation: ResponseTextAnnotation = field(factory=UnknownResponseAnnotation)
    sequence_number: int | None = None
    raw: Any = field(default=None, repr=False, eq=False)
    type: Literal["response.output_text.annotation.added"] = "response.output_text.annotation.added"


@frozen(kw_only=True)
class ResponseRefusalDeltaEvent:
    """``response.refusal.delta``: A fragment of a refusal."""

    item_id: str = ""
    output_index: int = 0
    content_index: int = 0
    delta: str = ""
    sequence_number: int | None = None
    raw: Any = field(default=None, repr=False, eq=False)
    type: Literal["response.refusal.delta"] = "response.refusal.delta"


@frozen(kw_only=True)
class ResponseRefusalDoneEvent:
    """``response.refusal.done``: The whole refusal text."""

    item_id: str = ""
    output_index: int = 0
    content_index: int = 0
    refusal: str = ""
    sequence_number: int | None = None
    raw: Any = field(default=None, repr=False, eq=False)
    type: Literal["response.refusal.done"] = "response.refusal.done"


@frozen(kw_only=True)
class ResponseFunctionCallArgumentsDeltaEvent:
    """``response.function_call_arguments.delta``:

    A fragment of a function call's arguments (JSON text).
    """

    item_id: str = ""
    output_index: int = 0
    delta: str = ""
    sequence_number: int | None = None
    raw: Any = field(default=None, repr=False, eq=False)
    type: Literal["response.function_call_arguments.delta"] = (
        "response.function_call_arguments.delta"
    )


@frozen(kw_only=True)
class ResponseFunctionCallArgumentsDoneEvent:
    """``response.function_call_arguments.done``:

    A function call's whole arguments (``name`` is often missing on the wire).
    """

    item_id: str = ""
    output_index: int = 0
    arguments: str = ""
    name: str | None = None
    sequence_number: int | None = None
    raw: Any = field(default=None, repr=False, eq=False)
    type: Literal["response.function_call_arguments.done"] = "response.function_call_arguments.done"


@frozen(kw_only=True)
class ResponseCodeInterpreterCallCodeDeltaEvent:
    """``response.code_interpreter_call_code.delta``:

    A fragment of the code a code_interpreter call runs.
    """

    item_id: str = ""
    output_index: int = 0
    delta: str = ""
    sequence_number: int | None = None
    raw: Any = field(default=None, repr=False, eq=False)
    type: Literal["response.code_interpreter_call_code.delta"] = (
        "response.code_interpreter_call_code.delta"
    )


@frozen(kw_only=True)
class ResponseCodeInterpreterCallCodeDoneEvent:
    """``response.code_interpreter_call_code.done``: The whole code of a code_interpreter call."""

    item_id: str = ""
    output_index: int = 0
    code: str = ""
    sequence_number: int | None = None
    raw: Any = field(default=None, repr=False, eq=False)
    type: Literal["response.code_interpreter_call_code.done"] = (
        "response.code_interpreter_call_code.done"
    )


@frozen(kw_only=True)
class ResponseReasoningSummaryPartAddedEvent:
    """``response.reasoning_summary_part.added``: A reasoning summary part starts."""

    item_id: str = ""
    output_index: int = 0
    summary_index: int = 0
    part: dict[str, Any] | None = None
    sequence_number: int | None = None
    raw: Any = field(default=None, repr=False, eq=False)
    type: Literal["response.reasoning_summary_part.added"] = "response.reasoning_summary_part.added"


@frozen(kw_only=True)
class ResponseReasoningSummaryPartDoneEvent:
    """``response.reasoning_summary_part.done``: A reasoning summary part is complete."""

    item_id: str = ""
    output_index: int = 0
    summary_index: int = 0
    part: dict[str, Any] | None = None
    sequence_number: int | None = None
    raw: Any = field(default=None, repr=False, eq=False)
    type: Literal["response.reasoning_summary_part.done"] = "response.reasoning_summary_part.done"


@frozen(kw_only=True)
class ResponseReasoningSummaryTextDeltaEvent:
    """``response.reasoning_summary_text.delta``: A fragment of a reasoning summary."""

    item_id: str = ""
    output_index: int = 0
    summary_index: int = 0
    delta: str = ""
    sequence_number: int | None = None
    raw: Any = field(default=None, repr=False, eq=False)
    type: Literal["response.reasoning_summary_text.delta"] = "response.reasoning_summary_text.delta"


@frozen(kw_only=True)
class ResponseReasoningSummaryTextDoneEvent:
    """``response.reasoning_summary_text.done``: The whole text of a reasoning summary part."""

    item_id: str = ""
    output_index: int = 0
    summary_index: int = 0
    text: str = ""
    sequence_number: int | None = None
    raw: Any = field(default=None, repr=False, eq=False)
    type: Literal["response.reasoning_summary_text.done"] = "response.reasoning_summary_text.done"


@frozen(kw_only=True)
class ResponseReasoningTextDeltaEvent:
    """``response.reasoning_text.delta``: A fragment of reasoning text (some servers)."""

    item_id: str = ""
    output_index: int = 0
    content_index: int = 0
    delta: str = ""
    sequence_number: int | None = None
    raw: Any = field(default=None, repr=False, eq=False)
    type: Literal["response.reasoning_text.delta"] = "response.reasoning_text.delta"


@frozen(kw_only=True)
class ResponseReasoningTextDoneEvent:
    """``response.reasoning_text.done``: The whole reasoning text of a part."""

    item_id: str = ""
    output_index: int = 0
    content_index: int = 0
    text: str = ""
    sequence_number: int | None = None
    raw: Any = field(default=None, repr=False, eq=False)
    type: Literal["response.reasoning_text.done"] = "response.reasoning_text.done"


@frozen(kw_only=True)
class ResponseErrorEvent:
    """``error``: the server reports an error mid-stream (a ``response.failed`` follows).

    ``code``, ``message``, ``param`` and ``error_type`` are read from the top
    level (the spec) or from a nested ``error`` object (the recordings).
    """

    code: str | None = None
    message: str = ""
    param: str | None = None
    error_type: str | None = None
    sequence_number: int | None = None
    raw: Any = field(default=None, repr=False, eq=False)
    type: Literal["error"] = "error"


TOOL_CALL_PROGRESS_EVENTS = frozenset(
    {
        "response.web_search_call.in_progress",
        "response.web_search_call.searching",
        "response.web_search_call.completed",
        "response.file_search_call.in_progress",
        "response.file_search_call.searching",
        "response.file_search_call.completed",
        "response.code_interpreter_call.in_progress",
        "response.code_interpreter_call.interpreting",
        "response.code_interpreter_call.completed",
        "response.image_generation_call.in_progress",
        "response.image_generation_call.generating",
        "response.image_generation_call.completed",
        "response.mcp_call.in_progress",
        "response.mcp_call.completed",
        "response.mcp_call.failed",
        "response.mcp_list_tools.in_progress",
        "response.mcp_list_tools.completed",
        "response.mcp_list_tools.failed",
    }
)
"""The progress events of hosted tool calls (one class for all)."""


@frozen(kw_only=True)
class ResponseToolCallProgressEvent:
    """A hosted tool call's progress (``response.web_search_call.searching``,
    ``response.file_search_call.completed`` …); ``type`` is the wire name, one
    of :data:`TOOL_CALL_PROGRESS_EVENTS`."""

    type: str
    item_id: str = ""
    output_index: int = 0
    sequence_number: int | None = None
    raw: Any = field(default=None, repr=False, eq=False)


@frozen(kw_only=True)
class UnknownResponseEvent:
    """An event this version does not model: ``type`` is its name, ``data`` the
    decoded JSON (or the raw string when it is not JSON)."""

    type: str
    data: Any
    sequence_number: int | None = None
    raw: Any = field(default=None, repr=False, eq=False)


ResponseLifecycleEvent = Union[
    ResponseCreatedEvent,
    ResponseQueuedEvent,
    ResponseInProgressEvent,
    ResponseCompletedEvent,
    ResponseIncompleteEvent,
    ResponseFailedEvent,
    ResponseCancelledEvent,
]
"""The ``response.*`` status events: each carries the whole :class:`ResponseObject`."""

ResponseEvent = Union[
    ResponseLifecycleEvent,
    ResponseErrorEvent,
    ResponseOutputItemAddedEvent,
    ResponseOutputItemDoneEvent,
    ResponseContentPartAddedEvent,
    ResponseContentPartDoneEvent,
    ResponseOutputTextDeltaEvent,
    ResponseOutputTextDoneEvent,
    ResponseOutputTextAnnotationAddedEvent,
    ResponseRefusalDeltaEvent,
    ResponseRefusalDoneEvent,
    ResponseFunctionCallArgumentsDeltaEvent,
    ResponseFunctionCallArgumentsDoneEvent,
    ResponseCodeInterpreterCallCodeDeltaEvent,
    ResponseCodeInterpreterCallCodeDoneEvent,
    ResponseReasoningSummaryPartAddedEvent,
    ResponseReasoningSummaryPartDoneEvent,
    ResponseReasoningSummaryTextDeltaEvent,
    ResponseReasoningSummaryTextDoneEvent,
    ResponseReasoningTextDeltaEvent,
    ResponseReasoningTextDoneEvent,
    ResponseToolCallProgressEvent,
    UnknownResponseEvent,
]
"""Every event :func:`parse_responses_event` returns (besides ``DoneEvent``)."""

RESPONSE_EVENT_CLASSES: dict[str, type] = {
    "response.created": ResponseCreatedEvent,
    "response.queued": ResponseQueuedEvent,
    "response.in_progress": ResponseInProgressEvent,
    "response.completed": ResponseCompletedEvent,
    "response.incomplete": ResponseIncompleteEvent,
    "response.failed": ResponseFailedEvent,
    "response.cancelled": ResponseCancelledEvent,
    "response.output_item.added": ResponseOutputItemAddedEvent,
    "response.output_item.done": ResponseOutputItemDoneEvent,
    "response.content_part.added": ResponseContentPartAddedEvent,
    "response.content_part.done": ResponseContentPartDoneEvent,
    "response.output_text.delta": ResponseOutputTextDeltaEvent,
    "response.output_text.done": ResponseOutputTextDoneEvent,
    "response.output_text.annotation.added": ResponseOutputTextAnnotationAddedEvent,
    "response.refusal.delta": ResponseRefusalDeltaEvent,
    "response.refusal.done": ResponseRefusalDoneEvent,
    "response.function_call_arguments.delta": ResponseFunctionCallArgumentsDeltaEvent,
    "response.function_call_arguments.done": ResponseFunctionCallArgumentsDoneEvent,
    "response.code_interpreter_call_code.delta": ResponseCodeInterpreterCallCodeDeltaEvent,
    "response.code_interpreter_call_code.done": ResponseCodeInterpreterCallCodeDoneEvent,
    "response.reasoning_summary_part.added": ResponseReasoningSummaryPartAddedEvent,
    "response.reasoning_summary_part.done": ResponseReasoningSummaryPartDoneEvent,
    "response.reasoning_summary_text.delta": ResponseReasoningSummaryTextDeltaEvent,
    "response.reasoning_summary_text.done": ResponseReasoningSummaryTextDoneEvent,
    "response.reasoning_text.delta": ResponseReasoningTextDeltaEvent,
    "response.reasoning_text.done": ResponseReasoningTextDoneEvent,
}
"""Wire name → event class, for every name with a class of its own."""

RESPONSES_TERMINAL_EVENTS = frozenset(
    {"response.completed", "response.incomplete", "response.failed", "response.cancelled"}
)
"""The events that settle a Responses stream: one that closes after any of them is
complete (there is no ``data: [DONE]``); one cut before them was interrupted."""


def is_terminal_responses_event(event: object) -> bool:
    """True when ``event`` (a Responses event) settles the stream."""
    return getattr(event, "type", None) in RESPONSES_TERMINAL_EVENTS


# ---------------------------------------------------------------------------
# Parsing

_MISSING: Any = object()
_FACTORY: type = type(attrs.Factory(list))
_new = object.__new__
_set = object.__setattr__
_Parser = Callable[[dict[str, Any], str], Any]


def _object_only(hook: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """``hook`` for an attrs class, refusing anything but a JSON object (cattrs'
    generated hooks would read a list or a string as an object with defaults)."""

    def structure(value: Any, type_: Any) -> Any:
        if type(value) is not dict:
            raise TypeError(f"expected a JSON object, got {type(value).__name__}")
        return hook(value, type_)

    return structure


def _class_parser(cls: type) -> _Parser:
    """A parser setting each field of ``cls`` from the JSON key of the same name.

    Each value goes through the converter's hook for the field's type; absent
    keys take the field's default. ``type`` is the wire name, ``raw`` the JSON.
    """
    attrs.resolve_types(cls)
    plan: list[tuple[str, Callable[[Any, Any], Any], Any, Any]] = []
    for a in attrs.fields(cls):
        if a.name in ("type", "raw"):
            continue
        default = a.default
        if isinstance(default, _FACTORY):
            default = default.factory  # type: ignore[attr-defined]
        hook = converter.get_structure_hook(a.type)
        if attrs.has(a.type):
            hook = _object_only(hook)
        plan.append((a.name, hook, a.type, default))

    def parse(raw: dict[str, Any], kind: str) -> Any:
        obj: Any = _new(cls)
        get = raw.get
        for name, hook, type_, default in plan:
            value = get(name, _MISSING)
            if value is _MISSING:
                value = default() if callable(default) else default
            else:
                value = hook(value, type_)
            _set(obj, name, value)
        _set(obj, "type", kind)
        _set(obj, "raw", raw)
        return obj

    return parse


_sequence_hook = converter.get_structure_hook(int | None)


def _parse_error(raw: dict[str, Any], kind: str) -> ResponseErrorEvent:
    nested = raw.get("error")
    body = nested if isinstance(nested, dict) else raw
    message = body.get("message")
    if message is None and isinstance(nested, str):
        message = nested
    return ResponseErrorEvent(
        code=_optional_text(body.get("code")),
        message=_optional_text(message) or "",
        param=_optional_text(body.get("param")),
        error_type=_optional_text(body.get("type")) if body is nested else None,
        sequence_number=_sequence_hook(raw.get("sequence_number"), int | None),
        raw=raw,
    )


def _parse_delta(raw: dict[str, Any], kind: str) -> ResponseOutputTextDeltaEvent:
    """The hot path (``response.output_text.delta``): plain fields set directly."""
    get = raw.get
    item_id, delta = get("item_id", ""), get("delta", "")
    output_index, content_index = get("output_index", 0), get("content_index", 0)
    seq = get("sequence_number")
    if not (
        type(item_id) is str
        and type(delta) is str
        and type(output_index) is int
        and type(content_index) is int
        and (seq is None or type(seq) is int)
    ):
        return _GENERIC_DELTA(raw, kind)  # type: ignore[no-any-return]
    obj = _new(ResponseOutputTextDeltaEvent)
    _set(obj, "item_id", item_id)
    _set(obj, "output_index", output_index)
    _set(obj, "content_index", content_index)
    _set(obj, "delta", delta)
    _set(obj, "sequence_number", seq)
    _set(obj, "raw", raw)
    _set(obj, "type", kind)
    return obj


_GENERIC_DELTA = _class_parser(ResponseOutputTextDeltaEvent)
_PARSERS: dict[str, _Parser] = {
    name: _class_parser(cls) for name, cls in RESPONSE_EVENT_CLASSES.items()
}
_PARSERS["response.output_text.delta"] = _parse_delta
_PARSERS["error"] = _parse_error
_progress = _class_parser(ResponseToolCallProgressEvent)
for _name in TOOL_CALL_PROGRESS_EVENTS:
    _PARSERS[_name] = _progress


def parse_responses_event(
    event: str, data: str, *, position: int | None = None, redact: Redact | None = None
) -> ResponseEvent | DoneEvent:
    """Type one server-sent event of a Responses stream.

    ``event`` is the SSE event name (``""`` or ``"message"`` when the server
    sends no ``event:`` line: the JSON's ``type`` names the event then) and
    ``data`` its data; ``position`` (the event's 0-based index in the stream)
    only enriches error messages. Known names become their class, others an
    :class:`UnknownResponseEvent` (its ``data`` the raw string when it is not
    JSON, as run streams' :class:`~streamrun.UnknownEvent`); ``data: [DONE]``
    (some compatible servers send it) a :class:`~streamrun.DoneEvent`.
    Malformed JSON, or JSON of the wrong shape, in a known event, and JSON
    nested deeper than 128 levels (:data:`streamrun._json.MAX_DEPTH`) in any
    event, raise :class:`~streamrun.ProtocolError` naming the event (as the
    ``event:`` line names it), its position and an excerpt of the data
    (``redact`` runs on the data before that excerpt is cut).
    """
    try:
        raw = _json.loads(data)
    except _json.NestingError as exc:
        # Any event, known or not, as run streams: an unknown one is not kept as
        # text (relayed, it would fail every reader at the same limit).
        raise protocol_error(event, data, position, str(exc), redact) from None
    except _json.JSONDecodeError:
        if data.startswith("[DONE]"):
            return DoneEvent(data=data, raw=data)
        if event in _PARSERS:
            raise protocol_error(event, data, position, "malformed JSON", redact) from None
        return UnknownResponseEvent(type=event, data=data, raw=data)
    kind = event
    if type(raw) is dict and (not event or event == "message"):
        tag = raw.get("type")
        if type(tag) is str:
            kind = tag
    parse = _PARSERS.get(kind)
    if parse is None:
        seq = raw.get("sequence_number") if type(raw) is dict else None
        return UnknownResponseEvent(
            type=kind, data=raw, sequence_number=seq if type(seq) is int else None, raw=raw
        )
    if type(raw) is not dict:
        raise protocol_error(kind, data, position, "expected a JSON object", redact)
    try:
        return parse(raw, kind)  # type: ignore[no-any-return]
    except Exception as exc:  # cattrs / type errors: the JSON has the wrong shape
        why = f"unexpected JSON shape ({type(exc).__name__}: {exc})"
        raise protocol_error(kind, data, position, why, redact) from exc
