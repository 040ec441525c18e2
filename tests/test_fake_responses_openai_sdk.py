"""Fidelity: the official ``openai`` SDK's Responses client reads the fake server unchanged.

Every ready scenario is streamed with ``client.responses.stream(...)``; the
SDK's own accumulator must produce the scenario's text and function calls,
round after round (outputs go back with ``previous_response_id``). Also the
SDK's non-streaming ``create``, ``retrieve``, ``cancel`` and the resume of a
background stream with ``retrieve(id, stream=True, starting_after=N)``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import openai
import pydantic
import pytest
import pytest_asyncio
from openai import AsyncOpenAI
from openai.types.responses import Response, ResponseStreamEvent

from streamrun.testing import (
    READY_SCENARIOS,
    FakeAssistantsServer,
    Faults,
    FunctionCalls,
    Pause,
    Refusal,
    Scenario,
    TextReply,
)

MODEL = "gpt-fake"
STREAM_EVENT: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(ResponseStreamEvent)
RESPONSE: pydantic.TypeAdapter[Response] = pydantic.TypeAdapter(Response)


def rounds_of(scenario: Scenario) -> tuple[list[list[tuple[str, str]]], Scenario]:
    """The (name, arguments) of each round's calls, and the scenario after the last round."""
    rounds: list[list[tuple[str, str]]] = []
    while scenario.steps and isinstance(scenario.steps[-1], FunctionCalls):
        step = scenario.steps[-1]
        rounds.append([(c.name, c.arguments) for c in step.calls])
        assert isinstance(step.then, Scenario)
        scenario = step.then
    return rounds, scenario


@pytest_asyncio.fixture
async def server() -> AsyncIterator[FakeAssistantsServer]:
    async with FakeAssistantsServer() as srv:
        yield srv


@pytest_asyncio.fixture
async def client(server: FakeAssistantsServer) -> AsyncIterator[AsyncOpenAI]:
    async with AsyncOpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0) as c:
        yield c


async def stream_once(client: AsyncOpenAI, **kwargs: Any) -> tuple[list[Any], Any]:
    """The SDK's events of one streamed response and the response they end with."""
    async with client.responses.stream(model=MODEL, **kwargs) as stream:
        events: list[Any] = [event async for event in stream]
        final = None
        if events[-1].type == "response.completed":
            final = await stream.get_final_response()
            assert final.id == events[-1].response.id
    for event in events:  # the raw events are valid by the SDK's strict models too
        STREAM_EVENT.validate_python(event.model_dump(warnings=False))
    return events, final if final is not None else events[-1].response


@pytest.mark.asyncio
@pytest.mark.parametrize("name", sorted(n for n in READY_SCENARIOS if n != "error_event_wrapped"))
async def test_sdk_streams_every_ready_scenario(
    name: str, server: FakeAssistantsServer, client: AsyncOpenAI
) -> None:
    scenario = READY_SCENARIOS[name]()
    expected_rounds, last = rounds_of(scenario)
    events, response = await stream_once(
        client, input="Hello", extra_headers={"x-fake-scenario": name}
    )
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert events[0].type == "response.created"
    got_rounds = []
    while True:
        calls = [o for o in response.output if o.type == "function_call"]
        if not calls:
            break
        assert response.status == "completed"
        got_rounds.append([(c.name, c.arguments) for c in calls])
        outputs = [
            {"type": "function_call_output", "call_id": c.call_id, "output": '{"ok":true}'}
            for c in calls
        ]
        events, response = await stream_once(
            client, input=outputs, previous_response_id=response.id
        )
        assert events[0].type == "response.created"
    assert got_rounds == expected_rounds
    bodies = [r.body for r in server.requests_to("create_response")]
    assert len(bodies) == len(expected_rounds) + 1
    assert all(b["stream"] is True for b in bodies)
    assert [b.get("previous_response_id") is not None for b in bodies[1:]] == [True] * len(
        expected_rounds
    )

    texts = last.message_texts()
    expected_status = {
        "failed_run": "failed",
        "incomplete_run": "incomplete",
        "error_event": "failed",
    }.get(name, "completed")
    assert response.status == expected_status
    if isinstance(last.steps[-1], Refusal):
        assert response.output[0].content[0].refusal == texts[0]
        assert response.output_text == ""
    else:
        assert response.output_text == "".join(texts)
    if name == "failed_run":
        assert response.error.code == "rate_limit_exceeded"
    if name == "incomplete_run":
        assert response.incomplete_details.reason == "max_output_tokens"
    if name == "error_event":
        assert [e.type for e in events[-2:]] == ["error", "response.failed"]
    if name == "text_with_annotations":
        annotations = response.output[0].content[0].annotations
        assert [a.type for a in annotations] == ["file_citation", "file_citation"]
    # The stored response is what the stream ended with.
    stored = await client.responses.retrieve(response.id)
    assert (stored.id, stored.status, stored.output_text, stored.usage) == (
        response.id,
        response.status,
        response.output_text,
        response.usage,
    )
    assert [o.type for o in stored.output] == [o.type for o in response.output]


