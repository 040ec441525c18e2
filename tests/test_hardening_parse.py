"""Hostile payloads (Part 5): nesting, wrong shapes, memory and CPU bounds, [DONE].

Every bad payload is a ``ProtocolError`` (never a raw Python error), one event's
callbacks take memory proportional to the event, accumulation and decoding
scale linearly, and nothing after ``data: [DONE]`` is delivered.
"""

from __future__ import annotations

import asyncio
import copy
import gc
import json
import pickle
import statistics
import time
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any

import attrs
import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings, strategies as st

from streamrun import AsyncClient, AsyncEventHandler, ProtocolError, StreamError
from streamrun._accumulate import Accumulator
from streamrun._converter import converter
from streamrun._events import (
    DoneEvent,
    Event,
    ThreadRunStepDelta,
    UnknownEvent,
    parse_event,
)
from streamrun._handler import dispatch
from streamrun._json import MAX_DEPTH, NestingError, _bounded, _Never
from streamrun._models import (
    Annotation,
    CodeInterpreterOutput,
    MessageContent,
    RunStepDelta,
    RunStepDeltaEvent,
    StepDetails,
    Text,
    TextBuffer,
    ToolCall,
    ToolCallsStepDetailsDelta,
    UnknownAnnotation,
    UnknownCodeInterpreterOutput,
    UnknownContentBlock,
    UnknownStepDetails,
    UnknownToolCall,
    UnknownToolCallDelta,
    _Growth,
)
from streamrun.sse import SSEDecoder

from .conftest import FIXTURES, ReplayServer, Reply

# -- helpers ------------------------------------------------------------------


def sse(*events: tuple[str, Any]) -> bytes:
    """SSE bytes for ``(name, data)`` pairs (data JSON-encoded unless a str)."""
    out = []
    for name, data in events:
        text = data if isinstance(data, str) else json.dumps(data)
        out.append(f"event: {name}\ndata: {text}\n\n")
    return "".join(out).encode()


def parse(name: str, data: str) -> Event:
    """parse_event for an event that is not [DONE]."""
    event = parse_event(name, data)
    assert not isinstance(event, DoneEvent)
    return event


def deep_json(depth: int) -> str:
    return "[" * depth + "]" * depth


RUN = {"id": "run_1", "object": "thread.run", "thread_id": "thread_1", "status": "in_progress"}
STEP = {
    "id": "step_1",
    "object": "thread.run.step",
    "run_id": "run_1",
    "thread_id": "thread_1",
    "type": "tool_calls",
    "status": "in_progress",
    "step_details": {"type": "tool_calls", "tool_calls": []},
}


def step_delta(*calls: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "step_1",
        "object": "thread.run.step.delta",
        "delta": {"step_details": {"type": "tool_calls", "tool_calls": list(calls)}},
    }


def msg_delta(*parts: dict[str, Any], msg_id: str = "msg_1") -> dict[str, Any]:
    return {"id": msg_id, "object": "thread.message.delta", "delta": {"content": list(parts)}}


def client_for(server: ReplayServer) -> AsyncClient:
    return AsyncClient(base_url=server.base_url, api_key="sk-test-key", max_retries=0)


class Recorder(AsyncEventHandler):
    """Records on_exception and on_end, and every event delivered."""

    def __init__(self) -> None:
        self.exceptions: list[Exception] = []
        self.events: list[str] = []
        self.ends = 0

    async def on_event(self, event: Any) -> None:
        self.events.append(event.event)

    async def on_exception(self, exception: Exception) -> None:
        self.exceptions.append(exception)

    async def on_end(self) -> None:
        self.ends += 1


async def read_to_protocol_error(stream: Any) -> ProtocolError:
    """Read ``stream`` until it raises its ProtocolError; check that ``stream.error``
    is that error and that ``final_run()`` / ``final_messages()`` raise it again."""
    with pytest.raises(ProtocolError) as info:
        async for _ in stream:
            pass
    error = info.value
    assert stream.error is error
    with pytest.raises(ProtocolError) as again:
        await stream.final_run()
    assert again.value is error
    with pytest.raises(ProtocolError):
        await stream.final_messages()
    return error


async def stream_fails(server: ReplayServer, body: bytes, chunk_size: int = 4096) -> None:
    """Stream ``body``: it must fail with one ProtocolError, seen by on_exception
    once, kept in ``stream.error`` and re-raised by ``final_*``."""
    server.replies.append(Reply(body=body, chunk_size=chunk_size))
    handler = Recorder()
    async with client_for(server) as client:
        async with client.runs.stream("thread_1", assistant_id="asst_1", handler=handler) as s:
            error = await read_to_protocol_error(s)
    assert handler.exceptions == [error]
    assert handler.ends == 1
    assert error.event is not None and error.position is not None
    assert error.excerpt is not None and error.excerpt in str(error)


# -- §1: nesting ---------------------------------------------------------------


def _backends() -> list[tuple[str, Callable[[str | bytes], Any]]]:
    backends = [("json", _bounded(json.loads, fallback_on=_Never))]
    try:
        import orjson
    except ImportError:  # pragma: no cover - orjson is in the test extra
        return backends
    backends.append(("orjson", _bounded(orjson.loads, json.loads, orjson.JSONDecodeError)))
    return backends


@pytest.mark.parametrize(("backend", "loads"), _backends(), ids=lambda v: str(v)[:6])
@pytest.mark.parametrize("as_bytes", [False, True])
def test_json_nesting_limit_in_both_backends(
    backend: str, loads: Callable[[str | bytes], Any], as_bytes: bool
) -> None:
    def load(text: str) -> Any:
        return loads(text.encode() if as_bytes else text)

    assert load(deep_json(MAX_DEPTH)) is not None
    ok = '{"a":' * (MAX_DEPTH - 1) + "{}" + "}" * (MAX_DEPTH - 1)
    assert isinstance(load(ok), dict)
    for depth in (MAX_DEPTH + 1, 1000, 1100, 100_000):
        with pytest.raises(NestingError):
            load(deep_json(depth))
        with pytest.raises(NestingError):
            load('{"a":' * depth + "1" + "}" * depth)
    # Brackets inside strings do not count.
    assert load(json.dumps({"code": "[" * 10_000})) == {"code": "[" * 10_000}


@pytest.mark.parametrize(
    "name", ["thread.run.in_progress", "thread.message.delta", "thread.future", "error"]
)
@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 100_000])
def test_deep_json_in_any_event_is_a_protocol_error(name: str, depth: int) -> None:
    data = '{"id":"x","extra":' + deep_json(depth) + "}"
    with pytest.raises(ProtocolError) as info:
        parse_event(name, data, position=3)
    assert info.value.event == name
    assert info.value.position == 3
    assert info.value.excerpt == data[:120] + "…"
    assert "nested deeper than 128" in str(info.value)


@pytest.mark.asyncio
@pytest.mark.parametrize("depth", [300, 100_000])
@pytest.mark.parametrize("where", ["unknown tool call", "run", "unknown event", "error"])
async def test_deep_json_fails_the_stream_once(
    replay_server: ReplayServer, depth: int, where: str
) -> None:
    deep = json.loads(deep_json(min(depth, 500))) if depth < 1000 else None
    if where == "unknown tool call" and deep is not None:
        bad = ("thread.run.step.delta", step_delta({"index": 0, "type": "browser", "x": deep}))
        body = sse(("thread.run.created", RUN), ("thread.run.step.created", STEP), bad)
    else:
        name = {
            "unknown tool call": "thread.run.step.delta",
            "run": "thread.run.in_progress",
            "unknown event": "thread.future",
            "error": "error",
        }[where]
        body = sse(("thread.run.created", RUN)) + sse((name, '{"x":' + deep_json(depth) + "}"))
    await stream_fails(replay_server, body + sse(("done", "[DONE]")))


def _unknown_call_event(raw: dict[str, Any]) -> ThreadRunStepDelta:
    call = UnknownToolCallDelta(index=0, type="browser", raw=raw)
    details = ToolCallsStepDetailsDelta(tool_calls=[call])
    return ThreadRunStepDelta(
        data=RunStepDeltaEvent(id="step_1", delta=RunStepDelta(step_details=details))
    )


def test_accumulator_copies_and_merges_are_bounded() -> None:
    """The accumulator's own copies / merges enforce the limit too (events built
    without parse_event, e.g. by a test double)."""
    deep: Any = 1
    for _ in range(400):
        deep = {"a": deep}
    acc = Accumulator()
    with pytest.raises(ProtocolError) as info:
        acc.feed(_unknown_call_event({"index": 0, "type": "browser", "x": deep}))
    assert info.value.event == "thread.run.step.delta"
    # Merged into an existing call (the merge path).
    acc = Accumulator()
    acc.feed(_unknown_call_event({"index": 0, "type": "browser", "x": {"a": {}}}))
    with pytest.raises(ProtocolError):
        acc.feed(_unknown_call_event({"index": 0, "x": {"a": deep}}))
    with pytest.raises(ProtocolError):
        acc.feed(_unknown_call_event({"index": 0, "x": {"a": [deep]}}))


