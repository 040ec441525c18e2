"""The recording format, replaying recorded streams, and a record → replay round trip."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import time
from pathlib import Path
from typing import Any

import pytest

from streamrun import AsyncClient, RunStream
from streamrun._cli import LOCAL_TOOLS, Session
from streamrun._display import Display
from streamrun._recording import (
    FORMAT,
    VERSION,
    RecordedStream,
    Recorder,
    RecordingError,
    read_recording,
    replay_chunks,
    replay_stream,
)
from streamrun.testing import FakeAssistantsServer, Faults, scenarios

FIXTURES = Path(__file__).resolve().parent / "fixtures"


class FakeClock:
    """A clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


# -- the file format -----------------------------------------------------------


def test_recorder_writes_header_then_one_line_per_stream(tmp_path: Path) -> None:
    clock = FakeClock()
    path = tmp_path / "rec.jsonl"
    with Recorder(path, clock=clock) as rec:
        clock.now += 0.5
        cap = rec.begin("create_run", "/threads/t/runs", {"thread_id": "t", "assistant_id": "a"})
        clock.now += 0.25
        cap.tap(b"event: thread.run.cr")
        clock.now += 0.125
        cap.tap(b"eated\ndata: {}\n\n")
        written = rec.end(cap)
        cap2 = rec.begin("submit_tool_outputs", "/threads/t/runs/r/submit_tool_outputs", {})
        rec.end(cap2, "error", "HTTP 500: boom")
        assert rec.stream_count == 2
    lines = path.read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[0]) == {"format": FORMAT, "version": VERSION, "streamrun": "0.1.0"}
    first = json.loads(lines[1])
    assert first["stream"] == 0
    assert first["endpoint"] == "create_run"
    assert first["path"] == "/threads/t/runs"
    assert first["started"] == 0.5
    assert first["request"] == {"thread_id": "t", "assistant_id": "a"}
    assert first["outcome"] == "ok"
    assert first["chunks"] == [
        [0.25, base64.b64encode(b"event: thread.run.cr").decode()],
        [0.375, base64.b64encode(b"eated\ndata: {}\n\n").decode()],
    ]
    second = json.loads(lines[2])
    assert second["outcome"] == "error"
    assert second["error"] == "HTTP 500: boom"
    assert second["chunks"] == []
    assert written.data == b"event: thread.run.created\ndata: {}\n\n"
    assert written.duration == 0.375


def test_read_recording_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    raw = (FIXTURES / "plain_text.sse").read_bytes()
    with Recorder(path) as rec:
        cap = rec.begin("create_thread_and_run", "/threads/runs", {"assistant_id": "a"})
        for i in range(0, len(raw), 1000):
            cap.tap(raw[i : i + 1000])
        rec.end(cap, "interrupted")
    (stream,) = read_recording(path)
    assert stream.data == raw
    assert len(stream.chunks) == (len(raw) + 999) // 1000
    assert [t for t, _ in stream.chunks] == sorted(t for t, _ in stream.chunks)
    assert stream.endpoint == "create_thread_and_run"
    assert stream.outcome == "interrupted"
    assert stream.request == {"assistant_id": "a"}


