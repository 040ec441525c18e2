"""``streamrun.relay.from_sse`` / ``from_ndjson``: a relay read back is the stream that was relayed.

On every fixture transcript (and on streams that fail: cut, malformed, too
large, timed out, an error reply), the relayed bytes — SSE and NDJSON, in
several chunkings, and at random split points with Hypothesis — give the same
events, snapshots, handler trace and error as the original stream; and so
does a real aiohttp ``ClientResponse`` from ``sse_response`` on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import attrs
import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings, strategies as st

from streamrun import (
    APIStatusError,
    AsyncClient,
    Event,
    EventTooLargeError,
    InternalServerError,
    ProtocolError,
    RunStream,
    StreamError,
    StreamInterrupted,
    StreamrunError,
    StreamTimeout,
)
from streamrun.relay import (
    error_data,
    from_ndjson,
    from_sse,
    sse_block,
    sse_response,
    to_ndjson,
    to_sse,
)
from streamrun.testing import FakeAssistantsServer, Faults, Scenario, TextReply

from .conftest import ReplayServer, Reply, fixture_bytes, manifest
from .test_pipeline import Trace

FIXTURE_NAMES = [entry["file"] for entry in manifest()]
FORMATS = {"sse": (to_sse, from_sse), "ndjson": (to_ndjson, from_ndjson)}
LONG = "A long answer, streamed slowly so that the test can leave in the middle. " * 6


def _malformed() -> bytes:
    """plain_text.sse with one delta's JSON broken: a ProtocolError mid-stream."""
    raw = fixture_bytes("plain_text.sse")
    blocks = raw.split(b"\n\n")
    index = next(i for i, b in enumerate(blocks) if b"thread.message.delta" in b) + 3
    blocks[index] = b"event: thread.message.delta\ndata: {not json"
    return b"\n\n".join(blocks)


def _cut() -> bytes:
    """plain_text.sse cut in the middle: StreamInterrupted."""
    raw = fixture_bytes("plain_text.sse")
    return raw[: len(raw) // 2]


def _too_large() -> bytes:
    """plain_text.sse with one delta grown past 2000 bytes (the limit of that case)."""
    raw = fixture_bytes("plain_text.sse")
    blocks = raw.split(b"\n\n")
    index = next(i for i, b in enumerate(blocks) if b"thread.message.delta" in b) + 5
    blocks[index] = blocks[index].replace(b'"value":"', b'"value":"' + b"y" * 3000, 1)
    assert len(blocks[index]) > 3000
    return b"\n\n".join(blocks)


# name -> (transcript bytes, max_event_size of the original stream)
CASES: dict[str, tuple[Callable[[], bytes], int | None]] = {
    **{name: (functools.partial(fixture_bytes, name), None) for name in FIXTURE_NAMES},
    "cut": (_cut, None),
    "malformed": (_malformed, None),
    "too_large": (_too_large, 2000),
}


@attrs.define
class Outcome:
    """Everything a reader of a stream can observe."""

    events: list[Event]
    error: tuple[type[BaseException], str] | None
    calls: list[tuple[str, str]]
    current_event: Event | None
    current_run: Any
    message: Any
    step: Any
    run_id: str | None
    thread_id: str | None
    done: bool
    error_run_id: str | None = None


async def observe(stream: RunStream, handler: Trace) -> Outcome:
    events: list[Event] = []
    error: tuple[type[BaseException], str] | None = None
    error_run_id = None
    async with stream:
        try:
            async for event in stream:
                events.append(event)
        except StreamrunError as exc:
            error = (type(exc), str(exc))
            error_run_id = getattr(exc, "run_id", None)
    return Outcome(
        events=events,
        error=error,
        calls=handler.calls,
        current_event=stream.current_event,
        current_run=stream.current_run,
        message=stream.current_message_snapshot,
        step=stream.current_run_step_snapshot,
        run_id=stream.run_id,
        thread_id=stream.thread_id,
        done=stream.done,
        error_run_id=error_run_id,
    )


def original_stream(case: str, handler: Trace | None = None) -> RunStream:
    """The case read as from a server (in 97-byte chunks)."""
    make, limit = CASES[case]
    raw = make()
    kwargs: dict[str, Any] = {} if limit is None else {"max_event_size": limit}
    parts = [raw[i : i + 97] for i in range(0, len(raw), 97)]
    return RunStream.from_bytes(parts, handler=handler, **kwargs)


async def original(case: str) -> Outcome:
    handler = Trace()
    return await observe(original_stream(case, handler), handler)


async def relayed(case: str, fmt: str) -> bytes:
    relay = FORMATS[fmt][0]
    return b"".join([chunk async for chunk in relay(original_stream(case))])


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = [0, *sorted({c for c in cuts if 0 < c < len(data)}), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(points)]


async def chunks(parts: list[bytes]) -> AsyncIterator[bytes]:
    for part in parts:
        await asyncio.sleep(0)
        yield part


async def rehydrated(parts: list[bytes], fmt: str) -> Outcome:
    handler = Trace()
    return await observe(FORMATS[fmt][1](chunks(parts), handler=handler), handler)


def assert_same(got: Outcome, want: Outcome) -> None:
    if want.error is not None and want.error[0] is EventTooLargeError:
        # The one failure whose class is not relayed: it comes back as its base class.
        assert got.error is not None and got.error[0] is ProtocolError
        got.error = (EventTooLargeError, got.error[1])
        got.calls = [(n, a.replace("ProtocolError(", "EventTooLargeError(")) for n, a in got.calls]
    assert got.events == want.events
    assert got == want


# -- every transcript, both formats, several chunkings ------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize("fmt", list(FORMATS))
@pytest.mark.parametrize("case", list(CASES))
async def test_a_relay_read_back_is_the_original_stream(case: str, fmt: str) -> None:
    want = await original(case)
    assert want.events, "the case has events"
    data = await relayed(case, fmt)
    for size in (1, 7, 64, 1000, len(data)):
        parts = [data[i : i + size] for i in range(0, len(data), size)]
        assert_same(await rehydrated(parts, fmt), want)


def test_the_cases_cover_every_ending() -> None:
    outcomes = {case: asyncio.run(original(case)) for case in CASES}
    ended = {type_ for o in outcomes.values() for type_ in [o.error and o.error[0]]}
    assert {None, StreamError, StreamInterrupted, ProtocolError, EventTooLargeError} <= ended
    assert sum(o.done for o in outcomes.values()) == len(FIXTURE_NAMES) - 1


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    case=st.sampled_from(["plain_text.sse", "error_event.sse", "code_interpreter.sse", "cut"]),
    fmt=st.sampled_from(list(FORMATS)),
    cuts=st.lists(st.integers(min_value=0, max_value=40_000), max_size=60),
)
def test_a_relay_split_anywhere_reads_back_the_same(case: str, fmt: str, cuts: list[int]) -> None:
    async def check() -> None:
        want = await original(case)
        data = await relayed(case, fmt)
        assert_same(await rehydrated(split(data, cuts), fmt), want)

    asyncio.run(check())


