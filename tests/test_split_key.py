"""A key the server echoes cut across two deltas never leaves the process whole.

Neither relayed (SSE, NDJSON), nor recorded (the file, and so ``replay``),
nor printed by ``run --json``: the fragments passed on add up to the text
with the key masked, and a text without the key passes unchanged.
"""

from __future__ import annotations

import asyncio
import base64
import io
import itertools
import json
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings, strategies as st

from streamrun import AsyncClient, ResponseStream, RunStream
from streamrun._display import Display
from streamrun._recording import Protocol, Recorder, read_recording, replay_stream
from streamrun._redact_fragments import FragmentRedactor, secret_start
from streamrun.sse import SSEDecoder

from .conftest import serve
from .test_cli import acli, cli
from .test_hardening_responses import RESPONSE

KEY = "sk-proj-Split0123456789abcdefXYZ"
ESCAPED_KEY = "".join(f"\\u{ord(c):04x}" for c in KEY)
KINDS = ("text", "refusal", "arguments", "responses_text", "responses_arguments")

# Texts around the key: its own first characters, so near misses happen too.
_around = st.text(alphabet="sk-proj-Spl .é\n", max_size=30)
# Texts that cannot hold the start of the key anywhere ("s" starts it).
_keyless = st.text(alphabet="abcdefgh-ijk .é\n{}\"'0123XYZ", max_size=60)


def _sse(name: str, data: Any) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


def _run(status: str) -> dict[str, Any]:
    return {"id": "run_1", "object": "thread.run", "thread_id": "thread_1", "status": status}


def _pieces(text: str, cuts: list[int]) -> list[str]:
    points = sorted({0, len(text), *(c % (len(text) + 1) for c in cuts)})
    return [text[a:b] for a, b in itertools.pairwise(points)] or [""]


def _runs_body(kind: str, pieces: list[str]) -> bytes:
    text = "".join(pieces)
    events: list[tuple[str, Any]] = [("thread.run.created", _run("queued"))]
    if kind == "arguments":
        step = {
            "id": "step_1",
            "object": "thread.run.step",
            "run_id": "run_1",
            "type": "tool_calls",
        }
        call = {"index": 0, "id": "call_1", "type": "function"}
        details = {"type": "tool_calls", "tool_calls": []}
        events.append(("thread.run.step.created", {**step, "step_details": details}))
        for i, piece in enumerate(pieces):
            function = {"arguments": piece, **({"name": "f"} if i == 0 else {})}
            tool_call = (
                {**call, "function": function}
                if i == 0
                else {"index": 0, **{"type": "function", "function": function}}
            )
            delta: dict[str, Any] = {
                "step_details": {"type": "tool_calls", "tool_calls": [tool_call]}
            }
            events.append(
                (
                    "thread.run.step.delta",
                    {"id": "step_1", "object": "thread.run.step.delta", "delta": delta},
                )
            )
        whole = {**call, "function": {"name": "f", "arguments": text, "output": None}}
        done = {
            **step,
            "status": "completed",
            "step_details": {"type": "tool_calls", "tool_calls": [whole]},
        }
        events.append(("thread.run.step.completed", done))
    else:
        msg = {
            "id": "msg_1",
            "object": "thread.message",
            "thread_id": "thread_1",
            "role": "assistant",
        }
        events.append(("thread.message.created", {**msg, "content": [], "status": "in_progress"}))
        for piece in pieces:
            part: dict[str, Any] = {"index": 0, "type": kind}
            part[kind] = {"value": piece} if kind == "text" else piece
            message_delta = {"id": "msg_1", "object": "thread.message.delta"}
            events.append(("thread.message.delta", {**message_delta, "delta": {"content": [part]}}))
        whole_part: dict[str, Any] = {"type": kind}
        whole_part[kind] = {"value": text, "annotations": []} if kind == "text" else text
        events.append(
            ("thread.message.completed", {**msg, "content": [whole_part], "status": "completed"})
        )
    events.append(("thread.run.completed", _run("completed")))
    body = b"".join(_sse(name, data) for name, data in events)
    return body + b"event: done\ndata: [DONE]\n\n"


