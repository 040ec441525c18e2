"""Tests of the event-handler base class and :func:`streamrun._handler.dispatch`."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest

from streamrun._accumulate import Accumulator, Callback
from streamrun._callbacks import CALLBACK_TYPES, OnEnd, OnException, OnRefusalDelta, OnTimeout
from streamrun._events import DoneEvent, ErrorEvent, Event, parse_event
from streamrun._exceptions import StreamConsumedError, StreamrunError
from streamrun._handler import HOOK_NAMES, AsyncEventHandler, _overridden, dispatch
from streamrun._models import Text, TextBuffer, TextDelta

FIXTURES = Path(__file__).resolve().parent / "fixtures"

EXPECTED_HOOKS = {
    "on_event",
    "on_run_step_created",
    "on_run_step_delta",
    "on_run_step_done",
    "on_tool_call_created",
    "on_tool_call_delta",
    "on_tool_call_done",
    "on_tool_output",
    "on_message_created",
    "on_message_delta",
    "on_message_done",
    "on_text_created",
    "on_text_delta",
    "on_text_done",
    "on_image_file_done",
    "on_image_url_done",
    "on_refusal_created",
    "on_refusal_delta",
    "on_refusal_done",
    "on_end",
    "on_exception",
    "on_timeout",
}


def load(name: str) -> list[Event]:
    events: list[Event] = []
    for block in (FIXTURES / name).read_text(encoding="utf-8").split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.split("\n") if ": " in line)
        if "event" in lines and "data" in lines:
            event = parse_event(lines["event"], lines["data"])
            if not isinstance(event, (DoneEvent, ErrorEvent)):
                events.append(event)
    return events


def callbacks_of(events: list[Event]) -> tuple[Accumulator, list[Callback]]:
    acc = Accumulator()
    out: list[Callback] = []
    for event in events:
        out.extend(acc.feed(event))
    out.extend(acc.end())
    return acc, out


def _recorder(name: str) -> Any:
    async def hook(self: Recorder, *args: Any) -> None:
        self.calls.append((name, args))

    hook.__name__ = name
    return hook


class Recorder(AsyncEventHandler):
    """Overrides every hook and records each call with its arguments."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []


for _name in EXPECTED_HOOKS:
    setattr(Recorder, _name, _recorder(_name))


class TextOnly(AsyncEventHandler):
    """Overrides one hook; records which attributes dispatch looks up."""

    def __init__(self) -> None:
        self.looked_up: list[str] = []
        self.texts: list[str] = []

    def __getattribute__(self, name: str) -> Any:
        if name.startswith("on_"):
            object.__getattribute__(self, "looked_up").append(name)
        return object.__getattribute__(self, name)

    async def on_text_delta(self, delta: TextDelta, snapshot: Text) -> None:
        self.texts.append(delta.value or "")


# ---------------------------------------------------------------------------
# The base class


def test_hook_names() -> None:
    assert HOOK_NAMES == EXPECTED_HOOKS


@pytest.mark.parametrize("name", sorted(EXPECTED_HOOKS))
def test_every_hook_is_an_async_documented_no_op(name: str) -> None:
    hook = getattr(AsyncEventHandler, name)
    assert inspect.iscoroutinefunction(hook)
    assert hook.__doc__ and hook.__doc__.strip()


@pytest.mark.asyncio
async def test_base_hooks_return_none() -> None:
    handler = AsyncEventHandler()
    for name in sorted(EXPECTED_HOOKS):
        n_args = len(inspect.signature(getattr(handler, name)).parameters)
        assert await getattr(handler, name)(*([None] * n_args)) is None


def test_current_properties_are_none_before_attach() -> None:
    handler = AsyncEventHandler()
    assert handler.current_event is None
    assert handler.current_run is None
    assert handler.current_message_snapshot is None
    assert handler.current_run_step_snapshot is None


def test_current_properties_read_the_attached_accumulator() -> None:
    handler = AsyncEventHandler()
    acc = Accumulator()
    handler._attach(acc)
    events = load("code_interpreter.sse")
    seen_steps = set()
    for event in events[:-1]:
        acc.feed(event)
        assert handler.current_event is event
        assert handler.current_run is acc.current_run
        assert handler.current_message_snapshot is acc.current_message_snapshot
        assert handler.current_run_step_snapshot is acc.current_run_step_snapshot
        if handler.current_run_step_snapshot is not None:
            seen_steps.add(handler.current_run_step_snapshot.id)
    acc.feed(events[-1])
    run = handler.current_run
    assert run is not None and run.status == "completed"
    message = handler.current_message_snapshot
    assert message is not None and message.status == "completed"
    assert len(seen_steps) == 2


def test_attach_twice_raises() -> None:
    handler = AsyncEventHandler()
    acc = Accumulator()
    handler._attach(acc)
    with pytest.raises(StreamConsumedError, match="this handler is already attached to a stream"):
        handler._attach(Accumulator())
    with pytest.raises(StreamrunError):
        handler._attach(acc)
    assert handler.current_event is acc.current_event


def test_handlers_attach_independently() -> None:
    first, second = AsyncEventHandler(), Recorder()
    acc1, acc2 = Accumulator(), Accumulator()
    first._attach(acc1)
    second._attach(acc2)
    event = load("run_failed.sse")[0]
    acc1.feed(event)
    assert first.current_event is event
    assert second.current_event is None


