"""The fake server's plain endpoints and reply engine (issue 10 §4-5, issue 12 §5).

Threads, messages, runs and assistants with the real API's shapes and
pagination; 404 for unknown threads by default; one reply engine for the
module server and the CLI; the function-call scenarios.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import signal
import sys
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from openai import AsyncOpenAI

from streamrun import _cli
from streamrun.testing import (
    ASSISTANT,
    READY_SCENARIOS,
    FakeAssistantsServer,
    Scenario,
    TextReply,
    fake_reply,
    scenarios,
)

AUTH = {"Authorization": "Bearer test-key"}


@pytest_asyncio.fixture
async def server() -> AsyncIterator[FakeAssistantsServer]:
    async with FakeAssistantsServer() as srv:  # the default: no auto-creation
        yield srv


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers=AUTH) as session:
        yield session


@pytest_asyncio.fixture
async def sdk(server: FakeAssistantsServer) -> AsyncIterator[AsyncOpenAI]:
    async with AsyncOpenAI(base_url=server.base_url, api_key="k", max_retries=0) as client:
        yield client


def parse_sse(raw: bytes) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for block in raw.decode().split("\n\n"):
        if not block:
            continue
        name, data = block.split("\n", 1)
        payload = data[6:]
        out.append((name[7:], payload if payload == "[DONE]" else json.loads(payload)))
    return out


async def post_json(http: aiohttp.ClientSession, url: str, body: Any, **kw: Any) -> tuple[int, Any]:
    async with http.post(url, json=body, **kw) as resp:
        return resp.status, await resp.json()


async def get_json(http: aiohttp.ClientSession, url: str) -> tuple[int, Any]:
    async with http.get(url) as resp:
        return resp.status, await resp.json()


# -- unknown threads ---------------------------------------------------------


@pytest.mark.asyncio
async def test_run_on_unknown_thread_is_a_404_by_default(
    server: FakeAssistantsServer, http: aiohttp.ClientSession
) -> None:
    url = f"{server.base_url}/threads/thread_nope"
    body = {"assistant_id": "asst_x", "stream": True}
    status, error = await post_json(http, f"{url}/runs", body)
    assert status == 404
    assert error["error"]["message"] == "No thread found with id 'thread_nope'."
    assert error["error"]["type"] == "invalid_request_error"
    assert server.runs_created == 0
    for path in ("/messages", "/runs", ""):
        assert (await get_json(http, url + path))[0] == 404
    status, _ = await post_json(http, f"{url}/messages", {"role": "user", "content": "hi"})
    assert status == 404
    assert server.thread_messages("thread_nope") == []


@pytest.mark.asyncio
async def test_auto_create_threads_option(http: aiohttp.ClientSession) -> None:
    async with FakeAssistantsServer(auto_create_threads=True) as server:
        body = {"assistant_id": "asst_x", "stream": True}
        async with http.post(f"{server.base_url}/threads/thread_any/runs", json=body) as resp:
            assert resp.status == 200
            await resp.read()
        status, thread = await get_json(http, f"{server.base_url}/threads/thread_any")
        assert status == 200 and thread["id"] == "thread_any"


@pytest.mark.asyncio
async def test_sdk_sees_not_found_for_unknown_thread(sdk: AsyncOpenAI) -> None:
    import openai

    with pytest.raises(openai.NotFoundError):
        await sdk.beta.threads.runs.create(thread_id="thread_missing", assistant_id="asst_x")


# -- threads, messages, runs -----------------------------------------------


@pytest.mark.asyncio
async def test_threads_and_messages_through_the_official_sdk(
    server: FakeAssistantsServer, sdk: AsyncOpenAI
) -> None:
    thread = await sdk.beta.threads.create(
        messages=[{"role": "user", "content": "first"}], metadata={"k": "v"}
    )
    assert thread.metadata == {"k": "v"}
    again = await sdk.beta.threads.retrieve(thread.id)
    assert again.id == thread.id and again.created_at == thread.created_at
    for i in range(4):
        msg = await sdk.beta.threads.messages.create(thread.id, role="user", content=f"m{i}")
        assert msg.thread_id == thread.id and msg.role == "user"
        assert msg.content[0].type == "text" and msg.content[0].text.value == f"m{i}"
    page = await sdk.beta.threads.messages.list(thread.id, limit=2, order="asc")
    texts = [m.content[0].text.value for m in page.data if m.content[0].type == "text"]
    assert texts == ["first", "m0"] and page.has_more
    everything = [m async for m in sdk.beta.threads.messages.list(thread.id, limit=2)]
    assert len(everything) == 5  # the SDK follows `after` across pages
    assert [m.content[0].text.value for m in everything if m.content[0].type == "text"] == [
        "m3",
        "m2",
        "m1",
        "m0",
        "first",
    ]


@pytest.mark.asyncio
async def test_message_pagination_after_before_and_run_filter(
    server: FakeAssistantsServer, http: aiohttp.ClientSession
) -> None:
    base = server.base_url
    thread_id = server.create_thread()
    ids = []
    for i in range(5):
        status, msg = await post_json(
            http, f"{base}/threads/{thread_id}/messages", {"role": "user", "content": str(i)}
        )
        assert status == 200
        ids.append(msg["id"])
    url = f"{base}/threads/{thread_id}/messages"
    _, page = await get_json(http, f"{url}?order=asc&after={ids[1]}&limit=2")
    assert [m["id"] for m in page["data"]] == ids[2:4]
    assert page["first_id"] == ids[2] and page["last_id"] == ids[3] and page["has_more"]
    _, page = await get_json(http, f"{url}?order=asc&before={ids[3]}")
    assert [m["id"] for m in page["data"]] == ids[:3] and not page["has_more"]
    _, page = await get_json(http, f"{url}?order=desc&limit=1")
    assert [m["id"] for m in page["data"]] == [ids[4]]
    # a run's messages only
    body = {"assistant_id": "asst_x", "stream": True}
    async with http.post(f"{base}/threads/{thread_id}/runs", json=body) as resp:
        events = parse_sse(await resp.read())
    run_id = events[0][1]["id"]
    await server.wait_for_run(run_id)
    _, page = await get_json(http, f"{url}?run_id={run_id}")
    assert len(page["data"]) == 1 and page["data"][0]["role"] == "assistant"
    assert page["data"][0]["run_id"] == run_id
    for bad in ("limit=0", "limit=101", "limit=x", "order=up"):
        status, error = await get_json(http, f"{url}?{bad}")
        assert status == 400
        assert error["error"]["param"] == bad.split("=")[0]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"content": "hi"}, "role"),
        ({"role": "system", "content": "hi"}, "role"),
        ({"role": "user"}, "content"),
        ({"role": "user", "content": []}, "content"),
        ({"role": "user", "content": 5}, "content"),
        ({"role": "user", "content": "hi", "metadata": {"k": 1}}, "metadata.k"),
        ({"role": "user", "content": "hi", "colour": "red"}, "colour"),
    ],
)
async def test_create_message_is_validated(
    server: FakeAssistantsServer, http: aiohttp.ClientSession, body: Any, param: str
) -> None:
    thread_id = server.create_thread()
    status, error = await post_json(http, f"{server.base_url}/threads/{thread_id}/messages", body)
    assert status == 400
    assert error["error"]["param"] == param
    assert server.thread_messages(thread_id) == []


@pytest.mark.asyncio
async def test_create_thread_is_validated(
    server: FakeAssistantsServer, http: aiohttp.ClientSession
) -> None:
    url = f"{server.base_url}/threads"
    status, error = await post_json(http, url, {"messages": [{"role": "user"}]})
    assert status == 400 and error["error"]["param"] == "messages[0].content"
    status, error = await post_json(http, url, {"metadata": "x"})
    assert status == 400 and error["error"]["param"] == "metadata"
    status, thread = await post_json(http, url, {})
    assert status == 200 and thread["object"] == "thread"


@pytest.mark.asyncio
async def test_list_runs_of_a_thread_paginated(
    server: FakeAssistantsServer, sdk: AsyncOpenAI
) -> None:
    thread = await sdk.beta.threads.create()
    run_ids = []
    for _ in range(3):
        run = await sdk.beta.threads.runs.create(thread_id=thread.id, assistant_id="asst_x")
        await server.wait_for_run(run.id)
        run_ids.append(run.id)
    other = await sdk.beta.threads.create()
    await sdk.beta.threads.runs.create(thread_id=other.id, assistant_id="asst_x")
    page = await sdk.beta.threads.runs.list(thread.id, limit=2)
    assert [r.id for r in page.data] == run_ids[::-1][:2] and page.has_more
    listed = [r async for r in sdk.beta.threads.runs.list(thread.id, limit=2, order="asc")]
    assert [r.id for r in listed] == run_ids
    assert all(r.status == "completed" and r.thread_id == thread.id for r in listed)


# -- assistants --------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")  # the SDK's assistants API
@pytest.mark.asyncio
async def test_assistants_create_retrieve_list_with_the_sdk(
    server: FakeAssistantsServer, sdk: AsyncOpenAI
) -> None:
    created = []
    for i in range(3):
        a = await sdk.beta.assistants.create(
            model="gpt-4o",
            name=f"helper {i}",
            instructions="Be brief.",
            tools=[
                {
                    "type": "function",
                    "function": {"name": "get_current_weather", "parameters": {"type": "object"}},
                }
            ],
            metadata={"n": str(i)},
        )
        assert re.fullmatch(r"asst_[A-Za-z0-9]{24}", a.id)
        assert a.model == "gpt-4o" and a.name == f"helper {i}" and a.instructions == "Be brief."
        assert a.tools[0].type == "function"
        created.append(a.id)
    got = await sdk.beta.assistants.retrieve(created[1])
    assert got.metadata == {"n": "1"}
    page = await sdk.beta.assistants.list(limit=2)
    assert [a.id for a in page.data] == created[::-1][:2] and page.has_more
    listed = [a async for a in sdk.beta.assistants.list(order="asc", limit=1)]
    assert [a.id for a in listed] == created
    # the demo flow: create the assistant, then a thread and a run with it
    thread = await sdk.beta.threads.create()
    run = await sdk.beta.threads.runs.create(thread_id=thread.id, assistant_id=created[0])
    assert run.assistant_id == created[0]
    import openai

    with pytest.raises(openai.NotFoundError):
        await sdk.beta.assistants.retrieve("asst_unknown")


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({}, "model"),
        ({"model": 4}, "model"),
        ({"model": "m", "name": "x" * 257}, "name"),
        ({"model": "m", "description": 3}, "description"),
        ({"model": "m", "temperature": 3}, "temperature"),
        ({"model": "m", "tools": [{"type": "web"}]}, "tools[0].type"),
        ({"model": "m", "sneaky": 1}, "sneaky"),
    ],
)
async def test_create_assistant_is_validated(
    server: FakeAssistantsServer, http: aiohttp.ClientSession, body: Any, param: str
) -> None:
    status, error = await post_json(http, f"{server.base_url}/assistants", body)
    assert status == 400
    assert error["error"]["param"] == param
    _, listing = await get_json(http, f"{server.base_url}/assistants")
    assert listing["data"] == []


# -- one reply engine ------------------------------------------------------


def test_cli_uses_the_testing_reply_engine() -> None:
    assert vars(_cli)["fake_reply"] is fake_reply


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("question", "first_event"),
    [
        ("What's the weather in Tokyo?", "thread.run.requires_action"),
        ("Tell me a joke", "thread.message.completed"),
    ],
)
async def test_assistant_engine_answers_from_the_message(
    http: aiohttp.ClientSession, question: str, first_event: str
) -> None:
    async with FakeAssistantsServer(scenario=ASSISTANT) as server:
        body = {
            "assistant_id": "asst_x",
            "stream": True,
            "thread": {"messages": [{"role": "user", "content": question}]},
        }
        async with http.post(f"{server.base_url}/threads/runs", json=body) as resp:
            events = parse_sse(await resp.read())
    names = [n for n, _ in events]
    assert first_event in names
    expected = fake_reply(question)
    if first_event == "thread.run.requires_action":
        run = events[-2][1]
        call = run["required_action"]["submit_tool_outputs"]["tool_calls"][0]
        assert call["function"]["name"] == "get_current_weather"
        assert json.loads(call["function"]["arguments"])["location"] == "Tokyo"
    else:
        completed = [d for n, d in events if n == "thread.message.completed"]
        assert completed[0]["content"][0]["text"]["value"] == expected.message_texts()[0]
        assert "Tell me a joke" in completed[0]["content"][0]["text"]["value"]


@pytest.mark.asyncio
async def test_reply_engine_callable_and_header(http: aiohttp.ClientSession) -> None:
    seen: list[str | None] = []

    def echo(message: str | None) -> Scenario:
        seen.append(message)
        return Scenario([TextReply(f"echo: {message}")])

    async with FakeAssistantsServer(scenario=echo) as server:
        thread = server.create_thread()
        body = {
            "assistant_id": "a",
            "stream": True,
            "additional_messages": [{"role": "user", "content": [{"type": "text", "text": "yo"}]}],
        }
        async with http.post(f"{server.base_url}/threads/{thread}/runs", json=body) as resp:
            raw = await resp.read()
        assert b"echo: yo" in raw
        assert seen == ["yo"]
        # x-fake-scenario: assistant picks the built-in engine per request
        body["additional_messages"] = [{"role": "user", "content": "weather in Berlin?"}]
        async with http.post(
            f"{server.base_url}/threads/{thread}/runs",
            json=body,
            headers={"x-fake-scenario": ASSISTANT},
        ) as resp:
            raw = await resp.read()
        assert b"thread.run.requires_action" in raw and b"Berlin" in raw


@pytest.mark.asyncio
async def test_failing_reply_engine_is_a_500(http: aiohttp.ClientSession) -> None:
    def broken(message: str | None) -> Scenario:
        raise ValueError("boom")

    async with FakeAssistantsServer(scenario=broken) as server:
        body = {"assistant_id": "a", "stream": True}
        async with http.post(f"{server.base_url}/threads/runs", json=body) as resp:
            assert resp.status == 500
            assert "boom" in (await resp.json())["error"]["message"]
        assert len(server.internal_errors) == 1


@pytest.mark.asyncio
async def test_module_server_replies_like_the_cli_fake() -> None:
    """``python -m streamrun.testing`` (default scenario) gives the CLI's replies."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "streamrun.testing",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        base = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode().strip()
        async with aiohttp.ClientSession(headers=AUTH) as http:
            for question in ("What's the weather like in Paris right now?", "Who are you?"):
                body = {
                    "assistant_id": "a",
                    "stream": True,
                    "thread": {"messages": [{"role": "user", "content": question}]},
                }
                async with http.post(f"{base}/threads/runs", json=body) as resp:
                    events = parse_sse(await resp.read())
                expected = fake_reply(question)
                if expected.name == "fake_weather":
                    run = events[-2][1]
                    assert run["status"] == "requires_action"
                    call = run["required_action"]["submit_tool_outputs"]["tool_calls"][0]
                    assert json.loads(call["function"]["arguments"])["location"] == (
                        "Paris, France"
                    )
                    output = _cli.get_current_weather(call["function"]["arguments"])
                    url = f"{base}/threads/{run['thread_id']}/runs/{run['id']}/submit_tool_outputs"
                    outputs = [{"tool_call_id": call["id"], "output": output}]
                    async with http.post(
                        url, json={"tool_outputs": outputs, "stream": True}
                    ) as resp:
                        events = parse_sse(await resp.read())
                    assert "umbrella" in _completed_text(events)
                else:
                    assert _completed_text(events) == expected.message_texts()[0]
            # 404 for unknown threads here too (no --auto-create-threads)
            async with http.post(
                f"{base}/threads/thread_nope/runs", json={"assistant_id": "a"}
            ) as resp:
                assert resp.status == 404
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 10)


