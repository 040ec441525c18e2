"""End to end over loopback: the official SDK, streamrun and a raw floor on one server.

A local aiohttp server (in a separate process, so its CPU time is not
counted) answers ``POST /v1/threads/{thread}/runs`` with a run stream:

* ``thread_bulk``: a prebuilt 10k-delta run (run.created / queued /
  in_progress, step.created / in_progress, message.created / in_progress,
  ``--deltas`` ``thread.message.delta`` events with word-sized fragments,
  message.completed, step.completed, run.completed, done), written in 64 KiB
  pieces as fast as the socket takes them;
* ``thread_paced``: the same shape with ``--latency-deltas`` deltas sent one
  by one ``--pace`` ms apart, each fragment being the send time
  (``time.monotonic_ns()``) in decimal.

Clients, measured in interleaved rounds (medians):

(a) openai: ``AsyncOpenAI(...).beta.threads.runs.stream(..., event_handler=H)``,
    H overriding ``on_text_delta``, then ``get_final_messages()``;
(b) streamrun: ``client.runs.stream(..., handler=H)``, H overriding
    ``on_text_delta``, then ``final_messages()``;
(c) raw: aiohttp + split on ``b"\\n\\n"`` + ``json.loads`` (the floor).

Throughput: wall time (``perf_counter``) and CPU time (``process_time``) of
one whole stream, events/s. Latency: for each paced delta, the time from its
send to the client's ``on_text_delta`` (the raw client: to its parse). Both
processes read CLOCK_MONOTONIC, which is system-wide on Linux; elsewhere use
``--latency-server thread`` (the server on a thread of this process, with its
own event loop). The added latency of a client is its p50 minus the raw p50.

Run: ``.venv/bin/python benchmarks/bench_e2e.py [--quick] [--json FILE]``.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import multiprocessing
import sys
import threading
import time
import warnings
from collections.abc import Awaitable, Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common
import aiohttp
from aiohttp import web

import streamrun

THREAD_BULK = "thread_bulk"
THREAD_PACED = "thread_paced"
ASSISTANT = "asst_bench"
RUN = "run_bench"
STEP = "step_bench"
MESSAGE = "msg_bench"
WORDS = ["The", " quick", " brown", " fox", " jumps", " over", " the", " lazy", " dog", "."]
WRITE_SIZE = 64 * 1024

TARGET_RATIO = 10.0  # SDK time / streamrun time, at least (aim: 20)
TARGET_ADDED_MS = 0.1  # streamrun p50 - raw p50, at most


# -- the stream -----------------------------------------------------------------


def _run(status: str, **fields: Any) -> dict[str, Any]:
    run: dict[str, Any] = {
        "id": RUN,
        "object": "thread.run",
        "created_at": 1749219760,
        "assistant_id": ASSISTANT,
        "thread_id": THREAD_BULK,
        "status": status,
        "started_at": None if status == "queued" else 1749219761,
        "expires_at": 1749220360,
        "cancelled_at": None,
        "failed_at": None,
        "completed_at": None,
        "required_action": None,
        "last_error": None,
        "model": "gpt-4o-2024-08-06",
        "instructions": "You are a helpful assistant.",
        "tools": [],
        "metadata": {},
        "temperature": 1.0,
        "top_p": 1.0,
        "max_completion_tokens": None,
        "max_prompt_tokens": None,
        "truncation_strategy": {"type": "auto", "last_messages": None},
        "incomplete_details": None,
        "usage": None,
        "response_format": "auto",
        "tool_choice": "auto",
        "parallel_tool_calls": True,
    }
    run.update(fields)
    return run


def _step(status: str, **fields: Any) -> dict[str, Any]:
    step: dict[str, Any] = {
        "id": STEP,
        "object": "thread.run.step",
        "created_at": 1749219761,
        "run_id": RUN,
        "assistant_id": ASSISTANT,
        "thread_id": THREAD_BULK,
        "type": "message_creation",
        "status": status,
        "cancelled_at": None,
        "completed_at": None,
        "expires_at": 1749220360,
        "failed_at": None,
        "last_error": None,
        "step_details": {"type": "message_creation", "message_creation": {"message_id": MESSAGE}},
        "usage": None,
    }
    step.update(fields)
    return step


def _message(status: str, text: str | None) -> dict[str, Any]:
    content = [] if text is None else [{"type": "text", "text": {"value": text, "annotations": []}}]
    return {
        "id": MESSAGE,
        "object": "thread.message",
        "created_at": 1749219762,
        "assistant_id": ASSISTANT,
        "thread_id": THREAD_BULK,
        "run_id": RUN,
        "status": status,
        "incomplete_details": None,
        "incomplete_at": None,
        "completed_at": None if text is None else 1749219763,
        "role": "assistant",
        "content": content,
        "attachments": [],
        "metadata": {},
    }


def _sse(event: str, data: Any) -> bytes:
    text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    return f"event: {event}\ndata: {text}\n\n".encode()


def prologue() -> bytes:
    """The events before the first delta."""
    return b"".join(
        [
            _sse("thread.run.created", _run("queued")),
            _sse("thread.run.queued", _run("queued")),
            _sse("thread.run.in_progress", _run("in_progress")),
            _sse("thread.run.step.created", _step("in_progress")),
            _sse("thread.run.step.in_progress", _step("in_progress")),
            _sse("thread.message.created", _message("in_progress", None)),
            _sse("thread.message.in_progress", _message("in_progress", None)),
        ]
    )


def delta(value: str, first: bool) -> bytes:
    """One ``thread.message.delta`` (the first carries ``annotations: []``)."""
    text: dict[str, Any] = {"value": value}
    if first:
        text["annotations"] = []
    data = {
        "id": MESSAGE,
        "object": "thread.message.delta",
        "delta": {"content": [{"index": 0, "type": "text", "text": text}]},
    }
    return _sse("thread.message.delta", data)


def epilogue(text: str) -> bytes:
    """The events after the last delta, ``done`` included."""
    usage = {"prompt_tokens": 900, "completion_tokens": 120, "total_tokens": 1020}
    return b"".join(
        [
            _sse("thread.message.completed", _message("completed", text)),
            _sse(
                "thread.run.step.completed",
                _step("completed", completed_at=1749219763, expires_at=None, usage=usage),
            ),
            _sse(
                "thread.run.completed",
                _run("completed", completed_at=1749219764, expires_at=None, usage=usage),
            ),
            _sse("done", "[DONE]"),
        ]
    )


def expected_text(n: int) -> str:
    return "".join(WORDS[i % len(WORDS)] for i in range(n))


def bulk_body(n: int) -> bytes:
    """The whole ``n``-delta run stream."""
    deltas = b"".join(delta(WORDS[i % len(WORDS)], i == 0) for i in range(n))
    return prologue() + deltas + epilogue(expected_text(n))


# -- the server ---------------------------------------------------------------------


def make_app(n_bulk: int, n_paced: int, pace: float) -> web.Application:
    """The aiohttp app serving both streams (by thread id)."""
    body = bulk_body(n_bulk)

    async def handle(request: web.Request) -> web.StreamResponse:
        await request.read()
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        if request.match_info["thread"] == THREAD_PACED:
            await response.write(prologue())
            values = []
            for i in range(n_paced):
                await asyncio.sleep(pace)
                value = f"{time.monotonic_ns()} "
                values.append(value)
                await response.write(delta(value, i == 0))
            await response.write(epilogue("".join(values)))
        else:
            for i in range(0, len(body), WRITE_SIZE):
                await response.write(body[i : i + WRITE_SIZE])
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_post("/v1/threads/{thread}/runs", handle)
    return app


async def _serve(app: web.Application, started: Callable[[int], None], stop: Any) -> None:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server: Any = site._server
    started(server.sockets[0].getsockname()[1])
    try:
        await stop()
    finally:
        await runner.cleanup()


def _server_process(conn: Connection, n_bulk: int, n_paced: int, pace: float) -> None:
    """Entry point of the server process: serve until the parent says stop."""
    loop = asyncio.new_event_loop()

    async def wait_stop() -> None:
        await loop.run_in_executor(None, conn.recv)

    loop.run_until_complete(_serve(make_app(n_bulk, n_paced, pace), conn.send, wait_stop))
    loop.close()


class ServerProcess:
    """The server in a child process (spawned, so nothing is inherited)."""

    def __init__(self, n_bulk: int, n_paced: int, pace: float) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._process = ctx.Process(
            target=_server_process, args=(child, n_bulk, n_paced, pace), daemon=True
        )
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


class ServerThread:
    """The server on a thread of this process, with its own event loop."""

    def __init__(self, n_bulk: int, n_paced: int, pace: float) -> None:
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._stop = asyncio.Event()
        self.port = 0

        def started(port: int) -> None:
            self.port = port
            self._ready.set()

        async def main() -> None:
            await _serve(make_app(n_bulk, n_paced, pace), started, self._stop.wait)

        self._thread = threading.Thread(
            target=self._loop.run_until_complete, args=(main(),), daemon=True
        )
        self._thread.start()
        if not self._ready.wait(60):
            raise SystemExit("the benchmark server thread did not start")

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


# -- the clients ------------------------------------------------------------------


class Sink:
    """What a handler does with a text fragment: count it, or time it."""

    def __init__(self, latency: bool) -> None:
        self.count = 0
        self.latencies: list[int] = []
        self.latency = latency

    def __call__(self, value: str | None) -> None:
        if self.latency:
            self.latencies.append(time.monotonic_ns() - int(value or "0"))
        else:
            self.count += 1


def sdk_handler(sink: Sink) -> Any:
    from openai.lib.streaming import AsyncAssistantEventHandler

    class Handler(AsyncAssistantEventHandler):
        async def on_text_delta(self, delta: Any, snapshot: Any) -> None:
            sink(delta.value)

    return Handler()


class OurHandler(streamrun.AsyncEventHandler):
    """streamrun's handler: only ``on_text_delta``."""

    def __init__(self, sink: Sink) -> None:
        self.sink = sink

    async def on_text_delta(self, delta: streamrun.TextDelta, snapshot: streamrun.Text) -> None:
        self.sink(delta.value)


