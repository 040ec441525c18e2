"""``streamrun web --responses``: the page's routes over the Responses API.

The page server runs against the fake server's ``POST /v1/responses``; the
relayed bytes are read as the page reads them (SSE), and the fake server's
request log shows what the page server asked for.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from streamrun import AsyncClient, ValidationError
from streamrun._cli import LOCAL_TOOLS, LOOP_FUNCTIONS, current_weather, main
from streamrun._cli_responses import DEMO_MODEL
from streamrun._web import make_app, serve
from streamrun._web_responses import MAX_THREADS, PageThreads
from streamrun.sse import ServerSentEvent, SSEDecoder
from streamrun.testing import FakeAssistantsServer, Faults, Scenario, TextReply, fake_reply

MODEL = "gpt-test-web"
TEXT = "Streaming over the Responses API: é, 光, 🌱 — and a second line\nlike this one."
KEY = "sk-responses-page-key-0123456789"


class Page:
    """A page server in responses mode, its fake server, and a browser-like client."""

    def __init__(self, server: FakeAssistantsServer, url: str, http: aiohttp.ClientSession):
        self.server = server
        self.url = url
        self.http = http
        self.seen = b""  # every byte the "browser" got

    async def chat(self, message: str, thread_id: str | None = None) -> list[ServerSentEvent]:
        async with self.http.post(
            self.url + "api/chat", json={"message": message, "thread_id": thread_id}
        ) as response:
            assert response.status == 200, await response.text()
            assert response.content_type == "text/event-stream"
            data = await response.read()
        self.seen += data
        return SSEDecoder().feed(data)

    async def post(self, path: str, body: Any) -> tuple[int, Any]:
        async with self.http.post(self.url + path, json=body) as response:
            data = await response.read()
        self.seen += data
        return response.status, json.loads(data)

    async def get(self, path: str) -> bytes:
        async with self.http.get(self.url + path) as response:
            assert response.status == 200
            data = await response.read()
        self.seen += data
        return data

    def created(self) -> list[dict[str, Any]]:
        return [r.body for r in self.server.requests_to("create_response")]


def _text(events: list[ServerSentEvent]) -> str:
    parts = []
    for event in events:
        if event.event == "thread.message.delta":
            for part in json.loads(event.data)["delta"]["content"]:
                parts.append(part["text"]["value"])
    return "".join(parts)


def _runs(events: list[ServerSentEvent]) -> list[dict[str, Any]]:
    return [
        json.loads(e.data)
        for e in events
        if e.event.startswith("thread.run.") and not e.event.startswith("thread.run.step.")
    ]


def _thread(events: list[ServerSentEvent]) -> str:
    (thread_id,) = {run["thread_id"] for run in _runs(events)}
    return str(thread_id)


def _names(events: list[ServerSentEvent]) -> list[str]:
    return [e.event for e in events]


def _scripted(replies: list[Scenario]) -> Callable[[str], Scenario]:
    def scenario_for(message: str) -> Scenario:
        return replies.pop(0) if replies else fake_reply(message)

    return scenario_for


@pytest.fixture
def replies() -> list[Scenario]:
    return []


@contextlib.asynccontextmanager
async def _page(
    replies: list[Scenario], *, faults: Faults | None = None, **options: Any
) -> AsyncIterator[Page]:
    async with FakeAssistantsServer(api_keys=[KEY], faults=faults) as server:
        async with AsyncClient(api_key=KEY, base_url=server.base_url) as client:
            options.setdefault("functions", LOOP_FUNCTIONS)
            app = make_app(
                client,
                model=MODEL,
                fake=server,
                scenario_for=_scripted(replies),
                tools=LOCAL_TOOLS,
                **options,
            )
            async with serve(app, "127.0.0.1", 0) as url:
                async with aiohttp.ClientSession() as http:
                    page = Page(server, url, http)
                    yield page
    assert KEY.encode() not in page.seen


@pytest_asyncio.fixture
async def page(replies: list[Scenario]) -> AsyncIterator[Page]:
    async with _page(replies) as p:
        yield p


# -- streaming and continuation -------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_chat_streams_the_text_and_ends_equal_to_the_fake(
    page: Page, replies: list[Scenario]
) -> None:
    replies.append(Scenario([TextReply(TEXT, fragment_size=3)]))
    events = await page.chat("Tell me how streaming works")
    assert _text(events) == TEXT
    assert sum(e.event == "thread.message.delta" for e in events) > 10
    names = _names(events)
    assert names[0] == "thread.run.created"
    assert names[-2:] == ["thread.run.completed", "done"]
    (sent,) = page.created()
    assert sent["model"] == MODEL and sent["input"] == "Tell me how streaming works"
    assert sent["stream"] is True and "previous_response_id" not in sent
    final = _runs(events)[-1]
    response = page.server.get_response(final["id"])
    assert response is not None
    assert response["output"][0]["content"][0]["text"] == TEXT


@pytest.mark.asyncio
async def test_the_next_message_on_the_thread_continues_the_previous_response(
    page: Page, replies: list[Scenario]
) -> None:
    replies += [Scenario([TextReply("One.")]), Scenario([TextReply("Two.")])]
    first = await page.chat("first")
    thread = _thread(first)
    first_id = _runs(first)[-1]["id"]
    assert thread == "thread_" + first_id
    second = await page.chat("second", thread)
    assert _text(second) == "Two."
    assert [b.get("previous_response_id") for b in page.created()] == [None, first_id]
    # The page takes the thread id of the run events (as in run mode): the chat moved to it.
    moved = _thread(second)
    assert moved == "thread_" + _runs(second)[-1]["id"]
    third = await page.chat("third", moved)
    assert page.created()[-1]["previous_response_id"] == _runs(second)[-1]["id"]
    assert _text(third)
    # A new chat (no thread id) starts a new chain.
    await page.chat("another chat")
    assert "previous_response_id" not in page.created()[-1]


@pytest.mark.asyncio
async def test_an_unknown_thread_is_a_404_the_page_can_read(page: Page) -> None:
    status, body = await page.post("api/chat", {"message": "hi", "thread_id": "thread_nope"})
    assert status == 404
    assert body["error"]["code"] == "unknown_thread"
    assert "start a new chat" in body["error"]["message"]
    assert page.created() == []
    status, body = await page.post("api/chat", {"message": " ", "thread_id": None})
    assert status == 400


# -- tools -----------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_the_tool_loop_answers_the_call_and_its_output_is_relayed(page: Page) -> None:
    events = await page.chat("What's the weather in Paris?")
    names = _names(events)
    at = names.index("streamrun.tool_output")
    assert names.index("thread.run.requires_action") < at < names.index("thread.run.completed")
    assert names[-1] == "done" and names.count("thread.run.completed") == 1
    relayed = json.loads(events[at].data)
    expected = current_weather("Paris, France", "celsius")
    assert relayed["output"] == expected
    assert relayed["tool_call"]["function"]["name"] == "get_current_weather"
    first, continuation = page.created()
    assert [t["name"] for t in first["tools"]] == ["get_current_weather"]
    (output,) = continuation["input"]
    assert output["type"] == "function_call_output"
    assert output["call_id"] == relayed["tool_call"]["id"]
    assert json.loads(output["output"]) == json.loads(expected)
    assert "It's 18 °C in Paris right now with light rain" in _text(events)
    # The next message continues the newest round (the continuation's response).
    newest = _runs(events)[-1]["id"]
    await page.chat("Thanks!", _thread(events))
    assert page.created()[-1]["previous_response_id"] == newest


@pytest.mark.asyncio
async def test_without_tools_a_call_ends_in_requires_action(replies: list[Scenario]) -> None:
    async with _page(replies, functions=None) as page:
        events = await page.chat("What's the weather in Paris?")
        names = _names(events)
        assert "thread.run.requires_action" in names
        assert "streamrun.tool_output" not in names and "thread.run.completed" not in names
        run = _runs(events)[-1]
        assert run["status"] == "requires_action"
        (call,) = run["required_action"]["submit_tool_outputs"]["tool_calls"]
        assert call["function"]["name"] == "get_current_weather"
        (sent,) = page.created()
        assert "tools" not in sent
        # No manual tool outputs over the Responses API.
        status, body = await page.post(
            "api/tool_outputs", {"thread_id": run["thread_id"], "run_id": run["id"]}
        )
        assert status == 409 and "complete on the server" in body["error"]["message"]
        # The chat goes on after the last response that ended its turn (none: a new chain).
        await page.chat("Never mind", run["thread_id"])
        assert "previous_response_id" not in page.created()[-1]


# -- info, stop -----------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_info_names_the_protocol(page: Page) -> None:
    assert b'import { streamRun } from "./streamrun.js"' in await page.get("")
    assert b"export function streamRun" in await page.get("streamrun.js")
    info = json.loads(await page.get("api/info"))
    assert info == {
        "protocol": "responses",
        "fake": True,
        "model": MODEL,
        "functions": ["get_current_weather"],
    }
    async with AsyncClient(api_key="sk-x", base_url=page.server.base_url) as client:
        async with serve(make_app(client, assistant_id="asst_1"), "127.0.0.1", 0) as url:
            async with page.http.get(url + "api/info") as response:
                runs_info = await response.json()
    assert runs_info["protocol"] == "runs" and runs_info["assistant_id"] == "asst_1"


@pytest.mark.asyncio
async def test_cancel_closes_the_relayed_stream(replies: list[Scenario]) -> None:
    replies.append(Scenario([TextReply(TEXT * 20, fragment_size=3)]))
    async with _page(replies, faults=Faults(delay=0.02)) as page:
        async with page.http.post(page.url + "api/chat", json={"message": "long"}) as response:
            decoder = SSEDecoder()
            events: list[ServerSentEvent] = []
            cancel: tuple[int, Any] | None = None
            async for chunk in response.content.iter_any():
                events += decoder.feed(chunk)
                if cancel is None and len(_text(events)) > 20:
                    run = _runs(events)[-1]
                    cancel = await page.post(
                        "api/cancel", {"thread_id": run["thread_id"], "run_id": run["id"]}
                    )
        assert cancel is not None
        status, body = cancel
        assert status == 200
        assert body["id"] == run["id"] and body["status"] == "stopped"
        assert "its stream was closed" in body["message"]
        names = _names(events)
        assert names[-2:] == ["streamrun.stopped", "done"]
        stopped = json.loads(events[-2].data)
        assert stopped["id"] == run["id"] and stopped["thread_id"] == run["thread_id"]
        assert 20 < len(_text(events)) < len(TEXT * 20)
        # No cancel request: a foreground response stops when its stream is closed.
        assert page.server.requests_to("cancel_response") == []
        # Nothing streams any more; the chat goes on (after nothing: a new chain).
        status, body = await page.post(
            "api/cancel", {"thread_id": run["thread_id"], "run_id": run["id"]}
        )
        assert status == 404 and "is not streaming" in body["error"]["message"]
        await page.chat("again", run["thread_id"])
        assert "previous_response_id" not in page.created()[-1]


# -- the thread map's bound -----------------------------------------------------------------


def test_page_threads_forget_the_least_recently_used_over_the_max() -> None:
    assert MAX_THREADS == 1024
    threads = PageThreads(3)
    for n in range(3):
        threads.set(f"t{n}", f"r{n}")
    assert threads.continued("t0") == "r0"  # t0 is now the most recent
    threads.set("t3", "r3")
    assert len(threads) == 3 and "t1" not in threads
    with pytest.raises(KeyError):
        threads.continued("t1")
    threads.set("t4", None, moved_from="t0")  # the chat moved: its old id is forgotten
    assert "t0" not in threads and threads.continued("t4") is None
    with pytest.raises(ValidationError, match="max_threads: must be at least 1"):
        PageThreads(0)
    many = PageThreads()
    for n in range(MAX_THREADS + 10):
        many.set(f"t{n}", f"r{n}")
    assert len(many) == MAX_THREADS and "t9" not in many and "t10" in many


@pytest.mark.asyncio
async def test_the_page_remembers_at_most_max_threads(replies: list[Scenario]) -> None:
    async with _page(replies, max_threads=2) as page:
        threads = [_thread(await page.chat(f"chat {n}")) for n in range(3)]
        status, body = await page.post("api/chat", {"message": "hi", "thread_id": threads[0]})
        assert status == 404 and body["error"]["code"] == "unknown_thread"
        for thread in threads[1:]:
            await page.chat("still here", thread)
        assert len(page.created()) == 5


# -- make_app and the command line ----------------------------------------------------------


@pytest.mark.asyncio
async def test_make_app_takes_an_assistant_or_a_model() -> None:
    async with AsyncClient(api_key="sk-x", base_url="http://127.0.0.1:9/v1") as client:
        with pytest.raises(ValidationError, match=r"^model: cannot be given with assistant_id"):
            make_app(client, assistant_id="asst_1", model=MODEL)
        with pytest.raises(ValidationError, match=r"^assistant_id: is required \(or model="):
            make_app(client)
        with pytest.raises(ValidationError, match=r"^max_threads: is for the Responses API"):
            make_app(client, assistant_id="asst_1", max_threads=5)
        with pytest.raises(ValidationError, match=r"^max_threads: must be at least 1"):
            make_app(client, model=MODEL, max_threads=0)
        make_app(client, model=MODEL, max_threads=5)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["web", "--responses", "--fake", "--assistant", "asst_1"],
            "--assistant names an assistant: with --responses use --model",
        ),
        (
            ["web", "--responses"],
            "the following arguments are required with --responses: --model (or use --fake)",
        ),
        (["web", "--fake", "--model", "m"], "--model is the Responses API model: it needs"),
    ],
)
def test_command_line_errors(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("streamrun web: error: ") and message in err


def test_the_command_passes_the_model(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import streamrun._web as web_module

    seen: list[tuple[Any, ...]] = []

    async def fake_main(args: Any, *rest: Any) -> None:
        seen.append((args.responses, args.model, *rest[-2:]))  # tools, functions

    monkeypatch.setattr(web_module, "_main", fake_main)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    assert main(["web", "--responses", "--fake", "--port", "0"]) == 0
    assert main(["web", "--responses", "--fake", "--no-tools", "--model", "m"]) == 0
    # OpenAI's own host serves the Responses API (unlike the Assistants API).
    assert main(["web", "--responses", "--model", "gpt-x"]) == 0
    # Without --model, --fake answers as the model of the other --responses commands.
    assert seen == [
        (True, DEMO_MODEL, LOCAL_TOOLS, LOOP_FUNCTIONS),
        (True, "m", None, None),
        (True, "gpt-x", LOCAL_TOOLS, LOOP_FUNCTIONS),
    ]
    assert capsys.readouterr().err == ""


@pytest.mark.asyncio
async def test_the_fake_page_streams_responses_and_runs_the_tools() -> None:
    # What `streamrun web --responses --fake` serves (the fake server in this process).
    import streamrun._web as web_module

    args = argparse.Namespace(
        fake=True,
        pace=0.0,
        responses=True,
        model=DEMO_MODEL,
        assistant=None,
        host="127.0.0.1",
        port=0,
    )
    out = io.StringIO()
    task = asyncio.ensure_future(
        web_module._main(args, out, fake_reply, LOCAL_TOOLS, LOOP_FUNCTIONS)
    )
    try:
        for _ in range(500):
            if out.getvalue():
                break
            await asyncio.sleep(0.01)
        url = out.getvalue().split("open ", 1)[1].split()[0]
        async with aiohttp.ClientSession() as http:
            async with http.get(url + "api/info") as response:
                info = await response.json()
            async with http.post(url + "api/chat", json={"message": "weather in Paris?"}) as r:
                events = SSEDecoder().feed(await r.read())
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert info["protocol"] == "responses" and info["model"] == DEMO_MODEL
    assert "streamrun.tool_output" in _names(events)
    assert "It's 18 °C in Paris" in _text(events)
