"""One handler across a run's continuations (issue 10 §3): the accumulator spans the streams."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from streamrun import AsyncClient, AsyncEventHandler, Run, RunStream, StreamConsumedError
from streamrun.testing import FakeAssistantsServer, scenarios

from .conftest import fixture_bytes

THREAD = "thread_cont"
ASSISTANT = "asst_cont"
LIFECYCLE = {
    "on_run_step_created",
    "on_run_step_done",
    "on_tool_call_created",
    "on_tool_call_done",
    "on_message_created",
    "on_message_done",
}


class Trace(AsyncEventHandler):
    """Records the created/done hooks with the id of their object."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def _record(self, name: str, obj: Any) -> None:
        self.calls.append((name, str(obj.id)))

    async def on_run_step_created(self, run_step: Any) -> None:
        self._record("on_run_step_created", run_step)

    async def on_run_step_done(self, run_step: Any) -> None:
        self._record("on_run_step_done", run_step)

    async def on_tool_call_created(self, tool_call: Any) -> None:
        self._record("on_tool_call_created", tool_call)

    async def on_tool_call_done(self, tool_call: Any) -> None:
        self._record("on_tool_call_done", tool_call)

    async def on_message_created(self, message: Any) -> None:
        self._record("on_message_created", message)

    async def on_message_done(self, message: Any) -> None:
        self._record("on_message_done", message)

    async def on_end(self) -> None:
        self.calls.append(("on_end", ""))


@pytest_asyncio.fixture
async def server() -> AsyncIterator[FakeAssistantsServer]:
    async with FakeAssistantsServer(
        auto_create_threads=True, scenario=scenarios.function_call(), seed=3
    ) as srv:
        yield srv
        assert srv.internal_errors == []


@pytest_asyncio.fixture
async def client(server: FakeAssistantsServer) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(api_key="sk-cont", base_url=server.base_url) as client:
        yield client


async def first_round(client: AsyncClient, handler: AsyncEventHandler) -> Run:
    async with client.runs.stream(THREAD, assistant_id=ASSISTANT, handler=handler) as stream:
        run = await stream.final_run()
    assert run.status == "requires_action" and run.required_action is not None
    return run


def outputs(run: Run) -> list[dict[str, str]]:
    assert run.required_action is not None
    calls = run.required_action.submit_tool_outputs.tool_calls
    return [{"tool_call_id": call.id, "output": "18C"} for call in calls]


