"""Tests of the pure accumulation layer (:mod:`streamrun._accumulate`)."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from streamrun._accumulate import Accumulator, Callback
from streamrun._callbacks import named
from streamrun._events import (
    DoneEvent,
    ErrorEvent,
    Event,
    ThreadMessageCompleted,
    ThreadMessageCreated,
    ThreadMessageIncomplete,
    ThreadRunStepCancelled,
    ThreadRunStepCompleted,
    ThreadRunStepCreated,
    ThreadRunStepExpired,
    ThreadRunStepFailed,
    UnknownEvent,
    parse_event,
)
from streamrun._models import (
    CodeInterpreterImage,
    CodeInterpreterLogs,
    CodeInterpreterToolCall,
    FileCitationAnnotation,
    FilePathAnnotation,
    FileSearchToolCall,
    FunctionToolCall,
    ImageFile,
    ImageFileContentBlock,
    ImageURL,
    ImageURLContentBlock,
    Message,
    MessageCreationStepDetails,
    RefusalContentBlock,
    RunStep,
    Text,
    TextBuffer,
    TextContentBlock,
    TextDelta,
    ToolCall,
    ToolCallsStepDetails,
    UnknownAnnotation,
    UnknownCodeInterpreterOutput,
    UnknownContentBlock,
    UnknownStepDetails,
    UnknownToolCall,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures"
FIXTURE_FILES = sorted(FIXTURES.glob("*.sse"))

# ---------------------------------------------------------------------------
# Helpers


def load(path: Path) -> list[Event]:
    """The events of a transcript (``error`` and ``done`` blocks dropped)."""
    events: list[Event] = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        name = data = None
        for line in block.split("\n"):
            if line.startswith("event: "):
                name = line[len("event: ") :]
            elif line.startswith("data: "):
                data = line[len("data: ") :]
        if name is None or data is None:
            continue
        event = parse_event(name, data)
        if not isinstance(event, (DoneEvent, ErrorEvent)):
            events.append(event)
    return events


def data_id(event: Event) -> str:
    data: Any = event.data
    return str(data.id)


def ev(name: str, data: Any) -> Event:
    event = parse_event(name, json.dumps(data))
    assert not isinstance(event, DoneEvent)
    return event


RUN = {
    "id": "run_1",
    "object": "thread.run",
    "thread_id": "thread_1",
    "assistant_id": "asst_1",
    "status": "in_progress",
}


def run_ev(name: str, **fields: Any) -> Event:
    return ev(f"thread.run.{name}", {**RUN, **fields})


def step(
    step_id: str, status: str = "in_progress", calls: list[Any] | None = None, **fields: Any
) -> dict[str, Any]:
    return {
        "id": step_id,
        "object": "thread.run.step",
        "run_id": "run_1",
        "type": "tool_calls",
        "status": status,
        "step_details": {"type": "tool_calls", "tool_calls": calls or []},
        **fields,
    }


def step_ev(suffix: str, data: dict[str, Any]) -> Event:
    return ev(f"thread.run.step.{suffix}", data)


def step_delta(step_id: str, *calls: dict[str, Any]) -> Event:
    return ev(
        "thread.run.step.delta",
        {
            "id": step_id,
            "object": "thread.run.step.delta",
            "delta": {"step_details": {"type": "tool_calls", "tool_calls": list(calls)}},
        },
    )


def fn_first(index: int, call_id: str, name: str) -> dict[str, Any]:
    return {
        "index": index,
        "id": call_id,
        "type": "function",
        "function": {"name": name, "arguments": "", "output": None},
    }


def fn_args(index: int, fragment: str) -> dict[str, Any]:
    return {"index": index, "type": "function", "function": {"arguments": fragment}}


def fn_call(call_id: str, name: str, arguments: str, output: str | None = None) -> dict[str, Any]:
    return {
        "id": call_id,
        "type": "function",
        "function": {"name": name, "arguments": arguments, "output": output},
    }


def msg(
    msg_id: str, status: str = "in_progress", content: list[Any] | None = None, **fields: Any
) -> dict[str, Any]:
    return {
        "id": msg_id,
        "object": "thread.message",
        "thread_id": "thread_1",
        "run_id": "run_1",
        "role": "assistant",
        "status": status,
        "content": content or [],
        **fields,
    }


def msg_ev(suffix: str, data: dict[str, Any]) -> Event:
    return ev(f"thread.message.{suffix}", data)


def msg_delta(msg_id: str, *parts: dict[str, Any], role: str | None = None) -> Event:
    delta: dict[str, Any] = {"content": list(parts)}
    if role is not None:
        delta["role"] = role
    return ev(
        "thread.message.delta",
        {"id": msg_id, "object": "thread.message.delta", "delta": delta},
    )


def text_frag(index: int, value: str | None = None, annotations: Any = None) -> dict[str, Any]:
    text: dict[str, Any] = {}
    if value is not None:
        text["value"] = value
    if annotations is not None:
        text["annotations"] = annotations
    return {"index": index, "type": "text", "text": text}


def text_part(value: str, annotations: list[Any] | None = None) -> dict[str, Any]:
    return {"type": "text", "text": {"value": value, "annotations": annotations or []}}


def _call_state(call: ToolCall) -> Any:
    if isinstance(call, FunctionToolCall):
        return call.function.arguments
    if isinstance(call, CodeInterpreterToolCall):
        return call.code_interpreter.input
    return call.type


def named_all(callbacks: list[Callback]) -> list[tuple[str, tuple[Any, ...]]]:
    return [named(cb) for cb in callbacks]


def summarize(cb: Callback) -> tuple[Any, ...]:
    """A comparable view of one callback, taken when it would be dispatched."""
    name, args = named(cb)
    a: Any = args[0] if args else None
    if name == "on_event":
        return ("event", a.event)
    if name == "on_run_step_created":
        return ("step_created", a.id)
    if name == "on_run_step_delta":
        return ("step_delta", args[1].id)
    if name == "on_run_step_done":
        return ("step_done", a.id, a.status)
    if name == "on_tool_call_created":
        return ("call_created", a.id)
    if name == "on_tool_call_delta":
        return ("call_delta", a.index, _call_state(args[1]))
    if name == "on_tool_call_done":
        return ("call_done", a.id, _call_state(a))
    if name == "on_message_created":
        return ("message_created", a.id)
    if name == "on_message_delta":
        return ("message_delta", args[1].id)
    if name == "on_message_done":
        return ("message_done", a.id, a.status)
    if name == "on_text_created":
        return ("text_created", a.value)
    if name == "on_text_delta":
        return ("text_delta", a.value, args[1].value)
    if name == "on_text_done":
        return ("text_done", a.value)
    if name in ("on_refusal_created", "on_refusal_done"):
        return (name[3:], a)
    if name == "on_refusal_delta":
        return ("refusal_delta", a, args[1])
    if name == "on_image_file_done":
        return ("image_file_done", a.file_id)
    if name == "on_image_url_done":
        return ("image_url_done", a.url)
    raise AssertionError(f"unexpected callback {name}")


def trace(
    acc: Accumulator, events: list[Event], *, end: bool = True, skip: tuple[str, ...] = ()
) -> list[tuple[Any, ...]]:
    """Feed ``events`` and summarize each callback as soon as its step is applied
    (:meth:`Accumulator.feed_in_steps`, as the stream dispatches them), then those
    of ``end()``; summaries whose kind is in ``skip`` are left out."""
    out: list[tuple[Any, ...]] = []
    for event in events:
        steps = acc.feed_in_steps(event)
        first = next(steps)
        assert named(first[0]) == ("on_event", (event,))
        out.extend(summarize(cb) for cb in first)
        for step in steps:
            out.extend(summarize(cb) for cb in step)
    if end:
        out.extend(summarize(cb) for cb in acc.end())
    return [s for s in out if s[0] not in skip]


def message_snapshot(acc: Accumulator) -> Message:
    """The current message snapshot, which must exist."""
    snapshot = acc.current_message_snapshot
    assert snapshot is not None
    return snapshot


def step_snapshot(acc: Accumulator) -> RunStep:
    """The current run step snapshot, which must exist."""
    snapshot = acc.current_run_step_snapshot
    assert snapshot is not None
    return snapshot


def count_joins(monkeypatch: pytest.MonkeyPatch) -> Callable[[], int]:
    """Count the joins of every TextBuffer from now on; returns the count so far."""
    joins = 0
    original = TextBuffer.__str__

    def counting_str(self: TextBuffer) -> str:
        nonlocal joins
        joins += 1
        return original(self)

    monkeypatch.setattr(TextBuffer, "__str__", counting_str)
    return lambda: joins


def feed_all(events: list[Event]) -> tuple[Accumulator, list[Callback]]:
    acc = Accumulator()
    callbacks: list[Callback] = []
    for event in events:
        callbacks.extend(acc.feed(event))
    callbacks.extend(acc.end())
    return acc, callbacks


def names(callbacks: list[Callback]) -> Counter[str]:
    return Counter(cb[0].hook for cb in callbacks)


# ---------------------------------------------------------------------------
# Recorded transcripts


def test_fixtures_present() -> None:
    assert len(FIXTURE_FILES) >= 8


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: p.stem)
def test_fixture_final_messages_are_the_completed_ones(path: Path) -> None:
    events = load(path)
    acc, _ = feed_all(events)
    completed = [
        e.data for e in events if isinstance(e, (ThreadMessageCompleted, ThreadMessageIncomplete))
    ]
    assert acc.final_messages() == completed
    assert all(a is b for a, b in zip(acc.final_messages(), completed, strict=True))
    assert [m.id for m in acc.messages()] == list(
        dict.fromkeys(data_id(e) for e in events if type(e).__name__.startswith("ThreadMessage"))
    )


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: p.stem)
def test_fixture_snapshot_from_deltas_matches_completed_message(path: Path) -> None:
    """The snapshot built from created + deltas equals the completed object's content."""
    acc = Accumulator()
    checked = 0
    for event in load(path):
        if isinstance(event, (ThreadMessageCompleted, ThreadMessageIncomplete)):
            snapshot = acc.current_message_snapshot
            assert snapshot is not None and snapshot.id == event.data.id
            assert snapshot.content == event.data.content
            assert snapshot.status == "in_progress"
            checked += 1
        acc.feed(event)
    assert checked == len(acc.final_messages())


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: p.stem)
def test_fixture_final_run_steps_are_the_ended_ones(path: Path) -> None:
    events = load(path)
    acc, callbacks = feed_all(events)
    ended = [
        e.data
        for e in events
        if isinstance(
            e,
            (
                ThreadRunStepCompleted,
                ThreadRunStepFailed,
                ThreadRunStepCancelled,
                ThreadRunStepExpired,
            ),
        )
    ]
    final = acc.final_run_steps()
    assert final == ended
    assert [(s.status, s.usage) for s in final] == [(s.status, s.usage) for s in ended]
    assert all(s.usage is not None and s.status == "completed" for s in final)
    step_ids = list(dict.fromkeys(data_id(e) for e in events if "RunStep" in type(e).__name__))
    assert [s.id for s in acc.run_steps()] == step_ids
    assert names(callbacks)["on_run_step_created"] == len(step_ids)
    assert names(callbacks)["on_run_step_done"] == len(ended)


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: p.stem)
def test_fixture_tool_call_snapshots_match_completed_steps(path: Path) -> None:
    acc = Accumulator()
    for event in load(path):
        if isinstance(event, ThreadRunStepCompleted):
            snapshot = acc.current_run_step_snapshot
            if snapshot is not None and snapshot.id == event.data.id:
                got, want = snapshot.step_details, event.data.step_details
                if isinstance(want, ToolCallsStepDetails):
                    assert isinstance(got, ToolCallsStepDetails)
                    assert [c.id for c in got.tool_calls] == [c.id for c in want.tool_calls]
                    for g, w in zip(got.tool_calls, want.tool_calls, strict=True):
                        if isinstance(w, CodeInterpreterToolCall):
                            assert g == w
                        elif isinstance(w, FunctionToolCall):
                            assert isinstance(g, FunctionToolCall)
                            assert g.function.arguments == w.function.arguments
                        else:
                            assert isinstance(g, FileSearchToolCall)
        acc.feed(event)


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: p.stem)
def test_fixture_text_snapshot_is_the_concatenation_so_far(path: Path) -> None:
    acc = Accumulator()
    so_far: dict[int, str] = {}
    for event in load(path):
        for name, args in map(named, acc.feed(event)):
            if name == "on_text_created":
                so_far[id(args[0])] = ""
            elif name == "on_text_delta":
                delta, snapshot = args
                so_far[id(snapshot)] += delta.value or ""
                assert snapshot.value == so_far[id(snapshot)]


