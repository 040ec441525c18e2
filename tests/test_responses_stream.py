"""ResponseStream: Responses API bytes through the full stream path, from bytes and over HTTP.

Every recorded fixture, every chunking: the events, the handler's calls and the
final text equal what the pure layers (parse → ResponsesMapper → Accumulator)
give; the end rules (a cut before the terminal event, the error event); the
typed Responses events; validation before I/O; recover.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aioresponses import aioresponses

from streamrun import (
    AsyncClient,
    AsyncEventHandler,
    ProtocolError,
    StreamError,
    StreamInterrupted,
    StreamrunError,
    ValidationError,
)
from streamrun._accumulate import Accumulator
from streamrun._callbacks import Callback, named
from streamrun._events import ErrorEvent, Event
from streamrun._response_stream import RecoveredResponse, ResponseStream
from streamrun._responses_events import parse_responses_event
from streamrun._responses_map import ResponsesMapper
from streamrun.sse import SSEDecoder

from .conftest import ReplayServer, Reply
from .test_handler import Recorder
from .test_responses_events import FILES, RESPONSES

ERROR_FIXTURE = "20_error_insufficient_quota_gpt-5.sse"
CHUNKINGS = [None, 1, 7, 64]
JSON = "application/json"


def read(path: Path) -> bytes:
    return path.read_bytes()


def chunks(data: bytes, size: int | None) -> list[bytes]:
    if size is None:
        return [data]
    return [data[i : i + size] for i in range(0, len(data), size)]


class Pure:
    """What the pure layers make of a stream's bytes (up to its terminal event)."""

    def __init__(self, data: bytes) -> None:
        decoder = SSEDecoder()
        sses = decoder.feed(data) + decoder.close()
        self.mapper = ResponsesMapper()
        self.acc = Accumulator()
        self.events: list[Event] = []
        self.typed: list[Any] = []
        self.callbacks: list[Callback] = []
        self.error: ErrorEvent | None = None
        for i, sse in enumerate(sses):
            typed = parse_responses_event(sse.event, sse.data, position=i)
            mapped = self.mapper.feed(typed)
            errors = [e for e in mapped if isinstance(e, ErrorEvent)]
            if errors:
                self.error = errors[0]
                return
            self.typed.append(typed)
            for event in mapped:
                self.events.append(event)
                self.callbacks.extend(self.acc.feed(event))
            if self.mapper.settled:
                break
        self.callbacks.extend(self.acc.end())

    @property
    def calls(self) -> list[tuple[str, tuple[Any, ...]]]:
        return [named(c) for c in self.callbacks]

    @property
    def text(self) -> str:
        return "\n".join(m.text for m in self.acc.final_messages())


def shape(events: list[Event]) -> list[tuple[str, Any]]:
    return [(type(e).__name__, e.data) for e in events]


def hooks(recorder: Recorder) -> list[tuple[str, tuple[Any, ...]]]:
    return [c for c in recorder.calls if c[0] not in ("on_end", "on_exception")]


def text_of(stream: ResponseStream) -> str:
    return "\n".join(m.text for m in stream._accumulator.final_messages())


OK_FILES = [p for p in FILES if p.name != ERROR_FIXTURE]


# ---------------------------------------------------------------------------
# From bytes


@pytest.mark.asyncio
@pytest.mark.parametrize("size", CHUNKINGS)
@pytest.mark.parametrize("path", OK_FILES, ids=lambda p: p.name)
async def test_every_fixture_from_bytes_equals_the_pure_mapping(path: Path, size: int) -> None:
    data = read(path)
    pure = Pure(data)
    recorder = Recorder()
    async with ResponseStream.from_bytes(chunks(data, size), handler=recorder) as stream:
        events = [event async for event in stream]
    assert shape(events) == shape(pure.events)
    assert [e.raw for e in events] == [e.raw for e in pure.events]
    assert hooks(recorder) == pure.calls
    assert recorder.calls[-1][0] == "on_end"
    assert text_of(stream) == pure.text
    assert stream.done and stream.run_id == pure.mapper.run.id  # type: ignore[union-attr]
    assert stream.thread_id == pure.mapper.thread_id
    assert stream.last_sequence_number == pure.mapper.last_sequence_number


