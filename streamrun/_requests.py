"""Request bodies of the run-creating endpoints, validated before any I/O.

Three bodies are modelled, each as an attrs class built from keyword
arguments (:class:`RunCreateParams` ...) or from a mapping
(``RunCreateParams.from_dict(...)``):

* ``POST /threads/{thread_id}/runs`` — :class:`RunCreateParams`
* ``POST /threads/runs`` — :class:`ThreadCreateAndRunParams`
* ``POST /threads/{thread_id}/runs/{run_id}/submit_tool_outputs`` —
  :class:`SubmitToolOutputsParams`

Nested values may be given anywhere as the classes below or as plain dicts;
dicts are converted (and validated) on assignment, so a params object always
holds classes. :data:`NOT_GIVEN` means "not set, not sent"; an explicit
``None`` is sent as JSON ``null`` and is only accepted where the API accepts
null. ``to_json()`` returns the JSON body with unset fields omitted.
Assigning an attribute after construction runs the same checks (including
the cross-field ones); mutating a held list or dict in place is not checked.

Every violation raises :class:`~streamrun._exceptions.ValidationError` whose
``path`` names the field (``tools[2].function.name``) and whose ``rule`` says
what was expected and what was given. Unknown keys are rejected, as the API's
request schemas set ``additionalProperties: false``.

Rules enforced
--------------
* ``assistant_id``: required, a non-empty string.
* ``model``, ``instructions``, ``additional_instructions``: string or null.
* ``reasoning_effort`` (create run only): ``none``, ``minimal``, ``low``,
  ``medium``, ``high``, ``xhigh``, ``max`` or null.
* ``additional_messages`` (create run) / ``thread.messages``: messages with
  ``role`` (required, ``user`` | ``assistant``), ``content`` (required: a
  string or a non-empty array of parts ``text`` {text: string},
  ``image_file`` {file_id required, detail auto|low|high},
  ``image_url`` {url required, an absolute URI; detail auto|low|high}),
  ``attachments`` (array or null of {file_id, tools: [{type:
  code_interpreter|file_search}]}) and ``metadata``.
* ``tools``: array or null, at most 20 items: ``code_interpreter``;
  ``file_search`` {max_num_results integer 1..50, ranking_options {ranker
  auto|default_2024_08_21, score_threshold number 0..1 required}};
  ``function`` {name required matching ``[a-zA-Z0-9_-]{1,64}``, description
  string, parameters a JSON object, strict boolean or null}.
* ``metadata`` (everywhere it appears): object or null, at most 16 pairs,
  string keys of at most 64 characters, string values of at most 512.
* ``temperature``: number 0..2 or null; ``top_p``: number 0..1 or null.
  Booleans are not numbers; NaN and infinities fail the range check.
* ``max_prompt_tokens``, ``max_completion_tokens``: integer >= 256 or null
  (booleans and floats rejected).
* ``truncation_strategy``: object or null; ``type`` required
  (auto|last_messages), ``last_messages`` integer >= 1 or null.
* ``tool_choice``: ``none`` | ``auto`` | ``required`` | null | {type
  function|code_interpreter|file_search, function {name required}};
  ``function`` is required when type is ``function``.
* ``parallel_tool_calls``: boolean (not nullable).
* ``response_format``: ``auto`` | null | {type text|json_object|json_schema,
  json_schema {name required matching ``[a-zA-Z0-9_-]{1,64}``, description,
  schema a JSON object, strict boolean or null}}; ``json_schema`` is required
  when type is ``json_schema`` and not allowed otherwise.
* ``stream``: boolean or null.
* ``tool_resources`` (create thread and run, and its ``thread``):
  ``code_interpreter.file_ids`` at most 20 strings;
  ``file_search.vector_store_ids`` at most 1 string; the thread's file_search
  may instead carry ``vector_stores`` (at most 1, not together with
  vector_store_ids) of {file_ids, chunking_strategy auto | static
  {max_chunk_size_tokens 100..4096, chunk_overlap_tokens >= 0 and at most
  half of max_chunk_size_tokens}, metadata}.
* ``thread`` (create thread and run): an object, not null — omit it to let the
  server create an empty thread.
* ``tool_outputs`` (submit tool outputs): required array of
  {tool_call_id string, output string}.
* query ``include[]``: only ``step_details.tool_calls[*].file_search.results[*].content``
  (:func:`validate_include`).
* JSON Schema objects (``parameters``, ``schema``) must hold JSON values only:
  string keys, finite numbers, at most 64 levels deep.

Where the sources disagree (PROTOCOL §8) and what is done here
--------------------------------------------------------------
* ``reasoning_effort``: the seed page lists low/medium/high, the OpenAPI spec
  and openai-python list none/minimal/low/medium/high/xhigh/max. The larger
  set is accepted. Create-thread-and-run has no ``reasoning_effort`` in the
  spec nor in openai-python, so it is rejected there as an unknown key.
* ``max_prompt_tokens`` / ``max_completion_tokens`` >= 256: stated only by the
  spec (the seed page gives no minimum, openai-python does not check); the
  spec minimum is enforced.
* Attachment keys: the spec requires ``file_id`` and ``tools``, the seed page
  and openai-python make them optional. The spec is what the server validates
  against, so both are required.
* ``tool_outputs[*].tool_call_id`` / ``output``: optional in both the spec and
  openai-python, so optional here.
* ``image_url.url``: the seed page says it must name a jpeg/jpg/png/gif/webp
  image; the spec only says ``format: uri``. The URI form (a scheme) is
  checked, the file type is left to the server.
"""

from __future__ import annotations

import difflib
import inspect
import math
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Literal, TypeVar, Union
from urllib.parse import quote

import attrs

from . import _json
from ._exceptions import ValidationError

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = [
    "INCLUDE_FILE_SEARCH_RESULT_CONTENT",
    "NOT_GIVEN",
    "AttachmentParam",
    "AttachmentToolParam",
    "AutoChunkingStrategyParam",
    "BodyKind",
    "ChunkingStrategyParam",
    "CodeInterpreterResourceParam",
    "CodeInterpreterToolParam",
    "ContentPartParam",
    "FileSearchOptionsParam",
    "FileSearchResourceParam",
    "FileSearchToolParam",
    "FunctionDefinitionParam",
    "FunctionToolParam",
    "ImageDetail",
    "ImageFileParam",
    "ImageFilePartParam",
    "ImageURLParam",
    "ImageURLPartParam",
    "JSONSchemaParam",
    "MessageParam",
    "NotGiven",
    "RankingOptionsParam",
    "ReasoningEffort",
    "ResponseFormatParam",
    "RunCreateParams",
    "StaticChunkingParam",
    "StaticChunkingStrategyParam",
    "SubmitToolOutputsParams",
    "TextPartParam",
    "ThreadCreateAndRunParams",
    "ThreadFileSearchResourceParam",
    "ThreadParams",
    "ThreadToolResourcesParam",
    "ToolChoiceFunctionParam",
    "ToolChoiceMode",
    "ToolChoiceParam",
    "ToolOutput",
    "ToolParam",
    "ToolResourcesParam",
    "TruncationStrategyParam",
    "VectorStoreParam",
    "build_run_create",
    "build_submit_tool_outputs",
    "build_thread_create_and_run",
    "check_keywords",
    "check_tap",
    "encode_body",
    "path_id",
    "validate_body",
    "validate_header",
    "validate_include",
    "validate_query_value",
]


# ---------------------------------------------------------------------------
# The "not given" sentinel


class NotGiven:
    """Type of :data:`NOT_GIVEN`: a field that is not set and is not sent.

    Distinct from ``None``, which is sent as JSON ``null``. Falsy; there is a
    single instance.
    """

    __slots__ = ()
    _instance: NotGiven | None = None

    def __new__(cls) -> NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> Literal[False]:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __copy__(self) -> NotGiven:
        return self

    def __deepcopy__(self, memo: object) -> NotGiven:
        return self

    def __reduce__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Final = NotGiven()
