"""Typed-event throughput: streamrun against openai-python, side by side on the same bytes.

Corpus: every recorded transcript (``*.sse``) concatenated and repeated to
about ``--mb`` megabytes (20 by default), cut into 4 KiB chunks. Each
implementation consumes the whole corpus per pass:

1. ``streamrun decoder``      ``streamrun.sse.SSEDecoder.feed`` (+ ``close``)
2. ``openai decoder``         ``openai._streaming.SSEDecoder.iter_bytes``
3. ``streamrun typed/json``   the decoder + ``streamrun.parse_event``, stdlib json
4. ``streamrun typed/orjson`` the same with orjson (the default when installed)
5. ``openai typed``           openai's decoder + what ``AsyncStream.__stream__``
   does per event: ``sse.json()`` and ``client._process_response_data(data=
   {"data": ..., "event": ...}, cast_to=AssistantStreamEvent)`` (i.e.
   ``construct_type`` on the event union; the bare-object path for names not
   starting with ``thread.``, ``[DONE]`` skipped)
6. ``floor``                  pure Python: split on ``b"\\n\\n"``, pick the event
   and data lines, ``json.loads``

Rounds interleave the implementations (``--rounds``, default 5); in each round
an implementation repeats passes until ``--min-time`` seconds have passed
(garbage collection off while timing, as timeit does). The table shows the
median per event over all events of the corpus (``done`` included).

Run: ``.venv/bin/python benchmarks/bench_events.py [--quick] [--json FILE]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common

from streamrun import parse_event
from streamrun.sse import SSEDecoder

CHUNK = 4096

TARGET_DECODER = 3.0  # openai decoder time / streamrun decoder time, at least
TARGET_TYPED = 10.0  # openai typed time / streamrun typed time, at least
TARGET_FLOOR = 2.5  # streamrun typed (stdlib json) time / floor time, at most


def build_corpus(megabytes: float) -> tuple[bytes, int]:
    """The transcripts concatenated and repeated to about ``megabytes`` MB; its event count."""
    one = b"".join(data for _, data in _common.transcripts())
    repeats = max(1, round(megabytes * 1e6 / len(one)))
    corpus = one * repeats
    events = corpus.count(b"\n\n")
    return corpus, events


# -- the implementations ------------------------------------------------------


def streamrun_decoder(chunks: list[bytes]) -> int:
    decoder = SSEDecoder()
    feed = decoder.feed
    n = 0
    for chunk in chunks:
        n += len(feed(chunk))
    return n + len(decoder.close())


def streamrun_typed(chunks: list[bytes]) -> int:
    decoder = SSEDecoder()
    feed = decoder.feed
    parse = parse_event
    n = 0
    for chunk in chunks:
        for sse in feed(chunk):
            parse(sse.event, sse.data)
            n += 1
    return n + len(decoder.close())


def openai_decoder(chunks: list[bytes]) -> int:
    from openai._streaming import SSEDecoder as OpenAIDecoder

    n = 0
    for _ in OpenAIDecoder().iter_bytes(iter(chunks)):
        n += 1
    return n


def openai_typed_factory() -> Callable[[list[bytes]], int]:
    """openai's per-event work, as ``AsyncStream.__stream__`` does it (legacy mode)."""
    import openai
    from openai._streaming import SSEDecoder as OpenAIDecoder
    from openai._utils import is_mapping
    from openai.types.beta import AssistantStreamEvent

    client = openai.AsyncOpenAI(api_key="sk-bench", base_url="http://127.0.0.1:9/v1")
    process_data: Any = client._process_response_data
    cast_to: Any = AssistantStreamEvent

    def run(chunks: list[bytes]) -> int:
        n = 0
        for sse in OpenAIDecoder().iter_bytes(iter(chunks)):
            n += 1
            if sse.data.startswith("[DONE]"):
                continue  # the SDK stops the stream here; the corpus goes on
            if sse.event and sse.event.startswith("thread."):
                data = sse.json()
                process_data(
                    data={"data": data, "event": sse.event}, cast_to=cast_to, response=None
                )
            else:
                data = sse.json()
                if is_mapping(data) and data.get("error"):
                    continue  # the SDK raises APIError here
                process_data(data=data, cast_to=cast_to, response=None)
        return n

    return run


def floor(chunks: list[bytes]) -> int:
    """The least a Python consumer can do: split blocks, pick two lines, json.loads."""
    loads = json.loads
    buf = b""
    n = 0
    for chunk in chunks:
        buf += chunk
        *blocks, buf = buf.split(b"\n\n")
        for block in blocks:
            nl = block.find(b"\n")
            _event = block[7:nl]
            data = block[nl + 7 :]
            if data != b"[DONE]":
                loads(data)
            n += 1
    return n


