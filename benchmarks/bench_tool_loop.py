"""A tool round adds no per-event cost: the continuation after ``functions=`` vs a plain stream.

A local aiohttp server (in a separate process, so its CPU time is not
counted) serves, over loopback:

* plain: ``POST /v1/threads/{thread}/runs`` answered with an ``n``-delta run
  (run.created / queued / in_progress, step and message created, ``n``
  ``thread.message.delta`` events, message / step / run completed, done);
* tools: the same request answered with a short first segment that stops in
  ``requires_action`` (one function call), then ``POST .../submit_tool_outputs``
  answered with the same ``n``-delta answer as the continuation.

The client reads each with ``client.runs.stream(..., handler=H)`` (H overriding
``on_text_delta``) and ``until_done()`` — the tools one with
``functions=[get_weather]``, so the tool loop runs the function, submits the
output and reads the continuation in the same stream.

The per-event cost is the slope of wall time over events between two sizes
(``--small`` and ``--large`` deltas), medians over interleaved rounds: the
fixed costs (the requests, the tool round itself) cancel out, and what is left
is what each further event costs. Target: the continuation's µs/event within
10% of the plain stream's (no added per-event cost). The fixed cost of a tool
round (one more request and response) is reported too.

Run: ``.venv/bin/python benchmarks/bench_tool_loop.py [--quick] [--json FILE]``.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import sys
import time
import warnings
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common
from aiohttp import web
from bench_e2e import (
    ASSISTANT,
    RUN,
    THREAD_BULK,
    WORDS,
    WRITE_SIZE,
    _message,
    _run,
    _sse,
    _step,
    delta,
    epilogue,
    expected_text,
)

import streamrun

TARGET_RATIO = 1.10  # continuation µs/event / plain µs/event, at most
TOOL_STEP = "step_tool"
CALL = "call_bench"
ARGUMENTS = '{"city":"Paris"}'


def get_weather(city: str) -> str:
    """The function the run asks for."""
    return f"18 degrees in {city}"


# -- the streams --------------------------------------------------------------------


def _tool_step(status: str) -> dict[str, Any]:
    call = {
        "id": CALL,
        "type": "function",
        "function": {"name": "get_weather", "arguments": ARGUMENTS, "output": None},
    }
    return _step(
        status,
        id=TOOL_STEP,
        type="tool_calls",
        step_details={"type": "tool_calls", "tool_calls": [call]},
    )


def first_segment() -> bytes:
    """The tools run up to ``requires_action``."""
    action = {
        "type": "submit_tool_outputs",
        "submit_tool_outputs": {
            "tool_calls": [
                {
                    "id": CALL,
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": ARGUMENTS},
                }
            ]
        },
    }
    return b"".join(
        [
            _sse("thread.run.created", _run("queued")),
            _sse("thread.run.queued", _run("queued")),
            _sse("thread.run.in_progress", _run("in_progress")),
            _sse("thread.run.step.created", _tool_step("in_progress")),
            _sse("thread.run.step.in_progress", _tool_step("in_progress")),
            _sse("thread.run.requires_action", _run("requires_action", required_action=action)),
            _sse("done", "[DONE]"),
        ]
    )


def answer(n: int, *, continuation: bool) -> bytes:
    """An ``n``-delta answer: a whole run, or the continuation after the tool round."""
    head = [_sse("thread.run.created", _run("queued"))] if not continuation else []
    head += [
        _sse("thread.run.queued", _run("queued")),
        _sse("thread.run.in_progress", _run("in_progress")),
        _sse("thread.run.step.created", _step("in_progress")),
        _sse("thread.run.step.in_progress", _step("in_progress")),
        _sse("thread.message.created", _message("in_progress", None)),
        _sse("thread.message.in_progress", _message("in_progress", None)),
    ]
    deltas = b"".join(delta(WORDS[i % len(WORDS)], i == 0) for i in range(n))
    return b"".join(head) + deltas + epilogue(expected_text(n))


def event_count(body: bytes) -> int:
    """Events in a body (``done`` excluded)."""
    return body.count(b"\n\nevent: ") + 1 - body.count(b"event: done\n")


# -- the server ---------------------------------------------------------------------


def make_app(sizes: list[int]) -> web.Application:
    """The app: the variant is named by the ``x-bench`` header (``plain-N`` / ``tools-N``)."""
    bodies: dict[str, bytes] = {}
    for n in sizes:
        bodies[f"plain-{n}"] = answer(n, continuation=False)
        bodies[f"tools-{n}"] = first_segment()
        bodies[f"tools-{n}-continued"] = answer(n, continuation=True)

    async def send(request: web.Request, body: bytes) -> web.StreamResponse:
        await request.read()
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for i in range(0, len(body), WRITE_SIZE):
            await response.write(body[i : i + WRITE_SIZE])
        await response.write_eof()
        return response

    async def create(request: web.Request) -> web.StreamResponse:
        return await send(request, bodies[request.headers["x-bench"]])

    async def submit(request: web.Request) -> web.StreamResponse:
        return await send(request, bodies[request.headers["x-bench"] + "-continued"])

    app = web.Application()
    app.router.add_post("/v1/threads/{thread}/runs", create)
    app.router.add_post("/v1/threads/{thread}/runs/{run}/submit_tool_outputs", submit)
    return app


def _server_process(conn: Connection, sizes: list[int]) -> None:
    """Entry point of the server process: serve until the parent says stop."""

    async def serve() -> None:
        runner = web.AppRunner(make_app(sizes), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        server: Any = site._server
        conn.send(server.sockets[0].getsockname()[1])
        try:
            await asyncio.get_running_loop().run_in_executor(None, conn.recv)
        finally:
            await runner.cleanup()

    asyncio.run(serve())


class ServerProcess:
    """The server in a child process (spawned, so nothing is inherited)."""

    def __init__(self, sizes: list[int]) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._process = ctx.Process(target=_server_process, args=(child, sizes), daemon=True)
        self._process.start()
        if not self._conn.poll(120):
            self._process.kill()
            raise SystemExit("the benchmark server did not start")
        self.port: int = self._conn.recv()

    def close(self) -> None:
        self._conn.send("stop")
        self._process.join(10)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()


# -- the client -----------------------------------------------------------------------


class Counter(streamrun.AsyncEventHandler):
    """Counts text fragments and tool outputs."""

    def __init__(self) -> None:
        self.deltas = 0
        self.outputs = 0

    async def on_text_delta(self, delta: streamrun.TextDelta, snapshot: streamrun.Text) -> None:
        self.deltas += 1

    async def on_tool_output(self, tool_call: streamrun.ToolCall, output: str) -> None:
        self.outputs += 1


async def read_one(client: streamrun.AsyncClient, kind: str, n: int) -> float:
    """Seconds to read one whole stream (the tool round included for ``tools``)."""
    handler = Counter()
    extra: dict[str, Any] = {"functions": [get_weather]} if kind == "tools" else {}
    start = time.perf_counter()
    async with client.runs.stream(
        THREAD_BULK,
        assistant_id=ASSISTANT,
        handler=handler,
        extra_headers={"x-bench": f"{kind}-{n}"},
        **extra,
    ) as stream:
        await stream.until_done()
        messages = await stream.final_messages()
    elapsed = time.perf_counter() - start
    if handler.deltas != n or messages[-1].text != expected_text(n):
        raise SystemExit(f"{kind}-{n}: wrong result ({handler.deltas} deltas)")
    if kind == "tools" and (handler.outputs != 1 or (await stream.final_run()).id != RUN):
        raise SystemExit(f"{kind}-{n}: the tool round did not run")
    return elapsed


async def bench(args: argparse.Namespace, port: int) -> dict[str, Any]:
    small, large = args.small, args.large
    plain_events = {n: event_count(answer(n, continuation=False)) for n in (small, large)}
    cont_events = {n: event_count(answer(n, continuation=True)) for n in (small, large)}
    times: dict[tuple[str, int], list[float]] = {
        (k, n): [] for k in ("plain", "tools") for n in (small, large)
    }
    async with streamrun.AsyncClient(
        api_key="sk-bench", base_url=f"http://127.0.0.1:{port}/v1", max_retries=0
    ) as client:
        for kind in ("plain", "tools"):  # warm up
            await read_one(client, kind, small)
        for _ in range(args.rounds):
            for n in (small, large):
                for kind in ("plain", "tools"):
                    times[(kind, n)].append(await read_one(client, kind, n))
    med = {key: _common.median(values) for key, values in times.items()}
    plain_us = (med[("plain", large)] - med[("plain", small)]) / (
        plain_events[large] - plain_events[small]
    )
    cont_us = (med[("tools", large)] - med[("tools", small)]) / (
        cont_events[large] - cont_events[small]
    )
    plain_us *= 1e6
    cont_us *= 1e6
    ratio = cont_us / plain_us
    round_ms = (med[("tools", small)] - med[("plain", small)]) * 1e3
    rows = [
        ["plain stream", f"{plain_us:.2f}", f"{med[('plain', small)] * 1e3:.1f}",
         f"{med[('plain', large)] * 1e3:.1f}"],
        ["continuation after a tool round", f"{cont_us:.2f}", f"{med[('tools', small)] * 1e3:.1f}",
         f"{med[('tools', large)] * 1e3:.1f}"],
    ]  # fmt: skip
    print()
    print(
        _common.table(["stream", "µs/event (slope)", f"ms @ {small}", f"ms @ {large}"], rows),
        flush=True,
    )
    ok = ratio <= TARGET_RATIO
    print(
        f"\ncontinuation / plain µs/event: {ratio:.3f}x (target ≤ {TARGET_RATIO}x) "
        f"{_common.verdict(ok)}; a tool round's fixed cost: {round_ms:.2f} ms "
        "(one more request and response, the function, the first segment)",
        flush=True,
    )
    return {
        "benchmark": "bench_tool_loop",
        "machine": _common.machine(),
        "small": small,
        "large": large,
        "rounds": args.rounds,
        "plain_us_per_event": plain_us,
        "continuation_us_per_event": cont_us,
        "tool_round_fixed_ms": round_ms,
        "targets": [
            {
                "name": "continuation µs/event vs plain",
                "measured": f"{ratio:.3f}x",
                "target": f"≤ {TARGET_RATIO}x",
                "ratio": round(ratio, 3),
                "pass": ok,
            }
        ],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--small", type=int, default=2_000, help="deltas of the small run (2000)")
    parser.add_argument("--large", type=int, default=20_000, help="deltas of the large run (20000)")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (7)")
    parser.add_argument("--quick", action="store_true", help="500 and 5000 deltas, 3 rounds")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    if args.quick:
        args.small, args.large, args.rounds = 500, 5_000, 3
    warnings.simplefilter("ignore", DeprecationWarning)
    print(f"{_common.machine()}; {_common.versions()}", flush=True)
    server = ServerProcess([args.small, args.large])
    try:
        results = asyncio.run(bench(args, server.port))
    finally:
        server.close()
    _common.write_json(args.json, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
