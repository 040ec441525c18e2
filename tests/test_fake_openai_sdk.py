"""Fidelity: the official ``openai`` SDK streams every ready scenario from the fake server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import openai
import pytest
import pytest_asyncio
from openai import AsyncAssistantEventHandler, AsyncOpenAI
from openai.types.beta.threads import Message

from streamrun.testing import READY_SCENARIOS, FakeAssistantsServer

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

INCLUDE = "step_details.tool_calls[*].file_search.results[*].content"


class Recorder(AsyncAssistantEventHandler):
    """Counts the SDK's callbacks and keeps the exceptions it reports."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[str] = []
        self.text: list[str] = []
        self.tool_calls_created = 0
        self.errors: list[Exception] = []

    async def on_event(self, event: Any) -> None:
        self.events.append(event.event)

    async def on_text_delta(self, delta: Any, snapshot: Any) -> None:
        self.text.append(delta.value or "")

    async def on_tool_call_created(self, tool_call: Any) -> None:
        self.tool_calls_created += 1

    async def on_exception(self, exception: Exception) -> None:
        self.errors.append(exception)


def texts_of(messages: list[Message]) -> list[str]:
    out = []
    for message in messages:
        parts = []
        for part in message.content:
            if part.type == "text":
                parts.append(part.text.value)
            elif part.type == "refusal":
                parts.append(part.refusal)
        out.append("".join(parts))
    return out


async def final_texts(handler: Recorder) -> list[str]:
    try:
        return texts_of(await handler.get_final_messages())
    except RuntimeError:  # "No messages found"
        return []


@pytest_asyncio.fixture
async def server() -> AsyncIterator[FakeAssistantsServer]:
    async with FakeAssistantsServer(auto_create_threads=True) as srv:
        yield srv


@pytest_asyncio.fixture
async def client(server: FakeAssistantsServer) -> AsyncIterator[AsyncOpenAI]:
    async with AsyncOpenAI(base_url=server.base_url, api_key="test", max_retries=0) as c:
        yield c


@pytest.mark.asyncio
@pytest.mark.parametrize("name", sorted(n for n in READY_SCENARIOS if n != "error_event_wrapped"))
async def test_sdk_streams_ready_scenario(
    name: str, server: FakeAssistantsServer, client: AsyncOpenAI
) -> None:
    scenario = READY_SCENARIOS[name]()
    thread_id = f"thread_sdk_{name}"
    handler = Recorder()
    async with client.beta.threads.runs.stream(
        thread_id=thread_id,
        assistant_id="asst_sdk",
        event_handler=handler,
        include=[INCLUDE] if name == "file_search" else [],  # type: ignore[list-item]
        extra_headers={"x-fake-scenario": name},
    ) as stream:
        await stream.until_done()
    assert handler.errors == []
    run = handler.current_run
    assert run is not None
    assert (
        server.requests[0].headers["x-stainless-stream-helper"] == "threads.runs.create_and_stream"
    )

    if run.status == "requires_action":
        expected_calls = {"parallel_function_calls": 2, "interleaved_function_calls": 2}
        rounds = 0
        follow = handler
        status: str = run.status
        while status == "requires_action":
            rounds += 1
            assert run.required_action is not None
            calls = run.required_action.submit_tool_outputs.tool_calls
            assert len(calls) == expected_calls.get(name, 1)
            assert follow.tool_calls_created >= len(calls)
            follow = Recorder()
            async with client.beta.threads.runs.submit_tool_outputs_stream(
                thread_id=thread_id,
                run_id=run.id,
                tool_outputs=[{"tool_call_id": c.id, "output": '{"ok":true}'} for c in calls],
                event_handler=follow,
            ) as stream2:
                await stream2.until_done()
            assert follow.errors == []
            assert "thread.run.created" not in follow.events
            assert follow.events[0] == "thread.run.step.completed"
            next_run = await follow.get_final_run()
            assert next_run.id == run.id
            run = next_run
            status = run.status
        assert status == "completed"
        assert rounds == (2 if name == "chained_function_calls" else 1)
        assert await final_texts(follow) == scenario.message_texts()
        return

    assert await final_texts(handler) == scenario.message_texts()
    expected_status = {
        "failed_run": "failed",
        "incomplete_run": "incomplete",
        "error_event": "in_progress",  # the SDK ignores a bare error event
    }.get(name, "completed")
    assert run.status == expected_status
    if name not in ("refusal", "failed_run"):
        assert "".join(handler.text) == "".join(scenario.message_texts())
    if name == "file_search":
        steps = await handler.get_final_run_steps()
        assert steps[0].type == "tool_calls"
        # The SDK keeps step snapshots from created + deltas; the server's completed
        # step (GET) carries the results with their content.
        for include, content in (([], None), ([INCLUDE], scenario.steps[0])):
            listing = await client.beta.threads.runs.steps.list(
                run_id=run.id,
                thread_id=thread_id,
                include=include,  # type: ignore[arg-type]
            )
            tool_step = listing.data[-1].step_details
            assert tool_step.type == "tool_calls"
            results = tool_step.tool_calls[0].file_search.results  # type: ignore[union-attr]
            assert results is not None
            if content is None:
                assert results[0].content is None
            else:
                assert results[0].content is not None
                assert results[0].content[0].text == scenario.steps[0].results[0].content  # type: ignore[union-attr]
    if name == "text_with_annotations":
        messages = await handler.get_final_messages()
        annotations = messages[0].content[0].text.annotations  # type: ignore[union-attr]
        assert [(a.start_index, a.end_index) for a in annotations] == [(70, 97), (146, 172)]


