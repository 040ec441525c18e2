"""Tests of the request-body layer: construction, validation rules, JSON output."""

from __future__ import annotations

import copy
import math
import pickle
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from streamrun._exceptions import StreamrunError, ValidationError
from streamrun._requests import (
    INCLUDE_FILE_SEARCH_RESULT_CONTENT,
    NOT_GIVEN,
    AttachmentParam,
    AttachmentToolParam,
    AutoChunkingStrategyParam,
    CodeInterpreterResourceParam,
    CodeInterpreterToolParam,
    FileSearchOptionsParam,
    FileSearchToolParam,
    FunctionDefinitionParam,
    FunctionToolParam,
    ImageFileParam,
    ImageFilePartParam,
    ImageURLParam,
    ImageURLPartParam,
    JSONSchemaParam,
    MessageParam,
    NotGiven,
    RankingOptionsParam,
    ResponseFormatParam,
    RunCreateParams,
    StaticChunkingParam,
    StaticChunkingStrategyParam,
    SubmitToolOutputsParams,
    TextPartParam,
    ThreadCreateAndRunParams,
    ThreadFileSearchResourceParam,
    ThreadParams,
    ThreadToolResourcesParam,
    ToolChoiceFunctionParam,
    ToolChoiceParam,
    ToolOutput,
    ToolResourcesParam,
    TruncationStrategyParam,
    VectorStoreParam,
    build_run_create,
    build_submit_tool_outputs,
    build_thread_create_and_run,
    validate_body,
    validate_include,
)

NAME_RE = re.compile(r"[a-zA-Z0-9_-]{1,64}")


@contextmanager
def fails(path: str, rule: str) -> Iterator[None]:
    """Expect a ValidationError at ``path`` whose rule contains ``rule``."""
    with pytest.raises(ValidationError) as info:
        yield
    assert info.value.path == path, str(info.value)
    assert rule in info.value.rule, str(info.value)


def run(**body: Any) -> dict[str, Any]:
    """The JSON body of a create-run request with assistant ``asst_1``."""
    return build_run_create("asst_1", body).to_json()


def fn_tool(name: str = "get_weather", **extra: Any) -> dict[str, Any]:
    return {"type": "function", "function": {"name": name, **extra}}


def user(content: Any = "hi", **extra: Any) -> dict[str, Any]:
    return {"role": "user", "content": content, **extra}


def nested_objects(count: int, leaf: dict[str, Any] | None = None) -> dict[str, Any]:
    """``count`` objects nested under key ``a``; the innermost one holds ``leaf``."""
    node: dict[str, Any] = dict(leaf or {})
    for _ in range(count - 1):
        node = {"a": node}
    return node


# ---------------------------------------------------------------------------
# NOT_GIVEN


class TestNotGiven:
    def test_is_falsy_with_its_own_repr(self) -> None:
        assert not NOT_GIVEN
        assert bool(NOT_GIVEN) is False
        assert repr(NOT_GIVEN) == "NOT_GIVEN"
        assert isinstance(NOT_GIVEN, NotGiven)

    def test_is_a_singleton(self) -> None:
        assert NotGiven() is NOT_GIVEN
        assert copy.copy(NOT_GIVEN) is NOT_GIVEN
        assert copy.deepcopy(NOT_GIVEN) is NOT_GIVEN
        assert pickle.loads(pickle.dumps(NOT_GIVEN)) is NOT_GIVEN

    def test_not_given_values_are_skipped_in_builders(self) -> None:
        assert run(model=NOT_GIVEN, temperature=NOT_GIVEN) == {"assistant_id": "asst_1"}

    def test_not_given_for_a_required_field_counts_as_missing(self) -> None:
        with fails("role", "is required"):
            MessageParam.from_dict({"role": NOT_GIVEN, "content": "x"})


# ---------------------------------------------------------------------------
# Errors


class TestErrors:
    def test_validation_error_shape(self) -> None:
        with pytest.raises(ValidationError) as info:
            run(temperature=3)
        error = info.value
        assert isinstance(error, StreamrunError)
        assert isinstance(error, ValueError)
        assert error.path == "temperature"
        assert str(error) == f"{error.path}: {error.rule}"
        assert "between 0 and 2" in error.rule
        assert "3" in error.rule

    def test_long_offending_values_are_truncated(self) -> None:
        with pytest.raises(ValidationError) as info:
            run(tools=[fn_tool("x" * 500)])
        assert info.value.path == "tools[0].function.name"
        assert "xxxx..." in info.value.rule
        assert len(info.value.rule) < 150


# ---------------------------------------------------------------------------
# to_json / construction


class TestToJson:
    def test_minimal_body(self) -> None:
        assert RunCreateParams(assistant_id="asst_1").to_json() == {"assistant_id": "asst_1"}
        assert run() == {"assistant_id": "asst_1"}

    def test_unset_fields_are_omitted_and_explicit_none_kept(self) -> None:
        body = run(
            model=None,
            reasoning_effort=None,
            instructions=None,
            additional_instructions=None,
            additional_messages=None,
            tools=None,
            metadata=None,
            temperature=None,
            top_p=None,
            stream=None,
            max_prompt_tokens=None,
            max_completion_tokens=None,
            truncation_strategy=None,
            tool_choice=None,
            response_format=None,
        )
        assert body == {
            "assistant_id": "asst_1",
            "model": None,
            "reasoning_effort": None,
            "instructions": None,
            "additional_instructions": None,
            "additional_messages": None,
            "tools": None,
            "metadata": None,
            "temperature": None,
            "top_p": None,
            "stream": None,
            "max_prompt_tokens": None,
            "max_completion_tokens": None,
            "truncation_strategy": None,
            "tool_choice": None,
            "response_format": None,
        }

    def test_nested_unset_fields_are_omitted(self) -> None:
        body = run(
            tools=[fn_tool(strict=None)],
            truncation_strategy={"type": "last_messages", "last_messages": None},
        )
        assert body["tools"] == [
            {"type": "function", "function": {"name": "get_weather", "strict": None}}
        ]
        assert body["truncation_strategy"] == {"type": "last_messages", "last_messages": None}
        assert FileSearchToolParam().to_json() == {"type": "file_search"}
        assert ImageFileParam(file_id="f").to_json() == {"file_id": "f"}

    def test_full_create_run_body_round_trips(self) -> None:
        body: dict[str, Any] = {
            "assistant_id": "asst_1",
            "model": "gpt-4o",
            "reasoning_effort": "high",
            "instructions": "Be brief.",
            "additional_instructions": "Use metric units.",
            "additional_messages": [
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "What is this?"},
                        {
                            "type": "image_file",
                            "image_file": {"file_id": "file_1", "detail": "low"},
                        },
                        {
                            "type": "image_url",
                            "image_url": {"url": "https://example.com/a.png", "detail": "high"},
                        },
                    ],
                    "attachments": [
                        {"file_id": "file_2", "tools": [{"type": "code_interpreter"}]},
                        {"file_id": "file_3", "tools": [{"type": "file_search"}]},
                    ],
                    "metadata": {"k": "v"},
                },
                {"role": "assistant", "content": "It is a cat."},
            ],
            "tools": [
                {"type": "code_interpreter"},
                {
                    "type": "file_search",
                    "file_search": {
                        "max_num_results": 5,
                        "ranking_options": {"ranker": "auto", "score_threshold": 0.5},
                    },
                },
                {
                    "type": "function",
                    "function": {
                        "name": "get_weather",
                        "description": "Weather for a city",
                        "parameters": {
                            "type": "object",
                            "properties": {"city": {"type": "string"}},
                            "required": ["city"],
                        },
                        "strict": True,
                    },
                },
            ],
            "metadata": {"user": "u1"},
            "temperature": 0.7,
            "top_p": 0.9,
            "stream": True,
            "max_prompt_tokens": 1000,
            "max_completion_tokens": 2000,
            "truncation_strategy": {"type": "last_messages", "last_messages": 10},
            "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
            "parallel_tool_calls": False,
            "response_format": {
                "type": "json_schema",
                "json_schema": {
                    "name": "answer",
                    "description": "An answer",
                    "schema": {"type": "object"},
                    "strict": None,
                },
            },
        }
        params = RunCreateParams.from_dict(body)
        assert params.to_json() == body
        validate_body("create_run", body)

    def test_to_json_returns_a_fresh_copy(self) -> None:
        schema = {"type": "object", "properties": {}}
        params = RunCreateParams(
            assistant_id="a",
            tools=[{"type": "function", "function": {"name": "f", "parameters": schema}}],
            metadata={"a": "b"},
        )
        schema["properties"] = {"changed": {}}  # the caller's dict is not shared
        out = params.to_json()
        out["tools"][0]["function"]["parameters"]["x"] = 1
        out["metadata"]["a"] = "changed"
        assert params.to_json() == {
            "assistant_id": "a",
            "tools": [
                {
                    "type": "function",
                    "function": {"name": "f", "parameters": schema | {"properties": {}}},
                }
            ],
            "metadata": {"a": "b"},
        }

    def test_tuples_become_lists(self) -> None:
        body = run(
            tools=(CodeInterpreterToolParam(),),
            additional_messages=(user(({"type": "text", "text": "a"},)),),
        )
        assert body["tools"] == [{"type": "code_interpreter"}]
        assert body["additional_messages"][0]["content"] == [{"type": "text", "text": "a"}]


