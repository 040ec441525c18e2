"""Responses API events → the run-stream events users already handle: pure, no I/O.

A :class:`ResponsesMapper` is fed the typed events of a Responses stream
(:mod:`streamrun._responses_events`) one by one and returns, for each, the
run-stream events (:mod:`streamrun._events`) it stands for, ready for the
:class:`~streamrun._accumulate.Accumulator`, the iterator and the handler.
Every event returned keeps the Responses event it came from in ``raw``; a
Responses event with no counterpart becomes an :class:`~streamrun.UnknownEvent`
with its name and JSON, so every Responses event yields at least one event.

The mapping (README "Using the Responses API" has the same table):

=========================================  ==========================================
Responses event                            run-stream events
=========================================  ==========================================
``response.created``                       ``ThreadRunCreated``
``response.queued``                        ``ThreadRunQueued`` (1)
``response.in_progress``                   ``ThreadRunInProgress`` (1)
``response.completed``                     ``ThreadRunRequiresAction`` when the output
                                           has calls that wait for the client (2),
                                           else ``ThreadRunCompleted``
``response.incomplete``                    ``ThreadRunIncomplete``
``response.failed``                        ``ThreadRunFailed`` (``last_error``)
``response.cancelled`` / status cancelled  ``ThreadRunCancelled``
``error``                                  ``ErrorEvent``
``output_item.added`` message              ``ThreadRunStepCreated`` (message_creation)
                                           + ``ThreadMessageCreated``
``output_item.added`` call item (3)        ``ThreadRunStepCreated`` (tool_calls)
                                           + ``ThreadRunStepDelta`` announcing the call
``output_item.done`` message               deltas for parts never streamed (4),
                                           ``ThreadMessageCompleted`` (or
                                           ``…Incomplete``) + ``ThreadRunStepCompleted``
``output_item.done`` hosted call item      ``ThreadRunStepCompleted`` with the call
``output_item.done`` client-side call (2)  the arguments as one delta if never
                                           streamed (else ``UnknownEvent``); its step
                                           waits (5)
``output_text.delta``                      ``ThreadMessageDelta`` (text)
``refusal.delta``                          ``ThreadMessageDelta`` (refusal)
``output_text.annotation.added``           ``ThreadMessageDelta`` (annotation)
``function_call_arguments.delta``          ``ThreadRunStepDelta`` (function arguments)
``code_interpreter_call_code.delta``       ``ThreadRunStepDelta`` (code input)
``*.done`` / ``content_part.*`` with text  one delta with the whole text (4)
never streamed
anything else (reasoning items and          ``UnknownEvent(event=<type>, data=<JSON>)``
summaries, tool progress, ``.done`` of
streamed text, unknown events)
=========================================  ==========================================

(1) A response first seen at ``response.queued`` / ``in_progress`` (a stream
resumed with ``starting_after``) gets ``ThreadRunCreated`` first.
(2) ``function_call`` items, and ``custom_tool_call``, ``computer_call``,
``shell_call``, ``local_shell_call``, ``apply_patch_call`` and
``mcp_approval_request`` items (:data:`CLIENT_CALL_TYPES`), listed in
``required_action.submit_tool_outputs.tool_calls`` by ``call_id``.
(3) Every item but ``message`` and ``reasoning``: ``function_call`` →
``FunctionToolCall``, ``file_search_call`` → ``FileSearchToolCall``,
``code_interpreter_call`` → ``CodeInterpreterToolCall``, any other type
(web search, MCP, computer, shell …, unknown) → ``UnknownToolCall`` holding
the item's JSON. Reasoning items make no step.
(4) Some compatible servers send no deltas: a part (or function arguments,
or code) whose text first arrives in its ``.done`` event, ``content_part``
event or completed item yields one delta with the whole text there.

(5) As an Assistants step waits for ``submit_tool_outputs``: the step of a
call the client must answer ends when the next response fed to the mapper
starts (``ThreadRunStepCompleted`` after its ``ThreadRunCreated``, function
outputs from :meth:`ResponsesMapper.set_tool_outputs`), or, when its own
response ends without waiting, before the run event
(``ThreadRunStepFailed`` / ``…Cancelled`` / ``…Completed``).

Identities: the run id is the response id (after a tool round, the run is
the newest response: feed the next response's events to the same mapper);
the thread id is the conversation id when the response has one, else the
one given to the mapper, else ``"thread_" + <first response id seen>``
(stable across the rounds of one mapper). A message's id is its item id;
the step of an item is ``"step_" + <item id>``; a tool call's id is its
``call_id`` (what a ``function_call_output`` answers), else the item id.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from . import _json
from ._converter import converter
from ._events import (
    DoneEvent,
    ErrorEvent,
    Event,
    ThreadMessageCompleted,
    ThreadMessageCreated,
    ThreadMessageDelta,
    ThreadMessageIncomplete,
    ThreadRunCancelled,
    ThreadRunCompleted,
    ThreadRunCreated,
    ThreadRunFailed,
    ThreadRunIncomplete,
    ThreadRunInProgress,
    ThreadRunQueued,
    ThreadRunRequiresAction,
    ThreadRunStepCancelled,
    ThreadRunStepCompleted,
    ThreadRunStepCreated,
    ThreadRunStepDelta,
    ThreadRunStepFailed,
    UnknownEvent,
)
from ._models import (
    AnnotationDelta,
    CodeInterpreter,
    CodeInterpreterDelta,
    CodeInterpreterLogs,
    CodeInterpreterOutput,
    CodeInterpreterTool,
    CodeInterpreterToolCall,
    CodeInterpreterToolCallDelta,
    ErrorObject,
    FileCitation,
    FileCitationAnnotation,
    FileCitationDeltaAnnotation,
    FilePath,
    FilePathAnnotation,
    FilePathDeltaAnnotation,
    FileSearch,
    FileSearchResult,
    FileSearchResultContent,
    FileSearchTool,
    FileSearchToolCall,
    FileSearchToolCallDelta,
    FunctionCall,
    FunctionCallDelta,
    FunctionDefinition,
    FunctionTool,
    FunctionToolCall,
    FunctionToolCallDelta,
    IncompleteDetails,
    LastError,
    Message,
    MessageContent,
    MessageContentDelta,
    MessageCreation,
    MessageCreationStepDetails,
    MessageDelta,
    MessageDeltaEvent,
    RefusalContentBlock,
    RefusalDeltaBlock,
    RequiredAction,
    RequiredActionFunction,
    RequiredActionFunctionToolCall,
    RequiredActionSubmitToolOutputs,
    Run,
    RunStep,
    RunStepDelta,
    RunStepDeltaEvent,
    StepDetails,
    Text,
    TextContentBlock,
    TextDelta,
    TextDeltaBlock,
    Tool,
    ToolCall,
    ToolCallDelta,
    ToolCallsStepDetails,
    ToolCallsStepDetailsDelta,
    ToolChoice,
    ToolChoiceFunction,
    UnknownAnnotation,
    UnknownAnnotationDelta,
    UnknownCodeInterpreterOutput,
    UnknownContentBlock,
    UnknownTool,
    UnknownToolCall,
    UnknownToolCallDelta,
    Usage,
)
from ._responses_events import (
    RESPONSE_EVENT_CLASSES,
    RESPONSES_TERMINAL_EVENTS,
    ResponseCodeInterpreterCallCodeDeltaEvent,
    ResponseCodeInterpreterCallCodeDoneEvent,
    ResponseContentPartAddedEvent,
    ResponseContentPartDoneEvent,
    ResponseErrorEvent,
    ResponseEvent,
    ResponseFunctionCallArgumentsDeltaEvent,
    ResponseFunctionCallArgumentsDoneEvent,
    ResponseOutputItemAddedEvent,
    ResponseOutputItemDoneEvent,
    ResponseOutputTextAnnotationAddedEvent,
    ResponseOutputTextDeltaEvent,
    ResponseOutputTextDoneEvent,
    ResponseRefusalDeltaEvent,
    ResponseRefusalDoneEvent,
    UnknownResponseEvent,
)
from ._responses_models import (
    ResponseCodeInterpreterCall,
    ResponseContentPart,
    ResponseFileCitation,
    ResponseFilePath,
    ResponseFileSearchCall,
    ResponseFunctionCall,
    ResponseObject,
    ResponseOutputItem,
    ResponseOutputMessage,
    ResponseOutputText,
    ResponseReasoningItem,
    ResponseRefusal,
    ResponseTextAnnotation,
    UnknownResponseAnnotation,
    UnknownResponseContentPart,
    UnknownResponseOutputItem,
)

__all__ = ["CLIENT_CALL_TYPES", "ResponsesMapper", "run_and_messages"]

CLIENT_CALL_TYPES = frozenset(
    {
        "function_call",
        "custom_tool_call",
        "computer_call",
        "shell_call",
        "local_shell_call",
        "apply_patch_call",
        "mcp_approval_request",
    }
)
"""Output item types that wait for the client: a response completing with any of
them maps to ``ThreadRunRequiresAction``."""

_LIFECYCLE = {
    "response.created": ThreadRunCreated,
    "response.queued": ThreadRunQueued,
    "response.in_progress": ThreadRunInProgress,
    "response.completed": ThreadRunCompleted,
    "response.incomplete": ThreadRunIncomplete,
    "response.failed": ThreadRunFailed,
    "response.cancelled": ThreadRunCancelled,
}
_LIFECYCLE_CLASSES = tuple(RESPONSE_EVENT_CLASSES[name] for name in _LIFECYCLE)
_TERMINAL_BY_STATUS: dict[str, Any] = {
    "completed": ThreadRunCompleted,
    "incomplete": ThreadRunIncomplete,
    "failed": ThreadRunFailed,
    "cancelled": ThreadRunCancelled,
}
_STATUS_OF = {
    ThreadRunCreated: "queued",
    ThreadRunQueued: "queued",
    ThreadRunInProgress: "in_progress",
    ThreadRunCompleted: "completed",
    ThreadRunIncomplete: "incomplete",
    ThreadRunFailed: "failed",
    ThreadRunCancelled: "cancelled",
}

_STEP_END: dict[str, Any] = {
    "failed": ThreadRunStepFailed,
    "incomplete": ThreadRunStepFailed,
    "cancelled": ThreadRunStepCancelled,
}
_STEP_STATUS_OF: dict[Any, str] = {
    ThreadRunStepCompleted: "completed",
    ThreadRunStepFailed: "failed",
    ThreadRunStepCancelled: "cancelled",
}

_new = object.__new__
_set = object.__setattr__


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _opt_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _number(value: object) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return 0.0


def _json_of(event: Any, key: str) -> dict[str, Any]:
    """The decoded JSON of ``event.raw[key]`` (an item, part or annotation)."""
    raw = event.raw
    value = raw.get(key) if isinstance(raw, dict) else None
    return value if isinstance(value, dict) else {}


def _event_json(event: Any) -> Any:
    """What an ``UnknownEvent`` built from ``event`` carries as ``data``."""
    if isinstance(event, UnknownResponseEvent):
        return event.data
    return event.raw if event.raw is not None else converter.unstructure(event)


class _Item:
    """What the mapper remembers about one output item of the current response."""

    __slots__ = (
        "call_id",
        "created_at",
        "final",
        "kind",
        "message_id",
        "run_id",
        "step_id",
        "streamed",
        "type",
    )

    def __init__(self, kind: str, type_: str, item_id: str, call_id: str) -> None:
        self.kind = kind  # "message" | "call" | "reasoning"
        self.type = type_
        self.message_id = item_id
        self.step_id = "step_" + item_id
        self.call_id = call_id
        self.run_id = ""  # the response the item belongs to (set by the mapper)
        self.created_at = 0
        self.final: ToolCall | None = None  # a client-side call, once its item is done
        # message: content indexes whose text reached a delta; call: {0} once
        # arguments / code reached a delta.
        self.streamed: set[int] = set()


def _item_kind(item: ResponseOutputItem) -> str:
    if isinstance(item, ResponseOutputMessage):
        return "message"
    if isinstance(item, ResponseReasoningItem):
        return "reasoning"
    return "call"


def _item_ids(item: ResponseOutputItem, raw: dict[str, Any]) -> tuple[str, str]:
    """``(item id, call id)`` of an output item (either falls back to the other)."""
    item_id = _str(item.id)
    is_function = isinstance(item, ResponseFunctionCall)
    call_id = item.call_id if is_function else _str(raw.get("call_id"))  # type: ignore[union-attr]
    return item_id or call_id, call_id or item_id


class ResponsesMapper:
    """Turns typed Responses events into run-stream events, one event at a time.

    Pure and synchronous: :meth:`feed` takes one event of
    :mod:`streamrun._responses_events` and returns the run-stream events it
    maps to (see the module docstring for the table). Feed every round of a
    tool loop to the same mapper: each new response id starts a new run in
    the same thread.

    ``thread_id`` fixes the thread id used when responses have no
    conversation (by default ``"thread_" + <first response id>``).
    """

    __slots__ = (
        "_items",
        "_outputs",
        "_pending",
        "_run",
        "_thread_id",
        "client_calls",
        "last_sequence_number",
        "response",
        "terminal_event",
    )

    def __init__(self, *, thread_id: str | None = None) -> None:
        self._thread_id = thread_id
        self._run: Run | None = None
        self._items: dict[str, _Item] = {}
        # Client-side calls whose step waits, in the order they were done (a dict
        # by identity, not a list: telling whether an item is already there must
        # not compare it with every earlier one).
        self._pending: dict[_Item, None] = {}
        self._outputs: dict[str, str] = {}
        self.response: ResponseObject | None = None
        """The response of the last ``response.*`` status event (the newest round)."""
        self.last_sequence_number: int | None = None
        """The ``sequence_number`` of the last event fed that had one (for
        ``starting_after`` when resuming a background response)."""
        self.terminal_event: ResponseEvent | None = None
        """The terminal ``response.*`` event of the current response, once fed
        (the stream is then settled), else ``None``."""
        self.client_calls: list[ResponseOutputItem] = []
        """The output items the last completed response waits on the client for
        (function calls first among them), in output order."""

    # -- public API --------------------------------------------------------

    @property
    def thread_id(self) -> str | None:
        """The thread id of the mapped events (``None`` before the first response)."""
        return self._thread_id

    @property
    def run(self) -> Run | None:
        """The run (the newest response) as of the last status event."""
        return self._run

    @property
    def settled(self) -> bool:
        """True once the current response reached a terminal ``response.*`` event."""
        return self.terminal_event is not None

    def set_tool_outputs(self, outputs: Mapping[str, str]) -> None:
        """Record the outputs sent for waiting calls (``call_id`` → output).

        The steps of the calls a response waited on complete when the next
        response (the continuation) starts, with these outputs in their
        function calls, as an Assistants step completes after
        ``submit_tool_outputs``.
        """
        self._outputs.update(outputs)

    def feed(self, event: ResponseEvent | DoneEvent) -> list[Event]:
        """Map one Responses event; the run-stream events it stands for, in order.

        Every event returned has ``raw`` set to ``event``. A ``DoneEvent``
        (``data: [DONE]`` from a compatible server) maps to nothing.
        """
        handler = _HANDLERS.get(type(event))
        if handler is None:
            if isinstance(event, DoneEvent):
                return []
            handler = ResponsesMapper._on_unknown
        seq = event.sequence_number  # type: ignore[union-attr]
        if seq is not None:
            self.last_sequence_number = seq
        return handler(self, event)

    # -- helpers -----------------------------------------------------------

    def _on_unknown(self, event: Any) -> list[Event]:
        return [self._unknown(event)]

    @staticmethod
    def _unknown(event: Any) -> UnknownEvent:
        return UnknownEvent(event=str(event.type), data=_event_json(event), raw=event)

    def _tid(self) -> str:
        return self._thread_id or ""

    def _run_id(self) -> str:
        return self._run.id if self._run is not None else ""

    def _created_at(self) -> int:
        return self._run.created_at if self._run is not None else 0

    def _step(self, item: _Item, status: str, details: StepDetails) -> RunStep:
        return RunStep(
            id=item.step_id,
            created_at=item.created_at,
            thread_id=self._tid(),
            run_id=item.run_id,
            type="message_creation" if item.kind == "message" else "tool_calls",
            status=status,
            step_details=details,
        )

    def _message(self, item_id: str, status: str, role: str) -> Message:
        return Message(
            id=item_id,
            created_at=self._created_at(),
            thread_id=self._tid(),
            status=status,
            role=role,
            run_id=self._run_id(),
        )

    def _new_item(self, kind: str, type_: str, item_id: str, call_id: str) -> _Item:
        item = self._items[item_id] = _Item(kind, type_, item_id, call_id)
        item.run_id, item.created_at = self._run_id(), self._created_at()
        return item

    def _lookup(self, item_id: str, kind: str, type_: str) -> _Item:
        """The item ``item_id``; an item never announced is created on the fly."""
        item = self._items.get(item_id)
        if item is None:
            item = self._new_item(kind, type_, item_id, item_id)
        return item

    # -- the response ------------------------------------------------------

    def _on_lifecycle(self, event: Any) -> list[Event]:
        response: ResponseObject = event.response
        out: list[Event] = []
        new = self._run is None or response.id != self._run.id
        if new:
            self._items = {}
            self.terminal_event = None
            self.client_calls = []
        if self._thread_id is None or response.conversation_id:
            self._thread_id = (
                response.conversation_id or self._thread_id or ("thread_" + response.id)
            )
        self.response = response
        cls: Any = _LIFECYCLE[event.type]
        terminal = event.type in RESPONSES_TERMINAL_EVENTS
        if terminal:
            cls = _TERMINAL_BY_STATUS.get(response.status or "", cls)
            self.terminal_event = event
        status = response.status or _STATUS_OF[cls]
        required: RequiredAction | None = None
        if cls is ThreadRunCompleted:
            calls = [
                item
                for item in response.output
                if item.type in CLIENT_CALL_TYPES
                and isinstance(item, (ResponseFunctionCall, UnknownResponseOutputItem))
            ]
            self.client_calls = list(calls)
            if calls:
                cls, status = ThreadRunRequiresAction, "requires_action"
                required = RequiredAction(
                    submit_tool_outputs=RequiredActionSubmitToolOutputs(
                        tool_calls=[_required_call(item) for item in calls]
                    )
                )
        if new and cls is not ThreadRunCreated:
            first = self._run_from(response, response.status or "queued", None)
            self._run = first
            out.append(ThreadRunCreated(data=first, raw=event))
        run = self._run_from(response, status, required)
        if new and self._pending:
            # The continuation started: the calls of the previous round are answered.
            if cls is ThreadRunCreated:
                self._run = run
                out.append(cls(data=run, raw=event))
                self._end_pending(out, event, ThreadRunStepCompleted)
                return out
            self._end_pending(out, event, ThreadRunStepCompleted)
        if terminal and cls is not ThreadRunRequiresAction:
            self._end_pending(out, event, _STEP_END.get(status, ThreadRunStepCompleted))
        self._run = run
        out.append(cls(data=run, raw=event))
        return out

    def _end_pending(self, out: list[Event], event: Any, cls: Any) -> None:
        """End the steps of the waiting calls (with the outputs sent, if known)."""
        status = _STEP_STATUS_OF[cls]
        for item in self._pending:
            call = item.final
            assert call is not None
            if isinstance(call, FunctionToolCall) and call.id in self._outputs:
                call.function.output = self._outputs[call.id]
            step = self._step(item, status, ToolCallsStepDetails(tool_calls=[call]))
            out.append(cls(data=step, raw=event))
        self._pending = {}
        self._outputs = {}

    def _run_from(
        self, response: ResponseObject, status: str, required: RequiredAction | None
    ) -> Run:
        usage = response.usage
        error = response.error
        details = response.incomplete_details
        ended = response.completed_at
        return Run(
            id=response.id,
            created_at=response.created_at,
            thread_id=self._tid(),
            status=status,
            started_at=response.created_at if status != "queued" else None,
            completed_at=ended if status == "completed" else None,
            failed_at=ended if status == "failed" else None,
            cancelled_at=ended if status == "cancelled" else None,
            required_action=required,
            last_error=None if error is None else LastError(code=error.code, message=error.message),
            incomplete_details=None
            if details is None
            else IncompleteDetails(reason=details.reason),
            model=response.model,
            instructions=_opt_str(response.instructions),
            tools=[_tool(t) for t in response.tools],
            metadata=response.metadata,
            usage=None
            if usage is None
            else Usage(
                prompt_tokens=usage.input_tokens,
                completion_tokens=usage.output_tokens,
                total_tokens=usage.total_tokens,
            ),
            temperature=response.temperature,
            top_p=response.top_p,
            max_completion_tokens=response.max_output_tokens,
            tool_choice=_tool_choice(response.tool_choice),
            parallel_tool_calls=response.parallel_tool_calls,
        )

    def _on_error(self, event: ResponseErrorEvent) -> list[Event]:
        error = ErrorObject(
            message=event.message, type=event.error_type, param=event.param, code=event.code
        )
        return [ErrorEvent(data=error, raw=event)]

    # -- output items ------------------------------------------------------

    def _on_item_added(self, event: ResponseOutputItemAddedEvent) -> list[Event]:
        item = event.item
        kind = _item_kind(item)
        if kind == "reasoning":
            return [self._unknown(event)]
        raw = _json_of(event, "item")
        item_id, call_id = _item_ids(item, raw)
        state = self._new_item(kind, item.type, item_id, call_id)
        if isinstance(item, ResponseOutputMessage):
            return [
                ThreadRunStepCreated(
                    data=self._step(
                        state,
                        "in_progress",
                        MessageCreationStepDetails(
                            message_creation=MessageCreation(message_id=item_id)
                        ),
                    ),
                    raw=event,
                ),
                ThreadMessageCreated(
                    data=self._message(item_id, "in_progress", item.role), raw=event
                ),
            ]
        created = ThreadRunStepCreated(
            data=self._step(state, "in_progress", ToolCallsStepDetails()), raw=event
        )
        first: ToolCallDelta
        if isinstance(item, ResponseFunctionCall):
            if item.arguments:
                state.streamed.add(0)
            first = FunctionToolCallDelta(
                index=0,
                id=call_id,
                function=FunctionCallDelta(name=item.name, arguments=item.arguments),
            )
        elif isinstance(item, ResponseFileSearchCall):
            first = FileSearchToolCallDelta(index=0, id=call_id)
        elif isinstance(item, ResponseCodeInterpreterCall):
            if item.code:
                state.streamed.add(0)
            first = CodeInterpreterToolCallDelta(
                index=0, id=call_id, code_interpreter=CodeInterpreterDelta(input=item.code or "")
            )
        else:
            # Its JSON is a run-stream tool-call delta (relayed as it is): the
            # item's fields, with the delta's index and the call's id.
            first = UnknownToolCallDelta(
                index=0, id=call_id, type=item.type, raw={**raw, "index": 0, "id": call_id}
            )
        return [created, self._step_delta(state, first, event)]

    def _on_item_done(self, event: ResponseOutputItemDoneEvent) -> list[Event]:
        item = event.item
        kind = _item_kind(item)
        if kind == "reasoning":
            return [self._unknown(event)]
        raw = _json_of(event, "item")
        item_id, call_id = _item_ids(item, raw)
        state = self._items.get(item_id)
        if state is None:
            state = self._new_item(kind, item.type, item_id, call_id)
        if isinstance(item, ResponseOutputMessage):
            return self._message_done(state, item, event)
        out: list[Event] = []
        call: ToolCall
        if isinstance(item, ResponseFunctionCall):
            if 0 not in state.streamed and item.arguments:
                out.append(
                    self._args_delta(state, FunctionCallDelta(arguments=item.arguments), event)
                )
            call = FunctionToolCall(
                id=call_id, function=FunctionCall(name=item.name, arguments=item.arguments)
            )
        elif isinstance(item, ResponseFileSearchCall):
            call = FileSearchToolCall(
                id=call_id, file_search=FileSearch(results=_file_search_results(item.results))
            )
        elif isinstance(item, ResponseCodeInterpreterCall):
            code = item.code or ""
            if 0 not in state.streamed and code:
                out.append(
                    self._step_delta(
                        state,
                        CodeInterpreterToolCallDelta(
                            index=0, code_interpreter=CodeInterpreterDelta(input=code)
                        ),
                        event,
                    )
                )
            call = CodeInterpreterToolCall(
                id=call_id,
                code_interpreter=CodeInterpreter(input=code, outputs=_ci_outputs(item.outputs)),
            )
        else:
            call = UnknownToolCall(id=call_id, type=item.type, raw={**raw, "id": call_id})
        if item.type in CLIENT_CALL_TYPES and _step_status(item) == "completed":
            # The call waits for the client: its step stays in progress, as an
            # Assistants step does until the outputs are submitted.
            state.final = call
            self._pending[state] = None  # once, where it was first done
            return out or [self._unknown(event)]
        step = self._step(state, _step_status(item), ToolCallsStepDetails(tool_calls=[call]))
        out.append(ThreadRunStepCompleted(data=step, raw=event))
        return out

    def _message_done(
        self, state: _Item, item: ResponseOutputMessage, event: ResponseOutputItemDoneEvent
    ) -> list[Event]:
        out: list[Event] = []
        for index, part in enumerate(item.content):
            if index not in state.streamed:
                delta = _whole_part(index, part)
                if delta is not None:
                    state.streamed.add(index)
                    out.append(self._message_delta(state.message_id, delta, event))
        status = item.status or "completed"
        message = self._message(state.message_id, status, item.role)
        message.content = [_content(part) for part in item.content]
        if status == "incomplete":
            why = self.response.incomplete_details if self.response is not None else None
            message.incomplete_details = IncompleteDetails(
                reason=why.reason if why is not None else None
            )
            out.append(ThreadMessageIncomplete(data=message, raw=event))
        else:
            out.append(ThreadMessageCompleted(data=message, raw=event))
        details = MessageCreationStepDetails(
            message_creation=MessageCreation(message_id=state.message_id)
        )
        out.append(ThreadRunStepCompleted(data=self._step(state, "completed", details), raw=event))
        return out

    # -- message content ---------------------------------------------------

    @staticmethod
    def _message_delta(message_id: str, part: MessageContentDelta, event: Any) -> Event:
        data = _new(MessageDeltaEvent)
        _set(data, "id", message_id)
        _set(data, "object", "thread.message.delta")
        delta = _new(MessageDelta)
        _set(delta, "role", None)
        _set(delta, "content", [part])
        _set(data, "delta", delta)
        out: Any = _new(ThreadMessageDelta)
        _set(out, "data", data)
        _set(out, "raw", event)
        _set(out, "event", "thread.message.delta")
        return out  # type: ignore[no-any-return]

    def _on_text_delta(self, event: ResponseOutputTextDeltaEvent) -> list[Event]:
        # The hot path: the objects are built slot by slot (as parse_event does);
        # tests check they equal the ones the constructors build.
        item = self._items.get(event.item_id)
        if item is None:
            item = self._lookup(event.item_id, "message", "message")
        index = event.content_index
        item.streamed.add(index)
        text = _new(TextDelta)
        _set(text, "value", event.delta)
        _set(text, "annotations", None)
        block = _new(TextDeltaBlock)
        _set(block, "index", index)
        _set(block, "type", "text")
        _set(block, "text", text)
        delta = _new(MessageDelta)
        _set(delta, "role", None)
        _set(delta, "content", [block])
        data = _new(MessageDeltaEvent)
        _set(data, "id", item.message_id)
        _set(data, "object", "thread.message.delta")
        _set(data, "delta", delta)
        out: Any = _new(ThreadMessageDelta)
        _set(out, "data", data)
        _set(out, "raw", event)
        _set(out, "event", "thread.message.delta")
        return [out]

    def _on_refusal_delta(self, event: ResponseRefusalDeltaEvent) -> list[Event]:
        item = self._lookup(event.item_id, "message", "message")
        item.streamed.add(event.content_index)
        block = RefusalDeltaBlock(index=event.content_index, refusal=event.delta)
        return [self._message_delta(item.message_id, block, event)]

    def _on_text_done(
        self, event: ResponseOutputTextDoneEvent | ResponseRefusalDoneEvent
    ) -> list[Event]:
        item = self._lookup(event.item_id, "message", "message")
        index = event.content_index
        if index in item.streamed:
            return [self._unknown(event)]
        part: ResponseContentPart
        if isinstance(event, ResponseOutputTextDoneEvent):
            part = ResponseOutputText(text=event.text)
        else:
            part = ResponseRefusal(refusal=event.refusal)
        delta = _whole_part(index, part)
        if delta is None:
            return [self._unknown(event)]
        item.streamed.add(index)
        return [self._message_delta(item.message_id, delta, event)]

    def _on_part(
        self, event: ResponseContentPartAddedEvent | ResponseContentPartDoneEvent
    ) -> list[Event]:
        item = self._lookup(event.item_id, "message", "message")
        index = event.content_index
        delta = None if index in item.streamed else _whole_part(index, event.part)
        if delta is None:
            return [self._unknown(event)]
        item.streamed.add(index)
        return [self._message_delta(item.message_id, delta, event)]

    def _on_annotation(self, event: ResponseOutputTextAnnotationAddedEvent) -> list[Event]:
        item = self._lookup(event.item_id, "message", "message")
        annotation = _annotation_delta(
            event.annotation_index, event.annotation, _json_of(event, "annotation")
        )
        block = TextDeltaBlock(
            index=event.content_index, text=TextDelta(value=None, annotations=[annotation])
        )
        return [self._message_delta(item.message_id, block, event)]

    # -- tool calls --------------------------------------------------------

    def _step_delta(self, item: _Item, call: ToolCallDelta, event: Any) -> Event:
        data = RunStepDeltaEvent(
            id=item.step_id,
            delta=RunStepDelta(step_details=ToolCallsStepDetailsDelta(tool_calls=[call])),
        )
        return ThreadRunStepDelta(data=data, raw=event)

    def _args_delta(self, item: _Item, function: FunctionCallDelta, event: Any) -> Event:
        item.streamed.add(0)
        return self._step_delta(item, FunctionToolCallDelta(index=0, function=function), event)

    def _on_args_delta(self, event: ResponseFunctionCallArgumentsDeltaEvent) -> list[Event]:
        item = self._lookup(event.item_id, "call", "function_call")
        return [self._args_delta(item, FunctionCallDelta(arguments=event.delta), event)]

    def _on_args_done(self, event: ResponseFunctionCallArgumentsDoneEvent) -> list[Event]:
        item = self._lookup(event.item_id, "call", "function_call")
        if 0 in item.streamed or not event.arguments:
            return [self._unknown(event)]
        return [self._args_delta(item, FunctionCallDelta(arguments=event.arguments), event)]

    def _on_code_delta(self, event: ResponseCodeInterpreterCallCodeDeltaEvent) -> list[Event]:
        item = self._lookup(event.item_id, "call", "code_interpreter_call")
        item.streamed.add(0)
        call = CodeInterpreterToolCallDelta(
            index=0, code_interpreter=CodeInterpreterDelta(input=event.delta)
        )
        return [self._step_delta(item, call, event)]

    def _on_code_done(self, event: ResponseCodeInterpreterCallCodeDoneEvent) -> list[Event]:
        item = self._lookup(event.item_id, "call", "code_interpreter_call")
        if 0 in item.streamed or not event.code:
            return [self._unknown(event)]
        item.streamed.add(0)
        call = CodeInterpreterToolCallDelta(
            index=0, code_interpreter=CodeInterpreterDelta(input=event.code)
        )
        return [self._step_delta(item, call, event)]


# ---------------------------------------------------------------------------
# Conversions of Responses objects to run-stream objects


def _tool(tool: dict[str, Any]) -> Tool:
    kind = tool.get("type")
    if kind == "function":
        parameters = tool.get("parameters")
        strict = tool.get("strict")
        return FunctionTool(
            function=FunctionDefinition(
                name=_str(tool.get("name")),
                description=_opt_str(tool.get("description")),
                parameters=parameters if isinstance(parameters, dict) else None,
                strict=strict if isinstance(strict, bool) else None,
            )
        )
    if kind == "file_search":
        return FileSearchTool()
    if kind == "code_interpreter":
        return CodeInterpreterTool()
    return UnknownTool(type=_str(kind), raw=tool)


def _tool_choice(value: Any) -> str | ToolChoice | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict):
        name = value.get("name")
        return ToolChoice(
            type=_str(value.get("type")),
            function=ToolChoiceFunction(name=name) if isinstance(name, str) else None,
        )
    return None


def _required_call(item: ResponseOutputItem) -> RequiredActionFunctionToolCall:
    if isinstance(item, ResponseFunctionCall):
        return RequiredActionFunctionToolCall(
            id=item.call_id or _str(item.id),
            function=RequiredActionFunction(name=item.name, arguments=item.arguments),
        )
    assert isinstance(item, UnknownResponseOutputItem)
    raw = item.raw
    _, call_id = _item_ids(item, raw)
    arguments = raw.get("arguments")
    if not isinstance(arguments, str):
        arguments = raw.get("input")
    if not isinstance(arguments, str):
        rest = {k: v for k, v in raw.items() if k not in ("id", "type", "status", "call_id")}
        arguments = _json.dumps(rest, default=str)
    return RequiredActionFunctionToolCall(
        id=call_id,
        type=item.type,
        function=RequiredActionFunction(
            name=_str(raw.get("name")) or item.type, arguments=arguments
        ),
    )


def _step_status(item: ResponseOutputItem) -> str:
    status = getattr(item, "status", None)
    if status is None and isinstance(item, UnknownResponseOutputItem):
        status = item.raw.get("status")
    return {"failed": "failed", "incomplete": "failed"}.get(_str(status), "completed")


def _file_search_results(results: list[dict[str, Any]] | None) -> list[FileSearchResult] | None:
    if results is None:
        return None
    out = []
    for r in results:
        text = r.get("text")
        out.append(
            FileSearchResult(
                file_id=_str(r.get("file_id")),
                file_name=_str(r.get("filename")),
                score=_number(r.get("score")),
                content=[FileSearchResultContent(text=text)] if isinstance(text, str) else None,
            )
        )
    return out


def _ci_outputs(outputs: list[dict[str, Any]] | None) -> list[CodeInterpreterOutput]:
    out: list[CodeInterpreterOutput] = []
    for o in outputs or ():
        logs = o.get("logs")
        if o.get("type") == "logs" and isinstance(logs, str):
            out.append(CodeInterpreterLogs(logs=logs))
        else:
            out.append(UnknownCodeInterpreterOutput(type=_str(o.get("type")), raw=o))
    return out


def _whole_part(index: int, part: ResponseContentPart) -> MessageContentDelta | None:
    """One delta carrying the whole text of ``part``, or ``None`` when it has none."""
    if isinstance(part, ResponseOutputText) and part.text:
        return TextDeltaBlock(index=index, text=TextDelta(value=part.text))
    if isinstance(part, ResponseRefusal) and part.refusal:
        return RefusalDeltaBlock(index=index, refusal=part.refusal)
    return None


def _annotation_delta(
    index: int, annotation: ResponseTextAnnotation, raw: dict[str, Any]
) -> AnnotationDelta:
    if isinstance(annotation, ResponseFileCitation):
        return FileCitationDeltaAnnotation(
            index=index,
            start_index=annotation.index,
            end_index=annotation.index,
            file_citation=FileCitation(file_id=annotation.file_id),
        )
    if isinstance(annotation, ResponseFilePath):
        return FilePathDeltaAnnotation(
            index=index,
            start_index=annotation.index,
            end_index=annotation.index,
            file_path=FilePath(file_id=annotation.file_id),
        )
    return UnknownAnnotationDelta(index=index, type=annotation.type, raw=dict(raw))


def _annotation(annotation: ResponseTextAnnotation) -> Any:
    if isinstance(annotation, ResponseFileCitation):
        return FileCitationAnnotation(
            start_index=annotation.index,
            end_index=annotation.index,
            file_citation=FileCitation(file_id=annotation.file_id),
        )
    if isinstance(annotation, ResponseFilePath):
        return FilePathAnnotation(
            start_index=annotation.index,
            end_index=annotation.index,
            file_path=FilePath(file_id=annotation.file_id),
        )
    if isinstance(annotation, UnknownResponseAnnotation):
        return UnknownAnnotation(type=annotation.type, raw=annotation.raw)
    return UnknownAnnotation(type=annotation.type, raw=converter.unstructure(annotation))


def _content(part: ResponseContentPart) -> MessageContent:
    if isinstance(part, ResponseOutputText):
        return TextContentBlock(
            text=Text(value=part.text, annotations=[_annotation(a) for a in part.annotations])
        )
    if isinstance(part, ResponseRefusal):
        return RefusalContentBlock(refusal=part.refusal)
    assert isinstance(part, UnknownResponseContentPart)
    return UnknownContentBlock(type=part.type, raw=part.raw)


def run_and_messages(
    response: ResponseObject, *, thread_id: str | None = None
) -> tuple[Run, list[Message]]:
    """A whole response (``GET /responses/{id}``) as the run and the messages its
    stream would have left: the run as its status event maps (``requires_action``
    when it waits for the client), one completed message per ``message`` item."""
    mapper = ResponsesMapper(thread_id=thread_id)
    status = response.status or "in_progress"
    name = f"response.{status}" if f"response.{status}" in _LIFECYCLE else "response.in_progress"
    mapper.feed(RESPONSE_EVENT_CLASSES[name](response=response))
    assert mapper.run is not None
    messages = []
    for item in response.output:
        if isinstance(item, ResponseOutputMessage):
            message = mapper._message(_str(item.id), item.status or "completed", item.role)
            message.content = [_content(part) for part in item.content]
            messages.append(message)
    return mapper.run, messages


_HANDLERS: dict[type, Callable[[ResponsesMapper, Any], list[Event]]] = {
    **{cls: ResponsesMapper._on_lifecycle for cls in _LIFECYCLE_CLASSES},
    ResponseErrorEvent: ResponsesMapper._on_error,
    ResponseOutputItemAddedEvent: ResponsesMapper._on_item_added,
    ResponseOutputItemDoneEvent: ResponsesMapper._on_item_done,
    ResponseContentPartAddedEvent: ResponsesMapper._on_part,
    ResponseContentPartDoneEvent: ResponsesMapper._on_part,
    ResponseOutputTextDeltaEvent: ResponsesMapper._on_text_delta,
    ResponseOutputTextDoneEvent: ResponsesMapper._on_text_done,
    ResponseOutputTextAnnotationAddedEvent: ResponsesMapper._on_annotation,
    ResponseRefusalDeltaEvent: ResponsesMapper._on_refusal_delta,
    ResponseRefusalDoneEvent: ResponsesMapper._on_text_done,
    ResponseFunctionCallArgumentsDeltaEvent: ResponsesMapper._on_args_delta,
    ResponseFunctionCallArgumentsDoneEvent: ResponsesMapper._on_args_done,
    ResponseCodeInterpreterCallCodeDeltaEvent: ResponsesMapper._on_code_delta,
    ResponseCodeInterpreterCallCodeDoneEvent: ResponsesMapper._on_code_done,
}
