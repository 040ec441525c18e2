"""A sans-I/O decoder for server-sent events (``text/event-stream``).

The decoder turns bytes into :class:`ServerSentEvent` objects and does no I/O
of its own: feed it the chunks the transport delivers, of any sizes, and call
:meth:`SSEDecoder.close` at end of input::

    decoder = SSEDecoder()
    async for chunk in response.content.iter_any():
        for event in decoder.feed(chunk):
            ...
    decoder.close()

It implements the WHATWG HTML "event stream interpretation" rules
(https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation):

* the stream is UTF-8; invalid bytes become U+FFFD; one leading byte order
  mark is dropped at the start of the stream only;
* lines end with CR, LF or CRLF (a CR at the end of one chunk and an LF at
  the start of the next are one line end);
* a line starting with ``:`` is a comment; a line without a colon is a field
  name with an empty value; one space after the colon is removed;
* ``data`` lines are joined with LF; ``event`` sets the type of the event
  (``"message"`` when absent or empty); ``id`` sets the last event ID, which
  persists across events, unless its value contains NUL; ``retry`` is used
  only when it is all ASCII digits; other fields are ignored;
* an empty line ends a block and dispatches its event, unless the block had
  no ``data`` field, in which case nothing is dispatched;
* an event not ended by an empty line at end of input is discarded.

The result does not depend on how the input is split into chunks, one byte
at a time included.  Two additions to the spec: ``max_event_size`` bounds the
memory one event may take (:class:`~streamrun.EventTooLargeError`), and a
``retry`` value with more digits than Python converts to an ``int`` (4300 by
default) is ignored.
"""

from __future__ import annotations

from typing import Any

import attrs

from streamrun._exceptions import EventTooLargeError, ProtocolError, ValidationError

__all__ = ["DEFAULT_MAX_EVENT_SIZE", "SSEDecoder", "ServerSentEvent"]

#: The default limit on the size of one event: 16 MiB.
DEFAULT_MAX_EVENT_SIZE = 16 * 1024 * 1024

_BOM = b"\xef\xbb\xbf"


@attrs.frozen
class ServerSentEvent:
    """One dispatched server-sent event.

    ``event`` is the event type (``"message"`` when the block named none),
    ``data`` the data lines joined with LF, ``id`` the last event ID in force
    when the event was dispatched (``""`` if none was ever set) and ``retry``
    the value of a valid ``retry`` field of this event's block (else ``None``).
    Instances are immutable; do not subclass.
    """

    event: str
    data: str
    id: str = ""
    retry: int | None = None


# attrs' generated __init__ of a frozen class goes through object.__setattr__
# for every field.  The hot loop of the decoder sets the slots through their
# descriptors instead: the same object, for a good part less of the cost of
# decoding an event.  The test suite checks that both constructions agree and
# that these are all the fields.
_slot_setters: list[Any] = [
    ServerSentEvent.__dict__[field.name].__set__ for field in attrs.fields(ServerSentEvent)
]


def _parse_line(line: str) -> tuple[str, str] | None:
    """The field name and value of a non-empty line; ``None`` for a comment."""
    if line[0] == ":":
        return None
    colon = line.find(":")
    if colon < 0:
        return line, ""
    # One leading space of the value is removed.
    if line[colon + 1 : colon + 2] == " ":
        return line[:colon], line[colon + 2 :]
    return line[:colon], line[colon + 1 :]


def _parse_retry(value: str) -> int | None:
    """The reconnection time of a ``retry`` value, ``None`` if it is not valid."""
    if value.isascii() and value.isdigit():
        try:
            return int(value)
        except ValueError:  # more digits than int() converts
            return None
    return None


# How far the open block was scanned for fields: (offset, has a field, retry).
_NO_SCAN: tuple[int, bool, int | None] = (0, False, None)

_DATA_RUN = 4096
"""Data lines of one block joined at a time, so that a block of many tiny lines
keeps a few large strings instead of millions of small ones."""


