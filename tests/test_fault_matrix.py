"""Reliability of RunStream against the fake server's fault injection.

One realistic run (a code_interpreter step of 21 deltas, then a message with
an image part and 12 text deltas: 47 events and ``done``) is streamed under
every fault the fake server can inject: a dropped connection after each event
index, a stall past the idle timeout, 429/5xx replies before the stream,
malformed and oversized events, error events, early exits of every kind and
explicit cancellation. Each test checks the outcome's type and context, the
text received so far, the server's request log (one run created; a cancel
request exactly where the run was abandoned) and that no connection or task
is left behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

import streamrun
from streamrun import (
    APIConnectionError,
    AsyncClient,
    AsyncEventHandler,
    Event,
    EventTooLargeError,
    InternalServerError,
    ProtocolError,
    RateLimitError,
    RunStream,
    StreamError,
    StreamInterrupted,
    StreamrunError,
    StreamTimeout,
    Text,
    TextDelta,
    UnknownEvent,
)
from streamrun.testing import FakeAssistantsServer, Faults, scenarios, split_fragments

from ._hygiene import TaskWatch, close_and_check, retry_records

# -- the run under test -------------------------------------------------------

TEXT = "The sine curve peaks at 1.000; the plot is above."
TEXT_FRAGMENTS = split_fragments(TEXT)
EVENT_NAMES: list[str] = [
    "thread.run.created",
    "thread.run.queued",
    "thread.run.in_progress",
    "thread.run.step.created",
    "thread.run.step.in_progress",
    *["thread.run.step.delta"] * 21,
    "thread.run.step.completed",
    "thread.run.step.created",
    "thread.run.step.in_progress",
    "thread.message.created",
    "thread.message.in_progress",
    *["thread.message.delta"] * 13,  # the image part, then 12 text fragments
    "thread.message.completed",
    "thread.run.step.completed",
    "thread.run.completed",
]
SETTLING_INDEX = len(EVENT_NAMES) - 1  # thread.run.completed
WIRE_EVENTS = len(EVENT_NAMES) + 1  # and done
FIRST_TEXT_INDEX = EVENT_NAMES.index("thread.message.delta") + 1
MESSAGE_CREATED_INDEX = EVENT_NAMES.index("thread.message.created")
DELAY = 0.002  # seconds between two events on the server
THREAD = "thread_matrix"
ASSISTANT = "asst_matrix"


def text_after(events: int) -> str:
    """The text carried by the first ``events`` events of the run."""
    fragments = max(0, min(events - FIRST_TEXT_INDEX, len(TEXT_FRAGMENTS)))
    return "".join(TEXT_FRAGMENTS[:fragments])


class Recorder(AsyncEventHandler):
    """Records what the hooks saw; ``lifecycle`` lists the exception, timeout
    and end hooks in the order they fired."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self.texts: list[str] = []
        self.exceptions: list[Exception] = []
        self.lifecycle: list[str] = []

    async def on_event(self, event: Event) -> None:
        self.events.append(event.event)

    async def on_text_delta(self, delta: TextDelta, snapshot: Text) -> None:
        self.texts.append(delta.value or "")

    async def on_exception(self, exception: Exception) -> None:
        self.exceptions.append(exception)
        self.lifecycle.append(type(exception).__name__)

    async def on_timeout(self) -> None:
        self.lifecycle.append("timeout")

    async def on_end(self) -> None:
        self.lifecycle.append("end")

    @property
    def text(self) -> str:
        return "".join(self.texts)


# -- fixtures -------------------------------------------------------------------


@pytest_asyncio.fixture
async def server() -> AsyncIterator[FakeAssistantsServer]:
    async with FakeAssistantsServer(
        auto_create_threads=True, scenario=scenarios.code_interpreter(), seed=11
    ) as srv:
        yield srv
        assert srv.internal_errors == []


@pytest_asyncio.fixture
async def watch() -> TaskWatch:
    return TaskWatch()


@pytest_asyncio.fixture
async def client(server: FakeAssistantsServer, watch: TaskWatch) -> AsyncIterator[AsyncClient]:
    client = AsyncClient(api_key="sk-matrix", base_url=server.base_url)
    yield client
    await close_and_check(client)


def open_stream(
    client: AsyncClient, handler: AsyncEventHandler | None = None, **options: Any
) -> RunStream:
    return client.runs.stream(THREAD, assistant_id=ASSISTANT, handler=handler, **options)


def run_posts(server: FakeAssistantsServer) -> int:
    return server.count("POST", "/threads/{thread_id}/runs")


def assert_one_run(server: FakeAssistantsServer, *, posts: int = 1) -> str:
    """Exactly one run was created (from ``posts`` create requests); its id."""
    assert server.runs_created == 1
    assert run_posts(server) == posts
    run_ids = server.run_ids()
    assert len(run_ids) == 1
    return run_ids[0]


def cancelled_runs(server: FakeAssistantsServer) -> list[str]:
    """The run ids named by the cancel requests, in order."""
    return [r.route.split("/")[4] for r in server.cancel_requests]