@pytest.mark.asyncio
async def test_sdk_raises_on_wrapped_error_event(
    server: FakeAssistantsServer, client: AsyncOpenAI
) -> None:
    handler = Recorder()
    with pytest.raises(openai.APIError):
        async with client.beta.threads.runs.stream(
            thread_id="thread_err",
            assistant_id="asst_sdk",
            event_handler=handler,
            extra_headers={"x-fake-scenario": "error_event_wrapped"},
        ) as stream:
            await stream.until_done()
    assert len(handler.errors) == 1
    run_id = server.run_ids()[0]
    run = await client.beta.threads.runs.retrieve(run_id, thread_id="thread_err")
    assert run.status == "failed"


@pytest.mark.asyncio
async def test_sdk_create_and_run_stream_and_polling(
    server: FakeAssistantsServer, client: AsyncOpenAI
) -> None:
    handler = Recorder()
    async with client.beta.threads.create_and_run_stream(
        assistant_id="asst_sdk",
        thread={"messages": [{"role": "user", "content": "Hello"}]},
        event_handler=handler,
    ) as stream:
        await stream.until_done()
    assert handler.events[0] == "thread.created"
    assert await final_texts(handler) == READY_SCENARIOS["plain_text"]().message_texts()
    run = await handler.get_final_run()
    listing = await client.beta.threads.messages.list(thread_id=run.thread_id)
    assert [m.role for m in listing.data] == ["assistant", "user"]

    # Non-streaming create + poll, the SDK's other path.
    thread = await client.beta.threads.create()
    await client.beta.threads.messages.create(thread_id=thread.id, role="user", content="Hi")
    polled = await client.beta.threads.runs.create_and_poll(
        thread_id=thread.id, assistant_id="asst_sdk", poll_interval_ms=10
    )
    assert polled.status == "completed" and polled.usage is not None
    cancelled_run = await client.beta.threads.runs.create(
        thread_id=thread.id,
        assistant_id="asst_sdk",
        extra_headers={"x-fake-scenario": "function_call"},
    )
    await server.wait_for_run(cancelled_run.id)
    cancelled = await client.beta.threads.runs.cancel(cancelled_run.id, thread_id=thread.id)
    assert cancelled.status == "cancelling"
    with pytest.raises(openai.BadRequestError) as info:
        await client.beta.threads.runs.cancel(cancelled_run.id, thread_id=thread.id)
    assert info.value.message.endswith("Cannot cancel run with status 'cancelled'.")
    with pytest.raises(openai.NotFoundError):
        await client.beta.threads.runs.retrieve("run_nope", thread_id=thread.id)