@pytest.mark.parametrize("path", FIXTURE_FILES, ids=lambda p: p.stem)
def test_fixture_callback_invariants(path: Path) -> None:
    events = load(path)
    acc = Accumulator()
    seq: list[Callback] = []
    for event in events:
        callbacks = acc.feed(event)
        assert named(callbacks[0]) == ("on_event", (event,))
        assert all(name != "on_event" for name, _ in map(named, callbacks[1:]))
        seq.extend(callbacks)
    seq.extend(acc.end())
    counts = names(seq)
    assert counts["on_event"] == len(events)
    assert counts["on_tool_call_created"] == counts["on_tool_call_done"]
    assert counts["on_text_created"] == counts["on_text_done"]
    assert counts["on_message_created"] >= counts["on_message_done"]
    # Every tool call: created, then its deltas, then done, once each.
    created: list[str] = []
    done: list[str] = []
    for name, args in map(named, seq):
        if name == "on_tool_call_created":
            created.append(args[0].id)
        elif name == "on_tool_call_delta":
            assert args[1].id in created and args[1].id not in done
        elif name == "on_tool_call_done":
            assert args[0].id in created and args[0].id not in done
            done.append(args[0].id)
    assert sorted(created) == sorted(done) == sorted(set(created))
    assert acc.end() == []


def test_fixture_plain_text_exact_sequence_shape() -> None:
    events = load(FIXTURES / "plain_text.sse")
    acc = Accumulator()
    got = [s for s in trace(acc, events) if s[0] != "event"]
    deltas = [s for s in got if s[0] == "text_delta"]
    assert len(deltas) == 100
    final = acc.final_messages()[0]
    assert isinstance(final.content[0], TextContentBlock)
    value = final.content[0].text.value
    step_id = acc.final_run_steps()[0].id
    assert got[:3] == [
        ("step_created", step_id),
        ("message_created", final.id),
        ("text_created", deltas[0][1]),
    ]
    assert got[-3:] == [
        ("text_done", value),
        ("message_done", final.id, "completed"),
        ("step_done", step_id, "completed"),
    ]
    assert deltas[-1][2] == value


def test_fixture_function_requires_action_ends_the_call() -> None:
    events = load(FIXTURES / "function_requires_action.sse")
    acc = Accumulator()
    got = trace(acc, events, skip=("event", "step_delta"))
    assert got[0][0] == "step_created"
    assert got[1][0] == "call_created"
    assert [s[0] for s in got[2:-1]] == ["call_delta"] * 13
    assert got[-1][0] == "call_done"
    run = acc.current_run
    assert run is not None and run.status == "requires_action"
    assert run.required_action is not None
    listed = run.required_action.submit_tool_outputs.tool_calls[0]
    assert got[-1] == ("call_done", listed.id, listed.function.arguments)
    # The step was not ended in this stream: no done, no final step.
    assert acc.final_run_steps() == []
    assert [s.status for s in acc.run_steps()] == ["in_progress"]


def test_fixture_continuation_records_the_step_first_seen_completed() -> None:
    events = load(FIXTURES / "submit_tool_outputs_continuation.sse")
    acc = Accumulator()
    got = [s for s in trace(acc, events) if s[0] != "event"]
    first = events[0]
    assert isinstance(first, ThreadRunStepCompleted)
    details = first.data.step_details
    assert isinstance(details, ToolCallsStepDetails)
    call = details.tool_calls[0]
    assert isinstance(call, FunctionToolCall)
    assert got[:4] == [
        ("step_created", first.data.id),
        ("call_created", call.id),
        ("call_done", call.id, call.function.arguments),
        ("step_done", first.data.id, "completed"),
    ]
    assert acc.final_run_steps()[0] is first.data
    assert call.function.output is not None


def test_fixture_code_interpreter_outputs() -> None:
    acc, _ = feed_all(load(FIXTURES / "code_interpreter.sse"))
    step = acc.final_run_steps()[0]
    assert isinstance(step.step_details, ToolCallsStepDetails)
    call = step.step_details.tool_calls[0]
    assert isinstance(call, CodeInterpreterToolCall)
    assert [type(o) for o in call.code_interpreter.outputs] == [
        CodeInterpreterLogs,
        CodeInterpreterImage,
    ]


def test_fixture_events_are_not_modified() -> None:
    events = load(FIXTURES / "code_interpreter.sse")
    created = [e for e in events if isinstance(e, ThreadMessageCreated)]
    step_created = [e for e in events if isinstance(e, ThreadRunStepCreated)]
    feed_all(events)
    assert all(e.data.content == [] for e in created)
    for e in step_created:
        details = e.data.step_details
        assert not isinstance(details, ToolCallsStepDetails) or details.tool_calls == []


# ---------------------------------------------------------------------------
# Tool calls