# Strategy
# --------
# Line ends, the byte order mark, the search for the end of a block and event
# sizes are handled on bytes; the lines of whole blocks are interpreted on
# text decoded in one go.  Decoding whole blocks together is the same as
# decoding the whole stream: CR and LF are ASCII, can never be part of a
# multi-byte sequence and so split the bytes exactly where they split the
# text, and the replacement of invalid bytes never crosses them.
#
# Per chunk, using only C-level scans and copies over the new bytes:
#
# 1. At the start of the stream hold up to 3 bytes back until it is known
#    whether they are a byte order mark.
# 2. If the previous chunk ended with CR, drop an LF at the start of this one
#    (a CRLF split across chunks).  Then, only if the chunk holds a CR,
#    normalise CRLF and CR to LF (``bytes.replace``), remembering whether the
#    chunk ended with a CR.  From here on lines end with LF only.
# 3. Everything after the last empty line is pending: the open block (its
#    complete lines and a partial line), kept as raw bytes in a
#    ``bytearray``.  If the chunk ends no block (it holds no "\n\n", and does
#    not start with "\n" right after a line end), append it and stop: only
#    the new bytes are scanned, so a long event fed in tiny pieces costs
#    linear time.
# 4. Otherwise the pending bytes plus the chunk up to its last empty line
#    are whole blocks: decode them and walk them with ``str.find`` (memchr)
#    from block to block.  The common shapes, ``event: X\ndata: Y\n\n`` and
#    ``data: Y\n\n``, become an event with a few ``startswith``/``find``
#    calls; other blocks go through a line-by-line interpreter that follows
#    the spec to the letter.  The rest of the chunk is the new open block.
#
# Since blocks are interpreted whole, the state carried from chunk to chunk is
# only the pending bytes and the last event ID.  A retry field, or a field
# that makes the input "incomplete", still in the open block is found by
# scanning the pending bytes when asked.
#
# Event size: the number of bytes of the lines of the event's block (comment
# lines included; line terminators and the byte order mark not included),
# counting also a partial line, so that an endless line cannot grow memory
# without bound.  The raw length of some bytes bounds the size of the blocks
# in them, so sizes are only measured once the raw length passes the limit:
# the open block's incrementally (C-level counts of the new bytes), the
# blocks a chunk ends one by one.  When an event is too large, the events
# completed before it are still returned; the error is raised at once if
# there are none, else by the next call, and the decoder stays failed.


_NAME_SCAN = 64 * 1024
"""How much of an oversized block is searched for its ``event:`` line."""


def _block_event_name(head: bytes) -> str | None:
    """The event name the complete lines of ``head`` set (the last ``event`` field wins)."""
    name = None
    for line in str(head, "utf-8", "replace").split("\n")[:-1]:
        field = _parse_line(line) if line else None
        if field is not None and field[0] == "event":
            name = field[1]
    return name


