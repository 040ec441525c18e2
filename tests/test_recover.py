"""Recovering a run: retrieving, polling with backoff, listing its messages page by page."""

from __future__ import annotations

import types
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, cast

import attrs
import pytest
import pytest_asyncio
from aiohttp import web

import streamrun
from streamrun import AsyncClient, _recover
from streamrun._recover import fetch_run_messages, recover_run, retrieve_run
from streamrun._transport import Transport
from streamrun.testing import FakeAssistantsServer, scenarios


def run_json(status: str, run_id: str = "run_1") -> dict[str, Any]:
    return {"id": run_id, "object": "thread.run", "thread_id": "thread_1", "status": status}


def message_json(message_id: str, text: str, role: str = "assistant") -> dict[str, Any]:
    return {
        "id": message_id,
        "object": "thread.message",
        "thread_id": "thread_1",
        "run_id": "run_1",
        "status": "completed",
        "role": role,
        "content": [{"type": "text", "text": {"value": text, "annotations": []}}],
    }


@attrs.define
class RunAPI:
    """A tiny run API on 127.0.0.1: queued run states and pages of messages."""

    statuses: list[str] = attrs.field(factory=list)  # one per GET of the run; last repeats
    pages: list[dict[str, Any]] = attrs.field(factory=list)  # one per GET of the messages
    requests: list[tuple[str, str, list[tuple[str, str]]]] = attrs.field(factory=list)
    base_url: str = ""

    async def get_run(self, request: web.Request) -> web.Response:
        self.requests.append(("GET", request.path, list(request.query.items())))
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        return web.json_response(run_json(status, request.match_info["run_id"]))

    async def list_messages(self, request: web.Request) -> web.Response:
        self.requests.append(("GET", request.path, list(request.query.items())))
        page = self.pages.pop(0) if self.pages else {"object": "list", "data": []}
        return web.json_response(page)


@pytest_asyncio.fixture
async def run_api() -> AsyncIterator[RunAPI]:
    api = RunAPI()
    app = web.Application()
    app.router.add_get("/v1/threads/{thread_id}/runs/{run_id}", api.get_run)
    app.router.add_get("/v1/threads/{thread_id}/messages", api.list_messages)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    api.base_url = f"http://127.0.0.1:{port}/v1"
    try:
        yield api
    finally:
        await runner.cleanup()


@pytest_asyncio.fixture
async def transport(run_api: RunAPI) -> AsyncIterator[Transport]:
    transport = Transport(api_key="k", base_url=run_api.base_url, max_retries=0)
    try:
        yield transport
    finally:
        await transport.aclose()


def page(messages: list[dict[str, Any]], *, has_more: bool) -> dict[str, Any]:
    return {
        "object": "list",
        "data": messages,
        "first_id": messages[0]["id"] if messages else None,
        "last_id": messages[-1]["id"] if messages else None,
        "has_more": has_more,
    }


# -- messages, page by page ------------------------------------------------------------


@pytest.mark.asyncio
async def test_messages_of_two_pages_are_fetched_in_order(
    run_api: RunAPI, transport: Transport
) -> None:
    run_api.pages = [
        page([message_json("msg_1", "one"), message_json("msg_2", "two")], has_more=True),
        page([message_json("msg_3", "three")], has_more=False),
    ]
    messages = await fetch_run_messages(transport, "thread_1", "run_1")
    assert [m.id for m in messages] == ["msg_1", "msg_2", "msg_3"]
    assert [m.text for m in messages] == ["one", "two", "three"]
    assert len(run_api.requests) == 2
    (_, path1, query1), (_, path2, query2) = run_api.requests
    assert path1 == path2 == "/v1/threads/thread_1/messages"
    assert dict(query1) == {"run_id": "run_1", "order": "asc", "limit": "100"}
    # The second page starts after the last message of the first.
    assert dict(query2) == {"run_id": "run_1", "order": "asc", "limit": "100", "after": "msg_2"}


@pytest.mark.asyncio
async def test_an_empty_page_ends_the_listing_even_if_it_claims_more(
    run_api: RunAPI, transport: Transport
) -> None:
    run_api.pages = [
        page([message_json("msg_1", "one")], has_more=True),
        page([], has_more=True),
        page([message_json("msg_9", "never")], has_more=False),
    ]
    messages = await fetch_run_messages(transport, "thread_1", "run_1")
    assert [m.id for m in messages] == ["msg_1"]
    assert len(run_api.requests) == 2


