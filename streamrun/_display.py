"""The live terminal display of run streams (used by the ``streamrun`` command).

One :class:`Display` draws every stream of a command, through a fresh
handler per stream (:meth:`Display.handler`), so that what a person sees is
the same for a live run and for a replayed recording. Each line starts with
a label in a fixed-width gutter::

    thread    thread_abc
    run       run_abc · queued → in progress
    tool      get_current_weather({"location":"Paris, France","unit":"celsius"})
    run       requires action
    output    {"temperature": 18, "unit": "celsius", "conditions": "light rain"}
    run       queued → in progress
    assistant It's 18 °C in Paris right now with light rain.
    run       completed
    usage     720 prompt + 28 completion = 748 tokens

Text and tool arguments are written as they stream. Modes:

* ``pretty`` (a terminal): colours (unless ``NO_COLOR``), and a spinner on
  the line of the run's status while the run is queued or in progress and
  nothing streams; the spinner line is erased (``\\r`` + erase-line) before
  anything else is written.
* ``plain`` (not a terminal, or ``TERM=dumb``): the same text without any
  escape sequence; a status line is written once complete.

Text that came from a server or a recording never carries a control
sequence to the terminal (:func:`clean`), nor a known secret
(:func:`streamrun._redact.redact_secrets`).
* ``json``: one JSON object per event, ``{"event": name, "data": raw JSON}``
  (for a Responses stream, its own events: ``response.*`` names and JSON);
  other lines go to the error stream.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import textwrap
import time
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from typing import Literal, TextIO

from ._events import Event, ThreadCreated
from ._exceptions import StreamError
from ._handler import AsyncEventHandler
from ._models import (
    CodeInterpreterImage,
    CodeInterpreterLogs,
    CodeInterpreterToolCall,
    CodeInterpreterToolCallDelta,
    FileCitationAnnotation,
    FilePathAnnotation,
    FileSearchToolCall,
    FunctionToolCall,
    FunctionToolCallDelta,
    ImageFile,
    ImageURL,
    Message,
    Run,
    Text,
    TextDelta,
    ToolCall,
    ToolCallDelta,
)
from ._redact import MIN_SECRET, redact_secrets
from ._redact_fragments import FragmentRedactor

__all__ = ["GUTTER", "Display", "Mode", "choose_color", "choose_mode", "clean"]

Mode = Literal["pretty", "plain", "json"]

#: Width of the label column.
GUTTER = 10

_SETTLED = frozenset({"completed", "failed", "cancelled", "expired", "incomplete"})
_SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
_OUTPUT_LIMIT = 300

_RESET = "\x1b[0m"
_STYLES: Mapping[str, str] = {
    "bold": "\x1b[1m",
    "dim": "\x1b[2m",
    "red": "\x1b[31m",
    "green": "\x1b[32m",
    "yellow": "\x1b[33m",
    "magenta": "\x1b[35m",
    "cyan": "\x1b[36m",
    "bold-cyan": "\x1b[1;36m",
    "bold-magenta": "\x1b[1;35m",
    "bold-yellow": "\x1b[1;33m",
}
_LABEL_STYLES: Mapping[str, str] = {
    "you": "bold",
    "assistant": "bold-cyan",
    "refusal": "bold-yellow",
    "tool": "bold-magenta",
    "output": "magenta",
    "logs": "magenta",
    "image": "magenta",
    "file": "magenta",
    "source": "dim",
    "thread": "dim",
    "run": "dim",
    "usage": "dim",
    "note": "yellow",
}
_STATUS_STYLES: Mapping[str, str] = {
    "completed": "green",
    "requires action": "yellow",
    "failed": "red",
    "expired": "red",
    "cancelled": "red",
    "incomplete": "red",
}


# Terminal control sequences: CSI (ESC [ or 8-bit CSI ... final byte), OSC / DCS /
# SOS / PM / APC strings (up to BEL or ST, or to the end of the text), and
# two-character ESC sequences. Whatever survives them, every C0 control but
# \n and \t, DEL and every C1 control is dropped too.
_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[\x20-\x3f]*[\x40-\x7e]?"
    r"|(?:\x1b[\]P^_X]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[\x20-\x7e]?"
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CRLF = re.compile(r"\r+\n")


def clean(text: str) -> str:
    """``text`` without any terminal control sequence or control character.

    Text from a server or a recording goes through this before it reaches
    the terminal: escape sequences (colours, cursor moves, clear-screen,
    window titles, OSC 52 clipboard writes) are removed whole, then every
    remaining C0/C1 control character (ESC, BEL, backspace, CR, ...) is
    dropped; ``\n`` and ``\t`` are kept (``\r\n`` becomes ``\n``).
    """
    if text.isprintable():
        return text
    text = _CRLF.sub("\n", text)
    return _CONTROL.sub("", _SEQUENCE.sub("", text))


_SGR = re.compile(r"\x1b\[[0-9;]*m")
_TOKENS = re.compile(r" +|[^ ]+")


def _cell(ch: str) -> int:
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def _cells(text: str) -> int:
    """Terminal columns ``text`` takes (colour codes take none; wide characters two)."""
    if "\x1b" in text:
        text = _SGR.sub("", text)
    if text.isascii():
        return len(text)
    return sum(_cell(ch) for ch in text)


def _fit(text: str, room: int) -> int:
    """How many characters of ``text`` (at least one) fit in ``room`` columns."""
    used = 0
    for i, ch in enumerate(text):
        used += _cell(ch)
        if used > room:
            return max(1, i)
    return len(text)


def _json_escape(text: str) -> str:
    """JSON text with DEL and C1 controls escaped (``json.dumps`` escapes only C0)."""
    return re.sub(r"[\x7f-\x9f]", lambda m: f"\\u{ord(m.group()):04x}", text)


def choose_mode(out: TextIO, *, json_lines: bool, env: Mapping[str, str] | None = None) -> Mode:
    """``json`` when asked; ``pretty`` on a terminal (unless ``TERM=dumb``); else ``plain``.

    ``NO_COLOR`` does not change the mode (see :func:`choose_color`).
    """
    if json_lines:
        return "json"
    env = os.environ if env is None else env
    if env.get("TERM") == "dumb":
        return "plain"
    try:
        tty = out.isatty()
    except (AttributeError, ValueError):
        tty = False
    return "pretty" if tty else "plain"


def choose_color(env: Mapping[str, str] | None = None) -> bool:
    """False when ``NO_COLOR`` is set (non-empty): it removes colour, nothing else."""
    env = os.environ if env is None else env
    return not env.get("NO_COLOR")


def _status_label(status: str) -> str:
    return status.replace("_", " ")


def _one_line(text: str, limit: int = _OUTPUT_LIMIT) -> str:
    flat = " ".join(text.split("\n"))
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _complete_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def usage_text(run: Run) -> str | None:
    """``"P prompt + C completion = T tokens"`` for a run with usage, else ``None``."""
    u = run.usage
    if u is None:
        return None
    return f"{u.prompt_tokens} prompt + {u.completion_tokens} completion = {u.total_tokens} tokens"


def run_outcome(run: Run) -> str:
    """What ended a run, in a few words (``"rate_limit_exceeded: ..."``), or ``""``."""
    if run.status in ("failed", "expired") and run.last_error is not None:
        err = run.last_error
        return f"{err.code}: {err.message}" if err.code else err.message
    if run.status == "incomplete" and run.incomplete_details is not None:
        return run.incomplete_details.reason or ""
    return ""


class _Call:
    """What the display knows about one tool call."""

    __slots__ = ("_printed", "done", "kind", "name", "output_shown", "printed_len", "snapshot")

    def __init__(self, kind: str, name: str) -> None:
        self.kind = kind
        self.name = name
        # The arguments written so far, in pieces (joined only when read: one
        # string grown per fragment made 200k fragments quadratic).
        self._printed: list[str] = []
        self.printed_len = 0
        self.done = False  # the call's line was written completely
        self.output_shown = False
        self.snapshot: ToolCall | None = None

    @property
    def printed(self) -> str:
        """The arguments written so far."""
        if len(self._printed) > 1:
            self._printed[:] = ["".join(self._printed)]
        return self._printed[0] if self._printed else ""

    @printed.setter
    def printed(self, value: str) -> None:
        self._printed[:] = [value]
        self.printed_len = len(value)

    def add_printed(self, piece: str) -> None:
        self._printed.append(piece)
        self.printed_len += len(piece)

    def arguments(self) -> str:
        snap = self.snapshot
        return snap.function.arguments if isinstance(snap, FunctionToolCall) else ""


class Display:
    """Draws run streams on ``out`` (see the module docstring for the modes).

    ``err`` receives the non-event lines in ``json`` mode. ``width`` gives the
    terminal width (for the spinner line). Use :meth:`handler` for each
    stream, :meth:`user`, :meth:`note`, :meth:`tool_output` for lines of the
    command itself, and :meth:`finish` before writing anywhere else.
    """

    def __init__(
        self,
        out: TextIO,
        err: TextIO | None = None,
        *,
        mode: Mode = "plain",
        width: Callable[[], int] | None = None,
        spinner_interval: float = 0.08,
        clock: Callable[[], float] = time.monotonic,
        secrets: Iterable[str] = (),
        color: bool = True,
        wrap: bool = False,
    ) -> None:
        self.out = out
        self.err = err if err is not None else out
        self.mode: Mode = mode
        self._width = width or (lambda: shutil.get_terminal_size((80, 24)).columns)
        self._interval = spinner_interval
        self._clock = clock
        self._column = 0  # cells written on the current line
        self._word = ""  # the end of streamed text that may be the start of a word (wrap)
        self._word_style: str | None = None
        self._open: tuple[str, str] | None = None  # (kind, key) of the block being written
        self._indent_due = False
        self._text_printed: list[str] = []  # the text part written so far, in pieces
        self._text_serial = 0
        self._labelled_messages: set[str] = set()
        self._trail: list[str] | None = None
        self._trail_prefix = ""
        self._last_status: tuple[str, str] | None = None
        self._shown_runs: set[str] = set()
        self._shown_threads: set[str] = set()
        self._calls: dict[str, _Call] = {}
        self._waiting_since: float | None = None
        self._activity: str | None = None
        self._live = False
        self._live_cells = 0  # columns the live line took when it was drawn
        self._frame = 0
        self._spinner: asyncio.Task[None] | None = None
        self.secrets = tuple(secrets)
        self.color = color
        self.wrap = wrap
        self._shown: list[tuple[str, str]] = []
        self._last_wire: object = None  # the Responses event printed last (json mode)
        # json mode: a key cut across two deltas is masked once whole (the lines
        # of deltas hold back what could be its start).
        self._fragments = FragmentRedactor(self.secrets)

    @property
    def _col0(self) -> bool:
        return self._column == 0

    @_col0.setter
    def _col0(self, value: bool) -> None:
        self._column = 0 if value else max(self._column, 1)

    # -- public ------------------------------------------------------------

    def handler(
        self, on_tool_output: Callable[[str, str], None] | None = None
    ) -> AsyncEventHandler:
        """A handler drawing one stream on this display (one per stream; a tool loop's
        continuation is the same stream). ``on_tool_output(call_id, output)`` is also
        told each output the tool loop computes (after it is shown)."""
        return _View(self, on_tool_output)

    @property
    def json(self) -> bool:
        """True in ``json`` mode."""
        return self.mode == "json"

    def user(self, text: str) -> None:
        """A line of what the user said."""
        self.remember("you", text)
        self.line("you", text)

    def remember(self, kind: str, text: str) -> None:
        """Keep a line shown before the next stream (``"banner"`` or ``"you"``) for
        its recording (:meth:`take_shown`); a ``you`` line typed at a prompt is
        remembered without being drawn again."""
        self._shown.append((kind, text))

    def take_shown(self) -> list[tuple[str, str]]:
        """The lines remembered since the last call (see :meth:`remember`)."""
        shown, self._shown = self._shown, []
        return shown

    def note(self, text: str) -> None:
        """An informational line (the error stream in ``json`` mode)."""
        self.line("note", text)

    def banner(self, text: str) -> None:
        """A line without label (the error stream in ``json`` mode)."""
        self.remember("banner", text)
        if self.mode == "json":
            self._err(text)
            return
        self._start_line()
        width = self._wrap_width()
        if width is not None and text:
            text = textwrap.fill(self.safe(text), width, break_on_hyphens=False)
        self._emit(self._style("bold", text) + "\n" if text else "\n")

    def line(self, label: str, text: str, style: str | None = None) -> None:
        """A labelled line; continuation lines of ``text`` are indented."""
        self._line(label, self._style(style, text))

    def _line(self, label: str, styled: str) -> None:
        """A labelled line of text already made safe by :meth:`_style`."""
        if self.mode == "json":
            self._err(f"{label.ljust(GUTTER)}{styled}" if label else styled)
            return
        self._start_line()
        self._emit(self._label(label))
        self._flow(styled)
        self._close_open()
        if not self._col0:
            self._emit("\n")
        self._indent_due = False

    def tool_output(self, call_id: str, output: str) -> None:
        """The output submitted for a tool call (shown once per call)."""
        call = self._calls.setdefault(call_id, _Call("function", ""))
        if call.output_shown:
            return
        call.output_shown = True
        self.line("output", _one_line(self.safe(output)))  # redacted before it is cut

    def mark_output_shown(self, call_id: str) -> None:
        """Don't show the output of ``call_id`` (the user typed it on this screen)."""
        self._calls.setdefault(call_id, _Call("function", "")).output_shown = True

    def prompt(self, label: str) -> None:
        """Write a label as an input prompt (the user's typing follows it)."""
        self.finish()
        if self.mode == "json":
            self.err.write(self.safe(label).ljust(GUTTER))
            self.err.flush()
            return
        self._emit(self._label(label))

    def prompt_text(self, label: str) -> str:
        """A prompt for ``readline`` / ``input()``: the label, its colour codes marked
        invisible (``\\001 … \\002``) so that line editing counts columns right."""
        return re.sub(r"(\x1b\[[0-9;]*m)", "\x01\\1\x02", self._label(label))

    def input_done(self) -> None:
        """The user pressed Enter after a :meth:`prompt`: the cursor is on a new line."""
        self._col0 = True

    def input_ended(self) -> None:
        """The input ended (Ctrl-D) or was interrupted (Ctrl-C) at a prompt: end its line."""
        self._col0 = False
        self.finish()

    def busy(self, activity: str | None) -> None:
        """Show a spinner with ``activity`` (``None`` stops it) until the next output."""
        self._activity = activity
        if activity is None:
            self._stop_waiting()
        else:
            self._start_waiting()

    def finish(self) -> None:
        """End every open line and stop the spinner (call before writing elsewhere)."""
        self._close_open()
        self._commit_trail()
        self._stop_waiting()
        self._erase_live()
        if self._spinner is not None:
            self._spinner.cancel()
            self._spinner = None
        if not self._col0 and self.mode != "json":  # e.g. a prompt left by Ctrl-C
            self._emit("\n")
        self._flush()

    # -- writing -----------------------------------------------------------

    def safe(self, text: str) -> str:
        """``text`` fit for the terminal: no control sequence, no secret (see :func:`clean`)."""
        return redact_secrets(clean(text), self.secrets)

    def _style(self, style: str | None, text: str) -> str:
        """``text`` made safe (:meth:`safe`), then coloured in pretty mode."""
        return self._colour(style, self.safe(text))

    def _colour(self, style: str | None, text: str) -> str:
        if self.mode != "pretty" or not self.color or not style or not text:
            return text
        return f"{_STYLES[style]}{text}{_RESET}"

    def _label(self, label: str) -> str:
        pad = " " * max(1, GUTTER - len(label)) if label else " " * GUTTER
        return self._style(_LABEL_STYLES.get(label), label) + pad

    def _err(self, text: str) -> None:
        self.err.write(self.safe(text) + "\n")
        self.err.flush()

    def _flush(self) -> None:
        try:
            self.out.flush()
        except (OSError, ValueError):
            pass

    def _emit(self, text: str) -> None:
        if not text:
            return
        self._erase_live()
        self.out.write(text)
        self._flush()
        _, newline, last = text.rpartition("\n")
        self._column = (0 if newline else self._column) + _cells(last)
        self._draw_live()

    def _wrap_width(self) -> int | None:
        """The width to wrap text at, or ``None`` when lines are not wrapped."""
        if not self.wrap or self.mode == "json":
            return None
        return max(GUTTER + 20, self._width())

    def _flow(self, text: str, style: str | None = None) -> None:
        """Write safe ``text`` inside a block: lines after the first are indented to
        the gutter and, with ``wrap``, long lines wrap at word boundaries inside it
        (a word longer than a line is cut)."""
        width = self._wrap_width()
        out: list[str] = []
        col = self._column
        gutter = "\n" + " " * GUTTER
        for i, part in enumerate(text.split("\n")):
            if i:
                out.append("\n")
                self._indent_due = True
                col = 0
            if not part:
                continue
            if self._indent_due:
                out.append(" " * GUTTER)
                self._indent_due = False
                col = GUTTER
            if width is None:
                out.append(self._colour(style, part))
                continue
            for token in _TOKENS.findall(part):
                cells = _cells(token)
                if token[0] == " ":
                    if col + cells > width:
                        out.append(gutter)  # the spaces become the line break
                        col = GUTTER
                    else:
                        out.append(token)
                        col += cells
                    continue
                if col + cells > width and col > GUTTER:
                    out.append(gutter)
                    col = GUTTER
                while col + cells > width and len(token) > 1:
                    cut = _fit(token, width - col)
                    out.append(self._colour(style, token[:cut]) + gutter)
                    col = GUTTER
                    token = token[cut:]
                    cells = _cells(token)
                out.append(self._colour(style, token))
                col += cells
        self._emit("".join(out))

    def _flush_word(self) -> None:
        word, self._word = self._word, ""
        if word:
            self._flow(word, self._word_style)

    def _start_line(self) -> None:
        self._close_open()
        self._commit_trail()
        if not self._col0:
            self._emit("\n")

    def _open_block(self, kind: str, key: str, label: str) -> None:
        self._start_line()
        self._emit(self._label(label))
        self._open = (kind, key)
        self._indent_due = False

    def _close_open(self) -> None:
        opened = self._open
        if opened is None:
            return
        self._open = None
        kind, key = opened
        self._flush_word()
        if kind == "tool":
            call = self._calls[key]
            rest = call.arguments()
            self._flow(self.safe(rest[call.printed_len :]), "dim")
            self._emit(")\n")
            call.printed = rest
            call.done = True
        elif not self._col0:
            self._emit("\n")
        self._indent_due = False

    # -- the live line (pretty mode) -------------------------------------

    def _trail_text(self) -> str:
        return self._trail_prefix + " → ".join(self._trail or [])

    def _commit_trail(self) -> None:
        if self._trail is None:
            return
        items = self._trail
        prefix = self._trail_prefix
        self._trail = None
        self._erase_live()
        if not self._col0:
            self._emit("\n")
        self._emit(self._label("run"))
        self._flow(self.safe(prefix), "dim")
        for i, item in enumerate(items):
            if i:
                self._flow(" → ")
            self._flow(self.safe(item), _STATUS_STYLES.get(item.split(" · ")[0]))
        self._emit("\n")

    def _start_waiting(self) -> None:
        if self._waiting_since is None:
            self._waiting_since = self._clock()
        if self.mode != "pretty":
            return
        if self._spinner is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                loop = None
            if loop is not None:
                self._spinner = loop.create_task(self._spin())
        self._draw_live()

    def _stop_waiting(self) -> None:
        self._waiting_since = None
        self._activity = None
        self._draw_live()

    async def _spin(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            self._frame += 1
            self._draw_live()

    def _erase_live(self) -> None:
        if self._live:
            # A terminal made narrower since the line was drawn has wrapped it
            # (terminals reflow): erase every row it now takes, not only the last.
            rows = -(-self._live_cells // max(1, self._width()))
            self.out.write(f"\r\x1b[{rows - 1}A\x1b[J" if rows > 1 else "\r\x1b[K")
            self._live = False

    def _draw_live(self) -> None:
        if self.mode != "pretty" or not self._col0:
            return
        trail = self.safe(self._trail_text()) if self._trail is not None else ""
        waiting = self._waiting_since is not None
        if not trail and not waiting:
            if self._live:
                self._erase_live()
                self._flush()
            return
        label = "run" if trail else ""
        spin = ""
        if waiting:
            assert self._waiting_since is not None
            seconds = self._clock() - self._waiting_since
            frame = _SPINNER[self._frame % len(_SPINNER)]
            what = self._activity or ("" if trail else "waiting")
            spin = f"{frame} {what} {seconds:.1f}s".replace("  ", " ")
        room = max(10, self._width() - 1) - GUTTER
        body = trail + ("  " if trail and spin else "") + spin
        if len(body) > room:
            body = body[: room - 1] + "…"
        text = self._label(label) + self._style("dim", body[: len(trail)])
        text += self._style("cyan", body[len(trail) :])
        self._erase_live()
        self.out.write("\r\x1b[K" + text)
        self._flush()
        self._live = True
        self._live_cells = _cells(text)

    # -- events ------------------------------------------------------------

    def _event(self, event: Event) -> None:
        if self.mode == "json":
            raw = event.raw
            if isinstance(raw, (dict, list)) or raw is None:
                self._json_lines(event.event, raw)
            elif raw is not self._last_wire:
                # A Responses stream: print each wire event once (several mapped
                # events may come from it), by its own name and JSON.
                self._last_wire = raw
                self._json_lines(str(getattr(raw, "type", event.event)), getattr(raw, "raw", None))
            return
        name = event.event
        if isinstance(event, ThreadCreated):
            thread_id = event.data.id
            if thread_id and thread_id not in self._shown_threads:
                self._shown_threads.add(thread_id)
                self.line("thread", thread_id)
        elif name.startswith("thread.run.") and ".step." not in name:
            data = event.data
            if isinstance(data, Run):
                self._run_event(name, data)

    def _json_lines(self, name: str, data: object) -> None:
        """The lines of an event (json mode), after the held text it releases."""
        for out_name, out_data in self._fragments.feed(name, data):
            self._json_line(out_name, out_data)

    def _json_flush(self) -> None:
        """Print the held text (json mode): the stream ended."""
        for name, data in self._fragments.flush():
            self._json_line(name, data)

    def _json_line(self, name: str, data: object) -> None:
        text = json.dumps({"event": name, "data": data}, ensure_ascii=False)
        self.out.write(redact_secrets(_json_escape(text), self.secrets) + "\n")
        self._flush()

    def _run_event(self, name: str, run: Run) -> None:
        status = run.status or name.rsplit(".", 1)[-1]
        if name == "thread.run.requires_action":
            self._requires_action(run)
        key = (run.id, status)
        if key == self._last_status:
            return
        self._last_status = key
        self._close_open()
        # Why a run failed is said once, by the command's error line.
        label = _status_label(status)
        if self._trail is None:
            self._commit_trail()
            if not self._col0:
                self._emit("\n")
            self._trail = []
            self._trail_prefix = ""
            if run.id and run.id not in self._shown_runs:
                self._shown_runs.add(run.id)
                self._trail_prefix = f"{run.id} · "
        self._trail.append(label)
        if status in _SETTLED or status == "requires_action":
            self._stop_waiting()
            self._commit_trail()
            usage = usage_text(run) if status in _SETTLED else None
            if usage:
                self.line("usage", usage, "dim")
        else:
            self._activity = None
            self._waiting_since = None
            self._start_waiting()
            self._draw_live()

    def _requires_action(self, run: Run) -> None:
        action = run.required_action
        if action is None:
            return
        for listed in action.submit_tool_outputs.tool_calls:
            call = self._calls.get(listed.id)
            if call is None:
                call = self._calls[listed.id] = _Call("function", listed.function.name)
            if call.done:
                continue
            if self._open == ("tool", listed.id):
                self._close_open()
                continue
            self._tool_line(listed.function.name, listed.function.arguments)
            call.printed = listed.function.arguments
            call.done = True

    # -- message content ---------------------------------------------------

    def _text_created(self, message_id: str, label: str) -> None:
        self._text_serial += 1
        self._text_printed = []
        self._open_text(message_id, label)

    def _open_text(self, message_id: str, label: str) -> None:
        if message_id and message_id in self._labelled_messages:
            label = ""
        elif message_id:
            self._labelled_messages.add(message_id)
        self._open_block("text", str(self._text_serial), label)

    def _text_delta(self, value: str, message_id: str, label: str) -> None:
        if self._open != ("text", str(self._text_serial)):
            self._open_text(message_id, label)
        self._text_printed.append(value)
        self._stream(value)

    def _stream(self, value: str, style: str | None = None) -> None:
        """Write a streamed fragment (text, tool arguments) in the open block."""
        # What was held back goes with this fragment: a key cut across fragments is
        # redacted once it is whole.
        text = self.safe(self._word + value)
        self._word = ""
        hold = self._secret_tail(text)  # the start of a key, perhaps
        width = self._wrap_width()
        if width is not None:
            # Hold back a word that may go on in the next fragment (it might not fit).
            start, limit = len(text), max(0, len(text) - (width - GUTTER))
            while start > limit and text[start - 1] not in " \n":
                start -= 1
            bounded = start == 0 or text[start - 1] in " \n"
            if bounded and start < len(text) and _cells(text[start:]) < width - GUTTER:
                hold = max(hold, len(text) - start)
        if hold:
            self._word = text[-hold:]
            self._word_style = style
            text = text[:-hold]
        self._flow(text, style)

    def _secret_tail(self, text: str) -> int:
        """The length of the end of ``text`` that is the start of a secret, or 0."""
        hold = 0
        for secret in self.secrets:
            if len(secret) < MIN_SECRET:
                continue
            i = text.find(secret[0], max(0, len(text) - len(secret) + 1))
            while i != -1:
                if secret.startswith(text[i:]):
                    hold = max(hold, len(text) - i)
                    break
                i = text.find(secret[0], i + 1)
        return hold

    def _text_done(self, value: str, message_id: str, label: str) -> None:
        if self._open != ("text", str(self._text_serial)):
            if self._text_printed:  # the part's line was ended early: no correction
                return
            self._open_text(message_id, label)
        self._flush_word()
        printed = "".join(self._text_printed)
        if value.startswith(printed):
            self._flow(self.safe(value[len(printed) :]))
        self._text_printed = [value]
        self._close_open()

    def _message_part(self, message_id: str, text: str) -> None:
        """A whole (non-text) part of an assistant message, on its own line."""
        label = "assistant"
        if message_id and message_id in self._labelled_messages:
            label = ""
        elif message_id:
            self._labelled_messages.add(message_id)
        self.line(label, text, "dim")

    def _annotations(self, text: Text) -> None:
        for ann in text.annotations:
            if isinstance(ann, FileCitationAnnotation):
                self.line("source", f"{ann.text} → {ann.file_citation.file_id}", "dim")
            elif isinstance(ann, FilePathAnnotation):
                self.line("file", f"{ann.text} → {ann.file_path.file_id}")

    def _message_done(self, message: Message) -> None:
        if message.status == "incomplete":
            reason = message.incomplete_details.reason if message.incomplete_details else None
            self.note(f"message incomplete ({reason})" if reason else "message incomplete")

    # -- tool calls ----------------------------------------------------------

    def _call(self, snapshot: ToolCall) -> _Call:
        call = self._calls.get(snapshot.id)
        if call is None:
            name = snapshot.function.name if isinstance(snapshot, FunctionToolCall) else ""
            call = self._calls[snapshot.id] = _Call(snapshot.type, name)
        call.snapshot = snapshot
        if isinstance(snapshot, FunctionToolCall) and snapshot.function.name:
            call.name = snapshot.function.name
        return call

    def _tool_line(self, name: str, arguments: str) -> None:
        """A whole ``tool name(arguments)`` line."""
        self._start_line()
        self._emit(self._label("tool"))
        self._flow(self._style("bold", name) + "(")
        self._flow(self.safe(arguments), "dim")
        self._emit(")\n")

    def _can_switch(self) -> bool:
        """True when no block is open, or the open one is a finished-looking call."""
        if self._open is None:
            return True
        kind, key = self._open
        return kind == "tool" and _complete_json(self._calls[key].arguments())

    def _open_call(self, call_id: str, call: _Call) -> None:
        self._open_block("tool", call_id, "tool")
        args = call.arguments()
        self._flow(self._style("bold", call.name) + "(")
        self._flow(self.safe(args), "dim")
        call.printed = args

    def _tool_created(self, snapshot: ToolCall) -> None:
        known = snapshot.id in self._calls
        call = self._call(snapshot)
        if known and (call.done or call.printed_len):
            return
        if isinstance(snapshot, CodeInterpreterToolCall):
            self._line("tool", self._style("bold", "code_interpreter"))
            self._open = ("code", snapshot.id)
            self._indent_due = True

    def _tool_delta(self, delta: ToolCallDelta, snapshot: ToolCall) -> None:
        call = self._call(snapshot)
        if call.done:
            return
        if isinstance(delta, FunctionToolCallDelta):
            if self._open == ("tool", snapshot.id):
                piece = delta.function.arguments if delta.function else None
                if piece:
                    self._stream(piece, "dim")
                    call.add_printed(piece)
            elif self._can_switch():
                self._close_open()
                self._open_call(snapshot.id, call)
        elif isinstance(delta, CodeInterpreterToolCallDelta):
            piece = delta.code_interpreter.input if delta.code_interpreter else None
            if piece and self._open == ("code", snapshot.id):
                self._flow(self._style("dim", piece))

    def _tool_done(self, snapshot: ToolCall) -> None:
        call = self._call(snapshot)
        if isinstance(snapshot, FunctionToolCall):
            fn = snapshot.function
            if self._open == ("tool", snapshot.id):
                self._close_open()
            elif not call.done or call.printed != fn.arguments:
                self._tool_line(fn.name, fn.arguments)
                call.printed = fn.arguments
                call.done = True
            if fn.output is not None:
                self.tool_output(snapshot.id, fn.output)
        elif isinstance(snapshot, CodeInterpreterToolCall):
            if self._open == ("code", snapshot.id):
                self._close_open()
            elif not call.done:
                self._line("tool", self._style("bold", "code_interpreter"))
                code = snapshot.code_interpreter.input
                if code:
                    self.line("", code, "dim")
            if not call.done:
                call.done = True
                for output in snapshot.code_interpreter.outputs:
                    if isinstance(output, CodeInterpreterLogs):
                        self.line("logs", output.logs.rstrip("\n"))
                    elif isinstance(output, CodeInterpreterImage):
                        self.line("image", output.image.file_id)
        elif isinstance(snapshot, FileSearchToolCall):
            if call.done:
                return
            call.done = True
            results = snapshot.file_search.results or []
            n = len(results)
            self._line("tool", self._style("bold", "file_search") + f" · {n} result(s)")
            for r in results:
                self.line("", f"{r.file_name or r.file_id} (score {r.score:.2f})", "dim")
        else:
            if call.done:
                return
            call.done = True
            self._line("tool", self._style("bold", snapshot.type or "tool call"))

    # -- stream end ----------------------------------------------------------

    def _stream_ended(self) -> None:
        self._close_open()
        self._commit_trail()
        self._stop_waiting()

    def _stream_failed(self, exc: Exception) -> None:
        if self.mode == "json":
            self._json_flush()
        if self.mode == "json" and isinstance(exc, StreamError):
            data = {"message": exc.message, "type": exc.type, "param": exc.param, "code": exc.code}
            self._json_line("error", data)
            return
        self._stream_ended()


class _View(AsyncEventHandler):
    """The handler of one stream, drawing on a :class:`Display`."""

    def __init__(
        self, display: Display, on_tool_output: Callable[[str, str], None] | None = None
    ) -> None:
        self._d = display
        self._on_tool_output = on_tool_output

    def _message_id(self) -> str:
        snap = self.current_message_snapshot
        return snap.id if snap is not None else ""

    async def on_event(self, event: Event) -> None:
        self._d._event(event)

    async def on_tool_output(self, tool_call: ToolCall, output: str) -> None:
        self._d.tool_output(tool_call.id, output)
        if self._on_tool_output is not None:
            self._on_tool_output(tool_call.id, output)

    async def on_text_created(self, text: Text) -> None:
        if self._d.mode != "json":
            self._d._text_created(self._message_id(), "assistant")

    async def on_text_delta(self, delta: TextDelta, snapshot: Text) -> None:
        if self._d.mode != "json" and delta.value:
            self._d._text_delta(delta.value, self._message_id(), "assistant")

    async def on_text_done(self, text: Text) -> None:
        if self._d.mode != "json":
            self._d._text_done(text.value, self._message_id(), "assistant")
            self._d._annotations(text)

    async def on_refusal_created(self, refusal: str) -> None:
        if self._d.mode != "json":
            self._d._text_created(self._message_id(), "refusal")

    async def on_refusal_delta(self, delta: str, snapshot: str) -> None:
        if self._d.mode != "json" and delta:
            self._d._text_delta(delta, self._message_id(), "refusal")

    async def on_refusal_done(self, refusal: str) -> None:
        if self._d.mode != "json":
            self._d._text_done(refusal, self._message_id(), "refusal")

    async def on_image_file_done(self, image_file: ImageFile) -> None:
        if self._d.mode != "json":
            self._d._message_part(self._message_id(), f"[image {image_file.file_id}]")

    async def on_image_url_done(self, image_url: ImageURL) -> None:
        if self._d.mode != "json":
            self._d._message_part(self._message_id(), f"[image {image_url.url}]")

    async def on_message_done(self, message: Message) -> None:
        if self._d.mode != "json":
            self._d._message_done(message)

    async def on_tool_call_created(self, tool_call: ToolCall) -> None:
        if self._d.mode != "json":
            self._d._tool_created(tool_call)

    async def on_tool_call_delta(self, delta: ToolCallDelta, snapshot: ToolCall) -> None:
        if self._d.mode != "json":
            self._d._tool_delta(delta, snapshot)

    async def on_tool_call_done(self, tool_call: ToolCall) -> None:
        if self._d.mode != "json":
            self._d._tool_done(tool_call)

    async def on_end(self) -> None:
        if self._d.mode != "json":
            self._d._stream_ended()
        else:
            self._d._json_flush()

    async def on_exception(self, exception: Exception) -> None:
        self._d._stream_failed(exception)

    async def on_timeout(self) -> None:
        if self._d.mode != "json":
            self._d._stream_ended()
        else:
            self._d._json_flush()
