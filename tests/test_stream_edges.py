"""RunStream edges: tolerated endings, bounded cancel-on-abandon, the public surface,
transport error paths, over real servers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp import web

import streamrun
from streamrun import (
    AsyncClient,
    AsyncEventHandler,
    StreamConsumedError,
    StreamInterrupted,
    StreamrunError,
    StreamTimeout,
)
from streamrun.testing import FakeAssistantsServer, Faults

from ._hygiene import TaskWatch, assert_no_checked_out_connection
from .conftest import ReplayServer, Reply, fixture_bytes

PLAIN_RUN_ID = "run_5xmygEZejY3S98viC4es01vE"
PLAIN_THREAD_ID = "thread_z0BAJLVgITQHic4AwWOdJozS"
DONE = b"event: done\ndata: [DONE]\n\n"


def client_for(base_url: str, **kwargs: Any) -> AsyncClient:
    kwargs.setdefault("api_key", "sk-test-key")
    kwargs.setdefault("max_retries", 0)
    return AsyncClient(base_url=base_url, **kwargs)


def sse(name: str, data: Any) -> bytes:
    """One event block (compact JSON data)."""
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


def blocks(raw: bytes) -> list[tuple[str, str]]:
    """The (event, data) pairs of a transcript (simple framing: LF, one data line)."""
    out = []
    for block in raw.decode().split("\n\n"):
        name = data = None
        for line in block.split("\n"):
            if line.startswith("event: "):
                name = line[len("event: ") :]
            elif line.startswith("data: "):
                data = line[len("data: ") :]
        if name is not None and data is not None:
            out.append((name, data))
    return out


def first_data(raw: bytes, name: str) -> dict[str, Any]:
    """The decoded data of the first ``name`` event of a transcript."""
    data: dict[str, Any] = json.loads(next(d for n, d in blocks(raw) if n == name))
    return data


class Recorder(AsyncEventHandler):
    """Counts the end-of-stream hooks."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.exceptions: list[Exception] = []

    async def on_timeout(self) -> None:
        self.calls.append("on_timeout")

    async def on_exception(self, exception: Exception) -> None:
        self.calls.append("on_exception")
        self.exceptions.append(exception)

    async def on_end(self) -> None:
        self.calls.append("on_end")


@asynccontextmanager
async def serve(routes: list[web.RouteDef]) -> AsyncIterator[str]:
    """A small aiohttp app on 127.0.0.1; yields its base URL (``.../v1``)."""
    app = web.Application()
    app.add_routes(routes)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        await runner.cleanup()


async def hold(release: asyncio.Event, limit: float) -> None:
    """Wait until ``release`` is set, at most ``limit`` seconds (no helper task is created,
    so a server handler waiting here is not mistaken for a client task)."""
    timer = asyncio.get_running_loop().call_later(limit, release.set)
    try:
        await release.wait()
    finally:
        timer.cancel()


# ---------------------------------------------------------------------------
# 1. A terminal run event, then a clean EOF without [DONE]


@pytest.mark.asyncio
@pytest.mark.parametrize("status", ["expired", "cancelled", "incomplete"])
async def test_terminal_run_event_then_clean_eof_is_a_normal_end(
    replay_server: ReplayServer, status: str
) -> None:
    raw = fixture_bytes("plain_text.sse")
    head = raw[: raw.index(b"event: thread.message.delta")]
    run = {**first_data(raw, "thread.run.created"), "status": status}
    replay_server.replies.append(Reply(body=head + sse(f"thread.run.{status}", run)))
    handler = Recorder()
    async with client_for(replay_server.base_url) as client:
        async with client.runs.stream("thread_1", assistant_id="asst_1", handler=handler) as stream:
            names = [event.event async for event in stream]
            assert stream.done
            assert stream.error is None
            final = await stream.final_run()
        assert_no_checked_out_connection(client)
    assert names[-1] == f"thread.run.{status}"
    assert final.status == status
    assert handler.calls == ["on_end"]
    # Nothing was cancelled on leaving: the run had settled.
    assert len(replay_server.requests) == 1


# ---------------------------------------------------------------------------
# 2. cancel-on-abandon is bounded by cancel_timeout


HANG_RUN = {
    "id": "run_hang",
    "object": "thread.run",
    "thread_id": "thread_hang",
    "assistant_id": "asst_1",
    "status": "queued",
}
HANG_EVENTS = (
    sse("thread.run.created", HANG_RUN)
    + sse("thread.run.in_progress", {**HANG_RUN, "status": "in_progress"})
    + sse(
        "thread.message.delta",
        {
            "id": "msg_1",
            "object": "thread.message.delta",
            "delta": {"content": [{"index": 0, "type": "text", "text": {"value": "Hi"}}]},
        },
    )
)


