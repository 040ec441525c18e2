"""Responses API events through the mapping vs run-stream events, in µs per event.

Two paths per protocol, each timed per wire event including JSON decoding:

* the full stream path (the target): the stream's bytes, in 4 KiB chunks,
  read to the end by ``RunStream.from_bytes`` / ``ResponseStream.from_bytes``
  (SSE decoding, the protocol adapter, the accumulator, the pipeline, the
  reader) — everything a stream does but the socket;
* the pure layers, fed SSE events already split: ``parse_event`` →
  ``Accumulator.feed`` for run streams; ``parse_responses_event`` →
  ``ResponsesMapper.feed`` → ``Accumulator.feed`` for Responses.

Workloads:

* the same answer in both formats: one message of N word-sized text deltas
  framed as each API frames it (run created/in_progress, step and message
  created, N deltas, message and step completed, run completed; and
  response.created/in_progress, output_item.added, content_part.added,
  N output_text.delta with ``sequence_number`` and ``obfuscation``,
  output_text.done, content_part.done, output_item.done,
  response.completed). The target: Responses µs/event ≤ 1.5 × run stream
  through the full stream path.
* the recorded streams (``tests/fixtures/*.sse`` and
  ``tests/fixtures/responses/*.sse``), shown for information: their mixes
  differ (the Responses recordings carry reasoning summaries, the run-stream
  ones tool calls), so they are not compared.

Each figure is the median of interleaved rounds (garbage collection off while
timing). Run: ``.venv/bin/python benchmarks/bench_responses.py [--quick]
[--rounds 5] [--json FILE]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common
from _common import FIXTURES, timed

from streamrun._accumulate import Accumulator
from streamrun._events import parse_event
from streamrun._response_stream import ResponseStream
from streamrun._responses_events import parse_responses_event
from streamrun._responses_map import ResponsesMapper
from streamrun._stream import RunStream
from streamrun.sse import SSEDecoder

TARGET = 1.5  # Responses µs/event / run-stream µs/event, at most
WORDS = ["The", " quick", " brown", " fox", " jumps", " over", " the", " lazy", " dog", "."]

Pairs = list[tuple[str, str]]


def _pair(name: str, body: dict[str, Any]) -> tuple[str, str]:
    return name, json.dumps(body, separators=(",", ":"))


def run_stream(n: int) -> Pairs:
    """A run stream answering with one message of ``n`` text deltas."""
    run = {
        "id": "run_b", "object": "thread.run", "created_at": 1, "assistant_id": "asst_b",
        "thread_id": "thread_b", "status": "queued", "model": "gpt-4o", "instructions": "",
        "tools": [], "metadata": {}, "usage": None, "temperature": 1.0, "top_p": 1.0,
        "tool_choice": "auto", "parallel_tool_calls": True, "response_format": "auto",
    }  # fmt: skip
    step = {
        "id": "step_b", "object": "thread.run.step", "created_at": 1, "run_id": "run_b",
        "assistant_id": "asst_b", "thread_id": "thread_b", "type": "message_creation",
        "status": "in_progress",
        "step_details": {"type": "message_creation", "message_creation": {"message_id": "msg_b"}},
    }  # fmt: skip
    message = {
        "id": "msg_b", "object": "thread.message", "created_at": 1, "assistant_id": "asst_b",
        "thread_id": "thread_b", "run_id": "run_b", "status": "in_progress", "role": "assistant",
        "content": [], "attachments": [], "metadata": {},
    }  # fmt: skip
    text = "".join(WORDS[i % len(WORDS)] for i in range(n))
    done_message = {
        **message,
        "status": "completed",
        "content": [{"type": "text", "text": {"value": text, "annotations": []}}],
    }
    out = [
        _pair("thread.run.created", run),
        _pair("thread.run.in_progress", {**run, "status": "in_progress"}),
        _pair("thread.run.step.created", step),
        _pair("thread.message.created", message),
    ]
    for i in range(n):
        value = {"value": WORDS[i % len(WORDS)]}
        if i == 0:
            value["annotations"] = []  # type: ignore[assignment]
        delta = {"content": [{"index": 0, "type": "text", "text": value}]}
        out.append(
            _pair(
                "thread.message.delta",
                {"id": "msg_b", "object": "thread.message.delta", "delta": delta},
            )
        )
    out += [
        _pair("thread.message.completed", done_message),
        _pair("thread.run.step.completed", {**step, "status": "completed"}),
        _pair("thread.run.completed", {**run, "status": "completed"}),
    ]
    return out


def responses_stream(n: int) -> Pairs:
    """The same answer as a Responses stream."""
    response = {
        "id": "resp_b", "object": "response", "created_at": 1, "status": "in_progress",
        "background": False, "error": None, "incomplete_details": None, "instructions": None,
        "max_output_tokens": None, "model": "gpt-4o", "output": [], "parallel_tool_calls": True,
        "previous_response_id": None, "reasoning": {"effort": None, "summary": None},
        "store": True, "temperature": 1.0, "text": {"format": {"type": "text"}},
        "tool_choice": "auto", "tools": [], "top_p": 1.0, "truncation": "disabled",
        "usage": None, "user": None, "metadata": {},
    }  # fmt: skip
    text = "".join(WORDS[i % len(WORDS)] for i in range(n))
    part = {"type": "output_text", "annotations": [], "logprobs": [], "text": ""}
    item = {"id": "msg_b", "type": "message", "status": "in_progress", "content": [],
            "role": "assistant"}  # fmt: skip
    done_item = {**item, "status": "completed", "content": [{**part, "text": text}]}
    seq = iter(range(n + 100))

    def ev(kind: str, **fields: Any) -> tuple[str, str]:
        return _pair(kind, {"type": kind, "sequence_number": next(seq), **fields})

    where = {"item_id": "msg_b", "output_index": 0, "content_index": 0}
    out = [
        ev("response.created", response=response),
        ev("response.in_progress", response=response),
        ev("response.output_item.added", output_index=0, item=item),
        ev("response.content_part.added", **where, part=part),
    ]
    for i in range(n):
        out.append(
            ev(
                "response.output_text.delta",
                **where,
                delta=WORDS[i % len(WORDS)],
                logprobs=[],
                obfuscation="x" * (16 - len(WORDS[i % len(WORDS)])),
            )
        )
    out += [
        ev("response.output_text.done", **where, text=text, logprobs=[]),
        ev("response.content_part.done", **where, part={**part, "text": text}),
        ev("response.output_item.done", output_index=0, item=done_item),
        ev(
            "response.completed",
            response={**response, "status": "completed", "output": [done_item]},
        ),
    ]
    return out


def through_run_stream(pairs: Pairs) -> str:
    acc = Accumulator()
    feed = acc.feed
    for name, data in pairs:
        feed(parse_event(name, data))  # type: ignore[arg-type]
    acc.end()
    return "".join(m.text for m in acc.final_messages())


def through_responses(pairs: Pairs) -> str:
    acc, mapper = Accumulator(), ResponsesMapper()
    feed, map_ = acc.feed, mapper.feed
    for name, data in pairs:
        for event in map_(parse_responses_event(name, data)):
            feed(event)
    acc.end()
    return "".join(m.text for m in acc.final_messages())


def to_bytes(pairs: Pairs, *, done: bool) -> list[bytes]:
    """The events framed as server-sent events, in 4 KiB chunks (``[DONE]`` last for
    a run stream)."""
    data = b"".join(f"event: {name}\ndata: {body}\n\n".encode() for name, body in pairs)
    if done:
        data += b"event: done\ndata: [DONE]\n\n"
    return _common.chunked(data, 4096)


async def _read(stream: RunStream) -> str:
    async with stream:
        await stream.until_done()
        return "".join(m.text for m in await stream.final_messages())


LOOP = asyncio.new_event_loop()


def full_run_stream(chunks: list[bytes]) -> str:
    return LOOP.run_until_complete(_read(RunStream.from_bytes(chunks)))


def full_responses(chunks: list[bytes]) -> str:
    return LOOP.run_until_complete(_read(ResponseStream.from_bytes(chunks)))


def recorded(directory: Path) -> Pairs:
    pairs: Pairs = []
    for path in sorted(directory.glob("*.sse")):
        decoder = SSEDecoder()
        pairs += [(e.event, e.data) for e in decoder.feed(path.read_bytes()) + decoder.close()]
    return [p for p in pairs if not p[1].startswith("[DONE]")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (default 7)")
    parser.add_argument("--quick", action="store_true", help="2k deltas instead of 20k, 3 rounds")
    parser.add_argument("--json", type=Path, help="also write the results and target as JSON")
    args = parser.parse_args(argv)
    n = 2_000 if args.quick else 20_000
    rounds = 3 if args.quick else args.rounds

    run_pairs, resp_pairs = run_stream(n), responses_stream(n)
    expected = "".join(WORDS[i % len(WORDS)] for i in range(n))
    if through_run_stream(run_pairs) != expected or through_responses(resp_pairs) != expected:
        print("wrong text", file=sys.stderr)
        return 1
    run_bytes = to_bytes(run_pairs, done=True)
    resp_bytes = to_bytes(resp_pairs, done=False)
    if full_run_stream(run_bytes) != expected or full_responses(resp_bytes) != expected:
        print("wrong text through the stream path", file=sys.stderr)
        return 1
    rec_run = recorded(FIXTURES)
    rec_resp = recorded(FIXTURES / "responses")
    counts = {full_run_stream: len(run_pairs) + 1, full_responses: len(resp_pairs)}
    cases: dict[str, tuple[Any, Any]] = {
        "run stream, full stream path": (full_run_stream, run_bytes),
        "Responses, full stream path": (full_responses, resp_bytes),
        "run stream, one message": (through_run_stream, run_pairs),
        "Responses, one message": (through_responses, resp_pairs),
        "run stream, recorded": (through_run_stream, rec_run),
        "Responses, recorded": (through_responses, rec_resp),
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    for r in range(rounds):
        print(f"round {r + 1}/{rounds}", flush=True)
        for name, (fn, pairs) in cases.items():
            elapsed, _ = timed(lambda fn=fn, pairs=pairs: fn(pairs))  # type: ignore[misc]
            times[name].append(elapsed / counts.get(fn, len(pairs)))
    med = {name: statistics.median(t) * 1e6 for name, t in times.items()}
    rows = [
        (name, counts.get(cases[name][0], len(cases[name][1])), f"{med[name]:.2f}")
        for name in cases
    ]
    print()
    print(f"median of {rounds} rounds; JSON decoding included; {_common.machine()}")
    print(_common.table(["path", "events", "µs/event"], rows))
    ratio = med["Responses, full stream path"] / med["run stream, full stream path"]
    pure = med["Responses, one message"] / med["run stream, one message"]
    ok = ratio <= TARGET
    print(
        f"\nResponses / run stream, same answer, full stream path: {ratio:.2f}x "
        f"(target <= {TARGET:g}x) {_common.verdict(ok)}"
    )
    print(f"Responses / run stream, same answer, pure layers: {pure:.2f}x")
    _common.write_json(
        str(args.json) if args.json else None,
        {
            "us_per_event": med,
            "targets": [
                {
                    "name": "Responses vs run-stream µs/event (same answer, full stream path)",
                    "measured": f"{ratio:.2f}x",
                    "target": f"<= {TARGET:g}x",
                    "pass": ok,
                }
            ],
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