# -- §1: wrong shapes ----------------------------------------------------------


def feed_all(events: list[tuple[str, str]]) -> None:
    """parse_event + Accumulator over ``events``; only ProtocolError may escape."""
    acc = Accumulator()
    for position, (name, data) in enumerate(events):
        event = parse_event(name, data, position=position)
        if isinstance(event, DoneEvent):
            acc.end()
            return
        acc.feed(event)
        if isinstance(event, UnknownEvent):
            continue
    acc.end()


WRONG_SHAPES = [
    # A continuation fragment (no type) of a function call whose function is a number.
    [
        ("thread.run.step.delta", step_delta({"index": 0, "type": "function", "id": "c"})),
        ("thread.run.step.delta", step_delta({"index": 0, "function": 5})),
    ],
    # A file_search result that is not an object.
    [
        (
            "thread.run.step.delta",
            step_delta({"index": 0, "type": "file_search", "file_search": {"results": [7]}}),
        )
    ],
    [
        (
            "thread.run.step.delta",
            step_delta({"index": 0, "type": "file_search", "file_search": {"results": {"a": 1}}}),
        )
    ],
    [
        (
            "thread.run.step.delta",
            step_delta(
                {"index": 0, "type": "file_search", "file_search": {"ranking_options": "x"}}
            ),
        )
    ],
    # A continuation of a text part whose text is a list.
    [
        ("thread.message.delta", msg_delta({"index": 0, "type": "text", "text": {"value": "a"}})),
        ("thread.message.delta", msg_delta({"index": 0, "text": ["x"]})),
    ],
    # A code interpreter output continuation whose logs is an object.
    [
        (
            "thread.run.step.delta",
            step_delta(
                {
                    "index": 0,
                    "type": "code_interpreter",
                    "code_interpreter": {"outputs": [{"index": 0, "type": "logs", "logs": "a"}]},
                }
            ),
        ),
        (
            "thread.run.step.delta",
            step_delta(
                {"index": 0, "code_interpreter": {"outputs": [{"index": 0, "logs": {"x": 1}}]}}
            ),
        ),
    ],
    # metadata given as a list of pairs is not an object.
    [("thread.run.created", {**RUN, "metadata": [["a", "b"]]})],
]


@pytest.mark.parametrize("events", WRONG_SHAPES)
def test_wrong_shapes_are_protocol_errors(events: list[tuple[str, Any]]) -> None:
    with pytest.raises(ProtocolError):
        feed_all([(name, json.dumps(data)) for name, data in events])


@pytest.mark.asyncio
@pytest.mark.parametrize("events", WRONG_SHAPES[:3])
async def test_wrong_shapes_fail_the_stream_once(
    replay_server: ReplayServer, events: list[tuple[str, Any]]
) -> None:
    body = sse(("thread.run.created", RUN), ("thread.run.step.created", STEP), *events)
    await stream_fails(replay_server, body + sse(("done", "[DONE]")), chunk_size=7)


def _transcripts() -> list[list[tuple[str, Any]]]:
    """Every recorded transcript, plus one that covers the remaining delta types."""
    out = []
    for path in sorted(FIXTURES.glob("*.sse")):
        events = []
        for block in path.read_text().split("\n\n"):
            name = data = None
            for line in block.split("\n"):
                if line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: "):
                    data = line[6:]
            if name and data is not None and name not in ("done", "error"):
                events.append((name, json.loads(data)))
        out.append(events)
    text = {
        "index": 0,
        "type": "text",
        "text": {
            "value": "a",
            "annotations": [
                {
                    "index": 0,
                    "type": "file_citation",
                    "text": "x",
                    "start_index": 0,
                    "end_index": 1,
                    "file_citation": {"file_id": "f", "quote": "q"},
                },
                {"index": 1, "type": "file_path", "text": "y", "file_path": {"file_id": "g"}},
                {"index": 2, "type": "future_annotation", "v": {"w": [1]}},
            ],
        },
    }
    synthetic = [
        ("thread.run.created", RUN),
        (
            "thread.message.created",
            {
                "id": "msg_1",
                "object": "thread.message",
                "status": "in_progress",
                "role": "assistant",
                "content": [],
            },
        ),
        ("thread.message.delta", msg_delta(text, {"index": 0, "text": {"value": "b"}})),
        (
            "thread.message.delta",
            msg_delta(
                {"index": 1, "type": "refusal", "refusal": "no"}, {"index": 1, "refusal": "pe"}
            ),
        ),
        (
            "thread.message.delta",
            msg_delta(
                {"index": 2, "type": "image_file", "image_file": {"file_id": "f", "detail": "low"}},
                {"index": 3, "type": "image_url", "image_url": {"url": "u", "detail": "high"}},
                {"index": 4, "type": "future_part", "data": {"k": "v", "l": [{"index": 0}]}},
                {"index": 4, "data": {"k": "w"}},
            ),
        ),
        (
            "thread.message.completed",
            {
                "id": "msg_1",
                "object": "thread.message",
                "status": "completed",
                "content": [{"type": "text", "text": {"value": "ab"}}],
            },
        ),
        ("thread.run.step.created", STEP),
        (
            "thread.run.step.delta",
            step_delta(
                {
                    "index": 0,
                    "type": "function",
                    "id": "c1",
                    "function": {"name": "f", "arguments": "{", "output": None},
                },
                {"index": 0, "function": {"arguments": "}"}},
                {
                    "index": 1,
                    "type": "code_interpreter",
                    "id": "c2",
                    "code_interpreter": {
                        "input": "x",
                        "outputs": [
                            {"index": 0, "type": "logs", "logs": "l"},
                            {"index": 1, "type": "image", "image": {"file_id": "i"}},
                            {"index": 2, "type": "future_output", "z": 1},
                        ],
                    },
                },
                {
                    "index": 2,
                    "type": "file_search",
                    "id": "c3",
                    "file_search": {
                        "ranking_options": {"ranker": "auto", "score_threshold": 0.5},
                        "results": [
                            {
                                "file_id": "f",
                                "file_name": "n",
                                "score": 0.9,
                                "content": [{"type": "text", "text": "t"}],
                            }
                        ],
                    },
                },
                {"index": 3, "type": "browser", "id": "c4", "browser": {"url": "u"}},
            ),
        ),
        (
            "thread.run.step.delta",
            {
                "id": "step_1",
                "delta": {
                    "step_details": {
                        "type": "message_creation",
                        "message_creation": {"message_id": "msg_1"},
                    }
                },
            },
        ),
        (
            "thread.run.step.delta",
            {"id": "step_2", "delta": {"step_details": {"type": "future_details", "x": {"y": 1}}}},
        ),
        (
            "thread.run.requires_action",
            {
                **RUN,
                "status": "requires_action",
                "required_action": {
                    "type": "submit_tool_outputs",
                    "submit_tool_outputs": {
                        "tool_calls": [
                            {
                                "id": "c1",
                                "type": "function",
                                "function": {"name": "f", "arguments": "{}"},
                            },
                            {
                                "id": "c9",
                                "type": "function",
                                "function": {"name": "g", "arguments": "{}"},
                            },
                        ]
                    },
                },
            },
        ),
        (
            "thread.run.step.completed",
            {
                **STEP,
                "status": "completed",
                "step_details": {
                    "type": "tool_calls",
                    "tool_calls": [
                        {
                            "id": "c1",
                            "type": "function",
                            "function": {"name": "f", "arguments": "{}"},
                        }
                    ],
                },
            },
        ),
        ("thread.run.completed", {**RUN, "status": "completed"}),
    ]
    out.append(synthetic)
    return out


