"""Snapshot accumulation for run streams: pure, typed, no I/O.

An :class:`Accumulator` is fed every event a run stream yields. It keeps
snapshots of the run, its steps and its messages (instances of the same
classes as the completed objects) and returns, for each event, the handler
callbacks the event implies as plain typed data (:mod:`streamrun._callbacks`:
``(OnTextDelta, delta, snapshot)`` for ``on_text_delta(delta, snapshot)``), in
the order they must be called. The stream awaits them; nothing here knows
about asyncio.

Accumulation (PROTOCOL §7):

* Message content parts are merged by ``index``: text values and refusals are
  appended (O(1), into a :class:`~streamrun.TextBuffer`), annotations merged
  by their own ``index`` (a new index is inserted; for a known one ``text`` is
  appended, offsets and file ids are set), image_file / image_url fields set.
* Tool calls are merged by ``index`` per step: function ``name``,
  ``arguments`` and ``output`` and code_interpreter ``input`` appended (O(1),
  into :class:`~streamrun.TextBuffer` s, as annotation ``text`` and citation
  ``quote``), code_interpreter ``outputs`` merged by their ``index`` (``logs``
  appended), file_search ranking options set and results added (in place).
* Objects of an unknown type (content part, annotation, tool call, output,
  step details) are merged as JSON by the same rule and kept in ``raw``. A
  fragment that omits ``type`` extends the object already at its index. A
  string of ``raw`` appended to is not rebuilt: the fragment is recorded
  beside ``raw`` (O(len(fragment)), as in a :class:`~streamrun.TextBuffer`)
  and reading ``raw`` joins the string and writes it in place, so the dict
  only ever holds plain JSON (one read earlier keeps its strings as they were
  until the next read of ``raw``).
* Nothing joins growing text while feeding. The refusal so far in an
  ``on_refusal_delta`` callback is a lazy :class:`~streamrun.TextBuffer`
  snapshot; :func:`~streamrun._handler.dispatch` hands the hook its ``str``.
* ``thread.message.completed`` / ``.incomplete`` and
  ``thread.run.step.completed`` / ``.failed`` / ``.cancelled`` / ``.expired``
  replace the snapshot: the completed object is authoritative. Deltas arriving
  for a message or step after it ended are ignored (``on_event`` only).
* A delta for a message or step never announced by ``.created`` creates its
  snapshot from the delta's id (fields it cannot know are filled from the
  current run, else left at their defaults).
* Snapshots from ``.created`` events are copies: the events themselves are
  never modified. Snapshots handed to callbacks are the live objects, which
  keep growing; no copy is made for a callback. An event carrying several
  fragments (for the same part or tool call, or not) is applied one fragment
  at a time by :meth:`Accumulator.feed_in_steps`, each fragment's callbacks
  returned before the next is applied: the pipeline calls them in between,
  so every hook sees the snapshots up to and including its own fragment, in
  O(1) time and memory per callback. (:meth:`Accumulator.feed` applies the
  whole event first; its callbacks' snapshots then show all of it.)
* Inserting indices (parts, annotations, tool calls, outputs) is a binary
  search, a step end finds its calls by id in one pass, and
  ``requires_action`` looks each listed call up in an index by id kept up to
  date as ids arrive (not a scan of every step per event): no path is
  quadratic in the number of indices, calls, steps or events; an indexed
  list of an unknown object's ``raw`` keeps its entries by index beside it
  (``_IndexedList``), and its growing strings are joined only when ``raw``
  is read.
* Data that cannot be merged (JSON of the wrong shape, nested deeper than
  ``MAX_DEPTH`` = 128 levels) raises :class:`~streamrun.ProtocolError`.

Callback order, for each event:

1. ``on_event(event)`` first, for every event (unknown ones included).
2. Run events: nothing else, except ``thread.run.requires_action``:
   ``on_tool_call_done`` for each call it lists that is not done yet, in the
   listed order (a listed call never streamed gets ``on_tool_call_created`` +
   ``on_tool_call_done`` with a :class:`~streamrun.FunctionToolCall` built
   from the listing).
3. ``thread.run.step.created``: ``on_run_step_created(snapshot)``.
   ``thread.run.step.delta``: for each tool-call fragment, in wire order,
   ``on_tool_call_created(call)`` when it is the call's first fragment, then
   ``on_tool_call_delta(fragment, call)``; then
   ``on_run_step_delta(delta, snapshot)`` (after the tool-call callbacks, the
   order of the official SDK). Step end: for each tool call of the completed
   step not done yet, in index order, ``on_tool_call_done(call)`` with the
   completed object's call (preceded by ``on_tool_call_created`` when the call
   was never streamed); then ``on_run_step_done(step)``. A step first seen
   ended (the first event of a submit_tool_outputs stream) gets
   ``on_run_step_created``, then created + done for each of its tool calls,
   then ``on_run_step_done``.
4. ``thread.message.created``: ``on_message_created(snapshot)``.
   ``thread.message.delta``: for each content fragment, in wire order: when it
   starts a new part, the done callback of the message's open part, then the
   new part's created callback (``on_text_created(text)`` /
   ``on_refusal_created(refusal)``, the refusal so far: ``""``); then
   ``on_text_delta(fragment, text)`` / ``on_refusal_delta(fragment, refusal)``.
   Then ``on_message_delta(delta, snapshot)`` (again after the part
   callbacks, as the official SDK). Message end: the open part's done callback
   (``on_text_done`` / ``on_refusal_done`` / ``on_image_file_done`` /
   ``on_image_url_done``, with the completed message's part), then created +
   done for each part never streamed (no deltas), then
   ``on_message_done(message)``.
5. :meth:`Accumulator.end` (the stream reached ``[DONE]``): ``on_tool_call_done``
   for every tool call still open, then the done callback of every message's
   open part. Steps and messages the server did not end get no
   ``on_run_step_done`` / ``on_message_done``.

Objects present in a ``.created`` snapshot (a message with content, a step
with tool calls) are announced by their first fragment or, when none comes,
at their parent's end (created immediately followed by done).

Differences from the official SDK (openai-python 3.57.0):

* Tool calls are tracked per step and index, not by one "current index" for
  the whole stream: interleaved parallel calls get exactly one
  ``on_tool_call_created`` and one ``on_tool_call_done`` each, a call is done
  when its step ends, when ``requires_action`` lists it or when the stream
  ends (never because another index started), and index 0 of a new step is
  a new call.
* Every tool-call fragment reaches ``on_tool_call_delta``, the first one
  included, even when one event carries several.
* Text parts are tracked per message: ``on_text_done`` of a part fires before
  the next part's ``on_text_created`` and never for a part of an earlier
  message.
* Refusal parts get ``on_refusal_created`` / ``_delta`` / ``_done``; image_url
  parts ``on_image_url_done``; parts and tool calls only seen in the completed
  object still get their created/done callbacks.
* Completed, failed, cancelled and expired steps replace their snapshots (final
  status and usage), and a step first seen completed is recorded.
* Snapshots are typed objects without delta ``index`` keys; a message or step
  delta without a prior ``.created`` works; accumulating N text deltas costs
  O(N) in total (the SDK re-dumps and rebuilds the block on every delta).
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Callable, Iterable, Iterator
from heapq import heappop, heappush
from typing import Any, Generic, TypeVar

import attrs

from ._callbacks import (
    Callback,
    OnEvent,
    OnImageFileDone,
    OnImageUrlDone,
    OnMessageCreated,
    OnMessageDelta,
    OnMessageDone,
    OnRefusalCreated,
    OnRefusalDelta,
    OnRefusalDone,
    OnRunStepCreated,
    OnRunStepDelta,
    OnRunStepDone,
    OnTextCreated,
    OnTextDelta,
    OnTextDone,
    OnToolCallCreated,
    OnToolCallDelta,
    OnToolCallDone,
)
from ._converter import converter
from ._events import (
    Event,
    ThreadCreated,
    ThreadMessageCompleted,
    ThreadMessageCreated,
    ThreadMessageDelta,
    ThreadMessageIncomplete,
    ThreadMessageInProgress,
    ThreadRunCancelled,
    ThreadRunCancelling,
    ThreadRunCompleted,
    ThreadRunCreated,
    ThreadRunExpired,
    ThreadRunFailed,
    ThreadRunIncomplete,
    ThreadRunInProgress,
    ThreadRunQueued,
    ThreadRunRequiresAction,
    ThreadRunStepCancelled,
    ThreadRunStepCompleted,
    ThreadRunStepCreated,
    ThreadRunStepDelta,
    ThreadRunStepExpired,
    ThreadRunStepFailed,
    ThreadRunStepInProgress,
    UnknownEvent,
)
from ._exceptions import ProtocolError
from ._json import MAX_DEPTH
from ._models import (
    Annotation,
    AnnotationDelta,
    CodeInterpreter,
    CodeInterpreterImage,
    CodeInterpreterImageDelta,
    CodeInterpreterImageFile,
    CodeInterpreterLogs,
    CodeInterpreterLogsDelta,
    CodeInterpreterOutput,
    CodeInterpreterOutputDelta,
    CodeInterpreterToolCall,
    CodeInterpreterToolCallDelta,
    FileCitation,
    FileCitationAnnotation,
    FileCitationDeltaAnnotation,
    FilePathAnnotation,
    FilePathDeltaAnnotation,
    FileSearch,
    FileSearchToolCall,
    FileSearchToolCallDelta,
    FunctionCall,
    FunctionToolCall,
    FunctionToolCallDelta,
    ImageFile,
    ImageFileContentBlock,
    ImageFileDeltaBlock,
    ImageURL,
    ImageURLContentBlock,
    ImageURLDeltaBlock,
    Message,
    MessageContent,
    MessageContentDelta,
    MessageCreation,
    MessageCreationStepDetails,
    MessageCreationStepDetailsDelta,
    MessageDeltaEvent,
    RefusalContentBlock,
    RefusalDeltaBlock,
    RequiredActionFunctionToolCall,
    Run,
    RunStep,
    RunStepDeltaEvent,
    StepDetails,
    Text,
    TextBuffer,
    TextContentBlock,
    TextDeltaBlock,
    ToolCall,
    ToolCallDelta,
    ToolCallsStepDetails,
    ToolCallsStepDetailsDelta,
    UnknownAnnotation,
    UnknownAnnotationDelta,
    UnknownCodeInterpreterOutput,
    UnknownCodeInterpreterOutputDelta,
    UnknownContentBlock,
    UnknownContentDelta,
    UnknownStepDetails,
    UnknownStepDetailsDelta,
    UnknownToolCall,
    UnknownToolCallDelta,
    _Growth,
)

__all__ = ["Accumulator", "Callback"]

_T = TypeVar("_T")


# ---------------------------------------------------------------------------
# JSON merging (objects of unknown types), PROTOCOL §7


def _too_deep() -> ProtocolError:
    return ProtocolError(f"JSON nested deeper than {MAX_DEPTH} levels")


def _copy_json(value: Any, depth: int = 1) -> Any:
    if isinstance(value, dict):
        if depth > MAX_DEPTH:
            raise _too_deep()
        return {k: _copy_json(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        if depth > MAX_DEPTH:
            raise _too_deep()
        return [_copy_json(v, depth + 1) for v in value]
    return value


def _is_indexed(value: list[Any]) -> bool:
    return any(isinstance(v, dict) and "index" in v for v in value)


_NAN = ("nan",)
_UNMATCHED = object()


def _index_key(value: Any, top: bool = True) -> Any:
    """A hashable key equal for ``index`` values that compare equal (``==``).

    JSON arrays and objects become tagged tuples and frozensets. A NaN index
    never equals anything (``_UNMATCHED``); inside an array or object it equals
    another (the stdlib decoder yields one NaN object, and containers compare
    their items by identity first).
    """
    if isinstance(value, float) and value != value:
        return _UNMATCHED if top else _NAN
    if isinstance(value, list):
        return ("list", tuple(_index_key(v, False) for v in value))
    if isinstance(value, dict):
        return ("dict", frozenset((k, _index_key(v, False)) for k, v in value.items()))
    return value


class _IndexedList(list[Any]):
    """A list of a ``raw`` object, with its dict entries by ``index`` beside it,
    so that merging an indexed entry is a lookup, not a scan of the list.

    Equal to (and serialized as) the plain list it holds; only
    :func:`_merge_json` appends to it (an entry without ``index`` is found
    under ``None``, as ``entry.get("index")`` would).
    """

    __slots__ = ("_by_index",)

    def __init__(self, items: Iterable[Any] = ()) -> None:
        super().__init__()
        self._by_index: dict[Any, dict[str, Any]] = {}
        for item in items:
            self.add(item)

    def add(self, item: Any) -> None:
        """Append ``item``."""
        self.append(item)
        if isinstance(item, dict):
            key = _index_key(item.get("index"))
            if key is not _UNMATCHED:
                self._by_index.setdefault(key, item)

    def find(self, index: Any) -> dict[str, Any] | None:
        """The first dict entry whose ``index`` equals ``index``, if any."""
        key = _index_key(index)
        return None if key is _UNMATCHED else self._by_index.get(key)


def _merge_json(
    acc: dict[str, Any], delta: dict[str, Any], growth: _Growth, depth: int = 1
) -> None:
    """Merge ``delta`` into ``acc`` by the delta accumulation rule.

    Strings are appended, objects merged recursively, lists of indexed objects
    merged by ``index``, other lists extended; ``index``, ``type`` and ``id``
    and every other value are replaced. ``depth`` is the nesting level of
    ``acc``: deeper than :data:`~streamrun._json.MAX_DEPTH` is a
    :class:`~streamrun.ProtocolError`. A list merged into becomes an
    :class:`_IndexedList` (once): finding an entry's index is O(1).

    A string appended to is not rebuilt: the fragment goes to ``growth``, the
    owner's record of growing strings (O(len(fragment))), and ``acc`` keeps
    the string as it was until the owner's ``raw`` is read. A replaced value
    drops the fragments recorded for its place and for every string inside it.
    """
    if depth > MAX_DEPTH:
        raise _too_deep()
    inner = depth + 1
    for key, value in delta.items():
        current = acc.get(key)
        if current is None or key in ("index", "type", "id"):
            if growth:
                growth.drop(acc, key, current)
            if isinstance(value, list) and _is_indexed(value):
                acc[key] = current = _IndexedList()
            else:
                acc[key] = _copy_json(value, inner)
                continue
        if isinstance(current, str) and isinstance(value, str):
            growth.append(acc, key, current, value)
        elif isinstance(current, dict) and isinstance(value, dict):
            _merge_json(current, value, growth, inner)
        elif isinstance(current, list) and isinstance(value, list):
            if inner > MAX_DEPTH:
                raise _too_deep()
            if not isinstance(current, _IndexedList):
                acc[key] = current = _IndexedList(current)
            for entry in value:
                if isinstance(entry, dict) and "index" in entry:
                    existing = current.find(entry["index"])
                    if existing is not None:
                        _merge_json(existing, entry, growth, inner + 1)
                        continue
                current.add(_copy_json(entry, inner + 1))
        else:
            if growth:
                growth.drop(acc, key, current)
            acc[key] = _copy_json(value, inner)


def _raw_without_index(raw: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in raw.items() if k != "index"}


def _retype(raw: dict[str, Any], type_: str, union: Any) -> Any:
    """Structure a fragment that omitted ``type`` as the type of the object it extends."""
    try:
        return converter.structure({**raw, "type": type_}, union)
    except Exception as exc:  # cattrs / type errors: the JSON has the wrong shape
        raise _shape_error(f"a fragment extending a {type_!r} object", exc) from exc


def _shape_error(what: str, exc: BaseException) -> ProtocolError:
    return ProtocolError(f"unexpected JSON shape in {what} ({type(exc).__name__}: {exc})")


# ---------------------------------------------------------------------------
# Copies (of created objects, and of snapshots frozen for a callback)


def _snapshot_or_none(buffer: TextBuffer | None) -> TextBuffer | None:
    return None if buffer is None else buffer.snapshot()


def _copy_annotation(a: Annotation) -> Annotation:
    """An independent copy; it shares the growing strings received so far (O(1) each)."""
    if isinstance(a, FileCitationAnnotation):
        fc = a.file_citation
        citation = FileCitation(file_id=fc.file_id, quote=_snapshot_or_none(fc._quote))
        return attrs.evolve(a, text=a._text.snapshot(), file_citation=citation)
    if isinstance(a, FilePathAnnotation):
        return attrs.evolve(a, text=a._text.snapshot(), file_path=attrs.evolve(a.file_path))
    return attrs.evolve(a, raw=_copy_json(a.raw))


def _copy_text(t: Text) -> Text:
    return Text(value=t.value, annotations=[_copy_annotation(a) for a in t.annotations])


def _copy_part(p: MessageContent) -> MessageContent:
    if isinstance(p, TextContentBlock):
        return TextContentBlock(type=p.type, text=_copy_text(p.text))
    if isinstance(p, RefusalContentBlock):
        return RefusalContentBlock(type=p.type, refusal=p.refusal)
    if isinstance(p, ImageFileContentBlock):
        return attrs.evolve(p, image_file=attrs.evolve(p.image_file))
    if isinstance(p, ImageURLContentBlock):
        return attrs.evolve(p, image_url=attrs.evolve(p.image_url))
    return attrs.evolve(p, raw=_copy_json(p.raw))


def _copy_output(o: CodeInterpreterOutput) -> CodeInterpreterOutput:
    if isinstance(o, CodeInterpreterLogs):
        return CodeInterpreterLogs(type=o.type, logs=o.logs)
    if isinstance(o, CodeInterpreterImage):
        return attrs.evolve(o, image=attrs.evolve(o.image))
    return attrs.evolve(o, raw=_copy_json(o.raw))


def _copy_tool_call(c: ToolCall) -> ToolCall:
    if isinstance(c, FunctionToolCall):
        f = c.function
        return FunctionToolCall(
            id=c.id,
            type=c.type,
            function=FunctionCall(name=f.name, arguments=f.arguments, output=f.output),
        )
    if isinstance(c, CodeInterpreterToolCall):
        ci = c.code_interpreter
        return CodeInterpreterToolCall(
            id=c.id,
            type=c.type,
            code_interpreter=CodeInterpreter(
                input=ci.input, outputs=[_copy_output(o) for o in ci.outputs]
            ),
        )
    if isinstance(c, FileSearchToolCall):
        fs = c.file_search
        results = None if fs.results is None else list(fs.results)
        return attrs.evolve(c, file_search=attrs.evolve(fs, results=results))
    return attrs.evolve(c, raw=_copy_json(c.raw))


def _copy_details(d: StepDetails) -> StepDetails:
    if isinstance(d, ToolCallsStepDetails):
        return ToolCallsStepDetails(
            type=d.type, tool_calls=[_copy_tool_call(c) for c in d.tool_calls]
        )
    if isinstance(d, MessageCreationStepDetails):
        return attrs.evolve(d, message_creation=attrs.evolve(d.message_creation))
    return attrs.evolve(d, raw=_copy_json(d.raw))


class _ByIndex(dict[int, _T], Generic[_T]):
    """Objects by their delta ``index``, with the indices also kept sorted, so
    that where a new index goes in a list kept sorted by index is a binary
    search (:meth:`position`), not a scan: inserting n indices costs
    O(n log n) comparisons, not O(n²)."""

    __slots__ = ("_order",)

    def __init__(self, items: Iterable[tuple[int, _T]] = ()) -> None:
        super().__init__(items)
        self._order = sorted(self)

    def __setitem__(self, key: int, value: _T) -> None:
        if key not in self:
            order = self._order
            if not order or key > order[-1]:
                order.append(key)
            else:
                insort(order, key)
        super().__setitem__(key, value)

    def position(self, index: int) -> int:
        """Where ``index`` goes in a list kept sorted by index."""
        return bisect_left(self._order, index)


def _replace_item(items: list[_T], old: _T, new: _T) -> None:
    for i, item in enumerate(items):
        if item is old:
            items[i] = new
            return
    items.append(new)  # pragma: no cover - the snapshot list was changed by its user


# ---------------------------------------------------------------------------
# Message parts


def _part_created(part: MessageContent) -> Callback | None:
    if isinstance(part, TextContentBlock):
        return (OnTextCreated, part.text)
    if isinstance(part, RefusalContentBlock):
        return (OnRefusalCreated, part.refusal)
    return None


def _part_done(part: MessageContent) -> Callback | None:
    if isinstance(part, TextContentBlock):
        return (OnTextDone, part.text)
    if isinstance(part, RefusalContentBlock):
        return (OnRefusalDone, part.refusal)
    if isinstance(part, ImageFileContentBlock):
        return (OnImageFileDone, part.image_file)
    if isinstance(part, ImageURLContentBlock):
        return (OnImageUrlDone, part.image_url)
    return None


@attrs.frozen
class _Family:
    """One family of objects merged by ``index``: message content parts,
    annotations, tool calls or code interpreter outputs."""

    delta: Any
    """The union of the family's delta classes."""
    unknown_delta: type[Any]
    """The delta class of the types this library does not know."""
    unknown: type[Any]
    """The object class of the types this library does not know."""
    of_delta: dict[type, type]
    """The object class each delta class builds."""

    def retyped(self, d: Any, current: Any) -> Any:
        """A fragment ``d`` of the unknown delta class, structured as the type of
        ``current`` when it omitted ``type`` and extends an object of a known type;
        else ``d`` itself."""
        if not d.type and current is not None and not isinstance(current, self.unknown):
            return _retype(d.raw, current.type, self.delta)
        return d


