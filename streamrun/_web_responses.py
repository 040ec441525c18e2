"""``streamrun web --responses``: the page's chat over the Responses API.

The same page, routes and relay as :mod:`streamrun._web`, with
``client.responses.stream(model=..., input=message)`` in place of runs: a
relayed :class:`~streamrun.ResponseStream` sends run-stream JSON
(:func:`~streamrun.relay.wire_json`), so ``streamrun.js`` reads it unchanged.

**Threads.** The Responses API has no threads: a conversation goes on with
``previous_response_id`` (as ``streamrun chat --responses`` does without
``--conversation``). A response stream names its thread
``"thread_" + <its first response id>`` and the page keeps the thread id of
the run events it reads, as in run mode. :class:`PageThreads` maps that id to
the response the next message continues: as soon as the relayed stream
names its thread, that id continues what the message continued (the thread
id the message came with is forgotten: the chat moved to the new id), then
each response of the stream that ends ``completed`` or ``incomplete`` (the
newest round of the tool loop). A response that failed, was stopped or is
left in ``requires_action`` is not continued (its calls were not answered,
and the API refuses a new message after them): the chat goes on after the
last response that ended its turn. The map is an LRU of at most
:data:`MAX_THREADS` threads: only ids of streams this page relayed enter it,
and the least recently used is forgotten first. A ``thread_id`` it does not
know is a 404 (``"code": "unknown_thread"``); the page then starts a new chat.

**Tools.** With ``functions`` their definitions are sent with every request
and the stream's tool loop answers the calls (``function_call_output`` items
of a new response); each output is relayed as a ``streamrun.tool_output``
event, as in run mode. Without them (``--no-tools``), a response that calls a
function ends in ``requires_action``. There is no ``/api/tool_outputs`` here
(409): a response waiting for outputs is complete on the server.

**Stop.** The API cancels background responses only; a foreground response
stops when its stream is closed. ``POST /api/cancel`` (``{"thread_id",
"run_id"}``) closes the relayed stream of that response: the relay sends a
``streamrun.stopped`` event (``{"id", "thread_id", "message"}``) and ends,
and the reply is ``{"id", "status": "stopped", "message"}``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ._client import AsyncClient
from ._exceptions import StreamrunError, ValidationError
from ._function_tool import responses_tool
from ._models import Run
from ._web import _Chat, _error_reply, _ids, _json_error, _Relayed, _ToolOutputs, _WithToolOutputs

if TYPE_CHECKING:
    from .testing import FakeAssistantsServer, Scenario

__all__ = ["MAX_THREADS", "PageThreads", "ResponsesChat", "usage_problem"]

#: The most page threads a :class:`PageThreads` remembers (the least recently used
#: is forgotten first).
MAX_THREADS = 1024

# The run statuses of a response whose turn ended: the next message continues it.
_CONTINUED = frozenset({"completed", "incomplete"})

_STOPPED = (
    "stopped: a foreground response cannot be cancelled through the API; "
    "its stream was closed, which stops it"
)


def usage_problem(args: argparse.Namespace) -> str | None:
    """What clashes in the options of ``streamrun web --responses`` (or is missing
    without ``--fake``), or ``None``; the checks of both modes follow."""
    if args.assistant:
        return "--assistant names an assistant: with --responses use --model"
    if not args.fake and not args.model:
        return "the following arguments are required with --responses: --model (or use --fake)"
    return None


class PageThreads:
    """Page thread id → the response its next message continues, at most ``max_threads``
    of them (an LRU: the least recently used thread is forgotten first)."""

    def __init__(self, max_threads: int = MAX_THREADS) -> None:
        if max_threads < 1:
            raise ValidationError("max_threads", f"must be at least 1, got {max_threads}")
        self.max_threads = max_threads
        self._map: OrderedDict[str, str | None] = OrderedDict()

    def __len__(self) -> int:
        return len(self._map)

    def __contains__(self, thread_id: object) -> bool:
        return thread_id in self._map

    def continued(self, thread_id: str) -> str | None:
        """The response to continue on ``thread_id`` (``None``: none yet, a new chain);
        the thread becomes the most recent. ``KeyError`` for a thread not (or no
        longer) known."""
        response_id = self._map[thread_id]
        self._map.move_to_end(thread_id)
        return response_id

    def set(
        self, thread_id: str, response_id: str | None, *, moved_from: str | None = None
    ) -> None:
        """``thread_id`` continues ``response_id`` now (``None``: a new chain);
        ``moved_from`` (the id the chat had) is forgotten."""
        if moved_from is not None and moved_from != thread_id:
            self._map.pop(moved_from, None)
        self._map[thread_id] = response_id
        self._map.move_to_end(thread_id)
        while len(self._map) > self.max_threads:
            self._map.popitem(last=False)


class _Turn:
    """One relayed response stream of a page thread (``events``: the stream with its
    tool outputs): notes where the thread continues as run events go by, and ends
    with a ``streamrun.stopped`` event once :meth:`stop` is called."""

    def __init__(
        self,
        events: _WithToolOutputs,
        threads: PageThreads,
        moved_from: str | None,
        previous: str | None,
    ) -> None:
        self._events = events
        self._threads = threads
        self._moved_from = moved_from
        self._previous = previous  # what the message continued
        self._iterator: Any = None
        self._stop = asyncio.Event()
        self._stopping: asyncio.Future[Any] | None = None  # waits for stop(), one per turn
        self._ended = False
        self.thread_id: str | None = None
        self.response_ids: set[str] = set()

    def stop(self) -> None:
        """End the relay: the stream is closed (which stops a foreground response)."""
        self._stop.set()

    @property
    def _transport(self) -> Any:
        """The stream's transport: the relay masks its key even cut across deltas."""
        return self._events._transport

    async def __aenter__(self) -> Any:
        return await self._events.__aenter__()

    def __aiter__(self) -> _Turn:
        self._iterator = self._events.__aiter__()
        return self

    async def __anext__(self) -> Any:
        if self._ended:
            raise StopAsyncIteration
        if not self._stop.is_set():
            following = asyncio.ensure_future(self._iterator.__anext__())
            if self._stopping is None:
                self._stopping = asyncio.ensure_future(self._stop.wait())
            try:
                await asyncio.wait({following, self._stopping}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                if not following.done():
                    following.cancel()
                    # The stream is closed next (the relay's aclose): a failure of the
                    # read it was in is not the page's news.
                    with contextlib.suppress(asyncio.CancelledError, StreamrunError):
                        await following
            if not following.cancelled():
                event = following.result()  # or its exception, as the stream raised it
                self._note(event)
                return event
        self._ended = True
        last = max(self.response_ids, default=None)
        return _Relayed(
            "streamrun.stopped", {"id": last, "thread_id": self.thread_id, "message": _STOPPED}
        )

    def _note(self, event: Any) -> None:
        run = getattr(event, "data", None)
        if not isinstance(run, Run) or not run.thread_id:
            return
        if self.thread_id != run.thread_id:
            self._threads.set(run.thread_id, self._previous, moved_from=self._moved_from)
            self.thread_id = run.thread_id
        self.response_ids.add(run.id)
        if run.status in _CONTINUED:
            self._threads.set(run.thread_id, run.id)

    async def aclose(self) -> None:
        if self._stopping is not None:
            self._stopping.cancel()
        await self._events.aclose()


class ResponsesChat(_Chat):
    """The request handlers of a page chatting over the Responses API (see the module)."""

    def __init__(
        self,
        client: AsyncClient,
        *,
        model: str,
        fake: FakeAssistantsServer | None,
        scenario_for: Callable[[str], Scenario] | None,
        functions: Mapping[str, Callable[..., Any]],
        keepalive: float,
        max_threads: int | None = None,
    ) -> None:
        super().__init__(
            client,
            assistant_id="",
            fake=fake,
            scenario_for=scenario_for,
            tools={},
            functions=functions,
            keepalive=keepalive,
        )
        self.model = model
        self.threads = PageThreads(MAX_THREADS if max_threads is None else max_threads)
        self.tool_definitions = [responses_tool(n, f) for n, f in functions.items()]
        self._turns: set[_Turn] = set()  # the streams being relayed

    async def info(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "protocol": "responses",
                "fake": self.fake is not None,
                "model": self.model,
                "functions": sorted(self.functions),
            }
        )

    async def chat(self, request: web.Request) -> web.StreamResponse:
        message, thread_id = await self._message(request)
        previous = None
        if thread_id:
            try:
                previous = self.threads.continued(thread_id)
            except KeyError:
                return web.json_response(
                    {
                        "error": {
                            "message": f"unknown thread {thread_id!r} (this page remembers its "
                            f"newest {self.threads.max_threads} chats): start a new chat",
                            "type": "streamrun_web",
                            "code": "unknown_thread",
                        }
                    },
                    status=404,
                )
        fields: dict[str, Any] = {"model": self.model, "input": message}
        if self.tool_definitions:
            fields["tools"] = self.tool_definitions
        if previous is not None:
            fields["previous_response_id"] = previous
        outputs = _ToolOutputs()
        try:
            stream = self.client.responses.stream(
                handler=outputs, functions=self.functions or None, **fields
            )
        except StreamrunError as exc:
            return _error_reply(exc)
        turn = _Turn(_WithToolOutputs(stream, outputs.events), self.threads, thread_id, previous)
        self._turns.add(turn)
        try:
            return await self._send(request, stream, turn)
        finally:
            self._turns.discard(turn)

    async def tool_outputs(self, request: web.Request) -> web.StreamResponse:
        return _json_error(
            409,
            "over the Responses API the tool loop answers the calls it can; a response "
            "that waits for tool outputs is complete on the server",
        )

    async def cancel(self, request: web.Request) -> web.Response:
        thread_id, run_id = _ids(await self._body(request))
        for turn in self._turns:
            if turn.thread_id == thread_id and run_id in turn.response_ids:
                turn.stop()
                return web.json_response({"id": run_id, "status": "stopped", "message": _STOPPED})
        return _json_error(404, f"response {run_id!r} of thread {thread_id!r} is not streaming")
