"""Typed objects of the Assistants run stream: runs, steps, messages, deltas.

Every object the stream carries (PROTOCOL.md §6 and §7) is an attrs class here.
They are structured from JSON by the one converter in :mod:`streamrun._converter`.

Forward compatibility rules:

* Every field has a default, so a compatible server that omits a field does not
  break parsing. Unknown fields are ignored here (the event keeps the decoded
  JSON in ``raw``, so they stay reachable).
* Enumerations (``status``, ``role``, ``type`` …) are plain ``str``: an unknown
  value never raises. The known values are listed in each docstring.
* A content part, annotation, tool, tool call, step detail or code-interpreter
  output of an unknown ``type`` becomes an ``Unknown…`` instance holding the
  decoded JSON.

Snapshots built from deltas (:mod:`streamrun._accumulate`) are instances of the
same classes as the completed objects. The strings that grow by deltas (text
values, refusals, function names, arguments and outputs, code-interpreter input
and logs, annotation texts and citation quotes) are kept in a
:class:`TextBuffer`, so appending a fragment costs O(len(fragment)); the public
attribute (``Text.value`` …) is a ``str`` property that joins the fragments on
first read.
"""

from __future__ import annotations

import linecache
from itertools import islice
from typing import Any, Literal, Protocol, TypeVar, Union, overload

from attrs import define, field, fields

__all__ = [
    "Annotation",
    "AnnotationDelta",
    "Attachment",
    "AttachmentTool",
    "CodeInterpreter",
    "CodeInterpreterDelta",
    "CodeInterpreterImage",
    "CodeInterpreterImageDelta",
    "CodeInterpreterImageFile",
    "CodeInterpreterLogs",
    "CodeInterpreterLogsDelta",
    "CodeInterpreterOutput",
    "CodeInterpreterOutputDelta",
    "CodeInterpreterResources",
    "CodeInterpreterTool",
    "CodeInterpreterToolCall",
    "CodeInterpreterToolCallDelta",
    "ErrorObject",
    "FileCitation",
    "FileCitationAnnotation",
    "FileCitationDeltaAnnotation",
    "FilePath",
    "FilePathAnnotation",
    "FilePathDeltaAnnotation",
    "FileSearch",
    "FileSearchRankingOptions",
    "FileSearchResources",
    "FileSearchResult",
    "FileSearchResultContent",
    "FileSearchTool",
    "FileSearchToolCall",
    "FileSearchToolCallDelta",
    "FileSearchToolOptions",
    "FunctionCall",
    "FunctionCallDelta",
    "FunctionDefinition",
    "FunctionTool",
    "FunctionToolCall",
    "FunctionToolCallDelta",
    "ImageFile",
    "ImageFileContentBlock",
    "ImageFileDelta",
    "ImageFileDeltaBlock",
    "ImageURL",
    "ImageURLContentBlock",
    "ImageURLDelta",
    "ImageURLDeltaBlock",
    "IncompleteDetails",
    "LastError",
    "Message",
    "MessageContent",
    "MessageContentDelta",
    "MessageCreation",
    "MessageCreationStepDetails",
    "MessageCreationStepDetailsDelta",
    "MessageDelta",
    "MessageDeltaEvent",
    "RefusalContentBlock",
    "RefusalDeltaBlock",
    "RequiredAction",
    "RequiredActionFunction",
    "RequiredActionFunctionToolCall",
    "RequiredActionSubmitToolOutputs",
    "ResponseFormat",
    "ResponseFormatJSONSchema",
    "Run",
    "RunStep",
    "RunStepDelta",
    "RunStepDeltaEvent",
    "StepDetails",
    "StepDetailsDelta",
    "Text",
    "TextBuffer",
    "TextContentBlock",
    "TextDelta",
    "TextDeltaBlock",
    "Thread",
    "Tool",
    "ToolCall",
    "ToolCallDelta",
    "ToolCallsStepDetails",
    "ToolCallsStepDetailsDelta",
    "ToolChoice",
    "ToolChoiceFunction",
    "ToolResources",
    "TruncationStrategy",
    "UnknownAnnotation",
    "UnknownAnnotationDelta",
    "UnknownCodeInterpreterOutput",
    "UnknownCodeInterpreterOutputDelta",
    "UnknownContentBlock",
    "UnknownContentDelta",
    "UnknownStepDetails",
    "UnknownStepDetailsDelta",
    "UnknownTool",
    "UnknownToolCall",
    "UnknownToolCallDelta",
    "Usage",
]

JSON = dict[str, Any]


# ---------------------------------------------------------------------------
# Growing strings


