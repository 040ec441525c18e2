"""Function tools from Python functions: a JSON Schema from a signature, and arguments back.

:func:`function_tool` turns a function into the ``FunctionToolParam`` that
``tools=`` takes, its ``parameters`` a JSON Schema written from the
function's annotations. :func:`decode_arguments` does the reverse for a call
the model made: it checks the JSON arguments against the same annotations and
structures them with the project's one cattrs converter into the annotated
types.

Exactly these annotations are supported (anything else is a ``TypeError`` at
definition time that names the parameter):

=====================  ==============================================================
annotation             JSON Schema
=====================  ==============================================================
``str``                ``{"type": "string"}``
``int``                ``{"type": "integer"}``
``float``              ``{"type": "number"}`` (an integer is accepted too)
``bool``               ``{"type": "boolean"}``
``None``               ``{"type": "null"}``
``Literal[a, b]``      ``{"enum": [a, b]}`` (plus ``"type"`` when all share one)
an ``Enum``            ``{"enum": [member values]}`` (plus ``"type"``)
``list[T]``            ``{"type": "array", "items": T}``
``dict[str, T]``       ``{"type": "object", "additionalProperties": T}`` (not strict)
``X | None``           ``{"anyOf": [X, {"type": "null"}]}``
an attrs class         ``{"type": "object", "properties": ..., "required": ...}``
=====================  ==============================================================

A parameter (or attrs field) with a default is not required; its default is
written as ``"default"`` when it is JSON. With ``strict=True`` the schema is
one OpenAI's strict mode accepts: every object has ``additionalProperties:
false`` (as without strict: the arguments are a closed set) and lists every property as
required, a parameter with a default
becomes nullable (the model sends ``null`` to mean "use the default"), no
``default`` keywords are written, and ``dict[str, T]`` (an open object) is
refused.

The description comes from the docstring: its text up to the first section
heading; per-parameter descriptions come from a Google-style ``Args:``
section or Sphinx-style ``:param name:`` lines.
"""

from __future__ import annotations

import enum
import inspect
import json
import re
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, Literal, Union

import attrs

from ._converter import converter
from ._exceptions import StreamrunError
from ._requests import FunctionToolParam

__all__ = [
    "ArgumentsError",
    "FunctionSpec",
    "decode_arguments",
    "function_spec",
    "function_tool",
    "responses_tool",
]

_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_MAX_DEPTH = 32

_SCALARS: dict[Any, dict[str, Any]] = {
    str: {"type": "string"},
    int: {"type": "integer"},
    float: {"type": "number"},
    bool: {"type": "boolean"},
    type(None): {"type": "null"},
    None: {"type": "null"},
}


class ArgumentsError(StreamrunError, ValueError):
    """A tool call's arguments do not fit the function's signature.

    ``path`` names the offending argument (``city``, ``items[2].name``); the
    message is short enough to send back to the model as the call's output.
    """

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}" if path else problem)


@attrs.frozen
class _Param:
    name: str
    annotation: Any
    required: bool
    default: Any


@attrs.frozen
class FunctionSpec:
    """A Python function as a tool: its definition, and how to call it with JSON arguments."""

    name: str
    """The tool's name (the function's ``__name__`` unless given)."""
    function: Callable[..., Any]
    """The function itself (sync or ``async def``)."""
    tool: FunctionToolParam
    """The definition to pass in ``tools=``."""
    params: tuple[_Param, ...] = attrs.field(repr=False)
    strict: bool = False

    def decode(self, arguments: str) -> dict[str, Any]:
        """The keyword arguments for :attr:`function` from a call's JSON ``arguments``."""
        return _decode_params(self.params, arguments, strict=self.strict)


def function_tool(
    fn: Callable[..., Any],
    *,
    name: str | None = None,
    description: str | None = None,
    strict: bool = False,
) -> FunctionToolParam:
    """The function tool definition of ``fn``, for ``tools=[...]``.

    The JSON Schema of its parameters is built from ``fn``'s annotations (see
    the module docs for the supported types) and its docstring. ``name``
    defaults to ``fn.__name__``; ``description`` to the docstring's summary.
    Raises ``TypeError`` for an annotation that cannot be described, naming
    the parameter.
    """
    return function_spec(fn, name=name, description=description, strict=strict).tool