"""The field is not set: it is left out of the JSON body."""


# ---------------------------------------------------------------------------
# Constants

INCLUDE_FILE_SEARCH_RESULT_CONTENT: Final = (
    "step_details.tool_calls[*].file_search.results[*].content"
)
"""The only value the API accepts in the ``include[]`` query parameter."""

_NAME_PATTERN = "[a-zA-Z0-9_-]{1,64}"
_NAME_RE = re.compile(_NAME_PATTERN)
_URI_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:\S")
_MAX_TOOLS = 20
_MIN_TOKENS = 256
_METADATA_MAX_PAIRS = 16
_METADATA_MAX_KEY = 64
_METADATA_MAX_VALUE = 512
_JSON_MAX_DEPTH = 64
_MAX_INT = 2**63 - 1

_REASONING_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh", "max")
_DETAILS = ("auto", "low", "high")
_TOOL_CHOICE_MODES = ("none", "auto", "required")

ReasoningEffort = Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"]
ImageDetail = Literal["auto", "low", "high"]
ToolChoiceMode = Literal["none", "auto", "required"]
BodyKind = Literal["create_run", "create_thread_and_run", "submit_tool_outputs"]
"""The request bodies :func:`validate_body` knows."""


# ---------------------------------------------------------------------------
# Error text and paths


def _show(value: object, limit: int = 60) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
        # repr() of an integer past Python's digit limit raises ValueError.
        return f"an integer of {value.bit_length()} bits"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _describe(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, NotGiven):
        return "NOT_GIVEN"
    if isinstance(value, (Mapping, list, tuple)):
        return f"{type(value).__name__} of {len(value)} items"
    return f"{type(value).__name__} {_show(value)}"


def _expected(what: str, value: object) -> str:
    return f"must be {what}, got {_describe(value)}"


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _prefixed(prefix: str, error: ValidationError) -> ValidationError:
    """``error`` re-rooted under ``prefix`` (the path of the enclosing object)."""
    if not prefix:
        return error
    return ValidationError(f"{prefix}.{error.path}" if error.path else prefix, error.rule)


def _choices(values: Iterable[str]) -> str:
    return ", ".join(repr(v) for v in values)


# ---------------------------------------------------------------------------
# Scalar validators (attrs validators: they know the field's name)

_Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]


def _skip(name: str, value: object, nullable: bool, required: bool) -> bool:
    """Whether ``value`` needs no further checks (unset, or an allowed null).

    An unset (:data:`NOT_GIVEN`) required field is an error.
    """
    if isinstance(value, NotGiven):
        if required:
            raise ValidationError(name, "is required")
        return True
    return nullable and value is None


def _required(attr: attrs.Attribute[Any]) -> bool:
    return attr.default is attrs.NOTHING


def _or_null(what: str, nullable: bool) -> str:
    return f"{what} or null" if nullable else what


def _v_string(*, nullable: bool = False, non_empty: bool = False) -> _Validator:
    def check(inst: object, attr: attrs.Attribute[Any], value: object) -> None:
        if _skip(attr.name, value, nullable, _required(attr)):
            return
        if not isinstance(value, str):
            raise ValidationError(attr.name, _expected(_or_null("a string", nullable), value))
        if non_empty and not value:
            raise ValidationError(attr.name, "must be a non-empty string")

    return check


def _v_enum(choices: Sequence[str], *, nullable: bool = False) -> _Validator:
    def check(inst: object, attr: attrs.Attribute[Any], value: object) -> None:
        if _skip(attr.name, value, nullable, _required(attr)):
            return
        if not isinstance(value, str) or value not in choices:
            what = "one of " + _choices(choices)
            raise ValidationError(attr.name, _expected(_or_null(what, nullable), value))

    return check


def _v_const(expected: str) -> _Validator:
    def check(inst: object, attr: attrs.Attribute[Any], value: object) -> None:
        _skip(attr.name, value, False, True)
        if value != expected or not isinstance(value, str):
            raise ValidationError(attr.name, _expected(repr(expected), value))

    return check


def _v_bool(*, nullable: bool = False) -> _Validator:
    def check(inst: object, attr: attrs.Attribute[Any], value: object) -> None:
        if _skip(attr.name, value, nullable, _required(attr)):
            return
        if not isinstance(value, bool):
            raise ValidationError(attr.name, _expected(_or_null("a boolean", nullable), value))

    return check


def _check_number(
    name: str, value: object, low: float, high: float, nullable: bool, required: bool
) -> None:
    if _skip(name, value, nullable, required):
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValidationError(name, _expected(_or_null("a number", nullable), value))
    if not low <= value <= high:
        raise ValidationError(name, f"must be between {low:g} and {high:g}, got {_show(value)}")


def _v_number(low: float, high: float, *, nullable: bool = False) -> _Validator:
    def check(inst: object, attr: attrs.Attribute[Any], value: object) -> None:
        _check_number(attr.name, value, low, high, nullable, _required(attr))

    return check


def _check_integer(
    name: str, value: object, low: int, high: int | None, nullable: bool, required: bool
) -> None:
    if _skip(name, value, nullable, required):
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(name, _expected(_or_null("an integer", nullable), value))
    if high is None:
        if value < low:
            raise ValidationError(name, f"must be at least {low}, got {_show(value)}")
        if value > _MAX_INT:
            raise ValidationError(name, f"must be at most 2**63-1, got {_show(value)}")
    elif not low <= value <= high:
        raise ValidationError(name, f"must be between {low} and {high}, got {_show(value)}")


def _v_integer(low: int, high: int | None = None, *, nullable: bool = False) -> _Validator:
    def check(inst: object, attr: attrs.Attribute[Any], value: object) -> None:
        _check_integer(attr.name, value, low, high, nullable, _required(attr))

    return check


def _v_name(inst: object, attr: attrs.Attribute[Any], value: object) -> None:
    """Function and response-format names: ``[a-zA-Z0-9_-]{1,64}``."""
    _skip(attr.name, value, False, True)
    if not isinstance(value, str):
        raise ValidationError(attr.name, _expected("a string", value))
    if _NAME_RE.fullmatch(value) is None:
        raise ValidationError(attr.name, f"must match {_NAME_PATTERN}, got {_show(value)}")


def _v_uri(inst: object, attr: attrs.Attribute[Any], value: object) -> None:
    _skip(attr.name, value, False, True)
    if not isinstance(value, str):
        raise ValidationError(attr.name, _expected("a string", value))
    if _URI_RE.match(value) is None:
        raise ValidationError(
            attr.name, f"must be an absolute URI such as 'https://...', got {_show(value)}"
        )


# ---------------------------------------------------------------------------
# Base class: from_dict / to_json


_P = TypeVar("_P", bound="_Params")
_T = TypeVar("_T")


@attrs.frozen
class _FieldInfo:
    names: frozenset[str]
    required: tuple[str, ...]
    fields: tuple[attrs.Attribute[Any], ...]


_FIELD_INFO: dict[type, _FieldInfo] = {}


def _field_info(cls: type) -> _FieldInfo:
    info = _FIELD_INFO.get(cls)
    if info is None:
        fields: tuple[attrs.Attribute[Any], ...] = tuple(attrs.fields(cls))
        info = _FieldInfo(
            names=frozenset(a.name for a in fields),
            required=tuple(a.name for a in fields if a.default is attrs.NOTHING),
            fields=fields,
        )
        _FIELD_INFO[cls] = info
    return info