def per_object(calls: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = {}
    for call in calls:
        if call[0] in LIFECYCLE:
            counts[call] = counts.get(call, 0) + 1
    return counts


@pytest.mark.asyncio
async def test_the_same_handler_follows_its_run_into_the_continuation(
    client: AsyncClient,
) -> None:
    handler = Trace()
    run = await first_round(client, handler)
    first = list(handler.calls)
    tool_step = next(obj for name, obj in first if name == "on_run_step_created")
    async with client.runs.submit_tool_outputs_stream(
        THREAD, run.id, tool_outputs=outputs(run), handler=handler
    ) as stream:
        final = await stream.final_run()
        steps = await stream.final_run_steps()
        messages = await stream.final_messages()
    assert final.status == "completed"
    continuation = handler.calls[len(first) :]
    # The tool step and its call were announced in the first stream: the
    # continuation only ends the step (as the official SDK does).
    assert continuation[0] == ("on_run_step_done", tool_step)
    assert ("on_run_step_created", tool_step) not in continuation
    assert not any(name.startswith("on_tool_call") for name, _ in continuation)
    # Across both streams: one created and one done per step, call and message.
    counts = per_object(handler.calls)
    assert set(counts.values()) == {1}
    created = {obj for (name, obj) in counts if name.endswith("_created")}
    done = {obj for (name, obj) in counts if name.endswith("_done")}
    assert created == done
    assert [name for name, _ in handler.calls].count("on_end") == 2  # one per stream
    # The snapshots cover the run so far: both steps, each once, with final status.
    assert steps[0].id == tool_step
    assert len({s.id for s in steps}) == len(steps) == 2
    assert all(s.status == "completed" for s in steps)
    assert messages[-1].text == scenarios.WEATHER_ANSWER
    assert handler.current_run is final


@pytest.mark.asyncio
async def test_a_fresh_handler_on_the_continuation_keeps_todays_behaviour(
    client: AsyncClient,
) -> None:
    run = await first_round(client, Trace())
    handler = Trace()
    async with client.runs.submit_tool_outputs_stream(
        THREAD, run.id, tool_outputs=outputs(run), handler=handler
    ) as stream:
        await stream.until_done()
        steps = await stream.final_run_steps()
    names = [name for name, _ in handler.calls]
    # A step first seen completed: created, then created + done per call, then done.
    assert names[:4] == [
        "on_run_step_created",
        "on_tool_call_created",
        "on_tool_call_done",
        "on_run_step_done",
    ]
    assert len(steps) == 2


@pytest.mark.asyncio
async def test_a_handler_cannot_serve_another_run(
    client: AsyncClient, server: FakeAssistantsServer
) -> None:
    handler = Trace()
    run = await first_round(client, handler)
    with pytest.raises(StreamConsumedError, match=f"follows run {run.id}"):
        client.runs.stream(THREAD, assistant_id=ASSISTANT, handler=handler)
    with pytest.raises(StreamConsumedError, match="a handler follows one run"):
        client.runs.submit_tool_outputs_stream(
            THREAD, "run_other", tool_outputs=outputs(run), handler=handler
        )
    # Nothing was sent for the refused streams, and the run still waits.
    assert server.runs_created == 1
    assert server.requests_to("submit_tool_outputs") == []


@pytest.mark.asyncio
async def test_recorded_continuation_read_from_bytes_with_the_same_handler() -> None:
    handler = Trace()
    first = RunStream.from_bytes([fixture_bytes("function_requires_action.sse")], handler=handler)
    async with first:
        run = await first.final_run()
    assert run.status == "requires_action"
    seen = len(handler.calls)
    second = RunStream.from_bytes(
        [fixture_bytes("submit_tool_outputs_continuation.sse")],
        handler=handler,
        thread_id=run.thread_id,
        run_id=run.id,
    )
    async with second:
        assert (await second.final_run()).status == "completed"
    continuation = handler.calls[seen:]
    assert continuation[0][0] == "on_run_step_done"
    assert set(per_object(handler.calls).values()) == {1}


DONE = b"event: done\ndata: [DONE]\n\n"


def sse(name: str, data: Any) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


def _requires_action_with_an_unstreamed_call() -> bytes:
    run = {"id": "run_s", "object": "thread.run", "thread_id": "thread_s", "status": "queued"}
    call = {"id": "call_s", "type": "function", "function": {"name": "f", "arguments": "{}"}}
    waiting = {
        **run,
        "status": "requires_action",
        "required_action": {
            "type": "submit_tool_outputs",
            "submit_tool_outputs": {"tool_calls": [call]},
        },
    }
    return sse("thread.run.created", run) + sse("thread.run.requires_action", waiting) + DONE


def _continuation_completing(call_id: str) -> bytes:
    step = {
        "id": "step_s",
        "object": "thread.run.step",
        "run_id": "run_s",
        "type": "tool_calls",
        "status": "completed",
        "step_details": {
            "type": "tool_calls",
            "tool_calls": [
                {
                    "id": call_id,
                    "type": "function",
                    "function": {"name": "f", "arguments": "{}", "output": "ok"},
                }
            ],
        },
    }
    run = {"id": "run_s", "object": "thread.run", "thread_id": "thread_s", "status": "completed"}
    return sse("thread.run.step.completed", step) + sse("thread.run.completed", run) + DONE


@pytest.mark.asyncio
async def test_a_call_announced_by_requires_action_is_not_announced_again() -> None:
    handler = Trace()
    first = RunStream.from_bytes([_requires_action_with_an_unstreamed_call()], handler=handler)
    async with first:
        await first.until_done()
    assert handler.calls == [
        ("on_tool_call_created", "call_s"),
        ("on_tool_call_done", "call_s"),
        ("on_end", ""),
    ]
    continuation = RunStream.from_bytes(
        [_continuation_completing("call_s")], handler=handler, run_id="run_s"
    )
    async with continuation:
        await continuation.until_done()
    # The step is new, but its call was announced (synthesized from the listing).
    assert handler.calls[3:] == [
        ("on_run_step_created", "step_s"),
        ("on_run_step_done", "step_s"),
        ("on_end", ""),
    ]
