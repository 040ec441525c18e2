"""The fake server's Responses API: ``/v1/responses`` and the Conversations it needs.

Routes (registered by :class:`~streamrun.testing.FakeAssistantsServer` under
its base path, endpoint names in brackets, as in the request log and in
:attr:`Faults.endpoints <streamrun.testing.Faults.endpoints>`):

* ``POST /responses`` [create_response] — the body is validated like the
  real API (``streamrun._responses_requests``; ``model`` and ``input``
  required, unknown keys rejected). The scenario is chosen as for runs
  (``x-fake-scenario``, :meth:`queue_scenario`, the conversation's
  :meth:`set_thread_scenario`, the default scenario or reply engine, which
  gets the text of the last user message of ``input``) and played by
  :class:`~streamrun.testing._responses_engine.ResponsePlayer`:
  ``"stream": true`` answers the events as SSE (``event: <type>`` +
  ``data: <json>``, no ``[DONE]``), otherwise the final response JSON (a
  ``background`` response answers at once, ``queued``).
* A response whose scenario ends with :class:`FunctionCalls` completes with
  its ``function_call`` items and waits: the next request with
  ``previous_response_id`` (or in the same ``conversation``, or stateless with
  the call's ``function_call_output`` in ``input``) must answer every call;
  it plays the step's ``then``. A missing output or an unknown ``call_id`` is
  a 400 with the real API's message.
* ``GET /responses/{id}`` [get_response] — the response JSON; with
  ``?stream=true&starting_after=N`` (background responses only) the stored
  events after sequence number N, then the live ones while it still runs.
* ``POST /responses/{id}/cancel`` [cancel_response] — background responses
  only (400 otherwise); a running one ends ``cancelled`` with a
  ``response.cancelled`` event, a finished one is returned unchanged.
* ``POST /conversations`` [create_conversation], ``GET /conversations/{id}``
  [get_conversation], ``GET /conversations/{id}/items``
  [list_conversation_items]: the input and output items of every response
  in the conversation are appended to it when the response ends.

A response plays as a task of its own, so a dropped connection (``Faults``
``drop_after``) does not stop it: a background response's resume request
gets the rest.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs
from aiohttp import web

from streamrun._exceptions import ValidationError
from streamrun._responses_requests import validate_responses_body

from ._engine import Channel
from ._faults import Faults
from ._responses_engine import ResponseEvent, ResponsePlayer, Wait
from ._scenarios import FunctionCalls, Scenario, ToolOutput
from ._state import JSON
from ._wire import WireEvent, dumps, validation_response

if TYPE_CHECKING:
    from ._server import FakeAssistantsServer

__all__ = ["RESPONSES_ENDPOINTS", "ConversationRecord", "ResponseRecord", "ResponsesAPI"]

#: The endpoint names of the Responses API routes.
RESPONSES_ENDPOINTS: frozenset[str] = frozenset(
    {
        "create_response",
        "get_response",
        "cancel_response",
        "create_conversation",
        "get_conversation",
        "list_conversation_items",
    }
)

TERMINAL: frozenset[str] = frozenset({"completed", "failed", "incomplete", "cancelled"})

_CONVERSATION_KEYS = ("items", "metadata")


@attrs.define(eq=False)
class ResponseRecord:
    """A response: its JSON (updated as it plays), its events and what it waits for."""

    obj: JSON
    background: bool
    stored: bool
    conversation_id: str | None
    input_items: list[JSON]
    #: The events played so far (background responses, for resumed streams).
    events: list[tuple[int, WireEvent]] = attrs.Factory(list)
    #: The streams following it live.
    listeners: set[Channel] = attrs.Factory(set)
    #: The FunctionCalls step the response waits for (it completed with its calls).
    pending: FunctionCalls | None = None
    call_ids: list[str] = attrs.Factory(list)
    cancel_requested: bool = False
    wakeup: asyncio.Event = attrs.Factory(asyncio.Event)
    done: asyncio.Event = attrs.Factory(asyncio.Event)

    @property
    def id(self) -> str:
        """The response id."""
        return str(self.obj["id"])

    @property
    def status(self) -> str:
        """The response's current status."""
        return str(self.obj["status"])


@attrs.define(eq=False)
class ConversationRecord:
    """A conversation and its items (oldest first)."""

    obj: JSON
    items: list[JSON] = attrs.Factory(list)
    #: Its newest response, while that response waits for tool outputs.
    waiting: ResponseRecord | None = None