_PARTS = _Family(
    delta=MessageContentDelta,
    unknown_delta=UnknownContentDelta,
    unknown=UnknownContentBlock,
    of_delta={
        TextDeltaBlock: TextContentBlock,
        RefusalDeltaBlock: RefusalContentBlock,
        ImageFileDeltaBlock: ImageFileContentBlock,
        ImageURLDeltaBlock: ImageURLContentBlock,
        UnknownContentDelta: UnknownContentBlock,
    },
)

_ANNOTATIONS = _Family(
    delta=AnnotationDelta,
    unknown_delta=UnknownAnnotationDelta,
    unknown=UnknownAnnotation,
    of_delta={
        FileCitationDeltaAnnotation: FileCitationAnnotation,
        FilePathDeltaAnnotation: FilePathAnnotation,
        UnknownAnnotationDelta: UnknownAnnotation,
    },
)

_CALLS = _Family(
    delta=ToolCallDelta,
    unknown_delta=UnknownToolCallDelta,
    unknown=UnknownToolCall,
    of_delta={
        FunctionToolCallDelta: FunctionToolCall,
        CodeInterpreterToolCallDelta: CodeInterpreterToolCall,
        FileSearchToolCallDelta: FileSearchToolCall,
        UnknownToolCallDelta: UnknownToolCall,
    },
)

