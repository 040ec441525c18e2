"""The command in a pseudo-terminal (pexpect): line editing, wrapping, Ctrl-C / Ctrl-D."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator

import pexpect
import pytest

from .test_cli import screen

ARROW_LEFT = "\x1b[D"
ARROW_UP = "\x1b[A"
_LABELS = ("you", "thread", "run", "tool", "output", "assistant", "usage", "note", "interrupted")


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env.pop("NO_COLOR", None)
    env["TERM"] = "xterm-256color"
    env.update(extra)
    return env


_CHILDREN: list[pexpect.spawn] = []


@pytest.fixture(autouse=True)
def _close_children() -> Iterator[None]:
    yield
    while _CHILDREN:
        _CHILDREN.pop().close(force=True)


def spawn(*args: str, columns: int = 80, **env: str) -> pexpect.spawn:
    """``python -m streamrun ARGS`` in a pseudo-terminal (closed after the test)."""
    child = pexpect.spawn(
        sys.executable,
        ["-m", "streamrun", *args],
        env=_env(**env),
        encoding="utf-8",
        dimensions=(40, columns),
        timeout=30,
    )
    _CHILDREN.append(child)
    return child


def finish(child: pexpect.spawn) -> tuple[int | None, str]:
    """Wait for the end; the exit status and everything it wrote."""
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus, child.before


def test_chat_has_line_editing_and_history_then_ctrl_d_ends_cleanly() -> None:
    child = spawn("chat", "--fake", "--fast", NO_COLOR="1")
    child.expect("you       ")
    child.send("hello there" + ARROW_LEFT * 5 + "X\r")
    child.expect("run       completed")
    child.expect("you       ")
    child.send(ARROW_UP + "\r")  # the line before, from the history
    child.expect("run       completed")
    again = child.before.replace("\r\n", " ").replace("          ", "")
    assert "“hello Xthere”" in again
    child.expect("you       ")
    child.sendeof()
    code, rest = finish(child)
    assert code == 0
    assert rest == "\r\n"  # Ctrl-D: the prompt's line ends, nothing else


def test_chat_echo_has_no_escape_codes_of_the_arrow_keys() -> None:
    child = spawn("chat", "--fake", "--fast", NO_COLOR="1")
    child.expect("you       ")
    child.send("hello there" + ARROW_LEFT * 5 + "X\r")
    child.expect("run       completed")
    seen = child.before
    child.expect("you       ")
    child.sendeof()
    finish(child)
    assert "“hello Xthere”" in seen.replace("\r\n", " ").replace("          ", "")
    assert "^[[D" not in seen and "[D" not in seen


def test_ctrl_c_at_the_chat_prompt_leaves_no_ragged_line() -> None:
    child = spawn("chat", "--fake", "--fast", NO_COLOR="1")
    child.expect("you       ")
    child.send("half a mess")
    child.expect("half a mess")  # echoed by readline: the line is being edited
    child.sendintr()
    code, rest = finish(child)
    assert code == 130
    assert "Traceback" not in rest
    shown = screen(rest)
    assert re.search(r"(?m)^interrupted$", shown), shown


@pytest.fixture
def function_server() -> Iterator[str]:
    """A fake server (subprocess) whose runs call a function the command cannot run."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamrun.testing", "--scenario", "function_call"],
        stdout=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), url
        yield url
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()


def test_ctrl_c_at_the_tool_output_prompt_leaves_no_ragged_line(function_server: str) -> None:
    args = ["--base-url", function_server, "--api-key", "sk-test", "--assistant", "asst_1"]
    child = spawn("chat", *args, NO_COLOR="1")
    child.expect("you       ")
    child.send("weather in Paris?\r")
    child.expect("output    ")
    child.send('{"temp')
    child.expect('{"temp')
    child.sendintr()
    code, rest = finish(child)
    assert code == 130
    assert "Traceback" not in rest
    assert re.search(r"(?m)^cancelled: run run_\w+ was cancelled on the server$", screen(rest))


def test_lines_wrap_inside_the_gutter_on_a_40_column_terminal() -> None:
    child = spawn("demo", "--fast", columns=40)
    code, raw = finish(child)
    assert code == 0
    lines = screen(raw).splitlines()
    assert max(len(line) for line in lines) <= 40, "\n".join(lines)
    first_blank, last_blank = lines.index(""), len(lines) - 1 - lines[::-1].index("")
    assert lines[last_blank + 1].startswith("Next: 'streamrun chat --fake', or")  # wrapped too
    body = [line for line in lines[first_blank:last_blank] if line]
    for line in body:
        label = line[:10].strip()
        # A labelled line, or a continuation inside the gutter: never column 0 text.
        assert label in _LABELS or line.startswith(" " * 10), line
    text = " ".join(line[10:].strip() for line in body)
    assert "take an umbrella ☔." in text  # words stay whole
    assert "Musée d'Orsay" in text


def test_no_color_keeps_the_spinner_and_pacing_and_drops_colour() -> None:
    child = spawn("demo", NO_COLOR="1")
    code, raw = finish(child)
    assert code == 0
    assert not re.search(r"\x1b\[[0-9;]*m", raw)  # no colour
    assert re.search("[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]", raw)  # the spinner (a terminal, paced run)
    assert "assistant A rainy afternoon suits the" in screen(raw)
