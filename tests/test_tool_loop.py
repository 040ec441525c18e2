"""The automatic tool loop (issue 10 §2, §3): ``functions=`` answers a run's calls in its stream."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, Literal

import attrs
import pytest
import pytest_asyncio

import streamrun._tool_loop as tool_loop
from streamrun import (
    AsyncClient,
    AsyncEventHandler,
    FunctionToolCall,
    StreamInterrupted,
    ToolCallsStepDetails,
    ToolLoopError,
    ValidationError,
)
from streamrun._events import DoneEvent
from streamrun.testing import (
    FakeAssistantsServer,
    Faults,
    FunctionCall,
    FunctionCalls,
    Scenario,
    TextReply,
    scenarios,
)

ROOT = Path(__file__).resolve().parent.parent
THREAD = "thread_loop"
ASSISTANT = "asst_loop"
WEATHER = scenarios.WEATHER_ANSWER


def get_current_weather(location: str, unit: Literal["celsius", "fahrenheit"] = "celsius") -> str:
    """The weather at a place."""
    return f"18 {unit} in {location}"


class Trace(AsyncEventHandler):
    """Records the lifecycle hooks with the id of their object, and the tool outputs."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.outputs: list[tuple[str, str, str | None, str]] = []

    def _record(self, name: str, obj: Any) -> None:
        self.calls.append((name, str(obj.id)))

    async def on_run_step_created(self, run_step: Any) -> None:
        self._record("on_run_step_created", run_step)

    async def on_run_step_done(self, run_step: Any) -> None:
        self._record("on_run_step_done", run_step)

    async def on_tool_call_created(self, tool_call: Any) -> None:
        self._record("on_tool_call_created", tool_call)

    async def on_tool_call_done(self, tool_call: Any) -> None:
        self._record("on_tool_call_done", tool_call)

    async def on_message_created(self, message: Any) -> None:
        self._record("on_message_created", message)

    async def on_message_done(self, message: Any) -> None:
        self._record("on_message_done", message)

    async def on_tool_output(self, tool_call: Any, output: str) -> None:
        self.outputs.append(
            (tool_call.id, tool_call.function.name, tool_call.function.output, output)
        )

    async def on_exception(self, exception: Exception) -> None:
        self.calls.append(("on_exception", type(exception).__name__))

    async def on_end(self) -> None:
        self.calls.append(("on_end", ""))


@pytest_asyncio.fixture
async def server() -> AsyncIterator[FakeAssistantsServer]:
    async with FakeAssistantsServer(
        scenario=scenarios.function_call(), seed=5, auto_create_threads=True
    ) as srv:
        yield srv
        assert srv.internal_errors == []


@pytest_asyncio.fixture
async def client(server: FakeAssistantsServer) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(api_key="sk-loop", base_url=server.base_url) as client:
        yield client


def submitted(server: FakeAssistantsServer) -> list[list[dict[str, str]]]:
    """The tool_outputs of every submit_tool_outputs request, in order."""
    return [r.body["tool_outputs"] for r in server.requests_to("submit_tool_outputs")]


def client_tasks(tasks: set[asyncio.Task[Any]]) -> list[asyncio.Task[Any]]:
    """The tasks running this test's or streamrun's client code (not the fake server's)."""
    out = []
    for task in tasks:
        code = getattr(task.get_coro(), "cr_code", None)
        filename = "" if code is None else code.co_filename
        if "streamrun/testing" not in filename and "aiohttp" not in filename:
            out.append(task)
    return out


def calls_scenario(*calls: FunctionCall, answer: str = "Done.") -> Scenario:
    """One round of ``calls`` (their fragments streamed one call after another), then text."""
    return Scenario([FunctionCalls(list(calls), then=Scenario([TextReply(answer)]))])


def chained(*rounds: list[FunctionCall], answer: str = "All done.") -> Scenario:
    """Rounds of calls one after another (each round's outputs make the next), then text."""
    scenario = Scenario([TextReply(answer)])
    for calls in reversed(rounds):
        scenario = Scenario([FunctionCalls(calls, then=scenario)])
    return scenario


# -- one call, the same stream, the same handler ---------------------------------------


