"""Hostile payloads on Responses streams: the hardening run streams have (test_hardening_parse).

* Nesting: JSON nested deeper than 128 levels in any Responses event, known or
  unknown, is a ``ProtocolError`` naming the nesting limit, the event, its
  position and an excerpt — from ``parse_responses_event``, over HTTP
  (``client.responses.stream``), from bytes, in ``responses_events()`` and
  through a relay (which relays the same failure, never the deep data). An
  unknown event whose data is not JSON at all is kept with the text as its
  ``data``, as run streams keep it.
* Scaling: mapping and accumulating a Responses stream is linear in the number
  of output items, content parts, annotations, deltas, waiting calls, unknown
  events and sequence numbers (t(10n) / t(n) <= 12, measured as the run-stream
  tests measure it).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from streamrun import (
    AsyncClient,
    ProtocolError,
    ResponseStream,
    UnknownEvent,
    UnknownResponseEvent,
    parse_event,
    parse_responses_event,
)
from streamrun._accumulate import Accumulator
from streamrun._events import ThreadRunStepCompleted
from streamrun._json import MAX_DEPTH
from streamrun._models import FunctionToolCall, ToolCallsStepDetails
from streamrun._protocol_responses import ResponsesProtocol
from streamrun._responses_map import ResponsesMapper
from streamrun.relay import from_ndjson, from_sse

from .conftest import ReplayServer, Reply
from .test_hardening_parse import Recorder, assert_linear, deep_json, read_to_protocol_error

RESPONSE = {
    "id": "resp_1",
    "object": "response",
    "created_at": 1,
    "status": "in_progress",
    "model": "m",
    "output": [],
}


def event(kind: str, **fields: Any) -> tuple[str, str]:
    """A Responses event as ``(SSE name, data)``."""
    return kind, json.dumps({"type": kind, **fields})


def created(response_id: str = "resp_1") -> tuple[str, str]:
    return event("response.created", response={**RESPONSE, "id": response_id})


def completed(output: list[dict[str, Any]], response_id: str = "resp_1") -> tuple[str, str]:
    response = {**RESPONSE, "id": response_id, "status": "completed", "output": output}
    return event("response.completed", response=response)


def wire(*events: tuple[str, str]) -> bytes:
    return b"".join(f"event: {name}\ndata: {data}\n\n".encode() for name, data in events)


# -- §1: nesting ---------------------------------------------------------------

# Known events (the text-delta fast path, a status event, an item event, error),
# a name of the spec this version does not model, an unknown name, and a block
# without an event line (the name is then taken from the JSON).
NAMES = [
    "response.output_text.delta",
    "response.in_progress",
    "response.output_item.added",
    "error",
    "response.audio.delta",
    "response.future",
    "message",
]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 100_000])
def test_deep_json_in_any_responses_event_is_a_protocol_error(name: str, depth: int) -> None:
    data = '{"type":"response.future","sequence_number":1,"x":' + deep_json(depth) + "}"
    with pytest.raises(ProtocolError) as info:
        parse_responses_event(name, data, position=3)
    assert info.value.event == name
    assert info.value.position == 3
    assert info.value.excerpt == data[:120] + "…"
    assert f"nested deeper than {MAX_DEPTH} levels" in str(info.value)


def test_the_nesting_limit_itself_is_accepted_in_an_unknown_responses_event() -> None:
    # The event's object is level 1: MAX_DEPTH - 1 more levels reach the limit.
    data = '{"type":"response.future","x":' + deep_json(MAX_DEPTH - 1) + "}"
    typed = parse_responses_event("response.future", data)
    assert isinstance(typed, UnknownResponseEvent)
    assert typed.data == json.loads(data)


def test_the_nesting_limit_is_redacted_like_any_protocol_error() -> None:
    data = '{"type":"response.future","key":"sk-secret","x":' + deep_json(300) + "}"
    with pytest.raises(ProtocolError) as info:
        parse_responses_event(
            "response.future", data, redact=lambda text: text.replace("sk-secret", "***")
        )
    assert "sk-secret" not in str(info.value)
    assert "***" in str(info.value)


def _deep_body(where: str, depth: int) -> bytes:
    deep = '"x":' + deep_json(depth)
    kind = {"known": "response.in_progress", "unknown": "response.future"}[where]
    if where == "known":
        bad = f'{{"type":"{kind}","sequence_number":1,"response":{json.dumps(RESPONSE)},{deep}}}'
    else:
        bad = f'{{"type":"{kind}","sequence_number":1,{deep}}}'
    return wire(
        created(),
        (kind, bad),
        completed([]),
    )


DEEP_CASES = [(where, depth) for where in ("known", "unknown") for depth in (300, 100_000)]


def _check_error(error: ProtocolError, where: str) -> None:
    assert f"nested deeper than {MAX_DEPTH} levels" in str(error)
    assert error.event == {"known": "response.in_progress", "unknown": "response.future"}[where]
    assert error.position == 1
    assert error.excerpt is not None and error.excerpt in str(error)


@pytest.mark.asyncio
@pytest.mark.parametrize(("where", "depth"), DEEP_CASES)
async def test_deep_json_fails_a_responses_stream_once(
    replay_server: ReplayServer, where: str, depth: int
) -> None:
    # As run streams: one ProtocolError, seen by on_exception once, kept in
    # stream.error and re-raised by final_*.
    replay_server.replies.append(Reply(body=_deep_body(where, depth), chunk_size=4096))
    handler = Recorder()
    client = AsyncClient(base_url=replay_server.base_url, api_key="sk-test-key", max_retries=0)
    async with client:
        async with client.responses.stream(model="m", input="x", handler=handler) as s:
            error = await read_to_protocol_error(s)
    assert handler.exceptions == [error]
    assert handler.ends == 1
    assert handler.events == ["thread.run.created"]
    _check_error(error, where)


@pytest.mark.asyncio
@pytest.mark.parametrize(("where", "depth"), DEEP_CASES)
async def test_deep_json_fails_a_responses_stream_from_bytes(where: str, depth: int) -> None:
    body = _deep_body(where, depth)
    handler = Recorder()
    async with ResponseStream.from_bytes(
        [body[i : i + 997] for i in range(0, len(body), 997)],
        handler=handler,
    ) as s:
        with pytest.raises(ProtocolError) as info:
            await s.until_done()
        with pytest.raises(ProtocolError):
            await s.final_run()
    assert handler.exceptions == [info.value]
    _check_error(info.value, where)


@pytest.mark.asyncio
@pytest.mark.parametrize(("where", "depth"), DEEP_CASES)
async def test_deep_json_fails_responses_events(where: str, depth: int) -> None:
    seen: list[Any] = []
    async with ResponseStream.from_bytes([_deep_body(where, depth)]) as s:
        with pytest.raises(ProtocolError) as info:
            async for typed in s.responses_events():
                seen.append(typed)
    assert [type(t).__name__ for t in seen] == ["ResponseCreatedEvent"]
    _check_error(info.value, where)


async def _relay_back(body: bytes, form: str) -> tuple[list[str], BaseException | None]:
    """Relay a ResponseStream of ``body`` and read the relay back: event names, error."""
    async with ResponseStream.from_bytes([body]) as stream:
        relay = stream.to_sse() if form == "sse" else stream.to_ndjson()
        data = b"".join([chunk async for chunk in relay])

    async def source() -> AsyncIterator[bytes]:
        yield data

    names: list[str] = []
    error: BaseException | None = None
    back = from_sse(source()) if form == "sse" else from_ndjson(source())
    async with back:
        try:
            async for e in back:
                names.append(e.event)
        except ProtocolError as exc:
            error = exc
    return names, error


@pytest.mark.asyncio
@pytest.mark.parametrize("form", ["sse", "ndjson"])
@pytest.mark.parametrize(("where", "depth"), DEEP_CASES)
async def test_a_relayed_responses_stream_relays_the_nesting_failure(
    where: str, depth: int, form: str
) -> None:
    body = _deep_body(where, depth)
    async with ResponseStream.from_bytes([body]) as original:
        with pytest.raises(ProtocolError) as info:
            await original.until_done()
    names, error = await _relay_back(body, form)
    assert names == ["thread.run.created"]
    assert isinstance(error, ProtocolError)
    assert str(error) == str(info.value)


@pytest.mark.asyncio
@pytest.mark.parametrize("form", ["sse", "ndjson"])
async def test_an_unknown_responses_event_that_is_not_json_is_kept_as_text(form: str) -> None:
    # As run streams keep it: UnknownEvent(data=<the text>), the stream goes on,
    # and a relay gives the same event back.
    texts = ["hello {not json", "[[[", "[" * (MAX_DEPTH - 1)]
    body = wire(created(), *[("response.future", text) for text in texts], completed([]))
    for text in texts:
        typed = parse_responses_event("response.future", text)
        assert isinstance(typed, UnknownResponseEvent)
        assert typed.data == text
        run = parse_event("thread.future", text)
        assert isinstance(run, UnknownEvent) and run.data == text
    async with ResponseStream.from_bytes([body]) as s:
        events = [e async for e in s]
        assert (await s.final_run()).status == "completed"
    unknown = [e for e in events if isinstance(e, UnknownEvent)]
    assert [(e.event, e.data) for e in unknown] == [("response.future", t) for t in texts]
    names, error = await _relay_back(body, form)
    assert error is None
    assert names == [e.event for e in events]


# -- §2: scaling ---------------------------------------------------------------


def _message(item_id: str, content: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "id": item_id,
        "type": "message",
        "role": "assistant",
        "status": "completed",
        "content": content or [],
    }


def _call(i: int) -> dict[str, Any]:
    return {
        "id": f"fc_{i}",
        "type": "function_call",
        "call_id": f"call_{i}",
        "name": "f",
        "arguments": "{}",
        "status": "completed",
    }


def _computer_call(i: int) -> dict[str, Any]:
    return {
        "id": f"cu_{i}",
        "type": "computer_call",
        "call_id": f"call_{i}",
        "action": {"type": "click"},
        "status": "completed",
    }


def _items(items: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Each item added (in progress) and done, then the response completes with them."""
    events = [created()]
    for i, item in enumerate(items):
        started = {**item, "status": "in_progress"}
        if "arguments" in item:
            started["arguments"] = ""
        events.append(event("response.output_item.added", output_index=i, item=started))
        events.append(event("response.output_item.done", output_index=i, item=item))
    events.append(completed(items))
    return events