class TextBuffer:
    """A string built from fragments in linear time.

    ``append`` stores the fragment; ``str(buffer)`` joins once and keeps the
    result, so reading after every append costs the join of what is new plus
    one copy, and appending N fragments costs O(N) in total.
    """

    __slots__ = ("_parts",)

    def __init__(self, value: str = "") -> None:
        self._parts: list[str] = [value] if value else []

    def append(self, fragment: str) -> None:
        """Add ``fragment`` at the end."""
        if fragment:
            self._parts.append(fragment)

    def set(self, value: str) -> None:
        """Replace the whole content."""
        self._parts = [value] if value else []

    def __str__(self) -> str:
        parts = self._parts
        if len(parts) == 1:
            return parts[0]
        if not parts:
            return ""
        joined = "".join(parts)
        self._parts = [joined]
        return joined

    def __len__(self) -> int:
        return sum(map(len, self._parts))

    def snapshot(self) -> TextBuffer:
        """A buffer holding the content as it is now, in O(1) time and memory.

        It shares the fragments received so far with this buffer (which only
        ever appends to them or replaces them); later appends to either buffer
        do not show in the other.
        """
        return _TextView(self._parts, len(self._parts))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, TextBuffer):
            return str(self) == str(other)
        if isinstance(other, str):
            return str(self) == other
        return NotImplemented

    def __hash__(self) -> int:  # pragma: no cover - buffers live in mutable models
        return hash(str(self))

    def __repr__(self) -> str:
        return repr(str(self))


class _TextView(TextBuffer):
    """:meth:`TextBuffer.snapshot`: the first ``count`` fragments of a shared list.

    The list is only ever appended to by its owner (or dropped for a new one),
    so its first ``count`` fragments never change. The view joins them on
    first read and then lets go of the shared list.
    """

    __slots__ = ("_count",)

    def __init__(self, parts: list[str], count: int) -> None:
        self._parts = parts
        self._count = count

    def _own(self) -> list[str]:
        count = self._count
        if count >= 0:
            parts = self._parts
            if count == len(parts):
                joined = "".join(parts) if count > 1 else parts[0] if count else ""
            else:
                joined = "".join(islice(parts, count))
            self._parts = [joined] if joined else []
            self._count = -1
        return self._parts

    def append(self, fragment: str) -> None:
        self._own()
        super().append(fragment)

    def set(self, value: str) -> None:
        self._count = -1
        super().set(value)

    def snapshot(self) -> TextBuffer:
        self._own()
        return super().snapshot()

    def __str__(self) -> str:
        self._own()
        return super().__str__()

    def __len__(self) -> int:
        count = self._count
        if count >= 0:
            return sum(map(len, islice(self._parts, count)))
        return super().__len__()


def _buffer(value: str | TextBuffer | None) -> TextBuffer:
    if isinstance(value, TextBuffer):
        return value
    if value is None:
        return TextBuffer()
    if type(value) is not str:
        raise TypeError(f"expected a string, got {type(value).__name__}: {value!r:.60}")
    return TextBuffer(value)


def _optional_buffer(value: str | TextBuffer | None) -> TextBuffer | None:
    """A field that may be ``None`` (not received) and else grows by deltas."""
    return None if value is None else _buffer(value)


# Each growing string is two attributes: a private attrs field holding the
# TextBuffer (``_value``, which the accumulator appends to, with the public
# name as its ``alias`` so constructors, ``attrs.evolve`` and the converter
# take ``value=``) and the public ``str`` attribute (``value``), declared with
# ``_text_property``; the class's ``__repr__`` is ``_public_repr``:
#
#     _value: TextBuffer = field(factory=TextBuffer, converter=_buffer, alias="value", repr=False)
#     value = _text_property("_value", "The text.")
#     __repr__ = _public_repr

_S = TypeVar("_S")


class _TextProperty(Protocol[_S]):
    """What type checkers see of a :func:`_text_property`: an instance attribute
    read as ``_S`` and assigned an ``_S`` (at runtime it is a ``property``)."""

    @overload
    def __get__(self, obj: None, owner: type[Any], /) -> property: ...
    @overload
    def __get__(self, obj: object, owner: type[Any] | None = None, /) -> _S: ...
    def __set__(self, obj: object, value: _S, /) -> None: ...


# The accessors are generated from these templates (as attrs and dataclasses
# generate their methods) so that they are the very functions one would write
# by hand: reading ``text.value`` through them costs what a hand-written
# property costs (measured on CPython 3.11: ~93 ns), where a descriptor class
# with a Python ``__get__`` costs ~130 ns and a closure reading
# ``getattr(self, name)`` ~115 ns.
_ACCESSORS = """\
def {name}(self):
    return str(self.{private})

def {name}_set(self, value):
    self.{private}.set(value)
"""
_OPTIONAL_ACCESSORS = """\
def {name}(self):
    return None if self.{private} is None else str(self.{private})

def {name}_set(self, value):
    self.{private} = _optional_buffer(value)
"""


