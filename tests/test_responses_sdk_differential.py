"""Differential test: the official SDK and streamrun on every recorded Responses stream.

Each fixture of ``tests/fixtures/responses`` (copies of the shared recordings,
see their ``SOURCES.md``) is served byte for byte by a real aiohttp server on
127.0.0.1, in small and large chunks, to two clients: the official ``openai``
package's ``client.responses.stream(...)`` and streamrun's
``client.responses.stream(...)``. Both must end with the text and the function
calls (name, arguments, call id) and the status the fixture's own terminal
``response`` object holds; streamrun's accumulated messages must hold the same
text.

Where the SDK cannot read a fixture, its failure is pinned (the exception and
its message) so that a change on either side fails the test, and streamrun is
still checked against the fixture's own values: a resumed stream
(``10_background_resume…``: no ``response.created``) and the hand-edited
``edited_parallel_function_calls`` (call ids that change between events). A
stream that fails in-stream (``20_error_insufficient_quota…``: an ``error``
event) makes both raise their error type with the server's message.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import openai
import pytest

from streamrun import AsyncClient, ResponseFunctionCall, StreamError

from .conftest import FIXTURES, ReplayServer, Reply

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning")

RESPONSES = FIXTURES / "responses"
FILES = sorted(RESPONSES.glob("*.sse"))
BODIES = {path.name: path.read_bytes() for path in FILES}
CHUNK_SIZES = [7, 4096]

Calls = list[tuple[str, str, str]]

# What the SDK (openai-python 3.57) raises on the fixtures it cannot read.
SDK_CANNOT_READ: dict[str, tuple[type[Exception], str]] = {
    # A resumed stream starts at sequence_number 1 (response.queued): the SDK's
    # accumulator requires response.created first.
    "10_background_resume_GET_starting_after.sse": (
        RuntimeError,
        "Expected to have received `response.created` before `response.queued`",
    ),
    # The test authors edited the call ids: output_item.done names another
    # call_id than output_item.added, and the SDK checks the item's identity.
    "edited_parallel_function_calls.sse": (
        RuntimeError,
        "Completed output item identity changed.",
    ),
}
# Streams that fail in-stream: an ``error`` event, then ``response.failed``.
FAILS_IN_STREAM = {"20_error_insufficient_quota_gpt-5.sse"}


def test_every_fixture_is_covered() -> None:
    assert len(FILES) == 14
    names = {p.name for p in FILES}
    assert set(SDK_CANNOT_READ) <= names
    assert names >= FAILS_IN_STREAM


def expected(path: Path) -> dict[str, Any]:
    """The fixture's own values: its terminal response object's text, calls and status."""
    final: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    for line in BODIES[path.name].decode().splitlines():
        if not line.startswith("data:"):
            continue
        data = json.loads(line[5:])
        if data.get("type") == "error":
            error = data.get("error", data)
        if isinstance(data.get("response"), dict):
            final = data["response"]
    assert final is not None
    text = "".join(
        part["text"]
        for item in final["output"]
        if item["type"] == "message"
        for part in item["content"]
        if part["type"] == "output_text"
    )
    calls = [
        (item["name"], item["arguments"], item["call_id"])
        for item in final["output"]
        if item["type"] == "function_call"
    ]
    return {"text": text, "calls": calls, "status": final["status"], "error": error}


async def sdk_result(server: ReplayServer) -> tuple[str, Calls, str | None]:
    async with openai.AsyncOpenAI(base_url=server.base_url, api_key="sk-x", max_retries=0) as c:
        async with c.responses.stream(model="gpt-4o", input="x") as stream:
            async for _ in stream:
                pass
            final = await stream.get_final_response()
    calls = [
        (item.name, item.arguments, item.call_id)
        for item in final.output
        if item.type == "function_call"
    ]
    return final.output_text, calls, final.status


async def streamrun_result(server: ReplayServer) -> tuple[str, Calls, str | None, str]:
    """streamrun's response: text, calls and status; and its accumulated messages' text."""
    async with AsyncClient(base_url=server.base_url, api_key="sk-x", max_retries=0) as client:
        async with client.responses.stream(model="gpt-4o", input="x") as stream:
            await stream.until_done()
        messages = await stream.final_messages()
        response = stream.response
    assert response is not None
    calls = [
        (item.name, item.arguments, item.call_id)
        for item in response.output
        if isinstance(item, ResponseFunctionCall)
    ]
    accumulated = "".join(m.text for m in messages)
    return response.output_text, calls, response.status, accumulated


@pytest.mark.asyncio
@pytest.mark.parametrize("chunk_size", CHUNK_SIZES)
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
async def test_the_sdk_and_streamrun_agree_on_every_fixture(
    path: Path, chunk_size: int, replay_server: ReplayServer
) -> None:
    body, want = BODIES[path.name], expected(path)

    if path.name in FAILS_IN_STREAM:
        assert want["error"] is not None
        replay_server.replies.append(Reply(body=body, chunk_size=chunk_size))
        with pytest.raises(openai.APIError) as sdk_error:
            await sdk_result(replay_server)
        replay_server.replies.append(Reply(body=body, chunk_size=chunk_size))
        with pytest.raises(StreamError) as ours:
            await streamrun_result(replay_server)
        assert sdk_error.value.message == ours.value.message == want["error"]["message"]
        assert ours.value.code == want["error"]["code"] == "insufficient_quota"
        assert want["status"] == "failed"
        return

    replay_server.replies.append(Reply(body=body, chunk_size=chunk_size))
    text, calls, status, accumulated = await streamrun_result(replay_server)
    assert (text, calls, status) == (want["text"], want["calls"], want["status"])
    assert accumulated == want["text"]
    assert want["text"] or want["calls"]  # every fixture answers something

    replay_server.replies.append(Reply(body=body, chunk_size=chunk_size))
    if path.name in SDK_CANNOT_READ:
        error, message = SDK_CANNOT_READ[path.name]
        with pytest.raises(error, match=re.escape(message)):
            await sdk_result(replay_server)
        return
    assert await sdk_result(replay_server) == (text, calls, status)