def test_plain_sse_transcript_is_one_untimed_stream() -> None:
    (stream,) = read_recording(FIXTURES / "run_failed.sse")
    assert stream.data == (FIXTURES / "run_failed.sse").read_bytes()
    assert stream.chunks[0][0] == 0.0
    assert stream.outcome == "ok"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b'{"hello": 1}\n', "not a streamrun recording"),
        (b'{"format": "streamrun-recording", "version": 3}\n', "unsupported recording version"),
        (b'{"format": "streamrun-recording", "version": 1}\n{nope\n', "line 2: not valid JSON"),
        (
            b'{"format": "streamrun-recording", "version": 1}\n{"chunks": [[0, "!!"]]}\n',
            "chunk 0 is not valid base64",
        ),
        (
            b'{"format": "streamrun-recording", "version": 1}\n{"chunks": [["x", ""]]}\n',
            "chunk 0 must be [seconds, base64 text]",
        ),
        (b'{"format": "streamrun-recording", "version": 1}\n[1]\n', "must be a JSON object"),
        (
            b'{"format": "streamrun-recording", "version": 1}\n{"chunks": [], "outcome": "x"}\n',
            "unknown outcome",
        ),
    ],
)
def test_malformed_recordings_are_rejected(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_bytes(content)
    with pytest.raises(RecordingError, match=message.replace("[", r"\[").replace("]", r"\]")):
        read_recording(path)


def test_missing_and_unwritable_files(tmp_path: Path) -> None:
    with pytest.raises(RecordingError, match="cannot read"):
        read_recording(tmp_path / "missing.jsonl")
    with pytest.raises(RecordingError, match="cannot write recording"):
        Recorder(tmp_path / "no-such-dir" / "rec.jsonl")


# -- replaying a recorded stream (no server) --------------------------------------


async def _read(stream: RecordedStream, speed: float) -> list[tuple[float, bytes]]:
    """(arrival time, bytes) of each chunk :func:`replay_chunks` gives."""
    got: list[tuple[float, bytes]] = []
    start = time.monotonic()
    async for chunk in replay_chunks(stream, speed=speed):
        got.append((time.monotonic() - start, chunk))
    return got


@pytest.mark.asyncio
async def test_replay_chunks_come_in_order_on_time() -> None:
    stream = RecordedStream("create_run", "", chunks=[(0.0, b"ab"), (0.2, b"cd"), (0.4, b"ef")])
    got = await _read(stream, speed=2.0)
    assert [c for _, c in got] == [b"ab", b"cd", b"ef"]  # the recorded pieces, as they were
    assert got[-1][0] >= 0.19  # 0.4 s at speed 2


@pytest.mark.asyncio
async def test_replay_speed_zero_ignores_timing() -> None:
    stream = RecordedStream("create_run", "", chunks=[(0.0, b"a"), (30.0, b"b")])
    got = await asyncio.wait_for(_read(stream, speed=0), 5)
    assert b"".join(c for _, c in got) == b"ab"


@pytest.mark.asyncio
async def test_replay_rejects_negative_speed() -> None:
    stream = RecordedStream("create_run", "", chunks=[(0.0, b"a")])
    with pytest.raises(RecordingError, match="speed"):
        replay_stream(stream, speed=-1)
    with pytest.raises(RecordingError, match="speed"):
        await _read(stream, speed=-1)


@pytest.mark.asyncio
async def test_replay_stream_reads_the_recorded_run_with_its_real_ids() -> None:
    thread = "thread_6U1L3VeEp7C6EQjPpfFU9uS5"  # the run's thread, as the events name it
    raw = (FIXTURES / "submit_tool_outputs_continuation.sse").read_bytes()
    pieces = [(i * 0.001, raw[i : i + 500]) for i in range(0, len(raw), 500)]
    recorded = RecordedStream(
        "submit_tool_outputs",
        f"/threads/{thread}/runs/run_d3b6AE1foNedXteQJXyhxZbr/submit_tool_outputs",
        chunks=pieces,
        request={"thread_id": thread, "run_id": "run_d3b6AE1foNedXteQJXyhxZbr"},
    )
    stream = replay_stream(recorded, speed=0)
    assert stream.run_id == "run_d3b6AE1foNedXteQJXyhxZbr"  # named before any event
    assert stream.thread_id == thread
    async with stream:
        run = await stream.final_run()
    assert run.status == "completed"
    assert stream.done


# -- record, then replay, through the real client and display -----------------------


@pytest.mark.asyncio
async def test_recorded_bytes_are_the_bytes_the_server_sent(tmp_path: Path) -> None:
    raw = (FIXTURES / "plain_text.sse").read_bytes()
    path = tmp_path / "rec.jsonl"
    out = io.StringIO()
    async with FakeAssistantsServer(auto_create_threads=True) as server:
        server.add_recording(raw, endpoint="create_run")
        server.queue_faults(Faults(chunk_size=97))
        with Recorder(path) as rec:
            async with AsyncClient(api_key="k", base_url=server.base_url) as client:
                session = Session(client, Display(out), recorder=rec)
                run = await session.run_on_thread("thread_1", "asst_1", "hi")
    assert run.status == "completed"
    (stream,) = read_recording(path)
    assert stream.data == raw
    assert len(stream.chunks) > 1
    assert stream.endpoint == "create_run"
    assert stream.path == "/threads/thread_1/runs"
    assert stream.request["additional_messages"] == [{"role": "user", "content": "hi"}]


@pytest.mark.asyncio
async def test_replay_draws_what_the_live_run_drew(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    live = io.StringIO()
    async with FakeAssistantsServer(
        auto_create_threads=True, scenario=scenarios.parallel_function_calls()
    ) as server:
        with Recorder(path) as rec:
            async with AsyncClient(api_key="k", base_url=server.base_url) as client:
                session = Session(client, Display(live), recorder=rec, tools=LOCAL_TOOLS)
                run = await session.create_and_run("asst_1", "weather?")
    assert run.status == "completed"
    streams = read_recording(path)
    assert [s.endpoint for s in streams] == ["create_thread_and_run", "submit_tool_outputs"]
    outputs = streams[1].request["tool_outputs"]
    assert [json.loads(o["output"])["location"] for o in outputs] == [
        "Paris, France",
        "Tokyo, Japan",
    ]

    replayed = io.StringIO()
    session = Session(None, Display(replayed))
    for recorded in streams:

        def open_stream(handler: Any, tap: Any, recorded: RecordedStream = recorded) -> RunStream:
            return replay_stream(recorded, handler=handler, speed=0)

        await session.stream(open_stream, recorded.endpoint, recorded.path, {})
    assert replayed.getvalue() == live.getvalue()
    assert "tool      get_current_weather(" in live.getvalue()
    assert live.getvalue().count("output    ") == 2