class TestDictsAndClasses:
    def test_dicts_and_classes_build_equal_params(self) -> None:
        from_classes = RunCreateParams(
            assistant_id="asst_1",
            additional_messages=[
                MessageParam(
                    role="user",
                    content=[
                        TextPartParam(text="hello"),
                        ImageFilePartParam(image_file=ImageFileParam(file_id="file_1")),
                        ImageURLPartParam(image_url=ImageURLParam(url="https://x.test/a.png")),
                    ],
                    attachments=[
                        AttachmentParam(
                            file_id="file_2", tools=[AttachmentToolParam(type="file_search")]
                        )
                    ],
                )
            ],
            tools=[
                CodeInterpreterToolParam(),
                FileSearchToolParam(
                    file_search=FileSearchOptionsParam(
                        max_num_results=3,
                        ranking_options=RankingOptionsParam(score_threshold=0.2),
                    )
                ),
                FunctionToolParam(function=FunctionDefinitionParam(name="f", parameters={})),
            ],
            truncation_strategy=TruncationStrategyParam(type="auto"),
            tool_choice=ToolChoiceParam(
                type="function", function=ToolChoiceFunctionParam(name="f")
            ),
            response_format=ResponseFormatParam(
                type="json_schema", json_schema=JSONSchemaParam(name="s", schema={})
            ),
        )
        from_dicts = build_run_create(
            "asst_1",
            {
                "additional_messages": [
                    {
                        "role": "user",
                        "content": [
                            {"type": "text", "text": "hello"},
                            {"type": "image_file", "image_file": {"file_id": "file_1"}},
                            {"type": "image_url", "image_url": {"url": "https://x.test/a.png"}},
                        ],
                        "attachments": [{"file_id": "file_2", "tools": [{"type": "file_search"}]}],
                    }
                ],
                "tools": [
                    {"type": "code_interpreter"},
                    {
                        "type": "file_search",
                        "file_search": {
                            "max_num_results": 3,
                            "ranking_options": {"score_threshold": 0.2},
                        },
                    },
                    {"type": "function", "function": {"name": "f", "parameters": {}}},
                ],
                "truncation_strategy": {"type": "auto"},
                "tool_choice": {"type": "function", "function": {"name": "f"}},
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": "s", "schema": {}},
                },
            },
        )
        assert from_dicts == from_classes
        assert from_dicts.to_json() == from_classes.to_json()

    def test_mixed_dicts_and_classes_in_one_list(self) -> None:
        params = RunCreateParams(
            assistant_id="a",
            tools=[{"type": "function", "function": {"name": "f"}}, CodeInterpreterToolParam()],
        )
        assert isinstance(params.tools, list)
        assert isinstance(params.tools[0], FunctionToolParam)
        assert isinstance(params.tools[0].function, FunctionDefinitionParam)
        assert params.tools[1] == CodeInterpreterToolParam()

    def test_keyword_construction_converts_nested_dicts(self) -> None:
        message = MessageParam(role="user", content=[{"type": "text", "text": "x"}])
        assert message.content == [TextPartParam(text="x")]
        tool = FunctionToolParam(function={"name": "f"})
        assert tool.function == FunctionDefinitionParam(name="f")

    def test_tool_classes_are_accepted_as_attachment_tools(self) -> None:
        attachment = AttachmentParam(
            file_id="f", tools=[CodeInterpreterToolParam(), FileSearchToolParam()]
        )
        assert attachment.tools == [
            AttachmentToolParam(type="code_interpreter"),
            AttachmentToolParam(type="file_search"),
        ]
        with fails("tools[0]", "must be an object (AttachmentToolParam)"):
            AttachmentParam(
                file_id="f",
                tools=[FileSearchToolParam(file_search=FileSearchOptionsParam(max_num_results=2))],
            )

    def test_explicit_not_given_for_a_required_field_is_rejected(self) -> None:
        with fails("text", "is required"):
            TextPartParam(text=NOT_GIVEN)  # type: ignore[arg-type]
        with fails("role", "is required"):
            MessageParam(role=NOT_GIVEN, content="x")  # type: ignore[arg-type]
        with fails("content", "is required"):
            MessageParam(role="user", content=NOT_GIVEN)  # type: ignore[arg-type]
        with fails("function", "is required"):
            FunctionToolParam(function=NOT_GIVEN)  # type: ignore[arg-type]
        with fails("name", "is required"):
            FunctionDefinitionParam(name=NOT_GIVEN)  # type: ignore[arg-type]
        with fails("url", "is required"):
            ImageURLParam(url=NOT_GIVEN)  # type: ignore[arg-type]
        with fails("score_threshold", "is required"):
            RankingOptionsParam(score_threshold=NOT_GIVEN)  # type: ignore[arg-type]
        with fails("type", "is required"):
            TruncationStrategyParam(type=NOT_GIVEN)  # type: ignore[arg-type]
        with fails("type", "is required"):
            CodeInterpreterToolParam(type=NOT_GIVEN)  # type: ignore[arg-type]
        with fails("tool_outputs", "is required"):
            SubmitToolOutputsParams(tool_outputs=NOT_GIVEN)  # type: ignore[arg-type]
        with fails("max_chunk_size_tokens", "is required"):
            StaticChunkingParam(max_chunk_size_tokens=NOT_GIVEN, chunk_overlap_tokens=0)  # type: ignore[arg-type]
        with fails("assistant_id", "is required"):
            RunCreateParams(assistant_id=NOT_GIVEN)  # type: ignore[arg-type]

    def test_keyword_construction_errors_carry_relative_paths(self) -> None:
        with fails("function.name", "must match"):
            FunctionToolParam(function={"name": "a b"})
        with fails("name", "must match"):
            FunctionDefinitionParam(name="a b")

    def test_assignment_is_validated_and_converted(self) -> None:
        params = RunCreateParams(assistant_id="a")
        params.stream = True
        # assignment converts dicts too (the static type only knows the classes)
        params.tools = [{"type": "code_interpreter"}]  # type: ignore[list-item]
        assert params.tools == [CodeInterpreterToolParam()]
        with fails("stream", "must be a boolean or null"):
            params.stream = 1  # type: ignore[assignment]
        with fails("tools[0].type", "must be one of"):
            params.tools = [{"type": "retrieval"}]  # type: ignore[list-item]
        assert params.stream is True
        assert params.tools == [CodeInterpreterToolParam()]

    def test_assignment_checks_cross_field_rules(self) -> None:
        fmt = ResponseFormatParam(type="json_schema", json_schema={"name": "n"})
        with fails("json_schema", "is required when type is 'json_schema'"):
            fmt.json_schema = NOT_GIVEN
        with fails("json_schema", "is not allowed when type is 'text'"):
            fmt.type = "text"
        choice = ToolChoiceParam(type="function", function={"name": "f"})
        with fails("function", "is required when type is 'function'"):
            choice.function = NOT_GIVEN


