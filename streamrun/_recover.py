"""Recovering a run whose stream was cut: poll the run, then fetch its messages.

A stream interrupted by the network or the server does not mean the run
stopped: it goes on on the server. :func:`recover_run` retrieves it
(``GET /threads/{thread_id}/runs/{run_id}``), polls with exponential backoff
until it is terminal or waits for tool outputs, then lists the messages it
created (``GET /threads/{thread_id}/messages?run_id=…``) — so the caller ends
with the complete answer without starting a second run.

``timeout`` bounds the whole recovery, message paging included; a messages
page that does not advance the listing (``has_more: true`` with a cursor
already seen) is a :class:`~streamrun.ProtocolError`, so a server repeating a
page cannot keep the client looping.
"""

from __future__ import annotations

import asyncio
import time
from asyncio import TimeoutError as _AsyncioTimeoutError, wait_for
from collections.abc import Awaitable, Sequence
from typing import Any, TypeVar

import attrs

from ._converter import structure
from ._exceptions import ProtocolError, StreamrunError, StreamTimeout
from ._models import Message, Run
from ._requests import path_id
from ._transport import Timeouts, Transport

_T = TypeVar("_T")

__all__ = [
    "RecoveredRun",
    "cancel_run",
    "cancel_run_shielded",
    "fetch_run_messages",
    "list_pages",
    "recover_run",
    "retrieve_run",
    "structure_reply",
]


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


def run_path(thread_id: str, run_id: str) -> str:
    """The API path of a run (both ids checked by :func:`~streamrun._requests.path_id`)."""
    return f"/threads/{path_id('thread_id', thread_id)}/runs/{path_id('run_id', run_id)}"


def structure_reply(raw: Any, cls: type[_T], what: str, run_id: str | None) -> _T:
    """``raw`` (a decoded JSON reply) as ``cls``; a reply of the wrong shape is a
    :class:`~streamrun.ProtocolError` (never a raw ``TypeError``)."""
    if not isinstance(raw, dict):
        raise ProtocolError(
            f"{what}: expected a JSON object, got {type(raw).__name__}", run_id=run_id
        )
    try:
        return structure(raw, cls)
    except StreamrunError:
        raise
    except Exception as exc:  # the converter's TypeError/ValueError/RecursionError/...
        # Only the type: the text may quote server data (which may echo the key).
        raise ProtocolError(
            f"{what}: the reply has the wrong shape for {cls.__name__} ({type(exc).__name__})",
            run_id=run_id,
        ) from None


async def _within(work: Awaitable[_T], timeout: float | None, what: str, run_id: str | None) -> _T:
    """``await work``, bounded by ``timeout`` seconds as a whole (``StreamTimeout``)."""
    if timeout is None:
        return await work
    try:
        return await wait_for(work, timeout)
    except StreamTimeout:
        raise
    except _AsyncioTimeoutError as exc:  # distinct from TimeoutError on 3.10
        raise StreamTimeout(
            f"{what} did not finish within {timeout}s",
            kind="total",
            seconds=timeout,
            run_id=run_id,
        ) from exc


async def retrieve_run(transport: Transport, thread_id: str, run_id: str) -> Run:
    """``GET`` a run."""
    raw = await transport.request_json("GET", run_path(thread_id, run_id))
    return structure_reply(raw, Run, f"GET run {run_id}", run_id)


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


async def fetch_run_messages(
    transport: Transport, thread_id: str, run_id: str, *, timeout: float | None = None
) -> list[Message]:
    """Every message a run created, oldest first (follows pagination).

    ``timeout`` bounds the whole listing; a page that does not advance is a
    :class:`~streamrun.ProtocolError`.
    """
    return await _within(
        _list_messages(transport, thread_id, run_id),
        timeout,
        f"listing the messages of run {run_id}",
        run_id,
    )


async def _list_messages(transport: Transport, thread_id: str, run_id: str) -> list[Message]:
    path = f"/threads/{path_id('thread_id', thread_id)}/messages"
    return await _list_pages(transport, path, Message, [("run_id", run_id)], "asc", None, run_id)


async def list_pages(
    transport: Transport,
    path: str,
    cls: type[_T],
    *,
    query: Sequence[tuple[str, str]] = (),
    order: str = "asc",
    limit: int | None = None,
    timeout: float | None = 600.0,
) -> list[_T]:
    """Every item of a paged listing (``GET path``), following ``has_more`` / ``after``.

    ``limit`` caps how many items are returned (``None``: all). Bounded like
    :func:`fetch_run_messages`: ``timeout`` (seconds, the whole listing) and a
    page that does not advance is a :class:`~streamrun.ProtocolError`.
    """
    return await _within(
        _list_pages(transport, path, cls, query, order, limit, None),
        timeout,
        f"listing {path}",
        None,
    )


async def _list_pages(
    transport: Transport,
    path: str,
    cls: type[_T],
    query: Sequence[tuple[str, str]],
    order: str,
    limit: int | None,
    run_id: str | None,
) -> list[_T]:
    items: list[_T] = []
    after: str | None = None
    seen: set[str] = set()
    number = 0
    while True:
        size = 100 if limit is None else max(1, min(100, limit - len(items)))
        page_query = [*query, ("order", order), ("limit", str(size))]
        if after:
            page_query.append(("after", after))
        page: Any = await transport.request_json("GET", path, query=page_query)
        number += 1
        what = f"{path.rsplit('/', 1)[-1]} page {number} of {path}"
        data = page.get("data", []) if isinstance(page, dict) else []
        if not isinstance(data, list):
            raise ProtocolError(f"{what}: 'data' is not a list", run_id=run_id)
        items.extend(structure_reply(item, cls, what, run_id) for item in data)
        if limit is not None and len(items) >= limit:
            return items[:limit]
        if not (isinstance(page, dict) and page.get("has_more") and data):
            return items
        last = data[-1]
        after = str(last.get("id") or "") if isinstance(last, dict) else ""
        if not after:
            return items
        if after in seen:
            raise ProtocolError(
                f"{what} does not advance: it ends at "
                f"{transport.redact(after, limit=80)!r} again with has_more: true "
                "(a server repeating a page)",
                run_id=run_id,
            )
        seen.add(after)


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
    has not settled and its messages were not listed within ``timeout``
    seconds (the whole recovery, paging included).
    """
    last: list[Run] = []
    try:
        return await _within(
            _recover(transport, thread_id, run_id, timeout, poll_interval, max_poll_interval, last),
            timeout,
            f"recovering run {run_id}",
            run_id,
        )
    except StreamTimeout as exc:
        if last and exc.args and last[-1].status not in SETTLED_STATUSES:
            # The status is the server's text: it could echo the key.
            status = transport.redact(last[-1].status, limit=40)
            exc.args = (f"run {run_id} still {status!r}: {exc.args[0]}",)
        raise


async def _recover(
    transport: Transport,
    thread_id: str,
    run_id: str,
    timeout: float,
    poll_interval: float,
    max_poll_interval: float,
    last: list[Run],
) -> RecoveredRun:
    deadline = time.monotonic() + timeout
    interval = poll_interval
    while True:
        run = await retrieve_run(transport, thread_id, run_id)
        last[:] = [run]
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