@pytest.mark.asyncio
@pytest.mark.parametrize("fmt", list(FORMATS))
async def test_text_deltas_and_final_methods_over_a_relay(fmt: str) -> None:
    data = await relayed("plain_text.sse", fmt)
    stream = FORMATS[fmt][1](chunks([data]))
    async with stream:
        text = "".join([t async for t in stream.text_deltas])
        messages = await stream.final_messages()
        run = await stream.final_run()
        steps = await stream.final_run_steps()
    reference = original_stream("plain_text.sse")
    async with reference:
        assert messages == await reference.final_messages()
        assert run == await reference.final_run()
        assert steps == await reference.final_run_steps()
    assert text == messages[-1].text != ""


# -- how relayed failures come back -----------------------------------------------------


@pytest.mark.asyncio
async def test_a_relayed_timeout_is_a_stream_timeout_and_calls_on_timeout(
    replay_server: ReplayServer,
) -> None:
    raw = fixture_bytes("plain_text.sse")
    replay_server.replies.append(Reply(body=raw, chunk_size=500, stall_after=3000, stall=2.0))
    original_trace = Trace()
    async with AsyncClient(
        api_key="sk-test", base_url=replay_server.base_url, idle_timeout=0.3, max_retries=0
    ) as client:
        stream = client.runs.stream("thread_1", assistant_id="asst_1", handler=original_trace)
        data = b"".join([c async for c in stream.to_sse()])
    assert isinstance(stream.error, StreamTimeout)
    handler = Trace()
    back = from_sse(chunks([data]), handler=handler)
    async with back:
        with pytest.raises(StreamTimeout) as info:
            await back.until_done()
    assert str(info.value) == str(stream.error)
    assert (info.value.kind, info.value.seconds) == ("idle", 0.3)
    assert info.value.run_id == stream.run_id is not None
    assert handler.calls == original_trace.calls
    assert [n for n, _ in handler.calls[-3:]] == ["on_timeout", "on_exception", "on_end"]


@pytest.mark.asyncio
async def test_a_relayed_error_reply_is_a_stream_error_with_its_fields(
    replay_server: ReplayServer,
) -> None:
    body = b'{"error":{"message":"no such assistant","type":"invalid_request_error","code":"x"}}'
    replay_server.replies.append(Reply(status=404, body=body, content_type="application/json"))
    async with AsyncClient(
        api_key="sk-test", base_url=replay_server.base_url, max_retries=0
    ) as client:
        data = b"".join([c async for c in client.runs.stream("t", assistant_id="a").to_sse()])
    back = from_sse(chunks([data]))
    async with back:
        with pytest.raises(StreamError) as info:
            await back.until_done()
    assert info.value.message == "no such assistant"
    assert (info.value.type, info.value.code) == ("invalid_request_error", "x")