# ---------------------------------------------------------------------------
# Unknown keys


class TestUnknownKeys:
    def test_unknown_top_level_key(self) -> None:
        with fails("bogus", "unknown field"):
            run(bogus=1)
        with pytest.raises(ValidationError) as info:
            run(bogus=1)
        assert "assistant_id" in info.value.rule  # names the accepted fields

    @pytest.mark.parametrize(
        ("body", "path"),
        [
            ({"tools": [fn_tool(bogus=1)]}, "tools[0].function.bogus"),
            ({"tools": [{"type": "code_interpreter", "x": 1}]}, "tools[0].x"),
            (
                {"tools": [{"type": "file_search", "file_search": {"k": 1}}]},
                "tools[0].file_search.k",
            ),
            (
                {"additional_messages": [user([{"type": "text", "text": "a", "annotations": []}])]},
                "additional_messages[0].content[0].annotations",
            ),
            (
                {"additional_messages": [user(file_ids=["f"])]},
                "additional_messages[0].file_ids",
            ),
            (
                {"response_format": {"type": "json_schema", "json_schema": {"name": "n", "x": 1}}},
                "response_format.json_schema.x",
            ),
            ({"truncation_strategy": {"type": "auto", "n": 1}}, "truncation_strategy.n"),
            ({"tool_choice": {"type": "file_search", "extra": 1}}, "tool_choice.extra"),
        ],
    )
    def test_unknown_nested_key(self, body: dict[str, Any], path: str) -> None:
        with fails(path, "unknown field"):
            run(**body)

    def test_from_dict_needs_a_mapping(self) -> None:
        with fails("", "must be an object, got list"):
            RunCreateParams.from_dict([])  # type: ignore[arg-type]
        with fails("x.y", "must be an object, got str"):
            TextPartParam.from_dict("text", "x.y")  # type: ignore[arg-type]

    def test_non_string_key(self) -> None:
        with fails("tools[0].1", "unknown field"):
            run(tools=[{"type": "code_interpreter", 1: 2}])

    def test_create_run_only_fields_are_unknown_to_create_thread_and_run(self) -> None:
        for key, value in [
            ("additional_messages", []),
            ("additional_instructions", "x"),
            ("reasoning_effort", "low"),
        ]:
            with fails(key, "unknown field"):
                build_thread_create_and_run("a", None, {key: value})

    def test_tool_resources_are_unknown_to_create_run(self) -> None:
        with fails("tool_resources", "unknown field"):
            run(tool_resources={})


# ---------------------------------------------------------------------------
# Scalars of the run body


class TestAssistantId:
    def test_required(self) -> None:
        with fails("assistant_id", "is required"):
            RunCreateParams.from_dict({})
        with fails("assistant_id", "is required"):
            validate_body("create_thread_and_run", {})

    @pytest.mark.parametrize("value", ["", None, 1, ["a"]])
    def test_non_empty_string(self, value: Any) -> None:
        with fails("assistant_id", "must be a"):
            build_run_create(value, {})

    def test_rule_texts(self) -> None:
        with fails("assistant_id", "must be a non-empty string"):
            build_run_create("", {})
        with fails("assistant_id", "must be a string, got int 1"):
            build_run_create(1, {})  # type: ignore[arg-type]


class TestStrings:
    @pytest.mark.parametrize("field", ["model", "instructions", "additional_instructions"])
    def test_string_or_null(self, field: str) -> None:
        assert run(**{field: "x"})[field] == "x"
        assert run(**{field: ""})[field] == ""
        assert run(**{field: None})[field] is None
        with fails(field, "must be a string or null, got int 5"):
            run(**{field: 5})

    def test_any_model_id_is_accepted(self) -> None:
        assert run(model="my-fine-tune:2026")["model"] == "my-fine-tune:2026"


class TestReasoningEffort:
    @pytest.mark.parametrize(
        "value", ["none", "minimal", "low", "medium", "high", "xhigh", "max", None]
    )
    def test_accepted(self, value: str | None) -> None:
        assert run(reasoning_effort=value)["reasoning_effort"] == value

    @pytest.mark.parametrize("value", ["", "extreme", "HIGH", 1, True])
    def test_rejected(self, value: Any) -> None:
        with fails("reasoning_effort", "must be one of 'none', 'minimal'"):
            run(reasoning_effort=value)


class TestNumbers:
    @pytest.mark.parametrize("value", [0, 0.0, 1, 1.5, 2, 2.0, None])
    def test_temperature_accepted(self, value: float | None) -> None:
        assert run(temperature=value)["temperature"] == value

    @pytest.mark.parametrize("value", [-0.0001, 2.0001, -1, 3, math.nan, math.inf, -math.inf])
    def test_temperature_out_of_range(self, value: float) -> None:
        with fails("temperature", "must be between 0 and 2"):
            run(temperature=value)

    @pytest.mark.parametrize("value", [True, False, "1", [1]])
    def test_temperature_not_a_number(self, value: Any) -> None:
        with fails("temperature", "must be a number or null"):
            run(temperature=value)

    @pytest.mark.parametrize("value", [0, 0.5, 1, 1.0, None])
    def test_top_p_accepted(self, value: float | None) -> None:
        assert run(top_p=value)["top_p"] == value

    @pytest.mark.parametrize("value", [-0.0001, 1.0001, 2])
    def test_top_p_out_of_range(self, value: float) -> None:
        with fails("top_p", "must be between 0 and 1"):
            run(top_p=value)

    def test_top_p_rejects_booleans(self) -> None:
        with fails("top_p", "must be a number or null, got bool True"):
            run(top_p=True)

    @pytest.mark.parametrize("field", ["max_prompt_tokens", "max_completion_tokens"])
    def test_token_limits(self, field: str) -> None:
        assert run(**{field: 256})[field] == 256
        assert run(**{field: 10**9})[field] == 10**9
        assert run(**{field: None})[field] is None
        with fails(field, "must be at least 256, got 255"):
            run(**{field: 255})
        with fails(field, "must be at least 256, got 0"):
            run(**{field: 0})
        with fails(field, "must be an integer or null, got float 256.0"):
            run(**{field: 256.0})
        with fails(field, "must be an integer or null, got bool True"):
            run(**{field: True})
        with fails(field, "must be an integer or null"):
            run(**{field: "300"})

    @pytest.mark.parametrize("field", ["max_prompt_tokens", "max_completion_tokens"])
    def test_token_limits_in_create_thread_and_run(self, field: str) -> None:
        build_thread_create_and_run("a", None, {field: 256})
        with fails(field, "must be at least 256"):
            build_thread_create_and_run("a", None, {field: 255})


class TestBooleans:
    @pytest.mark.parametrize("value", [True, False, None])
    def test_stream(self, value: bool | None) -> None:
        assert run(stream=value)["stream"] is value

    @pytest.mark.parametrize("value", [1, 0, "true"])
    def test_stream_rejects_non_booleans(self, value: Any) -> None:
        with fails("stream", "must be a boolean or null"):
            run(stream=value)

    @pytest.mark.parametrize("value", [True, False])
    def test_parallel_tool_calls(self, value: bool) -> None:
        assert run(parallel_tool_calls=value)["parallel_tool_calls"] is value

    @pytest.mark.parametrize("value", [None, 1, "yes"])
    def test_parallel_tool_calls_is_not_nullable(self, value: Any) -> None:
        with fails("parallel_tool_calls", "must be a boolean, got"):
            run(parallel_tool_calls=value)


# ---------------------------------------------------------------------------
# Metadata


def metadata_is_valid(data: dict[str, str]) -> bool:
    return len(data) <= 16 and all(len(k) <= 64 and len(v) <= 512 for k, v in data.items())


