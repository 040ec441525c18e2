"""Differential tests: streamrun against the official SDK on the same bytes.

Every recorded transcript and a set of generated streams are served by a real
server on 127.0.0.1 (in chunks of several sizes, one byte included) to two
clients: the official ``openai`` SDK with a recording subclass of its
``AsyncAssistantEventHandler``, and streamrun with a recording subclass of
:class:`streamrun.AsyncEventHandler` overriding the same hooks.

Where the SDK is right the two must agree exactly: the event names seen by
``on_event``, the text fragments and the text snapshot after each one, the
message hooks, the final messages and the final run (compared as JSON, nulls
dropped), ``current_run``. Where the SDK is wrong (PROTOCOL §9) each test pins
both sides: streamrun's corrected behaviour precisely, and the SDK's bug as it
is today, so a change on either side fails the test.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from typing import Any

import attrs
import openai
import pydantic
import pytest
from openai.lib.streaming import AsyncAssistantEventHandler

import streamrun
from streamrun._converter import converter

from .conftest import ReplayServer, Reply, event_names, fixture_bytes, manifest

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

CHUNK_SIZES = [1, 7, 4096]
FIXTURES = {entry["file"]: entry for entry in manifest()}

THREAD = "thread_diff"
ASSISTANT = "asst_diff"
RUN = "run_diff"
TOOL_OUTPUTS: list[Any] = [{"tool_call_id": "call_a", "output": "ok"}]

Ids = tuple[str, str]


def request_ids(name: str) -> Ids:
    """The thread and run a transcript's request named (a continuation's run belongs to
    its stream: streamrun rejects events of another one), else the defaults."""
    request = FIXTURES.get(name, {}).get("request", {})
    return request.get("thread_id") or THREAD, request.get("run_id") or RUN


# ---------------------------------------------------------------------------
# Normalising what either library hands out


def _strip(value: Any) -> Any:
    """JSON without nulls and without the delta ``index`` keys the SDK keeps."""
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if v is not None and k != "index"}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def plain(obj: Any) -> Any:
    """The JSON of a model of either library (pydantic or attrs), comparable."""
    if isinstance(obj, pydantic.BaseModel):
        return _strip(obj.model_dump(exclude_none=True))
    return _strip(converter.unstructure(obj))


def _annotation(a: Any) -> tuple[Any, ...]:
    ref = getattr(a, "file_citation", None) or getattr(a, "file_path", None)
    return (a.type, a.text, a.start_index, a.end_index, ref.file_id if ref else None)


def _text(t: Any) -> tuple[Any, ...]:
    return (t.value, tuple(_annotation(a) for a in t.annotations or ()))


def _part(p: Any) -> tuple[Any, ...]:
    if p.type == "text":
        return ("text", *_text(p.text))
    if p.type == "image_file":
        return ("image_file", p.image_file.file_id)
    if p.type == "image_url":
        return ("image_url", p.image_url.url)
    if p.type == "refusal":
        return ("refusal", p.refusal)
    return (p.type,)  # pragma: no cover - no other part type is streamed here


def _output(o: Any) -> tuple[Any, ...]:
    if o.type == "logs":
        return ("logs", o.logs)
    return ("image", o.image.file_id)


def _call(c: Any) -> tuple[Any, ...]:
    if c.type == "function":
        f = c.function
        return (c.id, "function", f.name, f.arguments, f.output)
    if c.type == "code_interpreter":
        ci = c.code_interpreter
        return (c.id, "code_interpreter", ci.input, tuple(map(_output, ci.outputs or ())))
    if c.type == "file_search":
        return (c.id, "file_search", len(getattr(c.file_search, "results", None) or ()))
    return (c.id, c.type)  # pragma: no cover


def _usage(u: Any) -> tuple[int, int, int] | None:
    return None if u is None else (u.prompt_tokens, u.completion_tokens, u.total_tokens)


class _Recording:
    """Hooks recording their arguments as plain tuples, at the moment they fire.

    Mixed into both libraries' handler classes, so both override the same hooks
    (the SDK has no refusal / image_url hooks: it never calls those).
    """

    calls: list[tuple[Any, ...]]

    def _add(self, *item: Any) -> None:
        self.calls.append(item)

    async def on_event(self, event: Any) -> None:
        self._add("event", event.event)

    async def on_run_step_created(self, run_step: Any) -> None:
        self._add("run_step_created", run_step.id, run_step.status)

    async def on_run_step_delta(self, delta: Any, snapshot: Any) -> None:
        self._add("run_step_delta", snapshot.id)

    async def on_run_step_done(self, run_step: Any) -> None:
        self._add("run_step_done", run_step.id, run_step.status, _usage(run_step.usage))

    async def on_tool_call_created(self, tool_call: Any) -> None:
        self._add("tool_call_created", tool_call.id, tool_call.type)

    async def on_tool_call_delta(self, delta: Any, snapshot: Any) -> None:
        self._add("tool_call_delta", delta.index, _call(snapshot))

    async def on_tool_call_done(self, tool_call: Any) -> None:
        self._add("tool_call_done", _call(tool_call))

    async def on_message_created(self, message: Any) -> None:
        self._add("message_created", message.id)

    async def on_message_delta(self, delta: Any, snapshot: Any) -> None:
        self._add("message_delta", snapshot.id)

    async def on_message_done(self, message: Any) -> None:
        self._add("message_done", message.id, message.status, tuple(map(_part, message.content)))

    async def on_text_created(self, text: Any) -> None:
        self._add("text_created", text.value)

    async def on_text_delta(self, delta: Any, snapshot: Any) -> None:
        self._add("text_delta", delta.value, *_text(snapshot))

    async def on_text_done(self, text: Any) -> None:
        self._add("text_done", *_text(text))

    async def on_image_file_done(self, image_file: Any) -> None:
        self._add("image_file_done", image_file.file_id)

    async def on_image_url_done(self, image_url: Any) -> None:
        self._add("image_url_done", image_url.url)

    async def on_refusal_created(self, refusal: str) -> None:
        self._add("refusal_created", refusal)

    async def on_refusal_delta(self, delta: str, snapshot: str) -> None:
        self._add("refusal_delta", delta, snapshot)

    async def on_refusal_done(self, refusal: str) -> None:
        self._add("refusal_done", refusal)

    async def on_end(self) -> None:
        self._add("end")

    async def on_exception(self, exception: Exception) -> None:
        self._add("exception", type(exception).__name__)

    async def on_timeout(self) -> None:
        self._add("timeout")  # pragma: no cover - no test times out


class SdkRecorder(_Recording, AsyncAssistantEventHandler):
    """The official SDK's handler, recording."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = []


class OurRecorder(_Recording, streamrun.AsyncEventHandler):
    """streamrun's handler, recording the same hooks."""

    def __init__(self) -> None:
        self.calls = []


def only(calls: Iterable[tuple[Any, ...]], *names: str) -> list[tuple[Any, ...]]:
    """The recorded calls of the named hooks, in order."""
    return [c for c in calls if c[0] in names]


def ids_of(calls: Iterable[tuple[Any, ...]], *names: str) -> list[tuple[str, str]]:
    """``(hook, tool call id)`` for the tool-call hooks among ``calls``."""
    out = []
    for c in only(calls, *names):
        if c[0] == "tool_call_created":
            out.append((c[0], c[1]))
        elif c[0] == "tool_call_delta":
            out.append((c[0], c[2][0]))
        else:
            out.append((c[0], c[1][0]))
    return out


# ---------------------------------------------------------------------------
# Driving both clients


@attrs.define
class Outcome:
    """What one client made of a stream."""

    calls: list[tuple[Any, ...]]
    text_deltas: list[str] = attrs.field(factory=list)
    error: BaseException | None = None
    messages: list[Any] | None = None  # final messages (None: the call raised)
    run: Any = None  # final run (None: the call raised)
    steps: list[Any] | None = None  # final run steps (None: the call raised)
    current_run: Any = None
    current_message: Any = None
    current_step: Any = None


