"""The fake Assistants server: event order, ids, state, tool calls, cancel, errors."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from streamrun.testing import (
    READY_SCENARIOS,
    FakeAssistantsServer,
    Faults,
    FunctionCall,
    FunctionCalls,
    Pause,
    Scenario,
    ScenarioError,
    TextReply,
    ToolOutput,
    scenarios,
    split_fragments,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures"
AUTH = {"Authorization": "Bearer test-key"}
ID_RE = {
    "run": re.compile(r"run_[A-Za-z0-9]{24}"),
    "step": re.compile(r"step_[A-Za-z0-9]{24}"),
    "msg": re.compile(r"msg_[A-Za-z0-9]{24}"),
    "call": re.compile(r"call_[A-Za-z0-9]{24}"),
    "thread": re.compile(r"thread_[A-Za-z0-9]{24}"),
}
INCLUDE = "step_details.tool_calls[*].file_search.results[*].content"
REQ_ID = re.compile(r"req_[0-9a-f]{32}")

# Event sequences of PROTOCOL §5, as regular expressions over the event names.
START = "thread.run.created thread.run.queued thread.run.in_progress "
MSG = (
    "thread.run.step.created thread.run.step.in_progress thread.message.created "
    "thread.message.in_progress (thread.message.delta )+thread.message.completed "
    "thread.run.step.completed "
)
TOOL = (
    "thread.run.step.created thread.run.step.in_progress (thread.run.step.delta )+"
    "thread.run.step.completed "
)
TOOL_WAIT = (
    "thread.run.step.created thread.run.step.in_progress (thread.run.step.delta )+"
    "thread.run.requires_action done"
)
OPEN_MSG = (
    "thread.run.step.created thread.run.step.in_progress thread.message.created "
    "thread.message.in_progress (thread.message.delta )+"
)
EXPECTED_ORDER = {
    "plain_text": START + MSG + "thread.run.completed done",
    "text_with_annotations": START + MSG + "thread.run.completed done",
    "function_call": START + TOOL_WAIT,
    "parallel_function_calls": START + TOOL_WAIT,
    "interleaved_function_calls": START + TOOL_WAIT,
    "chained_function_calls": START + TOOL_WAIT,
    "code_interpreter": START + TOOL + MSG + "thread.run.completed done",
    "file_search": START + TOOL + MSG + "thread.run.completed done",
    "failed_run": START + "thread.run.failed done",
    "incomplete_run": START
    + OPEN_MSG
    + "thread.message.incomplete thread.run.step.completed thread.run.incomplete done",
    "error_event": START + OPEN_MSG + "error done",
    "error_event_wrapped": START + OPEN_MSG + "error done",
    "refusal": START + MSG + "thread.run.completed done",
}
CONTINUATION_ORDER = (
    "thread.run.step.completed thread.run.queued thread.run.in_progress "
    + MSG
    + "thread.run.completed done"
)


def parse_sse(body: bytes) -> list[tuple[str, Any]]:
    """Tiny SSE parser for the fake's output: (event name, decoded data) per block."""
    events: list[tuple[str, Any]] = []
    for block in body.decode("utf-8").split("\n\n"):
        if not block:
            continue
        lines = block.split("\n")
        assert len(lines) == 2, block
        assert lines[0].startswith("event: ") and lines[1].startswith("data: "), block
        name, data = lines[0][7:], lines[1][6:]
        events.append((name, data if data == "[DONE]" else json.loads(data)))
    return events


def names(events: list[tuple[str, Any]]) -> str:
    return " ".join(name for name, _ in events)


def message_texts_from_deltas(events: list[tuple[str, Any]]) -> dict[str, str]:
    """Concatenated text/refusal fragments per message id."""
    out: dict[str, str] = {}
    for name, data in events:
        if name == "thread.message.delta":
            for entry in data["delta"]["content"]:
                if entry["type"] == "text":
                    out[data["id"]] = out.get(data["id"], "") + entry["text"]["value"]
                elif entry["type"] == "refusal":
                    out[data["id"]] = out.get(data["id"], "") + entry["refusal"]
    return out


def final_text(message: dict[str, Any]) -> str:
    parts = []
    for part in message["content"]:
        if part["type"] == "text":
            parts.append(part["text"]["value"])
        elif part["type"] == "refusal":
            parts.append(part["refusal"])
    return "".join(parts)


@pytest_asyncio.fixture
async def server() -> AsyncIterator[FakeAssistantsServer]:
    async with FakeAssistantsServer(auto_create_threads=True) as srv:
        yield srv


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers=AUTH) as session:
        yield session


