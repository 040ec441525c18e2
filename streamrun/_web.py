"""``streamrun web``: a one-page chat in the browser, on :mod:`streamrun.relay`.

The page (``streamrun/web/index.html``) uses the ES module
``streamrun/web/streamrun.js``: it POSTs a message, reads the relayed run
stream token by token, shows the run's status, tool calls and their outputs
and any error, and has a Stop button (the run is cancelled on the server).
The key stays in this process: the browser only ever sees the relayed events.

Routes: ``GET /`` (the page), ``GET /streamrun.js``, ``GET /api/info``,
``POST /api/chat`` (``{"message", "thread_id"}`` → SSE relay of the run; a
new thread when ``thread_id`` is null), ``POST /api/tool_outputs``
(``{"thread_id", "run_id"}`` → runs the required functions — only those of
the local functions given, e.g. ``streamrun._cli.LOCAL_TOOLS``, and only
against the built-in fake server — and relays the continuation) and
``POST /api/cancel``.

Tools, with a real server as with ``--fake``: the runs are opened with the
tool loop (``functions=``, e.g. ``streamrun._cli.LOOP_FUNCTIONS``), so the
function calls are answered inside the relayed stream and the continuation
follows in it; each output the loop computed (``on_tool_output``) is relayed
as a ``streamrun.tool_output`` event (``{"tool_call", "output"}``, redacted
like every block) just before the continuation's events. A run calling a
function the loop does not have still ends in ``requires_action``.

``--fake`` starts the fake Assistants server of :mod:`streamrun.testing` in
this process (no key, no network); the command passes
``streamrun._cli.fake_reply`` to script its answers (this module does not
import the command's modules). The page binds 127.0.0.1 by default.

``--responses`` (``make_app(..., model=...)`` instead of ``assistant_id=``):
the same page and routes over the Responses API, in
:mod:`streamrun._web_responses`. ``GET /api/info`` names the ``protocol``
(``"runs"`` or ``"responses"``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from importlib import resources
from typing import TYPE_CHECKING, Any, TextIO

import attrs
from aiohttp import web

from ._client import AsyncClient
from ._converter import converter
from ._exceptions import APIStatusError, StreamrunError, ValidationError
from ._handler import AsyncEventHandler
from ._models import ToolCall
from ._relaying import _stream_redact
from ._stream import RunStream
from .relay import error_data, sse_response

if TYPE_CHECKING:
    # Imported when serving --fake only: the page needs no fake server otherwise.
    from .testing import FakeAssistantsServer, Scenario

__all__ = ["make_app", "run_command", "serve"]


def _asset(name: str) -> bytes:
    return (resources.files("streamrun") / "web" / name).read_bytes()


class _Chat:
    """The request handlers of one page server."""

    def __init__(
        self,
        client: AsyncClient,
        *,
        assistant_id: str,
        fake: FakeAssistantsServer | None,
        scenario_for: Callable[[str], Scenario] | None,
        tools: Mapping[str, Callable[[str], str]],
        functions: Mapping[str, Callable[..., Any]],
        keepalive: float,
    ) -> None:
        self.client = client
        self.assistant_id = assistant_id
        self.fake = fake
        self.scenario_for = scenario_for
        self.tools = tools
        self.functions = functions
        self.keepalive = keepalive

    async def page(self, request: web.Request) -> web.Response:
        return web.Response(body=_asset("index.html"), content_type="text/html", charset="utf-8")

    async def module(self, request: web.Request) -> web.Response:
        return web.Response(
            body=_asset("streamrun.js"), content_type="text/javascript", charset="utf-8"
        )

    async def info(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "protocol": "runs",
                "fake": self.fake is not None,
                "assistant_id": self.assistant_id,
                "functions": sorted(self.functions),
            }
        )

    @staticmethod
    async def _body(request: web.Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise _bad_request("the body must be a JSON object")
        return body

    async def _message(self, request: web.Request) -> tuple[str, str | None]:
        """The ``message`` and ``thread_id`` of a chat request (else 400); with the fake
        server, its answer to the message is queued."""
        body = await self._body(request)
        message = body.get("message")
        thread_id = body.get("thread_id")
        if not isinstance(message, str) or not message.strip():
            raise _bad_request("'message' must be a non-empty string")
        if thread_id is not None and not isinstance(thread_id, str):
            raise _bad_request("'thread_id' must be a string or null")
        if self.fake is not None and self.scenario_for is not None:
            self.fake.queue_scenario(self.scenario_for(message))
        return message, thread_id

    async def chat(self, request: web.Request) -> web.StreamResponse:
        message, thread_id = await self._message(request)
        user = {"role": "user", "content": message}
        if thread_id:
            return await self._relay(
                request,
                self.client.runs.stream,
                thread_id,
                assistant_id=self.assistant_id,
                additional_messages=[user],
            )
        return await self._relay(
            request,
            self.client.threads.create_and_run_stream,
            assistant_id=self.assistant_id,
            thread={"messages": [user]},
        )

    async def _relay(
        self, request: web.Request, open_stream: Callable[..., RunStream], *args: Any, **kw: Any
    ) -> web.StreamResponse:
        """Relay the stream ``open_stream(*args, **kw)`` opens (with the tool loop of
        :attr:`functions`, its outputs relayed too); an error raised before any I/O
        (a rejected id, no usable base URL) is a JSON reply the page shows."""
        outputs = _ToolOutputs()
        if self.functions:
            kw["functions"] = self.functions
        try:
            stream = open_stream(*args, handler=outputs, **kw)
        except StreamrunError as exc:
            return _error_reply(exc)
        return await self._send(request, stream, _WithToolOutputs(stream, outputs.events))

    async def _send(
        self, request: web.Request, stream: RunStream, relayed: Any
    ) -> web.StreamResponse:
        """The SSE reply relaying ``relayed`` (``stream`` with extra events)."""
        return await sse_response(
            request,
            relayed,
            keepalive=self.keepalive,
            redact=_stream_redact(stream),
        )

    async def tool_outputs(self, request: web.Request) -> web.StreamResponse:
        body = await self._body(request)
        thread_id, run_id = _ids(body)
        if self.fake is None:
            return _json_error(
                409,
                "this page runs tools only against the built-in fake server (--fake); "
                "the run waits for tool outputs",
            )
        try:
            run = await self.client.runs.retrieve(thread_id, run_id)
        except StreamrunError as exc:
            return _error_reply(exc)
        action = run.required_action
        if action is None:
            return _json_error(409, f"run {run_id} does not require action ({run.status})")
        outputs = []
        for call in action.submit_tool_outputs.tool_calls:
            function = self.tools.get(call.function.name)
            if function is None:
                output = json.dumps({"error": f"no local function {call.function.name!r}"})
            else:
                output = function(call.function.arguments)
            outputs.append({"tool_call_id": call.id, "output": output})
        return await self._relay(
            request,
            self.client.runs.submit_tool_outputs_stream,
            thread_id,
            run_id,
            tool_outputs=outputs,
        )

    async def cancel(self, request: web.Request) -> web.Response:
        thread_id, run_id = _ids(await self._body(request))
        try:
            run = await self.client.runs.cancel(thread_id, run_id)
        except StreamrunError as exc:
            return _error_reply(exc)
        return web.json_response({"id": run.id, "status": run.status})


@attrs.frozen
class _Relayed:
    """An event the page gets besides the run's own (``event`` and ``raw`` as relayed)."""

    event: str
    raw: Any


