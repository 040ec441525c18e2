"""A tests-local Responses API server on 127.0.0.1, driven by ResponsePlayer scenarios.

``POST /v1/responses`` plays a scenario as a response (the first request plays
``scenario``; a request whose ``previous_response_id`` / ``conversation``
answers a response waiting on function calls plays that step's ``then``);
``GET /v1/responses/{id}`` answers the response as JSON, or with
``stream=true&starting_after=N`` the events after ``N``; ``POST
/v1/responses/{id}/cancel`` cancels a background response (its live stream,
waiting in a ``Pause``, ends with ``response.cancelled``). Every request is
recorded. ``cut_post`` cuts the first POST's body after that many bytes
(a dropped connection); ``cut_gets`` cuts the resumed streams likewise.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import AsyncIterator
from typing import Any

import attrs
from aiohttp import web

from streamrun.testing._responses_engine import ResponseEvent, ResponsePlayer, Wait
from streamrun.testing._scenarios import FunctionCalls, Scenario, ToolOutput

from .conftest import serve


def frame(event: ResponseEvent) -> bytes:
    """One event on the wire, as the API frames it."""
    return f"event: {event.type}\ndata: {json.dumps(event.data)}\n\n".encode()


def new_response(response_id: str, body: dict[str, Any]) -> dict[str, Any]:
    response: dict[str, Any] = {
        "id": response_id,
        "object": "response",
        "created_at": 1700000000,
        "status": "queued",
        "background": body.get("background") is True,
        "model": body.get("model", "gpt-test"),
        "output": [],
        "parallel_tool_calls": True,
        "previous_response_id": body.get("previous_response_id"),
        "tool_choice": "auto",
        "tools": body.get("tools") or [],
        "error": None,
        "incomplete_details": None,
        "instructions": body.get("instructions"),
        "metadata": {},
        "usage": None,
    }
    conversation = body.get("conversation")
    if conversation is not None:
        response["conversation"] = {"id": conversation}
    return response


@attrs.define
class Played:
    """One response the server played."""

    player: ResponsePlayer
    events: list[ResponseEvent] = attrs.field(factory=list)
    cancelled: asyncio.Event = attrs.field(factory=asyncio.Event)
    done: bool = False


@attrs.define
class ResponsesServer:
    scenario: Scenario
    cut_post: int | None = None
    cut_gets: list[int] = attrs.field(factory=list)
    stall_post: int | None = None  # like cut_post, but the connection stays open, silent
    chunk_size: int = 64
    requests: list[dict[str, Any]] = attrs.field(factory=list)
    played: dict[str, Played] = attrs.field(factory=dict)
    # response (or conversation) id -> the calls it waits on, and their call ids
    waiting: dict[str, tuple[FunctionCalls, list[str]]] = attrs.field(factory=dict)
    base_url: str = ""
    closing: asyncio.Event = attrs.field(factory=asyncio.Event)
    _ids: Any = attrs.field(factory=lambda: itertools.count(1))

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._ids)}"

    async def handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        body = json.loads(raw) if raw else None
        self.requests.append(
            {
                "method": request.method,
                "path": request.path,
                "query": dict(request.query),
                "body": body,
                "headers": dict(request.headers),
            }
        )
        parts = request.path.strip("/").split("/")  # v1 responses [id [cancel]]
        if request.method == "POST" and parts == ["v1", "responses"]:
            return await self._create(request, body or {})
        if len(parts) == 3 and request.method == "GET":
            played = self.played[parts[2]]
            if request.query.get("stream") == "true":
                after = int(request.query["starting_after"])
                events = [e for e in played.events if e.data["sequence_number"] > after]
                cut = self.cut_gets.pop(0) if self.cut_gets else None
                return await self._write(request, played, events, cut)
            return web.json_response(played.player.response)
        if len(parts) == 4 and parts[3] == "cancel":
            played = self.played[parts[2]]
            if not played.player.response.get("background"):
                return web.json_response(
                    {"error": {"message": "Only background responses can be cancelled."}},
                    status=400,
                )
            played.cancelled.set()
            return web.json_response({**played.player.response, "status": "cancelled"})
        return web.json_response({"error": {"message": "not found"}}, status=404)

    def _scenario_for(self, body: dict[str, Any]) -> Scenario:
        previous = body.get("previous_response_id") or body.get("conversation")
        waiting = self.waiting.pop(previous, None) if previous else None
        if waiting is None:
            return self.scenario
        step, call_ids = waiting
        outputs = [
            ToolOutput(tool_call_id=item["call_id"], output=item["output"])
            for item in body["input"]
            if item.get("type") == "function_call_output"
        ]
        assert [o.tool_call_id for o in outputs] == call_ids, "answer every call, in order"
        then = step.then
        if then is None:
            return Scenario(steps=())
        if isinstance(then, Scenario):
            return then
        return then(outputs)

    async def _create(self, request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        scenario = self._scenario_for(body)
        response_id = self.new_id("resp")
        player = ResponsePlayer(
            scenario, response=new_response(response_id, body), new_id=self.new_id
        )
        played = self.played[response_id] = Played(player)
        if not body.get("stream"):
            for item in player.play():
                if not isinstance(item, Wait):
                    played.events.append(item)
            return web.json_response(player.response)
        cut, self.cut_post = self.cut_post, None
        stall, self.stall_post = self.stall_post, None
        return await self._write(request, played, None, cut, body.get("conversation"), stall=stall)

    async def _live(self, played: Played, key: str | None) -> AsyncIterator[ResponseEvent]:
        player = played.player
        for item in player.play():
            if isinstance(item, Wait):
                waits = [
                    asyncio.ensure_future(played.cancelled.wait()),
                    asyncio.ensure_future(self.closing.wait()),
                ]
                await asyncio.wait(waits, timeout=item.seconds, return_when="FIRST_COMPLETED")
                for task in waits:
                    task.cancel()
                if self.closing.is_set():
                    return
                if not played.cancelled.is_set():
                    continue
                event = player.cancel()
                played.events.append(event)
                yield event
                return
            played.events.append(item)
            yield item
        if player.pending is not None:
            output = player.response["output"]
            call_ids = [i["call_id"] for i in output if i["type"] == "function_call"]
            self.waiting[key or player.response["id"]] = (player.pending, call_ids)

    async def _write(
        self,
        request: web.Request,
        played: Played,
        events: list[ResponseEvent] | None,
        cut: int | None,
        key: str | None = None,
        *,
        stall: int | None = None,
    ) -> web.StreamResponse:
        response = web.StreamResponse(status=200)
        response.content_type = "text/event-stream"
        await response.prepare(request)
        sent = 0
        source: Any = self._live(played, key) if events is None else _aiter(events)
        async for event in source:
            data = frame(event)
            if stall is not None and sent + len(data) > stall:
                await response.write(data[: stall - sent])
                async for _ in source:  # the response goes on on the server
                    pass
                # Silent, the connection open, until the client gives up (or the end).
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self.closing.wait(), timeout=30.0)
                return response
            if cut is not None and sent + len(data) > cut:
                await response.write(data[: cut - sent])
                await asyncio.sleep(0.01)
                assert request.transport is not None
                request.transport.close()
                async for _ in source:  # the response goes on on the server
                    pass
                return response
            for start in range(0, len(data), self.chunk_size):
                await response.write(data[start : start + self.chunk_size])
            sent += len(data)
        await response.write_eof()
        return response


async def _aiter(events: list[ResponseEvent]) -> AsyncIterator[ResponseEvent]:
    for event in events:
        yield event


class running:
    """``async with running(server) as srv``: the server on 127.0.0.1 (``srv.base_url``)."""

    def __init__(self, server: ResponsesServer) -> None:
        self.server = server
        self._cm = serve(server.handle)

    async def __aenter__(self) -> ResponsesServer:
        origin = await self._cm.__aenter__()
        self.server.base_url = origin + "/v1"
        return self.server

    async def __aexit__(self, *exc: Any) -> None:
        self.server.closing.set()  # streams waiting in a Pause end now
        await self._cm.__aexit__(*exc)
