"""Edge cases of retries, cancellation, secrets and robustness, against real servers."""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any

import pytest
from aioresponses import aioresponses

import streamrun
from streamrun import AsyncClient, AsyncEventHandler, Text, TextDelta, parse_event
from streamrun._retry import retry_delay, server_retry_after
from streamrun.testing import FakeAssistantsServer, Faults, scenarios

from ._hygiene import assert_no_checked_out_connection
from .conftest import ReplayServer, Reply, fixture_bytes

BASE = "http://api.test/v1"
URL = f"{BASE}/threads/thread_1/runs"
SSE_OK = (
    b'event: thread.run.completed\ndata: {"id":"run_1","thread_id":"thread_1",'
    b'"status":"completed"}\n\nevent: done\ndata: [DONE]\n\n'
)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "2"}, 2.0),
        ({"retry-after-ms": "250"}, 0.25),
        ({"retry-after-ms": "250", "Retry-After": "9"}, 0.25),
        ({"Retry-After": "soon"}, None),
        ({"Retry-After": "Mon, 32 Foo 2026 99:99:60 GMT"}, None),
        ({"Retry-After": "nan"}, None),
        ({"retry-after-ms": "nan"}, None),
        # Negative or in the past: ignored, so the normal backoff applies (Part 5 §5).
        ({"Retry-After": "-5"}, None),
        ({"retry-after-ms": "-5"}, None),
        ({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, None),  # in the past
        ({"Retry-After": "inf"}, None),
        ({"Retry-After": "0"}, 0.0),
        ({}, None),
    ],
)
def test_server_retry_after_parsing(headers: dict[str, str], expected: float | None) -> None:
    assert server_retry_after(headers) == expected


def test_retry_delay_backoff_and_limits() -> None:
    for attempt in range(6):
        delay = retry_delay(attempt)
        assert delay is not None
        ceiling = min(8.0, 0.5 * 2**attempt)
        assert ceiling / 2 <= delay <= ceiling
    assert retry_delay(0, {"Retry-After": "3"}) == 3.0
    # Longer than max_wait: not retried at all rather than retried too early.
    assert retry_delay(0, {"Retry-After": "3600"}) is None


def test_server_wait_is_honoured_up_to_max_wait_inclusive() -> None:
    assert retry_delay(0, {"Retry-After": "60"}) == 60.0
    assert retry_delay(0, {"Retry-After": "60.5"}) is None
    assert retry_delay(0, {"retry-after-ms": "60000"}) == 60.0
    assert retry_delay(0, {"retry-after-ms": "60001"}) is None
    assert retry_delay(0, {"Retry-After": "5"}, max_wait=5.0) == 5.0
    assert retry_delay(0, {"Retry-After": "5"}, max_wait=4.0) is None


class RecordingRandom(random.Random):
    """A random source whose ``uniform`` records its bounds and returns a fixed value."""

    def __init__(self, value: float) -> None:
        super().__init__(0)
        self.value = value
        self.calls: list[tuple[float, float]] = []

    def uniform(self, a: float, b: float) -> float:
        self.calls.append((a, b))
        return self.value


@pytest.mark.parametrize(
    ("attempt", "base", "cap", "ceiling"),
    [
        (0, 0.5, 8.0, 0.5),
        (1, 0.5, 8.0, 1.0),
        (3, 0.5, 8.0, 4.0),
        (4, 0.5, 8.0, 8.0),
        (9, 0.5, 8.0, 8.0),  # capped
        (2, 1.0, 3.0, 3.0),
        (1, 0.25, 100.0, 0.5),
    ],
)
def test_retry_delay_is_full_jitter_between_half_and_the_ceiling(
    attempt: int, base: float, cap: float, ceiling: float
) -> None:
    rng = RecordingRandom(0.4242)
    assert retry_delay(attempt, base=base, cap=cap, rng=rng) == 0.4242
    assert rng.calls == [(ceiling / 2, ceiling)]
    # Headers without a server-given wait still use the jitter.
    rng = RecordingRandom(0.1)
    assert retry_delay(attempt, {"X-Other": "1"}, base=base, cap=cap, rng=rng) == 0.1
    assert rng.calls == [(ceiling / 2, ceiling)]


def test_a_server_given_wait_does_not_use_the_random_source() -> None:
    rng = RecordingRandom(0.4242)
    assert retry_delay(2, {"Retry-After": "1.5"}, rng=rng) == 1.5
    assert rng.calls == []


