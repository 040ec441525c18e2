"""The fake server's Responses API over HTTP: streams, state, continuations, resume, cancel.

A real aiohttp client against the running fake server (bytes on the wire).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pydantic
import pytest
import pytest_asyncio
from openai.types.responses import Response, ResponseStreamEvent

from streamrun.sse import SSEDecoder
from streamrun.testing import (
    FakeAssistantsServer,
    Faults,
    FunctionCall,
    FunctionCalls,
    Pause,
    Scenario,
    TextReply,
    ToolOutput,
    scenarios,
)

AUTH = {"Authorization": "Bearer sk-test"}
STREAM_EVENT: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(ResponseStreamEvent)
RESPONSE: pydantic.TypeAdapter[Response] = pydantic.TypeAdapter(Response)
Json = dict[str, Any]


@pytest_asyncio.fixture
async def server() -> AsyncIterator[FakeAssistantsServer]:
    async with FakeAssistantsServer(seed=7) as srv:
        yield srv


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(headers=AUTH) as session:
        yield session


async def read_stream(resp: aiohttp.ClientResponse) -> tuple[bytes, bool]:
    """The bytes of a streamed answer and whether it ended cleanly (not dropped)."""
    data = bytearray()
    try:
        async for chunk in resp.content.iter_any():
            data += chunk
    except aiohttp.ClientPayloadError:
        return bytes(data), False
    return bytes(data), True


def events_of(data: bytes) -> list[Json]:
    """The decoded events; checks the framing (``event:`` equal to ``data.type``)."""
    decoder = SSEDecoder()
    out = []
    for sse in [*decoder.feed(data), *decoder.close()]:
        obj = json.loads(sse.data)
        assert sse.event == obj["type"]
        out.append(obj)
    return out


async def post(
    http: aiohttp.ClientSession,
    server: FakeAssistantsServer,
    body: Json,
    *,
    headers: dict[str, str] | None = None,
    path: str = "/responses",
) -> tuple[int, Json]:
    async with http.post(server.base_url + path, json=body, headers=headers) as resp:
        return resp.status, await resp.json()


async def stream(
    http: aiohttp.ClientSession,
    server: FakeAssistantsServer,
    body: Json,
    *,
    headers: dict[str, str] | None = None,
) -> tuple[list[Json], bool]:
    async with http.post(
        server.base_url + "/responses", json={"stream": True, **body}, headers=headers
    ) as resp:
        assert resp.status == 200, await resp.text()
        assert resp.headers["Content-Type"].startswith("text/event-stream")
        data, clean = await read_stream(resp)
    return events_of(data), clean


async def resume(
    http: aiohttp.ClientSession, server: FakeAssistantsServer, response_id: str, after: int | None
) -> tuple[list[Json], bool]:
    query = "?stream=true" + ("" if after is None else f"&starting_after={after}")
    async with http.get(f"{server.base_url}/responses/{response_id}{query}") as resp:
        assert resp.status == 200, await resp.text()
        data, clean = await read_stream(resp)
    return events_of(data), clean


def outputs_for(response: Json, output: str = '{"ok":true}') -> list[Json]:
    return [
        {"type": "function_call_output", "call_id": o["call_id"], "output": output}
        for o in response["output"]
        if o["type"] == "function_call"
    ]


# -- create ---------------------------------------------------------------------


@pytest.mark.asyncio
async def test_stream_framing_sequence_numbers_and_no_done(
    server: FakeAssistantsServer, http: aiohttp.ClientSession
) -> None:
    async with http.post(
        server.base_url + "/responses", json={"model": "m", "input": "Hi", "stream": True}
    ) as resp:
        assert resp.headers["x-request-id"].startswith("req_")
        data, clean = await read_stream(resp)
    assert clean
    assert b"[DONE]" not in data
    assert data.startswith(b"event: response.created\ndata: {")
    events = events_of(data)
    for event in events:
        STREAM_EVENT.validate_python(event)
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    assert [e["type"] for e in events][:2] == ["response.created", "response.in_progress"]
    final = events[-1]["response"]
    assert events[-1]["type"] == "response.completed"
    assert re.fullmatch(r"resp_[0-9a-f]{48}", final["id"])
    assert re.fullmatch(r"msg_[0-9a-f]{48}", final["output"][0]["id"])
    text = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
    assert text == scenarios.plain_text().message_texts()[0]
    assert final["output"][0]["content"][0]["text"] == text
    assert server.get_response(final["id"]) == final
    assert server.response_ids() == [final["id"]]
    assert server.responses_created == 1


@pytest.mark.asyncio
async def test_non_streaming_create_and_get(
    server: FakeAssistantsServer, http: aiohttp.ClientSession
) -> None:
    body = {
        "model": "gpt-fake",
        "input": [{"role": "user", "content": [{"type": "input_text", "text": "Hi"}]}],
        "instructions": "Be brief.",
        "metadata": {"k": "v"},
        "temperature": 0.5,
    }
    status, response = await post(http, server, body)
    assert status == 200
    RESPONSE.validate_python(response)
    assert response["status"] == "completed"
    assert response["completed_at"] is not None
    assert (response["model"], response["instructions"], response["temperature"]) == (
        "gpt-fake",
        "Be brief.",
        0.5,
    )
    assert response["metadata"] == {"k": "v"}
    assert response["usage"]["total_tokens"] > 0
    async with http.get(f"{server.base_url}/responses/{response['id']}") as resp:
        assert await resp.json() == response
    async with http.get(f"{server.base_url}/responses/resp_nope") as resp:
        assert resp.status == 404
        error = (await resp.json())["error"]
    assert error["message"] == "Response with id 'resp_nope' not found."
    # store=false: nothing to retrieve later.
    status, unstored = await post(http, server, {"model": "m", "input": "Hi", "store": False})
    assert status == 200 and unstored["store"] is False
    async with http.get(f"{server.base_url}/responses/{unstored['id']}") as resp:
        assert resp.status == 404


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("body", "message", "param", "code"),
    [
        ({"input": "Hi"}, "Missing required parameter: 'model'.", "model", None),
        ({"model": "m"}, "Missing required parameter: 'input'.", "input", None),
        (
            {"model": "m", "input": "Hi", "foo": 1},
            "Unrecognized request argument supplied: foo",
            "foo",
            "unknown_parameter",
        ),
        ({"model": "m", "input": "Hi", "temperature": 3}, None, "temperature", "invalid_value"),
        ({"model": "m", "input": 5}, None, "input", "invalid_value"),
        (
            {"model": "m", "input": "Hi", "conversation": "conv_1", "previous_response_id": "r"},
            None,
            "conversation",
            "invalid_value",
        ),
    ],
)
async def test_bodies_are_validated_like_the_api(
    server: FakeAssistantsServer,
    http: aiohttp.ClientSession,
    body: Json,
    message: str | None,
    param: str,
    code: str | None,
) -> None:
    status, answer = await post(http, server, body)
    assert status == 400
    error = answer["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    if message is not None:
        assert error["message"] == message
    if code is not None:
        assert error["code"] == code
    assert server.responses_created == 0


@pytest.mark.asyncio
async def test_auth_and_beta_header(http: aiohttp.ClientSession) -> None:
    async with FakeAssistantsServer(require_beta_header=True, api_keys=["sk-test"]) as server:
        status, _ = await post(http, server, {"model": "m", "input": "Hi"})
        assert status == 200  # the Assistants beta header is not asked for here
        async with aiohttp.ClientSession() as anonymous:
            async with anonymous.post(
                server.base_url + "/responses", json={"model": "m", "input": "Hi"}
            ) as resp:
                assert resp.status == 401


@pytest.mark.asyncio
async def test_scenario_selection_is_the_run_endpoints(
    server: FakeAssistantsServer, http: aiohttp.ClientSession
) -> None:
    _, by_header = await post(
        http, server, {"model": "m", "input": "Hi"}, headers={"x-fake-scenario": "refusal"}
    )
    assert by_header["output"][0]["content"][0]["type"] == "refusal"
    server.queue_scenario(Scenario([TextReply("queued one")]))
    _, queued = await post(http, server, {"model": "m", "input": "Hi"})
    assert queued["output"][0]["content"][0]["text"] == "queued one"
    status, unknown = await post(
        http, server, {"model": "m", "input": "Hi"}, headers={"x-fake-scenario": "nope"}
    )
    assert status == 400 and "Unknown x-fake-scenario 'nope'" in unknown["error"]["message"]

    # The reply engine gets the last user message of the input.
    server.default_scenario = "assistant"
    _, echo = await post(http, server, {"model": "m", "input": "Tell me a joke"})
    assert "Tell me a joke" in echo["output"][0]["content"][0]["text"]
    _, call = await post(http, server, {"model": "m", "input": "Weather in Tokyo?"})
    assert call["output"][0]["name"] == "get_current_weather"
    assert json.loads(call["output"][0]["arguments"])["location"] == "Tokyo"
    report = json.dumps({"location": "Tokyo", "temperature": 24, "conditions": "sunny"})
    _, answer = await post(
        http,
        server,
        {"model": "m", "previous_response_id": call["id"], "input": outputs_for(call, report)},
    )
    assert answer["output"][0]["content"][0]["text"].startswith("It's 24 °C in Tokyo")


# -- continuations ----------------------------------------------------------------


@pytest.mark.asyncio
async def test_parallel_calls_need_every_output(
    server: FakeAssistantsServer, http: aiohttp.ClientSession
) -> None:
    server.queue_scenario(scenarios.parallel_function_calls(3))
    events, _ = await stream(http, server, {"model": "m", "input": "Weather?"})
    response = events[-1]["response"]
    assert response["status"] == "completed"
    calls = outputs_for(response)
    assert len(calls) == 3
    for call_id in [c["call_id"] for c in calls]:
        assert re.fullmatch(r"call_[A-Za-z0-9]{24}", call_id)
    base = {"model": "m", "previous_response_id": response["id"]}
    status, error = await post(http, server, {**base, "input": calls[:2]})
    assert status == 400
    assert error["error"] == {
        "message": f"No tool output found for function call {calls[2]['call_id']}.",
        "type": "invalid_request_error",
        "param": "input",
        "code": None,
    }
    stray = {"type": "function_call_output", "call_id": "call_unknown", "output": "x"}
    status, error = await post(http, server, {**base, "input": [*calls, stray]})
    assert status == 400
    assert error["error"]["message"] == (
        "No tool call found for function call output with call_id call_unknown."
    )
    status, error = await post(
        http, server, {"model": "m", "previous_response_id": "resp_gone", "input": calls}
    )
    assert status == 400
    assert error["error"]["code"] == "previous_response_not_found"
    assert error["error"]["message"] == "Previous response with id 'resp_gone' not found."
    assert server.responses_created == 1

    events, _ = await stream(http, server, {**base, "input": list(reversed(calls))})
    final = events[-1]["response"]
    assert final["previous_response_id"] == response["id"]
    assert (
        final["output"][0]["content"][0]["text"]
        == (scenarios.parallel_function_calls(3).message_texts()[0])
    )
    # The continuation request is in the log with its outputs.
    last = server.requests_to("create_response")[-1]
    assert last.body["input"] == list(reversed(calls))


@pytest.mark.asyncio
async def test_then_callable_gets_the_outputs_in_call_order(
    server: FakeAssistantsServer, http: aiohttp.ClientSession
) -> None:
    got: list[list[ToolOutput]] = []

    def then(outputs: list[ToolOutput]) -> Scenario:
        got.append(outputs)
        return Scenario([TextReply(" + ".join(o.output for o in outputs))])

    server.queue_scenario(
        Scenario(
            [
                FunctionCalls(
                    [FunctionCall("a", id="call_a"), FunctionCall("b", id="call_b")], then=then
                )
            ]
        )
    )
    _, first = await post(http, server, {"model": "m", "input": "Go"})
    outputs = [
        {"type": "function_call_output", "call_id": "call_b", "output": "B"},
        {
            "type": "function_call_output",
            "call_id": "call_a",
            "output": [{"type": "input_text", "text": "A"}],
        },
    ]
    _, answer = await post(
        http, server, {"model": "m", "previous_response_id": first["id"], "input": outputs}
    )
    assert got == [[ToolOutput("call_a", "A"), ToolOutput("call_b", "B")]]
    assert answer["output"][0]["content"][0]["text"] == "A + B"


@pytest.mark.asyncio
async def test_chained_calls_stateless_with_the_history_in_input(
    server: FakeAssistantsServer, http: aiohttp.ClientSession
) -> None:
    server.queue_scenario(scenarios.chained_function_calls(3))
    history: list[Json] = [{"role": "user", "content": "Weather tour"}]
    _, response = await post(http, server, {"model": "m", "input": history})
    rounds = 0
    while response["output"][0]["type"] == "function_call":
        rounds += 1
        history += response["output"] + outputs_for(response)
        status, response = await post(http, server, {"model": "m", "input": history})
        assert status == 200, response
    assert rounds == 3
    assert (
        response["output"][0]["content"][0]["text"]
        == (scenarios.chained_function_calls(3).message_texts()[0])
    )
    # A call in the input with no output is refused, like the real API.
    status, error = await post(http, server, {"model": "m", "input": history[:2]})
    assert status == 400
    assert error["error"]["message"].startswith("No tool output found for function call call_")


# -- conversations --------------------------------------------------------------


@pytest.mark.asyncio
async def test_conversation_collects_items_and_carries_tool_rounds(
    server: FakeAssistantsServer, http: aiohttp.ClientSession
) -> None:
    status, conversation = await post(
        http,
        server,
        {"items": [{"role": "user", "content": "Earlier question"}], "metadata": {"a": "b"}},
        path="/conversations",
    )
    assert status == 200
    conv_id = conversation["id"]
    assert re.fullmatch(r"conv_[0-9a-f]{48}", conv_id)
    assert conversation["object"] == "conversation" and conversation["metadata"] == {"a": "b"}
    server.set_thread_scenario(conv_id, scenarios.function_call())
    body = {"model": "m", "conversation": conv_id}
    _, first = await post(http, server, {**body, "input": "Weather in Paris?"})
    assert first["conversation"] == {"id": conv_id}
    status, error = await post(http, server, {**body, "input": "Never mind"})
    assert status == 400 and error["error"]["message"].startswith("No tool output found")
    _, answer = await post(http, server, {**body, "input": outputs_for(first)})
    assert answer["output"][0]["content"][0]["text"] == scenarios.function_call().message_texts()[0]

    async with http.get(f"{server.base_url}/conversations/{conv_id}") as resp:
        assert await resp.json() == conversation
    async with http.get(f"{server.base_url}/conversations/{conv_id}/items?order=asc") as resp:
        listing = await resp.json()
    kinds = [(i["type"], i.get("role")) for i in listing["data"]]
    assert kinds == [
        ("message", "user"),
        ("message", "user"),
        ("function_call", None),
        ("function_call_output", None),
        ("message", "assistant"),
    ]
    assert listing["data"][1]["content"] == [{"type": "input_text", "text": "Weather in Paris?"}]
    assert listing["data"] == server.conversation_items(conv_id)
    assert all(isinstance(i["id"], str) for i in listing["data"])
    async with http.get(f"{server.base_url}/conversations/{conv_id}/items?limit=2") as resp:
        page = await resp.json()
    assert page["has_more"] is True
    assert [i["id"] for i in page["data"]] == [i["id"] for i in listing["data"][::-1][:2]]

    made = server.create_conversation("conv_made", items=[{"role": "user", "content": "x"}])
    assert made == "conv_made"
    assert server.conversation_items(made)[0]["content"] == [{"type": "input_text", "text": "x"}]
    assert server.conversation_items("conv_nope") == []

    for url in ("/conversations/conv_nope", "/conversations/conv_nope/items"):
        async with http.get(server.base_url + url) as resp:
            assert resp.status == 404
            assert (await resp.json())["error"]["message"] == (
                "Conversation with id 'conv_nope' not found."
            )
    status, error = await post(
        http, server, {"model": "m", "input": "Hi", "conversation": "conv_x"}
    )
    assert status == 404 and error["error"]["param"] == "conversation"
    status, error = await post(http, server, {"itemz": []}, path="/conversations")
    assert status == 400 and error["error"]["code"] == "unknown_parameter"
    status, error = await post(
        http, server, {"items": [{"role": "robot", "content": "x"}]}, path="/conversations"
    )
    assert status == 400 and error["error"]["param"] == "items[0].role"


# -- background: resume and cancel ---------------------------------------------------


@pytest.mark.asyncio
async def test_background_resume_after_a_drop_at_every_event_index(
    server: FakeAssistantsServer, http: aiohttp.ClientSession
) -> None:
    body = {"model": "m", "input": "Hi", "background": True}
    server.queue_scenario(scenarios.function_call())
    whole, clean = await stream(http, server, body)
    assert clean
    assert [e["type"] for e in whole[:3]] == [
        "response.created",
        "response.queued",
        "response.in_progress",
    ]
    assert whole[0]["response"]["status"] == "queued"

    def shape(events: list[Json]) -> list[tuple[str, int]]:
        return [(e["type"], e["sequence_number"]) for e in events]

    for drop in range(len(whole)):
        server.queue_scenario(scenarios.function_call())
        server.queue_faults(Faults(drop_after=drop))
        head, clean = await stream(http, server, body)
        assert not clean
        assert len(head) == drop
        response_id = head[0]["response"]["id"] if head else server.response_ids()[-1]
        # The response went on without the client.
        assert (await server.wait_for_response(response_id))["status"] == "completed"
        after = head[-1]["sequence_number"] if head else None
        tail, clean = await resume(http, server, response_id, after)
        assert clean
        assert shape(head + tail) == shape(whole), drop
    assert server.count("GET", "/responses/{id}") == len(whole)


@pytest.mark.asyncio
async def test_resume_replays_then_follows_the_live_response(
    server: FakeAssistantsServer, http: aiohttp.ClientSession
) -> None:
    server.queue_scenario(Scenario([TextReply("Working on it."), Pause(60), TextReply("Done.")]))
    server.queue_faults(Faults(drop_after=4))
    head, _ = await stream(http, server, {"model": "m", "input": "Hi", "background": True})
    response_id = head[0]["response"]["id"]
    assert server.get_response(response_id)["status"] == "in_progress"  # type: ignore[index]
    async with http.get(
        f"{server.base_url}/responses/{response_id}?stream=true&starting_after=3"
    ) as resp:
        # The stored events arrive at once; the live ones follow (here: the cancel).
        first = events_of(await resp.content.readuntil(b"\n\n"))
        assert first[0]["sequence_number"] == 4
        status, cancelled = await post(http, server, {}, path=f"/responses/{response_id}/cancel")
        assert status == 200 and cancelled["status"] == "cancelled"
        data, clean = await read_stream(resp)
    assert clean
    rest = first + events_of(data)
    assert [e["sequence_number"] for e in rest] == list(range(4, 4 + len(rest)))
    assert rest[-1]["type"] == "response.cancelled"
    assert rest[-1]["response"]["status"] == "cancelled"
    assert rest[-1]["response"]["output"][0]["status"] == "completed"
    assert "Done." not in json.dumps(rest)
    assert [r.endpoint for r in server.requests][-2:] == ["get_response", "cancel_response"]
    assert server.count("POST", "/responses/{id}/cancel") == 1


@pytest.mark.asyncio
async def test_cancel_rules(server: FakeAssistantsServer, http: aiohttp.ClientSession) -> None:
    _, foreground = await post(http, server, {"model": "m", "input": "Hi"})
    status, error = await post(http, server, {}, path=f"/responses/{foreground['id']}/cancel")
    assert status == 400
    assert error["error"]["message"] == "Cannot cancel a synchronous response."
    status, _ = await post(http, server, {}, path="/responses/resp_nope/cancel")
    assert status == 404

    server.queue_scenario(Scenario([Pause(60), TextReply("never")]))
    _, queued = await post(http, server, {"model": "m", "input": "Hi", "background": True})
    assert queued["status"] == "queued" and queued["background"] is True
    _, cancelled = await post(http, server, {}, path=f"/responses/{queued['id']}/cancel")
    assert cancelled["status"] == "cancelled"
    assert cancelled["output"] == []

    _, done = await post(http, server, {"model": "m", "input": "Hi", "background": True})
    finished = await server.wait_for_response(done["id"])
    status, same = await post(http, server, {}, path=f"/responses/{done['id']}/cancel")
    assert status == 200 and same == finished and same["status"] == "completed"

    # Streaming a stored response needs background=true; starting_after must be a number.
    async with http.get(f"{server.base_url}/responses/{foreground['id']}?stream=true") as resp:
        assert resp.status == 400
        assert (await resp.json())["error"]["param"] == "stream"
    for bad in ("x", "-1"):
        async with http.get(
            f"{server.base_url}/responses/{done['id']}?stream=true&starting_after={bad}"
        ) as resp:
            assert resp.status == 400
            assert (await resp.json())["error"]["param"] == "starting_after"


# -- faults ---------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_error_faults_on_create(
    server: FakeAssistantsServer, http: aiohttp.ClientSession
) -> None:
    server.queue_faults(Faults(error_status=429, retry_after=2))
    async with http.post(server.base_url + "/responses", json={"model": "m", "input": "Hi"}) as r:
        assert r.status == 429
        assert r.headers["Retry-After"] == "2"
        assert (await r.json())["error"]["code"] == "rate_limit_exceeded"
    assert server.responses_created == 0

    # A gateway that lost the reply: the response exists and plays on.
    header = {"x-fake-faults": json.dumps({"error_status": 504, "error_after_create": True})}
    status, _ = await post(http, server, {"model": "m", "input": "Hi"}, headers=header)
    assert status == 504
    assert server.responses_created == 1
    finished = await server.wait_for_response(server.response_ids()[0])
    assert finished["status"] == "completed"


@pytest.mark.asyncio
async def test_chunked_and_malformed_streams(
    server: FakeAssistantsServer, http: aiohttp.ClientSession
) -> None:
    server.queue_faults(Faults(chunk_size=5, split_seed=3))
    events, clean = await stream(http, server, {"model": "m", "input": "Hi"})
    assert clean and events[-1]["type"] == "response.completed"
    server.queue_faults(Faults(malformed_at=2))
    async with http.post(
        server.base_url + "/responses", json={"model": "m", "input": "Hi", "stream": True}
    ) as resp:
        data, _ = await read_stream(resp)
    decoder = SSEDecoder()
    third = decoder.feed(data)[2]
    assert third.event == "response.output_item.added"
    with pytest.raises(ValueError):
        json.loads(third.data)
    # Faults can target the resume request too.
    _, background = await post(http, server, {"model": "m", "input": "Hi", "background": True})
    await server.wait_for_response(background["id"])
    server.queue_faults(Faults(drop_after=2, endpoints=["get_response"]))
    head, clean = await resume(http, server, background["id"], None)
    assert not clean and len(head) == 2


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "scenario", [Scenario([TextReply("Hi there", fragment_size=8)]), scenarios.error_event()]
)
async def test_a_paced_stream_ends_right_after_its_terminal_event(
    server: FakeAssistantsServer, http: aiohttp.ClientSession, scenario: Scenario
) -> None:
    # Faults(delay=...) paces the events (streamrun web --fake): the pause is between
    # two events, never after the terminal one, which would hold the body open.
    delay = 0.2
    server.queue_scenario(scenario)
    server.queue_faults(Faults(delay=delay))
    loop = asyncio.get_running_loop()
    data = bytearray()
    terminal_at: float | None = None
    async with http.post(
        server.base_url + "/responses", json={"model": "m", "input": "Hi", "stream": True}
    ) as resp:
        async for chunk in resp.content.iter_any():
            data += chunk
            if terminal_at is None and re.search(rb"event: response\.(completed|failed)", data):
                terminal_at = loop.time()
        ended_at = loop.time()
    assert terminal_at is not None, data
    assert ended_at - terminal_at < delay / 2
    assert events_of(bytes(data))[-1]["type"] in ("response.completed", "response.failed")