@pytest.mark.asyncio
async def test_retrieve_run_gets_the_run(run_api: RunAPI, transport: Transport) -> None:
    run_api.statuses = ["in_progress"]
    run = await retrieve_run(transport, "thread_1", "run_7")
    assert isinstance(run, streamrun.Run)
    assert (run.id, run.status) == ("run_7", "in_progress")
    assert run_api.requests == [("GET", "/v1/threads/thread_1/runs/run_7", [])]


# -- polling ------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_recover_polls_until_the_run_settles_then_lists_messages(
    run_api: RunAPI, transport: Transport
) -> None:
    run_api.statuses = ["queued", "in_progress", "completed"]
    run_api.pages = [page([message_json("msg_1", "the answer")], has_more=False)]
    recovered = await recover_run(
        transport, "thread_1", "run_1", timeout=5.0, poll_interval=0.01, max_poll_interval=0.02
    )
    assert recovered.run.status == "completed"
    assert [m.id for m in recovered.messages] == ["msg_1"]
    assert recovered.text == "the answer"
    paths = [path for _, path, _ in run_api.requests]
    assert paths == [
        "/v1/threads/thread_1/runs/run_1",
        "/v1/threads/thread_1/runs/run_1",
        "/v1/threads/thread_1/runs/run_1",
        "/v1/threads/thread_1/messages",
    ]


@pytest.mark.asyncio
async def test_a_run_that_never_settles_is_a_total_timeout(
    run_api: RunAPI, transport: Transport
) -> None:
    run_api.statuses = ["in_progress"]
    with pytest.raises(streamrun.StreamTimeout) as info:
        await recover_run(transport, "thread_1", "run_1", timeout=0.3, poll_interval=0.05)
    error = info.value
    assert error.kind == "total"
    assert error.run_id == "run_1"
    assert error.seconds == 0.3
    assert "in_progress" in str(error)
    # Polled more than once, and no message listing for an unsettled run.
    paths = [path for _, path, _ in run_api.requests]
    assert len(paths) >= 2
    assert set(paths) == {"/v1/threads/thread_1/runs/run_1"}


@pytest.mark.asyncio
async def test_a_status_echoing_the_key_is_redacted_in_the_timeout(run_api: RunAPI) -> None:
    key = "sk-proj-" + "A1b2C3d4E5f6G7h8" * 10
    run_api.statuses = [f"queued {key}"]
    transport = Transport(api_key=key, base_url=run_api.base_url, max_retries=0)
    try:
        with pytest.raises(streamrun.StreamTimeout) as info:
            await recover_run(transport, "thread_1", "run_1", timeout=0.3, poll_interval=0.05)
    finally:
        await transport.aclose()
    assert str(info.value).startswith("run run_1 still 'queued ***': ")
    assert key[:8] not in str(info.value)


class ScriptedTransport:
    """Answers ``request_json`` from a script of run statuses (no I/O)."""

    def __init__(self, statuses: list[str]) -> None:
        self.statuses = statuses
        self.calls: list[str] = []

    async def request_json(self, method: str, path: str, **kwargs: Any) -> Any:
        self.calls.append(path)
        if path.endswith("/messages"):
            return {"object": "list", "data": [], "has_more": False}
        return run_json(self.statuses.pop(0))


def recording_sleep(delays: list[float]) -> Callable[[float], Awaitable[None]]:
    async def sleep(delay: float) -> None:
        delays.append(delay)

    return sleep


@pytest.mark.asyncio
@pytest.mark.parametrize("settled", sorted(_recover.SETTLED_STATUSES))
async def test_poll_interval_doubles_up_to_the_maximum(
    monkeypatch: pytest.MonkeyPatch, settled: str
) -> None:
    delays: list[float] = []
    monkeypatch.setattr(_recover, "asyncio", types.SimpleNamespace(sleep=recording_sleep(delays)))
    statuses = ["queued", "in_progress", "in_progress", "cancelling", "in_progress", "queued"]
    script = ScriptedTransport([*statuses, settled])
    recovered = await recover_run(
        cast(Transport, script),
        "thread_1",
        "run_1",
        timeout=600.0,
        poll_interval=0.25,
        max_poll_interval=1.5,
    )
    assert recovered.run.status == settled
    assert delays == [0.25, 0.5, 1.0, 1.5, 1.5, 1.5]
    assert len(script.calls) == 8  # 7 polls, then the messages