def _completed_text(events: list[tuple[str, Any]]) -> str:
    done = [d for n, d in events if n == "thread.message.completed"]
    return str(done[-1]["content"][0]["text"]["value"])


# -- function-call scenarios -------------------------------------------------


def _tool_deltas(events: list[tuple[str, Any]]) -> list[list[int]]:
    return [
        [e["index"] for e in d["delta"]["step_details"]["tool_calls"]]
        for n, d in events
        if n == "thread.run.step.delta"
    ]


async def _stream(
    http: aiohttp.ClientSession, url: str, body: dict[str, Any], **kw: Any
) -> list[tuple[str, Any]]:
    async with http.post(url, json=body, **kw) as resp:
        assert resp.status == 200, await resp.text()
        return parse_sse(await resp.read())


@pytest.mark.asyncio
@pytest.mark.parametrize("count", [1, 3, 5])
async def test_parallel_calls_stream_one_after_another(
    http: aiohttp.ClientSession, count: int
) -> None:
    async with FakeAssistantsServer(scenario=scenarios.parallel_function_calls(count)) as server:
        events = await _stream(
            http, f"{server.base_url}/threads/runs", {"assistant_id": "a", "stream": True}
        )
    deltas = _tool_deltas(events)
    assert all(len(group) == 1 for group in deltas)  # one call per delta event
    order = [group[0] for group in deltas]
    assert order == sorted(order)  # each call complete before the next starts
    assert [k for k, _ in itertools.groupby(order)] == list(range(count))
    run = events[-2][1]
    calls = run["required_action"]["submit_tool_outputs"]["tool_calls"]
    assert len(calls) == count
    assert len({json.loads(c["function"]["arguments"])["location"] for c in calls}) == count


