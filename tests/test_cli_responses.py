"""``streamrun demo/run/chat --responses``: Responses API streams through the same display,
recorded and replayed (the fake server in process, or as a subprocess's server)."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from pathlib import Path

import pytest

from streamrun._cli import (
    DEMO_FOLLOW_UP,
    DEMO_QUESTION,
    DEMO_TIP,
    build_parser,
    main,
    usage_problem,
)
from streamrun._cli_responses import DEMO_MODEL
from streamrun._recording import (
    RESPONSES_VERSION,
    VERSION,
    Recorder,
    RecordingError,
    read_recording,
    sniff_protocol,
)
from streamrun.testing import FakeAssistantsServer, Faults, Scenario, TextReply

from .test_cli import _env, acli, interrupt_when

FIXTURES = Path(__file__).resolve().parent / "fixtures"
RESPONSES_FIXTURES = FIXTURES / "responses"
RESP_ID = re.compile(r"resp_[0-9a-zA-Z]+")
USAGE = re.compile(r"^usage     \d+ prompt \+ \d+ completion = \d+ tokens$", re.M)
WEATHER_OUTPUT = (
    '{"location": "Paris, France", "temperature": 18, "unit": "celsius", '
    '"conditions": "light rain"}'
)
PARIS_ANSWER = "It's 18 °C in Paris right now with light rain, so take an umbrella ☔."

DEMO_TEXT = f"""\
streamrun demo --responses · a fake Responses API server runs in this process (no key, no network)

you       {DEMO_QUESTION}
run       resp_ID · in progress
tool      get_current_weather({{"location": "Paris, France", "unit": "celsius"}})
run       requires action
output    {WEATHER_OUTPUT}
run       resp_ID · in progress
assistant {PARIS_ANSWER}
run       completed
usage     N

you       {DEMO_FOLLOW_UP}
run       resp_ID · in progress
assistant {DEMO_TIP}
run       completed
usage     N

