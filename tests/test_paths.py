"""Ids in API paths are validated and quoted in one place (streamrun._paths)."""

from __future__ import annotations

import pytest

from streamrun import ValidationError
from streamrun._paths import path_id, run_path, thread_path


def test_ids_are_quoted_as_one_path_segment() -> None:
    assert thread_path("thread/../x") == "/threads/thread%2F..%2Fx"
    assert run_path("t 1", "run?a=b#c") == "/threads/t%201/runs/run%3Fa%3Db%23c"
    assert path_id("run_id", "%2F") == "%252F"  # quoted once, never decoded


@pytest.mark.parametrize("value", ["", None, 3])
def test_a_bad_id_names_its_parameter(value: object) -> None:
    with pytest.raises(ValidationError, match="run_id"):
        run_path("thread_1", value)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="thread_id"):
        thread_path(value)  # type: ignore[arg-type]
