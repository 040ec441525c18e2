"""function_tool: JSON Schemas from signatures (checked by the metaschema), arguments back."""

from __future__ import annotations

import enum
import json
from typing import Any, Literal

import attrs
import jsonschema  # type: ignore[import-untyped]
import pytest
from hypothesis import given, settings, strategies as st

from streamrun import FunctionToolParam, RunCreateParams
from streamrun._function_tool import ArgumentsError, decode_arguments, function_spec, function_tool


class Unit(enum.Enum):
    CELSIUS = "celsius"
    FAHRENHEIT = "fahrenheit"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


@attrs.define
class Location:
    city: str
    country: str | None = None


@attrs.define
class Trip:
    origin: Location
    stops: list[Location]
    nights: int = 1


def everything(
    text: str,
    count: int,
    ratio: float,
    flag: bool,
    nothing: None,
    mode: Literal["fast", "slow"],
    unit: Unit,
    level: Level,
    names: list[str],
    scores: dict[str, float],
    maybe: int | None,
    trip: Trip,
    grid: list[list[int]],
    limit: int = 10,
) -> str:
    """Exercise every supported annotation.

    Args:
        text: some text
        count: how many
            (a continued line)
    """
    return "ok"


def _validator(schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _parameters(fn: Any, **kwargs: Any) -> dict[str, Any]:
    tool = function_tool(fn, **kwargs)
    assert isinstance(tool, FunctionToolParam)
    params = tool.to_json()["function"]["parameters"]
    assert isinstance(params, dict)
    return params


def test_schema_of_every_supported_type() -> None:
    params = _parameters(everything)
    props = params["properties"]
    assert props["text"] == {"type": "string", "description": "some text"}
    assert props["count"] == {"type": "integer", "description": "how many (a continued line)"}
    assert props["ratio"] == {"type": "number"}
    assert props["flag"] == {"type": "boolean"}
    assert props["nothing"] == {"type": "null"}
    assert props["mode"] == {"type": "string", "enum": ["fast", "slow"]}
    assert props["unit"] == {"type": "string", "enum": ["celsius", "fahrenheit"]}
    assert props["level"] == {"type": "integer", "enum": [1, 2]}
    assert props["names"] == {"type": "array", "items": {"type": "string"}}
    assert props["scores"] == {"type": "object", "additionalProperties": {"type": "number"}}
    assert props["maybe"] == {"anyOf": [{"type": "integer"}, {"type": "null"}]}
    assert props["grid"] == {
        "type": "array",
        "items": {"type": "array", "items": {"type": "integer"}},
    }
    assert props["limit"] == {"type": "integer", "default": 10}
    trip = props["trip"]
    assert trip["type"] == "object"
    assert trip["required"] == ["origin", "stops"]
    assert trip["properties"]["nights"] == {"type": "integer", "default": 1}
    location = trip["properties"]["origin"]
    assert location["required"] == ["city"]
    assert location["properties"]["country"]["default"] is None
    assert params["required"] == [n for n in props if n != "limit"]
    assert params["additionalProperties"] is False
    assert trip["additionalProperties"] is False
    _validator(params)


def test_definition_name_description_and_validation_as_a_tool() -> None:
    tool = function_tool(everything).to_json()
    assert tool["type"] == "function"
    assert tool["function"]["name"] == "everything"
    assert tool["function"]["description"] == "Exercise every supported annotation."
    assert "strict" not in tool["function"]
    # Usable in tools= of a request body as it is.
    body = RunCreateParams(assistant_id="asst_1", tools=[function_tool(everything)]).to_json()
    assert body["tools"][0] == tool
    renamed = function_tool(everything, name="other-name", description="D").to_json()
    assert renamed["function"]["name"] == "other-name"
    assert renamed["function"]["description"] == "D"


def _walk_objects(schema: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(schema, dict):
        if schema.get("type") == "object":
            found.append(schema)
        for value in schema.values():
            found.extend(_walk_objects(value))
    elif isinstance(schema, list):
        for value in schema:
            found.extend(_walk_objects(value))
    return found


def strict_ok(
    location: Location, unit: Unit = Unit.CELSIUS, days: int = 1, tags: list[str] | None = None
) -> str:
    """Strict-mode friendly."""
    return "ok"


def test_strict_schema_follows_strict_mode_rules() -> None:
    tool = function_tool(strict_ok, strict=True).to_json()["function"]
    assert tool["strict"] is True
    params = tool["parameters"]
    _validator(params)
    objects = _walk_objects(params)
    assert len(objects) == 2
    for obj in objects:
        assert obj["additionalProperties"] is False
        assert obj["required"] == list(obj["properties"])
    assert "default" not in json.dumps(params)
    # A defaulted parameter becomes nullable: null means "use the default".
    assert params["properties"]["days"] == {"anyOf": [{"type": "integer"}, {"type": "null"}]}
    spec = function_spec(strict_ok, strict=True)
    args = spec.decode(
        '{"location": {"city": "Oslo", "country": null}, "unit": null, "days": null, "tags": null}'
    )
    assert args == {"location": Location("Oslo", None), "tags": None}


def test_strict_refuses_open_objects() -> None:
    def tool(scores: dict[str, int]) -> None:
        """x"""

    with pytest.raises(TypeError, match=r"tool\(\) parameter 'scores'.*strict"):
        function_tool(tool, strict=True)
    function_tool(tool)  # fine without strict


@pytest.mark.parametrize(
    ("annotation", "fragment"),
    [
        ("set[int]", "unsupported annotation"),
        ("int | str", "only `X | None` unions"),
        ("tuple[int, int]", "unsupported annotation"),
        ("dict[int, str]", "dict keys must be str"),
        ("Literal[b'x']", "Literal values"),
        ("bytes", "unsupported annotation"),
    ],
)
def test_unsupported_annotation_is_a_type_error_naming_the_parameter(
    annotation: str, fragment: str
) -> None:
    namespace: dict[str, Any] = {"Literal": Literal}
    exec(f"def f(ok: int, bad: {annotation}) -> None: pass", namespace)
    with pytest.raises(TypeError, match=rf"f\(\) parameter 'bad': .*{fragment}"):
        function_tool(namespace["f"])


def test_definition_errors() -> None:
    def no_annotation(x) -> None:  # type: ignore[no-untyped-def]
        pass

    def star(*args: int) -> None:
        pass

    with pytest.raises(TypeError, match="'x': needs a type annotation"):
        function_tool(no_annotation)
    with pytest.raises(TypeError, match=r"\*args"):
        function_tool(star)
    with pytest.raises(TypeError, match="tool name"):
        function_tool(lambda: None)
    function_tool(lambda: None, name="noop")
    with pytest.raises(TypeError, match="needs a function"):
        function_tool(3)  # type: ignore[arg-type]


def test_sphinx_docstring() -> None:
    def lookup(city: str, limit: int = 3) -> str:
        """Look a city up.

        :param city: the city's name
        :param limit: how many results
        :returns: text
        """
        return city

    fn = function_tool(lookup).to_json()["function"]
    assert fn["description"] == "Look a city up."
    assert fn["parameters"]["properties"]["city"]["description"] == "the city's name"
    assert fn["parameters"]["properties"]["limit"]["description"] == "how many results"


SAMPLE = {
    "text": "hé",
    "count": 3,
    "ratio": 2,
    "flag": False,
    "nothing": None,
    "mode": "slow",
    "unit": "fahrenheit",
    "level": 2,
    "names": ["a", "b"],
    "scores": {"x": 1.5},
    "maybe": None,
    "trip": {"origin": {"city": "Paris"}, "stops": [{"city": "Lyon", "country": "FR"}]},
    "grid": [[1, 2], []],
}


def test_sample_arguments_validate_and_decode_into_the_annotated_types() -> None:
    _validator(_parameters(everything)).validate(SAMPLE)
    args = decode_arguments(everything, json.dumps(SAMPLE))
    assert args["unit"] is Unit.FAHRENHEIT
    assert args["level"] is Level.HIGH
    assert args["ratio"] == 2.0 and isinstance(args["ratio"], float)
    assert args["trip"] == Trip(origin=Location("Paris"), stops=[Location("Lyon", "FR")], nights=1)
    assert "limit" not in args  # the function's own default applies
    assert everything(**args) == "ok"


@pytest.mark.parametrize(
    ("change", "path", "fragment"),
    [
        ({"count": "3"}, "count", "expected an integer, got the string '3'"),
        ({"count": 1.5}, "count", "expected an integer"),
        ({"flag": 1}, "flag", "expected a boolean"),
        ({"ratio": True}, "ratio", "expected a number"),
        ({"mode": "medium"}, "mode", "expected one of 'fast', 'slow'"),
        ({"unit": "kelvin"}, "unit", "expected one of"),
        ({"level": "2"}, "level", "expected one of"),
        ({"names": ["a", 3]}, "names[1]", "expected a string"),
        ({"scores": {"x": "no"}}, "scores.x", "expected a number"),
        ({"trip": {"origin": {}, "stops": []}}, "trip.origin.city", "is required"),
        (
            {"trip": {"origin": {"city": "P", "zip": 1}, "stops": []}},
            "trip.origin.zip",
            "unexpected",
        ),
        ({"extra": 1}, "extra", "unexpected argument"),
        ({"nothing": 0}, "nothing", "expected null"),
        ({"grid": [[1], ["x"]]}, "grid[1][0]", "expected an integer"),
    ],
)
def test_arguments_that_do_not_fit_name_the_argument(
    change: dict[str, Any], path: str, fragment: str
) -> None:
    bad = {**SAMPLE, **change}
    with pytest.raises(ArgumentsError) as info:
        decode_arguments(everything, json.dumps(bad))
    assert info.value.path == path
    assert fragment in str(info.value)
    # The schema agrees that these arguments are invalid.
    with pytest.raises(jsonschema.ValidationError):
        _validator(_parameters(everything)).validate(bad)


def test_missing_required_and_bad_json() -> None:
    with pytest.raises(ArgumentsError, match="text: is required"):
        decode_arguments(everything, "{}")
    with pytest.raises(ArgumentsError, match="not valid JSON"):
        decode_arguments(everything, '{"text": ')
    with pytest.raises(ArgumentsError, match="expected an object, got an array"):
        decode_arguments(everything, "[]")
    with pytest.raises(
        ArgumentsError, match="grid\\[0\\]\\[0\\]: expected an integer, got an array"
    ):
        decode_arguments(everything, json.dumps({**SAMPLE, "grid": [[[[1]]]]}))
    deep = '{"text": ' + "[" * 100_000 + "]" * 100_000 + "}"
    with pytest.raises(ArgumentsError, match=r"nested too deeply|not valid JSON"):
        decode_arguments(everything, deep)

    def none() -> str:
        return "x"

    assert decode_arguments(none, "") == {}
    assert decode_arguments(none, "{}") == {}


# -- property: whatever fits the schema decodes, and re-encodes to the same JSON


def _json_of(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if attrs.has(type(value)):
        return {k: _json_of(v) for k, v in attrs.asdict(value, recurse=False).items()}
    if isinstance(value, list):
        return [_json_of(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_of(v) for k, v in value.items()}
    return value


texts = st.text(max_size=8)
locations = st.builds(Location, city=texts, country=st.none() | texts)
ARGS = st.fixed_dictionaries(
    {
        "text": texts,
        "count": st.integers(-(2**53), 2**53),
        "ratio": st.floats(allow_nan=False, allow_infinity=False),
        "flag": st.booleans(),
        "nothing": st.none(),
        "mode": st.sampled_from(["fast", "slow"]),
        "unit": st.sampled_from(Unit),
        "level": st.sampled_from(Level),
        "names": st.lists(texts, max_size=3),
        "scores": st.dictionaries(texts, st.floats(allow_nan=False, allow_infinity=False)),
        "maybe": st.none() | st.integers(),
        "trip": st.builds(
            Trip, origin=locations, stops=st.lists(locations, max_size=2), nights=st.integers()
        ),
        "grid": st.lists(st.lists(st.integers(), max_size=3), max_size=3),
    },
    optional={"limit": st.integers()},
)


EVERYTHING = function_spec(everything)
EVERYTHING_SCHEMA = _validator(EVERYTHING.tool.to_json()["function"]["parameters"])


@settings(max_examples=150, deadline=None)
@given(ARGS)
def test_any_fitting_arguments_round_trip(args: dict[str, Any]) -> None:
    wire = json.dumps(_json_of(args), sort_keys=True)
    EVERYTHING_SCHEMA.validate(json.loads(wire))
    decoded = EVERYTHING.decode(wire)
    assert decoded == args
    assert json.dumps(_json_of(decoded), sort_keys=True) == wire
