"""The browser module ``streamrun/web/streamrun.js``, run under node.

Its SSE parser gets the decoder cases of ``tests/test_sse.py`` (and every
fixture transcript, and random streams) under many chunkings; the expected
events are those of :class:`streamrun.sse.SSEDecoder`, itself checked
against the WHATWG reference in ``test_sse.py``. Its accumulator is checked
on every fixture transcript against the library's own accumulation.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from streamrun import TextDeltaBlock, ThreadMessageDelta, parse_event
from streamrun._accumulate import Accumulator
from streamrun._callbacks import named
from streamrun.sse import SSEDecoder

from .conftest import FIXTURES, manifest

ROOT = Path(__file__).resolve().parent.parent
NODE = shutil.which("node")
BOM = b"\xef\xbb\xbf"

# In CI (.ci/run sets STREAMRUN_REQUIRE_BROWSER) a missing node fails instead of skipping.
pytestmark = pytest.mark.skipif(
    NODE is None and not os.environ.get("STREAMRUN_REQUIRE_BROWSER"),
    reason="node is not installed (.ci/run installs it)",
)

# The inputs of the WHATWG rule tests of tests/test_sse.py.
DECODER_CASES: dict[str, bytes] = {
    "simple_event": b'event: thread.run.created\ndata: {"a": 1}\n\n',
    "utf8_multibyte": "event: é\ndata: café ✓ 😀 日本\n\n".encode(),
    "invalid_utf8_replaced": b"data: a\xffb\xc3(\n"
    + b"data: \xf0\x9f\x98\n"
    + b"event: \xe2\x82\n\n",
    "invalid_utf8_in_field_name": b"dat\xe1: x\n\ndata: y\n\n",
    "leading_bom_dropped": BOM + b"data: x\n\n",
    "only_one_bom_dropped": BOM + BOM + b"data: x\n\ndata: y\n\n",
    "bom_later_kept": b"data: a\n\n" + BOM + b"data: b\n\ndata: " + BOM + b"c\n\n",
    "partial_bom": b"\xef\xbbdata: x\n\ndata: y\n\n",
    "partial_bom_alone": b"\xef\xbb",
    "bom_alone": BOM,
    "empty": b"",
    "line_ends_lf": b"event: e\ndata: a\ndata: b\n\ndata: c\n\n",
    "line_ends_cr": b"event: e\rdata: a\rdata: b\r\rdata: c\r\r",
    "line_ends_crlf": b"event: e\r\ndata: a\r\ndata: b\r\n\r\ndata: c\r\n\r\n",
    "mixed_line_ends": b"data: a\rdata: b\r\ndata: c\n\r\ndata: d\r\rdata: e\n\r",
    "lf_cr_is_two_line_ends": b"data: a\n\rdata: b\n\n",
    "comments": b": hello\ndata: a\n: mid\n\n:\n\n",
    "comment_only_block": b": just a comment\n\n",
    "no_colon_field": b"data\n\nevent\ndata: x\n\n",
    "one_leading_space": b"data:  two\n\ndata:none\n\ndata:\t tab\n\n",
    "first_colon_separates": b"data: a: b :c\n\n",
    "data_lines_joined": b"data: a\ndata:\ndata: b\n\n",
    "control_characters": b"data: \x00\x01\x0b\x0c\x1b\x7f\n\n",
    "block_without_data": b"event: x\n\nid: 3\n\nretry: 5\n\ndata: y\n\n",
    "event_type_reset": b"event: a\ndata: 1\n\ndata: 2\n\n",
    "empty_event_type": b"event:\ndata: 1\n\nevent\ndata: 2\n\n",
    "last_event_type_wins": b"event: a\nevent: b\ndata: 1\n\n",
    "id_persists": b"id: 1\ndata: a\n\ndata: b\n\nid\ndata: c\n\n",
    "id_own_block": b"data: a\nid: 7\n\n",
    "id_with_nul_ignored": b"id: 1\n\nid: a\x00b\ndata: x\n\n",
    "id_unicode": "id: ☃\ndata: x\n\n".encode(),
    "retry": b"retry: 1000\ndata: a\n\ndata: b\n\n",
    "invalid_retry": b"retry: 1e3\ndata: a\n\nretry: -1\ndata: b\n\nretry:\ndata: c\n\n",
    "retry_without_space_huge": b"retry:123456789012345678901234567890\ndata: a\n\n",
    "unknown_fields": b"foo: bar\ndata: a\nDATA: b\n\n",
    "unterminated_discarded": b"data: a\n\ndata: b\n",
    "many_blank_lines": b"\n\n\ndata: a\n\n\n\n\r\n\rdata: b\n\n\n",
    "long_values": f"event: {'n' * 700}\ndata: {'x' * 5000 + 'é' * 3000}\ndata: z\n\n".encode(),
    "spec_stock_ticker": b"data: YHOO\ndata: +2\ndata: 10\n\n",
    "spec_four_blocks": (
        b": test stream\n\ndata: first event\nid: 1\n\n"
        b"data:second event\nid\n\ndata:  third event\n\n"
    ),
    "spec_empty_data": b"data\n\ndata\ndata\n\ndata:",
    "spec_space_after_colon": b"data:test\n\ndata: test\n\n",
    "spec_event_types": (
        b"event: add\ndata: 73857293\n\nevent: remove\ndata: 2153\n\nevent: add\ndata: 113411\n\n"
    ),
    "spec_messages": (
        b"data: This is the first message.\n\n"
        b"data: This is the second message, it\ndata: has two lines.\n\n"
        b"data: This is the third message.\n\n"
    ),
}

# Explicit chunkings (tests/test_sse.py test_crlf_split_across_chunks_is_one_line_end...).
GIVEN_CHUNKS: dict[str, list[bytes]] = {
    "crlf_split_across_chunks": [b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"],
    "cr_at_chunk_end_then_text": [b"data: a\r", b"data: b\r", b"\r"],
    "utf8_split_inside_sequence": [b"data: caf\xc3", b"\xa9 \xf0\x9f", b"\x98\x80\n\n"],
    "bom_split": [b"\xef", b"\xbb", b"\xbfdata: x\n\n"],
}

_TOKENS = [b"data", b"event", b"id", b"retry", b":", b" ", b"\r", b"\n", b"\r\n", b"x", b"7"]
_TOKENS += ["é".encode(), "😀".encode(), BOM, b"\x00", b"\xff", b"\xc3"]


def _random_stream(rng: random.Random) -> bytes:
    return b"".join(rng.choice(_TOKENS) for _ in range(rng.randint(0, 60)))


def _events(chunks: list[bytes]) -> list[dict[str, Any]]:
    decoder = SSEDecoder(max_event_size=None)
    events = [e for chunk in chunks for e in decoder.feed(chunk)]
    events += decoder.close()
    return [{"event": e.event, "data": e.data, "id": e.id, "retry": e.retry} for e in events]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _run_expectations(raw: bytes) -> dict[str, Any]:
    """What the JS accumulator must report for a transcript, from the library itself."""
    acc = Accumulator()
    statuses: list[str] = []
    tool_calls: list[str] = []
    tool_calls_done: list[str | None] = []
    errors: list[str] = []
    texts: dict[tuple[str, int], str] = {}
    decoder = SSEDecoder()
    for sse in [*decoder.feed(raw), *decoder.close()]:
        event = parse_event(sse.event, sse.data)
        if event.event == "error":
            errors.append(event.data.message)
            continue
        if event.event == "done":
            for name, args in map(named, acc.end()):  # the end: open calls are done
                if name == "on_tool_call_done":
                    tool_calls_done.append(args[0].id)
            continue
        if event.event.startswith("thread.run.") and not event.event.startswith("thread.run.step."):
            statuses.append(event.data.status)  # type: ignore[union-attr]
        if isinstance(event, ThreadMessageDelta):
            for part in event.data.delta.content:
                if isinstance(part, TextDeltaBlock) and part.text and part.text.value:
                    key = (event.data.id, part.index)
                    texts[key] = texts.get(key, "") + part.text.value
        for name, args in map(named, acc.feed(event)):  # type: ignore[arg-type]
            if name == "on_tool_call_created":
                function = getattr(args[0], "function", None)
                tool_calls.append(function.name if function is not None else args[0].type)
            elif name == "on_tool_call_done":
                tool_calls_done.append(args[0].id)
    return {
        "texts": list(texts.values()),
        "tool_calls": tool_calls,
        "tool_calls_done": tool_calls_done,
        "statuses": statuses,
        "errors": errors,
    }


def _cases() -> dict[str, Any]:
    decoder = [
        {"name": name, "input": _b64(data), "events": _events([data])}
        for name, data in DECODER_CASES.items()
    ]
    for name, chunks in GIVEN_CHUNKS.items():
        data = b"".join(chunks)
        decoder.append(
            {
                "name": name,
                "input": _b64(data),
                "chunks": [_b64(c) for c in chunks],
                "events": _events([data]),
            }
        )
    fixtures = [s["file"] for s in manifest()]
    for name in fixtures:
        raw = (FIXTURES / name).read_bytes()
        decoder.append({"name": f"fixture {name}", "input": _b64(raw), "events": _events([raw])})
        for eol in (b"\r", b"\r\n"):
            other = raw.replace(b"\n", eol)
            decoder.append(
                {
                    "name": f"fixture {name} {eol!r}",
                    "input": _b64(other),
                    "events": _events([other]),
                }
            )
    rng = random.Random(20261201)
    for i in range(300):
        data = _random_stream(rng)
        decoder.append({"name": f"random {i}", "input": _b64(data), "events": _events([data])})
    runs = [
        {"name": name, "input": _b64((FIXTURES / name).read_bytes())}
        | _run_expectations((FIXTURES / name).read_bytes())
        for name in fixtures
    ]
    # A stream that ends ([DONE]) with its tool call still open: done at the end.
    raw = (FIXTURES / "function_requires_action.sse").read_bytes()
    blocks = [b for b in raw.split(b"\n\n") if b"event: thread.run.requires_action" not in b]
    open_at_end = b"\n\n".join(blocks)
    runs.append(
        {"name": "open call at [DONE]", "input": _b64(open_at_end)} | _run_expectations(open_at_end)
    )
    assert runs[-1]["tool_calls_done"], "the end must close the open call"
    runs.extend(_relayed_response_runs())
    return {"decoder": decoder, "runs": runs}


RESPONSES_FIXTURES = sorted(
    p for p in (FIXTURES / "responses").glob("*.sse") if "error" not in p.name
)


def _relayed_response_runs() -> list[dict[str, Any]]:
    """A ``ResponseStream`` relayed with ``to_sse``: streamrun.js must read it as a
    run stream, with the texts the Python stream accumulated."""
    from streamrun import ResponseStream

    async def relay(raw: bytes) -> tuple[bytes, list[str]]:
        async with ResponseStream.from_bytes([raw]) as stream:
            body = b"".join([chunk async for chunk in stream.to_sse()])
        async with ResponseStream.from_bytes([raw]) as stream:
            await stream.until_done()
            texts = [m.text for m in await stream.final_messages() if m.text]
        return body, texts

    cases = []
    for path in RESPONSES_FIXTURES:
        body, texts = asyncio.run(relay(path.read_bytes()))
        expected = _run_expectations(body)
        assert expected["texts"] == texts, path.name
        cases.append({"name": f"relayed {path.name}", "input": _b64(body)} | expected)
    assert any(case["texts"] for case in cases) and any(case["tool_calls"] for case in cases)
    return cases


def test_js_parser_and_accumulator_under_node(tmp_path: Path) -> None:
    assert NODE is not None
    cases = tmp_path / "cases.json"
    cases.write_text(json.dumps(_cases()))
    result = subprocess.run(
        [NODE, "--test", str(ROOT / "tests" / "js" / "sse.test.mjs")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={"STREAMRUN_SSE_CASES": str(cases), "PATH": "/usr/bin:/bin"},
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    summary = result.stdout
    assert "# fail 0" in summary
    expected = (
        len(DECODER_CASES)
        + len(GIVEN_CHUNKS)
        + 3 * len(manifest())
        + 300
        + len(manifest())
        + 1
        + len(RESPONSES_FIXTURES)
    )
    assert f"# pass {expected}" in summary, summary[-500:]


def test_js_module_is_package_data() -> None:
    from importlib import resources

    text = (resources.files("streamrun") / "web" / "streamrun.js").read_text()
    assert "export class SSEParser" in text
    assert "export function streamRun" in text
