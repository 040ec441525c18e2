"""``streamrun.relay``: a run stream relayed as SSE / NDJSON bytes and served by aiohttp.web.

Relayed bytes are checked by decoding them with :mod:`streamrun.sse` (on every
fixture transcript, and on arbitrary events with Hypothesis) and by reading
them back through the client; serving is checked over loopback against the
fake Assistants server, whose request log shows the cancels.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings, strategies as st

import streamrun.relay
from streamrun import (
    AsyncClient,
    AsyncEventHandler,
    Event,
    StreamConsumedError,
    Text,
    TextDelta,
    UnknownEvent,
    _json,
    parse_event,
)
from streamrun.relay import SSE_HEADERS, sse_block, sse_response, to_ndjson, to_sse, wire_json
from streamrun.sse import ServerSentEvent, SSEDecoder
from streamrun.testing import (
    FakeAssistantsServer,
    Faults,
    Pause,
    Scenario,
    TextReply,
    scenarios,
)

from .conftest import FIXTURES, ReplayServer, Reply, fixture_bytes, manifest, serve

FIXTURE_NAMES = [entry["file"] for entry in manifest()]
LONG = "A long answer, streamed slowly so that the test can leave in the middle. " * 6


def decode(data: bytes) -> list[ServerSentEvent]:
    decoder = SSEDecoder(max_event_size=None)
    return [*decoder.feed(data), *decoder.close()]


async def collect(chunks: AsyncIterator[bytes]) -> bytes:
    return b"".join([chunk async for chunk in chunks])


def running_tasks() -> set[asyncio.Task[Any]]:
    """Unfinished tasks, but the servers' idle keep-alive connections (their own tasks)."""
    return {
        t
        for t in asyncio.all_tasks()
        if not t.done() and t.get_coro().__qualname__ != "RequestHandler.start"  # type: ignore[union-attr]
    }


def client_for(base_url: str, **kwargs: Any) -> AsyncClient:
    return AsyncClient(api_key="sk-test", base_url=base_url, **kwargs)


def expected_events(raw: bytes) -> list[tuple[str, Any]]:
    """What a relay of this transcript must carry: its events up to an error or done."""
    out: list[tuple[str, Any]] = []
    for sse in decode(raw):
        event = parse_event(sse.event, sse.data)
        if event.event == "done":
            break
        if event.event == "error":
            out.append(("error", event.data.message))
            break
        out.append((sse.event, json.loads(sse.data)))
    return out


def relayed_events(data: bytes) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for sse in decode(data):
        if sse.event == "done":
            assert sse.data == "[DONE]"
            out.append(("done", None))
        elif sse.event == "error":
            out.append(("error", json.loads(sse.data)["message"]))
        else:
            out.append((sse.event, json.loads(sse.data)))
    return out


# -- framing --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "decoded"),
    [
        ('{"a":1}', '{"a":1}'),
        ("two\nlines", "two\nlines"),
        ("cr\rand\r\ncrlf", "cr\nand\ncrlf"),
        (" leading space", " leading space"),
        ("", ""),
        ("\n", "\n"),
        ("trailing\n", "trailing\n"),
        (": not a comment\ndata: not a field", ": not a comment\ndata: not a field"),
        ("\ufeffbom and \x00 nul", "\ufeffbom and \x00 nul"),
    ],
)
def test_sse_block_decodes_to_its_data(data: str, decoded: str) -> None:
    assert decode(sse_block("thread.message.delta", data)) == [
        ServerSentEvent("thread.message.delta", decoded)
    ]


@pytest.mark.parametrize("name", ["a\nb", "a\rb", "a\r\nb", "\n"])
def test_sse_block_refuses_a_line_end_in_the_name(name: str) -> None:
    with pytest.raises(ValueError, match="line end"):
        sse_block(name, "x")


