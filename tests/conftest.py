"""Shared test helpers: the fixture transcripts and a tiny replay server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import types
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aioresponses.core
import attrs
import pytest
import pytest_asyncio
from aiohttp import ClientResponse, web


class _CompatClientResponse(ClientResponse):
    """aioresponses 0.7.9 builds responses without the ``stream_writer`` argument
    that aiohttp >= 3.12 requires; supply an inert one."""

    def __init__(self, *args: Any, stream_writer: Any = None, **kwargs: Any) -> None:
        if stream_writer is None:
            stream_writer = types.SimpleNamespace(output_size=0)
        super().__init__(*args, stream_writer=stream_writer, **kwargs)


if "stream_writer" in inspect.signature(ClientResponse.__init__).parameters:
    aioresponses.core.ClientResponse = _CompatClientResponse  # type: ignore[attr-defined]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@contextlib.asynccontextmanager
async def serve(handler: Handler) -> AsyncIterator[str]:
    """A real aiohttp server on 127.0.0.1 (its own port: its own origin) answering every
    method and path with ``handler``; yields its origin (``http://127.0.0.1:PORT``)."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


# Copies of the recorded transcripts of the protocol reference (exact bytes).
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def fixture_bytes(name: str) -> bytes:
    """The exact bytes of a recorded transcript."""
    return (FIXTURES / name).read_bytes()


def manifest() -> list[dict[str, Any]]:
    """The transcripts' manifest entries."""
    data = json.loads((FIXTURES / "manifest.json").read_text())
    streams: list[dict[str, Any]] = data["streams"]
    return streams


def event_names(raw: bytes) -> list[str]:
    """The event names of a transcript, in order (simple framing: LF, one data line)."""
    names = []
    for block in raw.decode().split("\n\n"):
        for line in block.split("\n"):
            if line.startswith("event: "):
                names.append(line[len("event: ") :])
    return names


@attrs.define
class Reply:
    """What the replay server sends for one request."""

    body: bytes = b""
    status: int = 200
    content_type: str = "text/event-stream; charset=utf-8"
    headers: dict[str, str] = attrs.field(factory=dict)
    chunk_size: int = 7
    delay: float = 0.0
    stall_after: int | None = None  # bytes sent before stalling for `stall`
    stall: float = 0.0
    close_after: int | None = None  # bytes sent before closing the connection abruptly


@attrs.define
class ReplayServer:
    """A real aiohttp server on 127.0.0.1 answering POST/GET with queued replies."""

    replies: list[Reply] = attrs.field(factory=list)
    requests: list[dict[str, Any]] = attrs.field(factory=list)
    base_url: str = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        self.requests.append(
            {
                "method": request.method,
                "path": request.path,
                "query": list(request.query.items()),
                "headers": dict(request.headers),
                "body": json.loads(body) if body else None,
            }
        )
        reply = self.replies.pop(0) if self.replies else Reply(status=500, body=b"{}")
        if reply.status != 200 or not reply.content_type.startswith("text/event-stream"):
            return web.Response(
                status=reply.status,
                body=reply.body,
                content_type=reply.content_type.split(";")[0],
                headers=reply.headers,
            )
        response = web.StreamResponse(status=200, headers=reply.headers)
        response.content_type = "text/event-stream"
        response.charset = "utf-8"
        await response.prepare(request)
        sent = 0
        data = reply.body
        while sent < len(data):
            if reply.close_after is not None and sent >= reply.close_after:
                assert request.transport is not None
                request.transport.close()
                return response
            if reply.stall_after is not None and sent >= reply.stall_after:
                await asyncio.sleep(reply.stall)
                reply.stall_after = None
            end = min(sent + reply.chunk_size, len(data))
            if reply.close_after is not None:
                end = min(end, max(reply.close_after, sent + 1))
            await response.write(data[sent:end])
            sent = end
            if reply.delay:
                await asyncio.sleep(reply.delay)
        await response.write_eof()
        return response


@pytest_asyncio.fixture
async def replay_server() -> AsyncIterator[ReplayServer]:
    """A replay server; queue ``Reply`` objects on ``.replies``."""
    server = ReplayServer()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", server.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    server.base_url = f"http://127.0.0.1:{port}/v1"
    try:
        yield server
    finally:
        await runner.cleanup()


@pytest.fixture
def fixture_names() -> Callable[[], list[str]]:
    return lambda: [entry["file"] for entry in manifest()]