@pytest.mark.asyncio
async def test_one_call_goes_on_through_the_same_iterator(
    client: AsyncClient, server: FakeAssistantsServer
) -> None:
    handler = Trace()
    names: list[str] = []
    async with client.runs.stream(
        THREAD, assistant_id=ASSISTANT, handler=handler, functions=[get_current_weather]
    ) as stream:
        async for event in stream:
            assert not isinstance(event, DoneEvent)
            names.append(event.event)
        run = await stream.final_run()
        messages = await stream.final_messages()
    assert names.count("thread.run.requires_action") == 1
    assert names[-1] == "thread.run.completed"
    assert names.index("thread.run.requires_action") < names.index("thread.message.delta")
    assert run.status == "completed"
    assert [m.text for m in messages] == [WEATHER]
    assert submitted(server) == [
        [{"tool_call_id": handler.outputs[0][0], "output": "18 celsius in Paris, France"}]
    ]
    assert handler.outputs[0][1:] == (
        "get_current_weather",
        "18 celsius in Paris, France",
        "18 celsius in Paris, France",
    )
    assert handler.calls.count(("on_end", "")) == 1 and handler.calls[-1] == ("on_end", "")


@pytest.mark.asyncio
async def test_text_deltas_span_the_rounds(client: AsyncClient) -> None:
    async def get_current_weather(location: str, unit: str) -> dict[str, Any]:
        return {"location": location, "temperature": 18, "unit": unit}

    async with client.runs.stream(
        THREAD, assistant_id=ASSISTANT, functions={"get_current_weather": get_current_weather}
    ) as stream:
        text = "".join([delta async for delta in stream.text_deltas])
        assert stream.done
    assert text == WEATHER


@pytest.mark.asyncio
async def test_create_and_run_stream_takes_functions(
    client: AsyncClient, server: FakeAssistantsServer
) -> None:
    async with client.threads.create_and_run_stream(
        assistant_id=ASSISTANT,
        thread={"messages": [{"role": "user", "content": "Weather in Paris?"}]},
        functions=[get_current_weather],
    ) as stream:
        run = await stream.final_run()
    assert run.status == "completed"
    assert len(submitted(server)) == 1


# -- several calls, several rounds --------------------------------------------------


@pytest.mark.asyncio
async def test_three_parallel_calls_run_concurrently_sync_and_async(
    client: AsyncClient, server: FakeAssistantsServer
) -> None:
    # Each function waits until all three are running at once: run one after
    # another, the first would give up waiting (and the counter would stay at 1).
    lock = threading.Lock()
    running = 0
    most = 0
    all_in = threading.Event()

    def enter() -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
            if running == 3:
                all_in.set()

    def leave() -> None:
        nonlocal running
        with lock:
            running -= 1

    def sync_one(n: int) -> str:
        enter()
        try:
            all_in.wait(timeout=5)
            return f"sync {n}"
        finally:
            leave()

    async def async_one(n: int) -> str:
        enter()
        try:
            for _ in range(500):
                if all_in.is_set():
                    break
                await asyncio.sleep(0.01)
            return f"async {n}"
        finally:
            leave()

    server.queue_scenario(
        calls_scenario(
            FunctionCall("sync_one", '{"n": 1}'),
            FunctionCall("async_one", '{"n": 2}'),
            FunctionCall("sync_one", '{"n": 3}'),
        )
    )
    handler = Trace()
    async with client.runs.stream(
        THREAD, assistant_id=ASSISTANT, handler=handler, functions=[sync_one, async_one]
    ) as stream:
        run = await stream.final_run()
    assert run.status == "completed"
    assert most == 3
    (outputs,) = submitted(server)  # all of them in one request
    assert [o["output"] for o in outputs] == ["sync 1", "async 2", "sync 3"]
    assert [o[3] for o in handler.outputs] == ["sync 1", "async 2", "sync 3"]


