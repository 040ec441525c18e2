"""Code written for openai-python moves by changing the import (and the client).

The examples below are the Assistants streaming examples of openai-python's
own helper documentation (``helpers.md``, "Assistant Streaming API"), in their
async form (``AsyncOpenAI``: ``async with`` / ``await`` / ``async for``),
with the hooks left as the plain ``def`` the documentation writes. Only the
import and the client construction differ from the original: the client
points at the fake server. Also here: the ``get_final_*`` aliases, the
``client.beta`` paths, the "did you mean" for a misspelt keyword, ``tap=``
given an ``async def``, and the product rule for OpenAI's retired hosted
Assistants endpoint.
"""

# The documentation's code is untyped Python ported as it is: plain ``def`` hooks
# override ``async def`` ones, and it reads union members without narrowing them.
# mypy: disable-error-code="override, no-untyped-def, union-attr"

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import pytest
import pytest_asyncio
from typing_extensions import override

# The one changed import: ``from openai import AsyncAssistantEventHandler, AsyncOpenAI``.
from streamrun import (
    AsyncClient as AsyncOpenAI,
    AsyncEventHandler as AsyncAssistantEventHandler,
    Message,
    Run,
    RunStep,
    StreamConsumedError,
    StreamError,
    Text,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    ValidationError,
)
from streamrun._handler import _overridden
from streamrun.testing import FakeAssistantsServer, scenarios


@pytest_asyncio.fixture
async def server() -> AsyncIterator[FakeAssistantsServer]:
    async with FakeAssistantsServer() as fake:
        fake.create_thread("thread_id")
        yield fake


@pytest_asyncio.fixture
async def client(server: FakeAssistantsServer) -> AsyncIterator[AsyncOpenAI]:
    # The other changed line: ``client = AsyncOpenAI()``.
    client = AsyncOpenAI(api_key="sk-fake", base_url=server.base_url)
    yield client
    await client.aclose()


# -- helpers.md: "An example of creating a run and subscribing to some events"


class EventHandler(AsyncAssistantEventHandler):
    @override
    def on_text_created(self, text: Text) -> None:
        print("\nassistant > ", end="", flush=True)

    @override
    def on_text_delta(self, delta: TextDelta, snapshot: Text):
        print(delta.value, end="", flush=True)

    @override
    def on_tool_call_created(self, tool_call: ToolCall):
        print(f"\nassistant > {tool_call.type}\n", flush=True)

    @override
    def on_tool_call_delta(self, delta: ToolCallDelta, snapshot: ToolCall):
        if delta.type == "code_interpreter" and delta.code_interpreter:
            if delta.code_interpreter.input:
                print(delta.code_interpreter.input, end="", flush=True)
            if delta.code_interpreter.outputs:
                print("\n\noutput >", flush=True)
                for output in delta.code_interpreter.outputs:
                    if output.type == "logs":
                        print(f"\n{output.logs}", flush=True)