def function_spec(
    fn: Callable[..., Any],
    *,
    name: str | None = None,
    description: str | None = None,
    strict: bool = False,
) -> FunctionSpec:
    """Like :func:`function_tool`, keeping the function and its argument decoder."""
    if not callable(fn):
        raise TypeError(f"function_tool() needs a function, got {type(fn).__name__}")
    tool_name = name if name is not None else getattr(fn, "__name__", "")
    if not isinstance(tool_name, str) or not _NAME.match(tool_name):
        raise TypeError(
            f"a tool name must match [a-zA-Z0-9_-]{{1,64}}, got {tool_name!r} "
            "(pass name=... for a lambda or a callable object)"
        )
    doc_summary, arg_docs = _parse_docstring(inspect.getdoc(fn) or "")
    hints = _type_hints(fn, tool_name)
    params: list[_Param] = []
    for parameter in inspect.signature(fn).parameters.values():
        where = f"{tool_name}() parameter {parameter.name!r}"
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            raise TypeError(f"{where}: *args and **kwargs cannot be described as a JSON Schema")
        if parameter.kind is parameter.POSITIONAL_ONLY:
            raise TypeError(f"{where}: positional-only parameters cannot be passed by name")
        if parameter.name not in hints:
            raise TypeError(f"{where}: needs a type annotation")
        required = parameter.default is inspect.Parameter.empty
        params.append(
            _Param(
                parameter.name,
                hints[parameter.name],
                required,
                None if required else parameter.default,
            )
        )
    properties: dict[str, Any] = {}
    for param in params:
        where = f"{tool_name}() parameter {param.name!r}"
        schema = _schema_for_field(param, strict, where, 0)
        if param.name in arg_docs:
            schema = {**schema, "description": arg_docs[param.name]}
        properties[param.name] = schema
    parameters = _object_schema(properties, params, strict)
    definition: dict[str, Any] = {"name": tool_name, "parameters": parameters}
    text = description if description is not None else doc_summary
    if text:
        definition["description"] = text
    if strict:
        definition["strict"] = True
    tool = FunctionToolParam(function=definition)  # converted and validated
    return FunctionSpec(name=tool_name, function=fn, tool=tool, params=tuple(params), strict=strict)


def responses_tool(name: str, function: Callable[..., Any]) -> dict[str, Any]:
    """The Responses API definition of a local function tool (``{"type": "function",
    "name", "description", "parameters"}``: no nested ``function`` object)."""
    definition = function_spec(function, name=name).tool.to_json()["function"]
    return {"type": "function", **definition}


def decode_arguments(
    fn: Callable[..., Any], arguments: str, *, strict: bool = False
) -> dict[str, Any]:
    """``fn``'s keyword arguments from a tool call's JSON ``arguments``.

    Raises :class:`ArgumentsError` when they do not fit the signature.
    """
    return function_spec(fn, strict=strict).decode(arguments)


# -- schema ------------------------------------------------------------------


def _type_hints(fn: Callable[..., Any], name: str) -> dict[str, Any]:
    target = fn if inspect.isfunction(fn) or inspect.ismethod(fn) else type(fn).__call__
    try:
        return typing.get_type_hints(target, include_extras=False)
    except Exception as exc:  # NameError for an unresolvable forward reference, …
        raise TypeError(f"{name}(): cannot resolve its annotations ({exc})") from exc


def _object_schema(properties: dict[str, Any], fields: Any, strict: bool) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    required = [f.name for f in fields if strict or f.required]
    if required:
        schema["required"] = required
    # Closed objects: the decoder refuses unknown arguments, so the schema says so.
    schema["additionalProperties"] = False
    return schema


def _schema_for_field(field: _Param, strict: bool, where: str, depth: int) -> dict[str, Any]:
    schema = _schema(field.annotation, strict, where, depth)
    if field.required:
        return schema
    if strict:
        # Strict mode requires every property: "use the default" is sent as null.
        return schema if _accepts_null(field.annotation) else _nullable(schema)
    if _is_json(field.default):
        return {**schema, "default": _json_default(field.default)}
    return schema


def _schema(tp: Any, strict: bool, where: str, depth: int) -> dict[str, Any]:
    if depth > _MAX_DEPTH:
        raise TypeError(f"{where}: nested more than {_MAX_DEPTH} levels (a recursive type?)")
    if tp in _SCALARS:
        return dict(_SCALARS[tp])
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        values = [member.value for member in tp]
        if not values or not all(_is_json_scalar(v) for v in values):
            raise TypeError(f"{where}: the values of {tp.__name__} must be str, int, float or bool")
        return _enum_schema(values)
    if isinstance(tp, type) and attrs.has(tp):
        return _attrs_schema(tp, strict, where, depth)
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is Literal:
        if not all(_is_json_scalar(v) or v is None for v in args):
            raise TypeError(f"{where}: Literal values must be str, int, float, bool or None")
        return _enum_schema(list(args))
    if origin is list and len(args) == 1:
        return {"type": "array", "items": _schema(args[0], strict, where, depth + 1)}
    if origin is dict and len(args) == 2:
        if args[0] is not str:
            raise TypeError(f"{where}: dict keys must be str (JSON object keys), got {args[0]!r}")
        if strict:
            raise TypeError(
                f"{where}: dict[str, ...] is an open object, which strict mode does not accept "
                "(use an attrs class, or strict=False)"
            )
        return {
            "type": "object",
            "additionalProperties": _schema(args[1], strict, where, depth + 1),
        }
    if origin in (Union, types.UnionType):
        members = [a for a in args if a is not type(None)]
        if len(members) == 1 and len(args) == 2:
            return _nullable(_schema(members[0], strict, where, depth + 1))
        raise TypeError(f"{where}: only `X | None` unions are supported, got {_show(tp)}")
    raise TypeError(f"{where}: unsupported annotation {_show(tp)}")


