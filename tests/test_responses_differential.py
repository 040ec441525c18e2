"""The same answer as a run stream and as a Responses stream: the same handler trace.

Each scenario is written once and framed both ways (the Assistants run stream
as PROTOCOL.md describes it, the Responses stream as the recordings show it);
both go through the Accumulator — the run stream through ``parse_event``, the
Responses stream through ``parse_responses_event`` and the mapper — and the
handler callbacks (``on_event`` aside, ids aside) must be identical.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from streamrun._accumulate import Accumulator
from streamrun._callbacks import Callback, named
from streamrun._events import parse_event
from streamrun._models import FunctionToolCall
from streamrun._responses_events import parse_responses_event
from streamrun._responses_map import ResponsesMapper

Pairs = list[tuple[str, dict[str, Any]]]


def summary(hook: str, args: tuple[Any, ...]) -> tuple[Any, ...]:
    """What a callback says, without ids."""
    first: Any = args[0] if args else None
    if hook == "on_text_delta":
        return (hook, first.value, args[1].value)
    if hook == "on_text_done":
        return (hook, first.value)
    if hook in ("on_message_done", "on_message_created"):
        return (hook, first.role, first.status, first.text)
    if hook in ("on_run_step_created", "on_run_step_done"):
        calls = getattr(first.step_details, "tool_calls", [])
        return (hook, first.type, first.status, [c.function.output for c in calls])
    if hook == "on_run_step_delta":
        return (hook, type(first.step_details).__name__)
    if hook == "on_message_delta":
        return (hook,)
    if hook == "on_tool_call_delta":
        return (hook, first.function.arguments, args[1].function.arguments)
    if hook in ("on_tool_call_created", "on_tool_call_done"):
        assert isinstance(first, FunctionToolCall)
        return (hook, first.function.name, first.function.arguments, first.function.output)
    return (hook, *args)


def trace_of(callbacks: list[Callback]) -> list[tuple[Any, ...]]:
    return [summary(hook, args) for hook, args in map(named, callbacks) if hook != "on_event"]


# -- the run stream ------------------------------------------------------------


def _run(status: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": "run_1",
        "object": "thread.run",
        "thread_id": "thread_1",
        "status": status,
        "assistant_id": "asst_1",
        **extra,
    }


def _step(kind: str, status: str, details: dict[str, Any], sid: str) -> dict[str, Any]:
    return {
        "id": sid,
        "object": "thread.run.step",
        "run_id": "run_1",
        "type": kind,
        "status": status,
        "step_details": details,
    }


def _message(status: str, text: str) -> dict[str, Any]:
    content = [{"type": "text", "text": {"value": text, "annotations": []}}] if text else []
    return {
        "id": "msg_1",
        "object": "thread.message",
        "thread_id": "thread_1",
        "run_id": "run_1",
        "role": "assistant",
        "status": status,
        "content": content,
    }


def run_text(fragments: list[str]) -> Pairs:
    details = {"type": "message_creation", "message_creation": {"message_id": "msg_1"}}
    out: Pairs = [
        ("thread.run.created", _run("queued")),
        ("thread.run.queued", _run("queued")),
        ("thread.run.in_progress", _run("in_progress")),
        ("thread.run.step.created", _step("message_creation", "in_progress", details, "s1")),
        ("thread.run.step.in_progress", _step("message_creation", "in_progress", details, "s1")),
        ("thread.message.created", _message("in_progress", "")),
        ("thread.message.in_progress", _message("in_progress", "")),
    ]
    for i, fragment in enumerate(fragments):
        text: dict[str, Any] = {"value": fragment}
        if i == 0:
            text["annotations"] = []
        out.append(
            (
                "thread.message.delta",
                {"id": "msg_1", "delta": {"content": [{"index": 0, "type": "text", "text": text}]}},
            )
        )
    out += [
        ("thread.message.completed", _message("completed", "".join(fragments))),
        ("thread.run.step.completed", _step("message_creation", "completed", details, "s1")),
        ("thread.run.completed", _run("completed")),
    ]
    return out


def run_function_call(name: str, fragments: list[str], output: str, answer: list[str]) -> Pairs:
    arguments = "".join(fragments)
    call: dict[str, Any] = {
        "id": "call_1",
        "type": "function",
        "function": {"name": name, "arguments": arguments, "output": None},
    }
    empty = {"type": "tool_calls", "tool_calls": []}
    out: Pairs = [
        ("thread.run.created", _run("queued")),
        ("thread.run.queued", _run("queued")),
        ("thread.run.in_progress", _run("in_progress")),
        ("thread.run.step.created", _step("tool_calls", "in_progress", empty, "s0")),
        ("thread.run.step.in_progress", _step("tool_calls", "in_progress", empty, "s0")),
        (
            "thread.run.step.delta",
            {
                "id": "s0",
                "delta": {
                    "step_details": {
                        "type": "tool_calls",
                        "tool_calls": [
                            {
                                "index": 0,
                                "id": "call_1",
                                "type": "function",
                                "function": {"name": name, "arguments": "", "output": None},
                            }
                        ],
                    }
                },
            },
        ),
    ]
    for fragment in fragments:
        out.append(
            (
                "thread.run.step.delta",
                {
                    "id": "s0",
                    "delta": {
                        "step_details": {
                            "type": "tool_calls",
                            "tool_calls": [
                                {
                                    "index": 0,
                                    "type": "function",
                                    "function": {"arguments": fragment},
                                }
                            ],
                        }
                    },
                },
            )
        )
    required = {
        "type": "submit_tool_outputs",
        "submit_tool_outputs": {
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": name, "arguments": arguments},
                }
            ]
        },
    }
    out.append(("thread.run.requires_action", _run("requires_action", required_action=required)))
    # The continuation after submit_tool_outputs.
    done_call = {**call, "function": {**call["function"], "output": output}}
    out.append(
        (
            "thread.run.step.completed",
            _step(
                "tool_calls", "completed", {"type": "tool_calls", "tool_calls": [done_call]}, "s0"
            ),
        )
    )
    return out + run_text(answer)[1:]


# -- the Responses stream -----------------------------------------------------------


def _response(rid: str, status: str, output: list[Any] | None = None) -> dict[str, Any]:
    return {"id": rid, "object": "response", "status": status, "output": output or []}


def responses_text(fragments: list[str], rid: str = "resp_1", start: int = 0) -> Pairs:
    text = "".join(fragments)
    part = {"type": "output_text", "text": "", "annotations": []}
    item = {
        "type": "message",
        "id": "msg_" + rid,
        "role": "assistant",
        "status": "in_progress",
        "content": [],
    }
    done = {**item, "status": "completed", "content": [{**part, "text": text}]}
    where = {"item_id": item["id"], "output_index": start, "content_index": 0}
    out: Pairs = [
        ("response.created", {"response": _response(rid, "in_progress")}),
        ("response.in_progress", {"response": _response(rid, "in_progress")}),
        ("response.output_item.added", {"output_index": start, "item": item}),
        ("response.content_part.added", {**where, "part": part}),
    ]
    for fragment in fragments:
        out.append(("response.output_text.delta", {**where, "delta": fragment, "obfuscation": "x"}))
    out += [
        ("response.output_text.done", {**where, "text": text}),
        ("response.content_part.done", {**where, "part": {**part, "text": text}}),
        ("response.output_item.done", {"output_index": start, "item": done}),
        ("response.completed", {"response": _response(rid, "completed", [done])}),
    ]
    return out


def responses_function_call(name: str, fragments: list[str]) -> Pairs:
    arguments = "".join(fragments)
    item = {
        "type": "function_call",
        "id": "fc_1",
        "call_id": "call_1",
        "name": name,
        "arguments": "",
        "status": "in_progress",
    }
    done = {**item, "arguments": arguments, "status": "completed"}
    out: Pairs = [
        ("response.created", {"response": _response("resp_1", "in_progress")}),
        ("response.in_progress", {"response": _response("resp_1", "in_progress")}),
        ("response.output_item.added", {"output_index": 0, "item": item}),
    ]
    for fragment in fragments:
        out.append(
            (
                "response.function_call_arguments.delta",
                {"item_id": "fc_1", "output_index": 0, "delta": fragment},
            )
        )
    out += [
        (
            "response.function_call_arguments.done",
            {"item_id": "fc_1", "output_index": 0, "arguments": arguments},
        ),
        ("response.output_item.done", {"output_index": 0, "item": done}),
        ("response.completed", {"response": _response("resp_1", "completed", [done])}),
    ]
    return out


# -- feeding --------------------------------------------------------------------


def feed_run_stream(acc: Accumulator, pairs: Pairs) -> list[Callback]:
    out: list[Callback] = []
    for name, body in pairs:
        out += acc.feed(parse_event(name, json.dumps(body)))  # type: ignore[arg-type]
    return out


def feed_responses(acc: Accumulator, mapper: ResponsesMapper, pairs: Pairs) -> list[Callback]:
    out: list[Callback] = []
    for name, body in pairs:
        event = parse_responses_event(name, json.dumps({"type": name, **body}))
        for mapped in mapper.feed(event):
            out += acc.feed(mapped)
    return out


@pytest.mark.parametrize(
    "fragments", [["Hello"], ["Hel", "lo", ", wor", "ld!"], ["a"] * 50, ["", "x", ""]]
)
def test_text_answer_gives_the_same_trace(fragments: list[str]) -> None:
    run_acc = Accumulator()
    run_trace = feed_run_stream(run_acc, run_text(fragments)) + run_acc.end()
    resp_acc = Accumulator()
    resp_trace = feed_responses(resp_acc, ResponsesMapper(), responses_text(fragments))
    resp_trace += resp_acc.end()
    assert trace_of(resp_trace) == trace_of(run_trace)
    assert [m.text for m in resp_acc.final_messages()] == [m.text for m in run_acc.final_messages()]
    assert resp_acc.current_run is not None and run_acc.current_run is not None
    assert resp_acc.current_run.status == run_acc.current_run.status == "completed"


def test_text_only_in_done_events_gives_the_trace_of_one_delta() -> None:
    run_acc = Accumulator()
    run_trace = feed_run_stream(run_acc, run_text(["All at once."])) + run_acc.end()
    pairs = [p for p in responses_text(["All at once."]) if p[0] != "response.output_text.delta"]
    resp_acc = Accumulator()
    resp_trace = feed_responses(resp_acc, ResponsesMapper(), pairs) + resp_acc.end()
    assert trace_of(resp_trace) == trace_of(run_trace)


@pytest.mark.parametrize("fragments", [['{"city":', '"Paris"}'], ["{}"], ['{"a"', ":", "1", "}"]])
def test_function_call_round_gives_the_same_trace(fragments: list[str]) -> None:
    answer = ["It is ", "sunny."]
    run_acc = Accumulator()
    run_trace = feed_run_stream(
        run_acc, run_function_call("get_weather", fragments, "sunny", answer)
    )
    run_trace += run_acc.end()

    resp_acc, mapper = Accumulator(), ResponsesMapper()
    resp_trace = feed_responses(resp_acc, mapper, responses_function_call("get_weather", fragments))
    assert mapper.run is not None and mapper.run.status == "requires_action"
    mapper.set_tool_outputs({"call_id": "ignored", "call_1": "sunny"})
    resp_trace += feed_responses(resp_acc, mapper, responses_text(answer, rid="resp_2"))
    resp_trace += resp_acc.end()

    assert trace_of(resp_trace) == trace_of(run_trace)
    assert [m.text for m in resp_acc.final_messages()] == ["It is sunny."]