class TestMetadata:
    def test_boundaries_accepted(self) -> None:
        data = {f"{i:064d}": "v" * 512 for i in range(16)}
        assert run(metadata=data)["metadata"] == data
        assert run(metadata={})["metadata"] == {}
        assert run(metadata={"": ""})["metadata"] == {"": ""}
        assert run(metadata=None)["metadata"] is None

    def test_too_many_pairs(self) -> None:
        with fails("metadata", "at most 16 key-value pairs, got 17"):
            run(metadata={str(i): "v" for i in range(17)})

    def test_key_too_long(self) -> None:
        with fails("metadata", "keys must be at most 64 characters, got 65"):
            run(metadata={"k" * 65: "v"})

    def test_value_too_long(self) -> None:
        with fails("metadata.k", "must be at most 512 characters, got 513"):
            run(metadata={"k": "v" * 513})

    def test_lengths_count_characters_not_bytes(self) -> None:
        data = {"é" * 64: "€" * 512}
        assert run(metadata=data)["metadata"] == data
        nested = {"additional_messages": [user(metadata=data)]}
        assert run(**nested)["additional_messages"][0]["metadata"] == data

    def test_not_given_is_not_a_metadata_value(self) -> None:
        with fails("metadata.n", "must be a string, got NOT_GIVEN"):
            run(metadata={"n": NOT_GIVEN})

    def test_value_must_be_a_string(self) -> None:
        with fails("metadata.n", "must be a string, got int 1"):
            run(metadata={"n": 1})
        with fails("metadata.n", "must be a string, got null"):
            run(metadata={"n": None})

    def test_key_must_be_a_string(self) -> None:
        with fails("metadata", "keys must be strings, got int 1"):
            run(metadata={1: "v"})

    def test_must_be_an_object(self) -> None:
        with fails("metadata", "must be an object or null, got list"):
            run(metadata=[("a", "b")])

    @pytest.mark.parametrize(
        ("body", "path"),
        [
            (
                {"additional_messages": [user(metadata={"k": "v" * 513})]},
                "additional_messages[0].metadata.k",
            ),
        ],
    )
    def test_applies_to_messages(self, body: dict[str, Any], path: str) -> None:
        with fails(path, "at most 512 characters"):
            run(**body)

    def test_applies_to_threads_and_vector_stores(self) -> None:
        too_many = {str(i): "v" for i in range(17)}
        with fails("thread.metadata", "at most 16"):
            build_thread_create_and_run("a", {"metadata": too_many}, {})
        with fails("metadata", "at most 16"):
            build_thread_create_and_run("a", None, {"metadata": too_many})
        with fails("thread.messages[0].metadata", "at most 16"):
            build_thread_create_and_run("a", {"messages": [user(metadata=too_many)]}, {})
        with fails("thread.tool_resources.file_search.vector_stores[0].metadata", "at most 16"):
            build_thread_create_and_run(
                "a",
                {"tool_resources": {"file_search": {"vector_stores": [{"metadata": too_many}]}}},
                {},
            )

    @settings(max_examples=60, deadline=None)
    @given(
        st.dictionaries(
            st.text(max_size=70),
            st.text(max_size=520),
            max_size=18,
        )
    )
    def test_property(self, data: dict[str, str]) -> None:
        if metadata_is_valid(data):
            assert run(metadata=data)["metadata"] == data
        else:
            with pytest.raises(ValidationError) as info:
                run(metadata=data)
            assert info.value.path.startswith("metadata")


# ---------------------------------------------------------------------------
# Tools


class TestTools:
    def test_at_most_twenty(self) -> None:
        twenty = [fn_tool(f"f{i}") for i in range(20)]
        assert len(run(tools=twenty)["tools"]) == 20
        assert run(tools=[])["tools"] == []
        with fails("tools", "must have at most 20 items, got 21"):
            run(tools=[*twenty, {"type": "code_interpreter"}])

    def test_must_be_an_array(self) -> None:
        with fails("tools", "must be an array, got dict"):
            run(tools={"type": "code_interpreter"})
        with fails("tools", "must be an array, got str"):
            run(tools="code_interpreter")

    def test_type_required_and_known(self) -> None:
        with fails("tools[0].type", "is required"):
            run(tools=[{}])
        with fails(
            "tools[1].type",
            "must be one of 'code_interpreter', 'file_search', 'function', got str 'retrieval'",
        ):
            run(tools=[{"type": "code_interpreter"}, {"type": "retrieval"}])

    def test_item_must_be_an_object(self) -> None:
        with fails("tools[0]", "must be an object (tool), got str"):
            run(tools=["code_interpreter"])

    def test_type_field_of_a_class_is_checked(self) -> None:
        with fails("type", "must be 'function'"):
            FunctionToolParam(type="code_interpreter", function={"name": "f"})  # type: ignore[arg-type]


class TestFunctionTool:
    @pytest.mark.parametrize("name", ["f", "a" * 64, "get_weather", "A-b_9", "-", "_"])
    def test_valid_names(self, name: str) -> None:
        assert run(tools=[fn_tool(name)])["tools"][0]["function"]["name"] == name

    @pytest.mark.parametrize("name", ["", "a" * 65, "get weather", "a.b", "naïve", "a\n", "f()"])
    def test_invalid_names(self, name: str) -> None:
        with fails("tools[0].function.name", "must match [a-zA-Z0-9_-]{1,64}, got"):
            run(tools=[fn_tool(name)])

    def test_name_rule_text(self) -> None:
        with fails("tools[2].function.name", "must match [a-zA-Z0-9_-]{1,64}, got 'bad name'"):
            run(tools=[fn_tool("a"), fn_tool("b"), fn_tool("bad name")])

    def test_name_required(self) -> None:
        with fails("tools[0].function.name", "is required"):
            run(tools=[{"type": "function", "function": {"description": "x"}}])

    def test_name_must_be_a_string(self) -> None:
        with fails("tools[0].function.name", "must be a string, got int 1"):
            run(tools=[fn_tool(1)])  # type: ignore[arg-type]

    def test_function_required(self) -> None:
        with fails("tools[0].function", "is required"):
            run(tools=[{"type": "function"}])
        with fails("tools[0].function", "must be an object"):
            run(tools=[{"type": "function", "function": "get_weather"}])

    def test_description(self) -> None:
        assert run(tools=[fn_tool(description="")])["tools"][0]["function"]["description"] == ""
        with fails("tools[0].function.description", "must be a string, got null"):
            run(tools=[fn_tool(description=None)])

    def test_strict(self) -> None:
        for value in (True, False, None):
            assert run(tools=[fn_tool(strict=value)])["tools"][0]["function"]["strict"] is value
        with fails("tools[0].function.strict", "must be a boolean or null, got str 'yes'"):
            run(tools=[fn_tool(strict="yes")])

    def test_parameters_must_be_a_json_object(self) -> None:
        params = {"type": "object", "properties": {"n": {"type": "number", "maximum": 1.5}}}
        assert (
            run(tools=[fn_tool(parameters=params)])["tools"][0]["function"]["parameters"] == params
        )
        with fails("tools[0].function.parameters", "must be a JSON object, got list"):
            run(tools=[fn_tool(parameters=[])])
        with fails("tools[0].function.parameters", "must be a JSON object, got null"):
            run(tools=[fn_tool(parameters=None)])

    def test_parameters_must_hold_json_values(self) -> None:
        with fails("tools[0].function.parameters.properties.x", "must be a JSON value, got set"):
            run(tools=[fn_tool(parameters={"properties": {"x": {1}}})])
        with fails("tools[0].function.parameters.enum[1]", "must be a finite number, got nan"):
            run(tools=[fn_tool(parameters={"enum": [1, math.nan]})])
        with fails("tools[0].function.parameters", "object keys must be strings, got int 1"):
            run(tools=[fn_tool(parameters={1: "x"})])

    def test_parameters_depth_is_limited(self) -> None:
        deep: dict[str, Any] = {}
        node = deep
        for _ in range(70):
            node["a"] = {}
            node = node["a"]
        with pytest.raises(ValidationError) as info:
            run(tools=[fn_tool(parameters=deep)])
        assert "nests deeper than 64 levels" in info.value.rule

    def test_parameters_depth_boundary(self) -> None:
        # ``parameters`` itself is the first level: 64 nested objects are accepted
        # (scalars inside the 64th are fine), the 65th object is refused where it is.
        accepted = nested_objects(64, leaf={"type": "string", "n": 1})
        body = run(tools=[fn_tool(parameters=accepted)])
        assert body["tools"][0]["function"]["parameters"] == accepted
        assert body["tools"][0]["function"]["parameters"] is not accepted  # a copy
        with fails("tools[0].function.parameters" + ".a" * 64, "nests deeper than 64 levels"):
            run(tools=[fn_tool(parameters=nested_objects(65))])

    def test_parameters_depth_counts_arrays(self) -> None:
        # 63 objects then an array: 64 levels, accepted; one more array is the 65th.
        accepted = nested_objects(63, leaf={"enum": [1, "x", None]})
        assert (
            run(tools=[fn_tool(parameters=accepted)])["tools"][0]["function"]["parameters"]
            == accepted
        )
        refused = nested_objects(63, leaf={"enum": [[1]]})
        with fails(
            "tools[0].function.parameters" + ".a" * 62 + ".enum[0]", "nests deeper than 64 levels"
        ):
            run(tools=[fn_tool(parameters=refused)])

    @settings(max_examples=150, deadline=None)
    @given(st.text(alphabet=st.characters(codec="utf-8"), max_size=70))
    def test_name_property(self, name: str) -> None:
        if NAME_RE.fullmatch(name):
            run(tools=[fn_tool(name)])
        else:
            with fails("tools[0].function.name", "must match"):
                run(tools=[fn_tool(name)])

    @settings(max_examples=50, deadline=None)
    @given(st.from_regex(r"\A[a-zA-Z0-9_-]{1,64}\Z"))
    def test_every_regex_name_is_accepted(self, name: str) -> None:
        assert FunctionDefinitionParam(name=name).name == name