@pytest.mark.asyncio
@pytest.mark.parametrize("count", [1, 3])
async def test_ready_scenario_calls_in_one_step_are_answered_in_one_request(
    client: AsyncClient, server: FakeAssistantsServer, count: int
) -> None:
    server.queue_scenario(scenarios.parallel_function_calls(count))
    async with client.runs.stream(
        THREAD, assistant_id=ASSISTANT, functions=[get_current_weather]
    ) as stream:
        text = "".join([d async for d in stream.text_deltas])
    assert text.startswith("Paris: 18 °C")
    (outputs,) = submitted(server)
    cities = ["Paris, France", "Tokyo, Japan", "London, UK"][:count]
    assert [o["output"] for o in outputs] == [f"18 celsius in {c}" for c in cities]


@pytest.mark.asyncio
async def test_interleaved_calls_are_answered_in_one_request(
    client: AsyncClient, server: FakeAssistantsServer
) -> None:
    server.queue_scenario(scenarios.interleaved_function_calls())
    async with client.runs.stream(
        THREAD, assistant_id=ASSISTANT, functions=[get_current_weather]
    ) as stream:
        text = "".join([d async for d in stream.text_deltas])
    assert text.startswith("Paris: 18 °C")
    (outputs,) = submitted(server)
    assert [o["output"] for o in outputs] == [
        "18 celsius in Paris, France",
        "18 celsius in Tokyo, Japan",
    ]


@pytest.mark.asyncio
async def test_ready_chained_scenario_runs_every_round(
    client: AsyncClient, server: FakeAssistantsServer
) -> None:
    server.queue_scenario(scenarios.chained_function_calls(3))
    handler = Trace()
    async with client.runs.stream(
        THREAD, assistant_id=ASSISTANT, handler=handler, functions=[get_current_weather]
    ) as stream:
        run = await stream.final_run()
        steps = await stream.final_run_steps()
    assert run.status == "completed"
    assert [[o["output"] for o in out] for out in submitted(server)] == [
        ["18 celsius in Paris, France"],
        ["18 celsius in Tokyo, Japan"],
        ["18 celsius in London, UK"],
    ]
    assert [s.type for s in steps] == ["tool_calls"] * 3 + ["message_creation"]
    assert [o[1] for o in handler.outputs] == ["get_current_weather"] * 3
    assert handler.calls.count(("on_end", "")) == 1


@pytest.mark.asyncio
async def test_chained_rounds_and_one_trace_per_step_and_call(
    client: AsyncClient, server: FakeAssistantsServer
) -> None:
    def lookup(city: str) -> str:
        return f"{city} is in France"

    def forecast(city: str, days: int) -> list[int]:
        return [18 + d for d in range(days)]

    server.queue_scenario(
        chained(
            [FunctionCall("lookup", '{"city": "Paris"}')],
            [FunctionCall("forecast", '{"city": "Paris", "days": 3}')],
            answer="Paris: 18, 19, 20.",
        )
    )
    handler = Trace()
    async with client.runs.stream(
        THREAD, assistant_id=ASSISTANT, handler=handler, functions=[lookup, forecast]
    ) as stream:
        run = await stream.final_run()
        steps = await stream.final_run_steps()
        messages = await stream.final_messages()
    assert run.status == "completed"
    assert [[o["output"] for o in outputs] for outputs in submitted(server)] == [
        ["Paris is in France"],
        ["[18,19,20]"],
    ]
    assert [m.text for m in messages] == ["Paris: 18, 19, 20."]
    # every step once, final status, the tool calls' outputs filled in
    assert [s.type for s in steps] == ["tool_calls", "tool_calls", "message_creation"]
    assert all(s.status == "completed" for s in steps)
    assert len({s.id for s in steps}) == 3
    outputs = [
        c.function.output
        for s in steps[:2]
        if isinstance(s.step_details, ToolCallsStepDetails)
        for c in s.step_details.tool_calls
        if isinstance(c, FunctionToolCall)
    ]
    assert outputs == ["Paris is in France", "[18,19,20]"]
    # one created/done per step, per call and per message, on_end once at the very end
    lifecycle = [c for c in handler.calls if c[0] != "on_end"]
    for kind in ("run_step", "tool_call", "message"):
        created = [c[1] for c in lifecycle if c[0] == f"on_{kind}_created"]
        done = [c[1] for c in lifecycle if c[0] == f"on_{kind}_done"]
        assert len(created) == len(set(created)) and sorted(created) == sorted(done), kind
    assert len([c for c in lifecycle if c[0] == "on_run_step_created"]) == 3
    assert len([c for c in lifecycle if c[0] == "on_tool_call_created"]) == 2
    assert handler.calls[-1] == ("on_end", "") and handler.calls.count(("on_end", "")) == 1