def _responses_body(kind: str, pieces: list[str]) -> bytes:
    text = "".join(pieces)
    seq = iter(range(1000))
    base = dict(RESPONSE)
    events: list[dict[str, Any]] = [{"type": "response.created", "response": base}]
    if kind == "responses_arguments":
        item: dict[str, Any] = {
            "id": "fc_1",
            "type": "function_call",
            "call_id": "call_1",
            "name": "f",
            "arguments": "",
            "status": "in_progress",
        }
        events.append({"type": "response.output_item.added", "output_index": 0, "item": item})
        for piece in pieces:
            events.append(
                {
                    "type": "response.function_call_arguments.delta",
                    "item_id": "fc_1",
                    "output_index": 0,
                    "delta": piece,
                }
            )
        events.append(
            {
                "type": "response.function_call_arguments.done",
                "item_id": "fc_1",
                "output_index": 0,
                "arguments": text,
            }
        )
        done_item = {**item, "arguments": text, "status": "completed"}
    else:
        item = {
            "id": "msg_1",
            "type": "message",
            "status": "in_progress",
            "role": "assistant",
            "content": [],
        }
        events.append({"type": "response.output_item.added", "output_index": 0, "item": item})
        where = {"item_id": "msg_1", "output_index": 0, "content_index": 0}
        events.append(
            {
                "type": "response.content_part.added",
                **where,
                "part": {"type": "output_text", "text": "", "annotations": []},
            }
        )
        for piece in pieces:
            events.append({"type": "response.output_text.delta", **where, "delta": piece})
        events.append({"type": "response.output_text.done", **where, "text": text})
        part: dict[str, Any] = {"type": "output_text", "text": text, "annotations": []}
        events.append({"type": "response.content_part.done", **where, "part": part})
        done_item = {**item, "status": "completed", "content": [part]}
    events.append({"type": "response.output_item.done", "output_index": 0, "item": done_item})
    events.append(
        {
            "type": "response.completed",
            "response": {**base, "status": "completed", "output": [done_item]},
        }
    )
    return b"".join(_sse(e["type"], {**e, "sequence_number": next(seq)}) for e in events)


def body_for(kind: str, pieces: list[str]) -> bytes:
    return (
        _responses_body(kind, pieces) if kind.startswith("responses") else _runs_body(kind, pieces)
    )


def _chunked(body: bytes, sizes: list[int]) -> list[bytes]:
    chunks, pos = [], 0
    for size in sizes:
        if pos >= len(body):
            break
        chunks.append(body[pos : pos + size])
        pos += size
    if pos < len(body):
        chunks.append(body[pos:])
    return chunks


def delta_text(name: str, data: Any) -> str:
    """The growing text a delta event adds to (any shape), else ""."""
    if not isinstance(data, dict):
        return ""
    if name.startswith("response.") and name.endswith(".delta"):
        value = data.get("delta")
        return value if isinstance(value, str) else ""
    out = ""
    delta = data.get("delta") or {}
    for part in delta.get("content") or []:
        value = (
            (part.get("text") or {}).get("value")
            if part.get("type") == "text"
            else part.get("refusal")
        )
        out += value or ""
    for call in (delta.get("step_details") or {}).get("tool_calls") or []:
        out += (call.get("function") or {}).get("arguments") or ""
    return out


def sse_deltas(data: bytes) -> str:
    decoder = SSEDecoder(max_event_size=None)
    out = ""
    for event in decoder.feed(data) + decoder.close():
        if event.data != "[DONE]":
            out += delta_text(event.event, json.loads(event.data))
    return out


def ndjson_deltas(data: bytes) -> str:
    lines = [json.loads(line) for line in data.decode().splitlines()]
    return "".join(delta_text(obj["event"], obj["data"]) for obj in lines)


def _no_key(text: str) -> None:
    assert KEY not in text
    assert ESCAPED_KEY not in text
    assert KEY[:12] not in text  # not even a prefix


def _masked(text: str) -> str:
    return text.replace(KEY, "***")


# -- the redactor alone -----------------------------------------------------------