async def stream_run(
    http: aiohttp.ClientSession,
    server: FakeAssistantsServer,
    thread_id: str = "thread_test",
    *,
    scenario: str | None = None,
    body: dict[str, Any] | None = None,
    query: str = "",
) -> tuple[int, list[tuple[str, Any]], bytes]:
    headers = {"x-fake-scenario": scenario} if scenario else {}
    payload = {"assistant_id": "asst_test", "stream": True, **(body or {})}
    async with http.post(
        f"{server.base_url}/threads/{thread_id}/runs{query}", json=payload, headers=headers
    ) as resp:
        raw = await resp.read()
        if resp.status != 200:
            return resp.status, [], raw
        assert resp.headers["Content-Type"] == "text/event-stream; charset=utf-8"
        return resp.status, parse_sse(raw), raw


def assert_official_error(body: Any, message: str | None = None, param: Any = "skip") -> None:
    assert list(body) == ["error"]
    err = body["error"]
    assert list(err) == ["message", "type", "param", "code"]
    assert isinstance(err["message"], str) and err["message"]
    if message is not None:
        assert err["message"] == message
    if param != "skip":
        assert err["param"] == param


# ---------------------------------------------------------------------------
# Ready scenarios on the wire


@pytest.mark.asyncio
@pytest.mark.parametrize("name", sorted(READY_SCENARIOS))
async def test_ready_scenario_event_order_and_ids(
    name: str, server: FakeAssistantsServer, http: aiohttp.ClientSession
) -> None:
    status, events, raw = await stream_run(http, server, f"thread_{name}", scenario=name)
    assert status == 200
    assert re.fullmatch(EXPECTED_ORDER[name], names(events)), names(events)
    assert raw.endswith(b"event: done\ndata: [DONE]\n\n")
    # JSON as the service writes it: compact separators, raw non-ASCII.
    for block in raw.decode().split("\n\n")[:-2]:
        data = block.split("\n")[1][6:]
        assert data == json.dumps(json.loads(data), separators=(",", ":"), ensure_ascii=False)

    run_ids = {d["id"] for n, d in events if n.startswith("thread.run.") and ".step" not in n}
    assert len(run_ids) == 1
    run_id = run_ids.pop()
    assert ID_RE["run"].fullmatch(run_id)
    steps: dict[str, dict[str, Any]] = {}
    for n, d in events:
        if n == "done" or n == "error":
            continue
        if n == "thread.message.delta" or n == "thread.run.step.delta":
            continue
        assert d["thread_id"] == f"thread_{name}"
        if n.startswith("thread.run.step."):
            assert ID_RE["step"].fullmatch(d["id"]) and d["run_id"] == run_id
            steps[d["id"]] = d
        if n.startswith("thread.message."):
            assert ID_RE["msg"].fullmatch(d["id"]) and d["run_id"] == run_id
    message_ids = [
        s["step_details"]["message_creation"]["message_id"]
        for s in steps.values()
        if s["type"] == "message_creation"
    ]
    created = [d["id"] for n, d in events if n == "thread.message.created"]
    assert message_ids == created
    for n, d in events:
        if n == "thread.message.delta":
            assert d["id"] in created
        if n == "thread.run.step.delta":
            assert d["id"] in steps
            for call in d["delta"]["step_details"]["tool_calls"]:
                if "id" in call:
                    assert ID_RE["call"].fullmatch(call["id"])
        if n in ("thread.message.created", "thread.message.in_progress"):
            assert d["content"] == []

    # Text deltas concatenate to the final message text.
    texts = message_texts_from_deltas(events)
    finals = {
        d["id"]: final_text(d)
        for n, d in events
        if n in ("thread.message.completed", "thread.message.incomplete")
    }
    for msg_id, text in finals.items():
        assert texts[msg_id] == text
    expected = READY_SCENARIOS[name]().message_texts()
    if name.startswith("error_event"):
        assert finals == {} and list(texts.values()) == expected
    elif name.endswith("function_calls") or name == "function_call":
        assert finals == {} and texts == {}
    else:
        assert list(finals.values()) == expected


