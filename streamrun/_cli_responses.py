"""``--responses``: the ``streamrun`` commands over the Responses API.

``streamrun demo --responses``, ``run --responses --model M -m TEXT`` and
``chat --responses`` stream ``POST /responses`` (``client.responses.stream``)
through the same session, display and recorder as the run commands of
:mod:`streamrun._cli` (imported when a command asks for ``--responses``).
A :class:`ResponsesSession` opens the Responses streams: the local tools run
in the stream's tool loop (``functions=``, their outputs going back as
``function_call_output`` items of a new response); a call the loop cannot
run is answered with ``submit_tool_outputs_stream``. Each turn continues the
``--conversation`` or, without one, the previous response
(``previous_response_id``).

A recording of these commands is version 2, each stream marked
``"protocol": "responses"`` (``streamrun replay`` reads it with
``ResponseStream.from_bytes``); a continuation is recorded as
``submit_tool_outputs`` with ``{"response_id", "tool_outputs"}``, and a
replay shows those outputs before playing it, where the live command
showed them (a Responses stream does not carry the outputs it answers).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._cli import (
    DEMO_FOLLOW_UP,
    DEMO_QUESTION,
    EXIT_OK,
    LOCAL_TOOLS,
    CLIError,
    Session,
    Tap,
    _closing,
    demo_scenarios,
    run_problem,
)
from ._function_tool import responses_tool

if TYPE_CHECKING:
    import argparse

    from ._cli import _App
    from ._client import AsyncClient
    from ._display import Display
    from ._handler import AsyncEventHandler
    from ._models import Run
    from ._recording import Protocol, RecordedStream
    from ._response_stream import ResponseStream

__all__ = [
    "DEMO_MODEL",
    "ResponsesSession",
    "dispatch",
    "response_problem",
    "show_submitted",
]

#: The model the demo names (and ``--fake`` without ``--model``).
DEMO_MODEL = "gpt-4o-mini"

# Statuses after which a response can be continued (previous_response_id).
_CONTINUABLE = frozenset({"completed", "incomplete", "requires_action"})


def response_problem(run: Run) -> str | None:
    """One line saying why a response did not complete, or ``None`` (:func:`run_problem`
    speaking of the response)."""
    problem = run_problem(run)
    prefix = f"run {run.id}"
    if problem is not None and problem.startswith(prefix):
        return f"response {run.id}" + problem[len(prefix) :]
    return problem


class ResponsesSession(Session):
    """A :class:`~streamrun._cli.Session` whose streams are Responses API streams.

    :meth:`respond` streams one response to a message (with ``model``,
    ``instructions`` and the local tools' definitions), in ``conversation``
    when one is given, else after the previous response of this session
    (``previous_response_id``: the newest response of the last turn, or the
    one given to start from).
    """

    protocol: Protocol = "responses"

    def __init__(
        self,
        client: AsyncClient | None,
        display: Display,
        *,
        model: str,
        instructions: str | None = None,
        conversation: str | None = None,
        previous_response_id: str | None = None,
        **options: Any,
    ) -> None:
        super().__init__(client, display, **options)
        self.model = model
        self.instructions = instructions
        self.conversation = conversation
        self.previous_response_id = previous_response_id
        self.tool_definitions = [responses_tool(n, f) for n, f in self.functions.items()]

    def _fields(self) -> dict[str, Any]:
        """The fields every request of this session repeats (the API does not carry
        ``instructions`` and ``tools`` over from a previous response)."""
        fields: dict[str, Any] = {}
        if self.instructions:
            fields["instructions"] = self.instructions
        if self.tool_definitions:
            fields["tools"] = self.tool_definitions
        if self.conversation:
            fields["conversation"] = self.conversation
        return fields

    async def respond(self, message: str) -> Run:
        """Stream the response to ``message`` to its end (through tool rounds);
        returns the run it maps to (the newest response)."""
        fields = {"model": self.model, "input": message, **self._fields()}
        if not self.conversation and self.previous_response_id:
            fields["previous_response_id"] = self.previous_response_id

        def open_stream(handler: AsyncEventHandler, tap: Tap | None) -> ResponseStream:
            return self.api.responses.stream(
                handler=handler, tap=tap, **fields, **self._loop_options()
            )

        request = {k: v for k, v in fields.items() if k != "tools"}
        run = await self._turn(open_stream, "create_response", "/responses", request, message)
        if run.status in _CONTINUABLE:
            self.previous_response_id = run.id
        return run

    def _submit(
        self,
        handler: AsyncEventHandler,
        tap: Tap | None,
        thread_id: str,
        run_id: str,
        outputs: list[dict[str, str]],
    ) -> ResponseStream:
        return self.api.responses.submit_tool_outputs_stream(
            run_id,
            tool_outputs=outputs,
            handler=handler,
            tap=tap,
            model=self.model,
            **self._fields(),
            **self._loop_options(),
        )

    def _submission(
        self, thread_id: str, run_id: str, outputs: list[dict[str, str]]
    ) -> tuple[str, str, dict[str, Any]]:
        return "submit_tool_outputs", "/responses", {"response_id": run_id, "tool_outputs": outputs}

    async def _cancel_waiting(self, run: Run) -> None:
        # A response that waits for tool outputs is complete on the server: there
        # is nothing to cancel (the API cancels only background responses).
        self.cancelled_run = None
        self.cancel_error = None

    def waiting_outcome(self) -> str:
        return "the response that waited for it is complete on the server (nothing to cancel)"

    def problem(self, run: Run) -> str | None:
        return response_problem(run)

    def abandoned(self, run_id: str) -> str:
        # Not a background response: closing its stream stops it (no cancel request).
        return f"interrupted: response {run_id} stopped when its stream was closed"


def show_submitted(display: Display, recorded: RecordedStream) -> None:
    """Before a replayed Responses continuation: show the outputs it answered, as the
    live command showed them when it submitted them."""
    if recorded.endpoint != "submit_tool_outputs":
        return
    outputs = recorded.request.get("tool_outputs")
    if not isinstance(outputs, list):
        return
    for item in outputs:
        if not isinstance(item, dict):
            continue
        call_id, output = item.get("tool_call_id"), item.get("output")
        if isinstance(call_id, str) and isinstance(output, str):
            display.tool_output(call_id, output)


# ---------------------------------------------------------------------------
# The commands


async def dispatch(app: _App) -> int:
    """Run ``demo``, ``run`` or ``chat`` with ``--responses``."""
    command = app.args.command
    if command == "demo":
        return await _demo(app)
    if command == "run":
        return await _run(app)
    return await _chat(app)


def _options(args: argparse.Namespace) -> dict[str, Any]:
    """The session's options from the command line (``usage_problem`` checked them)."""
    return {
        "model": args.model or DEMO_MODEL,
        "instructions": args.instructions,
        "conversation": args.conversation,
        "previous_response_id": args.previous_response,
    }


async def _demo(app: _App) -> int:
    d = app.display
    pace = app._pace()
    with _closing(app._recorder("responses"), d) as recorder:
        async with app._fake_server(seed=2024) as (client, server):
            session = ResponsesSession(
                client, d, model=DEMO_MODEL, recorder=recorder, tools=LOCAL_TOOLS
            )
            app.session = session
            d.banner(
                "streamrun demo --responses · a fake Responses API server runs in this "
                "process (no key, no network)"
            )
            d.banner("")
            first, second = demo_scenarios(0.3 if pace else 0.0)
            server.queue_scenario(first)
            d.user(DEMO_QUESTION)
            _check(session, await session.respond(DEMO_QUESTION))
            server.queue_scenario(second)
            d.banner("")
            d.user(DEMO_FOLLOW_UP)
            _check(session, await session.respond(DEMO_FOLLOW_UP))
            d.banner("")
            d.banner(
                "Next: 'streamrun chat --responses --fake', or 'streamrun run --responses "
                f"--model {DEMO_MODEL} -m TEXT' with OPENAI_API_KEY set."
            )
    return EXIT_OK


async def _run(app: _App) -> int:
    args = app.args
    with _closing(app._recorder("responses"), app.display) as recorder:
        async with app._connection() as (client, server):
            session = ResponsesSession(
                client,
                app.display,
                recorder=recorder,
                tools=LOCAL_TOOLS if server is not None else None,
                before_run=app._before_run(server),
                **_options(args),
            )
            app.session = session
            run = await session.respond(args.message)
    _check(session, run)
    return EXIT_OK


async def _chat(app: _App) -> int:
    args = app.args
    options = _options(args)

    async def turn(session: Session, text: str) -> Run:
        assert isinstance(session, ResponsesSession)
        return await session.respond(text)

    return await app.chat_loop(
        f"chat with {options['model']} (Responses API)", ResponsesSession, turn, **options
    )


def _check(session: ResponsesSession, run: Run) -> None:
    problem = session.problem(run)
    if problem:
        raise CLIError(problem)
