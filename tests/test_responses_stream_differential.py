"""The same scenario as a run stream (fake Assistants server) and as a Responses stream
(a local Responses server), read by the client end to end: the same handler trace
(ids aside) and the same final text — tool loop included.
"""

from __future__ import annotations

from typing import Any

import pytest

from streamrun import AsyncClient
from streamrun._callbacks import OnToolOutput
from streamrun.testing import FakeAssistantsServer, scenarios
from streamrun.testing._scenarios import Scenario

from ._responses_server import ResponsesServer, running
from .test_handler import Recorder
from .test_responses_differential import summary


def weather(location: str, unit: str) -> str:
    return f"{location}: 18 {unit}"


FUNCTIONS = {"get_current_weather": weather}

CASES = {
    "plain_text": scenarios.plain_text,
    "refusal": scenarios.refusal,
    "function_call": scenarios.function_call,
    "chained_function_calls": lambda: scenarios.chained_function_calls(2),
    "incomplete_run": scenarios.incomplete_run,
    "failed_run": scenarios.failed_run,
}


def trace(recorder: Recorder) -> list[tuple[Any, ...]]:
    out = []
    for name, args in recorder.calls:
        if name in ("on_event", "on_end", "on_exception"):
            continue
        if name == OnToolOutput.hook:
            out.append((name, args[0].function.name, args[1]))
            continue
        out.append(summary(name, args))
    return out


async def as_run_stream(scenario: Scenario) -> tuple[list[Any], str]:
    recorder = Recorder()
    async with FakeAssistantsServer(scenario=scenario, auto_create_threads=True, seed=3) as srv:
        async with AsyncClient(api_key="sk-x", base_url=srv.base_url) as client:
            async with client.runs.stream(
                "thread_1", assistant_id="asst_1", handler=recorder, functions=FUNCTIONS
            ) as stream:
                await stream.until_done()
                messages = await stream.final_messages()
    return trace(recorder), "".join(m.text for m in messages)


async def as_responses_stream(scenario: Scenario) -> tuple[list[Any], str]:
    recorder = Recorder()
    async with running(ResponsesServer(scenario)) as srv:
        async with AsyncClient(api_key="sk-x", base_url=srv.base_url) as client:
            async with client.responses.stream(
                model="m", input="x", handler=recorder, functions=FUNCTIONS
            ) as stream:
                await stream.until_done()
                messages = await stream.final_messages()
    return trace(recorder), "".join(m.text for m in messages)


@pytest.mark.asyncio
@pytest.mark.parametrize("name", sorted(CASES))
async def test_the_same_scenario_gives_the_same_trace_both_ways(name: str) -> None:
    run_trace, run_text = await as_run_stream(CASES[name]())
    responses_trace, responses_text = await as_responses_stream(CASES[name]())
    assert responses_text == run_text
    assert responses_trace == run_trace


@pytest.mark.asyncio
async def test_parallel_calls_differ_only_in_their_steps() -> None:
    # Assistants put parallel calls in one tool_calls step; the Responses API has one
    # output item, hence one step, per call. Calls, outputs and text are the same.
    def calls_only(items: list[Any]) -> list[Any]:
        return [i for i in items if "run_step" not in i[0]]

    run_trace, run_text = await as_run_stream(scenarios.parallel_function_calls(3))
    responses_trace, responses_text = await as_responses_stream(
        scenarios.parallel_function_calls(3)
    )
    assert responses_text == run_text
    assert calls_only(responses_trace) == calls_only(run_trace)
    steps = [i for i in responses_trace if i[0] == "on_run_step_created"]
    assert [s[1] for s in steps] == ["tool_calls"] * 3 + ["message_creation"]
