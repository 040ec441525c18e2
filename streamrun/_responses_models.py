"""Typed objects of the Responses API stream: responses, output items, content parts.

The Responses API (``POST /v1/responses`` with ``"stream": true``) streams
objects of its own (RESPONSES.md §3, the OpenAPI ``Response`` and
``OutputItem`` schemas). They are attrs classes here, structured by the one
converter of :mod:`streamrun._converter` with the same forward compatibility
rules as :mod:`streamrun._models`:

* every field has a default (a compatible server may omit anything);
* enumerations (``status``, ``role`` …) are plain ``str``;
* unknown fields are ignored here (each event keeps its decoded JSON in
  ``raw``); objects whose JSON matters beyond the modelled fields (tool
  calls the mapping keeps as unknown tool calls) also keep it in ``raw``;
* an output item, content part or annotation of an unknown ``type`` becomes an
  ``Unknown…`` instance holding the decoded JSON.

Fields that vary a lot between API versions (``tools``, ``text``,
``reasoning``, ``conversation``, web-search ``action`` …) are kept as JSON.
"""

from __future__ import annotations

from typing import Any, Union

from attrs import define, field

__all__ = [
    "ResponseCodeInterpreterCall",
    "ResponseContentPart",
    "ResponseError",
    "ResponseFileCitation",
    "ResponseFilePath",
    "ResponseFileSearchCall",
    "ResponseFunctionCall",
    "ResponseIncompleteDetails",
    "ResponseObject",
    "ResponseOutputItem",
    "ResponseOutputMessage",
    "ResponseOutputText",
    "ResponseReasoningItem",
    "ResponseRefusal",
    "ResponseTextAnnotation",
    "ResponseURLCitation",
    "ResponseUsage",
    "ResponseWebSearchCall",
    "UnknownResponseAnnotation",
    "UnknownResponseContentPart",
    "UnknownResponseOutputItem",
]

JSON = dict[str, Any]


# ---------------------------------------------------------------------------
# Annotations of output text


@define(kw_only=True)
class ResponseFileCitation:
    """A ``file_citation`` annotation: ``file_id``, ``filename`` and the character ``index``."""

    type: str = "file_citation"
    file_id: str = ""
    filename: str | None = None
    index: int = 0


@define(kw_only=True)
class ResponseURLCitation:
    """A ``url_citation`` annotation (web search): ``url``, ``title`` and the cited range."""

    type: str = "url_citation"
    url: str = ""
    title: str | None = None
    start_index: int = 0
    end_index: int = 0


@define(kw_only=True)
class ResponseFilePath:
    """A ``file_path`` annotation (a file a tool wrote)."""

    type: str = "file_path"
    file_id: str = ""
    index: int = 0


@define(kw_only=True)
class UnknownResponseAnnotation:
    """An annotation of a type this version does not know; ``raw`` is its JSON."""

    type: str = ""
    raw: JSON = field(factory=dict)


ResponseTextAnnotation = Union[
    ResponseFileCitation, ResponseURLCitation, ResponseFilePath, UnknownResponseAnnotation
]


# ---------------------------------------------------------------------------
# Content parts of a message item


@define(kw_only=True)
class ResponseOutputText:
    """An ``output_text`` part: ``text`` and its ``annotations``."""

    type: str = "output_text"
    text: str = ""
    annotations: list[ResponseTextAnnotation] = field(factory=list)


@define(kw_only=True)
class ResponseRefusal:
    """A ``refusal`` part: the model's ``refusal`` text."""

    type: str = "refusal"
    refusal: str = ""


@define(kw_only=True)
class UnknownResponseContentPart:
    """A content part of a type this version does not know; ``raw`` is its JSON."""

    type: str = ""
    raw: JSON = field(factory=dict)


ResponseContentPart = Union[ResponseOutputText, ResponseRefusal, UnknownResponseContentPart]


# ---------------------------------------------------------------------------
# Output items


@define(kw_only=True)
class ResponseOutputMessage:
    """A ``message`` item. ``status``: in_progress | completed | incomplete."""

    id: str = ""
    type: str = "message"
    status: str | None = None
    role: str = "assistant"
    content: list[ResponseContentPart] = field(factory=list)


