"""Scripted behaviour: what a run does, as plain attrs objects.

A :class:`Scenario` is a list of steps played in order by the fake server.
Steps that end the run (:class:`FunctionCalls`, :class:`Fail`,
:class:`Incomplete`, :class:`ErrorEvent`) must come last; a run whose steps all
finish normally ends ``completed``.

Example::

    Scenario([
        CodeInterpreterCall("print(1 + 1)", logs="2\\n"),
        TextReply("The answer is 2."),
    ])
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Literal, Union

import attrs

from ._errors import ScenarioError

__all__ = [
    "Annotation",
    "CodeInterpreterCall",
    "ErrorEvent",
    "Fail",
    "FileCitation",
    "FilePath",
    "FileSearchCall",
    "FileSearchResult",
    "FunctionCall",
    "FunctionCalls",
    "Incomplete",
    "Pause",
    "Refusal",
    "Scenario",
    "Step",
    "TextReply",
    "ToolOutput",
    "Usage",
    "split_fragments",
]

_PIECE = re.compile(r"\s*\S+|\s+")


def split_fragments(text: str, size: int = 6) -> list[str]:
    """Split ``text`` into token-like fragments of at most ``size`` code points.

    Words keep their leading whitespace (``" the"``), long words are cut into
    pieces, so emoji sequences and other grapheme clusters may be split (as
    the real service does); code points never are. ``"".join(result) == text``.
    """
    if size < 1:
        raise ScenarioError(f"fragment size must be >= 1, got {size}")
    out: list[str] = []
    for piece in _PIECE.findall(text):
        while len(piece) > size:
            out.append(piece[:size])
            piece = piece[size:]
        if piece:
            out.append(piece)
    return out


def _tuple_or_none(value: Iterable[str] | None) -> tuple[str, ...] | None:
    return None if value is None else tuple(value)


def _annotations(value: Iterable[Annotation]) -> tuple[Annotation, ...]:
    return tuple(value)


def _strings(value: Iterable[str]) -> tuple[str, ...]:
    return tuple(value)


def _calls(value: Iterable[FunctionCall]) -> tuple[FunctionCall, ...]:
    return tuple(value)


def _results(value: Iterable[FileSearchResult]) -> tuple[FileSearchResult, ...]:
    return tuple(value)


def _steps(value: Iterable[Step]) -> tuple[Step, ...]:
    return tuple(value)


def _check_chunks(text: str, chunks: tuple[str, ...] | None, what: str) -> None:
    if chunks is None:
        return
    if "".join(chunks) != text:
        raise ScenarioError(f"{what}: the chunks do not join to the text")
    if any(not c for c in chunks):
        raise ScenarioError(f"{what}: empty chunk")


@attrs.frozen
class Usage:
    """Token usage reported for a step (the run's usage is the sum over its steps)."""

    prompt_tokens: int
    completion_tokens: int

    def to_json(self) -> dict[str, int]:
        """The wire shape ``{"prompt_tokens", "completion_tokens", "total_tokens"}``."""
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens,
        }


@attrs.frozen
class FileCitation:
    """A ``file_citation`` annotation; ``text`` is the marker as it appears in the reply.

    The marker (for example ``"【4:0†source】"``) must occur in the reply text;
    ``start_index``/``end_index`` are computed from its position (code points).
    """

    text: str
    file_id: str


@attrs.frozen
class FilePath:
    """A ``file_path`` annotation (e.g. ``"sandbox:/mnt/data/x.csv"``) naming a file."""

    text: str
    file_id: str


Annotation = Union[FileCitation, FilePath]


@attrs.frozen
class TextReply:
    """An assistant message streamed as text deltas.

    ``chunks`` gives the exact fragments (they must join to ``text``); without
    it the text is split by :func:`split_fragments` with ``fragment_size``
    and each annotation marker is sent as one fragment carrying its
    annotation. ``image_file_ids`` become ``image_file`` content parts before
    the text part (as after a code_interpreter plot).
    """

    text: str
    chunks: tuple[str, ...] | None = attrs.field(default=None, converter=_tuple_or_none)
    annotations: tuple[Annotation, ...] = attrs.field(default=(), converter=_annotations)
    image_file_ids: tuple[str, ...] = attrs.field(default=(), converter=_strings)
    fragment_size: int = 6
    usage: Usage | None = None

    def __attrs_post_init__(self) -> None:
        _check_chunks(self.text, self.chunks, "TextReply")
        start = 0
        for ann in self.annotations:
            pos = self.text.find(ann.text, start)
            if pos < 0:
                raise ScenarioError(f"TextReply: annotation text {ann.text!r} not found in order")
            start = pos + len(ann.text)


@attrs.frozen
class Refusal:
    """An assistant message whose content is a ``refusal`` part streamed in fragments."""

    text: str
    chunks: tuple[str, ...] | None = attrs.field(default=None, converter=_tuple_or_none)
    fragment_size: int = 6
    usage: Usage | None = None

    def __attrs_post_init__(self) -> None:
        _check_chunks(self.text, self.chunks, "Refusal")


@attrs.frozen
class FunctionCall:
    """One function tool call; ``arguments`` is the JSON text streamed in fragments.

    ``id`` defaults to a fresh ``call_...`` id.
    """

    name: str
    arguments: str = "{}"
    id: str | None = None
    chunks: tuple[str, ...] | None = attrs.field(default=None, converter=_tuple_or_none)
    fragment_size: int = 4

    def __attrs_post_init__(self) -> None:
        _check_chunks(self.arguments, self.chunks, "FunctionCall")


@attrs.frozen
class ToolOutput:
    """A submitted tool output, as given to a :class:`FunctionCalls` ``then`` callable."""

    tool_call_id: str
    output: str


