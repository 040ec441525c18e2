"""The ``streamrun`` command, end to end (as a subprocess) and its display in process."""

from __future__ import annotations

import ast
import asyncio
import base64
import io
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from streamrun import AsyncClient, __version__
from streamrun._cli import (
    DEMO_FOLLOW_UP,
    DEMO_QUESTION,
    LOCAL_TOOLS,
    Session,
    build_parser,
    get_current_weather,
    main,
    usage_problem,
)
from streamrun._display import Display, choose_color, choose_mode
from streamrun._recording import read_recording
from streamrun.testing import FakeAssistantsServer, Faults, fake_reply, scenarios

FIXTURES = Path(__file__).resolve().parent / "fixtures"
USAGE_LINE = re.compile(r"^usage     \d+ prompt \+ \d+ completion = \d+ tokens$", re.M)


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env.pop("NO_COLOR", None)
    return env


def cli(
    *args: str, stdin: str | None = None, timeout: float = 20
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m streamrun ARGS`` and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "streamrun", *args],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        env=_env(),
        check=False,
    )


async def acli(*args: str, stdin: str | None = None, timeout: float = 20) -> tuple[int, str, str]:
    """The same, without blocking the event loop (for servers in this process)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "streamrun",
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=_env(),
    )
    out, err = await asyncio.wait_for(
        proc.communicate(stdin.encode() if stdin is not None else None), timeout
    )
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def interrupt_when(
    proc: asyncio.subprocess.Process, shown: bytes, stdin: bytes | None = None
) -> int:
    """Write ``stdin``, read the output until the pattern ``shown`` appears, then
    send Ctrl-C; the exit code. The process is killed if anything fails."""
    assert proc.stdout is not None
    try:
        if stdin is not None:
            assert proc.stdin is not None
            proc.stdin.write(stdin)
            await proc.stdin.drain()
        seen = b""
        while not re.search(shown, seen):
            chunk = await asyncio.wait_for(proc.stdout.read(4096), 15)
            assert chunk, seen
            seen += chunk
        proc.send_signal(signal.SIGINT)
        return await asyncio.wait_for(proc.wait(), 15)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


def screen(raw: str) -> str:
    """What a terminal shows after ``raw``: colours dropped, ``\\r`` and erase-line applied."""
    raw = re.sub(r"\x1b\[[0-9;]*m", "", raw)
    lines: list[str] = []
    cur: list[str] = []
    col = 0
    i = 0
    while i < len(raw):
        if raw.startswith("\x1b[K", i):
            del cur[col:]
            i += 3
            continue
        ch = raw[i]
        i += 1
        if ch == "\r":
            col = 0
        elif ch == "\n":
            lines.append("".join(cur).rstrip())
            cur, col = [], 0
        else:
            if col < len(cur):
                cur[col] = ch
            else:
                cur.append(ch)
            col += 1
    if cur:
        lines.append("".join(cur).rstrip())
    return "".join(line + "\n" for line in lines)


# -- demo ------------------------------------------------------------------------


def test_demo_streams_a_conversation_with_a_function_call() -> None:
    res = cli("demo")
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert "\x1b[" not in out  # not a terminal: plain text
    assert f"you       {DEMO_QUESTION}\n" in out
    assert f"you       {DEMO_FOLLOW_UP}\n" in out
    assert (
        'tool      get_current_weather({"location": "Paris, France", "unit": "celsius"})\n' in out
    )
    assert "run       requires action\n" in out
    assert '"conditions": "light rain"' in out
    assert (
        "assistant It's 18 °C in Paris right now with light rain, so take an umbrella ☔.\n" in out
    )
    assert "Musée d'Orsay" in out
    assert len(USAGE_LINE.findall(out)) == 2
    assert out.count("run       completed\n") == 2
    assert res.stderr == ""


def test_demo_json_prints_one_event_per_line() -> None:
    res = cli("demo", "--json")
    assert res.returncode == 0, res.stderr
    events = [json.loads(line) for line in res.stdout.splitlines()]
    assert all(set(e) == {"event", "data"} for e in events)
    names = [e["event"] for e in events]
    assert names[0] == "thread.created"
    assert names.count("thread.run.requires_action") == 1
    assert names.count("thread.run.completed") == 2
    deltas = [e["data"] for e in events if e["event"] == "thread.message.delta"]
    text = "".join(p["text"]["value"] for d in deltas for p in d["delta"]["content"])
    assert "It's 18 °C in Paris" in text
    assert DEMO_QUESTION in res.stderr  # the human lines go to stderr


# -- failures --------------------------------------------------------------------


def test_failed_run_exits_1_with_one_clear_line() -> None:
    res = cli("run", "--fake-scenario", "failed_run", "-m", "hello")
    assert res.returncode == 1
    lines = res.stderr.splitlines()
    assert len(lines) == 1, res.stderr
    assert re.fullmatch(
        r"error: run run_\w+ failed: rate_limit_exceeded: You exceeded your current quota.*",
        lines[0],
    )
    assert "Traceback" not in res.stderr
    # The reason is said once, by the error line: the display shows the status only.
    assert re.search(r"^run       run_\w+ · queued → in progress → failed$", res.stdout, re.M)
    assert "rate_limit_exceeded" not in res.stdout


def test_error_event_and_incomplete_run_exit_1() -> None:
    res = cli("run", "--fake-scenario", "error_event")
    assert res.returncode == 1
    assert res.stderr.startswith("error: error event from the server: The server had an error")
    assert len(res.stderr.splitlines()) == 1
    assert "assistant Sure, let me look\n" in res.stdout
    res = cli("run", "--fake", "--fake-scenario", "incomplete_run")
    assert res.returncode == 1
    assert re.fullmatch(r"error: run run_\w+ ended incomplete: max_completion_tokens\n", res.stderr)


@pytest.mark.asyncio
async def test_http_error_is_one_line_without_traceback() -> None:
    async with FakeAssistantsServer(api_keys={"sk-right"}) as server:
        code, out, err = await acli(
            "run", "--base-url", server.base_url, "--api-key", "sk-wrong", "--assistant", "a"
        )
    assert code == 1
    assert re.fullmatch(
        r"error: HTTP 401: Incorrect API key provided\..* \(code=invalid_api_key\)"
        r"( \[request id \w+\])?\n",
        err,
    )
    assert "sk-wrong" not in err + out


@pytest.mark.asyncio
async def test_options_reach_the_server() -> None:
    async with FakeAssistantsServer(base_path="/openai", auto_create_threads=True) as server:
        code, out, err = await acli(
            "run",
            "--base-url",
            server.base_url,
            "--api-key",
            "azure-key",
            "--api-key-header",
            "--query",
            "api-version=2024-05-01-preview",
            "--assistant",
            "asst_9",
            "--thread",
            "thread_9",
            "--message",
            "Bonjour",
            "--model",
            "gpt-4o-mini",
            "--instructions",
            "Be brief.",
        )
        assert code == 0, err
        (req,) = server.requests_to("create_run")
    assert req.route == "/threads/thread_9/runs"
    assert req.headers["api-key"] == "azure-key"
    assert "authorization" not in req.headers
    assert req.query["api-version"] == ["2024-05-01-preview"]
    assert req.body["assistant_id"] == "asst_9"
    assert req.body["additional_messages"] == [{"role": "user", "content": "Bonjour"}]
    assert req.body["model"] == "gpt-4o-mini"
    assert req.body["instructions"] == "Be brief."
    assert "assistant Photosynthesis" in out


@pytest.mark.asyncio
async def test_run_cannot_answer_an_unknown_function() -> None:
    async with FakeAssistantsServer(scenario="function_call") as server:
        code, out, err = await acli(
            "run", "--base-url", server.base_url, "--api-key", "k", "--assistant", "a"
        )
        (run_id,) = server.run_ids()
        run = server.get_run(run_id)
        assert run is not None and run["status"] == "requires_action"
        call_id = run["required_action"]["submit_tool_outputs"]["tool_calls"][0]["id"]
    assert code == 1
    assert err == (
        f"error: run {run_id} requires action: streamrun cannot run function "
        f"'get_current_weather' (call {call_id}); the run waits for its output until it expires\n"
    )
    assert "tool      get_current_weather(" in out


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--api-key", "k"]) == 2
    assert capsys.readouterr().err == (
        "streamrun run: error: the following arguments are required: --assistant (or use --fake)\n"
    )
    args = build_parser().parse_args(["chat", "--assistant", "a"])
    assert usage_problem(args, env={}) == (
        "no API key: set OPENAI_API_KEY or pass --api-key (or use --fake)"
    )
    assert usage_problem(args, env={"OPENAI_API_KEY": "k"}) is None
    with pytest.raises(SystemExit) as exc:
        main(["replay", "x.jsonl", "--speed", "-1"])
    assert exc.value.code == 2
    assert main([]) == 2


# -- Ctrl-C ------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_ctrl_c_cancels_the_run_and_exits_130() -> None:
    async with FakeAssistantsServer(faults=Faults(delay=0.2), auto_create_threads=True) as server:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "streamrun",
            "run",
            "--base-url",
            server.base_url,
            "--api-key",
            "k",
            "--assistant",
            "asst_1",
            "--thread",
            "thread_1",
            "-m",
            "Tell me about photosynthesis",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=_env(),
        )
        assert proc.stderr is not None
        code = await interrupt_when(proc, rb"assistant \S")
        err = (await proc.stderr.read()).decode()
        (run_id,) = server.run_ids()
        assert code == 130
        assert err == f"cancelled: run {run_id} was cancelled on the server\n"
        cancels = server.cancel_requests
        assert [r.route for r in cancels] == [f"/threads/thread_1/runs/{run_id}/cancel"]
        run = await server.wait_for_run(run_id)
        assert run["status"] == "cancelled"


# -- record and replay -------------------------------------------------------------


@pytest.mark.asyncio
async def test_record_then_replay_round_trip(tmp_path: Path) -> None:
    raw = (FIXTURES / "plain_text.sse").read_bytes()
    rec = tmp_path / "plain.jsonl"
    async with FakeAssistantsServer(auto_create_threads=True) as server:
        server.add_recording(raw, endpoint="create_run")
        code, live, err = await acli(
            "run",
            "--base-url",
            server.base_url,
            "--api-key",
            "k",
            "--assistant",
            "asst_1",
            "--thread",
            "thread_1",
            "--record",
            str(rec),
        )
    assert code == 0, err
    (stream,) = read_recording(rec)
    assert stream.data == raw  # exactly the bytes the server sent
    assert stream.endpoint == "create_run"

    code, replayed, err = await acli("replay", str(rec), "--speed", "0")
    assert code == 0, err
    assert replayed == live
    assert "assistant Photosynthesis is the process" in live
    # A plain .sse transcript replays the same way.
    code, from_sse, err = await acli("replay", str(FIXTURES / "plain_text.sse"), "--speed", "0")
    assert (code, from_sse) == (0, live)


@pytest.mark.asyncio
async def test_chat_asks_for_a_tool_output_records_and_replays(tmp_path: Path) -> None:
    first = (FIXTURES / "function_requires_action.sse").read_bytes()
    second = (FIXTURES / "submit_tool_outputs_continuation.sse").read_bytes()
    rec = tmp_path / "chat.jsonl"
    output = '{"temperature":18,"unit":"celsius","conditions":"light rain"}'
    async with FakeAssistantsServer() as server:
        server.add_recording(first, endpoint="create_thread_and_run")
        server.add_recording(second, endpoint="submit_tool_outputs")
        code, live, err = await acli(
            "chat",
            "--base-url",
            server.base_url,
            "--api-key",
            "k",
            "--assistant",
            "asst_0kfeQoMFpMQaD9GwRjH4ztTU",
            "--record",
            str(rec),
            stdin=f"What's the weather in Paris?\n{output}\n",
        )
        (create,) = server.requests_to("create_thread_and_run")
        (submit,) = server.requests_to("submit_tool_outputs")
    assert code == 0, err
    assert create.body["thread"]["messages"] == [
        {"role": "user", "content": "What's the weather in Paris?"}
    ]
    assert submit.body["tool_outputs"] == [
        {"tool_call_id": "call_7HStpy8qoVZlUqJdTWjxaVoj", "output": output}
    ]
    assert "note      streamrun cannot run get_current_weather(): type its output" in live
    streams = read_recording(rec)
    assert [s.data for s in streams] == [first, second]
    assert [s.endpoint for s in streams] == ["create_thread_and_run", "submit_tool_outputs"]

    code, replayed, err = await acli("replay", str(rec), "--speed", "0")
    assert code == 0, err
    # The replay prints the "you" line the live run printed (it is in the recording).
    expected = "".join(
        line for line in live.splitlines(keepends=True) if not line.startswith("note ")
    )
    assert expected.startswith("you       What's the weather in Paris?\n")
    assert replayed == expected
    assert f"output    {output}\n" in replayed


def test_chat_with_the_fake_server_continues_the_thread() -> None:
    res = cli(
        "chat", "--fake", stdin="Hello!\n\nWhat's the weather in Tokyo today?\n/quit\nignored\n"
    )
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert out.count("thread    ") == 1  # one thread, two runs
    assert out.count("run       completed\n") == 2
    assert "you       Hello!\n" in out
    assert 'get_current_weather({"location": "Tokyo", "unit": "celsius"})' in out
    assert "assistant It's 24 °C in Tokyo right now with sunshine" in out
    assert "ignored" not in out


def test_help_for_every_command_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ([], ["demo"], ["run"], ["chat"], ["replay"]):
        with pytest.raises(SystemExit) as exc:
            main([*command, "--help"])
        assert exc.value.code == 0
        out = capsys.readouterr().out
        assert out.startswith(" ".join(["usage: streamrun", *command]))
        if command in (["run"], ["chat"]):
            assert "--fake-scenario" in out and "--record PATH" in out
    res = cli("--help")
    assert (res.returncode, res.stdout.startswith("usage: streamrun")) == (0, True)
    res = cli("--version")
    assert (res.returncode, res.stdout) == (0, f"streamrun {__version__}\n")


@pytest.mark.asyncio
async def test_chat_prompt_interrupted_or_ended_cancels_the_waiting_run() -> None:
    async with FakeAssistantsServer(scenario="function_call") as server:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            *("-m", "streamrun", "chat", "--base-url", server.base_url, "--api-key", "k"),
            *("--assistant", "asst_1"),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=_env(),
        )
        assert proc.stderr is not None
        code = await interrupt_when(proc, rb"note      streamrun cannot run", stdin=b"weather?\n")
        (run_id,) = server.run_ids()
        assert code == 130
        assert (await proc.stderr.read()).decode() == (
            f"cancelled: run {run_id} was cancelled on the server\n"
        )
        assert [r.route.rsplit("/", 1)[-1] for r in server.cancel_requests] == ["cancel"]
        assert server.get_run(run_id)["status"] == "cancelled"  # type: ignore[index]

        # The input ends instead: the run is cancelled too, and the chat fails.
        code, _, err = await acli(
            "chat",
            "--base-url",
            server.base_url,
            "--api-key",
            "k",
            "--assistant",
            "asst_1",
            stdin="weather?\n",
        )
        run_id = server.run_ids()[-1]
        assert code == 1
        assert err == (
            "error: the input ended while a run waited for a tool output; "
            f"run {run_id} was cancelled\n"
        )
        assert server.get_run(run_id)["status"] == "cancelled"  # type: ignore[index]


# -- the display, in process ----------------------------------------------------------


async def _draw(display: Display, delay: float = 0.0) -> None:
    faults = Faults(delay=delay) if delay else None
    async with FakeAssistantsServer(seed=3, faults=faults) as server:
        server.queue_scenario(fake_reply("How is the weather in Paris?"))
        server.queue_scenario(scenarios.code_interpreter())
        async with AsyncClient(api_key="k", base_url=server.base_url) as client:
            session = Session(client, display, tools=LOCAL_TOOLS)
            display.user("How is the weather in Paris?")
            run = await session.create_and_run("asst_1", "How is the weather in Paris?")
            await session.run_on_thread(run.thread_id, "asst_1", "Plot a sine")
    display.finish()


@pytest.mark.asyncio
async def test_terminal_display_ends_as_the_plain_one() -> None:
    plain = io.StringIO()
    await _draw(Display(plain, mode="plain"))
    tty = io.StringIO()
    await _draw(Display(tty, mode="pretty", width=lambda: 60, spinner_interval=0.005), 0.01)
    raw = tty.getvalue()
    assert "\x1b[1;36massistant\x1b[0m" in raw  # colours
    assert "\r\x1b[K" in raw  # the spinner line was erased
    assert re.search("[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]", raw)
    assert screen(raw) == plain.getvalue()
    text = plain.getvalue()
    assert "tool      code_interpreter\n          import numpy as np\n" in text
    assert "logs      max=1.000\n" in text
    assert "assistant [image file-zwHiqeSJ3eWrvJnGPqFixp]\n" in text


def test_mode_follows_the_terminal_and_no_color() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    assert choose_mode(Tty(), json_lines=False, env={}) == "pretty"
    # NO_COLOR removes colour only: the terminal keeps its spinner and pacing.
    assert choose_mode(Tty(), json_lines=False, env={"NO_COLOR": "1"}) == "pretty"
    assert choose_color({"NO_COLOR": "1"}) is False
    assert choose_color({}) is True
    assert choose_mode(Tty(), json_lines=False, env={"TERM": "dumb"}) == "plain"
    assert choose_mode(io.StringIO(), json_lines=False, env={}) == "plain"
    assert choose_mode(Tty(), json_lines=True, env={}) == "json"


def test_local_weather_function() -> None:
    report = json.loads(get_current_weather('{"location": "Tokyo, Japan", "unit": "fahrenheit"}'))
    assert report == {
        "location": "Tokyo, Japan",
        "temperature": 75,
        "unit": "fahrenheit",
        "conditions": "sunshine",
    }
    assert get_current_weather("{oops") == '{"error": "the arguments are not valid JSON"}'
    elsewhere = json.loads(get_current_weather('{"location": "Reykjavik"}'))
    assert elsewhere == json.loads(get_current_weather('{"location": "Reykjavik"}'))


def test_nothing_in_the_library_imports_the_command_modules() -> None:
    package = Path(__file__).resolve().parent.parent / "streamrun"
    mine = {"_cli", "_cli_responses", "_display", "_recording", "__main__"}
    for path in package.rglob("*.py"):
        if path.parent == package and path.stem in mine:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or "", *(a.name for a in node.names)]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            parts = {p for n in names for p in n.split(".")}
            assert not parts & mine, f"{path.name} imports {parts & mine}"


# -- exit 130 in process -------------------------------------------------------------


def test_keyboard_interrupt_outside_the_loop_exits_130(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ctrl-C that reaches ``main`` as KeyboardInterrupt: one line, exit 130."""
    calls: list[str] = []

    def interrupted_run(main_coro: Any, **_: Any) -> int:
        calls.append(getattr(main_coro, "__qualname__", ""))
        main_coro.close()  # never started: close it so it is not reported as un-awaited
        raise KeyboardInterrupt

    monkeypatch.setattr("streamrun._cli.asyncio.run", interrupted_run)
    assert main(["demo"]) == 130
    assert calls == ["_App.main"]
    captured = capsys.readouterr()
    assert captured.err == "interrupted\n"
    assert "Traceback" not in captured.err
    assert captured.out == ""


