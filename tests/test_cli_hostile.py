"""The command against hostile servers and crafted recordings: no key, no escape, no hang."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp import web

from streamrun._recording import MAX_PAUSE, RecordedStream, Recorder, read_recording, replay_chunks

from .test_cli import acli, cli

KEY = "sk-proj-Hostile0123456789abcdef"
ESCAPED_KEY = "".join(f"\\u{ord(c):04x}" for c in KEY)


def _sse(*events: tuple[str, object]) -> bytes:
    return b"".join(
        f"event: {name}\ndata: {json.dumps(data)}\n\n".encode() for name, data in events
    )


def _run(status: str) -> dict[str, object]:
    return {"id": "run_h", "object": "thread.run", "thread_id": "thread_h", "status": status}


def _message_delta(text: str) -> dict[str, object]:
    return {
        "id": "msg_h",
        "object": "thread.message.delta",
        "delta": {"content": [{"index": 0, "type": "text", "text": {"value": text}}]},
    }


@pytest_asyncio.fixture
async def echo_server() -> AsyncIterator[str]:
    """A server that writes the key it received, and control sequences, into its stream."""

    async def runs(request: web.Request) -> web.StreamResponse:
        key = request.headers.get("Authorization", "").removeprefix("Bearer ")
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        await resp.write(
            _sse(
                ("thread.run.created", _run("queued")),
                ("thread.message.delta", _message_delta(f"your key is {key}.")),
                ("thread.message.delta", _message_delta("\x1b]52;c;cHduZWQ=\x07\x1b[2J\x9b1m!")),
            )
        )
        # The key again, JSON-escaped: it gets past a byte-level search.
        body = '{"error": {"message": "key ' + ESCAPED_KEY + ' \\u001b]0;title\\u0007 refused"}}'
        await resp.write(f"event: error\ndata: {body}\n\n".encode())
        return resp

    app = web.Application()
    app.router.add_post("/v1/threads/runs", runs)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        await runner.cleanup()


def _no_key(text: str) -> None:
    assert KEY not in text
    assert ESCAPED_KEY not in text
    assert KEY[:12] not in text  # not even a prefix


@pytest.mark.asyncio
async def test_an_echoed_key_reaches_neither_the_output_nor_the_recording(
    echo_server: str, tmp_path: Path
) -> None:
    path = tmp_path / "rec.jsonl"
    code, out, err = await acli(
        "run",
        "--base-url",
        echo_server,
        "--api-key",
        KEY,
        "--assistant",
        "a",
        "--record",
        str(path),
    )
    assert code == 1
    _no_key(out + err)
    assert "your key is ***." in out
    assert err.startswith("error: ") and "refused" in err and len(err.splitlines()) == 1
    for text in (out, err):
        assert "\x1b" not in text and "\x07" not in text and "\x9b" not in text
    # The recording: created 0600, no key in the bytes (plain or escaped) nor in "error".
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    raw = path.read_text(encoding="utf-8")
    _no_key(raw)
    (stream,) = read_recording(path)
    assert stream.outcome == "error"
    assert stream.error is not None
    _no_key(stream.error)
    _no_key(stream.data.decode())
    assert b"your key is ********" in stream.data
    # The replay shows the same safe text.
    res = cli("replay", "--speed", "0", str(path))
    _no_key(res.stdout + res.stderr)
    assert "your key is ***" in res.stdout
    assert "\x1b" not in res.stdout + res.stderr


def test_a_key_cut_across_chunks_is_masked_and_chunks_keep_their_size(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    with Recorder(path, secrets=[KEY]) as rec:
        cap = rec.begin("create_run", "/threads/t/runs", {})
        cap.tap(b"data: " + KEY[:10].encode())
        cap.tap(KEY[10:].encode() + b" and " + ESCAPED_KEY.encode() + b"\n\n")
        rec.end(cap, "error", f"HTTP 401: key {KEY} / {ESCAPED_KEY}")
    (stream,) = read_recording(path)
    assert [len(c) for _, c in stream.chunks] == [16, len(KEY) - 10 + 5 + len(ESCAPED_KEY) + 2]
    assert stream.data == b"data: " + b"*" * len(KEY) + b" and " + b"*" * len(ESCAPED_KEY) + b"\n\n"
    assert stream.error == "HTTP 401: key *** / ***"


def test_recordings_are_created_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "new.jsonl"
    old = os.umask(0)  # even with a permissive umask
    try:
        Recorder(path).close()
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    existing = tmp_path / "old.jsonl"
    existing.write_text("x")
    existing.chmod(0o644)
    Recorder(existing).close()
    assert stat.S_IMODE(os.stat(existing).st_mode) == 0o600


# -- crafted recordings ------------------------------------------------------------

HEADER = b'{"format": "streamrun-recording", "version": 1}\n'


def _stream_line(chunks: list[list[object]]) -> bytes:
    return json.dumps({"endpoint": "create_run", "path": "", "chunks": chunks}).encode() + b"\n"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (HEADER + b"[" * 100_000 + b"]" * 100_000 + b"\n", "nested too deeply"),
        (b'{"a":' * 100_000 + b"1" + b"}" * 100_000 + b"\n", "not a streamrun recording"),
        (HEADER + _stream_line([[1e300, ""]]), "chunk 0 has an invalid time"),
        (HEADER + b'{"chunks": [[1e999, ""]]}\n', "chunk 0 has an invalid time"),
        (HEADER + b'{"chunks": [[-1, ""]]}\n', "chunk 0 has an invalid time"),
        (HEADER + b'{"chunks": [[' + b"9" * 400 + b', ""]]}\n', "chunk 0 has an invalid time"),
        (b"hello, this is a letter\nnot a stream\n", "not a streamrun recording"),
    ],
    ids=["nested", "nested-header", "huge-time", "infinite", "negative", "huge-int", "text"],
)
def test_crafted_recordings_get_one_line_and_exit_1(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "crafted.jsonl"
    path.write_bytes(content)
    res = cli("replay", str(path), timeout=30)
    assert res.returncode == 1
    assert len(res.stderr.splitlines()) == 1, res.stderr
    assert res.stderr.startswith("error: ") and message in res.stderr
    assert "Traceback" not in res.stderr


def test_deeply_nested_json_inside_a_recorded_stream_is_one_line(tmp_path: Path) -> None:
    data = b"event: thread.run.created\ndata: " + b"[" * 100_000 + b"]" * 100_000 + b"\n\n"
    path = tmp_path / "nested.jsonl"
    path.write_bytes(HEADER + _stream_line([[0, base64.b64encode(data).decode()]]))
    res = cli("replay", "--speed", "0", str(path), timeout=60)
    assert res.returncode == 1
    assert len(res.stderr.splitlines()) == 1, res.stderr
    assert res.stderr.startswith("error: ")
    assert "Traceback" not in res.stderr


@pytest.mark.asyncio
async def test_a_replay_never_waits_longer_than_max_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    real_sleep = asyncio.sleep

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        await real_sleep(0)

    monkeypatch.setattr("streamrun._recording.asyncio.sleep", sleep)
    stream = RecordedStream("create_run", "", chunks=[(0.0, b"a"), (20_000.0, b"b")])
    body = b"".join([chunk async for chunk in replay_chunks(stream)])
    assert body == b"ab"
    assert slept and max(slept) <= MAX_PAUSE