class SSEDecoder:
    """Incremental, sans-I/O decoder of a server-sent events stream.

    Feed it the bytes of the stream in chunks of any size with :meth:`feed`,
    which returns the events the chunk completes, and call :meth:`close` at
    end of input.

    ``max_event_size`` limits the size in bytes of one event (the bytes of the
    lines of its block without line terminators, comment lines included,
    counting a line still being received); a larger event raises
    :class:`~streamrun.EventTooLargeError`.  ``None`` disables the limit.
    """

    __slots__ = (
        "_at_start",
        "_closed",
        "_count",
        "_counted",
        "_error",
        "_head",
        "_incomplete_at_close",
        "_last_event_id",
        "_max_event_size",
        "_pending",
        "_retry",
        "_scan",
        "_skip_lf",
        "_special",
    )

    def __init__(self, max_event_size: int | None = DEFAULT_MAX_EVENT_SIZE) -> None:
        if max_event_size is not None and (
            isinstance(max_event_size, bool)
            or not isinstance(max_event_size, int)
            or max_event_size < 0
        ):
            raise ValidationError("max_event_size", "must be None or an integer >= 0")
        self._max_event_size = max_event_size
        # feed() must go through _prologue(): failed, closed, at the start of
        # the stream or after a CR.
        self._special = True
        self._at_start = True  # the byte order mark is not decided yet
        self._head = b""  # bytes held back while deciding on the byte order mark
        self._skip_lf = False  # the previous chunk ended with CR
        self._pending = bytearray()  # the open block: everything after the last empty line
        self._counted = (0, 0)  # see _open_block_size()
        self._scan = _NO_SCAN  # see _scan_open_block()
        self._last_event_id = ""
        self._retry: int | None = None  # the last valid retry of an ended block
        self._count = 0
        self._closed = False
        self._incomplete_at_close = False
        self._error: EventTooLargeError | None = None

    # -- public state -------------------------------------------------------

    @property
    def max_event_size(self) -> int | None:
        """The limit on one event's size in bytes, or ``None`` for no limit."""
        return self._max_event_size

    @property
    def last_event_id(self) -> str:
        """The last event ID, ``""`` if none.

        Set from the last valid ``id`` field when its block ends (with an empty
        line, whether or not the block dispatched an event) and kept across
        events: the spec's "last event ID string".
        """
        return self._last_event_id

    @property
    def retry(self) -> int | None:
        """The last valid ``retry`` value seen (milliseconds), or ``None``.

        A ``retry`` field counts as soon as its line is complete, even in a
        block not ended yet.
        """
        if self._pending:
            retry = self._scan_open_block()[1]
            if retry is not None:
                return retry
        return self._retry

    @property
    def events_dispatched(self) -> int:
        """The number of events returned so far: the 0-based position of the
        next event."""
        return self._count

    @property
    def incomplete(self) -> bool:
        """Whether the input so far ends inside an event.

        True when bytes of an unterminated line are pending or a field of a
        block not yet ended by an empty line was seen.  After :meth:`close`:
        whether the input ended inside an event (which was discarded).
        """
        if self._closed:
            return self._incomplete_at_close
        if self._head:
            return True
        pending = self._pending
        if not pending:
            return False
        return pending[-1] != 10 or self._scan_open_block()[0]

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    # -- input --------------------------------------------------------------

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """Decode the next chunk of the stream; return the events it completes.

        Raises :class:`~streamrun.EventTooLargeError` when an event exceeds
        ``max_event_size``: the events completed before it are returned first
        and the error is then raised by the next call; the decoder stays
        failed.  Raises :class:`~streamrun.ProtocolError` after :meth:`close`.
        """
        if type(chunk) is not bytes:
            chunk = bytes(chunk)
        if self._special:
            chunk = self._prologue(chunk)
            if not chunk:
                return []
        if 13 in chunk:  # a CR; an int test is much faster than b"\r" in chunk
            self._skip_lf = self._special = chunk[-1] == 13
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")

        pending = self._pending
        limit = self._max_event_size
        # The end of the last empty line: after the last "\n\n", or the first
        # byte when it is an LF and the pending bytes end with a line end.
        cut = chunk.rfind(b"\n\n") + 2
        if cut == 1 and (not chunk or chunk[0] != 10 or (pending and pending[-1] != 10)):
            # No block ends here.
            pending += chunk
            if limit is not None and len(pending) > limit:
                size = self._open_block_size()
                if size > limit:
                    self._fail(size, limit, [], bytes(pending[:_NAME_SCAN]))
            return []

        if pending:
            cut += len(pending)
            buf = b"".join((pending, chunk))
        else:
            buf = chunk
        out: list[ServerSentEvent] = []
        if limit is not None and len(buf) > limit:
            oversize = self._find_oversize(buf, limit)
            if oversize is not None:
                offset, size, end = oversize
                if offset:
                    self._blocks(str(buf[:offset], "utf-8", "replace"), out)
                # Its name is searched in its own lines only, not in the blocks after
                # it (an ended block gets back the line end its last line lost in the
                # split; an unended one's last line may be partial).
                head = buf[offset : min(end, offset + _NAME_SCAN)]
                if end < len(buf) and end <= offset + _NAME_SCAN:
                    head += b"\n"
                self._fail(size, limit, out, head)
                return out
        if pending:
            pending.clear()
        if cut < len(buf):
            pending += buf[cut:]
            buf = buf[:cut]
        self._scan = _NO_SCAN
        self._counted = (0, 0)
        self._blocks(str(buf, "utf-8", "replace"), out)
        self._count += len(out)
        return out

    def close(self) -> list[ServerSentEvent]:
        """Signal the end of the input.

        An event not ended by an empty line is discarded, never dispatched, so
        this returns ``[]``; the list return mirrors :meth:`feed`.
        :attr:`incomplete` then tells whether the input ended inside an event.
        Calling it again does nothing.  Raises a pending
        :class:`~streamrun.EventTooLargeError`.
        """
        if self._error is not None:
            raise self._error
        if self._closed:
            return []
        self._incomplete_at_close = self.incomplete
        self._retry = self.retry
        self._closed = self._special = True
        self._discard()
        return []

    # -- internals ----------------------------------------------------------

    def _prologue(self, chunk: bytes) -> bytes:
        """The uncommon start of :meth:`feed`: errors, byte order mark, CRLF split."""
        if self._error is not None:
            raise self._error
        if self._closed:
            raise ProtocolError("feed() called after close()", position=self._count)
        if self._at_start:
            head = self._head + chunk
            if len(head) < 3 and _BOM.startswith(head):
                self._head = head
                return b""
            self._at_start = False
            self._head = b""
            chunk = head[3:] if head.startswith(_BOM) else head
        if self._skip_lf and chunk:
            self._skip_lf = False
            if chunk[0] == 10:
                chunk = chunk[1:]
        self._special = self._skip_lf
        return chunk

    def _discard(self) -> None:
        self._head = b""
        self._pending = bytearray()
        self._counted = (0, 0)
        self._scan = _NO_SCAN

    def _fail(self, size: int, limit: int, out: list[ServerSentEvent], head: bytes) -> None:
        """An event is too large: fail now if ``out`` is empty, else on the next call.

        ``head`` is the start of the oversized block, searched for its event name.
        """
        self._count += len(out)
        self._error = EventTooLargeError(
            size, limit, position=self._count, event=_block_event_name(head)
        )
        self._special = True
        self._discard()
        if not out:
            raise self._error

    @staticmethod
    def _find_oversize(buf: bytes, limit: int) -> tuple[int, int, int] | None:
        """The offset in ``buf`` of the first block larger than ``limit``, its size
        and the offset of its end; ``buf`` starts at the start of a block."""
        offset = 0
        for piece in buf.split(b"\n\n"):
            # A piece is the lines of a block, or an empty line and a block.
            size = len(piece) - piece.count(b"\n")
            if size > limit:
                return offset, size, offset + len(piece)
            offset += len(piece) + 2
        return None

    def _open_block_size(self) -> int:
        """The size of the open block: its bytes less its line ends.

        Incremental: ``_counted`` holds how many bytes of the open block were
        scanned and how many LFs they hold; feed() resets it when a new open
        block starts.
        """
        start, newlines = self._counted
        pending = self._pending
        newlines += pending.count(b"\n", start)
        self._counted = (len(pending), newlines)
        return len(pending) - newlines

    def _scan_open_block(self) -> tuple[bool, int | None]:
        """Whether the complete lines of the open block have a field, and the
        last valid retry value among them.

        Incremental: ``_scan`` holds how far the open block was scanned and
        what was found; feed() resets it when a new open block starts.
        """
        start, has_field, retry = self._scan
        pending = self._pending
        end = pending.rfind(b"\n")
        if end >= start:
            # C-level counts and searches over the bytes, not a list of lines:
            # an open block of millions of tiny lines must not cost millions of
            # objects. The open block holds no empty line (that would have ended
            # it), so a line is a field unless it is a comment (starts with ":").
            if not has_field and end > start:
                has_field = pending[start] != 58 or pending.count(b"\n", start, end) != (
                    pending.count(b"\n:", start, end)
                )
            # Only lines starting with "retry" can set it: visit just those.
            at = (
                start
                if pending.startswith(b"retry", start)
                else pending.find(b"\nretry", start, end)
            )
            while 0 <= at < end:
                if pending[at] == 10:
                    at += 1
                stop = pending.find(b"\n", at, end)
                stop = end if stop < 0 else stop
                field = _parse_line(str(pending[at:stop], "utf-8", "replace"))
                if field is not None and field[0] == "retry":
                    valid = _parse_retry(field[1])
                    if valid is not None:
                        retry = valid
                at = pending.find(b"\nretry", stop, end)
            self._scan = (end + 1, has_field, retry)
        return has_field, retry

    def _blocks(self, text: str, out: list[ServerSentEvent]) -> None:
        """Interpret whole blocks: ``text`` starts at the start of a block and
        ends with an empty line."""
        find = text.find
        startswith = text.startswith
        append = out.append
        new = object.__new__
        cls = ServerSentEvent
        set_event, set_data, set_id, set_retry = _slot_setters
        last_id = self._last_event_id
        pos = 0
        size = len(text)
        while pos < size:
            # Fast paths: a block with exactly these two fields.  Every find
            # below succeeds, since text ends with LF.
            if startswith("event: ", pos):
                nl = find("\n", pos + 7)
                if startswith("data: ", nl + 1):
                    end = find("\n", nl + 7)
                    if startswith("\n", end + 1):
                        # ServerSentEvent(name or "message", data, last_id, None)
                        event = new(cls)
                        set_event(event, text[pos + 7 : nl] or "message")
                        set_data(event, text[nl + 7 : end])
                        set_id(event, last_id)
                        set_retry(event, None)
                        append(event)
                        pos = end + 2
                        continue
            elif startswith("data: ", pos):
                end = find("\n", pos + 6)
                if startswith("\n", end + 1):
                    event = new(cls)
                    set_event(event, "message")
                    set_data(event, text[pos + 6 : end])
                    set_id(event, last_id)
                    set_retry(event, None)
                    append(event)
                    pos = end + 2
                    continue
            elif startswith("\n", pos):  # an empty line that ends an empty block
                pos += 1
                continue
            pos = self._block(text, pos, out)
            last_id = self._last_event_id

    def _block(self, text: str, pos: int, out: list[ServerSentEvent]) -> int:
        """Interpret the block of ``text`` starting at ``pos``, straight from the
        spec; return the position after the empty line that ends it."""
        blank = text.find("\n\n", pos)
        data: list[str] = []
        runs: list[str] = []  # data lines already joined, _DATA_RUN at a time
        event_type = ""
        last_id = self._last_event_id
        retry = None
        find = text.find
        start = pos
        # Line by line with find(), not split(): a block of millions of tiny
        # lines must not become a list of millions of strings.
        while start < blank:
            end = find("\n", start)
            line = text[start:end]
            start = end + 1
            field = _parse_line(line)
            if field is None:
                continue
            name, value = field
            if name == "data":
                data.append(value)
                if len(data) == _DATA_RUN:
                    runs.append("\n".join(data))
                    data.clear()
            elif name == "event":
                event_type = value
            elif name == "id":
                if "\0" not in value:
                    last_id = value
            elif name == "retry":
                valid = _parse_retry(value)
                if valid is not None:
                    retry = self._retry = valid
            # Other fields are ignored.
        # Dispatch: the last event ID is set even when nothing is dispatched.
        self._last_event_id = last_id
        if runs:
            if data:
                runs.append("\n".join(data))
            data = runs
        if data:
            out.append(ServerSentEvent(event_type or "message", "\n".join(data), last_id, retry))
        return blank + 2