# -- main -------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--mb", type=float, default=20.0, help="corpus size in MB (default 20)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument(
        "--min-time", type=float, default=1.0, help="seconds per measurement, at least (1.0)"
    )
    parser.add_argument("--quick", action="store_true", help="2 MB, 3 rounds, 0.2 s")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    if args.quick:
        args.mb, args.rounds, args.min_time = 2.0, 3, 0.2
    warnings.simplefilter("ignore", DeprecationWarning)

    corpus, n_events = build_corpus(args.mb)
    chunks = _common.chunked(corpus, CHUNK)
    print(f"corpus: {len(corpus) / 1e6:.1f} MB, {n_events} events, {len(chunks)} chunks of 4 KiB")
    print(f"{_common.machine()}; {_common.versions()}", flush=True)

    def with_backend(name: str) -> Callable[[list[bytes]], int]:
        def run(c: list[bytes]) -> int:
            with _common.json_backend(name):
                return streamrun_typed(c)

        return run

    have_openai = importlib.util.find_spec("openai") is not None
    have_orjson = importlib.util.find_spec("orjson") is not None
    impls: list[tuple[str, Callable[[list[bytes]], int]]] = [
        ("streamrun decoder", streamrun_decoder)
    ]
    if have_openai:
        impls.append(("openai decoder", openai_decoder))
    impls.append(("streamrun typed (stdlib json)", with_backend("stdlib")))
    if have_orjson:
        impls.append(("streamrun typed (orjson)", with_backend("orjson")))
    if have_openai:
        impls.append(("openai typed", openai_typed_factory()))
    impls.append(("floor (split + json.loads)", floor))
    if not have_openai:
        print("openai is not installed: its rows are skipped")
    if not have_orjson:
        print("orjson is not installed: its row is skipped")

    def measure(fn: Callable[[list[bytes]], int]) -> tuple[float, int]:
        return _common.autorange(lambda: fn(chunks), args.min_time)

    per_event: dict[str, list[float]] = {name: [] for name, _ in impls}
    for r in range(args.rounds):
        print(f"round {r + 1}/{args.rounds}", flush=True)
        for name, fn in impls:
            seconds, count = measure(fn)
            if count != n_events:
                print(f"{name}: counted {count} events, expected {n_events}", file=sys.stderr)
                return 1
            per_event[name].append(seconds / n_events)

    med = {name: _common.median(v) for name, v in per_event.items()}
    base = med["floor (split + json.loads)"]
    rows = [
        (name, f"{us * 1e6:.2f}", f"{1 / us / 1e3:,.0f}k", f"{us / base:.2f}x")
        for name, us in med.items()
    ]
    print()
    print(f"median of {args.rounds} interleaved rounds, 4 KiB chunks")
    print(_common.table(["implementation", "µs/event", "events/s", "vs floor"], rows))

    results: dict[str, Any] = {
        "corpus_mb": round(len(corpus) / 1e6, 1),
        "events": n_events,
        "rounds": args.rounds,
        "us_per_event": {k: round(v * 1e6, 3) for k, v in med.items()},
        "targets": [],
    }
    checks: list[tuple[str, float, str, bool]] = []
    if "openai decoder" in med:
        ratio = med["openai decoder"] / med["streamrun decoder"]
        checks.append(
            (
                "decoder speed-up vs openai's decoder",
                ratio,
                f">= {TARGET_DECODER:g}x",
                ratio >= TARGET_DECODER,
            )
        )
        for label in ("streamrun typed (orjson)", "streamrun typed (stdlib json)"):
            if label in med:
                ratio = med["openai typed"] / med[label]
                backend = label[len("streamrun typed ") :]
                checks.append(
                    (
                        f"typed events {backend} speed-up vs openai typed",
                        ratio,
                        f">= {TARGET_TYPED:g}x",
                        ratio >= TARGET_TYPED,
                    )
                )
    ratio = med["streamrun typed (stdlib json)"] / base
    checks.append(
        (
            "typed events (stdlib json) time vs floor",
            ratio,
            f"<= {TARGET_FLOOR:g}x",
            ratio <= TARGET_FLOOR,
        )
    )
    print()
    print(
        _common.table(
            ["target", "measured", "target", "result"],
            [(n, f"{v:.2f}x", t, _common.verdict(ok)) for n, v, t, ok in checks],
        )
    )
    results["targets"] = [
        {"name": n, "ratio": round(v, 2), "target": t, "pass": ok} for n, v, t, ok in checks
    ]
    _common.write_json(args.json, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
