"""Recorded transcripts (``.sse`` files) served byte for byte."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import attrs

from ._errors import FakeServerError
from ._wire import WireEvent, split_blocks

__all__ = ["RECORDING_ENDPOINTS", "Recording", "RecordingEndpoint", "load_manifest"]

RecordingEndpoint = Literal["create_run", "create_thread_and_run", "submit_tool_outputs"]
RECORDING_ENDPOINTS: tuple[str, ...] = (
    "create_run",
    "create_thread_and_run",
    "submit_tool_outputs",
)


def _check_endpoint(inst: object, attr: attrs.Attribute[Any], value: str) -> None:
    if value not in RECORDING_ENDPOINTS:
        raise FakeServerError(
            f"recording endpoint must be one of {', '.join(RECORDING_ENDPOINTS)}, got {value!r}"
        )


@attrs.frozen
class Recording:
    """A recorded response stream and the endpoint it answers.

    ``data`` is served unchanged (unless faults are applied); ``name``,
    ``description`` and ``request`` come from a manifest when loaded by
    :func:`load_manifest`.
    """

    data: bytes = attrs.field(repr=lambda d: f"<{len(d)} bytes>")
    endpoint: str = attrs.field(default="create_run", validator=_check_endpoint)
    name: str | None = None
    description: str = ""
    request: Mapping[str, Any] = attrs.field(factory=dict, repr=False)

    @classmethod
    def from_file(
        cls, path: str | os.PathLike[str], endpoint: str = "create_run", name: str | None = None
    ) -> Recording:
        """Read a transcript file (``name`` defaults to the file's stem)."""
        p = Path(path)
        try:
            data = p.read_bytes()
        except OSError as exc:
            raise FakeServerError(f"cannot read recording {p}: {exc}") from None
        return cls(data=data, endpoint=endpoint, name=name or p.stem)

    def events(self) -> list[WireEvent]:
        """The transcript cut into event blocks (their bytes join to ``data``)."""
        return split_blocks(self.data)


def load_manifest(directory: str | os.PathLike[str]) -> dict[str, Recording]:
    """Load ``manifest.json`` of a fixtures directory: scenario name → :class:`Recording`.

    The manifest lists ``streams`` with ``file``, ``scenario``,
    ``description`` and ``request`` (whose ``endpoint`` is create_run,
    create_thread_and_run or submit_tool_outputs).
    """
    root = Path(directory)
    manifest_path = root / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise FakeServerError(f"cannot load {manifest_path}: {exc}") from None
    streams = manifest.get("streams") if isinstance(manifest, dict) else None
    if not isinstance(streams, list):
        raise FakeServerError(f"{manifest_path}: no 'streams' list")
    out: dict[str, Recording] = {}
    for entry in streams:
        if not isinstance(entry, dict) or not isinstance(entry.get("file"), str):
            raise FakeServerError(f"{manifest_path}: bad stream entry {entry!r}")
        request = entry.get("request") or {}
        if not isinstance(request, dict):
            raise FakeServerError(f"{manifest_path}: bad request of {entry['file']}")
        name = str(entry.get("scenario") or Path(entry["file"]).stem)
        rec = Recording.from_file(
            root / entry["file"], endpoint=str(request.get("endpoint", "create_run")), name=name
        )
        expected = entry.get("bytes")
        if isinstance(expected, int) and expected != len(rec.data):
            raise FakeServerError(
                f"{entry['file']}: manifest says {expected} bytes, file has {len(rec.data)}"
            )
        description = str(entry.get("description", ""))
        out[name] = attrs.evolve(rec, description=description, request=request)
    return out