class TestFileSearchTool:
    def fs(self, options: Any) -> dict[str, Any]:
        tool: dict[str, Any] = run(tools=[{"type": "file_search", "file_search": options}])[
            "tools"
        ][0]
        return tool

    def test_bare(self) -> None:
        assert run(tools=[{"type": "file_search"}])["tools"] == [{"type": "file_search"}]
        assert self.fs({}) == {"type": "file_search", "file_search": {}}

    @pytest.mark.parametrize("value", [1, 20, 50])
    def test_max_num_results_accepted(self, value: int) -> None:
        assert self.fs({"max_num_results": value})["file_search"]["max_num_results"] == value

    @pytest.mark.parametrize("value", [0, 51, -1])
    def test_max_num_results_out_of_range(self, value: int) -> None:
        with fails(
            "tools[0].file_search.max_num_results", f"must be between 1 and 50, got {value}"
        ):
            self.fs({"max_num_results": value})

    @pytest.mark.parametrize("value", [5.0, None, True, "5"])
    def test_max_num_results_must_be_an_integer(self, value: Any) -> None:
        with fails("tools[0].file_search.max_num_results", "must be an integer, got"):
            self.fs({"max_num_results": value})

    def test_file_search_options_not_nullable(self) -> None:
        with fails("tools[0].file_search", "must be an object"):
            self.fs(None)

    @pytest.mark.parametrize("value", [0, 0.0, 0.5, 1, 1.0])
    def test_score_threshold_accepted(self, value: float) -> None:
        got = self.fs({"ranking_options": {"score_threshold": value}})
        assert got["file_search"]["ranking_options"] == {"score_threshold": value}

    @pytest.mark.parametrize("value", [-0.01, 1.01, math.nan])
    def test_score_threshold_out_of_range(self, value: float) -> None:
        with fails(
            "tools[0].file_search.ranking_options.score_threshold", "must be between 0 and 1"
        ):
            self.fs({"ranking_options": {"score_threshold": value}})

    def test_score_threshold_required(self) -> None:
        with fails("tools[0].file_search.ranking_options.score_threshold", "is required"):
            self.fs({"ranking_options": {"ranker": "auto"}})
        with fails("tools[0].file_search.ranking_options.score_threshold", "must be a number"):
            self.fs({"ranking_options": {"score_threshold": None}})

    @pytest.mark.parametrize("ranker", ["auto", "default_2024_08_21"])
    def test_ranker_accepted(self, ranker: str) -> None:
        tool = self.fs({"ranking_options": {"ranker": ranker, "score_threshold": 0}})
        assert tool == {
            "type": "file_search",
            "file_search": {"ranking_options": {"ranker": ranker, "score_threshold": 0}},
        }

    def test_ranker_rejected(self) -> None:
        with fails(
            "tools[0].file_search.ranking_options.ranker",
            "must be one of 'auto', 'default_2024_08_21', got str 'best'",
        ):
            self.fs({"ranking_options": {"ranker": "best", "score_threshold": 0}})


# ---------------------------------------------------------------------------
# Messages


class TestMessages:
    def test_string_content(self) -> None:
        body = run(additional_messages=[user("hello"), {"role": "assistant", "content": ""}])
        assert body["additional_messages"] == [
            {"role": "user", "content": "hello"},
            {"role": "assistant", "content": ""},
        ]

    def test_additional_messages_nullable_and_array(self) -> None:
        assert run(additional_messages=None)["additional_messages"] is None
        assert run(additional_messages=[])["additional_messages"] == []
        with fails("additional_messages", "must be an array"):
            run(additional_messages=user())

    def test_role_required_and_enum(self) -> None:
        with fails("additional_messages[0].role", "is required"):
            run(additional_messages=[{"content": "x"}])
        with fails(
            "additional_messages[1].role", "must be one of 'user', 'assistant', got str 'system'"
        ):
            run(additional_messages=[user(), {"role": "system", "content": "x"}])

    def test_content_required(self) -> None:
        with fails("additional_messages[0].content", "is required"):
            run(additional_messages=[{"role": "user"}])

    @pytest.mark.parametrize("value", [None, 1, {"type": "text", "text": "x"}])
    def test_content_type(self, value: Any) -> None:
        with fails("additional_messages[0].content", "must be a string or a non-empty array"):
            run(additional_messages=[user(value)])

    def test_content_array_must_not_be_empty(self) -> None:
        with fails("additional_messages[0].content", "must have at least 1 item(s), got 0"):
            run(additional_messages=[user([])])

    def test_part_type_required_and_known(self) -> None:
        with fails("additional_messages[0].content[0].type", "is required"):
            run(additional_messages=[user([{"text": "x"}])])
        with fails(
            "additional_messages[0].content[1].type",
            "must be one of 'text', 'image_file', 'image_url', got str 'refusal'",
        ):
            run(additional_messages=[user([{"type": "text", "text": "a"}, {"type": "refusal"}])])
        with fails(
            "additional_messages[0].content[0]", "must be an object (content part), got str"
        ):
            run(additional_messages=[user(["hello"])])

    def test_text_part(self) -> None:
        with fails("additional_messages[0].content[0].text", "is required"):
            run(additional_messages=[user([{"type": "text"}])])
        with fails("additional_messages[0].content[0].text", "must be a string"):
            run(additional_messages=[user([{"type": "text", "text": {"value": "x"}}])])

    def test_image_file_part(self) -> None:
        with fails("additional_messages[0].content[0].image_file", "is required"):
            run(additional_messages=[user([{"type": "image_file"}])])
        with fails("additional_messages[0].content[0].image_file.file_id", "is required"):
            run(
                additional_messages=[
                    user([{"type": "image_file", "image_file": {"detail": "low"}}])
                ]
            )
        for detail in ("auto", "low", "high"):
            run(
                additional_messages=[
                    user([{"type": "image_file", "image_file": {"file_id": "f", "detail": detail}}])
                ]
            )
        with fails(
            "additional_messages[0].content[0].image_file.detail",
            "must be one of 'auto', 'low', 'high', got str 'medium'",
        ):
            run(
                additional_messages=[
                    user(
                        [{"type": "image_file", "image_file": {"file_id": "f", "detail": "medium"}}]
                    )
                ]
            )

    @pytest.mark.parametrize(
        "url",
        [
            "https://example.com/cat.png",
            "http://example.com/a.jpg?x=1",
            "data:image/png;base64,AAAA",
        ],
    )
    def test_image_url_accepted(self, url: str) -> None:
        part = {"type": "image_url", "image_url": {"url": url}}
        body = run(additional_messages=[user([part])])
        assert body["additional_messages"] == [{"role": "user", "content": [part]}]

    @pytest.mark.parametrize("url", ["", "cat.png", "/images/cat.png", "://x", "https:"])
    def test_image_url_must_be_an_absolute_uri(self, url: str) -> None:
        with fails("additional_messages[0].content[1].image_url.url", "must be an absolute URI"):
            run(
                additional_messages=[
                    user(
                        [
                            {"type": "text", "text": "a"},
                            {"type": "image_url", "image_url": {"url": url}},
                        ]
                    )
                ]
            )

    def test_image_url_must_be_a_string(self) -> None:
        with fails("additional_messages[0].content[0].image_url.url", "must be a string, got int"):
            run(additional_messages=[user([{"type": "image_url", "image_url": {"url": 1}}])])

    def test_image_url_required_and_detail(self) -> None:
        with fails("additional_messages[0].content[0].image_url.url", "is required"):
            run(additional_messages=[user([{"type": "image_url", "image_url": {}}])])
        with fails("additional_messages[0].content[0].image_url.detail", "must be one of"):
            run(
                additional_messages=[
                    user(
                        [
                            {
                                "type": "image_url",
                                "image_url": {"url": "https://x/a.png", "detail": "max"},
                            }
                        ]
                    )
                ]
            )

    def test_attachments(self) -> None:
        good = [{"file_id": "f", "tools": [{"type": "code_interpreter"}, {"type": "file_search"}]}]
        assert (
            run(additional_messages=[user(attachments=good)])["additional_messages"][0][
                "attachments"
            ]
            == good
        )
        assert (
            run(additional_messages=[user(attachments=None)])["additional_messages"][0][
                "attachments"
            ]
            is None
        )
        assert run(additional_messages=[user(attachments=[{"file_id": "f", "tools": []}])])

    def test_attachment_keys_are_required(self) -> None:
        with fails("additional_messages[0].attachments[0].file_id", "is required"):
            run(additional_messages=[user(attachments=[{"tools": []}])])
        with fails("additional_messages[0].attachments[0].tools", "is required"):
            run(additional_messages=[user(attachments=[{"file_id": "f"}])])

    def test_attachment_tools(self) -> None:
        with fails(
            "additional_messages[0].attachments[0].tools[1].type",
            "must be one of 'code_interpreter', 'file_search', got str 'function'",
        ):
            run(
                additional_messages=[
                    user(
                        attachments=[
                            {
                                "file_id": "f",
                                "tools": [{"type": "file_search"}, {"type": "function"}],
                            }
                        ]
                    )
                ]
            )
        with fails("additional_messages[0].attachments[0].tools", "must be an array"):
            run(additional_messages=[user(attachments=[{"file_id": "f", "tools": None}])])
        with fails("additional_messages[0].attachments[0].file_id", "must be a string, got null"):
            run(additional_messages=[user(attachments=[{"file_id": None, "tools": []}])])