class ListStream:
    """A stream of ready events with the RunStream consuming API (for the framing)."""

    def __init__(self, events: list[Any], error: Exception | None = None) -> None:
        self.events = events
        self.error = error
        self.entered = self.closed = False

    async def __aenter__(self) -> ListStream:
        self.entered = True
        return self

    async def _iterate(self) -> AsyncIterator[Any]:
        for event in self.events:
            yield event
        if self.error is not None:
            raise self.error

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._iterate()

    async def aclose(self) -> None:
        self.closed = True


_names = st.text(
    st.characters(blacklist_characters="\r\n", blacklist_categories=["Cs"]), min_size=1
)
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(_names, st.one_of(_json_values, st.text())), max_size=8),
    st.lists(st.integers(min_value=1, max_value=64), min_size=1, max_size=20),
)
def test_any_events_relay_as_valid_sse(events: list[tuple[str, Any]], sizes: list[int]) -> None:
    stream = ListStream([UnknownEvent(event=name, data=raw, raw=raw) for name, raw in events])
    data = asyncio.run(collect(to_sse(stream)))
    # Decoded under an arbitrary chunking, exactly the events, then done.
    decoder = SSEDecoder(max_event_size=None)
    got: list[ServerSentEvent] = []
    pos = 0
    i = 0
    while pos < len(data):
        size = sizes[i % len(sizes)]
        got += decoder.feed(data[pos : pos + size])
        pos += size
        i += 1
    got += decoder.close()
    assert [e.event for e in got] == [name for name, _ in events] + ["done"]
    assert got[-1].data == "[DONE]"
    for (_, raw), sse in zip(events, got, strict=False):
        try:
            value = json.loads(sse.data)
        except ValueError:
            # Non-JSON text goes as it is (its line ends become LF).
            assert sse.data == re.sub(r"\r\n|\r", "\n", raw)
        else:
            assert value == raw or sse.data == re.sub(r"\r\n|\r", "\n", raw)
    assert stream.entered and stream.closed


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(_names, _json_values), max_size=6))
def test_any_events_relay_as_json_lines(events: list[tuple[str, Any]]) -> None:
    stream = ListStream([UnknownEvent(event=name, data=raw, raw=raw) for name, raw in events])
    data = asyncio.run(collect(to_ndjson(stream)))
    assert data.endswith(b"\n")
    lines = [json.loads(line) for line in data.decode().split("\n")[:-1]]
    assert lines == [{"event": n, "data": r} for n, r in events] + [
        {"event": "done", "data": "[DONE]"}
    ]


def test_a_lone_surrogate_is_relayed_as_an_escape() -> None:
    event = parse_event("thread.message.delta", _delta_json("broken \\ud83d emoji"))
    stream = ListStream([event])
    data = asyncio.run(collect(to_sse(stream)))
    first = decode(data)[0]
    assert "\\ud83d" in first.data
    assert json.loads(first.data) == event.raw
    lines = asyncio.run(collect(to_ndjson(ListStream([event]))))
    assert json.loads(lines.split(b"\n")[0])["data"] == event.raw


def _delta_json(value: str) -> str:
    return (
        '{"id":"msg_1","object":"thread.message.delta","delta":{"content":'
        f'[{{"index":0,"type":"text","text":{{"value":"{value}"}}}}]}}}}'
    )


def test_a_failure_after_events_is_relayed_as_an_error_then_done() -> None:
    from streamrun import StreamInterrupted

    event = parse_event("thread.message.delta", _delta_json("partial"))
    stream = ListStream([event], error=StreamInterrupted("the connection was lost"))
    data = asyncio.run(collect(to_sse(stream)))
    events = decode(data)
    assert [e.event for e in events] == ["thread.message.delta", "error", "done"]
    assert json.loads(events[1].data) == {
        "message": "the connection was lost",
        "type": "StreamInterrupted",
        "code": None,
        "param": None,
    }
    assert stream.closed


