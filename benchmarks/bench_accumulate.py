"""Accumulating one long message: streamrun's Accumulator vs the official SDK.

Builds N ``thread.message.delta`` events of one text part (small word-sized
fragments), typed once outside the timed part, and times feeding them:

* streamrun: ``Accumulator.feed`` for every event (callbacks built included),
  then one read of the text value;
* openai-python: ``openai.lib.streaming._assistants.accumulate_event`` for
  every event (the function its event handlers call per message event).

Each timing is the median of interleaved rounds (garbage collection off
while timing, as :mod:`timeit` does). Accumulation is linear when the
100k/10k ratio stays near 10; the SDK re-dumps the whole block on every delta,
so its ratio grows with the text. Its large run is bounded: when a 30k probe
predicts more than 60 s for 100k, the large size is 30k instead (and the table
says so).

Run: ``.venv/bin/python benchmarks/bench_accumulate.py [--rounds 5] [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common
from _common import timed

from streamrun._accumulate import Accumulator
from streamrun._events import ThreadMessageDelta, parse_event
from streamrun._models import TextContentBlock

MESSAGE_ID = "msg_bench"
WORDS = ["The", " quick", " brown", " fox", " jumps", " over", " the", " lazy", " dog", "."]
SDK_LIMIT_S = 60.0
LINEAR_TARGET = 12.0  # streamrun: time(100k deltas) / time(10k deltas), at most

_MESSAGE = {
    "id": MESSAGE_ID,
    "object": "thread.message",
    "created_at": 1749219762,
    "assistant_id": "asst_bench",
    "thread_id": "thread_bench",
    "run_id": "run_bench",
    "status": "in_progress",
    "incomplete_details": None,
    "incomplete_at": None,
    "completed_at": None,
    "role": "assistant",
    "content": [],
    "attachments": [],
    "metadata": {},
}


def delta_json(i: int) -> dict[str, Any]:
    """The JSON of the i-th delta (the first one carries ``annotations: []``)."""
    text: dict[str, Any] = {"value": WORDS[i % len(WORDS)]}
    if i == 0:
        text["annotations"] = []
    return {
        "id": MESSAGE_ID,
        "object": "thread.message.delta",
        "delta": {"content": [{"index": 0, "type": "text", "text": text}]},
    }


def expected_text(n: int) -> str:
    return "".join(WORDS[i % len(WORDS)] for i in range(n))


# -- streamrun ---------------------------------------------------------------


def ours_events(n: int) -> tuple[Any, list[ThreadMessageDelta]]:
    created = parse_event("thread.message.created", json.dumps(_MESSAGE))
    deltas = [parse_event("thread.message.delta", json.dumps(delta_json(i))) for i in range(n)]
    return created, deltas  # type: ignore[return-value]


def ours_run(created: Any, deltas: list[ThreadMessageDelta]) -> str:
    acc = Accumulator()
    feed = acc.feed
    feed(created)
    for event in deltas:
        feed(event)
    snapshot = acc.current_message_snapshot
    assert snapshot is not None
    part = snapshot.content[0]
    assert isinstance(part, TextContentBlock)
    return part.text.value


# -- openai-python ------------------------------------------------------------


def sdk_available() -> bool:
    try:
        import openai.lib.streaming._assistants  # noqa: F401
    except ImportError:
        return False
    return True


def sdk_events(n: int) -> tuple[Callable[[], Any], list[Any]]:
    from openai.types.beta import assistant_stream_event as ase

    def created() -> Any:  # a fresh one per run: the SDK mutates its data in place
        return ase.ThreadMessageCreated.model_validate(
            {"event": "thread.message.created", "data": _MESSAGE}
        )

    deltas = [
        ase.ThreadMessageDelta.model_validate(
            {"event": "thread.message.delta", "data": delta_json(i)}
        )
        for i in range(n)
    ]
    return created, deltas


def sdk_run(created: Any, deltas: list[Any]) -> str:
    from openai.lib.streaming._assistants import accumulate_event

    snapshot: Any
    snapshot, _ = accumulate_event(event=created, current_message_snapshot=None)
    for event in deltas:
        snapshot, _ = accumulate_event(event=event, current_message_snapshot=snapshot)
    return str(snapshot.content[0].text.value)


# -- timing ------------------------------------------------------------------


def fmt(seconds: float) -> str:
    return f"{seconds * 1e3:10.1f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument(
        "--quick", action="store_true", help="1k / 10k instead of 10k / 100k, 3 rounds"
    )
    parser.add_argument("--json", type=Path, help="also write the results and target as JSON")
    args = parser.parse_args(argv)
    small, large = (1_000, 10_000) if args.quick else (10_000, 100_000)
    rounds = 3 if args.quick else args.rounds

    print(f"building {large} typed delta events (streamrun) ...", flush=True)
    ours_created, ours_deltas = ours_events(large)
    have_sdk = sdk_available()
    sdk_large = large
    sdk_note = ""
    if have_sdk:
        print(f"building {large} typed delta events (openai-python) ...", flush=True)
        sdk_created, sdk_deltas = sdk_events(large)
        probe = min(large, 30_000)
        t_probe, _ = timed(lambda: sdk_run(sdk_created(), sdk_deltas[:probe]))
        predicted = t_probe * (large / probe) ** 2
        if predicted > SDK_LIMIT_S:
            sdk_large = probe
            sdk_note = (
                f"openai-python at {large}: predicted ~{predicted:.0f} s from a {probe} probe "
                f"({t_probe:.1f} s, quadratic) > {SDK_LIMIT_S:.0f} s limit; measured {probe}"
            )

    results: dict[str, list[float]] = {}
    for r in range(rounds):
        print(f"round {r + 1}/{rounds}", flush=True)
        cases: list[tuple[str, Callable[[], str], int]] = [
            ("streamrun small", lambda: ours_run(ours_created, ours_deltas[:small]), small),
            ("streamrun large", lambda: ours_run(ours_created, ours_deltas), large),
        ]
        if have_sdk:
            cases += [
                ("sdk small", lambda: sdk_run(sdk_created(), sdk_deltas[:small]), small),
                (
                    "sdk large",
                    lambda: sdk_run(sdk_created(), sdk_deltas[:sdk_large]),
                    sdk_large,
                ),
            ]
        for name, fn, n in cases:
            elapsed, text = timed(fn)
            if text != expected_text(n):
                print(f"{name}: wrong text", file=sys.stderr)
                return 1
            results.setdefault(name, []).append(elapsed)

    med = {name: statistics.median(times) for name, times in results.items()}
    print()
    print(f"median of {rounds} interleaved rounds, one message, word-sized text deltas")
    header = f"{'implementation':<16}{'N small':>9}{'t(small)':>14}{'N large':>9}{'t(large)':>14}"
    header += f"{'ratio':>8}{'µs/delta (large)':>18}"
    print(header)
    print("-" * len(header))
    rows = [("streamrun", "streamrun", large)]
    if have_sdk:
        rows.append(("openai-python", "sdk", sdk_large))
    for label, key, n_large in rows:
        t_small, t_large = med[f"{key} small"], med[f"{key} large"]
        print(
            f"{label:<16}{small:>9}{fmt(t_small):>14}{n_large:>9}{fmt(t_large):>14}"
            f"{t_large / t_small:>8.1f}{t_large / n_large * 1e6:>18.2f}"
        )
    if have_sdk:
        print(
            f"\nstreamrun / openai-python speed-up: "
            f"{med['sdk small'] / med['streamrun small']:.0f}x at N={small}",
            end="",
        )
        if sdk_large == large:
            print(f", {med['sdk large'] / med['streamrun large']:.0f}x at N={large}")
        else:
            print()
        if sdk_note:
            print(f"note: {sdk_note}")
    else:
        print("\nopenai-python is not installed: its row is skipped")
    ratio = med["streamrun large"] / med["streamrun small"]
    linear = ratio <= LINEAR_TARGET
    print(
        f"linear target for streamrun: ratio <= {LINEAR_TARGET:g} (N x{large // small}): "
        f"{ratio:.1f} {_common.verdict(linear)}"
    )
    if args.json:
        target = {
            "name": f"accumulation {large // 1000}k / {small // 1000}k deltas time ratio",
            "measured": f"{ratio:.1f}",
            "target": f"<= {LINEAR_TARGET:g}",
            "pass": linear,
        }
        args.json.write_text(json.dumps({"medians_s": med, "targets": [target]}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