class HangingCancelServer:
    """Streams a few events then goes silent; its cancel endpoint hangs for 5 s."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.cancel_started = asyncio.Event()
        self.cancels = 0

    async def run(self, request: web.Request) -> web.StreamResponse:
        await request.read()
        response = web.StreamResponse(status=200)
        response.content_type = "text/event-stream"
        await response.prepare(request)
        await response.write(HANG_EVENTS)
        await hold(self.release, 10.0)
        return response

    async def cancel(self, request: web.Request) -> web.Response:
        self.cancels += 1
        self.cancel_started.set()
        await hold(self.release, 5.0)
        return web.json_response({**HANG_RUN, "status": "cancelling"})

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/v1/threads/{thread}/runs", self.run),
            web.post("/v1/threads/{thread}/runs/{run}/cancel", self.cancel),
        ]


@asynccontextmanager
async def hanging_cancel_server() -> AsyncIterator[tuple[HangingCancelServer, str]]:
    server = HangingCancelServer()
    async with serve(server.routes()) as base_url:
        try:
            yield server, base_url
        finally:
            server.release.set()


@pytest.mark.asyncio
async def test_cancel_on_abandon_is_bounded_by_cancel_timeout(
    caplog: pytest.LogCaptureFixture,
) -> None:
    watch = TaskWatch()
    async with hanging_cancel_server() as (server, base_url):
        async with client_for(base_url, cancel_timeout=0.2) as client:
            with caplog.at_level(logging.WARNING, logger="streamrun"):
                async with client.runs.stream("thread_hang", assistant_id="asst_1") as stream:
                    async for event in stream:
                        if event.event == "thread.message.delta":
                            break
                    leaving = time.monotonic()
                elapsed = time.monotonic() - leaving
            assert server.cancels == 1
            assert 0.15 <= elapsed < 1.5
            await watch.assert_clean(client)
    warnings = [
        r
        for r in caplog.records
        if r.name == "streamrun"
        and r.levelno == logging.WARNING
        and "could not cancel abandoned run run_hang" in r.getMessage()
    ]
    assert len(warnings) == 1


@pytest.mark.asyncio
async def test_cancelled_again_while_cancelling_propagates_promptly() -> None:
    watch = TaskWatch()
    got_delta = asyncio.Event()
    async with hanging_cancel_server() as (server, base_url):
        async with client_for(base_url, cancel_timeout=0.3) as client:

            async def consume() -> None:
                async with client.runs.stream("thread_hang", assistant_id="asst_1") as stream:
                    async for event in stream:
                        if event.event == "thread.message.delta":
                            got_delta.set()

            task = asyncio.ensure_future(consume())
            await asyncio.wait_for(got_delta.wait(), 2.0)
            task.cancel()
            # The abandoned run's cancel request is now in flight (and hangs).
            await asyncio.wait_for(server.cancel_started.wait(), 2.0)
            assert not task.done()
            started = time.monotonic()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert time.monotonic() - started < 1.0
            # The cancel request neither outlives the stream nor holds a connection.
            await watch.assert_clean(client)
            assert server.cancels == 1


# ---------------------------------------------------------------------------
# 3. text_deltas never yields empty strings


MSG = {
    "id": "msg_1",
    "object": "thread.message",
    "thread_id": "thread_1",
    "run_id": "run_1",
    "assistant_id": "asst_1",
    "role": "assistant",
    "status": "in_progress",
    "content": [],
}
RUN = {
    "id": "run_1",
    "object": "thread.run",
    "thread_id": "thread_1",
    "assistant_id": "asst_1",
    "status": "in_progress",
}


def text_delta(value: str, annotations: list[Any] | None = None) -> bytes:
    text: dict[str, Any] = {"value": value}
    if annotations is not None:
        text["annotations"] = annotations
    return sse(
        "thread.message.delta",
        {
            "id": "msg_1",
            "object": "thread.message.delta",
            "delta": {"content": [{"index": 0, "type": "text", "text": text}]},
        },
    )


@pytest.mark.asyncio
async def test_text_deltas_skip_empty_fragments(replay_server: ReplayServer) -> None:
    citation = {
        "index": 0,
        "type": "file_citation",
        "text": "[1]",
        "start_index": 5,
        "end_index": 8,
        "file_citation": {"file_id": "file_1"},
    }
    final_text = "Hello[1] world"
    completed = {
        **MSG,
        "status": "completed",
        "content": [{"type": "text", "text": {"value": final_text, "annotations": []}}],
    }
    body = (
        sse("thread.run.created", RUN)
        + sse("thread.message.created", MSG)
        + text_delta("Hello")
        + text_delta("", [citation])  # a fragment carrying only an annotation
        + text_delta("[1]")
        + text_delta("")
        + text_delta(" world")
        + sse("thread.message.completed", completed)
        + sse("thread.run.completed", {**RUN, "status": "completed"})
        + DONE
    )
    replay_server.replies.append(Reply(body=body))
    async with client_for(replay_server.base_url) as client:
        async with client.runs.stream("thread_1", assistant_id="asst_1") as stream:
            texts = [t async for t in stream.text_deltas]
            messages = await stream.final_messages()
    assert "" not in texts
    assert texts == ["Hello", "[1]", " world"]
    assert "".join(texts) == messages[0].text == final_text


# ---------------------------------------------------------------------------
# 4. thread.created names the thread


@pytest.mark.asyncio
async def test_thread_created_sets_the_thread_id_before_a_cut() -> None:
    watch = TaskWatch()
    async with FakeAssistantsServer() as server:
        server.queue_faults(Faults(drop_after=1))
        async with client_for(server.base_url) as client:
            async with client.threads.create_and_run_stream(
                assistant_id="asst_1",
                thread={"messages": [{"role": "user", "content": "Hello"}]},
            ) as stream:
                before = stream.thread_id
                assert before is None
                with pytest.raises(StreamInterrupted) as info:
                    await stream.until_done()
                thread_id = stream.thread_id
            assert stream.run_id is None
            assert info.value.run_id is None
            assert info.value.last_event is not None
            assert info.value.last_event.event == "thread.created"
            # The run goes on on the server, in the thread the stream announced.
            (run_id,) = server.run_ids()
            run = server.get_run(run_id)
            assert run is not None
            assert thread_id is not None and thread_id == run["thread_id"]
            assert len(server.requests_to("create_thread_and_run")) == 1
            assert server.cancel_requests == []  # a cut stream is recoverable, not cancelled
            await watch.assert_clean(client, server)


# ---------------------------------------------------------------------------
# 5. The public RunStream / client surface


@pytest.mark.asyncio
async def test_opening_a_stream_twice_is_an_error(replay_server: ReplayServer) -> None:
    replay_server.replies.append(Reply(body=fixture_bytes("run_failed.sse")))
    async with client_for(replay_server.base_url) as client:
        stream = client.runs.stream("thread_1", assistant_id="asst_1")
        async with stream:
            await stream.until_done()
        with pytest.raises(StreamConsumedError, match="already opened"):
            async with stream:
                pass  # pragma: no cover - never entered
    assert len(replay_server.requests) == 1


@pytest.mark.asyncio
async def test_iterating_outside_async_with_is_an_error(replay_server: ReplayServer) -> None:
    async with client_for(replay_server.base_url) as client:
        stream = client.runs.stream("thread_1", assistant_id="asst_1")
        with pytest.raises(StreamrunError, match="async with") as info:
            async for _ in stream:
                pass  # pragma: no cover - nothing is read
        assert not isinstance(info.value, StreamConsumedError)
        with pytest.raises(StreamrunError, match="async with"):
            await client.runs.stream("thread_1", assistant_id="asst_1").final_run()
    assert replay_server.requests == []


@pytest.mark.asyncio
async def test_aclose_releases_the_connection(replay_server: ReplayServer) -> None:
    replay_server.replies.append(Reply(body=fixture_bytes("plain_text.sse"), delay=0.002))
    handler = Recorder()
    async with client_for(replay_server.base_url) as client:
        stream = client.runs.stream(
            "thread_1", assistant_id="asst_1", handler=handler, cancel_on_abandon=False
        )
        await stream.__aenter__()
        events = aiter(stream)
        first = await anext(events)
        assert first.event == "thread.run.created"
        connector = client.session.connector
        assert connector is not None
        assert connector._acquired  # the stream holds its connection
        await stream.aclose()
        assert_no_checked_out_connection(client)
        assert handler.calls == ["on_end"]
        assert not stream.done
        await stream.aclose()  # a second close does nothing
        assert handler.calls == ["on_end"]
    assert len(replay_server.requests) == 1


@pytest.mark.asyncio
async def test_final_run_without_any_run_event(replay_server: ReplayServer) -> None:
    body = b'event: thread.future\ndata: {"x": 1}\n\n' + DONE
    replay_server.replies.append(Reply(body=body))
    async with client_for(replay_server.base_url) as client:
        async with client.runs.stream("thread_1", assistant_id="asst_1") as stream:
            with pytest.raises(StreamrunError, match="without any run event"):
                await stream.final_run()
            assert stream.done


@pytest.mark.asyncio
async def test_cancel_when_the_events_never_name_a_run(replay_server: ReplayServer) -> None:
    body = b'event: thread.future\ndata: {"x": 1}\n\n' + DONE
    replay_server.replies.append(Reply(body=body))
    async with client_for(replay_server.base_url) as client:
        async with client.runs.stream("thread_1", assistant_id="asst_1") as stream:
            with pytest.raises(StreamrunError, match="before it named its run"):
                await stream.cancel()
    assert len(replay_server.requests) == 1  # no cancel request


@pytest.mark.asyncio
async def test_repr_shows_run_id_and_state(replay_server: ReplayServer) -> None:
    replay_server.replies.append(Reply(body=fixture_bytes("plain_text.sse")))
    replay_server.replies.append(Reply(body=fixture_bytes("error_event.sse")))
    async with client_for(replay_server.base_url) as client:
        async with client.runs.stream("thread_1", assistant_id="asst_1") as stream:
            assert repr(stream) == "<RunStream run_id=None thread_id='thread_1' open>"
            await stream.until_done()
            text = repr(stream)
        assert PLAIN_RUN_ID in text
        assert "thread_id='thread_1'" in text  # the requested thread, not the events'
        assert PLAIN_THREAD_ID not in text
        assert text.endswith(" ended>")
        async with client.runs.stream("thread_1", assistant_id="asst_1") as failing:
            with pytest.raises(streamrun.StreamError):
                await failing.until_done()
            assert repr(failing).endswith(" failed>")
            assert "run_L1n8RxyjiyQNCIwUD3X9Kih4" in repr(failing)


@pytest.mark.asyncio
async def test_handler_of_the_wrong_type_is_rejected(replay_server: ReplayServer) -> None:
    class NotAHandler:
        async def on_event(self, event: object) -> None:
            pass  # pragma: no cover - never called

    async with client_for(replay_server.base_url) as client:
        with pytest.raises(streamrun.ValidationError) as info:
            client.runs.stream("thread_1", assistant_id="asst_1", handler=NotAHandler())  # type: ignore[arg-type]
        assert info.value.path == "handler"
        with pytest.raises(streamrun.ValidationError):
            client.threads.create_and_run_stream(
                assistant_id="asst_1",
                handler=AsyncEventHandler,  # type: ignore[arg-type]  # a class, not an instance
            )
    assert replay_server.requests == []


@pytest.mark.asyncio
async def test_extra_body_fields_are_sent_as_is(replay_server: ReplayServer) -> None:
    replay_server.replies.append(Reply(body=fixture_bytes("run_failed.sse")))
    extra = {"x_vendor": {"mode": "fast", "tags": [1, "a", None]}, "x_flag": None}
    async with client_for(replay_server.base_url) as client:
        async with client.runs.stream(
            "thread_1", assistant_id="asst_1", model="gpt-4o", extra_body=extra
        ) as stream:
            await stream.until_done()
    assert replay_server.requests[0]["body"] == {
        "assistant_id": "asst_1",
        "model": "gpt-4o",
        "x_vendor": {"mode": "fast", "tags": [1, "a", None]},
        "x_flag": None,
        "stream": True,
    }


@pytest.mark.asyncio
async def test_extra_headers_and_query_apply_to_one_call(replay_server: ReplayServer) -> None:
    replay_server.replies.append(Reply(body=fixture_bytes("run_failed.sse")))
    replay_server.replies.append(Reply(body=fixture_bytes("run_failed.sse")))
    async with client_for(replay_server.base_url, default_query={"v": "1"}) as client:
        async with client.runs.stream(
            "thread_1",
            assistant_id="asst_1",
            extra_headers={"X-Trace": "t-1", "OpenAI-Beta": "assistants=v9"},
            extra_query={"foo": "bar"},
        ) as stream:
            await stream.until_done()
        async with client.runs.stream("thread_1", assistant_id="asst_1") as stream:
            await stream.until_done()
    first, second = replay_server.requests
    assert first["headers"]["X-Trace"] == "t-1"
    assert first["headers"]["OpenAI-Beta"] == "assistants=v9"
    assert first["query"] == [("v", "1"), ("foo", "bar")]
    assert "X-Trace" not in second["headers"]
    assert second["headers"]["OpenAI-Beta"] == "assistants=v2"
    assert second["query"] == [("v", "1")]
    # Options are not body fields.
    assert "extra_headers" not in first["body"] and "extra_query" not in first["body"]


@pytest.mark.asyncio
async def test_per_call_idle_timeout_overrides_the_client_default(
    replay_server: ReplayServer,
) -> None:
    raw = fixture_bytes("plain_text.sse")
    replay_server.replies.append(Reply(body=raw, chunk_size=512, stall_after=512, stall=1.0))
    async with client_for(replay_server.base_url, idle_timeout=30.0) as client:
        started = time.monotonic()
        with pytest.raises(StreamTimeout) as info:
            async with client.runs.stream(
                "thread_1", assistant_id="asst_1", idle_timeout=0.2, cancel_on_abandon=False
            ) as stream:
                await stream.until_done()
        assert time.monotonic() - started < 0.9
        assert_no_checked_out_connection(client)
    assert info.value.kind == "idle"
    assert info.value.seconds == 0.2


@pytest.mark.asyncio
async def test_per_call_idle_timeout_none_turns_it_off(replay_server: ReplayServer) -> None:
    raw = fixture_bytes("plain_text.sse")
    replay_server.replies.append(Reply(body=raw, chunk_size=512, stall_after=512, stall=0.4))
    async with client_for(replay_server.base_url, idle_timeout=0.1) as client:
        async with client.runs.stream("thread_1", assistant_id="asst_1", idle_timeout=None) as s:
            run = await s.final_run()
    assert run.status == "completed"


# ---------------------------------------------------------------------------
# 6. Transport error paths


@pytest.mark.asyncio
async def test_timeout_waiting_for_the_response_headers() -> None:
    release = asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        await request.read()
        await hold(release, 3.0)
        return web.Response(status=200, body=DONE, content_type="text/event-stream")

    handler = Recorder()
    watch = TaskWatch()
    async with serve([web.post("/v1/threads/{thread}/runs", slow)]) as base_url:
        try:
            async with client_for(base_url, idle_timeout=0.2) as client:
                started = time.monotonic()
                with pytest.raises(StreamTimeout) as info:
                    async with client.runs.stream(
                        "thread_1", assistant_id="asst_1", handler=handler
                    ):
                        pass  # pragma: no cover - the reply never comes
                assert time.monotonic() - started < 1.5
                await watch.assert_clean(client)
        finally:
            release.set()
    assert info.value.kind == "idle"
    assert info.value.seconds == 0.2
    assert handler.calls == ["on_timeout", "on_exception", "on_end"]
    assert handler.exceptions == [info.value]


@pytest.mark.asyncio
async def test_request_json_with_a_non_json_reply(replay_server: ReplayServer) -> None:
    replay_server.replies.append(
        Reply(body=b"<html>hello</html>", content_type="text/html; charset=utf-8")
    )
    async with client_for(replay_server.base_url) as client:
        with pytest.raises(streamrun.APIStatusError, match="not JSON") as info:
            await client.runs.retrieve("thread_1", "run_1")
        assert_no_checked_out_connection(client)
    assert info.value.status == 200
    # The page's text, cleaned to one line (Part 8 §3), not its HTML.
    assert str(info.value).endswith("the reply is not JSON: hello")
    assert replay_server.requests[0]["method"] == "GET"
    assert replay_server.requests[0]["path"] == "/v1/threads/thread_1/runs/run_1"


# ---------------------------------------------------------------------------
# 8. The text deltas of a create-and-run stream add up to the completed message


@pytest.mark.asyncio
async def test_create_and_run_text_deltas_add_up_to_the_message(
    replay_server: ReplayServer,
) -> None:
    raw = fixture_bytes("thread_and_run.sse")
    completed = first_data(raw, "thread.message.completed")
    expected = completed["content"][0]["text"]["value"]
    replay_server.replies.append(Reply(body=raw, chunk_size=5))
    async with client_for(replay_server.base_url) as client:
        async with client.threads.create_and_run_stream(
            assistant_id="asst_1",
            thread={"messages": [{"role": "user", "content": "Hello"}]},
        ) as stream:
            texts = [t async for t in stream.text_deltas]
            messages = await stream.final_messages()
    assert len(texts) > 1
    assert "".join(texts) == expected
    assert [m.text for m in messages] == [expected]