async def run_once(client: AsyncClient, **kwargs: Any) -> streamrun.Run:
    async with client.runs.stream("thread_1", assistant_id="asst_1", **kwargs) as stream:
        return await stream.final_run()


@pytest.mark.asyncio
async def test_unparsable_retry_after_is_ignored_not_a_crash() -> None:
    with aioresponses() as mocked:
        mocked.post(
            URL, status=503, payload={"error": {"message": "busy"}}, headers={"Retry-After": "soon"}
        )
        mocked.post(URL, status=200, body=SSE_OK, content_type="text/event-stream")
        async with AsyncClient(api_key="k", base_url=BASE, max_retries=1) as client:
            run = await run_once(client)
    assert run.status == "completed"


@pytest.mark.asyncio
async def test_retry_after_beyond_the_limit_raises_instead_of_retrying_early() -> None:
    with aioresponses() as mocked:
        mocked.post(
            URL,
            status=429,
            payload={"error": {"message": "later"}},
            headers={"Retry-After": "3600"},
        )
        mocked.post(URL, status=200, body=SSE_OK, content_type="text/event-stream")
        async with AsyncClient(api_key="k", base_url=BASE, max_retries=2) as client:
            with pytest.raises(streamrun.RateLimitError, match="later"):
                await run_once(client)


@pytest.mark.asyncio
async def test_key_echoed_by_the_server_never_reaches_the_error() -> None:
    key = "sk-TOPSECRET-123456"
    body = {"error": {"message": f"Incorrect API key provided: {key}", "code": "invalid_api_key"}}
    with aioresponses() as mocked:
        mocked.post(URL, status=401, payload=body)
        async with AsyncClient(api_key=key, base_url=BASE) as client:
            with pytest.raises(streamrun.AuthenticationError) as info:
                await run_once(client)
    error = info.value
    assert key not in str(error)
    assert key not in repr(error)
    assert key not in json.dumps(error.body)
    assert key not in error.message
    assert error.code == "invalid_api_key"


@pytest.mark.asyncio
async def test_key_echoed_in_a_non_sse_reply_is_redacted(replay_server: ReplayServer) -> None:
    key = "sk-TOPSECRET-abcdef"
    replay_server.replies.append(
        Reply(body=f'{{"echo": "{key}"}}'.encode(), content_type="application/json")
    )
    async with AsyncClient(api_key=key, base_url=replay_server.base_url) as client:
        with pytest.raises(streamrun.APIStatusError) as info:
            await run_once(client)
    assert key not in str(info.value)


def test_api_key_with_a_line_break_is_rejected() -> None:
    with pytest.raises(streamrun.ValidationError, match="api_key"):
        AsyncClient(api_key="sk-abc\nX-Injected: 1", base_url=BASE)


def test_stream_false_is_rejected_for_streaming_methods() -> None:
    client = AsyncClient(api_key="k", base_url=BASE)
    with pytest.raises(streamrun.ValidationError) as info:
        client.runs.stream("thread_1", assistant_id="asst_1", stream=False)
    assert info.value.path == "stream"


@pytest.mark.asyncio
async def test_ids_are_url_encoded_once(replay_server: ReplayServer) -> None:
    # The recorded continuation, as the stream of this run of this thread (a
    # continuation's events must name the run it was called for).
    raw = fixture_bytes("submit_tool_outputs_continuation.sse")
    raw = raw.replace(b"run_d3b6AE1foNedXteQJXyhxZbr", b"run x")
    raw = raw.replace(b"thread_6U1L3VeEp7C6EQjPpfFU9uS5", b"th a/b")
    replay_server.replies.append(Reply(body=raw))
    async with AsyncClient(api_key="k", base_url=replay_server.base_url) as client:
        async with client.runs.submit_tool_outputs_stream(
            "th a/b", "run x", tool_outputs=[{"tool_call_id": "c", "output": "o"}]
        ) as stream:
            await stream.until_done()
    # The server decodes the path once: a single encoding gives the ids back.
    assert replay_server.requests[0]["path"] == "/v1/threads/th a/b/runs/run x/submit_tool_outputs"


