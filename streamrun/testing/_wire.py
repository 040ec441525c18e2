"""Wire helpers: JSON as the real service writes it, SSE blocks, error bodies."""

from __future__ import annotations

import json
import re
from typing import Any

import attrs

from streamrun._exceptions import ValidationError

__all__ = [
    "DONE_EVENT",
    "WireEvent",
    "dumps",
    "error_body",
    "split_blocks",
    "validation_response",
]

_BLANK_LINES = (b"\n", b"\r\n", b"\r")


def dumps(obj: Any) -> str:
    """One-line JSON: compact separators, non-ASCII written raw (as the service does)."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def dumps_pretty(obj: Any) -> str:
    """Indented JSON, as the service answers non-streaming requests."""
    return json.dumps(obj, indent=2, ensure_ascii=False)


@attrs.frozen
class WireEvent:
    """One SSE event as it goes on the wire.

    ``raw`` is the exact bytes of the block (including its blank line);
    ``name`` and ``data`` are its ``event:`` and joined ``data:`` values.
    """

    name: str | None
    data: str
    raw: bytes

    @classmethod
    def build(cls, name: str, data: str) -> WireEvent:
        """The block ``event: NAME\\ndata: DATA\\n\\n``."""
        return cls(name=name, data=data, raw=f"event: {name}\ndata: {data}\n\n".encode())

    def with_data(self, data: str) -> WireEvent:
        """The same event re-framed with other data (one ``data:`` line)."""
        if self.name is None:
            return WireEvent(name=None, data=data, raw=f"data: {data}\n\n".encode())
        return WireEvent.build(self.name, data)


DONE_EVENT = WireEvent.build("done", "[DONE]")


def _parse_block(raw: bytes) -> WireEvent:
    name: str | None = None
    data: list[str] = []
    for line in re.split(rb"\r\n|\r|\n", raw):
        text = line.decode("utf-8", errors="replace")
        field, sep, value = text.partition(":")
        if not sep or not field:
            continue
        if value.startswith(" "):
            value = value[1:]
        if field == "event":
            name = value
        elif field == "data":
            data.append(value)
    return WireEvent(name=name, data="\n".join(data), raw=raw)


def split_blocks(data: bytes) -> list[WireEvent]:
    """Split a transcript into event blocks; joining their ``raw`` gives ``data`` back."""
    blocks: list[WireEvent] = []
    current = bytearray()
    for line in data.splitlines(keepends=True):
        current += line
        if line in _BLANK_LINES:
            blocks.append(_parse_block(bytes(current)))
            current.clear()
    if current:
        blocks.append(_parse_block(bytes(current)))
    return blocks


def error_body(
    message: str,
    *,
    type: str = "invalid_request_error",
    param: str | None = None,
    code: str | None = None,
) -> dict[str, Any]:
    """The official error body ``{"error": {"message", "type", "param", "code"}}``."""
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def validation_response(exc: ValidationError) -> tuple[str, str | None, str | None]:
    """The ``(message, param, code)`` of the API's 400 answer to a broken request rule."""
    path = exc.path or None
    if not path:
        return exc.rule, None, None
    if exc.rule == "is required":
        return f"Missing required parameter: '{path}'.", path, "missing_required_parameter"
    if exc.rule.startswith("unknown field"):
        return f"Unrecognized request argument supplied: {path}", path, "unknown_parameter"
    return f"Invalid '{path}': {exc.rule}.", path, "invalid_value"
