"""``streamrun web``: the subcommand, its defaults, and a key that never reaches the browser."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from streamrun import AsyncClient
from streamrun._cli import LOCAL_TOOLS, build_parser, fake_reply, main
from streamrun._web import make_app, serve
from streamrun.sse import SSEDecoder
from streamrun.testing import FakeAssistantsServer

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