@attrs.frozen
class FunctionCalls:
    """A tool_calls step with function calls; the run stops in ``requires_action``.

    After the client submits outputs for every call, the run continues with
    ``then``: a :class:`Scenario`, a callable receiving the submitted
    :class:`ToolOutput` list (in call order) and returning a Scenario, or
    ``None`` (the run completes with no further step). With ``interleave``
    the argument fragments of the calls alternate on the wire and every
    other round carries the fragments of all calls in one delta event.
    """

    calls: tuple[FunctionCall, ...] = attrs.field(converter=_calls)
    then: Scenario | Callable[[list[ToolOutput]], Scenario] | None = None
    interleave: bool = False
    usage: Usage | None = None

    def __attrs_post_init__(self) -> None:
        if not self.calls:
            raise ScenarioError("FunctionCalls needs at least one call")


@attrs.frozen
class CodeInterpreterCall:
    """A code_interpreter tool step: input streamed, then a logs and/or an image output."""

    input: str
    logs: str | None = None
    image_file_id: str | None = None
    id: str | None = None
    chunks: tuple[str, ...] | None = attrs.field(default=None, converter=_tuple_or_none)
    fragment_size: int = 6
    usage: Usage | None = None

    def __attrs_post_init__(self) -> None:
        _check_chunks(self.input, self.chunks, "CodeInterpreterCall")


@attrs.frozen
class FileSearchResult:
    """One file_search result; ``content`` is sent only when ``include[]`` asks for it."""

    file_id: str
    file_name: str
    score: float
    content: str = ""


@attrs.frozen
class FileSearchCall:
    """A file_search tool step: its results arrive only in ``thread.run.step.completed``."""

    results: tuple[FileSearchResult, ...] = attrs.field(converter=_results)
    ranker: str = "default_2024_08_21"
    score_threshold: float = 0.0
    id: str | None = None
    usage: Usage | None = None


@attrs.frozen
class Fail:
    """The run fails with ``last_error`` ``{code, message}``.

    With ``partial_text`` an answer is streamed first and then cut:
    ``thread.message.incomplete`` (run_failed) → ``thread.run.step.failed`` →
    ``thread.run.failed``. Without it the run fails with no step.
    """

    code: Literal["server_error", "rate_limit_exceeded", "invalid_prompt"] = "server_error"
    message: str = "Sorry, something went wrong."
    partial_text: str | None = None


@attrs.frozen
class Incomplete:
    """The run ends ``incomplete`` (``incomplete_details.reason`` = ``reason``).

    With ``partial_text`` the answer is streamed and ends with
    ``thread.message.incomplete`` (max_tokens) before the step completes.
    """

    reason: Literal["max_completion_tokens", "max_prompt_tokens"] = "max_completion_tokens"
    partial_text: str | None = None


@attrs.frozen
class ErrorEvent:
    """An ``event: error`` then ``done``, with no terminal run event.

    ``shape`` selects the data: ``"bare"`` (the spec's Error object
    ``{"message","type","param","code"}``) or ``"wrapped"`` (``{"error": {...}}``).
    With ``partial_text`` part of an answer is streamed first. Afterwards the
    run is ``failed`` on the server (visible through GET).
    """

    message: str = (
        "The server had an error processing your request. Sorry about that! You can retry "
        "your request, or contact us through our help center at help.openai.com if you keep "
        "seeing this error."
    )
    shape: Literal["bare", "wrapped"] = "bare"
    type: str = "server_error"
    code: str | None = None
    partial_text: str | None = None


@attrs.frozen
class Pause:
    """The run makes no progress for ``seconds`` (a cancel request interrupts it)."""

    seconds: float


Step = Union[
    TextReply,
    Refusal,
    FunctionCalls,
    CodeInterpreterCall,
    FileSearchCall,
    Fail,
    Incomplete,
    ErrorEvent,
    Pause,
]

_ENDING = (FunctionCalls, Fail, Incomplete, ErrorEvent)
_STEP_TYPES = (
    TextReply,
    Refusal,
    FunctionCalls,
    CodeInterpreterCall,
    FileSearchCall,
    Fail,
    Incomplete,
    ErrorEvent,
    Pause,
)


@attrs.frozen
class Scenario:
    """What a run does: ``steps`` played in order (see the module docstring)."""

    steps: tuple[Step, ...] = attrs.field(converter=_steps)
    name: str = "custom"

    def __attrs_post_init__(self) -> None:
        for i, step in enumerate(self.steps):
            if not isinstance(step, _STEP_TYPES):
                raise ScenarioError(f"step {i} is not a scenario step: {step!r}")
            if isinstance(step, _ENDING) and i != len(self.steps) - 1:
                raise ScenarioError(
                    f"step {i} ({type(step).__name__}) ends the run and must be the last step"
                )

    def message_texts(self) -> list[str]:
        """The texts of the assistant messages this scenario writes, in order.

        Follows a :class:`FunctionCalls` continuation when it is a Scenario
        (a callable continuation cannot be known in advance). Refusals give
        their refusal text; cut answers give their partial text.
        """
        texts: list[str] = []
        for step in self.steps:
            if isinstance(step, (TextReply, Refusal)):
                texts.append(step.text)
            elif isinstance(step, (Fail, Incomplete, ErrorEvent)) and step.partial_text:
                texts.append(step.partial_text)
            elif isinstance(step, FunctionCalls) and isinstance(step.then, Scenario):
                texts.extend(step.then.message_texts())
        return texts


def as_steps(steps: Sequence[Step] | Scenario) -> Scenario:
    """A Scenario from a Scenario or a sequence of steps."""
    return steps if isinstance(steps, Scenario) else Scenario(steps)
