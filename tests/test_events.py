"""Typed events and models: parse_event, the converter, forward compatibility."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, strategies as st

import streamrun
from streamrun import (
    CodeInterpreterToolCall,
    DoneEvent,
    ErrorEvent,
    FunctionToolCall,
    Message,
    ProtocolError,
    Run,
    RunStep,
    TextContentBlock,
    TextDeltaBlock,
    ThreadMessageDelta,
    UnknownAnnotation,
    UnknownContentBlock,
    UnknownContentDelta,
    UnknownEvent,
    UnknownTool,
    UnknownToolCall,
    parse_event,
)
from streamrun._converter import (
    _generic_message_delta_event,
    converter,
    structure,
)
from streamrun._events import EVENT_CLASSES
from streamrun._models import MessageDeltaEvent

from .conftest import FIXTURES, manifest


def sse_blocks(raw: bytes) -> list[tuple[str, str]]:
    out = []
    for block in raw.decode().split("\n\n"):
        if not block:
            continue
        fields = dict(line.split(": ", 1) for line in block.split("\n"))
        out.append((fields.get("event", "message"), fields["data"]))
    return out


ALL_BLOCKS = [
    (entry["file"], name, data)
    for entry in manifest()
    for name, data in sse_blocks((FIXTURES / entry["file"]).read_bytes())
]


@pytest.mark.parametrize(("file", "name", "data"), ALL_BLOCKS[::3])
def test_every_fixture_event_types(file: str, name: str, data: str) -> None:
    event = parse_event(name, data)
    if name == "done":
        assert isinstance(event, DoneEvent)
        return
    if name == "error":
        assert isinstance(event, ErrorEvent)
        return
    event_cls, data_cls = EVENT_CLASSES[name]
    assert type(event) is event_cls
    assert event.event == name
    assert isinstance(event.data, data_cls)
    assert event.raw == json.loads(data)
    # Built on the fast path, it equals (and reprs as) the one attrs' __init__ builds.
    build: Any = EVENT_CLASSES[name][0]
    assert event == build(data=event.data, raw=event.raw)
    assert repr(event) == repr(build(data=event.data, raw=event.raw))


def test_every_known_event_name_has_a_class() -> None:
    names = set(EVENT_CLASSES)
    runs = {
        "created",
        "queued",
        "in_progress",
        "requires_action",
        "completed",
        "incomplete",
        "failed",
        "cancelling",
        "cancelled",
        "expired",
    }
    steps = {"created", "in_progress", "delta", "completed", "failed", "cancelled", "expired"}
    messages = {"created", "in_progress", "delta", "completed", "incomplete"}
    expected = (
        {"thread.created"}
        | {f"thread.run.{s}" for s in runs}
        | {f"thread.run.step.{s}" for s in steps}
        | {f"thread.message.{s}" for s in messages}
    )
    assert names == expected
    for name, (event_cls, _) in EVENT_CLASSES.items():
        assert event_cls.__name__ in streamrun.__all__
        with pytest.raises(AttributeError):
            # Events are frozen.
            event_cls(data=None).event = "x"
        assert event_cls(data=None).event == name


def test_run_fields_and_unknown_values_survive() -> None:
    raw = {
        "id": "run_1",
        "object": "thread.run",
        "status": "some_future_status",
        "tools": [
            {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}},
            {"type": "file_search", "file_search": {"max_num_results": 5}},
            {"type": "browser", "browser": {"x": 1}},
        ],
        "tool_choice": {"type": "function", "function": {"name": "f"}},
        "response_format": {"type": "json_schema", "json_schema": {"name": "n", "strict": True}},
        "required_action": {
            "type": "submit_tool_outputs",
            "submit_tool_outputs": {
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "f", "arguments": "{}"},
                    }
                ]
            },
        },
        "a_new_field": {"nested": True},
        "instructions": None,
    }
    event = parse_event("thread.run.requires_action", json.dumps(raw))
    run = event.data
    assert isinstance(run, Run)
    assert run.status == "some_future_status"
    assert isinstance(run.tools[2], UnknownTool)
    assert run.tools[2].raw == raw["tools"][2]  # type: ignore[index]
    assert run.tool_choice is not None and not isinstance(run.tool_choice, str)
    assert run.tool_choice.function is not None and run.tool_choice.function.name == "f"
    assert run.required_action is not None
    assert run.required_action.submit_tool_outputs.tool_calls[0].id == "call_1"
    assert event.raw["a_new_field"] == {"nested": True}
    assert run.instructions is None
    string_choice = parse_event(
        "thread.run.created", '{"tool_choice":"auto","response_format":"auto"}'
    )
    assert string_choice.data.tool_choice == "auto"  # type: ignore[union-attr]


def test_unknown_content_part_tool_call_and_annotation_survive() -> None:
    message = structure(
        {
            "id": "msg_1",
            "content": [
                {
                    "type": "text",
                    "text": {"value": "hi", "annotations": [{"type": "new_kind", "k": 1}]},
                },
                {"type": "audio", "audio": {"id": "a"}},
            ],
        },
        Message,
    )
    text = message.content[0]
    assert isinstance(text, TextContentBlock)
    assert isinstance(text.text.annotations[0], UnknownAnnotation)
    assert isinstance(message.content[1], UnknownContentBlock)
    assert message.content[1].raw == {"type": "audio", "audio": {"id": "a"}}
    step = structure(
        {
            "id": "step_1",
            "type": "tool_calls",
            "step_details": {
                "type": "tool_calls",
                "tool_calls": [
                    {"id": "c1", "type": "computer_use", "computer_use": {}},
                    {"id": "c2", "type": "code_interpreter", "code_interpreter": {"input": "1+1"}},
                    {"id": "c3", "type": "function", "function": {"name": "f", "arguments": "{}"}},
                ],
            },
        },
        RunStep,
    )
    calls = step.step_details.tool_calls  # type: ignore[union-attr]
    assert isinstance(calls[0], UnknownToolCall) and calls[0].id == "c1"
    assert (
        isinstance(calls[1], CodeInterpreterToolCall) and calls[1].code_interpreter.input == "1+1"
    )
    assert isinstance(calls[2], FunctionToolCall) and calls[2].function.arguments == "{}"
    # Unstructuring gives back the JSON of unknown parts as they came.
    assert converter.unstructure(message)["content"][1] == {"type": "audio", "audio": {"id": "a"}}


def test_unknown_event_keeps_json_or_raw_string() -> None:
    assert parse_event("thread.run.step.future", '{"a": [1]}') == UnknownEvent(
        event="thread.run.step.future", data={"a": [1]}
    )
    assert parse_event("ping", "not json").data == "not json"
    assert parse_event("message", "[1, 2]").data == [1, 2]


@pytest.mark.parametrize(
    "data",
    [
        '{"message":"boom","type":"server_error","param":null,"code":"c"}',
        '{"error":{"message":"boom","type":"server_error","param":null,"code":"c"}}',
    ],
)
def test_error_event_both_shapes(data: str) -> None:
    event = parse_event("error", data)
    assert isinstance(event, ErrorEvent)
    assert event.data.message == "boom"
    assert event.data.code == "c"
    assert event.data.type == "server_error"


def test_done_by_name_or_data() -> None:
    assert isinstance(parse_event("done", "[DONE]"), DoneEvent)
    assert isinstance(parse_event("message", "[DONE]"), DoneEvent)


@pytest.mark.parametrize(
    ("data", "why"),
    [("{not json", "malformed JSON"), ("[1, 2]", "expected a JSON object"), ('"x"', "object")],
)
def test_malformed_known_event_raises_protocol_error(data: str, why: str) -> None:
    with pytest.raises(ProtocolError, match=why) as info:
        parse_event("thread.run.created", data, position=7)
    error = info.value
    assert error.event == "thread.run.created"
    assert error.position == 7
    assert error.excerpt == data
    assert "#7" in str(error)


def test_wrong_shape_is_a_protocol_error_with_context() -> None:
    with pytest.raises(ProtocolError, match="unexpected JSON shape") as info:
        parse_event("thread.run.created", '{"tools": 5}')
    assert info.value.event == "thread.run.created"


def test_long_data_excerpt_is_bounded() -> None:
    with pytest.raises(ProtocolError) as info:
        parse_event("thread.message.delta", "{" + "x" * 5000)
    assert info.value.excerpt is not None and len(info.value.excerpt) <= 121


def test_text_buffer_grows_without_joining() -> None:
    buffer = streamrun.TextBuffer("a")
    for fragment in "bcdef":
        buffer.append(fragment)
    assert len(buffer._parts) == 6
    assert str(buffer) == "abcdef"
    assert len(buffer._parts) == 1
    text = streamrun.Text(value="x")
    assert text == streamrun.Text(value="x")
    assert repr(text) == "Text(value='x', annotations=[])"


# -- the thread.message.delta fast path equals the generated hook -----------------

_json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5))
_annotation = st.fixed_dictionaries(
    {"index": st.integers(0, 3), "type": st.sampled_from(["file_citation", "file_path", "odd"])},
    optional={"text": st.text(max_size=5), "start_index": st.integers(0, 9)},
)
_text_part = st.fixed_dictionaries(
    {"type": st.just("text")},
    optional={
        "index": st.integers(0, 3),
        "text": st.one_of(
            st.fixed_dictionaries(
                {},
                optional={
                    "value": st.one_of(
                        st.text(max_size=8),
                        st.integers(),
                        st.booleans(),
                        st.just({"a": 1}),
                        st.just(["x"]),
                    ),
                    "annotations": st.lists(_annotation, max_size=2),
                },
            ),
            st.none(),
        ),
    },
)
_other_part = st.fixed_dictionaries(
    {"index": st.integers(0, 3), "type": st.sampled_from(["refusal", "image_file", "mystery"])},
    optional={"refusal": st.text(max_size=4), "image_file": st.just({"file_id": "f"})},
)
_delta_event = st.fixed_dictionaries(
    {
        "id": st.one_of(st.text(max_size=5), st.just(7), st.just({"id": "m"})),
        "delta": st.fixed_dictionaries(
            {},
            optional={
                "role": st.sampled_from(["assistant", None, 1, ["assistant"]]),
                "content": st.lists(st.one_of(_text_part, _other_part), max_size=4),
            },
        ),
    },
    optional={"object": st.just("thread.message.delta")},
)


@given(_delta_event)
def test_message_delta_fast_path_matches_generated_hook(data: dict[str, Any]) -> None:
    # The same event, or the same shape error (a string field holding anything
    # but a string: never converted to text).
    def outcome(structure_: Callable[[], Any]) -> Any:
        try:
            return structure_()
        except TypeError as exc:  # the first bad field found may differ
            assert str(exc).startswith("expected a string, got ")
            return TypeError

    fast = outcome(lambda: structure(data, MessageDeltaEvent))
    generic = outcome(lambda: _generic_message_delta_event(data, MessageDeltaEvent))
    assert fast == generic


def test_message_delta_fast_path_on_fixture_deltas() -> None:
    seen = 0
    for _, name, data in ALL_BLOCKS:
        if name == "thread.message.delta":
            event = parse_event(name, data)
            assert isinstance(event, ThreadMessageDelta)
            assert event.data == _generic_message_delta_event(json.loads(data), MessageDeltaEvent)
            seen += 1
    assert seen > 100


def test_unknown_content_delta_in_a_delta_event() -> None:
    event = parse_event(
        "thread.message.delta",
        '{"id":"m","delta":{"content":[{"index":1,"type":"hologram","hologram":{"x":1}},'
        '{"index":0,"type":"text","text":{"value":"hi"}}]}}',
    )
    assert isinstance(event, ThreadMessageDelta)
    first, second = event.data.delta.content
    assert isinstance(first, UnknownContentDelta) and first.index == 1
    assert isinstance(second, TextDeltaBlock) and second.text is not None
    assert second.text.value == "hi"