@pytest.mark.asyncio
@pytest.mark.parametrize("path", OK_FILES, ids=lambda p: p.name)
async def test_responses_events_are_the_typed_events(path: Path) -> None:
    data = read(path)
    pure = Pure(data)
    recorder = Recorder()
    async with ResponseStream.from_bytes(chunks(data, 5), handler=recorder) as stream:
        typed = [event async for event in stream.responses_events()]
    assert typed == pure.typed
    assert [type(t) for t in typed] == [type(t) for t in pure.typed]
    assert hooks(recorder) == pure.calls  # the handler heard everything


@pytest.mark.asyncio
async def test_text_deltas_and_finals() -> None:
    data = read(RESPONSES / "15_hello_world_gpt-4o-mini.sse")
    pure = Pure(data)
    async with ResponseStream.from_bytes(chunks(data, 3)) as stream:
        text = "".join([t async for t in stream.text_deltas])
    assert text == pure.text and text
    async with ResponseStream.from_bytes([data]) as stream:
        run = await stream.final_run()
        messages = await stream.final_messages()
    assert run.status == "completed" and run.id == stream.run_id
    assert [m.text for m in messages] == [pure.text]
    assert stream.response is not None and stream.response.status == "completed"


@pytest.mark.asyncio
@pytest.mark.parametrize("size", CHUNKINGS)
async def test_error_event_raises_stream_error_at_the_error_event(size: int | None) -> None:
    data = (RESPONSES / ERROR_FIXTURE).read_bytes()
    pure = Pure(data)
    assert pure.error is not None
    recorder = Recorder()
    seen: list[Event] = []
    async with ResponseStream.from_bytes(chunks(data, size), handler=recorder) as stream:
        with pytest.raises(StreamError) as info:
            async for event in stream:
                seen.append(event)
    assert shape(seen) == shape(pure.events)
    assert info.value.code == "insufficient_quota"
    assert "exceeded your current quota" in str(info.value)
    assert info.value.run_id == stream.run_id is not None
    assert [c[0] for c in recorder.calls[-2:]] == ["on_exception", "on_end"]
    assert stream.error is info.value


@pytest.mark.asyncio
@pytest.mark.parametrize("shape_", ["bare", "wrapped"])
async def test_error_event_both_shapes_are_redacted(shape_: str) -> None:
    key = "sk-secret-123456789"
    fields = {"code": "bad", "message": f"key {key} refused", "param": None}
    error = {"type": "error", "sequence_number": 1}
    error.update(fields if shape_ == "bare" else {"error": {"type": "x", **fields}})
    created = {"type": "response.created", "sequence_number": 0, "response": {"id": "resp_1"}}
    data = b"".join(
        f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode() for e in (created, error)
    )
    server = ReplayServer()
    from .conftest import serve

    server.replies.append(Reply(body=data))
    async with serve(server.handle) as origin:
        async with AsyncClient(api_key=key, base_url=origin + "/v1") as client:
            async with client.responses.stream(model="m", input="hi") as stream:
                with pytest.raises(StreamError) as info:
                    await stream.until_done()
    assert key not in str(info.value) and "***" in str(info.value)
    assert info.value.code == "bad"


