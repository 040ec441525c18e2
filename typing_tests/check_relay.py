"""Typing tests for ``streamrun.relay``: checked by ``mypy --strict typing_tests`` (never run)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from aiohttp import web
from typing_extensions import assert_type

from streamrun import AsyncEventHandler, Message, RunStream
from streamrun.relay import (
    SSE_HEADERS,
    error_data,
    from_ndjson,
    from_sse,
    sse_block,
    sse_response,
    to_ndjson,
    to_sse,
)


async def relay(request: web.Request, stream: RunStream) -> web.StreamResponse:
    assert_type(stream.to_sse(), AsyncIterator[bytes])
    assert_type(stream.to_ndjson(), AsyncIterator[bytes])
    assert_type(to_sse(stream), AsyncIterator[bytes])
    assert_type(to_ndjson(stream), AsyncIterator[bytes])
    assert_type(sse_block("thread.run.created", "{}"), bytes)
    assert_type(error_data(ValueError("x")), dict[str, Any])
    assert_type(SSE_HEADERS["Cache-Control"], str)
    response = await sse_response(request, stream, keepalive=5.0)
    assert_type(response, web.StreamResponse)
    return response


async def read_back(response: aiohttp.ClientResponse, chunks: AsyncIterator[bytes]) -> None:
    stream = from_sse(response, handler=AsyncEventHandler())
    assert_type(stream, RunStream)
    assert_type(from_ndjson(chunks), RunStream)
    async with stream:
        async for text in stream.text_deltas:
            assert_type(text, str)
        assert_type(await stream.final_messages(), list[Message])
