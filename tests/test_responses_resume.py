"""Background responses resume after a drop, at every event index: no duplicate, no gap.

A real aiohttp server on 127.0.0.1 cuts the body of ``POST /v1/responses``
after event k (and in the middle of event k+1); the stream goes on with ``GET
/v1/responses/{id}?stream=true&starting_after=<last sequence_number>`` and the
reader and the handler see exactly the events of the uncut stream.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiohttp import web

from streamrun import AsyncClient, StreamInterrupted, StreamTimeout
from streamrun._events import Event
from streamrun._responses_events import is_terminal_responses_event
from streamrun.testing._scenarios import FunctionCall, FunctionCalls, Scenario, TextReply

from ._responses_server import ResponsesServer, frame, running
from .conftest import serve
from .test_handler import Recorder
from .test_responses_events import RESPONSES

SCENARIO = Scenario(
    [
        TextReply("Let me check that for you.", fragment_size=5),
        FunctionCalls(
            [FunctionCall("lookup", '{"q":"weather"}')],
            then=Scenario([TextReply("Sunny all day.", fragment_size=4)]),
        ),
    ]
)


def summary(events: list[Event]) -> list[tuple[str, Any]]:
    return [(type(e).__name__, e.data) for e in events]


async def read(
    server: ResponsesServer, **options: Any
) -> tuple[list[Event], Recorder, Exception | None]:
    recorder = Recorder()
    events: list[Event] = []
    error: Exception | None = None
    async with running(server) as srv:
        async with AsyncClient(api_key="sk-test", base_url=srv.base_url) as client:
            async with client.responses.stream(
                model="m", input="x", background=True, handler=recorder, **options
            ) as stream:
                try:
                    async for event in stream:
                        events.append(event)
                except StreamInterrupted as exc:
                    error = exc
    return events, recorder, error


def boundaries() -> tuple[list[int], list[int]]:
    """The byte offsets where the uncut first response's events end, and their
    sequence numbers."""
    server = ResponsesServer(SCENARIO)
    from streamrun.testing._responses_engine import ResponsePlayer, Wait

    from ._responses_server import new_response

    player = ResponsePlayer(
        SCENARIO,
        response=new_response("resp_1", {"background": True, "model": "m"}),
        new_id=server.new_id,
    )
    ends, seqs, total = [], [], 0
    for item in player.play():
        if isinstance(item, Wait):
            continue
        total += len(frame(item))
        ends.append(total)
        seqs.append(item.data["sequence_number"])
    return ends, seqs


ENDS, SEQS = boundaries()


def lookup(q: str) -> str:
    return "sunny"


FUNCTIONS = {"lookup": lookup}


@pytest.fixture(scope="module")
def reference() -> tuple[list[tuple[str, Any]], list[Any]]:
    events, recorder, error = asyncio.run(read(ResponsesServer(SCENARIO), functions=FUNCTIONS))
    assert error is None
    return summary(events), recorder.calls


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("k", "middle"),
    [
        (k, middle)
        for k in range(len(ENDS))
        for middle in (False, True)
        if k + 1 < len(ENDS) or not middle
    ],
    ids=lambda v: str(v),
)
async def test_resume_at_every_event_index(
    reference: tuple[list[tuple[str, Any]], list[Any]], k: int, middle: bool
) -> None:
    """Cut after event k (``middle``: and inside event k+1)."""
    last = k + 1 == len(ENDS)
    cut = ENDS[k]
    if middle:
        cut += (ENDS[k + 1] - ENDS[k]) // 2  # a partial event at the cut: discarded
    server = ResponsesServer(SCENARIO, cut_post=cut)
    events, recorder, error = await read(server, functions=FUNCTIONS)
    assert error is None
    assert summary(events) == reference[0]  # no duplicate, no gap
    assert recorder.calls == reference[1]  # the handler heard the same, on_end once
    gets = [r for r in server.requests if r["method"] == "GET"]
    if last:  # cut after the terminal event: nothing was lost, nothing to resume
        assert gets == []
    else:
        assert [r["query"] for r in gets] == [{"stream": "true", "starting_after": str(SEQS[k])}]
        assert gets[0]["path"] == "/v1/responses/resp_1"
    assert first_response_sequence(events) == SEQS


def first_response_sequence(events: list[Event]) -> list[int]:
    """The sequence numbers of the first response's events, each Responses event once."""
    seqs: list[int] = []
    last: object = None
    for event in events:
        if event.raw is last:
            continue
        last = event.raw
        seqs.append(event.raw.sequence_number)
        if is_terminal_responses_event(event.raw):
            break
    return seqs