@pytest.mark.asyncio
async def test_submit_tool_outputs_stream_takes_functions(
    client: AsyncClient, server: FakeAssistantsServer
) -> None:
    def forecast(city: str) -> str:
        return "sunny"

    server.queue_scenario(
        chained(
            [FunctionCall("get_current_weather", '{"location": "Paris"}')],
            [FunctionCall("forecast", '{"city": "Paris"}')],
        )
    )
    async with client.runs.stream(THREAD, assistant_id=ASSISTANT) as first:
        run = await first.final_run()
    assert run.status == "requires_action" and run.required_action is not None
    call = run.required_action.submit_tool_outputs.tool_calls[0]
    async with client.runs.submit_tool_outputs_stream(
        THREAD,
        run.id,
        tool_outputs=[{"tool_call_id": call.id, "output": "18"}],
        functions=[forecast],
    ) as stream:
        final = await stream.final_run()
    assert final.status == "completed"
    assert [[o["output"] for o in outputs] for outputs in submitted(server)] == [["18"], ["sunny"]]


# -- failures become outputs --------------------------------------------------------


@attrs.define
class Forecast:
    city: str
    temperatures: list[int]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("function", "arguments", "expected"),
    [
        (lambda city: Forecast(city, [18, 19]), '{"city": "Paris"}', None),
        (lambda city: 1 / 0, '{"city": "Paris"}', "ZeroDivisionError: division by zero"),
        (lambda city: "ok", '{"city": 5}', "invalid arguments for f(): city:"),
        (lambda city: "ok", "{not json", "invalid arguments for f(): arguments are not valid"),
        (lambda city: {1, 2}, '{"city": "Paris"}', "returned a value that is not JSON"),
        (lambda city: float("nan"), '{"city": "Paris"}', "returned a value that is not JSON"),
    ],
    ids=["attrs-result", "raises", "wrong-type", "bad-json", "set-result", "nan-result"],
)
async def test_results_and_failures_become_outputs(
    client: AsyncClient,
    server: FakeAssistantsServer,
    function: Callable[[str], Any],
    arguments: str,
    expected: str | None,
) -> None:
    def f(city: str) -> Any:
        return function(city)

    server.queue_scenario(calls_scenario(FunctionCall("f", arguments)))
    handler = Trace()
    async with client.runs.stream(
        THREAD, assistant_id=ASSISTANT, handler=handler, functions=[f]
    ) as stream:
        run = await stream.final_run()
    assert run.status == "completed"  # the run goes on: the model gets the error text
    ((sent,),) = submitted(server)
    assert handler.outputs[0][3] == sent["output"]
    if expected is None:
        assert json.loads(sent["output"]) == {"city": "Paris", "temperatures": [18, 19]}
    else:
        error = json.loads(sent["output"])
        assert list(error) == ["error"] and expected in error["error"]


@pytest.mark.asyncio
async def test_a_function_cancelling_itself_gives_an_error_output(
    client: AsyncClient, server: FakeAssistantsServer
) -> None:
    async def f(city: str) -> str:
        raise asyncio.CancelledError

    server.queue_scenario(calls_scenario(FunctionCall("f", '{"city": "a"}')))
    async with client.runs.stream(THREAD, assistant_id=ASSISTANT, functions=[f]) as stream:
        run = await stream.final_run()
    assert run.status == "completed"
    ((sent,),) = submitted(server)
    assert json.loads(sent["output"]) == {"error": "f() was cancelled"}
    assert server.cancel_requests == []


