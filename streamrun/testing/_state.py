"""Server-side state: threads, runs, steps and messages as the service returns them.

Objects are plain JSON dicts whose key order follows the real service (see
the fixtures), so they can be serialized as they are.
"""

from __future__ import annotations

import asyncio
import copy
import json
import random
import string
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from ._scenarios import FunctionCalls, Scenario, ToolOutput
from ._wire import WireEvent

__all__ = ["ACTIVE_STATUSES", "TERMINAL_STATUSES", "Ids", "RunRecord", "Store", "ThreadRecord"]

JSON = dict[str, Any]

TERMINAL_STATUSES: frozenset[str] = frozenset(
    {"completed", "incomplete", "failed", "cancelled", "expired"}
)
ACTIVE_STATUSES: frozenset[str] = frozenset(
    {"queued", "in_progress", "requires_action", "cancelling"}
)

_ALNUM = string.ascii_letters + string.digits


class Ids:
    """Realistic ids: ``run_`` + 24 alphanumerics, ``req_`` + 32 hex digits..."""

    def __init__(self, seed: int | None = None) -> None:
        self._rng: random.Random = (
            random.Random(seed) if seed is not None else random.SystemRandom()
        )

    def new(self, prefix: str, length: int = 24) -> str:
        """``prefix`` followed by ``length`` random letters and digits."""
        return prefix + "".join(self._rng.choice(_ALNUM) for _ in range(length))

    def hex(self, prefix: str, length: int = 48) -> str:
        """``prefix`` followed by ``length`` hex digits (Responses ids: ``resp_``, ``msg_``…)."""
        return prefix + "".join(self._rng.choice("0123456789abcdef") for _ in range(length))

    def file_id(self) -> str:
        """A ``file-`` id (22 alphanumerics, as the service's file ids)."""
        return self.new("file-", 22)

    def request_id(self) -> str:
        """An ``x-request-id`` value: ``req_`` + 32 hex digits."""
        return "req_" + "".join(self._rng.choice("0123456789abcdef") for _ in range(32))


@attrs.define(eq=False)
class ThreadRecord:
    """A thread and the messages stored on it (in creation order)."""

    obj: JSON
    messages: list[JSON] = attrs.Factory(list)
    active_run_id: str | None = None

    @property
    def id(self) -> str:
        """The thread id."""
        return str(self.obj["id"])


@attrs.define(eq=False)
class RunRecord:
    """A run: its wire object, its steps and what the player needs to go on."""

    obj: JSON
    thread_id: str
    steps: list[JSON] = attrs.Factory(list)
    include_content: bool = False
    #: float clock time after which a run waiting for tool outputs expires.
    deadline: float | None = None
    #: The FunctionCalls step awaiting outputs (None for recorded runs).
    pending: FunctionCalls | None = None
    #: The tool_calls step awaiting outputs.
    tool_step: JSON | None = None
    #: Usage reported on the tool step when its outputs arrive.
    tool_step_usage: JSON | None = None
    cancel_requested: bool = False
    wakeup: asyncio.Event = attrs.Factory(asyncio.Event)
    settled: asyncio.Event = attrs.Factory(asyncio.Event)
    task: asyncio.Task[None] | None = None

    @property
    def id(self) -> str:
        """The run id."""
        return str(self.obj["id"])

    @property
    def status(self) -> str:
        """The run's current status."""
        return str(self.obj["status"])


def normalize_tool(tool: Any) -> Any:
    """A tool definition as the service echoes it (function ``strict`` filled in)."""
    if not isinstance(tool, dict):
        return tool
    kind = tool.get("type")
    if kind == "function" and isinstance(tool.get("function"), dict):
        fn = tool["function"]
        out: JSON = {"name": fn.get("name")}
        for key in ("description", "parameters"):
            if key in fn:
                out[key] = fn[key]
        out["strict"] = bool(fn.get("strict") or False)
        return {"type": "function", "function": out}
    if kind == "file_search":
        fs = dict(tool.get("file_search") or {})
        fs.setdefault("ranking_options", {"ranker": "default_2024_08_21", "score_threshold": 0.0})
        return {"type": "file_search", "file_search": fs}
    return copy.deepcopy(tool)


