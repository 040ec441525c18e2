"""Scenarios played as Responses API streams (``POST /v1/responses`` with ``stream: true``).

The same :class:`~streamrun.testing.Scenario` steps that drive a fake run drive
a fake response, so a test can stream one scenario both ways and compare.
This module is pure: :class:`ResponsePlayer` turns a scenario into the
Responses events (``response.created`` … ``response.completed``), each with its
``sequence_number``, and keeps the response object they describe; the server
writes the events and sleeps on :class:`Wait` items.

How the steps become output items (the shapes of the recorded streams):

* :class:`TextReply` — a ``message`` item with one ``output_text`` part:
  ``output_item.added`` → ``content_part.added`` → ``output_text.delta`` ×n
  (annotations as ``output_text.annotation.added`` after the fragment that
  completes them) → ``output_text.done`` → ``content_part.done`` →
  ``output_item.done``.
* :class:`Refusal` — a ``message`` item with one ``refusal`` part
  (``refusal.delta`` / ``refusal.done``).
* :class:`FunctionCalls` — one ``function_call`` item per call, streamed one
  after another (``function_call_arguments.delta`` / ``.done``); the
  response then completes with the calls in its output, waiting for the
  client's ``function_call_output`` items (the server keeps ``then``).
* :class:`CodeInterpreterCall` / :class:`FileSearchCall` — a
  ``code_interpreter_call`` / ``file_search_call`` item with its progress events.
* :class:`Fail` — ``response.failed`` with ``error`` {code, message} (after the
  partial text, whose item ends ``incomplete``).
* :class:`Incomplete` — ``response.incomplete`` with ``incomplete_details``.
* :class:`ErrorEvent` — an ``error`` event (``code``/``message``/``param`` at
  the top level for the ``bare`` shape, as the spec has it; nested under
  ``error`` with the error's ``type`` for ``wrapped``, as real servers send
  it), then ``response.failed``.
* :class:`Pause` — a :class:`Wait`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import attrs

from ._scenarios import (
    CodeInterpreterCall,
    ErrorEvent,
    Fail,
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

__all__ = ["ResponseEvent", "ResponsePlayer", "Wait"]

JSON = dict[str, Any]

_INCOMPLETE_REASONS = {
    "max_completion_tokens": "max_output_tokens",
    "max_prompt_tokens": "max_output_tokens",
}


@attrs.frozen
class ResponseEvent:
    """One Responses stream event: ``type`` (also the SSE event name) and its data."""

    type: str
    data: JSON


@attrs.frozen
class Wait:
    """The response makes no progress for ``seconds``."""

    seconds: float


class ResponsePlayer:
    """Plays one scenario as one response.

    ``response`` is the response object as the events so far describe it (the
    server answers ``GET /responses/{id}`` with it). ``queued``: a background
    response (it starts ``queued``); ``now``: the clock that stamps
    ``completed_at``. After :meth:`play` is
    exhausted, ``pending`` holds the :class:`FunctionCalls` step whose outputs
    the response waits for (or ``None``).
    """

    def __init__(
        self,
        scenario: Scenario,
        *,
        response: JSON,
        new_id: Callable[[str], str],
        first_sequence_number: int = 0,
        queued: bool = False,
        now: Callable[[], int] | None = None,
    ) -> None:
        self.scenario = scenario
        self.response = response
        self.pending: FunctionCalls | None = None
        self.events: list[ResponseEvent] = []
        self._new_id = new_id
        self._sequence = first_sequence_number
        self._usage = [0, 0]
        self._queued = queued
        self._now = now

    # -- the stream ------------------------------------------------------------

    def play(self) -> Iterator[ResponseEvent | Wait]:
        """Every event of the response, in order (and the waits between them).

        A ``queued`` player (a background response) starts ``queued``:
        ``response.created`` → ``response.queued`` → ``response.in_progress``.
        """
        if self._queued:
            self.response["status"] = "queued"
        yield self._event("response.created", response=self._snapshot())
        if self._queued:
            yield self._event("response.queued", response=self._snapshot())
        self.response["status"] = "in_progress"
        yield self._event("response.in_progress", response=self._snapshot())
        for step in self.scenario.steps:
            if isinstance(step, Pause):
                yield Wait(step.seconds)
            elif isinstance(step, TextReply):
                yield from self._message(step.text, self._text_plan(step), "output_text")
                self._count(step.usage, len(step.text))
            elif isinstance(step, Refusal):
                chunks = step.chunks or split_fragments(step.text, step.fragment_size)
                yield from self._message(step.text, [(c, []) for c in chunks], "refusal")
                self._count(step.usage, len(step.text))
            elif isinstance(step, FunctionCalls):
                for call in step.calls:
                    yield from self._function_call(call.name, call.arguments, call.id, call)
                self._count(step.usage, sum(len(c.arguments) for c in step.calls))
                self.pending = step
            elif isinstance(step, CodeInterpreterCall):
                yield from self._code_interpreter(step)
                self._count(step.usage, len(step.input))
            elif isinstance(step, FileSearchCall):
                yield from self._file_search(step)
                self._count(step.usage, 1)
            elif isinstance(step, Fail):
                if step.partial_text:
                    yield from self._cut_message(step.partial_text)
                error = {"code": step.code, "message": step.message}
                yield self._end("failed", error=error)
                return
            elif isinstance(step, Incomplete):
                if step.partial_text:
                    yield from self._cut_message(step.partial_text)
                reason = _INCOMPLETE_REASONS.get(step.reason, step.reason)
                yield self._end("incomplete", incomplete_details={"reason": reason})
                return
            elif isinstance(step, ErrorEvent):
                if step.partial_text:
                    yield from self._cut_message(step.partial_text)
                fields = {"code": step.code, "message": step.message, "param": None}
                if step.shape == "wrapped":
                    yield self._event("error", error={"type": step.type, **fields})
                else:
                    yield self._event("error", **fields)
                error = {"code": step.code or step.type, "message": step.message}
                yield self._end("failed", error=error)
                return
        yield self._end("completed")

    def cancel(self) -> ResponseEvent:
        """The response is cancelled (a background response's ``/cancel``): its last event."""
        return self._end("cancelled")

    # -- items -------------------------------------------------------------------

    def _message(
        self, text: str, plan: list[tuple[str, list[JSON]]], kind: str
    ) -> Iterator[ResponseEvent]:
        item: JSON = {
            "id": self._new_id("msg"),
            "type": "message",
            "status": "in_progress",
            "content": [],
            "role": "assistant",
        }
        index = self._add_item(item)
        yield self._event("response.output_item.added", output_index=index, item=_copy(item))
        empty = _part(kind, "")
        ids = {"item_id": item["id"], "output_index": index, "content_index": 0}
        yield self._event("response.content_part.added", **ids, part=empty)
        annotation_index = 0
        for fragment, added in plan:
            if kind == "output_text":
                yield self._event("response.output_text.delta", **ids, delta=fragment, logprobs=[])
                for annotation in added:
                    yield self._event(
                        "response.output_text.annotation.added",
                        **ids,
                        annotation_index=annotation_index,
                        annotation=annotation,
                    )
                    annotation_index += 1
            else:
                yield self._event("response.refusal.delta", **ids, delta=fragment)
        part = _part(kind, text)
        if kind == "output_text":
            part["annotations"] = [a for _, anns in plan for a in anns]
            yield self._event("response.output_text.done", **ids, text=text, logprobs=[])
        else:
            yield self._event("response.refusal.done", **ids, refusal=text)
        yield self._event("response.content_part.done", **ids, part=_copy(part))
        item["content"] = [part]
        item["status"] = "completed"
        yield self._event("response.output_item.done", output_index=index, item=_copy(item))

    def _cut_message(self, text: str) -> Iterator[ResponseEvent]:
        """A message whose text stops short: the item ends ``incomplete``."""
        plan: list[tuple[str, list[JSON]]] = [(c, []) for c in split_fragments(text)]
        for event in self._message(text, plan, "output_text"):
            if event.type == "response.output_item.done":
                event.data["item"]["status"] = "incomplete"
                self.response["output"][-1]["status"] = "incomplete"
            yield event
        self._count(None, len(text))

    def _function_call(
        self, name: str, arguments: str, call_id: str | None, call: Any
    ) -> Iterator[ResponseEvent]:
        item: JSON = {
            "id": self._new_id("fc"),
            "type": "function_call",
            "status": "in_progress",
            "arguments": "",
            "call_id": call_id or self._new_id("call"),
            "name": name,
        }
        index = self._add_item(item)
        yield self._event("response.output_item.added", output_index=index, item=_copy(item))
        chunks = call.chunks or split_fragments(arguments, call.fragment_size) or [""]
        for chunk in chunks:
            yield self._event(
                "response.function_call_arguments.delta",
                item_id=item["id"],
                output_index=index,
                delta=chunk,
            )
        yield self._event(
            "response.function_call_arguments.done",
            item_id=item["id"],
            output_index=index,
            arguments=arguments,
        )
        item["arguments"] = arguments
        item["status"] = "completed"
        yield self._event("response.output_item.done", output_index=index, item=_copy(item))

    def _code_interpreter(self, step: CodeInterpreterCall) -> Iterator[ResponseEvent]:
        item: JSON = {
            "id": step.id or self._new_id("ci"),
            "type": "code_interpreter_call",
            "status": "in_progress",
            "code": "",
            "container_id": "cntr_fake",
            "outputs": None,
        }
        index = self._add_item(item)
        ids = {"item_id": item["id"], "output_index": index}
        yield self._event("response.output_item.added", output_index=index, item=_copy(item))
        yield self._event("response.code_interpreter_call.in_progress", **ids)
        for chunk in step.chunks or split_fragments(step.input, step.fragment_size):
            yield self._event("response.code_interpreter_call_code.delta", **ids, delta=chunk)
        yield self._event("response.code_interpreter_call_code.done", **ids, code=step.input)
        yield self._event("response.code_interpreter_call.interpreting", **ids)
        outputs: list[JSON] = []
        if step.logs is not None:
            outputs.append({"type": "logs", "logs": step.logs})
        if step.image_file_id is not None:
            outputs.append({"type": "image", "url": f"sandbox:/mnt/data/{step.image_file_id}"})
        yield self._event("response.code_interpreter_call.completed", **ids)
        item.update(code=step.input, outputs=outputs, status="completed")
        yield self._event("response.output_item.done", output_index=index, item=_copy(item))

    def _file_search(self, step: FileSearchCall) -> Iterator[ResponseEvent]:
        item: JSON = {
            "id": step.id or self._new_id("fs"),
            "type": "file_search_call",
            "status": "in_progress",
            "queries": [],
            "results": None,
        }
        index = self._add_item(item)
        ids = {"item_id": item["id"], "output_index": index}
        yield self._event("response.output_item.added", output_index=index, item=_copy(item))
        yield self._event("response.file_search_call.in_progress", **ids)
        yield self._event("response.file_search_call.searching", **ids)
        yield self._event("response.file_search_call.completed", **ids)
        results = [
            {
                "file_id": r.file_id,
                "filename": r.file_name,
                "score": r.score,
                "text": r.content,
                "attributes": {},
            }
            for r in step.results
        ]
        item.update(status="completed", results=results)
        yield self._event("response.output_item.done", output_index=index, item=_copy(item))

    # -- bookkeeping -------------------------------------------------------------

    def _text_plan(self, step: TextReply) -> list[tuple[str, list[JSON]]]:
        from ._engine import text_plan  # the run engine's fragments, for identical text

        plan: list[tuple[str, list[JSON]]] = []
        consumed = 0
        for fragment, found in text_plan(step):
            consumed += len(fragment)
            plan.append((fragment, [self._annotation(a, consumed) for a in found]))
        return plan

    def _annotation(self, run_annotation: JSON, index: int) -> JSON:
        kind = run_annotation.get("type")
        if kind == "file_citation":
            file_id = run_annotation["file_citation"]["file_id"]
            return {
                "type": "file_citation",
                "file_id": file_id,
                "filename": file_id,
                "index": index,
            }
        file_id = run_annotation.get("file_path", {}).get("file_id", "")
        return {"type": "file_path", "file_id": file_id, "index": index}

    def _add_item(self, item: JSON) -> int:
        self.response["output"].append(item)
        return len(self.response["output"]) - 1

    def _count(self, usage: Usage | None, size: int) -> None:
        if usage is not None:
            self._usage[0] += usage.prompt_tokens
            self._usage[1] += usage.completion_tokens
        else:
            self._usage[1] += max(1, size // 4)

    def _end(self, status: str, **fields: Any) -> ResponseEvent:
        self.response["status"] = status
        self.response.update(fields)
        if status == "completed" and self._now is not None:
            self.response["completed_at"] = self._now()
        if status != "cancelled":
            prompt = self._usage[0] or 10
            self.response["usage"] = {
                "input_tokens": prompt,
                "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
                "output_tokens": self._usage[1],
                "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": prompt + self._usage[1],
            }
        return self._event(f"response.{status}", response=self._snapshot())

    def _snapshot(self) -> JSON:
        return _copy(self.response)

    def _event(self, name: str, **fields: Any) -> ResponseEvent:
        data: JSON = {"type": name, "sequence_number": self._sequence, **fields}
        self._sequence += 1
        event = ResponseEvent(name, data)
        self.events.append(event)
        return event


def _part(kind: str, text: str) -> JSON:
    if kind == "refusal":
        return {"type": "refusal", "refusal": text}
    return {"type": "output_text", "annotations": [], "logprobs": [], "text": text}


def _copy(value: JSON) -> JSON:
    return copy.deepcopy(value)
