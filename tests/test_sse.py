"""Tests of the sans-I/O server-sent events decoder (``streamrun.sse``).

Every rule of the WHATWG "event stream interpretation"
(https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation)
is checked under several ways of splitting the input into chunks, and
Hypothesis checks that any chunking gives the events of a reference
implementation written straight from the spec.
"""

from __future__ import annotations

import ast
import itertools
import json
import random
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from streamrun import sse
from streamrun._exceptions import (
    EventTooLargeError,
    ProtocolError,
    StreamrunError,
    ValidationError,
)
from streamrun.sse import DEFAULT_MAX_EVENT_SIZE, ServerSentEvent, SSEDecoder

E = ServerSentEvent
BOM = b"\xef\xbb\xbf"


def _fixtures_dir() -> Path:
    return Path(__file__).resolve().parent / "fixtures"


FIXTURES = _fixtures_dir()
MANIFEST: dict[str, int] = {
    stream["file"]: stream["events"]
    for stream in json.loads((FIXTURES / "manifest.json").read_text())["streams"]
}
FIXTURE_BYTES: dict[str, bytes] = {name: (FIXTURES / name).read_bytes() for name in MANIFEST}


# -- chunkings ----------------------------------------------------------------

Chunker = Callable[[bytes], list[bytes]]


def split_at(data: bytes, cuts: Sequence[int]) -> list[bytes]:
    """``data`` cut at the given offsets (any order, duplicates allowed)."""
    points = [0, *sorted(cuts), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(points)]


def whole(data: bytes) -> list[bytes]:
    return [data]