@pytest.mark.asyncio
async def test_sdk_raises_on_the_wrapped_error_event(client: AsyncOpenAI) -> None:
    with pytest.raises(openai.APIError, match="The server had an error"):
        await stream_once(
            client, input="Hi", extra_headers={"x-fake-scenario": "error_event_wrapped"}
        )


@pytest.mark.asyncio
async def test_sdk_create_retrieve_and_errors(
    server: FakeAssistantsServer, client: AsyncOpenAI
) -> None:
    response = await client.responses.create(model=MODEL, input="Hello")
    RESPONSE.validate_python(response.model_dump())
    assert response.status == "completed"
    assert response.output_text == "".join(READY_SCENARIOS["plain_text"]().message_texts())
    assert (await client.responses.retrieve(response.id)).output_text == response.output_text

    # A function call, answered with the non-streaming create as well.
    server.queue_scenario("parallel_function_calls")
    first = await client.responses.create(model=MODEL, input="Weather?")
    calls = [o for o in first.output if o.type == "function_call"]
    assert len(calls) == 2
    with pytest.raises(openai.BadRequestError) as info:
        await client.responses.create(
            model=MODEL,
            previous_response_id=first.id,
            input=[{"type": "function_call_output", "call_id": calls[0].call_id, "output": "x"}],
        )
    assert info.value.message.endswith(
        f"No tool output found for function call {calls[1].call_id}."
    )
    answer = await client.responses.create(
        model=MODEL,
        previous_response_id=first.id,
        input=[
            {"type": "function_call_output", "call_id": c.call_id, "output": "x"} for c in calls
        ],
    )
    assert answer.previous_response_id == first.id
    assert answer.output_text.startswith("Paris: 18 °C")

    with pytest.raises(openai.NotFoundError):
        await client.responses.retrieve("resp_nope")
    with pytest.raises(openai.BadRequestError, match="Cannot cancel a synchronous response"):
        await client.responses.cancel(response.id)
    with pytest.raises(openai.BadRequestError, match="Unrecognized request argument supplied: x"):
        await client.responses.create(model=MODEL, input="Hi", extra_body={"x": 1})


@pytest.mark.asyncio
async def test_sdk_resumes_a_dropped_background_stream(
    server: FakeAssistantsServer, client: AsyncOpenAI
) -> None:
    server.queue_faults(Faults(drop_after=7))
    seen: list[Any] = []
    with pytest.raises(openai.APIConnectionError):
        async with client.responses.stream(model=MODEL, input="Hello", background=True) as stream:
            async for event in stream:
                seen.append(event)
    assert len(seen) == 7
    assert [e.type for e in seen[:3]] == [
        "response.created",
        "response.queued",
        "response.in_progress",
    ]
    response_id = seen[0].response.id
    rest = await client.responses.retrieve(
        response_id, stream=True, starting_after=seen[-1].sequence_number
    )
    async for resumed in rest:
        seen.append(resumed)
    assert [e.sequence_number for e in seen] == list(range(len(seen)))
    assert seen[-1].type == "response.completed"
    text = "".join(e.delta for e in seen if e.type == "response.output_text.delta")
    assert text == seen[-1].response.output_text

    # The SDK's own resume helper: responses.stream(response_id=..., starting_after=...).
    async with client.responses.stream(response_id=response_id, starting_after=2) as again:
        replayed = [event async for event in again]
        final = await again.get_final_response()
    assert [e.sequence_number for e in replayed] == list(range(3, len(seen)))
    assert final.output_text == text


@pytest.mark.asyncio
async def test_sdk_cancels_a_background_response(
    server: FakeAssistantsServer, client: AsyncOpenAI
) -> None:
    server.queue_scenario(Scenario([TextReply("Thinking."), Pause(30), TextReply("Done.")]))
    created = await client.responses.create(model=MODEL, input="Hello", background=True)
    assert created.status == "queued"
    cancelled = await client.responses.cancel(created.id)
    assert cancelled.status == "cancelled"
    assert (await client.responses.cancel(created.id)).status == "cancelled"  # idempotent
    assert [r.endpoint for r in server.requests].count("cancel_response") == 2
    replay = await client.responses.retrieve(created.id, stream=True)
    types: list[str] = [event.type async for event in replay]
    assert types[-1] == "response.cancelled"
    assert "response.completed" not in types
