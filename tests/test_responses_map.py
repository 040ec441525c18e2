"""Responses events → run-stream events → Accumulator: every fixture, every mapping rule."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from streamrun._accumulate import Accumulator
from streamrun._callbacks import Callback, named
from streamrun._events import (
    ErrorEvent,
    Event,
    ThreadMessageCompleted,
    ThreadMessageCreated,
    ThreadMessageDelta,
    ThreadMessageIncomplete,
    ThreadRunCancelled,
    ThreadRunCompleted,
    ThreadRunCreated,
    ThreadRunFailed,
    ThreadRunIncomplete,
    ThreadRunInProgress,
    ThreadRunQueued,
    ThreadRunRequiresAction,
    ThreadRunStepCompleted,
    ThreadRunStepCreated,
    ThreadRunStepDelta,
    UnknownEvent,
)
from streamrun._models import (
    CodeInterpreterToolCall,
    FileCitationAnnotation,
    FileSearchToolCall,
    FunctionToolCall,
    MessageCreationStepDetails,
    RefusalContentBlock,
    ToolCallsStepDetails,
    UnknownAnnotation,
    UnknownToolCall,
)
from streamrun._responses_events import parse_responses_event
from streamrun._responses_map import CLIENT_CALL_TYPES, ResponsesMapper

from .test_responses_events import FILES, RESPONSES, sse_events


class Trace:
    """A stream pushed through parse → map → Accumulator, with everything kept."""

    def __init__(self, mapper: ResponsesMapper | None = None) -> None:
        self.mapper = mapper or ResponsesMapper()
        self.acc = Accumulator()
        self.responses: list[Any] = []
        self.events: list[Event] = []
        self.per_event: list[list[Event]] = []
        self.callbacks: list[Callback] = []

    def feed_json(self, stream: list[dict[str, Any]]) -> Trace:
        return self.feed_pairs([(d["type"], json.dumps(d)) for d in stream])

    def feed_pairs(self, pairs: list[tuple[str, str]]) -> Trace:
        for i, (name, data) in enumerate(pairs):
            event = parse_responses_event(name, data, position=i)
            self.responses.append(event)
            mapped = self.mapper.feed(event)
            self.per_event.append(mapped)
            for m in mapped:
                self.events.append(m)
                self.callbacks.extend(self.acc.feed(m))
        return self

    def end(self) -> Trace:
        self.callbacks.extend(self.acc.end())
        return self

    def names(self) -> list[str]:
        return [type(e).__name__ for e in self.events]

    def hooks(self, name: str) -> list[tuple[Any, ...]]:
        return [args for hook, args in map(named, self.callbacks) if hook == name]

    def text(self) -> str:
        return "".join(m.text for m in self.acc.final_messages())


def from_fixture(name: str, mapper: ResponsesMapper | None = None) -> Trace:
    return Trace(mapper).feed_pairs(sse_events(RESPONSES / name)).end()


def final_response(path: Path) -> dict[str, Any]:
    """The last response.* object of a fixture, read as plain JSON."""
    bodies = [json.loads(data) for _, data in sse_events(path)]
    response: dict[str, Any] = [b for b in bodies if "response" in b][-1]["response"]
    return response


def expected_text(response: dict[str, Any]) -> str:
    return "".join(
        part.get("text", "")
        for item in response["output"]
        if item["type"] == "message"
        for part in item["content"]
        if part["type"] == "output_text"
    )


# ---------------------------------------------------------------------------
# Every fixture


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_fixture_through_parse_map_accumulate(path: Path) -> None:
    trace = from_fixture(path.name)
    response = final_response(path)
    # Nothing dropped: every Responses event yields an event carrying it in .raw.
    for source, mapped in zip(trace.responses, trace.per_event, strict=True):
        assert mapped, source
        assert all(m.raw is source for m in mapped)
    # Final text: the completed messages, and the text deltas handed to the handler.
    text = expected_text(response)
    assert trace.text() == text
    assert "".join(args[0].value or "" for args in trace.hooks("on_text_delta")) == text
    # Run identity and status.
    run = trace.acc.current_run
    assert run is not None
    assert run.id == response["id"]
    assert run.thread_id == "thread_" + trace.responses[0].response.id
    calls = [i for i in response["output"] if i["type"] in CLIENT_CALL_TYPES]
    if response["status"] == "completed":
        assert run.status == ("requires_action" if calls else "completed")
    else:
        assert run.status == response["status"]
    # Tool calls waiting for the client: exactly the completed response's calls.
    if calls:
        assert run.required_action is not None
        listed = run.required_action.submit_tool_outputs.tool_calls
        assert [(c.id, c.function.name, c.function.arguments) for c in listed] == [
            (c["call_id"], c["name"], c["arguments"]) for c in calls
        ]
    else:
        assert run.required_action is None
    # One step per non-reasoning item; the steps of calls that wait for the
    # client stay in progress (as Assistants steps until the outputs are sent).
    items = [i for i in response["output"] if i["type"] != "reasoning"]
    assert len(trace.acc.run_steps()) == len(items)
    assert len(trace.hooks("on_run_step_created")) == len(items)
    assert len(trace.hooks("on_run_step_done")) == len(items) - len(calls)
    waiting = [s for s in trace.acc.run_steps() if s.status == "in_progress"]
    assert len(waiting) == len(calls)
    messages = [i for i in items if i["type"] == "message"]
    assert len(trace.hooks("on_message_done")) == len(messages)
    assert len(trace.hooks("on_tool_call_created")) == len(trace.hooks("on_tool_call_done"))
    assert trace.mapper.settled


@pytest.mark.parametrize(
    "name",
    [
        "02_function_call_gpt-4o_2025-03_noseq.sse",
        "16_function_call_gpt-4o-mini.sse",
        "compat_lmstudio_tool_call.sse",
    ],
)
def test_function_call_fixtures_stream_the_call(name: str) -> None:
    trace = from_fixture(name)
    response = final_response(RESPONSES / name)
    (item,) = [i for i in response["output"] if i["type"] == "function_call"]
    assert len(trace.hooks("on_tool_call_created")) == 1
    (done,) = trace.hooks("on_tool_call_done")
    assert isinstance(done[0], FunctionToolCall)
    assert done[0].id == item["call_id"]
    assert (done[0].function.name, done[0].function.arguments) == (
        item["name"],
        item["arguments"],
    )
    fragments = "".join(
        args[0].function.arguments or "" for args in trace.hooks("on_tool_call_delta")
    )
    assert fragments == item["arguments"]


def test_arguments_only_in_done_yield_one_delta() -> None:
    # LM Studio sends function_call_arguments.done without any delta.
    trace = from_fixture("compat_lmstudio_tool_call.sse")
    deltas = [e for e in trace.events if isinstance(e, ThreadRunStepDelta)]
    assert [type(e.raw).__name__ for e in deltas] == [
        "ResponseOutputItemAddedEvent",
        "ResponseFunctionCallArgumentsDoneEvent",
    ]


def test_parallel_calls_become_two_steps_and_one_requires_action() -> None:
    trace = from_fixture("edited_parallel_function_calls.sse")
    steps = trace.acc.run_steps()
    assert len(steps) == 2
    names = [
        c.function.name
        for s in steps
        for c in s.step_details.tool_calls  # type: ignore[union-attr]
        if isinstance(c, FunctionToolCall)
    ]
    assert names == ["currentLocation", "weather"]
    assert trace.names()[-1] == "ThreadRunRequiresAction"


def test_reasoning_items_make_no_step_and_reach_on_event() -> None:
    trace = from_fixture("03_reasoning_summary_o3-mini.sse")
    reasoning = [e for e in trace.events if isinstance(e, UnknownEvent)]
    kinds = Counter(e.event for e in reasoning)
    assert kinds["response.reasoning_summary_text.delta"] == 383
    assert kinds["response.reasoning_summary_part.added"] == 4
    assert kinds["response.output_item.added"] == 1  # the reasoning item
    for e in reasoning:
        assert e.data == e.raw.raw  # the JSON of the Responses event
    steps = trace.acc.final_run_steps()
    assert [type(s.step_details) for s in steps] == [MessageCreationStepDetails]
    assert len(trace.hooks("on_event")) == len(trace.events)


def test_web_search_call_is_an_unknown_tool_call_with_its_json() -> None:
    trace = from_fixture("05_web_search_gpt-5.sse")
    response = final_response(RESPONSES / "05_web_search_gpt-5.sse")
    (item,) = [i for i in response["output"] if i["type"] == "web_search_call"]
    (call,) = [
        c
        for s in trace.acc.final_run_steps()
        if isinstance(s.step_details, ToolCallsStepDetails)
        for c in s.step_details.tool_calls
    ]
    assert isinstance(call, UnknownToolCall)
    assert (call.id, call.type, call.raw) == (item["id"], "web_search_call", item)
    progress = [e.event for e in trace.events if isinstance(e, UnknownEvent)]
    assert "response.web_search_call.searching" in progress
    assert trace.acc.current_run is not None
    assert trace.acc.current_run.status == "completed"  # hosted calls wait for nobody


def test_file_search_call_and_citation() -> None:
    trace = from_fixture("07_file_search_gpt-4o.sse")
    steps = trace.acc.final_run_steps()
    assert isinstance(steps[0].step_details, ToolCallsStepDetails)
    (call,) = steps[0].step_details.tool_calls
    assert isinstance(call, FileSearchToolCall)
    assert call.id.startswith("fs_")
    (message,) = trace.acc.final_messages()
    (annotation,) = message.content[0].text.annotations  # type: ignore[union-attr]
    assert isinstance(annotation, FileCitationAnnotation)
    assert annotation.file_citation.file_id == "file-9RhPAs9YqVajpGXRfcgavJ"
    assert (annotation.start_index, annotation.end_index) == (30, 30)
    # The streamed snapshot got the annotation from annotation.added already.
    deltas = [e for e in trace.events if isinstance(e, ThreadMessageDelta)]
    assert any(
        d.data.delta.content[0].text.annotations  # type: ignore[union-attr]
        for d in deltas
    )


def test_error_event_then_failed_run() -> None:
    trace = from_fixture("20_error_insufficient_quota_gpt-5.sse")
    assert trace.names() == [
        "ThreadRunCreated",
        "ThreadRunInProgress",
        "ErrorEvent",
        "ThreadRunFailed",
    ]
    error = trace.events[2]
    assert isinstance(error, ErrorEvent)
    assert (error.data.code, error.data.type) == ("insufficient_quota", "insufficient_quota")
    failed = trace.events[3]
    assert isinstance(failed, ThreadRunFailed)
    assert failed.data.last_error is not None
    assert failed.data.last_error.code == "insufficient_quota"


def test_background_stream_queued_then_in_progress() -> None:
    trace = from_fixture("09_background_queued_gpt-4o.sse")
    assert trace.names()[:3] == ["ThreadRunCreated", "ThreadRunQueued", "ThreadRunInProgress"]
    assert trace.events[0].data.status == "queued"  # type: ignore[union-attr]


def test_resumed_stream_gets_run_created_first() -> None:
    trace = from_fixture("10_background_resume_GET_starting_after.sse")
    assert trace.names()[:3] == ["ThreadRunCreated", "ThreadRunQueued", "ThreadRunInProgress"]
    assert trace.per_event[0][0].raw is trace.per_event[0][1].raw
    assert trace.mapper.last_sequence_number == 16


def test_resume_on_the_same_mapper_does_not_create_the_run_twice() -> None:
    pairs = sse_events(RESPONSES / "09_background_queued_gpt-4o.sse")
    mapper = ResponsesMapper()
    first = Trace(mapper).feed_pairs(pairs[:5])
    assert mapper.last_sequence_number == 4
    rest = Trace(mapper).feed_pairs(pairs[5:]).end()
    assert "ThreadRunCreated" not in rest.names()
    assert first.names().count("ThreadRunCreated") == 1


# ---------------------------------------------------------------------------
# Continuation: the run is the newest response, the thread stays


def test_tool_round_continues_in_the_same_thread() -> None:
    mapper = ResponsesMapper()
    acc_trace = Trace(mapper)
    acc_trace.feed_pairs(sse_events(RESPONSES / "16_function_call_gpt-4o-mini.sse"))
    first = mapper.run
    assert first is not None and first.status == "requires_action"
    assert [c.type for c in mapper.client_calls] == ["function_call"]
    acc_trace.feed_pairs(sse_events(RESPONSES / "22_text_after_tool_gpt-5.sse")).end()
    second = mapper.run
    assert second is not None
    assert second.id == final_response(RESPONSES / "22_text_after_tool_gpt-5.sse")["id"]
    assert second.id != first.id
    assert second.thread_id == first.thread_id == mapper.thread_id
    assert second.status == "completed"
    assert mapper.client_calls == []
    runs = [e for e in acc_trace.events if isinstance(e, ThreadRunCreated)]
    assert [r.data.id for r in runs] == [first.id, second.id]
    assert acc_trace.text() == "Current weather in New York City, USA: Sunny."


def test_waiting_call_steps_complete_when_the_continuation_starts() -> None:
    mapper = ResponsesMapper()
    trace = Trace(mapper).feed_pairs(sse_events(RESPONSES / "16_function_call_gpt-4o-mini.sse"))
    (step,) = trace.acc.run_steps()
    assert step.status == "in_progress"
    assert trace.hooks("on_run_step_done") == []
    assert len(trace.hooks("on_tool_call_done")) == 1  # done at requires_action
    call_id = "call_0UFGPwrziw5rbinYp7rthrTb"
    mapper.set_tool_outputs({call_id: "Sunny, 18 C"})
    trace.feed_pairs(sse_events(RESPONSES / "22_text_after_tool_gpt-5.sse"))
    first = trace.per_event[len(sse_events(RESPONSES / "16_function_call_gpt-4o-mini.sse"))]
    assert [type(e).__name__ for e in first] == ["ThreadRunCreated", "ThreadRunStepCompleted"]
    completed = first[1]
    assert isinstance(completed, ThreadRunStepCompleted)
    assert completed.data.id == step.id
    assert completed.data.run_id == step.run_id != first[0].data.id  # type: ignore[union-attr]
    (call,) = completed.data.step_details.tool_calls  # type: ignore[union-attr]
    assert isinstance(call, FunctionToolCall)
    assert (call.id, call.function.output) == (call_id, "Sunny, 18 C")
    done = trace.hooks("on_run_step_done")
    assert [args[0] for args in done] == [completed.data, trace.acc.run_steps()[-1]]
    assert len(trace.hooks("on_tool_call_done")) == 1  # not twice


@pytest.mark.parametrize(
    ("status", "cls"),
    [("failed", "ThreadRunStepFailed"), ("cancelled", "ThreadRunStepCancelled")],
)
def test_waiting_call_steps_end_with_a_response_that_does_not_wait(status: str, cls: str) -> None:
    fn = {
        "type": "function_call",
        "id": "fc_1",
        "call_id": "call_1",
        "name": "f",
        "arguments": "{}",
        "status": "completed",
    }
    trace = Trace().feed_json(
        stream(
            {"type": "response.output_item.added", "item": {**fn, "arguments": ""}},
            {"type": "response.output_item.done", "item": fn},
            status=status,
            output=[fn],
        )
    )
    assert trace.names()[-2:] == [cls, "ThreadRun" + status.capitalize()]
    (step,) = trace.acc.run_steps()
    assert step.status == status


def test_conversation_id_is_the_thread_id() -> None:
    trace = Trace().feed_json(stream(conversation={"id": "conv_42"}))
    assert trace.mapper.thread_id == "conv_42"
    assert all(
        e.data.thread_id == "conv_42"
        for e in trace.events
        if isinstance(e, (ThreadRunCreated, ThreadMessageCreated, ThreadRunStepCreated))
    )


def test_given_thread_id_is_kept() -> None:
    trace = Trace(ResponsesMapper(thread_id="thread_mine")).feed_json(stream())
    assert trace.acc.current_run is not None
    assert trace.acc.current_run.thread_id == "thread_mine"


# ---------------------------------------------------------------------------
# Synthetic streams for the rules the fixtures do not show


def response(rid: str = "resp_1", status: str = "in_progress", **extra: Any) -> dict[str, Any]:
    return {"id": rid, "object": "response", "created_at": 5, "status": status, **extra}


def stream(
    *middle: dict[str, Any], status: str = "completed", output: Any = None, **extra: Any
) -> list[dict[str, Any]]:
    body = list(middle) or [
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {"type": "message", "id": "msg_1", "role": "assistant", "content": []},
        },
        {
            "type": "response.output_text.delta",
            "item_id": "msg_1",
            "content_index": 0,
            "delta": "Hi",
        },
        {
            "type": "response.output_item.done",
            "output_index": 0,
            "item": {
                "type": "message",
                "id": "msg_1",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": "Hi", "annotations": []}],
            },
        },
    ]
    last = response(status=status, output=output or [], **extra)
    return [
        {"type": "response.created", "response": response(**extra)},
        *body,
        {"type": f"response.{status}", "response": last},
    ]


def test_text_only_in_done_events_yields_one_delta() -> None:
    item = {"type": "message", "id": "m", "role": "assistant", "content": []}
    part = {"type": "output_text", "text": "", "annotations": []}
    trace = (
        Trace()
        .feed_json(
            stream(
                {"type": "response.output_item.added", "item": item},
                {"type": "response.content_part.added", "item_id": "m", "part": part},
                {"type": "response.output_text.done", "item_id": "m", "text": "Whole text."},
                {
                    "type": "response.content_part.done",
                    "item_id": "m",
                    "part": {**part, "text": "Whole text."},
                },
                {
                    "type": "response.output_item.done",
                    "item": {**item, "content": [{**part, "text": "Whole text."}]},
                },
            )
        )
        .end()
    )
    assert [a[0].value for a in trace.hooks("on_text_delta")] == ["Whole text."]
    assert len(trace.hooks("on_text_created")) == len(trace.hooks("on_text_done")) == 1
    assert trace.text() == "Whole text."
    unknown = [e.event for e in trace.events if isinstance(e, UnknownEvent)]
    assert unknown == ["response.content_part.added", "response.content_part.done"]


def test_text_only_in_the_completed_item_yields_one_delta() -> None:
    item = {
        "type": "message",
        "id": "m",
        "role": "assistant",
        "content": [{"type": "output_text", "text": "Late."}],
    }
    trace = Trace().feed_json(stream({"type": "response.output_item.done", "item": item})).end()
    assert [a[0].value for a in trace.hooks("on_text_delta")] == ["Late."]
    assert trace.names()[1:4] == [
        "ThreadMessageDelta",
        "ThreadMessageCompleted",
        "ThreadRunStepCompleted",
    ]


def test_refusal() -> None:
    item = {"type": "message", "id": "m", "role": "assistant", "content": []}
    trace = (
        Trace()
        .feed_json(
            stream(
                {"type": "response.output_item.added", "item": item},
                {
                    "type": "response.content_part.added",
                    "item_id": "m",
                    "part": {"type": "refusal", "refusal": ""},
                },
                {"type": "response.refusal.delta", "item_id": "m", "delta": "I can't"},
                {"type": "response.refusal.delta", "item_id": "m", "delta": " help."},
                {"type": "response.refusal.done", "item_id": "m", "refusal": "I can't help."},
                {
                    "type": "response.output_item.done",
                    "item": {**item, "content": [{"type": "refusal", "refusal": "I can't help."}]},
                },
            )
        )
        .end()
    )
    assert trace.hooks("on_refusal_delta") == [
        ("I can't", "I can't"),
        (" help.", "I can't help."),
    ]
    (message,) = trace.acc.final_messages()
    assert message.content == [RefusalContentBlock(refusal="I can't help.")]
    assert trace.hooks("on_refusal_done") == [("I can't help.",)]


def test_url_citation_is_kept_as_unknown_annotation() -> None:
    citation = {
        "type": "url_citation",
        "url": "https://x.test",
        "title": "X",
        "start_index": 0,
        "end_index": 2,
    }
    item = {
        "type": "message",
        "id": "m",
        "role": "assistant",
        "content": [{"type": "output_text", "text": "Hi", "annotations": [citation]}],
    }
    trace = Trace().feed_json(stream({"type": "response.output_item.done", "item": item}))
    (message,) = trace.acc.final_messages()
    assert message.content[0].text.annotations == [  # type: ignore[union-attr]
        UnknownAnnotation(type="url_citation", raw=citation)
    ]


def test_incomplete_response_and_message() -> None:
    item = {
        "type": "message",
        "id": "m",
        "role": "assistant",
        "status": "incomplete",
        "content": [{"type": "output_text", "text": "Cut"}],
    }
    trace = Trace().feed_json(
        stream(
            {"type": "response.output_item.done", "item": item},
            status="incomplete",
            incomplete_details={"reason": "max_output_tokens"},
        )
    )
    assert isinstance(trace.events[-1], ThreadRunIncomplete)
    assert trace.events[-1].data.incomplete_details is not None
    assert trace.events[-1].data.incomplete_details.reason == "max_output_tokens"
    message = [e for e in trace.events if isinstance(e, ThreadMessageIncomplete)]
    assert message[0].data.incomplete_details is not None
    assert message[0].data.incomplete_details.reason == "max_output_tokens"


@pytest.mark.parametrize(
    ("name", "status", "cls"),
    [
        ("response.failed", "failed", ThreadRunFailed),
        ("response.cancelled", "cancelled", ThreadRunCancelled),
        ("response.failed", "cancelled", ThreadRunCancelled),
        ("response.completed", "completed", ThreadRunCompleted),
        ("response.incomplete", "incomplete", ThreadRunIncomplete),
    ],
)
def test_terminal_events(name: str, status: str, cls: type) -> None:
    mapper = ResponsesMapper()
    trace = Trace(mapper).feed_json(
        [
            {"type": "response.in_progress", "response": response()},
            {"type": name, "response": response(status=status)},
        ]
    )
    assert trace.names() == ["ThreadRunCreated", "ThreadRunInProgress", cls.__name__]
    assert mapper.settled
    assert mapper.terminal_event is trace.responses[-1]


def test_client_side_calls_other_than_functions_require_action() -> None:
    shell = {
        "type": "shell_call",
        "id": "sh_1",
        "call_id": "call_sh",
        "status": "completed",
        "action": {"commands": ["ls"]},
    }
    approval = {
        "type": "mcp_approval_request",
        "id": "mcpr_1",
        "name": "deploy",
        "arguments": '{"env":"prod"}',
        "server_label": "ops",
    }
    fn = {
        "type": "function_call",
        "id": "fc_1",
        "call_id": "call_fn",
        "name": "f",
        "arguments": "{}",
    }
    hosted = {"type": "web_search_call", "id": "ws_1", "status": "completed"}
    output = [hosted, shell, approval, fn]
    trace = (
        Trace()
        .feed_json(
            stream(
                *[
                    {"type": "response.output_item.added", "output_index": i, "item": it}
                    for i, it in enumerate(output)
                ],
                *[
                    {"type": "response.output_item.done", "output_index": i, "item": it}
                    for i, it in enumerate(output)
                ],
                output=output,
            )
        )
        .end()
    )
    last = trace.events[-1]
    assert isinstance(last, ThreadRunRequiresAction)
    assert last.data.status == "requires_action"
    assert last.data.required_action is not None
    listed = last.data.required_action.submit_tool_outputs.tool_calls
    assert [(c.id, c.type, c.function.name, c.function.arguments) for c in listed] == [
        ("call_sh", "shell_call", "shell_call", '{"action":{"commands":["ls"]}}'),
        ("mcpr_1", "mcp_approval_request", "deploy", '{"env":"prod"}'),
        ("call_fn", "function", "f", "{}"),
    ]
    steps = trace.acc.run_steps()
    kinds = [type(s.step_details.tool_calls[0]) for s in steps]  # type: ignore[union-attr]
    assert kinds == [UnknownToolCall, UnknownToolCall, UnknownToolCall, FunctionToolCall]
    # The hosted call's step completed; the three client-side ones wait.
    assert [s.status for s in steps] == ["completed", "in_progress", "in_progress", "in_progress"]
    # Every listed call is done exactly once for the handler.
    done_ids = [args[0].id for args in trace.hooks("on_tool_call_done")]
    assert sorted(done_ids) == ["call_fn", "call_sh", "mcpr_1", "ws_1"]


def test_code_interpreter_call() -> None:
    added = {
        "type": "code_interpreter_call",
        "id": "ci_1",
        "status": "in_progress",
        "code": "",
        "container_id": "cntr",
    }
    done = {
        **added,
        "status": "completed",
        "code": "print(1)",
        "outputs": [{"type": "logs", "logs": "1\n"}, {"type": "image", "url": "u"}],
    }
    trace = (
        Trace()
        .feed_json(
            stream(
                {"type": "response.output_item.added", "item": added},
                {"type": "response.code_interpreter_call.in_progress", "item_id": "ci_1"},
                {
                    "type": "response.code_interpreter_call_code.delta",
                    "item_id": "ci_1",
                    "delta": "print(",
                },
                {
                    "type": "response.code_interpreter_call_code.delta",
                    "item_id": "ci_1",
                    "delta": "1)",
                },
                {
                    "type": "response.code_interpreter_call_code.done",
                    "item_id": "ci_1",
                    "code": "print(1)",
                },
                {"type": "response.output_item.done", "item": done},
            )
        )
        .end()
    )
    (call,) = trace.hooks("on_tool_call_done")
    assert isinstance(call[0], CodeInterpreterToolCall)
    assert call[0].code_interpreter.input == "print(1)"
    assert call[0].code_interpreter.outputs[0].logs == "1\n"  # type: ignore[union-attr]
    inputs = [a[0].code_interpreter.input for a in trace.hooks("on_tool_call_delta")]
    assert "".join(i or "" for i in inputs) == "print(1)"


def test_message_and_step_ids() -> None:
    trace = Trace().feed_json(stream()).end()
    created = [e for e in trace.events if isinstance(e, ThreadRunStepCreated)]
    assert created[0].data.id == "step_msg_1"
    assert created[0].data.run_id == "resp_1"
    details = created[0].data.step_details
    assert isinstance(details, MessageCreationStepDetails)
    assert details.message_creation.message_id == "msg_1"
    done = [e for e in trace.events if isinstance(e, ThreadMessageCompleted)]
    assert done[0].data.id == "msg_1"
    assert done[0].data.run_id == "resp_1"
    assert done[0].data.created_at == 5


def test_every_mapped_class_is_one_the_accumulator_knows() -> None:
    known = {
        ThreadRunCreated,
        ThreadRunQueued,
        ThreadRunInProgress,
        ThreadRunCompleted,
        ThreadRunRequiresAction,
        ThreadRunIncomplete,
        ThreadRunFailed,
        ThreadRunCancelled,
        ThreadRunStepCreated,
        ThreadRunStepDelta,
        ThreadRunStepCompleted,
        ThreadMessageCreated,
        ThreadMessageDelta,
        ThreadMessageCompleted,
        ThreadMessageIncomplete,
        ErrorEvent,
        UnknownEvent,
    }
    for path in FILES:
        assert {type(e) for e in from_fixture(path.name).events} <= known


def test_text_delta_hot_path_builds_what_the_constructors_build() -> None:
    from streamrun._models import MessageDelta, MessageDeltaEvent, TextDelta, TextDeltaBlock

    mapper = ResponsesMapper()
    event = parse_responses_event(
        "response.output_text.delta",
        '{"type":"response.output_text.delta","item_id":"m","content_index":2,"delta":"x"}',
    )
    (mapped,) = mapper.feed(event)
    expected = ThreadMessageDelta(
        data=MessageDeltaEvent(
            id="m",
            delta=MessageDelta(content=[TextDeltaBlock(index=2, text=TextDelta(value="x"))]),
        ),
        raw=event,
    )
    assert mapped == expected
    assert repr(mapped) == repr(expected)
    assert mapped.raw is event


def test_done_sentinel_maps_to_nothing() -> None:
    from streamrun._events import DoneEvent

    mapper = ResponsesMapper()
    assert mapper.feed(DoneEvent()) == []
    assert mapper.last_sequence_number is None


def test_readme_table_names_every_mapped_event_and_class() -> None:
    from streamrun import _responses_map

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    start = readme.index("| Responses event | run-stream event(s) |")
    table = readme[start : readme.index("\n\n", start)]
    for cls in _responses_map._HANDLERS:
        name = attrs_default_type(cls)
        assert f"`{name}`" in table, name
    produced = {
        name for name in vars(_responses_map) if name.startswith("Thread") or name == "ErrorEvent"
    }
    for name in produced:
        assert f"`{name}`" in table, name


def attrs_default_type(cls: type) -> str:
    import attrs

    default = attrs.fields_dict(cls)["type"].default
    assert isinstance(default, str)
    return default
