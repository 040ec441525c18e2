"""Recordings of run streams: the exact bytes received, with their timing.

A recording is a JSON lines file. The first line is the header::

    {"format": "streamrun-recording", "version": 1, "streamrun": "0.1.0"}

(``"version": 2`` when it holds Responses API streams, below),

then one line per stream, in the order the streams were opened::

    {"stream": 0, "endpoint": "create_thread_and_run", "method": "POST",
     "path": "/threads/runs", "started": 0.0, "request": {...},
     "outcome": "ok", "chunks": [[0.183, "ZXZlbnQ6IHRocmVhZC5jcmVhdGVk..."], ...]}

``started`` is the stream's start in seconds since the recording began;
each chunk is ``[seconds since the stream started, base64 of the bytes]``
and the chunks joined are exactly the bytes received, in the pieces they
arrived in (the ``tap`` of a stream call feeds them). ``request`` holds
the fields the command sent that are useful to read back (ids, messages,
tool outputs; never a key or a header); ``outcome`` is ``"ok"``,
``"interrupted"`` (Ctrl-C) or ``"error"`` (then ``error`` is the message).
``shown`` (optional) lists the lines the command printed before the stream,
``[["banner", text], ["you", text], ...]``, so that a replay prints them too.
``protocol`` (version 2, optional) says what the bytes are: ``"runs"`` (an
Assistants run stream, the default) or ``"responses"`` (a Responses API
stream, read back with :meth:`ResponseStream.from_bytes
<streamrun.ResponseStream.from_bytes>`). A recording of run streams only is
written as version 1, as before, so older readers keep reading it; one with
Responses streams is version 2, which they refuse rather than misread.
Keys the command sent are masked everywhere in the file, which is created
with mode 0600. A key the server wrote whole is masked in the bytes by as
many ``*`` (the chunks keep their lengths). A key cut across the fragments
of a growing text (two text deltas, :mod:`streamrun._redact_fragments`) is
not in the bytes to mask: a stream where one was found is stored re-encoded
instead, event by event (each event in the chunk where it ended, the deltas
rewritten so the key reads ``***``; unchanged events keep their data text,
and the file keeps its format and version), so neither a reader of the file
nor a replay can put the key together again. Streams without such a key are
stored exactly as received.

:func:`read_recording` also accepts a plain ``.sse`` transcript (one
stream, no timing): a Responses stream when its first event is named
``response.*`` (or, with no ``event:`` line, its data's ``type`` is).
:func:`replay_stream` reads a recorded stream back as a
:class:`~streamrun.RunStream` (its bytes chunk by chunk and on time, no
server), so a replay goes through the same decoder, parser, accumulator and
display as the live run.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import math
import os
import re
import stat
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Literal

import attrs

from ._exceptions import StreamrunError
from ._handler import AsyncEventHandler
from ._redact import MIN_SECRET, redact_secrets, secret_pattern
from ._redact_fragments import FragmentRedactor
from ._relaying import sse_block
from ._response_stream import ResponseStream
from ._stream import RunStream
from ._version import __version__
from .sse import SSEDecoder

__all__ = [
    "FILE_MODE",
    "FORMAT",
    "MAX_CHUNK_TIME",
    "MAX_PAUSE",
    "VERSION",
    "VERSIONS",
    "Outcome",
    "PROTOCOLS",
    "Protocol",
    "RecordedStream",
    "Recorder",
    "RecordingError",
    "SHOWN",
    "SHOWN_KINDS",
    "StreamCapture",
    "read_recording",
    "replay_chunks",
    "replay_stream",
]

FORMAT = "streamrun-recording"
#: The version of a recording of run streams only (what older readers read).
VERSION = 1
#: The version of a recording with Responses API streams (``protocol`` per stream).
RESPONSES_VERSION = 2
#: The versions :func:`read_recording` reads.
VERSIONS = (VERSION, RESPONSES_VERSION)

#: The largest chunk time a recording may hold (seconds since its stream started).
MAX_CHUNK_TIME = 24 * 3600.0
#: The longest pause a replay makes between two chunks, whatever the recording says.
MAX_PAUSE = 60.0
#: The endpoint of the last line of a recording when it holds only printed lines.
SHOWN = "shown"
#: The kinds of lines a stream's ``shown`` holds.
SHOWN_KINDS = ("banner", "you")
#: Recordings are created readable and writable by their owner only.
FILE_MODE = 0o600

Outcome = Literal["ok", "interrupted", "error"]
_OUTCOMES = ("ok", "interrupted", "error")
#: What a recorded stream's bytes are: an Assistants run stream or a Responses API stream.
Protocol = Literal["runs", "responses"]
PROTOCOLS: tuple[Protocol, ...] = ("runs", "responses")


class RecordingError(StreamrunError):
    """A recording could not be written, read or served."""


def _chunks(value: Iterable[tuple[float, bytes]]) -> tuple[tuple[float, bytes], ...]:
    return tuple((float(t), bytes(b)) for t, b in value)


def _shown(value: Iterable[Iterable[str]]) -> tuple[tuple[str, str], ...]:
    return tuple((str(kind), str(text)) for kind, text in value)


@attrs.frozen
class RecordedStream:
    """One recorded stream: the bytes received, in their chunks, with timing.

    ``chunks`` are ``(seconds since the stream started, bytes)`` pairs;
    ``data`` is their concatenation (exactly the bytes received).
    """

    endpoint: str
    path: str
    chunks: tuple[tuple[float, bytes], ...] = attrs.field(converter=_chunks, repr=False)
    started: float = 0.0
    request: Mapping[str, Any] = attrs.field(factory=dict, repr=False)
    outcome: Outcome = "ok"
    error: str | None = None
    method: str = "POST"
    #: Lines the command printed before the stream: ``("banner" | "you", text)``.
    shown: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_shown, repr=False)
    #: ``"runs"`` (an Assistants run stream) or ``"responses"`` (a Responses API stream).
    protocol: Protocol = "runs"

    @property
    def data(self) -> bytes:
        """Every byte of the stream."""
        return b"".join(chunk for _, chunk in self.chunks)

    @property
    def only_shown(self) -> bool:
        """True for the line of printed lines that ends a recording (no stream)."""
        return self.endpoint == SHOWN and not self.chunks

    @property
    def duration(self) -> float:
        """Seconds from the start of the stream to its last chunk."""
        return self.chunks[-1][0] if self.chunks else 0.0

    def to_json(self, index: int) -> dict[str, Any]:
        """The JSON object of this stream's line (``index`` is its position)."""
        obj: dict[str, Any] = {
            "stream": index,
            "endpoint": self.endpoint,
            "method": self.method,
            "path": self.path,
            "started": round(self.started, 6),
            "request": dict(self.request),
            "outcome": self.outcome,
        }
        if self.error is not None:
            obj["error"] = self.error
        if self.shown:
            obj["shown"] = [list(item) for item in self.shown]
        if self.protocol != "runs":
            obj["protocol"] = self.protocol
        obj["chunks"] = [
            [round(t, 6), base64.b64encode(chunk).decode("ascii")] for t, chunk in self.chunks
        ]
        return obj

    @classmethod
    def from_json(cls, obj: Any, where: str, *, version: int = VERSION) -> RecordedStream:
        """Parse a stream line (``where`` names it in error messages) of a recording
        of ``version`` (version 1 holds run streams only)."""
        if not isinstance(obj, dict):
            raise RecordingError(f"{where}: a stream must be a JSON object")
        protocol: Any = obj.get("protocol", "runs") if version >= RESPONSES_VERSION else "runs"
        if protocol not in PROTOCOLS:
            raise RecordingError(
                f"{where}: unknown protocol {protocol!r} (expected 'runs' or 'responses')"
            )
        if not isinstance(obj.get("chunks"), list):
            raise RecordingError(f"{where}: 'chunks' must be a list")
        raw_chunks = obj.get("chunks")
        if not isinstance(raw_chunks, list):
            raise RecordingError(f"{where}: 'chunks' must be a list")
        chunks: list[tuple[float, bytes]] = []
        for i, item in enumerate(raw_chunks):
            if (
                not isinstance(item, list)
                or len(item) != 2
                or not isinstance(item[0], (int, float))
                or isinstance(item[0], bool)
                or not isinstance(item[1], str)
            ):
                raise RecordingError(f"{where}: chunk {i} must be [seconds, base64 text]")
            at = _seconds(item[0])
            if at is None:
                raise RecordingError(
                    f"{where}: chunk {i} has an invalid time (seconds from 0 to "
                    f"{MAX_CHUNK_TIME:.0f})"
                )
            try:
                data = base64.b64decode(item[1], validate=True)
            except (binascii.Error, ValueError):
                raise RecordingError(f"{where}: chunk {i} is not valid base64") from None
            chunks.append((at, data))
        outcome = obj.get("outcome", "ok")
        if outcome not in _OUTCOMES:
            raise RecordingError(f"{where}: unknown outcome {outcome!r}")
        request = obj.get("request") or {}
        error = obj.get("error")
        shown: Any = obj.get("shown", [])
        if not isinstance(shown, list) or not all(
            isinstance(item, list)
            and len(item) == 2
            and item[0] in SHOWN_KINDS
            and isinstance(item[1], str)
            for item in shown
        ):
            raise RecordingError(f'{where}: \'shown\' must be a list of ["banner" or "you", text]')
        started = obj.get("started", 0.0)
        return cls(
            endpoint=str(obj.get("endpoint") or "create_run"),
            path=str(obj.get("path") or ""),
            chunks=chunks,
            started=_seconds(started) or 0.0,
            request=request if isinstance(request, dict) else {},
            outcome=outcome,
            error=None if error is None else str(error),
            method=str(obj.get("method") or "POST"),
            shown=shown,
            protocol=protocol,
        )