def _sdk_manager(
    client: openai.AsyncOpenAI, endpoint: str, handler: SdkRecorder, ids: Ids = (THREAD, RUN)
) -> Any:
    threads = client.beta.threads
    if endpoint == "submit_tool_outputs":
        return threads.runs.submit_tool_outputs_stream(
            thread_id=ids[0], run_id=ids[1], tool_outputs=TOOL_OUTPUTS, event_handler=handler
        )
    if endpoint == "create_thread_and_run":
        return threads.create_and_run_stream(
            assistant_id=ASSISTANT,
            thread={"messages": [{"role": "user", "content": "Hi"}]},
            event_handler=handler,
        )
    return threads.runs.stream(thread_id=THREAD, assistant_id=ASSISTANT, event_handler=handler)


def _our_stream(
    client: streamrun.AsyncClient, endpoint: str, handler: OurRecorder, ids: Ids = (THREAD, RUN)
) -> Any:
    if endpoint == "submit_tool_outputs":
        return client.runs.submit_tool_outputs_stream(
            *ids, tool_outputs=TOOL_OUTPUTS, handler=handler
        )
    if endpoint == "create_thread_and_run":
        return client.threads.create_and_run_stream(
            assistant_id=ASSISTANT,
            thread={"messages": [{"role": "user", "content": "Hi"}]},
            handler=handler,
        )
    return client.runs.stream(THREAD, assistant_id=ASSISTANT, handler=handler)


async def drive_sdk(server: ReplayServer, endpoint: str, ids: Ids = (THREAD, RUN)) -> Outcome:
    handler = SdkRecorder()
    out = Outcome(calls=handler.calls)
    client = openai.AsyncOpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0)
    try:
        async with _sdk_manager(client, endpoint, handler, ids) as stream:
            try:
                async for text in stream.text_deltas:
                    out.text_deltas.append(text)
            except Exception as exc:
                out.error = exc
            try:
                out.messages = await stream.get_final_messages()
            except RuntimeError:  # "No messages found"
                pass
            try:
                out.steps = await stream.get_final_run_steps()
            except RuntimeError:  # "No run steps found"
                pass
            out.run = stream.current_run
            out.current_run = stream.current_run
            out.current_message = stream.current_message_snapshot
            out.current_step = stream.current_run_step_snapshot
    finally:
        await client.close()
    return out


async def drive_ours(server: ReplayServer, endpoint: str, ids: Ids = (THREAD, RUN)) -> Outcome:
    handler = OurRecorder()
    out = Outcome(calls=handler.calls)
    async with streamrun.AsyncClient(
        base_url=server.base_url, api_key="sk-test", max_retries=0
    ) as client:
        async with _our_stream(client, endpoint, handler, ids) as stream:
            try:
                async for text in stream.text_deltas:
                    out.text_deltas.append(text)
            except streamrun.StreamrunError as exc:
                out.error = exc
            if out.error is None:
                out.messages = await stream.final_messages()
                out.steps = await stream.final_run_steps()
                out.run = await stream.final_run()
            out.current_run = stream.current_run
            out.current_message = stream.current_message_snapshot
            out.current_step = stream.current_run_step_snapshot
    return out


async def both(
    server: ReplayServer,
    raw: bytes,
    chunk_size: int,
    endpoint: str = "create_run",
    ids: Ids = (THREAD, RUN),
) -> tuple[Outcome, Outcome]:
    """Serve ``raw`` to the SDK, then to streamrun; both must send the same request."""
    server.replies.append(Reply(body=raw, chunk_size=chunk_size))
    server.replies.append(Reply(body=raw, chunk_size=chunk_size))
    sdk = await drive_sdk(server, endpoint, ids)
    ours = await drive_ours(server, endpoint, ids)
    assert len(server.requests) == 2
    sdk_request, our_request = server.requests
    assert our_request["method"] == sdk_request["method"] == "POST"
    assert our_request["path"] == sdk_request["path"]
    assert our_request["body"]["stream"] is sdk_request["body"]["stream"] is True
    return sdk, ours


# ---------------------------------------------------------------------------
# Reading a transcript independently of both libraries


def blocks(raw: bytes) -> list[tuple[str, Any]]:
    """``(event name, decoded data)`` of a transcript in the plain framing."""
    out = []
    for block in raw.decode().split("\n\n"):
        if not block.strip():
            continue
        name, data = "", ""
        for line in block.split("\n"):
            if line.startswith("event: "):
                name = line[len("event: ") :]
            elif line.startswith("data: "):
                data = line[len("data: ") :]
        out.append((name, data if data == "[DONE]" else json.loads(data)))
    return out


STEP_ENDS = {
    "thread.run.step.completed",
    "thread.run.step.failed",
    "thread.run.step.cancelled",
    "thread.run.step.expired",
}


def ended_steps(raw: bytes) -> list[dict[str, Any]]:
    """The ended step objects of a transcript, in the order they ended."""
    steps: dict[str, dict[str, Any]] = {}
    for name, data in blocks(raw):
        if name in STEP_ENDS:
            steps[data["id"]] = data
    return list(steps.values())


def created_steps(raw: bytes) -> list[dict[str, Any]]:
    return [data for name, data in blocks(raw) if name == "thread.run.step.created"]


def tool_fragments(raw: bytes) -> Counter[str]:
    """How many tool-call fragments the step deltas carry, per call id."""
    ids: dict[tuple[str, int], str] = {}
    counts: Counter[str] = Counter()
    for name, data in blocks(raw):
        if name != "thread.run.step.delta":
            continue
        details = data["delta"].get("step_details") or {}
        for entry in details.get("tool_calls") or ():
            key = (data["id"], entry["index"])
            if "id" in entry:
                ids[key] = entry["id"]
            counts[ids[key]] += 1
    return counts


def final_text_by_message(raw: bytes) -> dict[str, str]:
    texts = {}
    for name, data in blocks(raw):
        if name in ("thread.message.completed", "thread.message.incomplete"):
            texts[data["id"]] = "".join(
                p["text"]["value"] for p in data["content"] if p["type"] == "text"
            )
    return texts


# ---------------------------------------------------------------------------
# 1. The recorded transcripts

# Per transcript and tool call: (created, delta, done) counts of the SDK's hooks.
# streamrun's are always (1, number of fragments, 1).
SDK_TOOL_CALL_COUNTS: dict[str, dict[str, tuple[int, int, int]]] = {
    # First fragment lost; done again at the next step's end and at the run's end.
    "code_interpreter.sse": {"call_6SH8wFfayOt3mopqoOjVK7lR": (1, 47, 3)},
    "file_search_include.sse": {"call_finKjQF6v2GN63VQlkgK8ssn": (1, 0, 3)},
    # First fragment lost; done once, at requires_action.
    "function_requires_action.sse": {"call_7HStpy8qoVZlUqJdTWjxaVoj": (1, 12, 1)},
    # The step arrives completed: no tool-call hook at all.
    "submit_tool_outputs_continuation.sse": {"call_7HStpy8qoVZlUqJdTWjxaVoj": (0, 0, 0)},
}


def _counts(calls: list[tuple[Any, ...]], call_id: str) -> tuple[int, int, int]:
    seen = ids_of(calls, "tool_call_created", "tool_call_delta", "tool_call_done")
    return (
        seen.count(("tool_call_created", call_id)),
        seen.count(("tool_call_delta", call_id)),
        seen.count(("tool_call_done", call_id)),
    )


