"""The body of ``POST /v1/responses``, validated before any I/O.

:class:`ResponseCreateParams` is built from keyword arguments or from a
mapping (``ResponseCreateParams.from_dict(...)``) with the machinery of
:mod:`streamrun._requests` (:data:`~streamrun._requests.NOT_GIVEN`,
``to_json()``, :class:`~streamrun.ValidationError` with the offending
``path``); unknown keys are rejected. The client's ``extra_body`` (sent
unchecked) is handled by the client, not here.

Rules enforced (Responses API reference for ``CreateResponse``)
----------------------------------------------------------------
* ``model``: required, a non-empty string.
* ``input``: a string, or an array of input items: messages (``type``
  ``message`` or omitted; ``role`` user | assistant | system | developer;
  ``content`` a string or an array of parts ``input_text`` {text},
  ``input_image`` {image_url or file_id, detail auto|low|high},
  ``input_file`` {file_id | file_url | file_data, filename},
  ``output_text`` {text, annotations, logprobs}, ``refusal`` {refusal});
  ``function_call_output`` {call_id, output: string or array}; ``function_call``
  {call_id, name, arguments: string}; ``item_reference`` {id}; any other item
  (reasoning, tool calls and their outputs …) as a JSON object with a string
  ``type``.
* ``instructions``, ``previous_response_id``, ``user``, ``safety_identifier``,
  ``prompt_cache_key``: string (or null where the API allows it).
* ``conversation``: a ``conv_…`` id string, ``{"id": ...}`` or null; not
  together with ``previous_response_id`` (the API forbids both).
* ``tools``: array of ``function`` {name matching ``[a-zA-Z0-9_-]{1,64}``,
  description, parameters a JSON object or null, strict boolean or null},
  ``file_search`` {vector_store_ids required array of strings,
  max_num_results 1..50, ranking_options, filters}, ``code_interpreter``
  {container required: an id string or an object}, ``web_search`` /
  ``web_search_preview`` {search_context_size low|medium|high, …}, or any
  other tool (mcp, image_generation, computer_use_preview, shell, custom …) as
  a JSON object with a string ``type``.
* ``tool_choice``: none | auto | required | an object with a string ``type``
  (``function`` and ``custom`` need ``name``, ``mcp`` needs ``server_label``,
  ``allowed_tools`` needs ``mode`` auto|required and ``tools``).
* ``text``: {format: {type text | json_object | json_schema (name matching
  ``[a-zA-Z0-9_-]{1,64}`` and schema required, description, strict)},
  verbosity low|medium|high|null}.
* ``reasoning``: {effort none|minimal|low|medium|high|xhigh|null, summary
  auto|concise|detailed|null, generate_summary (deprecated, same values)}.
* ``metadata``: at most 16 pairs, keys ≤ 64 characters, string values ≤ 512.
* ``temperature`` 0..2, ``top_p`` 0..1, ``top_logprobs`` 0..20,
  ``max_output_tokens`` ≥ 16 (the API's minimum), ``max_tool_calls`` ≥ 1,
  all nullable; booleans are not numbers.
* ``background``, ``store``, ``stream``, ``parallel_tool_calls``: boolean or null.
* ``truncation``: auto | disabled | null. ``service_tier``: auto | default |
  flex | scale | priority | null. ``prompt_cache_retention``: in-memory | 24h
  | null.
* ``include``: array of ``file_search_call.results``,
  ``web_search_call.results``, ``web_search_call.action.sources``,
  ``message.input_image.image_url``, ``computer_call_output.output.image_url``,
  ``code_interpreter_call.outputs``, ``reasoning.encrypted_content``,
  ``message.output_text.logprobs``; or null.
* ``stream_options``: {include_obfuscation: boolean} or null. ``prompt``:
  {id required string, version string or null, variables object or null}.
* JSON values (schemas, parameters, free-form objects) must be plain JSON:
  string keys, finite numbers, at most 64 levels deep.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import attrs

from ._exceptions import ValidationError
from ._requests import (
    _NAME_PATTERN,
    _NAME_RE,
    _REASONING_EFFORTS,
    _TOOL_CHOICE_MODES,
    NOT_GIVEN,
    NotGiven,
    _c_metadata,
    _choices,
    _expected,
    _is_array,
    _join,
    _json_object,
    _list_of,
    _Params,
    _show,
    _v_bool,
    _v_enum,
    _v_integer,
    _v_number,
    _v_string,
)

__all__ = [
    "RESPONSES_INCLUDABLE",
    "ResponseCreateParams",
    "build_response_create",
    "validate_responses_body",
]

RESPONSES_INCLUDABLE: Final = (
    "file_search_call.results",
    "web_search_call.results",
    "web_search_call.action.sources",
    "message.input_image.image_url",
    "computer_call_output.output.image_url",
    "code_interpreter_call.outputs",
    "reasoning.encrypted_content",
    "message.output_text.logprobs",
)
"""The values ``include`` accepts."""

_MIN_OUTPUT_TOKENS = 16
_ROLES = ("user", "assistant", "system", "developer")
_DETAILS = ("auto", "low", "high")
_LEVELS = ("low", "medium", "high")
_SUMMARIES = ("auto", "concise", "detailed")

# ---------------------------------------------------------------------------
# JSON-level checks (items and tools whose shapes the API keeps open)


def _object(value: object, path: str) -> dict[str, Any]:
    return _json_object(value, path)


def _check_keys(obj: Mapping[str, Any], path: str, allowed: Sequence[str], what: str) -> None:
    for key in obj:
        if key not in allowed:
            raise ValidationError(
                _join(path, key), f"unknown field; {what} accepts {', '.join(sorted(allowed))}"
            )


def _need_str(obj: Mapping[str, Any], key: str, path: str, *, nullable: bool = False) -> None:
    if key not in obj:
        raise ValidationError(_join(path, key), "is required")
    value = obj[key]
    if nullable and value is None:
        return
    if not isinstance(value, str):
        what = "a string or null" if nullable else "a string"
        raise ValidationError(_join(path, key), _expected(what, value))


def _opt(
    obj: Mapping[str, Any], key: str, path: str, check: Any, *args: Any, nullable: bool = True
) -> None:
    if key in obj and not (nullable and obj[key] is None):
        check(obj[key], _join(path, key), *args)


def _str_value(value: object, path: str) -> None:
    if not isinstance(value, str):
        raise ValidationError(path, _expected("a string", value))


def _enum_value(value: object, path: str, choices: Sequence[str]) -> None:
    if not isinstance(value, str) or value not in choices:
        raise ValidationError(path, _expected("one of " + _choices(choices), value))


def _bool_value(value: object, path: str) -> None:
    if not isinstance(value, bool):
        raise ValidationError(path, _expected("a boolean", value))


def _int_value(value: object, path: str, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(path, _expected("an integer", value))
    if not low <= value <= high:
        raise ValidationError(path, f"must be between {low} and {high}, got {value}")


def _name_value(value: object, path: str) -> None:
    _str_value(value, path)
    assert isinstance(value, str)
    if _NAME_RE.fullmatch(value) is None:
        raise ValidationError(path, f"must match {_NAME_PATTERN}, got {_show(value)}")


def _type_of(obj: Mapping[str, Any], path: str) -> str:
    kind = obj.get("type", NOT_GIVEN)
    if isinstance(kind, NotGiven):
        raise ValidationError(_join(path, "type"), "is required")
    if not isinstance(kind, str) or not kind:
        raise ValidationError(_join(path, "type"), _expected("a non-empty string", kind))
    return kind


# -- input


_PART_KEYS: Final[dict[str, tuple[str, ...]]] = {
    "input_text": ("type", "text"),
    "input_image": ("type", "image_url", "file_id", "detail"),
    "input_file": ("type", "file_id", "file_url", "file_data", "filename"),
    "output_text": ("type", "text", "annotations", "logprobs"),
    "refusal": ("type", "refusal"),
}


def _content_part(value: object, path: str) -> dict[str, Any]:
    part = _object(value, path)
    kind = _type_of(part, path)
    keys = _PART_KEYS.get(kind)
    if keys is None:
        raise ValidationError(
            _join(path, "type"), _expected("one of " + _choices(_PART_KEYS), kind)
        )
    _check_keys(part, path, keys, f"a {kind} part")
    if kind in ("input_text", "output_text"):
        _need_str(part, "text", path)
    elif kind == "refusal":
        _need_str(part, "refusal", path)
    elif kind == "input_image":
        if part.get("image_url") is None and part.get("file_id") is None:
            raise ValidationError(path, "needs image_url or file_id")
        _opt(part, "image_url", path, _str_value)
        _opt(part, "file_id", path, _str_value)
        _opt(part, "detail", path, _enum_value, _DETAILS)
    else:
        for key in ("file_id", "file_url", "file_data", "filename"):
            _opt(part, key, path, _str_value)
    return part


def _message_item(item: dict[str, Any], path: str) -> None:
    _check_keys(item, path, ("type", "role", "content", "id", "status"), "a message")
    if "role" not in item:
        raise ValidationError(_join(path, "role"), "is required")
    _enum_value(item["role"], _join(path, "role"), _ROLES)
    if "content" not in item:
        raise ValidationError(_join(path, "content"), "is required")
    content = item["content"]
    if isinstance(content, str):
        return
    if not _is_array(content):
        raise ValidationError(
            _join(path, "content"), _expected("a string or an array of content parts", content)
        )
    _list_of(content, _join(path, "content"), _content_part)


def _input_item(value: object, path: str) -> dict[str, Any]:
    item = _object(value, path)
    kind = item.get("type", "message")
    if kind == "message":
        _message_item(item, path)
    elif kind == "function_call_output":
        _check_keys(item, path, ("type", "call_id", "output", "id", "status"), kind)
        _need_str(item, "call_id", path)
        if "output" not in item:
            raise ValidationError(_join(path, "output"), "is required")
        output = item["output"]
        if not isinstance(output, str):
            if not _is_array(output):
                raise ValidationError(
                    _join(path, "output"), _expected("a string or an array of parts", output)
                )
            _list_of(output, _join(path, "output"), _content_part)
    elif kind == "function_call":
        _check_keys(item, path, ("type", "call_id", "name", "arguments", "id", "status"), kind)
        for key in ("call_id", "name", "arguments"):
            _need_str(item, key, path)
    elif kind == "item_reference":
        _check_keys(item, path, ("type", "id"), kind)
        _need_str(item, "id", path)
    else:
        _type_of(item, path)
    return item


def _c_input(value: str | Sequence[Any] | NotGiven) -> str | list[dict[str, Any]] | NotGiven:
    obj: object = value
    if isinstance(obj, (str, NotGiven)):
        return obj
    if not _is_array(obj):
        raise ValidationError("input", _expected("a string or an array of input items", obj))
    return _list_of(obj, "input", _input_item)


# -- tools


def _tool(value: object, path: str) -> dict[str, Any]:
    tool = _object(value, path)
    kind = _type_of(tool, path)
    if kind == "function":
        _check_keys(tool, path, ("type", "name", "description", "parameters", "strict"), kind)
        if "name" not in tool:
            raise ValidationError(_join(path, "name"), "is required")
        _name_value(tool["name"], _join(path, "name"))
        _opt(tool, "description", path, _str_value)
        _opt(tool, "parameters", path, _object)
        _opt(tool, "strict", path, _bool_value)
    elif kind == "file_search":
        keys = ("type", "vector_store_ids", "max_num_results", "ranking_options", "filters")
        _check_keys(tool, path, keys, kind)
        if "vector_store_ids" not in tool:
            raise ValidationError(_join(path, "vector_store_ids"), "is required")
        _list_of(tool["vector_store_ids"], _join(path, "vector_store_ids"), _str_item)
        _opt(tool, "max_num_results", path, _int_value, 1, 50)
        _opt(tool, "ranking_options", path, _object)
        _opt(tool, "filters", path, _object)
    elif kind == "code_interpreter":
        _check_keys(tool, path, ("type", "container"), kind)
        if "container" not in tool:
            raise ValidationError(_join(path, "container"), "is required")
        container = tool["container"]
        if not isinstance(container, (str, Mapping)):
            raise ValidationError(
                _join(path, "container"), _expected("a container id or an object", container)
            )
    elif kind.startswith("web_search"):
        _opt(tool, "search_context_size", path, _enum_value, _LEVELS)
    return tool


def _str_item(value: object, path: str) -> str:
    _str_value(value, path)
    assert isinstance(value, str)
    return value


def _c_tools(value: Sequence[Any] | NotGiven | None) -> list[dict[str, Any]] | NotGiven | None:
    if value is None or isinstance(value, NotGiven):
        return value
    return _list_of(value, "tools", _tool)


def _c_tool_choice(value: Any) -> Any:
    if value is None or isinstance(value, NotGiven):
        return value
    if isinstance(value, str):
        _enum_value(value, "tool_choice", _TOOL_CHOICE_MODES)
        return value
    if not isinstance(value, Mapping):
        raise ValidationError(
            "tool_choice",
            _expected("one of " + _choices(_TOOL_CHOICE_MODES) + " or an object", value),
        )
    choice = _object(value, "tool_choice")
    kind = _type_of(choice, "tool_choice")
    if kind in ("function", "custom"):
        _need_str(choice, "name", "tool_choice")
    elif kind == "mcp":
        _need_str(choice, "server_label", "tool_choice")
    elif kind == "allowed_tools":
        if "mode" not in choice:
            raise ValidationError("tool_choice.mode", "is required")
        _enum_value(choice["mode"], "tool_choice.mode", ("auto", "required"))
        if "tools" not in choice:
            raise ValidationError("tool_choice.tools", "is required")
        _list_of(choice["tools"], "tool_choice.tools", _object)
    return choice


# -- text, reasoning, conversation, prompt, include


def _c_text(value: Any) -> Any:
    if value is None or isinstance(value, NotGiven):
        return value
    text = _object(value, "text")
    _check_keys(text, "text", ("format", "verbosity"), "text")
    _opt(text, "verbosity", "text", _enum_value, _LEVELS)
    if "format" in text and text["format"] is not None:
        fmt = _object(text["format"], "text.format")
        kind = _type_of(fmt, "text.format")
        if kind == "json_schema":
            keys = ("type", "name", "schema", "description", "strict")
            _check_keys(fmt, "text.format", keys, "a json_schema format")
            if "name" not in fmt:
                raise ValidationError("text.format.name", "is required")
            _name_value(fmt["name"], "text.format.name")
            if "schema" not in fmt:
                raise ValidationError("text.format.schema", "is required")
            _object(fmt["schema"], "text.format.schema")
            _opt(fmt, "description", "text.format", _str_value)
            _opt(fmt, "strict", "text.format", _bool_value)
        elif kind in ("text", "json_object"):
            _check_keys(fmt, "text.format", ("type",), f"a {kind} format")
        else:
            raise ValidationError(
                "text.format.type",
                _expected("one of 'text', 'json_object', 'json_schema'", kind),
            )
    return text


def _c_reasoning(value: Any) -> Any:
    if value is None or isinstance(value, NotGiven):
        return value
    reasoning = _object(value, "reasoning")
    _check_keys(reasoning, "reasoning", ("effort", "summary", "generate_summary"), "reasoning")
    _opt(reasoning, "effort", "reasoning", _enum_value, _REASONING_EFFORTS)
    _opt(reasoning, "summary", "reasoning", _enum_value, _SUMMARIES)
    _opt(reasoning, "generate_summary", "reasoning", _enum_value, _SUMMARIES)
    return reasoning


def _c_conversation(value: Any) -> Any:
    if value is None or isinstance(value, (NotGiven, str)):
        return value
    if not isinstance(value, Mapping):
        raise ValidationError(
            "conversation", _expected("a conversation id, an object {id} or null", value)
        )
    conversation = _object(value, "conversation")
    _check_keys(conversation, "conversation", ("id",), "conversation")
    _need_str(conversation, "id", "conversation")
    return conversation


def _c_prompt(value: Any) -> Any:
    if value is None or isinstance(value, NotGiven):
        return value
    prompt = _object(value, "prompt")
    _check_keys(prompt, "prompt", ("id", "version", "variables"), "prompt")
    _need_str(prompt, "id", "prompt")
    _opt(prompt, "version", "prompt", _str_value)
    _opt(prompt, "variables", "prompt", _object)
    return prompt


def _c_stream_options(value: Any) -> Any:
    if value is None or isinstance(value, NotGiven):
        return value
    options = _object(value, "stream_options")
    _check_keys(options, "stream_options", ("include_obfuscation",), "stream_options")
    _opt(options, "include_obfuscation", "stream_options", _bool_value, nullable=False)
    return options


def _c_include(value: Any) -> Any:
    if value is None or isinstance(value, NotGiven):
        return value

    def item(v: object, path: str) -> str:
        _enum_value(v, path, RESPONSES_INCLUDABLE)
        assert isinstance(v, str)
        return v

    return _list_of(value, "include", item)


def _check_context(inst: ResponseCreateParams, conversation: object, previous: object) -> None:
    given = (conversation, previous)
    if not any(v is None or isinstance(v, NotGiven) for v in given):
        raise ValidationError(
            "conversation", "cannot be used together with previous_response_id (the API forbids it)"
        )


def _v_conversation(inst: ResponseCreateParams, attr: attrs.Attribute[Any], value: object) -> None:
    _check_context(inst, value, getattr(inst, "previous_response_id", NOT_GIVEN))


def _v_previous(inst: ResponseCreateParams, attr: attrs.Attribute[Any], value: object) -> None:
    _v_string(nullable=True)(inst, attr, value)
    _check_context(inst, getattr(inst, "conversation", NOT_GIVEN), value)


# ---------------------------------------------------------------------------
# The body


@attrs.define(kw_only=True)
class ResponseCreateParams(_Params):
    """Body of ``POST /v1/responses``; see the module docstring for every rule.

    ``model`` is required. Nested objects (input items, tools, ``text``,
    ``reasoning`` …) are kept as checked JSON.
    """

    model: str = attrs.field(validator=_v_string(non_empty=True))
    input: str | list[dict[str, Any]] | NotGiven = attrs.field(
        default=NOT_GIVEN, converter=_c_input
    )
    instructions: str | NotGiven | None = attrs.field(
        default=NOT_GIVEN, validator=_v_string(nullable=True)
    )
    tools: list[dict[str, Any]] | NotGiven | None = attrs.field(
        default=NOT_GIVEN, converter=_c_tools
    )
    tool_choice: Any = attrs.field(default=NOT_GIVEN, converter=_c_tool_choice)
    parallel_tool_calls: bool | NotGiven | None = attrs.field(
        default=NOT_GIVEN, validator=_v_bool(nullable=True)
    )
    conversation: Any = attrs.field(
        default=NOT_GIVEN, converter=_c_conversation, validator=_v_conversation
    )
    previous_response_id: str | NotGiven | None = attrs.field(
        default=NOT_GIVEN, validator=_v_previous
    )
    background: bool | NotGiven | None = attrs.field(
        default=NOT_GIVEN, validator=_v_bool(nullable=True)
    )
    store: bool | NotGiven | None = attrs.field(default=NOT_GIVEN, validator=_v_bool(nullable=True))
    stream: bool | NotGiven | None = attrs.field(
        default=NOT_GIVEN, validator=_v_bool(nullable=True)
    )
    stream_options: Any = attrs.field(default=NOT_GIVEN, converter=_c_stream_options)
    metadata: dict[str, str] | NotGiven | None = attrs.field(
        default=NOT_GIVEN, converter=_c_metadata
    )
    temperature: float | NotGiven | None = attrs.field(
        default=NOT_GIVEN, validator=_v_number(0, 2, nullable=True)
    )
    top_p: float | NotGiven | None = attrs.field(
        default=NOT_GIVEN, validator=_v_number(0, 1, nullable=True)
    )
    top_logprobs: int | NotGiven | None = attrs.field(
        default=NOT_GIVEN, validator=_v_integer(0, 20, nullable=True)
    )
    max_output_tokens: int | NotGiven | None = attrs.field(
        default=NOT_GIVEN, validator=_v_integer(_MIN_OUTPUT_TOKENS, nullable=True)
    )
    max_tool_calls: int | NotGiven | None = attrs.field(
        default=NOT_GIVEN, validator=_v_integer(1, nullable=True)
    )
    text: Any = attrs.field(default=NOT_GIVEN, converter=_c_text)
    reasoning: Any = attrs.field(default=NOT_GIVEN, converter=_c_reasoning)
    truncation: str | NotGiven | None = attrs.field(
        default=NOT_GIVEN, validator=_v_enum(("auto", "disabled"), nullable=True)
    )
    include: list[str] | NotGiven | None = attrs.field(default=NOT_GIVEN, converter=_c_include)
    prompt: Any = attrs.field(default=NOT_GIVEN, converter=_c_prompt)
    service_tier: str | NotGiven | None = attrs.field(
        default=NOT_GIVEN,
        validator=_v_enum(("auto", "default", "flex", "scale", "priority"), nullable=True),
    )
    prompt_cache_key: str | NotGiven | None = attrs.field(
        default=NOT_GIVEN, validator=_v_string(nullable=True)
    )
    prompt_cache_retention: str | NotGiven | None = attrs.field(
        default=NOT_GIVEN, validator=_v_enum(("in-memory", "24h"), nullable=True)
    )
    safety_identifier: str | NotGiven | None = attrs.field(
        default=NOT_GIVEN, validator=_v_string(nullable=True)
    )
    user: str | NotGiven | None = attrs.field(default=NOT_GIVEN, validator=_v_string(nullable=True))


def build_response_create(model: str, body: Mapping[str, Any]) -> ResponseCreateParams:
    """The validated body of a create-response request.

    ``body`` holds the other fields by name (values may be
    :data:`~streamrun._requests.NOT_GIVEN`); an unknown name or a broken rule
    raises :class:`~streamrun.ValidationError`.
    """
    obj: object = body
    if not isinstance(obj, Mapping):
        raise ValidationError("", _expected("a mapping of body fields", obj))
    if "model" in obj:
        raise ValidationError("model", "is given twice (as an argument and in the body)")
    return ResponseCreateParams.from_dict({"model": model, **obj})


def validate_responses_body(body: Any) -> None:
    """Validate a decoded JSON body of ``POST /v1/responses`` the way the API does."""
    if not isinstance(body, dict):
        raise ValidationError("", "the request body " + _expected("a JSON object", body))
    ResponseCreateParams.from_dict(body)
