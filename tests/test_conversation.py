"""Conversations and the plain thread/message/run endpoints a chatbot needs (issue 10 §4)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web

from streamrun import (
    AsyncClient,
    AsyncEventHandler,
    Conversation,
    StreamConsumedError,
    ValidationError,
)
from streamrun.testing import FakeAssistantsServer, scenarios

ASSISTANT = "asst_conv"


def get_current_weather(location: str, unit: str = "celsius") -> str:
    """The weather at a place."""
    return f"18 {unit} in {location}"


@pytest_asyncio.fixture
async def server() -> AsyncIterator[FakeAssistantsServer]:
    async with FakeAssistantsServer(scenario=scenarios.plain_text(), seed=11) as srv:
        yield srv
        assert srv.internal_errors == []


@pytest_asyncio.fixture
async def client(server: FakeAssistantsServer) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(api_key="sk-conv", base_url=server.base_url) as client:
        yield client


# -- Conversation ----------------------------------------------------------------


@pytest.mark.asyncio
async def test_first_send_creates_the_thread_later_sends_continue_it(
    client: AsyncClient, server: FakeAssistantsServer
) -> None:
    conv = client.conversation(ASSISTANT, model="gpt-4o")
    assert isinstance(conv, Conversation)
    assert repr(conv) == f"<Conversation assistant_id={ASSISTANT!r} thread_id=None>"
    assert await conv.messages() == []
    async with conv.send("Hello") as reply:
        first = "".join([t async for t in reply.text_deltas])
    thread_id = conv.thread_id
    assert thread_id is not None and first == scenarios.PLAIN_TEXT
    async with conv.send("And then?") as reply:
        run = await reply.final_run()
    assert run.thread_id == thread_id and conv.thread_id == thread_id
    (created,) = server.requests_to("create_thread_and_run")
    assert created.body is not None
    assert created.body["thread"] == {"messages": [{"role": "user", "content": "Hello"}]}
    assert created.body["model"] == "gpt-4o"
    (continued,) = server.requests_to("create_run")
    assert continued.route == f"/threads/{thread_id}/runs"
    assert continued.body is not None
    assert continued.body["additional_messages"] == [{"role": "user", "content": "And then?"}]
    assert continued.body["model"] == "gpt-4o"
    messages = await conv.messages()
    assert [(m.role, m.text) for m in messages] == [
        ("user", "Hello"),
        ("assistant", scenarios.PLAIN_TEXT),
        ("user", "And then?"),
        ("assistant", scenarios.PLAIN_TEXT),
    ]


@pytest.mark.asyncio
async def test_conversation_functions_answer_tool_calls_in_every_reply(
    client: AsyncClient, server: FakeAssistantsServer
) -> None:
    server.default_scenario = scenarios.function_call()
    conv = client.conversation(ASSISTANT, functions=[get_current_weather])
    for question in ("Weather in Paris?", "And now?"):
        async with conv.send(question) as reply:
            text = "".join([t async for t in reply.text_deltas])
        assert text == scenarios.WEATHER_ANSWER
    outputs = [r.body["tool_outputs"] for r in server.requests_to("submit_tool_outputs")]
    assert [[o["output"] for o in out] for out in outputs] == [
        ["18 celsius in Paris, France"],
        ["18 celsius in Paris, France"],
    ]


@pytest.mark.asyncio
async def test_conversation_on_an_existing_thread_with_a_handler_per_reply(
    client: AsyncClient, server: FakeAssistantsServer
) -> None:
    thread = await client.threads.create(metadata={"topic": "plants"})
    conv = client.conversation(ASSISTANT, thread_id=thread.id)
    assert conv.thread_id == thread.id

    class Texts(AsyncEventHandler):
        def __init__(self) -> None:
            self.done: list[str] = []

        async def on_message_done(self, message: Any) -> None:
            self.done.append(message.text)

    for _ in range(2):
        handler = Texts()
        async with conv.send([{"type": "text", "text": "Hi"}], handler=handler) as reply:
            await reply.until_done()
        assert handler.done == [scenarios.PLAIN_TEXT]
    assert server.requests_to("create_thread_and_run") == []
    assert len(server.requests_to("create_run")) == 2
    # A handler follows one run: reusing it for the next reply is refused.
    with pytest.raises(StreamConsumedError):
        conv.send("again", handler=handler)


@pytest.mark.parametrize(
    ("args", "kwargs", "path"),
    [
        (("",), {}, "assistant_id"),
        ((ASSISTANT,), {"thread_id": ""}, "thread_id"),
        ((ASSISTANT,), {"functions": "nope"}, "functions"),
        ((ASSISTANT,), {"tool_timeout": 1.0}, "tool_timeout"),
        ((ASSISTANT,), {"additional_messages": []}, "additional_messages"),
        ((ASSISTANT,), {"thread": {}}, "thread"),
        ((ASSISTANT,), {"handler": AsyncEventHandler()}, "handler"),
    ],
)
def test_conversation_arguments_are_checked_before_io(
    args: tuple[Any, ...], kwargs: dict[str, Any], path: str
) -> None:
    client = AsyncClient(api_key="sk-conv", base_url="http://127.0.0.1:9")
    with pytest.raises(ValidationError) as caught:
        client.conversation(*args, **kwargs)
    assert caught.value.path == path


def test_send_is_checked_before_io() -> None:
    client = AsyncClient(api_key="sk-conv", base_url="http://127.0.0.1:9")
    conv = client.conversation(ASSISTANT)
    with pytest.raises(ValidationError) as caught:
        conv.send("hi", temperature=7)
    assert caught.value.path == "temperature"
    with pytest.raises(ValidationError) as caught:
        conv.send(42)  # type: ignore[arg-type]
    assert caught.value.path.startswith("thread.messages[0].content")
    assert "thread_id=None" in repr(conv)


# -- plain endpoints against the fake server ----------------------------------------


@pytest.mark.asyncio
async def test_threads_create_retrieve_and_messages(
    client: AsyncClient, server: FakeAssistantsServer
) -> None:
    thread = await client.threads.create(
        messages=[{"role": "user", "content": "first"}], metadata={"k": "v"}
    )
    assert thread.id.startswith("thread_") and thread.metadata == {"k": "v"}
    assert (await client.threads.retrieve(thread.id)).id == thread.id
    added = await client.threads.messages.create(thread.id, role="user", content="second")
    assert added.role == "user" and added.text == "second"
    listed = await client.threads.messages.list(thread.id)
    assert [m.text for m in listed] == ["first", "second"]
    newest = await client.threads.messages.list(thread.id, order="desc", limit=1)
    assert [m.text for m in newest] == ["second"]


@pytest.mark.asyncio
async def test_messages_list_follows_every_page_and_filters_by_run(
    client: AsyncClient, server: FakeAssistantsServer
) -> None:
    thread = await client.threads.create()
    for n in range(130):
        await client.threads.messages.create(thread.id, role="user", content=f"m{n}")
    async with client.runs.stream(thread.id, assistant_id=ASSISTANT) as stream:
        run = await stream.final_run()
    listed = await client.threads.messages.list(thread.id)
    assert [m.text for m in listed[:130]] == [f"m{n}" for n in range(130)]
    assert len(listed) == 131
    pages = server.requests_to("list_messages")
    assert [r.query.get("after") is not None for r in pages] == [False, True]
    capped = await client.threads.messages.list(thread.id, limit=105)
    assert [m.text for m in capped] == [f"m{n}" for n in range(105)]
    by_run = await client.threads.messages.list(thread.id, run_id=run.id)
    assert [m.role for m in by_run] == ["assistant"]


@pytest.mark.parametrize(
    ("call", "path"),
    [
        (
            lambda c: c.threads.create(messages=[{"role": "robot", "content": "x"}]),
            "messages[0].role",
        ),
        (lambda c: c.threads.create(colour="red"), "colour"),
        (lambda c: c.threads.retrieve(""), "thread_id"),
        (lambda c: c.threads.messages.create("thread_1", role="user"), "content"),
        (lambda c: c.threads.messages.create("", role="user", content="x"), "thread_id"),
        (lambda c: c.threads.messages.list("thread_1", order="up"), "order"),
        (lambda c: c.threads.messages.list("thread_1", limit=0), "limit"),
        (lambda c: c.threads.messages.list("thread_1", run_id=""), "run_id"),
        (lambda c: c.runs.list("thread_1", limit=True), "limit"),
        (lambda c: c.runs.list(""), "thread_id"),
    ],
)
@pytest.mark.asyncio
async def test_plain_endpoints_validate_before_io(call: Any, path: str) -> None:
    # Port 9 (discard) refuses: anything sent would be an APIConnectionError instead.
    async with AsyncClient(api_key="sk-conv", base_url="http://127.0.0.1:9", max_retries=0) as c:
        with pytest.raises(ValidationError) as caught:
            await call(c)
    assert caught.value.path == path


@pytest.mark.asyncio
async def test_runs_list_against_the_fake_server(
    client: AsyncClient, server: FakeAssistantsServer
) -> None:
    conv = client.conversation(ASSISTANT)
    ids = []
    for text in ("one", "two", "three"):
        async with conv.send(text) as reply:
            ids.append((await reply.final_run()).id)
    assert conv.thread_id is not None
    assert [r.id for r in await client.runs.list(conv.thread_id)] == ids
    newest = await client.runs.list(conv.thread_id, order="desc", limit=2)
    assert [r.id for r in newest] == ids[::-1][:2]


# -- runs.list (a small server of its own) -------------------------------------------


@pytest.mark.asyncio
async def test_runs_list_follows_every_page() -> None:
    runs = [{"id": f"run_{n:03}", "object": "thread.run", "status": "completed"} for n in range(7)]
    seen: list[dict[str, str]] = []

    async def list_runs(request: web.Request) -> web.Response:
        query = dict(request.query)
        seen.append(query)
        ordered = runs if query["order"] == "asc" else runs[::-1]
        start = 0
        if "after" in query:
            start = [r["id"] for r in ordered].index(query["after"]) + 1
        page = ordered[start : start + min(3, int(query["limit"]))]  # pages of 3 at most
        more = start + len(page) < len(ordered)
        return web.json_response({"object": "list", "data": page, "has_more": more})

    app = web.Application()
    app.router.add_get("/v1/threads/{thread_id}/runs", list_runs)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        async with AsyncClient(api_key="sk-conv", base_url=f"http://127.0.0.1:{port}/v1") as c:
            listed = await c.runs.list("thread_1")
            assert [r.id for r in listed] == [r["id"] for r in runs]
            assert [q.get("after") for q in seen] == [None, "run_002", "run_005"]
            assert {q["order"] for q in seen} == {"asc"} and seen[0]["limit"] == "100"
            seen.clear()
            newest = await c.runs.list("thread_1", order="desc", limit=4)
            assert [r.id for r in newest] == ["run_006", "run_005", "run_004", "run_003"]
            assert [q["limit"] for q in seen] == ["4", "1"]
    finally:
        await runner.cleanup()
