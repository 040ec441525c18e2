"""Entry points of the fake server: CLI, pytest fixture, clean shutdown."""

from __future__ import annotations

import asyncio
import re
import signal
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from streamrun.testing import FakeAssistantsServer, FakeServerError, Faults, Pause, Scenario

FIXTURES = Path(__file__).resolve().parent / "fixtures"
AUTH = {"Authorization": "Bearer test-key"}


@pytest.mark.asyncio
async def test_cli_serves_until_terminated() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "streamrun.testing",
        "--port",
        "0",
        "--scenario",
        "function_call",
        "--fixtures",
        str(FIXTURES),
        "--auto-create-threads",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode().strip()
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/v1", line), line
        async with aiohttp.ClientSession(headers=AUTH) as http:
            body = {"assistant_id": "asst_cli", "stream": True}
            async with http.post(f"{line}/threads/thread_cli/runs", json=body) as resp:
                assert resp.status == 200
                raw = await resp.read()
            assert b"event: thread.run.requires_action" in raw
            async with http.post(
                f"{line}/threads/thread_other/runs",
                json=body,
                headers={"x-fake-recording": "plain_text"},
            ) as resp:
                assert await resp.read() == (FIXTURES / "plain_text.sse").read_bytes()
            # The Responses API is served too, from the same default scenario.
            body = {"model": "gpt-fake", "input": "Hi", "stream": True}
            async with http.post(f"{line}/responses", json=body) as resp:
                assert resp.status == 200
                raw = await resp.read()
            assert raw.startswith(b"event: response.created\n")
            assert b"event: response.completed\n" in raw
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), 10)
    assert code == 0
    assert proc.stderr is not None
    assert b"plain_text" in await proc.stderr.read()


@pytest.mark.fake_assistants_server(auto_create_threads=True)
@pytest.mark.asyncio
async def test_pytest_fixture(fake_assistants_server: FakeAssistantsServer) -> None:
    assert fake_assistants_server.base_url.startswith("http://127.0.0.1:")
    async with (
        aiohttp.ClientSession(headers=AUTH) as http,
        http.post(
            f"{fake_assistants_server.base_url}/threads/thread_fx/runs",
            json={"assistant_id": "a", "stream": True},
        ) as resp,
    ):
        assert resp.status == 200
        assert (await resp.read()).endswith(b"data: [DONE]\n\n")
    assert fake_assistants_server.runs_created == 1


@pytest.mark.fake_assistants_server(scenario="failed_run", base_path="/openai")
@pytest.mark.asyncio
async def test_pytest_fixture_marker_arguments(
    fake_assistants_server: FakeAssistantsServer,
) -> None:
    assert fake_assistants_server.base_url.endswith("/openai")
    scenario = fake_assistants_server.default_scenario
    assert isinstance(scenario, Scenario) and scenario.name == "failed_run"


@pytest.mark.asyncio
async def test_close_ends_everything_quickly() -> None:
    server = FakeAssistantsServer(scenario=Scenario([Pause(30)]), auto_create_threads=True)
    await server.start()
    with pytest.raises(FakeServerError):
        await server.start()
    http = aiohttp.ClientSession(headers=AUTH)
    body = {"assistant_id": "a", "stream": True}
    # A stream stalled on the wire, a run paused on the server, a dropped stream.
    server.queue_faults(Faults(stall_after=1, stall_seconds=30))
    stalled = await http.post(f"{server.base_url}/threads/t1/runs", json=body)
    paused = await http.post(f"{server.base_url}/threads/t2/runs", json=body)
    server.queue_faults(Faults(drop_after=2))
    dropped = await http.post(f"{server.base_url}/threads/t3/runs", json=body)
    with pytest.raises(aiohttp.ClientPayloadError):
        await dropped.read()
    await asyncio.sleep(0.05)
    started = time.monotonic()
    await server.close()
    await server.close()  # idempotent
    assert time.monotonic() - started < 3
    for resp in (stalled, paused):
        try:
            await resp.read()
        except aiohttp.ClientError:
            pass
        resp.release()
    await http.close()
    assert server.internal_errors == []
    leftover = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    assert leftover == []
    with pytest.raises(FakeServerError):
        _ = server.base_url


def test_public_surface() -> None:
    import streamrun.testing as testing

    assert list(testing.__all__) == sorted(testing.__all__, key=lambda n: (not n.isupper(), n))
    public = {n for n in dir(testing) if n.isidentifier() and not n.startswith("_")}
    assert set(testing.__all__) <= public
    modules = {"scenarios", "pytest_plugin"}
    assert public - set(testing.__all__) <= modules | {"annotations"}


def test_layer_rule_no_client_imports() -> None:
    """streamrun.testing imports only aiohttp, attrs, the stdlib, the exceptions, the
    request validators of streamrun (run bodies and Responses bodies) and its bounded
    JSON decoder (``_json``, stdlib-only: request bodies keep to MAX_DEPTH)."""
    import ast

    package = Path(__file__).resolve().parents[1] / "streamrun" / "testing"
    allowed_streamrun = {
        "streamrun._exceptions",
        "streamrun._json",
        "streamrun._requests",
        "streamrun._responses_requests",
    }
    third_party = {"aiohttp", "attrs", "pytest", "pytest_asyncio"}
    for path in package.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top == "streamrun":
                    assert name in allowed_streamrun, (path.name, name)
                else:
                    assert top in third_party or top in sys.stdlib_module_names, (path.name, name)
        if path.name == "_server.py":
            assert '"streamrun._requests"' in path.read_text(encoding="utf-8")
