"""The body of POST /v1/responses: accepted shapes round-trip, every rule rejects with a path."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from streamrun._exceptions import ValidationError
from streamrun._requests import NOT_GIVEN
from streamrun._responses_requests import (
    RESPONSES_INCLUDABLE,
    ResponseCreateParams,
    build_response_create,
    validate_responses_body,
)

FULL: dict[str, Any] = {
    "model": "gpt-4o",
    "input": [
        {"role": "developer", "content": "Be brief."},
        {
            "type": "message",
            "role": "user",
            "content": [
                {"type": "input_text", "text": "What is in this file and image?"},
                {"type": "input_image", "image_url": "https://x.test/a.png", "detail": "low"},
                {"type": "input_file", "file_id": "file-1"},
            ],
        },
        {"role": "assistant", "content": [{"type": "output_text", "text": "Checking."}]},
        {"type": "function_call", "call_id": "call_1", "name": "f", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "call_1", "output": "42"},
        {"type": "reasoning", "id": "rs_1", "summary": []},
        {"type": "item_reference", "id": "msg_0"},
    ],
    "instructions": "You are terse.",
    "tools": [
        {
            "type": "function",
            "name": "get_weather",
            "description": "Weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
            "strict": True,
        },
        {"type": "file_search", "vector_store_ids": ["vs_1"], "max_num_results": 5},
        {"type": "code_interpreter", "container": {"type": "auto"}},
        {"type": "web_search", "search_context_size": "low"},
        {"type": "mcp", "server_label": "ops", "server_url": "https://mcp.test"},
    ],
    "tool_choice": {"type": "function", "name": "get_weather"},
    "parallel_tool_calls": False,
    "previous_response_id": "resp_0",
    "background": True,
    "store": True,
    "stream": True,
    "stream_options": {"include_obfuscation": False},
    "metadata": {"k": "v"},
    "temperature": 0.5,
    "top_p": 1,
    "top_logprobs": 3,
    "max_output_tokens": 1024,
    "max_tool_calls": 4,
    "text": {
        "format": {"type": "json_schema", "name": "answer", "schema": {"type": "object"}},
        "verbosity": "low",
    },
    "reasoning": {"effort": "minimal", "summary": "auto"},
    "truncation": "auto",
    "include": list(RESPONSES_INCLUDABLE),
    "prompt": {"id": "pmpt_1", "version": "2", "variables": {"city": "Paris"}},
    "service_tier": "flex",
    "prompt_cache_key": "k",
    "prompt_cache_retention": "24h",
    "safety_identifier": "u1",
    "user": "u1",
}


def test_a_body_with_every_field_round_trips() -> None:
    params = ResponseCreateParams.from_dict(FULL)
    assert params.to_json() == FULL
    validate_responses_body(FULL)


@pytest.mark.parametrize(
    "body",
    [
        # The continuations RESPONSES.md §2 describes (recorded request shapes).
        {
            "previous_response_id": "resp_1",
            "input": [{"type": "function_call_output", "call_id": "call_1", "output": "Paris"}],
        },
        {
            "conversation": "conv_1",
            "input": [{"type": "function_call_output", "call_id": "call_1", "output": "Paris"}],
        },
        {"conversation": {"id": "conv_1"}, "input": "Hello"},
        {"input": "Hello", "tool_choice": "required", "text": {"format": {"type": "text"}}},
        {"input": "x", "tool_choice": {"type": "file_search"}},
        {"input": "x", "conversation": None, "previous_response_id": "resp_1"},
        {"input": "x", "tools": None, "metadata": None, "reasoning": None},
    ],
)
def test_accepted_bodies(body: dict[str, Any]) -> None:
    params = build_response_create("gpt-4o", body)
    assert params.to_json() == {"model": "gpt-4o", **body}


FUNCTION_TOOL = {"type": "function", "name": "f"}


@pytest.mark.parametrize(
    ("body", "path", "rule"),
    [
        ({"model": ""}, "model", "non-empty"),
        ({"model": "m", "typo": 1}, "typo", "unknown field"),
        ({"model": "m", "input": 3}, "input", "a string or an array"),
        ({"model": "m", "input": [{"role": "robot", "content": "x"}]}, "input[0].role", "one of"),
        ({"model": "m", "input": [{"role": "user"}]}, "input[0].content", "is required"),
        (
            {"model": "m", "input": [{"role": "user", "content": [{"type": "input_text"}]}]},
            "input[0].content[0].text",
            "is required",
        ),
        (
            {"model": "m", "input": [{"role": "user", "content": [{"type": "video"}]}]},
            "input[0].content[0].type",
            "one of",
        ),
        (
            {"model": "m", "input": [{"role": "user", "content": [{"type": "input_image"}]}]},
            "input[0].content[0]",
            "image_url or file_id",
        ),
        (
            {"model": "m", "input": [{"type": "function_call_output", "output": "x"}]},
            "input[0].call_id",
            "is required",
        ),
        (
            {
                "model": "m",
                "input": [{"type": "function_call_output", "call_id": "c", "output": 1}],
            },
            "input[0].output",
            "a string or an array",
        ),
        ({"model": "m", "input": [{"type": 7}]}, "input[0].type", "non-empty string"),
        (
            {"model": "m", "conversation": "conv_1", "previous_response_id": "resp_1"},
            "conversation",
            "previous_response_id",
        ),
        ({"model": "m", "conversation": {"name": "x"}}, "conversation.name", "unknown field"),
        ({"model": "m", "conversation": 5}, "conversation", "conversation id"),
        ({"model": "m", "tools": [{"name": "f"}]}, "tools[0].type", "is required"),
        ({"model": "m", "tools": [{"type": "function", "name": "a b"}]}, "tools[0].name", "match"),
        (
            {"model": "m", "tools": [{"type": "function", "name": "f", "function": {}}]},
            "tools[0].function",
            "unknown field",
        ),
        (
            {"model": "m", "tools": [{"type": "file_search"}]},
            "tools[0].vector_store_ids",
            "is required",
        ),
        (
            {
                "model": "m",
                "tools": [{"type": "file_search", "vector_store_ids": [], "max_num_results": 51}],
            },
            "tools[0].max_num_results",
            "between 1 and 50",
        ),
        ({"model": "m", "tools": [{"type": "code_interpreter"}]}, "tools[0].container", "required"),
        ({"model": "m", "tool_choice": "any"}, "tool_choice", "one of"),
        ({"model": "m", "tool_choice": {"type": "function"}}, "tool_choice.name", "is required"),
        (
            {"model": "m", "tool_choice": {"type": "allowed_tools", "mode": "all", "tools": []}},
            "tool_choice.mode",
            "one of",
        ),
        ({"model": "m", "temperature": 2.5}, "temperature", "between 0 and 2"),
        ({"model": "m", "top_p": True}, "top_p", "a number"),
        ({"model": "m", "top_logprobs": 21}, "top_logprobs", "between 0 and 20"),
        ({"model": "m", "max_output_tokens": 15}, "max_output_tokens", "at least 16"),
        ({"model": "m", "max_output_tokens": 16.0}, "max_output_tokens", "an integer"),
        ({"model": "m", "max_tool_calls": 0}, "max_tool_calls", "at least 1"),
        ({"model": "m", "metadata": {f"k{i}": "v" for i in range(17)}}, "metadata", "at most 16"),
        ({"model": "m", "metadata": {"k": "v" * 513}}, "metadata.k", "at most 512"),
        ({"model": "m", "background": "yes"}, "background", "a boolean"),
        ({"model": "m", "truncation": "last_messages"}, "truncation", "one of"),
        ({"model": "m", "include": ["everything"]}, "include[0]", "one of"),
        ({"model": "m", "text": {"format": {"type": "xml"}}}, "text.format.type", "one of"),
        (
            {"model": "m", "text": {"format": {"type": "json_schema", "name": "n"}}},
            "text.format.schema",
            "is required",
        ),
        ({"model": "m", "text": {"verbosity": "loud"}}, "text.verbosity", "one of"),
        ({"model": "m", "reasoning": {"effort": "extreme"}}, "reasoning.effort", "one of"),
        ({"model": "m", "reasoning": {"budget": 1}}, "reasoning.budget", "unknown field"),
        ({"model": "m", "prompt": {"version": "1"}}, "prompt.id", "is required"),
        (
            {"model": "m", "stream_options": {"include_usage": True}},
            "stream_options.include_usage",
            "unknown",
        ),
        ({"model": "m", "service_tier": "fast"}, "service_tier", "one of"),
        (
            {
                "model": "m",
                "tools": [{"type": "function", "name": "f", "parameters": {"x": float("nan")}}],
            },
            "tools[0].parameters.x",
            "finite",
        ),
        # The one JSON walker checks what encoding would refuse, at build time.
        (
            {
                "model": "m",
                "tools": [{"type": "function", "name": "f", "parameters": {"n": 2**64}}],
            },
            "tools[0].parameters.n",
            "at most 2**63-1",
        ),
        (
            {
                "model": "m",
                "tools": [{"type": "function", "name": "f", "parameters": {"\ud800": 1}}],
            },
            "tools[0].parameters",
            "lone surrogate",
        ),
    ],
)
def test_rejected_bodies_name_the_field(body: dict[str, Any], path: str, rule: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_responses_body(body)
    assert info.value.path == path
    assert rule in info.value.rule


def test_model_given_twice_and_not_a_mapping() -> None:
    with pytest.raises(ValidationError, match="given twice"):
        build_response_create("m", {"model": "n"})
    with pytest.raises(ValidationError):
        build_response_create("m", [])  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="a JSON object"):
        validate_responses_body([])


def test_not_given_is_left_out() -> None:
    params = build_response_create("m", {"input": "x", "store": NOT_GIVEN})
    assert params.to_json() == {"model": "m", "input": "x"}


def test_assigning_later_runs_the_same_checks() -> None:
    params = build_response_create("m", {"previous_response_id": "resp_1"})
    with pytest.raises(ValidationError, match="previous_response_id"):
        params.conversation = "conv_1"
    with pytest.raises(ValidationError):
        params.temperature = 3


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(sorted(FULL)),
        _JSON | st.sampled_from([FULL[k] for k in sorted(FULL)]),
        max_size=6,
    )
)
def test_random_json_in_every_field_gives_validation_error_or_a_body(
    body: dict[str, Any],
) -> None:
    try:
        validate_responses_body(body)
    except ValidationError:
        return
    assert ResponseCreateParams.from_dict(body).to_json() == body
