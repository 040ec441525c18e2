"""The one cattrs converter that structures stream JSON into :mod:`streamrun._models`.

Library-owned (never cattrs' global converter), configured for speed
(``detailed_validation=False``) and tolerance (``forbid_extra_keys=False``).
Every ``type``-tagged union gets a dispatching hook with an ``Unknown…``
fallback, so a new content part, annotation, tool, tool call, output or step
type survives as data instead of raising.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import attrs
import cattrs

from . import _models as m, _responses_models as rm

__all__ = ["converter", "structure"]

T = TypeVar("T")

converter = cattrs.Converter(detailed_validation=False, forbid_extra_keys=False, use_alias=True)


# Shapes are checked: cattrs alone builds an object from any container (a string
# or a list becomes an object of defaults) and a list from any iterable (an
# object becomes the list of its keys). A JSON value of the wrong shape must be
# a ProtocolError (parse_event turns these TypeErrors into one), not garbage.
def _object_hook(cls: type) -> Callable[[Any, Any], Any]:
    hook: Callable[[Any, Any], Any] = converter.gen_structure_attrs_fromdict(cls)
    name = cls.__name__

    def structure_object(data: Any, cl: Any) -> Any:
        if type(data) is not dict:
            raise TypeError(f"expected a JSON object for {name}, got {type(data).__name__}")
        return hook(data, cl)

    return structure_object


def _list_hook(t: Any) -> Callable[[Any, Any], Any]:
    inner = typing.get_args(t)[0] if typing.get_args(t) else Any
    hook = converter.get_structure_hook(inner)

    def structure_list(data: Any, _: Any) -> list[Any]:
        if type(data) is not list:
            raise TypeError(f"expected a JSON array, got {type(data).__name__}")
        return [hook(item, inner) for item in data]

    return structure_list


converter.register_structure_hook_factory(attrs.has, _object_hook)


def _is_list(t: Any) -> bool:
    return typing.get_origin(t) in (list,)


converter.register_structure_hook_factory(_is_list, _list_hook)


def _tagged(
    union: Any,
    members: Mapping[str, type],
    unknown: Callable[[dict[str, Any]], Any],
) -> None:
    """Register a hook structuring ``union`` by its ``type`` key."""
    hooks = {tag: (cls, converter.get_structure_hook(cls)) for tag, cls in members.items()}

    def structure_union(data: Any, _: Any) -> Any:
        entry = hooks.get(data.get("type"))
        if entry is None:
            return unknown(data)
        cls, hook = entry
        return hook(data, cls)

    converter.register_structure_hook(union, structure_union)

    def structure_optional(data: Any, _: Any) -> Any:
        return None if data is None else structure_union(data, union)

    converter.register_structure_hook(union | None, structure_optional)


def _str_or(cls: type) -> None:
    """Register a hook for ``str | cls | None`` (tool_choice, response_format)."""
    hook = converter.get_structure_hook(cls)

    def structure_str_or(data: Any, _: Any) -> Any:
        if data is None or isinstance(data, str):
            return data
        return hook(data, cls)

    converter.register_structure_hook(str | cls | None, structure_str_or)


def _unknown(
    cls: Callable[..., T], *, index: bool = False, id: bool = False
) -> Callable[[dict[str, Any]], T]:
    def build(data: dict[str, Any]) -> T:
        kwargs: dict[str, Any] = {"type": _optional_text(data.get("type")) or "", "raw": data}
        if index:
            kwargs["index"] = int(data.get("index") or 0)
        if id:
            kwargs["id"] = _optional_text(data.get("id"))
        return cls(**kwargs)

    return build


def _optional(convert: Callable[[Any], Any]) -> Callable[[Any, Any], Any]:
    def structure_optional(value: Any, _: Any) -> Any:
        return None if value is None else convert(value)

    return structure_optional


# ``X | None`` of a scalar: one direct hook instead of cattrs' generic optional
# hook, which dispatches on the inner type on every call (the hot path of Run
# and RunStep objects, which have a dozen such fields).
def _not_text(value: Any) -> TypeError:
    return TypeError(f"expected a string, got {type(value).__name__}")


# Every ``str`` field, required or optional, in every model and event (run
# streams and the Responses API) goes through one of these two hooks. Each is
# one Python call whose common case is one ``type() is`` test: as fast as the
# ``str()`` call cattrs makes by default, which turned ``{"a": 1}`` into the
# text ``"{'a': 1}"`` and ``5`` into ``"5"`` (PROTOCOL.md documents no server
# sending numbers for strings).
def _structure_text(value: Any, _: Any) -> str:
    if type(value) is str:
        return value
    raise _not_text(value)


def _optional_text(value: Any, _: Any = None) -> str | None:
    """``None`` or a string (also called directly by the hand-written hooks below)."""
    if value is None or type(value) is str:
        return value
    raise _not_text(value)


for _scalar in (int, float, bool):
    converter.register_structure_hook(_scalar | None, _optional(_scalar))
converter.register_structure_hook(str, _structure_text)
converter.register_structure_hook(str | None, _optional_text)


def _optional_buffer(value: Any, _: Any) -> m.TextBuffer | None:
    # A ``str | None`` field that grows by deltas (a function call's output, a
    # citation's quote): the same rule as ``str | None``, kept in a buffer.
    return None if value is None else m.TextBuffer(_structure_text(value, None))


converter.register_structure_hook(m.TextBuffer | None, _optional_buffer)


def _json_object(value: Any) -> dict[str, Any]:
    """A copy of a JSON object; anything else (a list of pairs …) is the wrong shape."""
    if type(value) is not dict:
        raise TypeError(f"expected a JSON object, got {type(value).__name__}")
    return dict(value)


converter.register_structure_hook_func(
    lambda t: t == (dict[str, Any] | None), _optional(_json_object)
)
converter.register_structure_hook_func(lambda t: t == dict[str, Any], lambda v, _: _json_object(v))


def _optional_of_one(t: Any) -> bool:
    """``X | None`` where ``X`` is one attrs class or collection (not a union)."""
    args = typing.get_args(t)
    return (
        typing.get_origin(t) in (typing.Union, types.UnionType)
        and len(args) == 2
        and args[1] is type(None)
        and (attrs.has(args[0]) or typing.get_origin(args[0]) in (list, dict))
    )


def _optional_of_one_hook(t: Any) -> Callable[[Any, Any], Any]:
    inner = typing.get_args(t)[0]
    hook = converter.get_structure_hook(inner)
    return _optional(lambda value: hook(value, inner))


converter.register_structure_hook_factory(_optional_of_one, _optional_of_one_hook)

# Order matters: inner unions first, so outer classes' generated hooks find them.
_tagged(
    m.Annotation,
    {"file_citation": m.FileCitationAnnotation, "file_path": m.FilePathAnnotation},
    _unknown(m.UnknownAnnotation),
)
_tagged(
    m.AnnotationDelta,
    {"file_citation": m.FileCitationDeltaAnnotation, "file_path": m.FilePathDeltaAnnotation},
    _unknown(m.UnknownAnnotationDelta, index=True),
)
_tagged(
    m.MessageContent,
    {
        "text": m.TextContentBlock,
        "image_file": m.ImageFileContentBlock,
        "image_url": m.ImageURLContentBlock,
        "refusal": m.RefusalContentBlock,
    },
    _unknown(m.UnknownContentBlock),
)
_tagged(
    m.MessageContentDelta,
    {
        "text": m.TextDeltaBlock,
        "image_file": m.ImageFileDeltaBlock,
        "image_url": m.ImageURLDeltaBlock,
        "refusal": m.RefusalDeltaBlock,
    },
    _unknown(m.UnknownContentDelta, index=True),
)
_tagged(
    m.Tool,
    {
        "code_interpreter": m.CodeInterpreterTool,
        "file_search": m.FileSearchTool,
        "function": m.FunctionTool,
    },
    _unknown(m.UnknownTool),
)
_tagged(
    m.CodeInterpreterOutput,
    {"logs": m.CodeInterpreterLogs, "image": m.CodeInterpreterImage},
    _unknown(m.UnknownCodeInterpreterOutput),
)
_tagged(
    m.CodeInterpreterOutputDelta,
    {"logs": m.CodeInterpreterLogsDelta, "image": m.CodeInterpreterImageDelta},
    _unknown(m.UnknownCodeInterpreterOutputDelta, index=True),
)


def _unknown_tool_call(data: dict[str, Any]) -> m.UnknownToolCall:
    return m.UnknownToolCall(
        id=_optional_text(data.get("id")) or "",
        type=_optional_text(data.get("type")) or "",
        raw=data,
    )


_tagged(
    m.ToolCall,
    {
        "code_interpreter": m.CodeInterpreterToolCall,
        "file_search": m.FileSearchToolCall,
        "function": m.FunctionToolCall,
    },
    _unknown_tool_call,
)
_tagged(
    m.ToolCallDelta,
    {
        "code_interpreter": m.CodeInterpreterToolCallDelta,
        "file_search": m.FileSearchToolCallDelta,
        "function": m.FunctionToolCallDelta,
    },
    _unknown(m.UnknownToolCallDelta, index=True, id=True),
)
_tagged(
    m.StepDetails,
    {"message_creation": m.MessageCreationStepDetails, "tool_calls": m.ToolCallsStepDetails},
    _unknown(m.UnknownStepDetails),
)
_tagged(
    m.StepDetailsDelta,
    {
        "message_creation": m.MessageCreationStepDetailsDelta,
        "tool_calls": m.ToolCallsStepDetailsDelta,
    },
    _unknown(m.UnknownStepDetailsDelta),
)
_str_or(m.ToolChoice)
_str_or(m.ResponseFormat)

# The Responses API's objects (streamrun._responses_models): the same rule,
# an unknown ``type`` is kept as data.
_tagged(
    rm.ResponseTextAnnotation,
    {
        "file_citation": rm.ResponseFileCitation,
        "url_citation": rm.ResponseURLCitation,
        "file_path": rm.ResponseFilePath,
    },
    _unknown(rm.UnknownResponseAnnotation),
)
_tagged(
    rm.ResponseContentPart,
    {"output_text": rm.ResponseOutputText, "refusal": rm.ResponseRefusal},
    _unknown(rm.UnknownResponseContentPart),
)
_tagged(
    rm.ResponseOutputItem,
    {
        "message": rm.ResponseOutputMessage,
        "function_call": rm.ResponseFunctionCall,
        "file_search_call": rm.ResponseFileSearchCall,
        "code_interpreter_call": rm.ResponseCodeInterpreterCall,
        "web_search_call": rm.ResponseWebSearchCall,
        "reasoning": rm.ResponseReasoningItem,
    },
    _unknown(rm.UnknownResponseOutputItem, id=True),
)


def _unstructure_buffer(buffer: m.TextBuffer) -> str:
    return str(buffer)


converter.register_unstructure_hook(m.TextBuffer, _unstructure_buffer)


def _raw_unknown(obj: Any) -> Any:
    return obj.raw


for _cls in (
    m.UnknownAnnotation,
    m.UnknownAnnotationDelta,
    m.UnknownContentBlock,
    m.UnknownContentDelta,
    m.UnknownTool,
    m.UnknownCodeInterpreterOutput,
    m.UnknownCodeInterpreterOutputDelta,
    m.UnknownToolCall,
    m.UnknownToolCallDelta,
    m.UnknownStepDetails,
    m.UnknownStepDetailsDelta,
    rm.UnknownResponseAnnotation,
    rm.UnknownResponseContentPart,
    rm.UnknownResponseOutputItem,
):
    converter.register_unstructure_hook(_cls, _raw_unknown)


# Fast path for the most frequent event by far: ``thread.message.delta`` whose
# fragments are text. It builds the same objects the generated hooks build
# (about twice as fast); anything else goes through the generated hooks.
_generic_message_delta_event = converter.get_structure_hook(m.MessageDeltaEvent)
_content_delta_hook = converter.get_structure_hook(m.MessageContentDelta)
_annotation_deltas_hook = converter.get_structure_hook(list[m.AnnotationDelta])


def _structure_message_delta_event(data: Any, cls: Any) -> m.MessageDeltaEvent:
    delta = data.get("delta")
    if type(delta) is not dict:
        return _generic_message_delta_event(data, cls)  # type: ignore[no-any-return]
    parts: list[m.MessageContentDelta] = []
    for part in delta.get("content") or ():
        if not (
            type(part) is dict
            and part.get("type") == "text"
            and type(text := part.get("text")) is dict
            and type(part.get("index", 0)) is int
        ):
            parts.append(_content_delta_hook(part, m.MessageContentDelta))
            continue
        value = text.get("value")
        if value is not None and type(value) is not str:
            raise _not_text(value)
        annotations = text.get("annotations")
        if annotations is not None:
            annotations = _annotation_deltas_hook(annotations, list[m.AnnotationDelta])
        parts.append(
            m.TextDeltaBlock(
                index=part.get("index", 0),
                type="text",
                text=m.TextDelta(value=value, annotations=annotations),
            )
        )
    return m.MessageDeltaEvent(
        id=_optional_text(data.get("id")) or "",
        object=_optional_text(data.get("object")) or "thread.message.delta",
        delta=m.MessageDelta(role=_optional_text(delta.get("role")), content=parts),
    )


converter.register_structure_hook(m.MessageDeltaEvent, _structure_message_delta_event)


def structure(data: Any, cls: type[T]) -> T:
    """Structure decoded JSON into ``cls`` with the library's converter."""
    return converter.structure(data, cls)
