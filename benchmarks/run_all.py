"""Run every benchmark, one after the other, and summarise the targets.

Each benchmark runs in its own process (nothing one does, such as switching
the JSON backend, leaks into the next), with its output shown as it comes:

* ``bench_decoder.py``    SSE decoder throughput
* ``bench_events.py``     typed-event throughput, side by side with openai-python
* ``bench_accumulate.py`` accumulating one long message, side by side
* ``bench_e2e.py``        end to end over loopback: throughput and added latency
* ``bench_startup.py``    how fast the ``streamrun`` command starts (``--version``, ``--help``)
* ``bench_responses.py``  Responses vs run-stream events, full stream path and pure layers
* ``bench_relay.py``      relaying to a browser: the latency the relay adds per delta
* ``bench_tool_loop.py``  the continuation after a tool round vs a plain stream (µs/event)

A benchmark that is not present is reported as skipped. Benchmarks that can
write their results as JSON (``--json``) get their targets repeated in the
summary at the end.

Run: ``.venv/bin/python benchmarks/run_all.py [--quick] [--only NAME ...] [--strict]``
(``--strict``: exit 1 when a target is missed, not only when a benchmark fails).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

BENCHMARKS = [
    ("bench_decoder.py", "SSE decoder throughput"),
    ("bench_events.py", "typed-event throughput vs openai-python"),
    ("bench_accumulate.py", "accumulating one long message vs openai-python"),
    ("bench_e2e.py", "end to end over loopback vs openai-python"),
    ("bench_startup.py", "start-up of the streamrun command"),
    ("bench_responses.py", "Responses vs run-stream events, full stream path and pure layers"),
    ("bench_relay.py", "relay (sse_response) added latency per delta"),
    ("bench_tool_loop.py", "per-event cost of a tool loop's continuation vs a plain stream"),
]


def _supports(path: Path, option: str) -> bool:
    """Whether the script declares ``option`` (read from its source, not run)."""
    return f'"{option}"' in path.read_text(encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--quick", action="store_true", help="smaller, shorter runs (a smoke test, noisier)"
    )
    parser.add_argument(
        "--only", nargs="+", metavar="NAME", help="run only these (e.g. bench_events)"
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)

    selected = BENCHMARKS
    if args.only:
        wanted = {name.removesuffix(".py") for name in args.only}
        selected = [b for b in BENCHMARKS if b[0].removesuffix(".py") in wanted]
        unknown = wanted - {b[0].removesuffix(".py") for b in selected}
        if unknown:
            parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")

    outcomes: list[tuple[str, str, float]] = []
    targets: list[tuple[str, dict[str, Any]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for script, what in selected:
            path = HERE / script
            if not path.exists():
                print(f"\n=== {script}: not present, skipped", flush=True)
                outcomes.append((script, "skipped (not present)", 0.0))
                continue
            cmd = [sys.executable, str(path)]
            if args.quick and _supports(path, "--quick"):
                cmd.append("--quick")
            elif args.quick and _supports(path, "--megabytes"):
                cmd += ["--megabytes", "2", "--rounds", "3"]
            result_file = Path(tmp) / f"{path.stem}.json"
            if _supports(path, "--json"):
                cmd += ["--json", str(result_file)]
            print(f"\n=== {script}: {what}\n$ {' '.join(cmd[1:])}", flush=True)
            start = time.perf_counter()
            rc = subprocess.run(cmd, cwd=HERE.parent, check=False).returncode
            elapsed = time.perf_counter() - start
            outcomes.append((script, "ok" if rc == 0 else f"FAILED (exit {rc})", elapsed))
            if rc == 0 and result_file.exists():
                data = json.loads(result_file.read_text())
                targets.extend((script, t) for t in data.get("targets", []))

    print("\n=== summary")
    for script, status, elapsed in outcomes:
        print(f"{script:<22} {status:<24} {elapsed:6.1f} s")
    if targets:
        print()
        width = max(len(t["name"]) for _, t in targets)
        for script, t in targets:
            measured = t.get("measured", f"{t.get('ratio')}x")
            verdict = "PASS" if t["pass"] else "MISS"
            print(f"{script:<18} {t['name']:<{width}}  {measured:>10}  {t['target']:>9}  {verdict}")
    failed = any(status.startswith("FAILED") for _, status, _ in outcomes)
    missed = any(not t["pass"] for _, t in targets)
    return 1 if failed or (args.strict and missed) else 0


if __name__ == "__main__":
    raise SystemExit(main())