def test_parallel_interleaved_tool_calls_exact_sequence() -> None:
    events = [
        run_ev("in_progress"),
        step_ev("created", step("step_1")),
        step_delta("step_1", fn_first(0, "call_a", "weather"), fn_first(1, "call_b", "time")),
        step_delta("step_1", fn_args(0, '{"ci'), fn_args(1, '{"tz'), fn_args(0, 'ty":"Paris"}')),
        step_delta("step_1", fn_args(1, '":"UTC"}')),
        run_ev(
            "requires_action",
            status="requires_action",
            required_action={
                "type": "submit_tool_outputs",
                "submit_tool_outputs": {
                    "tool_calls": [
                        fn_call("call_b", "time", '{"tz":"UTC"}'),
                        fn_call("call_a", "weather", '{"city":"Paris"}'),
                    ]
                },
            },
        ),
    ]
    acc = Accumulator()
    assert trace(acc, events) == [
        ("event", "thread.run.in_progress"),
        ("event", "thread.run.step.created"),
        ("step_created", "step_1"),
        ("event", "thread.run.step.delta"),
        ("call_created", "call_a"),
        ("call_delta", 0, ""),
        ("call_created", "call_b"),
        ("call_delta", 1, ""),
        ("step_delta", "step_1"),
        ("event", "thread.run.step.delta"),
        ("call_delta", 0, '{"ci'),  # a copy: the second fragment for index 0 is not in it
        ("call_delta", 1, '{"tz'),
        ("call_delta", 0, '{"city":"Paris"}'),
        ("step_delta", "step_1"),
        ("event", "thread.run.step.delta"),
        ("call_delta", 1, '{"tz":"UTC"}'),
        ("step_delta", "step_1"),
        ("event", "thread.run.requires_action"),
        ("call_done", "call_b", '{"tz":"UTC"}'),
        ("call_done", "call_a", '{"city":"Paris"}'),
    ]
    snapshot = acc.run_steps()[0]
    assert isinstance(snapshot.step_details, ToolCallsStepDetails)
    calls = snapshot.step_details.tool_calls
    assert [(c.id, c.function.name) for c in calls if isinstance(c, FunctionToolCall)] == [
        ("call_a", "weather"),
        ("call_b", "time"),
    ]
    assert acc.end() == []


def test_tool_call_delta_snapshots_are_the_live_call_as_each_fragment_is_applied() -> None:
    acc = Accumulator()
    acc.feed(step_ev("created", step("step_1")))
    deltas = []
    seen = []  # what each hook would see when its step is dispatched
    for batch in acc.feed_in_steps(
        step_delta("step_1", fn_first(0, "call_a", "f"), fn_args(0, "{"), fn_args(0, "}"))
    ):
        for name, args in map(named, batch):
            if name == "on_tool_call_delta":
                deltas.append(args)
                seen.append(args[1].function.arguments)
    live = acc.run_steps()[0].step_details.tool_calls[0]  # type: ignore[union-attr]
    assert [d[1] is live for d in deltas] == [True, True, True]
    assert seen == ["", "{", "{}"]
    assert [d[0].index for d in deltas] == [0, 0, 0]