@pytest.mark.asyncio
async def test_interleaved_scenario_keeps_interleaving(http: aiohttp.ClientSession) -> None:
    async with FakeAssistantsServer() as server:
        events = await _stream(
            http,
            f"{server.base_url}/threads/runs",
            {"assistant_id": "a", "stream": True},
            headers={"x-fake-scenario": "interleaved_function_calls"},
        )
    deltas = _tool_deltas(events)
    assert [0, 1] in deltas
    flat = [i for group in deltas for i in group]
    assert sum(1 for a, b in itertools.pairwise(flat) if a != b) > 4


@pytest.mark.asyncio
@pytest.mark.parametrize("rounds", [2, 3])
async def test_chained_rounds_ask_for_tools_again(http: aiohttp.ClientSession, rounds: int) -> None:
    async with FakeAssistantsServer(scenario=scenarios.chained_function_calls(rounds)) as server:
        events = await _stream(
            http, f"{server.base_url}/threads/runs", {"assistant_id": "a", "stream": True}
        )
        run = events[-2][1]
        seen_calls: list[str] = []
        locations: list[str] = []
        for _ in range(rounds):
            assert run["status"] == "requires_action"
            (call,) = run["required_action"]["submit_tool_outputs"]["tool_calls"]
            assert call["id"] not in seen_calls
            seen_calls.append(call["id"])
            locations.append(json.loads(call["function"]["arguments"])["location"])
            url = (
                f"{server.base_url}/threads/{run['thread_id']}/runs/{run['id']}/submit_tool_outputs"
            )
            body = {"tool_outputs": [{"tool_call_id": call["id"], "output": "{}"}], "stream": True}
            events = await _stream(http, url, body)
            run = [d for n, d in events if n.startswith("thread.run.") and "step" not in n][-1]
        assert run["status"] == "completed"
        assert len(set(locations)) == rounds
        steps = server.run_steps(run["id"])
        assert [s["type"] for s in steps] == ["tool_calls"] * rounds + ["message_creation"]
        assert (
            _completed_text(events) == scenarios.chained_function_calls(rounds).message_texts()[0]
        )


def test_function_call_scenarios_are_ready_by_name() -> None:
    for name in (
        "function_call",
        "parallel_function_calls",
        "interleaved_function_calls",
        "chained_function_calls",
    ):
        assert READY_SCENARIOS[name]().name == name