_OUTPUTS = _Family(
    delta=CodeInterpreterOutputDelta,
    unknown_delta=UnknownCodeInterpreterOutputDelta,
    unknown=UnknownCodeInterpreterOutput,
    of_delta={
        CodeInterpreterLogsDelta: CodeInterpreterLogs,
        CodeInterpreterImageDelta: CodeInterpreterImage,
        UnknownCodeInterpreterOutputDelta: UnknownCodeInterpreterOutput,
    },
)


def _merge_by_index(
    family: _Family,
    items: list[_T],
    by_index: _ByIndex[_T],
    deltas: Iterable[Any],
    new: Callable[[Any], _T],
    merge: Callable[[_T, Any], None],
) -> None:
    """Merge ``deltas`` into ``items`` (kept sorted by index; ``by_index`` maps
    each index to its object): a new index inserts ``new(delta)``, a known one
    of another type is replaced by ``new(delta)``, else ``merge`` updates it."""
    for d in deltas:
        current = by_index.get(d.index)
        if isinstance(d, family.unknown_delta):
            d = family.retyped(d, current)
        if current is None:
            created = new(d)
            items.insert(by_index.position(d.index), created)
            by_index[d.index] = created
        elif type(current) is not family.of_delta[type(d)]:
            created = new(d)
            _replace_item(items, current, created)
            by_index[d.index] = created
        else:
            merge(current, d)


