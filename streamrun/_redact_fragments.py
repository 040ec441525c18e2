"""Redaction of a secret cut across the fragments of a growing text: pure.

A server may echo the API key in a streamed text split over two deltas
(``"sk-proj-AB"``, then ``"CDEF..."``): no single event holds the key, so
redacting each one (:func:`~streamrun._redact.redact_secret`) lets both
halves through. :class:`FragmentRedactor` follows every growing text of a
stream — a message content part's text or refusal, a tool call's arguments,
a code interpreter's input, a Responses ``*.delta`` text — keyed by its
message (or step, or item) id and its index. Of each fragment it passes on
what cannot be the start of a secret and holds back the shortest tail that
could be (plainly or written with JSON escapes); once the secret is whole it
is replaced by ``***``. Held text goes out with the next fragment of the same
text, or, when the text ends (an event that ends its message, step, item or
the run, or the end of the stream: :meth:`FragmentRedactor.flush`), as a
synthetic delta event of the same shape, *before* the event that ends it:
the deltas passed on still add up to the completed text (with the key
masked). An event the redactor does not change is passed on as the same
object, so a relay keeps its exact JSON.

It works on decoded event data (``(name, JSON)`` pairs): run-stream events
(``thread.*``) and Responses API events (``response.*``). No I/O: the relay,
the recorder and the CLI's ``--json`` lines use it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ._redact import MIN_SECRET, redact_secrets

__all__ = ["FragmentRedactor", "secret_start"]

# The longest JSON escape of one character: ``\uXXXX``.
_ESCAPE_LEN = 6

Emitted = tuple[str, Any]


def _is_start(text: str, i: int, secret: str) -> bool:
    """True when ``text[i:]`` is a proper start of ``secret`` written plainly or
    with JSON escapes (``\\uXXXX``, any hex case; ``\\/``), cut anywhere."""
    j, n = 0, len(text)
    while i < n:
        if j == len(secret):
            return False  # the whole secret: masked already, not a start
        ch, c = secret[j], text[i]
        if c == ch:
            i, j = i + 1, j + 1
            continue
        if c != "\\":
            return False
        rest = text[i + 1 : i + _ESCAPE_LEN]
        if ch == "/" and rest[:1] == "/":
            i, j = i + 2, j + 1
            continue
        want = f"u{ord(ch):04x}"
        if rest.lower() != want[: len(rest)] or rest[:1] not in ("", "u"):
            return False
        if len(rest) < len(want):
            return True  # the text ends inside the escape
        i, j = i + _ESCAPE_LEN, j + 1
    return True


def secret_start(text: str, secrets: Iterable[str]) -> int:
    """The length of the longest end of ``text`` that could be the start of one of
    ``secrets`` (plainly or JSON-escaped; secrets shorter than :data:`MIN_SECRET`
    are ignored), or 0."""
    hold = 0
    for secret in secrets:
        if len(secret) < MIN_SECRET:
            continue
        window = max(0, len(text) - _ESCAPE_LEN * len(secret))
        if "\\" in text[window:]:
            firsts: tuple[str, ...] = (secret[0], "\\")
        else:
            firsts = (secret[0],)
            window = max(0, len(text) - len(secret) + 1)
        i = min((p for p in (text.find(f, window) for f in firsts) if p != -1), default=-1)
        while i != -1 and len(text) - i > hold:
            if _is_start(text, i, secret):
                hold = len(text) - i
                break
            i = min((p for p in (text.find(f, i + 1) for f in firsts) if p != -1), default=-1)
    return hold


class _Text:
    """One growing text: what is held back, and how to send it alone."""

    __slots__ = ("held", "name", "path", "template")

    def __init__(self, name: str, template: Any, path: tuple[Any, ...]) -> None:
        self.held = ""
        self.name = name
        self.template = template  # the JSON of a delta carrying only this text
        self.path = path  # where the text sits in ``template``

    def event(self) -> Emitted:
        return self.name, _replace(self.template, self.path, self.held)


def _replace(obj: Any, path: tuple[Any, ...], value: str) -> Any:
    """A copy of ``obj`` with the string at ``path`` set to ``value`` (copies along the path)."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(obj, list):
        items = list(obj)
        items[head] = _replace(items[head], rest, value)
        return items
    copy = dict(obj)
    copy[head] = _replace(copy[head], rest, value)
    return copy


def _get(obj: Any, *keys: Any) -> Any:
    for key in keys:
        if isinstance(obj, dict):
            obj = obj.get(key)
        elif isinstance(obj, list) and isinstance(key, int) and 0 <= key < len(obj):
            obj = obj[key]
        else:
            return None
    return obj


def _part_text(kind: Any) -> tuple[str, ...]:
    """Where a message content part's growing text is: a text value, else a refusal."""
    return ("text", "value") if kind == "text" else ("refusal",)


def _call_text(kind: Any) -> tuple[str, ...]:
    """Where a tool call's growing text is: function arguments, else code input."""
    return ("function", "arguments") if kind == "function" else ("code_interpreter", "input")


