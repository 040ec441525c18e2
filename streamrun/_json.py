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
            return "orjson", orjson.loads, (orjson.JSONDecodeError, ValueError)
    return "json", json.loads, (ValueError,)


BACKEND, loads, JSONDecodeError = _select()
"""The JSON backend in use (``"orjson"`` or ``"json"``), its ``loads`` and its error types."""


def dumps(obj: Any) -> str:
    """Compact JSON text (``separators=(",", ":")``, non-ASCII kept raw)."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