@overload
def _text_property(private: str, doc: str) -> _TextProperty[str]: ...
@overload
def _text_property(
    private: str, doc: str, *, optional: Literal[True]
) -> _TextProperty[str | None]: ...
def _text_property(private: str, doc: str, *, optional: bool = False) -> Any:
    """The public ``str`` attribute of the growing string in the field ``private``.

    Reading it joins the buffer (``str(self._value)``); assigning it a string
    replaces the buffer's content in place (``self._value.set(value)``), so a
    snapshot taken earlier keeps the old text. With ``optional=True`` the field
    holds ``None`` until the string is received: reading gives ``None`` then,
    and assigning replaces the buffer by a new one (or ``None``).
    """
    if not private.startswith("_") or not private.isidentifier():
        raise ValueError(f"not a private field name: {private!r}")
    name = private[1:]
    source = (_OPTIONAL_ACCESSORS if optional else _ACCESSORS).format(name=name, private=private)
    filename = f"<streamrun text property {private}{' optional' if optional else ''}>"
    namespace: dict[str, Any] = {"__name__": __name__, "_optional_buffer": _optional_buffer}
    exec(compile(source, filename, "exec"), namespace)
    # Tracebacks through the accessors show their source (as attrs does).
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    return property(namespace[name], namespace[name + "_set"], doc=doc)


_GROWING = (_buffer, _optional_buffer)
"""The converters of the private TextBuffer fields: how :func:`_public_repr` knows them."""


def _public_repr(self: Any) -> str:
    """attrs' repr of a model with growing strings, each under its public name.

    ``Text(value='Hi', annotations=[])``: every field attrs would show, in
    order, and each TextBuffer field (``repr=False``, hidden from attrs' own
    repr) under its alias, read through its public property.
    """
    cls = type(self)
    shown = ", ".join(
        f"{a.alias}={getattr(self, a.alias)!r}"
        for a in fields(cls)
        if a.repr or a.converter in _GROWING
    )
    return f"{cls.__name__}({shown})"


class _Growth(dict[tuple[int, str], tuple[JSON, list[str]]]):
    """The strings of an unknown object's ``raw`` growing by fragments, not yet joined.

    Each growing place, a JSON object (dict) in ``raw`` and one of its keys,
    maps to that object and the pieces of its string: first the string the
    object held when it started growing (still there, stale, until
    :meth:`settle`), then the fragments since. Appending a fragment costs
    O(len(fragment)); the object only ever holds plain JSON. Keyed by the
    object's ``id`` (a dict is not hashable); holding the object keeps its id
    from being reused.
    """

    __slots__ = ()

    def append(self, container: JSON, key: str, current: str, fragment: str) -> None:
        """``fragment`` extends the string ``current`` at ``container[key]``."""
        if not fragment:
            return
        entry = self.get((id(container), key))
        if entry is None:
            self[id(container), key] = (container, [current, fragment])
        else:
            entry[1].append(fragment)

    def drop(self, container: JSON, key: str, old: Any = None) -> None:
        """``container[key]``, which held ``old``, is replaced: the pieces of its old
        string, and of every string inside ``old`` (an object or array), no longer
        apply. Forgetting them walks ``old`` once (it is gone from ``raw`` after),
        so the record never holds on to replaced JSON."""
        self.pop((id(container), key), None)
        if not isinstance(old, (dict, list)):
            return
        stack: list[Any] = [old]
        while stack and self:
            value = stack.pop()
            if isinstance(value, dict):
                for k, item in value.items():
                    self.pop((id(value), k), None)
                    if isinstance(item, (dict, list)):
                        stack.append(item)
            else:
                stack.extend(item for item in value if isinstance(item, (dict, list)))

    def settle(self) -> None:
        """Write every joined string into its object; nothing is pending after."""
        for (_, key), (container, pieces) in self.items():
            container[key] = "".join(pieces)
        self.clear()

    def __reduce__(self) -> tuple[Any, ...]:
        # Copies (copy.deepcopy, pickle) key the copied objects by their own ids.
        entries = [(container, key, pieces) for (_, key), (container, pieces) in self.items()]
        return (_regrow, (entries,))


def _regrow(entries: list[tuple[JSON, str, list[str]]]) -> _Growth:
    growth = _Growth()
    for container, key, pieces in entries:
        growth[id(container), key] = (container, pieces)
    return growth