# -- real streams: every fixture transcript ----------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize("name", FIXTURE_NAMES)
async def test_every_fixture_relays_its_events_exactly(
    replay_server: ReplayServer, name: str
) -> None:
    raw = fixture_bytes(name)
    replay_server.replies.append(Reply(body=raw))
    async with client_for(replay_server.base_url, max_retries=0) as client:
        stream = client.runs.stream("thread_1", assistant_id="asst_1")
        data = await collect(stream.to_sse())
    got = relayed_events(data)
    assert got[-1] == ("done", None)
    assert got[:-1] == expected_events(raw)


@pytest.mark.asyncio
@pytest.mark.parametrize("name", FIXTURE_NAMES)
async def test_a_relayed_fixture_reads_back_as_the_same_stream(
    replay_server: ReplayServer, name: str
) -> None:
    """Relayed bytes, served again, give the client the same events and snapshots."""
    raw = fixture_bytes(name)
    replay_server.replies.append(Reply(body=raw))
    async with client_for(replay_server.base_url, max_retries=0) as client:
        data = await collect(client.runs.stream("thread_1", assistant_id="asst_1").to_sse())
        replay_server.replies += [Reply(body=raw), Reply(body=data)]
        runs = []
        for _ in range(2):
            seen: list[Event] = []
            error: str | None = None
            async with client.runs.stream("thread_1", assistant_id="asst_1") as stream:
                try:
                    async for event in stream:
                        seen.append(event)
                except Exception as exc:  # the error event, relayed as one
                    error = str(exc)
                runs.append(
                    (
                        [(e.event, e.raw) for e in seen],
                        error,
                        stream.current_run,
                        stream.current_message_snapshot,
                        stream.current_run_step_snapshot,
                    )
                )
    assert runs[0] == runs[1]


@pytest.mark.asyncio
async def test_ndjson_relay_of_a_real_stream() -> None:
    async with FakeAssistantsServer(
        scenario=scenarios.plain_text(), auto_create_threads=True
    ) as server:
        async with client_for(server.base_url) as client:
            data = await collect(client.runs.stream("thread_1", assistant_id="a").to_ndjson())
    lines = [json.loads(line) for line in data.decode().splitlines()]
    assert lines[-1] == {"event": "done", "data": "[DONE]"}
    assert lines[-2]["event"] == "thread.run.completed"
    text = "".join(
        part["text"]["value"]
        for line in lines
        if line["event"] == "thread.message.delta"
        for part in line["data"]["delta"]["content"]
        if part["type"] == "text"
    )
    assert text == scenarios.PLAIN_TEXT


@pytest.mark.asyncio
async def test_run_stream_methods_are_the_relay_functions() -> None:
    async with FakeAssistantsServer(
        scenario=scenarios.plain_text(), seed=1, auto_create_threads=True
    ) as server:
        async with client_for(server.base_url) as client:
            one = await collect(client.runs.stream("t", assistant_id="a").to_sse())
            two = await collect(to_sse(client.runs.stream("t", assistant_id="a")))
    assert [e.event for e in decode(one)] == [e.event for e in decode(two)]
    assert streamrun.relay.to_sse is to_sse


# -- errors ---------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_server_error_event_is_relayed_then_done() -> None:
    async with FakeAssistantsServer(
        scenario=scenarios.error_event(), auto_create_threads=True
    ) as server:
        async with client_for(server.base_url) as client:
            data = await collect(client.runs.stream("t", assistant_id="a").to_sse())
    events = decode(data)
    assert [e.event for e in events[-2:]] == ["error", "done"]
    error = json.loads(events[-2].data)
    assert error["type"] == "server_error"
    assert error["message"].startswith("The server had an error processing your request")