def _text_of(messages: list[Any]) -> str:
    return "".join(p.text.value for m in messages for p in m.content if p.type == "text")


class Clients:
    """One long-lived client per library (connection pools warm), as an app has."""

    def __init__(self, port: int) -> None:
        self.base_url = f"http://127.0.0.1:{port}/v1"
        self.session = aiohttp.ClientSession()
        self.ours = streamrun.AsyncClient(base_url=self.base_url, api_key="sk-bench")
        self.sdk: Any = None
        if importlib.util.find_spec("openai") is not None:
            import openai

            self.sdk = openai.AsyncOpenAI(base_url=self.base_url, api_key="sk-bench")

    async def close(self) -> None:
        await self.session.close()
        await self.ours.aclose()
        if self.sdk is not None:
            await self.sdk.close()

    async def run_sdk(self, thread: str, sink: Sink) -> str:
        handler = sdk_handler(sink)
        async with self.sdk.beta.threads.runs.stream(
            thread_id=thread, assistant_id=ASSISTANT, event_handler=handler
        ) as stream:
            return _text_of(await stream.get_final_messages())

    async def run_ours(self, thread: str, sink: Sink) -> str:
        async with self.ours.runs.stream(
            thread, assistant_id=ASSISTANT, handler=OurHandler(sink)
        ) as stream:
            return _text_of(await stream.final_messages())

    async def run_raw(self, thread: str, sink: Sink) -> str:
        loads = json.loads
        text = ""
        url = f"{self.base_url}/threads/{thread}/runs"
        async with self.session.post(url, json={"assistant_id": ASSISTANT, "stream": True}) as r:
            buf = b""
            async for chunk in r.content.iter_any():
                buf += chunk
                *blocks, buf = buf.split(b"\n\n")
                for block in blocks:
                    nl = block.find(b"\n")
                    event = block[7:nl]
                    data = block[nl + 7 :]
                    if data == b"[DONE]":
                        continue
                    obj = loads(data)
                    if event == b"thread.message.delta":
                        sink(obj["delta"]["content"][0]["text"]["value"])
                    elif event == b"thread.message.completed":
                        text = obj["content"][0]["text"]["value"]
        return text