def _dump(value: object) -> Any:
    if isinstance(value, _Params):
        return value.to_json()
    if isinstance(value, list):
        return [_dump(v) for v in value]
    if isinstance(value, dict):
        return {k: _dump(v) for k, v in value.items()}
    return value


class _Params:
    """Shared behaviour of the request-body classes."""

    __slots__ = ()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], path: str = "") -> Self:
        """Build from a mapping, rejecting unknown keys and missing required ones.

        ``path`` is where ``data`` sits in the enclosing body; it prefixes the
        path of any :class:`ValidationError`. Values equal to :data:`NOT_GIVEN`
        count as absent.
        """
        obj: object = data
        if not isinstance(obj, Mapping):
            raise ValidationError(path, _expected("an object", obj))
        info = _field_info(cls)
        kwargs: dict[str, Any] = {}
        for key, value in obj.items():
            if not isinstance(key, str) or key not in info.names:
                raise ValidationError(
                    _join(path, str(key)),
                    f"unknown field; {cls.__name__} accepts {', '.join(sorted(info.names))}",
                )
            if not isinstance(value, NotGiven):
                kwargs[key] = value
        for name in info.required:
            if name not in kwargs:
                raise ValidationError(_join(path, name), "is required")
        try:
            return cls(**kwargs)
        except ValidationError as error:
            raise _prefixed(path, error) from None

    def to_json(self) -> dict[str, Any]:
        """The JSON object to send: fields left at :data:`NOT_GIVEN` are omitted."""
        out: dict[str, Any] = {}
        for field in _field_info(type(self)).fields:
            value = getattr(self, field.name)
            if not isinstance(value, NotGiven):
                out[field.name] = _dump(value)
        return out


# ---------------------------------------------------------------------------
# Structural helpers used by the converters


def _obj(cls: type[_P], value: object, path: str) -> _P:
    _skip(path, value, False, True)
    if isinstance(value, cls):
        return value
    if isinstance(value, Mapping):
        return cls.from_dict(value, path)
    raise ValidationError(path, _expected(f"an object ({cls.__name__})", value))


def _tagged(value: object, path: str, what: str, classes: Mapping[str, type[_P]]) -> _P:
    """``value`` as the one of ``classes`` that its ``"type"`` key names.

    Instances of ``classes`` pass through; ``what`` describes the expected
    object in the error raised when ``value`` is not a mapping.
    """
    for cls in classes.values():
        if isinstance(value, cls):
            return value
    if not isinstance(value, Mapping):
        raise ValidationError(path, _expected(what, value))
    kind = value.get("type", NOT_GIVEN)
    for tag, cls in classes.items():
        if kind == tag:
            return cls.from_dict(value, path)
    if isinstance(kind, NotGiven):
        raise ValidationError(_join(path, "type"), "is required")
    raise ValidationError(_join(path, "type"), _expected("one of " + _choices(classes), kind))


def _is_array(value: object) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes, bytearray))


def _list_of(
    value: object,
    path: str,
    item: Callable[[object, str], _T],
    *,
    min_items: int = 0,
    max_items: int | None = None,
) -> list[_T]:
    _skip(path, value, False, True)
    if not isinstance(value, Sequence) or isinstance(value, (str, bytes, bytearray)):
        raise ValidationError(path, _expected("an array", value))
    count = len(value)
    if count < min_items:
        raise ValidationError(path, f"must have at least {min_items} item(s), got {count}")
    if max_items is not None and count > max_items:
        raise ValidationError(path, f"must have at most {max_items} items, got {count}")
    return [item(v, f"{path}[{i}]") for i, v in enumerate(value)]


def _str_item(value: object, path: str) -> str:
    if not isinstance(value, str):
        raise ValidationError(path, _expected("a string", value))
    return value


def _json_value(value: object, path: str, depth: int = 0, *, copy: bool = True) -> Any:
    """``value`` checked as JSON data that can be sent, as a deep copy (or, with
    ``copy=False``, ``value`` itself, which must then be made of dicts and lists).

    The one walker of request JSON: strings and keys without a lone surrogate,
    integers up to 2**63-1 in size, finite floats, string keys, nesting up to
    64 levels; anything else raises :class:`ValidationError` naming its path.
    """
    if isinstance(value, str):
        problem = _text_problem(value)
        if problem is not None:
            raise ValidationError(path, problem)
        return value
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if abs(value) > _MAX_INT:
            raise ValidationError(path, f"must be at most 2**63-1 in size, got {_show(value)}")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValidationError(path, f"must be a finite number, got {value!r}")
        return value
    if depth >= _JSON_MAX_DEPTH:
        raise ValidationError(path, f"nests deeper than {_JSON_MAX_DEPTH} levels")
    if isinstance(value, dict) or (copy and isinstance(value, Mapping)):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValidationError(path, f"object keys must be strings, got {_describe(key)}")
            _json_value(key, path, depth)
            out[key] = _json_value(item, _join(path, key), depth + 1, copy=copy)
        return out if copy else value
    if isinstance(value, (list, tuple)) or (copy and _is_array(value)):
        assert isinstance(value, Sequence)
        if not copy:
            for i, item in enumerate(value):
                _json_value(item, f"{path}[{i}]", depth + 1, copy=False)
            return value
        return [_json_value(item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value)]
    raise ValidationError(path, _expected("a JSON value", value))


