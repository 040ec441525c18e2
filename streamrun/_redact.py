"""Redaction of a secret (the API key) from text a server sent, and page excerpts: pure.

The bottom layer (no aiohttp, no I/O): the transport, the stream, the relay
and the CLI all redact with these functions. Redaction works on *decoded*
text, and a key written with JSON escapes (``\\u0073\\u006b...`` or ``\\/``)
in raw JSON text is caught too; it runs before any truncation.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Callable, Iterable
from typing import Any

__all__ = [
    "MIN_SECRET",
    "cut",
    "page_excerpt",
    "redact_json",
    "redact_secret",
    "redact_secrets",
    "secret_pattern",
]

#: Secrets shorter than this are not looked for by :func:`redact_secrets`
#: (they would match ordinary text).
MIN_SECRET = 8
_MIN_PREFIX = 4  # a key prefix this long at the end of an excerpt is redacted


@functools.lru_cache(maxsize=16)
def secret_pattern(secret: str) -> re.Pattern[str]:
    """A pattern matching ``secret`` written plainly or with JSON escapes (``\\u0073``, ``\\/``)."""
    parts = []
    for ch in secret:
        forms = [
            re.escape(ch),
            "\\\\u" + "".join(f"[{d.lower()}{d.upper()}]" for d in f"{ord(ch):04x}"),
        ]
        if ch == "/":
            forms.append(r"\\/")
        parts.append("(?:" + "|".join(forms) + ")")
    return re.compile("".join(parts))


def redact_secret(text: str, secret: str | None, *, limit: int | None = None) -> str:
    """``text`` with every occurrence of ``secret`` replaced by ``***``, then cut to ``limit``.

    The one redaction helper for text that came from a server (exception
    messages, log lines, relayed events). Call it on *decoded* text; in raw
    JSON text a key written with ``\\uXXXX`` escapes is caught too. It
    redacts before truncating (so a cut never leaves part of the key), and an
    end of ``text`` that is the start of the key (at least 4 characters: the
    text was cut in the middle of the key) is redacted too.
    """
    if secret:
        if secret in text:
            text = text.replace(secret, "***")
        if "\\u" in text or ("/" in secret and "\\/" in text):
            # Raw JSON text: the key may be written with escapes.
            text = secret_pattern(secret).sub("***", text)
    if limit is not None and len(text) > limit:
        return _strip_key_prefix(text[:limit], secret) + "..."
    return _strip_key_prefix(text, secret)


def redact_secrets(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret (plain or JSON-escaped) replaced by ``***`` (the CLI's).

    Secrets shorter than :data:`MIN_SECRET` characters are left alone; no
    truncation, so no key prefix is looked for at the end.
    """
    for secret in secrets:
        if len(secret) >= MIN_SECRET and (secret in text or "\\" in text):
            text = secret_pattern(secret).sub("***", text)
    return text


# What may follow a cut: an ellipsis, then the closing quote of a repr.
_CUT_SUFFIXES = ("", "...", "\u2026", "'", '"', "...'", '..."', "\u2026'", '\u2026"')


def _strip_key_prefix(text: str, secret: str | None) -> str:
    """``text`` with a start of ``secret`` (>= 4 characters) at its end — before an
    ellipsis or closing quote a truncation added — replaced by ``***``."""
    if not secret or len(text) < _MIN_PREFIX or len(secret) <= _MIN_PREFIX:
        return text
    head = secret[:_MIN_PREFIX]
    for suffix in _CUT_SUFFIXES:
        if not text.endswith(suffix):
            continue
        core = text[: len(text) - len(suffix)]
        # The longest proper prefix of the key that ends ``core``: it starts at an
        # occurrence of the key's first characters within the last len(secret)-1.
        start = core.find(head, max(0, len(core) - len(secret) + 1))
        while start != -1:
            if secret.startswith(core[start:]):
                return core[:start] + "***" + suffix
            start = core.find(head, start + 1)
    return text


def cut(text: str, limit: int, redact: Callable[[str], str] | None = None) -> str:
    """``text`` redacted (by ``redact``, if given) and *then* cut to ``limit``
    characters, ``…`` marking a cut: the one way to shorten server text for a
    message. Cutting first could leave a start of the key (or of its JSON
    escapes) that the redaction no longer recognises."""
    if redact is not None:
        text = redact(text)
    return text if len(text) <= limit else text[:limit] + "\u2026"


def redact_json(value: Any, secret: str | None) -> Any:
    """A copy of decoded JSON with ``secret`` redacted in every string (keys included)."""
    if not secret:
        return value
    stack: list[tuple[Any, Any, Any]] = []
    root: list[Any] = [value]
    stack.append((root, 0, value))
    while stack:
        parent, key, item = stack.pop()
        if isinstance(item, str):
            parent[key] = redact_secret(item, secret)
        elif isinstance(item, dict):
            copy: dict[str, Any] = {}
            for k, v in item.items():
                k = redact_secret(k, secret) if isinstance(k, str) else k
                copy[k] = v
                stack.append((copy, k, v))
            parent[key] = copy
        elif isinstance(item, list):
            items = list(item)
            stack.extend((items, i, v) for i, v in enumerate(item))
            parent[key] = items
    return root[0]


_EXCERPT_LIMIT = 200
_LOOKS_LIKE_HTML = re.compile(r"<(?:!doctype|html|head|body|title|h[1-6]|p|div|pre|center)\b", re.I)
_INVISIBLE = re.compile(r"<(head|script|style)\b.*?</\1\s*>", re.I | re.S)
_TITLE = re.compile(r"<title\b[^>]*>(.*?)</title\s*>", re.I | re.S)
_TAG = re.compile(r"<[^>]*>")


def page_excerpt(
    body: bytes | str,
    limit: int = _EXCERPT_LIMIT,
    *,
    redact: Callable[[str], str] | None = None,
) -> str:
    """A reply body that is not the API's JSON, as one short line for a message.

    An HTML page (a proxy's or a plain web server's error page) loses its
    head, scripts, styles and tags; entities are decoded, whitespace runs
    become one space, and the result is cut to ``limit`` characters.
    ``redact`` (e.g. ``Transport.redact``) runs on the decoded text, before
    the cut: a key written with HTML entities (``&#115;&#107;...``) only
    becomes the key once decoded, and no part of it is left at the cut.
    """
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    if _LOOKS_LIKE_HTML.search(text):
        title = _TITLE.search(text)
        text = _TAG.sub(" ", _INVISIBLE.sub(" ", text))
        if not text.strip() and title:
            text = title.group(1)
        text = html.unescape(text)
    text = " ".join(text.split())
    if redact is not None:
        text = redact(text)
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text