# ---------------------------------------------------------------------------
# Run options


class TestTruncationStrategy:
    def test_accepted(self) -> None:
        assert run(truncation_strategy={"type": "auto"})["truncation_strategy"] == {"type": "auto"}
        assert run(truncation_strategy={"type": "last_messages", "last_messages": 1})
        assert run(truncation_strategy=None)["truncation_strategy"] is None

    def test_type_required_and_enum(self) -> None:
        with fails("truncation_strategy.type", "is required"):
            run(truncation_strategy={"last_messages": 3})
        with fails(
            "truncation_strategy.type", "must be one of 'auto', 'last_messages', got str 'first'"
        ):
            run(truncation_strategy={"type": "first"})

    @pytest.mark.parametrize("value", [0, -1])
    def test_last_messages_at_least_one(self, value: int) -> None:
        with fails("truncation_strategy.last_messages", f"must be at least 1, got {value}"):
            run(truncation_strategy={"type": "last_messages", "last_messages": value})

    def test_last_messages_integer(self) -> None:
        with fails(
            "truncation_strategy.last_messages", "must be an integer or null, got float 2.0"
        ):
            run(truncation_strategy={"type": "last_messages", "last_messages": 2.0})

    def test_must_be_an_object(self) -> None:
        with fails("truncation_strategy", "must be an object"):
            run(truncation_strategy="auto")


class TestToolChoice:
    @pytest.mark.parametrize("value", ["none", "auto", "required", None])
    def test_modes(self, value: str | None) -> None:
        assert run(tool_choice=value)["tool_choice"] == value

    @pytest.mark.parametrize("value", ["any", "", "Auto"])
    def test_unknown_mode(self, value: str) -> None:
        with fails("tool_choice", "must be one of 'none', 'auto', 'required' or an object"):
            run(tool_choice=value)

    def test_not_a_string_or_object(self) -> None:
        with fails("tool_choice", "an object or null, got int 1"):
            run(tool_choice=1)

    @pytest.mark.parametrize("kind", ["code_interpreter", "file_search"])
    def test_named_tool(self, kind: str) -> None:
        assert run(tool_choice={"type": kind})["tool_choice"] == {"type": kind}

    def test_function(self) -> None:
        choice = {"type": "function", "function": {"name": "get_weather"}}
        assert run(tool_choice=choice)["tool_choice"] == choice

    def test_function_required_for_type_function(self) -> None:
        with fails("tool_choice.function", "is required when type is 'function'"):
            run(tool_choice={"type": "function"})

    def test_function_name_required(self) -> None:
        with fails("tool_choice.function.name", "is required"):
            run(tool_choice={"type": "function", "function": {}})

    def test_type_required_and_enum(self) -> None:
        with fails("tool_choice.type", "is required"):
            run(tool_choice={"function": {"name": "f"}})
        with fails(
            "tool_choice.type", "must be one of 'function', 'code_interpreter', 'file_search'"
        ):
            run(tool_choice={"type": "retrieval"})


class TestResponseFormat:
    @pytest.mark.parametrize("value", ["auto", None])
    def test_auto_and_null(self, value: str | None) -> None:
        assert run(response_format=value)["response_format"] == value

    def test_other_strings_rejected(self) -> None:
        with fails("response_format", "must be 'auto' or an object, got str 'json'"):
            run(response_format="json")
        with fails("response_format", "must be 'auto', an object or null, got list"):
            run(response_format=[])

    @pytest.mark.parametrize("kind", ["text", "json_object"])
    def test_simple_types(self, kind: str) -> None:
        assert run(response_format={"type": kind})["response_format"] == {"type": kind}

    def test_type_required_and_enum(self) -> None:
        with fails("response_format.type", "is required"):
            run(response_format={})
        with fails("response_format.type", "must be one of 'text', 'json_object', 'json_schema'"):
            run(response_format={"type": "xml"})

    def test_json_schema_required_for_json_schema(self) -> None:
        with fails("response_format.json_schema", "is required when type is 'json_schema'"):
            run(response_format={"type": "json_schema"})

    def test_json_schema_not_allowed_otherwise(self) -> None:
        with fails("response_format.json_schema", "is not allowed when type is 'json_object'"):
            run(response_format={"type": "json_object", "json_schema": {"name": "n"}})

    def test_json_schema_name(self) -> None:
        with fails("response_format.json_schema.name", "is required"):
            run(response_format={"type": "json_schema", "json_schema": {"schema": {}}})
        with fails(
            "response_format.json_schema.name", "must match [a-zA-Z0-9_-]{1,64}, got 'my schema'"
        ):
            run(response_format={"type": "json_schema", "json_schema": {"name": "my schema"}})
        run(response_format={"type": "json_schema", "json_schema": {"name": "n" * 64}})
        with fails("response_format.json_schema.name", "must match"):
            run(response_format={"type": "json_schema", "json_schema": {"name": "n" * 65}})

    def test_json_schema_schema_depth_boundary(self) -> None:
        accepted = nested_objects(64, leaf={"type": "object"})
        body = run(
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "n", "schema": accepted},
            }
        )
        assert body["response_format"]["json_schema"]["schema"] == accepted
        with fails("response_format.json_schema.schema" + ".a" * 64, "nests deeper than 64 levels"):
            run(
                response_format={
                    "type": "json_schema",
                    "json_schema": {"name": "n", "schema": nested_objects(65)},
                }
            )

    def test_json_schema_fields(self) -> None:
        with fails("response_format.json_schema.schema", "must be a JSON object, got str"):
            run(
                response_format={
                    "type": "json_schema",
                    "json_schema": {"name": "n", "schema": "{}"},
                }
            )
        with fails("response_format.json_schema.strict", "must be a boolean or null"):
            run(response_format={"type": "json_schema", "json_schema": {"name": "n", "strict": 1}})
        with fails("response_format.json_schema.description", "must be a string"):
            run(
                response_format={
                    "type": "json_schema",
                    "json_schema": {"name": "n", "description": 1},
                }
            )


