"""The run player: turns a scenario into state changes and stream events.

A player runs as its own task, independent of the HTTP connection: when the
client goes away the run still reaches its scripted end on the server. Events
go to a :class:`Channel` read by the response writer (if any).
"""

from __future__ import annotations

import asyncio
import copy
import json
from typing import Any

from ._scenarios import (
    Annotation,
    CodeInterpreterCall,
    ErrorEvent,
    Fail,
    FileCitation,
    FileSearchCall,
    FunctionCalls,
    Incomplete,
    Pause,
    Refusal,
    Scenario,
    TextReply,
    Usage,
    split_fragments,
)
from ._state import ACTIVE_STATUSES, JSON, TERMINAL_STATUSES, RunRecord, Store
from ._wire import DONE_EVENT, WireEvent, dumps

__all__ = ["Channel", "Player", "play_recording"]


class Channel:
    """Events from a player to one response writer (``None`` marks the end)."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[WireEvent | None] = asyncio.Queue()
        self.closed = False

    def send(self, event: WireEvent) -> None:
        """Queue an event (ignored once closed)."""
        if not self.closed:
            self._queue.put_nowait(event)

    def close(self) -> None:
        """Mark the end of the stream."""
        if not self.closed:
            self.closed = True
            self._queue.put_nowait(None)

    async def get(self) -> WireEvent | None:
        """The next event, ``None`` at the end."""
        return await self._queue.get()

    def ready(self) -> list[WireEvent | None]:
        """Every item already queued (without waiting)."""
        items: list[WireEvent | None] = []
        while not self._queue.empty():
            items.append(self._queue.get_nowait())
        return items


class _Cancel(Exception):
    """Internal: a cancel request arrived; switch to the cancellation sequence."""


def _annotation_json(ann: Annotation, start: int, end: int) -> JSON:
    kind = "file_citation" if isinstance(ann, FileCitation) else "file_path"
    return {
        "type": kind,
        "text": ann.text,
        "start_index": start,
        "end_index": end,
        kind: {"file_id": ann.file_id},
    }


def text_plan(step: TextReply) -> list[tuple[str, list[JSON]]]:
    """The fragments of a text reply, each with the annotations it completes."""
    text = step.text
    spans: list[tuple[int, int, JSON]] = []
    pos = 0
    for ann in step.annotations:
        start = text.find(ann.text, pos)
        end = start + len(ann.text)
        spans.append((start, end, _annotation_json(ann, start, end)))
        pos = end
    if step.chunks is not None:
        frags = list(step.chunks)
    else:
        frags = []
        cur = 0
        for start, end, _ in spans:
            frags += split_fragments(text[cur:start], step.fragment_size)
            frags.append(text[start:end])
            cur = end
        frags += split_fragments(text[cur:], step.fragment_size)
    plan: list[tuple[str, list[JSON]]] = []
    done = 0
    k = 0
    for frag in frags:
        done += len(frag)
        attached: list[JSON] = []
        while k < len(spans) and spans[k][1] <= done:
            attached.append(spans[k][2])
            k += 1
        plan.append((frag, attached))
    return plan


def without_result_content(step: JSON) -> JSON:
    """A copy of ``step`` without file_search result ``content`` (no ``include[]``)."""
    calls = step.get("step_details", {}).get("tool_calls")
    if not calls or not any(c.get("type") == "file_search" for c in calls):
        return step
    view = copy.deepcopy(step)
    for call in view["step_details"]["tool_calls"]:
        for result in (call.get("file_search") or {}).get("results") or []:
            result.pop("content", None)
    return view


# The pacing is between events: after these only [DONE] follows, at once.
_LAST_RUN_EVENTS = frozenset(
    f"thread.run.{status}" for status in (*TERMINAL_STATUSES, "requires_action")
)


class Player:
    """Plays one segment of a run (creation or continuation) into a channel."""

    def __init__(
        self, store: Store, run: RunRecord, channel: Channel | None, *, delay: float = 0.0
    ) -> None:
        self._store = store
        self._run = run
        self._channel = channel
        self._delay = delay
        self._open_step: JSON | None = None
        self._open_message: JSON | None = None
        self._cancelling = False

    # -- entry points -----------------------------------------------------

    async def play_new(self, scenario: Scenario, thread_obj: JSON | None = None) -> None:
        """A new run: [thread.created], run.created, queued, in_progress, steps, end."""
        opening = [] if thread_obj is None else [("thread.created", thread_obj)]
        opening.append(("thread.run.created", self._run.obj))
        await self._play_segment(opening, scenario)

    async def play_continuation(self, step: JSON | None, scenario: Scenario) -> None:
        """After submit_tool_outputs: step.completed, queued, in_progress, steps, end."""
        opening = [] if step is None else [("thread.run.step.completed", step)]
        await self._play_segment(opening, scenario)

    async def _play_segment(self, opening: list[tuple[str, JSON]], scenario: Scenario) -> None:
        """``opening`` events, then queued, in_progress, the scenario and [DONE]."""
        run = self._run.obj
        try:
            try:
                for name, obj in opening:
                    await self._emit(name, obj)
                await self._emit("thread.run.queued", run)
                self._start()
                await self._emit("thread.run.in_progress", run)
                await self._play(scenario)
            except _Cancel:
                await self._cancel_sequence()
            self._send(DONE_EVENT)
        finally:
            self._finish()

    # -- plumbing ---------------------------------------------------------

    def _send(self, event: WireEvent) -> None:
        if self._channel is not None:
            self._channel.send(event)

    async def _emit(self, name: str, obj: Any) -> None:
        self._send(WireEvent.build(name, dumps(obj)))
        if self._cancelling:
            return
        if self._delay > 0 and name not in _LAST_RUN_EVENTS:
            await self._sleep(self._delay)
        else:
            await asyncio.sleep(0)
        self._check_cancel()

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._run.wakeup.wait(), seconds)
        except asyncio.TimeoutError:
            pass
        self._check_cancel()

    def _check_cancel(self) -> None:
        if self._run.cancel_requested and not self._cancelling:
            raise _Cancel

    def _finish(self) -> None:
        if self._channel is not None:
            self._channel.close()
        self._run.task = None
        self._run.settled.set()

    def _now(self) -> int:
        return self._store.now()

    def _start(self) -> None:
        self._run.obj.update({"status": "in_progress", "started_at": self._now()})

    def _end_run(self, status: str, **fields: Any) -> None:
        obj = self._run.obj
        obj["status"] = status
        obj["expires_at"] = None
        obj["required_action"] = None
        obj.update(fields)
        obj["usage"] = self._store.run_usage(self._run)
        self._store.release(self._run)

    def _default_usage(self, completion: int) -> JSON:
        prompt = 300 + 40 * len(self._run.steps)
        return Usage(prompt, max(1, completion)).to_json()

    # -- the scenario -----------------------------------------------------

    async def _play(self, scenario: Scenario) -> None:
        for step in scenario.steps:
            if isinstance(step, TextReply):
                await self._text_reply(step)
            elif isinstance(step, Refusal):
                await self._refusal(step)
            elif isinstance(step, CodeInterpreterCall):
                await self._code_interpreter(step)
            elif isinstance(step, FileSearchCall):
                await self._file_search(step)
            elif isinstance(step, Pause):
                await self._sleep(step.seconds)
            elif isinstance(step, FunctionCalls):
                await self._function_calls(step)
                return
            elif isinstance(step, Fail):
                await self._fail(step)
                return
            elif isinstance(step, Incomplete):
                await self._incomplete(step)
                return
            else:
                await self._error_event(step)
                return
        self._end_run("completed", completed_at=self._now())
        await self._emit("thread.run.completed", self._run.obj)

    # -- messages ---------------------------------------------------------

    async def _open_message_step(self) -> tuple[JSON, JSON]:
        msg_id = self._store.ids.new("msg_")
        step = self._store.new_step(
            self._run,
            "message_creation",
            {"type": "message_creation", "message_creation": {"message_id": msg_id}},
        )
        self._open_step = step
        await self._emit("thread.run.step.created", step)
        await self._emit("thread.run.step.in_progress", step)
        msg = self._store.assistant_message(self._run, msg_id)
        self._open_message = msg
        await self._emit("thread.message.created", msg)
        await self._emit("thread.message.in_progress", msg)
        return step, msg

    async def _message_delta(self, msg: JSON, entries: list[JSON]) -> None:
        await self._emit(
            "thread.message.delta",
            {"id": msg["id"], "object": "thread.message.delta", "delta": {"content": entries}},
        )

    async def _stream_text(self, msg: JSON, plan: list[tuple[str, list[JSON]]]) -> int:
        if not plan:
            return 0
        index = len(msg["content"])
        part: JSON = {"type": "text", "text": {"value": "", "annotations": []}}
        msg["content"].append(part)
        for n, (frag, anns) in enumerate(plan):
            text: JSON = {"value": frag}
            if n == 0 or anns:
                first = len(part["text"]["annotations"])
                text["annotations"] = [{"index": first + i, **a} for i, a in enumerate(anns)]
            part["text"]["value"] += frag
            part["text"]["annotations"].extend(anns)
            await self._message_delta(msg, [{"index": index, "type": "text", "text": text}])
        return len(plan)

    async def _complete_message(self, step: JSON, msg: JSON, usage: JSON) -> None:
        msg.update({"status": "completed", "completed_at": self._now()})
        self._open_message = None
        await self._emit("thread.message.completed", msg)
        self._complete_step(step, usage)
        await self._emit("thread.run.step.completed", step)

    def _complete_step(self, step: JSON, usage: JSON) -> None:
        step.update(
            {"status": "completed", "completed_at": self._now(), "expires_at": None, "usage": usage}
        )
        self._open_step = None

    async def _text_reply(self, reply: TextReply) -> None:
        step, msg = await self._open_message_step()
        for file_id in reply.image_file_ids:
            index = len(msg["content"])
            msg["content"].append({"type": "image_file", "image_file": {"file_id": file_id}})
            await self._message_delta(
                msg, [{"index": index, "type": "image_file", "image_file": {"file_id": file_id}}]
            )
        count = await self._stream_text(msg, text_plan(reply))
        usage = reply.usage.to_json() if reply.usage else self._default_usage(count)
        await self._complete_message(step, msg, usage)

    async def _refusal(self, refusal: Refusal) -> None:
        step, msg = await self._open_message_step()
        frags = (
            list(refusal.chunks)
            if refusal.chunks is not None
            else split_fragments(refusal.text, refusal.fragment_size)
        )
        index = len(msg["content"])
        part: JSON = {"type": "refusal", "refusal": ""}
        msg["content"].append(part)
        for frag in frags:
            part["refusal"] += frag
            entry = {"index": index, "type": "refusal", "refusal": frag}
            await self._message_delta(msg, [entry])
        usage = refusal.usage.to_json() if refusal.usage else self._default_usage(len(frags))
        await self._complete_message(step, msg, usage)

    async def _partial_answer(self, text: str | None) -> None:
        if text:
            _, msg = await self._open_message_step()
            await self._stream_text(msg, text_plan(TextReply(text)))

    def _cut_message(self, reason: str) -> JSON | None:
        msg = self._open_message
        if msg is None:
            return None
        msg.update(
            {
                "status": "incomplete",
                "incomplete_details": {"reason": reason},
                "incomplete_at": self._now(),
            }
        )
        self._open_message = None
        return msg

    # -- tool steps -------------------------------------------------------

    async def _open_tool_step(self) -> JSON:
        step = self._store.new_step(
            self._run, "tool_calls", {"type": "tool_calls", "tool_calls": []}
        )
        self._open_step = step
        await self._emit("thread.run.step.created", step)
        await self._emit("thread.run.step.in_progress", step)
        return step

    async def _step_delta(self, step: JSON, entries: list[JSON]) -> None:
        await self._emit(
            "thread.run.step.delta",
            {
                "id": step["id"],
                "object": "thread.run.step.delta",
                "delta": {"step_details": {"type": "tool_calls", "tool_calls": entries}},
            },
        )

    async def _code_interpreter(self, call: CodeInterpreterCall) -> None:
        step = await self._open_tool_step()
        cid = call.id or self._store.ids.new("call_")
        ci: JSON = {"input": "", "outputs": []}
        tool_calls = step["step_details"]["tool_calls"]
        index = len(tool_calls)
        tool_calls.append({"id": cid, "type": "code_interpreter", "code_interpreter": ci})
        await self._step_delta(
            step,
            [
                {
                    "index": index,
                    "id": cid,
                    "type": "code_interpreter",
                    "code_interpreter": {"input": "", "outputs": []},
                }
            ],
        )
        frags = (
            list(call.chunks)
            if call.chunks is not None
            else split_fragments(call.input, call.fragment_size)
        )
        for frag in frags:
            ci["input"] += frag
            await self._step_delta(
                step,
                [{"index": index, "type": "code_interpreter", "code_interpreter": {"input": frag}}],
            )
        outputs: list[JSON] = []
        if call.logs is not None:
            outputs.append({"type": "logs", "logs": call.logs})
        if call.image_file_id is not None:
            outputs.append({"type": "image", "image": {"file_id": call.image_file_id}})
        for out in outputs:
            out_index = len(ci["outputs"])
            ci["outputs"].append(out)
            await self._step_delta(
                step,
                [
                    {
                        "index": index,
                        "type": "code_interpreter",
                        "code_interpreter": {"outputs": [{"index": out_index, **out}]},
                    }
                ],
            )
        usage = call.usage.to_json() if call.usage else self._default_usage(len(frags))
        self._complete_step(step, usage)
        await self._emit("thread.run.step.completed", step)

    async def _file_search(self, call: FileSearchCall) -> None:
        step = await self._open_tool_step()
        cid = call.id or self._store.ids.new("call_")
        tool_calls = step["step_details"]["tool_calls"]
        index = len(tool_calls)
        entry: JSON = {"id": cid, "type": "file_search", "file_search": {}}
        tool_calls.append(entry)
        await self._step_delta(
            step, [{"index": index, "id": cid, "type": "file_search", "file_search": {}}]
        )
        results: list[JSON] = []
        for r in call.results:
            res: JSON = {"file_id": r.file_id, "file_name": r.file_name, "score": r.score}
            res["content"] = [{"type": "text", "text": r.content}]
            results.append(res)
        entry["file_search"] = {
            "ranking_options": {"ranker": call.ranker, "score_threshold": call.score_threshold},
            "results": results,
        }
        usage = call.usage.to_json() if call.usage else self._default_usage(15)
        self._complete_step(step, usage)
        view = step if self._run.include_content else without_result_content(step)
        await self._emit("thread.run.step.completed", view)

    async def _function_calls(self, fc: FunctionCalls) -> None:
        step = await self._open_tool_step()
        tool_calls = step["step_details"]["tool_calls"]
        planned: list[tuple[int, str, list[str], JSON]] = []
        for call in fc.calls:
            cid = call.id or self._store.ids.new("call_")
            fn: JSON = {"name": call.name, "arguments": "", "output": None}
            index = len(tool_calls)
            tool_calls.append({"id": cid, "type": "function", "function": fn})
            frags = (
                list(call.chunks)
                if call.chunks is not None
                else split_fragments(call.arguments, call.fragment_size)
            )
            planned.append((index, cid, frags, fn))

        def first(index: int, cid: str, fn: JSON) -> JSON:
            return {
                "index": index,
                "id": cid,
                "type": "function",
                "function": {"name": fn["name"], "arguments": "", "output": None},
            }

        def piece(index: int, fn: JSON, frag: str) -> JSON:
            fn["arguments"] += frag
            return {"index": index, "type": "function", "function": {"arguments": frag}}

        if not fc.interleave:
            for index, cid, frags, fn in planned:
                await self._step_delta(step, [first(index, cid, fn)])
                for frag in frags:
                    await self._step_delta(step, [piece(index, fn, frag)])
        else:
            for index, cid, _, fn in planned:
                await self._step_delta(step, [first(index, cid, fn)])
            rounds = max(len(frags) for _, _, frags, _ in planned)
            for r in range(rounds):
                entries = [
                    piece(index, fn, frags[r]) for index, _, frags, fn in planned if r < len(frags)
                ]
                if r % 2 == 1:
                    await self._step_delta(step, entries)
                else:
                    for entry in entries:
                        await self._step_delta(step, [entry])
        total = sum(len(frags) for _, _, frags, _ in planned)
        run = self._run
        run.pending = fc
        run.tool_step = step
        run.tool_step_usage = fc.usage.to_json() if fc.usage else self._default_usage(total)
        self._open_step = None
        run.obj.update(
            {
                "status": "requires_action",
                "required_action": {
                    "type": "submit_tool_outputs",
                    "submit_tool_outputs": {
                        "tool_calls": [
                            {
                                "id": cid,
                                "type": "function",
                                "function": {"name": fn["name"], "arguments": fn["arguments"]},
                            }
                            for _, cid, _, fn in planned
                        ]
                    },
                },
            }
        )
        run.deadline = self._store.clock() + self._store.run_expiry_seconds
        await self._emit("thread.run.requires_action", run.obj)

    # -- endings ----------------------------------------------------------

    def _fail_step(self, step: JSON, error: JSON) -> None:
        step.update(
            {"status": "failed", "failed_at": self._now(), "expires_at": None, "last_error": error}
        )
        self._open_step = None

    async def _fail(self, fail: Fail) -> None:
        await self._partial_answer(fail.partial_text)
        error = {"code": fail.code, "message": fail.message}
        msg = self._cut_message("run_failed")
        if msg is not None:
            await self._emit("thread.message.incomplete", msg)
        step = self._open_step
        if step is not None:
            self._fail_step(step, error)
            await self._emit("thread.run.step.failed", step)
        self._end_run("failed", failed_at=self._now(), last_error=error)
        await self._emit("thread.run.failed", self._run.obj)

    async def _incomplete(self, inc: Incomplete) -> None:
        await self._partial_answer(inc.partial_text)
        msg = self._cut_message("max_tokens")
        if msg is not None:
            await self._emit("thread.message.incomplete", msg)
        step = self._open_step
        if step is not None:
            parts = (msg or {}).get("content", [])
            text = "".join(p["text"]["value"] for p in parts if p.get("type") == "text")
            self._complete_step(step, self._default_usage(len(split_fragments(text or "x"))))
            await self._emit("thread.run.step.completed", step)
        self._end_run(
            "incomplete", completed_at=self._now(), incomplete_details={"reason": inc.reason}
        )
        await self._emit("thread.run.incomplete", self._run.obj)

    async def _error_event(self, err: ErrorEvent) -> None:
        await self._partial_answer(err.partial_text)
        error: JSON = {"message": err.message, "type": err.type, "param": None, "code": err.code}
        data = error if err.shape == "bare" else {"error": error}
        self._send(WireEvent.build("error", dumps(data)))
        # No terminal event is sent, but on the server the run has failed.
        last_error = {"code": "server_error", "message": err.message}
        self._cut_message("run_failed")
        step = self._open_step
        if step is not None:
            self._fail_step(step, last_error)
        self._end_run("failed", failed_at=self._now(), last_error=last_error)

    async def _cancel_sequence(self) -> None:
        self._cancelling = True
        run = self._run.obj
        run["status"] = "cancelling"
        await self._emit("thread.run.cancelling", run)
        msg = self._cut_message("run_cancelled")
        if msg is not None:
            await self._emit("thread.message.incomplete", msg)
        step = self._open_step
        if step is not None:
            step.update({"status": "cancelled", "cancelled_at": self._now(), "expires_at": None})
            self._open_step = None
            await self._emit("thread.run.step.cancelled", step)
        self._end_run("cancelled", cancelled_at=self._now())
        await self._emit("thread.run.cancelled", run)


def cancel_now(store: Store, run: RunRecord) -> None:
    """Cancel a run that no player drives (waiting for tool outputs): cancelled at once."""
    now = store.now()
    step = store.waiting_tool_step(run)
    if step is not None and step.get("status") == "in_progress":
        step.update({"status": "cancelled", "cancelled_at": now, "expires_at": None})
    run.tool_step = None
    run.pending = None
    run.obj.update(
        {
            "status": "cancelled",
            "cancelled_at": now,
            "expires_at": None,
            "required_action": None,
        }
    )
    run.obj["usage"] = store.run_usage(run)
    store.release(run)
    run.settled.set()


async def play_recording(
    store: Store, events: list[WireEvent], channel: Channel, *, delay: float = 0.0
) -> None:
    """Send a recorded transcript's events as they are, updating the state from them.

    A recorded run left queued/in progress when the transcript ends (an
    ``error`` event ends such streams) is marked failed on the server.
    """
    touched: set[str] = set()
    try:
        for i, event in enumerate(events):
            store.absorb(event)
            if (event.name or "").startswith("thread.run.") and ".step." not in (event.name or ""):
                try:
                    run_id = json.loads(event.data).get("id")
                except (ValueError, AttributeError):
                    run_id = None
                if isinstance(run_id, str):
                    touched.add(run_id)
            channel.send(event)
            if delay > 0 and i < len(events) - 1:
                await asyncio.sleep(delay)
            else:
                await asyncio.sleep(0)
        for run_id in touched:
            run = store.runs.get(run_id)
            if run is not None and run.status in ACTIVE_STATUSES - {"requires_action"}:
                run.obj.update(
                    {
                        "status": "failed",
                        "failed_at": store.now(),
                        "expires_at": None,
                        "last_error": {"code": "server_error", "message": "The run failed."},
                    }
                )
                store.release(run)
                run.settled.set()
    finally:
        channel.close()
