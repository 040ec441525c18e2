"""Typing tests of the strings that grow by deltas: checked by ``mypy --strict
typing_tests`` (never run). Users see plain ``str`` / ``str | None`` attributes,
set with a string and passed to the constructor by their public names; the
``type: ignore`` lines check that mypy rejects the wrong types (``--strict``
reports an ignore that is not needed)."""

from __future__ import annotations

import attrs
from typing_extensions import assert_type

from streamrun import (
    CodeInterpreter,
    CodeInterpreterLogs,
    FileCitation,
    FileCitationAnnotation,
    FilePathAnnotation,
    FunctionCall,
    RefusalContentBlock,
    Text,
)


def check_reads() -> None:
    assert_type(Text(value="v").value, str)
    assert_type(RefusalContentBlock(refusal="r").refusal, str)
    assert_type(FileCitationAnnotation(text="t").text, str)
    assert_type(FilePathAnnotation(text="t").text, str)
    assert_type(FileCitation(quote="q").quote, str | None)
    assert_type(CodeInterpreter(input="i").input, str)
    assert_type(CodeInterpreterLogs(logs="l").logs, str)
    call = FunctionCall(name="n", arguments="{}", output=None)
    assert_type(call.name, str)
    assert_type(call.arguments, str)
    assert_type(call.output, str | None)


def check_writes(text: Text, call: FunctionCall, citation: FileCitation) -> None:
    text.value = "v"
    call.name = "n"
    call.arguments = "{}"
    call.output = "o"
    call.output = None
    citation.quote = None
    text.value = None  # type: ignore[assignment]
    text.value = 5  # type: ignore[assignment]
    call.output = 5  # type: ignore[assignment]
    Text(value=5)  # type: ignore[arg-type]
    attrs.evolve(text, value="w")
    attrs.evolve(call, output=None)
    attrs.evolve(text, value=5)  # type: ignore[arg-type]