@pytest.mark.asyncio
async def test_generated_objects_have_the_fixture_key_order(
    server: FakeAssistantsServer, http: aiohttp.ClientSession
) -> None:
    fixture = parse_sse((FIXTURES / "code_interpreter.sse").read_bytes())
    _, ours, _ = await stream_run(http, server, scenario="code_interpreter")
    theirs_by_name: dict[str, Any] = {}
    for n, d in fixture:
        theirs_by_name.setdefault(n, d)
    ours_by_name: dict[str, Any] = {}
    for n, d in ours:
        ours_by_name.setdefault(n, d)
    assert set(ours_by_name) == set(theirs_by_name)
    for n, d in theirs_by_name.items():
        if isinstance(d, dict):
            assert list(ours_by_name[n]) == list(d), n
    for n in ("thread.run.step.completed", "thread.run.completed", "thread.message.completed"):
        ours_usage = ours_by_name[n].get("usage") or {}
        assert list(ours_usage) == list(theirs_by_name[n].get("usage") or {})
    # First tool-call delta carries id/type; first text delta carries annotations: [].
    first_step_delta = next(d for n, d in ours if n == "thread.run.step.delta")
    call = first_step_delta["delta"]["step_details"]["tool_calls"][0]
    assert list(call) == ["index", "id", "type", "code_interpreter"]
    assert call["code_interpreter"] == {"input": "", "outputs": []}
    text_deltas = [
        e
        for n, d in ours
        if n == "thread.message.delta"
        for e in d["delta"]["content"]
        if e["type"] == "text"
    ]
    assert text_deltas[0]["text"]["annotations"] == []
    assert all("annotations" not in e["text"] for e in text_deltas[1:])
    # Steps in progress carry the run's expires_at; completed ones null.
    run_expires = ours_by_name["thread.run.created"]["expires_at"]
    assert ours_by_name["thread.run.step.created"]["expires_at"] == run_expires
    assert ours_by_name["thread.run.step.completed"]["expires_at"] is None
    assert ours_by_name["thread.run.completed"]["expires_at"] is None
    assert run_expires == ours_by_name["thread.run.created"]["created_at"] + 600


@pytest.mark.asyncio
async def test_run_echoes_request_fields(
    server: FakeAssistantsServer, http: aiohttp.ClientSession
) -> None:
    tools = [
        {"type": "code_interpreter"},
        {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}},
    ]
    body = {
        "model": "gpt-4o-mini",
        "instructions": "Be brief.",
        "tools": tools,
        "metadata": {"k": "v"},
        "temperature": 0.5,
        "top_p": 1,
        "max_completion_tokens": 300,
        "max_prompt_tokens": 1000,
        "truncation_strategy": {"type": "last_messages", "last_messages": 3},
        "tool_choice": "required",
        "response_format": {"type": "json_object"},
        "parallel_tool_calls": False,
    }
    _, events, _ = await stream_run(http, server, body=body)
    run = events[0][1]
    assert run["model"] == "gpt-4o-mini"
    assert run["instructions"] == "Be brief."
    assert run["tools"][0] == {"type": "code_interpreter"}
    assert run["tools"][1]["function"] == {
        "name": "get_weather",
        "parameters": {"type": "object"},
        "strict": False,
    }
    assert run["metadata"] == {"k": "v"}
    assert run["temperature"] == 0.5 and run["top_p"] == 1.0
    assert run["max_completion_tokens"] == 300 and run["max_prompt_tokens"] == 1000
    assert run["truncation_strategy"] == {"type": "last_messages", "last_messages": 3}
    assert run["tool_choice"] == "required"
    assert run["response_format"] == {"type": "json_object"}
    assert run["parallel_tool_calls"] is False


@pytest.mark.asyncio
async def test_interleaved_calls_interleave_and_share_delta_events(
    server: FakeAssistantsServer, http: aiohttp.ClientSession
) -> None:
    # The interleaved case moved from parallel_function_calls (now streamed one
    # call after another, as real servers do) to its own named scenario.
    _, events, _ = await stream_run(http, server, scenario="interleaved_function_calls")
    deltas = [d["delta"]["step_details"]["tool_calls"] for n, d in events if n.endswith("delta")]
    indices = [[e["index"] for e in entries] for entries in deltas]
    assert [0, 1] in indices  # one event carries fragments of two calls
    flat = [i for group in indices for i in group]
    switches = sum(1 for a, b in itertools.pairwise(flat) if a != b)
    assert switches > 4  # the fragments interleave
    args: dict[int, str] = {0: "", 1: ""}
    for entries in deltas:
        for e in entries:
            args[e["index"]] += e["function"]["arguments"]
    action = events[-2][1]["required_action"]["submit_tool_outputs"]["tool_calls"]
    assert [json.loads(args[0]), json.loads(args[1])] == [
        json.loads(c["function"]["arguments"]) for c in action
    ]