# ---------------------------------------------------------------------------
# Create thread and run


class TestCreateThreadAndRun:
    def test_minimal_and_empty_thread(self) -> None:
        assert build_thread_create_and_run("a", None, {}).to_json() == {"assistant_id": "a"}
        assert build_thread_create_and_run("a", NOT_GIVEN, {}).to_json() == {"assistant_id": "a"}
        assert build_thread_create_and_run("a", {}, {}).to_json() == {
            "assistant_id": "a",
            "thread": {},
        }

    def test_thread_is_not_nullable(self) -> None:
        with fails("thread", "must be an object, got null"):
            ThreadCreateAndRunParams(assistant_id="a", thread=None)  # type: ignore[arg-type]
        with fails("thread", "must be an object, got null"):
            validate_body("create_thread_and_run", {"assistant_id": "a", "thread": None})

    def test_thread_given_twice(self) -> None:
        with fails("thread", "is given twice"):
            build_thread_create_and_run("a", {}, {"thread": {}})

    def test_full_body(self) -> None:
        thread = ThreadParams(
            messages=[MessageParam(role="user", content="hi")],
            tool_resources={"code_interpreter": {"file_ids": ["f1"]}},
            metadata={"k": "v"},
        )
        params = build_thread_create_and_run(
            "asst_1",
            thread,
            {
                "model": "gpt-4o",
                "instructions": None,
                "tools": [{"type": "code_interpreter"}],
                "tool_resources": {"file_search": {"vector_store_ids": ["vs_1"]}},
                "stream": True,
                "temperature": 1,
                "top_p": 1,
                "truncation_strategy": {"type": "auto"},
                "tool_choice": "auto",
                "parallel_tool_calls": True,
                "response_format": "auto",
            },
        )
        body = params.to_json()
        assert body["thread"] == {
            "messages": [{"role": "user", "content": "hi"}],
            "tool_resources": {"code_interpreter": {"file_ids": ["f1"]}},
            "metadata": {"k": "v"},
        }
        assert body["tool_resources"] == {"file_search": {"vector_store_ids": ["vs_1"]}}
        validate_body("create_thread_and_run", body)
        assert ThreadCreateAndRunParams.from_dict(body) == params

    def test_nested_paths_in_thread(self) -> None:
        with fails(
            "thread.messages[0].content[0].image_file.file_id", "must be a string, got int 3"
        ):
            build_thread_create_and_run(
                "a",
                {"messages": [user([{"type": "image_file", "image_file": {"file_id": 3}}])]},
                {},
            )
        with fails("thread.messages", "must be an array, got null"):
            build_thread_create_and_run("a", {"messages": None}, {})
        with fails("thread.bogus", "unknown field"):
            build_thread_create_and_run("a", {"bogus": 1}, {})
        with fails("thread", "must be an object (ThreadParams), got str"):
            build_thread_create_and_run("a", "thread_1", {})

    def test_tools_limit_applies(self) -> None:
        with fails("tools", "at most 20 items, got 21"):
            build_thread_create_and_run("a", None, {"tools": [{"type": "code_interpreter"}] * 21})


class TestToolResources:
    def ctr(self, tool_resources: Any, thread: Any = None) -> dict[str, Any]:
        return build_thread_create_and_run(
            "a", thread, {"tool_resources": tool_resources}
        ).to_json()

    def test_nullable(self) -> None:
        assert self.ctr(None)["tool_resources"] is None
        assert build_thread_create_and_run("a", {"tool_resources": None}, {}).to_json()[
            "thread"
        ] == {"tool_resources": None}

    def test_code_interpreter_file_ids(self) -> None:
        self.ctr({"code_interpreter": {"file_ids": [f"f{i}" for i in range(20)]}})
        with fails("tool_resources.code_interpreter.file_ids", "at most 20 items, got 21"):
            self.ctr({"code_interpreter": {"file_ids": [f"f{i}" for i in range(21)]}})
        with fails("tool_resources.code_interpreter.file_ids[1]", "must be a string, got int 2"):
            self.ctr({"code_interpreter": {"file_ids": ["f", 2]}})
        with fails("tool_resources.code_interpreter", "must be an object"):
            self.ctr({"code_interpreter": None})

    def test_vector_store_ids(self) -> None:
        self.ctr({"file_search": {"vector_store_ids": ["vs"]}})
        with fails("tool_resources.file_search.vector_store_ids", "at most 1 items, got 2"):
            self.ctr({"file_search": {"vector_store_ids": ["a", "b"]}})
        with fails("tool_resources.file_search.vector_stores", "unknown field"):
            self.ctr({"file_search": {"vector_stores": []}})

    def test_thread_vector_stores(self) -> None:
        store = {
            "file_ids": ["f"],
            "chunking_strategy": {
                "type": "static",
                "static": {"max_chunk_size_tokens": 800, "chunk_overlap_tokens": 400},
            },
            "metadata": {},
        }
        body = self.ctr(NOT_GIVEN, {"tool_resources": {"file_search": {"vector_stores": [store]}}})
        assert body["thread"]["tool_resources"]["file_search"]["vector_stores"] == [store]
        with fails("thread.tool_resources.file_search.vector_stores", "at most 1 items, got 2"):
            self.ctr(NOT_GIVEN, {"tool_resources": {"file_search": {"vector_stores": [{}, {}]}}})
        with fails("thread.tool_resources.file_search.vector_stores", "not allowed together"):
            self.ctr(
                NOT_GIVEN,
                {
                    "tool_resources": {
                        "file_search": {"vector_store_ids": ["v"], "vector_stores": [{}]}
                    }
                },
            )

    def test_chunking_strategy(self) -> None:
        def thread(strategy: Any) -> dict[str, Any]:
            return {
                "tool_resources": {
                    "file_search": {"vector_stores": [{"chunking_strategy": strategy}]}
                }
            }

        prefix = "thread.tool_resources.file_search.vector_stores[0].chunking_strategy"
        self.ctr(NOT_GIVEN, thread({"type": "auto"}))
        for size, overlap in [(100, 0), (100, 50), (4096, 2048)]:
            self.ctr(
                NOT_GIVEN,
                thread(
                    {
                        "type": "static",
                        "static": {"max_chunk_size_tokens": size, "chunk_overlap_tokens": overlap},
                    }
                ),
            )
        for size, overlap, path, rule in [
            (99, 0, "static.max_chunk_size_tokens", "must be between 100 and 4096, got 99"),
            (4097, 0, "static.max_chunk_size_tokens", "must be between 100 and 4096, got 4097"),
            (
                100,
                51,
                "static.chunk_overlap_tokens",
                "must not exceed half of max_chunk_size_tokens",
            ),
            (100, -1, "static.chunk_overlap_tokens", "must be at least 0"),
        ]:
            with fails(f"{prefix}.{path}", rule):
                self.ctr(
                    NOT_GIVEN,
                    thread(
                        {
                            "type": "static",
                            "static": {
                                "max_chunk_size_tokens": size,
                                "chunk_overlap_tokens": overlap,
                            },
                        }
                    ),
                )
        with fails(f"{prefix}.type", "is required"):
            self.ctr(NOT_GIVEN, thread({}))
        with fails(f"{prefix}.type", "must be one of 'auto', 'static'"):
            self.ctr(NOT_GIVEN, thread({"type": "dynamic"}))
        with fails(prefix, "must be an object, got str"):
            self.ctr(NOT_GIVEN, thread("auto"))
        with fails(f"{prefix}.static", "is required"):
            self.ctr(NOT_GIVEN, thread({"type": "static"}))

    def test_classes(self) -> None:
        resources = ThreadToolResourcesParam(
            code_interpreter=CodeInterpreterResourceParam(file_ids=["f"]),
            file_search=ThreadFileSearchResourceParam(
                vector_stores=[
                    VectorStoreParam(
                        chunking_strategy=StaticChunkingStrategyParam(
                            static=StaticChunkingParam(
                                max_chunk_size_tokens=200, chunk_overlap_tokens=100
                            )
                        )
                    ),
                ]
            ),
        )
        assert resources.to_json() == {
            "code_interpreter": {"file_ids": ["f"]},
            "file_search": {
                "vector_stores": [
                    {
                        "chunking_strategy": {
                            "type": "static",
                            "static": {"max_chunk_size_tokens": 200, "chunk_overlap_tokens": 100},
                        }
                    }
                ]
            },
        }
        assert VectorStoreParam(chunking_strategy=AutoChunkingStrategyParam()).to_json() == {
            "chunking_strategy": {"type": "auto"}
        }
        assert ToolResourcesParam().to_json() == {}
        assert CodeInterpreterResourceParam().to_json() == {}
        assert ThreadFileSearchResourceParam().to_json() == {}