def bytewise(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


def random_splits(seed: int, max_size: int) -> Chunker:
    def chunker(data: bytes) -> list[bytes]:
        rng = random.Random(seed)
        chunks = []
        pos = 0
        while pos < len(data):
            size = rng.randint(0, max_size)  # empty chunks included
            chunks.append(data[pos : pos + size])
            pos += size
        return chunks

    return chunker


CHUNKINGS: dict[str, Chunker] = {
    "whole": whole,
    "bytewise": bytewise,
    "random-small": random_splits(1, 5),
    "random-medium": random_splits(2, 40),
    "random-large": random_splits(3, 300),
}


@pytest.fixture(params=list(CHUNKINGS))
def chunker(request: pytest.FixtureRequest) -> Chunker:
    result: Chunker = CHUNKINGS[request.param]
    return result


def decode_all(
    data: bytes, chunks: Chunker | Sequence[bytes] = whole, **kwargs: int | None
) -> list[ServerSentEvent]:
    """All events of ``data`` fed in the given chunks, then closed."""
    decoder = SSEDecoder(**kwargs)
    parts = chunks(data) if callable(chunks) else chunks
    events: list[ServerSentEvent] = []
    for part in parts:
        events += decoder.feed(part)
    events += decoder.close()
    return events


def decode_until_error(
    data: bytes, chunks: Sequence[bytes], max_event_size: int | None
) -> tuple[list[ServerSentEvent], EventTooLargeError | None]:
    """The events delivered before an :class:`EventTooLargeError`, and the error."""
    decoder = SSEDecoder(max_event_size)
    events: list[ServerSentEvent] = []
    try:
        for part in chunks:
            events += decoder.feed(part)
        events += decoder.close()
    except EventTooLargeError as exc:
        return events, exc
    return events, None


# -- a reference implementation, straight from the spec ----------------------


def complete_lines(text: str) -> list[str]:
    """The lines of ``text`` ended by CR, LF or CRLF; a trailing partial line is dropped."""
    lines = []
    start = i = 0
    while i < len(text):
        char = text[i]
        if char == "\r":
            lines.append(text[start:i])
            i += 2 if text[i + 1 : i + 2] == "\n" else 1
            start = i
        elif char == "\n":
            lines.append(text[start:i])
            i += 1
            start = i
        else:
            i += 1
    return lines


@attrs.frozen
class Reference:
    events: list[ServerSentEvent]
    last_event_id: str
    retry: int | None
    incomplete: bool


def reference_decode(stream: bytes) -> Reference:
    """The WHATWG algorithm on the decoded text, one line at a time."""
    text = stream.decode("utf-8", "replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = complete_lines(text)
    events = []
    data_buffer = event_type = last_event_id_buffer = last_event_id = ""
    retry = block_retry = None
    in_block = False
    for line in lines:
        if line == "":
            # Dispatch the event.
            last_event_id = last_event_id_buffer
            in_block = False
            if data_buffer == "":
                event_type = ""
                block_retry = None
                continue
            if data_buffer.endswith("\n"):
                data_buffer = data_buffer[:-1]
            events.append(E(event_type or "message", data_buffer, last_event_id, block_retry))
            data_buffer = event_type = ""
            block_retry = None
            continue
        if line.startswith(":"):
            continue
        in_block = True
        if ":" in line:
            name, _, value = line.partition(":")
            if value.startswith(" "):
                value = value[1:]
        else:
            name, value = line, ""
        if name == "event":
            event_type = value
        elif name == "data":
            data_buffer += value + "\n"
        elif name == "id":
            if "\0" not in value:
                last_event_id_buffer = value
        elif name == "retry" and value and all(c in "0123456789" for c in value):
            retry = block_retry = int(value)
    partial = bool(text) and text[-1] not in "\r\n"
    return Reference(events, last_event_id, retry, in_block or partial)


def reference_blocks(stream: bytes) -> list[tuple[int, int]]:
    """(start offset, size) of each block: the size is the number of bytes of its
    lines without line ends; the last block counts the trailing partial line."""
    offset = 3 if stream.startswith(BOM) else 0
    body = stream[offset:]
    blocks = []
    start = offset
    size = pos = 0
    for match in re.finditer(rb"\r\n|\r|\n", body):
        line = body[pos : match.start()]
        pos = match.end()
        if line:
            size += len(line)
        else:
            blocks.append((start, size))
            start = offset + pos
            size = 0
    blocks.append((start, size + len(body) - pos))
    return blocks


# -- the event class ------------------------------------------------------------


def test_event_is_frozen_and_slotted() -> None:
    event = E("message", "x", "1", 5)
    assert [f.name for f in attrs.fields(E)] == ["event", "data", "id", "retry"]
    assert not hasattr(event, "__dict__")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        event.data = "y"  # type: ignore[misc]
    assert E("message", "x") == E("message", "x", "", None)
    assert hash(event) == hash(E("message", "x", "1", 5))


def test_fast_construction_matches_attrs() -> None:
    # The decoder's hot loop sets the slots directly (see sse._slot_setters).
    assert len(sse._slot_setters) == len(attrs.fields(E)) == 4
    events = decode_all(b"event: a\ndata: b\n\ndata: c\n\n")
    assert events == [E("a", "b", "", None), E("message", "c", "", None)]
    for event in events:
        assert type(event) is E
        assert repr(event) == repr(E(event.event, event.data, event.id, event.retry))
        assert hash(event) == hash(E(event.event, event.data, event.id, event.retry))


def test_module_has_no_io_imports() -> None:
    tree = ast.parse(Path(sse.__file__).read_text())
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert not imported & {"aiohttp", "asyncio", "socket", "io"}
    assert imported <= {"__future__", "typing", "attrs", "streamrun"}


# -- WHATWG rules, each under several chunkings --------------------------------


def test_simple_event(chunker: Chunker) -> None:
    events = decode_all(b'event: thread.run.created\ndata: {"a": 1}\n\n', chunker)
    assert events == [E("thread.run.created", '{"a": 1}')]


def test_utf8_decoding_multibyte_split_across_chunks(chunker: Chunker) -> None:
    value = "café ✓ 😀 日本"
    events = decode_all(f"event: é\ndata: {value}\n\n".encode(), chunker)
    assert events == [E("é", value)]


def test_invalid_utf8_is_replaced(chunker: Chunker) -> None:
    stream = b"data: a\xffb\xc3(\n" + b"data: \xf0\x9f\x98\n" + b"event: \xe2\x82\n\n"
    assert decode_all(stream, chunker) == [E("\ufffd", "a\ufffdb\ufffd(\n\ufffd")]


def test_invalid_utf8_in_field_name_makes_an_unknown_field(chunker: Chunker) -> None:
    assert decode_all(b"dat\xe1: x\n\ndata: y\n\n", chunker) == [E("message", "y")]


def test_leading_bom_is_dropped(chunker: Chunker) -> None:
    assert decode_all(BOM + b"data: x\n\n", chunker) == [E("message", "x")]


def test_only_one_bom_is_dropped(chunker: Chunker) -> None:
    # The second BOM is part of the field name "\ufeffdata": an unknown field.
    assert decode_all(BOM + BOM + b"data: x\n\ndata: y\n\n", chunker) == [E("message", "y")]


def test_bom_later_in_the_stream_is_kept(chunker: Chunker) -> None:
    stream = b"data: a\n\n" + BOM + b"data: b\n\ndata: " + BOM + b"c\n\n"
    assert decode_all(stream, chunker) == [E("message", "a"), E("message", "\ufeffc")]


def test_partial_bom_is_not_dropped(chunker: Chunker) -> None:
    # "\xef\xbb" is an invalid sequence: one U+FFFD, then "data" -> unknown field.
    assert decode_all(b"\xef\xbbdata: x\n\ndata: y\n\n", chunker) == [E("message", "y")]
    assert decode_all(b"\xef\xbb", chunker) == []


def test_bom_alone_and_empty_stream(chunker: Chunker) -> None:
    assert decode_all(BOM, chunker) == []
    assert decode_all(b"", chunker) == []


@pytest.mark.parametrize("eol", [b"\n", b"\r", b"\r\n"], ids=["LF", "CR", "CRLF"])
def test_line_ends(chunker: Chunker, eol: bytes) -> None:
    stream = b"event: e" + eol + b"data: a" + eol + b"data: b" + eol + eol + b"data: c" + eol + eol
    assert decode_all(stream, chunker) == [E("e", "a\nb"), E("message", "c")]


def test_mixed_line_ends(chunker: Chunker) -> None:
    stream = b"data: a\rdata: b\r\ndata: c\n\r\ndata: d\r\rdata: e\n\r"
    assert decode_all(stream, chunker) == [
        E("message", "a\nb\nc"),
        E("message", "d"),
        E("message", "e"),
    ]


def test_lf_cr_is_two_line_ends(chunker: Chunker) -> None:
    assert decode_all(b"data: a\n\rdata: b\n\n", chunker) == [E("message", "a"), E("message", "b")]


def test_crlf_split_across_chunks_is_one_line_end() -> None:
    # Were the LF a second line end, it would dispatch "a" on its own.
    chunks = [b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"]
    assert decode_all(b"".join(chunks), chunks) == [E("message", "a\nb")]
    assert decode_all(b"", chunks) == [E("message", "a\nb")]


def test_cr_at_chunk_end_followed_by_other_text() -> None:
    chunks = [b"data: a\r", b"data: b\r", b"\r", b"data: c\r", b"", b"\n", b"data: d\r\n", b"\r\n"]
    assert decode_all(b"", chunks) == [E("message", "a\nb"), E("message", "c\nd")]


def test_comments_are_ignored(chunker: Chunker) -> None:
    stream = b": hello\n:\ndata: a\n: in between\ndata: b\n:data: c\n\n: keep-alive\n\n"
    assert decode_all(stream, chunker) == [E("message", "a\nb")]


def test_comment_only_block_dispatches_nothing(chunker: Chunker) -> None:
    assert decode_all(b": ping\n\n: ping\n\n", chunker) == []


def test_line_without_colon_is_a_field_with_empty_value(chunker: Chunker) -> None:
    assert decode_all(b"data\n\n", chunker) == [E("message", "")]
    assert decode_all(b"event\ndata: x\n\n", chunker) == [E("message", "x")]
    assert decode_all(b"id: 1\ndata: a\n\nid\ndata: b\n\n", chunker) == [
        E("message", "a", "1"),
        E("message", "b", ""),
    ]


def test_exactly_one_leading_space_is_removed(chunker: Chunker) -> None:
    stream = (
        b"data:x\n\ndata: x\n\ndata:  x\n\ndata: x \n\ndata:\tx\n\ndata: \n\nevent:  e\ndata: y\n\n"
    )
    assert decode_all(stream, chunker) == [
        E("message", "x"),
        E("message", "x"),
        E("message", " x"),
        E("message", "x "),
        E("message", "\tx"),
        E("message", ""),
        E(" e", "y"),
    ]


def test_only_the_first_colon_separates(chunker: Chunker) -> None:
    assert decode_all(b"event: a:b\ndata: c: d\n\n", chunker) == [E("a:b", "c: d")]


def test_data_lines_are_joined_with_lf(chunker: Chunker) -> None:
    stream = b"data: a\ndata: b\ndata: c\n\ndata\ndata\n\ndata: a\ndata:\n\ndata:\ndata: z\n\n"
    assert decode_all(stream, chunker) == [
        E("message", "a\nb\nc"),
        E("message", "\n"),
        E("message", "a\n"),
        E("message", "\nz"),
    ]


def test_data_may_hold_lone_control_characters(chunker: Chunker) -> None:
    # Only CR and LF end lines: no splitting on VT, FF, FS, NEL, LS, ...
    value = "a\x0bb\x0cc\x1cd\x1de\x1ef\x85g\u2028h\u2029i\x00j"
    assert decode_all(f"data: {value}\n\n".encode(), chunker) == [E("message", value)]


def test_block_without_data_dispatches_nothing(chunker: Chunker) -> None:
    stream = b"event: a\n\nid: 7\n\nretry: 10\n\nevent: b\nid: 8\nretry: 20\nfoo: bar\n\n"
    decoder = SSEDecoder()
    events = [event for part in chunker(stream) for event in decoder.feed(part)]
    assert events == []
    # ... but id and retry still take effect.
    assert decoder.last_event_id == "8"
    assert decoder.retry == 20
    assert not decoder.incomplete


def test_event_type_is_reset_after_each_block(chunker: Chunker) -> None:
    stream = b"event: a\ndata: 1\n\ndata: 2\n\nevent: b\n\ndata: 3\n\n"
    assert decode_all(stream, chunker) == [E("a", "1"), E("message", "2"), E("message", "3")]


def test_empty_event_type_means_message(chunker: Chunker) -> None:
    assert decode_all(b"event:\ndata: x\n\nevent: \ndata: y\n\n", chunker) == [
        E("message", "x"),
        E("message", "y"),
    ]


def test_last_event_type_wins(chunker: Chunker) -> None:
    assert decode_all(b"event: a\nevent: b\ndata: x\n\n", chunker) == [E("b", "x")]


def test_id_persists_across_events(chunker: Chunker) -> None:
    stream = b"data: a\n\nid: 1\ndata: b\n\ndata: c\n\nid: 2\n\ndata: d\n\nid:\ndata: e\n\n"
    assert decode_all(stream, chunker) == [
        E("message", "a", ""),
        E("message", "b", "1"),
        E("message", "c", "1"),
        E("message", "d", "2"),
        E("message", "e", ""),
    ]


def test_id_persists_for_every_shape_of_event(chunker: Chunker) -> None:
    stream = b"id: 9\n\nevent: a\ndata: 1\n\ndata: 2\n\nevent: b\ndata: 3\ndata: 4\n\n"
    assert decode_all(stream, chunker) == [
        E("a", "1", "9"),
        E("message", "2", "9"),
        E("b", "3\n4", "9"),
    ]


def test_id_applies_to_its_own_block_wherever_it_is(chunker: Chunker) -> None:
    assert decode_all(b"data: a\nid: 5\n\n", chunker) == [E("message", "a", "5")]
    assert decode_all(b"id: 5\nid: 6\ndata: a\n\n", chunker) == [E("message", "a", "6")]


def test_id_with_nul_is_ignored(chunker: Chunker) -> None:
    stream = b"id: 1\ndata: a\n\nid: x\x00y\ndata: b\n\nid: \x00\ndata: c\n\n"
    decoder = SSEDecoder()
    events = [event for part in chunker(stream) for event in decoder.feed(part)]
    assert events == [E("message", "a", "1"), E("message", "b", "1"), E("message", "c", "1")]
    assert decoder.last_event_id == "1"


def test_id_may_hold_unicode(chunker: Chunker) -> None:
    assert decode_all("id: é✓\ndata: a\n\n".encode(), chunker) == [E("message", "a", "é✓")]


def test_retry_field(chunker: Chunker) -> None:
    stream = b"retry: 1000\ndata: a\n\ndata: b\n\nretry: 0\ndata: c\n\nretry: 0042\ndata: d\n\n"
    decoder = SSEDecoder()
    events = [event for part in chunker(stream) for event in decoder.feed(part)]
    assert events == [
        E("message", "a", "", 1000),
        E("message", "b", "", None),
        E("message", "c", "", 0),
        E("message", "d", "", 42),
    ]
    assert decoder.retry == 42


@pytest.mark.parametrize(
    "value",
    [b"", b" 5", b"-1", b"+1", b"1.5", b"1e3", b"10a", b"\xd9\xa1", b"\xef\xbc\x91", b"\xc2\xb2"],
    ids=["empty", "space", "minus", "plus", "float", "exp", "suffix", "arabic", "fullwidth", "sup"],
)
def test_invalid_retry_is_ignored(chunker: Chunker, value: bytes) -> None:
    stream = b"retry: 7\n\nretry: " + value + b"\ndata: a\n\n"
    decoder = SSEDecoder()
    events = [event for part in chunker(stream) for event in decoder.feed(part)]
    assert events == [E("message", "a", "", None)]
    assert decoder.retry == 7


def test_retry_without_space_and_huge_values(chunker: Chunker) -> None:
    huge = b"9" * 100
    stream = b"retry:25\ndata: a\n\nretry: " + huge + b"\ndata: b\n\n"
    assert decode_all(stream, chunker) == [
        E("message", "a", "", 25),
        E("message", "b", "", int(huge)),
    ]


def test_unknown_fields_are_ignored(chunker: Chunker) -> None:
    stream = b"foo: bar\nData: x\ndata : y\n data: z\nDATA\nevents: e\ndata: ok\n\n"
    assert decode_all(stream, chunker) == [E("message", "ok")]


def test_unterminated_event_is_discarded(chunker: Chunker) -> None:
    assert decode_all(b"data: a\n\ndata: b\n", chunker) == [E("message", "a")]
    assert decode_all(b"data: a\n\ndata: b", chunker) == [E("message", "a")]
    assert decode_all(b"data: a\n\nevent: x\ndata: b\r", chunker) == [E("message", "a")]


def test_many_blank_lines(chunker: Chunker) -> None:
    stream = b"\n\n\ndata: a\n\n\n\n\r\n\rdata: b\n\n\n"
    assert decode_all(stream, chunker) == [E("message", "a"), E("message", "b")]


def test_long_values(chunker: Chunker) -> None:
    value = "x" * 5000 + "é" * 3000
    stream = f"event: {'n' * 700}\ndata: {value}\ndata: {value}\n\n".encode()
    assert decode_all(stream, chunker) == [E("n" * 700, value + "\n" + value)]


# -- the examples of the spec ----------------------------------------------------


def test_spec_example_stock_ticker(chunker: Chunker) -> None:
    assert decode_all(b"data: YHOO\ndata: +2\ndata: 10\n\n", chunker) == [
        E("message", "YHOO\n+2\n10")
    ]


def test_spec_example_four_blocks(chunker: Chunker) -> None:
    stream = (
        b": test stream\n\ndata: first event\nid: 1\n\n"
        b"data:second event\nid\n\ndata:  third event\n\n"
    )
    decoder = SSEDecoder()
    events = [event for part in chunker(stream) for event in decoder.feed(part)]
    assert events == [
        E("message", "first event", "1"),
        E("message", "second event", ""),
        E("message", " third event", ""),
    ]
    assert decoder.last_event_id == ""
    # Without the final empty line, the end of the stream does not dispatch.
    assert decode_all(stream[:-1], chunker) == events[:2]


def test_spec_example_empty_data(chunker: Chunker) -> None:
    # "The first block fires events with the data set to the empty string ...
    # The middle block fires an event with the data set to a single newline
    # character. The last block is discarded because it is not followed by a
    # blank line."
    assert decode_all(b"data\n\ndata\ndata\n\ndata:", chunker) == [
        E("message", ""),
        E("message", "\n"),
    ]


def test_spec_example_space_after_colon(chunker: Chunker) -> None:
    events = decode_all(b"data:test\n\ndata: test\n\n", chunker)
    assert events == [E("message", "test"), E("message", "test")]


def test_spec_example_event_types(chunker: Chunker) -> None:
    stream = (
        b"event: add\ndata: 73857293\n\nevent: remove\ndata: 2153\n\nevent: add\ndata: 113411\n\n"
    )
    assert decode_all(stream, chunker) == [
        E("add", "73857293"),
        E("remove", "2153"),
        E("add", "113411"),
    ]


def test_spec_example_messages(chunker: Chunker) -> None:
    stream = (
        b"data: This is the first message.\n\n"
        b"data: This is the second message, it\ndata: has two lines.\n\n"
        b"data: This is the third message.\n\n"
    )
    assert [event.data for event in decode_all(stream, chunker)] == [
        "This is the first message.",
        "This is the second message, it\nhas two lines.",
        "This is the third message.",
    ]


# -- fixtures -------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_fixture_event_count(name: str, chunker: Chunker) -> None:
    events = decode_all(FIXTURE_BYTES[name], chunker)
    assert len(events) == MANIFEST[name]
    assert events[-1] == E("done", "[DONE]")
    for event in events[:-1]:
        json.loads(event.data)


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_fixture_matches_reference(name: str) -> None:
    assert decode_all(FIXTURE_BYTES[name]) == reference_decode(FIXTURE_BYTES[name]).events


@pytest.mark.parametrize("eol", [b"\r", b"\r\n"], ids=["CR", "CRLF"])
def test_fixture_with_other_line_ends(eol: bytes) -> None:
    data = FIXTURE_BYTES["plain_text.sse"]
    converted = BOM + data.replace(b"\n", eol)
    assert decode_all(converted, random_splits(7, 100)) == decode_all(data)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_fixture_any_chunking(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(sorted(MANIFEST)))
    stream = FIXTURE_BYTES[name]
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=60))
    assert decode_all(stream, split_at(stream, cuts)) == decode_all(stream)


# -- generated streams --------------------------------------------------------------

_names = st.sampled_from(["data", "event", "id", "retry", "dat", "Data", "", "x", "data "])
_values = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\r\n"), max_size=12),
    st.sampled_from(["", " ", "  x", "12", " 34", "1a", "\x00", "é", "😀", ":", "[DONE]"]),
)
_line = st.one_of(
    st.tuples(_names, st.sampled_from([":", ": ", ""]), _values).map(lambda t: "".join(t)),
    _values.map(lambda v: ":" + v),  # comment
    st.just(""),  # empty line
)