def _attrs_schema(cls: type, strict: bool, where: str, depth: int) -> dict[str, Any]:
    fields: list[_Param] = []
    hints = typing.get_type_hints(cls)
    properties: dict[str, Any] = {}
    for attribute in attrs.fields(cls):
        if not attribute.init:
            continue
        name = attribute.alias or attribute.name
        required = attribute.default is attrs.NOTHING
        default = attribute.default
        if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
            default = None if default.takes_self else default.factory()
        field = _Param(name, hints.get(attribute.name, attribute.type), required, default)
        fields.append(field)
        properties[name] = _schema_for_field(
            field, strict, f"{where} ({cls.__name__}.{name})", depth + 1
        )
    return _object_schema(properties, fields, strict)


def _enum_schema(values: list[Any]) -> dict[str, Any]:
    schema: dict[str, Any] = {"enum": values}
    kinds = {_json_type(v) for v in values}
    if len(kinds) == 1:
        schema = {"type": kinds.pop(), **schema}
    return schema


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def _accepts_null(tp: Any) -> bool:
    if tp is None or tp is type(None):
        return True
    if typing.get_origin(tp) is Literal:
        return None in typing.get_args(tp)
    return typing.get_origin(tp) in (Union, types.UnionType) and type(None) in typing.get_args(tp)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return "string"


def _is_json_scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool))


