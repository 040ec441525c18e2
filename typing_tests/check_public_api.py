"""Typing tests for the public API: checked by ``mypy --strict typing_tests`` (never run)."""

from __future__ import annotations

from typing_extensions import assert_type

import streamrun
from streamrun import (
    AsyncClient,
    AsyncEventHandler,
    DoneEvent,
    Event,
    Message,
    RecoveredRun,
    Run,
    RunStep,
    RunStream,
    Text,
    TextDelta,
    ThreadMessageDelta,
    parse_event,
)
from streamrun.sse import ServerSentEvent, SSEDecoder


class Handler(AsyncEventHandler):
    async def on_text_delta(self, delta: TextDelta, snapshot: Text) -> None:
        assert_type(delta.value, str | None)
        assert_type(snapshot.value, str)


async def check_client() -> None:
    async with AsyncClient(api_key="k", base_url="http://127.0.0.1:1/v1") as client:
        stream = client.runs.stream("thread", assistant_id="asst", handler=Handler())
        assert_type(stream, RunStream)
        async with stream as opened:
            assert_type(opened, RunStream)
            async for event in opened:
                assert_type(event, Event)
                if isinstance(event, ThreadMessageDelta):
                    assert_type(event.data.id, str)
            async for text in opened.text_deltas:
                assert_type(text, str)
            assert_type(await opened.final_run(), Run)
            assert_type(await opened.final_messages(), list[Message])
            assert_type(await opened.final_run_steps(), list[RunStep])
            assert_type(opened.current_run, Run | None)
            assert_type(await opened.recover(), RecoveredRun)


async def check_openai_spellings(client: AsyncClient, handler: Handler) -> None:
    # openai-python's paths and names are typed like streamrun's own (Part 8 §2).
    stream = client.beta.threads.runs.stream(
        thread_id="thread_abc", assistant_id="asst_abc", event_handler=handler
    )
    assert_type(stream, RunStream)
    assert_type(client.beta.threads.create_and_run_stream(assistant_id="a"), RunStream)
    assert_type(
        client.beta.threads.runs.submit_tool_outputs_stream(
            thread_id="t", run_id="r", tool_outputs=[]
        ),
        RunStream,
    )
    async with stream as opened:
        assert_type(await opened.get_final_run(), Run)
        assert_type(await opened.get_final_messages(), list[Message])
        assert_type(await opened.get_final_run_steps(), list[RunStep])


def check_parse_and_decode() -> None:
    assert_type(parse_event("thread.run.created", "{}"), Event | DoneEvent)
    decoder = SSEDecoder()
    events = decoder.feed(b"data: x\n\n")
    assert_type(events, list[ServerSentEvent])
    assert_type(decoder.last_event_id, str)
    assert_type(decoder.retry, int | None)


def check_errors(error: streamrun.StreamFailure) -> None:
    assert_type(error.run_id, str | None)
    if isinstance(error, streamrun.StreamTimeout):
        assert_type(error.kind, str)


def get_weather(city: str) -> str:
    return city


async def check_tools_and_conversations(client: AsyncClient) -> None:
    assert_type(streamrun.function_tool(get_weather), streamrun.FunctionToolParam)
    stream = client.runs.stream(
        "thread", assistant_id="asst", functions=[get_weather], max_tool_rounds=3, tool_timeout=2
    )
    assert_type(stream, RunStream)
    conv = client.conversation("asst", functions={"get_weather": get_weather}, model="gpt-4o")
    assert_type(conv, streamrun.Conversation)
    assert_type(conv.thread_id, str | None)
    async with conv.send("hi", handler=Handler()) as reply:
        assert_type(reply, RunStream)
    assert_type(await conv.messages(), list[Message])
    assert_type(await client.threads.create(), streamrun.Thread)
    assert_type(await client.threads.retrieve("thread"), streamrun.Thread)
    assert_type(await client.threads.messages.create("thread", role="user", content="x"), Message)
    assert_type(await client.threads.messages.list("thread", order="desc"), list[Message])
    assert_type(await client.runs.list("thread"), list[Run])


def check_tool_loop_error(error: streamrun.ToolLoopError) -> None:
    assert_type(error.reason, str)
    assert_type(error.run_id, str | None)


class OutputHandler(AsyncEventHandler):
    async def on_tool_output(self, tool_call: streamrun.ToolCall, output: str) -> None:
        assert_type(output, str)


def get_current_weather(location: str) -> str:
    return "sunny"


async def check_responses(client: AsyncClient) -> None:
    # Part 9: the Responses API behind the same events.
    stream = client.responses.stream(
        model="gpt-4o",
        input="hi",
        handler=Handler(),
        functions=[get_current_weather],
        background=True,
    )
    assert_type(stream, streamrun.ResponseStream)
    async with stream as opened:
        assert_type(opened, streamrun.ResponseStream)
        async for event in opened:
            assert_type(event, Event)
        async for typed in opened.responses_events():
            assert_type(typed, streamrun.ResponseEvent)
            if isinstance(typed, streamrun.ResponseOutputTextDeltaEvent):
                assert_type(typed.delta, str)
        assert_type(await opened.final_run(), Run)
        assert_type(opened.response, streamrun.ResponseObject | None)
        assert_type(opened.last_sequence_number, int | None)
        recovered = await opened.recover()
        assert_type(recovered, streamrun.RecoveredResponse)
        assert_type(recovered.response.output_text, str)
        assert_type(recovered.text, str)
        assert_type(await opened.cancel(), Run)
    assert_type(
        client.responses.submit_tool_outputs_stream(
            "resp_1", tool_outputs=[{"tool_call_id": "call_1", "output": "x"}], model="gpt-4o"
        ),
        streamrun.ResponseStream,
    )
    assert_type(await client.responses.retrieve("resp_1"), streamrun.ResponseObject)
    assert_type(await client.responses.cancel("resp_1"), streamrun.ResponseObject)
    replay = streamrun.ResponseStream.from_bytes([b""])
    assert_type(replay, streamrun.ResponseStream)
    run_stream: RunStream = replay  # a ResponseStream is a RunStream
    assert_type(run_stream, RunStream)