# Whole blocks of the shapes servers send (the decoder has fast paths for them).
_typical_block = st.one_of(
    st.tuples(st.sampled_from(["", "thread.run.created", "é"]), _values).map(
        lambda t: f"event: {t[0]}\ndata: {t[1]}\n\n"
    ),
    _values.map(lambda v: f"data: {v}\n\n"),
    st.sampled_from(["id: 1\n\n", "id: 2\ndata: x\n\n", "retry: 5\n", ": ping\n\n", "\n"]),
)


@st.composite
def streams(draw: st.DrawFn) -> bytes:
    """Event streams: a random mix of fields, comments, empty lines, line ends,
    unicode, invalid UTF-8, byte order marks and whole typical blocks."""
    parts = []
    if draw(st.booleans()):
        parts.append(draw(st.sampled_from([BOM, BOM + BOM, b"\xef\xbb", b"\xef"])))
    for line in draw(st.lists(st.one_of(_line, _typical_block), max_size=25)):
        raw = line.encode()
        if line.endswith("\n"):  # a whole block
            parts.append(raw)
            continue
        if draw(st.integers(0, 9)) == 0:
            raw += draw(st.sampled_from([b"\xff", b"\xc3", b"\xe2\x82", b"\xf0\x9f\x98", BOM]))
        parts.append(raw + draw(st.sampled_from([b"\n", b"\n", b"\r", b"\r\n"])))
    if draw(st.booleans()):
        parts.append(draw(_line).encode())  # an unterminated last line
    return b"".join(parts)


