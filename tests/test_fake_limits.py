"""The fake server as a well-behaved network service (issue 9 §6) and the lost-reply gateway (§5).

Every fault parameter is capped, the request log and request bodies are
bounded, slow clients are cut off by header and body timeouts, and a fault
can create a run and then answer 504.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from streamrun._json import MAX_DEPTH
from streamrun.testing import (
    FAULT_LIMITS,
    FakeAssistantsServer,
    FakeServerError,
    Faults,
    FunctionCalls,
    Scenario,
    ServerLimits,
    TextReply,
    ToolOutput,
    fake_reply,
    scenarios,
)

from .test_fake_server import assert_official_error

AUTH = {"Authorization": "Bearer test-key"}
BODY = {"assistant_id": "asst_limits", "stream": True}


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers=AUTH) as session:
        yield session


# -- fault caps -----------------------------------------------------------


@pytest.mark.parametrize("name", sorted(FAULT_LIMITS))
def test_every_numeric_fault_is_capped(name: str) -> None:
    cap = FAULT_LIMITS[name]
    over: float = cap * 2 if isinstance(cap, float) else int(cap) + 1
    with pytest.raises(FakeServerError, match=rf"Faults\.{name} .*limit"):
        Faults.from_json({name: over})
    at_cap: float = cap if isinstance(cap, float) else int(cap)
    assert getattr(Faults.from_json({name: at_cap}), name) == at_cap


def test_every_numeric_fault_field_has_a_cap() -> None:
    numeric = {
        a.name
        for a in Faults.__attrs_attrs__
        if a.name not in ("error_status", "error_after_create", "endpoints")
    }
    assert numeric == set(FAULT_LIMITS)


@pytest.mark.parametrize("value", ["1e999", "NaN", '"10"', "true", "[1]"])
def test_non_numbers_and_infinities_are_refused(value: str) -> None:
    with pytest.raises(FakeServerError):
        Faults.from_json(f'{{"oversized_bytes": {value}}}')


@pytest.mark.asyncio
async def test_oversized_header_fault_is_a_400_and_allocates_nothing(
    http: aiohttp.ClientSession,
) -> None:
    async with FakeAssistantsServer(auto_create_threads=True) as server:
        spec = json.dumps({"oversized_at": 3, "oversized_bytes": 1_500_000_000})
        url = f"{server.base_url}/threads/thread_big/runs"
        async with http.post(url, json=BODY, headers={"x-fake-faults": spec}) as resp:
            assert resp.status == 400
            error = (await resp.json())["error"]
        assert "oversized_bytes" in error["message"]
        assert "limit" in error["message"]
        assert server.runs_created == 0
        # Within the cap the fault still works.
        spec = json.dumps({"oversized_at": 3, "oversized_bytes": 2 * 1024 * 1024})
        async with http.post(url, json=BODY, headers={"x-fake-faults": spec}) as resp:
            assert resp.status == 200
            raw = await resp.read()
        assert len(raw) > 2 * 1024 * 1024


@pytest.mark.asyncio
async def test_long_delay_and_stall_over_the_cap_are_refused(
    http: aiohttp.ClientSession,
) -> None:
    async with FakeAssistantsServer(auto_create_threads=True) as server:
        url = f"{server.base_url}/threads/thread_slow/runs"
        for spec in ({"delay": 3600}, {"stall_after": 1, "stall_seconds": 86400}):
            headers = {"x-fake-faults": json.dumps(spec)}
            async with http.post(url, json=BODY, headers=headers) as resp:
                assert resp.status == 400
                assert "limit" in (await resp.json())["error"]["message"]


@pytest.mark.asyncio
async def test_distinct_error_fault_headers_do_not_grow_memory(
    http: aiohttp.ClientSession,
) -> None:
    async with FakeAssistantsServer(auto_create_threads=True) as server:
        url = f"{server.base_url}/threads/thread_e/runs"
        for i in range(300):
            spec = json.dumps({"error_status": 500, "error_count": 1, "split_seed": i})
            async with http.post(url, json=BODY, headers={"x-fake-faults": spec}) as resp:
                assert resp.status == 500
        assert len(server._header_fault_uses) <= 256  # the use counts are bounded


# -- request body and request log -----------------------------------------


@pytest.mark.asyncio
async def test_request_body_over_the_limit_is_a_413(http: aiohttp.ClientSession) -> None:
    limits = ServerLimits(max_body_bytes=64 * 1024)
    async with FakeAssistantsServer(auto_create_threads=True, limits=limits) as server:
        url = f"{server.base_url}/threads/thread_b/runs"
        big = {**BODY, "instructions": "x" * (65 * 1024)}
        async with http.post(url, json=big) as resp:
            assert resp.status == 413
            error = (await resp.json())["error"]
        assert "65536" in error["message"] and "max_body_bytes" in error["message"]
        assert server.runs_created == 0

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: chunked
            yield b'{"assistant_id": "a", "instructions": "'
            for _ in range(80):
                yield b"y" * 1024
            yield b'"}'

        async with http.post(
            url, data=chunks(), headers={"Content-Type": "application/json"}
        ) as resp:
            assert resp.status == 413
        async with http.post(url, json=BODY) as resp:  # the server still serves
            assert resp.status == 200
            await resp.read()


@pytest.mark.asyncio
async def test_request_log_is_bounded_by_count(http: aiohttp.ClientSession) -> None:
    limits = ServerLimits(max_logged_requests=5)
    async with FakeAssistantsServer(limits=limits) as server:
        thread = server.create_thread("thread_log")
        for i in range(12):
            async with http.get(f"{server.base_url}/threads/{thread}?i={i}") as resp:
                assert resp.status == 200
        assert len(server.requests) == 5
        assert [r.query["i"] for r in server.requests] == [[str(i)] for i in range(7, 12)]
        assert server.requests_dropped == 7


@pytest.mark.asyncio
async def test_request_log_is_bounded_by_bytes(http: aiohttp.ClientSession) -> None:
    limits = ServerLimits(max_log_bytes=200_000, max_body_bytes=100_000)
    async with FakeAssistantsServer(limits=limits) as server:
        thread = server.create_thread("thread_bytes")
        url = f"{server.base_url}/threads/{thread}/messages"
        for i in range(10):
            body = {"role": "user", "content": f"{i}:" + "z" * 60_000}
            async with http.post(url, json=body) as resp:
                assert resp.status == 200
        kept = server.requests
        assert 1 <= len(kept) <= 3
        assert sum(len(r.raw_body) for r in kept) <= 200_000
        assert kept[-1].body["content"].startswith("9:")
        assert server.requests_dropped == 10 - len(kept)
        # the state itself (messages) is not the log: all ten are there
        assert len(server.thread_messages(thread)) == 10


# -- hostile bodies ----------------------------------------------------------

# Every endpoint that reads a JSON body, with a path that reaches the parse.
BODY_ENDPOINTS = [
    "/threads/runs",
    "/threads",
    "/threads/thread_h/runs",
    "/threads/thread_h/runs/run_h/submit_tool_outputs",
    "/threads/thread_h/messages",
    "/assistants",
    "/responses",
    "/conversations",
]


def _deep(levels: int) -> bytes:
    return b'{"metadata":' + b"[" * levels + b"]" * levels + b"}"


def _no_tracebacks(records: list[logging.LogRecord]) -> None:
    bad = [r for r in records if r.levelno >= logging.ERROR or r.exc_info]
    assert not bad, [r.getMessage() for r in bad]


@pytest.mark.asyncio
@pytest.mark.parametrize("levels", [MAX_DEPTH + 1, 3000, 100_000])
async def test_deeply_nested_bodies_are_a_400_on_every_endpoint(
    levels: int, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    headers = {"Content-Type": "application/json", "OpenAI-Beta": "assistants=v2"}
    async with FakeAssistantsServer(auto_create_threads=True) as server:
        server.create_thread("thread_h")
        for path in BODY_ENDPOINTS:
            url = server.base_url + path
            async with http.post(url, data=_deep(levels), headers=headers) as resp:
                assert resp.status == 400, path
                body = await resp.json()
            assert_official_error(body)
            assert body["error"]["type"] == "invalid_request_error"
            assert f"deeper than {MAX_DEPTH} levels" in body["error"]["message"], path
        # The request log keeps the bytes, with no value.
        assert server.requests[-1].body is None
        assert len(server.requests[-1].raw_body) == len(_deep(levels))
        assert server.runs_created == 0
        async with http.post(f"{server.base_url}/threads/thread_h/runs", json=BODY) as resp:
            assert resp.status == 200  # the server still serves
            await resp.read()
    _no_tracebacks(caplog.records)


@pytest.mark.asyncio
async def test_nesting_up_to_the_limit_is_parsed_then_validated(
    http: aiohttp.ClientSession,
) -> None:
    async with FakeAssistantsServer(auto_create_threads=True) as server:
        url = f"{server.base_url}/threads/thread_h/runs"
        # {"assistant_id": ..., "metadata": [[...]]}: MAX_DEPTH levels in all.
        inner = MAX_DEPTH - 1
        body = b'{"assistant_id":"a","metadata":' + b"[" * inner + b"]" * inner + b"}"
        async with http.post(url, data=body, headers={"Content-Type": "application/json"}) as r:
            assert r.status == 400
            error = await r.json()
        assert_official_error(error, param="metadata")  # the validator's answer, not the parser's
        assert server.requests[-1].body is not None


@pytest.mark.asyncio
@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
async def test_a_body_that_does_not_decode_is_a_400_and_the_connection_closes(
    encoding: str, http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with FakeAssistantsServer(auto_create_threads=True) as server:
        for path in BODY_ENDPOINTS:
            headers = {"Content-Type": "application/json", "Content-Encoding": encoding}
            url = server.base_url + path
            async with http.post(url, data=b"garbage-not-compressed", headers=headers) as resp:
                assert resp.status == 400, path
                assert resp.headers.get("Connection", "").lower() == "close"
                assert resp.headers["x-request-id"]
                body = await resp.json()
            assert_official_error(body)
            assert "could not read the body of your request" in body["error"]["message"]
            assert encoding in body["error"]["message"]
        # A real compressed body is still read.
        gz = gzip.compress(json.dumps(BODY).encode())
        headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
        async with http.post(
            f"{server.base_url}/threads/thread_h/runs", data=gz, headers=headers
        ) as resp:
            assert resp.status == 200
            await resp.read()
        assert server.runs_created == 1
    _no_tracebacks(caplog.records)


@pytest.mark.asyncio
async def test_a_deeply_nested_fault_header_is_a_400(
    http: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with FakeAssistantsServer(auto_create_threads=True) as server:
        url = f"{server.base_url}/threads/thread_h/runs"
        header = "[" * 4000 + "]" * 4000  # just inside aiohttp's 8190-byte header line
        async with http.post(url, json=BODY, headers={"x-fake-faults": header}) as resp:
            assert resp.status == 400
            error = await resp.json()
        assert_official_error(error)
        assert "x-fake-faults" in error["error"]["message"]
        assert "nested deeper" in error["error"]["message"]
    _no_tracebacks(caplog.records)
    with pytest.raises(FakeServerError, match="nested deeper"):
        Faults.from_json("[" * 100_000 + "]" * 100_000)


def test_the_fake_assistant_reads_a_deep_tool_output_as_text() -> None:
    scenario = fake_reply("what's the weather in Oslo?")
    calls = scenario.steps[-1]
    assert isinstance(calls, FunctionCalls)
    assert calls.then is not None and not isinstance(calls.then, Scenario)
    deep = "[" * 100_000 + "]" * 100_000
    answer = calls.then([ToolOutput("call_1", deep)])
    assert isinstance(answer, Scenario)
    (reply,) = answer.steps
    assert isinstance(reply, TextReply)
    assert reply.text.startswith("The weather service answered: [[[")


# -- slow clients -----------------------------------------------------------


async def _open(server: FakeAssistantsServer) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", server.port)


@pytest.mark.asyncio
async def test_slow_headers_are_cut_off_while_others_are_served(
    http: aiohttp.ClientSession,
) -> None:
    limits = ServerLimits(header_timeout=0.5)
    async with FakeAssistantsServer(limits=limits) as server:
        thread = server.create_thread("thread_slow_headers")
        head = (
            f"GET /v1/threads/{thread} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            "Authorization: Bearer k\r\nX-Padding: " + "a" * 40 + "\r\n\r\n"
        ).encode()
        slow = [await _open(server) for _ in range(20)]
        idle = [await _open(server) for _ in range(5)]  # connect, send nothing
        for _, writer in slow:
            writer.write(head[:10])
            await writer.drain()

        async def dribble(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
            # One byte every 0.1 s: the head would take seconds; the server
            # must close the connection before it is complete.
            try:
                for i in range(10, len(head)):
                    writer.write(head[i : i + 1])
                    await writer.drain()
                    await asyncio.sleep(0.1)
            except ConnectionError:
                pass
            try:
                return await reader.read()
            except ConnectionError:  # reset: closed as well
                return b""

        tasks = [asyncio.create_task(dribble(r, w)) for r, w in slow]
        # Meanwhile a well-behaved client is answered, repeatedly.
        for _ in range(5):
            async with http.get(f"{server.base_url}/threads/{thread}") as resp:
                assert resp.status == 200
            await asyncio.sleep(0.05)
        answers = await asyncio.wait_for(asyncio.gather(*tasks), 30)
        assert answers == [b""] * len(slow)  # closed with no response
        for reader, _ in idle:
            assert await asyncio.wait_for(reader.read(), 10) == b""
        for _, writer in slow + idle:
            writer.close()
        assert server.slow_connections_closed >= len(slow) + len(idle)
        # The slow requests never reached the application.
        assert all(r.headers.get("x-padding") is None for r in server.requests)


@pytest.mark.asyncio
async def test_header_timer_restarts_for_each_request_on_a_kept_alive_connection() -> None:
    limits = ServerLimits(header_timeout=0.5)
    async with FakeAssistantsServer(limits=limits) as server:
        thread = server.create_thread("thread_keepalive")
        reader, writer = await _open(server)
        head = (
            f"GET /v1/threads/{thread} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n\r\n"
        ).encode()
        for _ in range(3):  # quick requests on one connection: all served
            writer.write(head)
            await writer.drain()
            status = await asyncio.wait_for(reader.readline(), 5)
            assert status.startswith(b"HTTP/1.1 200")
            length = 0
            while (line := await reader.readline()) != b"\r\n":
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            await asyncio.sleep(0.3)  # shorter than the timeout between requests
        writer.close()
        assert server.slow_connections_closed == 0


@pytest.mark.asyncio
async def test_slow_body_gets_a_408_and_the_connection_closes() -> None:
    limits = ServerLimits(body_timeout=0.5)
    async with FakeAssistantsServer(auto_create_threads=True, limits=limits) as server:
        reader, writer = await _open(server)
        writer.write(
            b"POST /v1/threads/thread_x/runs HTTP/1.1\r\nHost: x\r\n"
            b"Authorization: Bearer k\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000\r\n\r\n{"
        )
        await writer.drain()
        reply = await asyncio.wait_for(reader.read(), 10)  # read to EOF: closed
        writer.close()
        assert reply.startswith(b"HTTP/1.1 408")
        assert b"did not arrive within 0.5 seconds" in reply
        assert server.runs_created == 0


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError):
        ServerLimits(max_body_bytes=0)
    with pytest.raises(ValueError):
        ServerLimits(header_timeout=0)


# -- the lost-reply gateway (issue 9 §5) ------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize("status", [502, 504])
async def test_gateway_creates_the_run_then_answers_an_error(
    http: aiohttp.ClientSession, status: int
) -> None:
    async with FakeAssistantsServer(auto_create_threads=True) as server:
        server.queue_faults(Faults(error_status=status, error_after_create=True))
        url = f"{server.base_url}/threads/thread_gw/runs"
        async with http.post(url, json=BODY) as resp:
            assert resp.status == status
            body: dict[str, Any] = await resp.json()
        assert body["error"]["type"] == "server_error"
        assert server.runs_created == 1
        (run_id,) = server.run_ids()
        final = await server.wait_for_run(run_id)
        assert final["status"] == "completed"  # the run went on upstream
        # The run is visible to a client that checks before resending.
        async with http.get(f"{server.base_url}/threads/thread_gw/runs") as resp:
            listing = await resp.json()
        assert [r["id"] for r in listing["data"]] == [run_id]
        # A blind retry creates a second run: what client tests must detect.
        async with http.post(url, json=BODY) as resp:
            assert resp.status == 200
            await resp.read()
        assert server.runs_created == 2


@pytest.mark.asyncio
async def test_lost_reply_from_the_header_on_create_thread_and_run(
    http: aiohttp.ClientSession,
) -> None:
    async with FakeAssistantsServer() as server:
        spec = json.dumps({"error_status": 504, "error_after_create": True})
        async with http.post(
            f"{server.base_url}/threads/runs", json=BODY, headers={"x-fake-faults": spec}
        ) as resp:
            assert resp.status == 504
        assert server.runs_created == 1


@pytest.mark.asyncio
async def test_lost_reply_on_submit_tool_outputs(http: aiohttp.ClientSession) -> None:
    async with FakeAssistantsServer(
        scenario=scenarios.function_call(), auto_create_threads=True
    ) as server:
        async with http.post(f"{server.base_url}/threads/thread_s/runs", json=BODY) as resp:
            await resp.read()
        (run_id,) = server.run_ids()
        run = await server.wait_for_run(run_id)
        call = run["required_action"]["submit_tool_outputs"]["tool_calls"][0]["id"]
        server.queue_faults(Faults(error_status=504, error_after_create=True))
        url = f"{server.base_url}/threads/thread_s/runs/{run_id}/submit_tool_outputs"
        outputs = {"tool_outputs": [{"tool_call_id": call, "output": "{}"}], "stream": True}
        async with http.post(url, json=outputs) as resp:
            assert resp.status == 504
        assert (await server.wait_for_run(run_id))["status"] == "completed"
        async with http.post(url, json=outputs) as resp:  # the retry is refused
            assert resp.status == 400


def test_error_after_create_must_be_a_bool() -> None:
    with pytest.raises(FakeServerError):
        Faults.from_json('{"error_status": 504, "error_after_create": "yes"}')


@pytest.mark.asyncio
async def test_a_long_response_is_not_cut_by_the_header_timeout(
    http: aiohttp.ClientSession,
) -> None:
    limits = ServerLimits(header_timeout=0.2)
    async with FakeAssistantsServer(auto_create_threads=True, limits=limits) as server:
        server.queue_faults(Faults(delay=0.05))  # about a second of streaming
        url = f"{server.base_url}/threads/thread_long/runs"
        async with http.post(url, json=BODY) as resp:
            raw = await resp.read()
        assert raw.endswith(b"data: [DONE]\n\n")
        assert server.slow_connections_closed == 0