@define(kw_only=True, eq=False, repr=False)
class _RawJSON:
    """The ``raw`` JSON of an object of an unknown type, whose strings may grow.

    The accumulator merges fragments into it (:func:`streamrun._accumulate._merge_json`)
    and records the fragments of growing strings in a :class:`_Growth` instead
    of rebuilding each string per fragment. Reading ``raw`` joins them, writes
    the strings into their objects in place and returns the dict, which holds
    only plain JSON at all times: a dict read earlier keeps its strings as
    they were (stale) until the next read of ``raw`` brings it up to date.
    Equality and repr use the JSON as read. ``attrs.evolve`` without ``raw=``
    shares the dict as it stands (pending fragments stay with this object):
    read ``raw`` first.
    """

    _raw: JSON = field(factory=dict, alias="raw")
    _growth: _Growth | None = field(default=None, init=False, eq=False, repr=False)

    @property
    def raw(self) -> JSON:
        """The object's decoded JSON."""
        growth = self._growth
        if growth:
            growth.settle()
        return self._raw

    @raw.setter
    def raw(self, value: JSON) -> None:
        self._raw = value
        self._growth = None

    def _growing(self) -> _Growth:
        """The record the accumulator appends fragments of ``raw``'s strings to."""
        growth = self._growth
        if growth is None:
            growth = self._growth = _Growth()
        return growth

    def _compared(self) -> tuple[Any, ...]:
        raw = self.raw
        return tuple(
            raw if a.name == "_raw" else getattr(self, a.name) for a in fields(type(self)) if a.eq
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _RawJSON) or other.__class__ is not self.__class__:
            return NotImplemented
        return self._compared() == other._compared()

    def __repr__(self) -> str:
        shown = [
            f"{a.name}={getattr(self, a.name)!r}"
            for a in fields(type(self))
            if a.repr and a.name != "_raw"
        ]
        shown.append(f"raw={self.raw!r}")
        return f"{type(self).__name__}({', '.join(shown)})"


# ---------------------------------------------------------------------------
# Shared small objects


@define(kw_only=True)
class Usage:
    """Token usage of a run or step (``null`` until it ends)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


@define(kw_only=True)
class LastError:
    """Why a run or step failed: ``code`` (server_error, rate_limit_exceeded,
    invalid_prompt …) and ``message``."""

    code: str | None = None
    message: str = ""


@define(kw_only=True)
class ErrorObject:
    """An API error payload: the data of an ``error`` event or an HTTP error body."""

    message: str = ""
    type: str | None = None
    param: str | None = None
    code: str | None = None


@define(kw_only=True)
class IncompleteDetails:
    """Why a run or message is incomplete (``max_completion_tokens``,
    ``max_prompt_tokens``, ``content_filter``, ``max_tokens``, ``run_cancelled`` …)."""

    reason: str | None = None


# ---------------------------------------------------------------------------
# Tools (as echoed on a run)


@define(kw_only=True)
class FunctionDefinition:
    """A function tool's definition."""

    name: str = ""
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


@define(kw_only=True)
class FileSearchRankingOptions:
    """Ranking options of the file_search tool."""

    ranker: str | None = None
    score_threshold: float | None = None


@define(kw_only=True)
class FileSearchToolOptions:
    """Options of the file_search tool."""

    max_num_results: int | None = None
    ranking_options: FileSearchRankingOptions | None = None


@define(kw_only=True)
class CodeInterpreterTool:
    """The code_interpreter tool."""

    type: str = "code_interpreter"


@define(kw_only=True)
class FileSearchTool:
    """The file_search tool."""

    type: str = "file_search"
    file_search: FileSearchToolOptions | None = None


@define(kw_only=True)
class FunctionTool:
    """A function tool."""

    type: str = "function"
    function: FunctionDefinition = field(factory=FunctionDefinition)


@define(kw_only=True)
class UnknownTool:
    """A tool of a type this version does not know; ``raw`` is its JSON."""

    type: str = ""
    raw: JSON = field(factory=dict)


Tool = Union[CodeInterpreterTool, FileSearchTool, FunctionTool, UnknownTool]


@define(kw_only=True)
class TruncationStrategy:
    """How the thread is truncated before the run (``auto`` | ``last_messages``)."""

    type: str = "auto"
    last_messages: int | None = None


@define(kw_only=True)
class ToolChoiceFunction:
    """The function a tool choice forces."""

    name: str = ""


@define(kw_only=True)
class ToolChoice:
    """A tool choice object (the string forms ``none``/``auto``/``required`` stay ``str``)."""

    type: str = ""
    function: ToolChoiceFunction | None = None


@define(kw_only=True)
class ResponseFormatJSONSchema:
    """The json_schema of a ``json_schema`` response format."""

    name: str = ""
    description: str | None = None
    schema: dict[str, Any] | None = None
    strict: bool | None = None


@define(kw_only=True)
class ResponseFormat:
    """A response format object (``text`` | ``json_object`` | ``json_schema``);
    the string form ``"auto"`` stays ``str``."""

    type: str = ""
    json_schema: ResponseFormatJSONSchema | None = None


@define(kw_only=True)
class CodeInterpreterResources:
    """Files available to code_interpreter."""

    file_ids: list[str] = field(factory=list)


@define(kw_only=True)
class FileSearchResources:
    """Vector stores available to file_search."""

    vector_store_ids: list[str] = field(factory=list)


@define(kw_only=True)
class ToolResources:
    """Resources made available to the tools."""

    code_interpreter: CodeInterpreterResources | None = None
    file_search: FileSearchResources | None = None


# ---------------------------------------------------------------------------
# Thread and run


@define(kw_only=True)
class Thread:
    """A thread (``object: "thread"``)."""

    id: str = ""
    object: str = "thread"
    created_at: int = 0
    metadata: dict[str, Any] | None = None
    tool_resources: ToolResources | None = None