@pytest.mark.asyncio
@pytest.mark.parametrize("path", OK_FILES, ids=lambda p: p.name)
async def test_a_cut_before_the_terminal_event_is_interrupted(path: Path) -> None:
    data = read(path)
    terminal = data.rstrip().rindex(b"\n\n") + 2  # the last event starts here
    for cut in (0, len(data) // 3, terminal, len(data) - 3):
        recorder = Recorder()
        async with ResponseStream.from_bytes([data[:cut]], handler=recorder) as stream:
            with pytest.raises(StreamInterrupted, match="terminal event"):
                await stream.until_done()
        assert recorder.calls[-1][0] == "on_end"


@pytest.mark.asyncio
async def test_background_bytes_cut_are_interrupted_with_no_network() -> None:
    data = (RESPONSES / "09_background_queued_gpt-4o.sse").read_bytes()
    async with ResponseStream.from_bytes([data[: len(data) // 2]]) as stream:
        with pytest.raises(StreamInterrupted):
            await stream.until_done()
        with pytest.raises(StreamrunError, match="no connection"):
            await stream.recover()


@pytest.mark.asyncio
async def test_events_after_the_terminal_event_are_not_read() -> None:
    data = read(RESPONSES / "15_hello_world_gpt-4o-mini.sse")
    async with ResponseStream.from_bytes([data, b"data: {not json\n\n"]) as stream:
        await stream.until_done()
    assert stream.done


@pytest.mark.asyncio
async def test_malformed_event_is_a_protocol_error_naming_the_responses_event() -> None:
    good = read(RESPONSES / "15_hello_world_gpt-4o-mini.sse")
    head = good[: good.index(b"event: response.output_text.delta")]
    bad = head + b"event: response.output_text.delta\ndata: {oops\n\n"
    async with ResponseStream.from_bytes([bad]) as stream:
        with pytest.raises(ProtocolError) as info:
            await stream.until_done()
    assert info.value.event == "response.output_text.delta"
    assert "malformed JSON" in str(info.value)


@pytest.mark.asyncio
async def test_a_second_response_in_one_segment_is_a_protocol_error() -> None:
    one = read(RESPONSES / "15_hello_world_gpt-4o-mini.sse")
    first_event = one[: one.index(b"\n\n") + 2]
    other = first_event.replace(b"resp_0976", b"resp_XXXX")
    async with ResponseStream.from_bytes([first_event + other]) as stream:
        with pytest.raises(ProtocolError, match="belongs to response"):
            await stream.until_done()


def test_repr_names_a_response_stream() -> None:
    stream = ResponseStream.from_bytes([])
    assert repr(stream).startswith("<ResponseStream run_id=None")


# ---------------------------------------------------------------------------
# Over a real server


@pytest.mark.asyncio
@pytest.mark.parametrize("size", [1, 7, 1000])
@pytest.mark.parametrize("path", OK_FILES, ids=lambda p: p.name)
async def test_every_fixture_over_a_local_server(
    replay_server: ReplayServer, path: Path, size: int
) -> None:
    data = read(path)
    pure = Pure(data)
    replay_server.replies.append(Reply(body=data, chunk_size=size))
    recorder = Recorder()
    async with AsyncClient(api_key="sk-test", base_url=replay_server.base_url) as client:
        async with client.responses.stream(
            model="gpt-4o", input="Hi", instructions="Be brief", handler=recorder, temperature=0.5
        ) as stream:
            events = [event async for event in stream]
    assert shape(events) == shape(pure.events)
    assert hooks(recorder) == pure.calls
    assert text_of(stream) == pure.text
    (request,) = replay_server.requests
    assert (request["method"], request["path"]) == ("POST", "/v1/responses")
    assert request["body"] == {
        "model": "gpt-4o",
        "input": "Hi",
        "instructions": "Be brief",
        "temperature": 0.5,
        "stream": True,
    }
    assert request["headers"]["Accept"] == "text/event-stream"


@pytest.mark.asyncio
async def test_a_cut_connection_is_interrupted_then_recovered(replay_server: ReplayServer) -> None:
    data = read(RESPONSES / "15_hello_world_gpt-4o-mini.sse")
    final = json.loads(data.rsplit(b"data: ", 1)[1])["response"]
    replay_server.replies += [
        Reply(body=data, close_after=len(data) // 2),
        Reply(
            body=json.dumps({**final, "status": "in_progress"}).encode(),
            content_type="application/json",
        ),
        Reply(body=json.dumps(final).encode(), content_type="application/json"),
    ]
    async with AsyncClient(api_key="sk-test", base_url=replay_server.base_url) as client:
        async with client.responses.stream(model="m", input="Hi") as stream:
            with pytest.raises(StreamInterrupted):
                await stream.until_done()
            recovered = await stream.recover(poll_interval=0.001)
    assert isinstance(recovered, RecoveredResponse)
    assert recovered.response.status == "completed"
    assert recovered.run.status == "completed" and recovered.run.id == final["id"]
    assert recovered.text == Pure(data).text
    gets = [r for r in replay_server.requests if r["method"] == "GET"]
    assert [r["path"] for r in gets] == [f"/v1/responses/{final['id']}"] * 2
    # Not a background response: no automatic resume, no cancel request.
    assert [r["method"] for r in replay_server.requests] == ["POST", "GET", "GET"]


@pytest.mark.asyncio
async def test_retrieve_and_cancel(replay_server: ReplayServer) -> None:
    body = {"id": "resp_1", "object": "response", "status": "cancelled", "background": True}
    replay_server.replies += [
        Reply(body=json.dumps(body).encode(), content_type="application/json"),
        Reply(body=json.dumps(body).encode(), content_type="application/json"),
    ]
    async with AsyncClient(api_key="sk-test", base_url=replay_server.base_url) as client:
        got = await client.responses.retrieve("resp_1")
        cancelled = await client.responses.cancel("resp_1")
    assert got.status == cancelled.status == "cancelled" and got.background is True
    assert [(r["method"], r["path"]) for r in replay_server.requests] == [
        ("GET", "/v1/responses/resp_1"),
        ("POST", "/v1/responses/resp_1/cancel"),
    ]


# ---------------------------------------------------------------------------
# Validation before I/O, and the default host


def _client() -> AsyncClient:
    return AsyncClient(api_key="sk-test")  # https://api.openai.com/v1


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("kwargs", "path", "match"),
    [
        ({"temprature": 1}, "temprature", "did you mean 'temperature'"),
        ({"temperature": 3}, "temperature", ""),
        ({"previous_response_id": "resp_1", "conversation": "conv_1"}, "conversation", "together"),
        ({"max_output_tokens": 3}, "max_output_tokens", ""),
        ({"stream": False}, "stream", "must be true"),
        ({"handler": object()}, "handler", "AsyncEventHandler"),
        ({"functions": 3}, "functions", ""),
        ({"max_tool_rounds": 2}, "max_tool_rounds", "only applies with functions="),
        ({"extra_headers": {"X": "a\nb"}}, "extra_headers", ""),
    ],
)
async def test_validation_errors_before_any_io(
    kwargs: dict[str, Any], path: str, match: str
) -> None:
    with aioresponses() as mocked:
        async with _client() as client:
            with pytest.raises(ValidationError, match=match or None) as info:
                client.responses.stream(model="m", input="hi", **kwargs)
        assert mocked.requests == {}
    assert info.value.path.startswith(path)


@pytest.mark.asyncio
async def test_submit_tool_outputs_validation_before_any_io() -> None:
    with aioresponses() as mocked:
        async with _client() as client:
            with pytest.raises(ValidationError, match="model"):
                client.responses.submit_tool_outputs_stream(
                    "resp_1", tool_outputs=[{"tool_call_id": "c", "output": "x"}]
                )
            with pytest.raises(ValidationError, match="tool_outputs"):
                client.responses.submit_tool_outputs_stream("resp_1", tool_outputs=[1], model="m")
            with pytest.raises(ValidationError, match="response_id"):
                client.responses.submit_tool_outputs_stream("", tool_outputs=[], model="m")
            with pytest.raises(ValidationError, match="did you mean"):
                client.responses.submit_tool_outputs_stream(
                    "resp_1", tool_outputs=[], model="m", instrutions="x"
                )
        assert mocked.requests == {}


@pytest.mark.asyncio
async def test_the_responses_api_works_on_openais_host() -> None:
    data = read(RESPONSES / "15_hello_world_gpt-4o-mini.sse")
    with aioresponses() as mocked:
        mocked.post(
            "https://api.openai.com/v1/responses",
            body=data,
            headers={"Content-Type": "text/event-stream"},
        )
        async with _client() as client:
            with pytest.raises(ValidationError, match="base_url"):
                client.runs.stream("thread_1", assistant_id="asst_1")
            async with client.responses.stream(model="gpt-4o-mini", input="Hi") as stream:
                text = "".join([t async for t in stream.text_deltas])
    assert text == Pure(data).text


class _Plain(AsyncEventHandler):
    pass


def test_stream_returns_a_response_stream_without_io() -> None:
    client = AsyncClient(api_key="sk-test")
    stream = client.responses.stream(model="m", input="hi", handler=_Plain())
    assert isinstance(stream, ResponseStream)
    assert stream._body == {"model": "m", "input": "hi", "stream": True}
