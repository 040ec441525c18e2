"""Recorded transcripts served by the fake Assistants server."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from streamrun.testing import (
    FakeAssistantsServer,
    FakeServerError,
    Faults,
    Recording,
    load_manifest,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures"
AUTH = {"Authorization": "Bearer test-key"}
MANIFEST = load_manifest(FIXTURES)


@pytest_asyncio.fixture
async def server() -> AsyncIterator[FakeAssistantsServer]:
    async with FakeAssistantsServer(auto_create_threads=True) as srv:
        yield srv


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers=AUTH) as session:
        yield session


def request_for(server: FakeAssistantsServer, rec: Recording) -> tuple[str, dict[str, Any]]:
    req = rec.request
    if rec.endpoint == "create_run":
        return f"{server.base_url}/threads/{req['thread_id']}/runs", {
            "assistant_id": req["assistant_id"],
            "stream": True,
        }
    if rec.endpoint == "create_thread_and_run":
        return f"{server.base_url}/threads/runs", {
            "assistant_id": req["assistant_id"],
            "stream": True,
        }
    url = f"{server.base_url}/threads/{req['thread_id']}/runs/{req['run_id']}/submit_tool_outputs"
    return url, {"tool_outputs": req["tool_outputs"], "stream": True}


def test_manifest_maps_recordings_to_endpoints() -> None:
    assert len(MANIFEST) == 8
    endpoints = {name: rec.endpoint for name, rec in MANIFEST.items()}
    assert endpoints["plain_text"] == "create_run"
    assert endpoints["thread_and_run"] == "create_thread_and_run"
    assert endpoints["submit_tool_outputs_continuation"] == "submit_tool_outputs"
    rec = MANIFEST["plain_text"]
    assert rec.data == (FIXTURES / "plain_text.sse").read_bytes()
    assert b"".join(e.raw for e in rec.events()) == rec.data
    assert len(rec.events()) == 111
    assert "bytes" in repr(rec) and "Photosynthesis" not in repr(rec)


def test_manifest_errors(tmp_path: Path) -> None:
    with pytest.raises(FakeServerError):
        load_manifest(tmp_path)
    (tmp_path / "manifest.json").write_text('{"streams": [{"file": "x.sse", "bytes": 3}]}')
    (tmp_path / "x.sse").write_bytes(b"event: done\ndata: [DONE]\n\n")
    with pytest.raises(FakeServerError):
        load_manifest(tmp_path)
    with pytest.raises(FakeServerError):
        Recording(b"", endpoint="get_run")


@pytest.mark.asyncio
@pytest.mark.parametrize("name", sorted(MANIFEST))
async def test_each_recording_is_served_byte_exact(
    name: str, server: FakeAssistantsServer, http: aiohttp.ClientSession
) -> None:
    rec = MANIFEST[name]
    server.add_recording(rec)
    url, body = request_for(server, rec)
    async with http.post(url, json=body) as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"] == "text/event-stream; charset=utf-8"
        raw = await resp.read()
    assert raw == (FIXTURES / f"{name}.sse").read_bytes()


@pytest.mark.asyncio
async def test_recorded_tool_call_round_trip_updates_state(
    server: FakeAssistantsServer, http: aiohttp.ClientSession
) -> None:
    first = MANIFEST["function_requires_action"]
    server.add_recording(first)
    server.add_recording(FIXTURES / "submit_tool_outputs_continuation.sse", "submit_tool_outputs")
    url, body = request_for(server, first)
    async with http.post(url, json=body) as resp:
        assert await resp.read() == first.data
    run_id = first.request["run_id"]
    thread_id = first.request["thread_id"]
    run_url = f"{server.base_url}/threads/{thread_id}/runs/{run_id}"
    async with http.get(run_url) as resp:
        run = await resp.json()
    assert run["status"] == "requires_action"
    # The recorded run holds its thread.
    async with http.post(
        f"{server.base_url}/threads/{thread_id}/runs", json={"assistant_id": "a"}
    ) as resp:
        assert resp.status == 400
    cont = MANIFEST["submit_tool_outputs_continuation"]
    url, body = request_for(server, cont)
    async with http.post(url, json=body) as resp:
        assert await resp.read() == cont.data
    async with http.get(run_url) as resp:
        assert (await resp.json())["status"] == "completed"
    async with http.get(f"{server.base_url}/threads/{thread_id}/messages") as resp:
        messages = (await resp.json())["data"]
    assert messages[0]["content"][0]["text"]["value"].startswith("It's 18 °C in Paris")
    assert server.runs_created == 1


@pytest.mark.asyncio
async def test_recorded_error_event_leaves_run_failed(
    server: FakeAssistantsServer, http: aiohttp.ClientSession
) -> None:
    rec = MANIFEST["error_event"]
    server.add_recording(rec)
    url, body = request_for(server, rec)
    async with http.post(url, json=body) as resp:
        await resp.read()
    run = server.get_run(rec.request["run_id"])
    assert run is not None and run["status"] == "failed"


@pytest.mark.asyncio
async def test_faults_apply_to_recordings(
    server: FakeAssistantsServer, http: aiohttp.ClientSession
) -> None:
    rec = MANIFEST["thread_and_run"]
    server.add_recording(rec)
    server.queue_faults(Faults(chunk_size=13))
    url, body = request_for(server, rec)
    chunks: list[bytes] = []
    async with http.post(url, json=body) as resp:
        async for data, _ in resp.content.iter_chunks():
            chunks.append(data)
    raw = b"".join(chunks)
    assert raw == rec.data and len(chunks) > 100

    server.add_recording(rec)
    server.queue_faults(Faults(drop_after=5))
    received = b""
    async with http.post(url, json=body) as resp:
        with pytest.raises(aiohttp.ClientPayloadError):
            async for data in resp.content.iter_any():
                received += data
    assert received == b"".join(e.raw for e in rec.events()[:5])

    server.add_recording(rec)
    server.queue_faults(Faults(malformed_at=1))
    async with http.post(url, json=body) as resp:
        raw = await resp.read()
    second = raw.split(b"\n\n")[1]
    assert second.startswith(b"event: thread.run.created\ndata: {")
    with pytest.raises(ValueError):
        json.loads(second.split(b"\ndata: ", 1)[1])


@pytest.mark.asyncio
async def test_named_recordings_and_bytes_sources(
    server: FakeAssistantsServer, http: aiohttp.ClientSession
) -> None:
    server.register_recording("fail", FIXTURES / "run_failed.sse")
    assert server.recording_names == ["fail"]
    url = f"{server.base_url}/threads/thread_any/runs"
    body = {"assistant_id": "a", "stream": True}
    async with http.post(url, json=body, headers={"x-fake-recording": "fail"}) as resp:
        assert await resp.read() == (FIXTURES / "run_failed.sse").read_bytes()
    async with http.post(url, json=body, headers={"x-fake-recording": "other"}) as resp:
        assert resp.status == 400
    transcript = b"event: thread.run.created\ndata: {}\n\nevent: done\ndata: [DONE]\n\n"
    server.add_recording(transcript)
    async with http.post(f"{server.base_url}/threads/thread_b/runs", json=body) as resp:
        assert await resp.read() == transcript
    # Non-streaming requests do not consume recordings.
    server.add_recording(transcript)
    async with http.post(
        f"{server.base_url}/threads/thread_c/runs", json={"assistant_id": "a"}
    ) as resp:
        assert (await resp.json())["object"] == "thread.run"
    async with http.post(f"{server.base_url}/threads/thread_d/runs", json=body) as resp:
        assert await resp.read() == transcript