@pytest.mark.asyncio
async def test_thread_and_run_starts_with_thread_created(
    server: FakeAssistantsServer, http: aiohttp.ClientSession
) -> None:
    body = {
        "assistant_id": "asst_x",
        "stream": True,
        "thread": {"messages": [{"role": "user", "content": "Hi"}], "metadata": {"a": "b"}},
    }
    async with http.post(f"{server.base_url}/threads/runs", json=body) as resp:
        assert resp.status == 200
        events = parse_sse(await resp.read())
    assert re.fullmatch(
        "thread.created " + START + MSG + "thread.run.completed done", names(events)
    )
    thread = events[0][1]
    assert list(thread) == ["id", "object", "created_at", "metadata"]
    assert ID_RE["thread"].fullmatch(thread["id"]) and thread["metadata"] == {"a": "b"}
    run = events[1][1]
    assert run["thread_id"] == thread["id"] and run["tool_resources"] == {}
    messages = server.thread_messages(thread["id"])
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert messages[0]["content"] == [{"type": "text", "text": {"value": "Hi", "annotations": []}}]


# ---------------------------------------------------------------------------
# Tool calls


@pytest.mark.asyncio
async def test_function_call_submit_protocol(
    server: FakeAssistantsServer, http: aiohttp.ClientSession
) -> None:
    _, events, _ = await stream_run(http, server, "thread_tools", scenario="function_call")
    run = events[-2][1]
    assert run["status"] == "requires_action"
    calls = run["required_action"]["submit_tool_outputs"]["tool_calls"]
    first_delta = next(d for n, d in events if n == "thread.run.step.delta")
    assert [calls[0]["id"]] == [e["id"] for e in first_delta["delta"]["step_details"]["tool_calls"]]
    assert calls[0]["function"]["name"] == "get_current_weather"
    # The tool step stays in progress; GET shows requires_action.
    async with http.get(f"{server.base_url}/threads/thread_tools/runs/{run['id']}") as resp:
        assert (await resp.json())["status"] == "requires_action"
    assert server.run_steps(run["id"])[0]["status"] == "in_progress"

    url = f"{server.base_url}/threads/thread_tools/runs/{run['id']}/submit_tool_outputs"
    wrong = {"tool_outputs": [{"tool_call_id": "call_nope", "output": "x"}], "stream": True}
    async with http.post(url, json=wrong) as resp:
        assert resp.status == 400
        body = await resp.json()
    assert_official_error(body)
    assert body["error"]["type"] == "invalid_request_error"
    assert "call_nope" in body["error"]["message"] and calls[0]["id"] in body["error"]["message"]

    output = '{"temperature":18}'
    good = {"tool_outputs": [{"tool_call_id": calls[0]["id"], "output": output}], "stream": True}
    async with http.post(url, json=good) as resp:
        assert resp.status == 200
        cont = parse_sse(await resp.read())
    assert re.fullmatch(CONTINUATION_ORDER, names(cont)), names(cont)
    assert "thread.run.created" not in names(cont)
    step = cont[0][1]
    assert step["status"] == "completed" and step["usage"] is not None
    assert step["step_details"]["tool_calls"][0]["function"]["output"] == output
    assert step["step_details"]["tool_calls"][0]["id"] == calls[0]["id"]
    assert cont[1][1]["id"] == run["id"] and cont[1][1]["required_action"] is None
    final = cont[-2][1]
    assert final["status"] == "completed"
    step_usages = [s["usage"] for s in server.run_steps(run["id"])]
    assert final["usage"]["total_tokens"] == sum(u["total_tokens"] for u in step_usages)
    text = next(final_text(d) for n, d in cont if n == "thread.message.completed")
    assert text == scenarios.WEATHER_ANSWER

    async with http.post(url, json=good) as resp:
        assert resp.status == 400
        assert_official_error(
            await resp.json(), 'Runs in status "completed" do not accept tool outputs.'
        )


@pytest.mark.asyncio
async def test_submit_must_cover_every_call(
    server: FakeAssistantsServer, http: aiohttp.ClientSession
) -> None:
    _, events, _ = await stream_run(http, server, scenario="parallel_function_calls")
    run = events[-2][1]
    ids = [c["id"] for c in run["required_action"]["submit_tool_outputs"]["tool_calls"]]
    url = f"{server.base_url}/threads/thread_test/runs/{run['id']}/submit_tool_outputs"
    partial = {"tool_outputs": [{"tool_call_id": ids[0], "output": "a"}]}
    async with http.post(url, json=partial) as resp:
        assert resp.status == 400
        assert_official_error(await resp.json(), param="tool_outputs")
    both = {"tool_outputs": [{"tool_call_id": i, "output": "a"} for i in reversed(ids)]}
    async with http.post(url, json=both) as resp:  # non-streaming submit
        assert resp.status == 200
        assert (await resp.json())["status"] == "queued"
    final = await server.wait_for_run(run["id"])
    assert final["status"] == "completed"
    outputs = server.run_steps(run["id"])[0]["step_details"]["tool_calls"]
    assert [o["function"]["output"] for o in outputs] == ["a", "a"]