def _merge_annotation(a: Annotation, d: AnnotationDelta) -> None:
    if isinstance(a, UnknownAnnotation):
        if isinstance(d, UnknownAnnotationDelta):
            _merge_json(a._raw, _raw_without_index(d.raw), a._growing())
        return
    if isinstance(d, UnknownAnnotationDelta):  # pragma: no cover - excluded by the caller
        return
    if d.text:
        a._text.append(d.text)
    if d.start_index is not None:
        a.start_index = d.start_index
    if d.end_index is not None:
        a.end_index = d.end_index
    if isinstance(a, FileCitationAnnotation) and isinstance(d, FileCitationDeltaAnnotation):
        fc = d.file_citation
        if fc is not None:
            if fc.file_id:
                a.file_citation.file_id = fc.file_id
            if fc.quote:
                citation = a.file_citation
                if citation._quote is None:
                    citation._quote = TextBuffer(fc.quote)
                else:
                    citation._quote.append(fc.quote)
    elif isinstance(a, FilePathAnnotation) and isinstance(d, FilePathDeltaAnnotation):
        fp = d.file_path
        if fp is not None and fp.file_id:
            a.file_path.file_id = fp.file_id


def _new_annotation(d: AnnotationDelta) -> Annotation:
    if isinstance(d, FileCitationDeltaAnnotation):
        a: Annotation = FileCitationAnnotation(type=d.type)
    elif isinstance(d, FilePathDeltaAnnotation):
        a = FilePathAnnotation(type=d.type)
    else:
        a = UnknownAnnotation(type=d.type)
    _merge_annotation(a, d)
    return a


def _merge_output(o: CodeInterpreterOutput, d: CodeInterpreterOutputDelta) -> None:
    if isinstance(o, CodeInterpreterLogs):
        if isinstance(d, CodeInterpreterLogsDelta) and d.logs:
            o._logs.append(d.logs)
    elif isinstance(o, CodeInterpreterImage):
        if isinstance(d, CodeInterpreterImageDelta) and d.image is not None and d.image.file_id:
            o.image.file_id = d.image.file_id
    elif isinstance(d, UnknownCodeInterpreterOutputDelta):
        _merge_json(o._raw, _raw_without_index(d.raw), o._growing())


def _new_output(d: CodeInterpreterOutputDelta) -> CodeInterpreterOutput:
    if isinstance(d, CodeInterpreterLogsDelta):
        o: CodeInterpreterOutput = CodeInterpreterLogs(type=d.type)
    elif isinstance(d, CodeInterpreterImageDelta):
        o = CodeInterpreterImage(type=d.type, image=CodeInterpreterImageFile())
    else:
        o = UnknownCodeInterpreterOutput(type=d.type)
    _merge_output(o, d)
    return o


# ---------------------------------------------------------------------------
# Per-object state


class _MessageState:
    """A message snapshot and what is needed to merge deltas into it."""

    __slots__ = ("annotations", "closed", "ended", "open", "parts", "snapshot", "started")

    def __init__(self, snapshot: Message) -> None:
        self.snapshot = snapshot
        # index -> the part object in snapshot.content
        self.parts: _ByIndex[MessageContent] = _ByIndex(enumerate(snapshot.content))
        # part index -> (annotation index -> annotation object)
        self.annotations: dict[int, _ByIndex[Annotation]] = {}
        self.open: int | None = None  # the part announced and not yet done
        self.started: set[int] = set()  # parts whose created callback was emitted
        self.closed: set[int] = set()  # parts whose done callback was emitted
        self.ended = False


class _StepState:
    """A run step snapshot and what is needed to merge deltas into it."""

    __slots__ = ("calls", "closed", "ended", "open", "outputs", "ranks", "seq", "snapshot")

    def __init__(self, snapshot: RunStep, seq: int) -> None:
        self.snapshot = snapshot
        self.seq = seq  # the step's position among the steps seen
        details = snapshot.step_details
        calls = details.tool_calls if isinstance(details, ToolCallsStepDetails) else []
        # index -> the tool call object in snapshot.step_details.tool_calls
        self.calls: _ByIndex[ToolCall] = _ByIndex()
        # index -> its position in ``calls``' iteration order (order of arrival)
        self.ranks: dict[int, int] = {}
        self.set_calls(calls)
        # call index -> (output index -> output object)
        self.outputs: dict[int, _ByIndex[CodeInterpreterOutput]] = {}
        self.open: dict[int, ToolCall] = {}  # announced, not yet done (creation order)
        self.closed: set[int] = set()  # done
        self.ended = False

    def set_calls(self, calls: list[ToolCall]) -> None:
        """The step's calls are now ``calls``, by position."""
        self.calls = _ByIndex(enumerate(calls))
        self.ranks = {i: i for i in range(len(calls))}

    def add_call(self, index: int, call: ToolCall) -> None:
        """Set the call at ``index`` (a new index comes last in iteration order)."""
        if index not in self.calls:
            self.ranks[index] = len(self.ranks)
        self.calls[index] = call