@pytest.mark.asyncio
async def test_a_cut_connection_is_relayed_as_an_error() -> None:
    async with FakeAssistantsServer(
        scenario=scenarios.plain_text(), auto_create_threads=True
    ) as server:
        server.queue_faults(Faults(drop_after=6))
        async with client_for(server.base_url) as client:
            data = await collect(client.runs.stream("t", assistant_id="a").to_ndjson())
    lines = [json.loads(line) for line in data.decode().splitlines()]
    assert len(lines) == 6 + 2
    assert lines[-2]["event"] == "error"
    assert lines[-2]["data"]["type"] == "StreamInterrupted"
    assert lines[-1] == {"event": "done", "data": "[DONE]"}


@pytest.mark.asyncio
async def test_an_error_reply_is_relayed_and_never_the_key() -> None:
    async with FakeAssistantsServer(api_keys=["sk-right"], auto_create_threads=True) as server:
        async with AsyncClient(api_key="sk-wrong-secret", base_url=server.base_url) as client:
            data = await collect(client.runs.stream("t", assistant_id="a").to_sse())
    events = decode(data)
    assert [e.event for e in events] == ["error", "done"]
    assert json.loads(events[0].data)["type"]
    assert b"sk-wrong-secret" not in data


# -- consumption rules ---------------------------------------------------------------


class Recorder(AsyncEventHandler):
    def __init__(self) -> None:
        super().__init__()
        self.deltas: list[str] = []
        self.events = 0
        self.ends = 0

    async def on_event(self, event: Event) -> None:
        self.events += 1

    async def on_text_delta(self, delta: TextDelta, snapshot: Text) -> None:
        self.deltas.append(delta.value or "")

    async def on_end(self) -> None:
        self.ends += 1


@pytest.mark.asyncio
async def test_a_handler_on_the_stream_hears_every_relayed_event() -> None:
    handler = Recorder()
    async with FakeAssistantsServer(
        scenario=scenarios.plain_text(), auto_create_threads=True
    ) as server:
        async with client_for(server.base_url) as client:
            stream = client.runs.stream("t", assistant_id="a", handler=handler)
            data = await collect(stream.to_sse())
    assert "".join(handler.deltas) == scenarios.PLAIN_TEXT
    assert handler.events == len(decode(data)) - 1  # all but done
    assert handler.ends == 1
    assert stream.done


@pytest.mark.asyncio
async def test_relaying_consumes_the_stream() -> None:
    async with FakeAssistantsServer(
        scenario=scenarios.plain_text(), auto_create_threads=True
    ) as server:
        async with client_for(server.base_url) as client:
            async with client.runs.stream("t", assistant_id="a") as stream:
                data = await collect(stream.to_sse())
                assert decode(data)[-2].event == "thread.run.completed"
                with pytest.raises(StreamConsumedError):
                    async for _ in stream:
                        pass
                # Relaying it again relays that error (nothing is delivered twice).
                again = decode(await collect(stream.to_sse()))
                assert [e.event for e in again] == ["error", "done"]
                assert json.loads(again[0].data)["type"] == "StreamConsumedError"
        assert server.cancel_requests == []


@pytest.mark.asyncio
async def test_the_relay_of_an_unentered_stream_opens_and_closes_it() -> None:
    async with FakeAssistantsServer(
        scenario=scenarios.plain_text(), auto_create_threads=True
    ) as server:
        async with client_for(server.base_url) as client:
            stream = client.runs.stream("t", assistant_id="a")
            body = stream.to_sse()
            assert server.runs_created == 0  # nothing is sent before the first read
            first = await body.__anext__()
            assert first.startswith(b"event: thread.run.created\n")
            rest = await collect(body)
            assert rest.endswith(b"event: done\ndata: [DONE]\n\n")
            assert stream.done
            assert repr(stream).endswith("ended>")
        assert server.runs_created == 1
        assert server.cancel_requests == []


