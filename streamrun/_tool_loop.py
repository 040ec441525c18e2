"""The automatic tool loop: a run's function calls answered inside its stream.

Give a streaming method ``functions=`` and the stream answers the run's
function calls itself. It plugs into the pipeline's ``follow`` seam
(:mod:`streamrun._pipeline`): when a segment of the stream ends with the run in
``requires_action`` and every listed call names a registered function,
:meth:`ToolLoop.follow`

1. runs the calls concurrently (``async def`` functions on the loop, plain
   functions in a worker thread through :func:`asyncio.to_thread`), each with
   its arguments decoded into the annotated types
   (:meth:`~streamrun._function_tool.FunctionSpec.decode`) and bounded by
   ``tool_timeout``;
2. turns each result into its output: a ``str`` as it is, anything else as
   JSON (attrs instances through the converter); a function that raises,
   times out or gets arguments that do not fit its signature gives
   ``{"error": "..."}`` instead (the model can act on it: the run goes on);
3. tells the handler (``on_tool_output(tool_call, output)``, in call order);
4. submits every output in one ``submit_tool_outputs`` request and hands the
   continuation's response to the pipeline, which reads on with the same
   accumulator and handler — one logical stream, ``on_end`` once at the end.

A call naming no registered function ends the stream at ``requires_action``,
exactly as without ``functions=`` (the application answers it itself).

Bounds, both ending in :class:`~streamrun.ToolLoopError` after the pending
functions are cancelled and the run is cancelled on the server:

* ``max_tool_rounds``: a run asking for one round more is stopped
  (``reason="max_tool_rounds"``);
* expiry: a run waiting for tool outputs expires at ``expires_at``. The loop
  measures the run's own lifetime (``expires_at - created_at``, both on the
  server's clock, so a skewed local clock changes nothing) from the moment
  the stream's request was sent (just before the run was received), less
  :data:`EXPIRY_MARGIN` seconds to submit the outputs in; functions still
  running then are stopped (``reason="expiring"``).

Abandoning the stream while functions run (task cancellation, Ctrl-C, a
handler hook raising) cancels the functions and — with ``cancel_on_abandon``
— the run, like any other abandon. A plain function already running in its
worker thread cannot be interrupted: it is no longer waited for, and its
result is dropped.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from ._callbacks import OnToolOutput
from ._converter import converter
from ._exceptions import ToolLoopError, ValidationError
from ._function_tool import ArgumentsError, FunctionSpec, function_spec
from ._handler import dispatch
from ._json import dumps
from ._models import FunctionCall, FunctionToolCall, RequiredActionFunctionToolCall, Run

if TYPE_CHECKING:
    from ._handler import AsyncEventHandler
    from ._pipeline import Segment

__all__ = [
    "DEFAULT_MAX_TOOL_ROUNDS",
    "EXPIRY_MARGIN",
    "Functions",
    "LoopDriver",
    "ToolLoop",
    "encode_output",
    "error_output",
    "function_registry",
]

logger = logging.getLogger("streamrun")

DEFAULT_MAX_TOOL_ROUNDS = 10
"""How many rounds of tool calls a stream answers before it stops the run."""

EXPIRY_MARGIN = 5.0
"""Seconds before the run's expiry by which its outputs must be on their way."""

Functions = Sequence[Callable[..., Any]] | Mapping[str, Callable[..., Any]]
"""What ``functions=`` takes: callables named by ``__name__``, or a mapping name → callable."""


def function_registry(functions: object) -> dict[str, FunctionSpec]:
    """``functions=`` checked and described: name → spec (a ValidationError before any I/O)."""
    if isinstance(functions, Mapping):
        named = list(functions.items())
    elif isinstance(functions, (list, tuple)):
        named = []
        for index, fn in enumerate(functions):
            name = getattr(fn, "__name__", None)
            if not callable(fn) or not isinstance(name, str):
                raise ValidationError(
                    f"functions[{index}]",
                    f"must be a function with a __name__, got {type(fn).__name__} "
                    "(pass a mapping name -> callable to name it)",
                )
            named.append((name, fn))
    else:
        raise ValidationError(
            "functions",
            f"must be a list of functions or a mapping name -> function, got "
            f"{type(functions).__name__}",
        )
    specs: dict[str, FunctionSpec] = {}
    for name, fn in named:
        if not isinstance(name, str):
            raise ValidationError("functions", f"names must be strings, got {name!r}")
        if name in specs:
            raise ValidationError(f"functions[{name!r}]", "two functions have this name")
        if not callable(fn):
            raise ValidationError(f"functions[{name!r}]", f"not callable: {type(fn).__name__}")
        try:
            specs[name] = function_spec(fn, name=name)
        except TypeError as exc:
            raise ValidationError(f"functions[{name!r}]", str(exc)) from None
    return specs


def error_output(message: str) -> str:
    """The output sent for a call that failed: ``{"error": message}``."""
    return dumps({"error": message})