Next: 'streamrun chat --responses --fake', or 'streamrun run --responses --model {DEMO_MODEL} \
-m TEXT' with OPENAI_API_KEY set.
"""


def normalized(text: str) -> str:
    """The output with response ids and token counts replaced."""
    return USAGE.sub("usage     N", RESP_ID.sub("resp_ID", text))


def run_main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# -- demo ------------------------------------------------------------------------------


def test_demo_streams_the_conversation_as_responses(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main(capsys, "demo", "--responses", "--fast")
    assert (code, err) == (0, "")
    assert normalized(out) == DEMO_TEXT
    # Three responses: the question, the continuation with the tool output, the follow-up.
    assert len(set(RESP_ID.findall(out))) == 3


def test_demo_shows_what_the_assistants_demo_shows(capsys: pytest.CaptureFixture[str]) -> None:
    """The same conversation: the same user, tool, output and assistant lines."""

    def said(text: str) -> list[str]:
        labels = ("you ", "tool ", "output ", "assistant ")
        return [line for line in text.splitlines() if line.startswith(labels)]

    code, runs, _ = run_main(capsys, "demo", "--fast")
    assert code == 0
    code, responses, _ = run_main(capsys, "demo", "--responses", "--fast")
    assert code == 0
    assert said(responses) == said(runs)
    assert len(said(runs)) == 6


def test_demo_json_prints_the_responses_events(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main(capsys, "demo", "--responses", "--json")
    assert code == 0, err
    events = [json.loads(line) for line in out.splitlines()]
    assert all(set(e) == {"event", "data"} for e in events)
    names = [e["event"] for e in events]
    assert all(n.startswith("response.") for n in names), set(names)
    assert all(e["data"]["type"] == e["event"] for e in events)
    # Each wire event once, in order: sequence numbers restart with every response.
    assert names.count("response.created") == 3
    assert names.count("response.completed") == 3
    texts = "".join(
        e["data"]["delta"] for e in events if e["event"] == "response.output_text.delta"
    )
    assert texts == PARIS_ANSWER + DEMO_TIP
    assert DEMO_QUESTION in err  # the human lines go to stderr


def test_demo_record_then_replay_shows_the_same(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rec = tmp_path / "demo.jsonl"
    code, live, err = run_main(capsys, "demo", "--responses", "--fast", "--record", str(rec))
    assert (code, err) == (0, "")
    header = json.loads(rec.read_text(encoding="utf-8").splitlines()[0])
    assert header["version"] == RESPONSES_VERSION
    streams = read_recording(rec)
    assert [(s.endpoint, s.protocol) for s in streams] == [
        ("create_response", "responses"),
        ("submit_tool_outputs", "responses"),  # the tool loop's continuation
        ("create_response", "responses"),
        ("shown", "runs"),  # the lines printed after the last stream
    ]
    first, continuation, follow_up, _ = streams
    assert first.request == {"model": DEMO_MODEL, "input": DEMO_QUESTION}
    answered = first.data.decode().split('"call_id":"')[1].split('"')[0]
    assert continuation.request["tool_outputs"] == [
        {"tool_call_id": answered, "output": WEATHER_OUTPUT}
    ]
    newest = RESP_ID.findall(continuation.data.decode())[0]
    assert continuation.request["response_id"] == RESP_ID.findall(first.data.decode())[0]
    assert follow_up.request["previous_response_id"] == newest
    assert all(s.data.startswith(b"event: response.created\n") for s in streams[:3])

    code, replayed, err = run_main(capsys, "replay", str(rec), "--speed", "0")
    assert (code, err) == (0, "")
    assert replayed == live


# -- run ---------------------------------------------------------------------------------


def test_run_with_the_fake_server_answers_the_local_function(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run_main(
        capsys, "run", "--responses", "--fake", "--fast", "-m", "What's the weather in Tokyo?"
    )
    assert (code, err) == (0, "")
    assert normalized(out) == (
        "run       resp_ID · in progress\n"
        'tool      get_current_weather({"location": "Tokyo", "unit": "celsius"})\n'
        "run       requires action\n"
        'output    {"location": "Tokyo", "temperature": 24, "unit": "celsius", '
        '"conditions": "sunshine"}\n'
        "run       resp_ID · in progress\n"
        "assistant It's 24 °C in Tokyo right now with sunshine: a fine day for a walk ☀️.\n"
        "run       completed\n"
        "usage     N\n"
    )


@pytest.mark.parametrize(
    ("scenario", "error"),
    [
        ("failed_run", r"error: response resp_\w+ failed: rate_limit_exceeded: .*"),
        ("incomplete_run", r"error: response resp_\w+ ended incomplete: max_output_tokens"),
        ("error_event", r"error: error event from the server: The server had an error.*"),
    ],
)
def test_a_response_that_does_not_complete_exits_1(
    capsys: pytest.CaptureFixture[str], scenario: str, error: str
) -> None:
    code, out, err = run_main(capsys, "run", "--responses", "--fake-scenario", scenario, "-m", "x")
    assert code == 1
    assert re.fullmatch(error + "\n", err), err
    assert "Traceback" not in err
    assert out.startswith("run       resp_")


@pytest.mark.asyncio
async def test_run_sends_the_options_and_never_prints_the_key(tmp_path: Path) -> None:
    key = "sk-test-0123456789abcdef"
    rec = tmp_path / "run.jsonl"
    async with FakeAssistantsServer(api_keys={key}) as server:
        server.queue_scenario(Scenario([TextReply(f"Your key is {key}, right?")]))
        code, out, err = await acli(
            "run",
            "--responses",
            "--base-url",
            server.base_url,
            "--api-key",
            key,
            "--model",
            "gpt-4.1-mini",
            "--instructions",
            "Be brief.",
            "--previous-response",
            "resp_earlier",
            "-m",
            "Bonjour",
            "--record",
            str(rec),
        )
        (req,) = server.requests_to("create_response")
    # The server knows no resp_earlier: a 400, one line.
    assert code == 1
    assert re.fullmatch(r"error: HTTP 400: .*resp_earlier.*\n", err), err
    assert req.route == "/responses"
    assert req.body == {
        "model": "gpt-4.1-mini",
        "input": "Bonjour",
        "instructions": "Be brief.",
        "previous_response_id": "resp_earlier",
        "stream": True,
    }
    assert req.headers["authorization"] == f"Bearer {key}"

    async with FakeAssistantsServer(api_keys={key}) as server:
        server.queue_scenario(Scenario([TextReply(f"Your key is {key}, right?")]))
        code, out, err = await acli(
            "run",
            "--responses",
            "--base-url",
            server.base_url,
            "--api-key",
            key,
            "--model",
            "gpt-4.1-mini",
            "--conversation",
            "conv_1",
            "-m",
            "Bonjour",
            "--record",
            str(rec),
        )
        (req,) = server.requests_to("create_response")
    assert req.body["conversation"] == "conv_1"  # unknown here: the server says so
    assert code == 1 and "conv_1" in err

    async with FakeAssistantsServer(api_keys={key}) as server:
        # The key echoed whole in one delta: masked in the recorded bytes too (the
        # recorder masks bytes, so a key cut across two deltas is masked on screen
        # only, as for run streams).
        server.queue_scenario(Scenario([TextReply(f"Your key is {key}, right?", fragment_size=64)]))
        code, out, err = await acli(
            "run",
            "--responses",
            "--base-url",
            server.base_url,
            "--api-key",
            key,
            "--model",
            "m",
            "-m",
            "Bonjour",
            "--record",
            str(rec),
        )
    assert code == 0, err
    assert "assistant Your key is ***, right?\n" in out
    assert key not in out + err
    assert key not in rec.read_text(encoding="utf-8")
    code, replayed, err = await acli("replay", str(rec), "--speed", "0")
    assert (code, replayed) == (0, out.replace("***", "*" * len(key)))  # masked in the file


@pytest.mark.asyncio
async def test_a_wrong_key_is_one_line_and_not_printed() -> None:
    async with FakeAssistantsServer(api_keys={"sk-right"}) as server:
        code, out, err = await acli(
            "run", "--responses", "--base-url", server.base_url, "--api-key", "sk-wrong-key",
            "--model", "m", "-m", "hi",
        )  # fmt: skip
    assert code == 1
    assert re.fullmatch(r"error: HTTP 401: .*\n", err), err
    assert "sk-wrong-key" not in out + err


@pytest.mark.asyncio
async def test_run_cannot_answer_an_unknown_function() -> None:
    async with FakeAssistantsServer(scenario="function_call") as server:
        code, out, err = await acli(
            "run", "--responses", "--base-url", server.base_url, "--api-key", "k",
            "--model", "m", "-m", "weather?",
        )  # fmt: skip
        (response_id,) = server.response_ids()
    assert code == 1
    assert re.fullmatch(
        rf"error: run {response_id} requires action: streamrun cannot run function "
        r"'get_current_weather' \(call call_\w+\); the run waits for its output until it expires\n",
        err,
    ), err
    assert "tool      get_current_weather(" in out


# -- chat --------------------------------------------------------------------------------


def test_chat_with_the_fake_server_continues_after_each_response(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO("Hello!\n\nWhat's the weather in Tokyo?\n"))
    code, out, err = run_main(capsys, "chat", "--responses", "--fake", "--fast")
    assert (code, err) == (0, "")
    assert out.count("run       completed\n") == 2
    assert "you       Hello!\n" in out
    assert 'get_current_weather({"location": "Tokyo", "unit": "celsius"})' in out
    assert "assistant It's 24 °C in Tokyo right now with sunshine" in out


@pytest.mark.asyncio
async def test_chat_asks_for_a_tool_output_continues_records_and_replays(tmp_path: Path) -> None:
    rec = tmp_path / "chat.jsonl"
    output = WEATHER_OUTPUT
    async with FakeAssistantsServer(scenario="assistant") as server:
        code, live, err = await acli(
            "chat", "--responses", "--base-url", server.base_url, "--api-key", "k",
            "--model", "gpt-4o-mini", "--instructions", "Be brief.", "--record", str(rec),
            stdin=f"What's the weather in Paris?\n{output}\nThanks!\n",
        )  # fmt: skip
        requests = [r.body for r in server.requests_to("create_response")]
    assert code == 0, err
    assert "note      streamrun cannot run get_current_weather(): type its output" in live
    assert f"output    {output}\n" in live
    assert f"assistant {PARIS_ANSWER}\n" in live  # written from the output typed
    first, submit, follow = requests
    assert first["input"] == "What's the weather in Paris?"
    assert "previous_response_id" not in first
    # The manual continuation: the output as a function_call_output item, the same
    # instructions and model, after the response that asked.
    (item,) = submit["input"]
    assert item["type"] == "function_call_output" and item["output"] == output
    assert submit["model"] == "gpt-4o-mini" and submit["instructions"] == "Be brief."
    ids = RESP_ID.findall(live)
    assert submit["previous_response_id"] == ids[0]
    # The next turn continues after the newest response (the continuation).
    assert follow["input"] == "Thanks!"
    assert follow["previous_response_id"] == ids[1]

    streams = read_recording(rec)
    assert [s.endpoint for s in streams] == [
        "create_response",
        "submit_tool_outputs",
        "create_response",
    ]
    code, replayed, err = await acli("replay", str(rec), "--speed", "0")
    assert (code, err) == (0, "")
    expected = "".join(
        line for line in live.splitlines(keepends=True) if not line.startswith("note ")
    )
    assert replayed == expected


@pytest.mark.asyncio
async def test_chat_in_a_conversation_sends_it_every_turn() -> None:
    async with FakeAssistantsServer(scenario="plain_text") as server:
        conversation = server.create_conversation()
        code, _out, err = await acli(
            "chat", "--responses", "--base-url", server.base_url, "--api-key", "k",
            "--model", "m", "--conversation", conversation, stdin="one\ntwo\n",
        )  # fmt: skip
        bodies = [r.body for r in server.requests_to("create_response")]
        items = server.conversation_items(conversation)
    assert code == 0, err
    assert [b["conversation"] for b in bodies] == [conversation, conversation]
    assert all("previous_response_id" not in b for b in bodies)
    assert [i["content"][0]["text"] for i in items if i.get("role") == "user"] == ["one", "two"]


@pytest.mark.asyncio
async def test_chat_input_ending_while_a_response_waits_says_so() -> None:
    async with FakeAssistantsServer(scenario="function_call") as server:
        code, _out, err = await acli(
            "chat", "--responses", "--base-url", server.base_url, "--api-key", "k",
            "--model", "m", stdin="weather?\n",
        )  # fmt: skip
    assert code == 1
    assert err == (
        "error: the input ended while a run waited for a tool output; the response that "
        "waited for it is complete on the server (nothing to cancel)\n"
    )
    assert server.requests_to("cancel_response") == []  # the API cancels background ones only


# -- replay of Responses transcripts --------------------------------------------------


@pytest.mark.parametrize(
    ("name", "shows"),
    [
        ("15_hello_world_gpt-4o-mini.sse", "assistant Hello! How can I assist you today?\n"),
        ("01_text_gpt-4o_2025-03_noseq.sse", "assistant The capital of France is Paris.\n"),
        ("16_function_call_gpt-4o-mini.sse", "tool      get_weather_at_location("),
        ("09_background_queued_gpt-4o.sse", "· queued → in progress\n"),
    ],
)
def test_replay_of_a_plain_responses_transcript(
    capsys: pytest.CaptureFixture[str], name: str, shows: str
) -> None:
    path = RESPONSES_FIXTURES / name
    (stream,) = read_recording(path)
    assert (stream.protocol, stream.endpoint) == ("responses", "create_response")
    code, out, err = run_main(capsys, "replay", str(path), "--speed", "0")
    assert code == 0, err
    assert shows in out
    if "function_call" in name:
        assert err.startswith("note: the recording ends while response resp_")


def test_replay_of_a_responses_error_transcript_exits_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = RESPONSES_FIXTURES / "20_error_insufficient_quota_gpt-5.sse"
    code, _out, err = run_main(capsys, "replay", str(path), "--speed", "0")
    assert code == 1
    assert err.startswith("error: error event from the server: You exceeded your current quota")
    assert len(err.splitlines()) == 1


def test_run_stream_transcripts_and_old_recordings_still_replay_as_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (stream,) = read_recording(FIXTURES / "plain_text.sse")
    assert stream.protocol == "runs"
    # A version 1 recording (as older versions wrote them): a "protocol" key in it
    # is not read (version 1 holds run streams only).
    raw = (FIXTURES / "plain_text.sse").read_bytes()
    import base64

    line = {"stream": 0, "endpoint": "create_run", "path": "/threads/t/runs", "request": {},
            "outcome": "ok", "protocol": "responses",
            "chunks": [[0.0, base64.b64encode(raw).decode()]]}  # fmt: skip
    old = tmp_path / "old.jsonl"
    old.write_text(
        json.dumps({"format": "streamrun-recording", "version": 1}) + "\n" + json.dumps(line) + "\n"
    )
    (stream,) = read_recording(old)
    assert stream.protocol == "runs"
    code, out, err = run_main(capsys, "replay", str(old), "--speed", "0")
    assert code == 0, err
    assert "assistant Photosynthesis is the process" in out


# -- the recording format --------------------------------------------------------------


def test_recorder_versions(tmp_path: Path) -> None:
    runs = Recorder(tmp_path / "runs.jsonl")
    with pytest.raises(RecordingError, match="holds run streams only"):
        runs.begin("create_response", "/responses", {}, protocol="responses")
    runs.end(runs.begin("create_run", "/threads/t/runs", {}))
    runs.close()
    text = (tmp_path / "runs.jsonl").read_text()
    assert json.loads(text.splitlines()[0])["version"] == VERSION == 1
    assert "protocol" not in text  # byte for byte what version 1 wrote

    both = Recorder(tmp_path / "both.jsonl", protocol="responses")
    both.end(both.begin("create_run", "/threads/t/runs", {}))
    capture = both.begin("create_response", "/responses", {"model": "m"}, protocol="responses")
    capture.tap(b"event: response.created\n")
    both.end(capture)
    both.close()
    streams = read_recording(tmp_path / "both.jsonl")
    assert [s.protocol for s in streams] == ["runs", "responses"]
    assert streams[1].data == b"event: response.created\n"

    with pytest.raises(RecordingError, match="unknown protocol"):
        Recorder(tmp_path / "x.jsonl", protocol="grpc")  # type: ignore[arg-type]
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"format": "streamrun-recording", "version": 2}\n{"chunks": [], "protocol": "x"}\n'
    )
    with pytest.raises(RecordingError, match=r"line 2: unknown protocol 'x'"):
        read_recording(bad)


def test_sniff_protocol() -> None:
    assert sniff_protocol(b"event: response.created\ndata: {}\n\n") == "responses"
    # Some compatible servers send no event: lines; the data's type says it.
    assert sniff_protocol(b'data: {"type":"response.created","response":{}}\n\n') == "responses"
    assert sniff_protocol(b"event: thread.created\ndata: {}\n\n") == "runs"
    assert sniff_protocol(b"data: {not json\n\n") == "runs"
    assert sniff_protocol(b"data: [1]\n\n") == "runs"
    assert sniff_protocol(b"") == "runs"
    # A first event cut short (no blank line) is no event (WHATWG): not sniffed.
    assert sniff_protocol(b"event: response.queued\ndata: {}") == "runs"
    for path in RESPONSES_FIXTURES.glob("*.sse"):
        assert sniff_protocol(path.read_bytes()) == "responses", path.name
    for path in FIXTURES.glob("*.sse"):
        assert sniff_protocol(path.read_bytes()) == "runs", path.name


# -- usage -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (["run", "--responses", "--fake", "--assistant", "a", "-m", "x"], "--assistant name"),
        (["chat", "--responses", "--fake", "--thread", "t"], "--thread name"),
        (
            ["run", "--responses", "--assistant", "a", "--thread", "t", "-m", "x"],
            "--assistant and --thread name Assistants objects: with --responses use --model, "
            "--conversation or --previous-response",
        ),
        (
            ["chat", "--responses", "--fake", "--conversation", "c", "--previous-response", "r"],
            "--conversation and --previous-response cannot be used together",
        ),
        (["run", "--fake", "--conversation", "c"], "--conversation and --previous-response need"),
        (["run", "--responses", "--fake"], "required with --responses: --message/-m"),
        (["run", "--responses", "-m", "x"], "required with --responses: --model (or use --fake)"),
        (["chat", "--responses", "--model", "m"], "no API key"),
    ],
)
def test_usage_errors(argv: list[str], problem: str, capsys: pytest.CaptureFixture[str]) -> None:
    args = build_parser().parse_args(argv)
    found = usage_problem(args, env={})
    assert found is not None and problem in found, found
    if argv[1:3] != ["--responses", "--model"]:  # the last needs the environment's key absent
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err == f"streamrun {argv[0]}: error: {found}\n"
    # With a key and a model, nothing is missing.
    ok = build_parser().parse_args(["run", "--responses", "--model", "m", "-m", "x"])
    assert usage_problem(ok, env={"OPENAI_API_KEY": "k"}) is None


def test_help_names_the_responses_options(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("demo", "run", "chat"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        out = capsys.readouterr().out
        assert "--responses" in out
        assert ("--previous-response" in out) == (command != "demo")


# -- Ctrl-C ------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_ctrl_c_closes_the_response_stream_and_exits_130() -> None:
    async with FakeAssistantsServer(faults=Faults(delay=0.2)) as server:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "streamrun", "run", "--responses", "--base-url",
            server.base_url, "--api-key", "k", "--model", "m", "-m", "Tell me more",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=_env(),
        )  # fmt: skip
        assert proc.stderr is not None
        code = await interrupt_when(proc, rb"assistant \S")
        err = (await proc.stderr.read()).decode()
        (response_id,) = server.response_ids()
    assert code == 130
    assert err == f"interrupted: response {response_id} stopped when its stream was closed\n"
    # Not a background response: nothing to cancel on the server (the API would refuse).
    assert server.requests_to("cancel_response") == []
