"""Helpers shared by the benchmarks: the transcripts, timing, JSON backends, tables.

Not a benchmark itself; ``bench_events.py``, ``bench_accumulate.py`` and
``bench_e2e.py`` import it (the benchmarks directory is put on ``sys.path``
when a script runs).
"""

from __future__ import annotations

import gc
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
"""The repository root."""

FIXTURES = Path(os.environ.get("STREAMRUN_FIXTURES", ROOT / "tests" / "fixtures"))
"""Where the recorded transcripts (``*.sse``) are; ``$STREAMRUN_FIXTURES`` overrides."""

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

T = TypeVar("T")


def transcripts() -> list[tuple[str, bytes]]:
    """``(file name, bytes)`` of every recorded transcript, sorted by name."""
    paths = sorted(FIXTURES.glob("*.sse"))
    if not paths:
        raise SystemExit(
            f"no transcripts (*.sse) in {FIXTURES}; set STREAMRUN_FIXTURES to their directory"
        )
    return [(p.name, p.read_bytes()) for p in paths]


def chunked(data: bytes, size: int) -> list[bytes]:
    """``data`` cut into ``size``-byte chunks (the last one shorter)."""
    return [data[i : i + size] for i in range(0, len(data), size)]


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    """Wall seconds of one call of ``fn`` (garbage collection off, as in timeit)."""
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        result = fn()
        elapsed = time.perf_counter() - start
    finally:
        gc.enable()
    return elapsed, result


def autorange(fn: Callable[[], T], min_time: float) -> tuple[float, T]:
    """Seconds per call of ``fn``, calling it until ``min_time`` seconds have passed."""
    total, calls = 0.0, 0
    result: T
    while True:
        elapsed, result = timed(fn)
        total += elapsed
        calls += 1
        if total >= min_time:
            return total / calls, result


def median(values: Sequence[float]) -> float:
    """The median (a thin alias, for symmetry with the percentiles below)."""
    return statistics.median(values)


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100) of ``values``, by linear interpolation."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    pos = (len(ordered) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


@contextmanager
def json_backend(name: str) -> Iterator[None]:
    """Make :func:`streamrun.parse_event` decode with ``"stdlib"`` json or ``"orjson"``.

    ``parse_event`` calls ``streamrun._json.loads`` through the module, so
    replacing the module attribute switches the backend in this process.
    """
    from streamrun import _json

    saved = (_json.BACKEND, _json.loads, _json.JSONDecodeError)
    if name == "stdlib":
        _json.BACKEND, _json.loads, _json.JSONDecodeError = "json", json.loads, (ValueError,)
    elif name == "orjson":
        import orjson

        _json.BACKEND = "orjson"
        _json.loads = orjson.loads
        _json.JSONDecodeError = (orjson.JSONDecodeError, ValueError)
    else:
        raise ValueError(f"unknown JSON backend {name!r}")
    try:
        yield
    finally:
        _json.BACKEND, _json.loads, _json.JSONDecodeError = saved


def verdict(ok: bool) -> str:
    """``PASS`` or ``MISS``."""
    return "PASS" if ok else "MISS"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain-text table: the first column left-aligned, the others right-aligned."""
    cells = [[str(h) for h in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        first = row[0].ljust(widths[0])
        rest = (c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True))
        return "  ".join([first, *rest])

    out = [line(cells[0]), "  ".join("-" * w for w in widths)]
    out.extend(line(r) for r in cells[1:])
    return "\n".join(out)


def machine() -> str:
    """One line describing where the numbers were taken."""
    return (
        f"{platform.python_implementation()} {platform.python_version()}, "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs"
    )


def versions() -> str:
    """The versions of the libraries compared."""
    import aiohttp

    import streamrun

    parts = [f"streamrun {streamrun.__version__}", f"aiohttp {aiohttp.__version__}"]
    try:
        import openai

        parts.append(f"openai {openai.__version__}")
    except ImportError:
        parts.append("openai not installed")
    try:
        import orjson

        parts.append(f"orjson {orjson.__version__}")
    except ImportError:
        parts.append("orjson not installed")
    return ", ".join(parts)


def write_json(path: str | None, data: dict[str, Any]) -> None:
    """Write ``data`` as JSON to ``path`` (when given), for ``run_all.py``'s summary."""
    if path:
        Path(path).write_text(json.dumps(data, indent=2))