@pytest.mark.asyncio
async def test_helpers_md_event_handler_example(
    client: AsyncOpenAI, server: FakeAssistantsServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server.queue_scenario(scenarios.code_interpreter())
    async with client.beta.threads.runs.stream(
        thread_id="thread_id",
        assistant_id="assistant_id",
        event_handler=EventHandler(),
    ) as stream:
        await stream.until_done()

    out = capsys.readouterr().out
    steps = [s for s in await stream.final_run_steps() if s.type == "tool_calls"]
    call = steps[0].step_details.tool_calls[0]
    code = call.code_interpreter.input
    logs = [o.logs for o in call.code_interpreter.outputs if o.type == "logs"]
    message = (await stream.get_final_messages())[-1]
    text = next(part.text.value for part in message.content if part.type == "text")
    assert code and logs == ["max=1.000\n"] and text
    # Exactly what the hooks print: the call, its code, its logs, the image output, the text.
    assert out == (
        f"\nassistant > code_interpreter\n\n{code}"
        f"\n\noutput >\n\n{logs[0]}\n"
        "\n\noutput >\n"
        f"\nassistant > {text}"
    )


# -- helpers.md: "An example of iterating over events"


@pytest.mark.asyncio
async def test_helpers_md_iterating_over_events(
    client: AsyncOpenAI, server: FakeAssistantsServer, capsys: pytest.CaptureFixture[str]
) -> None:
    thread = SimpleNamespace(id="thread_id")  # the documentation's thread and assistant
    assistant = SimpleNamespace(id="asst_abc")
    async with client.beta.threads.runs.stream(
        thread_id=thread.id, assistant_id=assistant.id
    ) as stream:
        async for event in stream:
            # Print the text from text delta events
            if event.event == "thread.message.delta" and event.data.delta.content:
                print(event.data.delta.content[0].text)

    lines = capsys.readouterr().out.splitlines()
    assert lines and all(line.startswith("TextDelta(") for line in lines)
    assert (await stream.final_run()).status == "completed"


# -- helpers.md: "An example of iterating over text"


@pytest.mark.asyncio
async def test_helpers_md_iterating_over_text(
    client: AsyncOpenAI, server: FakeAssistantsServer, capsys: pytest.CaptureFixture[str]
) -> None:
    async with client.beta.threads.runs.stream(
        thread_id="thread_id", assistant_id="asst_abc"
    ) as stream:
        async for text in stream.text_deltas:
            print(text)

    printed = "".join(capsys.readouterr().out.splitlines())
    final = (await stream.get_final_messages())[-1].content[0].text.value
    assert printed == final


# -- helpers.md: "Creating Streams" (the three helper methods)


class Recorder(AsyncAssistantEventHandler):
    """Plain ``def`` hooks, as ported from the sync ``AssistantEventHandler``."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def on_event(self, event: Any) -> None:
        self.calls.append(event.event)

    def on_end(self) -> None:
        self.calls.append("end")


@pytest.mark.asyncio
async def test_create_and_run_then_submit_tool_outputs_through_beta(
    client: AsyncOpenAI, server: FakeAssistantsServer
) -> None:
    server.queue_scenario(scenarios.function_call())
    first = Recorder()
    async with client.beta.threads.create_and_run_stream(
        assistant_id="asst_abc",
        thread={"messages": [{"role": "user", "content": "Weather in Paris?"}]},
        event_handler=first,
    ) as stream:
        await stream.until_done()
    run = await stream.get_final_run()
    assert run.status == "requires_action"
    assert first.calls[0] == "thread.created" and first.calls[-1] == "end"
    assert run.required_action is not None
    outputs = [
        {"tool_call_id": call.id, "output": '{"temperature": 18}'}
        for call in run.required_action.submit_tool_outputs.tool_calls
    ]
    second = Recorder()
    async with client.beta.threads.runs.submit_tool_outputs_stream(
        thread_id=run.thread_id, run_id=run.id, tool_outputs=outputs, event_handler=second
    ) as continuation:
        await continuation.until_done()
    final: Run = await continuation.get_final_run()
    messages: list[Message] = await continuation.get_final_messages()
    steps: list[RunStep] = await continuation.get_final_run_steps()
    assert final.status == "completed"
    assert messages and messages == await continuation.final_messages()
    assert steps == await continuation.final_run_steps()
    assert "thread.run.completed" in second.calls and second.calls[-1] == "end"


# -- plain ``def`` hooks


class AsyncTexts(AsyncAssistantEventHandler):
    def __init__(self) -> None:
        self.seen: list[tuple[str, Any]] = []

    async def on_text_delta(self, delta: TextDelta, snapshot: Text) -> None:
        self.seen.append(("delta", delta.value))

    async def on_message_done(self, message: Message) -> None:
        self.seen.append(("done", message.id))

    async def on_exception(self, exception: Exception) -> None:
        self.seen.append(("exception", type(exception).__name__))


class SyncTexts(AsyncAssistantEventHandler):
    def __init__(self) -> None:
        self.seen: list[tuple[str, Any]] = []

    def on_text_delta(self, delta: TextDelta, snapshot: Text) -> None:
        self.seen.append(("delta", delta.value))

    def on_message_done(self, message: Message) -> None:
        self.seen.append(("done", message.id))

    def on_exception(self, exception: Exception) -> None:
        self.seen.append(("exception", type(exception).__name__))


@pytest.mark.asyncio
@pytest.mark.parametrize("scenario", ["plain_text", "error_event"])
async def test_plain_def_hooks_see_what_async_hooks_see(scenario: str) -> None:
    seen = []
    for cls in (AsyncTexts, SyncTexts):
        async with FakeAssistantsServer(scenario=scenario, seed=7) as fake:
            fake.create_thread("thread_1")
            handler = cls()
            async with AsyncOpenAI(api_key="k", base_url=fake.base_url) as client:
                async with client.runs.stream(
                    "thread_1", assistant_id="asst_abc", handler=handler
                ) as stream:
                    try:
                        await stream.until_done()
                    except StreamError:
                        pass
            seen.append(handler.seen)
    assert seen[0] == seen[1]
    assert seen[1]
    assert _overridden(SyncTexts) == dict.fromkeys(
        ("on_text_delta", "on_message_done", "on_exception"), False
    )
    assert set(_overridden(AsyncTexts).values()) == {True}


# -- a misspelt keyword


@pytest.mark.parametrize(
    ("keyword", "suggestion"),
    [("handlr", "handler"), ("event_handlers", "event_handler"), ("instruction", "instructions")],
)
def test_a_misspelt_keyword_gets_did_you_mean(keyword: str, suggestion: str) -> None:
    client = AsyncOpenAI(api_key="k", base_url="http://127.0.0.1:9/v1")
    with pytest.raises(ValidationError) as info:
        client.runs.stream("thread_1", assistant_id="asst_abc", **{keyword: None})
    assert info.value.path == keyword
    assert f"did you mean {suggestion!r}?" in str(info.value)
    with pytest.raises(ValidationError, match=f"did you mean {suggestion!r}"):
        client.beta.threads.create_and_run_stream(assistant_id="asst_abc", **{keyword: None})
    with pytest.raises(ValidationError, match="did you mean 'tool_outputs'"):
        client.runs.submit_tool_outputs_stream("thread_1", "run_1", tool_outputs=[], tool_output=[])


def test_handler_and_event_handler_together_is_an_error() -> None:
    client = AsyncOpenAI(api_key="k", base_url="http://127.0.0.1:9/v1")
    with pytest.raises(ValidationError, match="not both"):
        client.runs.stream(
            "thread_1",
            assistant_id="asst_abc",
            handler=AsyncAssistantEventHandler(),
            event_handler=AsyncAssistantEventHandler(),
        )


def test_a_handler_serves_one_stream() -> None:
    client = AsyncOpenAI(api_key="k", base_url="http://127.0.0.1:9/v1")
    handler = AsyncAssistantEventHandler()
    client.runs.stream("thread_1", assistant_id="asst_abc", event_handler=handler)
    with pytest.raises(StreamConsumedError):
        client.runs.stream("thread_2", assistant_id="asst_abc", event_handler=handler)


# -- tap= given an async def


def test_an_async_tap_is_a_type_error_at_call_time() -> None:
    client = AsyncOpenAI(api_key="k", base_url="http://127.0.0.1:9/v1")

    async def tap(chunk: bytes) -> None:
        return None

    class AsyncCallable:
        async def __call__(self, chunk: bytes) -> None:
            return None

    for bad in (tap, AsyncCallable()):
        with pytest.raises(TypeError, match="not an async def"):
            client.runs.stream("thread_1", assistant_id="asst_abc", tap=bad)
    with pytest.raises(TypeError, match="tap must be a function"):
        client.runs.stream("thread_1", assistant_id="asst_abc", tap=42)
    client.runs.stream("thread_1", assistant_id="asst_abc", tap=lambda chunk: None)


# -- OpenAI's retired hosted Assistants endpoint


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


@pytest.mark.usefixtures("no_env")
def test_no_key_on_openais_host_fails_at_construction() -> None:
    with pytest.raises(ValidationError) as info:
        AsyncOpenAI()
    message = str(info.value)
    assert info.value.path == "api_key"
    assert "OPENAI_API_KEY" in message and "OPENAI_BASE_URL" in message
    assert "python -m streamrun.testing" in message
    with pytest.raises(ValidationError, match="OPENAI_API_KEY"):
        AsyncOpenAI(base_url="https://api.openai.com/v1", api_key="")


@pytest.mark.usefixtures("no_env")
def test_a_custom_base_url_needs_no_key() -> None:
    client = AsyncOpenAI(base_url="http://127.0.0.1:9/v1")
    assert "api_key=none" in repr(client)


@pytest.mark.usefixtures("no_env")
@pytest.mark.asyncio
async def test_assistants_calls_on_openais_host_fail_before_any_io() -> None:
    client = AsyncOpenAI(api_key="sk-test")
    assert str(client.base_url) == "https://api.openai.com/v1"  # kept for other APIs
    calls: list[Any] = [
        lambda: client.runs.stream("thread_1", assistant_id="asst_abc"),
        lambda: client.beta.threads.runs.stream(thread_id="thread_1", assistant_id="asst_abc"),
        lambda: client.threads.create_and_run_stream(assistant_id="asst_abc"),
        lambda: client.runs.submit_tool_outputs_stream("thread_1", "run_1", tool_outputs=[]),
        lambda: client.runs.retrieve("thread_1", "run_1"),
        lambda: client.runs.cancel("thread_1", "run_1"),
        lambda: client.runs.recover("thread_1", "run_1"),
        lambda: client.threads.list_messages("thread_1", run_id="run_1"),
    ]
    for call in calls:
        with pytest.raises(ValidationError) as info:
            result = call()
            if asyncio.iscoroutine(result):
                await result
        message = str(info.value)
        assert info.value.path == "base_url"
        assert "retired" in message and "OPENAI_BASE_URL" in message
        assert "python -m streamrun.testing" in message
    assert client._transport._session is None  # no session, so no I/O
    await client.aclose()


def test_the_compat_module_holds_only_the_aliases() -> None:
    # Keyword and tap checks are request validation (_requests), not compatibility.
    from streamrun import _compat, _requests

    assert set(_compat.__all__) == {
        "Beta",
        "BetaThreads",
        "OpenAIStreamAliases",
        "take_handler",
    }
    assert {"check_keywords", "check_tap"} <= set(_requests.__all__)
    with pytest.raises(TypeError, match="not an async def"):

        async def tap(chunk: bytes) -> None:
            return None

        _requests.check_tap(tap)
