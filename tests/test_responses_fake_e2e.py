"""client.responses end to end against the fake server's Responses API.

Every ready scenario streamed as a Responses stream (the tool loop answering
function calls); a conversation; a background response resumed after a drop
at every event index; cancel of a background response; recover.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from streamrun import AsyncClient, StreamError, StreamInterrupted
from streamrun._events import ThreadRunCreated
from streamrun.testing import FakeAssistantsServer, Faults, scenarios
from streamrun.testing._scenarios import Pause, Scenario, TextReply

from .test_handler import Recorder


def get_current_weather(location: str, unit: str = "celsius") -> str:
    return f"{location}: 18 {unit}"


FUNCTIONS = {"get_current_weather": get_current_weather}

READY = {
    "plain_text": "completed",
    "text_with_annotations": "completed",
    "refusal": "completed",
    "function_call": "completed",
    "parallel_function_calls": "completed",
    "chained_function_calls": "completed",
    "code_interpreter": "completed",
    "file_search": "completed",
    "failed_run": "failed",
    "incomplete_run": "incomplete",
}


@pytest_asyncio.fixture
async def server() -> AsyncIterator[FakeAssistantsServer]:
    async with FakeAssistantsServer(seed=7) as srv:
        yield srv
        assert srv.internal_errors == []


@pytest_asyncio.fixture
async def client(server: FakeAssistantsServer) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(api_key="sk-test", base_url=server.base_url) as client:
        yield client


@pytest.mark.asyncio
@pytest.mark.parametrize("name", sorted(READY))
async def test_every_ready_scenario(
    server: FakeAssistantsServer, client: AsyncClient, name: str
) -> None:
    scenario = getattr(scenarios, name)()
    server.queue_scenario(scenario)
    recorder = Recorder()
    async with client.responses.stream(
        model="gpt-fake", input="Hi", handler=recorder, functions=FUNCTIONS
    ) as stream:
        texts = [t async for t in stream.text_deltas]
        run = await stream.final_run()
    assert run.status == READY[name]
    assert run.id == server.response_ids()[-1]
    final = server.get_response(run.id)
    assert final is not None and final["status"] == READY[name]
    expected = "".join(
        part["text"]
        for item in final["output"]
        if item["type"] == "message"
        for part in item["content"]
        if part["type"] == "output_text"
    )
    assert "".join(texts) == expected
    assert [c[0] for c in recorder.calls].count("on_end") == 1


@pytest.mark.asyncio
@pytest.mark.parametrize("shape", ["bare", "wrapped"])
async def test_error_events(server: FakeAssistantsServer, client: AsyncClient, shape: str) -> None:
    server.queue_scenario(scenarios.error_event(shape))  # type: ignore[arg-type]
    async with client.responses.stream(model="m", input="Hi") as stream:
        with pytest.raises(StreamError):
            await stream.until_done()


@pytest.mark.asyncio
async def test_the_tool_loop_in_a_conversation(
    server: FakeAssistantsServer, client: AsyncClient
) -> None:
    conversation = server.create_conversation()
    server.queue_scenario(scenarios.chained_function_calls(2))
    async with client.responses.stream(
        model="m", input="Weather?", conversation=conversation, functions=FUNCTIONS
    ) as stream:
        text = "".join([t async for t in stream.text_deltas])
    assert stream.thread_id == conversation
    assert text.startswith("Paris")
    outputs = [
        i for i in server.conversation_items(conversation) if i["type"] == "function_call_output"
    ]
    assert len(outputs) == 2


@pytest.mark.asyncio
async def test_manual_continuation(server: FakeAssistantsServer, client: AsyncClient) -> None:
    server.queue_scenario(scenarios.function_call())
    recorder = Recorder()
    async with client.responses.stream(model="m", input="Weather?", handler=recorder) as stream:
        run = await stream.final_run()
    assert run.status == "requires_action" and run.required_action is not None
    (call,) = run.required_action.submit_tool_outputs.tool_calls
    async with client.responses.submit_tool_outputs_stream(
        run.id, tool_outputs=[{"tool_call_id": call.id, "output": "18 C"}], handler=recorder
    ) as second:
        final = await second.final_run()
    assert final.status == "completed" and second.thread_id == stream.thread_id


async def _whole(client: AsyncClient, server: FakeAssistantsServer) -> list[Any]:
    server.queue_scenario(scenarios.plain_text())
    async with client.responses.stream(model="m", input="Hi", background=True) as stream:
        return [(type(e).__name__, e.raw.type) async for e in stream]


@pytest.mark.asyncio
async def test_a_background_response_resumes_after_a_drop_at_every_index(
    server: FakeAssistantsServer, client: AsyncClient
) -> None:
    whole = await _whole(client, server)
    server.queue_scenario(scenarios.plain_text())
    async with client.responses.stream(model="m", input="Hi", background=True) as stream:
        count = len([e async for e in stream.responses_events()])
    for drop in range(1, count):
        server.queue_scenario(scenarios.plain_text())
        server.queue_faults(Faults(drop_after=drop))
        recorder = Recorder()
        async with client.responses.stream(
            model="m", input="Hi", background=True, handler=recorder
        ) as stream:
            got = [(type(e).__name__, e.raw.type) async for e in stream]
        assert got == whole, drop
        assert stream.done
    # One resume per drop.
    assert server.count("GET", "/responses/{id}") == count - 1


@pytest.mark.asyncio
async def test_a_dropped_foreground_response_is_interrupted_then_recovered(
    server: FakeAssistantsServer, client: AsyncClient
) -> None:
    server.queue_scenario(scenarios.plain_text())
    server.queue_faults(Faults(drop_after=5))
    async with client.responses.stream(model="m", input="Hi", store=True) as stream:
        with pytest.raises(StreamInterrupted):
            await stream.until_done()
        recovered = await stream.recover(poll_interval=0.01)
    assert recovered.response.status == "completed"
    assert recovered.text == recovered.response.output_text != ""


@pytest.mark.asyncio
async def test_cancel_a_background_response(
    server: FakeAssistantsServer, client: AsyncClient
) -> None:
    server.queue_scenario(Scenario([TextReply("Working."), Pause(60), TextReply("Done.")]))
    async with client.responses.stream(model="m", input="Hi", background=True) as stream:
        async for event in stream:
            if isinstance(event, ThreadRunCreated):
                break
        run = await stream.cancel()
    assert run.status == "cancelled"
    assert server.get_response(run.id)["status"] == "cancelled"  # type: ignore[index]