def _conversation_id(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return str(value["id"])
    return None


def _input_items(value: object) -> list[JSON]:
    """``input`` as a list of items (a string is one user message)."""
    if isinstance(value, str):
        return [{"type": "message", "role": "user", "content": value}]
    if isinstance(value, list):
        return [copy.deepcopy(v) for v in value if isinstance(v, dict)]
    return []


def _is_message(item: JSON) -> bool:
    return bool(item.get("type", "message") == "message")


def _part_texts(content: object) -> str:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    texts = []
    for part in content:
        if isinstance(part, dict) and isinstance(part.get("text"), str):
            texts.append(part["text"])
    return "".join(texts)


def last_user_text(items: Sequence[JSON]) -> str | None:
    """The text of the last user message among ``items`` (None when there is none)."""
    for item in reversed(items):
        if _is_message(item) and item.get("role") == "user":
            return _part_texts(item.get("content"))
    return None


def _tool_output(value: object) -> str:
    return value if isinstance(value, str) else _part_texts(value)


class ResponsesAPI:
    """The Responses and Conversations endpoints of one fake server, and their state."""

    def __init__(self, server: FakeAssistantsServer) -> None:
        self._server = server
        self.responses: dict[str, ResponseRecord] = {}
        self.conversations: dict[str, ConversationRecord] = {}
        #: call_id -> the response that waits for its output.
        self._waiting_calls: dict[str, ResponseRecord] = {}
        self.created = 0

    def routes(self, base: str) -> list[web.RouteDef]:
        """The routes under ``base`` (the server's base path)."""
        response = f"{base}/responses/{{response_id}}"
        conversation = f"{base}/conversations/{{conversation_id}}"
        return [
            web.post(f"{base}/responses", self._h_create, name="create_response"),
            web.get(response, self._h_get, name="get_response"),
            web.post(f"{response}/cancel", self._h_cancel, name="cancel_response"),
            web.post(
                f"{base}/conversations", self._h_create_conversation, name="create_conversation"
            ),
            web.get(conversation, self._h_get_conversation, name="get_conversation"),
            web.get(f"{conversation}/items", self._h_list_items, name="list_conversation_items"),
        ]

    # -- ids and objects ----------------------------------------------------

    def _new_id(self, prefix: str) -> str:
        ids = self._server._ids
        if prefix == "call":
            return ids.new("call_")
        return ids.hex(prefix + "_")

    def _item_with_id(self, item: JSON) -> JSON:
        """An input item as a conversation stores it (an id; message parts as objects)."""
        stored = copy.deepcopy(item)
        if _is_message(stored):
            content = stored.get("content")
            if isinstance(content, str):
                kind = "output_text" if stored.get("role") == "assistant" else "input_text"
                stored["content"] = [{"type": kind, "text": content}]
            stored = {
                "type": "message",
                "id": stored.get("id") or self._new_id("msg"),
                "status": stored.get("status") or "completed",
                "role": stored.get("role"),
                "content": stored["content"],
            }
        elif "id" not in stored:
            prefix = "fco" if stored.get("type") == "function_call_output" else "item"
            stored = {"id": self._new_id(prefix), **stored}
        return stored

    def new_conversation(
        self,
        conversation_id: str | None = None,
        items: Sequence[JSON] = (),
        metadata: Any = None,
    ) -> ConversationRecord:
        """Create a conversation holding ``items``."""
        obj: JSON = {
            "id": conversation_id or self._new_id("conv"),
            "object": "conversation",
            "created_at": self._server._store.now(),
            "metadata": metadata or {},
        }
        record = ConversationRecord(obj, [self._item_with_id(i) for i in items])
        self.conversations[record.obj["id"]] = record
        return record

    def _response_obj(
        self, body: JSON, *, background: bool, store: bool, conversation_id: str | None
    ) -> JSON:
        return {
            "id": self._new_id("resp"),
            "object": "response",
            "created_at": self._server._store.now(),
            "status": "in_progress",
            "background": background,
            "completed_at": None,
            "conversation": {"id": conversation_id} if conversation_id else None,
            "error": None,
            "incomplete_details": None,
            "instructions": body.get("instructions"),
            "max_output_tokens": body.get("max_output_tokens"),
            "max_tool_calls": body.get("max_tool_calls"),
            "model": body["model"],
            "output": [],
            "parallel_tool_calls": body.get("parallel_tool_calls") is not False,
            "previous_response_id": body.get("previous_response_id"),
            "prompt_cache_key": body.get("prompt_cache_key"),
            "reasoning": body.get("reasoning") or {"effort": None, "summary": None},
            "safety_identifier": body.get("safety_identifier"),
            "service_tier": body.get("service_tier") or "default",
            "store": store,
            "temperature": body.get("temperature", 1.0),
            "text": body.get("text") or {"format": {"type": "text"}, "verbosity": "medium"},
            "tool_choice": body.get("tool_choice") or "auto",
            "tools": copy.deepcopy(body.get("tools") or []),
            "top_logprobs": body.get("top_logprobs", 0),
            "top_p": body.get("top_p", 1.0),
            "truncation": body.get("truncation") or "disabled",
            "usage": None,
            "user": body.get("user"),
            "metadata": copy.deepcopy(body.get("metadata") or {}),
        }

    # -- inspection -----------------------------------------------------------

    def find(self, response_id: str) -> ResponseRecord | None:
        """The stored response ``response_id`` (None if unknown or not stored)."""
        record = self.responses.get(response_id)
        return record if record is not None and record.stored else None

    # -- handlers: responses --------------------------------------------------

    async def _h_create(self, request: web.Request) -> web.StreamResponse:
        s = self._server
        faults, denied = await s._preamble(request, "create_response")
        if denied is not None:
            return denied
        body, bad = await s._body(request)
        if bad is not None:
            return bad
        bad = self._validate(body)
        if bad is not None:
            return bad
        stream = body.get("stream") is True
        background = body.get("background") is True
        store = body.get("store") is not False or background
        items = _input_items(body.get("input"))
        conversation: ConversationRecord | None = None
        conversation_id = _conversation_id(body.get("conversation"))
        if conversation_id is not None:
            conversation = self.conversations.get(conversation_id)
            if conversation is None:
                return s._error(
                    404,
                    f"Conversation with id '{conversation_id}' not found.",
                    param="conversation",
                )
        waiting, bad = self._waiting(body.get("previous_response_id"), conversation, items)
        if bad is not None:
            return bad
        if waiting is not None:
            scenario, bad = self._continuation(waiting, items)
        else:
            bad = self._check_outputs(items)
            scenario, bad = (None, bad) if bad else self._new_turn(request, conversation_id, items)
        if bad is not None:
            return bad
        assert scenario is not None
        record = ResponseRecord(
            obj=self._response_obj(
                body, background=background, store=store, conversation_id=conversation_id
            ),
            background=background,
            stored=store,
            conversation_id=conversation_id,
            input_items=items,
        )
        self.responses[record.id] = record
        self.created += 1
        if conversation is not None:
            conversation.waiting = None
        player = ResponsePlayer(
            scenario,
            response=record.obj,
            new_id=self._new_id,
            queued=background,
            now=s._store.now,
        )
        if background:
            record.obj["status"] = "queued"
        snapshot = copy.deepcopy(record.obj)
        if id(request) in s._lost_replies:
            self._start(record, player, None)
            assert faults is not None
            return s._fault_error(faults)
        channel = Channel() if stream else None
        if channel is not None:
            record.listeners.add(channel)
        self._start(record, player, faults)
        if channel is not None:
            return await self._serve(request, record, channel, faults)
        if background:
            return s._json(snapshot)
        await record.done.wait()
        return s._json(record.obj)

    def _validate(self, body: JSON) -> web.Response | None:
        try:
            validate_responses_body(body)
            if "input" not in body and body.get("prompt") is None:
                raise ValidationError("input", "is required")
        except ValidationError as exc:
            message, param, code = validation_response(exc)
            return self._server._error(400, message, param=param, code=code)
        return None

    def _waiting(
        self,
        previous_id: object,
        conversation: ConversationRecord | None,
        items: list[JSON],
    ) -> tuple[ResponseRecord | None, web.Response | None]:
        """The response that this request continues with tool outputs (if any)."""
        if isinstance(previous_id, str):
            previous = self.find(previous_id)
            if previous is None:
                return None, self._server._error(
                    400,
                    f"Previous response with id '{previous_id}' not found.",
                    param="previous_response_id",
                    code="previous_response_not_found",
                )
            return (previous if previous.pending is not None else None), None
        if conversation is not None:
            return conversation.waiting, None
        # Stateless: the history is in ``input``; the newest response whose
        # calls the outputs answer is the one continued.
        found = [
            self._waiting_calls[c] for c in self._output_ids(items) if c in self._waiting_calls
        ]
        if not found:
            return None, None
        order = list(self.responses)
        return max(found, key=lambda r: order.index(r.id)), None

    @staticmethod
    def _output_ids(items: Sequence[JSON]) -> list[str]:
        return [str(i.get("call_id")) for i in items if i.get("type") == "function_call_output"]

    @staticmethod
    def _call_ids(items: Sequence[JSON]) -> list[str]:
        return [str(i.get("call_id")) for i in items if i.get("type") == "function_call"]

    def _check_outputs(
        self, items: Sequence[JSON], expected: Sequence[str] = ()
    ) -> web.Response | None:
        """Every output answers a call, every call in ``input`` has its output."""
        calls = set(self._call_ids(items)) | set(expected)
        outputs = self._output_ids(items)
        for call_id in outputs:
            if call_id not in calls:
                return self._server._error(
                    400,
                    f"No tool call found for function call output with call_id {call_id}.",
                    param="input",
                )
        for call_id in [*expected, *self._call_ids(items)]:
            if call_id not in outputs:
                return self._server._error(
                    400, f"No tool output found for function call {call_id}.", param="input"
                )
        return None

    def _continuation(
        self, waiting: ResponseRecord, items: Sequence[JSON]
    ) -> tuple[Scenario | None, web.Response | None]:
        bad = self._check_outputs(items, waiting.call_ids)
        if bad is not None:
            return None, bad
        given = {
            str(i.get("call_id")): _tool_output(i.get("output"))
            for i in items
            if i.get("type") == "function_call_output"
        }
        outputs = [ToolOutput(c, given[c]) for c in waiting.call_ids]
        pending = waiting.pending
        assert pending is not None
        then = pending.then
        if then is None:
            return Scenario([], name="continuation"), None
        if isinstance(then, Scenario):
            return then, None
        try:
            scenario = then(outputs)
            if not isinstance(scenario, Scenario):
                raise TypeError(f"the continuation returned {scenario!r}")
        except Exception as exc:  # a user's continuation callable failed
            self._server.internal_errors.append(exc)
            return None, self._server._error(
                500, f"The continuation scenario failed: {exc!r}", type="server_error"
            )
        return scenario, None

    def _new_turn(
        self, request: web.Request, conversation_id: str | None, items: Sequence[JSON]
    ) -> tuple[Scenario | None, web.Response | None]:
        s = self._server
        chosen, bad = s._pick_scenario(request, conversation_id)
        if bad is not None:
            return None, bad
        if isinstance(chosen, Scenario):
            return chosen, None
        assert chosen is not None
        try:
            scenario = chosen(last_user_text(items))
            if not isinstance(scenario, Scenario):
                raise TypeError(f"the reply engine returned {scenario!r}")
        except Exception as exc:  # a user's reply engine failed
            s.internal_errors.append(exc)
            return None, s._error(500, f"The reply engine failed: {exc!r}", type="server_error")
        return scenario, None

    async def _h_get(self, request: web.Request) -> web.StreamResponse:
        s = self._server
        faults, denied = await s._preamble(request, "get_response")
        if denied is not None:
            return denied
        response_id = request.match_info["response_id"]
        record = self.find(response_id)
        if record is None:
            return self._no_response(response_id)
        stream = request.query.get("stream", "false").lower()
        if stream not in ("true", "false"):
            return s._error(
                400,
                f"Invalid 'stream': expected 'true' or 'false', got {stream!r}.",
                param="stream",
                code="invalid_value",
            )
        if stream == "false":
            return s._json(record.obj)
        if not record.background:
            return s._error(
                400,
                "Streaming a stored response is only supported for responses created with "
                "background=true.",
                param="stream",
            )
        raw = request.query.get("starting_after")
        after = -1
        if raw is not None:
            try:
                after = int(raw)
            except ValueError:
                after = -2
            if after < 0:
                return s._error(
                    400,
                    f"Invalid 'starting_after': expected an integer >= 0, got {raw!r}.",
                    param="starting_after",
                    code="invalid_value",
                )
        channel = Channel()
        for number, event in record.events:
            if number > after:
                channel.send(event)
        if record.done.is_set():
            channel.close()
        else:
            record.listeners.add(channel)
        return await self._serve(request, record, channel, faults)

    async def _h_cancel(self, request: web.Request) -> web.StreamResponse:
        s = self._server
        _, denied = await s._preamble(request, "cancel_response")
        if denied is not None:
            return denied
        response_id = request.match_info["response_id"]
        record = self.find(response_id)
        if record is None:
            return self._no_response(response_id)
        if not record.background:
            return s._error(400, "Cannot cancel a synchronous response.")
        if record.status not in TERMINAL:
            record.cancel_requested = True
            record.wakeup.set()
            await record.done.wait()
        return s._json(record.obj)

    def _no_response(self, response_id: str) -> web.Response:
        return self._server._error(404, f"Response with id '{response_id}' not found.")

    # -- playing --------------------------------------------------------------

    def _start(self, record: ResponseRecord, player: ResponsePlayer, faults: Faults | None) -> None:
        delay = faults.delay if faults is not None else 0.0
        self._server._spawn(self._play(record, player, delay))

    async def _play(self, record: ResponseRecord, player: ResponsePlayer, delay: float) -> None:
        try:
            for item in player.play():
                if isinstance(item, Wait):
                    await self._sleep(record, item.seconds)
                else:
                    self._publish(record, item)
                    if record.status in TERMINAL:
                        # The pacing is between events: nothing follows the terminal
                        # one, so the body ends now (the channel closes in _settle).
                        continue
                    if delay > 0:
                        await self._sleep(record, delay)
                    else:
                        await asyncio.sleep(0)
                if record.cancel_requested:
                    break
            if record.cancel_requested and record.status not in TERMINAL:
                for output in record.obj["output"]:
                    if output.get("status") == "in_progress":
                        output["status"] = "incomplete"
                self._publish(record, player.cancel())
        finally:
            self._settle(record, player)

    async def _sleep(self, record: ResponseRecord, seconds: float) -> None:
        try:
            await asyncio.wait_for(record.wakeup.wait(), seconds)
        except asyncio.TimeoutError:
            pass

    def _publish(self, record: ResponseRecord, event: ResponseEvent) -> None:
        wire = WireEvent.build(event.type, dumps(event.data))
        if record.background:
            record.events.append((int(event.data["sequence_number"]), wire))
        for channel in record.listeners:
            channel.send(wire)

    def _settle(self, record: ResponseRecord, player: ResponsePlayer) -> None:
        obj = record.obj
        status = record.status
        if status == "completed" and player.pending is not None:
            record.pending = player.pending
            record.call_ids = [
                str(o["call_id"]) for o in obj["output"] if o.get("type") == "function_call"
            ]
            for call_id in record.call_ids:
                self._waiting_calls[call_id] = record
        conversation = self.conversations.get(record.conversation_id or "")
        if conversation is not None and status in TERMINAL:
            conversation.items += [self._item_with_id(i) for i in record.input_items]
            conversation.items += copy.deepcopy(obj["output"])
            if record.pending is not None:
                conversation.waiting = record
        record.done.set()
        for channel in record.listeners:
            channel.close()
        record.listeners.clear()

    async def _serve(
        self,
        request: web.Request,
        record: ResponseRecord,
        channel: Channel,
        faults: Faults | None,
    ) -> web.StreamResponse:
        try:
            return await self._server._serve_stream(request, channel, faults)
        finally:
            record.listeners.discard(channel)

    # -- handlers: conversations ----------------------------------------------

    async def _h_create_conversation(self, request: web.Request) -> web.StreamResponse:
        s = self._server
        _, denied = await s._preamble(request, "create_conversation")
        if denied is not None:
            return denied
        body, bad = await s._body(request)
        if bad is not None:
            return bad
        for key in body:
            if key not in _CONVERSATION_KEYS:
                return s._error(
                    400,
                    f"Unrecognized request argument supplied: {key}",
                    param=key,
                    code="unknown_parameter",
                )
        items = body.get("items")
        try:
            if items is not None:
                if not isinstance(items, list):
                    raise ValidationError("items", "expected an array of items")
                if len(items) > 20:
                    raise ValidationError("items", f"must hold at most 20 items, got {len(items)}")
                try:
                    validate_responses_body({"model": "m", "input": items})
                except ValidationError as exc:
                    raise ValidationError("items" + exc.path[len("input") :], exc.rule) from None
            validate_responses_body({"model": "m", "metadata": body.get("metadata")})
        except ValidationError as exc:
            message, param, code = validation_response(exc)
            return s._error(400, message, param=param, code=code)
        record = self.new_conversation(items=items or [], metadata=body.get("metadata"))
        return s._json(record.obj)

    def _conversation(
        self, request: web.Request
    ) -> tuple[ConversationRecord | None, web.Response | None]:
        conversation_id = request.match_info["conversation_id"]
        record = self.conversations.get(conversation_id)
        if record is None:
            return None, self._server._error(
                404, f"Conversation with id '{conversation_id}' not found."
            )
        return record, None

    async def _h_get_conversation(self, request: web.Request) -> web.StreamResponse:
        _, denied = await self._server._preamble(request, "get_conversation")
        if denied is not None:
            return denied
        record, bad = self._conversation(request)
        if bad is not None:
            return bad
        assert record is not None
        return self._server._json(record.obj)

    async def _h_list_items(self, request: web.Request) -> web.StreamResponse:
        _, denied = await self._server._preamble(request, "list_conversation_items")
        if denied is not None:
            return denied
        record, bad = self._conversation(request)
        if bad is not None:
            return bad
        assert record is not None
        listing, bad = self._server._page(request, record.items)
        return bad or self._server._json(listing)