class _ToolOutputs(AsyncEventHandler):
    """Keeps each output the tool loop computed, as the event relayed for it."""

    def __init__(self) -> None:
        super().__init__()
        self.events: deque[_Relayed] = deque()

    async def on_tool_output(self, tool_call: ToolCall, output: str) -> None:
        data = {"tool_call": converter.unstructure(tool_call), "output": output}
        self.events.append(_Relayed("streamrun.tool_output", data))


class _WithToolOutputs:
    """``stream`` for the relay, with the tool outputs of ``extra`` (filled while the
    stream is read) relayed before the event that follows them (the continuation's
    first), or before the stream's end or failure."""

    def __init__(self, stream: RunStream, extra: deque[_Relayed]) -> None:
        self._stream = stream
        self._extra = extra
        self._events: Any = None
        self._held: Any = None  # an event read while outputs were waiting
        self._failure: BaseException | None = None

    @property
    def _transport(self) -> Any:
        """The stream's transport: the relay masks its key even cut across deltas."""
        return self._stream._transport

    async def __aenter__(self) -> Any:
        return await self._stream.__aenter__()

    def __aiter__(self) -> _WithToolOutputs:
        self._events = self._stream.__aiter__()
        return self

    async def __anext__(self) -> Any:
        extra = self._extra
        if extra:
            return extra.popleft()
        if self._held is not None:
            event, self._held = self._held, None
            return event
        if self._failure is not None:
            raise self._failure
        try:
            event = await self._events.__anext__()
        except StopAsyncIteration:
            if extra:
                return extra.popleft()
            raise
        except StreamrunError as exc:
            if not extra:
                raise
            self._failure = exc  # the outputs computed before it still reach the page
            return extra.popleft()
        if extra:
            self._held = event
            return extra.popleft()
        return event

    async def aclose(self) -> None:
        await self._stream.aclose()


