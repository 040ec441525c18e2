"""The examples run as written (against the built-in fake server), and the
aiohttp-sse-client interop example never creates a second run."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from streamrun import StreamInterrupted, TextDeltaBlock, ThreadMessageDelta
from streamrun.testing import FakeAssistantsServer, Faults, scenarios

from .conftest import FIXTURES

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_example(name: str, stdin: str | None = None) -> str:
    # The checkout's streamrun, not whichever one is installed: a script's own
    # directory (examples/) comes first on sys.path, not the working directory.
    env = {**os.environ, "PYTHONPATH": str(EXAMPLES.parent)}
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        input=stdin,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def test_async_iteration_example() -> None:
    out = run_example("async_iteration.py")
    assert "Photosynthesis turns light into chemical energy" in out
    assert "final status: completed" in out


def test_handler_subclass_example() -> None:
    out = run_example("handler_subclass.py")
    # One stream across the tool call: the call is shown once, then its output.
    assert out.count("get_current_weather(") == 1
    assert 'get_current_weather({"location":"Paris, France","unit":"celsius"})\n' in out
    assert '  -> {"location": "Paris, France", "temperature": 18, "unit": "celsius"}' in out
    assert out.count("It's 18 °C in Paris") == 1
    assert "run completed" in out


def test_chatbot_example() -> None:
    out = run_example("chatbot.py", stdin="Weather in Paris?\nAnd tomorrow?\n")
    answers = out.split("you > ")
    assert answers[0] == "" and answers[-1] == ""  # a prompt, then a prompt after each answer
    assert answers[1:3] == [scenarios.WEATHER_ANSWER + "\n"] * 2


def test_with_aiohttp_sse_client_example_runs() -> None:
    out = run_example("with_aiohttp_sse_client.py")
    assert "thread.run.completed" in out
    assert "runs created on the server: 1" in out


def load_interop() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "with_aiohttp_sse_client", EXAMPLES / "with_aiohttp_sse_client.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.asyncio
async def test_interop_types_events_like_the_client() -> None:
    interop = load_interop()
    async with FakeAssistantsServer(
        auto_create_threads=True, scenario=scenarios.plain_text()
    ) as server:
        events = await interop.stream_with_event_source(server.base_url, "thread_1", "asst_1")
    text = "".join(
        part.text.value
        for event in events
        if isinstance(event, ThreadMessageDelta)
        for part in event.data.delta.content
        if isinstance(part, TextDeltaBlock) and part.text is not None and part.text.value
    )
    assert text == scenarios.PLAIN_TEXT
    assert events[-1].event == "thread.run.completed"


@pytest.mark.asyncio
async def test_interop_cut_stream_does_not_create_a_second_run() -> None:
    interop = load_interop()
    async with FakeAssistantsServer(
        auto_create_threads=True, scenario=scenarios.plain_text()
    ) as server:
        server.queue_faults(Faults(drop_after=8))
        with pytest.raises(StreamInterrupted):
            await interop.stream_with_event_source(server.base_url, "thread_1", "asst_1")
        assert server.runs_created == 1


@pytest.mark.asyncio
async def test_interop_clean_end_before_done_refuses_to_reconnect() -> None:
    interop = load_interop()
    async with FakeAssistantsServer(
        auto_create_threads=True, scenario=scenarios.plain_text()
    ) as server:
        # A recording cut before [DONE] ends the body cleanly: EventSource would
        # now re-send the POST; the example's on_error refuses instead.
        raw = (FIXTURES / "plain_text.sse").read_bytes()
        server.add_recording(
            raw[: raw.index(b"event: thread.run.completed")], endpoint="create_run"
        )
        with pytest.raises(StreamInterrupted, match="second run"):
            await interop.stream_with_event_source(server.base_url, "thread_1", "asst_1")
        assert server.runs_created == 1  # the recording served counts as the one run
        assert len(server.requests_to("create_run")) == 1