Runner = Callable[[str, Sink], Awaitable[str]]


# -- main -----------------------------------------------------------------------------


async def bench(args: argparse.Namespace, port: int, latency_port: int) -> dict[str, Any]:
    clients = Clients(port)
    latency_clients = clients if latency_port == port else Clients(latency_port)
    try:
        return await _bench(args, clients, latency_clients)
    finally:
        await clients.close()
        if latency_clients is not clients:
            await latency_clients.close()


async def _bench(args: argparse.Namespace, clients: Clients, lat: Clients) -> dict[str, Any]:
    names = ["openai", "streamrun", "raw"]
    throughput: dict[str, tuple[Runner, Runner]] = {
        "openai": (clients.run_sdk, lat.run_sdk),
        "streamrun": (clients.run_ours, lat.run_ours),
        "raw": (clients.run_raw, lat.run_raw),
    }
    if clients.sdk is None:
        names.remove("openai")
        print("openai is not installed: its rows are skipped")
    n_events = bulk_body(args.deltas).count(b"\n\n") - 1  # without done
    expected = expected_text(args.deltas)

    # Warm up: connections, imports, first-use caches.
    for name in names:
        await throughput[name][0](THREAD_BULK, Sink(latency=False))

    wall: dict[str, list[float]] = {n: [] for n in names}
    cpu: dict[str, list[float]] = {n: [] for n in names}
    for r in range(args.rounds):
        print(f"throughput round {r + 1}/{args.rounds}", flush=True)
        for name in names:
            sink = Sink(latency=False)
            w0, c0 = time.perf_counter(), time.process_time()
            text = await throughput[name][0](THREAD_BULK, sink)
            w1, c1 = time.perf_counter(), time.process_time()
            if sink.count != args.deltas or text != expected:
                raise SystemExit(f"{name}: {sink.count} deltas, text ok: {text == expected}")
            wall[name].append(w1 - w0)
            cpu[name].append(c1 - c0)

    p50: dict[str, list[float]] = {n: [] for n in names}
    p99: dict[str, list[float]] = {n: [] for n in names}
    for r in range(args.latency_rounds):
        print(f"latency round {r + 1}/{args.latency_rounds}", flush=True)
        for name in names:
            sink = Sink(latency=True)
            await throughput[name][1](THREAD_PACED, sink)
            if len(sink.latencies) != args.latency_deltas:
                raise SystemExit(f"{name}: {len(sink.latencies)} paced deltas")
            ms = [x / 1e6 for x in sink.latencies]
            p50[name].append(_common.percentile(ms, 50))
            p99[name].append(_common.percentile(ms, 99))

    med_wall = {n: _common.median(v) for n, v in wall.items()}
    med_cpu = {n: _common.median(v) for n, v in cpu.items()}
    med_p50 = {n: _common.median(v) for n, v in p50.items()}
    med_p99 = {n: _common.median(v) for n, v in p99.items()}

    print()
    print(
        f"throughput: {args.deltas} deltas ({n_events} events), median of {args.rounds} "
        "interleaved rounds"
    )
    rows = [
        (
            name,
            f"{med_wall[name] * 1e3:.1f}",
            f"{med_cpu[name] * 1e3:.1f}",
            f"{n_events / med_wall[name]:,.0f}",
            f"{med_cpu[name] / n_events * 1e6:.1f}",
        )
        for name in names
    ]
    print(_common.table(["client", "wall ms", "CPU ms", "events/s", "CPU µs/event"], rows))
    print()
    print(
        f"latency: {args.latency_deltas} deltas {args.pace * 1e3:g} ms apart, "
        f"median over {args.latency_rounds} rounds of each round's percentiles"
    )
    base = med_p50["raw"]
    latency_rows = [
        (
            name,
            f"{med_p50[name]:.3f}",
            f"{med_p99[name]:.3f}",
            f"{med_p50[name] - base:+.3f}",
        )
        for name in names
    ]
    print(_common.table(["client", "p50 ms", "p99 ms", "added p50 ms"], latency_rows))

    checks: list[tuple[str, str, str, bool]] = []
    if "openai" in names:
        for label, med in (("wall", med_wall), ("CPU", med_cpu)):
            ratio = med["openai"] / med["streamrun"]
            checks.append(
                (
                    f"openai / streamrun {label} time",
                    f"{ratio:.1f}x",
                    f">= {TARGET_RATIO:g}x",
                    ratio >= TARGET_RATIO,
                )
            )
    added = med_p50["streamrun"] - base
    checks.append(
        (
            "streamrun added latency (p50)",
            f"{added:.3f} ms",
            f"<= {TARGET_ADDED_MS:g} ms",
            added <= TARGET_ADDED_MS,
        )
    )
    if "openai" in names:
        checks.append(
            (
                "openai added latency (p50), for reference",
                f"{med_p50['openai'] - base:.3f} ms",
                "-",
                True,
            )
        )
    print()
    print(
        _common.table(
            ["target", "measured", "target", "result"],
            [(n, v, t, _common.verdict(ok) if t != "-" else "") for n, v, t, ok in checks],
        )
    )
    return {
        "deltas": args.deltas,
        "events": n_events,
        "rounds": args.rounds,
        "wall_ms": {n: round(v * 1e3, 2) for n, v in med_wall.items()},
        "cpu_ms": {n: round(v * 1e3, 2) for n, v in med_cpu.items()},
        "events_per_s": {n: round(n_events / v) for n, v in med_wall.items()},
        "latency_p50_ms": {n: round(v, 4) for n, v in med_p50.items()},
        "latency_p99_ms": {n: round(v, 4) for n, v in med_p99.items()},
        "targets": [
            {"name": n, "measured": v, "target": t, "pass": ok}
            for n, v, t, ok in checks
            if t != "-"
        ],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--deltas", type=int, default=10_000, help="bulk deltas (10000)")
    parser.add_argument("--rounds", type=int, default=5, help="throughput rounds (5)")
    parser.add_argument("--latency-deltas", type=int, default=2_000, help="paced deltas (2000)")
    parser.add_argument("--latency-rounds", type=int, default=3, help="latency rounds (3)")
    parser.add_argument("--pace", type=float, default=1.0, help="ms between paced deltas (1)")
    parser.add_argument(
        "--latency-server",
        choices=["process", "thread"],
        default="process" if sys.platform.startswith("linux") else "thread",
        help="where the paced server runs (default: process on Linux)",
    )
    parser.add_argument("--quick", action="store_true", help="2k deltas, 3 rounds, 500 paced")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)
    if args.quick:
        args.deltas, args.rounds, args.latency_deltas, args.latency_rounds = 2_000, 3, 500, 2
    args.pace /= 1e3
    warnings.simplefilter("ignore", DeprecationWarning)
    print(f"{_common.machine()}; {_common.versions()}", flush=True)

    server = ServerProcess(args.deltas, args.latency_deltas, args.pace)
    paced: ServerProcess | ServerThread = server
    if args.latency_server == "thread":
        paced = ServerThread(args.deltas, args.latency_deltas, args.pace)
    try:
        results = asyncio.run(bench(args, server.port, paced.port))
    finally:
        server.close()
        if paced is not server:
            paced.close()
    results["latency_server"] = args.latency_server
    _common.write_json(args.json, results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
