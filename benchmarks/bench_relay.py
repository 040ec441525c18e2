"""Relaying to a browser: the latency ``streamrun.relay.sse_response`` adds per delta.

An upstream aiohttp server (``bench_e2e``'s, in a separate process) sends a
paced run stream whose every text delta is its send time
(``time.monotonic_ns()``). Two consumers, in interleaved rounds:

(a) direct: ``client.runs.stream(..., handler=H)``, H's ``on_text_delta``
    notes ``now - sent``;
(b) relayed: an aiohttp.web app on 127.0.0.1 answers ``POST /relay`` with
    ``sse_response(request, client.runs.stream(...))``; a consumer posts to it
    and reads the response with ``streamrun.relay.from_sse(response,
    handler=H)``, the same handler noting ``now - sent`` per delta (server
    write → ``from_sse`` callback).

The relay and its consumer run in this process (one event loop), so (b) pays
for the relay's work, the second loopback hop and the second pipeline
(decode, parse, accumulate, callbacks). The added
latency is p50(b) − p50(a); target ≤ 0.2 ms per delta.

Run: ``.venv/bin/python benchmarks/bench_relay.py [--quick] [--json FILE]``.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

import _common
import aiohttp
from aiohttp import web
from bench_e2e import THREAD_PACED, ServerProcess

import streamrun
from streamrun.relay import from_sse, sse_response

TARGET_MS = 0.2


class Direct(streamrun.AsyncEventHandler):
    def __init__(self, out: list[int]) -> None:
        self.out = out

    async def on_text_delta(self, delta: streamrun.TextDelta, snapshot: streamrun.Text) -> None:
        self.out.append(time.monotonic_ns() - int(delta.value or "0"))


async def direct(client: streamrun.AsyncClient) -> list[int]:
    out: list[int] = []
    async with client.runs.stream(THREAD_PACED, assistant_id="asst", handler=Direct(out)) as s:
        await s.until_done()
    return out


async def relayed(session: aiohttp.ClientSession, url: str) -> list[int]:
    out: list[int] = []
    async with session.post(url) as response:
        async with from_sse(response, handler=Direct(out)) as s:
            await s.until_done()
    return out


async def bench(args: argparse.Namespace, port: int) -> dict[str, Any]:
    base = f"http://127.0.0.1:{port}/v1"
    # A key of a real key's length: the relay follows it across deltas (a key
    # shorter than 8 characters is not looked for, which would measure nothing).
    key = "sk-proj-bench-0123456789abcdefghijklmnop"
    async with streamrun.AsyncClient(api_key=key, base_url=base, max_retries=0) as client:

        async def handle(request: web.Request) -> web.StreamResponse:
            await request.read()
            stream = client.runs.stream(THREAD_PACED, assistant_id="asst")
            return await sse_response(request, stream)

        app = web.Application()
        app.router.add_post("/relay", handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/relay"
        p50s: dict[str, list[float]] = {"direct": [], "relayed": []}
        p99s: dict[str, list[float]] = {"direct": [], "relayed": []}
        try:
            async with aiohttp.ClientSession() as session:
                await relayed(session, url)  # warm-up
                await direct(client)
                for _ in range(args.rounds):
                    for name in ("direct", "relayed"):
                        lat = await (direct(client) if name == "direct" else relayed(session, url))
                        if len(lat) != args.deltas:
                            raise SystemExit(f"{name}: {len(lat)} deltas, expected {args.deltas}")
                        ms = [v / 1e6 for v in lat]
                        p50s[name].append(_common.percentile(ms, 50))
                        p99s[name].append(_common.percentile(ms, 99))
        finally:
            await runner.cleanup()
    p50 = {n: _common.median(v) for n, v in p50s.items()}
    p99 = {n: _common.median(v) for n, v in p99s.items()}
    added = p50["relayed"] - p50["direct"]
    print(
        _common.table(
            ["consumer", "p50 ms", "p99 ms"],
            [(n, f"{p50[n]:.3f}", f"{p99[n]:.3f}") for n in p50],
        )
    )
    ok = added <= TARGET_MS
    print()
    print(
        _common.table(
            ["target", "measured", "target", "result"],
            [
                (
                    "relay: added p50 latency per delta",
                    f"{added:.3f} ms",
                    f"<= {TARGET_MS} ms",
                    _common.verdict(ok),
                )
            ],
        )
    )
    return {
        "deltas": args.deltas,
        "rounds": args.rounds,
        "pace_ms": args.pace * 1e3,
        "latency_p50_ms": {n: round(v, 4) for n, v in p50.items()},
        "latency_p99_ms": {n: round(v, 4) for n, v in p99.items()},
        "added_p50_ms": round(added, 4),
        "targets": [
            {
                "name": "relay: added p50 latency per delta",
                "measured": f"{added:.3f} ms",
                "target": f"<= {TARGET_MS} ms",
                "pass": ok,
            }
        ],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--deltas", type=int, default=1_000, help="paced deltas per run (1000)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (5)")
    parser.add_argument("--pace", type=float, default=1.0, help="ms between deltas (1)")
    parser.add_argument("--quick", action="store_true", help="300 deltas, 3 rounds")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    if args.quick:
        args.deltas, args.rounds = 300, 3
    args.pace /= 1e3
    print(f"{_common.machine()}; {_common.versions()}", flush=True)
    server = ServerProcess(1, args.deltas, args.pace)
    try:
        results = asyncio.run(bench(args, server.port))
    finally:
        server.close()
    _common.write_json(args.json, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