def _seconds(value: Any) -> float | None:
    """A recorded time in seconds, or ``None`` when it is not a sane one."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        seconds = float(value)
    except OverflowError:
        return None
    if not math.isfinite(seconds) or not 0.0 <= seconds <= MAX_CHUNK_TIME:
        return None
    return seconds


def _redact_chunks(
    chunks: Iterable[tuple[float, bytes]], secrets: Iterable[str]
) -> list[tuple[float, bytes]]:
    """The chunks with every secret (plain or JSON-escaped) masked by as many ``*``.

    The mask keeps each chunk's length, so a secret cut across two chunks is
    found in their concatenation and the chunk boundaries stay where they were.
    """
    chunks = list(chunks)
    patterns = [
        re.compile(secret_pattern(s).pattern.encode("utf-8"))
        for s in secrets
        if len(s) >= MIN_SECRET
    ]
    if not patterns or not chunks:
        return chunks
    data = b"".join(chunk for _, chunk in chunks)
    masked = data
    for pattern in patterns:
        masked = pattern.sub(lambda m: b"*" * len(m.group()), masked)
    if masked == data:
        return chunks
    out: list[tuple[float, bytes]] = []
    pos = 0
    for at, chunk in chunks:
        out.append((at, masked[pos : pos + len(chunk)]))
        pos += len(chunk)
    return out


def _mask_split_secrets(
    chunks: list[tuple[float, bytes]], secrets: Iterable[str]
) -> list[tuple[float, bytes]] | None:
    """The chunks re-encoded with every secret cut across text fragments masked, or
    ``None`` when there is none (then the bytes are kept as they are).

    Each chunk becomes the SSE blocks of the events that ended in it (and the
    synthetic deltas releasing held text): unchanged events keep their name
    and data text, rewritten ones are compact JSON. An unterminated last event
    (a stream cut short), which a replay discards too, is dropped.
    """
    redactor = FragmentRedactor(secrets)
    if not redactor.secrets or not chunks:
        return None
    decoder = SSEDecoder(max_event_size=None)
    out: list[tuple[float, bytes]] = []
    try:
        for at, chunk in chunks:
            blocks = [_reencode(redactor, event) for event in decoder.feed(chunk)]
            out.append((at, b"".join(blocks)))
        tail = [_reencode(redactor, event) for event in decoder.close()]
    except StreamrunError:
        return None  # bytes the decoder refuses: a replay reads no text from them either
    tail += [_block(name, data) for name, data in redactor.flush()]
    if not redactor.masked_split:
        return None
    at, last = out[-1]
    out[-1] = (at, last + b"".join(tail))
    return [(at, data) for at, data in out if data]


def _reencode(redactor: FragmentRedactor, event: Any) -> bytes:
    """The SSE blocks to store for one decoded event."""
    try:
        data: Any = json.loads(event.data)
    except (ValueError, RecursionError):
        data = event.data
    name = event.event
    if name == "message" and isinstance(data, dict) and isinstance(data.get("type"), str):
        name = data["type"]  # a Responses event with no event: line
    blocks = []
    for out_name, out_data in redactor.feed(name, data):
        if out_data is data:
            blocks.append(sse_block(event.event, event.data))
        else:
            blocks.append(_block(out_name, out_data))
    return b"".join(blocks)


def _block(name: str, data: Any) -> bytes:
    return sse_block(name, json.dumps(data, separators=(",", ":"), ensure_ascii=False))


class StreamCapture:
    """Collects one stream's chunks as they arrive (its :meth:`tap` is the stream's ``tap``)."""

    def __init__(
        self,
        endpoint: str,
        path: str,
        request: Mapping[str, Any],
        *,
        started: float,
        clock: Any = time.monotonic,
        shown: Iterable[tuple[str, str]] = (),
        protocol: Protocol = "runs",
    ) -> None:
        self.shown = list(shown)
        self.protocol: Protocol = protocol
        self.endpoint = endpoint
        self.path = path
        self.request = dict(request)
        self.started = started
        self._clock = clock
        self._t0: float = clock()
        self.chunks: list[tuple[float, bytes]] = []

    def tap(self, chunk: bytes) -> None:
        """Record one chunk of bytes, stamped with the time since the stream started."""
        self.chunks.append((self._clock() - self._t0, bytes(chunk)))

    def result(self, outcome: Outcome = "ok", error: str | None = None) -> RecordedStream:
        """The recorded stream so far."""
        return RecordedStream(
            endpoint=self.endpoint,
            path=self.path,
            chunks=self.chunks,
            started=self.started,
            request=self.request,
            outcome=outcome,
            error=error,
            shown=self.shown,
            protocol=self.protocol,
        )


class Recorder:
    """Writes a recording file: the header at once, each stream when it ends.

    Streams are written (and flushed) one by one, so a recording cut short
    keeps every stream that ended before. The file is created with mode
    0600 (:data:`FILE_MODE`). Every one of ``secrets`` (the keys the command
    sends) is masked wherever it would be written: in the bytes received,
    plain or JSON-escaped, and in the ``error`` text; a stream where one was
    cut across text deltas is stored re-encoded with it masked (see the
    module). ``protocol="responses"`` writes a version 2 recording, whose
    streams may be Responses API streams (:meth:`begin` ``protocol=``); the
    default writes version 1.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        clock: Any = time.monotonic,
        secrets: Iterable[str] = (),
        protocol: Protocol = "runs",
    ) -> None:
        if protocol not in PROTOCOLS:
            raise RecordingError(f"unknown protocol {protocol!r}")
        self.path = Path(path)
        self.protocol: Protocol = protocol
        self._clock = clock
        self._t0: float = clock()
        self._count = 0
        self.secrets = tuple(secrets)
        try:
            # Created 0600 by open() itself: never readable by others, not even briefly.
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
        except OSError as exc:
            raise RecordingError(f"cannot write recording {self.path}: {exc.strerror}") from None
        try:
            if stat.S_ISREG(os.fstat(fd).st_mode):
                os.fchmod(fd, FILE_MODE)  # a file that existed keeps no wider mode
            self._file: IO[str] | None = os.fdopen(fd, "w", encoding="utf-8")
        except OSError as exc:
            os.close(fd)
            raise RecordingError(f"cannot write recording {self.path}: {exc.strerror}") from None
        version = VERSION if protocol == "runs" else RESPONSES_VERSION
        header = {"format": FORMAT, "version": version, "streamrun": __version__}
        self._write(header)

    def _write(self, obj: Mapping[str, Any]) -> None:
        if self._file is None:
            raise RecordingError(f"recording {self.path} is closed")
        try:
            self._file.write(json.dumps(obj, separators=(",", ":")) + "\n")
            self._file.flush()
        except OSError as exc:
            raise RecordingError(f"cannot write recording {self.path}: {exc.strerror}") from None

    def begin(
        self,
        endpoint: str,
        path: str,
        request: Mapping[str, Any],
        shown: Iterable[tuple[str, str]] = (),
        protocol: Protocol = "runs",
    ) -> StreamCapture:
        """Start capturing a stream (call just before opening it); ``shown`` are the
        lines printed before it (``("banner" | "you", text)``), for the replay;
        ``protocol`` what the stream is (``"responses"`` needs a recorder made
        with ``protocol="responses"``: a version 1 file holds run streams only)."""
        if protocol != "runs" and self.protocol == "runs":
            raise RecordingError(
                f"recording {self.path} holds run streams only: make the Recorder "
                "with protocol='responses' to record a Responses stream"
            )
        return StreamCapture(
            endpoint,
            path,
            request,
            started=self._clock() - self._t0,
            clock=self._clock,
            shown=[(kind, redact_secrets(text, self.secrets)) for kind, text in shown],
            protocol=protocol,
        )

    def end(
        self, capture: StreamCapture, outcome: Outcome = "ok", error: str | None = None
    ) -> RecordedStream:
        """Write a captured stream's line; returns what was written."""
        stream = capture.result(
            outcome, None if error is None else redact_secrets(error, self.secrets)
        )
        if self.secrets:
            chunks = list(stream.chunks)
            chunks = _mask_split_secrets(chunks, self.secrets) or chunks
            stream = attrs.evolve(stream, chunks=_redact_chunks(chunks, self.secrets))
        self._write(stream.to_json(self._count))
        self._count += 1
        return stream

    def epilogue(self, shown: Iterable[tuple[str, str]]) -> None:
        """Write the lines printed after the last stream: a line with no bytes and
        the endpoint ``"shown"``, which a replay prints and does not request."""
        lines = [(kind, redact_secrets(text, self.secrets)) for kind, text in shown]
        if lines:
            self._write(RecordedStream(SHOWN, "", chunks=[], shown=lines).to_json(self._count))
            self._count += 1

    @property
    def stream_count(self) -> int:
        """How many streams were written."""
        return self._count

    def close(self) -> None:
        """Close the file."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> Recorder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


_SSE_FIELD = re.compile(rb"(?:^|[\r\n])(?:data|event)(?::|\r|\n|$)")


def read_recording(path: str | os.PathLike[str]) -> list[RecordedStream]:
    """The streams of a recording file, or of a plain ``.sse`` transcript.

    A file whose first line is a ``streamrun-recording`` header is read as a
    recording; anything else is taken as one stream of raw SSE bytes (no
    timing). Raises :class:`RecordingError` for unreadable or malformed files.
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise RecordingError(f"cannot read {p}: {exc.strerror}") from None
    first, _, _ = data.partition(b"\n")
    header: Any = None
    if first.lstrip().startswith(b"{"):
        try:
            header = json.loads(first)
        except (ValueError, RecursionError):
            header = None
    if not (isinstance(header, dict) and header.get("format") == FORMAT):
        if not data.strip():
            raise RecordingError(f"{p}: the file is empty")
        if first.lstrip().startswith(b"{") or not _SSE_FIELD.search(data):
            raise RecordingError(
                f"{p}: not a streamrun recording (no header) nor an SSE transcript "
                "(no 'event:' or 'data:' line)"
            )
        if sniff_protocol(data) == "responses":
            return [
                RecordedStream(
                    endpoint="create_response",
                    path="",
                    chunks=[(0.0, data)],
                    protocol="responses",
                )
            ]
        return [RecordedStream(endpoint="create_run", path="", chunks=[(0.0, data)])]
    version = header.get("version")
    if version not in VERSIONS or isinstance(version, bool):
        raise RecordingError(f"{p}: unsupported recording version {version!r} (expected 1 or 2)")
    streams: list[RecordedStream] = []
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise RecordingError(f"{p}: a recording must be UTF-8 JSON lines") from None
    for number, line in enumerate(text.splitlines()[1:], start=2):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            raise RecordingError(f"{p} line {number}: not valid JSON") from None
        except RecursionError:
            raise RecordingError(f"{p} line {number}: JSON nested too deeply") from None
        streams.append(RecordedStream.from_json(obj, f"{p} line {number}", version=version))
    return streams


