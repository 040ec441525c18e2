"""A bounded soak: hundreds of concurrent streams against one fake server.

500 streams of about 420 events each run at the same time through one
``AsyncClient``; one in ten gets a fault (a dropped connection, recovered
with ``stream.recover()``; a stall past its idle timeout; a 503 answered
with ``Retry-After`` and retried). Every stream must end as its fault says,
with the full text; the server's log must match (one run per stream, one
extra request per 503, one cancel per timeout); no connection or task may be
left over; and the live streamrun objects must come back to their level
before the soak (checked with a detector that is shown to catch retained
snapshots).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import Counter
from typing import Any

import attrs
import pytest

from streamrun import AsyncClient, StreamInterrupted, StreamTimeout
from streamrun.testing import FakeAssistantsServer, Scenario, TextReply, split_fragments

from ._hygiene import RetryCounter, TaskWatch, close_and_check, live_library_objects

STREAMS = 500
WARM_UP = 30
BUDGET = 50.0  # seconds for the soak itself (the test's hard limit is 60 s)

_WORDS = (
    *("light", "water", "carbon", "leaf", "sugar", "energy", "chlorophyll", "café"),
    *("光合作用", "cycle", "Calvin", "oxygen", "stroma", "thylakoid", "photon"),
    *("électron", "🌱", "membrane", "glucose", "enzyme"),
)
TEXT = " ".join(_WORDS[(i * 7) % len(_WORDS)] for i in range(260)) + "."
FRAGMENTS = len(split_fragments(TEXT))
SCENARIO = Scenario([TextReply(TEXT)], name="soak")
EVENTS = FRAGMENTS + 10  # run created/queued/in_progress, step and message lifecycle, end

OK, RECOVERED, TIMED_OUT = "ok", "recovered", "timed out"
_NONCES = itertools.count(1)


def fault_of(i: int) -> str | None:
    """The fault stream ``i`` gets: one stream in ten, three kinds in turn."""
    return {1: "drop", 11: "stall", 21: "retry"}.get(i % 30)


def expected_outcome(i: int) -> str:
    return {"drop": RECOVERED, "stall": TIMED_OUT}.get(fault_of(i) or "", OK)


def fault_header(i: int) -> dict[str, str]:
    """The ``x-fake-faults`` header of stream ``i`` (none without a fault).

    The fake server counts error replies per distinct header value, so a 503
    header carries a ``stall_seconds`` (inert without ``stall_after``) unique
    to this call, to be answered with a 503 once.
    """
    fault = fault_of(i)
    if fault is None:
        return {}
    spec: dict[str, Any]
    if fault == "drop":
        spec = {"drop_after": 5 + (i * 7) % (EVENTS - 10)}
    elif fault == "stall":
        spec = {"stall_after": 5 + (i * 11) % (EVENTS - 10), "stall_seconds": 600.0}
    else:
        spec = {"error_status": 503, "retry_after": 0.05, "stall_seconds": next(_NONCES) / 1e6}
    return {"x-fake-faults": json.dumps(spec)}


@attrs.frozen
class Outcome:
    index: int
    kind: str
    streamed: str  # the text received on the stream
    final: str  # the whole answer (streamed or recovered)


async def run_stream(client: AsyncClient, i: int, prefix: str) -> Outcome:
    options: dict[str, Any] = {"extra_headers": fault_header(i)}
    if fault_of(i) == "stall":
        options["idle_timeout"] = 3.0
    pieces: list[str] = []
    try:
        async with client.runs.stream(
            f"thread_{prefix}_{i}", assistant_id="asst_soak", **options
        ) as stream:
            try:
                async for piece in stream.text_deltas:
                    pieces.append(piece)
            except StreamInterrupted:
                recovered = await stream.recover(poll_interval=0.05)
                return Outcome(i, RECOVERED, "".join(pieces), recovered.text)
    except StreamTimeout as exc:
        assert exc.kind == "idle"
        return Outcome(i, TIMED_OUT, "".join(pieces), "")
    return Outcome(i, OK, "".join(pieces), "".join(pieces))


async def run_round(
    client: AsyncClient, indexes: range, prefix: str, budget: float
) -> list[Outcome]:
    return await asyncio.wait_for(
        asyncio.gather(*(run_stream(client, i, prefix) for i in indexes)), budget
    )


def check_outcomes(outcomes: list[Outcome], indexes: range) -> Counter[str]:
    counts: Counter[str] = Counter()
    assert [o.index for o in outcomes] == list(indexes)
    for outcome in outcomes:
        counts[outcome.kind] += 1
        assert outcome.kind == expected_outcome(outcome.index), outcome
        assert TEXT.startswith(outcome.streamed), outcome.index
        if outcome.kind == OK:
            assert outcome.streamed == TEXT, outcome.index
        elif outcome.kind == RECOVERED:
            assert outcome.final == TEXT, outcome.index
            assert outcome.streamed != TEXT
    return counts


def growth(before: Counter[str], after: Counter[str]) -> dict[str, int]:
    """The types whose live count grew, and by how much."""
    return {name: after[name] - before[name] for name in after if after[name] > before[name]}


GROWTH_LIMIT = 50  # live streamrun objects; keeping 40 streams' snapshots adds about 280
KEPT_STREAMS = 40


@pytest.mark.slow
@pytest.mark.timeout(60)
@pytest.mark.asyncio
async def test_soak_concurrent_streams_with_faults() -> None:
    async with FakeAssistantsServer(auto_create_threads=True, scenario=SCENARIO, seed=3) as server:
        watch = TaskWatch()
        client = AsyncClient(api_key="sk-soak", base_url=server.base_url, max_connections=600)
        try:
            with RetryCounter() as log:
                # Warm-up: every code path once, so caches and pools exist before measuring.
                warm = range(WARM_UP)
                check_outcomes(await run_round(client, warm, "warm", BUDGET), warm)
                await server.wait_idle()
                baseline = live_library_objects()
                requests_before = len(server.requests)
                cancels_before = len(server.cancel_requests)
                runs_before = server.runs_created
                retries_before = log.retries

                started = time.monotonic()
                indexes = range(STREAMS)
                outcomes = await run_round(client, indexes, "soak", BUDGET)
                elapsed = time.monotonic() - started
                counts = check_outcomes(outcomes, indexes)
                retries = log.retries - retries_before

                # Every stream accounted for, as its fault says.
                faults = Counter(fault_of(i) for i in indexes)
                assert faults["drop"] + faults["stall"] + faults["retry"] == STREAMS // 10
                assert counts == {
                    OK: STREAMS - faults["drop"] - faults["stall"],
                    RECOVERED: faults["drop"],
                    TIMED_OUT: faults["stall"],
                }
                # The server's view: one run per stream, one more request per 503,
                # one cancel per abandoned (timed out) stream, none for the others.
                assert server.runs_created - runs_before == STREAMS
                new_requests = server.requests[requests_before:]
                creates = [r for r in new_requests if r.endpoint == "create_run"]
                assert len(creates) == STREAMS + faults["retry"]
                assert len(server.cancel_requests) - cancels_before == faults["stall"]
                assert retries == faults["retry"]
                assert elapsed < BUDGET

                # Nothing left over: connections, tasks, objects.
                await watch.assert_clean(client, server)
                del outcomes
                grown = growth(baseline, live_library_objects())
                assert sum(grown.values()) < GROWTH_LIMIT, grown

                # The check is meaningful: keeping the final snapshots of a few
                # dozen streams shows as growth far above the limit.
                kept: list[Any] = []
                for i in range(KEPT_STREAMS):
                    async with client.runs.stream(
                        f"thread_kept_{i}", assistant_id="asst_soak"
                    ) as stream:
                        await stream.until_done()
                        kept.append((stream.current_message_snapshot, stream.current_run))
                del stream
                grown = growth(baseline, live_library_objects())
                assert sum(grown.values()) > 4 * GROWTH_LIMIT, grown
                kept.clear()
                grown = growth(baseline, live_library_objects())
                assert sum(grown.values()) < GROWTH_LIMIT, grown
                await watch.assert_clean(client, server)
        finally:
            await close_and_check(client)
        assert server.internal_errors == []