_ALPHABET = b"data:event id retry\r\n\n\r :\x00\xef\xbb\xbf\xc3\xa9\xff1"
# Arbitrary bytes mapped onto an alphabet dense in syntax.
_noise = st.binary(max_size=60).map(lambda raw: bytes(_ALPHABET[b % len(_ALPHABET)] for b in raw))


@st.composite
def chunkings(draw: st.DrawFn, stream: bytes) -> list[bytes]:
    cuts = draw(st.lists(st.integers(0, len(stream)), max_size=len(stream) + 1))
    return split_at(stream, cuts)


def check_against_reference(stream: bytes, chunks: list[bytes]) -> None:
    expected = reference_decode(stream)
    decoder = SSEDecoder()
    events: list[ServerSentEvent] = []
    for chunk in chunks:
        events += decoder.feed(chunk)
    assert events == expected.events
    assert decoder.last_event_id == expected.last_event_id
    assert decoder.retry == expected.retry
    assert decoder.incomplete == expected.incomplete
    assert decoder.events_dispatched == len(events)
    assert decoder.close() == []
    assert decoder.incomplete == expected.incomplete
    assert decoder.retry == expected.retry


@settings(max_examples=1000, deadline=None)
@given(st.data())
def test_generated_streams_match_reference_under_any_chunking(data: st.DataObject) -> None:
    stream = data.draw(st.one_of(streams(), _noise))
    check_against_reference(stream, [stream])
    check_against_reference(stream, bytewise(stream))
    check_against_reference(stream, data.draw(chunkings(stream)))


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_any_chunking_gives_the_same_events_as_whole(data: st.DataObject) -> None:
    stream = data.draw(streams())
    chunks = data.draw(chunkings(stream))
    assert decode_all(stream, chunks) == decode_all(stream)