TRANSCRIPTS = _transcripts()


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path (keys and list positions) to every value inside ``value``."""
    if isinstance(value, dict):
        for key, child in value.items():
            yield (*prefix, key)
            yield from paths(child, (*prefix, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield (*prefix, i)
            yield from paths(child, (*prefix, i))


_KEYS = st.sampled_from(
    [
        "index",
        "type",
        "id",
        "text",
        "value",
        "annotations",
        "function",
        "name",
        "arguments",
        "output",
        "code_interpreter",
        "input",
        "outputs",
        "logs",
        "image",
        "file_id",
        "file_search",
        "results",
        "content",
        "delta",
        "step_details",
        "tool_calls",
        "refusal",
        "image_file",
        "image_url",
        "url",
        "detail",
        "role",
        "status",
        "metadata",
        "usage",
        "required_action",
        "submit_tool_outputs",
        "message_creation",
        "message_id",
        "x",
    ]
)
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**400), max_value=10**400)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8)
    | st.sampled_from(
        [
            "text",
            "function",
            "file_search",
            "code_interpreter",
            "logs",
            "image",
            "refusal",
            "image_file",
            "image_url",
            "tool_calls",
            "message_creation",
            "file_citation",
            "file_path",
            "requires_action",
        ]
    ),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(_KEYS | st.text(max_size=4), children, max_size=4)
    ),
    max_leaves=12,
)


def _get_path(value: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        value = value[key]
    return value


def _is_fragment(value: Any) -> bool:
    return isinstance(value, dict) and "index" in value and "type" in value


def _set_path(value: Any, path: tuple[Any, ...], new: Any, delete: bool) -> None:
    for key in path[:-1]:
        value = value[key]
    if delete:
        del value[path[-1]]
    else:
        value[path[-1]] = new


@st.composite
def mutated_transcripts(draw: st.DrawFn) -> list[tuple[str, str]]:
    events = copy.deepcopy(draw(st.sampled_from(TRANSCRIPTS)))
    for _ in range(draw(st.integers(1, 3))):
        k = draw(st.integers(0, len(events) - 1))
        name, data = events[k]
        choices = list(paths(data))
        fragments = [p for p in choices if _is_fragment(_get_path(data, p))]
        mode = draw(st.sampled_from(["replace", "replace", "delete", "whole", "continuation"]))
        if mode == "whole" or not choices:
            events[k] = (name, draw(JSON_VALUES))
            continue
        if mode == "continuation" and fragments:
            # A fragment without "type" extends the object at its index (it is
            # structured later, by the accumulator): wrong shapes there too.
            original = copy.deepcopy(data)
            fragment = _get_path(data, draw(st.sampled_from(fragments)))
            fragment.pop("type", None)
            key = draw(st.sampled_from(sorted(fragment)))
            if key != "index":
                fragment[key] = draw(JSON_VALUES)
            events.insert(k, (name, original))
            continue
        path = draw(st.sampled_from(choices))
        _set_path(data, path, draw(JSON_VALUES), mode == "delete")
        if draw(st.booleans()):
            # Also deliver the event a second time: merges into existing state.
            events.insert(k + 1, (name, copy.deepcopy(data)))
    return [(name, json.dumps(data)) for name, data in events]


def _json_values(value: Any) -> Iterator[Any]:
    """``value`` and every value inside it (JSON)."""
    yield value
    if type(value) is dict:
        for child in value.values():
            yield from _json_values(child)
    elif type(value) is list:
        for child in value:
            yield from _json_values(child)


def _model_strings(value: Any) -> Iterator[str]:
    """Every string a parsed model holds in its typed fields (a TextBuffer as its
    text); JSON kept as is (``raw``, ``metadata``, unknown objects' data) is skipped."""
    if type(value) is str:
        yield value
    elif isinstance(value, TextBuffer):
        yield str(value)
    elif isinstance(value, (list, tuple)):
        for child in value:
            yield from _model_strings(child)
    elif attrs.has(type(value)):
        for field in attrs.fields(type(value)):
            if field.name not in ("raw", "data") or attrs.has(type(getattr(value, field.name))):
                yield from _model_strings(getattr(value, field.name))


def _never_stringified(strings: Iterator[str], raws: list[Any], *, inside: bool) -> None:
    """No string field holds the ``str()`` of a JSON object, array, number, bool
    or null the server sent (unless the server also sent that very text as a
    string). ``inside``: also not as a part of a longer string (accumulated text)."""
    sent = [v for raw in raws for v in _json_values(raw)]
    texts = {v for v in sent if type(v) is str}
    converted = {str(v) for v in sent if type(v) is not str} - texts
    if inside:  # only the unmistakable ones: a non-empty object or array
        converted = {str(v) for v in sent if type(v) in (dict, list) and v} - texts
    for text in strings:
        if inside:
            bad = [c for c in converted if c in text and not any(c in t for t in texts)]
            assert not bad, (text, bad)
        else:
            assert text not in converted, text


def feed_all_checked(events: list[tuple[str, str]]) -> None:
    """:func:`feed_all`, checking that no string field of any parsed event, or of
    the accumulated snapshots, is a JSON value the parser converted to text."""
    acc = Accumulator()
    raws: list[Any] = []
    try:
        for position, (name, data) in enumerate(events):
            event = parse_event(name, data, position=position)
            if isinstance(event, DoneEvent):
                break
            raws.append(event.raw)
            if not isinstance(event, UnknownEvent):
                _never_stringified(_model_strings(event.data), [event.raw], inside=False)
            acc.feed(event)
        acc.end()
    finally:
        snapshots = [acc.run_steps(), acc.messages()]
        _never_stringified(_model_strings(snapshots), raws, inside=True)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_transcripts())
def test_random_json_in_any_field_is_only_ever_a_protocol_error(
    events: list[tuple[str, str]],
) -> None:
    # ... and never a value silently converted: a string field never holds the
    # str() of an object, array, number or bool (the arguments {"a": 1} read as
    # the text "{'a': 1}").
    try:
        feed_all_checked(events)
    except ProtocolError:
        pass


CALL = ("required_action", "submit_tool_outputs", "tool_calls", 0)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ((*CALL, "function", "arguments"), {"a": 1}),
        ((*CALL, "function", "name"), ["f"]),
        ((*CALL, "id"), 3),
        (("assistant_id",), True),
        (("instructions",), 1.5),
        (("model",), {"name": "m"}),
    ],
)
def test_a_string_field_of_any_other_json_type_is_a_protocol_error(
    path: tuple[Any, ...], value: Any
) -> None:
    data = {
        **RUN,
        "status": "requires_action",
        "required_action": {
            "type": "submit_tool_outputs",
            "submit_tool_outputs": {
                "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
                ]
            },
        },
    }
    parse_event("thread.run.requires_action", json.dumps(data))  # as sent, fine
    _set_path(data, path, value, delete=False)
    with pytest.raises(ProtocolError, match="expected a string") as info:
        parse_event("thread.run.requires_action", json.dumps(data), position=4)
    assert info.value.event == "thread.run.requires_action"
    assert info.value.position == 4
    assert info.value.excerpt


@pytest.mark.asyncio
async def test_arguments_sent_as_an_object_never_reach_the_tool_loop(
    replay_server: ReplayServer,
) -> None:
    """The audit's case: ``function.arguments`` as a JSON object is a ProtocolError
    on the stream, not the Python text "{'a': 1}" handed to the function."""
    called: list[Any] = []

    def f(a: int) -> str:
        called.append(a)
        return "ok"

    action = {
        **RUN,
        "status": "requires_action",
        "required_action": {
            "type": "submit_tool_outputs",
            "submit_tool_outputs": {
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {"name": "f", "arguments": {"a": 1}},
                    }
                ]
            },
        },
    }
    body = sse(
        ("thread.run.created", {**RUN, "status": "queued"}),
        ("thread.run.requires_action", action),
        ("done", "[DONE]"),
    )
    again = Reply(body=body, chunk_size=4096)
    await stream_fails(replay_server, body)
    replay_server.replies.append(again)
    async with client_for(replay_server) as client:
        with pytest.raises(ProtocolError, match="expected a string, got dict") as info:
            async with client.runs.stream(
                "thread_1", assistant_id="asst_1", functions=[f], max_tool_rounds=2
            ) as s:
                await s.until_done()
    assert info.value.event == "thread.run.requires_action"
    assert info.value.position == 1
    assert called == []
    assert not [r for r in replay_server.requests if r["path"].endswith("/submit_tool_outputs")]


@pytest.mark.parametrize(
    ("name", "data"),
    [
        # code_interpreter logs and an image's file_id, in deltas and in steps
        (
            "thread.run.step.delta",
            step_delta(
                {
                    "index": 0,
                    "type": "code_interpreter",
                    "code_interpreter": {"outputs": [{"index": 0, "type": "logs", "logs": 5}]},
                }
            ),
        ),
        (
            "thread.run.step.delta",
            step_delta(
                {
                    "index": 0,
                    "type": "code_interpreter",
                    "code_interpreter": {
                        "outputs": [{"index": 0, "type": "image", "image": {"file_id": 3}}]
                    },
                }
            ),
        ),
        ("thread.message.delta", msg_delta({"index": 0, "type": "text", "text": {"value": 7}})),
        ("thread.message.delta", {"id": {"a": 1}, "delta": {"content": []}}),
        ("thread.message.delta", {"id": "m", "delta": {"role": ["assistant"]}}),
        (
            "thread.message.delta",
            msg_delta({"index": 0, "type": "image_file", "image_file": {"file_id": 3}}),
        ),
        # an unknown tool call's id and an unknown part's type are strings too
        ("thread.run.step.delta", step_delta({"index": 0, "type": "hologram", "id": {"x": 1}})),
        ("thread.message.delta", msg_delta({"index": 0, "type": 9})),
    ],
)
def test_numbers_and_objects_in_delta_strings_are_protocol_errors(
    name: str, data: dict[str, Any]
) -> None:
    with pytest.raises(ProtocolError, match="expected a string"):
        parse_event(name, json.dumps(data))


