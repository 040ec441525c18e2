"""RunStream over a real aiohttp server on 127.0.0.1: transcripts, endings, errors, cleanup."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

import streamrun
from streamrun import (
    AsyncClient,
    AsyncEventHandler,
    ProtocolError,
    StreamConsumedError,
    StreamError,
    StreamInterrupted,
    StreamTimeout,
    UnknownEvent,
)
from streamrun._events import EVENT_CLASSES

from .conftest import ReplayServer, Reply, event_names, fixture_bytes, manifest

FIXTURE_FILES = [entry["file"] for entry in manifest()]


def client_for(server: ReplayServer, **kwargs: Any) -> AsyncClient:
    kwargs.setdefault("api_key", "sk-test-key")
    kwargs.setdefault("max_retries", 0)
    return AsyncClient(base_url=server.base_url, **kwargs)


async def collect(client: AsyncClient, **kwargs: Any) -> list[Any]:
    events = []
    async with client.runs.stream("thread_1", assistant_id="asst_1", **kwargs) as stream:
        async for event in stream:
            events.append(event)
    return events


@pytest.mark.asyncio
@pytest.mark.parametrize("name", [f for f in FIXTURE_FILES if f != "error_event.sse"])
@pytest.mark.parametrize("chunk_size", [1, 7, 4096])
async def test_transcript_decodes_to_event_classes(
    replay_server: ReplayServer, name: str, chunk_size: int
) -> None:
    raw = fixture_bytes(name)
    replay_server.replies.append(Reply(body=raw, chunk_size=chunk_size))
    async with client_for(replay_server) as client:
        events = await collect(client)
    expected = [n for n in event_names(raw) if n != "done"]
    assert [e.event for e in events] == expected
    for event in events:
        assert type(event) is EVENT_CLASSES[event.event][0]
        assert isinstance(event.data, EVENT_CLASSES[event.event][1])
        assert isinstance(event.raw, dict)


@pytest.mark.asyncio
async def test_error_event_raises_after_the_events_before_it(replay_server: ReplayServer) -> None:
    raw = fixture_bytes("error_event.sse")
    replay_server.replies.append(Reply(body=raw))
    seen: list[str] = []
    async with client_for(replay_server) as client:
        async with client.runs.stream("thread_1", assistant_id="asst_1") as stream:
            with pytest.raises(StreamError) as info:
                async for event in stream:
                    seen.append(event.event)
            names = event_names(raw)
            assert seen == names[: names.index("error")]
            assert info.value.code is None
            assert "server had an error" in info.value.message
            assert info.value.run_id == "run_L1n8RxyjiyQNCIwUD3X9Kih4"
            assert info.value.last_event is not None
            assert info.value.last_event.event == "thread.message.delta"
            # What arrived stays readable, and final_* re-raise the same error.
            snapshot = stream.current_message_snapshot
            assert snapshot is not None
            assert snapshot.text.startswith("Sure - here are the steps")
            with pytest.raises(StreamError) as again:
                await stream.final_messages()
            assert again.value is info.value


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "data",
    [
        b'{"message":"boom","type":"server_error","param":null,"code":"oops"}',
        b'{"error":{"message":"boom","type":"server_error","param":null,"code":"oops"}}',
    ],
)
async def test_error_event_both_shapes(replay_server: ReplayServer, data: bytes) -> None:
    body = b"event: error\ndata: " + data + b"\n\nevent: done\ndata: [DONE]\n\n"
    replay_server.replies.append(Reply(body=body))
    async with client_for(replay_server) as client:
        with pytest.raises(StreamError) as info:
            await collect(client)
    assert info.value.message == "boom"
    assert info.value.code == "oops"
    assert info.value.type == "server_error"


def plain_text_before(marker: bytes) -> bytes:
    """The plain-text transcript up to (not including) the first ``marker``."""
    raw = fixture_bytes("plain_text.sse")
    return raw[: raw.index(marker)]


@pytest.mark.asyncio
async def test_connection_closed_before_done_raises_interrupted(
    replay_server: ReplayServer,
) -> None:
    raw = fixture_bytes("plain_text.sse")
    cut = raw.index(b"event: thread.message.completed")
    replay_server.replies.append(Reply(body=raw, close_after=cut))
    received: list[str] = []
    async with client_for(replay_server) as client:
        async with client.runs.stream("thread_1", assistant_id="asst_1") as stream:
            with pytest.raises(StreamInterrupted) as info:
                async for text in stream.text_deltas:
                    received.append(text)
            assert info.value.run_id == "run_5xmygEZejY3S98viC4es01vE"
            snapshot = stream.current_message_snapshot
            assert snapshot is not None
            assert snapshot.text == "".join(received)
            assert len(received) > 50


@pytest.mark.asyncio
async def test_clean_eof_without_done_is_interrupted(replay_server: ReplayServer) -> None:
    body = plain_text_before(b"event: thread.run.step.completed")
    replay_server.replies.append(Reply(body=body))
    async with client_for(replay_server) as client:
        with pytest.raises(StreamInterrupted, match="before \\[DONE\\]"):
            await collect(client)


@pytest.mark.asyncio
async def test_terminal_run_event_then_eof_ends_normally(replay_server: ReplayServer) -> None:
    replay_server.replies.append(Reply(body=plain_text_before(b"event: done")))
    async with client_for(replay_server) as client:
        async with client.runs.stream("thread_1", assistant_id="asst_1") as stream:
            run = await stream.final_run()
    assert run.status == "completed"


@pytest.mark.asyncio
async def test_unterminated_last_event_is_discarded(replay_server: ReplayServer) -> None:
    body = (
        b'event: thread.future\ndata: {"x": 1}\n\n'
        b"event: done\ndata: [DONE]\n\n"
        b"event: thread.run.created\ndata: {"  # cut inside an event, after [DONE]
    )
    replay_server.replies.append(Reply(body=body))
    async with client_for(replay_server) as client:
        events = await collect(client)
    assert events == [UnknownEvent(event="thread.future", data={"x": 1})]


@pytest.mark.asyncio
async def test_malformed_json_raises_protocol_error_with_context(
    replay_server: ReplayServer,
) -> None:
    raw = fixture_bytes("run_failed.sse")
    blocks = raw.split(b"\n\n")
    blocks[2] = b"event: thread.run.in_progress\ndata: {not json"
    replay_server.replies.append(Reply(body=b"\n\n".join(blocks)))
    handler_errors: list[BaseException] = []

    class Handler(AsyncEventHandler):
        async def on_exception(self, exception: Exception) -> None:
            handler_errors.append(exception)

    async with client_for(replay_server) as client:
        with pytest.raises(ProtocolError) as info:
            await collect(client, handler=Handler())
    assert info.value.event == "thread.run.in_progress"
    assert info.value.position == 2
    assert info.value.excerpt == "{not json"
    assert "thread.run.in_progress" in str(info.value)
    assert handler_errors == [info.value]


@pytest.mark.asyncio
async def test_oversized_event_raises(replay_server: ReplayServer) -> None:
    big = b'event: thread.future\ndata: "' + b"x" * 5000 + b'"\n\nevent: done\ndata: [DONE]\n\n'
    replay_server.replies.append(Reply(body=big, chunk_size=512))
    async with client_for(replay_server, max_event_size=1024) as client:
        with pytest.raises(streamrun.EventTooLargeError):
            await collect(client)


@pytest.mark.asyncio
async def test_non_sse_200_is_an_error(replay_server: ReplayServer) -> None:
    replay_server.replies.append(
        Reply(body=b'{"id":"run_1"}', content_type="application/json", headers={})
    )
    async with client_for(replay_server) as client:
        with pytest.raises(streamrun.APIStatusError, match="text/event-stream"):
            await collect(client)


@pytest.mark.asyncio
async def test_second_iteration_is_a_clear_error(replay_server: ReplayServer) -> None:
    replay_server.replies.append(Reply(body=fixture_bytes("run_failed.sse")))
    async with client_for(replay_server) as client:
        async with client.runs.stream("thread_1", assistant_id="asst_1") as stream:
            async for _ in stream:
                pass
            with pytest.raises(StreamConsumedError):
                async for _ in stream:
                    pass
            with pytest.raises(StreamConsumedError):
                _ = stream.text_deltas


@pytest.mark.asyncio
async def test_break_then_final_consumes_the_rest(replay_server: ReplayServer) -> None:
    replay_server.replies.append(Reply(body=fixture_bytes("plain_text.sse")))
    async with client_for(replay_server) as client:
        async with client.runs.stream("thread_1", assistant_id="asst_1") as stream:
            async for event in stream:
                if event.event == "thread.message.delta":
                    break
            messages = await stream.final_messages()
    assert len(messages) == 1
    assert messages[0].status == "completed"


@pytest.mark.asyncio
async def test_break_early_releases_the_connection(replay_server: ReplayServer) -> None:
    replay_server.replies.append(Reply(body=fixture_bytes("plain_text.sse"), delay=0.001))
    replay_server.replies.append(Reply(status=200, body=b"{}", content_type="application/json"))
    async with client_for(replay_server, cancel_on_abandon=True) as client:
        async with client.runs.stream("thread_1", assistant_id="asst_1") as stream:
            async for event in stream:
                if event.event == "thread.message.delta":
                    break
        connector = client.session.connector
        assert connector is not None
        assert not connector._acquired  # no connection left checked out
    # Leaving early cancelled the run on the server, on the thread the request named
    # (the transcript's events name another thread; they do not redirect the cancel).
    assert replay_server.requests[-1]["path"].endswith(
        "/threads/thread_1/runs/run_5xmygEZejY3S98viC4es01vE/cancel"
    )


@pytest.mark.asyncio
async def test_idle_timeout(replay_server: ReplayServer) -> None:
    raw = fixture_bytes("plain_text.sse")
    replay_server.replies.append(Reply(body=raw, chunk_size=4096, stall_after=4096, stall=2.0))
    timeouts: list[str] = []

    class Handler(AsyncEventHandler):
        async def on_timeout(self) -> None:
            timeouts.append("timeout")

    async with client_for(replay_server, idle_timeout=0.3, cancel_on_abandon=False) as client:
        with pytest.raises(StreamTimeout) as info:
            await collect(client, handler=Handler())
    assert isinstance(info.value, TimeoutError)
    assert info.value.kind == "idle"
    assert timeouts == ["timeout"]


@pytest.mark.asyncio
async def test_request_shape_and_headers(replay_server: ReplayServer) -> None:
    replay_server.replies.append(Reply(body=fixture_bytes("run_failed.sse")))
    async with client_for(
        replay_server, organization="org_1", project="proj_1", default_query={"v": "1"}
    ) as client:
        await collect(
            client,
            include=["step_details.tool_calls[*].file_search.results[*].content"],
            model="gpt-4o",
            temperature=0.5,
        )
    request = replay_server.requests[0]
    assert request["method"] == "POST"
    assert request["path"] == "/v1/threads/thread_1/runs"
    headers = request["headers"]
    assert headers["Authorization"] == "Bearer sk-test-key"
    assert headers["OpenAI-Beta"] == "assistants=v2"
    assert headers["Accept"] == "text/event-stream"
    assert headers["OpenAI-Organization"] == "org_1"
    assert headers["OpenAI-Project"] == "proj_1"
    assert request["query"] == [
        ("v", "1"),
        ("include[]", "step_details.tool_calls[*].file_search.results[*].content"),
    ]
    assert request["body"] == {
        "assistant_id": "asst_1",
        "model": "gpt-4o",
        "temperature": 0.5,
        "stream": True,
    }


@pytest.mark.asyncio
async def test_azure_style_api_key_header_and_query(replay_server: ReplayServer) -> None:
    replay_server.replies.append(Reply(body=fixture_bytes("run_failed.sse")))
    base = replay_server.base_url.replace("/v1", "/openai") + "?api-version=2024-05-01-preview"
    async with AsyncClient(api_key="azure-key", base_url=base, auth_style="api-key") as client:
        await collect(client)
    request = replay_server.requests[0]
    assert request["path"] == "/openai/threads/thread_1/runs"
    assert request["headers"]["api-key"] == "azure-key"
    assert "Authorization" not in request["headers"]
    assert request["query"] == [("api-version", "2024-05-01-preview")]


@pytest.mark.asyncio
async def test_validation_error_sends_nothing(replay_server: ReplayServer) -> None:
    async with client_for(replay_server) as client:
        with pytest.raises(streamrun.ValidationError) as info:
            client.runs.stream("thread_1", assistant_id="asst_1", temperature=3)
    assert info.value.path == "temperature"
    assert replay_server.requests == []


@pytest.mark.asyncio
async def test_caller_owned_session_is_not_closed(replay_server: ReplayServer) -> None:
    replay_server.replies.append(Reply(body=fixture_bytes("run_failed.sse")))
    async with aiohttp.ClientSession() as session:
        async with client_for(replay_server, session=session) as client:
            await collect(client)
        assert not session.closed


@pytest.mark.asyncio
async def test_submit_tool_outputs_stream(replay_server: ReplayServer) -> None:
    raw = fixture_bytes("submit_tool_outputs_continuation.sse")
    replay_server.replies.append(Reply(body=raw))
    async with client_for(replay_server) as client:
        async with client.runs.submit_tool_outputs_stream(
            "thread_6U1L3VeEp7C6EQjPpfFU9uS5",
            "run_d3b6AE1foNedXteQJXyhxZbr",
            tool_outputs=[{"tool_call_id": "call_7HStpy8qoVZlUqJdTWjxaVoj", "output": "18C"}],
        ) as stream:
            assert stream.run_id == "run_d3b6AE1foNedXteQJXyhxZbr"
            run = await stream.final_run()
            steps = await stream.final_run_steps()
    assert run.status == "completed"
    assert [s.status for s in steps] == ["completed", "completed"]
    request = replay_server.requests[0]
    assert request["path"] == (
        "/v1/threads/thread_6U1L3VeEp7C6EQjPpfFU9uS5/runs/"
        "run_d3b6AE1foNedXteQJXyhxZbr/submit_tool_outputs"
    )
    assert request["body"] == {
        "tool_outputs": [{"tool_call_id": "call_7HStpy8qoVZlUqJdTWjxaVoj", "output": "18C"}],
        "stream": True,
    }


@pytest.mark.asyncio
async def test_create_and_run_stream(replay_server: ReplayServer) -> None:
    raw = fixture_bytes("thread_and_run.sse")
    replay_server.replies.append(Reply(body=raw))
    async with client_for(replay_server) as client:
        async with client.threads.create_and_run_stream(
            assistant_id="asst_1",
            thread={"messages": [{"role": "user", "content": "Hello"}]},
        ) as stream:
            texts = [t async for t in stream.text_deltas]
            assert stream.thread_id == "thread_K6ovwfchTI4EnvQ3GwGO451Y"
    assert texts
    assert replay_server.requests[0]["path"] == "/v1/threads/runs"
    assert replay_server.requests[0]["body"]["thread"] == {
        "messages": [{"role": "user", "content": "Hello"}]
    }


@pytest.mark.asyncio
async def test_task_cancellation_closes_and_cancels_run(replay_server: ReplayServer) -> None:
    raw = fixture_bytes("plain_text.sse")
    replay_server.replies.append(Reply(body=raw, chunk_size=200, delay=0.02))
    replay_server.replies.append(Reply(status=200, body=b"{}", content_type="application/json"))
    started = asyncio.Event()

    async with client_for(replay_server) as client:

        async def consume() -> None:
            async with client.runs.stream("thread_1", assistant_id="asst_1") as stream:
                async for event in stream:
                    if event.event == "thread.message.delta":
                        started.set()

        task = asyncio.create_task(consume())
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        connector = client.session.connector
        assert connector is not None
        assert not connector._acquired
    assert replay_server.requests[-1]["path"].endswith("/cancel")
