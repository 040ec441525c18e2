"""The plain Responses endpoints a stream needs: retrieve, cancel, and recover by polling.

``GET /responses/{id}`` (:func:`retrieve_response`), ``POST
/responses/{id}/cancel`` (:func:`cancel_response`: the API cancels only
background responses) and :func:`recover_response`, which polls the response
with backoff until its status is terminal (completed, incomplete, failed,
cancelled) — what :meth:`ResponseStream.recover` returns after a cut. Every
reply is a :class:`~streamrun.ResponseObject` (a reply of the wrong shape is a
:class:`~streamrun.ProtocolError`).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from ._exceptions import StreamTimeout
from ._recover import _within, structure_reply
from ._requests import path_id
from ._responses_models import ResponseObject
from ._transport import Timeouts, Transport

__all__ = [
    "TERMINAL_STATUSES",
    "cancel_response",
    "recover_response",
    "response_path",
    "retrieve_response",
]

TERMINAL_STATUSES = frozenset({"completed", "incomplete", "failed", "cancelled"})
"""The statuses a response does not leave."""


def response_path(response_id: str) -> str:
    """The API path of a response (the id checked and quoted)."""
    return f"/responses/{path_id('response_id', response_id)}"


async def retrieve_response(
    transport: Transport, response_id: str, *, max_retries: int | None = None
) -> ResponseObject:
    """``GET`` a response."""
    raw = await transport.request_json("GET", response_path(response_id), max_retries=max_retries)
    return structure_reply(raw, ResponseObject, f"GET response {response_id}", response_id)


async def cancel_response(
    transport: Transport,
    response_id: str,
    *,
    max_retries: int | None = None,
    timeouts: Timeouts | None = None,
) -> ResponseObject:
    """Ask the server to cancel a (background) response: the reply as a response."""
    raw: Any = await transport.request_json(
        "POST",
        response_path(response_id) + "/cancel",
        max_retries=max_retries,
        timeouts=timeouts,
    )
    return structure_reply(raw, ResponseObject, f"POST cancel response {response_id}", response_id)


async def recover_response(
    transport: Transport,
    response_id: str,
    *,
    timeout: float = 600.0,
    poll_interval: float = 0.25,
    max_poll_interval: float = 5.0,
) -> ResponseObject:
    """Poll ``GET /responses/{id}`` with backoff until the response is terminal.

    Raises :class:`~streamrun.StreamTimeout` (``kind="total"``) when it is
    still queued or in progress after ``timeout`` seconds.
    """
    return await _within(
        _poll(transport, response_id, timeout, poll_interval, max_poll_interval),
        timeout,
        f"recovering response {response_id}",
        response_id,
    )


async def _poll(
    transport: Transport,
    response_id: str,
    timeout: float,
    poll_interval: float,
    max_poll_interval: float,
) -> ResponseObject:
    deadline = time.monotonic() + timeout
    interval = poll_interval
    while True:
        response = await retrieve_response(transport, response_id)
        if response.status in TERMINAL_STATUSES:
            return response
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            status = transport.redact(str(response.status), limit=40)
            raise StreamTimeout(
                f"response {response_id} still {status!r} after {timeout}s of polling",
                kind="total",
                seconds=timeout,
                run_id=response_id,
            )
        await asyncio.sleep(min(interval, remaining))
        interval = min(interval * 2, max_poll_interval)