@pytest.mark.asyncio
async def test_callable_continuation_sees_outputs(
    server: FakeAssistantsServer, http: aiohttp.ClientSession
) -> None:
    def then(outputs: list[ToolOutput]) -> Scenario:
        return Scenario([TextReply(f"The tool said {outputs[0].output}.")])

    server.queue_scenario(
        Scenario([FunctionCalls([FunctionCall("f", "{}", id="call_fixedid")], then=then)])
    )
    _, events, _ = await stream_run(http, server)
    run_id = events[0][1]["id"]
    url = f"{server.base_url}/threads/thread_test/runs/{run_id}/submit_tool_outputs"
    body = {"tool_outputs": [{"tool_call_id": "call_fixedid", "output": "42"}], "stream": True}
    async with http.post(url, json=body) as resp:
        cont = parse_sse(await resp.read())
    text = next(final_text(d) for n, d in cont if n == "thread.message.completed")
    assert text == "The tool said 42."


# ---------------------------------------------------------------------------
# Cancel, active runs, expiry


@pytest.mark.asyncio
async def test_cancel_mid_stream(server: FakeAssistantsServer, http: aiohttp.ClientSession) -> None:
    server.queue_faults(Faults(delay=0.05))
    body = {"assistant_id": "asst_test", "stream": True}
    seen: list[tuple[str, Any]] = []
    async with http.post(f"{server.base_url}/threads/thread_c/runs", json=body) as resp:
        buffer = b""
        cancelled = False
        async for chunk in resp.content.iter_any():
            buffer += chunk
            while b"\n\n" in buffer:
                block, buffer = buffer.split(b"\n\n", 1)
                seen.extend(parse_sse(block + b"\n\n"))
            if not cancelled and any(n == "thread.message.delta" for n, _ in seen):
                cancelled = True
                run_id = seen[0][1]["id"]
                async with http.post(
                    f"{server.base_url}/threads/thread_c/runs/{run_id}/cancel"
                ) as cresp:
                    assert cresp.status == 200
                    assert (await cresp.json())["status"] == "cancelling"
    order = names(seen)
    assert re.fullmatch(
        START + OPEN_MSG + "thread.run.cancelling thread.message.incomplete "
        "thread.run.step.cancelled thread.run.cancelled done",
        order,
    ), order
    incomplete = next(d for n, d in seen if n == "thread.message.incomplete")
    assert incomplete["incomplete_details"] == {"reason": "run_cancelled"}
    step = next(d for n, d in seen if n == "thread.run.step.cancelled")
    assert step["status"] == "cancelled" and step["cancelled_at"] is not None
    final = seen[-2][1]
    assert final["status"] == "cancelled" and final["cancelled_at"] is not None
    assert final["expires_at"] is None
    async with http.get(f"{server.base_url}/threads/thread_c/runs/{run_id}") as resp:
        assert (await resp.json())["status"] == "cancelled"
    async with http.post(f"{server.base_url}/threads/thread_c/runs/{run_id}/cancel") as resp:
        assert resp.status == 400
        assert_official_error(await resp.json(), "Cannot cancel run with status 'cancelled'.")
    assert len(server.cancel_requests) == 2


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("scenario", "last"),
    [
        (Scenario([TextReply("Hi there", fragment_size=8)]), "completed"),
        (scenarios.failed_run(), "failed"),
        (Scenario([FunctionCalls([FunctionCall("f", "{}")])]), "requires_action"),
    ],
)
async def test_a_paced_run_ends_right_after_its_last_run_event(
    server: FakeAssistantsServer, http: aiohttp.ClientSession, scenario: Scenario, last: str
) -> None:
    # Faults(delay=...) paces the events (streamrun web --fake): the pause is between
    # two events, never between the run's last event and [DONE], which would hold
    # the reader's end back.
    delay = 0.25
    server.queue_scenario(scenario)
    server.queue_faults(Faults(delay=delay))
    loop = asyncio.get_running_loop()
    data = bytearray()
    last_at: float | None = None
    body = {"assistant_id": "asst_test", "stream": True}
    async with http.post(f"{server.base_url}/threads/thread_t/runs", json=body) as resp:
        async for chunk in resp.content.iter_any():
            data += chunk
            if last_at is None and f"event: thread.run.{last}\n".encode() in data:
                last_at = loop.time()
        ended_at = loop.time()
    assert last_at is not None, bytes(data)
    assert ended_at - last_at < delay / 2
    assert names(parse_sse(bytes(data))).endswith(f"thread.run.{last} done")


