"""The ``streamrun`` command: demo, run, chat and replay, with a live display.

``streamrun demo`` plays a short conversation with a function call against
the fake server of :mod:`streamrun.testing`, started in this process on
127.0.0.1 (no key, no network). ``run`` and ``chat`` talk to any compatible
server (``OPENAI_BASE_URL`` / ``OPENAI_API_KEY`` or the options), or to the
fake one with ``--fake``. ``--record PATH`` saves the bytes of every stream
with their timing (:mod:`streamrun._recording`) and ``replay PATH`` plays
them through the same client and display.

Exit status: 0 on success; 1 for an error (one ``error:`` line on stderr) or
a run that did not complete; 2 for a usage error; 130 after Ctrl-C (the run
being streamed is cancelled on the server first).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import logging
import os
import signal
import sys
import types
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Optional, TextIO, TypeAlias

from ._exceptions import StreamInterrupted, StreamrunError
from ._version import __version__

# ``--help``, ``--version`` and usage errors need none of the modules below
# (aiohttp, attrs and cattrs take most of a second to import on a cold start):
# _import_runtime() imports them once, when main() has parsed a command, or
# when anything other than main() is read from this module (tests, Session).
if TYPE_CHECKING:
    from ._client import AsyncClient
    from ._display import Display, choose_color, choose_mode, run_outcome
    from ._handler import AsyncEventHandler
    from ._models import RequiredActionFunctionToolCall, Run
    from ._recording import Protocol, RecordedStream, Recorder, read_recording, replay_stream
    from ._stream import RunStream
    from .testing import (
        FakeAssistantsServer,
        Faults,
        Pause as FakePause,
        Scenario as FakeScenario,
        TextReply as FakeTextReply,
        fake_reply,
    )

# The names of streamrun.testing's ready scenarios (for --help without
# importing the fake server; tests/test_cli.py checks that they match).
READY_SCENARIOS = (
    "chained_function_calls",
    "code_interpreter",
    "error_event",
    "error_event_wrapped",
    "failed_run",
    "file_search",
    "function_call",
    "incomplete_run",
    "interleaved_function_calls",
    "parallel_function_calls",
    "plain_text",
    "refusal",
    "text_with_annotations",
)


_runtime_imported = False


def _import_runtime() -> None:
    """Import what the commands need (idempotent: later calls are a lookup)."""
    global AsyncClient, Display, choose_color, choose_mode, run_outcome, AsyncEventHandler
    global RequiredActionFunctionToolCall, Run, RecordedStream, Recorder, replay_stream
    global read_recording, RunStream, FakeAssistantsServer, Faults, FakePause, FakeScenario
    global FakeTextReply, fake_reply
    global _runtime_imported
    if _runtime_imported:
        return
    from ._client import AsyncClient
    from ._display import Display, choose_color, choose_mode, run_outcome
    from ._handler import AsyncEventHandler
    from ._models import RequiredActionFunctionToolCall, Run
    from ._recording import RecordedStream, Recorder, read_recording, replay_stream
    from ._stream import RunStream
    from .testing import (
        FakeAssistantsServer,
        Faults,
        Pause as FakePause,
        Scenario as FakeScenario,
        TextReply as FakeTextReply,
        fake_reply,
    )

    _runtime_imported = True


class _Module(types.ModuleType):
    """This module, importing the runtime on the first read of anything but ``main``."""

    def __getattribute__(self, name: str) -> Any:
        if not name.startswith("__") and name not in ("main", "build_parser"):
            _import_runtime()
        return super().__getattribute__(name)


sys.modules[__name__].__class__ = _Module

__all__ = [
    "LOCAL_TOOLS",
    "CLIError",
    "EndOfInput",
    "RunNotSuccessful",
    "Session",
    "ToolOutputsNeeded",
    "build_parser",
    "get_current_weather",
    "main",
]

PROG = "streamrun"
EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

_SETTLED = frozenset({"completed", "failed", "cancelled", "expired", "incomplete"})
_CANCEL_TIMEOUT = 5.0

# ---------------------------------------------------------------------------
# Errors


class CLIError(StreamrunError):
    """The command could not do what was asked; the message is printed as it is."""


class RunNotSuccessful(CLIError):
    """A run ended failed, incomplete, expired or cancelled."""

    def __init__(self, run: Run) -> None:
        self.run = run
        super().__init__(run_problem(run) or f"run {run.id} ended {run.status}")


class ToolOutputsNeeded(CLIError):
    """A run requires the output of a function this command cannot run."""


class EndOfInput(CLIError):
    """The input ended while the command was waiting for a line."""


def run_problem(run: Run) -> str | None:
    """One line saying why a run did not complete, or ``None`` when it completed."""
    status = run.status
    if status in ("completed", "requires_action"):
        return None
    outcome = run_outcome(run)
    phrase = {
        "failed": "failed",
        "incomplete": "ended incomplete",
        "expired": "expired",
        "cancelled": "was cancelled",
    }.get(status, f"ended with status {status!r}")
    return f"run {run.id} {phrase}" + (f": {outcome}" if outcome else "")


# ---------------------------------------------------------------------------
# Local functions (answer function calls of the fake server's runs)

_WEATHER: Mapping[str, tuple[int, str]] = {
    "paris": (18, "light rain"),
    "tokyo": (24, "sunshine"),
    "london": (14, "low clouds"),
    "new york": (21, "clear skies"),
    "berlin": (16, "a light breeze"),
    "sydney": (22, "sunshine"),
}
_CONDITIONS = ("sunshine", "light rain", "low clouds", "clear skies", "a light breeze")


def get_current_weather(arguments: str) -> str:
    """A pretend weather lookup: JSON arguments in, a JSON report out (deterministic)."""
    try:
        args = json.loads(arguments) if arguments.strip() else {}
    except ValueError:
        return json.dumps({"error": "the arguments are not valid JSON"})
    if not isinstance(args, dict):
        args = {}
    location = str(args.get("location") or "Paris, France")
    unit = "fahrenheit" if str(args.get("unit", "")).lower().startswith("f") else "celsius"
    city = location.split(",")[0].strip().lower()
    if city in _WEATHER:
        celsius, conditions = _WEATHER[city]
    else:
        seed = zlib.crc32(city.encode("utf-8"))
        celsius, conditions = 8 + seed % 20, _CONDITIONS[seed % len(_CONDITIONS)]
    temperature = celsius if unit == "celsius" else round(celsius * 9 / 5 + 32)
    report = {
        "location": location,
        "temperature": temperature,
        "unit": unit,
        "conditions": conditions,
    }
    return json.dumps(report, ensure_ascii=False)


#: Functions the command can run itself (only for runs of the built-in fake server).
LOCAL_TOOLS: Mapping[str, Callable[[str], str]] = {"get_current_weather": get_current_weather}


def current_weather(location: str = "Paris, France", unit: str = "celsius") -> str:
    """A pretend weather lookup (deterministic): the report as JSON.

    Args:
        location: the city, e.g. "Paris, France".
        unit: "celsius" or "fahrenheit".
    """
    return get_current_weather(json.dumps({"location": location, "unit": unit}))


# The local tools as the tool loop (functions=) runs them: typed arguments.
LOOP_FUNCTIONS: Mapping[str, Callable[..., str]] = {"get_current_weather": current_weather}


DEMO_QUESTION = "What's the weather like in Paris right now?"
DEMO_FOLLOW_UP = "Thanks! Anything worth doing there on a rainy afternoon?"
DEMO_TIP = (
    "A rainy afternoon suits the Musée d'Orsay: the Impressionists are indoors, and the "
    "café behind the giant clock looks out over the Seine. Finish with a hot chocolate "
    "at Angelina on the rue de Rivoli ☕."
)


def demo_scenarios(pause: float) -> list[FakeScenario]:
    """The demo's two runs: a weather question (a function call), then a follow-up."""
    first = fake_reply(DEMO_QUESTION, pause=pause)
    steps: list[Any] = [FakePause(pause)] if pause > 0 else []
    steps.append(FakeTextReply(DEMO_TIP, fragment_size=5))
    return [first, FakeScenario(steps, name="demo_follow_up")]


