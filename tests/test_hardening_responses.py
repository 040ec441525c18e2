"""Hostile payloads on Responses streams: the hardening run streams have (test_hardening_parse).

* Nesting: JSON nested deeper than 128 levels in any Responses event, known or
  unknown, is a ``ProtocolError`` naming the nesting limit, the event, its
  position and an excerpt — from ``parse_responses_event``, over HTTP
  (``client.responses.stream``), from bytes, in ``responses_events()`` and
  through a relay (which relays the same failure, never the deep data). An
  unknown event whose data is not JSON at all is kept with the text as its
  ``data``, as run streams keep it.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
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
from streamrun._json import MAX_DEPTH
from streamrun.relay import from_ndjson, from_sse

from .conftest import ReplayServer, Reply
from .test_hardening_parse import Recorder, deep_json

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
            with pytest.raises(ProtocolError) as info:
                async for _ in s:
                    pass
            error = info.value
            assert s.error is error
            with pytest.raises(ProtocolError) as again:
                await s.final_run()
            assert again.value is error
            with pytest.raises(ProtocolError):
                await s.final_messages()
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