def test_secret_start_finds_plain_and_escaped_starts() -> None:
    assert secret_start("say sk-pr", [KEY]) == 5
    assert secret_start("say " + ESCAPED_KEY[:15], [KEY]) == 15
    assert secret_start("say " + ESCAPED_KEY[:14].upper().replace("\\U", "\\u"), [KEY]) == 14
    assert secret_start("ends with \\", [KEY]) == 1
    assert secret_start("nothing here", [KEY]) == 0
    assert secret_start("no \\U0073", [KEY]) == 0  # not an escape JSON knows
    assert secret_start("short sk", ["sk-short"[:7]]) == 0  # too short to look for


def _message_delta(value: str) -> dict[str, Any]:
    part = {"index": 0, "type": "text", "text": {"value": value}}
    return {"id": "msg_1", "object": "thread.message.delta", "delta": {"content": [part]}}


@settings(max_examples=300, deadline=None)
@given(_around, _around, st.lists(st.integers(0, 200), max_size=8), st.booleans())
def test_fed_fragments_add_up_to_the_masked_text(
    head: str, tail: str, cuts: list[int], with_key: bool
) -> None:
    text = head + (KEY if with_key else "") + tail
    redactor = FragmentRedactor([KEY])
    out: list[tuple[str, Any]] = []
    for piece in _pieces(text, cuts):
        out += redactor.feed("thread.message.delta", _message_delta(piece))
    out += redactor.feed("thread.message.completed", {"id": "msg_1"})
    out += redactor.flush()
    relayed = "".join(delta_text(name, data) for name, data in out)
    assert relayed == _masked(text)
    assert out[-1] == ("thread.message.completed", {"id": "msg_1"})
    split = text.count(KEY) > sum(piece.count(KEY) for piece in _pieces(text, cuts))
    assert redactor.masked_split == split


@given(_keyless, st.lists(st.integers(0, 200), max_size=8))
def test_keyless_fragments_pass_as_the_same_objects(text: str, cuts: list[int]) -> None:
    redactor = FragmentRedactor([KEY])
    for piece in _pieces(text, cuts):
        data = _message_delta(piece)
        assert redactor.feed("thread.message.delta", data) == [("thread.message.delta", data)]
        assert redactor.feed("thread.message.delta", data)[0][1] is data
    assert redactor.flush() == []
    assert not redactor.masked_split


def test_held_text_is_released_before_the_event_that_ends_it() -> None:
    redactor = FragmentRedactor([KEY])
    assert (
        delta_text(
            "thread.message.delta",
            redactor.feed("thread.message.delta", _message_delta("hi sk-p"))[0][1],
        )
        == "hi "
    )
    # Another message's event does not end this text; the run's does.
    other = {"id": "msg_2", "object": "thread.message"}
    assert redactor.feed("thread.message.created", other) == [("thread.message.created", other)]
    run = _run("completed")
    out = redactor.feed("thread.run.completed", run)
    assert [name for name, _ in out] == ["thread.message.delta", "thread.run.completed"]
    assert out[0][1] == _message_delta("sk-p")
    assert out[1][1] is run
    assert not redactor.masked_split


def test_an_escaped_key_cut_in_tool_arguments_is_masked() -> None:
    redactor = FragmentRedactor([KEY])
    args = '{"k": "' + ESCAPED_KEY + '"}'
    out: list[tuple[str, Any]] = []
    for piece in (args[:20], args[20:33], args[33:]):
        delta = {
            "id": "step_1",
            "delta": {
                "step_details": {
                    "type": "tool_calls",
                    "tool_calls": [
                        {"index": 0, "type": "function", "function": {"arguments": piece}}
                    ],
                }
            },
        }
        out += redactor.feed("thread.run.step.delta", delta)
    out += redactor.flush()
    assert "".join(delta_text(n, d) for n, d in out) == '{"k": "***"}'
    assert redactor.masked_split


def test_no_secret_means_no_work() -> None:
    redactor = FragmentRedactor(["short"])
    data = _message_delta("sho")
    assert redactor.feed("thread.message.delta", data)[0][1] is data


# -- relay, recording, replay and --json of the same stream ---------------------------