@pytest.mark.asyncio
async def test_a_server_error_event_keeps_its_fields_even_with_a_class_like_type() -> None:
    # A server error with a code is never mistaken for a relayed failure.
    block = sse_block("error", '{"message":"m","type":"StreamInterrupted","code":"c","param":null}')
    back = from_sse(chunks([block]))
    async with back:
        with pytest.raises(StreamError) as info:
            await back.until_done()
    assert type(info.value) is StreamError
    assert (info.value.type, info.value.code) == ("StreamInterrupted", "c")


@pytest.mark.parametrize(
    ("exc", "kind"),
    [
        (StreamInterrupted("cut"), StreamInterrupted),
        (ProtocolError("bad"), ProtocolError),
        (EventTooLargeError(10, 5), ProtocolError),
        (StreamTimeout("total timeout (2.5s) after 3 events", kind="total"), StreamTimeout),
        (StreamError("boom"), StreamError),
        (StreamError("boom", type="server_error"), StreamError),
        (InternalServerError("down", status=500), StreamError),
    ],
)
def test_each_relayed_failure_comes_back_as(exc: StreamrunError, kind: type[Exception]) -> None:
    async def check() -> None:
        block = sse_block("error", json.dumps(error_data(exc)))
        back = from_sse(chunks([block]))
        async with back:
            with pytest.raises(StreamrunError) as info:
                await back.until_done()
        assert type(info.value) is kind
        if kind is not StreamError or type(exc) is StreamError:
            assert str(info.value) == str(exc)
        if isinstance(exc, StreamTimeout):
            assert isinstance(info.value, StreamTimeout)
            assert (info.value.kind, info.value.seconds) == ("total", 2.5)
        if isinstance(exc, StreamError):
            assert isinstance(info.value, StreamError)
            assert info.value.type == exc.type

    asyncio.run(check())