def _write_recording(path: Path, streams: list[dict[str, Any]]) -> None:
    """A recording file in the JSON lines format, written by hand."""
    header = {"format": "streamrun-recording", "version": 1, "streamrun": __version__}
    lines = [header]
    for index, stream in enumerate(streams):
        data: bytes = stream.pop("data")
        lines.append(
            {
                "stream": index,
                "endpoint": "create_run",
                "method": "POST",
                "path": "/threads/thread_1/runs",
                "started": 0.0,
                "request": {},
                **stream,
                "chunks": [[0.0, base64.b64encode(data).decode("ascii")]],
            }
        )
    path.write_text("".join(json.dumps(obj) + "\n" for obj in lines), encoding="utf-8")


def test_replaying_an_interrupted_recording_exits_130(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    raw = (FIXTURES / "plain_text.sse").read_bytes()
    cut = raw[: raw.index(b"event: thread.run.completed")]
    run_id = re.search(rb'"id":"(run_\w+)"', raw)
    assert run_id is not None
    rec = tmp_path / "interrupted.jsonl"
    _write_recording(rec, [{"outcome": "interrupted", "data": cut}])
    assert main(["replay", str(rec), "--speed", "0"]) == 130
    captured = capsys.readouterr()
    assert captured.err == (
        f"cancelled: the recording ends where run {run_id.group(1).decode()} was interrupted\n"
    )
    assert "assistant Photosynthesis is the process" in captured.out
    assert "run       completed" not in captured.out


def test_replaying_a_recording_interrupted_before_any_run_event_exits_130(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rec = tmp_path / "early.jsonl"
    _write_recording(rec, [{"outcome": "interrupted", "data": b": keep-alive\n\n"}])
    assert main(["replay", str(rec), "--speed", "0"]) == 130
    assert capsys.readouterr().err == (
        "cancelled: the recording ends where the run was interrupted\n"
    )


def test_replaying_cut_streams_that_were_not_interrupted_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    raw = (FIXTURES / "plain_text.sse").read_bytes()
    cut = raw[: raw.index(b"event: thread.run.completed")]
    # Recorded as an error: its message is the one line printed, exit 1.
    rec = tmp_path / "error.jsonl"
    _write_recording(rec, [{"outcome": "error", "error": "HTTP 502: bad gateway", "data": cut}])
    assert main(["replay", str(rec), "--speed", "0"]) == 1
    assert capsys.readouterr().err == "error: HTTP 502: bad gateway\n"
    # Recorded as ok but cut short: the replay fails like the live stream, not 130.
    rec = tmp_path / "ok.jsonl"
    _write_recording(rec, [{"outcome": "ok", "data": cut}])
    assert main(["replay", str(rec), "--speed", "0"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: the server closed the stream") and "before [DONE]" in err
    assert len(err.splitlines()) == 1
    assert "cancelled" not in err


def test_replay_prints_the_banner_and_you_lines_the_live_run_printed(tmp_path: Path) -> None:
    rec = tmp_path / "demo.jsonl"
    live = cli("demo", "--record", str(rec))
    assert live.returncode == 0, live.stderr
    streams = read_recording(rec)
    assert streams[0].shown[:2] == (
        (
            "banner",
            "streamrun demo · a fake Assistants server runs in this process (no key, no network)",
        ),
        ("banner", ""),
    )
    assert ("you", DEMO_QUESTION) in streams[0].shown
    assert streams[-1].only_shown  # the lines after the last stream
    replay = cli("replay", "--speed", "0", str(rec))
    assert replay.returncode == 0, replay.stderr
    assert replay.stdout == live.stdout
    assert f"you       {DEMO_QUESTION}\n" in replay.stdout
    assert f"you       {DEMO_FOLLOW_UP}\n" in replay.stdout
    assert replay.stdout.startswith("streamrun demo · a fake Assistants server")
    # chat from a pipe: the "you" lines come back too.
    rec = tmp_path / "chat.jsonl"
    live = cli("chat", "--fake", "--record", str(rec), stdin="hello\nweather in Tokyo?\n")
    assert live.returncode == 0, live.stderr
    replay = cli("replay", "--speed", "0", str(rec))
    assert (replay.returncode, replay.stdout) == (0, live.stdout)
    assert "you       hello\n" in replay.stdout


def test_ctrl_c_while_the_command_starts_prints_no_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ctrl-C before the loop runs (building the parser, importing): one line, 130."""

    def interrupted() -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr("streamrun._cli.build_parser", interrupted)
    assert main(["demo"]) == 130
    assert capsys.readouterr().err == "interrupted\n"
    # python -m streamrun: Ctrl-C while the command module is imported.
    code = (
        "import runpy, signal, sys, builtins\n"
        "real = builtins.__import__\n"
        "def imp(name, *a, **k):\n"
        "    if name == '_cli' or name.endswith('._cli'):\n"
        "        raise KeyboardInterrupt\n"
        "    return real(name, *a, **k)\n"
        "builtins.__import__ = imp\n"
        "sys.argv = ['streamrun', 'demo']\n"
        "runpy.run_module('streamrun', run_name='__main__')\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=_env()
    )
    assert (res.returncode, res.stderr) == (130, "interrupted\n")