def test_reference_blocks_helper() -> None:
    assert reference_blocks(b"data: ab\r\n: c\n\ndata: x") == [(0, 11), (15, 7)]
    assert reference_blocks(BOM + b"\n\nd\r") == [(3, 0), (4, 0), (5, 1)]


# -- max_event_size -----------------------------------------------------------------


def test_default_limit() -> None:
    assert DEFAULT_MAX_EVENT_SIZE == 16 * 1024 * 1024
    assert SSEDecoder().max_event_size == DEFAULT_MAX_EVENT_SIZE
    assert SSEDecoder(None).max_event_size is None


@pytest.mark.parametrize("bad", [-1, 1.5, True, "10"])
def test_invalid_limit(bad: object) -> None:
    with pytest.raises(ValidationError):
        SSEDecoder(bad)  # type: ignore[arg-type]


def test_oversize_event_raises_in_one_chunk() -> None:
    decoder = SSEDecoder(max_event_size=100)
    with pytest.raises(EventTooLargeError) as info:
        decoder.feed(b"event: big\ndata: " + b"x" * 200 + b"\n\ndata: after\n\n")
    assert info.value.limit == 100
    assert info.value.size == 10 + 206
    assert info.value.position == 0
    assert isinstance(info.value, ProtocolError)
    assert isinstance(info.value, StreamrunError)
    # The decoder stays failed.
    with pytest.raises(EventTooLargeError) as again:
        decoder.feed(b"data: x\n\n")
    assert again.value is info.value
    with pytest.raises(EventTooLargeError):
        decoder.close()