def sniff_protocol(data: bytes) -> Protocol:
    """What an SSE transcript is: ``"responses"`` when its first event is named
    ``response.*`` (or has no ``event:`` name and its data's ``"type"`` is one),
    else ``"runs"``."""
    decoder = SSEDecoder(max_event_size=None)
    try:
        events = decoder.feed(data[:_SNIFF_BYTES]) or decoder.close()
    except StreamrunError:
        return "runs"
    if not events:
        return "runs"
    first = events[0]
    name: Any = first.event
    if name == "message":  # no event: line (some compatible servers)
        try:
            obj = json.loads(first.data)
        except (ValueError, RecursionError):
            return "runs"
        name = obj.get("type") if isinstance(obj, dict) else None
    return "responses" if isinstance(name, str) and name.startswith("response.") else "runs"


# Enough of a transcript to hold its first event (a longer first event is read whole).
_SNIFF_BYTES = 1 << 20


async def replay_chunks(stream: RecordedStream, *, speed: float = 1.0) -> AsyncIterator[bytes]:
    """The chunks of a recorded stream, each at its recorded time divided by ``speed``.

    ``0`` plays them as fast as possible; times count from the first chunk asked
    for, and no pause is longer than :data:`MAX_PAUSE` (later chunks keep their
    spacing). Raises :class:`RecordingError` for a negative ``speed``.
    """
    if speed < 0:
        raise RecordingError(f"speed must be >= 0, got {speed}")
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    for at, chunk in stream.chunks:
        if speed > 0:
            wait = t0 + at / speed - loop.time()
            if wait > MAX_PAUSE:  # a bounded wait, later chunks keep their spacing
                t0 -= wait - MAX_PAUSE
                wait = MAX_PAUSE
            if wait > 0:
                await asyncio.sleep(wait)
        yield chunk


def replay_stream(
    stream: RecordedStream,
    *,
    handler: AsyncEventHandler | None = None,
    speed: float = 1.0,
) -> RunStream:
    """A :class:`~streamrun.RunStream` over a recorded stream's bytes, with no server
    (a :class:`~streamrun.ResponseStream` for a Responses stream).

    The bytes go through the same decoder, parser, accumulator and handler as
    the live stream's did (:meth:`RunStream.from_bytes`, paced by
    :func:`replay_chunks`), so a replay shows what the live run showed, with
    the run's real ids; it cancels and recovers nothing.
    """
    if speed < 0:
        raise RecordingError(f"speed must be >= 0, got {speed}")
    request = stream.request
    thread_id, run_id = request.get("thread_id"), request.get("run_id")
    if stream.protocol == "responses":
        response_id = request.get("response_id")
        return ResponseStream.from_bytes(
            replay_chunks(stream, speed=speed),
            handler=handler,
            run_id=response_id if isinstance(response_id, str) and response_id else None,
        )
    return RunStream.from_bytes(
        replay_chunks(stream, speed=speed),
        handler=handler,
        thread_id=thread_id if isinstance(thread_id, str) and thread_id else None,
        run_id=run_id if isinstance(run_id, str) and run_id else None,
    )
