"""Recovering a run whose stream was cut: poll the run, then fetch its messages.

A stream interrupted by the network or the server does not mean the run
stopped: it goes on on the server. :func:`recover_run` retrieves it
(``GET /threads/{thread_id}/runs/{run_id}``), polls with exponential backoff
until it is terminal or waits for tool outputs, then lists the messages it
created (``GET /threads/{thread_id}/messages?run_id=…``) — so the caller ends
with the complete answer without starting a second run.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any, TypeVar

import attrs

from ._converter import structure
from ._exceptions import StreamTimeout
from ._models import Message, Run
from ._paths import run_path, thread_path
from ._transport import Timeouts, Transport

__all__ = [
    "RecoveredRun",
    "cancel_run",
    "cancel_run_shielded",
    "fetch_run_messages",
    "list_pages",
    "recover_run",
    "retrieve_run",
    "run_path",
]

_T = TypeVar("_T")

SETTLED_STATUSES = frozenset(
    {"completed", "incomplete", "failed", "cancelled", "expired", "requires_action"}
)


@attrs.frozen(kw_only=True)
class RecoveredRun:
    """The outcome of a recovered run: the final ``run`` and its ``messages`` (oldest first)."""

    run: Run
    messages: list[Message]

    @property
    def text(self) -> str:
        """The text of the run's assistant messages, joined by blank lines."""
        return "\n\n".join(m.text for m in self.messages if m.role == "assistant" and m.text)


async def retrieve_run(transport: Transport, thread_id: str, run_id: str) -> Run:
    """``GET`` a run."""
    raw = await transport.request_json("GET", run_path(thread_id, run_id))
    return structure(raw, Run)


async def cancel_run(
    transport: Transport,
    thread_id: str,
    run_id: str,
    *,
    max_retries: int | None = None,
    timeouts: Timeouts | None = None,
) -> Any:
    """Ask the server to cancel a run (``POST .../runs/{run_id}/cancel``): the reply's JSON.

    The one place a run is cancelled: :meth:`~streamrun.Runs.cancel`,
    :meth:`~streamrun.RunStream.cancel` and cancel-on-abandon all come here.
    """
    return await transport.request_json(
        "POST", run_path(thread_id, run_id) + "/cancel", max_retries=max_retries, timeouts=timeouts
    )


async def cancel_run_shielded(
    transport: Transport, thread_id: str, run_id: str, *, seconds: float
) -> Any:
    """:func:`cancel_run` bounded by ``seconds`` and shielded from the caller's cancellation.

    No retry. When the caller is cancelled while waiting, the request still gets
    its bounded time (so no task outlives the call), then the cancellation
    propagates. Raises what the request raises.
    """
    timeouts = Timeouts(connect=seconds, idle=seconds, total=seconds)
    task = asyncio.ensure_future(
        cancel_run(transport, thread_id, run_id, max_retries=0, timeouts=timeouts)
    )
    # Whatever happens below, the request's outcome counts as seen (no "Task
    # exception was never retrieved" when it fails after we stopped waiting).
    task.add_done_callback(_retrieve)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        # Cancelled again while cancelling: give the request its bounded time,
        # then let the cancellation through.
        await asyncio.wait({task}, timeout=seconds)
        if not task.done():
            task.cancel()
        raise


def _retrieve(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()


async def fetch_run_messages(transport: Transport, thread_id: str, run_id: str) -> list[Message]:
    """Every message a run created, oldest first (follows pagination)."""
    messages: list[Message] = []
    after: str | None = None
    path = thread_path(thread_id) + "/messages"
    while True:
        query = [("run_id", run_id), ("order", "asc"), ("limit", "100")]
        if after:
            query.append(("after", after))
        page = await transport.request_json("GET", path, query=query)
        data = page.get("data", []) if isinstance(page, dict) else []
        messages.extend(structure(item, Message) for item in data)
        if not (isinstance(page, dict) and page.get("has_more") and data):
            return messages
        after = str(data[-1].get("id") or "")
        if not after:
            return messages


async def recover_run(
    transport: Transport,
    thread_id: str,
    run_id: str,
    *,
    timeout: float = 600.0,
    poll_interval: float = 0.25,
    max_poll_interval: float = 5.0,
) -> RecoveredRun:
    """Wait for a run to settle (terminal or ``requires_action``) and fetch its messages.

    Raises :class:`~streamrun.StreamTimeout` (``kind="total"``) when the run
    has not settled within ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    interval = poll_interval
    while True:
        run = await retrieve_run(transport, thread_id, run_id)
        if run.status in SETTLED_STATUSES:
            break
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise StreamTimeout(
                f"run {run_id} still {run.status!r} after {timeout}s of polling",
                kind="total",
                seconds=timeout,
                run_id=run_id,
            )
        await asyncio.sleep(min(interval, remaining))
        interval = min(interval * 2, max_poll_interval)
    messages = await fetch_run_messages(transport, thread_id, run_id)
    return RecoveredRun(run=run, messages=messages)


async def list_pages(
    transport: Transport,
    path: str,
    cls: type[_T],
    *,
    query: Sequence[tuple[str, str]] = (),
    order: str = "asc",
    limit: int | None = None,
) -> list[_T]:
    """Every item of a paged listing (``GET path``), following ``has_more`` / ``after``.

    ``limit`` caps how many items are returned (``None``: all of them).
    """
    items: list[_T] = []
    after: str | None = None
    while True:
        size = 100 if limit is None else max(1, min(100, limit - len(items)))
        page_query = [*query, ("order", order), ("limit", str(size))]
        if after:
            page_query.append(("after", after))
        page = await transport.request_json("GET", path, query=page_query)
        data = page.get("data", []) if isinstance(page, dict) else []
        items.extend(structure(item, cls) for item in data)
        if limit is not None and len(items) >= limit:
            return items[:limit]
        if not (isinstance(page, dict) and page.get("has_more") and data):
            return items
        after = str(data[-1].get("id") or "")
        if not after:
            return items