async def assert_cancelled(server: FakeAssistantsServer, run_id: str) -> None:
    """One cancel request, for ``run_id``, and the run ended cancelled on the server."""
    assert cancelled_runs(server) == [run_id]
    assert (await server.wait_for_run(run_id))["status"] == "cancelled"


# -- a clean run ----------------------------------------------------------------


@pytest.mark.asyncio
async def test_clean_run_baseline(
    server: FakeAssistantsServer, client: AsyncClient, watch: TaskWatch
) -> None:
    server.queue_faults(Faults(delay=DELAY))
    handler = Recorder()
    async with open_stream(client, handler) as stream:
        names = [event.event async for event in stream]
        run = await stream.final_run()
    assert names == EVENT_NAMES
    assert handler.text == TEXT
    assert handler.lifecycle == ["end"]
    assert run.status == "completed"
    run_id = assert_one_run(server)
    assert run.id == run_id
    assert server.cancel_requests == []
    await watch.assert_clean(client, server)


# -- a dropped connection after every event ----------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "drop_after",
    range(WIRE_EVENTS + 1),
)
async def test_drop_after_every_event(
    drop_after: int, server: FakeAssistantsServer, client: AsyncClient, watch: TaskWatch
) -> None:
    server.queue_faults(Faults(drop_after=drop_after, delay=DELAY))
    handler = Recorder()
    seen: list[str] = []
    error: StreamInterrupted | None = None
    async with open_stream(client, handler) as stream:
        try:
            async for event in stream:
                seen.append(event.event)
        except StreamInterrupted as exc:
            error = exc
    run_id = assert_one_run(server)
    received = min(drop_after, len(EVENT_NAMES))
    assert seen == EVENT_NAMES[:received] == handler.events
    # Everything received is kept: the text so far is a prefix of the answer.
    assert handler.text == text_after(received)
    assert TEXT.startswith(handler.text)
    snapshot = stream.current_message_snapshot
    if received > MESSAGE_CREATED_INDEX:
        assert snapshot is not None and snapshot.text == handler.text
    else:
        assert snapshot is None

    if drop_after > SETTLING_INDEX:
        # The run settled before the cut: a normal end.
        assert error is None
        assert stream.done and handler.lifecycle == ["end"]
        assert stream.current_run is not None
        assert stream.current_run.status == "completed"
        assert handler.text == TEXT
    else:
        assert error is not None
        assert stream.error is error and not stream.done
        assert handler.exceptions == [error]
        assert handler.lifecycle == ["StreamInterrupted", "end"]
        with pytest.raises(StreamInterrupted) as again:
            await stream.final_run()
        assert again.value is error
        if received == 0:
            # No event named the run: there is nothing to recover from.
            assert error.run_id is None and error.last_event is None
            assert stream.current_run is None
            with pytest.raises(StreamrunError, match="cannot recover"):
                await stream.recover(poll_interval=0.01)
        else:
            assert error.run_id == run_id
            assert error.last_event is not None
            assert error.last_event.event == EVENT_NAMES[received - 1]
            assert stream.current_run is not None and stream.current_run.id == run_id
            if received > 3:
                assert stream.current_run_step_snapshot is not None
            recovered = await stream.recover(poll_interval=0.01)
            assert recovered.run.id == run_id
            assert recovered.run.status == "completed"
            assert [m.role for m in recovered.messages] == ["assistant"]
            assert recovered.text == TEXT
            assert recovered.messages[0].text == TEXT
    # Recovering never creates a second run, and a cut stream is not cancelled.
    assert_one_run(server)
    assert server.cancel_requests == []
    assert (await server.wait_for_run(run_id))["status"] == "completed"
    await watch.assert_clean(client, server)


# -- stalls and timeouts --------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize("configured_on", ["client", "call"])
async def test_stall_longer_than_idle_timeout(
    configured_on: str, server: FakeAssistantsServer, watch: TaskWatch
) -> None:
    # The run goes on at its own pace while the connection stalls: slow enough
    # (about a second) to be still in progress when the timeout fires.
    server.queue_faults(Faults(stall_after=10, stall_seconds=30.0, delay=0.02))
    if configured_on == "client":
        client = AsyncClient(api_key="sk-matrix", base_url=server.base_url, idle_timeout=0.2)
        options: dict[str, Any] = {}
    else:
        client = AsyncClient(api_key="sk-matrix", base_url=server.base_url)
        options = {"idle_timeout": 0.2}
    handler = Recorder()
    started = time.monotonic()
    with pytest.raises(StreamTimeout) as info:
        async with open_stream(client, handler, **options) as stream:
            async for _ in stream:
                pass
    elapsed = time.monotonic() - started
    assert elapsed < 10.0  # the timeout fired, long before the stall ended
    error = info.value
    assert isinstance(error, TimeoutError)
    assert error.kind == "idle" and error.seconds == 0.2
    run_id = assert_one_run(server)
    assert error.run_id == run_id
    assert error.last_event is not None and error.last_event.event == EVENT_NAMES[9]
    assert handler.events == EVENT_NAMES[:10]
    assert handler.exceptions == [error]
    assert handler.lifecycle == ["timeout", "StreamTimeout", "end"]
    assert stream.current_run is not None and stream.current_run.id == run_id
    # Abandoned mid-run: cancelled on the server.
    await assert_cancelled(server, run_id)
    await watch.assert_clean(client, server)
    await close_and_check(client)