TEXT = {"type": "output_text", "text": "w", "annotations": []}


def _on(item_id: str, kind: str, **fields: Any) -> tuple[str, str]:
    return event(kind, item_id=item_id, output_index=0, **fields)


def _message_started() -> list[tuple[str, str]]:
    return [created(), event("response.output_item.added", output_index=0, item=_message("m"))]


def _calls_done(item: Callable[[int], dict[str, Any]]) -> Callable[[int], list[tuple[str, str]]]:
    """n client-side calls, each item only done (the least work per call)."""

    def make(n: int) -> list[tuple[str, str]]:
        done = [event("response.output_item.done", output_index=i, item=item(i)) for i in range(n)]
        return [created(), *done]

    return make


def _function_calls(n: int) -> list[tuple[str, str]]:
    # Each added and done, then requires_action lists them all.
    return _items([_call(i) for i in range(n)])


def _answered_calls(n: int) -> list[tuple[str, str]]:
    # requires_action listing n calls, then the continuation ends the n waiting steps.
    return [*_function_calls(n), created("resp_2")]


def _hosted_calls(n: int) -> list[tuple[str, str]]:
    items = [{"id": f"ws_{i}", "type": "web_search_call", "status": "completed"} for i in range(n)]
    return _items(items)


def _messages(n: int) -> list[tuple[str, str]]:
    events = [created()]
    for i in range(n):
        events.append(event("response.output_item.added", output_index=i, item=_message(f"m{i}")))
        events.append(
            event(
                "response.output_text.delta",
                item_id=f"m{i}",
                output_index=i,
                content_index=0,
                delta="w",
            )
        )
        events.append(
            event("response.output_item.done", output_index=i, item=_message(f"m{i}", [TEXT]))
        )
    return events