@define(kw_only=True)
class RequiredActionFunction:
    """The function a required tool call asks for."""

    name: str = ""
    arguments: str = ""


@define(kw_only=True)
class RequiredActionFunctionToolCall:
    """A tool call the run waits for."""

    id: str = ""
    type: str = "function"
    function: RequiredActionFunction = field(factory=RequiredActionFunction)


@define(kw_only=True)
class RequiredActionSubmitToolOutputs:
    """The tool calls whose outputs the run needs."""

    tool_calls: list[RequiredActionFunctionToolCall] = field(factory=list)


@define(kw_only=True)
class RequiredAction:
    """What a run in ``requires_action`` waits for."""

    type: str = "submit_tool_outputs"
    submit_tool_outputs: RequiredActionSubmitToolOutputs = field(
        factory=RequiredActionSubmitToolOutputs
    )


@define(kw_only=True)
class Run:
    """A run (``object: "thread.run"``).

    ``status``: queued, in_progress, requires_action, cancelling, cancelled,
    failed, completed, incomplete, expired (others are kept as they come).
    ``tool_choice`` and ``response_format`` are a string (``"auto"`` …) or an
    object.
    """

    id: str = ""
    object: str = "thread.run"
    created_at: int = 0
    assistant_id: str = ""
    thread_id: str = ""
    status: str = ""
    started_at: int | None = None
    expires_at: int | None = None
    cancelled_at: int | None = None
    failed_at: int | None = None
    completed_at: int | None = None
    required_action: RequiredAction | None = None
    last_error: LastError | None = None
    incomplete_details: IncompleteDetails | None = None
    model: str = ""
    instructions: str | None = None
    tools: list[Tool] = field(factory=list)
    metadata: dict[str, Any] | None = None
    usage: Usage | None = None
    temperature: float | None = None
    top_p: float | None = None
    max_prompt_tokens: int | None = None
    max_completion_tokens: int | None = None
    truncation_strategy: TruncationStrategy | None = None
    tool_choice: str | ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    response_format: str | ResponseFormat | None = None
    reasoning_effort: str | None = None
    tool_resources: ToolResources | None = None

    TERMINAL_STATUSES = frozenset({"completed", "incomplete", "failed", "cancelled", "expired"})

    @property
    def is_terminal(self) -> bool:
        """True when the run reached a terminal status."""
        return self.status in self.TERMINAL_STATUSES


# ---------------------------------------------------------------------------
# Run steps


@define(kw_only=True)
class MessageCreation:
    """The message a message_creation step created."""

    message_id: str = ""


@define(kw_only=True)
class MessageCreationStepDetails:
    """Details of a ``message_creation`` step."""

    type: str = "message_creation"
    message_creation: MessageCreation = field(factory=MessageCreation)


@define(kw_only=True)
class CodeInterpreterLogs:
    """Text output of a code_interpreter call (``logs`` grows by deltas)."""

    type: str = "logs"
    _logs: TextBuffer = field(factory=TextBuffer, converter=_buffer, alias="logs", repr=False)

    logs = _text_property("_logs", "The log text.")
    __repr__ = _public_repr


@define(kw_only=True)
class CodeInterpreterImageFile:
    """The file id of an image a code_interpreter call produced."""

    file_id: str = ""


@define(kw_only=True)
class CodeInterpreterImage:
    """Image output of a code_interpreter call."""

    type: str = "image"
    image: CodeInterpreterImageFile = field(factory=CodeInterpreterImageFile)


@define(kw_only=True, eq=False, repr=False)
class UnknownCodeInterpreterOutput(_RawJSON):
    """A code_interpreter output of an unknown type; ``raw`` is its JSON."""

    type: str = ""


CodeInterpreterOutput = Union[
    CodeInterpreterLogs, CodeInterpreterImage, UnknownCodeInterpreterOutput
]


@define(kw_only=True)
class CodeInterpreter:
    """A code_interpreter call's ``input`` (grows by deltas) and ``outputs``."""

    _input: TextBuffer = field(factory=TextBuffer, converter=_buffer, alias="input", repr=False)
    outputs: list[CodeInterpreterOutput] = field(factory=list)

    input = _text_property("_input", "The code sent to the interpreter.")
    __repr__ = _public_repr


@define(kw_only=True)
class CodeInterpreterToolCall:
    """A code_interpreter tool call."""

    id: str = ""
    type: str = "code_interpreter"
    code_interpreter: CodeInterpreter = field(factory=CodeInterpreter)


@define(kw_only=True)
class FileSearchResultContent:
    """Content of a file_search result (only with ``include[]``)."""

    type: str = "text"
    text: str | None = None


@define(kw_only=True)
class FileSearchResult:
    """One file_search result."""

    file_id: str = ""
    file_name: str = ""
    score: float = 0.0
    content: list[FileSearchResultContent] | None = None