@pytest.mark.asyncio
@pytest.mark.parametrize("fmt", list(FORMATS))
async def test_a_relay_cut_before_done_is_interrupted(fmt: str) -> None:
    data = await relayed("plain_text.sse", fmt)
    handler = Trace()
    back = FORMATS[fmt][1](chunks([data[: len(data) // 2]]), handler=handler)
    async with back:
        with pytest.raises(StreamInterrupted, match="before \\[DONE\\]"):
            await back.until_done()
    assert back.current_message_snapshot is not None
    assert [n for n, _ in handler.calls[-2:]] == ["on_exception", "on_end"]


@pytest.mark.asyncio
async def test_a_relay_reader_has_no_run_to_control() -> None:
    back = from_sse(chunks([await relayed("plain_text.sse", "sse")]))
    async with back:
        with pytest.raises(StreamrunError, match="cannot cancel the run"):
            await back.cancel()
        await back.until_done()
    assert isinstance(back, RunStream)


def test_a_source_that_is_not_async_bytes_is_refused() -> None:
    with pytest.raises(TypeError, match="async iterable of bytes or an aiohttp ClientResponse"):
        from_sse([b"event: done\ndata: [DONE]\n\n"])  # type: ignore[arg-type]


# -- NDJSON lines ----------------------------------------------------------------------


@pytest.mark.asyncio
async def test_ndjson_a_bad_line_is_a_protocol_error_after_the_events_before_it() -> None:
    data = await relayed("plain_text.sse", "ndjson")
    lines = data.split(b"\n")
    bad = b"\n".join([*lines[:5], b'{"event": "thread.message.delta"', *lines[5:]])
    handler = Trace()
    back = from_ndjson(chunks([bad]), handler=handler)
    events: list[Event] = []
    async with back:
        with pytest.raises(ProtocolError, match="NDJSON relay line 6 is not a relayed event") as e:
            async for event in back:
                events.append(event)
    assert len(events) == 5
    assert e.value.position == 5
    assert [n for n, _ in handler.calls[-2:]] == ["on_exception", "on_end"]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "line", [b"[1, 2]", b'{"event": 3, "data": {}}', b'{"data": {}}', b'{"event": "x"}', b"\xff"]
)
async def test_ndjson_lines_that_are_not_relayed_events(line: bytes) -> None:
    back = from_ndjson(chunks([line + b"\n"]))
    async with back:
        with pytest.raises(ProtocolError, match="NDJSON relay line 1"):
            await back.until_done()


@pytest.mark.asyncio
async def test_ndjson_a_name_with_a_line_end_is_a_protocol_error_not_an_injected_event() -> None:
    line = b'{"event": "x\\nevent: done", "data": {}}\n'
    back = from_ndjson(chunks([line]))
    async with back:
        with pytest.raises(ProtocolError, match="line end"):
            await back.until_done()


@pytest.mark.asyncio
async def test_ndjson_blank_lines_crlf_and_a_whole_last_line_without_its_end() -> None:
    data = await relayed("plain_text.sse", "ndjson")
    want = await original("plain_text.sse")
    spaced = data.replace(b"\n", b"\r\n\n").rstrip(b"\r\n")
    got = await rehydrated([spaced[i : i + 33] for i in range(0, len(spaced), 33)], "ndjson")
    assert_same(got, want)


@pytest.mark.asyncio
async def test_ndjson_a_line_past_the_size_limit_is_refused_unbuffered() -> None:
    async def endless() -> AsyncIterator[bytes]:
        yield b'{"event": "thread.message.delta", "data": "'
        while True:
            yield b"x" * 65536

    back = from_ndjson(endless())
    async with back:
        with pytest.raises(EventTooLargeError, match="exceeds the size limit"):
            await back.until_done()


@pytest.mark.asyncio
@pytest.mark.parametrize("fmt", list(FORMATS))
async def test_leaving_early_closes_the_source(fmt: str) -> None:
    data = await relayed("plain_text.sse", fmt)
    closed: list[bool] = []

    async def source() -> AsyncIterator[bytes]:
        try:
            for i in range(0, len(data), 100):
                yield data[i : i + 100]
        finally:
            closed.append(True)

    back = FORMATS[fmt][1](source())
    async with back:
        async for _ in back:
            break
    assert closed == [True]


# -- over a real aiohttp ClientResponse ---------------------------------------------------


async def _serve(
    handle: Callable[[web.Request], Awaitable[web.StreamResponse]],
) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_post("/relay", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}/relay"


async def _ndjson_response(request: web.Request, stream: RunStream) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
    await response.prepare(request)
    async for chunk in to_ndjson(stream):
        await response.write(chunk)
    await response.write_eof()
    return response


@pytest.mark.asyncio
@pytest.mark.parametrize("fmt", list(FORMATS))
async def test_every_case_over_a_real_client_response(fmt: str) -> None:
    case_of: dict[str, str] = {}

    async def handle(request: web.Request) -> web.StreamResponse:
        case = case_of[request.query["case"]]
        make, limit = CASES[case]
        raw = make()
        parts = [raw[i : i + 97] for i in range(0, len(raw), 97)]
        kwargs: dict[str, Any] = {} if limit is None else {"max_event_size": limit}
        stream = RunStream.from_bytes(chunks(parts), **kwargs)
        if fmt == "sse":
            return await sse_response(request, stream)
        return await _ndjson_response(request, stream)

    runner, url = await _serve(handle)
    try:
        async with aiohttp.ClientSession() as session:
            for index, case in enumerate(CASES):
                case_of[str(index)] = case
                want = await original(case)
                async with session.post(url, params={"case": str(index)}) as response:
                    handler = Trace()
                    got = await observe(FORMATS[fmt][1](response, handler=handler), handler)
                    assert response.closed or response.connection is None
                assert_same(got, want)
    finally:
        await runner.cleanup()


@pytest.mark.asyncio
async def test_an_error_status_is_an_api_status_error_at_once() -> None:
    async def handle(request: web.Request) -> web.StreamResponse:
        return web.json_response({"error": "no"}, status=503)

    runner, url = await _serve(handle)
    try:
        async with aiohttp.ClientSession() as session:
            async with session.post(url) as response:
                with pytest.raises(APIStatusError, match="the relay answered with status 503"):
                    from_sse(response)
    finally:
        await runner.cleanup()


@pytest.mark.asyncio
async def test_leaving_a_relay_read_early_cancels_the_run_upstream() -> None:
    """Browser-less end to end: the reader leaves, the relay sees it, the run is cancelled."""
    finished = asyncio.Event()
    async with FakeAssistantsServer(faults=Faults(delay=0.01), auto_create_threads=True) as server:
        server.queue_scenario(Scenario([TextReply(LONG)]))
        async with AsyncClient(api_key="sk-test", base_url=server.base_url) as client:

            async def handle(request: web.Request) -> web.StreamResponse:
                try:
                    stream = client.runs.stream("thread_1", assistant_id="asst_1")
                    return await sse_response(request, stream)
                finally:
                    finished.set()

            runner, url = await _serve(handle)
            try:
                async with aiohttp.ClientSession() as session:
                    async with session.post(url) as response:
                        back = from_sse(response)
                        async with back:
                            async for text in back.text_deltas:
                                assert text
                                break
                        assert response.closed
                await asyncio.wait_for(finished.wait(), 10)
                run = await server.wait_for_run(server.run_ids()[0])
                assert run["status"] == "cancelled"
                assert len(server.cancel_requests) == 1
            finally:
                await runner.cleanup()