def _content_parts(n: int) -> list[tuple[str, str]]:
    events = _message_started()
    for i in range(n):
        events.append(_on("m", "response.content_part.added", content_index=i, part=TEXT))
        events.append(_on("m", "response.output_text.delta", content_index=i, delta="w"))
    events.append(
        event("response.output_item.done", output_index=0, item=_message("m", [TEXT] * n))
    )
    return events


def _unstreamed_parts(n: int) -> list[tuple[str, str]]:
    # A message whose n parts first arrive in its done item (no deltas).
    done = event("response.output_item.done", output_index=0, item=_message("m", [TEXT] * n))
    return [*_message_started(), done]


def _annotations(n: int) -> list[tuple[str, str]]:
    events = [
        *_message_started(),
        _on("m", "response.output_text.delta", content_index=0, delta="w"),
    ]
    for i in range(n):
        annotation = {"type": "file_citation", "file_id": "f", "index": i}
        events.append(
            _on(
                "m",
                "response.output_text.annotation.added",
                content_index=0,
                annotation_index=i,
                annotation=annotation,
            )
        )
    return events


def _text_deltas(n: int) -> list[tuple[str, str]]:
    delta = _on("m", "response.output_text.delta", content_index=0, delta="w")
    return [*_message_started(), *[delta] * n]


def _refusal_deltas(n: int) -> list[tuple[str, str]]:
    delta = _on("m", "response.refusal.delta", content_index=0, delta="r" * 40)
    return [*_message_started(), *[delta] * n]


def _argument_deltas(n: int) -> list[tuple[str, str]]:
    added = event(
        "response.output_item.added",
        output_index=0,
        item={**_call(0), "arguments": "", "status": "in_progress"},
    )
    delta = _on("fc_0", "response.function_call_arguments.delta", delta="a")
    return [created(), added, *[delta] * n]


