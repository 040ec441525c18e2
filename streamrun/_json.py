"""JSON decoding: orjson when installed (``pip install streamrun[fast]``), else the stdlib.

Chosen by measurement (``benchmarks/bench_events.py``): JSON decoding dominates
the cost of a typed event, and orjson decodes the stream's small objects about
three times faster than :mod:`json`. Set ``STREAMRUN_JSON=stdlib`` to force the
standard library.

Nesting is limited to :data:`MAX_DEPTH` levels of arrays and objects, whichever
backend decodes: deeper JSON raises :class:`NestingError` (a ``ValueError``, one
of :data:`JSONDecodeError`), never ``RecursionError``. The check costs nothing
for text shorter than ``2 * MAX_DEPTH`` characters (it cannot nest that deep)
and one walk over the decoded containers otherwise.
"""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Callable
from typing import Any

__all__ = [
    "BACKEND",
    "MAX_DEPTH",
    "JSONDecodeError",
    "NestingError",
    "check_depth",
    "dumps",
    "loads",
]

MAX_DEPTH = 128
"""The deepest nesting of arrays and objects accepted in decoded JSON."""


class NestingError(ValueError):
    """JSON nested deeper than :data:`MAX_DEPTH` levels."""

    def __init__(self, limit: int = MAX_DEPTH) -> None:
        self.limit = limit
        super().__init__(f"JSON nested deeper than {limit} levels")


def check_depth(value: Any, limit: int = MAX_DEPTH) -> None:
    """Raise :class:`NestingError` if ``value`` nests arrays/objects deeper than ``limit``.

    Iterative (no recursion, whatever the depth); visits each container once.
    """
    stack: list[tuple[Any, int]] = [(value, 1)]
    pop = stack.pop
    push = stack.append
    while stack:
        node, depth = pop()
        if type(node) is dict:
            children: Any = node.values()
        elif type(node) is list:
            children = node
        else:
            continue
        if depth > limit:
            raise NestingError(limit)
        for child in children:
            if type(child) is dict or type(child) is list:
                push((child, depth + 1))


class _Never(Exception):
    """Never raised: the stdlib decoder has no fallback."""


def _bounded(
    decode: Callable[[str | bytes], Any],
    fallback: Callable[[str | bytes], Any] | None = None,
    fallback_on: type[Exception] = ValueError,
) -> Callable[[str | bytes], Any]:
    """``decode`` (retried with ``fallback`` on ``fallback_on``), with the depth limit."""
    limit = MAX_DEPTH
    short = 2 * limit
    retry = fallback if fallback is not None else decode

    def slow(data: str | bytes) -> Any:
        # orjson is stricter than the stdlib (lone surrogate escapes such as
        # "\ud83d", NaN) and stops at 1024 levels: the same bytes must parse the
        # same whichever backend is installed, so the stdlib decides.
        try:
            return retry(data)
        except RecursionError:
            raise NestingError(limit) from None

    def loads(data: str | bytes) -> Any:
        try:
            value = decode(data)
        except fallback_on:
            value = slow(data)
        except RecursionError:
            raise NestingError(limit) from None
        # Nesting n levels takes at least 2n characters, and one "[" or "{" each:
        # most events are too short to need a look.
        if len(data) > short:
            if isinstance(data, str):
                opened = data.count("{") + data.count("[")
            else:
                opened = data.count(b"{") + data.count(b"[")
            if opened > limit:
                check_depth(value, limit)
        return value

    return loads


def _select() -> tuple[str, Callable[[str | bytes], Any], tuple[type[Exception], ...]]:
    if os.environ.get("STREAMRUN_JSON", "").lower() != "stdlib":
        try:
            orjson = importlib.import_module("orjson")
        except ImportError:
            pass
        else:
            return (
                "orjson",
                _bounded(orjson.loads, json.loads, orjson.JSONDecodeError),
                (ValueError,),
            )
    return "json", _bounded(json.loads, fallback_on=_Never), (ValueError,)


BACKEND, loads, JSONDecodeError = _select()
"""The JSON backend in use (``"orjson"`` or ``"json"``), its ``loads`` and its error types."""


def dumps(obj: Any, *, default: Callable[[Any], Any] | None = None) -> str:
    """Compact JSON text (``separators=(",", ":")``, non-ASCII kept raw).

    The one JSON writer of the package. A lone surrogate (from a ``"\ud83d"``
    escape a server sent) has no UTF-8 form: then the text is written with
    ASCII escapes, the same JSON value. ``default`` is :func:`json.dumps`'s.
    """
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False, default=default)
    if not text.isascii():
        try:
            text.encode()
        except UnicodeEncodeError:
            return json.dumps(obj, separators=(",", ":"), default=default)
    return text