def test_tool_calls_done_when_the_step_completes_with_completed_objects() -> None:
    events = [
        step_ev("created", step("step_1")),
        step_delta("step_1", fn_first(0, "call_a", "f"), fn_first(1, "call_b", "g")),
        step_delta("step_1", fn_args(1, "{}"), fn_args(0, "{}")),
        step_ev(
            "completed",
            step(
                "step_1",
                "completed",
                [fn_call("call_a", "f", "{}", "out a"), fn_call("call_b", "g", "{}", "out b")],
                usage={"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
            ),
        ),
    ]
    acc = Accumulator()
    callbacks: list[Callback] = []
    for event in events:
        callbacks.extend(acc.feed(event))
    done = [args[0] for name, args in map(named, callbacks) if name == "on_tool_call_done"]
    final = events[-1].data
    assert isinstance(final, RunStep) and isinstance(final.step_details, ToolCallsStepDetails)
    assert done == final.step_details.tool_calls
    assert all(a is b for a, b in zip(done, final.step_details.tool_calls, strict=True))
    assert [cb[0].hook for cb in callbacks][-3:] == [
        "on_tool_call_done",
        "on_tool_call_done",
        "on_run_step_done",
    ]
    assert acc.final_run_steps() == [final]
    assert acc.final_run_steps()[0].usage is not None
    assert acc.current_run_step_snapshot is final
    assert acc.end() == []


def test_two_steps_with_index_zero_are_two_calls() -> None:
    events = [
        step_ev("created", step("step_1")),
        step_delta("step_1", fn_first(0, "call_1", "f")),
        step_delta("step_1", fn_args(0, "{}")),
        step_ev("completed", step("step_1", "completed", [fn_call("call_1", "f", "{}", "1")])),
        step_ev("created", step("step_2")),
        step_delta("step_2", fn_first(0, "call_2", "g")),
        step_delta("step_2", fn_args(0, "[]")),
        step_ev("completed", step("step_2", "completed", [fn_call("call_2", "g", "[]", "2")])),
    ]
    got = trace(Accumulator(), events, skip=("event", "step_delta"))
    assert got == [
        ("step_created", "step_1"),
        ("call_created", "call_1"),
        ("call_delta", 0, ""),
        ("call_delta", 0, "{}"),
        ("call_done", "call_1", "{}"),
        ("step_done", "step_1", "completed"),
        ("step_created", "step_2"),
        ("call_created", "call_2"),
        ("call_delta", 0, ""),
        ("call_delta", 0, "[]"),
        ("call_done", "call_2", "[]"),
        ("step_done", "step_2", "completed"),
    ]


def test_step_first_seen_completed_gets_created_calls_and_done() -> None:
    data = step(
        "step_9",
        "completed",
        [fn_call("call_a", "f", "{}", "x"), fn_call("call_b", "g", "[]", "y")],
        usage={"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    )
    acc = Accumulator()
    assert trace(acc, [step_ev("completed", data), run_ev("queued", status="queued")]) == [
        ("event", "thread.run.step.completed"),
        ("step_created", "step_9"),
        ("call_created", "call_a"),
        ("call_done", "call_a", "{}"),
        ("call_created", "call_b"),
        ("call_done", "call_b", "[]"),
        ("step_done", "step_9", "completed"),
        ("event", "thread.run.queued"),
    ]
    assert [s.id for s in acc.final_run_steps()] == ["step_9"]
    assert [s.id for s in acc.run_steps()] == ["step_9"]


def test_calls_seen_in_step_created_but_never_streamed() -> None:
    created = step("step_1", calls=[fn_call("call_a", "f", "{}")])
    completed = step("step_1", "completed", [fn_call("call_a", "f", "{}", "out")])
    acc = Accumulator()
    assert trace(acc, [step_ev("created", created), step_ev("completed", completed)]) == [
        ("event", "thread.run.step.created"),
        ("step_created", "step_1"),
        ("event", "thread.run.step.completed"),
        ("call_created", "call_a"),
        ("call_done", "call_a", "{}"),
        ("step_done", "step_1", "completed"),
    ]


def test_calls_seen_in_step_created_are_announced_by_their_first_delta() -> None:
    created = step("step_1", calls=[fn_call("call_a", "f", "{")])
    acc = Accumulator()
    got = trace(acc, [step_ev("created", created), step_delta("step_1", fn_args(0, "}"))])
    assert got == [
        ("event", "thread.run.step.created"),
        ("step_created", "step_1"),
        ("event", "thread.run.step.delta"),
        ("call_created", "call_a"),
        ("call_delta", 0, "{}"),
        ("step_delta", "step_1"),
        ("call_done", "call_a", "{}"),  # from end()
    ]
    step_created = parse_event("thread.run.step.created", json.dumps(created))
    assert isinstance(step_created.data, RunStep)


def test_requires_action_done_only_for_listed_calls_rest_at_end() -> None:
    events = [
        step_ev("created", step("step_1")),
        step_delta("step_1", fn_first(0, "call_a", "f"), fn_first(1, "call_b", "g")),
        run_ev(
            "requires_action",
            status="requires_action",
            required_action={
                "type": "submit_tool_outputs",
                "submit_tool_outputs": {
                    "tool_calls": [fn_call("call_b", "g", ""), fn_call("call_zz", "h", "{}")]
                },
            },
        ),
        step_delta("step_1", fn_args(1, "late")),
    ]
    acc = Accumulator()
    got = trace(acc, events, skip=("event", "step_delta"))
    assert got == [
        ("step_created", "step_1"),
        ("call_created", "call_a"),
        ("call_delta", 0, ""),
        ("call_created", "call_b"),
        ("call_delta", 1, ""),
        ("call_done", "call_b", ""),
        # listed but never streamed: created + done from the listing
        ("call_created", "call_zz"),
        ("call_done", "call_zz", "{}"),
        # a late fragment of a done call: merged, no second created
        ("call_delta", 1, "late"),
        # end(): the unlisted call
        ("call_done", "call_a", ""),
    ]
    assert acc.end() == []


def test_requires_action_repeated_does_not_repeat_done() -> None:
    action = {
        "type": "submit_tool_outputs",
        "submit_tool_outputs": {"tool_calls": [fn_call("call_a", "f", "")]},
    }
    events = [
        step_ev("created", step("step_1")),
        step_delta("step_1", fn_first(0, "call_a", "f")),
        run_ev("requires_action", status="requires_action", required_action=action),
        run_ev("requires_action", status="requires_action", required_action=action),
    ]
    counts = names(feed_all(events)[1])
    assert counts["on_tool_call_created"] == counts["on_tool_call_done"] == 1


def test_requires_action_without_required_action_object() -> None:
    acc = Accumulator()
    event = run_ev("requires_action", status="requires_action")
    assert named_all(acc.feed(event)) == [("on_event", (event,))]
    assert acc.current_run is event.data


def test_step_failed_ends_open_calls_and_step() -> None:
    events = [
        step_ev("created", step("step_1")),
        step_delta("step_1", fn_first(0, "call_a", "f")),
        step_delta("step_1", fn_args(0, '{"x"')),
        step_ev(
            "failed",
            step(
                "step_1",
                "failed",
                [],
                last_error={"code": "server_error", "message": "boom"},
            ),
        ),
    ]
    acc = Accumulator()
    got = trace(acc, events, skip=("event", "step_delta"))
    assert got[-2:] == [("call_done", "call_a", '{"x"'), ("step_done", "step_1", "failed")]
    final = acc.final_run_steps()[0]
    assert final.status == "failed" and final.last_error is not None


@pytest.mark.parametrize("suffix", ["cancelled", "expired"])
def test_step_cancelled_or_expired_ends_the_step(suffix: str) -> None:
    events = [
        step_ev("created", step("step_1")),
        step_delta("step_1", fn_first(0, "call_a", "f")),
        step_ev(suffix, step("step_1", suffix, [fn_call("call_a", "f", "")])),
    ]
    acc, callbacks = feed_all(events)
    assert [cb[0].hook for cb in callbacks if cb[0].hook != "on_event"][-2:] == [
        "on_tool_call_done",
        "on_run_step_done",
    ]
    assert acc.final_run_steps()[0].status == suffix


def test_completed_call_matched_by_id_when_positions_differ() -> None:
    events = [
        step_ev("created", step("step_1")),
        step_delta("step_1", fn_first(0, "call_a", "f"), fn_first(1, "call_b", "g")),
        step_ev(
            "completed",
            step(
                "step_1",
                "completed",
                [
                    fn_call("call_b", "g", "B"),
                    fn_call("call_a", "f", "A"),
                    fn_call("call_c", "h", "C"),
                ],
            ),
        ),
    ]
    got = [s for s in trace(Accumulator(), events) if s[0] in ("call_created", "call_done")]
    assert got == [
        ("call_created", "call_a"),
        ("call_created", "call_b"),
        ("call_done", "call_b", "B"),
        ("call_done", "call_a", "A"),
        ("call_created", "call_c"),
        ("call_done", "call_c", "C"),
    ]


def test_step_delta_without_created() -> None:
    acc = Accumulator()
    acc.feed(run_ev("in_progress"))
    got = trace(acc, [step_delta("step_x", fn_first(0, "call_a", "f"))], end=False)
    assert got == [
        ("event", "thread.run.step.delta"),
        ("step_created", "step_x"),
        ("call_created", "call_a"),
        ("call_delta", 0, ""),
        ("step_delta", "step_x"),
    ]
    snapshot = step_snapshot(acc)
    assert (snapshot.id, snapshot.type, snapshot.status) == ("step_x", "tool_calls", "in_progress")
    assert (snapshot.run_id, snapshot.thread_id, snapshot.assistant_id) == (
        "run_1",
        "thread_1",
        "asst_1",
    )


def test_step_in_progress_without_created_creates_the_step() -> None:
    acc = Accumulator()
    got = trace(
        acc,
        [step_ev("in_progress", step("step_1")), step_ev("in_progress", step("step_1"))],
        end=False,
    )
    assert got == [
        ("event", "thread.run.step.in_progress"),
        ("step_created", "step_1"),
        ("event", "thread.run.step.in_progress"),
    ]


def test_code_interpreter_input_and_outputs_merged_by_index() -> None:
    def ci(index: int, **fields: Any) -> dict[str, Any]:
        return {"index": index, "type": "code_interpreter", "code_interpreter": fields}

    events = [
        step_ev("created", step("step_1")),
        step_delta(
            "step_1",
            {**ci(0, input="", outputs=[]), "id": "call_ci"},
        ),
        step_delta("step_1", ci(0, input="print("), ci(0, input="1)")),
        step_delta("step_1", ci(0, outputs=[{"index": 0, "type": "logs", "logs": "1"}])),
        step_delta(
            "step_1",
            ci(
                0,
                outputs=[
                    {"index": 2, "type": "image", "image": {"file_id": "file_img"}},
                    {"index": 0, "type": "logs", "logs": "\n"},
                    {"index": 1, "type": "chart", "data": {"points": [1]}},
                ],
            ),
        ),
        step_delta(
            "step_1", ci(0, outputs=[{"index": 1, "type": "chart", "data": {"title": "t"}}])
        ),
    ]
    acc = Accumulator()
    got = [s for s in trace(acc, events, end=False) if s[0] == "call_delta"]
    assert got == [
        ("call_delta", 0, ""),
        ("call_delta", 0, "print("),
        ("call_delta", 0, "print(1)"),
        ("call_delta", 0, "print(1)"),
        ("call_delta", 0, "print(1)"),
        ("call_delta", 0, "print(1)"),
    ]
    call = acc.run_steps()[0].step_details.tool_calls[0]  # type: ignore[union-attr]
    assert isinstance(call, CodeInterpreterToolCall)
    outputs = call.code_interpreter.outputs
    assert isinstance(outputs[0], CodeInterpreterLogs) and outputs[0].logs == "1\n"
    assert isinstance(outputs[1], UnknownCodeInterpreterOutput)
    assert outputs[1].type == "chart"
    assert outputs[1].raw == {"type": "chart", "data": {"points": [1], "title": "t"}}
    assert isinstance(outputs[2], CodeInterpreterImage)
    assert outputs[2].image.file_id == "file_img"


def test_unknown_tool_call_type_survives_and_merges() -> None:
    events = [
        step_ev("created", step("step_1")),
        step_delta(
            "step_1",
            {"index": 0, "id": "call_w", "type": "browser", "browser": {"url": "https://a"}},
        ),
        step_delta(
            "step_1",
            {
                "index": 0,
                "type": "browser",
                "browser": {"url": "/b", "hits": [{"index": 0, "t": "x"}]},
            },
        ),
        step_delta(
            "step_1",
            {
                "index": 0,
                "type": "browser",
                "browser": {"hits": [{"index": 0, "t": "y"}, {"k": 1}]},
            },
        ),
    ]
    acc = Accumulator()
    got = [s for s in trace(acc, events) if s[0] != "event"]
    assert got == [
        ("step_created", "step_1"),
        ("call_created", "call_w"),
        ("call_delta", 0, "browser"),
        ("step_delta", "step_1"),
        ("call_delta", 0, "browser"),
        ("step_delta", "step_1"),
        ("call_delta", 0, "browser"),
        ("step_delta", "step_1"),
        ("call_done", "call_w", "browser"),
    ]
    call = acc.run_steps()[0].step_details.tool_calls[0]  # type: ignore[union-attr]
    assert isinstance(call, UnknownToolCall)
    assert call.raw == {
        "id": "call_w",
        "type": "browser",
        "browser": {"url": "https://a/b", "hits": [{"index": 0, "t": "xy"}, {"k": 1}]},
    }


def test_fragment_without_type_extends_the_known_call() -> None:
    events = [
        step_ev("created", step("step_1")),
        step_delta("step_1", fn_first(0, "call_a", "f")),
        step_delta("step_1", {"index": 0, "function": {"arguments": "{}"}}),
    ]
    acc = Accumulator()
    callbacks = [cb for e in events for cb in acc.feed(e)]
    deltas = [args for name, args in map(named, callbacks) if name == "on_tool_call_delta"]
    assert type(deltas[1][0]).__name__ == "FunctionToolCallDelta"
    call = acc.run_steps()[0].step_details.tool_calls[0]  # type: ignore[union-attr]
    assert isinstance(call, FunctionToolCall) and call.function.arguments == "{}"
    assert names(callbacks)["on_tool_call_created"] == 1


def test_same_index_changing_type_ends_the_old_call() -> None:
    events = [
        step_ev("created", step("step_1")),
        step_delta("step_1", fn_first(0, "call_a", "f")),
        step_delta(
            "step_1", {"index": 0, "id": "call_b", "type": "file_search", "file_search": {}}
        ),
    ]
    acc = Accumulator()
    got = [s for s in trace(acc, events) if s[0].startswith("call")]
    assert got == [
        ("call_created", "call_a"),
        ("call_delta", 0, ""),
        ("call_done", "call_a", ""),
        ("call_created", "call_b"),
        ("call_delta", 0, "file_search"),
        ("call_done", "call_b", "file_search"),
    ]
    calls = acc.run_steps()[0].step_details.tool_calls  # type: ignore[union-attr]
    assert [type(c) for c in calls] == [FileSearchToolCall]


def test_file_search_delta_fields_are_merged() -> None:
    events = [
        step_ev("created", step("step_1")),
        step_delta(
            "step_1",
            {
                "index": 0,
                "id": "call_fs",
                "type": "file_search",
                "file_search": {
                    "ranking_options": {"ranker": "auto", "score_threshold": 0.5},
                    "results": [{"file_id": "f1", "file_name": "a.md", "score": 0.9}],
                },
            },
        ),
        step_delta(
            "step_1",
            {
                "index": 0,
                "type": "file_search",
                "file_search": {"results": [{"file_id": "f2", "file_name": "b.md", "score": 0.8}]},
            },
        ),
    ]
    acc, _ = feed_all(events)
    call = acc.run_steps()[0].step_details.tool_calls[0]  # type: ignore[union-attr]
    assert isinstance(call, FileSearchToolCall)
    assert call.file_search.ranking_options is not None
    assert call.file_search.ranking_options.score_threshold == 0.5
    assert [r.file_id for r in call.file_search.results or []] == ["f1", "f2"]


def test_function_name_and_output_fragments_are_appended() -> None:
    events = [
        step_ev("created", step("step_1")),
        step_delta("step_1", fn_first(0, "call_a", "get_")),
        step_delta("step_1", {"index": 0, "type": "function", "function": {"name": "weather"}}),
        step_delta("step_1", {"index": 0, "type": "function", "function": {"output": "o"}}),
        step_delta("step_1", {"index": 0, "type": "function", "function": {"output": "k"}}),
    ]
    acc, _ = feed_all(events)
    call = acc.run_steps()[0].step_details.tool_calls[0]  # type: ignore[union-attr]
    assert isinstance(call, FunctionToolCall)
    assert (call.function.name, call.function.output) == ("get_weather", "ok")


def test_message_creation_step_delta() -> None:
    acc = Accumulator()
    event = ev(
        "thread.run.step.delta",
        {
            "id": "step_m",
            "object": "thread.run.step.delta",
            "delta": {
                "step_details": {
                    "type": "message_creation",
                    "message_creation": {"message_id": "msg_1"},
                }
            },
        },
    )
    assert [cb[0].hook for cb in acc.feed(event)] == [
        "on_event",
        "on_run_step_created",
        "on_run_step_delta",
    ]
    snapshot = acc.current_run_step_snapshot
    assert snapshot is not None and snapshot.type == "message_creation"
    assert isinstance(snapshot.step_details, MessageCreationStepDetails)
    assert snapshot.step_details.message_creation.message_id == "msg_1"


def test_unknown_step_details_delta_is_merged_as_json() -> None:
    acc = Accumulator()
    created = step("step_u")
    created["type"] = "thinking"
    created["step_details"] = {"type": "thinking", "thoughts": "a"}
    acc.feed(step_ev("created", created))
    acc.feed(
        ev(
            "thread.run.step.delta",
            {
                "id": "step_u",
                "object": "thread.run.step.delta",
                "delta": {"step_details": {"type": "thinking", "thoughts": "b"}},
            },
        )
    )
    snapshot = step_snapshot(acc)
    assert snapshot.step_details.raw == {"type": "thinking", "thoughts": "ab"}  # type: ignore[union-attr]


def test_an_unannounced_step_of_unknown_details_is_typed_as_if_created() -> None:
    # A step first seen in a delta of unknown details gets the type the delta
    # names, as a .created event of the same details gives it.
    fragments = [{"type": "thinking", "thoughts": t} for t in ("a", "b")]
    announced, unannounced = Accumulator(), Accumulator()
    created = step("step_u")
    created["type"] = "thinking"
    created["step_details"] = {"type": "thinking"}
    announced.feed(step_ev("created", created))
    for details in fragments:
        data = {
            "id": "step_u",
            "object": "thread.run.step.delta",
            "delta": {"step_details": details},
        }
        for acc in (announced, unannounced):
            acc.feed(ev("thread.run.step.delta", data))
    got, want = step_snapshot(unannounced), step_snapshot(announced)
    assert (got.type, got.step_details) == (want.type, want.step_details)
    assert got.step_details == UnknownStepDetails(
        type="thinking", raw={"type": "thinking", "thoughts": "ab"}
    )


def test_late_step_delta_after_the_step_ended_is_ignored() -> None:
    acc = Accumulator()
    acc.feed(step_ev("completed", step("step_1", "completed", [fn_call("call_a", "f", "{}")])))
    late = step_delta("step_1", fn_args(0, "x"))
    assert named_all(acc.feed(late)) == [("on_event", (late,))]
    again = step_ev("completed", step("step_1", "completed", []))
    assert named_all(acc.feed(again)) == [("on_event", (again,))]
    assert acc.final_run_steps() == [again.data]


# ---------------------------------------------------------------------------
# Messages


def test_message_with_several_parts_exact_sequence() -> None:
    completed = msg(
        "msg_1",
        "completed",
        [
            text_part("Hello"),
            {"type": "image_file", "image_file": {"file_id": "file_1", "detail": "low"}},
            {"type": "refusal", "refusal": "I can't."},
            text_part("Bye!"),
            {"type": "image_url", "image_url": {"url": "https://x/y.png"}},
        ],
    )
    events = [
        msg_ev("created", msg("msg_1")),
        msg_ev("in_progress", msg("msg_1")),
        msg_delta("msg_1", text_frag(0, "Hel", [])),
        msg_delta("msg_1", text_frag(0, "lo")),
        msg_delta("msg_1", {"index": 1, "type": "image_file", "image_file": {"file_id": "file_1"}}),
        msg_delta("msg_1", {"index": 1, "type": "image_file", "image_file": {"detail": "low"}}),
        msg_delta("msg_1", {"index": 2, "type": "refusal", "refusal": "I can"}),
        msg_delta("msg_1", {"index": 2, "type": "refusal", "refusal": "'t."}),
        msg_delta("msg_1", text_frag(3, "Bye"), text_frag(3, "!")),
        msg_delta(
            "msg_1", {"index": 4, "type": "image_url", "image_url": {"url": "https://x/y.png"}}
        ),
        msg_ev("completed", completed),
    ]
    acc = Accumulator()
    got = trace(acc, events, skip=("event", "message_delta"))
    assert got == [
        ("message_created", "msg_1"),
        ("text_created", "Hel"),
        ("text_delta", "Hel", "Hel"),
        ("text_delta", "lo", "Hello"),
        ("text_done", "Hello"),
        ("image_file_done", "file_1"),
        ("refusal_created", ""),
        ("refusal_delta", "I can", "I can"),
        ("refusal_delta", "'t.", "I can't."),
        ("refusal_done", "I can't."),
        ("text_created", "Bye"),  # as "Hel": the part with its first fragment
        ("text_delta", "Bye", "Bye"),  # the second fragment is not applied yet
        ("text_delta", "!", "Bye!"),
        ("text_done", "Bye!"),
        ("image_url_done", "https://x/y.png"),
        ("message_done", "msg_1", "completed"),
    ]
    snapshot_before = acc.messages()[0]
    assert snapshot_before is acc.final_messages()[0]


def test_message_parts_snapshot_equals_completed_and_on_message_delta_is_last() -> None:
    acc = Accumulator()
    acc.feed(msg_ev("created", msg("msg_1")))
    callbacks = acc.feed(
        msg_delta("msg_1", text_frag(0, "a", []), {"index": 1, "type": "refusal", "refusal": "no"})
    )
    assert [cb[0].hook for cb in callbacks] == [
        "on_event",
        "on_text_created",
        "on_text_delta",
        "on_text_done",
        "on_refusal_created",
        "on_refusal_delta",
        "on_message_delta",
    ]
    snapshot = message_snapshot(acc)
    assert named(callbacks[-1])[1][1] is snapshot
    assert snapshot.content == [
        TextContentBlock(text=Text(value="a")),
        RefusalContentBlock(refusal="no"),
    ]


def test_message_delta_without_created() -> None:
    acc = Accumulator()
    acc.feed(run_ev("in_progress"))
    got = trace(acc, [msg_delta("msg_x", text_frag(0, "Hi", []), role="assistant")], end=False)
    assert got == [
        ("event", "thread.message.delta"),
        ("message_created", "msg_x"),
        ("text_created", "Hi"),
        ("text_delta", "Hi", "Hi"),
        ("message_delta", "msg_x"),
    ]
    snapshot = message_snapshot(acc)
    assert (snapshot.id, snapshot.status, snapshot.role) == ("msg_x", "in_progress", "assistant")
    assert (snapshot.thread_id, snapshot.run_id, snapshot.assistant_id) == (
        "thread_1",
        "run_1",
        "asst_1",
    )
    assert snapshot.text == "Hi"


def test_message_delta_without_created_or_run() -> None:
    acc = Accumulator()
    acc.feed(msg_delta("msg_x", text_frag(0, "Hi")))
    snapshot = acc.current_message_snapshot
    assert snapshot is not None and snapshot.role == "assistant" and snapshot.thread_id == ""


def test_annotations_merged_by_index() -> None:
    cite = {"type": "file_citation", "text": "【1】", "start_index": 5, "end_index": 8}
    events = [
        msg_ev("created", msg("msg_1")),
        msg_delta("msg_1", text_frag(0, "Hello", [])),
        msg_delta(
            "msg_1",
            text_frag(
                0,
                "【1】",
                [{"index": 0, **cite, "file_citation": {"file_id": "file_a"}}],
            ),
        ),
        msg_delta(
            "msg_1",
            text_frag(
                0,
                " and 【2】",
                [
                    {
                        "index": 2,
                        "type": "file_path",
                        "text": "sandbox:/x",
                        "start_index": 20,
                        "end_index": 30,
                        "file_path": {"file_id": "file_p"},
                    },
                    {
                        "index": 1,
                        "type": "file_citation",
                        "text": "【2",
                        "start_index": 13,
                        "file_citation": {"file_id": "file_b", "quote": "q"},
                    },
                ],
            ),
        ),
        msg_delta(
            "msg_1",
            text_frag(
                0,
                "",
                [
                    {
                        "index": 1,
                        "type": "file_citation",
                        "text": "】",
                        "end_index": 16,
                        "file_citation": {"quote": "uote"},
                    },
                    {"index": 3, "type": "future_note", "note": "n"},
                    {"index": 3, "note": "!"},
                ],
            ),
        ),
    ]
    acc = Accumulator()
    for event in events:
        acc.feed(event)
    snapshot = message_snapshot(acc)
    part = snapshot.content[0]
    assert isinstance(part, TextContentBlock)
    assert part.text.value == "Hello【1】 and 【2】"
    a0, a1, a2, a3 = part.text.annotations
    assert isinstance(a0, FileCitationAnnotation)
    assert (a0.text, a0.start_index, a0.end_index, a0.file_citation.file_id) == (
        "【1】",
        5,
        8,
        "file_a",
    )
    assert isinstance(a1, FileCitationAnnotation)
    assert (a1.text, a1.start_index, a1.end_index) == ("【2】", 13, 16)
    assert (a1.file_citation.file_id, a1.file_citation.quote) == ("file_b", "quote")
    assert isinstance(a2, FilePathAnnotation) and a2.file_path.file_id == "file_p"
    assert isinstance(a3, UnknownAnnotation)
    assert a3.raw == {"type": "future_note", "note": "n!"}


def test_annotation_index_changing_type_is_replaced() -> None:
    acc = Accumulator()
    acc.feed(msg_delta("m", text_frag(0, "x", [{"index": 0, "type": "file_path", "text": "p"}])))
    acc.feed(msg_delta("m", text_frag(0, "", [{"index": 0, "type": "file_citation", "text": "c"}])))
    snapshot = message_snapshot(acc)
    part = snapshot.content[0]
    assert isinstance(part, TextContentBlock)
    assert [type(a) for a in part.text.annotations] == [FileCitationAnnotation]


def test_unknown_content_part_survives_and_merges() -> None:
    events = [
        msg_ev("created", msg("msg_1")),
        msg_delta("msg_1", text_frag(0, "See:", [])),
        msg_delta("msg_1", {"index": 1, "type": "video", "video": {"url": "https://v/", "n": 1}}),
        msg_delta("msg_1", {"index": 1, "type": "video", "video": {"url": "1.mp4", "n": 2}}),
        msg_delta("msg_1", {"index": 1, "video": {"url": "?t=1"}}),
        msg_ev(
            "completed",
            msg(
                "msg_1",
                "completed",
                [text_part("See:"), {"type": "video", "video": {"url": "https://v/1.mp4?t=1"}}],
            ),
        ),
    ]
    acc = Accumulator()
    snapshots: list[Message] = []
    got: list[tuple[Any, ...]] = []
    for event in events:
        if isinstance(event, ThreadMessageCompleted):
            assert acc.current_message_snapshot is not None
            snapshots.append(acc.current_message_snapshot)
        got.extend(trace(acc, [event], end=False, skip=("event",)))
    assert got == [
        ("message_created", "msg_1"),
        ("text_created", "See:"),
        ("text_delta", "See:", "See:"),
        ("message_delta", "msg_1"),
        ("text_done", "See:"),  # the unknown part started
        ("message_delta", "msg_1"),
        ("message_delta", "msg_1"),
        ("message_delta", "msg_1"),
        ("message_done", "msg_1", "completed"),
    ]
    part = snapshots[0].content[1]
    assert isinstance(part, UnknownContentBlock)
    assert part.type == "video"
    assert part.raw == {"type": "video", "video": {"url": "https://v/1.mp4?t=1", "n": 2}}
    final = acc.final_messages()[0].content[1]
    assert isinstance(final, UnknownContentBlock) and final.type == "video"


def test_message_incomplete_ends_open_part_with_its_final_text() -> None:
    events = [
        msg_ev("created", msg("msg_1")),
        msg_delta("msg_1", text_frag(0, "Half", [])),
        msg_ev(
            "incomplete",
            msg(
                "msg_1",
                "incomplete",
                [text_part("Half a")],
                incomplete_details={"reason": "run_cancelled"},
            ),
        ),
    ]
    acc = Accumulator()
    got = trace(acc, events, skip=("event", "message_delta"))
    assert got == [
        ("message_created", "msg_1"),
        ("text_created", "Half"),
        ("text_delta", "Half", "Half"),
        ("text_done", "Half a"),
        ("message_done", "msg_1", "incomplete"),
    ]
    final = acc.final_messages()[0]
    assert final.incomplete_details is not None
    assert final.incomplete_details.reason == "run_cancelled"


def test_message_first_seen_completed_gets_created_and_done_per_part() -> None:
    data = msg(
        "msg_1",
        "completed",
        [
            text_part("A"),
            {"type": "refusal", "refusal": "No."},
            {"type": "image_file", "image_file": {"file_id": "f"}},
            {"type": "hologram"},
        ],
    )
    acc = Accumulator()
    assert trace(acc, [msg_ev("completed", data)]) == [
        ("event", "thread.message.completed"),
        ("message_created", "msg_1"),
        ("text_created", "A"),
        ("text_done", "A"),
        ("refusal_created", "No."),
        ("refusal_done", "No."),
        ("image_file_done", "f"),
        ("message_done", "msg_1", "completed"),
    ]
    assert acc.messages() == acc.final_messages() == [acc.current_message_snapshot]


def test_parts_seen_only_in_completed_message_after_streamed_ones() -> None:
    events = [
        msg_ev("created", msg("msg_1")),
        msg_delta("msg_1", text_frag(0, "A", [])),
        msg_ev("completed", msg("msg_1", "completed", [text_part("A"), text_part("B")])),
    ]
    got = trace(Accumulator(), events, skip=("event", "message_delta"))
    assert got == [
        ("message_created", "msg_1"),
        ("text_created", "A"),
        ("text_delta", "A", "A"),
        ("text_done", "A"),
        ("text_created", "B"),
        ("text_done", "B"),
        ("message_done", "msg_1", "completed"),
    ]


def test_message_created_with_content_is_copied_and_announced_lazily() -> None:
    created = msg_ev("created", msg("msg_1", content=[text_part("Pre")]))
    acc = Accumulator()
    got = trace(acc, [created, msg_delta("msg_1", text_frag(0, "fix"))])
    assert got == [
        ("event", "thread.message.created"),
        ("message_created", "msg_1"),
        ("event", "thread.message.delta"),
        ("text_created", "Prefix"),
        ("text_delta", "fix", "Prefix"),
        ("message_delta", "msg_1"),
        ("text_done", "Prefix"),  # end(): the open part
    ]
    assert isinstance(created.data, Message)
    assert created.data.content == [TextContentBlock(text=Text(value="Pre"))]
    assert acc.final_messages() == []  # the server never ended it


def test_new_message_starts_fresh() -> None:
    events = [
        msg_ev("created", msg("msg_1")),
        msg_delta("msg_1", text_frag(0, "one", [])),
        msg_ev("completed", msg("msg_1", "completed", [text_part("one")])),
        msg_ev("created", msg("msg_2")),
        msg_delta("msg_2", text_frag(0, "two", [])),
        msg_ev("completed", msg("msg_2", "completed", [text_part("two")])),
    ]
    acc = Accumulator()
    got = trace(acc, events, skip=("event", "message_delta"))
    assert got == [
        ("message_created", "msg_1"),
        ("text_created", "one"),
        ("text_delta", "one", "one"),
        ("text_done", "one"),
        ("message_done", "msg_1", "completed"),
        ("message_created", "msg_2"),
        ("text_created", "two"),
        ("text_delta", "two", "two"),
        ("text_done", "two"),
        ("message_done", "msg_2", "completed"),
    ]
    assert [m.id for m in acc.final_messages()] == ["msg_1", "msg_2"]
    assert [m.id for m in acc.messages()] == ["msg_1", "msg_2"]


def test_messages_lists_in_progress_snapshots() -> None:
    acc = Accumulator()
    acc.feed(msg_ev("created", msg("msg_1")))
    acc.feed(msg_delta("msg_1", text_frag(0, "x")))
    assert [m.text for m in acc.messages()] == ["x"]
    assert acc.final_messages() == []


def test_late_message_delta_after_end_is_ignored() -> None:
    acc = Accumulator()
    acc.feed(msg_ev("completed", msg("msg_1", "completed", [text_part("A")])))
    late = msg_delta("msg_1", text_frag(0, "B"))
    assert named_all(acc.feed(late)) == [("on_event", (late,))]
    again = msg_ev("completed", msg("msg_1", "completed", [text_part("A!")]))
    assert named_all(acc.feed(again)) == [("on_event", (again,))]
    assert acc.final_messages() == [again.data]
    assert acc.current_message_snapshot is again.data


def test_fragment_for_a_closed_part_is_merged_without_reopening() -> None:
    events = [
        msg_delta("m", text_frag(0, "a")),
        msg_delta("m", text_frag(1, "b")),
        msg_delta("m", text_frag(0, "c")),
    ]
    acc = Accumulator()
    got = trace(acc, events, skip=("event", "message_delta"))
    assert got == [
        ("message_created", "m"),
        ("text_created", "a"),
        ("text_delta", "a", "a"),
        ("text_done", "a"),
        ("text_created", "b"),
        ("text_delta", "b", "b"),
        ("text_delta", "c", "ac"),
        ("text_done", "b"),  # end()
    ]


def test_parts_inserted_in_index_order() -> None:
    acc = Accumulator()
    acc.feed(msg_delta("m", text_frag(2, "c"), text_frag(0, "a")))
    acc.feed(msg_delta("m", text_frag(1, "b")))
    snapshot = message_snapshot(acc)
    assert [p.text.value for p in snapshot.content if isinstance(p, TextContentBlock)] == [
        "a",
        "b",
        "c",
    ]


def test_part_index_changing_type_is_replaced() -> None:
    events = [
        msg_delta("m", text_frag(0, "a")),
        msg_delta("m", {"index": 0, "type": "refusal", "refusal": "no"}),
    ]
    acc = Accumulator()
    got = trace(acc, events, skip=("event", "message_delta"))
    assert got == [
        ("message_created", "m"),
        ("text_created", "a"),
        ("text_delta", "a", "a"),
        ("text_done", "a"),
        ("refusal_created", ""),
        ("refusal_delta", "no", "no"),
        ("refusal_done", "no"),
    ]
    snapshot = message_snapshot(acc)
    assert snapshot.content == [RefusalContentBlock(refusal="no")]


def test_image_parts_fields_set() -> None:
    acc = Accumulator()
    acc.feed(
        msg_delta(
            "m",
            {"index": 0, "type": "image_file", "image_file": {"file_id": "f1"}},
            {"index": 1, "type": "image_url", "image_url": {"url": "u1", "detail": "high"}},
            {"index": 0, "type": "image_file", "image_file": {"file_id": "f2", "detail": "low"}},
            {"index": 1, "type": "image_url", "image_url": {"url": "u2"}},
        )
    )
    snapshot = message_snapshot(acc)
    assert snapshot.content == [
        ImageFileContentBlock(image_file=ImageFile(file_id="f2", detail="low")),
        ImageURLContentBlock(image_url=ImageURL(url="u2", detail="high")),
    ]


def test_text_fragment_without_text_object() -> None:
    acc = Accumulator()
    callbacks = acc.feed(msg_delta("m", {"index": 0, "type": "text"}))
    assert [cb[0].hook for cb in callbacks] == [
        "on_event",
        "on_message_created",
        "on_text_created",
        "on_message_delta",
    ]


def test_unicode_zwj_emoji_split_across_deltas() -> None:
    emoji = "\U0001f469\u200d\U0001f4bb"  # woman technologist: three code points
    fragments = ["Hi ", "\U0001f469", "\u200d", "\U0001f4bb", " é"]
    events = [msg_ev("created", msg("m"))] + [msg_delta("m", text_frag(0, f)) for f in fragments]
    acc = Accumulator()
    got = [s for s in trace(acc, events, end=False) if s[0] == "text_delta"]
    assert [s[2] for s in got] == [
        "Hi ",
        "Hi \U0001f469",
        "Hi \U0001f469\u200d",
        f"Hi {emoji}",
        f"Hi {emoji} é",
    ]
    snapshot = acc.current_message_snapshot
    assert snapshot is not None and snapshot.text == f"Hi {emoji} é"


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(min_size=1, max_size=80),
    cuts=st.lists(st.integers(min_value=0, max_value=80), max_size=20),
    per_event=st.integers(min_value=1, max_value=3),
)
def test_any_split_yields_the_same_text_and_callback_counts(
    text: str, cuts: list[int], per_event: int
) -> None:
    points = sorted({0, len(text), *(c for c in cuts if c <= len(text))})
    fragments = [text[a:b] for a, b in itertools.pairwise(points)]
    groups = [fragments[i : i + per_event] for i in range(0, len(fragments), per_event)]
    events = [msg_ev("created", msg("m"))]
    events += [msg_delta("m", *(text_frag(0, f) for f in group)) for group in groups]
    events.append(msg_ev("completed", msg("m", "completed", [text_part(text)])))
    acc = Accumulator()
    callbacks: list[Callback] = []
    joined = ""
    for event in events:
        for step in acc.feed_in_steps(event):
            for cb in step:
                callbacks.append(cb)
                name, args = named(cb)
                if name == "on_text_delta":
                    joined += args[0].value
                    assert args[1].value == joined
    counts = names(callbacks)
    assert counts["on_text_created"] == counts["on_text_done"] == 1
    assert counts["on_text_delta"] == len(fragments)
    assert counts["on_message_delta"] == len(groups)
    assert counts["on_message_created"] == counts["on_message_done"] == 1
    assert joined == text
    assert acc.messages()[0].text == text


def test_accumulating_text_never_joins_during_feed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Structural linearity: fragments are kept, no join happens while feeding."""
    events = [msg_ev("created", msg("m"))]
    events += [msg_delta("m", text_frag(0, f"w{i} ")) for i in range(1000)]
    joins = count_joins(monkeypatch)
    acc = Accumulator()
    for event in events:
        acc.feed(event)
    assert joins() == 0
    snapshot = message_snapshot(acc)
    part = snapshot.content[0]
    assert isinstance(part, TextContentBlock)
    assert len(part.text._value._parts) == 1000
    assert part.text.value == "".join(f"w{i} " for i in range(1000))
    assert joins() == 1


def test_tool_arguments_never_join_during_feed(monkeypatch: pytest.MonkeyPatch) -> None:
    events = [step_ev("created", step("s")), step_delta("s", fn_first(0, "c", "f"))]
    events += [step_delta("s", fn_args(0, "x")) for _ in range(500)]
    joins = count_joins(monkeypatch)
    acc = Accumulator()
    for event in events:
        acc.feed(event)
    assert joins() == 0
    call = acc.run_steps()[0].step_details.tool_calls[0]  # type: ignore[union-attr]
    assert isinstance(call, FunctionToolCall)
    assert len(call.function._arguments._parts) == 500


# ---------------------------------------------------------------------------
# Runs, unknown events, end()


def test_current_run_and_event_from_every_run_event() -> None:
    acc = Accumulator()
    assert (acc.current_run, acc.current_event) == (None, None)
    for status in ("created", "queued", "in_progress", "cancelling", "cancelled"):
        event = run_ev(status, status=status)
        assert named_all(acc.feed(event)) == [("on_event", (event,))]
        assert acc.current_run is event.data
        assert acc.current_event is event
    for status in ("completed", "incomplete", "failed", "expired"):
        event = run_ev(status, status=status)
        acc.feed(event)
        assert acc.current_run is event.data


def test_unknown_and_thread_events_only_reach_on_event() -> None:
    acc = Accumulator()
    unknown = parse_event("thread.run.step.thinking", '{"x": 1}')
    assert isinstance(unknown, UnknownEvent)
    thread = ev("thread.created", {"id": "thread_1", "object": "thread", "created_at": 1})
    assert named_all(acc.feed(unknown)) == [("on_event", (unknown,))]
    assert named_all(acc.feed(thread)) == [("on_event", (thread,))]
    assert acc.current_event is thread


def test_end_ends_open_calls_and_parts_once() -> None:
    events = [
        step_ev("created", step("s1")),
        step_delta("s1", fn_first(0, "call_a", "f"), fn_first(1, "call_b", "g")),
        msg_delta("m", {"index": 0, "type": "image_url", "image_url": {"url": "u"}}),
    ]
    acc = Accumulator()
    for event in events:
        acc.feed(event)
    assert [summarize(cb) for cb in acc.end()] == [
        ("call_done", "call_a", ""),
        ("call_done", "call_b", ""),
        ("image_url_done", "u"),
    ]
    assert acc.end() == []
    assert acc.final_run_steps() == [] and acc.final_messages() == []


def test_text_delta_arguments_are_the_wire_objects() -> None:
    acc = Accumulator()
    event = msg_delta("m", text_frag(0, "x"))
    callbacks = acc.feed(event)
    name, (delta, snapshot) = named(callbacks[3])
    assert name == "on_text_delta"
    assert isinstance(delta, TextDelta) and isinstance(snapshot, Text)
    wire = event.data.delta.content[0]  # type: ignore[union-attr]
    assert delta is wire.text  # type: ignore[union-attr]


def test_requires_action_after_the_step_ended_does_not_repeat_calls() -> None:
    action = {
        "type": "submit_tool_outputs",
        "submit_tool_outputs": {"tool_calls": [fn_call("call_a", "f", "{}")]},
    }
    events = [
        step_ev("completed", step("step_1", "completed", [fn_call("call_a", "f", "{}", "x")])),
        run_ev("requires_action", status="requires_action", required_action=action),
    ]
    counts = names(feed_all(events)[1])
    assert counts["on_tool_call_created"] == counts["on_tool_call_done"] == 1


# ---------------------------------------------------------------------------
# Merge rules, listed calls, status updates and untouched .created events


def test_unknown_tool_call_id_is_replaced_not_appended() -> None:
    def browse(query: str) -> dict[str, Any]:
        return {
            "index": 0,
            "id": "call_1",
            "type": "web_browse",
            "web_browse": {"query": query, "pages": [{"index": 0, "title": query}]},
        }

    events = [
        step_ev("created", step("step_1")),
        step_delta("step_1", browse("a")),
        step_delta("step_1", browse("b")),
    ]
    acc = Accumulator()
    callbacks = [cb for e in events for cb in acc.feed(e)]
    call = acc.run_steps()[0].step_details.tool_calls[0]  # type: ignore[union-attr]
    assert isinstance(call, UnknownToolCall)
    assert call.id == "call_1"
    assert call.raw["id"] == "call_1"
    assert call.raw["type"] == "web_browse"
    assert call.raw["web_browse"] == {"query": "ab", "pages": [{"index": 0, "title": "ab"}]}
    assert names(callbacks)["on_tool_call_created"] == 1


def test_requires_action_repeated_for_a_call_never_streamed() -> None:
    action = {
        "type": "submit_tool_outputs",
        "submit_tool_outputs": {"tool_calls": [fn_call("call_zz", "lookup", '{"q":1}')]},
    }
    events = [
        run_ev("in_progress"),
        run_ev("requires_action", status="requires_action", required_action=action),
        run_ev("requires_action", status="requires_action", required_action=action),
    ]
    acc = Accumulator()
    got = trace(acc, events, skip=("event",))
    assert got == [
        ("call_created", "call_zz"),
        ("call_done", "call_zz", '{"q":1}'),
    ]
    _, callbacks = feed_all(events)
    counts = names(callbacks)
    assert counts["on_tool_call_created"] == counts["on_tool_call_done"] == 1


def test_in_progress_events_update_the_status_of_step_and_message() -> None:
    acc = Accumulator()
    # A compatible server announcing the objects before they start.
    step_created = step_ev("created", step("step_1", "queued"))
    msg_created = msg_ev("created", msg("msg_1", "queued"))
    acc.feed(step_created)
    acc.feed(msg_created)
    assert step_snapshot(acc).status == "queued"
    assert message_snapshot(acc).status == "queued"
    step_in_progress = step_ev("in_progress", step("step_1", "in_progress"))
    msg_in_progress = msg_ev("in_progress", msg("msg_1", "in_progress"))
    assert named_all(acc.feed(step_in_progress)) == [("on_event", (step_in_progress,))]
    assert named_all(acc.feed(msg_in_progress)) == [("on_event", (msg_in_progress,))]
    assert step_snapshot(acc).status == "in_progress"
    assert message_snapshot(acc).status == "in_progress"
    assert [s.status for s in acc.run_steps()] == ["in_progress"]
    assert [m.status for m in acc.messages()] == ["in_progress"]
    # The snapshots are still the ones deltas grow.
    acc.feed(msg_delta("msg_1", text_frag(0, "Hi")))
    assert message_snapshot(acc).text == "Hi"
    assert message_snapshot(acc).status == "in_progress"
    # The .created events themselves keep their status.
    assert isinstance(step_created.data, RunStep) and step_created.data.status == "queued"
    assert isinstance(msg_created.data, Message) and msg_created.data.status == "queued"


def test_created_events_with_content_are_never_modified() -> None:
    citation = {
        "type": "file_citation",
        "text": "[0]",
        "start_index": 4,
        "end_index": 7,
        "file_citation": {"file_id": "file_a", "quote": "q"},
    }
    message = msg(
        "msg_1",
        content=[
            text_part("See [0]", [citation]),
            {"type": "refusal", "refusal": "No"},
            {"type": "image_file", "image_file": {"file_id": "file_img", "detail": "low"}},
        ],
    )
    code_call = {
        "id": "call_ci",
        "type": "code_interpreter",
        "code_interpreter": {
            "input": "print(1)",
            "outputs": [
                {"type": "logs", "logs": "1\n"},
                {"type": "image", "image": {"file_id": "file_i"}},
            ],
        },
    }
    search_call = {
        "id": "call_fs",
        "type": "file_search",
        "file_search": {
            "ranking_options": {"ranker": "auto", "score_threshold": 0.0},
            "results": [{"file_id": "file_r1", "file_name": "a.txt", "score": 0.5}],
        },
    }
    run_step = step("step_1", calls=[code_call, search_call])
    message_json = json.dumps(message)
    step_json = json.dumps(run_step)
    msg_created = ev("thread.message.created", message)
    step_created = ev("thread.run.step.created", run_step)
    events = [
        step_created,
        step_delta(
            "step_1",
            {
                "index": 0,
                "type": "code_interpreter",
                "code_interpreter": {
                    "input": "\nprint(2)",
                    "outputs": [
                        {"index": 0, "type": "logs", "logs": "2\n"},
                        {"index": 1, "type": "image", "image": {"file_id": "file_j"}},
                        {"index": 2, "type": "logs", "logs": "3\n"},
                    ],
                },
            },
            {
                "index": 1,
                "type": "file_search",
                "file_search": {
                    "ranking_options": {"ranker": "default_2024_08_21", "score_threshold": 0.5},
                    "results": [{"file_id": "file_r2", "file_name": "b.txt", "score": 0.9}],
                },
            },
        ),
        msg_created,
        msg_delta(
            "msg_1",
            text_frag(
                0,
                " and [1]",
                [
                    {
                        "index": 0,
                        "type": "file_citation",
                        "text": "!",
                        "start_index": 5,
                        "file_citation": {"file_id": "file_b", "quote": "+"},
                    },
                    {
                        "index": 1,
                        "type": "file_path",
                        "text": "[1]",
                        "start_index": 12,
                        "end_index": 15,
                        "file_path": {"file_id": "file_p"},
                    },
                ],
            ),
            {"index": 1, "type": "refusal", "refusal": " way"},
            {
                "index": 2,
                "type": "image_file",
                "image_file": {"file_id": "file_new", "detail": "high"},
            },
        ),
    ]
    acc = Accumulator()
    for event in events:
        acc.feed(event)
    acc.end()
    # The events are exactly as parsed...
    assert msg_created.data == parse_event("thread.message.created", message_json).data
    assert step_created.data == parse_event("thread.run.step.created", step_json).data
    assert msg_created.raw == message and step_created.raw == run_step
    # ...while the snapshots grew.
    snapshot = message_snapshot(acc)
    text, refusal, image = snapshot.content
    assert isinstance(text, TextContentBlock)
    assert text.text.value == "See [0] and [1]"
    first, second = text.text.annotations
    assert isinstance(first, FileCitationAnnotation)
    assert (first.text, first.start_index, first.end_index) == ("[0]!", 5, 7)
    assert (first.file_citation.file_id, first.file_citation.quote) == ("file_b", "q+")
    assert isinstance(second, FilePathAnnotation) and second.file_path.file_id == "file_p"
    assert isinstance(refusal, RefusalContentBlock) and refusal.refusal == "No way"
    assert isinstance(image, ImageFileContentBlock)
    assert (image.image_file.file_id, image.image_file.detail) == ("file_new", "high")
    calls = step_snapshot(acc).step_details.tool_calls  # type: ignore[union-attr]
    code, search = calls
    assert isinstance(code, CodeInterpreterToolCall)
    assert code.code_interpreter.input == "print(1)\nprint(2)"
    logs, picture, more = code.code_interpreter.outputs
    assert isinstance(logs, CodeInterpreterLogs) and logs.logs == "1\n2\n"
    assert isinstance(picture, CodeInterpreterImage) and picture.image.file_id == "file_j"
    assert isinstance(more, CodeInterpreterLogs) and more.logs == "3\n"
    assert isinstance(search, FileSearchToolCall)
    ranking = search.file_search.ranking_options
    assert ranking is not None and ranking.score_threshold == 0.5
    assert [r.file_id for r in search.file_search.results or []] == ["file_r1", "file_r2"]