@define(kw_only=True)
class FileSearch:
    """A file_search call's ranking options and results."""

    ranking_options: FileSearchRankingOptions | None = None
    results: list[FileSearchResult] | None = None


@define(kw_only=True)
class FileSearchToolCall:
    """A file_search tool call."""

    id: str = ""
    type: str = "file_search"
    file_search: FileSearch = field(factory=FileSearch)


@define(kw_only=True)
class FunctionCall:
    """A function call's ``name``, ``arguments`` (JSON text) and ``output``
    (``None`` until submitted), all growing by deltas."""

    _name: TextBuffer = field(factory=TextBuffer, converter=_buffer, alias="name", repr=False)
    _arguments: TextBuffer = field(
        factory=TextBuffer, converter=_buffer, alias="arguments", repr=False
    )
    _output: TextBuffer | None = field(
        default=None, converter=_optional_buffer, alias="output", repr=False
    )

    name = _text_property("_name", "The function's name.")
    arguments = _text_property("_arguments", "The arguments, as JSON text.")
    output = _text_property(
        "_output", "The output submitted for the call, ``None`` until then.", optional=True
    )
    __repr__ = _public_repr


@define(kw_only=True)
class FunctionToolCall:
    """A function tool call."""

    id: str = ""
    type: str = "function"
    function: FunctionCall = field(factory=FunctionCall)


@define(kw_only=True, eq=False, repr=False)
class UnknownToolCall(_RawJSON):
    """A tool call of an unknown type; ``raw`` is its JSON."""

    id: str = ""
    type: str = ""


ToolCall = Union[CodeInterpreterToolCall, FileSearchToolCall, FunctionToolCall, UnknownToolCall]


@define(kw_only=True)
class ToolCallsStepDetails:
    """Details of a ``tool_calls`` step."""

    type: str = "tool_calls"
    tool_calls: list[ToolCall] = field(factory=list)


@define(kw_only=True, eq=False, repr=False)
class UnknownStepDetails(_RawJSON):
    """Step details of an unknown type; ``raw`` is their JSON."""

    type: str = ""


StepDetails = Union[MessageCreationStepDetails, ToolCallsStepDetails, UnknownStepDetails]


@define(kw_only=True)
class RunStep:
    """A run step (``object: "thread.run.step"``).

    ``type``: message_creation | tool_calls. ``status``: in_progress, cancelled,
    failed, completed, expired. The wire sends ``expires_at`` (the spec says
    ``expired_at``): both are kept.
    """

    id: str = ""
    object: str = "thread.run.step"
    created_at: int = 0
    assistant_id: str = ""
    thread_id: str = ""
    run_id: str = ""
    type: str = ""
    status: str = ""
    step_details: StepDetails = field(factory=UnknownStepDetails)
    cancelled_at: int | None = None
    completed_at: int | None = None
    failed_at: int | None = None
    expires_at: int | None = None
    expired_at: int | None = None
    last_error: LastError | None = None
    metadata: dict[str, Any] | None = None
    usage: Usage | None = None


# ---------------------------------------------------------------------------
# Messages


@define(kw_only=True)
class FileCitation:
    """The file a citation points at (``quote`` grows by deltas)."""

    file_id: str = ""
    _quote: TextBuffer | None = field(
        default=None, converter=_optional_buffer, alias="quote", repr=False
    )

    quote = _text_property(
        "_quote",
        "The quoted text (a leftover of v1 deltas), ``None`` when not sent.",
        optional=True,
    )
    __repr__ = _public_repr


@define(kw_only=True)
class FilePath:
    """The file a file_path annotation points at."""

    file_id: str = ""


@define(kw_only=True)
class FileCitationAnnotation:
    """A ``file_citation`` annotation (from file_search)."""

    type: str = "file_citation"
    _text: TextBuffer = field(factory=TextBuffer, converter=_buffer, alias="text", repr=False)
    start_index: int = 0
    end_index: int = 0
    file_citation: FileCitation = field(factory=FileCitation)

    text = _text_property("_text", "The marker in the message text (e.g. ``【4:0†source】``).")
    __repr__ = _public_repr


@define(kw_only=True)
class FilePathAnnotation:
    """A ``file_path`` annotation (a file code_interpreter wrote)."""

    type: str = "file_path"
    _text: TextBuffer = field(factory=TextBuffer, converter=_buffer, alias="text", repr=False)
    start_index: int = 0
    end_index: int = 0
    file_path: FilePath = field(factory=FilePath)

    text = _text_property("_text", "The marker in the message text (e.g. ``【4:0†source】``).")
    __repr__ = _public_repr


@define(kw_only=True, eq=False, repr=False)
class UnknownAnnotation(_RawJSON):
    """An annotation of an unknown type; ``raw`` is its JSON."""

    type: str = ""


Annotation = Union[FileCitationAnnotation, FilePathAnnotation, UnknownAnnotation]