def _code_deltas(n: int) -> list[tuple[str, str]]:
    item = {"id": "ci", "type": "code_interpreter_call", "code": "", "status": "in_progress"}
    added = event("response.output_item.added", output_index=0, item=item)
    delta = _on("ci", "response.code_interpreter_call_code.delta", delta="a")
    return [created(), added, *[delta] * n]


def _unannounced_items(n: int) -> list[tuple[str, str]]:
    # Deltas of n items never added: each one's state is made on the fly.
    return [created()] + [
        event(
            "response.output_text.delta",
            item_id=f"m{i}",
            output_index=i,
            content_index=0,
            delta="w",
        )
        for i in range(n)
    ]


def _unknown_events(n: int) -> list[tuple[str, str]]:
    return [created()] + [event("response.future", sequence_number=i + 1, x=[1]) for i in range(n)]


def _progress_events(n: int) -> list[tuple[str, str]]:
    return [created()] + [
        _on("ws", "response.web_search_call.searching", sequence_number=i + 1) for i in range(n)
    ]


def _feeder(events: list[tuple[str, str]]) -> Callable[[], Any]:
    """Parse, map and accumulate ``events`` (each typed inside the timed loop, as
    the run-stream tests do)."""

    def run() -> Any:
        mapper, acc = ResponsesMapper(), Accumulator()
        for position, (name, data) in enumerate(events):
            for mapped in mapper.feed(parse_responses_event(name, data, position=position)):
                acc.feed(mapped)
        acc.end()
        return acc

    return run


# name -> (events of size n, n): n is chosen so that t(10n) is about 0.2 s.
SCALING: dict[str, tuple[Callable[[int], list[tuple[str, str]]], int]] = {
    # Each call's step waits for the client: telling whether a done call already
    # waited compared it with every earlier one (2k calls 0.13 s, 20k 4.6 s).
    "function calls done": (_calls_done(_call), 400),
    "other client calls done": (_calls_done(_computer_call), 400),
    "function calls": (_function_calls, 200),
    "answered calls": (_answered_calls, 200),
    "hosted calls": (_hosted_calls, 200),
    "message items": (_messages, 200),
    "content parts": (_content_parts, 300),
    "unstreamed parts": (_unstreamed_parts, 1_000),
    "annotations": (_annotations, 1_000),
    "text deltas": (_text_deltas, 2_000),
    "refusal deltas": (_refusal_deltas, 2_000),
    "argument deltas": (_argument_deltas, 2_000),
    "code deltas": (_code_deltas, 2_000),
    "unannounced items": (_unannounced_items, 1_000),
    "unknown events": (_unknown_events, 3_000),
    "progress events": (_progress_events, 3_000),
}


@pytest.mark.parametrize("case", list(SCALING))
def test_responses_mapping_scales_linearly(case: str) -> None:
    make, n = SCALING[case]
    assert_linear(lambda size: _feeder(make(size)), n)


def test_many_waiting_calls_are_each_ended_once() -> None:
    # The waiting steps end once each, in output order, however often a call's
    # item is done again.
    n = 50
    calls = [_call(i) for i in range(n)]
    again = [event("response.output_item.done", output_index=0, item=calls[0])] * 3
    events = [*_items(calls)[:-1], *again, completed(calls), created("resp_2")]
    mapper = ResponsesMapper()
    mapper.set_tool_outputs({f"call_{i}": f"out {i}" for i in range(n)})
    mapped = [m for name, data in events for m in mapper.feed(parse_responses_event(name, data))]
    ended = [m.data for m in mapped if isinstance(m, ThreadRunStepCompleted)]
    assert [step.id for step in ended] == [f"step_fc_{i}" for i in range(n)]
    outputs = []
    for step in ended:
        assert isinstance(step.step_details, ToolCallsStepDetails)
        (call,) = step.step_details.tool_calls
        assert isinstance(call, FunctionToolCall)
        outputs.append(call.function.output)
    assert outputs == [f"out {i}" for i in range(n)]


def _protocol(body: bytes, skip_through: int | None = None) -> Callable[[], Any]:
    def run() -> Any:
        adapter = ResponsesProtocol(skip_through=skip_through)
        adapter.feed(body)
        adapter.close()
        out = []
        while (mapped := adapter.next_event()) is not None:
            out.append(mapped)
        return out

    return run


def _numbered(n: int) -> bytes:
    delta = [
        _on("m", "response.output_text.delta", content_index=0, delta="w", sequence_number=i + 2)
        for i in range(n)
    ]
    return wire(*_message_started(), *delta)


@pytest.mark.parametrize("resumed", [False, True], ids=["read", "skipped on resume"])
def test_many_sequence_numbers_scale_linearly(resumed: bool) -> None:
    # Bytes to events, with the bookkeeping of sequence numbers; resumed, the
    # events already read are skipped.
    assert_linear(lambda n: _protocol(_numbered(n), skip_through=n if resumed else None), 1_500)