@pytest.mark.asyncio
@pytest.mark.parametrize("chunk_size", CHUNK_SIZES)
@pytest.mark.parametrize("name", sorted(FIXTURES))
async def test_transcript(replay_server: ReplayServer, name: str, chunk_size: int) -> None:
    raw = fixture_bytes(name)
    endpoint = FIXTURES[name]["request"]["endpoint"]
    sdk, ours = await both(replay_server, raw, chunk_size, endpoint, request_ids(name))
    names = [n for n in event_names(raw) if n != "done"]
    failed = "error" in names

    # on_event: the same names; the SDK sees `error` as a nameless event and
    # goes on, streamrun stops there (StreamError) without calling on_event.
    if failed:
        cut = names.index("error")
        assert only(ours.calls, "event") == [("event", n) for n in names[:cut]]
        assert only(sdk.calls, "event") == [("event", None if n == "error" else n) for n in names]
        assert isinstance(ours.error, streamrun.StreamError)
        assert sdk.error is None
        assert only(ours.calls, "exception") == [("exception", "StreamError")]
        assert only(sdk.calls, "exception") == []
    else:
        assert only(ours.calls, "event") == only(sdk.calls, "event")
        assert only(ours.calls, "event") == [("event", n) for n in names]
        assert ours.error is None and sdk.error is None
        # Both end once, with on_end last.
        assert ours.calls[-1] == sdk.calls[-1] == ("end",)
        assert only(ours.calls, "end", "exception") == [("end",)]
        assert only(sdk.calls, "end", "exception") == [("end",)]

    # Text: the same fragments, the same snapshot (value, annotations) after
    # each, the same created / done values, in the same order.
    assert ours.text_deltas == sdk.text_deltas
    text_hooks = ("text_created", "text_delta", "text_done")
    assert only(ours.calls, *text_hooks) == only(sdk.calls, *text_hooks)
    assert [c[1] for c in only(ours.calls, "text_delta")] == ours.text_deltas

    # Messages: created / done ids, final content.
    message_hooks = ("message_created", "message_delta", "message_done")
    assert only(ours.calls, *message_hooks) == only(sdk.calls, *message_hooks)
    finals = final_text_by_message(raw)
    done = only(ours.calls, "message_done")
    assert {c[1]: "".join(p[1] for p in c[3] if p[0] == "text") for c in done} == finals

    # The run.
    assert plain(ours.current_run) == plain(sdk.current_run)
    last_run = [d for n, d in blocks(raw) if n.startswith("thread.run.") and "object" in d]
    last_run = [d for d in last_run if d["object"] == "thread.run"]
    assert plain(ours.current_run) == _strip(last_run[-1])
    if failed:
        # streamrun's final_* re-raise the stream's error; the SDK returns the
        # in-progress snapshots as if the stream had ended.
        assert ours.run is None and ours.messages is None and ours.steps is None
        assert sdk.run is not None and sdk.run.status == "in_progress"
        assert sdk.messages is not None
        assert [plain(m) for m in sdk.messages] == [plain(ours.current_message)]
        assert ours.current_message.status == "in_progress"
    else:
        assert (ours.run.id, ours.run.status, _usage(ours.run.usage)) == (
            sdk.run.id,
            sdk.run.status,
            _usage(sdk.run.usage),
        )
        assert plain(ours.run) == plain(sdk.run)
        # Final messages: the completed objects on both sides.
        assert ours.messages is not None
        if sdk.messages is None:  # the SDK raises when there is none
            assert ours.messages == []
        else:
            assert [plain(m) for m in ours.messages] == [plain(m) for m in sdk.messages]
            assert [(m.id, m.role, m.status) for m in ours.messages] == [
                (m.id, m.role, m.status) for m in sdk.messages
            ]
            assert [tuple(map(_part, m.content)) for m in ours.messages] == [
                tuple(map(_part, m.content)) for m in sdk.messages
            ]

        # Final run steps: streamrun returns the ended step objects (final
        # status, usage); the SDK the step.created snapshots (+ deltas), never
        # ended, and misses steps first seen ended.
        assert ours.steps is not None
        assert [plain(s) for s in ours.steps] == [_strip(s) for s in ended_steps(raw)]
        if not ours.steps and sdk.steps:
            # A step that never ended: the snapshots agree.
            assert [plain(s) for s in sdk.steps] == [plain(ours.current_step)]
        created = created_steps(raw)
        if not created:
            assert sdk.steps is None  # "No run steps found"
        else:
            assert sdk.steps is not None
            assert [s.id for s in sdk.steps] == [s["id"] for s in created]
            assert {s.status for s in sdk.steps} == {"in_progress"}
            assert {s.usage for s in sdk.steps} == {None}

    # Steps: the same hooks, except for a step first seen completed, which
    # the SDK never announces.
    step_hooks = ("run_step_created", "run_step_done")
    ours_steps, sdk_steps = only(ours.calls, *step_hooks), only(sdk.calls, *step_hooks)
    if name == "submit_tool_outputs_continuation.sse":
        first = ours_steps[0]
        assert first[0] == "run_step_created" and first[2] == "completed"
        assert ours_steps[1:] == sdk_steps
    else:
        assert ours_steps == sdk_steps

    # Tool calls: streamrun announces and ends each call once and passes every
    # fragment; the SDK shows its single-current-index bugs.
    fragments = tool_fragments(raw)
    sdk_counts = SDK_TOOL_CALL_COUNTS.get(name, {})
    tool_ids = {c[1] for c in only(ours.calls, "tool_call_created")} | set(sdk_counts)
    for call_id in tool_ids:
        assert _counts(ours.calls, call_id) == (1, fragments[call_id], 1)
        assert _counts(sdk.calls, call_id) == sdk_counts[call_id]
    tool_hooks = ("tool_call_created", "tool_call_delta", "tool_call_done")
    if not tool_ids:
        assert only(ours.calls, *tool_hooks) == only(sdk.calls, *tool_hooks) == []


@pytest.mark.asyncio
async def test_tool_call_done_carries_the_completed_call(replay_server: ReplayServer) -> None:
    """streamrun's on_tool_call_done has the completed step's call (outputs and
    all); the SDK's has its delta snapshot, also when it repeats it at the run's end."""
    raw = fixture_bytes("code_interpreter.sse")
    sdk, ours = await both(replay_server, raw, 4096)
    completed = next(d for n, d in blocks(raw) if n == "thread.run.step.completed")
    final_call = completed["step_details"]["tool_calls"][0]
    expected = (
        final_call["id"],
        "code_interpreter",
        final_call["code_interpreter"]["input"],
        tuple(
            ("logs", o["logs"]) if o["type"] == "logs" else ("image", o["image"]["file_id"])
            for o in final_call["code_interpreter"]["outputs"]
        ),
    )
    assert only(ours.calls, "tool_call_done") == [("tool_call_done", expected)]
    # The SDK's accumulated snapshot happens to hold the same content here; it
    # repeats the done at the answer step's end and at the run's end.
    assert only(sdk.calls, "tool_call_done") == [("tool_call_done", expected)] * 3
    # Every fragment's snapshot: the SDK's equal streamrun's, minus the first.
    ours_deltas = only(ours.calls, "tool_call_delta")
    assert only(sdk.calls, "tool_call_delta") == ours_deltas[1:]
    assert ours_deltas[-1][2] == expected


# ---------------------------------------------------------------------------
# 2. Generated streams


def _run(status: str, **fields: Any) -> dict[str, Any]:
    run: dict[str, Any] = {
        "id": RUN,
        "object": "thread.run",
        "created_at": 1749219760,
        "assistant_id": ASSISTANT,
        "thread_id": THREAD,
        "status": status,
        "started_at": None if status == "queued" else 1749219761,
        "expires_at": 1749220360,
        "cancelled_at": None,
        "failed_at": None,
        "completed_at": None,
        "required_action": None,
        "last_error": None,
        "model": "gpt-4o-2024-08-06",
        "instructions": "You are a helpful assistant.",
        "tools": [
            {"type": "code_interpreter"},
            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "description": "Weather in a city",
                    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
                    "strict": False,
                },
            },
        ],
        "metadata": {},
        "temperature": 1.0,
        "top_p": 1.0,
        "max_completion_tokens": None,
        "max_prompt_tokens": None,
        "truncation_strategy": {"type": "auto", "last_messages": None},
        "incomplete_details": None,
        "usage": None,
        "response_format": "auto",
        "tool_choice": "auto",
        "parallel_tool_calls": True,
    }
    run.update(fields)
    return run


def _step(step_id: str, status: str, details: dict[str, Any], **fields: Any) -> dict[str, Any]:
    step: dict[str, Any] = {
        "id": step_id,
        "object": "thread.run.step",
        "created_at": 1749219761,
        "run_id": RUN,
        "assistant_id": ASSISTANT,
        "thread_id": THREAD,
        "type": details["type"],
        "status": status,
        "cancelled_at": None,
        "completed_at": 1749219763 if status == "completed" else None,
        "expires_at": 1749220360,
        "failed_at": None,
        "last_error": None,
        "step_details": details,
        "usage": None,
    }
    step.update(fields)
    return step


