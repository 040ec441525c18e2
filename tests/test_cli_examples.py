"""What examples/async_iteration.py prints: each status once, on its own line."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "async_iteration.py"


def test_async_iteration_prints_each_status_once_on_its_own_line() -> None:
    res = subprocess.run(
        [sys.executable, str(EXAMPLE)], capture_output=True, text=True, timeout=60, check=False
    )
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    statuses = [line for line in lines if line.startswith("[run ")]
    assert statuses == ["[run queued]", "[run in_progress]", "[run completed]"]
    text = next(line for line in lines if line.startswith("Photosynthesis"))
    assert text.endswith("approved.")  # nothing glued onto the text
    assert not re.search(r"\S\[run ", res.stdout)