async def _serve_once(body: bytes) -> None:
    """Stream ``body`` from a replay server of this event loop: the stream ends
    normally or fails with a ProtocolError that on_exception saw once."""
    server = ReplayServer()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", server.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        server.base_url = f"http://127.0.0.1:{port}/v1"
        server.replies.append(Reply(body=body, chunk_size=997))
        handler = Recorder()
        async with client_for(server) as client:
            async with client.runs.stream("thread_1", assistant_id="asst_1", handler=handler) as s:
                try:
                    await s.until_done()
                except ProtocolError as exc:
                    assert s.error is exc
                    assert handler.exceptions == [exc]
                else:
                    assert handler.exceptions == []
        assert handler.ends == 1
    finally:
        await runner.cleanup()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_transcripts())
def test_random_json_through_a_real_stream(events: list[tuple[str, str]]) -> None:
    """A sample of the same mutations through a RunStream over bytes."""
    body = b"".join(sse((name, text)) for name, text in events) + sse(("done", "[DONE]"))
    asyncio.run(_serve_once(body))


# -- §2: memory ----------------------------------------------------------------


class Keeper(AsyncEventHandler):
    """Keeps every snapshot it is handed (without reading them)."""

    def __init__(self) -> None:
        self.kept: list[Any] = []

    async def on_text_delta(self, delta: Any, snapshot: Text) -> None:
        self.kept.append(snapshot)

    async def on_tool_call_delta(self, delta: Any, snapshot: Any) -> None:
        self.kept.append(snapshot)


class Peeker(Keeper):
    """A :class:`Keeper` that also notes, at the calls numbered in ``at``, what the
    growing text of the snapshot was when the hook was called (reading it at every
    call would itself be quadratic)."""

    def __init__(self, at: set[int], read: Callable[[Any], str]) -> None:
        super().__init__()
        self.at, self.read, self.seen = at, read, dict[int, str]()

    def _peek(self, snapshot: Any) -> None:
        k = len(self.kept)
        if k in self.at:
            self.seen[k] = self.read(snapshot)
        self.kept.append(snapshot)

    async def on_text_delta(self, delta: Any, snapshot: Text) -> None:
        self._peek(snapshot)

    async def on_tool_call_delta(self, delta: Any, snapshot: Any) -> None:
        self._peek(snapshot)


def apply(acc: Accumulator, event: Any, handler: AsyncEventHandler | None) -> list[Any]:
    """Feed ``event`` as a stream does: with a handler, step by step, each step's
    hooks called before the next fragment is applied."""
    if handler is None:
        return acc.feed(event)

    async def run() -> list[Any]:
        callbacks = []
        for step in acc.feed_in_steps(event):
            callbacks += step
            await dispatch(handler, step)
        return callbacks

    return asyncio.run(run())


def _peak(fn: Callable[[], Any]) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        result = fn()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    del result
    return peak


FRAGMENTS = 8_000
FRAGMENT = "x" * 63 + " "


