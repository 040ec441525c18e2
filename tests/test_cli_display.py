"""The terminal display in process: safety of server text, and its cost."""

from __future__ import annotations

import asyncio
import gc
import io
import json
import re
import statistics
import time
from collections.abc import Callable

from hypothesis import given, settings, strategies as st

from streamrun._display import Display, Mode, clean
from streamrun._events import DoneEvent, Event, parse_event
from streamrun._models import (
    FunctionCall,
    FunctionCallDelta,
    FunctionToolCall,
    FunctionToolCallDelta,
    Text,
    TextDelta,
)

from .test_hardening_parse import assert_linear


def _draw_fragments(n: int) -> float:
    """Seconds the display takes to draw one function call streamed in ``n`` fragments."""
    out = io.StringIO()
    display = Display(out, mode="plain")
    view = display.handler()
    piece = '{"a"'
    # The display reads a snapshot's arguments only when it opens or closes the
    # call's line, so one snapshot serves every delta in between.
    first = FunctionToolCall(id="call_1", function=FunctionCall(name="f", arguments=piece))
    final = FunctionToolCall(id="call_1", function=FunctionCall(name="f", arguments=piece * n))
    delta = FunctionToolCallDelta(index=0, function=FunctionCallDelta(arguments=piece))

    async def draw() -> None:
        await view.on_tool_call_created(first)
        for _ in range(n):
            await view.on_tool_call_delta(delta, first)
        await view.on_tool_call_done(final)

    start = time.perf_counter()
    asyncio.run(draw())
    elapsed = time.perf_counter() - start
    assert out.getvalue().count('{"a"') == n
    return elapsed


def _draw_text(n: int) -> float:
    out = io.StringIO()
    display = Display(out, mode="plain")
    view = display.handler()
    delta = TextDelta(value="word ")
    snapshot = Text(value="")  # the display does not read the snapshot of a delta

    async def draw() -> None:
        await view.on_text_created(snapshot)
        for _ in range(n):
            await view.on_text_delta(delta, snapshot)
        await view.on_text_done(Text(value="word " * n))

    start = time.perf_counter()
    asyncio.run(draw())
    elapsed = time.perf_counter() - start
    assert out.getvalue().count("word") == n
    return elapsed


def _ratio(measure: Callable[[int], float], n: int) -> float:
    """t(10n) / t(n): the median of five pairs measured one after the other (so that
    a busy machine slows both sides of a pair), with the collector paused (it
    measures the algorithm, not when a collection happens to fall)."""
    gc.collect()
    gc.disable()
    try:
        ratios = [measure(10 * n) / measure(n) for _ in range(5)]
    finally:
        gc.enable()
    return statistics.median(ratios)


def test_tool_argument_fragments_draw_in_linear_time() -> None:
    # 200k fragments took 65 s: each one copied every argument printed before.
    assert_linear(_draw_fragments, 5000, _ratio)


def test_text_fragments_draw_in_linear_time() -> None:
    assert_linear(_draw_text, 5000, _ratio)


# -- server text never drives the terminal ----------------------------------------

_OWN = re.compile(r"\r\x1b\[K|\x1b\[[0-9;]*m")  # the display's own codes (pretty mode)
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

_HOSTILE = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "\x1b",
                "\x1b[",
                "\x1b]",
                "\x1b]52;c;aGk=",
                "\x1b]0;title",
                "\x07",
                "\x1b\\",
                "\x9b",
                "\x9d",
                "\x9c",
                "\x08",
                "\r",
                "\n",
                "\t",
                "2J",
                "[H",
                "31m",
                ";",
                "a",
            ]
        ),
        st.characters(max_codepoint=0x1FF),
    ),
    max_size=20,
).map("".join)


def _terminal_bytes(raw: str) -> list[str]:
    """The control characters of ``raw`` once the display's own codes are set aside."""
    return _FORBIDDEN.findall(_OWN.sub("", raw))


def _run_event(name: str, run_id: str, status: str, message: str) -> Event:
    data = {
        "id": run_id,
        "object": "thread.run",
        "thread_id": "thread_1",
        "status": status,
        "last_error": {"code": "server_error", "message": message},
    }
    event = parse_event(name, json.dumps(data))
    assert not isinstance(event, DoneEvent)
    return event


