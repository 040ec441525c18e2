"""The event-handler base class and the dispatcher that calls its hooks.

Subclass :class:`AsyncEventHandler` and override the ``async def on_*`` hooks
you need (a plain ``def`` hook, as written for the official SDK's synchronous
``AssistantEventHandler``, works too: it is called, not awaited); every hook
is a no-op by default. A stream feeds each event to an
:class:`~streamrun._accumulate.Accumulator` and hands the callbacks it returns
to :func:`dispatch`, which calls the overridden hooks in order. When each hook
fires, and in which order, is documented in :mod:`streamrun._accumulate`.

Hooks are looked up on the handler's class (once per class, at its first
dispatch): a hook the class does not override is skipped without creating a
coroutine, so a handler that only overrides ``on_text_delta`` costs nothing
for the other events. Override hooks by subclassing (or on a mixin), not by
assigning functions to instances.

Differences from the official SDK's ``AsyncAssistantEventHandler``: the
handler is not itself the stream (it neither iterates nor accumulates: the
stream does both and calls the hooks), it follows one run (its streams, a
submit_tool_outputs continuation included, share one accumulator), and it has
the extra hooks ``on_refusal_created`` / ``on_refusal_delta`` /
``on_refusal_done`` and ``on_image_url_done``. When the hooks fire differs
too: see :mod:`streamrun._accumulate`.
"""

from __future__ import annotations

import inspect
import weakref
from typing import TYPE_CHECKING, Any, cast

from ._callbacks import CALLBACK_TYPES
from ._exceptions import StreamConsumedError

if TYPE_CHECKING:
    from ._accumulate import Accumulator
    from ._callbacks import Callback, Hooks
    from ._events import Event
    from ._models import (
        ImageFile,
        ImageURL,
        Message,
        MessageDelta,
        Run,
        RunStep,
        RunStepDelta,
        Text,
        TextDelta,
        ToolCall,
        ToolCallDelta,
    )

__all__ = ["HOOK_NAMES", "AsyncEventHandler", "call_hook", "dispatch"]


class AsyncEventHandler:
    """Base class for run stream event handlers: every ``on_*`` hook is a no-op.

    Snapshots passed to the hooks are live objects that keep growing as the
    stream goes on; copy what you need to keep as it is at one moment. The
    ``current_*`` properties read the stream the handler is attached to
    (``None`` before it is attached).
    """

    _accumulator: Accumulator | None = None

    # -- state -------------------------------------------------------------

    @property
    def current_event(self) -> Event | None:
        """The event being handled (the last event of the stream)."""
        acc = self._accumulator
        return None if acc is None else acc.current_event

    @property
    def current_run(self) -> Run | None:
        """The run, as of the last ``thread.run.*`` event."""
        acc = self._accumulator
        return None if acc is None else acc.current_run

    @property
    def current_message_snapshot(self) -> Message | None:
        """The snapshot of the message of the last message event."""
        acc = self._accumulator
        return None if acc is None else acc.current_message_snapshot

    @property
    def current_run_step_snapshot(self) -> RunStep | None:
        """The snapshot of the step of the last step event."""
        acc = self._accumulator
        return None if acc is None else acc.current_run_step_snapshot

    def _attach(self, accumulator: Accumulator) -> None:
        """Bind the handler to the accumulator of the stream that drives it.

        Attaching it to a second accumulator raises
        :class:`~streamrun.StreamConsumedError` (a continuation of the handler's
        run reuses its accumulator instead of attaching again).
        """
        if self._accumulator is not None:
            raise StreamConsumedError("this handler is already attached to a stream")
        self._accumulator = accumulator

    # -- hooks -------------------------------------------------------------

    async def on_event(self, event: Event) -> None:
        """Every event of the stream (unknown ones included), before any other hook."""

    async def on_run_step_created(self, run_step: RunStep) -> None:
        """A step started (``thread.run.step.created``, or its first delta or end
        when the server skipped it); ``run_step`` is its snapshot."""

    async def on_run_step_delta(self, delta: RunStepDelta, snapshot: RunStep) -> None:
        """A ``thread.run.step.delta``: ``delta`` as sent and the step ``snapshot``
        with it applied. Fires after the tool-call hooks of the same event."""

    async def on_run_step_done(self, run_step: RunStep) -> None:
        """A step ended (completed, failed, cancelled or expired); ``run_step`` is the
        ended object (final status, usage)."""

    async def on_tool_call_created(self, tool_call: ToolCall) -> None:
        """A tool call started: fires once per call, just before its first
        ``on_tool_call_delta`` (or before ``on_tool_call_done`` for a call seen only
        complete). ``tool_call`` is its snapshot."""

    async def on_tool_call_delta(self, delta: ToolCallDelta, snapshot: ToolCall) -> None:
        """One tool-call fragment (every fragment, the first included, in wire order):
        ``delta`` as sent and the call's ``snapshot`` including it."""

    async def on_tool_call_done(self, tool_call: ToolCall) -> None:
        """A tool call is complete: once per call, when its step ends (with the
        completed object's call), when ``thread.run.requires_action`` lists it, or
        when the stream ends, whichever comes first."""

    async def on_tool_output(self, tool_call: ToolCall, output: str) -> None:
        """The tool loop (``functions=``) computed a function call's output, about to be
        submitted: ``tool_call`` is the call with ``function.output`` filled in,
        ``output`` the text sent (``{"error": "..."}`` when the function raised, timed
        out or got arguments that do not fit its signature). Fires for each call of a
        round, in the order the run listed them, before the outputs are submitted."""

    async def on_message_created(self, message: Message) -> None:
        """A message started (``thread.message.created``, or its first delta when the
        server skipped it); ``message`` is its snapshot."""

    async def on_message_delta(self, delta: MessageDelta, snapshot: Message) -> None:
        """A ``thread.message.delta``: ``delta`` as sent and the message ``snapshot``
        with it applied. Fires after the content-part hooks of the same event."""

    async def on_message_done(self, message: Message) -> None:
        """A message ended (``thread.message.completed`` or ``.incomplete``);
        ``message`` is the ended object, after every part's done hook."""

    async def on_text_created(self, text: Text) -> None:
        """A text part started; ``text`` is its snapshot (it grows with each delta)."""

    async def on_text_delta(self, delta: TextDelta, snapshot: Text) -> None:
        """One text fragment: ``delta`` as sent (``delta.value`` is the new text) and
        the part's ``snapshot`` including it."""

    async def on_text_done(self, text: Text) -> None:
        """A text part is complete: when the message's next part starts or the
        message ends (then ``text`` comes from the completed message)."""

    async def on_image_file_done(self, image_file: ImageFile) -> None:
        """An image_file part is complete (next part started or message ended)."""

    async def on_image_url_done(self, image_url: ImageURL) -> None:
        """An image_url part is complete (next part started or message ended)."""

    async def on_refusal_created(self, refusal: str) -> None:
        """A refusal part started; ``refusal`` is its text at that moment (``""`` for a
        streamed part, the whole refusal for one seen only complete)."""

    async def on_refusal_delta(self, delta: str, snapshot: str) -> None:
        """One refusal fragment: ``delta`` and the refusal so far, including it."""

    async def on_refusal_done(self, refusal: str) -> None:
        """A refusal part is complete; ``refusal`` is its final text."""

    async def on_end(self) -> None:
        """The stream is over: it ended normally, failed or was closed early."""

    async def on_exception(self, exception: Exception) -> None:
        """The stream failed with ``exception`` (called before it propagates)."""

    async def on_timeout(self) -> None:
        """A timeout expired (connect, idle or total); ``on_exception(StreamTimeout)`` follows."""