@define(kw_only=True)
class Text:
    """The text of a text content part: ``value`` (grows by deltas) and ``annotations``."""

    _value: TextBuffer = field(factory=TextBuffer, converter=_buffer, alias="value", repr=False)
    annotations: list[Annotation] = field(factory=list)

    value = _text_property("_value", "The text.")
    __repr__ = _public_repr


@define(kw_only=True)
class TextContentBlock:
    """A ``text`` content part."""

    type: str = "text"
    text: Text = field(factory=Text)


@define(kw_only=True)
class ImageFile:
    """An image file reference (``detail``: auto | low | high)."""

    file_id: str = ""
    detail: str | None = None


@define(kw_only=True)
class ImageFileContentBlock:
    """An ``image_file`` content part."""

    type: str = "image_file"
    image_file: ImageFile = field(factory=ImageFile)


@define(kw_only=True)
class ImageURL:
    """An image URL reference (``detail``: auto | low | high)."""

    url: str = ""
    detail: str | None = None


@define(kw_only=True)
class ImageURLContentBlock:
    """An ``image_url`` content part."""

    type: str = "image_url"
    image_url: ImageURL = field(factory=ImageURL)


@define(kw_only=True)
class RefusalContentBlock:
    """A ``refusal`` content part (``refusal`` grows by deltas)."""

    type: str = "refusal"
    _refusal: TextBuffer = field(factory=TextBuffer, converter=_buffer, alias="refusal", repr=False)

    refusal = _text_property("_refusal", "The refusal text.")
    __repr__ = _public_repr


@define(kw_only=True, eq=False, repr=False)
class UnknownContentBlock(_RawJSON):
    """A content part of an unknown type; ``raw`` is its JSON."""

    type: str = ""


MessageContent = Union[
    TextContentBlock,
    ImageFileContentBlock,
    ImageURLContentBlock,
    RefusalContentBlock,
    UnknownContentBlock,
]


@define(kw_only=True)
class AttachmentTool:
    """A tool an attachment is added to (``code_interpreter`` | ``file_search``)."""

    type: str = ""


@define(kw_only=True)
class Attachment:
    """A file attached to a message."""

    file_id: str | None = None
    tools: list[AttachmentTool] | None = None


@define(kw_only=True)
class Message:
    """A message (``object: "thread.message"``).

    ``status``: in_progress, incomplete, completed. ``role``: user | assistant.
    """

    id: str = ""
    object: str = "thread.message"
    created_at: int = 0
    thread_id: str = ""
    status: str = ""
    incomplete_details: IncompleteDetails | None = None
    completed_at: int | None = None
    incomplete_at: int | None = None
    role: str = ""
    content: list[MessageContent] = field(factory=list)
    assistant_id: str | None = None
    run_id: str | None = None
    attachments: list[Attachment] | None = None
    metadata: dict[str, Any] | None = None

    @property
    def text(self) -> str:
        """The values of the message's text parts, joined (no separator)."""
        return "".join(p.text.value for p in self.content if isinstance(p, TextContentBlock))


# ---------------------------------------------------------------------------
# Message deltas


@define(kw_only=True)
class FileCitationDeltaAnnotation:
    """A ``file_citation`` annotation fragment (``index`` in the part's annotations)."""

    index: int = 0
    type: str = "file_citation"
    text: str | None = None
    start_index: int | None = None
    end_index: int | None = None
    file_citation: FileCitation | None = None


@define(kw_only=True)
class FilePathDeltaAnnotation:
    """A ``file_path`` annotation fragment."""

    index: int = 0
    type: str = "file_path"
    text: str | None = None
    start_index: int | None = None
    end_index: int | None = None
    file_path: FilePath | None = None


@define(kw_only=True)
class UnknownAnnotationDelta:
    """An annotation fragment of an unknown type; ``raw`` is its JSON."""

    index: int = 0
    type: str = ""
    raw: JSON = field(factory=dict)


AnnotationDelta = Union[
    FileCitationDeltaAnnotation, FilePathDeltaAnnotation, UnknownAnnotationDelta
]


@define(kw_only=True)
class TextDelta:
    """A text fragment: ``value`` to append, ``annotations`` to merge by index."""

    value: str | None = None
    annotations: list[AnnotationDelta] | None = None


@define(kw_only=True)
class TextDeltaBlock:
    """A fragment of the text part at ``index``."""

    index: int = 0
    type: str = "text"
    text: TextDelta | None = None


@define(kw_only=True)
class ImageFileDelta:
    """A fragment of an image_file part."""

    file_id: str | None = None
    detail: str | None = None


@define(kw_only=True)
class ImageFileDeltaBlock:
    """A fragment of the image_file part at ``index``."""

    index: int = 0
    type: str = "image_file"
    image_file: ImageFileDelta | None = None


@define(kw_only=True)
class ImageURLDelta:
    """A fragment of an image_url part."""

    url: str | None = None
    detail: str | None = None


