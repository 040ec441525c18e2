"""The fake assistant's reply engine: what it answers to a message.

One engine for every way of running the fake server (``python -m
streamrun.testing``, the CLI's ``--fake`` and ``demo``, tests): asked about
the weather it calls ``get_current_weather`` and answers from the submitted
output; otherwise it echoes the question and says what it can do.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from streamrun._json import loads as _loads

from ._scenarios import FunctionCall, FunctionCalls, Pause, Scenario, Step, TextReply, ToolOutput

__all__ = ["ASSISTANT", "Replies", "fake_reply"]

#: A reply engine: the text of the run's last user message (None when the
#: thread has none) in, the :class:`Scenario` the run plays out.
Replies = Callable[[str | None], Scenario]

#: The scenario name that selects :func:`fake_reply` (``--scenario assistant``,
#: ``x-fake-scenario: assistant``, ``FakeAssistantsServer(scenario="assistant")``).
ASSISTANT = "assistant"

_IN_PLACE = re.compile(
    r"\b(?:in|at|for)\s+([A-Z][\w'’. -]*?)\s*"
    r"(?:[?!.,;:]|\s+(?:today|now|right|this|tomorrow)\b|$)"
)


def _shorten(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _weather_answer(outputs: list[ToolOutput]) -> Scenario:
    """The fake assistant's answer, written from the submitted weather reports."""
    sentences = []
    for out in outputs:
        try:
            report = _loads(out.output)
            city = str(report["location"]).split(",")[0]
            degrees = "°F" if report.get("unit") == "fahrenheit" else "°C"
            conditions = str(report["conditions"])
            sentence = (
                f"It's {report['temperature']} {degrees} in {city} right now with {conditions}"
            )
        except (ValueError, KeyError, TypeError):
            sentence = f"The weather service answered: {out.output}"
            conditions = ""
        if "rain" in conditions:
            sentence += ", so take an umbrella ☔."
        elif "sun" in conditions or "clear" in conditions:
            sentence += ": a fine day for a walk ☀️."
        else:
            sentence += "."
        sentences.append(sentence)
    return Scenario([TextReply(" ".join(sentences))], name="weather_answer")


def fake_reply(message: str | None, *, pause: float = 0.0) -> Scenario:
    """What the built-in fake assistant does with a message.

    Asked about the weather, it calls ``get_current_weather`` (the place is
    taken from the message, Paris by default) and answers from the output;
    otherwise it echoes the question and says what it can do. ``pause``:
    seconds of "thinking" before the first step.
    """
    steps: list[Step] = [Pause(pause)] if pause > 0 else []
    text = message or ""
    if "weather" in text.lower():
        match = _IN_PLACE.search(text)
        place = match.group(1).strip() if match else "Paris, France"
        if place.lower() == "paris":
            place = "Paris, France"
        arguments = json.dumps({"location": place, "unit": "celsius"}, ensure_ascii=False)
        steps.append(
            FunctionCalls([FunctionCall("get_current_weather", arguments)], then=_weather_answer)
        )
        return Scenario(steps, name="fake_weather")
    if text:
        reply = (
            f"I'm the fake assistant built into streamrun, so I can't really answer "
            f"“{_shorten(text, 60)}”. Ask me about the weather somewhere to see a function call."
        )
    else:
        reply = "Hello from the fake assistant built into streamrun 👋"
    steps.append(TextReply(reply))
    return Scenario(steps, name="fake_reply")