@pytest.mark.parametrize("backend", ["orjson", "stdlib"])
def test_same_bytes_parse_the_same_whatever_json_backend(
    backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json as stdlib_json

    from streamrun import _json

    if backend == "stdlib":
        monkeypatch.setattr(_json, "loads", stdlib_json.loads)
    # A lone surrogate escape: orjson rejects it, the stdlib accepts it.
    data = '{"id":"m","delta":{"content":[{"index":0,"type":"text","text":{"value":"\\ud83d"}}]}}'
    event = parse_event("thread.message.delta", data)
    assert isinstance(event, streamrun.ThreadMessageDelta)
    part = event.data.delta.content[0]
    assert isinstance(part, streamrun.TextDeltaBlock) and part.text is not None
    assert part.text.value == "\ud83d"


@pytest.mark.parametrize("value", ["[1]", "5", '{"a": 1}'])
def test_text_value_of_the_wrong_type_is_a_protocol_error(value: str) -> None:
    data = (
        '{"id":"m","object":"thread.message","status":"completed","role":"assistant",'
        f'"content":[{{"type":"text","text":{{"value":{value},"annotations":[]}}}}]}}'
    )
    with pytest.raises(streamrun.ProtocolError, match=r"thread\.message\.completed"):
        parse_event("thread.message.completed", data)


@pytest.mark.asyncio
async def test_two_concurrent_consumers_get_a_clear_error() -> None:
    async with FakeAssistantsServer(
        auto_create_threads=True, scenario=scenarios.plain_text()
    ) as server:
        server.queue_faults(Faults(delay=0.005))
        async with AsyncClient(api_key="k", base_url=server.base_url) as client:
            async with client.runs.stream("thread_1", assistant_id="asst_1") as stream:
                first = asyncio.ensure_future(stream.until_done())
                await asyncio.sleep(0.02)
                with pytest.raises(streamrun.StreamConsumedError, match="another task"):
                    await stream.final_messages()
                await first
                messages = await stream.final_messages()
    assert messages[0].text == scenarios.PLAIN_TEXT


@pytest.mark.asyncio
async def test_cancel_a_run_waiting_for_tool_outputs() -> None:
    async with FakeAssistantsServer(
        auto_create_threads=True, scenario=scenarios.function_call()
    ) as server:
        async with AsyncClient(api_key="k", base_url=server.base_url) as client:
            async with client.runs.stream("thread_1", assistant_id="asst_1") as stream:
                await stream.until_done()
                assert stream.current_run is not None
                assert stream.current_run.status == "requires_action"
                run = await stream.cancel()
            # The stream is over (requires_action): the cancel reply is returned as is.
            assert run.status == "cancelling"
            assert run.id == stream.run_id
            assert len(server.cancel_requests) == 1
            final = await server.wait_for_run(run.id)
            assert final["status"] == "cancelled"
            assert (await client.runs.retrieve("thread_1", run.id)).status == "cancelled"


@pytest.mark.asyncio
async def test_cancel_after_the_run_completed_sends_nothing() -> None:
    async with FakeAssistantsServer(
        auto_create_threads=True, scenario=scenarios.plain_text()
    ) as server:
        async with AsyncClient(api_key="k", base_url=server.base_url) as client:
            async with client.runs.stream("thread_1", assistant_id="asst_1") as stream:
                await stream.until_done()
                run = await stream.cancel()
    assert run.status == "completed"
    assert server.cancel_requests == []


@pytest.mark.asyncio
async def test_keyboard_interrupt_in_user_code_cancels_the_run_and_propagates() -> None:
    class Interrupting(AsyncEventHandler):
        async def on_text_delta(self, delta: TextDelta, snapshot: Text) -> None:
            if len(snapshot.value) > 20:
                raise KeyboardInterrupt

    async with FakeAssistantsServer(
        auto_create_threads=True, scenario=scenarios.plain_text()
    ) as server:
        server.queue_faults(Faults(delay=0.002))
        async with AsyncClient(api_key="k", base_url=server.base_url) as client:
            with pytest.raises(KeyboardInterrupt):
                async with client.runs.stream(
                    "thread_1", assistant_id="asst_1", handler=Interrupting()
                ) as stream:
                    await stream.until_done()
            assert_no_checked_out_connection(client)
            assert len(server.cancel_requests) == 1
            assert stream.run_id is not None
            final = await server.wait_for_run(stream.run_id)
            assert final["status"] == "cancelled"
            snapshot = stream.current_message_snapshot
            assert snapshot is not None and len(snapshot.text) > 20