def _float_or(value: Any, default: float) -> Any:
    if value is None:
        return default
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return value


def _content_parts(content: Any) -> list[Any]:
    if isinstance(content, str):
        return [{"type": "text", "text": {"value": content, "annotations": []}}]
    parts: list[Any] = []
    for part in content if isinstance(content, list) else []:
        if isinstance(part, dict) and part.get("type") == "text":
            value = part.get("text", "")
            parts.append({"type": "text", "text": {"value": value, "annotations": []}})
        elif isinstance(part, dict) and part.get("type") in ("image_file", "image_url"):
            kind = part["type"]
            inner = dict(part.get(kind) or {})
            inner.setdefault("detail", "auto")
            parts.append({"type": kind, kind: inner})
        else:
            parts.append(copy.deepcopy(part))
    return parts


class Store:
    """All threads and runs of one server."""

    def __init__(
        self,
        *,
        ids: Ids,
        clock: Callable[[], float],
        run_expiry_seconds: float,
        model: str,
        instructions: str | None,
    ) -> None:
        self.ids = ids
        self.clock = clock
        self.run_expiry_seconds = run_expiry_seconds
        self.model = model
        self.instructions = instructions
        self.threads: dict[str, ThreadRecord] = {}
        self.runs: dict[str, RunRecord] = {}

    def now(self) -> int:
        """The current time as the service's integer unix seconds."""
        return int(self.clock())

    # -- threads and messages -------------------------------------------

    def new_thread(
        self,
        thread_id: str | None = None,
        *,
        metadata: Any = None,
        tool_resources: Any = None,
    ) -> ThreadRecord:
        """Create (and store) a thread."""
        obj: JSON = {
            "id": thread_id or self.ids.new("thread_"),
            "object": "thread",
            "created_at": self.now(),
            "metadata": metadata if metadata is not None else {},
        }
        if tool_resources is not None:
            obj["tool_resources"] = tool_resources
        rec = ThreadRecord(obj=obj)
        self.threads[rec.id] = rec
        return rec

    def user_message(self, thread: ThreadRecord, spec: Mapping[str, Any]) -> JSON:
        """Store a message given in a request (``additional_messages``, ``thread.messages``)."""
        now = self.now()
        msg: JSON = {
            "id": self.ids.new("msg_"),
            "object": "thread.message",
            "created_at": now,
            "assistant_id": None,
            "thread_id": thread.id,
            "run_id": None,
            "status": "completed",
            "incomplete_details": None,
            "incomplete_at": None,
            "completed_at": now,
            "role": spec.get("role", "user"),
            "content": _content_parts(spec.get("content")),
            "attachments": spec.get("attachments") or [],
            "metadata": spec.get("metadata") or {},
        }
        thread.messages.append(msg)
        return msg

    def assistant_message(self, run: RunRecord, message_id: str) -> JSON:
        """Create (and store on the thread) an in-progress assistant message of ``run``."""
        msg: JSON = {
            "id": message_id,
            "object": "thread.message",
            "created_at": self.now(),
            "assistant_id": run.obj["assistant_id"],
            "thread_id": run.thread_id,
            "run_id": run.id,
            "status": "in_progress",
            "incomplete_details": None,
            "incomplete_at": None,
            "completed_at": None,
            "role": "assistant",
            "content": [],
            "attachments": [],
            "metadata": {},
        }
        self.threads[run.thread_id].messages.append(msg)
        return msg

    # -- runs and steps ---------------------------------------------------

    def new_run(
        self,
        thread: ThreadRecord,
        body: Mapping[str, Any],
        *,
        with_tool_resources: bool = False,
        include_content: bool = False,
    ) -> RunRecord:
        """Create (and store) a queued run echoing the request fields."""
        created = self.clock()
        created_at = int(created)
        instructions = body.get("instructions")
        if instructions is None:
            instructions = self.instructions
        extra = body.get("additional_instructions")
        if extra:
            instructions = f"{instructions}\n{extra}" if instructions else extra
        truncation = body.get("truncation_strategy") or {"type": "auto"}
        obj: JSON = {
            "id": self.ids.new("run_"),
            "object": "thread.run",
            "created_at": created_at,
            "assistant_id": body.get("assistant_id"),
            "thread_id": thread.id,
            "status": "queued",
            "started_at": None,
            "expires_at": int(created + self.run_expiry_seconds),
            "cancelled_at": None,
            "failed_at": None,
            "completed_at": None,
            "required_action": None,
            "last_error": None,
            "model": body.get("model") or self.model,
            "instructions": instructions,
            "tools": [normalize_tool(t) for t in body.get("tools") or []],
        }
        if with_tool_resources:
            obj["tool_resources"] = body.get("tool_resources") or {}
        obj.update(
            {
                "metadata": body.get("metadata") or {},
                "temperature": _float_or(body.get("temperature"), 1.0),
                "top_p": _float_or(body.get("top_p"), 1.0),
                "max_completion_tokens": body.get("max_completion_tokens"),
                "max_prompt_tokens": body.get("max_prompt_tokens"),
                "truncation_strategy": {
                    "type": truncation.get("type", "auto"),
                    "last_messages": truncation.get("last_messages"),
                },
                "incomplete_details": None,
                "usage": None,
                "response_format": body.get("response_format") or "auto",
                "tool_choice": body.get("tool_choice") or "auto",
                "parallel_tool_calls": body.get("parallel_tool_calls", True),
            }
        )
        if body.get("reasoning_effort") is not None:
            obj["reasoning_effort"] = body["reasoning_effort"]
        run = RunRecord(
            obj=obj,
            thread_id=thread.id,
            include_content=include_content,
            deadline=created + self.run_expiry_seconds,
        )
        self.runs[run.id] = run
        thread.active_run_id = run.id
        return run

    def new_step(self, run: RunRecord, kind: str, details: JSON) -> JSON:
        """Create (and store) an in-progress step of ``run``."""
        step: JSON = {
            "id": self.ids.new("step_"),
            "object": "thread.run.step",
            "created_at": self.now(),
            "run_id": run.id,
            "assistant_id": run.obj["assistant_id"],
            "thread_id": run.thread_id,
            "type": kind,
            "status": "in_progress",
            "cancelled_at": None,
            "completed_at": None,
            "expires_at": run.obj["expires_at"],
            "failed_at": None,
            "last_error": None,
            "step_details": details,
            "usage": None,
        }
        run.steps.append(step)
        return step

    def run_usage(self, run: RunRecord) -> JSON | None:
        """The sum of the usage of ``run``'s steps (None when no step reported any)."""
        usages = [s["usage"] for s in run.steps if isinstance(s.get("usage"), dict)]
        if not usages:
            return None
        prompt = sum(int(u.get("prompt_tokens", 0)) for u in usages)
        completion = sum(int(u.get("completion_tokens", 0)) for u in usages)
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        }

    def release(self, run: RunRecord) -> None:
        """Mark ``run`` as no longer active on its thread."""
        thread = self.threads.get(run.thread_id)
        if thread is not None and thread.active_run_id == run.id:
            thread.active_run_id = None

    def active_run(self, thread: ThreadRecord) -> RunRecord | None:
        """The run active on ``thread`` (after expiring an overdue one), if any."""
        if thread.active_run_id is None:
            return None
        run = self.runs.get(thread.active_run_id)
        if run is None:
            thread.active_run_id = None
            return None
        self.expire_if_due(run)
        if run.status not in ACTIVE_STATUSES:
            thread.active_run_id = None
            return None
        return run

    def expire_if_due(self, run: RunRecord) -> None:
        """Expire a run left in requires_action past its deadline."""
        if run.status != "requires_action" or run.deadline is None:
            return
        if self.clock() < run.deadline:
            return
        step = run.tool_step or self.waiting_tool_step(run)
        if step is not None and step["status"] == "in_progress":
            step["status"] = "expired"
            step["expires_at"] = None
        run.obj.update({"status": "expired", "expires_at": None, "required_action": None})
        self.release(run)

    def waiting_tool_step(self, run: RunRecord) -> JSON | None:
        """The in-progress tool_calls step of a run waiting for outputs."""
        if run.tool_step is not None:
            return run.tool_step
        for step in reversed(run.steps):
            if step.get("type") == "tool_calls" and step.get("status") == "in_progress":
                return step
        return None

    def expected_call_ids(self, run: RunRecord) -> list[str]:
        """The tool call ids a run in requires_action waits for."""
        action = run.obj.get("required_action") or {}
        calls = (action.get("submit_tool_outputs") or {}).get("tool_calls") or []
        return [str(c.get("id")) for c in calls if isinstance(c, dict)]

    def apply_tool_outputs(self, run: RunRecord, outputs: list[ToolOutput]) -> JSON | None:
        """Fill the outputs in the waiting step, complete it and re-queue the run.

        Returns the completed step (None when the run had no such step).
        """
        by_id = {o.tool_call_id: o.output for o in outputs}
        step = self.waiting_tool_step(run)
        if step is not None:
            for call in step["step_details"].get("tool_calls") or []:
                fn = call.get("function") if isinstance(call, dict) else None
                if isinstance(fn, dict) and call.get("id") in by_id:
                    fn["output"] = by_id[call["id"]]
            step.update(
                {
                    "status": "completed",
                    "completed_at": self.now(),
                    "expires_at": None,
                    "usage": run.tool_step_usage
                    or {"prompt_tokens": 310, "completion_tokens": 22, "total_tokens": 332},
                }
            )
        run.obj.update({"status": "queued", "required_action": None})
        run.tool_step = None
        run.cancel_requested = False
        run.wakeup.clear()
        run.settled.clear()
        return step

    def continuation(self, run: RunRecord, outputs: list[ToolOutput]) -> Scenario:
        """What the run does after its outputs arrive."""
        pending = run.pending
        run.pending = None
        if pending is None or pending.then is None:
            return Scenario([], name="continuation")
        if isinstance(pending.then, Scenario):
            return pending.then
        return pending.then(list(outputs))

    # -- recordings -------------------------------------------------------

    def absorb(self, event: WireEvent) -> None:
        """Update the state from an event of a recorded transcript (best effort)."""
        name = event.name or ""
        if not name.startswith("thread.") or name.endswith(".delta"):
            return
        try:
            obj = json.loads(event.data)
        except ValueError:
            return
        if not isinstance(obj, dict) or not isinstance(obj.get("id"), str):
            return
        kind = obj.get("object")
        if kind == "thread":
            thread = self.threads.get(obj["id"])
            if thread is None:
                self.threads[obj["id"]] = ThreadRecord(obj=obj)
            else:
                thread.obj = obj
        elif kind == "thread.run":
            self._absorb_run(obj)
        elif kind == "thread.run.step":
            run = self.runs.get(str(obj.get("run_id")))
            if run is not None:
                _replace_or_append(run.steps, obj)
        elif kind == "thread.message":
            thread = self._thread_for(str(obj.get("thread_id")))
            _replace_or_append(thread.messages, obj)

    def _thread_for(self, thread_id: str) -> ThreadRecord:
        thread = self.threads.get(thread_id)
        if thread is None:
            thread = self.new_thread(thread_id)
        return thread

    def _absorb_run(self, obj: JSON) -> None:
        thread = self._thread_for(str(obj.get("thread_id")))
        run = self.runs.get(obj["id"])
        if run is None:
            run = RunRecord(obj=obj, thread_id=thread.id)
            self.runs[run.id] = run
        else:
            run.obj = obj
        if run.status in ACTIVE_STATUSES:
            thread.active_run_id = run.id
            if run.status == "requires_action":
                run.settled.set()
                run.deadline = self.clock() + self.run_expiry_seconds
        else:
            run.settled.set()
            self.release(run)


def _replace_or_append(items: list[JSON], obj: JSON) -> None:
    for i, item in enumerate(items):
        if item.get("id") == obj["id"]:
            items[i] = obj
            return
    items.append(obj)


def page(
    items: Iterable[JSON],
    *,
    order: str,
    limit: int,
    after: str | None,
    before: str | None,
) -> JSON:
    """A list response ``{"object":"list","data","first_id","last_id","has_more"}``."""
    data = list(items)
    if order == "desc":
        data.reverse()
    ids = [d.get("id") for d in data]
    if after is not None and after in ids:
        data = data[ids.index(after) + 1 :]
    elif before is not None and before in ids:
        data = data[: ids.index(before)]
    has_more = len(data) > limit
    data = data[:limit]
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": has_more,
    }
