"""How fast the ``streamrun`` command starts: ``--version`` and ``--help``.

Each command runs in a fresh interpreter (``python -m streamrun ...``, what the
console script does) and is timed from the outside, wall clock, in
interleaved rounds with ``python -c pass`` (the interpreter's own start-up),
so that the machine's noise hits every command alike; the medians are
reported. Target: ``--version`` and ``--help`` each start in at most 0.3 s.
The start-up of ``python -c "import streamrun"`` and of importing the client
(``streamrun.AsyncClient``: aiohttp, attrs, cattrs) is shown for reference.

Run: ``.venv/bin/python benchmarks/bench_startup.py [--quick] [--json FILE]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common

TARGET_SECONDS = 0.3

COMMANDS: list[tuple[str, list[str], bool]] = [
    # (label, argv after the interpreter, has a target)
    ("python -c pass", ["-c", "pass"], False),
    ("streamrun --version", ["-m", "streamrun", "--version"], True),
    ("streamrun --help", ["-m", "streamrun", "--help"], True),
    ("import streamrun", ["-c", "import streamrun"], False),
    ("import the client", ["-c", "import streamrun; streamrun.AsyncClient"], False),
]


def run_once(argv: list[str]) -> float:
    """Wall seconds of one fresh interpreter running ``argv``."""
    env = dict(os.environ, PYTHONPATH=str(_common.ROOT))  # this checkout's streamrun
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, *argv],
        cwd=_common.ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=True,
    )
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer rounds (noisier)")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds")
    parser.add_argument("--json", metavar="FILE", help="write the results as JSON")
    args = parser.parse_args(argv)
    rounds = args.rounds or (5 if args.quick else 21)

    print(_common.machine())
    for _, command, _ in COMMANDS:  # warm the bytecode caches and the OS file cache
        run_once(command)
    times: dict[str, list[float]] = {label: [] for label, _, _ in COMMANDS}
    for _ in range(rounds):
        for label, command, _ in COMMANDS:
            times[label].append(run_once(command))

    baseline = _common.median(times["python -c pass"])
    rows = []
    checks = []
    for label, _, has_target in COMMANDS:
        med = _common.median(times[label])
        target = f"<= {TARGET_SECONDS:.1f} s" if has_target else "-"
        ok = med <= TARGET_SECONDS
        rows.append(
            (
                label,
                f"{med * 1000:.0f}",
                f"+{(med - baseline) * 1000:.0f}",
                target,
                _common.verdict(ok) if has_target else "",
            )
        )
        if has_target:
            checks.append(
                {
                    "name": f"{label} start-up",
                    "measured": f"{med:.3f} s",
                    "target": target,
                    "pass": ok,
                }
            )
    print(f"\nstart-up, median of {rounds} interleaved rounds (wall clock, fresh interpreter)")
    print(_common.table(["command", "ms", "vs python -c pass", "target", "result"], rows))
    _common.write_json(
        args.json,
        {
            "rounds": rounds,
            "median_seconds": {label: _common.median(v) for label, v in times.items()},
            "targets": checks,
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
