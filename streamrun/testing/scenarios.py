"""Ready scenarios: small, realistic runs to point a client at.

Each function returns a fresh :class:`~streamrun.testing.Scenario`;
:data:`READY_SCENARIOS` maps their names (usable in the ``x-fake-scenario``
request header and ``python -m streamrun.testing --scenario``) to them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Literal

from ._errors import ScenarioError
from ._scenarios import (
    CodeInterpreterCall,
    ErrorEvent,
    Fail,
    FileCitation,
    FileSearchCall,
    FileSearchResult,
    FunctionCall,
    FunctionCalls,
    Incomplete,
    Refusal,
    Scenario,
    TextReply,
)

__all__ = [
    "READY_SCENARIOS",
    "chained_function_calls",
    "code_interpreter",
    "error_event",
    "failed_run",
    "file_search",
    "function_call",
    "incomplete_run",
    "interleaved_function_calls",
    "parallel_function_calls",
    "plain_text",
    "ready_scenario",
    "refusal",
    "text_with_annotations",
]

PLAIN_TEXT = (
    "Photosynthesis turns light into chemical energy: chlorophyll absorbs red and blue "
    "light, splits water (releasing O₂) and the Calvin cycle fixes CO₂ into glucose 🌱. "
    "Résumé — 光合作用, 👩‍🔬 approved."
)

WEATHER_ARGUMENTS = '{"location":"Paris, France","unit":"celsius"}'
WEATHER_ANSWER = "It's 18 °C in Paris right now with light rain, so take an umbrella ☔."


def plain_text() -> Scenario:
    """One message streamed in token-like fragments (unicode included), run completed."""
    return Scenario([TextReply(PLAIN_TEXT)], name="plain_text")


def text_with_annotations() -> Scenario:
    """A message with two ``file_citation`` markers (``【4:0†source】``) and their indices."""
    m0 = "【4:0†employee-handbook.pdf】"
    m1 = "【4:1†leave-policy-2024.md】"
    text = (
        f"You accrue 2.08 days of paid leave per month, capped at 25 days a year{m0}. "
        f"Up to 5 unused days carry over to the next year{m1}."
    )
    return Scenario(
        [
            TextReply(
                text,
                annotations=[
                    FileCitation(m0, "file-aOJ6M3zBTUDsYiyaOWp2dw"),
                    FileCitation(m1, "file-zVmnyTcHpmtvcCUZ1u1Pcs"),
                ],
            )
        ],
        name="text_with_annotations",
    )


def function_call() -> Scenario:
    """One function call: ``requires_action``; after submit_tool_outputs, an answer."""
    return Scenario(
        [
            FunctionCalls(
                [FunctionCall("get_current_weather", WEATHER_ARGUMENTS)],
                then=Scenario([TextReply(WEATHER_ANSWER)], name="function_call.then"),
            )
        ],
        name="function_call",
    )


_CITIES = (
    ("Paris, France", "Paris: 18 °C with light rain."),
    ("Tokyo, Japan", "Tokyo: 24 °C and sunny ☀️."),
    ("London, UK", "London: 14 °C under low clouds."),
    ("New York, USA", "New York: 21 °C with clear skies."),
    ("Sydney, Australia", "Sydney: 22 °C and sunny."),
)


def _weather_call(city: int) -> FunctionCall:
    location = _CITIES[city % len(_CITIES)][0]
    return FunctionCall("get_current_weather", f'{{"location":"{location}","unit":"celsius"}}')


def parallel_function_calls(count: int = 2) -> Scenario:
    """``count`` function calls in one step, streamed one after another.

    As the real service does it: each call's argument fragments are complete
    before the next call starts (one ``index`` per delta event). After the
    outputs, one answer. See :func:`interleaved_function_calls` for fragments
    that alternate on the wire.
    """
    if not 1 <= count <= len(_CITIES):
        raise ScenarioError(f"count must be between 1 and {len(_CITIES)}, got {count}")
    answer = " ".join(_CITIES[i][1] for i in range(count))
    return Scenario(
        [
            FunctionCalls(
                [_weather_call(i) for i in range(count)],
                then=Scenario([TextReply(answer)], name="parallel_function_calls.then"),
            )
        ],
        name="parallel_function_calls",
    )


def interleaved_function_calls() -> Scenario:
    """Two function calls whose argument fragments interleave on the wire.

    Some delta events carry fragments of both calls (two ``index`` values): a
    harder case than real servers produce, kept to test accumulators.
    """
    return Scenario(
        [
            FunctionCalls(
                [_weather_call(0), _weather_call(1)],
                interleave=True,
                then=Scenario(
                    [TextReply("Paris: 18 °C with light rain. Tokyo: 24 °C and sunny ☀️.")],
                    name="interleaved_function_calls.then",
                ),
            )
        ],
        name="interleaved_function_calls",
    )


def chained_function_calls(rounds: int = 2) -> Scenario:
    """A run that asks for tools ``rounds`` times in a row (one call each).

    After the outputs of a round the run goes back to ``requires_action``
    with the next call (a new tool_calls step); after the last round, an
    answer. ``get_current_weather`` for Paris, then ``get_current_weather``
    for Tokyo... (the calls of the rounds differ).
    """
    if not 1 <= rounds <= len(_CITIES):
        raise ScenarioError(f"rounds must be between 1 and {len(_CITIES)}, got {rounds}")
    answer = " ".join(_CITIES[i][1] for i in range(rounds))
    tail: Scenario = Scenario([TextReply(answer)], name="chained_function_calls.then")
    for i in reversed(range(rounds)):
        tail = Scenario(
            [FunctionCalls([_weather_call(i)], then=tail)],
            name="chained_function_calls" if i == 0 else f"chained_function_calls.round{i + 1}",
        )
    return tail


def code_interpreter() -> Scenario:
    """A code_interpreter step (input deltas, logs output, image output), then an answer."""
    image = "file-zwHiqeSJ3eWrvJnGPqFixp"
    return Scenario(
        [
            CodeInterpreterCall(
                "import numpy as np\nx = np.linspace(0, 2*np.pi, 200)\n"
                "print(f'max={np.sin(x).max():.3f}')",
                logs="max=1.000\n",
                image_file_id=image,
            ),
            TextReply("The sine curve peaks at 1.000; the plot is above.", image_file_ids=[image]),
        ],
        name="code_interpreter",
    )


def file_search() -> Scenario:
    """A file_search step (results only in step.completed, content with include[]).

    Then an answer citing both files.
    """
    results = [
        FileSearchResult(
            "file-aOJ6M3zBTUDsYiyaOWp2dw",
            "employee-handbook.pdf",
            0.92,
            "Employees accrue 2.08 days of paid leave per month, up to 25 days a year.",
        ),
        FileSearchResult(
            "file-zVmnyTcHpmtvcCUZ1u1Pcs",
            "leave-policy-2024.md",
            0.71,
            "Unused leave of up to 5 days may be carried into the next year.",
        ),
    ]
    answer = text_with_annotations().steps[0]
    return Scenario([FileSearchCall(results, score_threshold=0.4), answer], name="file_search")


def failed_run() -> Scenario:
    """The run fails at once with ``last_error`` rate_limit_exceeded (no steps)."""
    return Scenario(
        [
            Fail(
                "rate_limit_exceeded",
                "You exceeded your current quota, please check your plan and billing details.",
            )
        ],
        name="failed_run",
    )


def incomplete_run() -> Scenario:
    """The answer is cut by ``max_completion_tokens``: message incomplete, run incomplete."""
    return Scenario(
        [
            Incomplete(
                "max_completion_tokens",
                partial_text="Here is a long story. Once upon a time, in a land far",
            )
        ],
        name="incomplete_run",
    )


def error_event(shape: Literal["bare", "wrapped"] = "bare") -> Scenario:
    """Part of an answer, then ``event: error`` (``shape`` bare or wrapped) and ``done``."""
    return Scenario(
        [ErrorEvent(shape=shape, partial_text="Sure, let me look")],
        name="error_event" if shape == "bare" else "error_event_wrapped",
    )


def refusal() -> Scenario:
    """A message whose content is a ``refusal`` part."""
    return Scenario([Refusal("I'm sorry, but I can't help with that request.")], name="refusal")


def _error_event_wrapped() -> Scenario:
    return error_event("wrapped")


READY_SCENARIOS: Mapping[str, Callable[[], Scenario]] = MappingProxyType(
    {
        "plain_text": plain_text,
        "text_with_annotations": text_with_annotations,
        "function_call": function_call,
        "parallel_function_calls": parallel_function_calls,
        "interleaved_function_calls": interleaved_function_calls,
        "chained_function_calls": chained_function_calls,
        "code_interpreter": code_interpreter,
        "file_search": file_search,
        "failed_run": failed_run,
        "incomplete_run": incomplete_run,
        "error_event": error_event,
        "error_event_wrapped": _error_event_wrapped,
        "refusal": refusal,
    }
)


def ready_scenario(name: str) -> Scenario:
    """The ready scenario called ``name`` (see :data:`READY_SCENARIOS`)."""
    try:
        factory = READY_SCENARIOS[name]
    except KeyError:
        known = ", ".join(READY_SCENARIOS)
        raise ScenarioError(f"unknown scenario {name!r}; ready scenarios: {known}") from None
    return factory()
