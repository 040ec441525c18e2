"""Fault injection of the fake Assistants server."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from streamrun.testing import (
    FakeAssistantsServer,
    FakeServerError,
    Faults,
    Scenario,
    TextReply,
    scenarios,
)

AUTH = {"Authorization": "Bearer test-key"}
SHORT = Scenario([TextReply("One two three four.", chunks=["One", " two", " three", " four."])])
# created queued in_progress step.created step.in_progress msg.created msg.in_progress
# 4 deltas, msg.completed step.completed run.completed done
SHORT_EVENTS = 15


def parse_blocks(body: bytes) -> list[tuple[str, str]]:
    out = []
    for block in body.decode("utf-8").split("\n\n"):
        if block:
            name, data = block.split("\n")
            out.append((name[7:], data[6:]))
    return out


@pytest_asyncio.fixture
async def server() -> AsyncIterator[FakeAssistantsServer]:
    async with FakeAssistantsServer(scenario=SHORT, auto_create_threads=True) as srv:
        yield srv


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers=AUTH) as session:
        yield session


def run_url(server: FakeAssistantsServer, thread: str = "thread_f") -> str:
    return f"{server.base_url}/threads/{thread}/runs"


BODY = {"assistant_id": "asst_f", "stream": True}


async def read_chunks(resp: aiohttp.ClientResponse) -> list[bytes]:
    chunks: list[bytes] = []
    current = b""
    async for data, end_of_chunk in resp.content.iter_chunks():
        current += data
        if end_of_chunk:
            chunks.append(current)
            current = b""
    if current:
        chunks.append(current)
    return chunks


@pytest.mark.asyncio
async def test_fixed_chunking(server: FakeAssistantsServer, http: aiohttp.ClientSession) -> None:
    server.faults = Faults(chunk_size=7)
    async with http.post(run_url(server), json=BODY) as resp:
        chunks = await read_chunks(resp)
    assert len(chunks) > 50
    assert all(1 <= len(c) <= 7 for c in chunks)
    events = parse_blocks(b"".join(chunks))
    assert len(events) == SHORT_EVENTS and events[-1] == ("done", "[DONE]")


@pytest.mark.asyncio
async def test_random_chunking_is_seeded(
    server: FakeAssistantsServer, http: aiohttp.ClientSession
) -> None:
    sizes: list[list[int]] = []
    for thread in ("thread_r1", "thread_r2"):
        server.queue_faults(Faults(split_seed=123, chunk_size=40))
        async with http.post(run_url(server, thread), json=BODY) as resp:
            chunks = await read_chunks(resp)
        assert len(parse_blocks(b"".join(chunks))) == SHORT_EVENTS
        sizes.append([len(c) for c in chunks])
    assert all(1 <= n <= 40 for n in sizes[0]) and len(set(sizes[0])) > 5
    # Same seed, same split points (bodies differ only after the first pieces).
    assert sizes[0][:10] == sizes[1][:10]


@pytest.mark.asyncio
async def test_delay_between_events(
    server: FakeAssistantsServer, http: aiohttp.ClientSession
) -> None:
    server.queue_faults(Faults(delay=0.02))
    started = time.monotonic()
    async with http.post(run_url(server), json=BODY) as resp:
        events = parse_blocks(await resp.read())
    assert len(events) == SHORT_EVENTS
    assert time.monotonic() - started >= 0.02 * (SHORT_EVENTS - 2)


@pytest.mark.asyncio
async def test_drop_after_n_events_then_run_finishes_on_server(
    server: FakeAssistantsServer, http: aiohttp.ClientSession
) -> None:
    server.queue_faults(Faults(drop_after=9, chunk_size=50))
    received = b""
    async with http.post(run_url(server), json=BODY) as resp:
        with pytest.raises(aiohttp.ClientPayloadError):
            async for data in resp.content.iter_any():
                received += data
    events = parse_blocks(received)
    assert len(events) == 9
    assert all(name != "done" for name, _ in events)
    run_id = json.loads(events[0][1])["id"]
    await server.wait_for_run(run_id)
    async with http.get(f"{server.base_url}/threads/thread_f/runs/{run_id}") as resp:
        run = await resp.json()
    assert run["status"] == "completed"
    async with http.get(
        f"{server.base_url}/threads/thread_f/messages", params={"run_id": run_id}
    ) as resp:
        messages = (await resp.json())["data"]
    assert messages[0]["status"] == "completed"
    assert messages[0]["content"][0]["text"]["value"] == "One two three four."


@pytest.mark.asyncio
async def test_drop_before_any_event(
    server: FakeAssistantsServer, http: aiohttp.ClientSession
) -> None:
    server.queue_faults(Faults(drop_after=0))
    async with http.post(run_url(server), json=BODY) as resp:
        assert resp.status == 200
        with pytest.raises(aiohttp.ClientPayloadError):
            await resp.read()
    assert server.runs_created == 1
    run_id = server.run_ids()[0]
    assert (await server.wait_for_run(run_id))["status"] == "completed"


@pytest.mark.asyncio
async def test_stall_keeps_connection_open(
    server: FakeAssistantsServer, http: aiohttp.ClientSession
) -> None:
    server.queue_faults(Faults(stall_after=3, stall_seconds=0.3))
    arrivals: list[float] = []
    buffer = b""
    async with http.post(run_url(server), json=BODY) as resp:
        async for data in resp.content.iter_any():
            buffer += data
            while b"\n\n" in buffer:
                _, buffer = buffer.split(b"\n\n", 1)
                arrivals.append(time.monotonic())
    assert len(arrivals) == SHORT_EVENTS
    assert arrivals[3] - arrivals[2] >= 0.28
    assert arrivals[2] - arrivals[0] < 0.2

    # A client with an idle timeout gives up; the run still finishes on the server.
    server.queue_faults(Faults(stall_after=2, stall_seconds=5))
    timeout = aiohttp.ClientTimeout(sock_read=0.1)
    async with http.post(run_url(server, "thread_g"), json=BODY, timeout=timeout) as resp:
        with pytest.raises(asyncio.TimeoutError):
            await resp.read()
    run_id = server.run_ids()[-1]
    assert (await server.wait_for_run(run_id))["status"] == "completed"


@pytest.mark.asyncio
@pytest.mark.parametrize("status", [429, 500, 503])
async def test_http_errors_with_retry_after_then_success(
    status: int, server: FakeAssistantsServer, http: aiohttp.ClientSession
) -> None:
    server.queue_faults(Faults(error_status=status, error_count=2, retry_after=2))
    for _ in range(2):
        async with http.post(run_url(server), json=BODY) as resp:
            assert resp.status == status
            assert resp.headers["Retry-After"] == "2"
            assert resp.headers["x-request-id"].startswith("req_")
            body = await resp.json()
        assert list(body["error"]) == ["message", "type", "param", "code"]
        if status == 429:
            assert body["error"]["code"] == "rate_limit_exceeded"
        else:
            assert body["error"]["type"] == "server_error"
    assert server.runs_created == 0
    async with http.post(run_url(server), json=BODY) as resp:
        assert resp.status == 200
        assert parse_blocks(await resp.read())[-1][0] == "done"
    assert server.runs_created == 1
    assert server.count("POST", "/threads/{id}/runs") == 3
    assert len(server.run_ids()) == 1


@pytest.mark.asyncio
async def test_server_wide_faults_and_endpoint_filter(
    server: FakeAssistantsServer, http: aiohttp.ClientSession
) -> None:
    server.faults = Faults(error_status=500, error_count=1, endpoints={"get_run"})
    async with http.post(run_url(server), json=BODY) as resp:
        run_id = parse_blocks(await resp.read())
    rid = json.loads(run_id[0][1])["id"]
    url = f"{server.base_url}/threads/thread_f/runs/{rid}"
    async with http.get(url) as resp:
        assert resp.status == 500
    async with http.get(url) as resp:
        assert resp.status == 200
    server.faults = Faults(error_status=503)  # counter restarts
    async with http.post(run_url(server, "thread_h"), json=BODY) as resp:
        assert resp.status == 503
        assert "Retry-After" not in resp.headers


@pytest.mark.asyncio
async def test_malformed_event(server: FakeAssistantsServer, http: aiohttp.ClientSession) -> None:
    server.queue_faults(Faults(malformed_at=8))
    async with http.post(run_url(server), json=BODY) as resp:
        events = parse_blocks(await resp.read())
    assert len(events) == SHORT_EVENTS
    name, data = events[8]
    assert name == "thread.message.delta"
    with pytest.raises(ValueError):
        json.loads(data)
    for i, (_, other) in enumerate(events[:-1]):
        if i != 8:
            json.loads(other)


@pytest.mark.asyncio
async def test_oversized_event(server: FakeAssistantsServer, http: aiohttp.ClientSession) -> None:
    server.queue_faults(Faults(oversized_at=7, oversized_bytes=70_000))
    async with http.post(run_url(server), json=BODY) as resp:
        raw = await resp.read()
    blocks = [b + b"\n\n" for b in raw.split(b"\n\n") if b]
    assert len(blocks) == SHORT_EVENTS
    assert len(blocks[7]) == 70_000
    assert all(len(b) < 5_000 for i, b in enumerate(blocks) if i != 7)
    name, data = parse_blocks(blocks[7])[0]
    assert name == "thread.message.delta"
    delta = json.loads(data)
    assert delta["delta"]["content"][0]["text"]["value"] == "One"


@pytest.mark.asyncio
async def test_faults_from_header(
    server: FakeAssistantsServer, http: aiohttp.ClientSession
) -> None:
    headers = {"x-fake-faults": json.dumps({"error_status": 429, "retry_after": 0.5})}
    async with http.post(run_url(server), json=BODY, headers=headers) as resp:
        assert resp.status == 429
        assert resp.headers["Retry-After"] == "0.5"
        assert resp.headers["retry-after-ms"] == "500"
    async with http.post(run_url(server), json=BODY, headers=headers) as resp:
        assert resp.status == 200  # the same header value errs error_count times only
        await resp.read()
    headers = {"x-fake-faults": json.dumps({"drop_after": 4})}
    async with http.post(run_url(server, "thread_x2"), json=BODY, headers=headers) as resp:
        with pytest.raises(aiohttp.ClientPayloadError):
            await resp.read()
    async with http.post(
        run_url(server, "thread_x3"), json=BODY, headers={"x-fake-faults": '{"nope": 1}'}
    ) as resp:
        assert resp.status == 400
        assert "nope" in (await resp.json())["error"]["message"]


def test_faults_spec_checks() -> None:
    assert Faults.from_json('{"drop_after": 3, "endpoints": ["get_run"]}') == Faults(
        drop_after=3, endpoints=frozenset({"get_run"})
    )
    for bad in ("[1]", "{", '{"delay": -1}', '{"error_status": 200}', '{"unknown": 1}'):
        with pytest.raises(FakeServerError):
            Faults.from_json(bad)


@pytest.mark.asyncio
async def test_faults_on_submit_tool_outputs(http: aiohttp.ClientSession) -> None:
    async with FakeAssistantsServer(
        scenario=scenarios.function_call(), auto_create_threads=True
    ) as server:
        async with http.post(run_url(server), json=BODY) as resp:
            events = parse_blocks(await resp.read())
        run: dict[str, Any] = json.loads(events[-2][1])
        call_id = run["required_action"]["submit_tool_outputs"]["tool_calls"][0]["id"]
        server.queue_faults(Faults(drop_after=3))
        url = f"{server.base_url}/threads/thread_f/runs/{run['id']}/submit_tool_outputs"
        body = {"tool_outputs": [{"tool_call_id": call_id, "output": "ok"}], "stream": True}
        async with http.post(url, json=body) as resp:
            with pytest.raises(aiohttp.ClientPayloadError):
                await resp.read()
        final = await server.wait_for_run(run["id"])
        assert final["status"] == "completed"
        texts = [m["content"][0]["text"]["value"] for m in server.thread_messages("thread_f")]
        assert texts == [scenarios.WEATHER_ANSWER]