@define(kw_only=True)
class ResponseFunctionCall:
    """A ``function_call`` item: answer it with a ``function_call_output`` input
    item carrying the same ``call_id``."""

    id: str | None = None
    type: str = "function_call"
    call_id: str = ""
    name: str = ""
    arguments: str = ""
    status: str | None = None


@define(kw_only=True)
class ResponseFileSearchCall:
    """A ``file_search_call`` item: the ``queries`` and (with ``include``) ``results``."""

    id: str = ""
    type: str = "file_search_call"
    status: str | None = None
    queries: list[str] | None = None
    results: list[JSON] | None = None


@define(kw_only=True)
class ResponseCodeInterpreterCall:
    """A ``code_interpreter_call`` item: ``code`` and its ``outputs`` (logs / image JSON)."""

    id: str = ""
    type: str = "code_interpreter_call"
    status: str | None = None
    code: str | None = None
    container_id: str | None = None
    outputs: list[JSON] | None = None


@define(kw_only=True)
class ResponseWebSearchCall:
    """A ``web_search_call`` item; ``action`` (search, open_page …) stays JSON."""

    id: str = ""
    type: str = "web_search_call"
    status: str | None = None
    action: JSON | None = None


@define(kw_only=True)
class ResponseReasoningItem:
    """A ``reasoning`` item: ``summary`` parts and (some servers) ``content`` as JSON."""

    id: str = ""
    type: str = "reasoning"
    status: str | None = None
    summary: list[JSON] = field(factory=list)
    content: list[JSON] | None = None
    encrypted_content: str | None = None


@define(kw_only=True)
class UnknownResponseOutputItem:
    """An output item of a type this version does not model (computer, shell,
    apply_patch, MCP, image generation, custom tool calls …); ``raw`` is its JSON."""

    id: str | None = None
    type: str = ""
    raw: JSON = field(factory=dict)


ResponseOutputItem = Union[
    ResponseOutputMessage,
    ResponseFunctionCall,
    ResponseFileSearchCall,
    ResponseCodeInterpreterCall,
    ResponseWebSearchCall,
    ResponseReasoningItem,
    UnknownResponseOutputItem,
]


# ---------------------------------------------------------------------------
# The response


@define(kw_only=True)
class ResponseError:
    """Why a response failed: ``code`` and ``message``."""

    code: str | None = None
    message: str = ""


@define(kw_only=True)
class ResponseIncompleteDetails:
    """Why a response is incomplete (``max_output_tokens``, ``content_filter`` …)."""

    reason: str | None = None


@define(kw_only=True)
class ResponseUsage:
    """Token usage of a response (``null`` until it ends)."""

    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0


@define(kw_only=True)
class ResponseObject:
    """A response (``object: "response"``).

    ``status``: queued, in_progress, completed, failed, incomplete, cancelled.
    ``conversation`` is ``{"id": "conv_…"}`` (kept as JSON) when the response belongs to a
    conversation. ``tools``, ``tool_choice``, ``text`` and ``reasoning`` are
    kept as JSON.
    """

    id: str = ""
    object: str = "response"
    created_at: int = 0
    completed_at: int | None = None
    status: str | None = None
    background: bool | None = None
    error: ResponseError | None = None
    incomplete_details: ResponseIncompleteDetails | None = None
    instructions: Any = None
    max_output_tokens: int | None = None
    model: str = ""
    output: list[ResponseOutputItem] = field(factory=list)
    parallel_tool_calls: bool | None = None
    previous_response_id: str | None = None
    conversation: Any = None
    temperature: float | None = None
    top_p: float | None = None
    tool_choice: Any = None
    tools: list[JSON] = field(factory=list)
    usage: ResponseUsage | None = None
    metadata: JSON | None = None

    @property
    def conversation_id(self) -> str | None:
        """The id of the conversation the response belongs to, if any."""
        conversation = self.conversation
        if isinstance(conversation, str):
            return conversation
        if isinstance(conversation, dict):
            cid = conversation.get("id")
            return cid if isinstance(cid, str) else None
        return None

    @property
    def output_text(self) -> str:
        """The text of every ``output_text`` part of every message item, joined."""
        return "".join(
            part.text
            for item in self.output
            if isinstance(item, ResponseOutputMessage)
            for part in item.content
            if isinstance(part, ResponseOutputText)
        )