@pytest.mark.asyncio
async def test_cancel_during_pause_and_terminal(
    server: FakeAssistantsServer, http: aiohttp.ClientSession
) -> None:
    server.queue_scenario(Scenario([Pause(30), TextReply("never")]))
    async with http.post(
        f"{server.base_url}/threads/thread_p/runs", json={"assistant_id": "a"}
    ) as resp:
        run = await resp.json()
    assert run["status"] == "queued"
    async with http.post(f"{server.base_url}/threads/thread_p/runs/{run['id']}/cancel") as resp:
        assert resp.status == 200
    final = await server.wait_for_run(run["id"], timeout=2)
    assert final["status"] == "cancelled"
    _, events, _ = await stream_run(http, server, "thread_p")
    done_id = events[0][1]["id"]
    async with http.post(f"{server.base_url}/threads/thread_p/runs/{done_id}/cancel") as resp:
        assert resp.status == 400
        assert_official_error(await resp.json(), "Cannot cancel run with status 'completed'.")


@pytest.mark.asyncio
async def test_one_active_run_per_thread_and_cancel_requires_action(
    server: FakeAssistantsServer, http: aiohttp.ClientSession
) -> None:
    _, events, _ = await stream_run(http, server, "thread_busy", scenario="function_call")
    run_id = events[0][1]["id"]
    status, _, raw = await stream_run(http, server, "thread_busy")
    assert status == 400
    assert_official_error(
        json.loads(raw), f"Thread thread_busy already has an active run {run_id}.", param=None
    )
    assert server.runs_created == 1
    async with http.post(f"{server.base_url}/threads/thread_busy/runs/{run_id}/cancel") as resp:
        assert (await resp.json())["status"] == "cancelling"
    async with http.get(f"{server.base_url}/threads/thread_busy/runs/{run_id}") as resp:
        assert (await resp.json())["status"] == "cancelled"
    async with http.get(f"{server.base_url}/threads/thread_busy/runs/{run_id}/steps") as resp:
        steps = await resp.json()
    assert steps["data"][0]["status"] == "cancelled"
    status, _, _ = await stream_run(http, server, "thread_busy")
    assert status == 200


@pytest.mark.asyncio
async def test_requires_action_expires() -> None:
    now = [1_700_000_000.0]
    async with (
        FakeAssistantsServer(
            clock=lambda: now[0], scenario="function_call", auto_create_threads=True
        ) as server,
        aiohttp.ClientSession(headers=AUTH) as http,
    ):
        _, events, _ = await stream_run(http, server)
        run = events[-2][1]
        assert run["expires_at"] == 1_700_000_600
        now[0] += 601
        async with http.get(f"{server.base_url}/threads/thread_test/runs/{run['id']}") as resp:
            expired = await resp.json()
        assert expired["status"] == "expired" and expired["expires_at"] is None
        call_id = run["required_action"]["submit_tool_outputs"]["tool_calls"][0]["id"]
        url = f"{server.base_url}/threads/thread_test/runs/{run['id']}/submit_tool_outputs"
        async with http.post(
            url, json={"tool_outputs": [{"tool_call_id": call_id, "output": "x"}]}
        ) as resp:
            assert resp.status == 400
            assert_official_error(
                await resp.json(), 'Runs in status "expired" do not accept tool outputs.'
            )


@pytest.mark.asyncio
async def test_unknown_run_is_404(
    server: FakeAssistantsServer, http: aiohttp.ClientSession
) -> None:
    base = f"{server.base_url}/threads/thread_test/runs/run_missing"
    for method, url in (
        ("GET", base),
        ("POST", base + "/cancel"),
        ("POST", base + "/submit_tool_outputs"),
    ):
        kwargs: dict[str, Any] = {"json": {"tool_outputs": []}} if "submit" in url else {}
        async with http.request(method, url, **kwargs) as resp:
            assert resp.status == 404
            assert REQ_ID.fullmatch(resp.headers["x-request-id"])
            assert_official_error(await resp.json(), "No run found with id 'run_missing'.")


# ---------------------------------------------------------------------------
# State through GET