def _message(msg_id: str, status: str, content: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": msg_id,
        "object": "thread.message",
        "created_at": 1749219762,
        "assistant_id": ASSISTANT,
        "thread_id": THREAD,
        "run_id": RUN,
        "status": status,
        "incomplete_details": None,
        "incomplete_at": None,
        "completed_at": 1749219763 if status == "completed" else None,
        "role": "assistant",
        "content": content,
        "attachments": [],
        "metadata": {},
    }


def _usage_json(prompt: int, completion: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _text_part(value: str, annotations: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"type": "text", "text": {"value": value, "annotations": annotations or []}}


class Transcript:
    """Builds a run stream in the wire framing (``event:`` + one ``data:`` line)."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def emit(self, event: str, data: Any, *, ascii: bool = False) -> None:
        text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=ascii)
        self.parts.append(f"event: {event}\ndata: {text}\n\n".encode())

    def run_start(self) -> None:
        self.emit("thread.run.created", _run("queued"))
        self.emit("thread.run.queued", _run("queued"))
        self.emit("thread.run.in_progress", _run("in_progress"))

    def run_end(self, status: str = "completed", **fields: Any) -> None:
        fields.setdefault("usage", _usage_json(900, 120))
        fields.setdefault("expires_at", None)
        if status == "completed":
            fields.setdefault("completed_at", 1749219764)
        self.emit(f"thread.run.{status}", _run(status, **fields))

    def step_start(self, step_id: str, details: dict[str, Any]) -> None:
        self.emit("thread.run.step.created", _step(step_id, "in_progress", details))
        self.emit("thread.run.step.in_progress", _step(step_id, "in_progress", details))

    def step_end(self, step_id: str, details: dict[str, Any], usage: dict[str, int]) -> None:
        self.emit(
            "thread.run.step.completed",
            _step(step_id, "completed", details, usage=usage, expires_at=None),
        )

    def tool_delta(self, step_id: str, *entries: dict[str, Any]) -> None:
        self.emit(
            "thread.run.step.delta",
            {
                "id": step_id,
                "object": "thread.run.step.delta",
                "delta": {"step_details": {"type": "tool_calls", "tool_calls": list(entries)}},
            },
        )

    def message_start(self, msg_id: str) -> None:
        self.emit("thread.message.created", _message(msg_id, "in_progress", []))
        self.emit("thread.message.in_progress", _message(msg_id, "in_progress", []))

    def message_delta(self, msg_id: str, *entries: dict[str, Any], ascii: bool = False) -> None:
        self.emit(
            "thread.message.delta",
            {"id": msg_id, "object": "thread.message.delta", "delta": {"content": list(entries)}},
            ascii=ascii,
        )

    def text(self, msg_id: str, index: int, fragments: list[str]) -> None:
        """One delta per fragment; the first carries ``annotations: []``."""
        for k, fragment in enumerate(fragments):
            text: dict[str, Any] = {"value": fragment}
            if k == 0:
                text["annotations"] = []
            self.message_delta(msg_id, {"index": index, "type": "text", "text": text})

    def message_end(self, msg_id: str, content: list[dict[str, Any]]) -> None:
        self.emit("thread.message.completed", _message(msg_id, "completed", content))

    def message_step(self, step_id: str, msg_id: str, content: list[dict[str, Any]]) -> None:
        """A message_creation step with one message streamed as its text parts."""
        details = {"type": "message_creation", "message_creation": {"message_id": msg_id}}
        self.step_start(step_id, details)
        self.message_start(msg_id)
        for index, part in enumerate(content):
            value = part["text"]["value"]
            self.text(msg_id, index, [value[i : i + 4] for i in range(0, len(value), 4)])
        self.message_end(msg_id, content)
        self.step_end(step_id, details, _usage_json(400, 20))

    def done(self) -> bytes:
        self.emit("done", "[DONE]")
        return b"".join(self.parts)


def _fn_first(index: int, call_id: str, name: str) -> dict[str, Any]:
    return {
        "index": index,
        "id": call_id,
        "type": "function",
        "function": {"name": name, "arguments": "", "output": None},
    }


def _fn_more(index: int, arguments: str) -> dict[str, Any]:
    return {"index": index, "type": "function", "function": {"arguments": arguments}}


def _fn_call(call_id: str, name: str, arguments: str, output: str | None) -> dict[str, Any]:
    return {
        "id": call_id,
        "type": "function",
        "function": {"name": name, "arguments": arguments, "output": output},
    }


PARALLEL_ARGS = {"call_a": '{"city":"Paris"}', "call_b": '{"city":"Oslo"}'}


def parallel_calls_stream() -> bytes:
    """Two parallel function calls whose fragments interleave; the last delta
    carries fragments of both indices; the run then requires action."""
    t = Transcript()
    t.run_start()
    details = {"type": "tool_calls", "tool_calls": []}
    t.step_start("step_tools", details)
    t.tool_delta("step_tools", _fn_first(0, "call_a", "get_weather"))
    t.tool_delta("step_tools", _fn_first(1, "call_b", "get_weather"))
    t.tool_delta("step_tools", _fn_more(0, '{"city"'))
    t.tool_delta("step_tools", _fn_more(1, '{"city"'))
    t.tool_delta("step_tools", _fn_more(0, ':"Paris"}'), _fn_more(1, ':"Oslo"}'))
    required = {
        "type": "submit_tool_outputs",
        "submit_tool_outputs": {
            "tool_calls": [
                {
                    "id": cid,
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": args},
                }
                for cid, args in PARALLEL_ARGS.items()
            ]
        },
    }
    t.emit("thread.run.requires_action", _run("requires_action", required_action=required))
    return t.done()


def parallel_continuation_stream() -> bytes:
    """The submit_tool_outputs continuation: the tool step arrives completed."""
    t = Transcript()
    calls = [
        _fn_call(cid, "get_weather", args, f"sunny in {cid}") for cid, args in PARALLEL_ARGS.items()
    ]
    details = {"type": "tool_calls", "tool_calls": calls}
    t.step_end("step_tools", details, _usage_json(300, 30))
    t.emit("thread.run.queued", _run("queued"))
    t.emit("thread.run.in_progress", _run("in_progress"))
    t.message_step("step_answer", "msg_answer", [_text_part("Sunny in both cities.")])
    t.run_end()
    return t.done()


CI_INPUT = ["import math", "\nprint(", "math.pi)"]
CI_LOGS = ["3.14", "159", "26\n"]


def two_tool_steps_stream() -> bytes:
    """Two code_interpreter steps, each with its call at index 0 (logs streamed
    in fragments, an image output), then an answer."""
    t = Transcript()
    t.run_start()
    for step_id, call_id, image in (
        ("step_ci_1", "call_ci_1", "file-plot-1"),
        ("step_ci_2", "call_ci_2", "file-plot-2"),
    ):
        t.step_start(step_id, {"type": "tool_calls", "tool_calls": []})
        t.tool_delta(
            step_id,
            {
                "index": 0,
                "id": call_id,
                "type": "code_interpreter",
                "code_interpreter": {"input": "", "outputs": []},
            },
        )
        for fragment in CI_INPUT:
            t.tool_delta(
                step_id,
                {"index": 0, "type": "code_interpreter", "code_interpreter": {"input": fragment}},
            )
        for fragment in CI_LOGS:
            t.tool_delta(
                step_id,
                {
                    "index": 0,
                    "type": "code_interpreter",
                    "code_interpreter": {
                        "outputs": [{"index": 0, "type": "logs", "logs": fragment}]
                    },
                },
            )
        t.tool_delta(
            step_id,
            {
                "index": 0,
                "type": "code_interpreter",
                "code_interpreter": {
                    "outputs": [{"index": 1, "type": "image", "image": {"file_id": image}}]
                },
            },
        )
        final = {
            "id": call_id,
            "type": "code_interpreter",
            "code_interpreter": {
                "input": "".join(CI_INPUT),
                "outputs": [
                    {"type": "logs", "logs": "".join(CI_LOGS)},
                    {"type": "image", "image": {"file_id": image}},
                ],
            },
        }
        t.step_end(step_id, {"type": "tool_calls", "tool_calls": [final]}, _usage_json(500, 50))
    t.message_step("step_answer", "msg_answer", [_text_part("Pi is about 3.1415926.")])
    t.run_end()
    return t.done()


def two_messages_stream() -> bytes:
    """Two messages in one run, each one text part."""
    t = Transcript()
    t.run_start()
    t.message_step("step_m1", "msg_1", [_text_part("First, the overview.")])
    t.message_step("step_m2", "msg_2", [_text_part("Second, the details follow.")])
    t.run_end()
    return t.done()


MULTI_PART = [
    _text_part("Here is the chart:"),
    {"type": "image_file", "image_file": {"file_id": "file-chart"}},
    _text_part("It rises."),
]


def multi_part_stream() -> bytes:
    """A message with text, image_file and text parts, then a second message."""
    t = Transcript()
    t.run_start()
    details = {"type": "message_creation", "message_creation": {"message_id": "msg_parts"}}
    t.step_start("step_parts", details)
    t.message_start("msg_parts")
    t.text("msg_parts", 0, ["Here is", " the chart:"])
    t.message_delta(
        "msg_parts", {"index": 1, "type": "image_file", "image_file": {"file_id": "file-chart"}}
    )
    t.text("msg_parts", 2, ["It", " rises."])
    t.message_end("msg_parts", MULTI_PART)
    t.step_end("step_parts", details, _usage_json(400, 20))
    t.message_step("step_next", "msg_next", [_text_part("Anything else?")])
    t.run_end()
    return t.done()


CITATION = "【4:0†source】"
SANDBOX = "sandbox:/mnt/data/out.csv"


def annotations_stream() -> bytes:
    """Text whose fragments complete a file_citation and a file_path annotation."""
    head = "The policy says 25 days"
    middle = ". Download "
    value = head + CITATION + middle + SANDBOX + "."
    citation = {
        "type": "file_citation",
        "text": CITATION,
        "start_index": len(head),
        "end_index": len(head) + len(CITATION),
        "file_citation": {"file_id": "file-policy"},
    }
    start = len(head) + len(CITATION) + len(middle)
    path = {
        "type": "file_path",
        "text": SANDBOX,
        "start_index": start,
        "end_index": start + len(SANDBOX),
        "file_path": {"file_id": "file-out"},
    }
    t = Transcript()
    t.run_start()
    details = {"type": "message_creation", "message_creation": {"message_id": "msg_ann"}}
    t.step_start("step_ann", details)
    t.message_start("msg_ann")
    t.text("msg_ann", 0, ["The policy", " says 25 days"])
    t.message_delta(
        "msg_ann",
        {
            "index": 0,
            "type": "text",
            "text": {"value": CITATION, "annotations": [{"index": 0, **citation}]},
        },
    )
    t.message_delta("msg_ann", {"index": 0, "type": "text", "text": {"value": middle}})
    t.message_delta(
        "msg_ann",
        {
            "index": 0,
            "type": "text",
            "text": {"value": SANDBOX, "annotations": [{"index": 1, **path}]},
        },
    )
    t.message_delta("msg_ann", {"index": 0, "type": "text", "text": {"value": "."}})
    t.message_end("msg_ann", [_text_part(value, [citation, path])])
    t.step_end("step_ann", details, _usage_json(400, 20))
    t.run_end()
    return t.done()


FAMILY = "\U0001f469\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"
UNICODE_FRAGMENTS = [
    "Grüße, ",
    "\U0001f469",
    "\u200d\U0001f469",
    "\u200d\U0001f467",
    "\u200d\U0001f466",
    " — 日本",
    "語 ",
    "\U0001f3f3\ufe0f",
    "\u200d\U0001f308",
    " naïve ✓",
]


def unicode_stream() -> bytes:
    """Multi-byte text, emoji ZWJ sequences split across deltas; every other
    delta's JSON uses \\u escapes (surrogate pairs) instead of raw UTF-8."""
    value = "".join(UNICODE_FRAGMENTS)
    t = Transcript()
    t.run_start()
    details = {"type": "message_creation", "message_creation": {"message_id": "msg_uni"}}
    t.step_start("step_uni", details)
    t.message_start("msg_uni")
    for k, fragment in enumerate(UNICODE_FRAGMENTS):
        text: dict[str, Any] = {"value": fragment}
        if k == 0:
            text["annotations"] = []
        t.message_delta("msg_uni", {"index": 0, "type": "text", "text": text}, ascii=k % 2 == 1)
    t.message_end("msg_uni", [_text_part(value)])
    t.step_end("step_uni", details, _usage_json(400, 20))
    t.run_end()
    return t.done()


def same_index_twice_stream() -> bytes:
    """One step delta and one message delta each carrying two fragments of the
    same index."""
    t = Transcript()
    t.run_start()
    t.step_start("step_ci", {"type": "tool_calls", "tool_calls": []})
    t.tool_delta(
        "step_ci",
        {
            "index": 0,
            "id": "call_ci",
            "type": "code_interpreter",
            "code_interpreter": {"input": "", "outputs": []},
        },
    )
    t.tool_delta(
        "step_ci",
        {"index": 0, "type": "code_interpreter", "code_interpreter": {"input": "print("}},
        {"index": 0, "type": "code_interpreter", "code_interpreter": {"input": "1)"}},
    )
    final = {
        "id": "call_ci",
        "type": "code_interpreter",
        "code_interpreter": {"input": "print(1)", "outputs": [{"type": "logs", "logs": "1\n"}]},
    }
    t.step_end("step_ci", {"type": "tool_calls", "tool_calls": [final]}, _usage_json(500, 50))
    details = {"type": "message_creation", "message_creation": {"message_id": "msg_two"}}
    t.step_start("step_two", details)
    t.message_start("msg_two")
    t.message_delta(
        "msg_two",
        {"index": 0, "type": "text", "text": {"value": "Hel", "annotations": []}},
        {"index": 0, "type": "text", "text": {"value": "lo"}},
    )
    t.text("msg_two", 0, [" there"])
    t.message_end("msg_two", [_text_part("Hello there")])
    t.step_end("step_two", details, _usage_json(400, 20))
    t.run_end()
    return t.done()


REFUSAL = "I can't help with that."
IMAGE_URL = "https://example.com/cat.png"


def refusal_stream() -> bytes:
    """A message with a streamed refusal, an image_url part and a text part."""
    t = Transcript()
    t.run_start()
    details = {"type": "message_creation", "message_creation": {"message_id": "msg_ref"}}
    t.step_start("step_ref", details)
    t.message_start("msg_ref")
    t.message_delta("msg_ref", {"index": 0, "type": "refusal", "refusal": "I can't"})
    t.message_delta("msg_ref", {"index": 0, "type": "refusal", "refusal": " help with that."})
    t.message_delta(
        "msg_ref",
        {"index": 1, "type": "image_url", "image_url": {"url": IMAGE_URL, "detail": "low"}},
    )
    t.text("msg_ref", 2, ["Here", " instead."])
    content: list[dict[str, Any]] = [
        {"type": "refusal", "refusal": REFUSAL},
        {"type": "image_url", "image_url": {"url": IMAGE_URL, "detail": "low"}},
        _text_part("Here instead."),
    ]
    t.message_end("msg_ref", content)
    t.step_end("step_ref", details, _usage_json(400, 20))
    t.run_end()
    return t.done()


ERROR_BARE = {
    "message": "The server had an error.",
    "type": "server_error",
    "param": None,
    "code": "server_error",
}


def error_stream(data: dict[str, Any]) -> bytes:
    """An answer cut by an ``error`` event, then ``done``."""
    t = Transcript()
    t.run_start()
    details = {"type": "message_creation", "message_creation": {"message_id": "msg_err"}}
    t.step_start("step_err", details)
    t.message_start("msg_err")
    t.text("msg_err", 0, ["Partial", " answer"])
    t.emit("error", data)
    return t.done()


def _steps_of(outcome: Outcome) -> list[tuple[str, str, Any]]:
    assert outcome.steps is not None
    return [(s.id, s.status, _usage(s.usage)) for s in outcome.steps]


def assert_text_and_finals_agree(sdk: Outcome, ours: Outcome) -> None:
    """The checks that hold wherever the SDK's text handling is right."""
    assert ours.error is None and sdk.error is None
    assert only(ours.calls, "event") == only(sdk.calls, "event")
    assert ours.text_deltas == sdk.text_deltas
    assert only(ours.calls, "text_delta") == only(sdk.calls, "text_delta")
    hooks = ("message_created", "message_delta", "message_done")
    assert only(ours.calls, *hooks) == only(sdk.calls, *hooks)
    assert ours.messages is not None and sdk.messages is not None
    assert [plain(m) for m in ours.messages] == [plain(m) for m in sdk.messages]
    assert plain(ours.run) == plain(sdk.run)
    assert plain(ours.current_run) == plain(sdk.current_run)


@pytest.mark.asyncio
@pytest.mark.parametrize("chunk_size", CHUNK_SIZES)
async def test_parallel_function_calls(replay_server: ReplayServer, chunk_size: int) -> None:
    raw = parallel_calls_stream()
    sdk, ours = await both(replay_server, raw, chunk_size)
    assert only(ours.calls, "event") == only(sdk.calls, "event")
    tool_hooks = ("tool_call_created", "tool_call_delta", "tool_call_done")
    a, b = "call_a", "call_b"

    def fn(cid: str, args: str) -> tuple[Any, ...]:
        return (cid, "function", "get_weather", args, None)

    # streamrun: once created and once done per call; every fragment, the
    # first ones and both of the two-index delta included, in wire order;
    # done when requires_action lists the calls, in the listed order.
    assert only(ours.calls, *tool_hooks) == [
        ("tool_call_created", a, "function"),
        ("tool_call_delta", 0, fn(a, "")),
        ("tool_call_created", b, "function"),
        ("tool_call_delta", 1, fn(b, "")),
        ("tool_call_delta", 0, fn(a, '{"city"')),
        ("tool_call_delta", 1, fn(b, '{"city"')),
        ("tool_call_delta", 0, fn(a, PARALLEL_ARGS[a])),
        ("tool_call_delta", 1, fn(b, PARALLEL_ARGS[b])),
        ("tool_call_done", fn(a, PARALLEL_ARGS[a])),
        ("tool_call_done", fn(b, PARALLEL_ARGS[b])),
    ]
    # The SDK: created / done at every index change, no fragment reaches
    # on_tool_call_delta, and calls are "done" with partial arguments.
    assert only(sdk.calls, *tool_hooks) == [
        ("tool_call_created", a, "function"),
        ("tool_call_done", fn(a, "")),
        ("tool_call_created", b, "function"),
        ("tool_call_done", fn(b, "")),
        ("tool_call_created", a, "function"),
        ("tool_call_done", fn(a, '{"city"')),
        ("tool_call_created", b, "function"),
        ("tool_call_done", fn(b, '{"city"')),
        ("tool_call_created", a, "function"),
        ("tool_call_done", fn(a, PARALLEL_ARGS[a])),
        ("tool_call_created", b, "function"),
        ("tool_call_done", fn(b, PARALLEL_ARGS[b])),
    ]
    # The step snapshot is the same on both sides; the run requires action.
    assert only(ours.calls, "run_step_delta") == only(sdk.calls, "run_step_delta")
    assert ours.run.status == sdk.run.status == "requires_action"
    assert plain(ours.run) == plain(sdk.run)
    # The step never ended: it is not among streamrun's final steps (the SDK
    # lists its snapshot); both current step snapshots hold the full calls.
    assert ours.steps == []
    assert sdk.steps is not None and [plain(s) for s in sdk.steps] == [plain(ours.current_step)]
    assert plain(ours.current_step) == plain(sdk.current_step)
    details = ours.current_step.step_details
    assert [_call(c) for c in details.tool_calls] == [
        fn(cid, args) for cid, args in PARALLEL_ARGS.items()
    ]
    assert ours.messages == [] and sdk.messages is None


@pytest.mark.asyncio
@pytest.mark.parametrize("chunk_size", CHUNK_SIZES)
async def test_continuation_starting_with_step_completed(
    replay_server: ReplayServer, chunk_size: int
) -> None:
    raw = parallel_continuation_stream()
    sdk, ours = await both(replay_server, raw, chunk_size, "submit_tool_outputs")
    assert_text_and_finals_agree(sdk, ours)
    calls = [
        ("call_a", "function", "get_weather", PARALLEL_ARGS["call_a"], "sunny in call_a"),
        ("call_b", "function", "get_weather", PARALLEL_ARGS["call_b"], "sunny in call_b"),
    ]
    hooks = ("run_step_created", "run_step_done", "tool_call_created", "tool_call_done")
    tools_usage = (300, 30, 330)
    answer_usage = (400, 20, 420)
    # streamrun announces the step first seen completed and its calls.
    assert only(ours.calls, *hooks) == [
        ("run_step_created", "step_tools", "completed"),
        ("tool_call_created", "call_a", "function"),
        ("tool_call_done", calls[0]),
        ("tool_call_created", "call_b", "function"),
        ("tool_call_done", calls[1]),
        ("run_step_done", "step_tools", "completed", tools_usage),
        ("run_step_created", "step_answer", "in_progress"),
        ("run_step_done", "step_answer", "completed", answer_usage),
    ]
    # The SDK: the step is only "done", its calls never appear.
    assert only(sdk.calls, *hooks) == [
        ("run_step_done", "step_tools", "completed", tools_usage),
        ("run_step_created", "step_answer", "in_progress"),
        ("run_step_done", "step_answer", "completed", answer_usage),
    ]
    assert _steps_of(ours) == [
        ("step_tools", "completed", tools_usage),
        ("step_answer", "completed", answer_usage),
    ]
    assert _steps_of(sdk) == [("step_answer", "in_progress", None)]
    assert [plain(s) for s in ours.steps or ()] == [_strip(s) for s in ended_steps(raw)]


@pytest.mark.asyncio
@pytest.mark.parametrize("chunk_size", CHUNK_SIZES)
async def test_two_tool_steps_with_index_zero(replay_server: ReplayServer, chunk_size: int) -> None:
    raw = two_tool_steps_stream()
    sdk, ours = await both(replay_server, raw, chunk_size)
    assert_text_and_finals_agree(sdk, ours)

    def ci(call_id: str, code: str, outputs: tuple[Any, ...]) -> tuple[Any, ...]:
        return (call_id, "code_interpreter", code, outputs)

    def step_calls(call_id: str, image: str) -> list[tuple[Any, ...]]:
        """streamrun's hooks for one step's call: every fragment's snapshot."""
        seq: list[tuple[Any, ...]] = [("tool_call_created", call_id, "code_interpreter")]
        code = ""
        seq.append(("tool_call_delta", 0, ci(call_id, code, ())))
        for fragment in CI_INPUT:
            code += fragment
            seq.append(("tool_call_delta", 0, ci(call_id, code, ())))
        logs = ""
        for fragment in CI_LOGS:
            logs += fragment
            seq.append(("tool_call_delta", 0, ci(call_id, code, (("logs", logs),))))
        full = ci(call_id, code, (("logs", logs), ("image", image)))
        seq.append(("tool_call_delta", 0, full))
        seq.append(("tool_call_done", full))
        return seq

    first = step_calls("call_ci_1", "file-plot-1")
    second = step_calls("call_ci_2", "file-plot-2")
    tool_hooks = ("tool_call_created", "tool_call_delta", "tool_call_done")
    assert only(ours.calls, *tool_hooks) == first + second
    # The SDK: the first fragment of the first call is lost; the second step's
    # call (index 0 again) is never created, its first fragment is a delta; its
    # done repeats at the answer step's end and at the run's end.
    assert only(sdk.calls, *tool_hooks) == [
        first[0],
        *first[2:],
        *second[1:],
        second[-1],
        second[-1],
    ]
    step_hooks = ("run_step_created", "run_step_done")
    assert only(ours.calls, *step_hooks) == only(sdk.calls, *step_hooks)
    assert _steps_of(ours) == [
        ("step_ci_1", "completed", (500, 50, 550)),
        ("step_ci_2", "completed", (500, 50, 550)),
        ("step_answer", "completed", (400, 20, 420)),
    ]
    assert _steps_of(sdk) == [
        ("step_ci_1", "in_progress", None),
        ("step_ci_2", "in_progress", None),
        ("step_answer", "in_progress", None),
    ]
    # The SDK's accumulated step snapshots match streamrun's completed calls.
    assert sdk.steps is not None and ours.steps is not None
    for sdk_step, our_step in zip(sdk.steps[:2], ours.steps[:2], strict=True):
        assert plain(sdk_step.step_details) == plain(our_step.step_details)


@pytest.mark.asyncio
@pytest.mark.parametrize("chunk_size", CHUNK_SIZES)
async def test_two_messages(replay_server: ReplayServer, chunk_size: int) -> None:
    raw = two_messages_stream()
    sdk, ours = await both(replay_server, raw, chunk_size)
    assert_text_and_finals_agree(sdk, ours)
    # One text part per message: the SDK's text hooks are right here too.
    text_hooks = ("text_created", "text_delta", "text_done", "message_done")
    assert only(ours.calls, *text_hooks) == only(sdk.calls, *text_hooks)
    assert [m.text for m in ours.messages or ()] == [
        "First, the overview.",
        "Second, the details follow.",
    ]
    assert only(ours.calls, "text_done") == [
        ("text_done", "First, the overview.", ()),
        ("text_done", "Second, the details follow.", ()),
    ]


@pytest.mark.asyncio
@pytest.mark.parametrize("chunk_size", CHUNK_SIZES)
async def test_message_with_several_parts(replay_server: ReplayServer, chunk_size: int) -> None:
    raw = multi_part_stream()
    sdk, ours = await both(replay_server, raw, chunk_size)
    assert_text_and_finals_agree(sdk, ours)
    hooks = ("text_created", "text_done", "image_file_done", "message_created", "message_done")
    parts = (
        ("text", "Here is the chart:", ()),
        ("image_file", "file-chart"),
        ("text", "It rises.", ()),
    )
    # streamrun: a part's done before the next part's created; never a done
    # for a part of an earlier message.
    assert only(ours.calls, *hooks) == [
        ("message_created", "msg_parts"),
        ("text_created", "Here is"),
        ("text_done", "Here is the chart:", ()),
        ("image_file_done", "file-chart"),
        ("text_created", "It"),
        ("text_done", "It rises.", ()),
        ("message_done", "msg_parts", "completed", parts),
        ("message_created", "msg_next"),
        ("text_created", "Anyt"),
        ("text_done", "Anything else?", ()),
        ("message_done", "msg_next", "completed", (("text", "Anything else?", ()),)),
    ]
    # The SDK: the previous part's done after the next part's created; the
    # last part of the first message is "done" again inside the second one.
    assert only(sdk.calls, *hooks) == [
        ("message_created", "msg_parts"),
        ("text_created", "Here is"),
        ("text_done", "Here is the chart:", ()),
        ("text_created", "It"),
        ("image_file_done", "file-chart"),
        ("text_done", "It rises.", ()),
        ("message_done", "msg_parts", "completed", parts),
        ("message_created", "msg_next"),
        ("text_created", "Anyt"),
        ("text_done", "It rises.", ()),
        ("text_done", "Anything else?", ()),
        ("message_done", "msg_next", "completed", (("text", "Anything else?", ()),)),
    ]
    # The SDK's order, relative to the deltas: done(image) after the new
    # part's first delta; streamrun's before the new part's created.
    ours_seq = only(ours.calls, "text_created", "text_delta", "image_file_done")
    sdk_seq = only(sdk.calls, "text_created", "text_delta", "image_file_done")
    k = ours_seq.index(("image_file_done", "file-chart"))
    assert ours_seq[k + 1] == ("text_created", "It")
    j = sdk_seq.index(("image_file_done", "file-chart"))
    assert sdk_seq[j - 2 : j] == [("text_created", "It"), ("text_delta", "It", "It", ())]


@pytest.mark.asyncio
@pytest.mark.parametrize("chunk_size", CHUNK_SIZES)
async def test_text_with_annotations(replay_server: ReplayServer, chunk_size: int) -> None:
    raw = annotations_stream()
    sdk, ours = await both(replay_server, raw, chunk_size)
    assert_text_and_finals_agree(sdk, ours)
    text_hooks = ("text_created", "text_delta", "text_done")
    assert only(ours.calls, *text_hooks) == only(sdk.calls, *text_hooks)
    deltas = only(ours.calls, "text_delta")
    # The citation arrives with the fragment that completes its text.
    value, annotations = deltas[2][2], deltas[2][3]
    assert value.endswith(CITATION)
    assert annotations == (("file_citation", CITATION, 23, 23 + len(CITATION), "file-policy"),)
    assert value[annotations[0][2] : annotations[0][3]] == CITATION
    final = only(ours.calls, "text_done")[0]
    assert [a[0] for a in final[2]] == ["file_citation", "file_path"]
    assert final[1][final[2][1][2] : final[2][1][3]] == SANDBOX
    assert deltas[-1][2:] == final[1:]


@pytest.mark.asyncio
@pytest.mark.parametrize("chunk_size", CHUNK_SIZES)
async def test_unicode_split_across_deltas_and_chunks(
    replay_server: ReplayServer, chunk_size: int
) -> None:
    raw = unicode_stream()
    sdk, ours = await both(replay_server, raw, chunk_size)
    assert_text_and_finals_agree(sdk, ours)
    text_hooks = ("text_created", "text_delta", "text_done")
    assert only(ours.calls, *text_hooks) == only(sdk.calls, *text_hooks)
    assert ours.text_deltas == UNICODE_FRAGMENTS
    value = "".join(UNICODE_FRAGMENTS)
    assert only(ours.calls, "text_done") == [("text_done", value, ())]
    assert FAMILY in value and ours.messages is not None
    assert ours.messages[0].text == value


@pytest.mark.asyncio
@pytest.mark.parametrize("chunk_size", CHUNK_SIZES)
async def test_refusal_and_image_url(replay_server: ReplayServer, chunk_size: int) -> None:
    raw = refusal_stream()
    sdk, ours = await both(replay_server, raw, chunk_size)
    assert_text_and_finals_agree(sdk, ours)
    hooks = (
        "refusal_created",
        "refusal_delta",
        "refusal_done",
        "image_url_done",
        "text_created",
        "text_delta",
        "text_done",
    )
    text_calls = [
        ("text_created", "Here"),
        ("text_delta", "Here", "Here", ()),
        ("text_delta", " instead.", "Here instead.", ()),
        ("text_done", "Here instead.", ()),
    ]
    assert only(ours.calls, *hooks) == [
        ("refusal_created", ""),
        ("refusal_delta", "I can't", "I can't"),
        ("refusal_delta", " help with that.", REFUSAL),
        ("refusal_done", REFUSAL),
        ("image_url_done", IMAGE_URL),
        *text_calls,
    ]
    # The SDK has no hook for refusals or image_url parts.
    assert only(sdk.calls, *hooks) == text_calls
    assert ours.messages is not None
    assert [_part(p) for p in ours.messages[0].content] == [
        ("refusal", REFUSAL),
        ("image_url", IMAGE_URL),
        ("text", "Here instead.", ()),
    ]


@pytest.mark.asyncio
@pytest.mark.parametrize("chunk_size", CHUNK_SIZES)
async def test_error_event_bare_shape(replay_server: ReplayServer, chunk_size: int) -> None:
    raw = error_stream(ERROR_BARE)
    sdk, ours = await both(replay_server, raw, chunk_size)
    names = [n for n in event_names(raw) if n != "done"]
    # streamrun raises StreamError after delivering everything before it.
    assert isinstance(ours.error, streamrun.StreamError)
    assert (ours.error.message, ours.error.type, ours.error.code) == (
        "The server had an error.",
        "server_error",
        "server_error",
    )
    assert ours.error.run_id == RUN
    assert only(ours.calls, "event") == [("event", n) for n in names[:-1]]
    assert only(ours.calls, "exception") == [("exception", "StreamError")]
    # The SDK ignores it: a nameless event, no exception, the stream "ends".
    assert sdk.error is None
    assert only(sdk.calls, "event") == [("event", n) for n in names[:-1]] + [("event", None)]
    assert only(sdk.calls, "exception") == []
    assert sdk.calls[-1] == ("end",)
    assert sdk.run is not None and sdk.run.status == "in_progress"
    # Both saw the same text up to the error.
    assert ours.text_deltas == sdk.text_deltas == ["Partial", " answer"]
    text_hooks = ("text_created", "text_delta", "text_done")
    assert only(ours.calls, *text_hooks) == only(sdk.calls, *text_hooks)
    assert only(ours.calls, "text_done") == []
    assert plain(ours.current_run) == plain(sdk.current_run)
    assert sdk.messages is not None
    assert [plain(m) for m in sdk.messages] == [plain(ours.current_message)]


@pytest.mark.asyncio
async def test_error_event_wrapped_shape(replay_server: ReplayServer) -> None:
    """``{"error": {...}}``: both raise (the SDK's APIError, streamrun's StreamError)."""
    raw = error_stream({"error": ERROR_BARE})
    sdk, ours = await both(replay_server, raw, 4096)
    assert isinstance(ours.error, streamrun.StreamError)
    assert ours.error.message == "The server had an error."
    assert isinstance(sdk.error, openai.APIError)
    assert sdk.error.message == "The server had an error."
    assert only(ours.calls, "event") == only(sdk.calls, "event")
    assert only(ours.calls, "exception") == [("exception", "StreamError")]
    assert only(sdk.calls, "exception") == [("exception", "APIError")]
    assert ours.text_deltas == sdk.text_deltas == ["Partial", " answer"]


@pytest.mark.asyncio
@pytest.mark.parametrize("data", [ERROR_BARE, {"error": ERROR_BARE}], ids=["bare", "wrapped"])
async def test_on_end_fires_after_a_failure(
    replay_server: ReplayServer, data: dict[str, Any]
) -> None:
    """``on_end`` is documented to fire when the stream "ended normally, failed or
    was closed early"; the SDK calls it after ``on_exception`` too."""
    raw = error_stream(data)
    sdk, ours = await both(replay_server, raw, 4096)
    assert ours.calls[-2:] == [("exception", "StreamError"), ("end",)]
    assert sdk.calls[-1] == ("end",)


@pytest.mark.asyncio
@pytest.mark.parametrize("chunk_size", CHUNK_SIZES)
async def test_one_delta_with_two_fragments_of_one_index(
    replay_server: ReplayServer, chunk_size: int
) -> None:
    raw = same_index_twice_stream()
    sdk, ours = await both(replay_server, raw, chunk_size)
    assert ours.error is None and sdk.error is None
    assert only(ours.calls, "event") == only(sdk.calls, "event")
    assert ours.text_deltas == sdk.text_deltas == ["Hel", "lo", " there"]

    def ci(code: str, logs: tuple[Any, ...] = ()) -> tuple[Any, ...]:
        return ("call_ci", "code_interpreter", code, logs)

    tool_hooks = ("tool_call_created", "tool_call_delta", "tool_call_done")
    done = ("tool_call_done", ci("print(1)", (("logs", "1\n"),)))
    # streamrun: each fragment's callback sees the snapshot up to that fragment.
    assert only(ours.calls, *tool_hooks) == [
        ("tool_call_created", "call_ci", "code_interpreter"),
        ("tool_call_delta", 0, ci("")),
        ("tool_call_delta", 0, ci("print(")),
        ("tool_call_delta", 0, ci("print(1)")),
        done,
    ]
    # The SDK: both fragments see the whole event applied; the first fragment
    # of the call is lost; its done carries the delta snapshot (without the
    # logs only the completed step has), three times.
    stale = ("tool_call_done", ci("print(1)"))
    assert only(sdk.calls, *tool_hooks) == [
        ("tool_call_created", "call_ci", "code_interpreter"),
        ("tool_call_delta", 0, ci("print(1)")),
        ("tool_call_delta", 0, ci("print(1)")),
        stale,
        stale,
        stale,
    ]
    text_hooks = ("text_created", "text_delta", "text_done")
    assert only(ours.calls, *text_hooks) == [
        ("text_created", "Hel"),  # created with its first fragment, as the next one is applied
        ("text_delta", "Hel", "Hel", ()),
        ("text_delta", "lo", "Hello", ()),
        ("text_delta", " there", "Hello there", ()),
        ("text_done", "Hello there", ()),
    ]
    assert only(sdk.calls, *text_hooks) == [
        ("text_created", "Hello"),
        ("text_delta", "Hel", "Hello", ()),
        ("text_delta", "lo", "Hello", ()),
        ("text_delta", " there", "Hello there", ()),
        ("text_done", "Hello there", ()),
    ]
    assert ours.messages is not None and sdk.messages is not None
    assert [plain(m) for m in ours.messages] == [plain(m) for m in sdk.messages]


GENERATED = {
    "parallel_calls": (parallel_calls_stream, "create_run"),
    "parallel_continuation": (parallel_continuation_stream, "submit_tool_outputs"),
    "two_tool_steps": (two_tool_steps_stream, "create_run"),
    "two_messages": (two_messages_stream, "create_run"),
    "multi_part": (multi_part_stream, "create_run"),
    "annotations": (annotations_stream, "create_run"),
    "unicode": (unicode_stream, "create_run"),
    "refusal": (refusal_stream, "create_run"),
    "same_index_twice": (same_index_twice_stream, "create_run"),
}


async def _iterate_sdk(
    server: ReplayServer, endpoint: str, ids: Ids = (THREAD, RUN)
) -> list[tuple[Any, Any]]:
    """``(name, data JSON)`` of every event the SDK yields, taken as it is yielded
    (the SDK later mutates the data of ``thread.message.created`` in place)."""
    client = openai.AsyncOpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0)
    seen: list[tuple[Any, Any]] = []
    try:
        async with _sdk_manager(client, endpoint, SdkRecorder(), ids) as stream:
            async for event in stream:
                data = event.data if event.event else event
                seen.append((event.event, plain(data)))
    finally:
        await client.close()
    return seen