def encode_output(result: object) -> str:
    """A function's result as a tool output: a ``str`` as is, anything else as compact JSON.

    attrs instances (and containers of them) go through the project's converter.
    Raises ``TypeError`` / ``ValueError`` for a result that is not JSON.
    """
    if isinstance(result, str):
        return result
    # allow_nan=False: NaN is not JSON, and the model would read it as text.
    return json.dumps(
        converter.unstructure(result), separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


class LoopDriver(Protocol):
    """What the loop needs from the stream it runs in (a :class:`~streamrun.RunStream`)."""

    @property
    def current_run(self) -> Run | None:
        """The run as of the last run event."""

    @property
    def loop_handler(self) -> AsyncEventHandler | None:
        """The stream's handler."""

    def submit_tool_outputs(self, outputs: list[dict[str, str]]) -> Awaitable[Segment]:
        """Send the outputs; the continuation's response as the next segment."""

    def cancel_run(self, *, abandoned: bool) -> Awaitable[None]:
        """Cancel the run on the server, best effort (``abandoned``: only with
        cancel_on_abandon)."""

    def redact(self, text: str) -> str:
        """``text`` without the API key (the arguments came from the server)."""


class ToolLoop:
    """One stream's tool loop: the registered functions, the bounds and the rounds so far."""

    __slots__ = (
        "_failure",
        "_sent_at",
        "_stopped",
        "max_tool_rounds",
        "rounds",
        "specs",
        "tool_timeout",
    )

    def __init__(
        self,
        specs: Mapping[str, FunctionSpec],
        *,
        max_tool_rounds: int = DEFAULT_MAX_TOOL_ROUNDS,
        tool_timeout: float | None = None,
    ) -> None:
        self.specs = dict(specs)
        self.max_tool_rounds = max_tool_rounds
        self.tool_timeout = tool_timeout
        self.rounds = 0
        """Rounds answered so far."""
        self._sent_at: float | None = None
        self._failure: BaseException | None = None
        self._stopped = False

    @classmethod
    def build(
        cls,
        functions: object,
        *,
        max_tool_rounds: object = None,
        tool_timeout: object = None,
    ) -> ToolLoop | None:
        """The loop of a streaming call's options (``None`` without ``functions=``).

        Raises :class:`~streamrun.ValidationError` before any I/O.
        """
        if functions is None:
            for name, value in (
                ("max_tool_rounds", max_tool_rounds),
                ("tool_timeout", tool_timeout),
            ):
                if value is not None:
                    raise ValidationError(name, "only applies with functions=")
            return None
        rounds = DEFAULT_MAX_TOOL_ROUNDS if max_tool_rounds is None else max_tool_rounds
        if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 1:
            raise ValidationError("max_tool_rounds", f"must be an integer >= 1, got {rounds!r}")
        if tool_timeout is not None and (
            isinstance(tool_timeout, bool)
            or not isinstance(tool_timeout, (int, float))
            or not tool_timeout > 0
        ):
            raise ValidationError(
                "tool_timeout", f"must be a number of seconds > 0 or None, got {tool_timeout!r}"
            )
        return cls(
            function_registry(functions),
            max_tool_rounds=rounds,
            tool_timeout=None if tool_timeout is None else float(tool_timeout),
        )

    def request_sent(self) -> None:
        """The stream's request is being sent: the run's lifetime is measured from here."""
        if self._sent_at is None:
            self._sent_at = asyncio.get_running_loop().time()

    def stop(self) -> None:
        """Answer no more calls (the run is being cancelled): the stream ends where it is."""
        self._stopped = True

    # -- the round -------------------------------------------------------------

    async def follow(self, driver: LoopDriver) -> Segment | None:
        """The pipeline's ``follow``: answer the run's calls and return the continuation,
        or ``None`` when the stream ends here."""
        if self._failure is not None:
            raise self._failure
        if self._stopped:
            return None
        run = driver.current_run
        if run is None or run.status != "requires_action" or run.required_action is None:
            return None
        calls = run.required_action.submit_tool_outputs.tool_calls
        if not calls or any(call.function.name not in self.specs for call in calls):
            return None  # the application answers it, as without functions=
        try:
            if self.rounds >= self.max_tool_rounds:
                raise ToolLoopError(
                    f"run {run.id} asked for tool outputs again after {self.rounds} rounds "
                    f"(max_tool_rounds={self.max_tool_rounds}); the run was cancelled",
                    reason="max_tool_rounds",
                    run_id=run.id,
                )
            self.rounds += 1
            outputs = await self._answer(run, calls, driver.redact)
            handler = driver.loop_handler
            if handler is not None:
                await dispatch(
                    handler,
                    [
                        (OnToolOutput, _tool_call(call, output), output)
                        for call, output in zip(calls, outputs, strict=True)
                    ],
                )
            body = [
                {"tool_call_id": c.id, "output": o} for c, o in zip(calls, outputs, strict=True)
            ]
            return await driver.submit_tool_outputs(body)
        except ToolLoopError as exc:
            self._failure = exc
            await driver.cancel_run(abandoned=False)
            raise
        except BaseException as exc:
            # Cancelled, Ctrl-C, a hook raising, the continuation refused or not opened
            # (a StreamFailure such as a connect timeout fails the stream): the run,
            # left waiting for outputs, is abandoned.
            self._failure = exc
            await driver.cancel_run(abandoned=True)
            raise

    async def _answer(
        self,
        run: Run,
        calls: Sequence[RequiredActionFunctionToolCall],
        redact: Callable[[str], str],
    ) -> list[str]:
        """Every call's output, the calls run concurrently, bounded by the run's expiry."""
        loop = asyncio.get_running_loop()
        wait: float | None = None
        lifetime = 0
        if run.expires_at is not None and run.created_at and self._sent_at is not None:
            lifetime = run.expires_at - run.created_at
            wait = self._sent_at + lifetime - EXPIRY_MARGIN - loop.time()
            if wait <= 0:
                raise ToolLoopError(
                    f"run {run.id} expires in less than {EXPIRY_MARGIN:g} s: no time left "
                    "to run its functions; the run was cancelled",
                    reason="expiring",
                    run_id=run.id,
                )
        tasks = [asyncio.ensure_future(self._call(call, redact)) for call in calls]
        try:
            _, pending = await asyncio.wait(tasks, timeout=wait)
        finally:
            # Cancelled while waiting, or the run is about to expire: stop them all.
            await _cancel_all(tasks)
        if pending:
            names = ", ".join(
                sorted({c.function.name for c, t in zip(calls, tasks, strict=True) if t in pending})
            )
            raise ToolLoopError(
                f"run {run.id} is about to expire (its lifetime is {lifetime} s) while "
                f"{names}() still ran; the functions and the run were cancelled",
                reason="expiring",
                run_id=run.id,
            )
        return [task.result() for task in tasks]

    async def _call(
        self, call: RequiredActionFunctionToolCall, redact: Callable[[str], str]
    ) -> str:
        """One call's output: the result, or an ``{"error": ...}`` the model can act on.

        Error texts are redacted (they quote the arguments, which came from the
        server, and whatever a function raised)."""
        name = call.function.name
        spec = self.specs[name]
        try:
            kwargs = spec.decode(call.function.arguments)
        except ArgumentsError:
            problem = _arguments_problem(spec, call.function.arguments, redact)
            return self._failed(call, f"invalid arguments for {name}(): {problem}", redact)
        work = asyncio.ensure_future(_invoke(spec.function, kwargs))
        try:
            done, _ = await asyncio.wait({work}, timeout=self.tool_timeout)
        finally:
            if not work.done():
                work.cancel()
                await asyncio.gather(work, return_exceptions=True)
        if not done:
            return self._failed(call, f"{name}() timed out after {self.tool_timeout:g} s", redact)
        if work.cancelled():  # by the function itself (the loop's own cancel raises above)
            return self._failed(call, f"{name}() was cancelled", redact)
        try:
            result = work.result()
        except Exception as exc:
            return self._failed(call, f"{name}() raised {type(exc).__name__}: {exc}", redact)
        try:
            return encode_output(result)
        except (TypeError, ValueError) as exc:
            return self._failed(call, f"{name}() returned a value that is not JSON: {exc}", redact)

    def _failed(
        self, call: RequiredActionFunctionToolCall, message: str, redact: Callable[[str], str]
    ) -> str:
        message = redact(message)
        logger.info("tool call %s failed: %s", redact(call.id), message)
        return error_output(message)


def _arguments_problem(spec: FunctionSpec, arguments: str, redact: Callable[[str], str]) -> str:
    """Why ``arguments`` do not fit, said about the arguments *redacted* (the message
    quotes values, shortened: cut first, a key would no longer be recognised)."""
    try:
        spec.decode(redact(arguments))
    except ArgumentsError as exc:
        return str(exc)
    return "they do not fit its signature"  # only the key made them not fit


async def _invoke(fn: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
    """Call ``fn``: an ``async def`` on the loop, anything else in a worker thread."""
    if inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
        getattr(fn, "__call__", None)  # noqa: B004 - an async callable object
    ):
        return await fn(**kwargs)
    result = await asyncio.to_thread(fn, **kwargs)
    if inspect.isawaitable(result):
        return await result
    return result


async def _cancel_all(tasks: Sequence[asyncio.Future[Any]]) -> None:
    """Cancel the tasks still running and wait until every one has finished."""
    for task in tasks:
        if not task.done():
            task.cancel()
    if tasks:
        await asyncio.wait(tasks)


def _tool_call(call: RequiredActionFunctionToolCall, output: str) -> FunctionToolCall:
    """The call as the handler's hooks see tool calls, its output filled in."""
    return FunctionToolCall(
        id=call.id,
        type=call.type or "function",
        function=FunctionCall(
            name=call.function.name, arguments=call.function.arguments, output=output
        ),
    )