# ---------------------------------------------------------------------------
# Submit tool outputs


class TestSubmitToolOutputs:
    def test_dicts_and_classes(self) -> None:
        a = build_submit_tool_outputs(
            [
                {"tool_call_id": "call_1", "output": "22C"},
                ToolOutput(tool_call_id="call_2", output=""),
            ],
            {"stream": True},
        )
        assert a.to_json() == {
            "tool_outputs": [
                {"tool_call_id": "call_1", "output": "22C"},
                {"tool_call_id": "call_2", "output": ""},
            ],
            "stream": True,
        }
        assert a == SubmitToolOutputsParams(
            tool_outputs=[
                ToolOutput(tool_call_id="call_1", output="22C"),
                {"tool_call_id": "call_2", "output": ""},
            ],
            stream=True,
        )

    def test_tool_outputs_required_array(self) -> None:
        with fails("tool_outputs", "is required"):
            validate_body("submit_tool_outputs", {"stream": True})
        with fails("tool_outputs", "must be an array, got null"):
            build_submit_tool_outputs(None, {})
        assert build_submit_tool_outputs([], {}).to_json() == {"tool_outputs": []}

    def test_items(self) -> None:
        with fails("tool_outputs[1].output", "must be a string, got dict"):
            build_submit_tool_outputs(
                [{"tool_call_id": "c", "output": "x"}, {"tool_call_id": "d", "output": {}}], {}
            )
        with fails("tool_outputs[0].tool_call_id", "must be a string, got null"):
            build_submit_tool_outputs([{"tool_call_id": None}], {})
        with fails("tool_outputs[0].call_id", "unknown field"):
            build_submit_tool_outputs([{"call_id": "c"}], {})
        assert ToolOutput().to_json() == {}

    def test_unknown_keyword_and_stream(self) -> None:
        with fails("run_id", "unknown field"):
            build_submit_tool_outputs([], {"run_id": "r"})
        with fails("stream", "must be a boolean or null"):
            build_submit_tool_outputs([], {"stream": "yes"})
        with fails("tool_outputs", "is given twice"):
            build_submit_tool_outputs([], {"tool_outputs": []})


# ---------------------------------------------------------------------------
# Builders


class TestBuilders:
    def test_unknown_keyword(self) -> None:
        with fails("temprature", "unknown field"):
            build_run_create("a", {"temprature": 1})
        with fails("additional_messages", "unknown field"):
            build_thread_create_and_run("a", None, {"additional_messages": []})

    def test_assistant_id_given_twice(self) -> None:
        with fails("assistant_id", "is given twice"):
            build_run_create("a", {"assistant_id": "b"})
        with fails("assistant_id", "is given twice"):
            build_thread_create_and_run("a", None, {"assistant_id": "b"})

    def test_body_must_be_a_mapping(self) -> None:
        with fails("", "must be a mapping of body fields, got list"):
            build_run_create("a", [])  # type: ignore[arg-type]

    def test_stream_is_not_forced(self) -> None:
        assert "stream" not in build_run_create("a", {}).to_json()
        assert "stream" not in build_thread_create_and_run("a", None, {}).to_json()
        assert "stream" not in build_submit_tool_outputs([], {}).to_json()
        assert build_run_create("a", {"stream": False}).stream is False


# ---------------------------------------------------------------------------
# validate_body and include[]


class TestValidateBody:
    @pytest.mark.parametrize(
        ("kind", "body"),
        [
            ("create_run", {"assistant_id": "a", "stream": True}),
            (
                "create_thread_and_run",
                {"assistant_id": "a", "thread": {"messages": [user()]}, "stream": True},
            ),
            (
                "submit_tool_outputs",
                {"tool_outputs": [{"tool_call_id": "c", "output": "o"}], "stream": True},
            ),
        ],
    )
    def test_valid(self, kind: Any, body: dict[str, Any]) -> None:
        before = copy.deepcopy(body)
        assert validate_body(kind, body) is None  # type: ignore[func-returns-value]
        assert body == before  # not modified
        classes: dict[str, Any] = {
            "create_run": RunCreateParams,
            "create_thread_and_run": ThreadCreateAndRunParams,
            "submit_tool_outputs": SubmitToolOutputsParams,
        }
        assert classes[kind].from_dict(body).to_json() == before  # every value read, unchanged

    @pytest.mark.parametrize("kind", ["create_run", "create_thread_and_run", "submit_tool_outputs"])
    @pytest.mark.parametrize("body", [[], "x", None, 1, True])
    def test_non_object(self, kind: Any, body: Any) -> None:
        with fails("", "the request body must be a JSON object, got"):
            validate_body(kind, body)

    @pytest.mark.parametrize(
        ("kind", "body", "path", "rule"),
        [
            ("create_run", {"assistant_id": "a", "extra": 1}, "extra", "unknown field"),
            (
                "create_run",
                {"assistant_id": "a", "max_prompt_tokens": 100},
                "max_prompt_tokens",
                "at least 256",
            ),
            (
                "create_run",
                {"assistant_id": "a", "tools": [{"type": "function", "function": {"name": "a b"}}]},
                "tools[0].function.name",
                "must match",
            ),
            (
                "create_thread_and_run",
                {"assistant_id": "a", "thread": {"messages": [{"role": "user", "content": []}]}},
                "thread.messages[0].content",
                "at least 1",
            ),
            (
                "create_thread_and_run",
                {"assistant_id": "a", "parallel_tool_calls": None},
                "parallel_tool_calls",
                "boolean",
            ),
            ("submit_tool_outputs", {"tool_outputs": {}}, "tool_outputs", "must be an array"),
            (
                "submit_tool_outputs",
                {"tool_outputs": [], "assistant_id": "a"},
                "assistant_id",
                "unknown field",
            ),
        ],
    )
    def test_invalid(self, kind: Any, body: dict[str, Any], path: str, rule: str) -> None:
        with fails(path, rule):
            validate_body(kind, body)

    def test_unknown_kind(self) -> None:
        with fails("", "unknown request body kind 'cancel'"):
            validate_body("cancel", {})  # type: ignore[arg-type]


class TestInclude:
    def test_the_supported_value(self) -> None:
        value = "step_details.tool_calls[*].file_search.results[*].content"
        assert value == INCLUDE_FILE_SEARCH_RESULT_CONTENT
        assert validate_include([value]) == [value]
        assert validate_include((value,)) == [value]
        assert validate_include([]) == []

    def test_other_values_rejected(self) -> None:
        with fails("include[1]", "(the only supported value), got str 'step_details'"):
            validate_include([INCLUDE_FILE_SEARCH_RESULT_CONTENT, "step_details"])
        with fails("include[0]", "the only supported value"):
            validate_include([None])  # type: ignore[list-item]

    def test_a_bare_string_is_rejected(self) -> None:
        with fails("include", "must be a list of strings, got str"):
            validate_include(INCLUDE_FILE_SEARCH_RESULT_CONTENT)
        with fails("include", "must be a list of strings, got int"):
            validate_include(1)  # type: ignore[arg-type]