def _ids(body: dict[str, Any]) -> tuple[str, str]:
    """The ``thread_id`` and ``run_id`` of a request body (else 400)."""
    thread_id, run_id = body.get("thread_id"), body.get("run_id")
    if not isinstance(thread_id, str) or not isinstance(run_id, str):
        raise _bad_request("'thread_id' and 'run_id' must be strings")
    return thread_id, run_id


def _error_reply(exc: StreamrunError) -> web.Response:
    """The JSON reply for a library error: 400 for a request the library rejected before
    any I/O, the server's status for an error reply, else 502 (the API failed us)."""
    if isinstance(exc, ValidationError):
        status = 400
    elif isinstance(exc, APIStatusError) and 400 <= exc.status < 600:
        status = exc.status
    else:
        status = 502
    return _json_error(status, error_data(exc)["message"])


def _json_error(status: int, message: str) -> web.Response:
    return web.json_response(
        {"error": {"message": message, "type": "streamrun_web"}}, status=status
    )


def _bad_request(message: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(
        text=json.dumps({"error": {"message": message, "type": "invalid_request"}}),
        content_type="application/json",
    )


def make_app(
    client: AsyncClient,
    *,
    assistant_id: str | None = None,
    model: str | None = None,
    fake: FakeAssistantsServer | None = None,
    scenario_for: Callable[[str], Scenario] | None = None,
    tools: Mapping[str, Callable[[str], str]] | None = None,
    functions: Mapping[str, Callable[..., Any]] | None = None,
    keepalive: float = 15.0,
    max_threads: int | None = None,
) -> web.Application:
    """The page's aiohttp application, talking to the API through ``client``.

    Give exactly one of ``assistant_id`` (the page chats over runs of that
    assistant) and ``model`` (over the Responses API with that model, see
    :mod:`streamrun._web_responses`: ``max_threads`` bounds the page threads it
    remembers, ``tools`` is not used); else :class:`~streamrun.ValidationError`.

    ``functions`` (name → function, as ``functions=`` of ``runs.stream``) run in
    the stream's tool loop, with any server; their outputs are relayed as
    ``streamrun.tool_output`` events. With ``fake`` (a started fake server
    ``client`` points at), each message queues ``scenario_for(message)`` (when
    given) and the outputs of a run left in ``requires_action`` are computed by
    ``tools`` (name → function of the JSON arguments, returning the output text).
    """
    chat: _Chat
    if model:
        if assistant_id:
            raise ValidationError(
                "model", "cannot be given with assistant_id: the page chats over runs or responses"
            )
        from ._web_responses import ResponsesChat

        chat = ResponsesChat(
            client,
            model=model,
            fake=fake,
            scenario_for=scenario_for,
            functions=functions or {},
            keepalive=keepalive,
            max_threads=max_threads,
        )
    elif not assistant_id:
        raise ValidationError("assistant_id", "is required (or model=, to chat over responses)")
    elif max_threads is not None:
        raise ValidationError("max_threads", "is for the Responses API page (model=) only")
    else:
        chat = _Chat(
            client,
            assistant_id=assistant_id,
            fake=fake,
            scenario_for=scenario_for,
            tools=tools or {},
            functions=functions or {},
            keepalive=keepalive,
        )
    app = web.Application()
    app.router.add_get("/", chat.page)
    app.router.add_get("/streamrun.js", chat.module)
    app.router.add_get("/api/info", chat.info)
    app.router.add_post("/api/chat", chat.chat)
    app.router.add_post("/api/tool_outputs", chat.tool_outputs)
    app.router.add_post("/api/cancel", chat.cancel)
    return app


@contextlib.asynccontextmanager
async def serve(
    app: web.Application, host: str = "127.0.0.1", port: int = 8080
) -> AsyncIterator[str]:
    """Serve ``app`` on ``host:port`` (0: any free port); yields the page's URL."""
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound = runner.addresses[0]
        shown = f"[{bound[0]}]" if ":" in str(bound[0]) else bound[0]
        yield f"http://{shown}:{bound[1]}/"
    finally:
        await runner.cleanup()


async def _main(
    args: argparse.Namespace,
    out: TextIO,
    scenario_for: Callable[[str], Scenario] | None,
    tools: Mapping[str, Callable[[str], str]] | None,
    functions: Mapping[str, Callable[..., Any]] | None,
) -> None:
    stack = contextlib.AsyncExitStack()
    async with stack:
        fake: FakeAssistantsServer | None = None
        if args.fake:
            from .testing import FakeAssistantsServer, Faults

            fake = await stack.enter_async_context(
                FakeAssistantsServer(faults=Faults(delay=max(args.pace, 0.0)))
            )
            client = AsyncClient(api_key="sk-fake", base_url=fake.base_url, max_retries=0)
        else:
            client = AsyncClient(api_key=args.api_key, base_url=args.base_url)
        await stack.enter_async_context(client)
        responses = getattr(args, "responses", False)
        app = make_app(
            client,
            assistant_id=None if responses else args.assistant or "asst_fake",
            model=args.model if responses else None,
            fake=fake,
            scenario_for=scenario_for,
            tools=tools,
            functions=functions,
        )
        url = await stack.enter_async_context(serve(app, args.host, args.port))
        out.write(f"streamrun web: open {url} (Ctrl-C to stop)\n")
        out.flush()
        await asyncio.Event().wait()


def _usage_problem(args: argparse.Namespace) -> str | None:
    """What is missing from (or clashes in) the options, or ``None``."""
    responses = bool(getattr(args, "responses", False))
    if responses:
        from ._web_responses import usage_problem

        problem = usage_problem(args)
        if problem:
            return problem
    elif getattr(args, "model", None):
        return "--model is the Responses API model: it needs --responses"
    if args.fake:
        return None
    if not responses and not args.assistant:
        return "the following arguments are required: --assistant (or use --fake)"
    if not (args.api_key or os.environ.get("OPENAI_API_KEY")):
        return "no API key: set OPENAI_API_KEY or pass --api-key (or use --fake)"
    # The client's own rules (a usable base URL for the API the page uses, a key on
    # OpenAI's host), before serving a page whose every message would fail.
    try:
        client = AsyncClient(api_key=args.api_key, base_url=args.base_url)
        client._responses() if responses else client._assistants()
    except ValidationError as exc:
        return str(exc)
    return None


def run_command(
    args: argparse.Namespace,
    *,
    scenario_for: Callable[[str], Scenario] | None = None,
    tools: Mapping[str, Callable[[str], str]] | None = None,
    functions: Mapping[str, Callable[..., Any]] | None = None,
    out: TextIO | None = None,
    default_model: str | None = None,
) -> int:
    """Run ``streamrun web`` until interrupted; the exit status.

    ``scenario_for`` scripts the fake server's answer to a message and
    ``tools`` are the functions run for it (``--fake`` only); ``functions`` run
    in the tool loop of every run, with any server. ``--no-tools`` drops both.
    With ``--responses``, ``default_model`` is the model of ``--fake`` without
    ``--model``.
    """
    out = out or sys.stdout
    if getattr(args, "no_tools", False):
        tools, functions = None, None
    problem = _usage_problem(args)
    if problem:
        sys.stderr.write(f"streamrun web: error: {problem}\n")
        return 2
    if getattr(args, "responses", False) and not args.model:
        args = argparse.Namespace(**{**vars(args), "model": default_model})
    try:
        asyncio.run(_main(args, out, scenario_for, tools, functions))
    except KeyboardInterrupt:
        return 130
    except OSError as exc:
        sys.stderr.write(f"error: cannot serve on {args.host}:{args.port}: {exc}\n")
        return 1
    return 0