@pytest.mark.asyncio
async def test_the_last_wait_is_cut_to_the_time_left(monkeypatch: pytest.MonkeyPatch) -> None:
    delays: list[float] = []
    monkeypatch.setattr(_recover, "asyncio", types.SimpleNamespace(sleep=recording_sleep(delays)))
    script = ScriptedTransport(["in_progress", "completed"])
    await recover_run(cast(Transport, script), "thread_1", "run_1", timeout=2.0, poll_interval=30.0)
    assert len(delays) == 1
    assert 0 < delays[0] <= 2.0


# -- the public client methods against the fake server ---------------------------------


@pytest.mark.asyncio
async def test_retrieve_cancel_and_recover_a_run_waiting_for_tool_outputs() -> None:
    async with FakeAssistantsServer(
        auto_create_threads=True, scenario=scenarios.function_call()
    ) as server:
        async with AsyncClient(api_key="k", base_url=server.base_url) as client:
            async with client.runs.stream("thread_1", assistant_id="asst_1") as stream:
                await stream.until_done()
            run_id = stream.run_id
            assert run_id is not None

            run = await client.runs.retrieve("thread_1", run_id)
            assert run.id == run_id
            assert run.status == "requires_action"
            assert run.required_action is not None
            calls = run.required_action.submit_tool_outputs.tool_calls
            assert [c.function.name for c in calls] == ["get_current_weather"]

            # requires_action is settled: recover returns at once.
            recovered = await client.runs.recover("thread_1", run_id, timeout=2.0)
            assert recovered.run.status == "requires_action"
            assert recovered.run.id == run_id

            cancelled = await client.runs.cancel("thread_1", run_id)
            assert cancelled.id == run_id
            assert cancelled.status == "cancelling"
            assert len(server.cancel_requests) == 1
            final = await server.wait_for_run(run_id)
            assert final["status"] == "cancelled"
            assert (await client.runs.retrieve("thread_1", run_id)).status == "cancelled"
            recovered = await client.runs.recover("thread_1", run_id, timeout=2.0)
            assert recovered.run.status == "cancelled"


@pytest.mark.asyncio
async def test_list_messages_and_recover_a_completed_run() -> None:
    async with FakeAssistantsServer(
        auto_create_threads=True, scenario=scenarios.plain_text()
    ) as server:
        async with AsyncClient(api_key="k", base_url=server.base_url) as client:
            async with client.runs.stream("thread_1", assistant_id="asst_1") as stream:
                await stream.until_done()
            run_id = stream.run_id
            assert run_id is not None

            messages = await client.threads.list_messages("thread_1", run_id=run_id)
            assert [(m.role, m.text, m.run_id) for m in messages] == [
                ("assistant", scenarios.PLAIN_TEXT, run_id)
            ]

            recovered = await client.runs.recover("thread_1", run_id, timeout=2.0)
            assert recovered.run.id == run_id
            assert recovered.run.status == "completed"
            assert [m.id for m in recovered.messages] == [m.id for m in messages]
            assert recovered.text == scenarios.PLAIN_TEXT


@pytest.mark.asyncio
async def test_recovering_an_unknown_run_is_a_not_found_error() -> None:
    async with FakeAssistantsServer(
        auto_create_threads=True, scenario=scenarios.plain_text()
    ) as server:
        async with AsyncClient(api_key="k", base_url=server.base_url) as client:
            async with client.runs.stream("thread_1", assistant_id="asst_1") as stream:
                await stream.until_done()
            with pytest.raises(streamrun.NotFoundError):
                await client.runs.recover("thread_1", "run_missing", timeout=1.0)


async def call(client: AsyncClient, method: str, thread_id: str, run_id: str) -> object:
    if method == "retrieve":
        return await client.runs.retrieve(thread_id, run_id)
    if method == "cancel":
        return await client.runs.cancel(thread_id, run_id)
    if method == "recover":
        return await client.runs.recover(thread_id, run_id)
    return await client.threads.list_messages(thread_id, run_id=run_id)


@pytest.mark.asyncio
@pytest.mark.parametrize("method", ["retrieve", "cancel", "recover", "list_messages"])
@pytest.mark.parametrize(
    ("thread_id", "run_id", "bad"),
    [("", "run_1", "thread_id"), ("thread_1", "", "run_id")],
)
async def test_empty_ids_are_a_validation_error(
    method: str, thread_id: str, run_id: str, bad: str
) -> None:
    # Nothing listens on port 9: a request would be a connection error instead.
    async with AsyncClient(api_key="k", base_url="http://127.0.0.1:9/v1", max_retries=0) as client:
        with pytest.raises(streamrun.ValidationError) as info:
            await call(client, method, thread_id, run_id)
    assert info.value.path == bad