@pytest.mark.asyncio
async def test_a_consumer_that_stops_early_cancels_the_run() -> None:
    async with FakeAssistantsServer(faults=Faults(delay=0.01), auto_create_threads=True) as server:
        server.queue_scenario(Scenario([TextReply(LONG)]))
        async with client_for(server.base_url) as client:
            body = client.runs.stream("t", assistant_id="a").to_sse()
            for _ in range(8):
                await body.__anext__()
            await body.aclose()  # type: ignore[attr-defined]
        assert len(server.cancel_requests) == 1
        run = await server.wait_for_run(server.run_ids()[0])
        assert run["status"] == "cancelled"


@pytest.mark.asyncio
async def test_a_cancelled_relay_task_cancels_the_run_and_leaves_no_task() -> None:
    async with FakeAssistantsServer(faults=Faults(delay=0.01), auto_create_threads=True) as server:
        server.queue_scenario(Scenario([TextReply(LONG)]))
        async with client_for(server.base_url) as client:
            started = asyncio.Event()

            async def consume() -> None:
                async for _ in client.runs.stream("t", assistant_id="a").to_sse():
                    started.set()

            before = running_tasks()
            task = asyncio.ensure_future(consume())
            await started.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert running_tasks() <= before
        assert len(server.cancel_requests) == 1


# -- sse_response (aiohttp.web) ------------------------------------------------------


class Relay:
    """An aiohttp app relaying runs of a fake server, served on 127.0.0.1."""

    def __init__(self, server: FakeAssistantsServer, client: AsyncClient, keepalive: float):
        self.server = server
        self.client = client
        self.keepalive = keepalive
        self.active = 0
        self.finished = asyncio.Event()
        self.url = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.active += 1
        try:
            stream = self.client.runs.stream("thread_1", assistant_id="asst_1")
            return await sse_response(request, stream, keepalive=self.keepalive)
        finally:
            self.active -= 1
            self.finished.set()