@pytest.mark.asyncio
async def test_a_function_over_tool_timeout_gives_an_error_output_and_is_cancelled(
    client: AsyncClient, server: FakeAssistantsServer
) -> None:
    cancelled = asyncio.Event()

    async def slow(city: str) -> str:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return "never"

    def fast(city: str) -> str:
        return "quick"

    server.queue_scenario(
        calls_scenario(FunctionCall("slow", '{"city": "a"}'), FunctionCall("fast", '{"city": "b"}'))
    )
    async with client.runs.stream(
        THREAD, assistant_id=ASSISTANT, functions=[slow, fast], tool_timeout=0.05
    ) as stream:
        run = await stream.final_run()
    assert run.status == "completed"
    assert cancelled.is_set()
    ((slow_out, fast_out),) = submitted(server)
    assert json.loads(slow_out["output"]) == {"error": "slow() timed out after 0.05 s"}
    assert fast_out["output"] == "quick"


@pytest.mark.asyncio
async def test_a_call_naming_no_registered_function_stops_at_requires_action(
    client: AsyncClient, server: FakeAssistantsServer
) -> None:
    server.queue_scenario(
        calls_scenario(
            FunctionCall("get_current_weather", '{"location": "Paris"}'),
            FunctionCall("book_flight", '{"to": "Paris"}'),
        )
    )
    ran: list[str] = []

    def get_current_weather(location: str) -> str:
        ran.append(location)
        return "18"

    handler = Trace()
    async with client.runs.stream(
        THREAD, assistant_id=ASSISTANT, handler=handler, functions=[get_current_weather]
    ) as stream:
        run = await stream.final_run()
        assert stream.done
    assert run.status == "requires_action"
    assert ran == [] and submitted(server) == [] and handler.outputs == []
    assert server.cancel_requests == []  # the application answers it itself


# -- bounds ------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_more_rounds_than_max_tool_rounds_cancels_the_run(
    client: AsyncClient, server: FakeAssistantsServer
) -> None:
    def step(n: int) -> str:
        return str(n)

    server.queue_scenario(
        chained(*[[FunctionCall("step", json.dumps({"n": n}))] for n in range(3)])
    )
    handler = Trace()
    with pytest.raises(ToolLoopError) as caught:
        async with client.runs.stream(
            THREAD, assistant_id=ASSISTANT, handler=handler, functions=[step], max_tool_rounds=2
        ) as stream:
            await stream.until_done()
    assert caught.value.reason == "max_tool_rounds"
    run_id = caught.value.run_id
    assert run_id is not None and "max_tool_rounds=2" in str(caught.value)
    assert len(submitted(server)) == 2
    assert [r.route for r in server.cancel_requests] == [f"/threads/{THREAD}/runs/{run_id}/cancel"]
    run = server.get_run(run_id)
    assert run is not None and run["status"] in {"cancelling", "cancelled"}
    assert ("on_exception", "ToolLoopError") in handler.calls
    assert handler.calls[-1] == ("on_end", "")