# ---------------------------------------------------------------------------
# dispatch


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "fixture",
    ["plain_text.sse", "code_interpreter.sse", "function_requires_action.sse"],
)
async def test_dispatch_calls_every_callback_in_order_with_its_args(fixture: str) -> None:
    _, callbacks = callbacks_of(load(fixture))
    handler = Recorder()
    await dispatch(handler, callbacks)
    assert [name for name, _ in handler.calls] == [cb[0].hook for cb in callbacks]
    assert all(
        len(got) == len(want) - 1 and all(g is w for g, w in zip(got, want[1:], strict=True))
        for (_, got), want in zip(handler.calls, callbacks, strict=True)
    )


@pytest.mark.asyncio
async def test_dispatch_per_event_as_a_stream_does() -> None:
    handler = Recorder()
    acc = Accumulator()
    handler._attach(acc)
    events = load("plain_text.sse")
    for event in events:
        await dispatch(handler, acc.feed(event))
    await dispatch(handler, acc.end())
    text = "".join(args[0].value for name, args in handler.calls if name == "on_text_delta")
    assert text == acc.final_messages()[0].text
    assert [name for name, _ in handler.calls].count("on_event") == len(events)


@pytest.mark.asyncio
async def test_dispatch_skips_hooks_that_are_not_overridden() -> None:
    _, callbacks = callbacks_of(load("plain_text.sse"))
    handler = TextOnly()
    await dispatch(handler, callbacks)
    assert set(handler.looked_up) == {"on_text_delta"}
    assert len(handler.looked_up) == 100
    assert len(handler.texts) == 100


@pytest.mark.asyncio
async def test_dispatch_with_the_base_class_does_nothing() -> None:
    _, callbacks = callbacks_of(load("plain_text.sse"))
    await dispatch(AsyncEventHandler(), callbacks)
    assert _overridden(AsyncEventHandler) == {}


def test_overridden_sees_inherited_and_mixin_hooks() -> None:
    class Base(AsyncEventHandler):
        async def on_text_delta(self, delta: TextDelta, snapshot: Text) -> None:
            return None

    class Child(Base):
        async def on_end(self) -> None:
            return None

    class Mixin:
        async def on_message_done(self, message: Any) -> None:
            return None

    class Mixed(Mixin, Child):
        pass

    assert set(_overridden(Base)) == {"on_text_delta"}
    assert set(_overridden(Child)) == {"on_text_delta", "on_end"}
    assert set(_overridden(Mixed)) == {"on_text_delta", "on_end", "on_message_done"}
    assert set(_overridden(Recorder)) == EXPECTED_HOOKS


@pytest.mark.asyncio
async def test_dispatch_accepts_duck_typed_handlers() -> None:
    class Duck:
        def __init__(self) -> None:
            self.events: list[Any] = []

        async def on_event(self, event: Any) -> None:
            self.events.append(event)

    events = load("run_failed.sse")
    _, callbacks = callbacks_of(events)
    duck = Duck()
    await dispatch(duck, callbacks)
    assert duck.events == events
    assert set(_overridden(Duck)) == {"on_event"}


@pytest.mark.asyncio
async def test_hook_exception_propagates_and_stops_dispatch() -> None:
    class Boom(Exception):
        pass

    class Failing(AsyncEventHandler):
        def __init__(self) -> None:
            self.count = 0

        async def on_text_delta(self, delta: TextDelta, snapshot: Text) -> None:
            self.count += 1
            if self.count == 3:
                raise Boom

    _, callbacks = callbacks_of(load("plain_text.sse"))
    handler = Failing()
    with pytest.raises(Boom):
        await dispatch(handler, callbacks)
    assert handler.count == 3


@pytest.mark.asyncio
async def test_dispatch_of_stream_level_hooks() -> None:
    handler = Recorder()
    error = StreamConsumedError("x")
    await dispatch(handler, [(OnException, error), (OnTimeout,), (OnEnd,)])
    assert handler.calls == [("on_exception", (error,)), ("on_timeout", ()), ("on_end", ())]


def test_one_callback_kind_per_hook() -> None:
    assert sorted(kind.hook for kind in CALLBACK_TYPES) == sorted(HOOK_NAMES)
    for kind in CALLBACK_TYPES:
        assert kind.__name__ == "".join(p.capitalize() for p in kind.hook.split("_"))


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", CALLBACK_TYPES, ids=lambda kind: kind.hook)
async def test_each_callback_fires_its_own_hook_with_its_arguments(kind: Any) -> None:
    n_args = len(inspect.signature(getattr(AsyncEventHandler, kind.hook)).parameters) - 1
    args = tuple(object() for _ in range(n_args))
    handler = Recorder()
    if kind is OnRefusalDelta:
        # The refusal so far travels as a lazy TextBuffer view, joined when fired.
        await dispatch(handler, [(kind, "o", TextBuffer("no"))])
        assert handler.calls == [("on_refusal_delta", ("o", "no"))]
        return
    await dispatch(handler, [(kind, *args)])
    assert handler.calls == [(kind.hook, args)]
    assert all(got is want for got, want in zip(handler.calls[0][1], args, strict=True))