@pytest.mark.asyncio
async def test_total_timeout(
    server: FakeAssistantsServer, client: AsyncClient, watch: TaskWatch
) -> None:
    server.queue_faults(Faults(delay=0.02))  # about a second for the whole run
    handler = Recorder()
    with pytest.raises(StreamTimeout) as info:
        async with open_stream(client, handler, total_timeout=0.3) as stream:
            async for _ in stream:
                pass
    error = info.value
    assert error.kind == "total" and error.seconds == 0.3
    run_id = assert_one_run(server)
    assert error.run_id == run_id and error.last_event is not None
    assert 0 < len(handler.events) < len(EVENT_NAMES)
    assert handler.exceptions == [error]
    assert handler.lifecycle == ["timeout", "StreamTimeout", "end"]
    assert TEXT.startswith(handler.text)
    assert stream.current_run is not None
    await assert_cancelled(server, run_id)
    await watch.assert_clean(client, server)


@pytest.mark.asyncio
async def test_stall_before_the_first_event(
    server: FakeAssistantsServer, client: AsyncClient, watch: TaskWatch
) -> None:
    """A timeout before any event named the run: it cannot be cancelled (no run id)."""
    server.queue_faults(Faults(stall_after=0, stall_seconds=30.0, delay=DELAY))
    handler = Recorder()
    with pytest.raises(StreamTimeout) as info:
        async with open_stream(client, handler, idle_timeout=0.2) as stream:
            async for _ in stream:
                pass
    assert info.value.kind == "idle"
    assert info.value.run_id is None and info.value.last_event is None
    assert handler.lifecycle == ["timeout", "StreamTimeout", "end"] and handler.events == []
    assert stream.current_run is None
    run_id = assert_one_run(server)
    assert server.cancel_requests == []
    assert (await server.wait_for_run(run_id))["status"] == "completed"
    await watch.assert_clean(client, server)


# -- retries --------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize("status", [429, 500, 503])  # 502/504: not retried on run-creating POSTs
async def test_retryable_status_then_success(
    status: int,
    server: FakeAssistantsServer,
    client: AsyncClient,
    watch: TaskWatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="streamrun")
    server.queue_faults(Faults(error_status=status, error_count=2, retry_after=0.05, delay=DELAY))
    handler = Recorder()
    started = time.monotonic()
    async with open_stream(client, handler) as stream:
        opened = time.monotonic() - started
        await stream.until_done()
    assert handler.text == TEXT and handler.lifecycle == ["end"]
    # Two error replies, then the run: one run created from three requests.
    assert_one_run(server, posts=3)
    assert server.cancel_requests == []
    retries = retry_records(caplog.records)
    assert len(retries) == 2
    for n, record in enumerate(retries, start=1):
        message = record.getMessage()
        assert f"after HTTP {status}" in message
        assert "in 0.05s" in message  # the server's Retry-After, not the backoff
        assert f"retry {n} of 2" in message
    assert opened >= 0.09  # two waits of 0.05 s (loosely)
    await watch.assert_clean(client, server)


@pytest.mark.asyncio
async def test_backoff_with_jitter_without_retry_after(
    server: FakeAssistantsServer,
    client: AsyncClient,
    watch: TaskWatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="streamrun")
    server.queue_faults(Faults(error_status=503, error_count=2))
    started = time.monotonic()
    async with open_stream(client) as stream:
        opened = time.monotonic() - started
        await stream.until_done()
    assert_one_run(server, posts=3)
    delays = [
        float(r.getMessage().split(" in ")[1].split("s ")[0]) for r in retry_records(caplog.records)
    ]
    # Exponential with full jitter: base 0.5 s, retry n waits in [base*2**n / 2, base*2**n].
    assert len(delays) == 2
    assert 0.25 <= delays[0] <= 0.5
    assert 0.5 <= delays[1] <= 1.0
    assert opened >= sum(delays) - 0.05
    await watch.assert_clean(client, server)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (429, RateLimitError),
        (500, InternalServerError),
        (502, InternalServerError),
        (503, InternalServerError),
        (504, InternalServerError),
    ],
)
async def test_retries_exhausted(
    status: int,
    error_type: type[streamrun.APIStatusError],
    server: FakeAssistantsServer,
    client: AsyncClient,
    watch: TaskWatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="streamrun")
    server.faults = Faults(error_status=status, error_count=100, retry_after=0.01)
    with pytest.raises(error_type) as info:
        async with open_stream(client):
            pytest.fail("the stream must not open")
    assert info.value.status == status
    assert info.value.type is not None
    assert info.value.headers.get("retry-after-ms") == "10"
    # 502/504 may come from a gateway after the run was created: a run-creating
    # POST is sent once (Part 5 §5); 429/500/503 are retried.
    gateway = status in (502, 504)
    assert run_posts(server) == (1 if gateway else client.max_retries + 1)
    assert server.runs_created == 0 and server.run_ids() == []
    assert len(retry_records(caplog.records)) == (0 if gateway else 2)
    assert server.cancel_requests == []
    await watch.assert_clean(client, server)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("client_retries", "call_retries", "errors", "posts", "succeeds"),
    [
        (2, 0, 1, 1, False),  # per call: no retry at all
        (0, None, 1, 1, False),  # the client's default applies
        (0, 3, 3, 4, True),  # per call: more than the client's
        (5, 1, 2, 2, False),  # per call: fewer than the client's
    ],
)
async def test_per_call_max_retries(
    client_retries: int,
    call_retries: int | None,
    errors: int,
    posts: int,
    succeeds: bool,
    server: FakeAssistantsServer,
    watch: TaskWatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="streamrun")
    client = AsyncClient(api_key="sk-matrix", base_url=server.base_url, max_retries=client_retries)
    server.queue_faults(Faults(error_status=503, error_count=errors, retry_after=0.01))
    options = {} if call_retries is None else {"max_retries": call_retries}
    handler = Recorder()
    if succeeds:
        async with open_stream(client, handler, **options) as stream:
            await stream.until_done()
        assert handler.text == TEXT
        assert server.runs_created == 1
    else:
        with pytest.raises(InternalServerError):
            async with open_stream(client, handler, **options):
                pytest.fail("the stream must not open")
        assert server.runs_created == 0
    assert run_posts(server) == posts
    assert len(retry_records(caplog.records)) == posts - 1
    await watch.assert_clean(client, server)
    await close_and_check(client)


