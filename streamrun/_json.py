"""JSON decoding: orjson when installed (``pip install streamrun[fast]``), else the stdlib.

Chosen by measurement (``benchmarks/bench_events.py``): JSON decoding dominates
the cost of a typed event, and orjson decodes the stream's small objects about
three times faster than :mod:`json`. Set ``STREAMRUN_JSON=stdlib`` to force the
standard library.
"""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Callable
from typing import Any

__all__ = ["BACKEND", "JSONDecodeError", "dumps", "loads"]


def _select() -> tuple[str, Callable[[str | bytes], Any], tuple[type[Exception], ...]]:
    if os.environ.get("STREAMRUN_JSON", "").lower() != "stdlib":
        try:
            orjson = importlib.import_module("orjson")
        except ImportError:
            pass
        else:
            fast_loads = orjson.loads
            fast_error = orjson.JSONDecodeError

            def loads(data: str | bytes) -> Any:
                try:
                    return fast_loads(data)
                except fast_error:
                    # orjson is stricter than the stdlib (lone surrogate escapes
                    # such as "\ud83d", NaN): the same bytes must parse the same
                    # whichever backend is installed, so the stdlib decides.
                    return json.loads(data)

            return "orjson", loads, (ValueError,)
    return "json", json.loads, (ValueError,)


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