HOOK_NAMES: frozenset[str] = frozenset(
    name
    for name in vars(AsyncEventHandler)
    if name.startswith("on_") and callable(getattr(AsyncEventHandler, name))
)
"""The names of every hook of :class:`AsyncEventHandler`."""

_BASE_HOOKS = {name: getattr(AsyncEventHandler, name) for name in HOOK_NAMES}

# Per handler class: each overridden hook name -> whether it is ``async def``.
_OVERRIDDEN: weakref.WeakKeyDictionary[type, dict[str, bool]] = weakref.WeakKeyDictionary()


def _overridden(cls: type) -> dict[str, bool]:
    """The hooks ``cls`` defines differently from :class:`AsyncEventHandler`.

    Maps each overridden hook name to ``True`` for an ``async def`` (awaited)
    and ``False`` for a plain ``def`` (called directly, as ported from the
    official SDK's synchronous ``AssistantEventHandler``). Computed once per
    class, so dispatching costs the same per event either way.
    """
    hooks = _OVERRIDDEN.get(cls)
    if hooks is None:
        hooks = {}
        for name, base in _BASE_HOOKS.items():
            hook = getattr(cls, name, base)
            if hook is not base:
                hooks[name] = inspect.iscoroutinefunction(hook)
        _OVERRIDDEN[cls] = hooks
    return hooks


async def _call(handler: object, name: str, is_async: bool, args: tuple[Any, ...]) -> None:
    result = getattr(handler, name)(*args)
    if is_async or (result is not None and inspect.isawaitable(result)):
        # A plain ``def`` returning an awaitable (a wrapped coroutine function) is awaited too.
        await result


# Per handler class: each overridden hook's callback kind -> whether it is ``async def``.
_KINDS: weakref.WeakKeyDictionary[type, dict[type[Any], bool]] = weakref.WeakKeyDictionary()


def _overridden_kinds(cls: type) -> dict[type[Any], bool]:
    """:func:`_overridden` keyed by callback kind (:mod:`streamrun._callbacks`); once per class."""
    kinds = _KINDS.get(cls)
    if kinds is None:
        hooks = _overridden(cls)
        kinds = {kind: hooks[kind.hook] for kind in CALLBACK_TYPES if kind.hook in hooks}
        _KINDS[cls] = kinds
    return kinds


async def dispatch(handler: object, callbacks: list[Callback]) -> None:
    """Call ``handler``'s hooks for ``callbacks``, in order.

    Hooks the handler's class does not override are skipped (no coroutine is
    created); ``async def`` hooks are awaited, plain ``def`` hooks are called.
    Exceptions raised by a hook propagate and stop the dispatch.
    """
    overridden = _overridden_kinds(type(handler))
    if not overridden:
        return
    hooks = cast("Hooks", handler)  # only the hooks it has are called
    for callback in callbacks:
        kind: Any = callback[0]
        is_async = overridden.get(kind)
        if is_async is None:
            continue
        result = kind.fire(hooks, callback)
        if is_async or (result is not None and inspect.isawaitable(result)):
            await result


async def call_hook(handler: object, name: str, *args: Any) -> None:
    """Call one hook (``on_end``, ``on_exception``, ``on_timeout``) if overridden."""
    is_async = _overridden(type(handler)).get(name)
    if is_async is not None:
        await _call(handler, name, is_async, args)