@pytest.mark.asyncio
async def test_state_after_stream_and_message_listing(
    server: FakeAssistantsServer, http: aiohttp.ClientSession
) -> None:
    body = {"additional_messages": [{"role": "user", "content": [{"type": "text", "text": "Q1"}]}]}
    _, events, _ = await stream_run(http, server, "thread_s", body=body)
    run_id = events[0][1]["id"]
    _, events2, _ = await stream_run(http, server, "thread_s", scenario="refusal")
    run2 = events2[0][1]["id"]
    async with http.get(f"{server.base_url}/threads/thread_s/runs/{run_id}") as resp:
        run = await resp.json()
        assert resp.headers["Content-Type"].startswith("application/json")
    assert run == events[-2][1]  # GET returns the terminal state the stream ended with
    async with http.get(f"{server.base_url}/threads/thread_s/messages") as resp:
        listing = await resp.json()
    assert list(listing) == ["object", "data", "first_id", "last_id", "has_more"]
    assert listing["object"] == "list" and listing["has_more"] is False
    roles = [(m["role"], m["run_id"]) for m in listing["data"]]
    assert roles == [("assistant", run2), ("assistant", run_id), ("user", None)]
    assert listing["first_id"] == listing["data"][0]["id"]
    assert listing["last_id"] == listing["data"][-1]["id"]
    completed = next(d for n, d in events if n == "thread.message.completed")
    assert listing["data"][1] == completed
    async with http.get(
        f"{server.base_url}/threads/thread_s/messages", params={"run_id": run_id, "order": "asc"}
    ) as resp:
        filtered = await resp.json()
    assert [m["id"] for m in filtered["data"]] == [completed["id"]]
    async with http.get(
        f"{server.base_url}/threads/thread_s/messages", params={"order": "asc", "limit": "1"}
    ) as resp:
        first = await resp.json()
    assert first["has_more"] is True and first["data"][0]["role"] == "user"
    assert first["data"][0]["content"][0]["text"]["value"] == "Q1"


@pytest.mark.asyncio
async def test_non_streaming_create_progresses_in_background(
    server: FakeAssistantsServer, http: aiohttp.ClientSession
) -> None:
    async with http.post(
        f"{server.base_url}/threads/thread_bg/runs", json={"assistant_id": "asst_1"}
    ) as resp:
        assert resp.status == 200
        run = await resp.json()
    assert run["status"] == "queued" and run["started_at"] is None
    final = await server.wait_for_run(run["id"])
    assert final["status"] == "completed" and final["usage"]["total_tokens"] > 0
    messages = server.thread_messages("thread_bg")
    assert final_text(messages[-1]) == scenarios.PLAIN_TEXT


# ---------------------------------------------------------------------------
# Scenario selection and scripting


@pytest.mark.asyncio
async def test_scenario_selection_order(
    server: FakeAssistantsServer, http: aiohttp.ClientSession
) -> None:
    server.queue_scenario(Scenario([TextReply("queued one")]))
    server.set_thread_scenario("thread_t", Scenario([TextReply("per thread")]))
    server.default_scenario = Scenario([TextReply("default")])

    async def text(thread: str, header: str | None = None) -> str:
        _, events, _ = await stream_run(http, server, thread, scenario=header)
        return next(final_text(d) for n, d in events if n == "thread.message.completed")

    assert await text("thread_t") == "queued one"
    assert await text("thread_t") == "per thread"
    assert await text("thread_u") == "default"
    assert await text("thread_t", "refusal") == scenarios.refusal().message_texts()[0]
    status, _, raw = await stream_run(http, server, "thread_u", scenario="nope")
    assert status == 400
    assert_official_error(json.loads(raw))


@pytest.mark.asyncio
async def test_explicit_chunks_and_unicode_fragments(
    server: FakeAssistantsServer, http: aiohttp.ClientSession
) -> None:
    chunks = ["Hé", "llo 👩", "\u200d🔬", " 光合", "作用"]
    server.queue_scenario(Scenario([TextReply("".join(chunks), chunks=chunks)]))
    _, events, raw = await stream_run(http, server)
    values = [
        d["delta"]["content"][0]["text"]["value"] for n, d in events if n == "thread.message.delta"
    ]
    assert values == chunks
    assert "光合".encode() in raw  # raw UTF-8, not \\u escapes


def test_split_fragments_and_scenario_checks() -> None:
    text = "Hello, wonderful world 👩‍🔬!"
    frags = split_fragments(text, 4)
    assert "".join(frags) == text and all(1 <= len(f) <= 4 for f in frags)
    with pytest.raises(ScenarioError):
        Scenario([FunctionCalls([FunctionCall("f")]), TextReply("after")])
    with pytest.raises(ScenarioError):
        TextReply("abc", chunks=["a", "b"])
    with pytest.raises(ScenarioError):
        scenarios.ready_scenario("unknown")
    with pytest.raises(ScenarioError):
        FakeAssistantsServer(scenario="unknown")