def _json_object(value: object, path: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ValidationError(path, _expected("a JSON object", value))
    result: dict[str, Any] = _json_value(value, path, 0)
    return result


# ---------------------------------------------------------------------------
# Converters: one named function per nested field (the attrs mypy plugin
# only understands named converters). Each turns dicts into classes and
# reports errors under the field's name.


def _c_metadata(value: Mapping[str, str] | NotGiven | None) -> dict[str, str] | NotGiven | None:
    if value is None or isinstance(value, NotGiven):
        return value
    obj: object = value
    if not isinstance(obj, Mapping):
        raise ValidationError("metadata", _expected("an object or null", obj))
    if len(obj) > _METADATA_MAX_PAIRS:
        raise ValidationError(
            "metadata",
            f"must have at most {_METADATA_MAX_PAIRS} key-value pairs, got {len(obj)}",
        )
    out: dict[str, str] = {}
    for key, item in obj.items():
        if not isinstance(key, str):
            raise ValidationError("metadata", f"keys must be strings, got {_describe(key)}")
        if len(key) > _METADATA_MAX_KEY:
            raise ValidationError(
                "metadata",
                f"keys must be at most {_METADATA_MAX_KEY} characters, "
                f"got {len(key)} for {_show(key)}",
            )
        if not isinstance(item, str):
            raise ValidationError(_join("metadata", key), _expected("a string", item))
        if len(item) > _METADATA_MAX_VALUE:
            raise ValidationError(
                _join("metadata", key),
                f"must be at most {_METADATA_MAX_VALUE} characters, got {len(item)}",
            )
        out[key] = item
    return out


def _c_parameters(value: Mapping[str, Any] | NotGiven) -> dict[str, Any] | NotGiven:
    if isinstance(value, NotGiven):
        return value
    return _json_object(value, "parameters")


def _c_schema(value: Mapping[str, Any] | NotGiven) -> dict[str, Any] | NotGiven:
    if isinstance(value, NotGiven):
        return value
    return _json_object(value, "schema")


# -- messages


def _content_part(value: object, path: str) -> ContentPartParam:
    return _tagged(
        value,
        path,
        "an object (content part)",
        {"text": TextPartParam, "image_file": ImageFilePartParam, "image_url": ImageURLPartParam},
    )


def _c_content(value: str | Sequence[ContentPartInput]) -> str | list[ContentPartParam]:
    obj: object = value
    if isinstance(obj, str):
        return obj
    _skip("content", obj, False, True)
    if not _is_array(obj):
        raise ValidationError(
            "content", _expected("a string or a non-empty array of content parts", obj)
        )
    return _list_of(obj, "content", _content_part, min_items=1)


def _c_image_file(value: ImageFileParam | Mapping[str, Any]) -> ImageFileParam:
    return _obj(ImageFileParam, value, "image_file")


def _c_image_url(value: ImageURLParam | Mapping[str, Any]) -> ImageURLParam:
    return _obj(ImageURLParam, value, "image_url")


def _attachment_tool(value: object, path: str) -> AttachmentToolParam:
    if isinstance(value, CodeInterpreterToolParam):
        return AttachmentToolParam(type="code_interpreter")
    if isinstance(value, FileSearchToolParam) and isinstance(value.file_search, NotGiven):
        return AttachmentToolParam(type="file_search")
    return _obj(AttachmentToolParam, value, path)


def _c_attachment_tools(
    value: Sequence[
        AttachmentToolParam | CodeInterpreterToolParam | FileSearchToolParam | Mapping[str, Any]
    ],
) -> list[AttachmentToolParam]:
    return _list_of(value, "tools", _attachment_tool)


def _attachment(value: object, path: str) -> AttachmentParam:
    return _obj(AttachmentParam, value, path)


def _c_attachments(
    value: Sequence[AttachmentParam | Mapping[str, Any]] | NotGiven | None,
) -> list[AttachmentParam] | NotGiven | None:
    if value is None or isinstance(value, NotGiven):
        return value
    return _list_of(value, "attachments", _attachment)


def _message(value: object, path: str) -> MessageParam:
    return _obj(MessageParam, value, path)


def _c_additional_messages(
    value: Sequence[MessageParam | Mapping[str, Any]] | NotGiven | None,
) -> list[MessageParam] | NotGiven | None:
    if value is None or isinstance(value, NotGiven):
        return value
    return _list_of(value, "additional_messages", _message)


def _c_messages(
    value: Sequence[MessageParam | Mapping[str, Any]] | NotGiven,
) -> list[MessageParam] | NotGiven:
    if isinstance(value, NotGiven):
        return value
    return _list_of(value, "messages", _message)


# -- tools


def _tool(value: object, path: str) -> ToolParam:
    return _tagged(
        value,
        path,
        "an object (tool)",
        {
            "code_interpreter": CodeInterpreterToolParam,
            "file_search": FileSearchToolParam,
            "function": FunctionToolParam,
        },
    )


def _c_tools(
    value: Sequence[ToolParam | Mapping[str, Any]] | NotGiven | None,
) -> list[ToolParam] | NotGiven | None:
    if value is None or isinstance(value, NotGiven):
        return value
    return _list_of(value, "tools", _tool, max_items=_MAX_TOOLS)


def _c_function_definition(
    value: FunctionDefinitionParam | Mapping[str, Any],
) -> FunctionDefinitionParam:
    return _obj(FunctionDefinitionParam, value, "function")


def _c_file_search_options(
    value: FileSearchOptionsParam | Mapping[str, Any] | NotGiven,
) -> FileSearchOptionsParam | NotGiven:
    if isinstance(value, NotGiven):
        return value
    return _obj(FileSearchOptionsParam, value, "file_search")


def _c_ranking_options(
    value: RankingOptionsParam | Mapping[str, Any] | NotGiven,
) -> RankingOptionsParam | NotGiven:
    if isinstance(value, NotGiven):
        return value
    return _obj(RankingOptionsParam, value, "ranking_options")


# -- run options


def _c_truncation_strategy(
    value: TruncationStrategyParam | Mapping[str, Any] | NotGiven | None,
) -> TruncationStrategyParam | NotGiven | None:
    if value is None or isinstance(value, NotGiven):
        return value
    return _obj(TruncationStrategyParam, value, "truncation_strategy")


def _c_tool_choice(
    value: ToolChoiceMode | ToolChoiceParam | Mapping[str, Any] | NotGiven | None,
) -> ToolChoiceMode | ToolChoiceParam | NotGiven | None:
    if value is None or isinstance(value, NotGiven):
        return value
    obj: object = value
    if isinstance(obj, str):
        if obj == "none":
            return "none"
        if obj == "auto":
            return "auto"
        if obj == "required":
            return "required"
        raise ValidationError(
            "tool_choice", _expected(f"one of {_choices(_TOOL_CHOICE_MODES)} or an object", obj)
        )
    if not isinstance(obj, (ToolChoiceParam, Mapping)):
        raise ValidationError(
            "tool_choice",
            _expected(f"one of {_choices(_TOOL_CHOICE_MODES)}, an object or null", obj),
        )
    return _obj(ToolChoiceParam, obj, "tool_choice")


def _c_tool_choice_function(
    value: ToolChoiceFunctionParam | Mapping[str, Any] | NotGiven,
) -> ToolChoiceFunctionParam | NotGiven:
    if isinstance(value, NotGiven):
        return value
    return _obj(ToolChoiceFunctionParam, value, "function")


def _c_response_format(
    value: Literal["auto"] | ResponseFormatParam | Mapping[str, Any] | NotGiven | None,
) -> Literal["auto"] | ResponseFormatParam | NotGiven | None:
    if value is None or isinstance(value, NotGiven):
        return value
    obj: object = value
    if isinstance(obj, str):
        if obj == "auto":
            return "auto"
        raise ValidationError("response_format", _expected("'auto' or an object", obj))
    if not isinstance(obj, (ResponseFormatParam, Mapping)):
        raise ValidationError("response_format", _expected("'auto', an object or null", obj))
    return _obj(ResponseFormatParam, obj, "response_format")


def _c_json_schema(
    value: JSONSchemaParam | Mapping[str, Any] | NotGiven,
) -> JSONSchemaParam | NotGiven:
    if isinstance(value, NotGiven):
        return value
    return _obj(JSONSchemaParam, value, "json_schema")


# -- tool resources


def _c_code_interpreter_file_ids(value: Sequence[str] | NotGiven) -> list[str] | NotGiven:
    if isinstance(value, NotGiven):
        return value
    return _list_of(value, "file_ids", _str_item, max_items=20)


def _c_vector_store_ids(value: Sequence[str] | NotGiven) -> list[str] | NotGiven:
    if isinstance(value, NotGiven):
        return value
    return _list_of(value, "vector_store_ids", _str_item, max_items=1)


def _c_vector_store_file_ids(value: Sequence[str] | NotGiven) -> list[str] | NotGiven:
    if isinstance(value, NotGiven):
        return value
    return _list_of(value, "file_ids", _str_item)


def _c_code_interpreter_resource(
    value: CodeInterpreterResourceParam | Mapping[str, Any] | NotGiven,
) -> CodeInterpreterResourceParam | NotGiven:
    if isinstance(value, NotGiven):
        return value
    return _obj(CodeInterpreterResourceParam, value, "code_interpreter")


def _c_file_search_resource(
    value: FileSearchResourceParam | Mapping[str, Any] | NotGiven,
) -> FileSearchResourceParam | NotGiven:
    if isinstance(value, NotGiven):
        return value
    return _obj(FileSearchResourceParam, value, "file_search")


def _c_thread_file_search_resource(
    value: ThreadFileSearchResourceParam | Mapping[str, Any] | NotGiven,
) -> ThreadFileSearchResourceParam | NotGiven:
    if isinstance(value, NotGiven):
        return value
    return _obj(ThreadFileSearchResourceParam, value, "file_search")


def _vector_store(value: object, path: str) -> VectorStoreParam:
    return _obj(VectorStoreParam, value, path)


def _c_vector_stores(
    value: Sequence[VectorStoreParam | Mapping[str, Any]] | NotGiven,
) -> list[VectorStoreParam] | NotGiven:
    if isinstance(value, NotGiven):
        return value
    return _list_of(value, "vector_stores", _vector_store, max_items=1)


def _c_chunking_strategy(
    value: ChunkingStrategyParam | Mapping[str, Any] | NotGiven,
) -> ChunkingStrategyParam | NotGiven:
    if isinstance(value, NotGiven):
        return value
    return _tagged(
        value,
        "chunking_strategy",
        "an object",
        {"auto": AutoChunkingStrategyParam, "static": StaticChunkingStrategyParam},
    )


def _c_static_chunking(value: StaticChunkingParam | Mapping[str, Any]) -> StaticChunkingParam:
    return _obj(StaticChunkingParam, value, "static")


def _c_thread_tool_resources(
    value: ThreadToolResourcesParam | Mapping[str, Any] | NotGiven | None,
) -> ThreadToolResourcesParam | NotGiven | None:
    if value is None or isinstance(value, NotGiven):
        return value
    return _obj(ThreadToolResourcesParam, value, "tool_resources")


def _c_tool_resources(
    value: ToolResourcesParam | Mapping[str, Any] | NotGiven | None,
) -> ToolResourcesParam | NotGiven | None:
    if value is None or isinstance(value, NotGiven):
        return value
    return _obj(ToolResourcesParam, value, "tool_resources")


def _c_thread(value: ThreadParams | Mapping[str, Any] | NotGiven) -> ThreadParams | NotGiven:
    if isinstance(value, NotGiven):
        return value
    obj: object = value
    if obj is None:
        raise ValidationError(
            "thread", "must be an object, got null (omit it to start an empty thread)"
        )
    return _obj(ThreadParams, obj, "thread")


# -- submit tool outputs


def _tool_output(value: object, path: str) -> ToolOutput:
    return _obj(ToolOutput, value, path)


def _c_tool_outputs(value: Sequence[ToolOutput | Mapping[str, Any]]) -> list[ToolOutput]:
    return _list_of(value, "tool_outputs", _tool_output)


# ---------------------------------------------------------------------------
# Cross-field rules (validators on every field involved, so that assignment
# after construction is checked too)


def _check_response_format(kind: object, json_schema: object) -> None:
    given = not isinstance(json_schema, NotGiven)
    if kind == "json_schema" and not given:
        raise ValidationError("json_schema", "is required when type is 'json_schema'")
    if kind != "json_schema" and given:
        raise ValidationError("json_schema", f"is not allowed when type is {kind!r}")


def _v_rf_type(inst: ResponseFormatParam, attr: attrs.Attribute[Any], value: object) -> None:
    _v_enum(("text", "json_object", "json_schema"))(inst, attr, value)
    _check_response_format(value, inst.json_schema)


def _v_rf_json_schema(inst: ResponseFormatParam, attr: attrs.Attribute[Any], value: object) -> None:
    _check_response_format(inst.type, value)


def _check_tool_choice(kind: object, function: object) -> None:
    if kind == "function" and isinstance(function, NotGiven):
        raise ValidationError("function", "is required when type is 'function'")


def _v_tc_type(inst: ToolChoiceParam, attr: attrs.Attribute[Any], value: object) -> None:
    _v_enum(("function", "code_interpreter", "file_search"))(inst, attr, value)
    _check_tool_choice(value, inst.function)


def _v_tc_function(inst: ToolChoiceParam, attr: attrs.Attribute[Any], value: object) -> None:
    _check_tool_choice(inst.type, value)


def _check_thread_file_search(ids: object, stores: object) -> None:
    if not isinstance(ids, NotGiven) and not isinstance(stores, NotGiven):
        raise ValidationError(
            "vector_stores", "is not allowed together with vector_store_ids (give one of them)"
        )


def _v_tfs_ids(
    inst: ThreadFileSearchResourceParam, attr: attrs.Attribute[Any], value: object
) -> None:
    _check_thread_file_search(value, inst.vector_stores)


def _v_tfs_stores(
    inst: ThreadFileSearchResourceParam, attr: attrs.Attribute[Any], value: object
) -> None:
    _check_thread_file_search(inst.vector_store_ids, value)


def _check_chunking(max_size: object, overlap: object) -> None:
    _check_integer("max_chunk_size_tokens", max_size, 100, 4096, False, True)
    _check_integer("chunk_overlap_tokens", overlap, 0, None, False, True)
    if not isinstance(max_size, int) or not isinstance(overlap, int):  # pragma: no cover
        return
    if overlap * 2 > max_size:
        raise ValidationError(
            "chunk_overlap_tokens",
            f"must not exceed half of max_chunk_size_tokens ({max_size}), got {overlap}",
        )


def _v_sc_max(inst: StaticChunkingParam, attr: attrs.Attribute[Any], value: object) -> None:
    _check_chunking(value, inst.chunk_overlap_tokens)


def _v_sc_overlap(inst: StaticChunkingParam, attr: attrs.Attribute[Any], value: object) -> None:
    _check_chunking(inst.max_chunk_size_tokens, value)


# ---------------------------------------------------------------------------
# Message content


@attrs.define(kw_only=True)
class TextPartParam(_Params):
    """A text content part: ``{"type": "text", "text": ...}``."""

    type: Literal["text"] = attrs.field(default="text", validator=_v_const("text"))
    text: str = attrs.field(validator=_v_string())


@attrs.define(kw_only=True)
class ImageFileParam(_Params):
    """An uploaded image: ``file_id`` (required) and ``detail`` (auto|low|high)."""

    file_id: str = attrs.field(validator=_v_string())
    detail: ImageDetail | NotGiven = attrs.field(default=NOT_GIVEN, validator=_v_enum(_DETAILS))


@attrs.define(kw_only=True)
class ImageFilePartParam(_Params):
    """An image-file content part: ``{"type": "image_file", "image_file": {...}}``."""

    type: Literal["image_file"] = attrs.field(
        default="image_file", validator=_v_const("image_file")
    )
    image_file: ImageFileParam = attrs.field(converter=_c_image_file)


@attrs.define(kw_only=True)
class ImageURLParam(_Params):
    """An external image: ``url`` (required, an absolute URI) and ``detail``."""

    url: str = attrs.field(validator=_v_uri)
    detail: ImageDetail | NotGiven = attrs.field(default=NOT_GIVEN, validator=_v_enum(_DETAILS))


@attrs.define(kw_only=True)
class ImageURLPartParam(_Params):
    """An image-URL content part: ``{"type": "image_url", "image_url": {...}}``."""

    type: Literal["image_url"] = attrs.field(default="image_url", validator=_v_const("image_url"))
    image_url: ImageURLParam = attrs.field(converter=_c_image_url)


@attrs.define(kw_only=True)
class AttachmentToolParam(_Params):
    """A tool an attached file is added to: ``code_interpreter`` or ``file_search``."""

    type: Literal["code_interpreter", "file_search"] = attrs.field(
        validator=_v_enum(("code_interpreter", "file_search"))
    )


@attrs.define(kw_only=True)
class AttachmentParam(_Params):
    """A file attached to a message and the tools to add it to.

    Both keys are required (as in the OpenAPI spec; the reference page and
    openai-python make them optional).
    """

    file_id: str = attrs.field(validator=_v_string())
    tools: list[AttachmentToolParam] = attrs.field(converter=_c_attachment_tools)


@attrs.define(kw_only=True)
class MessageParam(_Params):
    """A message to add to the thread (``additional_messages``, ``thread.messages``).

    ``content`` is a string or a non-empty list of content parts.
    """

    role: Literal["user", "assistant"] = attrs.field(validator=_v_enum(("user", "assistant")))
    content: str | list[ContentPartParam] = attrs.field(converter=_c_content)
    attachments: list[AttachmentParam] | NotGiven | None = attrs.field(
        default=NOT_GIVEN, converter=_c_attachments
    )
    metadata: dict[str, str] | NotGiven | None = attrs.field(
        default=NOT_GIVEN, converter=_c_metadata
    )


# ---------------------------------------------------------------------------
# Tools


@attrs.define(kw_only=True)
class CodeInterpreterToolParam(_Params):
    """The code interpreter tool: ``{"type": "code_interpreter"}``."""

    type: Literal["code_interpreter"] = attrs.field(
        default="code_interpreter", validator=_v_const("code_interpreter")
    )


@attrs.define(kw_only=True)
class RankingOptionsParam(_Params):
    """File search ranking: ``ranker`` and ``score_threshold`` (required, 0..1)."""

    ranker: Literal["auto", "default_2024_08_21"] | NotGiven = attrs.field(
        default=NOT_GIVEN, validator=_v_enum(("auto", "default_2024_08_21"))
    )
    score_threshold: float = attrs.field(validator=_v_number(0, 1))


@attrs.define(kw_only=True)
class FileSearchOptionsParam(_Params):
    """Overrides for the file search tool: ``max_num_results`` (1..50), ``ranking_options``."""

    max_num_results: int | NotGiven = attrs.field(default=NOT_GIVEN, validator=_v_integer(1, 50))
    ranking_options: RankingOptionsParam | NotGiven = attrs.field(
        default=NOT_GIVEN, converter=_c_ranking_options
    )


@attrs.define(kw_only=True)
class FileSearchToolParam(_Params):
    """The file search tool: ``{"type": "file_search", "file_search": {...}?}``."""

    type: Literal["file_search"] = attrs.field(
        default="file_search", validator=_v_const("file_search")
    )
    file_search: FileSearchOptionsParam | NotGiven = attrs.field(
        default=NOT_GIVEN, converter=_c_file_search_options
    )


@attrs.define(kw_only=True)
class FunctionDefinitionParam(_Params):
    """A function the model may call.

    ``name`` must match ``[a-zA-Z0-9_-]{1,64}``; ``parameters`` is a JSON
    Schema object (omitted means no parameters); ``strict`` is a bool or null.
    """

    name: str = attrs.field(validator=_v_name)
    description: str | NotGiven = attrs.field(default=NOT_GIVEN, validator=_v_string())
    parameters: dict[str, Any] | NotGiven = attrs.field(default=NOT_GIVEN, converter=_c_parameters)
    strict: bool | NotGiven | None = attrs.field(
        default=NOT_GIVEN, validator=_v_bool(nullable=True)
    )


@attrs.define(kw_only=True)
class FunctionToolParam(_Params):
    """A function tool: ``{"type": "function", "function": {...}}``."""

    type: Literal["function"] = attrs.field(default="function", validator=_v_const("function"))
    function: FunctionDefinitionParam = attrs.field(converter=_c_function_definition)


# ---------------------------------------------------------------------------
# Run options


@attrs.define(kw_only=True)
class TruncationStrategyParam(_Params):
    """How the thread is truncated: ``type`` auto|last_messages, ``last_messages`` >= 1."""

    type: Literal["auto", "last_messages"] = attrs.field(
        validator=_v_enum(("auto", "last_messages"))
    )
    last_messages: int | NotGiven | None = attrs.field(
        default=NOT_GIVEN, validator=_v_integer(1, nullable=True)
    )


@attrs.define(kw_only=True)
class ToolChoiceFunctionParam(_Params):
    """The function a named tool choice forces: ``{"name": ...}``."""

    name: str = attrs.field(validator=_v_string())


@attrs.define(kw_only=True)
class ToolChoiceParam(_Params):
    """A named tool choice; ``function`` is required when ``type`` is ``function``."""

    type: Literal["function", "code_interpreter", "file_search"] = attrs.field(validator=_v_tc_type)
    function: ToolChoiceFunctionParam | NotGiven = attrs.field(
        default=NOT_GIVEN, converter=_c_tool_choice_function, validator=_v_tc_function
    )


@attrs.define(kw_only=True)
class JSONSchemaParam(_Params):
    """Structured Outputs settings: ``name`` (``[a-zA-Z0-9_-]{1,64}``), schema, strict."""

    name: str = attrs.field(validator=_v_name)
    description: str | NotGiven = attrs.field(default=NOT_GIVEN, validator=_v_string())
    schema: dict[str, Any] | NotGiven = attrs.field(default=NOT_GIVEN, converter=_c_schema)
    strict: bool | NotGiven | None = attrs.field(
        default=NOT_GIVEN, validator=_v_bool(nullable=True)
    )


@attrs.define(kw_only=True)
class ResponseFormatParam(_Params):
    """An object response format: ``text``, ``json_object`` or ``json_schema``.

    ``json_schema`` is required when ``type`` is ``json_schema`` and not
    allowed otherwise.
    """

    type: Literal["text", "json_object", "json_schema"] = attrs.field(validator=_v_rf_type)
    json_schema: JSONSchemaParam | NotGiven = attrs.field(
        default=NOT_GIVEN, converter=_c_json_schema, validator=_v_rf_json_schema
    )


# ---------------------------------------------------------------------------
# Tool resources


@attrs.define(kw_only=True)
class CodeInterpreterResourceParam(_Params):
    """Files for the code interpreter: ``file_ids`` (at most 20)."""

    file_ids: list[str] | NotGiven = attrs.field(
        default=NOT_GIVEN, converter=_c_code_interpreter_file_ids
    )


@attrs.define(kw_only=True)
class FileSearchResourceParam(_Params):
    """Vector stores for file search: ``vector_store_ids`` (at most 1)."""

    vector_store_ids: list[str] | NotGiven = attrs.field(
        default=NOT_GIVEN, converter=_c_vector_store_ids
    )


@attrs.define(kw_only=True)
class AutoChunkingStrategyParam(_Params):
    """The default chunking strategy: ``{"type": "auto"}``."""

    type: Literal["auto"] = attrs.field(default="auto", validator=_v_const("auto"))


@attrs.define(kw_only=True)
class StaticChunkingParam(_Params):
    """Static chunk sizes: ``max_chunk_size_tokens`` 100..4096, overlap <= half of it."""

    max_chunk_size_tokens: int = attrs.field(validator=_v_sc_max)
    chunk_overlap_tokens: int = attrs.field(validator=_v_sc_overlap)


@attrs.define(kw_only=True)
class StaticChunkingStrategyParam(_Params):
    """A static chunking strategy: ``{"type": "static", "static": {...}}``."""

    type: Literal["static"] = attrs.field(default="static", validator=_v_const("static"))
    static: StaticChunkingParam = attrs.field(converter=_c_static_chunking)


@attrs.define(kw_only=True)
class VectorStoreParam(_Params):
    """A vector store created with the thread: ``file_ids``, ``chunking_strategy``, metadata."""

    file_ids: list[str] | NotGiven = attrs.field(
        default=NOT_GIVEN, converter=_c_vector_store_file_ids
    )
    chunking_strategy: ChunkingStrategyParam | NotGiven = attrs.field(
        default=NOT_GIVEN, converter=_c_chunking_strategy
    )
    metadata: dict[str, str] | NotGiven | None = attrs.field(
        default=NOT_GIVEN, converter=_c_metadata
    )


@attrs.define(kw_only=True)
class ThreadFileSearchResourceParam(_Params):
    """A thread's file search resources: ``vector_store_ids`` or ``vector_stores``.

    Each holds at most one item, and only one of the two may be given.
    """

    vector_store_ids: list[str] | NotGiven = attrs.field(
        default=NOT_GIVEN, converter=_c_vector_store_ids, validator=_v_tfs_ids
    )
    vector_stores: list[VectorStoreParam] | NotGiven = attrs.field(
        default=NOT_GIVEN, converter=_c_vector_stores, validator=_v_tfs_stores
    )


@attrs.define(kw_only=True)
class ToolResourcesParam(_Params):
    """Resources for the run's tools (create thread and run, top level)."""

    code_interpreter: CodeInterpreterResourceParam | NotGiven = attrs.field(
        default=NOT_GIVEN, converter=_c_code_interpreter_resource
    )
    file_search: FileSearchResourceParam | NotGiven = attrs.field(
        default=NOT_GIVEN, converter=_c_file_search_resource
    )


@attrs.define(kw_only=True)
class ThreadToolResourcesParam(_Params):
    """Resources attached to a new thread (``thread.tool_resources``)."""

    code_interpreter: CodeInterpreterResourceParam | NotGiven = attrs.field(
        default=NOT_GIVEN, converter=_c_code_interpreter_resource
    )
    file_search: ThreadFileSearchResourceParam | NotGiven = attrs.field(
        default=NOT_GIVEN, converter=_c_thread_file_search_resource
    )


# ---------------------------------------------------------------------------
# Bodies


@attrs.define(kw_only=True)
class _RunBody(_Params):
    """The fields both run-creating bodies share (create run, create thread and run)."""

    assistant_id: str = attrs.field(validator=_v_string(non_empty=True))
    model: str | NotGiven | None = attrs.field(
        default=NOT_GIVEN, validator=_v_string(nullable=True)
    )
    instructions: str | NotGiven | None = attrs.field(
        default=NOT_GIVEN, validator=_v_string(nullable=True)
    )
    tools: list[ToolParam] | NotGiven | None = attrs.field(default=NOT_GIVEN, converter=_c_tools)
    metadata: dict[str, str] | NotGiven | None = attrs.field(
        default=NOT_GIVEN, converter=_c_metadata
    )
    temperature: float | NotGiven | None = attrs.field(
        default=NOT_GIVEN, validator=_v_number(0, 2, nullable=True)
    )
    top_p: float | NotGiven | None = attrs.field(
        default=NOT_GIVEN, validator=_v_number(0, 1, nullable=True)
    )
    stream: bool | NotGiven | None = attrs.field(
        default=NOT_GIVEN, validator=_v_bool(nullable=True)
    )
    max_prompt_tokens: int | NotGiven | None = attrs.field(
        default=NOT_GIVEN, validator=_v_integer(_MIN_TOKENS, nullable=True)
    )
    max_completion_tokens: int | NotGiven | None = attrs.field(
        default=NOT_GIVEN, validator=_v_integer(_MIN_TOKENS, nullable=True)
    )
    truncation_strategy: TruncationStrategyParam | NotGiven | None = attrs.field(
        default=NOT_GIVEN, converter=_c_truncation_strategy
    )
    tool_choice: ToolChoiceMode | ToolChoiceParam | NotGiven | None = attrs.field(
        default=NOT_GIVEN, converter=_c_tool_choice
    )
    parallel_tool_calls: bool | NotGiven = attrs.field(default=NOT_GIVEN, validator=_v_bool())
    response_format: Literal["auto"] | ResponseFormatParam | NotGiven | None = attrs.field(
        default=NOT_GIVEN, converter=_c_response_format
    )


@attrs.define(kw_only=True)
class RunCreateParams(_RunBody):
    """Body of ``POST /threads/{thread_id}/runs``.

    ``assistant_id`` is required. ``max_prompt_tokens`` and
    ``max_completion_tokens`` must be at least 256: that minimum comes from the
    OpenAPI spec (the reference page states none) and is enforced. See the
    module docstring for every rule.
    """

    reasoning_effort: ReasoningEffort | NotGiven | None = attrs.field(
        default=NOT_GIVEN, validator=_v_enum(_REASONING_EFFORTS, nullable=True)
    )
    additional_instructions: str | NotGiven | None = attrs.field(
        default=NOT_GIVEN, validator=_v_string(nullable=True)
    )
    additional_messages: list[MessageParam] | NotGiven | None = attrs.field(
        default=NOT_GIVEN, converter=_c_additional_messages
    )


@attrs.define(kw_only=True)
class ThreadParams(_Params):
    """The thread to create in ``POST /threads/runs``: messages, tool resources, metadata."""

    messages: list[MessageParam] | NotGiven = attrs.field(default=NOT_GIVEN, converter=_c_messages)
    tool_resources: ThreadToolResourcesParam | NotGiven | None = attrs.field(
        default=NOT_GIVEN, converter=_c_thread_tool_resources
    )
    metadata: dict[str, str] | NotGiven | None = attrs.field(
        default=NOT_GIVEN, converter=_c_metadata
    )


@attrs.define(kw_only=True)
class ThreadCreateAndRunParams(_RunBody):
    """Body of ``POST /threads/runs`` (create a thread and run it).

    Unlike :class:`RunCreateParams` it has no ``additional_*`` fields and no
    ``reasoning_effort``, and adds ``thread`` (an object; omit it for an empty
    thread — JSON null is rejected) and ``tool_resources``. Token limits are
    at least 256 (the OpenAPI spec's minimum).
    """

    thread: ThreadParams | NotGiven = attrs.field(default=NOT_GIVEN, converter=_c_thread)
    tool_resources: ToolResourcesParam | NotGiven | None = attrs.field(
        default=NOT_GIVEN, converter=_c_tool_resources
    )


@attrs.define(kw_only=True)
class ToolOutput(_Params):
    """The output of one tool call: ``tool_call_id`` and ``output`` (both strings)."""

    tool_call_id: str | NotGiven = attrs.field(default=NOT_GIVEN, validator=_v_string())
    output: str | NotGiven = attrs.field(default=NOT_GIVEN, validator=_v_string())


@attrs.define(kw_only=True)
class SubmitToolOutputsParams(_Params):
    """Body of ``POST /threads/{thread_id}/runs/{run_id}/submit_tool_outputs``."""

    tool_outputs: list[ToolOutput] = attrs.field(converter=_c_tool_outputs)
    stream: bool | NotGiven | None = attrs.field(
        default=NOT_GIVEN, validator=_v_bool(nullable=True)
    )


# Unions (defined after the classes they name).
ContentPartParam = Union[TextPartParam, ImageFilePartParam, ImageURLPartParam]
"""A message content part."""
ContentPartInput = Union[ContentPartParam, Mapping[str, Any]]
ToolParam = Union[CodeInterpreterToolParam, FileSearchToolParam, FunctionToolParam]
"""A tool definition."""
ChunkingStrategyParam = Union[AutoChunkingStrategyParam, StaticChunkingStrategyParam]


# ---------------------------------------------------------------------------
# Query parameter, builders, server-side validation


def validate_include(values: Iterable[str]) -> list[str]:
    """Check the ``include[]`` query values; return them as a list.

    The only value the API accepts is
    ``step_details.tool_calls[*].file_search.results[*].content``.
    """
    obj: object = values
    if isinstance(obj, (str, bytes, bytearray)) or not isinstance(obj, Iterable):
        raise ValidationError("include", _expected("a list of strings", obj))
    out: list[str] = []
    for i, value in enumerate(obj):
        if value != INCLUDE_FILE_SEARCH_RESULT_CONTENT or not isinstance(value, str):
            raise ValidationError(
                f"include[{i}]",
                f"must be {INCLUDE_FILE_SEARCH_RESULT_CONTENT!r} (the only supported value), "
                f"got {_describe(value)}",
            )
        out.append(value)
    return out


def _with(key: str, value: object, body: Mapping[str, Any]) -> dict[str, Any]:
    obj: object = body
    if not isinstance(obj, Mapping):
        raise ValidationError("", _expected("a mapping of body fields", obj))
    if key in obj:
        raise ValidationError(key, "is given twice (as an argument and in the body)")
    merged: dict[str, Any] = {key: value}
    merged.update(obj)
    return merged


def build_run_create(assistant_id: str, body: Mapping[str, Any]) -> RunCreateParams:
    """The validated body of a create-run request.

    ``body`` holds the other fields by name (values may be :data:`NOT_GIVEN`,
    dicts or the param classes); an unknown name raises :class:`ValidationError`.
    """
    return RunCreateParams.from_dict(_with("assistant_id", assistant_id, body))


def build_thread_create_and_run(
    assistant_id: str, thread: Any, body: Mapping[str, Any]
) -> ThreadCreateAndRunParams:
    """The validated body of a create-thread-and-run request.

    ``thread`` is a :class:`ThreadParams`, a dict, or ``None`` /
    :data:`NOT_GIVEN` for an empty thread (the field is then left out).
    """
    merged = _with("assistant_id", assistant_id, body)
    if "thread" in merged:
        raise ValidationError("thread", "is given twice (as an argument and in the body)")
    if thread is not None and not isinstance(thread, NotGiven):
        merged["thread"] = thread
    return ThreadCreateAndRunParams.from_dict(merged)


def build_submit_tool_outputs(
    tool_outputs: Any, body: Mapping[str, Any]
) -> SubmitToolOutputsParams:
    """The validated body of a submit-tool-outputs request.

    ``tool_outputs`` is a list of :class:`ToolOutput` or dicts.
    """
    return SubmitToolOutputsParams.from_dict(_with("tool_outputs", tool_outputs, body))


_BODY_CLASSES: Final[dict[str, type[_Params]]] = {
    "create_run": RunCreateParams,
    "create_thread_and_run": ThreadCreateAndRunParams,
    "submit_tool_outputs": SubmitToolOutputsParams,
}


def validate_body(kind: BodyKind, body: Any) -> None:
    """Validate a decoded JSON request body the way the API does.

    ``kind`` selects the endpoint. The body must be a JSON object; any rule
    violation raises :class:`ValidationError`.
    """
    cls = _BODY_CLASSES.get(kind)
    if cls is None:
        raise ValidationError("", f"unknown request body kind {kind!r}")
    if not isinstance(body, dict):
        raise ValidationError("", "the request body " + _expected("a JSON object", body))
    cls.from_dict(body)


# ---------------------------------------------------------------------------
# Wire safety: what reaches the URL, the headers and the bytes of the body

_CONTROL_RE = re.compile("[\x00-\x1f\x7f]")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_HEADER_NAME_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def _text_problem(value: str) -> str | None:
    """Why ``value`` cannot go on the wire as UTF-8 text, or ``None``."""
    surrogate = _SURROGATE_RE.search(value)
    if surrogate is not None:
        return (
            f"contains a lone surrogate (U+{ord(surrogate.group()):04X} at index "
            f"{surrogate.start()}), which has no UTF-8 encoding"
        )
    return None


def path_id(name: str, value: object) -> str:
    """``value`` (a thread or run id) checked and quoted as one URL path segment.

    The one validator of every id that goes into a path: a non-empty string
    without control characters or lone surrogates, and not ``.`` or ``..``
    (which path normalisation would turn into another endpoint: ``runs.stream("..")``
    would post to ``/runs``). Every other character is percent-quoted, ``/``
    included, so an id is always exactly one segment.
    """
    if not isinstance(value, str) or not value:
        raise ValidationError(name, f"must be a non-empty string, got {_describe(value)}")
    if value in (".", ".."):
        raise ValidationError(
            name, f"must not be {value!r}: the URL would point at another endpoint"
        )
    problem = _text_problem(value)
    if problem is None and _CONTROL_RE.search(value):
        problem = "contains a control character"
    if problem is not None:
        raise ValidationError(name, problem)
    return quote(value, safe="")


def validate_header(where: str, name: object, value: object) -> None:
    """Check one request header (``where`` names the option it came from).

    Names are HTTP tokens; values are strings without CR, LF, NUL or other
    control characters (tab excepted) and without lone surrogates — a line
    break would let a value inject its own headers.
    """
    if not isinstance(name, str) or _HEADER_NAME_RE.fullmatch(name) is None:
        raise ValidationError(where, f"header name {_show(name)} is not a valid HTTP token")
    path = f"{where}[{name!r}]"
    if not isinstance(value, str):
        raise ValidationError(path, _expected("a string", value))
    problem = _text_problem(value)
    if problem is None and _CONTROL_RE.search(value.replace("\t", "")):
        problem = "contains a line break or another control character"
    if problem is not None:
        raise ValidationError(path, problem)


def validate_query_value(where: str, key: object, value: object) -> str:
    """Check one query parameter; return its value as the text sent.

    Numbers are allowed: an integer up to 2**63-1 in size (``str``), a finite
    float (``repr``); anything else is a :class:`ValidationError`.
    """
    if not isinstance(key, str) or not key:
        raise ValidationError(where, f"query keys must be non-empty strings, got {_show(key)}")
    path = f"{where}[{key!r}]"
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValidationError(path, _expected("a string or a number", value))
    if isinstance(value, str):
        text = value
    elif isinstance(value, int):
        # The body's rule: past 2**63-1 no server reads it (and Python cannot
        # even write one past 4300 digits).
        if abs(value) > _MAX_INT:
            raise ValidationError(path, f"must be at most 2**63-1 in size, got {_show(value)}")
        text = str(value)
    elif not math.isfinite(value):
        raise ValidationError(path, f"must be a finite number, got {value!r}")
    else:
        text = repr(value)
    for part, label in ((key, "key"), (text, "value")):
        problem = _text_problem(part)
        if problem is not None:
            raise ValidationError(path, f"the {label} {problem}")
    return text


def encode_body(body: Any) -> bytes:
    """The UTF-8 JSON bytes of a request body, or :class:`ValidationError` naming the part
    that cannot be sent (a lone surrogate, an integer past 2**63-1 — Python cannot even
    print one past 4300 digits —, NaN, nesting deeper than 64 levels, a non-JSON value).
    """
    _json_value(body, "", copy=False)
    return _json.dumps(body).encode()


# ---------------------------------------------------------------------------
# The keyword arguments of the streaming methods: a misspelt one gets a "did
# you mean" before anything is sent.


def _suggest(name: str, accepted: Collection[str]) -> str:
    matches = difflib.get_close_matches(name, accepted, n=1, cutoff=0.6)
    if not matches:
        # A name containing an accepted one (``event_handlers``) or contained in one.
        matches = [a for a in sorted(accepted) if a in name or name in a][:1]
    return f"did you mean {matches[0]!r}? " if matches else ""


def check_keywords(
    kwargs: Mapping[str, Any], body_class: type, named: Collection[str], method: str
) -> None:
    """Reject a keyword that is neither a body field, a per-call option nor a parameter.

    ``body_class`` is the attrs request class of the body, ``named`` the
    method's own parameters and options, ``method`` its name for the message.
    """
    fields = {a.name for a in attrs.fields(body_class)}
    for key in kwargs:
        if key in fields or key in named:
            continue
        accepted = (fields | set(named)) - {"stream"}
        raise ValidationError(
            str(key),
            f"unknown keyword argument of {method}(); {_suggest(str(key), accepted)}"
            f"accepted: {', '.join(sorted(accepted))}",
        )


def check_tap(tap: object) -> None:
    """``tap=`` must be a plain function: it is called with each chunk, never awaited."""
    if tap is None:
        return
    if not callable(tap):
        raise TypeError(f"tap must be a function called with each chunk, got {type(tap).__name__}")
    if inspect.iscoroutinefunction(tap) or inspect.iscoroutinefunction(
        getattr(tap, "__call__", None)  # noqa: B004 - an object with an async __call__
    ):
        raise TypeError(
            "tap must be a plain function (def), not an async def: it is called with "
            "each chunk as it arrives and never awaited"
        )