def test_oversize_event_raises_bytewise() -> None:
    decoder = SSEDecoder(max_event_size=100)
    stream = b"data: ok\n\nevent: big\ndata: " + b"x" * 200 + b"\n\n"
    events: list[ServerSentEvent] = []
    with pytest.raises(EventTooLargeError) as info:
        for i in range(len(stream)):
            events += decoder.feed(stream[i : i + 1])
    assert events == [E("message", "ok")]
    assert info.value.size == 101
    assert info.value.position == 1
    # It was raised as soon as the event grew past the limit.
    assert i == stream.index(b"event") + 101


def test_events_before_an_oversize_event_are_returned_first() -> None:
    decoder = SSEDecoder(max_event_size=50)
    stream = b"data: a\n\ndata: b\n\ndata: " + b"x" * 100 + b"\n\ndata: c\n\n"
    assert decoder.feed(stream) == [E("message", "a"), E("message", "b")]
    assert decoder.events_dispatched == 2
    with pytest.raises(EventTooLargeError) as info:
        decoder.feed(b"")
    assert info.value.position == 2
    assert info.value.size == 106


def test_endless_line_without_newline_raises() -> None:
    decoder = SSEDecoder(max_event_size=1000)
    with pytest.raises(EventTooLargeError) as info:
        for _ in range(100):
            decoder.feed(b"y" * 64)
    assert info.value.size == 1024
    decoder = SSEDecoder(max_event_size=1000)
    with pytest.raises(EventTooLargeError):
        decoder.feed(b"data: " + b"y" * 2000)