# ---------------------------------------------------------------------------
# Requests: auth, validation, log, ids, base path


@pytest.mark.asyncio
async def test_auth_required_and_configurable_keys() -> None:
    async with (
        FakeAssistantsServer(
            api_keys={"good"}, base_path="/openai", auto_create_threads=True
        ) as server,
        aiohttp.ClientSession() as http,
    ):
        url = f"{server.base_url}/threads/thread_a/runs"
        assert server.base_url.endswith("/openai")
        async with http.post(url, json={"assistant_id": "a"}) as resp:
            assert resp.status == 401
            body = await resp.json()
        assert_official_error(body)
        assert body["error"]["code"] == "invalid_api_key"
        async with http.post(
            url, json={"assistant_id": "a"}, headers={"Authorization": "Bearer bad"}
        ) as resp:
            assert resp.status == 401
            assert "bad" not in await resp.text()
        async with http.post(url, json={"assistant_id": "a"}, headers={"api-key": "good"}) as resp:
            assert resp.status == 200
        async with http.get(f"{server.url}/v1/threads/x/messages", headers=AUTH) as resp:
            assert resp.status == 404
            assert_official_error(await resp.json(), "Invalid URL (GET /v1/threads/x/messages)")
        assert server.runs_created == 1
        assert "good" not in repr(server.requests[-2])


@pytest.mark.asyncio
async def test_validation_errors(server: FakeAssistantsServer, http: aiohttp.ClientSession) -> None:
    url = f"{server.base_url}/threads/thread_v/runs"
    cases: list[tuple[dict[str, Any], str]] = [
        ({"stream": True}, "assistant_id"),
        ({"assistant_id": "a", "temperature": 3}, "temperature"),
        ({"assistant_id": "a", "bogus": 1}, "bogus"),
        (
            {"assistant_id": "a", "tools": [{"type": "function", "function": {"name": "a b"}}]},
            "tools[0].function.name",
        ),
        ({"assistant_id": "a", "max_completion_tokens": 10}, "max_completion_tokens"),
    ]
    for body, param in cases:
        async with http.post(url, json=body) as resp:
            assert resp.status == 400, body
            err = await resp.json()
        assert_official_error(err, param=param)
        assert err["error"]["type"] == "invalid_request_error"
    async with http.post(url, data=b"{not json", headers={"Content-Type": "application/json"}) as r:
        assert r.status == 400
        assert "could not parse the JSON body" in (await r.json())["error"]["message"]
    async with http.post(url + "?include[]=nope", json={"assistant_id": "a"}) as resp:
        assert resp.status == 400
        assert_official_error(await resp.json(), param="include[0]")
    async with http.post(f"{server.base_url}/threads/runs", json={"assistant_id": 5}) as resp:
        assert resp.status == 400
        assert_official_error(await resp.json(), param="assistant_id")
    async with http.post(
        f"{server.base_url}/threads/thread_v/runs/run_x/submit_tool_outputs", json={}
    ) as resp:
        assert resp.status == 400
        assert_official_error(await resp.json(), param="tool_outputs")
    assert server.runs_created == 0


@pytest.mark.asyncio
async def test_request_log_and_request_ids(
    server: FakeAssistantsServer, http: aiohttp.ClientSession
) -> None:
    await stream_run(http, server, "thread_log", query="?include[]=" + INCLUDE)
    await stream_run(http, server, "thread_log")
    async with http.get(f"{server.base_url}/threads/thread_log/messages?order=asc") as resp:
        rid = resp.headers["x-request-id"]
    assert REQ_ID.fullmatch(rid)
    assert server.count("POST", "/threads/{id}/runs") == 2
    assert server.count("GET", "/threads/{id}/messages") == 1
    assert server.runs_created == 2
    first = server.requests[0]
    assert first.endpoint == "create_run" and first.method == "POST"
    assert first.path == "/v1/threads/thread_log/runs" and first.route == "/threads/thread_log/runs"
    assert first.query == {"include[]": [INCLUDE]}
    assert first.body == {"assistant_id": "asst_test", "stream": True}
    assert first.headers["authorization"] == "Bearer test-key"
    assert "test-key" not in repr(first)
    assert server.requests[-1].request_id == rid
    assert [r.endpoint for r in server.requests_to("list_messages")] == ["list_messages"]