@pytest.mark.asyncio
async def test_functions_still_running_when_the_run_is_about_to_expire(
    client: AsyncClient, server: FakeAssistantsServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The fake's runs live 600 s (server clock); with a margin of 599.8 s the loop
    # gives the functions what is left of the run's lifetime since the request.
    monkeypatch.setattr(tool_loop, "EXPIRY_MARGIN", 599.8)
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def get_current_weather(location: str, unit: str) -> str:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return "never"

    with pytest.raises(ToolLoopError) as caught:
        async with client.runs.stream(
            THREAD, assistant_id=ASSISTANT, functions=[get_current_weather]
        ) as stream:
            await stream.until_done()
    assert caught.value.reason == "expiring"
    assert started.is_set() and cancelled.is_set()
    assert submitted(server) == []
    assert len(server.cancel_requests) == 1
    run = server.get_run(caught.value.run_id or "")
    assert run is not None and run["status"] in {"cancelling", "cancelled"}


@pytest.mark.asyncio
async def test_a_run_expiring_within_the_margin_runs_no_function() -> None:
    ran: list[str] = []

    def get_current_weather(location: str, unit: str) -> str:
        ran.append(location)
        return "18"

    async with (
        FakeAssistantsServer(
            scenario=scenarios.function_call(), run_expiry_seconds=2, auto_create_threads=True
        ) as server,
        AsyncClient(api_key="sk-loop", base_url=server.base_url) as client,
    ):
        with pytest.raises(ToolLoopError) as caught:
            async with client.runs.stream(
                THREAD, assistant_id=ASSISTANT, functions=[get_current_weather]
            ) as stream:
                await stream.until_done()
        assert caught.value.reason == "expiring"
        assert ran == []
        assert len(server.cancel_requests) == 1


# -- abandon, faults --------------------------------------------------------------


@pytest.mark.asyncio
async def test_cancelling_the_task_mid_function_cancels_the_function_and_the_run(
    client: AsyncClient, server: FakeAssistantsServer
) -> None:
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def get_current_weather(location: str, unit: str) -> str:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return "never"

    handler = Trace()
    run_ids: list[str | None] = []

    async def consume() -> None:
        async with client.runs.stream(
            THREAD, assistant_id=ASSISTANT, handler=handler, functions=[get_current_weather]
        ) as stream:
            run_ids.append(stream.run_id)
            await stream.until_done()

    before = asyncio.all_tasks()
    task = asyncio.ensure_future(consume())
    await asyncio.wait_for(started.wait(), 5)
    assert client_tasks(asyncio.all_tasks() - before)  # the function runs in a task
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert cancelled.is_set()
    assert submitted(server) == []
    assert len(server.cancel_requests) == 1
    run = server.get_run(server.run_ids()[-1])
    assert run is not None and run["status"] in {"cancelling", "cancelled"}
    assert client_tasks(asyncio.all_tasks() - before) == []  # no function task left behind
    assert handler.calls.count(("on_end", "")) == 1


@pytest.mark.asyncio
async def test_a_drop_mid_continuation_raises_interrupted_and_recover_works(
    client: AsyncClient, server: FakeAssistantsServer
) -> None:
    server.queue_faults(Faults(drop_after=4, endpoints={"submit_tool_outputs"}))
    with pytest.raises(StreamInterrupted) as caught:
        async with client.runs.stream(
            THREAD, assistant_id=ASSISTANT, functions=[get_current_weather]
        ) as stream:
            await stream.until_done()
    assert caught.value.run_id is not None
    assert server.cancel_requests == []  # a cut run may be recovered: left be
    recovered = await stream.recover(timeout=10)
    assert recovered.run.id == caught.value.run_id
    assert recovered.run.status == "completed"
    assert recovered.text == WEATHER


@pytest.mark.asyncio
async def test_a_hook_raising_in_on_tool_output_abandons_the_run(
    client: AsyncClient, server: FakeAssistantsServer
) -> None:
    class Boom(AsyncEventHandler):
        async def on_tool_output(self, tool_call: Any, output: str) -> None:
            raise KeyError("display broke")

    with pytest.raises(KeyError):
        async with client.runs.stream(
            THREAD, assistant_id=ASSISTANT, handler=Boom(), functions=[get_current_weather]
        ) as stream:
            await stream.until_done()
    assert submitted(server) == []
    assert len(server.cancel_requests) == 1


@pytest.mark.asyncio
async def test_cancel_at_requires_action_submits_nothing(
    client: AsyncClient, server: FakeAssistantsServer
) -> None:
    async with client.runs.stream(
        THREAD, assistant_id=ASSISTANT, functions=[get_current_weather]
    ) as stream:
        async for event in stream:
            if event.event == "thread.run.requires_action":
                break
        run = await stream.cancel()
    assert run.status in {"cancelling", "cancelled"}
    assert submitted(server) == [] and len(server.cancel_requests) == 1


CTRL_C_SCRIPT = """
import asyncio, sys
from streamrun import AsyncClient
from streamrun.testing import FakeAssistantsServer, scenarios

state = {}

async def get_current_weather(location: str, unit: str) -> str:
    print("function started", flush=True)
    try:
        await asyncio.Event().wait()
    except asyncio.CancelledError:
        state["function"] = "cancelled"
        raise
    return "never"

async def main() -> None:
    async with FakeAssistantsServer(
        scenario=scenarios.function_call(), auto_create_threads=True
    ) as server:
        try:
            async with AsyncClient(api_key="sk-x", base_url=server.base_url) as client:
                async with client.runs.stream(
                    "thread_c", assistant_id="asst_c", functions=[get_current_weather]
                ) as stream:
                    await stream.until_done()
        finally:
            run = server.get_run(server.run_ids()[-1])
            print("function", state.get("function"), flush=True)
            print("cancel requests", len(server.cancel_requests), flush=True)
            print("run", run["status"], flush=True)

asyncio.run(main())
"""


@pytest.mark.asyncio
async def test_ctrl_c_mid_function_cancels_the_function_and_the_run() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CTRL_C_SCRIPT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    assert proc.stdout is not None
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), 30)
        assert line == b"function started\n"
        proc.send_signal(signal.SIGINT)
        out, err = await asyncio.wait_for(proc.communicate(), 30)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert b"KeyboardInterrupt" in err
    lines = out.decode().splitlines()
    assert lines[0] == "function cancelled"
    assert lines[1] == "cancel requests 1"
    assert lines[2] in {"run cancelling", "run cancelled"}