def test_many_lines_without_empty_line_raise() -> None:
    decoder = SSEDecoder(max_event_size=1000)
    with pytest.raises(EventTooLargeError) as info:
        for _ in range(100):
            decoder.feed(b"data: 12345678\r\n")
    assert info.value.size == 1008


def test_exactly_at_limit_is_fine(chunker: Chunker) -> None:
    # Size: the bytes of the block's lines, line ends not counted.
    block = b"event: e\r\ndata: " + b"z" * 80 + b"\r\n: note\r\n\r\n"
    limit = len(b"event: e") + 6 + 80 + len(b": note")
    stream = BOM + block * 3
    assert decode_all(stream, chunker, max_event_size=limit) == [E("e", "z" * 80)] * 3
    with pytest.raises(EventTooLargeError):
        decode_all(stream, chunker, max_event_size=limit - 1)


def test_pending_line_exactly_at_limit() -> None:
    decoder = SSEDecoder(max_event_size=10)
    assert decoder.feed(b"data: abcd") == []
    assert decoder.feed(b"\n\n") == [E("message", "abcd")]
    assert decoder.feed(b"data: abcd") == []
    with pytest.raises(EventTooLargeError):
        decoder.feed(b"e")


def test_none_disables_the_limit() -> None:
    value = "v" * (1 << 20)
    stream = f"data: {value}\n\n".encode()
    chunks = [stream[i : i + 65536] for i in range(0, len(stream), 65536)]
    assert decode_all(stream, chunks, max_event_size=None) == [E("message", value)]
    with pytest.raises(EventTooLargeError):
        decode_all(stream, chunks, max_event_size=(1 << 20) - 1)


def test_limit_zero_allows_only_empty_lines() -> None:
    assert decode_all(b"\n\n\r\n", max_event_size=0) == []
    with pytest.raises(EventTooLargeError):
        decode_all(b"data\n\n", max_event_size=0)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_limit_behaves_the_same_under_any_chunking(data: st.DataObject) -> None:
    stream = data.draw(st.one_of(streams(), _noise))
    limit = data.draw(st.integers(2, 80))
    blocks = reference_blocks(stream)
    oversize = [start for start, size in blocks if size > limit]
    if oversize:
        expected_events = reference_decode(stream[: oversize[0]]).events
    else:
        expected_events = reference_decode(stream).events
    for chunks in ([stream], bytewise(stream), data.draw(chunkings(stream))):
        events, error = decode_until_error(stream, chunks, limit)
        assert events == expected_events
        if oversize:
            assert error is not None
            assert error.limit == limit
            assert error.size is not None and error.size > limit
            assert error.position == len(expected_events)
        else:
            assert error is None


# -- state: incomplete, last_event_id, retry, close ----------------------------------


def incomplete(decoder: SSEDecoder) -> bool:
    # A function, so that the type checker does not narrow the property.
    return decoder.incomplete


def retry(decoder: SSEDecoder) -> int | None:
    return decoder.retry


def test_incomplete() -> None:
    decoder = SSEDecoder()
    assert not incomplete(decoder)
    decoder.feed(b"\xef")  # a partial BOM is a partial line
    assert incomplete(decoder)
    decoder.feed(b"\xbb\xbf")
    assert not incomplete(decoder)
    decoder.feed(b"da")
    assert incomplete(decoder)
    decoder.feed(b"ta: x\n")
    assert incomplete(decoder)
    decoder.feed(b"\n")
    assert not incomplete(decoder)
    decoder.feed(b": comment\n")
    assert not incomplete(decoder)  # a comment is not a field
    decoder.feed(b": comm")
    assert incomplete(decoder)  # but a partial line is pending
    decoder.feed(b"ent\nfoo\n")
    assert incomplete(decoder)  # an unknown field is a field
    decoder.feed(b"\r")
    assert not incomplete(decoder)
    decoder.feed(b"\n")  # the LF of the CRLF
    assert not incomplete(decoder)
    assert decoder.close() == []
    assert not incomplete(decoder)


