"""Typed Responses API events: every recorded fixture, the real-server quirks, bad shapes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from streamrun._events import DoneEvent
from streamrun._exceptions import ProtocolError
from streamrun._responses_events import (
    RESPONSE_EVENT_CLASSES,
    RESPONSES_TERMINAL_EVENTS,
    TOOL_CALL_PROGRESS_EVENTS,
    ResponseCompletedEvent,
    ResponseCreatedEvent,
    ResponseErrorEvent,
    ResponseFunctionCallArgumentsDoneEvent,
    ResponseOutputItemAddedEvent,
    ResponseOutputItemDoneEvent,
    ResponseOutputTextAnnotationAddedEvent,
    ResponseOutputTextDeltaEvent,
    ResponseQueuedEvent,
    ResponseToolCallProgressEvent,
    UnknownResponseEvent,
    is_terminal_responses_event,
    parse_responses_event,
)
from streamrun._responses_map import ResponsesMapper
from streamrun._responses_models import (
    ResponseFileCitation,
    ResponseFunctionCall,
    ResponseOutputMessage,
    ResponseOutputText,
    UnknownResponseAnnotation,
    UnknownResponseContentPart,
    UnknownResponseOutputItem,
)
from streamrun.sse import SSEDecoder

from .conftest import FIXTURES

RESPONSES = FIXTURES / "responses"
FILES = sorted(RESPONSES.glob("*.sse"))


def sse_events(path: Path) -> list[tuple[str, str]]:
    decoder = SSEDecoder()
    events = decoder.feed(path.read_bytes()) + decoder.close()
    return [(e.event, e.data) for e in events]


def parsed(path: Path) -> list[Any]:
    return [
        parse_responses_event(name, data, position=i)
        for i, (name, data) in enumerate(sse_events(path))
    ]


def test_all_fixtures_are_present_with_their_sources() -> None:
    assert len(FILES) == 14
    sources = (RESPONSES / "SOURCES.md").read_text()
    for path in FILES:
        assert f"`{path.name}`" in sources


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_fixture_event_parses_to_its_type(path: Path) -> None:
    raw_events = sse_events(path)
    events = parsed(path)
    assert len(events) == len(raw_events) > 0
    for (_, data), event in zip(raw_events, events, strict=True):
        body = json.loads(data)
        assert event.type == body["type"]
        assert event.raw == body
        assert event.sequence_number == body.get("sequence_number")
        if body["type"] in RESPONSE_EVENT_CLASSES:
            assert type(event) is RESPONSE_EVENT_CLASSES[body["type"]]
        elif body["type"] in TOOL_CALL_PROGRESS_EVENTS:
            assert isinstance(event, ResponseToolCallProgressEvent)
            assert event.item_id == body["item_id"]
        elif body["type"] != "error":
            assert isinstance(event, UnknownResponseEvent)
            assert event.data == body
    # Every recorded stream ends at a terminal response.* event (no [DONE]).
    assert is_terminal_responses_event(events[-1])
    assert not any(is_terminal_responses_event(e) for e in events[:-1])


@pytest.mark.parametrize(
    "name",
    [
        "01_text_gpt-4o_2025-03_noseq.sse",
        "02_function_call_gpt-4o_2025-03_noseq.sse",
        "edited_parallel_function_calls.sse",
    ],
)
def test_streams_without_sequence_number(name: str) -> None:
    assert all(e.sequence_number is None for e in parsed(RESPONSES / name))


def test_sequence_numbers_are_kept() -> None:
    events = parsed(RESPONSES / "15_hello_world_gpt-4o-mini.sse")
    assert [e.sequence_number for e in events] == list(range(len(events)))


def test_stream_without_event_lines_takes_the_name_from_type() -> None:
    path = RESPONSES / "edited_parallel_function_calls.sse"
    assert b"event:" not in path.read_bytes()
    names = {name for name, _ in sse_events(path)}
    assert names <= {"", "message"}
    events = parsed(path)
    assert isinstance(events[0], ResponseCreatedEvent)
    assert isinstance(events[-1], ResponseCompletedEvent)


def test_error_event_with_nested_fields() -> None:
    event = parsed(RESPONSES / "20_error_insufficient_quota_gpt-5.sse")[2]
    assert isinstance(event, ResponseErrorEvent)
    assert event.code == "insufficient_quota"
    assert event.error_type == "insufficient_quota"
    assert event.message.startswith("You exceeded your current quota")
    assert event.param is None
    assert event.sequence_number == 2


def test_error_event_with_top_level_fields_as_the_spec_says() -> None:
    data = {"type": "error", "sequence_number": 7, "code": "server_error", "message": "boom"}
    event = parse_responses_event("error", json.dumps(data))
    assert event == ResponseErrorEvent(code="server_error", message="boom", sequence_number=7)
    assert event.raw == data


def test_error_event_whose_error_is_a_string() -> None:
    event = parse_responses_event("error", '{"type":"error","error":"overloaded"}')
    assert isinstance(event, ResponseErrorEvent)
    assert event.message == "overloaded"


def test_function_call_arguments_done_without_name() -> None:
    events = parsed(RESPONSES / "16_function_call_gpt-4o-mini.sse")
    done = [e for e in events if isinstance(e, ResponseFunctionCallArgumentsDoneEvent)]
    assert len(done) == 1
    assert done[0].name is None
    assert done[0].arguments == '{"location":"San Francisco, CA"}'


def test_obfuscation_padding_stays_in_raw() -> None:
    events = parsed(RESPONSES / "07_file_search_gpt-4o.sse")
    deltas = [e for e in events if isinstance(e, ResponseOutputTextDeltaEvent)]
    assert deltas[0].delta == "The"
    assert deltas[0].raw["obfuscation"] == "ccp2zCh6hoV22"
    assert not hasattr(deltas[0], "obfuscation")


def test_resumed_stream_starts_at_queued() -> None:
    events = parsed(RESPONSES / "10_background_resume_GET_starting_after.sse")
    assert isinstance(events[0], ResponseQueuedEvent)
    assert events[0].sequence_number == 1
    assert events[0].response.background is True


def test_annotation_event_and_part_are_typed() -> None:
    events = parsed(RESPONSES / "07_file_search_gpt-4o.sse")
    (added,) = [e for e in events if isinstance(e, ResponseOutputTextAnnotationAddedEvent)]
    assert added.annotation == ResponseFileCitation(
        file_id="file-9RhPAs9YqVajpGXRfcgavJ", filename="tmp8l5_2pzy.txt", index=30
    )
    done = [e for e in events if isinstance(e, ResponseOutputItemDoneEvent)][-1]
    assert isinstance(done.item, ResponseOutputMessage)
    part = done.item.content[0]
    assert isinstance(part, ResponseOutputText)
    assert part.text == "The capital of France is Paris."


def test_completed_response_repeats_the_output() -> None:
    events = parsed(RESPONSES / "02_function_call_gpt-4o_2025-03_noseq.sse")
    completed = events[-1]
    assert isinstance(completed, ResponseCompletedEvent)
    (call,) = completed.response.output
    assert isinstance(call, ResponseFunctionCall)
    assert (call.name, call.arguments) == ("get_capital", '{"country":"France"}')
    assert completed.response.usage is not None


def test_unknown_types_of_items_parts_and_annotations_are_kept_as_data() -> None:
    item = {"type": "shell_call", "id": "sh_1", "call_id": "call_9", "action": {"commands": ["ls"]}}
    event = parse_responses_event(
        "response.output_item.added",
        json.dumps({"type": "response.output_item.added", "output_index": 0, "item": item}),
    )
    assert isinstance(event, ResponseOutputItemAddedEvent)
    assert event.item == UnknownResponseOutputItem(id="sh_1", type="shell_call", raw=item)
    message: dict[str, Any] = {
        "type": "message",
        "id": "m",
        "content": [
            {"type": "output_audio", "data": "xx"},
            {"type": "output_text", "text": "t", "annotations": [{"type": "hologram", "a": 1}]},
        ],
    }
    done = parse_responses_event(
        "response.output_item.done",
        json.dumps({"type": "response.output_item.done", "item": message}),
    )
    assert isinstance(done, ResponseOutputItemDoneEvent)
    assert isinstance(done.item, ResponseOutputMessage)
    assert done.item.content[0] == UnknownResponseContentPart(
        type="output_audio", raw=message["content"][0]
    )
    text = done.item.content[1]
    assert isinstance(text, ResponseOutputText)
    assert text.annotations == [
        UnknownResponseAnnotation(type="hologram", raw={"type": "hologram", "a": 1})
    ]


def test_unknown_event_names_become_unknown_events() -> None:
    data = {"type": "response.apply_patch_call_operation_diff.delta", "delta": "+x"}
    event = parse_responses_event(data["type"], json.dumps(data))
    assert event == UnknownResponseEvent(type=data["type"], data=data)
    text = parse_responses_event("response.future", "not json")
    assert text == UnknownResponseEvent(type="response.future", data="not json")


def test_unknown_fields_are_ignored_and_kept_in_raw() -> None:
    data = {
        "type": "response.output_text.delta",
        "item_id": "m",
        "delta": "x",
        "brand_new": {"a": 1},
    }
    event = parse_responses_event("response.output_text.delta", json.dumps(data))
    assert event == ResponseOutputTextDeltaEvent(item_id="m", delta="x")
    assert event.raw["brand_new"] == {"a": 1}


def test_done_sentinel_of_compatible_servers() -> None:
    assert isinstance(parse_responses_event("message", "[DONE]"), DoneEvent)


def test_fast_path_equals_the_generic_structuring() -> None:
    data = {
        "type": "response.output_text.delta",
        "sequence_number": 4,
        "item_id": "m",
        "output_index": 1,
        "content_index": 2,
        "delta": "hi",
    }
    fast = parse_responses_event("response.output_text.delta", json.dumps(data))
    assert fast == ResponseOutputTextDeltaEvent(
        item_id="m", output_index=1, content_index=2, delta="hi", sequence_number=4
    )
    # A value of another type takes the generic hooks (and gets the same coercions).
    slow = parse_responses_event(
        "response.output_text.delta", json.dumps({**data, "output_index": 1.0})
    )
    assert slow == fast


@pytest.mark.parametrize(
    ("name", "data", "why"),
    [
        ("response.output_text.delta", "{not json", "malformed JSON"),
        ("response.output_text.delta", "[1, 2]", "expected a JSON object"),
        ("response.output_text.delta", '{"output_index": "first"}', "unexpected JSON shape"),
        ("response.created", '{"response": [1]}', "unexpected JSON shape"),
        ("response.output_item.added", '{"item": "text"}', "unexpected JSON shape"),
        ("response.completed", '{"response": {"output": {"a": 1}}}', "unexpected JSON shape"),
        ("error", '{"sequence_number": "x"}', "unexpected JSON shape"),
        ("response.web_search_call.searching", '{"output_index": null}', "unexpected JSON"),
        # A string field holding anything else is never converted to text.
        (
            "response.output_item.done",
            '{"item": {"type": "function_call", "id": "fc", "call_id": "c", "name": "f",'
            ' "arguments": {"a": 1}}}',
            "expected a string, got dict",
        ),
        ("response.function_call_arguments.delta", '{"delta": 5}', "expected a string, got int"),
        ("response.output_text.delta", '{"delta": ["x"]}', "expected a string, got list"),
        ("response.created", '{"response": {"id": 7}}', "expected a string, got int"),
        ("error", '{"error": {"code": {"x": 1}, "message": "m"}}', "expected a string"),
        ("error", '{"message": true}', "expected a string, got bool"),
    ],
)
def test_known_events_of_the_wrong_shape_raise_protocol_error(
    name: str, data: str, why: str
) -> None:
    with pytest.raises(ProtocolError) as info:
        parse_responses_event(name, data, position=3)
    assert why in str(info.value)
    assert info.value.event == name
    assert info.value.position == 3


def test_terminal_rule() -> None:
    assert {
        "response.completed",
        "response.incomplete",
        "response.failed",
        "response.cancelled",
    } == RESPONSES_TERMINAL_EVENTS
    assert not is_terminal_responses_event(UnknownResponseEvent(type="error", data={}))


# ---------------------------------------------------------------------------
# Random JSON in every field: ProtocolError or success, never anything else

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)
_FIELDS = [
    "type",
    "sequence_number",
    "response",
    "item",
    "item_id",
    "output_index",
    "content_index",
    "annotation_index",
    "summary_index",
    "part",
    "delta",
    "text",
    "refusal",
    "arguments",
    "name",
    "code",
    "annotation",
    "error",
    "message",
    "code",
]
_NAMES = sorted({*RESPONSE_EVENT_CLASSES, *TOOL_CALL_PROGRESS_EVENTS, "error", "x.unknown"})
_SHAPES = {
    "response": st.fixed_dictionaries(
        {"id": st.sampled_from(["r1", "r2"])},
        optional={
            k: _JSON
            for k in ("status", "output", "usage", "error", "tools", "conversation", "metadata")
        },
    ),
    "item": st.fixed_dictionaries(
        {
            "type": st.sampled_from(
                ["message", "function_call", "reasoning", "file_search_call", "shell_call", ""]
            )
        },
        optional={k: _JSON for k in ("id", "call_id", "content", "arguments", "results")},
    ),
}


@st.composite
def _event(draw: st.DrawFn) -> tuple[str, str]:
    name = draw(st.sampled_from(_NAMES))
    body: dict[str, Any] = {"type": name}
    for key in draw(st.lists(st.sampled_from(_FIELDS), max_size=5, unique=True)):
        strategy = _SHAPES.get(key, _JSON) if draw(st.booleans()) else _JSON
        body[key] = draw(strategy)
    return name, json.dumps(body)


@settings(max_examples=400, deadline=None)
@given(st.lists(_event(), min_size=1, max_size=8))
def test_random_json_gives_protocol_error_or_events_the_mapper_accepts(
    stream: list[tuple[str, str]],
) -> None:
    from streamrun._accumulate import Accumulator

    mapper, acc = ResponsesMapper(), Accumulator()
    for i, (name, data) in enumerate(stream):
        try:
            event = parse_responses_event(name, data, position=i)
        except ProtocolError:
            continue
        for mapped in mapper.feed(event):
            assert mapped.raw is event
            acc.feed(mapped)
    acc.end()


@pytest.mark.parametrize(
    "name", ["edited_parallel_function_calls.sse", "20_error_insufficient_quota_gpt-5.sse"]
)
def test_every_split_point_gives_the_same_events(name: str) -> None:
    data = (RESPONSES / name).read_bytes()
    whole = parsed(RESPONSES / name)
    for cut in range(1, len(data), 7):
        decoder = SSEDecoder()
        events = decoder.feed(data[:cut]) + decoder.feed(data[cut:]) + decoder.close()
        again = [parse_responses_event(e.event, e.data) for e in events]
        assert again == whole
        assert [e.raw for e in again] == [e.raw for e in whole]
