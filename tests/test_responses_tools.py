"""Responses streams with tools, cancel and abandon, over a local server playing scenarios.

``functions=``: the outputs go back as ``function_call_output`` items with
``previous_response_id`` (or ``conversation``); the iterator, handler and
snapshots continue across rounds as for run streams. Manual continuation with
``submit_tool_outputs_stream``. Cancel and cancel-on-abandon: only background
responses get ``POST /responses/{id}/cancel``.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from streamrun import AsyncClient, AsyncEventHandler, ToolLoopError
from streamrun._events import (
    ThreadRunCreated,
    ThreadRunStepCompleted,
)
from streamrun._models import FunctionToolCall, ToolCall
from streamrun.testing import scenarios
from streamrun.testing._scenarios import (
    Pause,
    Scenario,
    TextReply,
)

from ._responses_server import ResponsesServer, running
from .test_handler import Recorder


def weather(location: str, unit: str = "celsius") -> dict[str, Any]:
    return {"location": location, "unit": unit, "temperature": 18}


FUNCTIONS = {"get_current_weather": weather}


class Outputs(AsyncEventHandler):
    def __init__(self) -> None:
        self.outputs: list[tuple[str, str]] = []
        self.texts: list[str] = []
        self.ends = 0

    async def on_tool_output(self, tool_call: ToolCall, output: str) -> None:
        assert isinstance(tool_call, FunctionToolCall)
        self.outputs.append((tool_call.function.name, output))

    async def on_text_delta(self, delta: Any, snapshot: Any) -> None:
        self.texts.append(delta.value or "")

    async def on_end(self) -> None:
        self.ends += 1


def posts(server: ResponsesServer) -> list[dict[str, Any]]:
    return [r["body"] for r in server.requests if r["method"] == "POST"]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("scenario", "rounds", "calls"),
    [
        (scenarios.function_call(), 1, [1]),
        (scenarios.parallel_function_calls(3), 1, [3]),
        (scenarios.chained_function_calls(3), 3, [1, 1, 1]),
    ],
    ids=["single", "parallel", "chained"],
)
async def test_the_tool_loop_answers_and_continues(
    scenario: Scenario, rounds: int, calls: list[int]
) -> None:
    handler = Outputs()
    tools = [{"type": "function", "name": "get_current_weather", "parameters": {}}]
    async with running(ResponsesServer(scenario)) as server:
        async with AsyncClient(api_key="sk-test", base_url=server.base_url) as client:
            async with client.responses.stream(
                model="gpt-test",
                input="Weather?",
                instructions="Be brief",
                tools=tools,
                tool_choice="required",
                handler=handler,
                functions={"get_current_weather": weather},
            ) as stream:
                events = [event async for event in stream]
                final = await stream.final_run()
    bodies = posts(server)
    assert len(bodies) == rounds + 1
    response_ids = list(server.played)
    for i, body in enumerate(bodies[1:]):
        # Each round: the outputs as input items, the previous response, the tools again.
        assert body["previous_response_id"] == response_ids[i]
        assert [item["type"] for item in body["input"]] == ["function_call_output"] * calls[i]
        assert body["tools"] == tools and body["instructions"] == "Be brief"
        assert body["model"] == "gpt-test" and body["stream"] is True
        assert "conversation" not in body
        assert "tool_choice" not in body  # "required" would force a call again
        for item in body["input"]:
            assert json.loads(item["output"])["temperature"] == 18
    runs = [e.data.id for e in events if isinstance(e, ThreadRunCreated)]
    assert runs == response_ids  # one run per response, in order
    assert final.id == response_ids[-1] == stream.run_id and final.status == "completed"
    assert {e.data.thread_id for e in events if isinstance(e, ThreadRunCreated)} == {
        stream.thread_id
    }
    assert len(handler.outputs) == sum(calls)
    assert handler.ends == 1  # one logical stream
    text = "".join(handler.texts)
    assert text and text == (await stream.final_messages())[-1].text
    # The steps of the answered calls completed with their outputs.
    done = [e for e in events if isinstance(e, ThreadRunStepCompleted)]
    outputs = [
        c.function.output
        for e in done
        for c in getattr(e.data.step_details, "tool_calls", [])
        if isinstance(c, FunctionToolCall)
    ]
    assert len(outputs) == sum(calls) and all(o and "18" in o for o in outputs)


@pytest.mark.asyncio
async def test_the_tool_loop_continues_in_the_conversation() -> None:
    async with running(ResponsesServer(scenarios.chained_function_calls(2))) as server:
        async with AsyncClient(api_key="sk-test", base_url=server.base_url) as client:
            async with client.responses.stream(
                model="m", input="Weather?", conversation="conv_1", functions=FUNCTIONS
            ) as stream:
                await stream.until_done()
    bodies = posts(server)
    assert [b.get("conversation") for b in bodies] == ["conv_1"] * 3
    assert all("previous_response_id" not in b for b in bodies)
    assert stream.thread_id == "conv_1" and stream.done


@pytest.mark.asyncio
async def test_calls_functions_cannot_answer_end_at_requires_action() -> None:
    async with running(ResponsesServer(scenarios.function_call())) as server:
        async with AsyncClient(api_key="sk-test", base_url=server.base_url) as client:
            async with client.responses.stream(
                model="m", input="x", functions={"other": weather}
            ) as stream:
                run = await stream.final_run()
    assert run.status == "requires_action" and stream.done
    assert len(posts(server)) == 1


@pytest.mark.asyncio
async def test_max_tool_rounds_stops_the_loop() -> None:
    async with running(ResponsesServer(scenarios.chained_function_calls(3))) as server:
        async with AsyncClient(api_key="sk-test", base_url=server.base_url) as client:
            async with client.responses.stream(
                model="m", input="x", functions=FUNCTIONS, max_tool_rounds=1
            ) as stream:
                with pytest.raises(ToolLoopError) as info:
                    await stream.until_done()
    assert info.value.reason == "max_tool_rounds"
    assert len(posts(server)) == 2
    # Not background: nothing to cancel on the server.
    assert not [r for r in server.requests if r["path"].endswith("/cancel")]


@pytest.mark.asyncio
async def test_function_errors_go_back_as_outputs() -> None:
    def get_current_weather(location: str, unit: str) -> str:
        raise RuntimeError("no data")

    async with running(ResponsesServer(scenarios.function_call())) as server:
        async with AsyncClient(api_key="sk-test", base_url=server.base_url) as client:
            async with client.responses.stream(
                model="m", input="x", functions=[get_current_weather]
            ) as stream:
                await stream.until_done()
    (item,) = posts(server)[1]["input"]
    assert "no data" in json.loads(item["output"])["error"]


# ---------------------------------------------------------------------------
# Manual continuation


@pytest.mark.asyncio
async def test_submit_tool_outputs_stream_continues_the_handlers_response() -> None:
    recorder = Recorder()
    async with running(ResponsesServer(scenarios.parallel_function_calls(2))) as server:
        async with AsyncClient(api_key="sk-test", base_url=server.base_url) as client:
            async with client.responses.stream(
                model="gpt-x", input="Weather?", handler=recorder
            ) as stream:
                run = await stream.final_run()
            assert run.status == "requires_action" and run.required_action is not None
            calls = run.required_action.submit_tool_outputs.tool_calls
            outputs = [{"tool_call_id": c.id, "output": f"out {c.id}"} for c in calls]
            async with client.responses.submit_tool_outputs_stream(
                run.id, tool_outputs=outputs, handler=recorder
            ) as second:
                text = "".join([t async for t in second.text_deltas])
    body = posts(server)[1]
    assert body["model"] == "gpt-x"  # from the response the handler followed
    assert body["previous_response_id"] == run.id
    assert body["input"] == [
        {"type": "function_call_output", "call_id": c.id, "output": f"out {c.id}"} for c in calls
    ]
    assert second.thread_id == stream.thread_id  # the same thread goes on
    assert text.startswith("Paris")
    done = [args[0] for name, args in recorder.calls if name == "on_run_step_done"]
    outputs_seen = [
        c.function.output for step in done for c in getattr(step.step_details, "tool_calls", [])
    ]
    assert outputs_seen == [f"out {c.id}" for c in calls]


@pytest.mark.asyncio
async def test_submit_tool_outputs_stream_without_handler_needs_model() -> None:
    async with running(ResponsesServer(scenarios.function_call())) as server:
        async with AsyncClient(api_key="sk-test", base_url=server.base_url) as client:
            async with client.responses.stream(model="m", input="x") as stream:
                run = await stream.final_run()
            (call,) = run.required_action.submit_tool_outputs.tool_calls  # type: ignore[union-attr]
            async with client.responses.submit_tool_outputs_stream(
                run.id, tool_outputs=[{"tool_call_id": call.id, "output": "sunny"}], model="m"
            ) as second:
                final = await second.final_run()
    assert final.status == "completed" and final.id != run.id


# ---------------------------------------------------------------------------
# Cancel and abandon


def slow(text: str = "Hello there") -> Scenario:
    return Scenario([TextReply("Hello"), Pause(30), TextReply(text)])


@pytest.mark.asyncio
async def test_cancel_a_background_response() -> None:
    async with running(ResponsesServer(slow())) as server:
        async with AsyncClient(api_key="sk-test", base_url=server.base_url) as client:
            async with client.responses.stream(model="m", input="x", background=True) as stream:
                async for event in stream:
                    if isinstance(event, ThreadRunCreated):
                        break
                run = await stream.cancel()
    assert run.status == "cancelled"
    cancels = [r for r in server.requests if r["path"].endswith("/cancel")]
    assert [r["path"] for r in cancels] == [f"/v1/responses/{run.id}/cancel"]


@pytest.mark.asyncio
async def test_cancel_a_foreground_response_closes_the_stream() -> None:
    async with running(ResponsesServer(slow())) as server:
        async with AsyncClient(api_key="sk-test", base_url=server.base_url) as client:
            async with client.responses.stream(model="m", input="x") as stream:
                async for event in stream:
                    if isinstance(event, ThreadRunCreated):
                        break
                run = await stream.cancel()
    assert run.status in ("queued", "in_progress")
    assert not [r for r in server.requests if r["path"].endswith("/cancel")]
    assert "closed" in repr(stream)


@pytest.mark.asyncio
@pytest.mark.parametrize("background", [True, False])
async def test_abandoning_cancels_only_background_responses(background: bool) -> None:
    async with running(ResponsesServer(slow())) as server:
        async with AsyncClient(api_key="sk-test", base_url=server.base_url) as client:
            body: dict[str, Any] = {"background": True} if background else {}
            async with client.responses.stream(model="m", input="x", **body) as stream:
                async for _ in stream:
                    if stream.current_message_snapshot is not None:
                        break
        cancels = [r["path"] for r in server.requests if r["path"].endswith("/cancel")]
    assert cancels == ([f"/v1/responses/{stream.run_id}/cancel"] if background else [])


@pytest.mark.asyncio
async def test_abandoning_while_functions_run_cancels_them_and_nothing_on_the_server() -> None:
    # A response waiting for tool outputs is complete on the server: no cancel request.
    started = asyncio.Event()
    cancelled: list[bool] = []

    async def get_current_weather(location: str, unit: str) -> str:
        started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise
        return "never"

    async with running(ResponsesServer(scenarios.function_call())) as server:
        async with AsyncClient(api_key="sk-test", base_url=server.base_url) as client:
            async with client.responses.stream(
                model="m", input="x", background=True, functions=[get_current_weather]
            ) as stream:
                task = asyncio.ensure_future(stream.until_done())
                await started.wait()
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
    assert cancelled == [True]
    assert not [r for r in server.requests if r["path"].endswith("/cancel")]
    assert len(posts(server)) == 1


@pytest.mark.asyncio
@pytest.mark.parametrize("background", [True, False])
async def test_an_unclosed_background_stream_is_cancelled_when_collected(
    background: bool,
) -> None:
    import gc

    import streamrun._stream as stream_module

    async with running(ResponsesServer(slow())) as server:
        async with AsyncClient(api_key="sk-test", base_url=server.base_url) as client:
            body: dict[str, Any] = {"background": True} if background else {}
            stream = client.responses.stream(model="m", input="x", **body)
            await stream.__aenter__()
            iterator = stream.__aiter__()
            while stream.current_message_snapshot is None:
                await iterator.__anext__()
            run_id = stream.run_id
            with pytest.warns(ResourceWarning, match="unclosed <ResponseStream run_id="):
                del stream, iterator
                gc.collect()
            for _ in range(500):
                cancels = [r["path"] for r in server.requests if r["path"].endswith("/cancel")]
                if (cancels or not background) and not stream_module._ABANDON_TASKS:
                    break
                await asyncio.sleep(0.01)
    assert cancels == ([f"/v1/responses/{run_id}/cancel"] if background else [])
    assert not stream_module._ABANDON_TASKS