@pytest.mark.asyncio
async def test_status_error_carries_the_request_id(
    server: FakeAssistantsServer, client: AsyncClient, watch: TaskWatch
) -> None:
    server.queue_faults(Faults(error_status=429, error_count=10, retry_after=0.01))
    try:
        with pytest.raises(RateLimitError) as info:
            async with open_stream(client, max_retries=0):
                pytest.fail("the stream must not open")
    finally:
        await watch.assert_clean(client, server)
    rid = server.requests[-1].request_id
    assert info.value.request_id == rid


@pytest.mark.asyncio
@pytest.mark.parametrize("status", [400, 401, 404, 409, 422])
async def test_other_statuses_are_not_retried(
    status: int,
    server: FakeAssistantsServer,
    client: AsyncClient,
    watch: TaskWatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="streamrun")
    server.queue_faults(Faults(error_status=status, retry_after=0.01))
    with pytest.raises(streamrun.APIStatusError) as info:
        async with open_stream(client):
            pytest.fail("the stream must not open")
    assert info.value.status == status
    assert type(info.value) is streamrun._exceptions.status_error_class(status)
    assert run_posts(server) == 1 and server.runs_created == 0
    assert retry_records(caplog.records) == []
    await watch.assert_clean(client, server)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.mark.asyncio
async def test_connection_refused_is_retried_then_raises(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="streamrun")
    watch = TaskWatch()
    client = AsyncClient(api_key="sk-matrix", base_url=f"http://127.0.0.1:{_free_port()}/v1")
    started = time.monotonic()
    with pytest.raises(APIConnectionError, match="cannot connect"):
        async with open_stream(client):
            pytest.fail("the stream must not open")
    elapsed = time.monotonic() - started
    retries = retry_records(caplog.records)
    assert len(retries) == 2
    assert all("connection failure" in r.getMessage() for r in retries)
    delays = [float(r.getMessage().split(" in ")[1].split("s ")[0]) for r in retries]
    assert 0.25 <= delays[0] <= 0.5 and 0.5 <= delays[1] <= 1.0
    assert elapsed >= sum(delays) - 0.05
    # Per call: no retry.
    caplog.clear()
    with pytest.raises(APIConnectionError):
        async with open_stream(client, max_retries=0):
            pytest.fail("the stream must not open")
    assert retry_records(caplog.records) == []
    await watch.assert_clean(client)
    await close_and_check(client)