class _CallIds:
    """Where the first streamed call with each id is, kept up to date as ids
    arrive, so that ``requires_action`` looks each listed call up in O(1)
    amortized time instead of scanning every step's calls (O(events × calls)).

    "First" is the order of a scan of the steps in order and each step's calls
    in iteration order: the key ``(step seq, rank)``. Each id has a heap of the
    places that got it. A place whose call has since lost the id, or whose rank
    changed (a step end re-sorts its calls), is stale: lookups drop stale
    entries from the top, each at most once, and every change that makes a
    place hold an id pushes a fresh entry. The heaps hold one entry per id
    received: memory is bounded by the stream.
    """

    __slots__ = ("_count", "_heaps")

    def __init__(self) -> None:
        self._heaps: dict[str, list[tuple[int, int, int, _StepState, int]]] = {}
        self._count = 0

    def add(self, step: _StepState, index: int, call_id: str) -> None:
        """The call at ``index`` of ``step`` now has the id ``call_id``."""
        self._count += 1
        entry = (step.seq, step.ranks[index], self._count, step, index)
        heap = self._heaps.get(call_id)
        if heap is None:
            self._heaps[call_id] = [entry]
        else:
            heappush(heap, entry)

    def add_step(self, step: _StepState) -> None:
        """Every call of ``step`` (just added, or its calls replaced)."""
        for index, call in step.calls.items():
            if call.id and type(call.id) is str:
                self.add(step, index, call.id)

    def find(self, call_id: str) -> tuple[_StepState, int] | None:
        """The first place whose call has the id ``call_id``, if any."""
        heap = self._heaps.get(call_id)
        if heap is None:
            return None
        while heap:
            _, rank, _, step, index = heap[0]
            call = step.calls.get(index)
            if call is not None and call.id == call_id and step.ranks.get(index) == rank:
                return step, index
            heappop(heap)
        del self._heaps[call_id]
        return None


# ---------------------------------------------------------------------------
# The accumulator


# What merging data of the wrong shape can raise: every one becomes a ProtocolError.
_MERGE_ERRORS = (ProtocolError, TypeError, ValueError, AttributeError, KeyError, IndexError)
_END = object()


def _event_error(event: Event, exc: Exception) -> ProtocolError:
    """``exc``, raised while merging ``event``, as the ProtocolError naming the event."""
    if isinstance(exc, ProtocolError):
        error = exc
    else:  # any other shape error the checks missed: still typed
        error = _shape_error(f"event {event.event!r}", exc)
        error.__cause__ = exc
    if error.event is None:
        error.event = event.event
    return error


_Handler = Callable[["Accumulator", Any, list[Callback]], None]