async def _relay(body: bytes, chunks: list[bytes], kind: str, ndjson: bool) -> bytes:
    async def handler(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        for chunk in chunks:
            await resp.write(chunk)
        return resp

    async with (
        serve(handler) as origin,
        AsyncClient(api_key=KEY, base_url=origin + "/v1") as client,
    ):
        stream: Any
        if kind.startswith("responses"):
            stream = client.responses.stream(model="m", input="hi")
        else:
            stream = client.runs.stream("thread_1", assistant_id="a")
        relay = stream.to_ndjson() if ndjson else stream.to_sse()
        return b"".join([piece async for piece in relay])


async def _bytes(chunks: list[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


def _record(tmp: Path, chunks: list[bytes], kind: str, secrets: list[str]) -> Path:
    path = tmp / f"rec-{len(secrets)}.jsonl"
    protocol: Protocol = "responses" if kind.startswith("responses") else "runs"
    with Recorder(path, secrets=secrets, clock=lambda: 0.0, protocol=protocol) as rec:
        cap = rec.begin(
            "create_run", "/threads/thread_1/runs", {"thread_id": "thread_1"}, protocol=protocol
        )
        for chunk in chunks:
            cap.tap(chunk)
        rec.end(cap)
    return path


async def _replay_lines(path: Path) -> str:
    """The ``--json`` lines of a replay of the recording (a display with no key)."""
    (recorded,) = read_recording(path)
    out = io.StringIO()
    display = Display(out, mode="json")
    async with replay_stream(recorded, handler=display.handler(), speed=0) as stream:
        async for _ in stream:
            pass
    return out.getvalue()


async def _json_lines(chunks: list[bytes], kind: str) -> str:
    """What ``run --json`` prints of the stream (a display with the key)."""
    out = io.StringIO()
    display = Display(out, mode="json", secrets=[KEY])
    cls = ResponseStream if kind.startswith("responses") else RunStream
    async with cls.from_bytes(_bytes(chunks), handler=display.handler()) as stream:
        async for _ in stream:
            pass
    return out.getvalue()


def json_line_deltas(text: str) -> str:
    return ndjson_deltas(text.encode())


def _recorded_deltas(path: Path) -> str:
    (recorded,) = read_recording(path)
    return sse_deltas(recorded.data)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    st.sampled_from(KINDS),
    _around,
    _around,
    st.lists(st.integers(0, 200), min_size=1, max_size=6),
    st.lists(st.integers(1, 97), max_size=12),
)
def test_a_split_key_reaches_no_relay_recording_replay_or_json_line(
    tmp_path: Path, kind: str, head: str, tail: str, cuts: list[int], sizes: list[int]
) -> None:
    text = head + KEY + tail
    body = body_for(kind, _pieces(text, cuts))
    chunks = _chunked(body, sizes)

    async def main() -> None:
        for ndjson in (False, True):
            relayed = await _relay(body, chunks, kind, ndjson)
            _no_key(relayed.decode())
            assert (ndjson_deltas if ndjson else sse_deltas)(relayed) == _masked(text)
        path = _record(tmp_path, chunks, kind, [KEY])
        _no_key(path.read_text())
        _no_key(_recorded_deltas(path))
        # A key whole in one delta is masked in the bytes, by as many "*".
        stars = text.replace(KEY, "*" * len(KEY))
        assert _recorded_deltas(path) in (_masked(text), stars)
        replayed = await _replay_lines(path)
        _no_key(replayed)
        assert json_line_deltas(replayed) in (_masked(text), stars)
        lines = await _json_lines(chunks, kind)
        _no_key(lines)
        assert json_line_deltas(lines) == _masked(text)

    asyncio.run(main())


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    st.sampled_from(KINDS),
    _keyless,
    st.lists(st.integers(0, 200), min_size=1, max_size=6),
    st.lists(st.integers(1, 97), max_size=12),
)
def test_a_text_without_the_key_is_relayed_and_recorded_unchanged(
    tmp_path: Path, kind: str, text: str, cuts: list[int], sizes: list[int]
) -> None:
    body = body_for(kind, _pieces(text, cuts))
    chunks = _chunked(body, sizes)

    async def main() -> None:
        for ndjson in (False, True):
            relayed = await _relay(body, chunks, kind, ndjson)
            cls = ResponseStream if kind.startswith("responses") else RunStream
            plain = cls.from_bytes(_bytes(chunks))  # no key: nothing to hold
            direct = b"".join([p async for p in (plain.to_ndjson() if ndjson else plain.to_sse())])
            assert relayed == direct
        with_key = _record(tmp_path, chunks, kind, [KEY]).read_bytes()
        assert with_key == _record(tmp_path, chunks, kind, []).read_bytes()
        (recorded,) = read_recording(tmp_path / "rec-1.jsonl")
        assert [c for _, c in recorded.chunks] == chunks

    asyncio.run(main())


# -- the command against a server that cuts the key ------------------------------------


def _split_server_body(key: str, kind: str) -> bytes:
    text = f"your key is {key}. bye"
    return body_for(kind, [text[:17], text[17:25], text[25:]])


def _server(kind: str) -> Any:
    async def handler(request: web.Request) -> web.StreamResponse:
        key = request.headers.get("Authorization", "").removeprefix("Bearer ")
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await resp.prepare(request)
        body = _split_server_body(key, kind)
        rng = random.Random(7)
        pos = 0
        while pos < len(body):
            size = rng.randint(1, 60)
            await resp.write(body[pos : pos + size])
            pos += size
        return resp

    return handler


def _run_args(kind: str, origin: str) -> list[str]:
    args = ["run", "--base-url", origin + "/v1", "--api-key", KEY, "-m", "hi"]
    if kind.startswith("responses"):
        return [*args, "--responses", "--model", "m"]
    return [*args, "--assistant", "a"]


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", ["text", "responses_text"])
async def test_run_record_and_replay_never_hold_a_split_key(kind: str, tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    async with serve(_server(kind)) as origin:
        code, out, err = await acli(*_run_args(kind, origin), "--record", str(path))
    assert code == 0, err
    _no_key(out + err)
    assert "your key is ***. bye" in out
    raw = path.read_text()
    _no_key(raw)
    for line in raw.splitlines()[1:]:
        for _, chunk in json.loads(line)["chunks"]:
            _no_key(base64.b64decode(chunk).decode())
    assert _recorded_deltas(path) == "your key is ***. bye"
    res = cli("replay", "--speed", "0", str(path))
    assert res.returncode == 0, res.stderr
    _no_key(res.stdout + res.stderr)
    assert "your key is ***. bye" in res.stdout


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", ["text", "arguments", "responses_text"])
async def test_run_json_never_prints_a_split_key(kind: str) -> None:
    async with serve(_server(kind)) as origin:
        code, out, err = await acli(*_run_args(kind, origin), "--json")
    assert code == 0, err
    _no_key(out + err)
    assert json_line_deltas(out) == "your key is ***. bye"


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", KINDS)
async def test_the_relay_of_a_real_stream_masks_a_split_key(kind: str) -> None:
    body = _split_server_body(KEY, kind)
    chunks = _chunked(body, [5, 40, 3, 200, 17])
    for ndjson in (False, True):
        relayed = await _relay(body, chunks, kind, ndjson)
        _no_key(relayed.decode())
        assert (ndjson_deltas if ndjson else sse_deltas)(relayed) == "your key is ***. bye"


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", ["text", "arguments", "responses_text"])
async def test_the_web_page_relay_masks_a_split_key(kind: str) -> None:
    """``streamrun web`` relays through its own wrappers (tool outputs, turns)."""
    from streamrun._web import make_app, serve as serve_app

    async with serve(_server(kind)) as origin:
        async with AsyncClient(api_key=KEY, base_url=origin + "/v1", max_retries=0) as client:
            if kind.startswith("responses"):
                app = make_app(client, model="m")
            else:
                app = make_app(client, assistant_id="a")
            async with serve_app(app, "127.0.0.1", 0) as url, aiohttp.ClientSession() as session:
                async with session.post(url + "api/chat", json={"message": "hi"}) as response:
                    relayed = await response.read()
    _no_key(relayed.decode())
    assert sse_deltas(relayed) == "your key is ***. bye"