@pytest.mark.asyncio
@pytest.mark.parametrize("configured_on", ["client", "call"])
async def test_connect_timeout_is_retried_then_raises(
    configured_on: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A listener whose accept queue is full: connection attempts hang."""
    caplog.set_level(logging.INFO, logger="streamrun")
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    fillers: list[socket.socket] = []
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        for _ in range(8):
            filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            filler.setblocking(False)
            try:
                filler.connect(("127.0.0.1", port))
            except BlockingIOError:
                pass
            fillers.append(filler)
        watch = TaskWatch()
        base_url = f"http://127.0.0.1:{port}/v1"
        if configured_on == "client":
            client = AsyncClient(
                api_key="sk-matrix", base_url=base_url, connect_timeout=0.1, max_retries=1
            )
            options: dict[str, Any] = {}
        else:
            client = AsyncClient(api_key="sk-matrix", base_url=base_url)
            options = {"connect_timeout": 0.1, "max_retries": 1}
        handler = Recorder()
        with pytest.raises(StreamTimeout) as info:
            async with open_stream(client, handler, **options):
                pytest.fail("the stream must not open")
        assert info.value.kind == "connect" and info.value.seconds == 0.1
        assert info.value.run_id is None
        # The stream never opened: on_timeout and on_exception, no event.
        assert handler.lifecycle[:2] == ["timeout", "StreamTimeout"]
        assert handler.exceptions == [info.value] and handler.events == []
        retries = retry_records(caplog.records)
        assert len(retries) == 1
        assert "ConnectionTimeoutError" in retries[0].getMessage()
        await watch.assert_clean(client)
        await close_and_check(client)
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


@pytest.mark.asyncio
async def test_reset_after_the_request_was_sent_is_not_retried(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The server reads the whole request, then closes without replying."""
    caplog.set_level(logging.INFO, logger="streamrun")
    requests: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        requests.append(head + await reader.readexactly(length))
        writer.close()
        await writer.wait_closed()

    raw_server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = raw_server.sockets[0].getsockname()[1]
    watch = TaskWatch()
    client = AsyncClient(api_key="sk-matrix", base_url=f"http://127.0.0.1:{port}/v1")
    try:
        with pytest.raises(APIConnectionError, match="after the request was sent"):
            async with open_stream(client):
                pytest.fail("the stream must not open")
        assert len(requests) == 1  # the run may exist: never sent again
        assert json.loads(requests[0].split(b"\r\n\r\n", 1)[1])["assistant_id"] == ASSISTANT
        assert retry_records(caplog.records) == []
        await watch.assert_clean(client)
        await close_and_check(client)
    finally:
        raw_server.close()
        await raw_server.wait_closed()


@pytest.mark.asyncio
@pytest.mark.parametrize("drop_after", [0, 3])
async def test_submit_tool_outputs_stream_dropped_then_recovered(
    drop_after: int, server: FakeAssistantsServer, client: AsyncClient, watch: TaskWatch
) -> None:
    """The continuation stream knows its run from the start: even a cut before
    any event can be recovered."""
    server.queue_scenario(scenarios.function_call())
    async with open_stream(client) as stream:
        run = await stream.final_run()
    assert run.status == "requires_action" and run.required_action is not None
    call = run.required_action.submit_tool_outputs.tool_calls[0]
    server.queue_faults(Faults(drop_after=drop_after, delay=DELAY))
    handler = Recorder()
    with pytest.raises(StreamInterrupted) as info:
        async with client.runs.submit_tool_outputs_stream(
            THREAD,
            run.id,
            tool_outputs=[{"tool_call_id": call.id, "output": "18C"}],
            handler=handler,
        ) as continuation:
            await continuation.until_done()
    assert info.value.run_id == run.id
    assert len(handler.events) == drop_after
    assert handler.lifecycle == ["StreamInterrupted", "end"]
    recovered = await continuation.recover(poll_interval=0.01)
    assert recovered.run.status == "completed"
    assert recovered.text == scenarios.WEATHER_ANSWER
    assert server.runs_created == 1 and run_posts(server) == 1
    assert len(server.requests_to("submit_tool_outputs")) == 1
    assert server.cancel_requests == []
    await watch.assert_clean(client, server)


# -- bad input from the server --------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize("index", [2, 12, 35])
async def test_malformed_event(
    index: int, server: FakeAssistantsServer, client: AsyncClient, watch: TaskWatch
) -> None:
    server.queue_faults(Faults(malformed_at=index, delay=DELAY))
    handler = Recorder()
    with pytest.raises(ProtocolError) as info:
        async with open_stream(client, handler) as stream:
            async for _ in stream:
                pass
    error = info.value
    assert type(error) is ProtocolError
    assert error.event == EVENT_NAMES[index]
    assert error.position == index
    assert error.excerpt is not None and error.excerpt.startswith("{")
    run_id = assert_one_run(server)
    assert error.run_id == run_id
    assert error.last_event is not None and error.last_event.event == EVENT_NAMES[index - 1]
    assert handler.events == EVENT_NAMES[:index]
    assert handler.exceptions == [error]
    assert handler.lifecycle == ["ProtocolError", "end"]
    assert handler.text == text_after(index)
    assert stream.current_run is not None
    # The stream was abandoned mid-run: cancelled on the server.
    await assert_cancelled(server, run_id)
    await watch.assert_clean(client, server)


@pytest.mark.asyncio
@pytest.mark.parametrize("index", [12, 35])
async def test_oversized_event(index: int, server: FakeAssistantsServer, watch: TaskWatch) -> None:
    limit = 64 * 1024
    client = AsyncClient(api_key="sk-matrix", base_url=server.base_url, max_event_size=limit)
    server.queue_faults(Faults(oversized_at=index, oversized_bytes=200_000, delay=DELAY))
    handler = Recorder()
    with pytest.raises(EventTooLargeError) as info:
        async with open_stream(client, handler) as stream:
            async for _ in stream:
                pass
    error = info.value
    assert isinstance(error, ProtocolError)
    assert error.limit == limit and error.size > limit
    assert error.position == index
    run_id = assert_one_run(server)
    assert error.run_id == run_id
    assert error.last_event is not None and error.last_event.event == EVENT_NAMES[index - 1]
    assert handler.events == EVENT_NAMES[:index]
    assert handler.exceptions == [error]
    assert handler.lifecycle == ["EventTooLargeError", "end"]
    assert handler.text == text_after(index)
    await assert_cancelled(server, run_id)
    await watch.assert_clean(client, server)
    await close_and_check(client)


@pytest.mark.asyncio
async def test_oversized_event_names_the_event(
    server: FakeAssistantsServer, watch: TaskWatch
) -> None:
    client = AsyncClient(api_key="sk-matrix", base_url=server.base_url, max_event_size=65536)
    server.queue_faults(Faults(oversized_at=12, oversized_bytes=200_000, delay=DELAY))
    try:
        with pytest.raises(EventTooLargeError) as info:
            async with open_stream(client) as stream:
                await stream.until_done()
        await watch.assert_clean(client, server)
    finally:
        await close_and_check(client)
    assert info.value.event == EVENT_NAMES[12]


@pytest.mark.asyncio
async def test_large_event_within_the_limit_is_accepted(
    server: FakeAssistantsServer, client: AsyncClient, watch: TaskWatch
) -> None:
    server.queue_faults(Faults(oversized_at=35, oversized_bytes=1_048_577, chunk_size=8192))
    handler = Recorder()
    async with open_stream(client, handler) as stream:
        names = [event.event async for event in stream]
    assert names == EVENT_NAMES
    assert handler.text == TEXT
    assert server.cancel_requests == []
    await watch.assert_clean(client, server)


@pytest.mark.asyncio
@pytest.mark.parametrize("shape", ["bare", "wrapped"])
async def test_error_event(
    shape: str, server: FakeAssistantsServer, client: AsyncClient, watch: TaskWatch
) -> None:
    server.queue_scenario(scenarios.error_event(shape))  # type: ignore[arg-type]
    server.queue_faults(Faults(delay=DELAY))
    handler = Recorder()
    with pytest.raises(StreamError) as info:
        async with open_stream(client, handler) as stream:
            async for _ in stream:
                pass
    error = info.value
    assert error.message.startswith("The server had an error processing your request.")
    assert error.type == "server_error" and error.code is None
    run_id = assert_one_run(server)
    assert error.run_id == run_id
    assert error.last_event is not None and error.last_event.event == "thread.message.delta"
    assert handler.exceptions == [error]
    assert handler.lifecycle == ["StreamError", "end"]
    assert handler.text == "Sure, let me look"
    snapshot = stream.current_message_snapshot
    assert snapshot is not None and snapshot.text == "Sure, let me look"
    # The run failed on the server: nothing to cancel.
    assert server.cancel_requests == []
    assert (await server.wait_for_run(run_id))["status"] == "failed"
    await watch.assert_clean(client, server)


async def _transcript(**faults: Any) -> bytes:
    """The bytes of a clean run of the scenario, as a fresh server sends them."""
    chunks: list[bytes] = []
    async with FakeAssistantsServer(
        auto_create_threads=True, scenario=scenarios.code_interpreter(), seed=5
    ) as source:
        async with AsyncClient(api_key="sk-matrix", base_url=source.base_url) as client:
            async with open_stream(client, tap=chunks.append) as stream:
                await stream.until_done()
    return b"".join(chunks)


def _blocks(raw: bytes) -> list[bytes]:
    return [block + b"\n\n" for block in raw.split(b"\n\n") if block]


@pytest.mark.asyncio
async def test_invalid_utf8_is_replaced(
    server: FakeAssistantsServer, client: AsyncClient, watch: TaskWatch
) -> None:
    blocks = _blocks(await _transcript())
    first_text = blocks[FIRST_TEXT_INDEX]
    fragment = TEXT_FRAGMENTS[0].encode()
    assert fragment in first_text
    blocks[FIRST_TEXT_INDEX] = first_text.replace(fragment, fragment + b"\xff\xfe", 1)
    server.add_recording(b"".join(blocks))
    handler = Recorder()
    async with open_stream(client, handler) as stream:
        names = [event.event async for event in stream]
    assert names == EVENT_NAMES
    expected = TEXT_FRAGMENTS[0] + "\ufffd\ufffd" + "".join(TEXT_FRAGMENTS[1:])
    assert handler.text == expected
    snapshot = stream.current_message_snapshot
    assert snapshot is not None and snapshot.status == "completed"
    assert snapshot.text == TEXT  # thread.message.completed carries the whole message
    assert server.cancel_requests == []
    await watch.assert_clean(client, server)


@pytest.mark.asyncio
async def test_unknown_event_is_delivered_and_tolerated(
    server: FakeAssistantsServer, client: AsyncClient, watch: TaskWatch
) -> None:
    blocks = _blocks(await _transcript())
    blocks.insert(20, b'event: thread.run.step.future\ndata: {"hint": 1}\n\n')
    server.add_recording(b"".join(blocks))
    handler = Recorder()
    async with open_stream(client, handler) as stream:
        events = [event async for event in stream]
    assert [e.event for e in events] == [
        *EVENT_NAMES[:20],
        "thread.run.step.future",
        *EVENT_NAMES[20:],
    ]
    assert events[20] == UnknownEvent(event="thread.run.step.future", data={"hint": 1})
    assert handler.text == TEXT and handler.lifecycle == ["end"]
    await watch.assert_clean(client, server)


@pytest.mark.asyncio
@pytest.mark.parametrize("complete", [10, FIRST_TEXT_INDEX + 3, SETTLING_INDEX + 1])
async def test_truncated_last_event(
    complete: int, server: FakeAssistantsServer, client: AsyncClient, watch: TaskWatch
) -> None:
    """The stream ends cleanly inside an event: the piece is discarded."""
    blocks = _blocks(await _transcript())
    cut = blocks[complete][: len(blocks[complete]) // 2]
    server.add_recording(b"".join(blocks[:complete]) + cut)
    handler = Recorder()
    error: StreamInterrupted | None = None
    async with open_stream(client, handler) as stream:
        try:
            async for _ in stream:
                pass
        except StreamInterrupted as exc:
            error = exc
    assert handler.events == EVENT_NAMES[:complete]
    assert handler.text == text_after(complete)
    if complete > SETTLING_INDEX:
        assert error is None and stream.done  # the run had settled
        assert handler.lifecycle == ["end"]
    else:
        assert error is not None
        assert handler.lifecycle == ["StreamInterrupted", "end"]
        assert "in the middle of an event" in str(error)
        assert error.run_id is not None and error.run_id == stream.run_id
        assert error.last_event is not None
        assert error.last_event.event == EVENT_NAMES[complete - 1]
    assert server.cancel_requests == []
    await watch.assert_clean(client, server)


# -- leaving early ----------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize("stop_at", [0, 12, FIRST_TEXT_INDEX + 2])
async def test_break_out_early_cancels_the_run(
    stop_at: int, server: FakeAssistantsServer, client: AsyncClient, watch: TaskWatch
) -> None:
    server.queue_faults(Faults(delay=DELAY))
    handler = Recorder()
    async with open_stream(client, handler) as stream:
        n = 0
        async for _ in stream:
            if n == stop_at:
                break
            n += 1
    run_id = assert_one_run(server)
    assert handler.events == EVENT_NAMES[: stop_at + 1]
    assert handler.text == text_after(stop_at + 1)
    assert not stream.done and stream.error is None
    assert handler.lifecycle == ["end"]  # on close
    await assert_cancelled(server, run_id)
    await watch.assert_clean(client, server)


@pytest.mark.asyncio
async def test_break_out_early_without_cancel_on_abandon(
    server: FakeAssistantsServer, client: AsyncClient, watch: TaskWatch
) -> None:
    server.queue_faults(Faults(delay=DELAY))
    async with open_stream(client, cancel_on_abandon=False) as stream:
        async for event in stream:
            if event.event == "thread.message.delta":
                break
    run_id = assert_one_run(server)
    assert server.cancel_requests == []
    assert (await server.wait_for_run(run_id))["status"] == "completed"
    await watch.assert_clean(client, server)


@pytest.mark.asyncio
@pytest.mark.parametrize("cancel_at", [3, FIRST_TEXT_INDEX + 1])
async def test_task_cancelled_mid_stream(
    cancel_at: int, server: FakeAssistantsServer, client: AsyncClient, watch: TaskWatch
) -> None:
    server.queue_faults(Faults(delay=DELAY))
    handler = Recorder()
    reached = asyncio.Event()
    streams: list[RunStream] = []

    async def consume() -> None:
        async with open_stream(client, handler) as stream:
            streams.append(stream)
            count = 0
            async for _ in stream:
                count += 1
                if count == cancel_at:
                    reached.set()

    task = asyncio.create_task(consume())
    await reached.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    run_id = assert_one_run(server)
    assert len(handler.events) >= cancel_at
    assert handler.events == EVENT_NAMES[: len(handler.events)]
    assert TEXT.startswith(handler.text)
    assert streams[0].error is None and not streams[0].done
    assert handler.lifecycle == ["end"]
    await assert_cancelled(server, run_id)
    await watch.assert_clean(client, server)


@pytest.mark.asyncio
async def test_task_cancelled_again_while_cancelling_the_run(
    server: FakeAssistantsServer, client: AsyncClient, watch: TaskWatch
) -> None:
    """A second cancellation during the abandon-cancel: the request still completes."""
    server.queue_faults(Faults(delay=DELAY))
    reached = asyncio.Event()

    async def consume() -> None:
        async with open_stream(client) as stream:
            async for event in stream:
                if event.event == "thread.message.delta":
                    reached.set()

    task = asyncio.create_task(consume())
    await reached.wait()
    task.cancel()
    # Wait until the consumer is in its cancel request (a new client task).
    deadline = time.monotonic() + 5
    while not [t for t in watch.leaked(server) if t is not task]:
        assert time.monotonic() < deadline, "the abandon-cancel request never started"
        await asyncio.sleep(0)
    assert server.cancel_requests == []  # the request is in flight
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    run_id = assert_one_run(server)
    await assert_cancelled(server, run_id)
    await watch.assert_clean(client, server)


class Boom(Exception):
    """An error of the consumer's own code."""


@pytest.mark.asyncio
@pytest.mark.parametrize("cancel_fails", [False, True])
async def test_exception_in_consumer_propagates_unmasked(
    cancel_fails: bool,
    server: FakeAssistantsServer,
    client: AsyncClient,
    watch: TaskWatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="streamrun")
    server.queue_faults(Faults(delay=DELAY))
    if cancel_fails:
        server.faults = Faults(error_status=500, error_count=10, endpoints={"cancel_run"})
    boom = Boom("consumer failed")
    handler = Recorder()
    with pytest.raises(Boom) as info:
        async with open_stream(client, handler) as stream:
            async for event in stream:
                if event.event == "thread.message.delta":
                    raise boom
    assert info.value is boom
    assert boom.__context__ is None and boom.__cause__ is None
    # The consumer's error is not the stream's: the handler only sees the close.
    assert handler.lifecycle == ["end"]
    assert stream.error is None
    run_id = assert_one_run(server)
    assert cancelled_runs(server) == [run_id]
    final = await server.wait_for_run(run_id)
    if cancel_fails:
        # Best effort: the failure is logged, the run goes on.
        assert final["status"] == "completed"
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert any("could not cancel" in r.getMessage() for r in warnings)
    else:
        assert final["status"] == "cancelled"
    await watch.assert_clean(client, server)


class BoomHandler(Recorder):
    async def on_text_delta(self, delta: TextDelta, snapshot: Text) -> None:
        await super().on_text_delta(delta, snapshot)
        raise Boom("handler failed")


@pytest.mark.asyncio
async def test_exception_in_handler_propagates_unmasked(
    server: FakeAssistantsServer, client: AsyncClient, watch: TaskWatch
) -> None:
    server.queue_faults(Faults(delay=DELAY))
    handler = BoomHandler()
    with pytest.raises(Boom, match="handler failed"):
        async with open_stream(client, handler) as stream:
            await stream.until_done()
    run_id = assert_one_run(server)
    assert handler.text == TEXT_FRAGMENTS[0]
    assert handler.lifecycle == ["end"]
    await assert_cancelled(server, run_id)
    await watch.assert_clean(client, server)


# -- explicit cancel ------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize("after", [0, 12, FIRST_TEXT_INDEX + 2])
async def test_stream_cancel_follows_to_cancelled(
    after: int, server: FakeAssistantsServer, client: AsyncClient, watch: TaskWatch
) -> None:
    server.queue_faults(Faults(delay=DELAY))
    handler = Recorder()
    async with open_stream(client, handler) as stream:
        if after:
            n = 0
            async for _ in stream:
                n += 1
                if n == after:
                    break
        run = await stream.cancel()
        assert stream.done
    run_id = assert_one_run(server)
    assert run.id == run_id and run.status == "cancelled"
    events = handler.events
    assert events[-1] == "thread.run.cancelled"
    cancelling = events.index("thread.run.cancelling")
    assert events[:cancelling] == EVENT_NAMES[:cancelling]
    assert len(events) >= after
    assert TEXT.startswith(handler.text) and handler.text != TEXT
    if "thread.message.created" in events:
        assert "thread.message.incomplete" in events
        assert stream.current_message_snapshot is not None
        assert stream.current_message_snapshot.status == "incomplete"
    assert handler.lifecycle == ["end"]
    # One cancel request: the explicit one (none again when the block is left).
    await assert_cancelled(server, run_id)
    await watch.assert_clean(client, server)


# -- settled runs are never cancelled -------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("scenario", "settling", "status"),
    [
        ("function_call", "thread.run.requires_action", "requires_action"),
        ("code_interpreter", "thread.run.completed", "completed"),
        ("failed_run", "thread.run.failed", "failed"),
        ("incomplete_run", "thread.run.incomplete", "incomplete"),
    ],
)
@pytest.mark.parametrize("exit_by", ["break", "exception"])
async def test_settled_run_left_before_done_is_not_cancelled(
    scenario: str,
    settling: str,
    status: str,
    exit_by: str,
    server: FakeAssistantsServer,
    client: AsyncClient,
    watch: TaskWatch,
) -> None:
    server.queue_scenario(scenario)
    server.queue_faults(Faults(delay=DELAY))
    with pytest.raises(Boom) if exit_by == "exception" else contextlib.nullcontext():
        async with open_stream(client) as stream:
            async for event in stream:
                if event.event == settling:
                    if exit_by == "exception":
                        raise Boom("after the run settled")
                    break
    assert not stream.done  # [DONE] was never read
    run_id = assert_one_run(server)
    assert stream.current_run is not None and stream.current_run.status == status
    assert server.cancel_requests == []
    assert (await server.wait_for_run(run_id))["status"] == status
    await watch.assert_clean(client, server)
