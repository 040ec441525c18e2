"""The command line's conversations run local functions through the tool loop (issue 10 §5)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from streamrun import AsyncClient, AsyncEventHandler
from streamrun._cli import LOCAL_TOOLS, LOOP_FUNCTIONS, Session, current_weather
from streamrun._display import Display
from streamrun._recording import Recorder, read_recording
from streamrun.testing import FakeAssistantsServer, FunctionCall, FunctionCalls, Scenario, TextReply

PARIS = '{"location":"Paris, France","unit":"celsius"}'
TOKYO = '{"location":"Tokyo, Japan","unit":"celsius"}'


def two_rounds() -> Scenario:
    answer = Scenario([TextReply("Paris is rainy, Tokyo sunny.")])
    second = Scenario([FunctionCalls([FunctionCall("get_current_weather", TOKYO)], then=answer)])
    return Scenario([FunctionCalls([FunctionCall("get_current_weather", PARIS)], then=second)])


class CountingDisplay(Display):
    """A plain display that counts the handlers it makes."""

    def __init__(self, out: io.StringIO) -> None:
        super().__init__(out, mode="plain")
        self.handlers = 0

    def handler(self, on_tool_output: Any = None) -> AsyncEventHandler:
        self.handlers += 1
        return super().handler(on_tool_output)


@pytest.mark.asyncio
async def test_a_turn_with_two_tool_rounds_is_one_stream_and_one_handler(tmp_path: Path) -> None:
    out = io.StringIO()
    display = CountingDisplay(out)
    path = tmp_path / "turn.jsonl"
    async with (
        FakeAssistantsServer(scenario=two_rounds(), seed=7) as server,
        AsyncClient(api_key="k", base_url=server.base_url) as client,
    ):
        with Recorder(path) as recorder:
            session = Session(client, display, recorder=recorder, tools=LOCAL_TOOLS)
            assert session.functions == {"get_current_weather": current_weather}
            run = await session.create_and_run("asst_1", "Weather in Paris and Tokyo?")
            stream = session.active
        submits = server.requests_to("submit_tool_outputs")
    display.finish()
    assert run.status == "completed"
    # The tool loop answered both rounds inside one stream, drawn by one handler.
    assert display.handlers == 1
    assert stream is not None and stream.done
    outputs = [json.loads(r.body["tool_outputs"][0]["output"]) for r in submits]
    assert [o["location"] for o in outputs] == ["Paris, France", "Tokyo, Japan"]
    text = out.getvalue()
    assert text.count("get_current_weather(") == 2  # each call drawn once
    assert text.count("\noutput ") == 2
    # The recording keeps one entry per HTTP stream, the submits with their outputs.
    streams = read_recording(path)
    assert [s.endpoint for s in streams] == [
        "create_thread_and_run",
        "submit_tool_outputs",
        "submit_tool_outputs",
    ]
    assert [s.request["tool_outputs"] for s in streams[1:]] == [
        r.body["tool_outputs"] for r in submits
    ]
    assert all(s.data.rstrip().endswith(b"data: [DONE]") for s in streams)
    assert streams[1].path == f"/threads/{run.thread_id}/runs/{run.id}/submit_tool_outputs"


def test_the_loop_functions_answer_like_the_local_tools() -> None:
    assert set(LOOP_FUNCTIONS) <= set(LOCAL_TOOLS)
    assert current_weather("Tokyo, Japan", "fahrenheit") == LOCAL_TOOLS["get_current_weather"](
        json.dumps({"location": "Tokyo, Japan", "unit": "fahrenheit"})
    )