def _is_json(value: Any) -> bool:
    if value is None or _is_json_scalar(value) or isinstance(value, enum.Enum):
        return not isinstance(value, float) or (value == value and abs(value) != float("inf"))
    if isinstance(value, (list, tuple)):
        return all(_is_json(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_json(v) for k, v in value.items())
    return False


def _json_default(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (list, tuple)):
        return [_json_default(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_default(v) for k, v in value.items()}
    return value


def _show(tp: Any) -> str:
    return getattr(tp, "__name__", None) or repr(tp)


_SECTION = re.compile(
    r"^(Args|Arguments|Parameters|Params|Returns?|Yields?|Raises|Examples?|Notes?)\s*:?\s*$"
)
_GOOGLE_ARG = re.compile(r"^\s*(\*{0,2}\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")
_SPHINX_ARG = re.compile(r"^\s*:param\s+(?:[^:]*\s)?(\w+)\s*:\s*(.*)$")


def _parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """The summary (text before the first section) and the per-argument descriptions."""
    summary: list[str] = []
    args: dict[str, str] = {}
    section: str | None = None
    current: str | None = None
    for line in doc.splitlines():
        stripped = line.strip()
        sphinx = _SPHINX_ARG.match(line)
        if sphinx:
            section, current = "sphinx", sphinx.group(1)
            args[current] = sphinx.group(2).strip()
            continue
        heading = _SECTION.match(stripped)
        if heading and not line.startswith((" ", "\t")):
            section = heading.group(1).lower()
            current = None
            continue
        if section is None:
            if stripped.startswith(":"):
                section = "sphinx"
                continue
            summary.append(stripped)
        elif section in ("args", "arguments", "parameters", "params"):
            match = _GOOGLE_ARG.match(line)
            indent = len(line) - len(line.lstrip())
            if match and indent <= 4:
                current = match.group(1).lstrip("*")
                args[current] = match.group(2).strip()
            elif current and stripped:
                args[current] = f"{args[current]} {stripped}".strip()
        elif section == "sphinx" and current and stripped and not stripped.startswith(":"):
            args[current] = f"{args[current]} {stripped}".strip()
    text = " ".join(" ".join(summary).split())
    return text, {k: " ".join(v.split()) for k, v in args.items() if v}


# -- arguments -------------------------------------------------------------


def _decode_params(params: tuple[_Param, ...], arguments: str, *, strict: bool) -> dict[str, Any]:
    if not isinstance(arguments, str):
        raise ArgumentsError("", f"arguments must be a JSON string, got {type(arguments).__name__}")
    text = arguments.strip() or "{}"
    try:
        # The stdlib, not the fast backend: arguments are small, and an integer
        # beyond 64 bits must stay exact (orjson reads it as a float).
        data = json.loads(text)
    except ValueError as exc:
        raise ArgumentsError("", f"arguments are not valid JSON ({exc})") from None
    except RecursionError:
        raise ArgumentsError("", "arguments are nested too deeply") from None
    return _decode_object(data, params, "", strict, 0)


def _decode_object(
    data: Any, fields: tuple[_Param, ...], path: str, strict: bool, depth: int
) -> dict[str, Any]:
    """Each present argument checked, then structured into its annotated type."""
    checked = _check_object(data, fields, path, depth)
    out: dict[str, Any] = {}
    for field in fields:
        if field.name in checked and field.annotation in _SCALARS and checked[field.name] is None:
            out[field.name] = None  # `None` annotations: cattrs has no hook for NoneType
        elif field.name in checked:
            try:
                out[field.name] = converter.structure(checked[field.name], field.annotation)
            except Exception as exc:  # the check makes this unreachable in practice
                where = _join(path, field.name)
                problem = f"cannot be read as {_show(field.annotation)} ({exc})"
                raise ArgumentsError(where, problem) from None
    return out


def _check_object(data: Any, fields: Any, path: str, depth: int) -> dict[str, Any]:
    """``data`` checked against ``fields``, less the nulls that mean "use the default"."""
    if not isinstance(data, dict):
        raise ArgumentsError(path, f"expected an object, got {_kind(data)}")
    known = {f.name: f for f in fields}
    unknown = sorted(set(data) - set(known))
    if unknown:
        accepted = ", ".join(known) or "no arguments"
        raise ArgumentsError(_join(path, unknown[0]), f"unexpected argument (accepted: {accepted})")
    out: dict[str, Any] = {}
    for field in fields:
        where = _join(path, field.name)
        if field.name not in data:
            if field.required:
                raise ArgumentsError(where, "is required")
            continue
        value = data[field.name]
        if value is None and not field.required and not _accepts_null(field.annotation):
            continue  # strict mode's "use the default"
        out[field.name] = _check(value, field.annotation, where, depth + 1)
    return out


def _attrs_fields(cls: type) -> list[_Param]:
    hints = typing.get_type_hints(cls)
    return [
        _Param(a.alias or a.name, hints.get(a.name, a.type), a.default is attrs.NOTHING, None)
        for a in attrs.fields(cls)
        if a.init
    ]


def _check(value: Any, tp: Any, path: str, depth: int) -> Any:
    """``value`` (normalised) if it is JSON of the shape ``tp`` describes, else ArgumentsError."""
    if depth > _MAX_DEPTH + 1:
        raise ArgumentsError(path, "nested too deeply")
    if tp is None or tp is type(None):
        if value is not None:
            raise ArgumentsError(path, f"expected null, got {_kind(value)}")
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ArgumentsError(path, f"expected a boolean, got {_kind(value)}")
        return value
    if tp is int:
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ArgumentsError(path, f"expected an integer, got {_kind(value)}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ArgumentsError(path, f"expected a number, got {_kind(value)}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ArgumentsError(path, f"expected a string, got {_kind(value)}")
        return value
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        allowed = [m.value for m in tp]
        if not any(_same(value, v) for v in allowed):
            raise ArgumentsError(path, f"expected one of {_list(allowed)}, got {_short(value)}")
        return value
    if isinstance(tp, type) and attrs.has(tp):
        return _check_object(value, _attrs_fields(tp), path, depth)
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is Literal:
        if not any(_same(value, v) for v in args):
            raise ArgumentsError(path, f"expected one of {_list(list(args))}, got {_short(value)}")
        return value
    if origin is list:
        if not isinstance(value, list):
            raise ArgumentsError(path, f"expected an array, got {_kind(value)}")
        return [_check(item, args[0], f"{path}[{i}]", depth + 1) for i, item in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ArgumentsError(path, f"expected an object, got {_kind(value)}")
        return {k: _check(item, args[1], _join(path, k), depth + 1) for k, item in value.items()}
    if origin in (Union, types.UnionType):
        if value is None:
            return None
        member = next(a for a in args if a is not type(None))
        return _check(value, member, path, depth)
    raise ArgumentsError(path, f"unsupported annotation {_show(tp)}")


def _same(value: Any, expected: Any) -> bool:
    return (type(value) is type(expected) and value == expected) or (
        isinstance(expected, float)
        and isinstance(value, int)
        and not isinstance(value, bool)
        and value == expected
    )


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"[:60]
    if isinstance(value, str):
        return f"the string {_short(value)}"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _list(values: list[Any]) -> str:
    return ", ".join(_short(v) for v in values[:10]) + (", ..." if len(values) > 10 else "")