class Accumulator:
    """Builds run, step and message snapshots from run stream events.

    Pure and synchronous: :meth:`feed` applies one event and returns the
    handler callbacks it implies; :meth:`end` returns those still owed when the
    stream ends. The ``current_*`` attributes and the list methods read the
    state at any time, during the stream or after it failed.
    """

    __slots__ = (
        "_call_ids",
        "_ended",
        "_final_messages",
        "_final_steps",
        "_messages",
        "_steps",
        "_synthesized",
        "current_event",
        "current_message_snapshot",
        "current_run",
        "current_run_step_snapshot",
    )

    def __init__(self) -> None:
        self.current_event: Event | None = None
        """The last event fed."""
        self.current_run: Run | None = None
        """The run of the last ``thread.run.*`` event."""
        self.current_message_snapshot: Message | None = None
        """The snapshot of the message of the last message event (the completed object
        once it ended)."""
        self.current_run_step_snapshot: RunStep | None = None
        """The snapshot of the step of the last step event (the ended object once it
        ended)."""
        self._messages: dict[str, _MessageState] = {}
        self._steps: dict[str, _StepState] = {}
        self._final_messages: dict[str, Message] = {}
        self._final_steps: dict[str, RunStep] = {}
        self._synthesized: set[str] = set()
        self._call_ids = _CallIds()
        self._ended = False

    # -- public API --------------------------------------------------------

    def feed(self, event: Event) -> list[Callback]:
        """Apply one event and return the handler callbacks it implies, in order.

        The first callback is always ``(OnEvent, event)``. Accepts every
        event class of :mod:`streamrun._events` but ``ErrorEvent`` and
        ``DoneEvent`` (those get ``on_event`` only), unknown events included.
        The snapshots in the callbacks are the live objects, so they show the
        whole event: to call hooks while an event carrying several fragments
        is applied, one fragment at a time, use :meth:`feed_in_steps`.

        An event whose data cannot be merged (JSON of the wrong shape, nested
        deeper than :data:`~streamrun._json.MAX_DEPTH` levels) raises
        :class:`~streamrun.ProtocolError` naming the event; the snapshots may
        then hold part of it.
        """
        self.current_event = event
        out: list[Callback] = [(OnEvent, event)]
        handler = _HANDLERS.get(type(event))
        if handler is not None:
            try:
                handler(self, event, out)
            except _MERGE_ERRORS as exc:
                raise _event_error(event, exc)  # noqa: B904 - it sets the cause
        return out

    def feed_in_steps(self, event: Event) -> Iterator[list[Callback]]:
        """Apply one event like :meth:`feed`, its callbacks returned in steps.

        A message or step delta carrying several fragments (content parts,
        annotations, tool calls) is applied one fragment at a time: each list
        yielded holds the callbacks of what was just applied, and the next
        fragment is applied only when the next list is asked for. A consumer
        that calls each list's hooks before asking for the next (the
        pipeline does) gives every hook the live snapshots as they stand at
        its own fragment — no copies, so an event of k fragments costs O(k)
        time and no extra memory. Any other event is one list. The lists,
        joined, are what :meth:`feed` returns; the event is applied in full
        once the iterator is exhausted (a consumer that stops early must
        exhaust it). Errors are those of :meth:`feed`, raised at the fragment
        that caused them (by this call for an event of one step).
        """
        kind = type(event)
        if kind is ThreadMessageDelta:
            assert isinstance(event, ThreadMessageDelta)
            content = event.data.delta.content
            if content is not None and len(content) > 1:
                return self._in_steps(event, Accumulator._message_delta_in_steps)
        elif kind is ThreadRunStepDelta:
            assert isinstance(event, ThreadRunStepDelta)
            details = event.data.delta.step_details
            if isinstance(details, ToolCallsStepDetailsDelta) and len(details.tool_calls or ()) > 1:
                return self._in_steps(event, Accumulator._step_delta_in_steps)
        return iter((self.feed(event),))

    def _in_steps(self, event: Event, stepped: _Stepped) -> Iterator[list[Callback]]:
        self.current_event = event
        out: list[Callback] = [(OnEvent, event)]
        steps = stepped(self, event, out)
        start = 0
        while True:
            try:
                more = next(steps, _END) is not _END
            except _MERGE_ERRORS as exc:
                raise _event_error(event, exc)  # noqa: B904 - it sets the cause
            yield out[start:]
            if not more:
                return
            start = len(out)

    def end(self) -> list[Callback]:
        """The stream ended normally (``[DONE]``): the callbacks still owed.

        ``on_tool_call_done`` for each tool call not done yet (steps in order,
        calls in creation order), then the done callback of each message's open
        part. Does not include ``on_end``. A second call returns ``[]``.
        """
        out: list[Callback] = []
        if self._ended:
            return out
        self._ended = True
        for step in self._steps.values():
            for index, call in step.open.items():
                out.append((OnToolCallDone, call))
                step.closed.add(index)
            step.open.clear()
        for message in self._messages.values():
            if message.open is not None:
                done = _part_done(message.parts[message.open])
                if done is not None:
                    out.append(done)
                message.closed.add(message.open)
                message.open = None
        return out

    def resume(self) -> None:
        """Another stream of the same run follows (a ``submit_tool_outputs`` continuation).

        The snapshots go on: steps, tool calls and messages already seen do not
        fire their created/done callbacks again (the continuation's completed tool
        step fires ``on_run_step_done`` only), and :meth:`end` applies again at the
        end of the new stream.
        """
        self._ended = False

    def final_messages(self) -> list[Message]:
        """The messages the stream ended (the completed / incomplete objects), in order."""
        return list(self._final_messages.values())

    def final_run_steps(self) -> list[RunStep]:
        """The steps the stream ended (the completed / failed / cancelled / expired
        objects, with final status and usage), in the order they ended."""
        return list(self._final_steps.values())

    def messages(self) -> list[Message]:
        """Every message seen, in order: its latest snapshot (the completed object
        once it ended)."""
        return [m.snapshot for m in self._messages.values()]

    def run_steps(self) -> list[RunStep]:
        """Every step seen, in order: its latest snapshot (the ended object once it
        ended)."""
        return [s.snapshot for s in self._steps.values()]

    # -- runs --------------------------------------------------------------

    def _on_run(self, event: Any, out: list[Callback]) -> None:
        self.current_run = event.data

    def _on_requires_action(self, event: ThreadRunRequiresAction, out: list[Callback]) -> None:
        run = event.data
        self.current_run = run
        action = run.required_action
        if action is None:
            return
        listed_calls = action.submit_tool_outputs.tool_calls
        if not listed_calls:
            return
        # The first streamed call with each id (steps in order, calls by index
        # order of arrival), from the index kept up to date as ids arrive: no
        # scan of every step per event.
        for listed in listed_calls:
            self._listed_call_done(listed, out)

    def _listed_call_done(
        self, listed: RequiredActionFunctionToolCall, out: list[Callback]
    ) -> None:
        if listed.id:
            found = self._call_ids.find(listed.id)
            if found is not None:
                step, index = found
                call = step.calls[index]
                if index in step.open:
                    out.append((OnToolCallDone, step.open.pop(index)))
                elif index not in step.closed:
                    out.append((OnToolCallCreated, call))
                    out.append((OnToolCallDone, call))
                step.closed.add(index)
                return
            if listed.id in self._synthesized:
                return
            self._synthesized.add(listed.id)
        call = FunctionToolCall(
            id=listed.id,
            type=listed.type or "function",
            function=FunctionCall(name=listed.function.name, arguments=listed.function.arguments),
        )
        out.append((OnToolCallCreated, call))
        out.append((OnToolCallDone, call))

    # -- steps -------------------------------------------------------------

    def _add_step(self, snapshot: RunStep, out: list[Callback]) -> _StepState:
        state = _StepState(snapshot, len(self._steps))
        self._steps[snapshot.id] = state
        self._call_ids.add_step(state)
        self.current_run_step_snapshot = snapshot
        out.append((OnRunStepCreated, snapshot))
        return state

    def _on_step_created(self, event: Any, out: list[Callback]) -> None:
        data: RunStep = event.data
        state = self._steps.get(data.id)
        if state is None:
            self._add_step(attrs.evolve(data, step_details=_copy_details(data.step_details)), out)
            return
        if not state.ended:
            state.snapshot.status = data.status
            self.current_run_step_snapshot = state.snapshot

    def _step_from_delta(self, data: RunStepDeltaEvent) -> RunStep:
        details = data.delta.step_details
        run = self.current_run
        step = RunStep(id=data.id, status="in_progress")
        if run is not None:
            step.run_id, step.thread_id, step.assistant_id = run.id, run.thread_id, run.assistant_id
        if isinstance(details, ToolCallsStepDetailsDelta):
            step.type, step.step_details = "tool_calls", ToolCallsStepDetails()
        elif isinstance(details, MessageCreationStepDetailsDelta):
            step.type, step.step_details = "message_creation", MessageCreationStepDetails()
        elif isinstance(details, UnknownStepDetailsDelta):
            step.type, step.step_details = details.type, UnknownStepDetails(type=details.type)
        return step

    def _on_step_delta(self, event: ThreadRunStepDelta, out: list[Callback]) -> None:
        state = self._delta_step(event, out)
        if state is None:
            return
        details = event.data.delta.step_details
        snapshot = state.snapshot
        if isinstance(details, ToolCallsStepDetailsDelta):
            for entry in details.tool_calls or ():
                self._tool_call_fragment(state, entry, out)
        elif isinstance(details, MessageCreationStepDetailsDelta):
            if details.message_creation is not None:
                if not isinstance(snapshot.step_details, MessageCreationStepDetails):
                    snapshot.step_details = MessageCreationStepDetails()
                snapshot.step_details.message_creation = MessageCreation(
                    message_id=details.message_creation.message_id
                )
        elif isinstance(details, UnknownStepDetailsDelta) and isinstance(
            snapshot.step_details, UnknownStepDetails
        ):
            _merge_json(snapshot.step_details._raw, details.raw, snapshot.step_details._growing())
        out.append((OnRunStepDelta, event.data.delta, snapshot))

    def _step_delta_in_steps(
        self, event: ThreadRunStepDelta, out: list[Callback]
    ) -> Iterator[None]:
        """:meth:`_on_step_delta` for several tool-call fragments: pause (yield) after
        each but the last."""
        state = self._delta_step(event, out)
        if state is None:
            return
        details = event.data.delta.step_details
        assert isinstance(details, ToolCallsStepDetailsDelta) and details.tool_calls
        entries = details.tool_calls
        last = len(entries) - 1
        for k, entry in enumerate(entries):
            self._tool_call_fragment(state, entry, out)
            if k < last:
                yield
        out.append((OnRunStepDelta, event.data.delta, state.snapshot))

    def _delta_step(self, event: ThreadRunStepDelta, out: list[Callback]) -> _StepState | None:
        """The state of a delta's step (created if new; ``None`` once it ended), made
        ready for its tool-call fragments."""
        data = event.data
        state = self._steps.get(data.id)
        if state is None:
            state = self._add_step(self._step_from_delta(data), out)
        elif state.ended:
            return None
        snapshot = state.snapshot
        self.current_run_step_snapshot = snapshot
        details = data.delta.step_details
        if (
            isinstance(details, ToolCallsStepDetailsDelta)
            and details.tool_calls
            and not isinstance(snapshot.step_details, ToolCallsStepDetails)
        ):
            snapshot.step_details = ToolCallsStepDetails()
            state.set_calls([])
        return state

    def _tool_call_fragment(self, state: _StepState, d: ToolCallDelta, out: list[Callback]) -> None:
        index = d.index
        call = state.calls.get(index)
        if isinstance(d, UnknownToolCallDelta):
            d = _CALLS.retyped(d, call)
        if call is None or index not in state.open or type(call) is not _CALLS.of_delta[type(d)]:
            call = self._begin_call(state, index, call, d, out)
        call_id = d.id
        if call_id and call_id != call.id:
            call.id = call_id
            if type(call_id) is str:  # an unknown call's raw id may be any JSON
                self._call_ids.add(state, index, call_id)
        if isinstance(d, FunctionToolCallDelta):
            assert isinstance(call, FunctionToolCall)
            f = d.function
            if f is not None:
                fc = call.function
                if f.name:
                    fc._name.append(f.name)
                if f.arguments:
                    fc._arguments.append(f.arguments)
                if f.output is not None:
                    if fc._output is None:
                        fc._output = TextBuffer(f.output)
                    else:
                        fc._output.append(f.output)
        elif isinstance(d, CodeInterpreterToolCallDelta):
            assert isinstance(call, CodeInterpreterToolCall)
            ci = d.code_interpreter
            if ci is not None:
                if ci.input:
                    call.code_interpreter._input.append(ci.input)
                if ci.outputs:
                    self._merge_outputs(state, index, call.code_interpreter, ci.outputs)
        elif isinstance(d, FileSearchToolCallDelta):
            assert isinstance(call, FileSearchToolCall)
            if d.file_search:
                try:
                    fs: FileSearch = converter.structure(d.file_search, FileSearch)
                except Exception as exc:  # cattrs / type errors: the JSON has the wrong shape
                    raise _shape_error("a file_search tool-call fragment", exc) from exc
                if fs.ranking_options is not None:
                    call.file_search.ranking_options = fs.ranking_options
                if fs.results:
                    results = call.file_search.results
                    if results is None:
                        call.file_search.results = fs.results
                    else:
                        results.extend(fs.results)
        else:
            assert isinstance(call, UnknownToolCall)
            _merge_json(call._raw, _raw_without_index(d.raw), call._growing())
        out.append((OnToolCallDelta, d, call))

    def _begin_call(
        self,
        state: _StepState,
        index: int,
        call: ToolCall | None,
        d: ToolCallDelta,
        out: list[Callback],
    ) -> ToolCall:
        kind = _CALLS.of_delta[type(d)]
        if call is None or type(call) is not kind:
            new: ToolCall = kind(type=d.type)
            details = state.snapshot.step_details
            assert isinstance(details, ToolCallsStepDetails)
            tool_calls = details.tool_calls
            if call is None:
                tool_calls.insert(state.calls.position(index), new)
            else:
                # The same index changed type: end the old call, start a new one.
                _replace_item(tool_calls, call, new)
                old = state.open.pop(index, None)
                if old is not None:
                    out.append((OnToolCallDone, old))
                state.closed.discard(index)
                state.outputs.pop(index, None)
            state.add_call(index, new)
            call = new
        if index not in state.open and index not in state.closed:
            state.open[index] = call
            out.append((OnToolCallCreated, call))
        return call

    def _merge_outputs(
        self,
        state: _StepState,
        index: int,
        ci: CodeInterpreter,
        deltas: list[CodeInterpreterOutputDelta],
    ) -> None:
        outputs = state.outputs.get(index)
        if outputs is None:
            outputs = state.outputs[index] = _ByIndex(enumerate(ci.outputs))
        _merge_by_index(_OUTPUTS, ci.outputs, outputs, deltas, _new_output, _merge_output)

    def _on_step_end(self, event: Any, out: list[Callback]) -> None:
        data: RunStep = event.data
        state = self._steps.get(data.id)
        if state is None:
            state = self._add_step(data, out)
            state.set_calls([])
        elif state.ended:
            state.snapshot = self._final_steps[data.id] = self.current_run_step_snapshot = data
            return
        details = data.step_details
        final_calls = details.tool_calls if isinstance(details, ToolCallsStepDetails) else []
        matched: set[int] = set()
        by_id: dict[str, int] | None = None
        for position, final in enumerate(final_calls):
            index: int | None = position
            call = state.calls.get(position)
            if call is None or (final.id and call.id and call.id != final.id):
                # Not the call at the same position: the streamed call with its id.
                if by_id is None:
                    by_id = {}
                    for i, c in state.calls.items():
                        if c.id:
                            by_id.setdefault(c.id, i)
                index = by_id.get(final.id) if final.id else None
            if index is None:
                if final.id and final.id in self._synthesized:
                    continue  # announced (created + done) when requires_action listed it
                out.append((OnToolCallCreated, final))
                out.append((OnToolCallDone, final))
                continue
            matched.add(index)
            if index in state.open:
                out.append((OnToolCallDone, final))
            elif index not in state.closed:
                out.append((OnToolCallCreated, final))
                out.append((OnToolCallDone, final))
        for index, call in state.open.items():
            if index not in matched:
                out.append((OnToolCallDone, call))
        # From now on the step's calls are the completed object's, all done.
        state.set_calls(final_calls)
        self._call_ids.add_step(state)
        state.closed = set(state.calls)
        state.open.clear()
        state.outputs.clear()
        state.ended = True
        state.snapshot = self._final_steps[data.id] = self.current_run_step_snapshot = data
        out.append((OnRunStepDone, data))

    # -- messages ----------------------------------------------------------

    def _add_message(self, snapshot: Message, out: list[Callback]) -> _MessageState:
        state = _MessageState(snapshot)
        self._messages[snapshot.id] = state
        self.current_message_snapshot = snapshot
        out.append((OnMessageCreated, snapshot))
        return state

    def _on_message_created(self, event: Any, out: list[Callback]) -> None:
        data: Message = event.data
        state = self._messages.get(data.id)
        if state is None:
            content = [_copy_part(p) for p in data.content]
            self._add_message(attrs.evolve(data, content=content), out)
            return
        if not state.ended:
            state.snapshot.status = data.status
            self.current_message_snapshot = state.snapshot

    def _message_from_delta(self, data: MessageDeltaEvent) -> Message:
        message = Message(id=data.id, status="in_progress", role=data.delta.role or "assistant")
        run = self.current_run
        if run is not None:
            message.thread_id, message.run_id = run.thread_id, run.id
            message.assistant_id = run.assistant_id
        return message

    def _on_message_delta(self, event: ThreadMessageDelta, out: list[Callback]) -> None:
        # The hot path (one event per text fragment): _delta_message and
        # _message_delta_end inlined (two calls are ~10% of a delta's cost).
        data = event.data
        state = self._messages.get(data.id)
        if state is None:
            state = self._add_message(self._message_from_delta(data), out)
        elif state.ended:
            return
        snapshot = state.snapshot
        self.current_message_snapshot = snapshot
        delta = data.delta
        if delta.content:
            for entry in delta.content:
                self._content_fragment(state, entry, out)
        if delta.role and not snapshot.role:
            snapshot.role = delta.role
        out.append((OnMessageDelta, delta, snapshot))

    def _message_delta_in_steps(
        self, event: ThreadMessageDelta, out: list[Callback]
    ) -> Iterator[None]:
        """:meth:`_on_message_delta` for several content fragments: pause (yield)
        after each but the last."""
        state = self._delta_message(event, out)
        if state is None:
            return
        entries = event.data.delta.content
        assert entries
        last = len(entries) - 1
        for k, entry in enumerate(entries):
            self._content_fragment(state, entry, out)
            if k < last:
                yield
        self._message_delta_end(state, event, out)

    def _delta_message(
        self, event: ThreadMessageDelta, out: list[Callback]
    ) -> _MessageState | None:
        """The state of a delta's message (created if new; ``None`` once it ended)."""
        data = event.data
        state = self._messages.get(data.id)
        if state is None:
            state = self._add_message(self._message_from_delta(data), out)
        elif state.ended:
            return None
        self.current_message_snapshot = state.snapshot
        return state

    @staticmethod
    def _message_delta_end(
        state: _MessageState, event: ThreadMessageDelta, out: list[Callback]
    ) -> None:
        delta = event.data.delta
        snapshot = state.snapshot
        if delta.role and not snapshot.role:
            snapshot.role = delta.role
        out.append((OnMessageDelta, delta, snapshot))

    def _content_fragment(
        self,
        state: _MessageState,
        d: MessageContentDelta,
        out: list[Callback],
    ) -> None:
        index = d.index
        part = state.parts.get(index)
        if isinstance(d, UnknownContentDelta):
            d = _PARTS.retyped(d, part)
        if part is None or index != state.open or type(part) is not _PARTS.of_delta[type(d)]:
            part = self._begin_part(state, index, part, d, out)
        if isinstance(d, TextDeltaBlock):
            assert isinstance(part, TextContentBlock)
            td = d.text
            if td is not None:
                text = part.text
                if td.value:
                    text._value.append(td.value)
                if td.annotations:
                    self._merge_annotations(state, index, text, td.annotations)
                out.append((OnTextDelta, td, text))
        elif isinstance(d, RefusalDeltaBlock):
            assert isinstance(part, RefusalContentBlock)
            if d.refusal is not None:
                part._refusal.append(d.refusal)
                # The refusal so far, joined only if a handler's hook asks for it
                # (OnRefusalDelta.fire passes it as a str): joining here would cost
                # O(length) per fragment.
                out.append((OnRefusalDelta, d.refusal, part._refusal.snapshot()))
        elif isinstance(d, ImageFileDeltaBlock):
            assert isinstance(part, ImageFileContentBlock)
            if d.image_file is not None:
                if d.image_file.file_id is not None:
                    part.image_file.file_id = d.image_file.file_id
                if d.image_file.detail is not None:
                    part.image_file.detail = d.image_file.detail
        elif isinstance(d, ImageURLDeltaBlock):
            assert isinstance(part, ImageURLContentBlock)
            if d.image_url is not None:
                if d.image_url.url is not None:
                    part.image_url.url = d.image_url.url
                if d.image_url.detail is not None:
                    part.image_url.detail = d.image_url.detail
        else:
            assert isinstance(part, UnknownContentBlock)
            _merge_json(part._raw, _raw_without_index(d.raw), part._growing())

    def _begin_part(
        self,
        state: _MessageState,
        index: int,
        part: MessageContent | None,
        d: MessageContentDelta,
        out: list[Callback],
    ) -> MessageContent:
        kind = _PARTS.of_delta[type(d)]
        if part is None or type(part) is not kind:
            new: MessageContent
            if kind is ImageFileContentBlock:
                new = ImageFileContentBlock(type=d.type, image_file=ImageFile())
            elif kind is ImageURLContentBlock:
                new = ImageURLContentBlock(type=d.type, image_url=ImageURL())
            else:
                new = kind(type=d.type)
            content = state.snapshot.content
            if part is None:
                content.insert(state.parts.position(index), new)
            else:
                # The same index changed type: the old part ends, a new one starts.
                _replace_item(content, part, new)
                if state.open == index:
                    done = _part_done(part)
                    if done is not None:
                        out.append(done)
                    state.open = None
                state.started.discard(index)
                state.closed.discard(index)
                state.annotations.pop(index, None)
            state.parts[index] = part = new
        if index not in state.started:
            self._close_open_part(state, out)
            state.started.add(index)
            state.open = index
            created = _part_created(part)
            if created is not None:
                out.append(created)
        return part

    @staticmethod
    def _close_open_part(state: _MessageState, out: list[Callback]) -> None:
        index = state.open
        if index is None:
            return
        done = _part_done(state.parts[index])
        if done is not None:
            out.append(done)
        state.closed.add(index)
        state.open = None

    @staticmethod
    def _merge_annotations(
        state: _MessageState, index: int, text: Text, deltas: list[AnnotationDelta]
    ) -> None:
        by_index = state.annotations.get(index)
        if by_index is None:
            by_index = state.annotations[index] = _ByIndex(enumerate(text.annotations))
        _merge_by_index(
            _ANNOTATIONS, text.annotations, by_index, deltas, _new_annotation, _merge_annotation
        )

    def _on_message_end(self, event: Any, out: list[Callback]) -> None:
        data: Message = event.data
        state = self._messages.get(data.id)
        if state is None:
            state = self._add_message(data, out)
            state.parts = _ByIndex()
        elif state.ended:
            state.snapshot = self._final_messages[data.id] = self.current_message_snapshot = data
            return
        final_parts = data.content
        index = state.open
        if index is not None:
            part = state.parts[index]
            if index < len(final_parts) and type(final_parts[index]) is type(part):
                part = final_parts[index]
            done = _part_done(part)
            if done is not None:
                out.append(done)
            state.closed.add(index)
            state.open = None
        for position, part in enumerate(final_parts):
            if position in state.started:
                continue
            created = _part_created(part)
            if created is not None:
                out.append(created)
            done = _part_done(part)
            if done is not None:
                out.append(done)
        state.ended = True
        state.snapshot = self._final_messages[data.id] = self.current_message_snapshot = data
        out.append((OnMessageDone, data))

    def _ignore(self, event: Any, out: list[Callback]) -> None:
        return