def test_incomplete_after_close_tells_whether_an_event_was_discarded() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\n\nevent: x\ndata: b\n") == [E("message", "a")]
    assert decoder.close() == []
    assert decoder.incomplete
    assert decoder.closed


def test_close_is_idempotent_and_feed_after_close_fails() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"data: a\n\n")
    assert decoder.close() == []
    assert decoder.close() == []
    with pytest.raises(ProtocolError, match="after close"):
        decoder.feed(b"data: b\n\n")


def test_last_event_id_is_set_when_the_block_ends() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"id: 1\ndata: a\n")
    assert decoder.last_event_id == ""  # the block has not ended
    assert decoder.feed(b"\n") == [E("message", "a", "1")]
    assert decoder.last_event_id == "1"
    decoder.feed(b"data: b\n\n: x\n\n")
    assert decoder.last_event_id == "1"
    decoder.feed(b"id: 2\n\n")  # no event, but the ID is set
    assert decoder.last_event_id == "2"
    decoder.feed(b"id: 3\n")
    decoder.close()  # the unterminated block is discarded with its id
    assert decoder.last_event_id == "2"


def test_retry_counts_once_its_line_is_complete() -> None:
    decoder = SSEDecoder()
    assert retry(decoder) is None
    decoder.feed(b"retry: 30")
    assert retry(decoder) is None
    decoder.feed(b"00\ndata: a\n")
    assert retry(decoder) == 3000
    decoder.feed(b"retry: 5\nretry: x\n")
    assert retry(decoder) == 5
    assert decoder.feed(b"\n") == [E("message", "a", "", 5)]
    decoder.feed(b"retry: 7\ndata: b\n")
    decoder.close()
    assert retry(decoder) == 7


def test_events_dispatched_counts_events() -> None:
    decoder = SSEDecoder()
    decoder.feed(b"data: a\n\n: c\n\ndata: b\n\ndata: c")
    assert decoder.events_dispatched == 2


def test_feed_accepts_bytes_like_objects() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(bytearray(b"data: a\r")) == []  # type: ignore[arg-type]
    assert decoder.feed(memoryview(b"\ndata: b\r\n\r\n")) == [E("message", "a\nb")]  # type: ignore[arg-type]


# -- complexity ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "piece",
    [b"x", b"x\r", b"x\n", b"x\r\n"],
    ids=["one-long-line", "cr-lines", "lf-lines", "crlf-lines"],
)
def test_tiny_chunks_of_a_long_event_take_linear_time(piece: bytes) -> None:
    # With quadratic behaviour (re-scanning or re-copying the pending bytes on
    # every chunk) 300k one-byte feeds would take minutes.
    decoder = SSEDecoder(max_event_size=None)
    decoder.feed(b"data: ")
    start = time.perf_counter()
    for _ in range(300_000 // len(piece)):
        decoder.feed(piece)
        decoder.feed(b"")
    assert decoder.incomplete
    assert time.perf_counter() - start < 10


def test_large_chunks_take_linear_time() -> None:
    stream = b"event: a\ndata: " + b"y" * 100 + b"\n\n"
    data = stream * 20_000
    start = time.perf_counter()
    events = decode_all(data, [data[i : i + 4096] for i in range(0, len(data), 4096)])
    assert len(events) == 20_000
    assert time.perf_counter() - start < 10


# -- retry values too long for int() --------------------------------------------------

# More digits than int() converts by default (4300): int(value) raises ValueError.
TOO_MANY_DIGITS = b"9" * 5000


def test_retry_with_more_digits_than_int_converts_is_ignored(chunker: Chunker) -> None:
    stream = b"retry: " + TOO_MANY_DIGITS + b"\ndata: a\n\n"
    decoder = SSEDecoder()
    events = [event for part in chunker(stream) for event in decoder.feed(part)]
    assert events == [E("message", "a", "", None)]
    assert retry(decoder) is None
    assert decode_all(stream, chunker) == [E("message", "a", "", None)]


def test_retry_with_too_many_digits_keeps_the_previous_value(chunker: Chunker) -> None:
    stream = b"retry: 7\ndata: a\n\nretry: " + TOO_MANY_DIGITS + b"\ndata: b\n\n"
    decoder = SSEDecoder()
    events = [event for part in chunker(stream) for event in decoder.feed(part)]
    assert events == [E("message", "a", "", 7), E("message", "b", "", None)]
    assert retry(decoder) == 7


def test_retry_with_too_many_digits_in_the_open_block() -> None:
    # The retry property scans the complete lines of a block not ended yet.
    decoder = SSEDecoder()
    assert decoder.feed(b"retry: " + TOO_MANY_DIGITS + b"\n") == []
    assert retry(decoder) is None
    assert incomplete(decoder)
    decoder.close()
    assert retry(decoder) is None
