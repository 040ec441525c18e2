"""The fake server's Responses player: every event validates against the official SDK's types.

Each scenario is played as a Responses stream; every event is validated by
the ``openai`` package's own pydantic model of ``ResponseStreamEvent`` and
fed to its own stream accumulator (``ResponseStreamState``), whose final
response must carry the scenario's text and function calls.
"""

from __future__ import annotations

import itertools
from typing import Any

import pydantic
import pytest
from openai import omit
from openai.lib.streaming.responses._responses import ResponseStreamState
from openai.types.responses import ResponseStreamEvent

from streamrun.testing import (
    CodeInterpreterCall,
    ErrorEvent,
    Fail,
    FileCitation,
    FileSearchCall,
    FileSearchResult,
    FunctionCall,
    FunctionCalls,
    Incomplete,
    Pause,
    Refusal,
    Scenario,
    TextReply,
)
from streamrun.testing._responses_engine import ResponseEvent, ResponsePlayer, Wait

ADAPTER: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(ResponseStreamEvent)


def _response() -> dict[str, Any]:
    return {
        "id": "resp_1",
        "object": "response",
        "created_at": 1700000000,
        "status": "queued",
        "model": "gpt-fake",
        "output": [],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "metadata": {},
        "usage": None,
    }


def _play(scenario: Scenario) -> tuple[ResponsePlayer, list[ResponseEvent], list[Wait]]:
    counter = itertools.count(1)
    player = ResponsePlayer(
        scenario, response=_response(), new_id=lambda prefix: f"{prefix}_{next(counter)}"
    )
    events: list[ResponseEvent] = []
    waits: list[Wait] = []
    for item in player.play():
        if isinstance(item, Wait):
            waits.append(item)
        else:
            events.append(item)
    return player, events, waits


def _sdk_final(events: list[ResponseEvent]) -> Any:
    state: ResponseStreamState[Any] = ResponseStreamState(input_tools=[], text_format=omit)
    final = None
    for event in events:
        parsed = ADAPTER.validate_python(event.data)
        assert parsed.type == event.type
        state.handle_event(parsed)
        if event.type.startswith("response.") and hasattr(parsed, "response"):
            final = parsed.response
    return final


def test_text_reply_with_annotation() -> None:
    text = "See the report【4:0†source】 for details."
    scenario = Scenario([TextReply(text, annotations=[FileCitation("【4:0†source】", "file_9")])])
    player, events, _ = _play(scenario)
    names = [e.type for e in events]
    assert names[:4] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ]
    assert names[-1] == "response.completed"
    assert "response.output_text.annotation.added" in names
    assert [e.data["sequence_number"] for e in events] == list(range(len(events)))
    deltas = "".join(e.data["delta"] for e in events if e.type == "response.output_text.delta")
    assert deltas == text
    final = _sdk_final(events)
    assert final.status == "completed"
    assert final.output_text == text
    assert final.output[0].content[0].annotations[0].file_id == "file_9"
    assert player.response["status"] == "completed"
    assert player.pending is None


def test_function_calls_stream_one_after_another_and_wait_for_outputs() -> None:
    calls = FunctionCalls(
        [
            FunctionCall("get_weather", '{"city": "Paris"}', id="call_a"),
            FunctionCall("get_time", '{"tz": "CET"}', id="call_b"),
        ]
    )
    player, events, _ = _play(Scenario([calls]))
    order = [
        (e.type, e.data.get("output_index"))
        for e in events
        if e.type.startswith(("response.output_item", "response.function_call"))
    ]
    # Each call's fragments complete before the next call starts.
    first_done = order.index(("response.output_item.done", 0))
    assert all(index == 0 for _, index in order[: first_done + 1])
    assert all(index == 1 for _, index in order[first_done + 1 :])
    final = _sdk_final(events)
    assert final.status == "completed"
    got = [(o.name, o.arguments, o.call_id) for o in final.output]
    assert got == [
        ("get_weather", '{"city": "Paris"}', "call_a"),
        ("get_time", '{"tz": "CET"}', "call_b"),
    ]
    assert player.pending is calls


def test_refusal_tools_and_pause() -> None:
    scenario = Scenario(
        [
            CodeInterpreterCall("print(1 + 1)", logs="2\n"),
            FileSearchCall([FileSearchResult("file_1", "a.txt", 0.5, "hello")]),
            Pause(0.01),
            Refusal("I can't help with that."),
        ]
    )
    _, events, waits = _play(scenario)
    assert waits == [Wait(0.01)]
    final = _sdk_final(events)
    kinds = [o.type for o in final.output]
    assert kinds == ["code_interpreter_call", "file_search_call", "message"]
    assert final.output[0].code == "print(1 + 1)"
    assert final.output[0].outputs[0].logs == "2\n"
    assert final.output[1].results[0].filename == "a.txt"
    assert final.output[2].content[0].refusal == "I can't help with that."


@pytest.mark.parametrize("shape", ["bare", "wrapped"])
def test_error_event_then_failed(shape: Any) -> None:
    _, events, _ = _play(Scenario([ErrorEvent(message="boom", shape=shape, partial_text="Hi")]))
    names = [e.type for e in events]
    assert names[-2:] == ["error", "response.failed"]
    error = events[-2].data
    fields = error["error"] if shape == "wrapped" else error
    assert fields["message"] == "boom"
    if shape == "bare":
        ADAPTER.validate_python(error)  # the spec's shape
    final = events[-1].data["response"]
    assert final["status"] == "failed"
    assert final["output"][0]["status"] == "incomplete"


def test_fail_and_incomplete() -> None:
    _, events, _ = _play(Scenario([Fail(code="rate_limit_exceeded", message="slow down")]))
    final = _sdk_final(events)
    assert final.status == "failed"
    assert final.error.code == "rate_limit_exceeded"
    _, events, _ = _play(Scenario([Incomplete(partial_text="Half an ans")]))
    final = _sdk_final(events)
    assert final.status == "incomplete"
    assert final.incomplete_details.reason == "max_output_tokens"
    assert final.output_text == "Half an ans"


def test_cancel_ends_with_cancelled() -> None:
    player, _, _ = _play(Scenario([Pause(0)]))
    event = player.cancel()
    assert event.type == "response.cancelled"
    assert player.response["status"] == "cancelled"