# A message / step delta applied one fragment at a time (Accumulator.feed_in_steps).
_Stepped = Callable[["Accumulator", Any, list[Callback]], Iterator[None]]

_HANDLERS: dict[type, _Handler] = {
    ThreadCreated: Accumulator._ignore,
    UnknownEvent: Accumulator._ignore,
    ThreadRunCreated: Accumulator._on_run,
    ThreadRunQueued: Accumulator._on_run,
    ThreadRunInProgress: Accumulator._on_run,
    ThreadRunRequiresAction: Accumulator._on_requires_action,
    ThreadRunCompleted: Accumulator._on_run,
    ThreadRunIncomplete: Accumulator._on_run,
    ThreadRunFailed: Accumulator._on_run,
    ThreadRunCancelling: Accumulator._on_run,
    ThreadRunCancelled: Accumulator._on_run,
    ThreadRunExpired: Accumulator._on_run,
    ThreadRunStepCreated: Accumulator._on_step_created,
    ThreadRunStepInProgress: Accumulator._on_step_created,
    ThreadRunStepDelta: Accumulator._on_step_delta,
    ThreadRunStepCompleted: Accumulator._on_step_end,
    ThreadRunStepFailed: Accumulator._on_step_end,
    ThreadRunStepCancelled: Accumulator._on_step_end,
    ThreadRunStepExpired: Accumulator._on_step_end,
    ThreadMessageCreated: Accumulator._on_message_created,
    ThreadMessageInProgress: Accumulator._on_message_created,
    ThreadMessageDelta: Accumulator._on_message_delta,
    ThreadMessageCompleted: Accumulator._on_message_end,
    ThreadMessageIncomplete: Accumulator._on_message_end,
}
