"""API paths: every id that goes into a path is validated and quoted here, once."""

from __future__ import annotations

from urllib.parse import quote

from ._exceptions import ValidationError

__all__ = ["path_id", "run_path", "thread_path"]


def path_id(name: str, value: object) -> str:
    """``value`` quoted for a path segment; a :class:`~streamrun.ValidationError`
    naming ``name`` unless it is a non-empty string."""
    if not isinstance(value, str) or not value:
        raise ValidationError(name, f"must be a non-empty string, got {value!r}")
    return quote(value, safe="")


def thread_path(thread_id: str) -> str:
    """The API path of a thread."""
    return f"/threads/{path_id('thread_id', thread_id)}"


def run_path(thread_id: str, run_id: str) -> str:
    """The API path of a run."""
    return f"{thread_path(thread_id)}/runs/{path_id('run_id', run_id)}"
