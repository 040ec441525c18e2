"""When and how long to wait before retrying a request (no I/O).

Retried: a connection that failed before the request was sent, and replies
with status 429, 500, 502, 503 or 504 (the run was not created). Never
retried: anything after the first byte of an event stream, and read errors
after the request was sent (the run may exist).

The wait is exponential with full jitter (``base * 2**attempt``, capped),
unless the reply says how long to wait: ``retry-after-ms`` (milliseconds) or
``Retry-After`` (seconds, or an HTTP date); a server-given wait is honoured up
to ``max_wait``.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Mapping

__all__ = ["RETRY_STATUSES", "retry_delay", "server_retry_after"]

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
"""HTTP statuses that are retried (before the first byte of a stream only)."""


def server_retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds the server asks to wait (``retry-after-ms`` or ``Retry-After``), if any."""
    lowered = {k.lower(): v for k, v in headers.items()}
    value = lowered.get("retry-after-ms")
    if value is not None:
        try:
            ms = float(value)
        except ValueError:
            pass
        else:
            if ms >= 0:
                return ms / 1000.0
    value = lowered.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        if parsed is None:
            return None
        seconds = parsed.timestamp() - time.time()
    return max(0.0, seconds)


def retry_delay(
    attempt: int,
    headers: Mapping[str, str] | None = None,
    *,
    base: float = 0.5,
    cap: float = 8.0,
    max_wait: float = 60.0,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait before retry number ``attempt`` (0 for the first retry)."""
    if headers is not None:
        asked = server_retry_after(headers)
        if asked is not None and asked <= max_wait:
            return asked
    ceiling = min(cap, base * (2**attempt))
    return (rng or random).uniform(ceiling / 2, ceiling)