async def _serve(relay: Relay) -> web.AppRunner:
    app = web.Application()
    app.router.add_post("/relay", relay.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    relay.url = f"http://127.0.0.1:{runner.addresses[0][1]}/relay"
    return runner


@pytest.mark.asyncio
async def test_sse_response_headers_body_and_keepalive() -> None:
    async with FakeAssistantsServer(auto_create_threads=True) as server:
        server.queue_scenario(Scenario([Pause(0.7), TextReply("after a silence")]))
        async with client_for(server.base_url) as client:
            relay = Relay(server, client, keepalive=0.2)
            runner = await _serve(relay)
            try:
                async with aiohttp.ClientSession() as session:
                    async with session.post(relay.url) as response:
                        body = await response.read()
                        headers = response.headers
            finally:
                await runner.cleanup()
    for key, value in SSE_HEADERS.items():
        assert headers[key] == value
    assert headers["Content-Type"] == "text/event-stream; charset=utf-8"
    assert body.count(b": keepalive\n\n") >= 2
    events = decode(body)
    assert events[-1].event == "done"
    assert events[-2].event == "thread.run.completed"
    text = "".join(
        part["text"]["value"]
        for e in events
        if e.event == "thread.message.delta"
        for part in json.loads(e.data)["delta"]["content"]
    )
    assert text == "after a silence"


@pytest.mark.asyncio
async def test_sse_response_flushes_each_block_as_written() -> None:
    """The first events reach the client while the run is still paused on the server."""
    async with FakeAssistantsServer(auto_create_threads=True) as server:
        server.queue_scenario(Scenario([Pause(3.0), TextReply("late")]))
        async with client_for(server.base_url) as client:
            relay = Relay(server, client, keepalive=15.0)
            runner = await _serve(relay)
            try:
                async with aiohttp.ClientSession() as session:
                    async with session.post(relay.url) as response:
                        decoder = SSEDecoder()
                        names: list[str] = []
                        while "thread.run.in_progress" not in names:
                            chunk = await response.content.readany()
                            assert chunk, "the relay ended early"
                            names += [e.event for e in decoder.feed(chunk)]
                        run = server.get_run(server.run_ids()[0])
                        assert run is not None and run["status"] == "in_progress"
                        assert "thread.message.delta" not in names
                        rest = await response.read()
                assert decode(rest)[-1].event == "done"
            finally:
                await runner.cleanup()


@pytest.mark.asyncio
async def test_sse_response_client_gone_cancels_the_run_and_leaves_nothing_running() -> None:
    async with FakeAssistantsServer(faults=Faults(delay=0.01), auto_create_threads=True) as server:
        server.queue_scenario(Scenario([TextReply(LONG)]))
        async with client_for(server.base_url) as client:
            relay = Relay(server, client, keepalive=15.0)
            runner = await _serve(relay)
            try:
                before = running_tasks()
                async with aiohttp.ClientSession() as session:
                    async with session.post(relay.url) as response:
                        got = b""
                        while got.count(b"thread.message.delta") < 3:
                            got += await response.content.readany()
                        response.close()  # the browser goes away
                await asyncio.wait_for(relay.finished.wait(), 10)
                assert relay.active == 0
                assert len(server.cancel_requests) == 1
                run = await server.wait_for_run(server.run_ids()[0])
                assert run["status"] == "cancelled"
                await asyncio.sleep(0)
                assert running_tasks() <= before
            finally:
                await runner.cleanup()


@pytest.mark.asyncio
async def test_sse_response_while_silent_notices_the_client_is_gone() -> None:
    """A client leaving during a silence (no block to write) also cancels the run."""
    async with FakeAssistantsServer(auto_create_threads=True) as server:
        server.queue_scenario(Scenario([Pause(30.0), TextReply("never")]))
        async with client_for(server.base_url) as client:
            relay = Relay(server, client, keepalive=15.0)
            runner = await _serve(relay)
            try:
                async with aiohttp.ClientSession() as session:
                    async with session.post(relay.url) as response:
                        got = b""
                        while b"thread.run.in_progress" not in got:
                            got += await response.content.readany()
                        response.close()
                await asyncio.wait_for(relay.finished.wait(), 10)
                assert len(server.cancel_requests) == 1
            finally:
                await runner.cleanup()


@pytest.mark.asyncio
async def test_sse_response_refuses_a_bad_keepalive() -> None:
    with pytest.raises(ValueError, match="keepalive"):
        await sse_response(None, None, keepalive=0)  # type: ignore[arg-type]


# -- Starlette / FastAPI ---------------------------------------------------------------


@pytest.mark.asyncio
async def test_to_sse_as_a_fastapi_streaming_response_body() -> None:
    import httpx
    from fastapi import FastAPI
    from fastapi.responses import StreamingResponse

    async with FakeAssistantsServer(
        scenario=scenarios.plain_text(), auto_create_threads=True
    ) as server:
        async with client_for(server.base_url) as client:
            app = FastAPI()

            @app.post("/relay")
            async def relay() -> StreamingResponse:
                stream = client.runs.stream("thread_1", assistant_id="asst_1")
                return StreamingResponse(
                    stream.to_sse(), media_type="text/event-stream", headers=SSE_HEADERS
                )

            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
                response = await http.post("/relay")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    events = decode(response.content)
    assert events[-1].event == "done"
    assert events[-2].event == "thread.run.completed"
    assert server.cancel_requests == []


# -- examples --------------------------------------------------------------------------


def run_example(name: str) -> str:
    """Run ``examples/NAME`` with this checkout's streamrun first on the path."""
    root = Path(__file__).resolve().parent.parent
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, str(root / "examples" / name)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def test_relay_aiohttp_example_runs() -> None:
    out = run_example("relay_aiohttp.py")
    assert scenarios.PLAIN_TEXT in out
    assert "relayed" in out and "ended with done" in out


def test_relay_fastapi_example_runs() -> None:
    out = run_example("relay_fastapi.py")
    assert scenarios.PLAIN_TEXT in out
    assert "ended with done" in out


# -- the key a server echoed never reaches the browser (review B1) ---------------

ECHO_KEY = "sk-proj-" + "A1b2C3d4E5f6G7h8" * 10  # 168 characters, like a project key


def _run_json(status: str, **fields: Any) -> str:
    run = {"id": "run_1", "object": "thread.run", "thread_id": "thread_1"}
    return json.dumps({**run, "assistant_id": "asst_1", "status": status, **fields})


# A proxy passed the key upstream; the run fails echoing it, after a text delta that
# also carries it (plainly and JSON-escaped).
ESCAPED_ECHO_KEY = "".join(f"\\u{ord(c):04x}" for c in ECHO_KEY[:12]) + ECHO_KEY[12:]
ECHO_TRANSCRIPT = (
    f"event: thread.run.created\ndata: {_run_json('queued')}\n\n"
    "event: thread.message.delta\ndata: "
    + _delta_json(f"you sent {ECHO_KEY} and {ESCAPED_ECHO_KEY}")
    + "\n\n"
    "event: thread.run.failed\ndata: "
    + _run_json(
        "failed",
        last_error={
            "code": "invalid_api_key",
            "message": f"Incorrect API key provided: {ECHO_KEY}",
        },
    )
    + "\n\nevent: done\ndata: [DONE]\n\n"
).encode()


def _assert_redacted(data: bytes, delta: str, failure: str) -> None:
    assert ECHO_KEY.encode() not in data
    assert ECHO_KEY[:12].encode() not in data and ECHO_KEY[-40:].encode() not in data
    assert delta == "you sent *** and ***"
    assert failure == "Incorrect API key provided: ***"


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", ["to_sse", "to_ndjson", "RunStream.to_sse"])
async def test_a_key_echoed_by_the_server_is_redacted_in_the_relay(
    replay_server: ReplayServer, kind: str
) -> None:
    replay_server.replies.append(Reply(body=ECHO_TRANSCRIPT))
    async with AsyncClient(api_key=ECHO_KEY, base_url=replay_server.base_url) as client:
        stream = client.runs.stream("thread_1", assistant_id="asst_1")
        if kind == "to_sse":
            data = await collect(to_sse(stream))
        elif kind == "to_ndjson":
            data = await collect(to_ndjson(stream))
        else:
            data = await collect(stream.to_sse())
    if kind == "to_ndjson":
        lines = [json.loads(line) for line in data.decode().splitlines()]
        by_name = {line["event"]: line["data"] for line in lines}
    else:
        by_name = {e.event: json.loads(e.data) for e in decode(data) if e.event != "done"}
    delta = by_name["thread.message.delta"]["delta"]["content"][0]["text"]["value"]
    _assert_redacted(data, delta, by_name["thread.run.failed"]["last_error"]["message"])


@pytest.mark.asyncio
async def test_a_key_echoed_by_the_server_is_redacted_in_sse_response(
    replay_server: ReplayServer,
) -> None:
    replay_server.replies.append(Reply(body=ECHO_TRANSCRIPT))
    async with AsyncClient(api_key=ECHO_KEY, base_url=replay_server.base_url) as client:

        async def handle(request: web.Request) -> web.StreamResponse:
            return await sse_response(request, client.runs.stream("t", assistant_id="a"))

        async with serve(handle) as origin, aiohttp.ClientSession() as session:
            async with session.post(f"{origin}/relay") as response:
                data = await response.read()
    by_name = {e.event: json.loads(e.data) for e in decode(data) if e.event != "done"}
    delta = by_name["thread.message.delta"]["delta"]["content"][0]["text"]["value"]
    _assert_redacted(data, delta, by_name["thread.run.failed"]["last_error"]["message"])


def test_a_relay_redacts_with_the_function_given() -> None:
    event = UnknownEvent(event="x", data={"note": "secret-value"}, raw={"note": "secret-value"})

    def redact(text: str) -> str:
        return text.replace("secret-value", "***")

    sse_data = asyncio.run(collect(to_sse(ListStream([event]), redact=redact)))
    assert json.loads(decode(sse_data)[0].data) == {"note": "***"}
    lines = asyncio.run(collect(to_ndjson(ListStream([event]), redact=redact)))
    assert json.loads(lines.split(b"\n")[0]) == {"event": "x", "data": {"note": "***"}}


# -- events mapped from the Responses API (review B9) ---------------------------------


def test_events_mapped_from_the_responses_api_relay_data_of_the_shape_their_name_promises() -> None:
    from streamrun._responses_events import parse_responses_event
    from streamrun._responses_map import ResponsesMapper

    raw = (FIXTURES / "responses" / "15_hello_world_gpt-4o-mini.sse").read_bytes()
    mapper = ResponsesMapper()
    events: list[Any] = []
    for sse in decode(raw):
        events.extend(mapper.feed(parse_responses_event(sse.event, sse.data)))
    known = [e for e in events if not isinstance(e, UnknownEvent)]
    unknown = [e for e in events if isinstance(e, UnknownEvent)]
    assert known and unknown
    # A mapped run/step/message event relays run-stream JSON that parses back to
    # its own data; an event with no counterpart relays its Responses JSON.
    for event in known:
        assert parse_event(event.event, json.dumps(wire_json(event))).data == event.data
    for event in unknown:
        assert wire_json(event) == event.raw.raw
        assert wire_json(event)["type"] == event.event
    data = asyncio.run(collect(to_sse(ListStream(events))))
    relayed = decode(data)
    assert [e.event for e in relayed] == [e.event for e in events] + ["done"]
    assert [json.loads(e.data) for e in relayed[:-1]] == [wire_json(e) for e in events]
    lines = asyncio.run(collect(to_ndjson(ListStream(events))))
    assert [json.loads(line)["data"] for line in lines.splitlines()[:-1]] == [
        wire_json(e) for e in events
    ]


RESPONSES_FIXTURES = sorted(
    p for p in (FIXTURES / "responses").glob("*.sse") if "error" not in p.name
)


@pytest.mark.asyncio
@pytest.mark.parametrize("path", RESPONSES_FIXTURES, ids=lambda p: p.name)
@pytest.mark.parametrize("form", ["sse", "ndjson"])
async def test_a_relayed_response_stream_rehydrates_to_the_same_events(
    path: Path, form: str
) -> None:
    from streamrun import ResponseStream

    raw = fixture_bytes(path.relative_to(FIXTURES).as_posix())
    async with ResponseStream.from_bytes([raw]) as original:
        events = [event async for event in original]
        messages = await original.final_messages()
        steps = await original.final_run_steps()
        run = await original.final_run()
    async with ResponseStream.from_bytes([raw]) as stream:
        body = await collect(stream.to_sse() if form == "sse" else stream.to_ndjson())

    async def source() -> AsyncIterator[bytes]:
        yield body

    rehydrate = streamrun.relay.from_sse if form == "sse" else streamrun.relay.from_ndjson
    async with rehydrate(source()) as back:
        again = [event async for event in back]
        assert [e.event for e in again] == [e.event for e in events]
        for mine, theirs in zip(events, again, strict=True):
            if not isinstance(mine, UnknownEvent):
                assert theirs.data == mine.data, mine.event
        assert await back.final_messages() == messages
        assert await back.final_run_steps() == steps
        assert await back.final_run() == run
        assert run.status in ("completed", "requires_action", "incomplete")


def test_wire_json_of_a_typed_event_without_its_source_is_its_fields() -> None:
    from streamrun._responses_events import ResponseOutputTextDeltaEvent

    typed = ResponseOutputTextDeltaEvent(item_id="msg_1", delta="hi")
    value = wire_json(UnknownEvent(event="x", data=None, raw=typed))
    assert value["delta"] == "hi" and value["item_id"] == "msg_1"
    assert json.loads(_json.dumps(value)) == value
