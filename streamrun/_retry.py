"""When and how long to wait before retrying a request (no I/O).

Retried: a connection that failed before the request was sent, and replies
with status 429, 500, 502, 503 or 504 — except 502 and 504 on a POST that
creates or continues a run (a gateway may send them after the upstream created
the run; see ``GATEWAY_STATUSES`` in :mod:`streamrun._transport`). Never
retried: anything after the first byte of an event stream, and read errors
after the request was sent (the run may exist).

The wait is exponential with full jitter (``base * 2**attempt``, capped),
unless the reply says how long to wait: ``retry-after-ms`` (milliseconds) or
``Retry-After`` (seconds, or an HTTP date; an unparsable value is ignored). A
server-given wait is honoured up to ``max_wait`` (60 s); a longer one is not
retried at all, and the reply's typed error is raised. A negative value or a
date in the past is ignored too (the normal backoff applies: a hostile or
skewed server cannot make the retry immediate); ``0`` is honoured as given.
"""

from __future__ import annotations

import email.utils
import math
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
            if ms >= 0 and math.isfinite(ms):  # False for NaN and negatives
                return ms / 1000.0
    value = lowered.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(value) if value else None
        except (TypeError, ValueError, IndexError, OverflowError):
            return None  # neither seconds nor an HTTP date: ignore it
        if parsed is None:
            return None
        seconds = parsed.timestamp() - time.time()
        if seconds <= 0:
            return None  # a date in the past: use the normal backoff
    if not math.isfinite(seconds) or seconds < 0:
        return None  # negative, NaN or infinite: use the normal backoff
    return seconds


def retry_delay(
    attempt: int,
    headers: Mapping[str, str] | None = None,
    *,
    base: float = 0.5,
    cap: float = 8.0,
    max_wait: float = 60.0,
    rng: random.Random | None = None,
) -> float | None:
    """Seconds to wait before retry number ``attempt`` (0 for the first retry).

    ``None`` when the server asks for a longer wait than ``max_wait``: then the
    request is not retried (retrying earlier would not honour the server).
    """
    if headers is not None:
        asked = server_retry_after(headers)
        if asked is not None:
            return asked if asked <= max_wait else None
    ceiling = min(cap, base * (2**attempt))
    return (rng or random).uniform(ceiling / 2, ceiling)
