"""``streamrun web``: the subcommand, its defaults, and a key that never reaches the browser."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from streamrun import AsyncClient
from streamrun._cli import LOCAL_TOOLS, LOOP_FUNCTIONS, build_parser, current_weather, main
from streamrun._web import make_app, serve
from streamrun.sse import SSEDecoder
from streamrun.testing import FakeAssistantsServer, fake_reply, scenarios

ROOT = Path(__file__).resolve().parent.parent


def test_web_subcommand_defaults_bind_loopback() -> None:
    args = build_parser().parse_args(["web", "--fake"])
    assert args.command == "web"
    assert (args.host, args.port, args.fake, args.assistant) == ("127.0.0.1", 8080, True, None)
    args = build_parser().parse_args(["web", "--port", "0", "--assistant", "asst_1"])
    assert (args.port, args.assistant, args.fake) == (0, "asst_1", False)


def test_web_without_fake_needs_an_assistant_and_a_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert main(["web"]) == 2
    assert "--assistant" in capsys.readouterr().err
    assert main(["web", "--assistant", "asst_1"]) == 2
    assert "no API key" in capsys.readouterr().err


def test_web_fake_serves_the_page_then_stops_on_ctrl_c() -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT)
    with subprocess.Popen(
        [sys.executable, "-m", "streamrun", "web", "--fake", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    ) as proc:
        _drive(proc)
    assert proc.returncode == 130


def _drive(proc: subprocess.Popen[str]) -> None:
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("streamrun web: open http://127.0.0.1:"), line
        url = line.split("open ", 1)[1].split()[0]

        async def fetch() -> tuple[str, str, list[str]]:
            async with aiohttp.ClientSession() as session:
                async with session.get(url) as page:
                    html = await page.text()
                async with session.get(url + "streamrun.js") as module:
                    js_type = module.headers["Content-Type"]
                async with session.post(url + "api/chat", json={"message": "hi"}) as relay:
                    names = [e.event for e in SSEDecoder().feed(await relay.read())]
            return html, js_type, names

        html, js_type, names = asyncio.run(fetch())
        assert 'import { streamRun } from "./streamrun.js"' in html
        assert js_type.startswith("text/javascript")
        assert names[0] == "thread.created" and names[-2:] == ["thread.run.completed", "done"]
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert "Traceback" not in err, err


@pytest.mark.asyncio
async def test_the_key_never_reaches_the_browser() -> None:
    key = "sk-secret-never-in-the-browser"
    async with FakeAssistantsServer(api_keys=[key]) as server:
        async with AsyncClient(api_key=key, base_url=server.base_url) as client:
            app = make_app(
                client,
                assistant_id="asst_1",
                fake=server,
                scenario_for=fake_reply,
                tools=LOCAL_TOOLS,
            )
            async with serve(app, "127.0.0.1", 0) as url:
                assert url.startswith("http://127.0.0.1:")
                seen = b""
                async with aiohttp.ClientSession() as session:
                    for path in ("", "streamrun.js", "api/info"):
                        async with session.get(url + path) as response:
                            seen += await response.read()
                    async with session.post(
                        url + "api/chat", json={"message": "weather in Paris?"}
                    ) as response:
                        relayed = await response.read()
                    events = SSEDecoder().feed(relayed)
                    run_created = next(e for e in events if e.event == "thread.run.created")
                    run = json.loads(run_created.data)
                    async with session.post(
                        url + "api/tool_outputs",
                        json={"thread_id": run["thread_id"], "run_id": run["id"]},
                    ) as response:
                        relayed += await response.read()
                    async with session.post(url + "api/chat", json={"message": ""}) as bad:
                        assert bad.status == 400
                        seen += await bad.read()
    assert b"It's 18 \xc2\xb0C in Paris" in relayed
    assert key.encode() not in seen + relayed
    assert [r.headers.get("Authorization") for r in server.requests] != []


# -- errors raised before any I/O are JSON replies the page shows (review B7) ----------


async def _post(url: str, body: Any) -> tuple[int, str, Any]:
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json=body) as response:
            return response.status, response.content_type, await response.json()


@pytest.mark.asyncio
async def test_a_client_on_the_retired_host_answers_400_json(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    async with AsyncClient(api_key="sk-x") as client:
        async with serve(make_app(client, assistant_id="asst_x"), "127.0.0.1", 0) as url:
            for thread_id in (None, "thread_1"):
                status, kind, body = await _post(
                    url + "api/chat", {"message": "hi", "thread_id": thread_id}
                )
                assert (status, kind) == (400, "application/json")
                assert body["error"]["message"].startswith("base_url: https://api.openai.com/v1")
                assert "no longer serves the Assistants API" in body["error"]["message"]


@pytest.mark.asyncio
async def test_ids_the_library_rejects_answer_400_json_and_other_failures_502() -> None:
    async with FakeAssistantsServer() as server:
        async with AsyncClient(api_key="sk-x", base_url=server.base_url) as client:
            app = make_app(client, assistant_id="asst_1", fake=server, tools=LOCAL_TOOLS)
            async with serve(app, "127.0.0.1", 0) as url:
                chat = await _post(url + "api/chat", {"message": "hi", "thread_id": ".."})
                cancel = await _post(url + "api/cancel", {"thread_id": "..", "run_id": "r"})
                tools = await _post(url + "api/tool_outputs", {"thread_id": "t", "run_id": ".."})
                unknown = await _post(url + "api/cancel", {"thread_id": "t", "run_id": "run_x"})
                missing = await _post(url + "api/cancel", {"thread_id": "t"})
    for status, kind, body in (chat, cancel, tools):
        assert (status, kind) == (400, "application/json")
        assert "the URL would point at another endpoint" in body["error"]["message"]
    assert unknown[0] == 404  # the server's own error reply keeps its status
    assert missing[0] == 400
    async with AsyncClient(api_key="sk-x", base_url="http://127.0.0.1:9/v1", max_retries=0) as c:
        async with serve(make_app(c, assistant_id="asst_1"), "127.0.0.1", 0) as url:
            status, kind, body = await _post(url + "api/cancel", {"thread_id": "t", "run_id": "r"})
    assert (status, kind) == (502, "application/json")
    assert body["error"]["message"].startswith("cannot connect to 127.0.0.1:9")


def test_web_checks_the_base_url_before_serving(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env-never-shown")
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    assert main(["web", "--assistant", "asst_1", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("streamrun web: error: base_url: https://api.openai.com/v1 no longer")
    assert err.count("\n") == 1 and "sk-from-env" not in err
    assert main(["web", "--assistant", "a", "--base-url", "ftp://x/v1", "--port", "0"]) == 2
    assert "must be an absolute http(s) URL" in capsys.readouterr().err


def test_the_web_module_imports_the_fake_server_only_for_fake() -> None:
    code = "import sys, streamrun._web; print('streamrun.testing' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == "False"


# -- the tool loop with a real server (not --fake) ------------------------------------------


async def _relay_names(app: Any, message: str) -> list[tuple[str, str]]:
    async with serve(app, "127.0.0.1", 0) as url:
        async with aiohttp.ClientSession() as session:
            async with session.post(url + "api/chat", json={"message": message}) as response:
                assert response.status == 200
                return [(e.event, e.data) for e in SSEDecoder().feed(await response.read())]


@pytest.mark.asyncio
async def test_a_real_server_run_relays_the_tool_loop_and_its_outputs() -> None:
    key = "sk-real-server-key-0123456789"
    async with FakeAssistantsServer(scenario=scenarios.function_call(), api_keys=[key]) as server:
        async with AsyncClient(api_key=key, base_url=server.base_url) as client:
            app = make_app(client, assistant_id="asst_1", functions=LOOP_FUNCTIONS)
            events = await _relay_names(app, "weather in Paris?")
    names = [name for name, _ in events]
    # One relayed stream: requires_action, the output the loop computed, the continuation.
    at = names.index("streamrun.tool_output")
    assert names.index("thread.run.requires_action") < at < names.index("thread.run.completed")
    assert names[-1] == "done" and names.count("thread.run.completed") == 1
    relayed = json.loads(events[at][1])
    (submitted,) = server.requests_to("submit_tool_outputs")
    (sent,) = submitted.body["tool_outputs"]
    assert relayed["output"] == sent["output"] == current_weather("Paris, France", "celsius")
    assert relayed["tool_call"]["id"] == sent["tool_call_id"]
    assert relayed["tool_call"]["function"]["name"] == "get_current_weather"
    assert relayed["tool_call"]["function"]["output"] == sent["output"]
    assert key not in json.dumps(events)


@pytest.mark.asyncio
async def test_without_functions_a_real_server_run_waits_for_tool_outputs() -> None:
    async with FakeAssistantsServer(scenario=scenarios.function_call()) as server:
        async with AsyncClient(api_key="sk-x", base_url=server.base_url) as client:
            app = make_app(client, assistant_id="asst_1")
            names = [name for name, _ in await _relay_names(app, "weather in Paris?")]
    assert "thread.run.requires_action" in names and "streamrun.tool_output" not in names
    assert server.requests_to("submit_tool_outputs") == []


def test_no_tools_passes_no_function(monkeypatch: pytest.MonkeyPatch) -> None:
    import streamrun._web as web_module

    seen: list[Any] = []

    async def fake_main(*args: Any) -> None:
        seen.append(args[-2:])  # tools, functions

    monkeypatch.setattr(web_module, "_main", fake_main)
    assert main(["web", "--fake", "--no-tools", "--port", "0"]) == 0
    assert main(["web", "--fake", "--port", "0"]) == 0
    assert seen == [(None, None), (LOCAL_TOOLS, LOOP_FUNCTIONS)]