class FragmentRedactor:
    """Masks secrets cut across the fragments of a stream's growing texts (see the module).

    Feed it every event in order (:meth:`feed`), then call :meth:`flush` at the
    end of the stream (or before relaying its failure). With no secret (none of
    at least :data:`MIN_SECRET` characters) every event passes unchanged.
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        self.secrets = tuple(s for s in secrets if len(s) >= MIN_SECRET)
        #: True once a secret cut across fragments was masked.
        self.masked_split = False
        self._texts: dict[tuple[Any, ...], _Text] = {}

    @property
    def holding(self) -> bool:
        """True while some text is held back."""
        return any(t.held for t in self._texts.values())

    def feed(self, name: str, data: Any) -> list[Emitted]:
        """The events to pass on for the event ``name`` with JSON ``data``, in order:
        synthetic deltas releasing held text that ``data`` ends, then the event itself
        (``data`` itself when unchanged, else a changed copy)."""
        if not self.secrets:
            return [(name, data)]
        if name == "thread.message.delta":
            return [(name, self._message_delta(data))]
        if name == "thread.run.step.delta":
            return [(name, self._step_delta(data))]
        if name.startswith("response.") and name.endswith(".delta"):
            if isinstance(data, dict) and isinstance(data.get("delta"), str):
                return [(name, self._response_delta(name, data))]
            return [(name, data)]
        out = self._release(self._ended(name, data))
        out.append((name, data))
        return out

    def flush(self) -> list[Emitted]:
        """Synthetic deltas releasing every held text (the stream ended)."""
        return self._release(lambda key: True)

    # -- what ends a text ---------------------------------------------------

    def _ended(self, name: str, data: Any) -> Any:
        ident = data.get("id") if isinstance(data, dict) else None
        if name.startswith("thread.message."):
            return lambda key: key[:2] == ("m", ident)
        if name.startswith("thread.run.step."):
            return lambda key: key[:2] == ("s", ident)
        if name.startswith("response."):
            item = data.get("item_id") if isinstance(data, dict) else None
            if item is None:
                item = _get(data, "item", "id")
            if item is not None:
                if not name.endswith(".done"):
                    return lambda key: False  # e.g. an annotation: the text goes on
                return lambda key: key[:2] == ("r", item)
        return lambda key: True  # the run, the response, an error, [DONE], unknown

    def _release(self, ended: Any) -> list[Emitted]:
        out: list[Emitted] = []
        for key in [k for k in self._texts if ended(k)]:
            text = self._texts.pop(key)
            if text.held:
                out.append(text.event())
        return out

    # -- one fragment ---------------------------------------------------------

    def _push(self, key: tuple[Any, ...], value: str, make: Any) -> str:
        """What to pass on of ``value``, the next fragment of the text ``key``."""
        text = self._texts.get(key)
        if text is None:
            if not value:
                return value
            text = self._texts[key] = make()
        held = text.held
        whole = held + value
        masked = redact_secrets(whole, self.secrets)
        if held and masked != held + redact_secrets(value, self.secrets):
            self.masked_split = True
        hold = secret_start(masked, self.secrets)
        text.held = masked[len(masked) - hold :] if hold else ""
        return masked[: len(masked) - hold]

    def _message_delta(self, data: Any) -> Any:
        return self._entries(
            data, "m", "thread.message.delta", ("delta", "content"), {}, _part_text
        )

    def _step_delta(self, data: Any) -> Any:
        return self._entries(
            data,
            "s",
            "thread.run.step.delta",
            ("delta", "step_details", "tool_calls"),
            {"type": "tool_calls"},
            _call_text,
        )

    def _entries(
        self,
        data: Any,
        tag: str,
        name: str,
        at: tuple[str, ...],
        beside: dict[str, Any],
        text_path: Callable[[Any], tuple[str, ...]],
    ) -> Any:
        """The growing texts of the entries listed at ``at`` in a message or step delta
        (content parts, tool calls); ``text_path(type)`` is where an entry's text is.
        A released text goes out as a delta of the same event ``name`` whose list holds
        that entry alone (``beside`` the list: its other keys)."""
        ident = data.get("id") if isinstance(data, dict) else None
        entries = _get(data, *at)
        if not isinstance(entries, list):
            return data
        out = data
        for pos, entry in enumerate(entries):
            if not isinstance(entry, dict):
                continue
            kind = entry.get("type")
            path = text_path(kind)
            value = _get(entry, *path)
            if not isinstance(value, str):
                continue
            index = entry.get("index")

            def make(kind: Any = kind, index: Any = index, path: tuple[str, ...] = path) -> _Text:
                alone: dict[str, Any] = {"index": index, "type": kind}
                alone[path[0]] = {path[1]: ""} if len(path) > 1 else ""
                template: dict[str, Any] = {**beside, at[-1]: [alone]}
                for key in reversed(at[:-1]):
                    template = {key: template}
                return _Text(name, {"id": ident, "object": name, **template}, (*at, 0, *path))

            new = self._push((tag, ident, index, kind), value, make)
            if new != value:
                out = _replace(out, (*at, pos, *path), new)
        return out

    def _response_delta(self, name: str, data: dict[str, Any]) -> Any:
        item = data.get("item_id")
        where = tuple(data.get(k) for k in ("output_index", "content_index", "summary_index"))

        def make() -> _Text:
            template = {k: v for k, v in data.items() if k not in ("logprobs", "obfuscation")}
            return _Text(name, template, ("delta",))

        value, key = data["delta"], ("r", item, name, *where)
        new = self._push(key, value, make)
        text = self._texts.get(key)
        if text is not None:
            text.template = make().template  # a release reads like the latest fragment
        return data if new == value else _replace(data, ("delta",), new)