@pytest.mark.parametrize("kind", ["text", "arguments", "input"])
@pytest.mark.parametrize("with_handler", [False, True])
def test_one_event_of_many_fragments_takes_memory_proportional_to_it(
    kind: str, with_handler: bool
) -> None:
    if kind == "text":
        name = "thread.message.delta"
        first = {"index": 0, "type": "text", "text": {"value": FRAGMENT}}
        data = msg_delta(first, *[{"index": 0, "text": {"value": FRAGMENT}}] * FRAGMENTS)
    elif kind == "arguments":
        name = "thread.run.step.delta"
        frag = {"index": 0, "type": "function", "function": {"arguments": FRAGMENT}}
        data = step_delta(*[frag] * FRAGMENTS)
    else:
        name = "thread.run.step.delta"
        frag = {"index": 0, "type": "code_interpreter", "code_interpreter": {"input": FRAGMENT}}
        data = step_delta(*[frag] * FRAGMENTS)
    text = json.dumps(data)
    assert len(text) > FRAGMENTS * 64
    count = FRAGMENTS + (kind == "text")
    checks = {0, 1, count // 2, count - 1}

    def read(snapshot: Any) -> str:
        if kind == "text":
            return str(snapshot.value)
        if kind == "arguments":
            return str(snapshot.function.arguments)
        return str(snapshot.code_interpreter.input)

    def run() -> Any:
        acc = Accumulator()
        handler = Peeker(checks, read) if with_handler else None
        callbacks = apply(acc, parse(name, text), handler)
        if handler is not None:
            assert len(handler.kept) == count
        return acc, callbacks, handler

    peak = _peak(run)
    assert peak < 20 * len(text), f"peak {peak / len(text):.1f}x the event size"
    # Each hook sees the snapshot up to and including its own fragment.
    handler = Peeker(checks, read)
    apply(Accumulator(), parse(name, text), handler)
    assert handler.seen == {k: FRAGMENT * (k + 1) for k in checks}


def test_text_buffer_snapshot_is_independent() -> None:
    buffer = TextBuffer("a")
    buffer.append("b")
    first = buffer.snapshot()
    buffer.append("c")
    assert str(buffer) == "abc"  # joins (and replaces) the live buffer's fragments
    second = buffer.snapshot()
    buffer.append("d")
    buffer.set("z")
    first.append("!")
    assert (str(first), len(second), str(second), str(buffer)) == ("ab!", 3, "abc", "z")
    assert second == "abc" and second == TextBuffer("abc") and first.snapshot() == "ab!"


def test_sse_event_of_tiny_lines_is_bounded() -> None:
    """One in-limit event of millions of 3-byte lines (plus data lines): the
    decoder's peak stays a small multiple of the limit (it was ~24x)."""
    limit = 2 * 1024 * 1024
    body = b"event: x\n" + b"a:b\n" * (limit // 8) + b"data:xy\n" * (limit // 16)

    def run() -> Any:
        decoder = SSEDecoder(max_event_size=limit)
        for i in range(0, len(body), 65536):
            assert decoder.feed(body[i : i + 65536]) == []
        assert decoder.incomplete
        assert decoder.retry is None
        events = decoder.feed(b"\n")
        assert len(events) == 1 and events[0].event == "x"
        assert events[0].data == "\n".join(["xy"] * (limit // 16))
        return events

    peak = _peak(run)
    assert peak < 8 * limit, f"peak {peak / limit:.1f}x the limit"


# -- §2: scaling ---------------------------------------------------------------


def ratio(prepare: Callable[[int], Callable[[], Any]], n: int, tries: int = 3) -> float:
    """Median over ``tries`` of t(10n) / t(n), setup and garbage collection excluded.

    t(n) is a tenth of the time of ten runs of size n whose results are all kept
    alive, so both sides touch as much memory: the ratio measures the algorithm,
    not the jump in cache misses from a small working set to a large one (alone
    worth 1.5-3x on a loaded machine). Linear code gives about 10, quadratic 100.
    """
    ratios = []
    for _ in range(tries):
        smalls = [prepare(n) for _ in range(10)]
        big = prepare(10 * n)
        kept: list[Any] = []
        gc.collect()
        # The collector's full passes over everything alive (the prepared
        # events included) are not the code under test.
        gc.disable()
        try:
            start = time.perf_counter()
            for run in smalls:
                kept.append(run())
            t_n = (time.perf_counter() - start) / 10
            start = time.perf_counter()
            kept.append(big())
            t_10n = time.perf_counter() - start
        finally:
            gc.enable()
        del kept
        ratios.append(t_10n / t_n)
    return statistics.median(ratios)


def assert_linear(
    prepare: Callable[[int], Any],
    n: int,
    measure: Callable[[Callable[[int], Any], int], float] | None = None,
) -> None:
    """t(10n) / t(n) <= 12, measured by :func:`ratio` (or ``measure(prepare, n)``).
    On a loaded shared machine one median can still be off: measure again, up to
    three times (quadratic code gives ~100 every time)."""
    ratios = []
    for _ in range(3):
        ratios.append((measure or ratio)(prepare, n))
        if ratios[-1] <= 12:
            return
    raise AssertionError(f"t(10n)/t(n) = {ratios} > 12 for n = {n}")


def _feeder(events: list[tuple[str, str]]) -> Callable[[], Any]:
    """Parse and feed ``events``: the events are built in the timed loop, so that
    what is timed holds only the accumulator's state (not 10n prepared objects,
    whose cache misses alone would cost more than 10x)."""

    def run() -> Any:
        acc = Accumulator()
        for name, data in events:
            acc.feed(parse(name, data))
        return acc

    return run


def _calls(n: int) -> list[dict[str, Any]]:
    return [
        {"index": i, "type": "function", "id": f"c{i}", "function": {"name": "f"}} for i in range(n)
    ]


def test_many_content_indices_scale_linearly() -> None:
    # In wire order (ascending), as servers send them: each new index was a scan
    # of every known index (20k took 3 s, 40k 12 s).
    def prepare(n: int) -> Callable[[], Any]:
        return _feeder(
            [
                (
                    "thread.message.delta",
                    json.dumps(msg_delta({"index": i, "type": "text", "text": {"value": "w"}})),
                )
                for i in range(n)
            ]
        )

    assert_linear(prepare, 3_000)


def test_many_tool_call_indices_scale_linearly() -> None:
    def prepare(n: int) -> Callable[[], Any]:
        return _feeder([("thread.run.step.delta", json.dumps(step_delta(c))) for c in _calls(n)])

    assert_linear(prepare, 2_000)


def _with_calls(n: int) -> Accumulator:
    acc = Accumulator()
    acc.feed(parse("thread.run.step.delta", json.dumps(step_delta(*_calls(n)))))
    return acc


def test_requires_action_listing_many_calls_scales_linearly() -> None:
    def prepare(n: int) -> Callable[[], Any]:
        acc = _with_calls(n)
        listed = [
            {"id": f"c{i}", "type": "function", "function": {"name": "f", "arguments": ""}}
            for i in reversed(range(n))
        ]
        data = json.dumps(
            {
                **RUN,
                "status": "requires_action",
                "required_action": {
                    "type": "submit_tool_outputs",
                    "submit_tool_outputs": {"tool_calls": listed},
                },
            }
        )

        def run() -> None:
            callbacks = acc.feed(parse("thread.run.requires_action", data))
            assert len(callbacks) == n + 1

        return run

    assert_linear(prepare, 1_000)


def test_step_end_matching_calls_by_id_scales_linearly() -> None:
    def prepare(n: int) -> Callable[[], Any]:
        acc = _with_calls(n)
        calls = [
            {"id": f"c{i}", "type": "function", "function": {"name": "f"}}
            for i in reversed(range(n))
        ]
        data = json.dumps(
            {
                **STEP,
                "status": "completed",
                "step_details": {"type": "tool_calls", "tool_calls": calls},
            }
        )
        return lambda: acc.feed(parse("thread.run.step.completed", data))

    assert_linear(prepare, 1_000)


def test_refusal_deltas_scale_linearly() -> None:
    def prepare(n: int) -> Callable[[], Any]:
        first = msg_delta({"index": 0, "type": "refusal", "refusal": "r" * 40})
        more = msg_delta({"index": 0, "refusal": "r" * 40})
        return _feeder(
            [("thread.message.delta", json.dumps(first))]
            + [("thread.message.delta", json.dumps(more))] * n
        )

    assert_linear(prepare, 3_000)


def test_requires_action_events_over_many_steps_scale_linearly() -> None:
    # Each requires_action scanned every step's calls: n steps and n events
    # listing one call each was O(n²) (ratio ~55 at n = 300).
    def prepare(n: int) -> Callable[[], Any]:
        events: list[tuple[str, str]] = []
        for i in range(n):
            step = {**STEP, "id": f"step_{i}"}
            call = {"index": 0, "type": "function", "id": f"c{i}", "function": {"name": "f"}}
            listed = {"id": f"c{i}", "type": "function", "function": {"name": "f"}}
            run = {
                **RUN,
                "status": "requires_action",
                "required_action": {
                    "type": "submit_tool_outputs",
                    "submit_tool_outputs": {"tool_calls": [listed]},
                },
            }
            events += [
                ("thread.run.step.created", json.dumps(step)),
                ("thread.run.step.delta", json.dumps({**step_delta(call), "id": f"step_{i}"})),
                ("thread.run.requires_action", json.dumps(run)),
            ]
        return _feeder(events)

    assert_linear(prepare, 300)


def _citation(**fields: Any) -> dict[str, Any]:
    annotation = {"index": 0, "type": "file_citation", "start_index": 0, "end_index": 1, **fields}
    return msg_delta({"index": 0, "type": "text", "text": {"annotations": [annotation]}})


# The fragments of one field, each in its own event: every field that grows by
# deltas is appended in O(len(fragment)), never rebuilt (``s = s + fragment``
# or a list copied per fragment was O(n²)).
_GROWING: dict[str, tuple[str, Callable[[], dict[str, Any]], int]] = {
    "function name": (
        "thread.run.step.delta",
        lambda: step_delta({"index": 0, "type": "function", "function": {"name": "n" * 100}}),
        1_000,
    ),
    "function output": (
        "thread.run.step.delta",
        lambda: step_delta({"index": 0, "type": "function", "function": {"output": "o" * 100}}),
        1_000,
    ),
    "file_search results": (
        "thread.run.step.delta",
        lambda: step_delta(
            {
                "index": 0,
                "type": "file_search",
                "file_search": {"results": [{"file_id": "f", "file_name": "a", "score": 0.5}]},
            }
        ),
        3_000,
    ),
    "annotation text": ("thread.message.delta", lambda: _citation(text="t" * 100), 1_000),
    "citation quote": (
        "thread.message.delta",
        lambda: _citation(file_citation={"file_id": "f", "quote": "q" * 100}),
        1_000,
    ),
}


@pytest.mark.parametrize("field", list(_GROWING))
def test_fragments_of_every_growing_field_scale_linearly(field: str) -> None:
    name, fragment, n = _GROWING[field]

    def prepare(n: int) -> Callable[[], Any]:
        return _feeder([(name, json.dumps(fragment()))] * n)

    assert_linear(prepare, n)


def test_growing_fields_accumulate() -> None:
    acc = Accumulator()
    for field, (name, fragment, _) in _GROWING.items():
        for _ in range(3):
            acc.feed(parse(name, json.dumps({**fragment(), "id": field})))
    steps = {s.id: s for s in acc.run_steps()}
    messages = {m.id: m for m in acc.messages()}
    function = steps["function name"].step_details.tool_calls[0].function  # type: ignore[union-attr]
    assert (function.name, function.output) == ("n" * 300, None)
    function = steps["function output"].step_details.tool_calls[0].function  # type: ignore[union-attr]
    assert (function.name, function.output) == ("", "o" * 300)
    search = steps["file_search results"].step_details.tool_calls[0].file_search  # type: ignore[union-attr]
    assert [r.file_id for r in search.results or ()] == ["f"] * 3
    annotation = messages["annotation text"].content[0].text.annotations[0]  # type: ignore[union-attr]
    assert (annotation.text, annotation.file_citation.quote) == ("t" * 300, None)  # type: ignore[union-attr]
    annotation = messages["citation quote"].content[0].text.annotations[0]  # type: ignore[union-attr]
    assert (annotation.text, annotation.file_citation.quote) == ("", "q" * 300)  # type: ignore[union-attr]


@pytest.mark.asyncio
async def test_refusal_hooks_still_get_strings() -> None:
    seen: list[tuple[str, str]] = []

    class Handler(AsyncEventHandler):
        async def on_refusal_delta(self, delta: str, snapshot: str) -> None:
            assert type(snapshot) is str
            seen.append((delta, snapshot))

    acc = Accumulator()
    handler = Handler()
    for part in (
        {"index": 0, "type": "refusal", "refusal": "I can"},
        {"index": 0, "refusal": "'t"},
    ):
        await dispatch(
            handler, acc.feed(parse("thread.message.delta", json.dumps(msg_delta(part))))
        )
    assert seen == [("I can", "I can"), ("'t", "I can't")]


# -- §3: nothing after [DONE] ---------------------------------------------------


AFTER_DONE = sse(
    ("thread.run.created", RUN),
    ("thread.message.delta", msg_delta({"index": 0, "type": "text", "text": {"value": "a"}})),
    ("done", "[DONE]"),
    ("thread.message.delta", msg_delta({"index": 0, "type": "text", "text": {"value": "b"}})),
    ("thread.future", {"x": 1}),
    ("error", {"error": {"message": "after the end"}}),
    ("thread.run.failed", {**RUN, "status": "failed"}),
)


@pytest.mark.asyncio
@pytest.mark.parametrize("chunk_size", [1, 7, 50, len(AFTER_DONE)])
@pytest.mark.parametrize("body", [AFTER_DONE, AFTER_DONE.replace(b"event: done\n", b"")])
async def test_nothing_after_done_is_delivered(
    replay_server: ReplayServer, chunk_size: int, body: bytes
) -> None:
    replay_server.replies.append(Reply(body=body, chunk_size=chunk_size))
    handler = Recorder()
    async with client_for(replay_server) as client:
        async with client.runs.stream("thread_1", assistant_id="asst_1", handler=handler) as s:
            seen = [event.event async for event in s]
            assert s.done and s.error is None
            run = await s.final_run()
            assert run.status == "in_progress"
            messages = s.current_message_snapshot
            assert messages is not None and messages.content[0].text.value == "a"  # type: ignore[union-attr]
    assert seen == ["thread.run.created", "thread.message.delta"]
    assert handler.events == seen
    assert handler.exceptions == []
    assert handler.ends == 1


@pytest.mark.asyncio
async def test_error_event_before_done_still_raises(replay_server: ReplayServer) -> None:
    body = sse(("thread.run.created", RUN), ("error", {"message": "boom"}), ("done", "[DONE]"))
    replay_server.replies.append(Reply(body=body, chunk_size=len(body)))
    async with client_for(replay_server) as client:
        async with client.runs.stream("thread_1", assistant_id="asst_1") as s:
            with pytest.raises(StreamError):
                await s.until_done()


@pytest.mark.parametrize("escaped", [False, True])
def test_parse_event_redacts_the_data_before_cutting_the_excerpt(escaped: bool) -> None:
    from streamrun._responses_events import parse_responses_event

    key = "sk-" + "k" * 300
    written = "".join(f"\\u{ord(c):04x}" for c in key) if escaped else key

    def redact(text: str) -> str:
        return text.replace(key, "***").replace(written, "***")

    for parse_one, name in (
        (parse_event, "thread.run.created"),
        (parse_responses_event, "response.created"),
    ):
        with pytest.raises(ProtocolError) as info:
            parse_one(name, '{"x": "' + "z" * 100 + written, redact=redact)
        assert info.value.excerpt == '{"x": "' + "z" * 100 + "***"
        assert written[:20] not in str(info.value)


# -- a failure raised only when the input ends ------------------------------------------

_CREATED = sse(("thread.run.created", RUN))
_OVERSIZED = b"event: thread.message.delta\ndata: " + b"z" * 3000  # no blank line after it


def _chunkings(body: bytes) -> dict[str, list[bytes]]:
    return {
        "one chunk": [body],
        "many chunks": [body[i : i + 7] for i in range(0, len(body), 7)],
        "split after the first event": [body[: len(_CREATED) + 40], body[len(_CREATED) + 40 :]],
    }


@pytest.mark.asyncio
@pytest.mark.parametrize("chunking", list(_chunkings(b"")))
@pytest.mark.parametrize(
    "before", [_CREATED, _CREATED + sse(("thread.run.completed", {**RUN, "status": "completed"}))]
)
async def test_an_oversized_unterminated_last_event_fails_the_stream_once(
    chunking: str, before: bytes
) -> None:
    from streamrun import EventTooLargeError, RunStream

    chunks = _chunkings(before + _OVERSIZED)[chunking]
    handler = Recorder()
    stream = RunStream.from_bytes(chunks, handler=handler, max_event_size=1000)
    async with stream:
        with pytest.raises(ProtocolError) as info:
            async for _ in stream:
                pass
        error = info.value
        assert type(error) is EventTooLargeError
        assert stream.error is error
        with pytest.raises(ProtocolError) as again:
            await stream.final_run()
        assert again.value is error
    assert handler.exceptions == [error]
    assert handler.ends == 1
    assert error.event == "thread.message.delta"
    assert error.position == before.count(b"\n\n")
    assert "event 'thread.message.delta'" in str(error)
    assert error.run_id == "run_1"


@pytest.mark.asyncio
async def test_an_oversized_event_after_a_settled_run_and_a_cut_connection_fails(
    replay_server: ReplayServer,
) -> None:
    body = _CREATED + sse(("thread.run.completed", {**RUN, "status": "completed"})) + _OVERSIZED
    replay_server.replies.append(Reply(body=body, chunk_size=len(body), close_after=len(body)))
    handler = Recorder()
    async with AsyncClient(
        base_url=replay_server.base_url, api_key="sk-test-key", max_retries=0, max_event_size=1000
    ) as client:
        async with client.runs.stream("thread_1", assistant_id="asst_1", handler=handler) as s:
            with pytest.raises(ProtocolError) as info:
                await s.until_done()
            with pytest.raises(ProtocolError):
                await s.final_run()
    assert handler.exceptions == [info.value]
    assert handler.ends == 1


@pytest.mark.parametrize("before", [b"", b"data: ok\n\n"])
def test_an_oversized_events_name_is_its_own_not_the_next_blocks(before: bytes) -> None:
    from streamrun import EventTooLargeError

    decoder = SSEDecoder(max_event_size=100)
    body = before + b"event: big\ndata: " + b"z" * 200 + b"\n\nevent: next\ndata: x\n\n"
    with pytest.raises(EventTooLargeError) as info:
        assert len(decoder.feed(body)) == len(before) // 10
        decoder.close()
    assert info.value.event == "big"
    # A block whose event line comes after its data lines is named too.
    decoder = SSEDecoder(max_event_size=100)
    with pytest.raises(EventTooLargeError) as info:
        decoder.feed(b"data: " + b"z" * 200 + b"\nevent: big\n\nevent: next\ndata: x\n\n")
    assert info.value.event == "big"


def test_an_unended_oversized_blocks_partial_last_line_names_nothing() -> None:
    from streamrun import EventTooLargeError

    decoder = SSEDecoder(max_event_size=100)
    assert decoder.feed(b"data: ok\n\ndata: " + b"z" * 200 + b"\nevent: par") != []
    with pytest.raises(EventTooLargeError) as info:
        decoder.close()
    assert info.value.event is None  # "par" may be the start of any name


def test_hooks_within_one_event_see_each_fragment_applied_in_turn() -> None:
    """An event of several fragments for one text part or tool call is applied one
    fragment at a time: each hook sees the live snapshot with exactly the fragments
    up to and including its own (annotations and outputs, new and extended, too),
    and no copy is made (so none can multiply memory)."""

    def file_path(index: int, text: str) -> dict[str, Any]:
        return {"index": index, "type": "file_path", "text": text, "file_path": {"file_id": "f"}}

    text = {"index": 0, "type": "text", "text": {"value": "v"}}
    more = [
        {"index": 0, "text": {"annotations": [file_path(0, "a")]}},
        {"index": 0, "text": {"annotations": [file_path(1, "b")]}},
        {"index": 0, "text": {"annotations": [{"index": 0, "text": "A"}]}},
        {"index": 0, "text": {"value": "w"}},
    ]
    logs = [
        {"index": 0, "type": "code_interpreter", "code_interpreter": {"outputs": [out]}}
        for out in (
            {"index": 0, "type": "logs", "logs": "x"},
            {"index": 1, "type": "logs", "logs": "y"},
            {"index": 0, "logs": "X"},
        )
    ]
    logs.append({"index": 0, "code_interpreter": {"input": "i"}})

    class Seer(AsyncEventHandler):
        def __init__(self) -> None:
            self.texts: list[tuple[str, list[str]]] = []
            self.calls: list[tuple[str, list[str]]] = []
            self.kept: list[Any] = []

        async def on_text_delta(self, delta: Any, snapshot: Text) -> None:
            notes = [getattr(a, "text", "") for a in snapshot.annotations]
            self.texts.append((snapshot.value, notes))
            self.kept.append(snapshot)

        async def on_tool_call_delta(self, delta: Any, snapshot: Any) -> None:
            ci = snapshot.code_interpreter
            self.calls.append((ci.input, [o.logs for o in ci.outputs]))
            self.kept.append(snapshot)

    acc = Accumulator()
    handler = Seer()
    apply(acc, parse("thread.message.delta", json.dumps(msg_delta(text, *more))), handler)
    apply(acc, parse("thread.run.step.delta", json.dumps(step_delta(*logs))), handler)
    assert handler.texts == [
        ("v", []),
        ("v", ["a"]),
        ("v", ["a", "b"]),
        ("v", ["aA", "b"]),
        ("vw", ["aA", "b"]),
    ]
    assert handler.calls == [("", ["x"]), ("", ["x", "y"]), ("", ["xX", "y"]), ("i", ["xX", "y"])]
    message = acc.messages()[0].content[0]
    call = acc.run_steps()[0].step_details.tool_calls[0]  # type: ignore[union-attr]
    assert all(k is message.text for k in handler.kept[:5])  # type: ignore[union-attr]
    assert all(k is call for k in handler.kept[5:])


def _dispatcher(events: list[tuple[str, str]]) -> Callable[[], Any]:
    """:func:`_feeder` with a handler keeping every snapshot, fed as a stream does
    (:func:`apply`: each step's hooks called before the next fragment)."""

    def run() -> Any:
        async def go() -> Any:
            acc, handler = Accumulator(), Keeper()
            for name, data in events:
                for step in acc.feed_in_steps(parse(name, data)):
                    await dispatch(handler, step)
            return acc, handler

        return asyncio.run(go())

    return run


def _many_fragments(kind: str, n: int, per_event: int) -> list[tuple[str, str]]:
    """``n`` fragments of one object, ``per_event`` to an event: each a new
    annotation, code interpreter output, file_search result or unknown entry."""

    def fragment(i: int) -> dict[str, Any]:
        if kind == "annotations":
            note = {"index": i, "type": "file_path", "text": "t", "file_path": {"file_id": "f"}}
            return {"index": 0, "type": "text", "text": {"annotations": [note]}}
        if kind == "outputs":
            out = {"index": i, "type": "logs", "logs": "l"}
            return {"index": 0, "type": "code_interpreter", "code_interpreter": {"outputs": [out]}}
        if kind == "results":
            result = {"file_id": "f", "file_name": "a", "score": 0.5}
            return {"index": 0, "type": "file_search", "file_search": {"results": [result]}}
        return {"index": 0, "type": "custom_tool", "items": [{"index": i, "v": "a"}]}

    name, wrap = (
        ("thread.message.delta", msg_delta)
        if kind == "annotations"
        else ("thread.run.step.delta", step_delta)
    )
    return [
        (name, json.dumps(wrap(*[fragment(i + k) for k in range(per_event)])))
        for i in range(0, n, per_event)
    ]


@pytest.mark.parametrize("kind", ["annotations", "outputs", "results", "unknown"])
@pytest.mark.parametrize("per_event", [2, "all"])
def test_events_of_several_fragments_for_one_object_scale_linearly(
    kind: str, per_event: int | str
) -> None:
    # Each callback but an event's last got a copy of the object holding every
    # annotation (output, result, raw entry) so far: O(k) per fragment, in one
    # event of k fragments and across events of two (ratios 20-100 before).
    def prepare(n: int) -> Callable[[], Any]:
        return _dispatcher(_many_fragments(kind, n, n if per_event == "all" else 2))

    assert_linear(prepare, 400 if per_event == "all" else 1_000)


@pytest.mark.parametrize("kind", ["annotations", "outputs", "results", "unknown"])
def test_one_event_of_many_new_entries_takes_memory_proportional_to_it(kind: str) -> None:
    # With a handler keeping every snapshot: 8,000 annotation fragments in one
    # event peaked at 78x its size (the copies' lists of references), 2,000 at 1512x
    # before the copies shared their objects.
    ((name, data),) = _many_fragments(kind, FRAGMENTS, FRAGMENTS)
    peak = _peak(_dispatcher([(name, data)]))
    assert peak < 20 * len(data), f"peak {peak / len(data):.1f}x the event size"


@pytest.mark.parametrize(("where", "per_event"), [("part", 1), ("part", 2), ("tool_call", 1)])
def test_unknown_objects_indexed_lists_scale_linearly(where: str, per_event: int) -> None:
    # Each indexed entry of a raw list was a scan of every entry so far (ratio
    # ~96 at n = 1,000); in events of one fragment, and of two for one object.
    # (Two for one unknown tool call still copy its whole raw for the first
    # callback: not yet bounded, see the accumulator's docstring.)
    def prepare(n: int) -> Callable[[], Any]:
        def fragment(i: int) -> dict[str, Any]:
            entry = {"items": [{"index": i, "v": "a"}, {"index": i // 2, "w": 1}]}
            if where == "part":
                return {"index": 0, "type": "custom_part", **entry}
            return {"index": 0, "type": "custom_tool", **entry}

        name = "thread.message.delta" if where == "part" else "thread.run.step.delta"
        wrap = msg_delta if where == "part" else step_delta
        return _feeder(
            [
                (name, json.dumps(wrap(*[fragment(i + k) for k in range(per_event)])))
                for i in range(0, n, per_event)
            ]
        )

    assert_linear(prepare, 1_000)


# Where a growing string sits in an unknown object's raw: at its top level, in a
# nested object, and in an entry of an indexed list.
_RAW_PLACES: dict[str, Callable[[str], dict[str, Any]]] = {
    "top": lambda s: {"s": s},
    "nested": lambda s: {"outer": {"inner": {"s": s}}},
    "indexed": lambda s: {"items": [{"index": 0, "s": s}]},
}


_UNKNOWN_TYPES = {
    "content_part": "custom_part",
    "annotation": "custom_annotation",
    "tool_call": "custom_tool",
    "output": "custom_output",
    "step_details": "custom_details",
}


def _unknown_fragment(kind: str, body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """An event carrying ``body`` as a fragment of one unknown object of ``kind``."""
    obj = {"type": _UNKNOWN_TYPES[kind], **body}
    if kind == "step_details":
        delta = {"step_details": obj}
        return "thread.run.step.delta", {
            "id": "step_1",
            "object": "thread.run.step.delta",
            "delta": delta,
        }
    obj["index"] = 0
    if kind == "content_part":
        return "thread.message.delta", msg_delta(obj)
    if kind == "annotation":
        return "thread.message.delta", msg_delta(
            {"index": 0, "type": "text", "text": {"annotations": [obj]}}
        )
    if kind == "output":
        obj = {"index": 0, "type": "code_interpreter", "code_interpreter": {"outputs": [obj]}}
    return "thread.run.step.delta", step_delta(obj)


_UNKNOWN_KINDS = list(_UNKNOWN_TYPES)


@pytest.mark.parametrize("where", list(_RAW_PLACES))
@pytest.mark.parametrize("kind", _UNKNOWN_KINDS)
def test_unknown_objects_growing_strings_scale_linearly(kind: str, where: str) -> None:
    # A string of an unknown object's raw was rebuilt per fragment (current +
    # value): t(10n)/t(n) ~ 45 at n = 1,000.
    def prepare(n: int) -> Callable[[], Any]:
        events = []
        for _ in range(n):
            name, data = _unknown_fragment(kind, _RAW_PLACES[where]("x" * 40))
            events.append((name, json.dumps(data)))
        return _feeder(events)

    assert_linear(prepare, 1_000)


_UNKNOWN_CLASSES: dict[str, type] = {
    "content_part": UnknownContentBlock,
    "annotation": UnknownAnnotation,
    "tool_call": UnknownToolCall,
    "output": UnknownCodeInterpreterOutput,
    "step_details": UnknownStepDetails,
}


def _unknown_object(acc: Accumulator, kind: str) -> Any:
    """The unknown object of ``kind`` that :func:`_unknown_fragment` events grow."""
    obj: Any
    if kind in ("content_part", "annotation"):
        assert acc.current_message_snapshot is not None
        obj = acc.current_message_snapshot.content[0]
        if kind == "annotation":
            obj = obj.text.annotations[0]
    else:
        assert acc.current_run_step_snapshot is not None
        obj = acc.current_run_step_snapshot.step_details
        if kind != "step_details":
            obj = obj.tool_calls[0]
            if kind == "output":
                obj = obj.code_interpreter.outputs[0]
    assert type(obj) is _UNKNOWN_CLASSES[kind]
    return obj


def _grown(where: str, raw: dict[str, Any]) -> Any:
    """The growing string of :data:`_RAW_PLACES` in ``raw``."""
    if where == "top":
        return raw["s"]
    if where == "nested":
        return raw["outer"]["inner"]["s"]
    return raw["items"][0]["s"]


def _grow(acc: Accumulator, kind: str, body: dict[str, Any]) -> None:
    name, data = _unknown_fragment(kind, body)
    acc.feed(parse(name, json.dumps(data)))


@pytest.mark.parametrize("where", list(_RAW_PLACES))
@pytest.mark.parametrize("kind", _UNKNOWN_KINDS)
def test_unknown_objects_growing_strings_read_whole(kind: str, where: str) -> None:
    acc = Accumulator()
    pieces = [f"<{i}>" for i in range(50)]
    for piece in pieces[:20]:
        _grow(acc, kind, _RAW_PLACES[where](piece))
    obj = _unknown_object(acc, kind)
    early = obj.raw  # read mid-way: the strings so far
    assert _grown(where, early) == "".join(pieces[:20])
    for piece in pieces[20:]:
        _grow(acc, kind, _RAW_PLACES[where](piece))
        # Read earlier, the dict stays plain JSON (its strings as they were).
        assert json.loads(json.dumps(early)) == early
    assert _unknown_object(acc, kind) is obj
    assert obj._growth  # fragments are pending: the next read joins them
    raw = obj.raw
    assert raw is early  # brought up to date in place
    assert _grown(where, raw) == "".join(pieces)
    assert raw == {"type": _UNKNOWN_TYPES[kind], **_RAW_PLACES[where]("".join(pieces))}
    assert json.loads(json.dumps(early)) == raw
    # Appending after a read, and reading again.
    _grow(acc, kind, _RAW_PLACES[where]("!"))
    assert _grown(where, obj.raw) == "".join(pieces) + "!"


@pytest.mark.parametrize("kind", _UNKNOWN_KINDS)
def test_replaced_json_leaves_nothing_pending_behind(kind: str) -> None:
    # An object (or array) holding growing strings, replaced by a number and
    # grown again, round after round with raw never read: the record of pending
    # fragments kept every replaced object and its pieces (memory grew with the
    # stream, not with the state).
    acc = Accumulator()
    rounds: list[dict[str, Any]] = [{"x": {"t": "a"}}, {"x": {"t": "Y" * 100}}]
    rounds += [{"x": [{"index": 0, "u": "v"}]}]
    rounds += [{"x": [{"index": 0, "u": "w"}]}, {"x": 7}]
    for _ in range(300):
        for body in rounds:
            _grow(acc, kind, body)
    obj = _unknown_object(acc, kind)
    assert len(obj._growth or ()) <= 1
    assert obj.raw == {"type": _UNKNOWN_TYPES[kind], "x": 7}


@pytest.mark.parametrize("kind", _UNKNOWN_KINDS)
def test_unknown_objects_replaced_values_drop_pending_fragments(kind: str) -> None:
    acc = Accumulator()
    bodies: list[dict[str, Any]] = [
        {"s": "a", "n": "x", "o": "p", "meta": {"id": "i1", "type": "t1", "v": "1"}},
        {"s": "b", "n": "y", "o": "q", "meta": {"id": "i2", "type": "t2", "v": "2"}},
        # A string replaced by a number, an object and null; ids and types replaced.
        {"s": 5, "n": {"k": "z"}, "o": None, "meta": {"id": "i3", "type": "t3", "v": "3"}},
    ]
    for body in bodies:
        _grow(acc, kind, body)
    obj = _unknown_object(acc, kind)
    assert obj._growth  # meta.v is pending; s and n were dropped
    expected = {"s": 5, "n": {"k": "z"}, "o": None, "meta": {"id": "i3", "type": "t3", "v": "123"}}
    assert obj.raw == {"type": _UNKNOWN_TYPES[kind], **expected}
    # A replaced value grows again from its replacement.
    _grow(acc, kind, {"s": "c", "n": "w", "o": "r"})
    _grow(acc, kind, {"s": "d", "n": "v", "o": "s", "meta": {"v": "4"}})
    assert obj.raw == {
        "type": _UNKNOWN_TYPES[kind],
        "s": "cd",
        "n": "wv",
        "o": "rs",
        "meta": {"id": "i3", "type": "t3", "v": "1234"},
    }


_UNKNOWN_UNIONS: dict[str, Any] = {
    "content_part": MessageContent,
    "annotation": Annotation,
    "tool_call": ToolCall,
    "output": CodeInterpreterOutput,
    "step_details": StepDetails,
}


@pytest.mark.parametrize("kind", _UNKNOWN_KINDS)
def test_unknown_objects_with_pending_fragments_compare_copy_and_convert(kind: str) -> None:
    def grown() -> Any:
        acc = Accumulator()
        for piece in ["ab", "cd", "ef"]:
            _grow(acc, kind, {"s": piece, "items": [{"index": 0, "t": piece}]})
        obj = _unknown_object(acc, kind)
        assert obj._growth
        return obj

    full = {"type": _UNKNOWN_TYPES[kind], "s": "abcdef", "items": [{"index": 0, "t": "abcdef"}]}
    obj = grown()
    direct = attrs.evolve(obj, raw=copy.deepcopy(full))  # built with the full raw
    assert obj._growth
    assert obj == direct
    assert grown() == direct  # the other way round
    assert grown() != attrs.evolve(obj, raw={**full, "s": "abcde"})
    name = type(obj).__name__
    obj = grown()
    fields = "id='', " if kind == "tool_call" else ""
    assert repr(obj) == f"{name}({fields}type={obj.type!r}, raw={full!r})"
    # evolve with a new raw: the new one, the original untouched.
    obj = grown()
    other = attrs.evolve(obj, raw={"type": "x", "s": "new"})
    assert other.raw == {"type": "x", "s": "new"}
    assert not other._growth
    assert obj.raw == full
    # The converter unstructures the joined JSON, and structures it back.
    obj = grown()
    unstructured = converter.unstructure(obj)
    assert unstructured == full
    assert json.loads(json.dumps(unstructured)) == full
    restructured = converter.structure(unstructured, _UNKNOWN_UNIONS[kind])
    assert type(restructured) is type(obj)
    assert restructured.raw == full
    if kind != "step_details":  # built from a delta, those keep type "" (raw has it)
        assert restructured == obj

    def pickled(obj: Any) -> Any:
        return pickle.loads(pickle.dumps(obj))

    # Deep copies and pickles join the same strings, independently of the original.

    for copy_of in (copy.deepcopy, pickled):
        obj = grown()
        copied = copy_of(obj)
        assert copied._growth  # still pending in the copy too
        assert copied == obj
        assert copied.raw == obj.raw == full
        copied.raw["items"][0]["t"] = "changed"
        assert obj.raw == full


def _scan_merge(acc: dict[str, Any], delta: dict[str, Any]) -> None:
    """The merge rule as a scan (the reference :func:`_merge_json` must match)."""
    for key, value in delta.items():
        current = acc.get(key)
        if current is None or key in ("index", "type", "id"):
            if isinstance(value, list) and any(isinstance(v, dict) and "index" in v for v in value):
                acc[key] = current = []
            else:
                acc[key] = copy.deepcopy(value)
                continue
        if isinstance(current, str) and isinstance(value, str):
            acc[key] = current + value
        elif isinstance(current, dict) and isinstance(value, dict):
            _scan_merge(current, value)
        elif isinstance(current, list) and isinstance(value, list):
            for entry in value:
                if isinstance(entry, dict) and "index" in entry:
                    for existing in current:
                        if isinstance(existing, dict) and existing.get("index") == entry["index"]:
                            _scan_merge(existing, entry)
                            break
                    else:
                        current.append(copy.deepcopy(entry))
                else:
                    current.append(copy.deepcopy(entry))
        else:
            acc[key] = copy.deepcopy(value)


_INDICES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(0, 3),
    st.sampled_from([0.0, 1.0, float("nan"), "0", "a"]),
    st.lists(st.integers(0, 1), max_size=2),
    st.dictionaries(st.sampled_from(["k"]), st.integers(0, 1), max_size=1),
)
_LEAVES = st.one_of(st.none(), st.integers(0, 2), st.sampled_from(["x", "y"]))


def _json_entries(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    entry = st.fixed_dictionaries(
        {}, optional={"index": _INDICES, "v": children, "items": st.lists(children, max_size=3)}
    )
    return st.one_of(children, entry, st.lists(st.one_of(children, entry), max_size=3))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.fixed_dictionaries(
            {},
            optional={
                "items": st.lists(st.recursive(_LEAVES, _json_entries, max_leaves=8), max_size=4),
                "s": st.sampled_from(["a", "b"]),
            },
        ),
        max_size=6,
    ),
    st.booleans(),
)
def test_merge_json_by_index_matches_the_scan(
    deltas: list[dict[str, Any]], settle_each: bool
) -> None:
    from streamrun._accumulate import _merge_json

    fast: dict[str, Any] = {}
    slow: dict[str, Any] = {}
    growth = _Growth()
    nan = float("nan")
    for delta in deltas:
        _merge_json(fast, delta, growth)
        json.dumps(fast)  # plain JSON, pending fragments or not
        if settle_each:  # reading raw after each fragment
            growth.settle()
        _scan_merge(slow, copy.deepcopy(delta))
    growth.settle()
    # NaN never equals itself at the top of ==: compare the JSON text instead.
    assert json.dumps(fast, sort_keys=True) == json.dumps(slow, sort_keys=True), nan
