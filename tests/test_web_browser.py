"""``streamrun web`` in a real browser: headless Chromium driven by playwright.

The page server and the fake Assistants server run in the test's event loop;
the browser is Debian's ``chromium`` (``.ci/run`` installs it). The tests
sample the page while a run streams, and check on the fake server's request
log that Stop and a closed tab cancel the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web

from streamrun import AsyncClient
from streamrun._cli import LOCAL_TOOLS, LOOP_FUNCTIONS, current_weather
from streamrun._web import make_app, serve
from streamrun.testing import (
    FakeAssistantsServer,
    Faults,
    Scenario,
    TextReply,
    fake_reply,
    scenarios,
)

# In CI (.ci/run sets STREAMRUN_REQUIRE_BROWSER) a missing browser fails instead of skipping.
REQUIRED = bool(os.environ.get("STREAMRUN_REQUIRE_BROWSER"))
if REQUIRED:
    import playwright.async_api as playwright_api
else:
    playwright_api = pytest.importorskip("playwright.async_api")

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("STREAMRUN_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("STREAMRUN_ARTIFACTS", ROOT / "tmp" / "artifacts"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.skipif(
        not Path(CHROMIUM).exists() and not REQUIRED, reason="chromium is not installed"
    ),
    pytest.mark.timeout(120),
]

LONG_TEXT = (
    "Streaming, token by token: the relay writes each delta as one server-sent event, "
    "the page parses it with streamrun.js and appends it to the message — "
    "unicode included (é, 光, 🌱) and a second line\nlike this one."
)


class Harness:
    """The fake server, the page server, the browser page, and what they did.

    Screenshots go to ``$STREAMRUN_ARTIFACTS`` (default ``tmp/artifacts``;
    playwright creates the directory).
    """

    def __init__(self, server: FakeAssistantsServer, url: str, page: Any, active: list[int]):
        self.server = server
        self.url = url
        self.page = page
        self.active = active  # relay handlers running on the page server
        self.replies: list[Scenario] = []

    async def send(self, text: str) -> None:
        await self.page.fill("#input", text)
        await self.page.press("#input", "Enter")

    async def assistant_text(self) -> str:
        texts: list[str] = await self.page.eval_on_selector_all(
            ".msg.assistant", "els => els.map(e => e.textContent)"
        )
        return "".join(texts)

    async def status(self) -> str:
        return str(await self.page.get_attribute("#status", "data-state"))

    async def until(self, predicate: Callable[[], Awaitable[bool]], timeout: float = 15.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not await predicate():
            if loop.time() > deadline:
                raise AssertionError("timed out waiting for the page")
            await asyncio.sleep(0.02)


def _scripted(harness_replies: list[Scenario]) -> Callable[[str], Scenario]:
    def scenario_for(message: str) -> Scenario:
        return harness_replies.pop(0) if harness_replies else fake_reply(message)

    return scenario_for


def _counting(active: list[int]) -> Any:
    @web.middleware
    async def count(request: web.Request, handler: Any) -> web.StreamResponse:
        active[0] += 1
        try:
            return await handler(request)  # type: ignore[no-any-return]
        finally:
            active[0] -= 1

    return count


@contextlib.asynccontextmanager
async def _browse(server: FakeAssistantsServer, app: web.Application) -> AsyncIterator[Harness]:
    """Serve ``app`` and open its page in headless Chromium."""
    active = [0]
    app.middlewares.append(_counting(active))
    async with serve(app, "127.0.0.1", 0) as url:
        async with playwright_api.async_playwright() as pw:
            browser = await pw.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
            try:
                page = await browser.new_page(viewport={"width": 900, "height": 460})
                errors: list[str] = []
                page.on("pageerror", lambda exc: errors.append(str(exc)))
                await page.goto(url)
                yield Harness(server, url, page, active)
                assert errors == [], errors
            finally:
                await browser.close()


@pytest_asyncio.fixture
async def harness() -> AsyncIterator[Harness]:
    replies: list[Scenario] = []
    async with FakeAssistantsServer(faults=Faults(delay=0.03)) as server:
        async with AsyncClient(api_key="sk-test", base_url=server.base_url) as client:
            app = make_app(
                client,
                assistant_id="asst_web",
                fake=server,
                scenario_for=_scripted(replies),
                tools=LOCAL_TOOLS,
                functions=LOOP_FUNCTIONS,
            )
            async with _browse(server, app) as h:
                h.replies = replies
                yield h


@pytest.mark.asyncio
async def test_text_streams_token_by_token_and_ends_equal(harness: Harness) -> None:
    harness.replies.append(Scenario([TextReply(LONG_TEXT, fragment_size=4)]))
    await harness.send("Tell me how streaming works")
    samples: list[str] = []
    shot = False
    while await harness.status() not in ("completed", "error"):
        text = await harness.assistant_text()
        if text and (not samples or text != samples[-1]):
            samples.append(text)
        if not shot and len(text) > len(LONG_TEXT) // 2:
            await harness.page.screenshot(path=str(ARTIFACTS / "web-mid-stream.png"))
            shot = True
        await asyncio.sleep(0.03)
    assert await harness.status() == "completed"
    final = await harness.assistant_text()
    assert final == LONG_TEXT
    # It grew several times, each sample extending the previous one.
    partial = [s for s in samples if s != final]
    assert len(partial) >= 3, samples
    for before, after in itertools.pairwise(samples):
        assert after.startswith(before) and len(after) > len(before)
    assert shot and (ARTIFACTS / "web-mid-stream.png").stat().st_size > 0
    messages = harness.server.thread_messages(_thread(harness))
    assert any(
        part.get("text", {}).get("value") == LONG_TEXT
        for m in messages
        if m["role"] == "assistant"
        for part in m["content"]
    )


def _thread(harness: Harness) -> str:
    run = harness.server.get_run(harness.server.run_ids()[-1])
    assert run is not None
    return str(run["thread_id"])


@pytest.mark.asyncio
async def test_tool_call_appears_with_its_output(harness: Harness) -> None:
    await harness.send("What's the weather in Paris?")
    await harness.until(lambda: _some_text(harness))
    await harness.page.screenshot(path=str(ARTIFACTS / "web-tool-call.png"))
    await harness.until(lambda: _is(harness, "completed"))
    tool = await harness.page.text_content(".tool")
    assert tool is not None
    assert 'get_current_weather({"location": "Paris, France", "unit": "celsius"})' in tool
    assert 'output {"location": "Paris, France", "temperature": 18' in tool
    assert "It's 18 °C in Paris right now with light rain" in await harness.assistant_text()
    assert len(harness.server.requests_to("submit_tool_outputs")) == 1
    # The next message continues the same thread.
    thread = _thread(harness)
    await harness.send("Thanks!")
    await harness.until(lambda: _messages(harness, 2))
    await harness.until(lambda: _is(harness, "completed"))
    assert len(harness.server.run_ids()) == 2
    assert _thread(harness) == thread
    assert "fake assistant built into streamrun" in await harness.assistant_text()


async def _messages(harness: Harness, n: int) -> bool:
    return len(await harness.page.query_selector_all(".msg.assistant")) >= n


async def _is(harness: Harness, state: str) -> bool:
    return await harness.status() == state


async def _some_text(harness: Harness) -> bool:
    return len(await harness.assistant_text()) > 10


@pytest.mark.asyncio
async def test_stop_cancels_the_run(harness: Harness) -> None:
    harness.replies.append(Scenario([TextReply(LONG_TEXT * 4, fragment_size=3)]))
    await harness.send("Say something long")
    await harness.until(lambda: _some_text(harness))
    await harness.page.click("#stop")
    await harness.until(lambda: _is(harness, "cancelled"))
    assert len(harness.server.cancel_requests) == 1
    run_id = harness.server.run_ids()[-1]
    assert harness.server.cancel_requests[0].route.endswith(f"/runs/{run_id}/cancel")
    run = await harness.server.wait_for_run(run_id)
    assert run["status"] == "cancelled"
    text = await harness.assistant_text()
    assert 10 < len(text) < len(LONG_TEXT * 4)
    assert await harness.page.is_enabled("#send")
    await harness.until(lambda: _no_relay_running(harness))


async def _no_relay_running(harness: Harness) -> bool:
    return harness.active[0] == 0


@pytest.mark.asyncio
async def test_closing_the_tab_cancels_the_run(harness: Harness) -> None:
    harness.replies.append(Scenario([TextReply(LONG_TEXT * 4, fragment_size=3)]))
    await harness.send("Say something long")
    await harness.until(lambda: _some_text(harness))
    assert harness.server.cancel_requests == []
    await harness.page.close()
    # The relay notices the closed connection and closes the stream: cancel-on-abandon.
    await harness.until(lambda: _cancelled(harness))
    run = await harness.server.wait_for_run(harness.server.run_ids()[-1])
    assert run["status"] in ("cancelling", "cancelled")
    await harness.until(lambda: _no_relay_running(harness))
    await harness.server.wait_idle()


async def _cancelled(harness: Harness) -> bool:
    return len(harness.server.cancel_requests) == 1


@pytest.mark.asyncio
async def test_server_error_event_appears_on_the_page(harness: Harness) -> None:
    harness.replies.append(scenarios.error_event())
    await harness.send("Trigger an error")
    await harness.until(lambda: _is(harness, "error"))
    error = await harness.page.text_content(".error")
    assert error is not None
    assert "The server had an error processing your request" in error
    assert await harness.assistant_text() == "Sure, let me look"
    assert await harness.page.is_enabled("#send")


# -- a real server (not --fake): the tool loop answers the calls --------------------------


@pytest.mark.asyncio
async def test_a_real_server_page_runs_the_tool_loop_and_shows_the_output() -> None:
    # The "real server" is a fake server started on its own: the page knows nothing of it
    # (no fake=, no scenario, no manual tools), only its URL, a key and the functions.
    async with FakeAssistantsServer(
        scenario=scenarios.function_call(), faults=Faults(delay=0.02), api_keys=["sk-real"]
    ) as server:
        async with AsyncClient(api_key="sk-real", base_url=server.base_url) as client:
            app = make_app(client, assistant_id="asst_real", functions=LOOP_FUNCTIONS)
            async with _browse(server, app) as h:
                assert "assistant asst_real" in str(await h.page.text_content("#mode"))
                await h.send("What's the weather in Paris?")
                await h.until(lambda: _is(h, "completed"))
                tool = await h.page.text_content(".tool")
                assert tool is not None
                assert "get_current_weather(" in tool and '"Paris, France"' in tool
                expected = current_weather("Paris, France", "celsius")
                assert f"output {expected}" in tool
                assert "It's 18 °C in Paris right now with light rain" in await h.assistant_text()
                await h.until(lambda: _no_relay_running(h))
    # One stream: the loop submitted the output the function computed; the page sent
    # nothing of its own (no /api/tool_outputs round trip, which a real server refuses).
    (submitted,) = server.requests_to("submit_tool_outputs")
    (output,) = submitted.body["tool_outputs"]
    assert json.loads(output["output"]) == json.loads(expected)
    assert submitted.body["stream"] is True


# -- over the Responses API (streamrun web --responses) -----------------------------------


@pytest_asyncio.fixture
async def responses_harness() -> AsyncIterator[Harness]:
    replies: list[Scenario] = []
    async with FakeAssistantsServer(faults=Faults(delay=0.03)) as server:
        async with AsyncClient(api_key="sk-test", base_url=server.base_url) as client:
            app = make_app(
                client,
                model="gpt-web",
                fake=server,
                scenario_for=_scripted(replies),
                functions=LOOP_FUNCTIONS,
            )
            async with _browse(server, app) as h:
                h.replies = replies
                await h.until(lambda: _mode_shown(h))
                yield h


async def _mode_shown(harness: Harness) -> bool:
    return "model gpt-web · Responses API" in str(await harness.page.text_content("#mode"))


@pytest.mark.asyncio
async def test_responses_text_streams_token_by_token_and_ends_equal(
    responses_harness: Harness,
) -> None:
    harness = responses_harness
    harness.replies.append(Scenario([TextReply(LONG_TEXT, fragment_size=4)]))
    await harness.send("Tell me how streaming works")
    samples: list[str] = []
    while await harness.status() not in ("completed", "error"):
        text = await harness.assistant_text()
        if text and (not samples or text != samples[-1]):
            samples.append(text)
        await asyncio.sleep(0.03)
    assert await harness.status() == "completed"
    final = await harness.assistant_text()
    assert final == LONG_TEXT
    partial = [s for s in samples if s != final]
    assert len(partial) >= 3, samples
    for before, after in itertools.pairwise(samples):
        assert after.startswith(before) and len(after) > len(before)
    assert str(await harness.page.text_content("#status")).startswith("response resp_")
    (created,) = harness.server.requests_to("create_response")
    response = harness.server.get_response(harness.server.response_ids()[-1])
    assert response is not None
    assert response["output"][0]["content"][0]["text"] == LONG_TEXT
    assert created.body["model"] == "gpt-web"
    await harness.until(lambda: _no_relay_running(harness))


@pytest.mark.asyncio
async def test_responses_tool_call_appears_with_its_output(responses_harness: Harness) -> None:
    harness = responses_harness
    await harness.send("What's the weather in Paris?")
    await harness.until(lambda: _is(harness, "completed"))
    tool = await harness.page.text_content(".tool")
    assert tool is not None
    assert 'get_current_weather({"location": "Paris, France", "unit": "celsius"})' in tool
    assert f"output {current_weather('Paris, France', 'celsius')}" in tool
    assert "It's 18 °C in Paris right now with light rain" in await harness.assistant_text()
    first, continuation = harness.server.requests_to("create_response")
    assert [t["name"] for t in first.body["tools"]] == ["get_current_weather"]
    assert continuation.body["input"][0]["type"] == "function_call_output"
    # The next message continues the newest response (previous_response_id).
    newest = harness.server.response_ids()[-1]
    await harness.send("Thanks!")
    await harness.until(lambda: _messages(harness, 2))
    await harness.until(lambda: _is(harness, "completed"))
    assert harness.server.requests_to("create_response")[-1].body["previous_response_id"] == newest
    assert "fake assistant built into streamrun" in await harness.assistant_text()


@pytest.mark.asyncio
async def test_responses_stop_closes_the_stream(responses_harness: Harness) -> None:
    harness = responses_harness
    harness.replies.append(Scenario([TextReply(LONG_TEXT * 4, fragment_size=3)]))
    await harness.send("Say something long")
    await harness.until(lambda: _some_text(harness))
    await harness.page.click("#stop")
    await harness.until(lambda: _is(harness, "stopped"))
    text = await harness.assistant_text()
    assert 10 < len(text) < len(LONG_TEXT * 4)
    # A foreground response is not cancelled through the API: its stream was closed.
    assert harness.server.requests_to("cancel_response") == []
    assert await harness.page.is_enabled("#send")
    assert await harness.page.query_selector(".error") is None
    await harness.until(lambda: _no_relay_running(harness))
