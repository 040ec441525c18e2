"""The protocol-neutral pipeline, its state machine, and RunStream.from_bytes (no network)."""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator
from typing import Any

import pytest

from streamrun import (
    AsyncClient,
    AsyncEventHandler,
    ProtocolError,
    Run,
    RunStream,
    StreamConsumedError,
    StreamError,
    StreamInterrupted,
    StreamrunError,
    UnknownEvent,
)
from streamrun._accumulate import Accumulator
from streamrun._callbacks import OnEvent, OnTextDelta
from streamrun._events import Event, ThreadMessageDelta, parse_event
from streamrun._exceptions import StreamFailure
from streamrun._handler import HOOK_NAMES
from streamrun._pipeline import _TRANSITIONS, ConnectionLost, Pipeline, State

from .conftest import ReplayServer, Reply, fixture_bytes, manifest

FIXTURE_FILES = [entry["file"] for entry in manifest()]


def _hook(name: str) -> Any:
    async def hook(self: Trace, *args: Any) -> None:
        self.calls.append((name, repr(args)))

    return hook


class Trace(AsyncEventHandler):
    """Records every hook with its arguments (as their repr at the end)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []


for _name in HOOK_NAMES:
    setattr(Trace, _name, _hook(_name))


def chunked(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


async def read_all(stream: RunStream) -> list[Event]:
    async with stream:
        return [event async for event in stream]


# ---------------------------------------------------------------------------
# from_bytes: the same pipeline as a live stream, with no server


@pytest.mark.asyncio
@pytest.mark.parametrize("name", [f for f in FIXTURE_FILES if f != "error_event.sse"])
async def test_from_bytes_matches_the_http_stream(replay_server: ReplayServer, name: str) -> None:
    raw = fixture_bytes(name)
    replay_server.replies.append(Reply(body=raw, chunk_size=97))
    over_http = Trace()
    async with AsyncClient(api_key="sk-test", base_url=replay_server.base_url) as client:
        live = client.runs.stream("thread_1", assistant_id="asst_1", handler=over_http)
        live_events = await read_all(live)
    for size in (1, 13, len(raw)):
        offline = Trace()
        stream = RunStream.from_bytes(chunked(raw, size), handler=offline)
        events = await read_all(stream)
        assert [e.raw for e in events] == [e.raw for e in live_events]
        assert offline.calls == over_http.calls
        assert stream.done
        assert stream.run_id == live.run_id
        # Offline, the thread is the one the events name; live, the one the request
        # named stays the stream's thread (its cancel and continuation target).
        named = {e.data.thread_id for e in events if isinstance(e.data, Run)}
        assert named and stream.thread_id in named
        assert live.thread_id == "thread_1"
        assert await stream.final_messages() == await live.final_messages()


@pytest.mark.asyncio
async def test_from_bytes_reads_an_async_source_and_text_deltas() -> None:
    raw = fixture_bytes("plain_text.sse")

    async def source() -> AsyncIterator[bytes]:
        for chunk in chunked(raw, 50):
            yield chunk

    stream = RunStream.from_bytes(source())
    async with stream:
        text = "".join([t async for t in stream.text_deltas])
    messages = await stream.final_messages()
    assert text == messages[-1].text
    assert text


@pytest.mark.asyncio
async def test_from_bytes_cut_short_is_interrupted_with_the_run_id() -> None:
    raw = fixture_bytes("plain_text.sse")
    cut = raw[: raw.index(b"event: thread.message.completed")]
    handler = Trace()
    stream = RunStream.from_bytes([cut], handler=handler)
    async with stream:
        with pytest.raises(StreamInterrupted, match="closed the stream") as info:
            await stream.until_done()
    assert info.value.run_id == stream.run_id is not None
    assert info.value.last_event is stream.current_event
    assert [n for n, _ in handler.calls[-2:]] == ["on_exception", "on_end"]
    assert repr(stream).endswith(" failed>")


@pytest.mark.asyncio
async def test_from_bytes_error_event_and_malformed_json() -> None:
    error = b'event: error\ndata: {"message":"boom","type":"server_error"}\n\n'
    with pytest.raises(StreamError, match="boom"):
        await read_all(RunStream.from_bytes([error]))
    bad = b"event: thread.run.created\ndata: {not json\n\n"
    with pytest.raises(ProtocolError, match=r"thread\.run\.created"):
        await read_all(RunStream.from_bytes([bad]))


@pytest.mark.asyncio
async def test_from_bytes_has_no_run_to_control() -> None:
    stream = RunStream.from_bytes([fixture_bytes("plain_text.sse")])
    async with stream:
        with pytest.raises(StreamrunError, match="cannot cancel the run: this stream reads bytes"):
            await stream.cancel()
        with pytest.raises(StreamrunError, match="cannot recover the run"):
            await stream.recover()
        await stream.until_done()


@pytest.mark.asyncio
async def test_from_bytes_left_early_closes_an_async_generator_source() -> None:
    closed: list[bool] = []

    async def source() -> AsyncIterator[bytes]:
        try:
            for chunk in chunked(fixture_bytes("plain_text.sse"), 40):
                yield chunk
        finally:
            closed.append(True)

    handler = Trace()
    stream = RunStream.from_bytes(source(), handler=handler)
    async with stream:
        async for _ in stream:
            break
    assert closed == [True]
    assert handler.calls[-1][0] == "on_end"
    assert repr(stream).endswith(" closed>")
    with pytest.raises(StreamrunError, match="the stream was closed"):
        await stream.until_done()


@pytest.mark.asyncio
async def test_from_bytes_opened_once_and_only_inside_async_with() -> None:
    stream = RunStream.from_bytes([fixture_bytes("run_failed.sse")])
    with pytest.raises(StreamrunError, match="async with"):
        await stream.until_done()
    async with stream:
        await stream.until_done()
    with pytest.raises(StreamConsumedError, match="already opened"):
        async with stream:
            pass  # pragma: no cover - never entered


@pytest.mark.asyncio
async def test_connection_lost_before_and_after_the_run_settled() -> None:
    raw = fixture_bytes("plain_text.sse")

    def broken(data: bytes) -> AsyncIterator[bytes]:
        async def source() -> AsyncIterator[bytes]:
            yield data
            try:
                raise OSError("reset by peer")
            except OSError as exc:
                raise ConnectionLost(f"OSError: {exc}") from exc

        return source()

    early = RunStream.from_bytes(broken(raw[: raw.index(b"event: thread.run.step.created")]))
    with pytest.raises(StreamInterrupted, match=r"connection was lost .* \(OSError: reset") as info:
        await read_all(early)
    assert isinstance(info.value.__cause__, OSError)
    # After the terminal run event nothing is lost: a normal end.
    late = RunStream.from_bytes(broken(raw[: raw.index(b"event: done")]))
    events = await read_all(late)
    assert events[-1].event == "thread.run.completed"
    assert late.done


# ---------------------------------------------------------------------------
# The pipeline is protocol-neutral: a made-up line protocol plugs into it


class LineProtocol:
    """Lines ``name payload``; ``end`` ends the stream, ``fail`` is an error."""

    def __init__(self) -> None:
        self.position = 0
        self.run_id: str | None = "run_lines"
        self.thread_id: str | None = None
        self.settled = False
        self.ended = False
        self._buffer = b""
        self._lines: deque[bytes] = deque()

    def feed(self, chunk: bytes) -> None:
        *lines, self._buffer = (self._buffer + chunk).split(b"\n")
        self._lines.extend(lines)

    def close(self) -> None:
        pass

    def next_event(self) -> Event | None:
        if not self._lines or self.ended:
            return None
        name, _, payload = self._lines.popleft().decode().partition(" ")
        self.position += 1
        if name == "end":
            self.ended = True
            return None
        if name == "fail":
            raise StreamError(payload)
        return UnknownEvent(event=name, data={"payload": payload})

    def event_rejected(self, why: str) -> StreamFailure:
        return ProtocolError(f"{why} in line {self.position}")

    def end_of_input(self) -> StreamFailure | None:
        return StreamInterrupted(f"cut after {self.position} lines")

    def connection_lost(self, detail: str) -> StreamFailure | None:
        return StreamInterrupted(detail)


async def _source(*chunks: bytes) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


@pytest.mark.asyncio
async def test_pipeline_drives_any_protocol_adapter() -> None:
    handler = Trace()
    accumulator = Accumulator()
    pipeline = Pipeline(LineProtocol(), accumulator, handler)
    assert pipeline.state is State.NEW
    pipeline.open(_source(b"hello wor", b"ld\nbye now\nend\nignored\n"))
    first = await pipeline.next()
    assert first is not None and first[0].event == "hello"
    assert first[1] == [(OnEvent, first[0])]
    second = await pipeline.next()
    assert second is not None and second[0].event == "bye"
    assert await pipeline.next() is None
    assert pipeline.state.value == "ended"
    assert pipeline.position == 3
    assert accumulator.current_event is second[0]
    assert [n for n, _ in handler.calls] == ["on_event", "on_event", "on_end"]


@pytest.mark.asyncio
async def test_pipeline_failure_carries_the_adapters_run_id_and_is_raised_again() -> None:
    handler = Trace()
    pipeline = Pipeline(LineProtocol(), Accumulator(), handler)
    pipeline.open(_source(b"a 1\nfail broken\n"))
    first = await pipeline.next()
    assert first is not None
    with pytest.raises(StreamError, match="broken") as info:
        await pipeline.next()
    assert info.value.run_id == "run_lines"
    assert info.value.last_event is first[0]
    with pytest.raises(StreamError) as again:
        await pipeline.next()
    assert again.value is info.value
    assert pipeline.state is State.FAILED
    assert [n for n, _ in handler.calls] == ["on_event", "on_exception", "on_end"]


@pytest.mark.asyncio
async def test_pipeline_end_of_input_is_the_adapters_call() -> None:
    pipeline = Pipeline(LineProtocol(), Accumulator(), None)
    pipeline.open(_source(b"a 1\n"))
    assert await pipeline.next() is not None
    with pytest.raises(StreamInterrupted, match="cut after 1 lines"):
        await pipeline.next()


def test_state_transitions_are_checked() -> None:
    pipeline = Pipeline(LineProtocol(), Accumulator(), None)
    with pytest.raises(StreamrunError, match="stream state new cannot become ended"):
        pipeline._to(State.ENDED)
    assert all(not _TRANSITIONS[s] for s in (State.ENDED, State.FAILED, State.CLOSED))
    assert set(_TRANSITIONS) == set(State)


@pytest.mark.asyncio
async def test_aclose_then_exit_cancels_the_abandoned_run_once(
    replay_server: ReplayServer,
) -> None:
    raw = fixture_bytes("plain_text.sse")
    replay_server.replies.append(Reply(body=raw, delay=0.002))
    replay_server.replies.append(Reply(status=200, content_type="application/json", body=b"{}"))
    async with AsyncClient(
        api_key="sk-test", base_url=replay_server.base_url, max_retries=0
    ) as client:
        async with client.runs.stream("thread_1", assistant_id="asst_1") as stream:
            async for event in stream:
                if event.event == "thread.run.in_progress":
                    break
            await stream.aclose()
        assert repr(stream).endswith(" closed>")
    cancels = [r for r in replay_server.requests if r["path"].endswith("/cancel")]
    assert len(cancels) == 1


@pytest.mark.asyncio
async def test_follow_reads_the_next_segment_with_the_same_hooks_and_one_on_end() -> None:
    handler = Trace()
    closed: list[tuple[str, bool]] = []
    segments = [(LineProtocol(), _source(b"b 2\nend\n"), "second")]

    async def follow() -> Any:
        if not segments:
            return None
        adapter, source, name = segments.pop()
        return adapter, source, lambda ended: closed.append((name, ended))

    pipeline = Pipeline(LineProtocol(), Accumulator(), handler, follow=follow)
    pipeline.open(_source(b"a 1\nend\n"), lambda ended: closed.append(("first", ended)))
    names = []
    while (item := await pipeline.next()) is not None:
        names.append(item[0].event)
    assert names == ["a", "b"]
    assert [n for n, _ in handler.calls] == ["on_event", "on_event", "on_end"]
    assert closed == [("first", True)]  # the second is closed by whoever closes the stream
    assert pipeline.state.value == "ended"


@pytest.mark.asyncio
async def test_follow_failing_fails_the_stream() -> None:
    handler = Trace()

    async def follow() -> Any:
        raise StreamInterrupted("could not submit the tool outputs")

    pipeline = Pipeline(LineProtocol(), Accumulator(), handler, follow=follow)
    pipeline.open(_source(b"a 1\nend\n"))
    assert await pipeline.next() is not None
    with pytest.raises(StreamInterrupted, match="could not submit") as info:
        await pipeline.next()
    assert info.value.run_id == "run_lines"
    assert [n for n, _ in handler.calls] == ["on_event", "on_exception", "on_end"]


@pytest.mark.asyncio
async def test_a_failure_after_a_close_from_another_task_reports_the_close() -> None:
    pipeline = Pipeline(LineProtocol(), Accumulator(), Trace())
    pipeline.open(_source(b"a 1\n"))
    await pipeline.close()
    with pytest.raises(StreamrunError, match="the stream was closed") as info:
        await pipeline.fail(StreamInterrupted("late"), None)
    assert isinstance(info.value.__cause__, StreamInterrupted)
    assert pipeline.state.value == "closed"
    assert pipeline.error is None


# ---------------------------------------------------------------------------
# An event of several fragments: applied one at a time between the hooks


def _several_fragments_stream(
    handler: AsyncEventHandler, third: str = '{"index":0,"type":"text","text":{"value":"c"}}'
) -> RunStream:
    """A stream of a message delta of three text fragments (``third``: the JSON of
    the last), then ``[DONE]``."""
    created = (
        b'event: thread.message.created\ndata: {"id":"msg_1","object":"thread.message",'
        b'"status":"in_progress","role":"assistant","content":[]}\n\n'
    )
    delta = (
        '{"id":"msg_1","object":"thread.message.delta","delta":{"content":['
        '{"index":0,"type":"text","text":{"value":"a"}},'
        '{"index":0,"type":"text","text":{"value":"b"}},' + third + "]}}"
    )
    body = created + b"event: thread.message.delta\ndata: " + delta.encode() + b"\n\n"
    return RunStream.from_bytes([body + b"data: [DONE]\n\n"], handler=handler)


class _Seer(Trace):
    def __init__(self, fail_at: str | None = None) -> None:
        super().__init__()
        self.seen: list[tuple[str, str]] = []
        self.fail_at = fail_at

    async def on_text_delta(self, delta: Any, snapshot: Any) -> None:
        self.seen.append((delta.value, snapshot.value))
        if delta.value == self.fail_at:
            raise KeyError("a hook's own bug")


@pytest.mark.asyncio
async def test_each_hook_of_one_event_sees_the_snapshot_at_its_fragment() -> None:
    handler = _Seer()
    stream = _several_fragments_stream(handler)
    async with stream:
        await stream.until_done()
    assert handler.seen == [("a", "a"), ("b", "ab"), ("c", "abc")]
    assert [m.text for m in await stream.final_messages()] == []  # never completed
    assert stream.current_message_snapshot is not None
    assert stream.current_message_snapshot.text == "abc"


@pytest.mark.asyncio
async def test_a_hook_raising_mid_event_still_leaves_the_whole_event_applied() -> None:
    handler = _Seer(fail_at="a")
    stream = _several_fragments_stream(handler)
    async with stream:
        with pytest.raises(KeyError, match="own bug"):
            await stream.until_done()
        snapshot = stream.current_message_snapshot
        assert snapshot is not None and snapshot.text == "abc"
        assert stream.current_event is not None
        assert stream.current_event.event == "thread.message.delta"
    assert handler.seen == [("a", "a")]


@pytest.mark.asyncio
async def test_a_malformed_fragment_fails_after_the_hooks_of_those_before_it() -> None:
    handler = _Seer()
    stream = _several_fragments_stream(handler, '{"index":0,"text":{"value":7}}')
    async with stream:
        with pytest.raises(ProtocolError, match=r"thread\.message\.delta") as info:
            await stream.until_done()
        with pytest.raises(ProtocolError):
            await stream.final_messages()
    assert handler.seen == [("a", "a"), ("b", "ab")]
    assert [n for n, _ in handler.calls[-2:]] == ["on_exception", "on_end"]
    assert [a for n, a in handler.calls if n == "on_exception"] == [repr((info.value,))]


@pytest.mark.asyncio
async def test_a_malformed_fragment_after_a_raising_hook_fails_the_next_read() -> None:
    # The hook's exception reaches the reader first; the rest of the event is
    # still applied, and the malformed fragment in it is not lost.
    handler = _Seer(fail_at="a")
    stream = _several_fragments_stream(handler, '{"index":0,"text":{"value":7}}')
    async with stream:
        with pytest.raises(KeyError, match="own bug"):
            await stream.until_done()
        with pytest.raises(ProtocolError, match=r"thread\.message\.delta") as info:
            await stream.until_done()
        with pytest.raises(ProtocolError):
            await stream.final_messages()
        snapshot = stream.current_message_snapshot
        assert snapshot is not None and snapshot.text == "ab"  # as far as the bad fragment
    assert handler.seen == [("a", "a")]  # the rest was applied without hooks
    assert [a for n, a in handler.calls if n == "on_exception"] == [repr((info.value,))]


def test_the_steps_of_an_event_are_its_positions_not_its_fragment_objects() -> None:
    # A hand-built event may hold one fragment object twice: each occurrence is a step.
    event = parse_event(
        "thread.message.delta",
        '{"id":"m","object":"thread.message.delta","delta":{"content":['
        '{"index":0,"type":"text","text":{"value":"a"}},'
        '{"index":0,"type":"text","text":{"value":"b"}}]}}',
    )
    assert isinstance(event, ThreadMessageDelta) and event.data.delta.content
    a, b = event.data.delta.content
    event.data.delta.content = [a, b, a]
    seen = []
    for step in Accumulator().feed_in_steps(event):
        seen += [str(cb[2].value) for cb in step if cb[0] is OnTextDelta]
    assert seen == ["a", "ab", "aba"]