# -- validation before I/O ----------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"functions": get_current_weather}, "functions"),
        (
            {"functions": [get_current_weather, get_current_weather]},
            "functions['get_current_weather']",
        ),
        ({"functions": [42]}, "functions[0]"),
        ({"functions": {"f": lambda *a: None}}, "functions['f']"),
        ({"functions": {"bad name": get_current_weather}}, "functions['bad name']"),
        ({"functions": [get_current_weather], "max_tool_rounds": 0}, "max_tool_rounds"),
        ({"functions": [get_current_weather], "tool_timeout": -1}, "tool_timeout"),
        ({"max_tool_rounds": 3}, "max_tool_rounds"),
        ({"tool_timeout": 3.0}, "tool_timeout"),
    ],
)
def test_functions_are_checked_before_any_io(kwargs: dict[str, Any], path: str) -> None:
    client = AsyncClient(api_key="sk-loop", base_url="http://127.0.0.1:9")
    with pytest.raises(ValidationError) as caught:
        client.runs.stream(THREAD, assistant_id=ASSISTANT, **kwargs)
    assert caught.value.path == path


def test_outputs_encoding() -> None:
    assert tool_loop.encode_output("as is") == "as is"
    assert tool_loop.encode_output({"a": [1, "é"]}) == '{"a":[1,"é"]}'
    assert tool_loop.encode_output(None) == "null"
    assert tool_loop.encode_output(Forecast("Paris", [1])) == '{"city":"Paris","temperatures":[1]}'
    assert json.loads(tool_loop.error_output('say "hi"')) == {"error": 'say "hi"'}


@pytest.mark.asyncio
@pytest.mark.parametrize("escaped", [False, True])
@pytest.mark.parametrize("offset", [0, 20, 30, 34])
async def test_a_key_in_bad_arguments_is_redacted_before_the_error_output_cuts_it(
    server: FakeAssistantsServer,
    caplog: pytest.LogCaptureFixture,
    offset: int,
    escaped: bool,
) -> None:
    key = "sk-loop-0123456789abcdefghijklmnopqrstuvwxyz"
    written = "".join(f"\\u{ord(c):04x}" for c in key) if escaped else key
    caplog.set_level("INFO", logger="streamrun")

    def f(count: int) -> str:
        return str(count)

    # A string where an integer is expected: the error quotes the value, shortened.
    arguments = '{"count": "' + "x" * offset + written + '"}'
    server.queue_scenario(calls_scenario(FunctionCall("f", arguments)))
    handler = Trace()
    async with AsyncClient(api_key=key, base_url=server.base_url) as client:
        async with client.runs.stream(
            THREAD, assistant_id=ASSISTANT, handler=handler, functions=[f]
        ) as stream:
            await stream.final_run()
    ((sent,),) = submitted(server)
    shown = [sent["output"], handler.outputs[0][3], *(r.getMessage() for r in caplog.records)]
    assert "expected an integer" in json.loads(sent["output"])["error"]
    for text in shown:
        assert key[:8] not in text and written[:24] not in text, text