@define(kw_only=True)
class ImageURLDeltaBlock:
    """A fragment of the image_url part at ``index``."""

    index: int = 0
    type: str = "image_url"
    image_url: ImageURLDelta | None = None


@define(kw_only=True)
class RefusalDeltaBlock:
    """A fragment of the refusal part at ``index``."""

    index: int = 0
    type: str = "refusal"
    refusal: str | None = None


@define(kw_only=True)
class UnknownContentDelta:
    """A fragment of a content part of an unknown type; ``raw`` is its JSON."""

    index: int = 0
    type: str = ""
    raw: JSON = field(factory=dict)


MessageContentDelta = Union[
    TextDeltaBlock,
    ImageFileDeltaBlock,
    ImageURLDeltaBlock,
    RefusalDeltaBlock,
    UnknownContentDelta,
]


@define(kw_only=True)
class MessageDelta:
    """What changed in a message: ``role`` and content fragments."""

    role: str | None = None
    content: list[MessageContentDelta] = field(factory=list)


@define(kw_only=True)
class MessageDeltaEvent:
    """The data of ``thread.message.delta``: the message ``id`` and its ``delta``."""

    id: str = ""
    object: str = "thread.message.delta"
    delta: MessageDelta = field(factory=MessageDelta)


# ---------------------------------------------------------------------------
# Run step deltas


@define(kw_only=True)
class FunctionCallDelta:
    """A fragment of a function call."""

    name: str | None = None
    arguments: str | None = None
    output: str | None = None


@define(kw_only=True)
class FunctionToolCallDelta:
    """A fragment of the function call at ``index``."""

    index: int = 0
    id: str | None = None
    type: str = "function"
    function: FunctionCallDelta | None = None


@define(kw_only=True)
class CodeInterpreterLogsDelta:
    """A fragment of a logs output at ``index``."""

    index: int = 0
    type: str = "logs"
    logs: str | None = None


@define(kw_only=True)
class CodeInterpreterImageDelta:
    """An image output at ``index``."""

    index: int = 0
    type: str = "image"
    image: CodeInterpreterImageFile | None = None


@define(kw_only=True)
class UnknownCodeInterpreterOutputDelta:
    """An output fragment of an unknown type; ``raw`` is its JSON."""

    index: int = 0
    type: str = ""
    raw: JSON = field(factory=dict)


CodeInterpreterOutputDelta = Union[
    CodeInterpreterLogsDelta, CodeInterpreterImageDelta, UnknownCodeInterpreterOutputDelta
]


@define(kw_only=True)
class CodeInterpreterDelta:
    """A fragment of a code_interpreter call: ``input`` to append, ``outputs`` to merge."""

    input: str | None = None
    outputs: list[CodeInterpreterOutputDelta] | None = None


@define(kw_only=True)
class CodeInterpreterToolCallDelta:
    """A fragment of the code_interpreter call at ``index``."""

    index: int = 0
    id: str | None = None
    type: str = "code_interpreter"
    code_interpreter: CodeInterpreterDelta | None = None


@define(kw_only=True)
class FileSearchToolCallDelta:
    """A fragment of the file_search call at ``index`` (``file_search`` is ``{}``)."""

    index: int = 0
    id: str | None = None
    type: str = "file_search"
    file_search: dict[str, Any] = field(factory=dict)


@define(kw_only=True)
class UnknownToolCallDelta:
    """A fragment of a tool call of an unknown type; ``raw`` is its JSON."""

    index: int = 0
    id: str | None = None
    type: str = ""
    raw: JSON = field(factory=dict)


ToolCallDelta = Union[
    FunctionToolCallDelta,
    CodeInterpreterToolCallDelta,
    FileSearchToolCallDelta,
    UnknownToolCallDelta,
]


@define(kw_only=True)
class ToolCallsStepDetailsDelta:
    """Tool call fragments of a tool_calls step."""

    type: str = "tool_calls"
    tool_calls: list[ToolCallDelta] | None = None


@define(kw_only=True)
class MessageCreationStepDetailsDelta:
    """A message_creation step delta (modelled by the SDK, not seen on the wire)."""

    type: str = "message_creation"
    message_creation: MessageCreation | None = None


@define(kw_only=True)
class UnknownStepDetailsDelta:
    """Step details delta of an unknown type; ``raw`` is its JSON."""

    type: str = ""
    raw: JSON = field(factory=dict)


StepDetailsDelta = Union[
    ToolCallsStepDetailsDelta, MessageCreationStepDetailsDelta, UnknownStepDetailsDelta
]


@define(kw_only=True)
class RunStepDelta:
    """What changed in a run step."""

    step_details: StepDetailsDelta | None = None


@define(kw_only=True)
class RunStepDeltaEvent:
    """The data of ``thread.run.step.delta``: the step ``id`` and its ``delta``."""

    id: str = ""
    object: str = "thread.run.step.delta"
    delta: RunStepDelta = field(factory=RunStepDelta)