@settings(max_examples=150, deadline=None)
@given(
    pieces=st.lists(_HOSTILE, min_size=1, max_size=6),
    name=_HOSTILE,
    mode=st.sampled_from(["pretty", "plain", "json"]),
    wrap=st.booleans(),
)
def test_no_control_character_from_server_text_reaches_the_terminal(
    pieces: list[str], name: str, mode: Mode, wrap: bool
) -> None:
    out, err = io.StringIO(), io.StringIO()
    display = Display(out, err, mode=mode, width=lambda: 40, wrap=wrap, secrets=["sk-" + name])
    view = display.handler()
    joined = "".join(pieces)

    async def draw() -> None:
        await view.on_event(_run_event("thread.run.created", "run_" + name, "queued", joined))
        await view.on_text_created(Text(value=""))
        for piece in pieces:
            await view.on_text_delta(TextDelta(value=piece), Text(value=""))
        await view.on_text_done(Text(value=joined + name))
        first = FunctionToolCall(id="c" + name, function=FunctionCall(name=name, arguments=""))
        await view.on_tool_call_created(first)
        for piece in pieces:
            delta = FunctionToolCallDelta(index=0, function=FunctionCallDelta(arguments=piece))
            await view.on_tool_call_delta(delta, first)
        done = FunctionToolCall(
            id="c" + name, function=FunctionCall(name=name, arguments=joined, output=joined)
        )
        await view.on_tool_call_done(done)
        await view.on_event(_run_event("thread.run.failed", "run_" + name, "failed", joined))
        display.tool_output("other", joined)
        display.line(name, joined)
        display.note(joined)
        display.banner(joined)
        display.user(joined)
        display.prompt(name)
        display.input_done()
        await view.on_end()
        display.finish()

    asyncio.run(draw())
    assert _terminal_bytes(out.getvalue()) == []
    assert _terminal_bytes(err.getvalue()) == []


def test_clean_removes_whole_sequences_and_keeps_newlines_and_tabs() -> None:
    assert clean("a\x1b]52;c;aGVsbG8=\x07b") == "ab"  # clipboard write
    assert clean("\x1b]0;pwned\x1b\\title") == "title"  # window title
    assert clean("x\x1b[2J\x1b[1;1Hy") == "xy"  # clear screen, cursor move
    assert clean("ab\rcd\x08\x07e\x9b31mf\x85") == "abcdef"  # CR overwrite, BS, BEL, C1
    assert clean("lone\x1b") == "lone"
    assert clean("one\ttwo\r\nthree\n") == "one\ttwo\nthree\n"
    assert clean("é ☀️ plain") == "é ☀️ plain"


def test_a_key_echoed_by_the_server_is_not_displayed() -> None:
    out = io.StringIO()
    display = Display(out, mode="json", secrets=["sk-secret-0123456789"])

    async def draw() -> None:
        view = display.handler()
        await view.on_event(
            _run_event("thread.run.failed", "run_1", "failed", "bad key sk-secret-0123456789")
        )

    asyncio.run(draw())
    assert "sk-secret-0123456789" not in out.getvalue()
    assert "bad key ***" in out.getvalue()
    plain = io.StringIO()
    Display(plain, mode="plain", secrets=["sk-secret-0123456789"]).line(
        "note", "key=sk-secret-0123456789"
    )
    assert plain.getvalue() == "note      key=***\n"


def test_a_spinner_line_wrapped_by_a_narrower_terminal_is_erased_whole() -> None:
    out = io.StringIO()
    columns = [80]
    display = Display(out, mode="pretty", width=lambda: columns[0])

    async def draw() -> None:
        view = display.handler()
        await view.on_event(_run_event("thread.run.created", "run_" + "x" * 40, "queued", ""))
        assert re.search(r"queued\x1b\[0m\x1b\[36m  ⠋ 0\.0s\x1b\[0m$", out.getvalue())
        columns[0] = 40  # the terminal is resized: it now wraps the line on two rows
        display.busy("waiting")
        display.finish()

    asyncio.run(draw())
    raw = out.getvalue()
    # Erased from its first row (one row up, erase to the end of the screen).
    assert "\r\x1b[1A\x1b[J" in raw
    assert raw.count("\x1b[1A") == 1  # only once: the next lines fit the new width


def test_a_key_streamed_in_fragments_is_redacted_whole() -> None:
    key = "sk-secret-0123456789"
    modes: list[Mode] = ["plain", "pretty"]
    for mode in modes:
        out = io.StringIO()
        display = Display(out, mode=mode, secrets=[key], wrap=mode == "pretty")
        asyncio.run(_stream_text(display, ["your key: sk-se", "cret-01", "23456789", " ok"]))
        shown = re.sub(r"\x1b\[[0-9;]*m", "", out.getvalue())
        assert key not in shown and "sk-se" not in shown
        assert "assistant your key: *** ok\n" in shown


async def _stream_text(display: Display, pieces: list[str]) -> None:
    view = display.handler()
    await view.on_text_created(Text(value=""))
    for piece in pieces:
        await view.on_text_delta(TextDelta(value=piece), Text(value=""))
    await view.on_text_done(Text(value="".join(pieces)))