@pytest.mark.asyncio
async def test_nothing_received_cannot_be_resumed() -> None:
    server = ResponsesServer(SCENARIO, cut_post=ENDS[0] // 2)  # no response id yet
    events, _, error = await read(server)
    assert events == [] and isinstance(error, StreamInterrupted)
    assert [r["method"] for r in server.requests] == ["POST"]


@pytest.mark.asyncio
async def test_a_resumed_stream_cut_again_resumes_again() -> None:
    server = ResponsesServer(SCENARIO, cut_post=ENDS[2], cut_gets=[ENDS[3] - ENDS[2] + 5])
    events, _, error = await read(server)
    assert error is None
    gets = [r["query"]["starting_after"] for r in server.requests if r["method"] == "GET"]
    assert gets == [str(SEQS[2]), str(SEQS[3])]
    assert events[-1].data.status == "requires_action"  # type: ignore[union-attr]


@pytest.mark.asyncio
async def test_resumes_that_bring_nothing_are_bounded_by_max_retries() -> None:
    server = ResponsesServer(SCENARIO, cut_post=ENDS[2], cut_gets=[3, 3, 3, 3])
    _, recorder, error = await read(server, max_retries=2)
    assert isinstance(error, StreamInterrupted)
    assert "could not be resumed" in str(error)
    assert len([r for r in server.requests if r["method"] == "GET"]) == 2
    assert [c[0] for c in recorder.calls[-2:]] == ["on_exception", "on_end"]


@pytest.mark.asyncio
async def test_max_retries_zero_does_not_resume() -> None:
    server = ResponsesServer(SCENARIO, cut_post=ENDS[2])
    _, _, error = await read(server, max_retries=0)
    assert isinstance(error, StreamInterrupted)
    assert [r["method"] for r in server.requests] == ["POST"]


# -- a stall (the idle timeout) is resumed like a drop ---------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize("k", [0, 2, len(ENDS) // 2, len(ENDS) - 2])
async def test_a_stalled_background_stream_resumes_after_the_idle_timeout(
    reference: tuple[list[tuple[str, Any]], list[Any]], k: int
) -> None:
    server = ResponsesServer(SCENARIO, stall_post=ENDS[k])
    events, recorder, error = await read(server, functions=FUNCTIONS, idle_timeout=0.3)
    assert error is None
    assert summary(events) == reference[0]  # no duplicate, no gap
    assert recorder.calls == reference[1]
    assert "on_timeout" not in [c[0] for c in recorder.calls]
    gets = [r["query"] for r in server.requests if r["method"] == "GET"]
    assert gets == [{"stream": "true", "starting_after": str(SEQS[k])}]


@pytest.mark.asyncio
async def test_a_stall_before_the_response_is_known_is_a_timeout() -> None:
    server = ResponsesServer(SCENARIO, stall_post=ENDS[0] // 2)  # no response id yet
    with pytest.raises(StreamTimeout) as caught:
        await read(server, idle_timeout=0.3)
    assert caught.value.kind == "idle"
    assert [r["method"] for r in server.requests] == ["POST"]


@pytest.mark.asyncio
async def test_a_stalled_foreground_stream_is_a_timeout() -> None:
    server = ResponsesServer(SCENARIO, stall_post=ENDS[2])
    async with running(server) as srv:
        async with AsyncClient(api_key="sk-test", base_url=srv.base_url) as client:
            stream = client.responses.stream(model="m", input="x", idle_timeout=0.3)
            with pytest.raises(StreamTimeout):
                async with stream:
                    async for _ in stream:
                        pass
    assert [r["method"] for r in server.requests] == ["POST"]


# -- the recorded background stream ----------------------------------------------

BACKGROUND = (RESPONSES / "09_background_queued_gpt-4o.sse").read_bytes()
BLOCKS = [b + b"\n\n" for b in BACKGROUND.strip().split(b"\n\n")]


@pytest.mark.asyncio
@pytest.mark.parametrize("k", range(1, len(BLOCKS)))
async def test_the_recorded_background_stream_resumes_at_every_index(k: int) -> None:
    requests: list[dict[str, Any]] = []

    async def handle(request: web.Request) -> web.StreamResponse:
        requests.append({"method": request.method, "query": dict(request.query)})
        response = web.StreamResponse()
        response.content_type = "text/event-stream"
        await response.prepare(request)
        if request.method == "POST":
            await response.write(b"".join(BLOCKS[:k]) + BLOCKS[k][: len(BLOCKS[k]) // 2])
            assert request.transport is not None
            request.transport.close()
            return response
        after = int(request.query["starting_after"])
        for block in BLOCKS:
            data = json.loads(block.split(b"data: ", 1)[1])
            if data["sequence_number"] > after:
                await response.write(block)
        await response.write_eof()
        return response

    whole = Recorder()
    from streamrun._response_stream import ResponseStream

    async with ResponseStream.from_bytes([BACKGROUND], handler=whole) as replay:
        expected = summary([e async for e in replay])
    recorder = Recorder()
    async with serve(handle) as origin:
        async with AsyncClient(api_key="sk-test", base_url=origin + "/v1") as client:
            async with client.responses.stream(
                model="gpt-4o", input="x", background=True, handler=recorder
            ) as stream:
                got = summary([e async for e in stream])
    assert got == expected
    assert recorder.calls == whole.calls
    assert requests[1]["query"]["starting_after"] == str(k - 1)