# ---------------------------------------------------------------------------
# Reading lines from stdin without blocking the event loop


class LineReader:
    """Lines of a file descriptor, read when it is ready (the loop keeps running).

    Uses ``loop.add_reader`` (pipes, terminals); regular files, and platforms
    without it, are read directly.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        try:
            self._fd: int | None = stream.fileno()
        except (OSError, ValueError, io.UnsupportedOperation):
            self._fd = None
        self._buffer = b""
        self._eof = False

    async def readline(self) -> str | None:
        """The next line without its end, or ``None`` at the end of the input."""
        if self._fd is None:
            text = self._stream.readline()
            return text.rstrip("\r\n") if text else None
        while b"\n" not in self._buffer and not self._eof:
            data = await self._read(self._fd)
            if data:
                self._buffer += data
            else:
                self._eof = True
        if not self._buffer:
            return None
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line.decode("utf-8", "replace").rstrip("\r")

    @staticmethod
    async def _read(fd: int) -> bytes:
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = loop.create_future()

        def wake() -> None:
            if not ready.done():
                ready.set_result(None)

        try:
            loop.add_reader(fd, wake)
        except (NotImplementedError, OSError, ValueError):
            return os.read(fd, 65536)
        try:
            await ready
        finally:
            loop.remove_reader(fd)
        return os.read(fd, 65536)


# ---------------------------------------------------------------------------
# A conversation: streams, tool outputs, recording

Tap = Callable[[bytes], None]
OpenStream: TypeAlias = "Callable[[AsyncEventHandler, Optional[Tap]], RunStream]"
AskOutput: TypeAlias = "Callable[[RequiredActionFunctionToolCall], Awaitable[str]]"


def _user_message(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


class Session:
    """Streams runs through a :class:`~streamrun._display.Display`.

    The local ``tools`` that have a typed form (:data:`LOOP_FUNCTIONS`) run in
    the stream's tool loop (``functions=``): the run's continuation is the same
    stream and handler, so each call and output is drawn once. A run left in
    ``requires_action`` (a call the loop cannot run) is answered by running
    ``tools`` (name → function of the JSON arguments returning the output) or
    asking ``ask``, then submitting every output in one
    ``submit_tool_outputs`` stream with the same handler. Records each HTTP
    stream with ``recorder`` (a tool loop's continuation as its own
    ``submit_tool_outputs`` stream). ``before_run`` is called with the user's
    message before a run is created. A replay's session has no ``client``:
    it only draws streams (:meth:`stream`). A subclass speaks another protocol
    through :attr:`protocol`, :meth:`_submit`, :meth:`_submission` and
    :meth:`_cancel_waiting` (``streamrun._cli_responses``).
    """

    #: What the streams are, for the recording: run streams.
    protocol: Protocol = "runs"

    def __init__(
        self,
        client: AsyncClient | None,
        display: Display,
        *,
        recorder: Recorder | None = None,
        tools: Mapping[str, Callable[[str], str]] | None = None,
        ask: AskOutput | None = None,
        before_run: Callable[[str | None], None] | None = None,
    ) -> None:
        self.client = client
        self.display = display
        self.recorder = recorder
        self.tools = dict(tools or {})
        self.functions = {n: LOOP_FUNCTIONS[n] for n in self.tools if n in LOOP_FUNCTIONS}
        self.ask = ask
        self.before_run = before_run
        self.active: RunStream | None = None
        self.cancelled_run: str | None = None
        self.cancel_error: str | None = None
        self._capture: Any = None  # the recording of the HTTP stream being read
        self._round: list[dict[str, str]] = []  # the tool loop's outputs, being submitted

    def _loop_options(self) -> dict[str, Any]:
        return {"functions": self.functions} if self.functions else {}

    @property
    def api(self) -> AsyncClient:
        """The client (a replay's session has none)."""
        if self.client is None:
            raise CLIError("a replay has no connection to the server")
        return self.client

    async def create_and_run(self, assistant_id: str, message: str | None, **body: Any) -> Run:
        """A new thread (with ``message``) and a run on it, to its end."""
        thread = {"messages": [_user_message(message)]} if message else None
        request: dict[str, Any] = {"assistant_id": assistant_id, **body}
        if thread is not None:
            request["thread"] = thread

        def open_stream(handler: AsyncEventHandler, tap: Tap | None) -> RunStream:
            return self.api.threads.create_and_run_stream(
                assistant_id=assistant_id,
                thread=thread,
                handler=handler,
                tap=tap,
                **self._loop_options(),
                **body,
            )

        return await self._turn(
            open_stream, "create_thread_and_run", "/threads/runs", request, message
        )

    async def run_on_thread(
        self, thread_id: str, assistant_id: str, message: str | None, **body: Any
    ) -> Run:
        """A run on an existing thread (``message`` in ``additional_messages``), to its end."""
        if message:
            body["additional_messages"] = [_user_message(message)]
        request = {"thread_id": thread_id, "assistant_id": assistant_id, **body}

        def open_stream(handler: AsyncEventHandler, tap: Tap | None) -> RunStream:
            return self.api.runs.stream(
                thread_id,
                assistant_id=assistant_id,
                handler=handler,
                tap=tap,
                **self._loop_options(),
                **body,
            )

        return await self._turn(
            open_stream, "create_run", f"/threads/{thread_id}/runs", request, message
        )

    async def _turn(
        self,
        open_stream: OpenStream,
        endpoint: str,
        path: str,
        request: Mapping[str, Any],
        message: str | None,
    ) -> Run:
        if self.before_run is not None:
            self.before_run(message)
        # One handler follows the run: through the tool loop's continuations, and
        # through the continuations answered here.
        handler = self.display.handler(self._tool_output)
        run = await self.stream(open_stream, endpoint, path, request, handler)
        while run.status == "requires_action" and run.required_action is not None:
            thread_id, run_id = run.thread_id, run.id
            try:
                outputs = await self._outputs(run)
            except (asyncio.CancelledError, EndOfInput):
                await self._cancel_waiting(run)
                raise

            def submit(
                handler: AsyncEventHandler,
                tap: Tap | None,
                thread_id: str = thread_id,
                run_id: str = run_id,
                outputs: list[dict[str, str]] = outputs,
            ) -> RunStream:
                return self._submit(handler, tap, thread_id, run_id, outputs)

            run = await self.stream(
                submit, *self._submission(thread_id, run_id, outputs), handler=handler
            )
        if run.status == "requires_action":
            raise CLIError(f"run {run.id} requires an action streamrun does not know how to take")
        return run

    def _submit(
        self,
        handler: AsyncEventHandler,
        tap: Tap | None,
        thread_id: str,
        run_id: str,
        outputs: list[dict[str, str]],
    ) -> RunStream:
        """The stream that answers a waiting run's calls with ``outputs``."""
        return self.api.runs.submit_tool_outputs_stream(
            thread_id,
            run_id,
            tool_outputs=outputs,
            handler=handler,
            tap=tap,
            **self._loop_options(),
        )

    def _submission(
        self, thread_id: str, run_id: str, outputs: list[dict[str, str]]
    ) -> tuple[str, str, dict[str, Any]]:
        """How a submission of ``outputs`` is recorded: endpoint, path and request."""
        path = f"/threads/{thread_id}/runs/{run_id}/submit_tool_outputs"
        request = {"thread_id": thread_id, "run_id": run_id, "tool_outputs": outputs}
        return "submit_tool_outputs", path, request

    def waiting_outcome(self) -> str:
        """What became of the run left waiting when the input ended (:meth:`_cancel_waiting`)."""
        if self.cancelled_run:
            return f"run {self.cancelled_run} was cancelled"
        return f"the run could not be cancelled: {self.cancel_error}"

    def problem(self, run: Run) -> str | None:
        """Why ``run`` did not complete (:func:`run_problem`), or ``None``."""
        return run_problem(run)

    def abandoned(self, run_id: str) -> str:
        """The line said after Ctrl-C left the stream of ``run_id`` (cancel-on-abandon)."""
        return f"cancelled: run {run_id} was cancelled on the server"

    async def stream(
        self,
        open_stream: OpenStream,
        endpoint: str,
        path: str,
        request: Mapping[str, Any],
        handler: AsyncEventHandler | None = None,
    ) -> Run:
        """Open one stream, draw it to its end and return the run as it left it."""
        shown = self.display.take_shown()
        capture = (
            self.recorder.begin(endpoint, path, request, shown, protocol=self.protocol)
            if self.recorder
            else None
        )
        self._capture = capture
        self._round = []
        outcome: Any = "ok"
        error: str | None = None
        self.display.busy("waiting for the server")
        try:
            view = handler if handler is not None else self.display.handler()
            stream = open_stream(view, self._tap if capture else None)
            self.active = stream
            async with stream:
                await stream.until_done()
            run = stream.current_run
        except asyncio.CancelledError:
            outcome = "interrupted"
            raise
        except StreamrunError as exc:
            outcome, error = "error", str(exc)
            raise
        finally:
            self.display.busy(None)
            if self._capture is not None and self.recorder is not None:
                self.recorder.end(self._capture, outcome, error)
            self._capture = None
            self._round = []
        if run is None:
            raise CLIError("the stream ended without any run event")
        return run

    def _tool_output(self, call_id: str, output: str) -> None:
        """The tool loop computed an output (shown already): part of its next submit."""
        self._round.append({"tool_call_id": call_id, "output": output})

    def _tap(self, chunk: bytes) -> None:
        """Record a chunk; the first chunk after a tool loop's round starts the
        recording of its continuation (a ``submit_tool_outputs`` stream)."""
        if self._round and self.recorder is not None and self.active is not None:
            thread_id, run_id = self.active.thread_id or "", self.active.run_id or ""
            outputs, self._round = self._round, []
            self.recorder.end(self._capture, "ok", None)
            self._capture = self.recorder.begin(
                *self._submission(thread_id, run_id, outputs),
                self.display.take_shown(),
                protocol=self.protocol,
            )
        self._capture.tap(chunk)

    async def _outputs(self, run: Run) -> list[dict[str, str]]:
        assert run.required_action is not None
        outputs: list[dict[str, str]] = []
        for call in run.required_action.submit_tool_outputs.tool_calls:
            name = call.function.name
            local = self.tools.get(name)
            if local is not None:
                output = local(call.function.arguments)
                self.display.tool_output(call.id, output)
            elif self.ask is not None:
                output = await self.ask(call)
                self.display.tool_output(call.id, output)
            else:
                raise ToolOutputsNeeded(
                    f"run {run.id} requires action: streamrun cannot run function {name!r} "
                    f"(call {call.id}); the run waits for its output until it expires"
                )
            outputs.append({"tool_call_id": call.id, "output": output})
        return outputs

    async def _cancel_waiting(self, run: Run) -> None:
        """Cancel a run left waiting for tool outputs (bounded, shielded)."""
        task = asyncio.ensure_future(self.api.runs.cancel(run.thread_id, run.id))
        try:
            await asyncio.wait_for(asyncio.shield(task), _CANCEL_TIMEOUT)
        except asyncio.TimeoutError:
            task.cancel()
            self.cancel_error = f"no answer within {_CANCEL_TIMEOUT:g}s"
        except asyncio.CancelledError:
            task.cancel()
            self.cancel_error = "interrupted again"
        except StreamrunError as exc:
            self.cancel_error = str(exc)
        else:
            self.cancelled_run = run.id
        if self.cancel_error is not None:
            self.cancelled_run = None


# ---------------------------------------------------------------------------
# Command line


def _query_item(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def _speed(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 0 or value != value:
        raise argparse.ArgumentTypeError("must be >= 0 (0: as fast as possible)")
    return value


def _add_output_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--json",
        action="store_true",
        help='print the events as JSON lines ({"event": name, "data": raw JSON})',
    )


def _add_record_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--record",
        metavar="PATH",
        help="save the bytes of every stream, with their timing, for 'streamrun replay'",
    )


def _add_connection_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("connection")
    g.add_argument(
        "--base-url", metavar="URL", help="API root (default: $OPENAI_BASE_URL or OpenAI's)"
    )
    g.add_argument("--api-key", metavar="KEY", help="API key (default: $OPENAI_API_KEY)")
    g.add_argument(
        "--api-key-header",
        action="store_true",
        help="send the key in an 'api-key' header (Azure) instead of 'Authorization: Bearer'",
    )
    g.add_argument(
        "--query",
        metavar="KEY=VALUE",
        action="append",
        type=_query_item,
        default=[],
        help="query parameter sent with every request (repeatable), e.g. api-version=...",
    )
    f = p.add_argument_group("built-in fake server")
    f.add_argument(
        "--fake",
        action="store_true",
        help="talk to the built-in fake server (runs and responses), started in this process "
        "(no key, no network)",
    )
    f.add_argument(
        "--fake-scenario",
        metavar="NAME",
        choices=sorted(READY_SCENARIOS),
        help="play this ready scenario in every run (implies --fake): "
        + ", ".join(sorted(READY_SCENARIOS)),
    )
    f.add_argument("--fast", action="store_true", help="with --fake: no pause between events")


def _add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", help="override the assistant's model (--responses: the model)")
    p.add_argument("--instructions", help="override the assistant's instructions")


def _add_responses_options(p: argparse.ArgumentParser, *, context: bool = True) -> None:
    g = p.add_argument_group("Responses API")
    g.add_argument(
        "--responses",
        action="store_true",
        help="stream Responses API responses (POST /responses) instead of Assistants runs",
    )
    if context:
        g.add_argument(
            "--conversation", metavar="ID", help="with --responses: in this conversation"
        )
        g.add_argument(
            "--previous-response",
            metavar="ID",
            help="with --responses: continue after this response",
        )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``streamrun`` command."""
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Stream OpenAI Assistants runs (or Responses API responses: --responses) "
        "live in your terminal.",
        epilog="Start with 'streamrun demo' (no key, no network).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = sub.add_parser(
        "demo",
        help="a short conversation with a function call, against a built-in fake server",
        description="Start a fake Assistants server in this process (127.0.0.1, no key, no "
        "network) and stream a short conversation with a function call, answered by a "
        "local Python function.",
    )
    demo.add_argument("--fast", action="store_true", help="no pause between events")
    _add_output_options(demo)
    _add_record_option(demo)
    _add_responses_options(demo, context=False)

    run = sub.add_parser(
        "run",
        help="stream one run of an assistant",
        description="Create a run (on --thread, else on a new thread) and stream it.",
    )
    run.add_argument("--assistant", metavar="ID", help="assistant id (required without --fake)")
    run.add_argument("--thread", metavar="ID", help="thread id (default: a new thread)")
    run.add_argument("--message", "-m", metavar="TEXT", help="user message to add first")
    _add_run_options(run)
    _add_output_options(run)
    _add_record_option(run)
    _add_responses_options(run)
    _add_connection_options(run)

    chat = sub.add_parser(
        "chat",
        help="a conversation with an assistant, one line per message",
        description="Read messages from stdin, one per line, and stream each answer. The "
        "first run creates the thread (unless --thread). End with EOF (Ctrl-D) or /quit.",
    )
    chat.add_argument("--assistant", metavar="ID", help="assistant id (required without --fake)")
    chat.add_argument("--thread", metavar="ID", help="continue this thread")
    _add_run_options(chat)
    _add_output_options(chat)
    _add_record_option(chat)
    _add_responses_options(chat)
    _add_connection_options(chat)

    replay = sub.add_parser(
        "replay",
        help="play a recording (or a plain .sse transcript) through the live display",
        description="Serve recorded streams from 127.0.0.1 and stream them through the same "
        "client and display as a live run.",
    )
    replay.add_argument(
        "paths", metavar="PATH", nargs="+", help="recording(s) or .sse transcript(s), in order"
    )
    replay.add_argument(
        "--speed",
        type=_speed,
        default=1.0,
        help="playback speed (default 1.0; 0 = as fast as possible)",
    )
    _add_output_options(replay)
    _add_web_parser(sub)
    return parser


#: Seconds between two events of the fake server's runs in ``streamrun web --fake``.
WEB_FAKE_PACE = 0.04


def _add_web_parser(sub: Any) -> None:
    """The ``web`` subcommand (its implementation is :mod:`streamrun._web`, imported when run)."""
    p = sub.add_parser(
        "web",
        help="a chat page in the browser that streams runs token by token",
        description="Serve a one-page chat (127.0.0.1 by default) that relays run streams "
        "(or Responses API streams: --responses) to the browser. The API key stays in "
        "this process.",
    )
    p.add_argument(
        "--fake",
        action="store_true",
        help="use the built-in fake server (runs and responses), started in this process "
        "(no key, no network)",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8080, help="port (default 8080; 0 = any)")
    p.add_argument("--assistant", metavar="ID", help="assistant id (required without --fake)")
    p.add_argument(
        "--responses",
        action="store_true",
        help="chat over the Responses API (POST /responses) instead of Assistants runs",
    )
    p.add_argument("--model", help="with --responses: the model (required without --fake)")
    p.add_argument(
        "--base-url", metavar="URL", help="API root (default: $OPENAI_BASE_URL or OpenAI's)"
    )
    p.add_argument("--api-key", metavar="KEY", help="API key (default: $OPENAI_API_KEY)")
    p.add_argument(
        "--no-tools",
        action="store_true",
        help="run no local function (by default the tool loop answers calls of "
        f"{', '.join(sorted(LOOP_FUNCTIONS))}); a run (or response) that calls one stops in "
        "requires_action",
    )
    p.add_argument(
        "--pace",
        type=float,
        default=WEB_FAKE_PACE,
        help=f"with --fake: seconds between events (default {WEB_FAKE_PACE})",
    )


class _LogCapture(logging.Handler):
    """Keeps the library's warnings (e.g. a failed cancel) instead of printing them."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.warnings: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == "streamrun" and record.levelno >= logging.WARNING:
            self.warnings.append(record.getMessage())


class _App:
    """One invocation of the command."""

    def __init__(self, args: argparse.Namespace, out: TextIO, err: TextIO, stdin: TextIO) -> None:
        self.args = args
        self.out = out
        self.err = err
        self.stdin = stdin
        self.secrets = _secrets(args)
        self.display = Display(
            out,
            err,
            mode=choose_mode(out, json_lines=bool(args.json)),
            color=choose_color(),
            secrets=self.secrets,
            wrap=_isatty(out),  # a terminal: wrap inside the label gutter
        )
        self.session: Session | None = None
        self.interrupted = False
        self.log = _LogCapture()

    # -- plumbing ----------------------------------------------------------

    def error(self, message: str) -> None:
        self.notice(f"error: {message}")

    def notice(self, message: str) -> None:
        """A line on stderr (server text in it is made safe: no control sequence, no key)."""
        self.display.finish()
        self.err.write(self.display.safe(message) + "\n")
        self.err.flush()

    async def main(self) -> int:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        installed = False
        if task is not None:
            try:
                loop.add_signal_handler(signal.SIGINT, self._on_sigint, loop, task)
                installed = True
            except (NotImplementedError, RuntimeError, ValueError):
                pass
        logger = logging.getLogger("streamrun")
        logger.addHandler(self.log)
        old_level = logger.level
        logger.setLevel(logging.INFO)
        try:
            return await self._dispatch()
        except asyncio.CancelledError:
            if not self.interrupted:
                raise
            uncancel = getattr(task, "uncancel", None)
            if uncancel is not None:
                uncancel()
            self.notice(self._interrupt_message())
            return EXIT_INTERRUPTED
        except RunNotSuccessful as exc:
            self.error(str(exc))
            return EXIT_ERROR
        except StreamrunError as exc:
            self.error(_describe(exc))
            return EXIT_ERROR
        except BrokenPipeError:
            _silence_stdout()
            return EXIT_ERROR
        except RecursionError:
            # Crafted input (a recording, a server) nested past what can be decoded:
            # one line, not a traceback, whichever layer noticed it.
            self.error("the data received is nested too deeply to decode")
            return EXIT_ERROR
        finally:
            if installed:
                with contextlib.suppress(Exception):
                    loop.remove_signal_handler(signal.SIGINT)
            logger.removeHandler(self.log)
            logger.setLevel(old_level)
            with contextlib.suppress(BrokenPipeError, OSError, ValueError):
                self.display.finish()

    def _on_sigint(self, loop: asyncio.AbstractEventLoop, task: asyncio.Task[Any]) -> None:
        # First Ctrl-C: cancel the work (a run being streamed is cancelled on the
        # server as its stream is left). A second one interrupts at once.
        self.interrupted = True
        task.cancel()
        with contextlib.suppress(Exception):
            loop.remove_signal_handler(signal.SIGINT)

    def _interrupt_message(self) -> str:
        session = self.session
        if session is None or self.args.command == "replay":
            return "interrupted"
        if session.cancelled_run is not None:
            return f"cancelled: run {session.cancelled_run} was cancelled on the server"
        stream = session.active
        if stream is not None and stream.run_id is not None and not stream.done:
            run = stream.current_run
            if run is None or (run.status not in _SETTLED and run.status != "requires_action"):
                if self.log.warnings:
                    return f"interrupted: {self.log.warnings[-1]}"
                return session.abandoned(stream.run_id)
        if session.cancel_error is not None:
            return f"interrupted: could not cancel the waiting run: {session.cancel_error}"
        return "interrupted"

    async def _dispatch(self) -> int:
        command = self.args.command
        if getattr(self.args, "responses", False):
            from . import _cli_responses

            return await _cli_responses.dispatch(self)
        if command == "demo":
            return await self._demo()
        if command == "run":
            return await self._run()
        if command == "chat":
            return await self._chat()
        return await self._replay()

    def _recorder(self, protocol: Protocol = "runs") -> Recorder | None:
        path = getattr(self.args, "record", None)
        return Recorder(path, secrets=self.secrets, protocol=protocol) if path else None

    def _pace(self) -> float:
        """Seconds between fake events: visible streaming on a terminal only."""
        if getattr(self.args, "fast", False) or self.display.mode != "pretty":
            return 0.0
        return 0.015

    @contextlib.asynccontextmanager
    async def _fake_server(
        self, scenario: str | None = None, seed: int | None = None
    ) -> AsyncIterator[tuple[AsyncClient, FakeAssistantsServer]]:
        pace = self._pace()
        server = FakeAssistantsServer(
            scenario=scenario or "assistant",
            faults=Faults(delay=pace) if pace else None,
            seed=seed,
            auto_create_threads=True,  # `run --fake --thread ID` names any thread
        )
        async with server:
            async with AsyncClient(api_key="sk-fake", base_url=server.base_url, max_retries=0) as c:
                yield c, server

    @contextlib.asynccontextmanager
    async def _connection(self) -> AsyncIterator[tuple[AsyncClient, FakeAssistantsServer | None]]:
        args = self.args
        if args.fake or args.fake_scenario:
            async with self._fake_server(args.fake_scenario) as (client, server):
                if getattr(args, "conversation", None):
                    server.create_conversation(args.conversation)  # --fake names any
                yield client, server
            return
        client = AsyncClient(
            api_key=args.api_key,
            base_url=args.base_url,
            auth_style="api-key" if args.api_key_header else "bearer",
            default_query=dict(args.query) or None,
        )
        async with client:
            yield client, None

    def _assistant(self) -> str:
        """The assistant id (checked by :func:`usage_problem` before)."""
        args = self.args
        return str(args.assistant or "asst_fake")

    def _body(self) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if self.args.model:
            body["model"] = self.args.model
        if self.args.instructions:
            body["instructions"] = self.args.instructions
        return body

    def _before_run(
        self, server: FakeAssistantsServer | None
    ) -> Callable[[str | None], None] | None:
        if server is None or self.args.fake_scenario:
            return None
        pause = 0.3 if self._pace() else 0.0

        def queue(message: str | None) -> None:
            server.queue_scenario(fake_reply(message, pause=pause))

        return queue

    # -- commands ------------------------------------------------------------

    async def _demo(self) -> int:
        d = self.display
        pace = self._pace()
        with _closing(self._recorder(), self.display) as recorder:
            async with self._fake_server(seed=2024) as (client, server):
                session = self.session = Session(client, d, recorder=recorder, tools=LOCAL_TOOLS)
                d.banner(
                    "streamrun demo · a fake Assistants server runs in this process "
                    "(no key, no network)"
                )
                d.banner("")
                first, second = demo_scenarios(0.3 if pace else 0.0)
                server.queue_scenario(first)
                d.user(DEMO_QUESTION)
                run = await session.create_and_run("asst_demo", DEMO_QUESTION)
                if run_problem(run):
                    raise RunNotSuccessful(run)
                server.queue_scenario(second)
                d.banner("")
                d.user(DEMO_FOLLOW_UP)
                run = await session.run_on_thread(run.thread_id, "asst_demo", DEMO_FOLLOW_UP)
                if run_problem(run):
                    raise RunNotSuccessful(run)
                d.banner("")
                d.banner(
                    "Next: 'streamrun chat --fake', or 'streamrun run --assistant ID -m TEXT' "
                    "with OPENAI_API_KEY set."
                )
        return EXIT_OK

    async def _run(self) -> int:
        assistant = self._assistant()
        args = self.args
        with _closing(self._recorder(), self.display) as recorder:
            async with self._connection() as (client, server):
                session = self.session = Session(
                    client,
                    self.display,
                    recorder=recorder,
                    tools=LOCAL_TOOLS if server is not None else None,
                    before_run=self._before_run(server),
                )
                if args.thread:
                    run = await session.run_on_thread(
                        args.thread, assistant, args.message, **self._body()
                    )
                else:
                    run = await session.create_and_run(assistant, args.message, **self._body())
        if run_problem(run):
            raise RunNotSuccessful(run)
        return EXIT_OK

    async def _chat(self) -> int:
        assistant = self._assistant()
        thread_id: str | None = self.args.thread

        async def turn(session: Session, text: str) -> Run:
            nonlocal thread_id
            if thread_id is None:
                run = await session.create_and_run(assistant, text, **self._body())
            else:
                run = await session.run_on_thread(thread_id, assistant, text, **self._body())
            thread_id = run.thread_id or thread_id
            return run

        return await self.chat_loop(f"chat with {assistant}", Session, turn)

    async def chat_loop(
        self,
        title: str,
        session_class: type[Session],
        turn: Callable[[Session, str], Awaitable[Run]],
        **options: Any,
    ) -> int:
        """Read one message per line and stream each answer with ``turn`` through a
        ``session_class`` (made with ``options`` too); ``title`` names the other
        side in the banner at a terminal."""
        d = self.display
        reader = LineReader(self.stdin)
        interactive = _isatty(self.stdin)
        # At a terminal, lines are read with readline (editing, history).
        typed = interactive and _isatty(self.out) and d.mode != "json"

        async def read(label: str) -> str | None:
            if typed:
                return self._typed_line(label)
            if interactive:
                d.prompt(label)
            line = await reader.readline()
            if interactive:
                if line is None:
                    d.input_ended()
                else:
                    d.input_done()
            return line

        async def ask(call: RequiredActionFunctionToolCall) -> str:
            d.note(
                f"streamrun cannot run {call.function.name}(): "
                "type its output (JSON or text) and press Enter"
            )
            line = await read("output")
            if line is None:
                raise EndOfInput("the input ended while a run waited for a tool output")
            if interactive:
                d.mark_output_shown(call.id)
            return line

        failures = 0
        with _closing(self._recorder(session_class.protocol), self.display) as recorder:
            async with self._connection() as (client, server):
                session = self.session = session_class(
                    client,
                    d,
                    recorder=recorder,
                    tools=LOCAL_TOOLS if server is not None else None,
                    ask=ask,
                    before_run=self._before_run(server),
                    **options,
                )
                if interactive:
                    d.banner(f"{title} · one line per message · /quit or Ctrl-D to leave")
                turns = 0
                while True:
                    if interactive and turns:
                        d.banner("")
                    line = await read("you")
                    if line is None:
                        break
                    text = line.strip()
                    if not text:
                        continue
                    if text in ("/quit", "/exit", "/q"):
                        break
                    if interactive:
                        d.remember("you", text)  # on the screen already, after its prompt
                    else:
                        d.user(text)
                    turns += 1
                    try:
                        run = await turn(session, text)
                    except EndOfInput as exc:
                        self.error(f"{exc}; {session.waiting_outcome()}")
                        failures += 1
                        break
                    problem = session.problem(run)
                    if problem:
                        failures += 1
                        self.error(problem)
        return EXIT_ERROR if failures else EXIT_OK

    def _typed_line(self, label: str) -> str | None:
        """A line typed at the terminal after the prompt ``label``, with readline's
        editing and history; ``None`` at Ctrl-D. Ctrl-C interrupts the command.

        It blocks the event loop on purpose: it is only called at a prompt, when no
        stream is open and the spinner is stopped. SIGINT goes back to Python's
        default handler meanwhile, so Ctrl-C stops ``input()`` itself.
        """
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401  (gives input() line editing and history)
        d = self.display
        d.finish()
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        had_handler = loop.remove_signal_handler(signal.SIGINT)
        try:
            line = input(d.prompt_text(label))
        except EOFError:
            d.input_ended()
            return None
        except KeyboardInterrupt:
            d.input_ended()
            self.interrupted = True
            raise asyncio.CancelledError from None
        finally:
            if had_handler and task is not None:
                loop.add_signal_handler(signal.SIGINT, self._on_sigint, loop, task)
        d.input_done()
        return line

    async def _replay(self) -> int:
        streams: list[RecordedStream] = []
        for path in self.args.paths:
            streams.extend(read_recording(path))
        if not streams:
            raise CLIError("the recording has no streams")
        failures = 0
        last: Run | None = None
        speed = self.args.speed
        session = self.session = Session(None, self.display)
        for recorded in streams:
            for kind, text in recorded.shown:  # what the live run printed first
                if kind == "you":
                    self.display.user(text)
                else:
                    self.display.banner(text)
            if recorded.only_shown:
                continue
            if not recorded.chunks and recorded.outcome == "error":
                raise CLIError(recorded.error or "the recorded stream failed")
            if recorded.protocol == "responses":
                from ._cli_responses import show_submitted

                show_submitted(self.display, recorded)

            def open_stream(
                handler: AsyncEventHandler, tap: Tap | None, recorded: RecordedStream = recorded
            ) -> RunStream:
                return replay_stream(recorded, handler=handler, speed=speed)

            try:
                last = await session.stream(open_stream, recorded.endpoint, recorded.path, {})
            except StreamInterrupted:
                if recorded.outcome == "error" and recorded.error:
                    raise CLIError(recorded.error) from None
                if recorded.outcome != "interrupted":
                    raise
                stream = session.active
                run_id = stream.run_id if stream is not None else None
                which = f"run {run_id}" if run_id else "the run"
                self.notice(f"cancelled: the recording ends where {which} was interrupted")
                return EXIT_INTERRUPTED
            problem = run_problem(last)
            if problem and recorded.protocol == "responses":
                from ._cli_responses import response_problem

                problem = response_problem(last)
            if problem:
                failures += 1
                self.error(problem)
        if last is not None and last.status == "requires_action":
            what = "response" if streams[-1].protocol == "responses" else "run"
            self.notice(f"note: the recording ends while {what} {last.id} waits for tool outputs")
        return EXIT_ERROR if failures else EXIT_OK


@contextlib.contextmanager
def _closing(recorder: Recorder | None, display: Display) -> Any:
    try:
        yield recorder
    finally:
        if recorder is not None:
            with contextlib.suppress(StreamrunError):
                recorder.epilogue(display.take_shown())  # lines printed after the last stream
            recorder.close()


def _describe(exc: StreamrunError) -> str:
    text = str(exc) or type(exc).__name__
    run_id = getattr(exc, "run_id", None)
    if run_id and run_id not in text:
        text += f" (run {run_id})"
    return text


def _secrets(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> list[str]:
    """The keys this command may send: never printed, never recorded."""
    env = os.environ if env is None else env
    keys = [getattr(args, "api_key", None), env.get("OPENAI_API_KEY")]
    return [key for key in keys if key]


def _isatty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _silence_stdout() -> None:
    """After a broken pipe, send what is left of stdout nowhere (no second error)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        pass


def _tolerant(stream: TextIO) -> None:
    """Characters the terminal's encoding lacks are replaced, not fatal."""
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None:
        with contextlib.suppress(Exception):
            reconfigure(errors="replace")


def usage_problem(args: argparse.Namespace, env: Mapping[str, str] | None = None) -> str | None:
    """What is missing from (or clashes in) the options of ``run`` / ``chat``, or ``None``."""
    if args.command not in ("run", "chat"):
        return None
    responses = args.responses
    if responses:
        clash = [o for o, v in (("--assistant", args.assistant), ("--thread", args.thread)) if v]
        if clash:
            return (
                f"{' and '.join(clash)} name Assistants objects: with --responses use "
                "--model, --conversation or --previous-response"
            )
        if args.conversation and args.previous_response:
            return "--conversation and --previous-response cannot be used together"
        if args.command == "run" and not args.message:
            return "the following arguments are required with --responses: --message/-m"
    elif args.conversation or args.previous_response:
        return "--conversation and --previous-response need --responses"
    if args.fake or args.fake_scenario:
        return None
    env = os.environ if env is None else env
    if responses:
        if not args.model:
            return "the following arguments are required with --responses: --model (or use --fake)"
    elif not args.assistant:
        return "the following arguments are required: --assistant (or use --fake)"
    if not (args.api_key or env.get("OPENAI_API_KEY")):
        return "no API key: set OPENAI_API_KEY or pass --api-key (or use --fake)"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``streamrun`` command with ``argv`` (default: ``sys.argv[1:]``)."""
    try:
        return _main(argv)
    except KeyboardInterrupt:  # before the loop runs, or after it: no traceback
        sys.stderr.write("interrupted\n")
        return EXIT_INTERRUPTED


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    _import_runtime()
    _tolerant(sys.stdout)
    _tolerant(sys.stderr)
    if args.command == "web":
        from ._web import run_command

        default_model: str | None = None
        if args.responses:  # the model of the other --responses commands' --fake
            from ._cli_responses import DEMO_MODEL

            default_model = DEMO_MODEL
        return run_command(
            args,
            scenario_for=fake_reply,
            tools=LOCAL_TOOLS,
            functions=LOOP_FUNCTIONS,
            default_model=default_model,
        )
    problem = usage_problem(args)
    if problem:
        sys.stderr.write(f"{PROG} {args.command}: error: {problem}\n")
        return EXIT_USAGE
    app = _App(args, sys.stdout, sys.stderr, sys.stdin)
    try:
        return asyncio.run(app.main())
    except KeyboardInterrupt:
        with contextlib.suppress(Exception):
            app.display.finish()
        sys.stderr.write(f"{app.display.safe(app._interrupt_message())}\n")
        return EXIT_INTERRUPTED