async def _iterate_ours(
    server: ReplayServer, endpoint: str, ids: Ids = (THREAD, RUN)
) -> list[tuple[Any, Any]]:
    seen: list[tuple[Any, Any]] = []
    async with streamrun.AsyncClient(
        base_url=server.base_url, api_key="sk-test", max_retries=0
    ) as client:
        async with _our_stream(client, endpoint, OurRecorder(), ids) as stream:
            try:
                async for event in stream:
                    seen.append((event.event, plain(event.data)))
            except streamrun.StreamError as exc:
                seen.append(("error", exc.message))
    return seen


@pytest.mark.asyncio
@pytest.mark.parametrize("chunk_size", [1, 4096])
@pytest.mark.parametrize("name", sorted(FIXTURES) + sorted(GENERATED))
async def test_iterated_events_match(
    replay_server: ReplayServer, name: str, chunk_size: int
) -> None:
    """``async for event in stream``: the same events with the same data, as JSON."""
    if name in FIXTURES:
        raw, endpoint = fixture_bytes(name), FIXTURES[name]["request"]["endpoint"]
    else:
        make, endpoint = GENERATED[name]
        raw = make()
    ids = request_ids(name)
    replay_server.replies.append(Reply(body=raw, chunk_size=chunk_size))
    replay_server.replies.append(Reply(body=raw, chunk_size=chunk_size))
    sdk = await _iterate_sdk(replay_server, endpoint, ids)
    ours = await _iterate_ours(replay_server, endpoint, ids)
    expected = [(n, _strip(d)) for n, d in blocks(raw) if n != "done"]
    if ours and ours[-1][0] == "error":
        # streamrun raises at the error event; the SDK yields it nameless.
        assert ours[:-1] == sdk[:-1] == expected[:-1]
        assert sdk[-1] == (None, expected[-1][1])
        assert ours[-1] == ("error", expected[-1][1]["message"])
    else:
        assert ours == sdk == expected
