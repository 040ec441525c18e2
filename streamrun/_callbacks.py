"""The handler calls an event implies, as typed values.

:meth:`~streamrun._accumulate.Accumulator.feed` returns, for each event, the
hooks to call, in order, as a list of callbacks; the pipeline awaits them on
the handler (:func:`~streamrun._handler.dispatch`) and reads the text deltas
out of them. A callback is a flat tuple ``(Kind, *args)``: ``Kind`` is a class
named after the hook — ``(OnTextDelta, delta, snapshot)`` stands for
``await handler.on_text_delta(delta, snapshot)`` — and the rest are the hook's
arguments. One flat tuple is the cheapest thing to build on the hot path (two
fewer allocations per event than ``(name, args)`` pairs), and the types hold
end to end:

* where a callback is built: :data:`Callback` is the union of each kind's exact
  tuple type, so a type checker rejects wrong or misordered arguments;
* where one is read: ``if cb[0] is OnTextDelta`` narrows ``cb[1]`` to
  :class:`~streamrun.TextDelta`;
* where one is fired: each kind's ``fire`` calls its hook of :class:`Hooks`,
  which :class:`~streamrun.AsyncEventHandler` implements.

The kind classes are markers: they are never instantiated.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, ClassVar, Protocol, Union

from ._events import Event
from ._models import (
    ImageFile,
    ImageURL,
    Message,
    MessageDelta,
    RunStep,
    RunStepDelta,
    Text,
    TextBuffer,
    TextDelta,
    ToolCall,
    ToolCallDelta,
)

__all__ = [
    "CALLBACK_TYPES",
    "Callback",
    "Hooks",
    "OnEnd",
    "OnEvent",
    "OnException",
    "OnImageFileDone",
    "OnImageUrlDone",
    "OnMessageCreated",
    "OnMessageDelta",
    "OnMessageDone",
    "OnRefusalCreated",
    "OnRefusalDelta",
    "OnRefusalDone",
    "OnRunStepCreated",
    "OnRunStepDelta",
    "OnRunStepDone",
    "OnTextCreated",
    "OnTextDelta",
    "OnTextDone",
    "OnTimeout",
    "OnToolCallCreated",
    "OnToolCallDelta",
    "OnToolCallDone",
    "OnToolOutput",
    "named",
]


class Hooks(Protocol):
    """The hooks a callback can call (:class:`~streamrun.AsyncEventHandler` has them all)."""

    async def on_event(self, event: Event) -> None: ...

    async def on_run_step_created(self, run_step: RunStep) -> None: ...

    async def on_run_step_delta(self, delta: RunStepDelta, snapshot: RunStep) -> None: ...

    async def on_run_step_done(self, run_step: RunStep) -> None: ...

    async def on_tool_call_created(self, tool_call: ToolCall) -> None: ...

    async def on_tool_call_delta(self, delta: ToolCallDelta, snapshot: ToolCall) -> None: ...

    async def on_tool_call_done(self, tool_call: ToolCall) -> None: ...

    async def on_tool_output(self, tool_call: ToolCall, output: str) -> None: ...

    async def on_message_created(self, message: Message) -> None: ...

    async def on_message_delta(self, delta: MessageDelta, snapshot: Message) -> None: ...

    async def on_message_done(self, message: Message) -> None: ...

    async def on_text_created(self, text: Text) -> None: ...

    async def on_text_delta(self, delta: TextDelta, snapshot: Text) -> None: ...

    async def on_text_done(self, text: Text) -> None: ...

    async def on_image_file_done(self, image_file: ImageFile) -> None: ...

    async def on_image_url_done(self, image_url: ImageURL) -> None: ...

    async def on_refusal_created(self, refusal: str) -> None: ...

    async def on_refusal_delta(self, delta: str, snapshot: str) -> None: ...

    async def on_refusal_done(self, refusal: str) -> None: ...

    async def on_end(self) -> None: ...

    async def on_exception(self, exception: Exception) -> None: ...

    async def on_timeout(self) -> None: ...


class OnEvent:
    """``on_event``: the callback ``(OnEvent, event)``."""

    hook: ClassVar[str] = "on_event"

    @staticmethod
    def fire(hooks: Hooks, cb: tuple[type[OnEvent], Event]) -> Awaitable[None]:
        """Call the hook (returns its coroutine)."""
        return hooks.on_event(cb[1])


class OnRunStepCreated:
    """``on_run_step_created``: the callback ``(OnRunStepCreated, run_step)``."""

    hook: ClassVar[str] = "on_run_step_created"

    @staticmethod
    def fire(hooks: Hooks, cb: tuple[type[OnRunStepCreated], RunStep]) -> Awaitable[None]:
        """Call the hook (returns its coroutine)."""
        return hooks.on_run_step_created(cb[1])


class OnRunStepDelta:
    """``on_run_step_delta``: the callback ``(OnRunStepDelta, delta, snapshot)``."""

    hook: ClassVar[str] = "on_run_step_delta"

    @staticmethod
    def fire(
        hooks: Hooks, cb: tuple[type[OnRunStepDelta], RunStepDelta, RunStep]
    ) -> Awaitable[None]:
        """Call the hook (returns its coroutine)."""
        return hooks.on_run_step_delta(cb[1], cb[2])


class OnRunStepDone:
    """``on_run_step_done``: the callback ``(OnRunStepDone, run_step)``."""

    hook: ClassVar[str] = "on_run_step_done"

    @staticmethod
    def fire(hooks: Hooks, cb: tuple[type[OnRunStepDone], RunStep]) -> Awaitable[None]:
        """Call the hook (returns its coroutine)."""
        return hooks.on_run_step_done(cb[1])


class OnToolCallCreated:
    """``on_tool_call_created``: the callback ``(OnToolCallCreated, tool_call)``."""

    hook: ClassVar[str] = "on_tool_call_created"

    @staticmethod
    def fire(hooks: Hooks, cb: tuple[type[OnToolCallCreated], ToolCall]) -> Awaitable[None]:
        """Call the hook (returns its coroutine)."""
        return hooks.on_tool_call_created(cb[1])


class OnToolCallDelta:
    """``on_tool_call_delta``: the callback ``(OnToolCallDelta, delta, snapshot)``."""

    hook: ClassVar[str] = "on_tool_call_delta"

    @staticmethod
    def fire(
        hooks: Hooks, cb: tuple[type[OnToolCallDelta], ToolCallDelta, ToolCall]
    ) -> Awaitable[None]:
        """Call the hook (returns its coroutine)."""
        return hooks.on_tool_call_delta(cb[1], cb[2])


class OnToolCallDone:
    """``on_tool_call_done``: the callback ``(OnToolCallDone, tool_call)``."""

    hook: ClassVar[str] = "on_tool_call_done"

    @staticmethod
    def fire(hooks: Hooks, cb: tuple[type[OnToolCallDone], ToolCall]) -> Awaitable[None]:
        """Call the hook (returns its coroutine)."""
        return hooks.on_tool_call_done(cb[1])


class OnToolOutput:
    """``on_tool_output``: the callback ``(OnToolOutput, tool_call, output)`` (the tool
    loop's, not the accumulator's)."""

    hook: ClassVar[str] = "on_tool_output"

    @staticmethod
    def fire(hooks: Hooks, cb: tuple[type[OnToolOutput], ToolCall, str]) -> Awaitable[None]:
        """Call the hook (returns its coroutine)."""
        return hooks.on_tool_output(cb[1], cb[2])


class OnMessageCreated:
    """``on_message_created``: the callback ``(OnMessageCreated, message)``."""

    hook: ClassVar[str] = "on_message_created"

    @staticmethod
    def fire(hooks: Hooks, cb: tuple[type[OnMessageCreated], Message]) -> Awaitable[None]:
        """Call the hook (returns its coroutine)."""
        return hooks.on_message_created(cb[1])


class OnMessageDelta:
    """``on_message_delta``: the callback ``(OnMessageDelta, delta, snapshot)``."""

    hook: ClassVar[str] = "on_message_delta"

    @staticmethod
    def fire(
        hooks: Hooks, cb: tuple[type[OnMessageDelta], MessageDelta, Message]
    ) -> Awaitable[None]:
        """Call the hook (returns its coroutine)."""
        return hooks.on_message_delta(cb[1], cb[2])


class OnMessageDone:
    """``on_message_done``: the callback ``(OnMessageDone, message)``."""

    hook: ClassVar[str] = "on_message_done"

    @staticmethod
    def fire(hooks: Hooks, cb: tuple[type[OnMessageDone], Message]) -> Awaitable[None]:
        """Call the hook (returns its coroutine)."""
        return hooks.on_message_done(cb[1])


class OnTextCreated:
    """``on_text_created``: the callback ``(OnTextCreated, text)``."""

    hook: ClassVar[str] = "on_text_created"

    @staticmethod
    def fire(hooks: Hooks, cb: tuple[type[OnTextCreated], Text]) -> Awaitable[None]:
        """Call the hook (returns its coroutine)."""
        return hooks.on_text_created(cb[1])


class OnTextDelta:
    """``on_text_delta``: the callback ``(OnTextDelta, delta, snapshot)``."""

    hook: ClassVar[str] = "on_text_delta"

    @staticmethod
    def fire(hooks: Hooks, cb: tuple[type[OnTextDelta], TextDelta, Text]) -> Awaitable[None]:
        """Call the hook (returns its coroutine)."""
        return hooks.on_text_delta(cb[1], cb[2])


class OnTextDone:
    """``on_text_done``: the callback ``(OnTextDone, text)``."""

    hook: ClassVar[str] = "on_text_done"

    @staticmethod
    def fire(hooks: Hooks, cb: tuple[type[OnTextDone], Text]) -> Awaitable[None]:
        """Call the hook (returns its coroutine)."""
        return hooks.on_text_done(cb[1])


class OnImageFileDone:
    """``on_image_file_done``: the callback ``(OnImageFileDone, image_file)``."""

    hook: ClassVar[str] = "on_image_file_done"

    @staticmethod
    def fire(hooks: Hooks, cb: tuple[type[OnImageFileDone], ImageFile]) -> Awaitable[None]:
        """Call the hook (returns its coroutine)."""
        return hooks.on_image_file_done(cb[1])


class OnImageUrlDone:
    """``on_image_url_done``: the callback ``(OnImageUrlDone, image_url)``."""

    hook: ClassVar[str] = "on_image_url_done"

    @staticmethod
    def fire(hooks: Hooks, cb: tuple[type[OnImageUrlDone], ImageURL]) -> Awaitable[None]:
        """Call the hook (returns its coroutine)."""
        return hooks.on_image_url_done(cb[1])


class OnRefusalCreated:
    """``on_refusal_created``: the callback ``(OnRefusalCreated, refusal)``."""

    hook: ClassVar[str] = "on_refusal_created"

    @staticmethod
    def fire(hooks: Hooks, cb: tuple[type[OnRefusalCreated], str]) -> Awaitable[None]:
        """Call the hook (returns its coroutine)."""
        return hooks.on_refusal_created(cb[1])


class OnRefusalDelta:
    """``on_refusal_delta``: the callback ``(OnRefusalDelta, delta, snapshot)``.

    ``snapshot`` is the refusal so far as a lazy :class:`~streamrun.TextBuffer`
    view; it is joined into the ``str`` the hook takes only when fired (joining
    on every fragment would cost O(length) per fragment).
    """

    hook: ClassVar[str] = "on_refusal_delta"

    @staticmethod
    def fire(hooks: Hooks, cb: tuple[type[OnRefusalDelta], str, TextBuffer]) -> Awaitable[None]:
        """Call the hook (returns its coroutine)."""
        return hooks.on_refusal_delta(cb[1], str(cb[2]))


class OnRefusalDone:
    """``on_refusal_done``: the callback ``(OnRefusalDone, refusal)``."""

    hook: ClassVar[str] = "on_refusal_done"

    @staticmethod
    def fire(hooks: Hooks, cb: tuple[type[OnRefusalDone], str]) -> Awaitable[None]:
        """Call the hook (returns its coroutine)."""
        return hooks.on_refusal_done(cb[1])


class OnEnd:
    """``on_end``: the callback ``(OnEnd, )``."""

    hook: ClassVar[str] = "on_end"

    @staticmethod
    def fire(hooks: Hooks, cb: tuple[type[OnEnd]]) -> Awaitable[None]:
        """Call the hook (returns its coroutine)."""
        return hooks.on_end()


class OnException:
    """``on_exception``: the callback ``(OnException, exception)``."""

    hook: ClassVar[str] = "on_exception"

    @staticmethod
    def fire(hooks: Hooks, cb: tuple[type[OnException], Exception]) -> Awaitable[None]:
        """Call the hook (returns its coroutine)."""
        return hooks.on_exception(cb[1])


class OnTimeout:
    """``on_timeout``: the callback ``(OnTimeout, )``."""

    hook: ClassVar[str] = "on_timeout"

    @staticmethod
    def fire(hooks: Hooks, cb: tuple[type[OnTimeout]]) -> Awaitable[None]:
        """Call the hook (returns its coroutine)."""
        return hooks.on_timeout()


Callback = Union[
    tuple[type[OnEvent], Event],
    tuple[type[OnRunStepCreated], RunStep],
    tuple[type[OnRunStepDelta], RunStepDelta, RunStep],
    tuple[type[OnRunStepDone], RunStep],
    tuple[type[OnToolCallCreated], ToolCall],
    tuple[type[OnToolCallDelta], ToolCallDelta, ToolCall],
    tuple[type[OnToolCallDone], ToolCall],
    tuple[type[OnToolOutput], ToolCall, str],
    tuple[type[OnMessageCreated], Message],
    tuple[type[OnMessageDelta], MessageDelta, Message],
    tuple[type[OnMessageDone], Message],
    tuple[type[OnTextCreated], Text],
    tuple[type[OnTextDelta], TextDelta, Text],
    tuple[type[OnTextDone], Text],
    tuple[type[OnImageFileDone], ImageFile],
    tuple[type[OnImageUrlDone], ImageURL],
    tuple[type[OnRefusalCreated], str],
    tuple[type[OnRefusalDelta], str, TextBuffer],
    tuple[type[OnRefusalDone], str],
    tuple[type[OnEnd]],
    tuple[type[OnException], Exception],
    tuple[type[OnTimeout]],
]
"""One handler call: ``(Kind, *args)``, the kind naming the hook."""

CALLBACK_TYPES: tuple[type[Any], ...] = (
    OnEvent,
    OnRunStepCreated,
    OnRunStepDelta,
    OnRunStepDone,
    OnToolCallCreated,
    OnToolCallDelta,
    OnToolCallDone,
    OnToolOutput,
    OnMessageCreated,
    OnMessageDelta,
    OnMessageDone,
    OnTextCreated,
    OnTextDelta,
    OnTextDone,
    OnImageFileDone,
    OnImageUrlDone,
    OnRefusalCreated,
    OnRefusalDelta,
    OnRefusalDone,
    OnEnd,
    OnException,
    OnTimeout,
)
"""Every callback kind, one per hook of :class:`Hooks`."""


def named(callback: Callback) -> tuple[str, tuple[Any, ...]]:
    """A callback as ``(hook name, arguments)``, for traces, logs and tests (not the hot path)."""
    return callback[0].hook, callback[1:]
