"""The fake Assistants server: aiohttp.web on a real socket."""

from __future__ import annotations

import asyncio
import copy
import importlib
import logging
import os
import time
from collections import deque
from collections.abc import Callable, Collection, Mapping, Sequence
from types import TracebackType
from typing import Any

import attrs
from aiohttp import web

from streamrun._exceptions import ValidationError
from streamrun._json import MAX_DEPTH, NestingError, loads as _loads

from ._engine import Channel, Player, cancel_now, play_recording, without_result_content
from ._errors import FakeServerError, ScenarioError
from ._faults import ChunkSplitter, Faults
from ._recordings import Recording
from ._replies import ASSISTANT, Replies, fake_reply
from ._responses_server import RESPONSES_ENDPOINTS, ResponsesAPI
from ._scenarios import Scenario, ToolOutput
from ._state import JSON, Ids, RunRecord, Store, ThreadRecord, normalize_tool, page
from ._wire import dumps_pretty, error_body, validation_response as _validation_response
from .scenarios import READY_SCENARIOS, ready_scenario

__all__ = ["FakeAssistantsServer", "RecordedRequest", "ServerLimits"]

log = logging.getLogger("streamrun.testing")

INCLUDE_CONTENT = "step_details.tool_calls[*].file_search.results[*].content"
_SECRET_HEADERS = frozenset({"authorization", "api-key", "openai-organization", "openai-project"})

_STATUS_ERRORS: dict[int, tuple[str, str, str | None]] = {
    429: (
        "Rate limit reached for requests. Please try again later.",
        "requests",
        "rate_limit_exceeded",
    ),
    500: (
        "The server had an error while processing your request. Sorry about that!",
        "server_error",
        None,
    ),
    502: ("Bad gateway.", "server_error", None),
    503: ("The engine is currently overloaded, please try again later.", "server_error", None),
}


#: How many distinct x-fake-faults headers with an error status keep a use
#: count (the least recently used are forgotten).
_HEADER_FAULTS_KEPT = 256

_LOST_REPLY_ENDPOINTS = frozenset(
    {"create_run", "create_thread_and_run", "submit_tool_outputs", "create_response"}
)


def _redacted(headers: Mapping[str, str]) -> str:
    shown = {k: ("<redacted>" if k in _SECRET_HEADERS else v) for k, v in headers.items()}
    return repr(shown)


@attrs.frozen
class RecordedRequest:
    """One request the server received.

    ``path`` is the full URL path, ``route`` the path below the base path
    (``/threads/thread_x/runs``), ``endpoint`` the name of the matched
    endpoint (``create_run``, ``get_run``... or ``None``), ``query`` maps
    each query key to its values, ``headers`` has lower-case names (secret
    headers are redacted from the repr), ``body`` is the decoded JSON (None
    when absent or invalid) and ``time`` the clock time of arrival.
    """

    method: str
    path: str
    route: str
    endpoint: str | None
    query: dict[str, list[str]]
    headers: dict[str, str] = attrs.field(repr=_redacted)
    body: Any
    raw_body: bytes = attrs.field(repr=False)
    time: float
    request_id: str


@attrs.frozen(kw_only=True)
class ServerLimits:
    """How much one client can make the fake server hold, and for how long.

    ``max_body_bytes``: a larger request body is answered 413 (the body is
    not read past the limit). ``max_logged_requests`` / ``max_log_bytes``:
    the request log (:attr:`FakeAssistantsServer.requests`) keeps at most this
    many requests and bytes (bodies plus headers); the oldest are dropped.
    ``header_timeout``: seconds a connection may take from its first byte
    (or from connecting) to a complete request head; then it is closed.
    ``body_timeout``: seconds to receive a request body; then 408 and close.

    Not configurable: a request body (or the ``x-fake-faults`` header) nesting
    JSON arrays and objects deeper than streamrun's ``MAX_DEPTH`` (128) levels,
    and a body whose ``Content-Encoding`` does not decode, are answered 400 in
    the official error shape (the latter closing the connection).
    """

    max_body_bytes: int = attrs.field(default=8 * 1024 * 1024, validator=attrs.validators.ge(1))
    max_logged_requests: int = attrs.field(default=10_000, validator=attrs.validators.ge(1))
    max_log_bytes: int = attrs.field(default=64 * 1024 * 1024, validator=attrs.validators.ge(1))
    header_timeout: float = attrs.field(default=10.0, validator=attrs.validators.gt(0))
    body_timeout: float = attrs.field(default=30.0, validator=attrs.validators.gt(0))


_NOT_JSON = (
    "We could not parse the JSON body of your request. (HINT: This likely means you "
    "aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, "
    "but what was sent was not valid JSON. If you have trouble figuring out how to "
    "fix this, please contact us through our help center at help.openai.com.)"
)
_TOO_DEEP = (
    "We could not parse the JSON body of your request: it nests arrays and objects "
    f"deeper than {MAX_DEPTH} levels (the fake server's limit, streamrun's MAX_DEPTH)."
)


def _parse_body(raw: bytes) -> tuple[Any, str | None]:
    """A request body's JSON value (``None`` when empty) and, if it has none, why.

    Decoded with streamrun's bounded decoder: nesting deeper than
    :data:`~streamrun._json.MAX_DEPTH` is refused, never a ``RecursionError``.
    """
    if not raw.strip():
        return None, None
    try:
        return _loads(raw), None
    except NestingError:
        return None, _TOO_DEEP
    except ValueError:
        return None, _NOT_JSON


def _one_line(exc: BaseException) -> str:
    """``exc``'s message on one line (aiohttp's span several)."""
    return " ".join(str(exc).split()).rstrip(".")


def _request_size(req: RecordedRequest) -> int:
    return len(req.raw_body) + sum(len(k) + len(v) for k, v in req.headers.items()) + 256


class _Watched(asyncio.Protocol):
    """Wraps aiohttp's request handler protocol to time its request heads."""

    def __init__(self, inner: asyncio.Protocol, watchdog: _HeaderWatchdog) -> None:
        self.inner = inner
        self.watchdog = watchdog
        self.transport: asyncio.BaseTransport | None = None
        self.timer: asyncio.TimerHandle | None = None
        self.busy = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.watchdog.connections[id(self.inner)] = self
        self.inner.connection_made(transport)
        self.arm()

    def data_received(self, data: bytes) -> None:
        if not self.busy and self.timer is None:
            self.arm()
        self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self.disarm()
        self.watchdog.connections.pop(id(self.inner), None)
        self.inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()

    def arm(self) -> None:
        self.disarm()
        self.timer = asyncio.get_running_loop().call_later(self.watchdog.timeout, self._fire)

    def disarm(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _fire(self) -> None:
        self.timer = None
        self.watchdog.closed += 1
        if self.transport is not None:
            self.transport.close()


class _HeaderWatchdog:
    """Closes connections that take too long to send a complete request head.

    aiohttp's server has no header timeout (only a keep-alive timeout after a
    response), so a client sending its headers one byte at a time holds a
    connection forever. The timer starts when the connection is made and
    when the first byte of a later request arrives, and stops when the
    request reaches the application (:meth:`busy`).
    """

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.connections: dict[int, _Watched] = {}
        #: How many connections were closed for a late request head.
        self.closed = 0

    def wrap(self, factory: Callable[[], asyncio.Protocol]) -> Callable[[], asyncio.Protocol]:
        """A protocol factory whose protocols are watched."""
        return lambda: _Watched(factory(), self)

    def busy(self, inner: object, value: bool) -> None:
        """Mark the connection of ``inner`` as serving a request (no timer) or idle."""
        conn = self.connections.get(id(inner))
        if conn is None:
            return
        conn.busy = value
        if value:
            conn.disarm()


@attrs.define
class _QueuedFaults:
    faults: Faults
    errors_given: int = 0


def _match(pattern: str, route: str) -> bool:
    want = pattern.strip("/").split("/")
    got = route.strip("/").split("/")
    if len(want) != len(got):
        return False
    pairs = zip(want, got, strict=True)
    return all(w == g or (w.startswith("{") and w.endswith("}")) for w, g in pairs)


def _last_user_text(thread: ThreadRecord) -> str | None:
    """The text of the thread's last user message (its text parts joined)."""
    for message in reversed(thread.messages):
        if message.get("role") != "user":
            continue
        parts = message.get("content") or []
        texts = [
            str(p["text"].get("value", ""))
            for p in parts
            if isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), dict)
        ]
        return "".join(texts)
    return None


class FakeAssistantsServer:
    """A faithful fake of the Assistants run endpoints, on 127.0.0.1 by default.

    ::

        async with FakeAssistantsServer() as server:
            client = make_client(base_url=server.base_url, api_key="test")
            server.queue_scenario(scenarios.function_call())
            ...
            assert server.runs_created == 1

    A run on a thread id that does not exist is a 404, as with the real API
    (``auto_create_threads=True`` creates such threads on first use); any
    assistant id is accepted by runs (``POST /assistants`` creates real
    ones). Runs play ``scenario``: a :class:`Scenario`, a ready scenario
    name (default ``"plain_text"``), or a reply engine (a callable taking
    the text of the thread's last user message and returning a Scenario;
    ``"assistant"`` is :func:`fake_reply`, the engine of ``python -m
    streamrun.testing`` and the CLI's ``--fake``). See :meth:`queue_scenario`,
    :meth:`set_thread_scenario`, :meth:`add_recording`, :attr:`faults`,
    :meth:`queue_faults`; request headers ``x-fake-scenario``,
    ``x-fake-recording`` and ``x-fake-faults`` do the same per request.

    The same server answers the Responses API (``POST /responses``, ``GET
    /responses/{id}`` with ``stream=true&starting_after=N``, cancel and the
    Conversations endpoints), playing the same scenarios, selected the same
    way (a conversation id takes the place of the thread id in
    :meth:`set_thread_scenario`), with the same faults; see
    :meth:`get_response`, :meth:`wait_for_response`,
    :meth:`conversation_items`.

    ``api_keys``: accepted keys (``Authorization: Bearer`` or ``api-key``);
    ``None`` accepts any non-empty key. ``base_path`` is the URL prefix
    (``"/v1"``; e.g. ``"/openai"`` for Azure-style URLs). ``clock`` gives
    the time (unix seconds), ``seed`` makes ids reproducible. ``limits``
    (:class:`ServerLimits`) bounds request bodies, the request log and the
    time a client may take to send a request.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        base_path: str = "/v1",
        scenario: Scenario | str | Replies = "plain_text",
        faults: Faults | None = None,
        api_keys: Collection[str] | None = None,
        require_beta_header: bool = False,
        auto_create_threads: bool = False,
        model: str = "gpt-4o-2024-08-06",
        instructions: str | None = "You are a helpful assistant.",
        run_expiry_seconds: float = 600.0,
        seed: int | None = None,
        clock: Callable[[], float] = time.time,
        limits: ServerLimits | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.base_path = "/" + base_path.strip("/") if base_path.strip("/") else ""
        self._default_scenario = self._resolve(scenario)
        self._faults = faults
        self._server_fault_errors = 0
        self.api_keys = None if api_keys is None else frozenset(api_keys)
        self.require_beta_header = require_beta_header
        self.auto_create_threads = auto_create_threads
        self._ids = Ids(seed)
        self._store = Store(
            ids=self._ids,
            clock=clock,
            run_expiry_seconds=run_expiry_seconds,
            model=model,
            instructions=instructions,
        )
        self.limits = limits if limits is not None else ServerLimits()
        self._scenario_queue: deque[Scenario | Replies] = deque()
        self._thread_scenarios: dict[str, Scenario | Replies] = {}
        self._recording_queue: deque[Recording] = deque()
        self._named_recordings: dict[str, Recording] = {}
        self._fault_queue: deque[_QueuedFaults] = deque()
        self._header_fault_uses: dict[str, int] = {}
        self._log: deque[RecordedRequest] = deque()
        self._log_bytes = 0
        #: How many requests were dropped from the log (oldest first).
        self.requests_dropped = 0
        self._watchdog = _HeaderWatchdog(self.limits.header_timeout)
        self._site: asyncio.base_events.Server | None = None
        self.runs_created = 0
        self.internal_errors: list[BaseException] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._channels: set[Channel] = set()
        self._request_ids: dict[int, str] = {}
        # Each request body's JSON value, or why it has none: parsed once, by
        # the middleware, for the request log and for the handlers.
        self._bodies: dict[int, tuple[Any, str | None]] = {}
        self._assistants: dict[str, JSON] = {}
        #: ids of the requests whose faults answer an error after serving them.
        self._lost_replies: set[int] = set()
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._responses = ResponsesAPI(self)

    # -- lifecycle --------------------------------------------------------

    async def start(self) -> None:
        """Bind the socket and start serving."""
        if self._runner is not None:
            raise FakeServerError("the server is already started")
        self._closing = asyncio.Event()
        runner = web.AppRunner(self.make_app(), access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        assert runner.server is not None
        self._watchdog = _HeaderWatchdog(self.limits.header_timeout)
        try:
            site = await asyncio.get_running_loop().create_server(
                self._watchdog.wrap(runner.server), self.host, self.port
            )
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._site = site
        self.port = int(site.sockets[0].getsockname()[1])

    async def close(self) -> None:
        """Stop serving: end open streams, cancel running runs, close connections."""
        if self._runner is None:
            return
        self._closing.set()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        for channel in list(self._channels):
            channel.close()
        runner, self._runner = self._runner, None
        site, self._site = self._site, None
        if site is not None:
            site.close()
        await runner.cleanup()
        for conn in list(self._watchdog.connections.values()):
            conn.disarm()

    async def __aenter__(self) -> FakeAssistantsServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def url(self) -> str:
        """``http://HOST:PORT`` (no base path)."""
        if self._runner is None:
            raise FakeServerError("the server is not started")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The API base URL, e.g. ``http://127.0.0.1:PORT/v1``."""
        return self.url + self.base_path

    # -- configuration ----------------------------------------------------

    @staticmethod
    def _resolve(scenario: Scenario | str | Replies) -> Scenario | Replies:
        if isinstance(scenario, str):
            return fake_reply if scenario == ASSISTANT else ready_scenario(scenario)
        if not isinstance(scenario, Scenario) and not callable(scenario):
            raise ScenarioError(f"not a Scenario or a reply engine: {scenario!r}")
        return scenario

    @property
    def default_scenario(self) -> Scenario | Replies:
        """The scenario (or reply engine) of runs with no other selection."""
        return self._default_scenario

    @default_scenario.setter
    def default_scenario(self, scenario: Scenario | str | Replies) -> None:
        self._default_scenario = self._resolve(scenario)

    def queue_scenario(self, scenario: Scenario | str | Replies) -> None:
        """Play ``scenario`` for the next created run or new response (used in order).

        A reply engine is called with the text of the thread's last user
        message when the run is created (for a response: the last user
        message of its ``input``). A response that continues another with
        tool outputs plays that one's ``then`` and takes nothing from the queue.
        """
        self._scenario_queue.append(self._resolve(scenario))

    def set_thread_scenario(
        self, thread_id: str, scenario: Scenario | str | Replies | None
    ) -> None:
        """Play ``scenario`` for every run on ``thread_id`` (``None`` removes it).

        A conversation id works the same for the responses in that conversation.
        """
        if scenario is None:
            self._thread_scenarios.pop(thread_id, None)
        else:
            self._thread_scenarios[thread_id] = self._resolve(scenario)

    def add_recording(
        self,
        source: Recording | bytes | str | os.PathLike[str],
        endpoint: str | None = None,
    ) -> Recording:
        """Serve a recorded transcript for the next streaming request to ``endpoint``.

        ``source`` is a :class:`Recording`, the bytes of a transcript or a file
        path; ``endpoint`` is ``create_run`` (default), ``create_thread_and_run``
        or ``submit_tool_outputs`` (default for a Recording: its own).
        Recordings are served in the order added, byte for byte (faults still
        apply), with no check of the run's state; the state is updated from
        the events served.
        """
        rec = self._recording(source, endpoint)
        self._recording_queue.append(rec)
        return rec

    @property
    def recording_names(self) -> list[str]:
        """Names usable in the ``x-fake-recording`` header."""
        return list(self._named_recordings)

    def register_recording(
        self,
        name: str,
        source: Recording | bytes | str | os.PathLike[str],
        endpoint: str | None = None,
    ) -> Recording:
        """Make a recording selectable with the ``x-fake-recording: NAME`` header."""
        rec = self._recording(source, endpoint)
        self._named_recordings[name] = rec
        return rec

    @staticmethod
    def _recording(
        source: Recording | bytes | str | os.PathLike[str], endpoint: str | None
    ) -> Recording:
        if isinstance(source, Recording):
            return source if endpoint is None else attrs.evolve(source, endpoint=endpoint)
        if isinstance(source, (bytes, bytearray)):
            return Recording(data=bytes(source), endpoint=endpoint or "create_run")
        return Recording.from_file(source, endpoint=endpoint or "create_run")

    @property
    def faults(self) -> Faults | None:
        """Faults applied to every matching request (the error counter restarts on set)."""
        return self._faults

    @faults.setter
    def faults(self, faults: Faults | None) -> None:
        self._faults = faults
        self._server_fault_errors = 0

    def queue_faults(self, faults: Faults) -> None:
        """Apply ``faults`` to the next matching request.

        With ``error_status`` the fault set stays queued until it has answered
        ``error_count`` requests with that error, then applies its other
        faults to one more request.
        """
        self._fault_queue.append(_QueuedFaults(faults))

    # -- inspection -------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """The recorded requests, oldest first (a copy).

        The log is bounded by :class:`ServerLimits` (``max_logged_requests``,
        ``max_log_bytes``): the oldest requests are dropped first (counted in
        :attr:`requests_dropped`).
        """
        return list(self._log)

    @property
    def slow_connections_closed(self) -> int:
        """How many connections were closed for sending their request head too slowly."""
        return self._watchdog.closed

    def _log_request(self, req: RecordedRequest) -> None:
        self._log.append(req)
        self._log_bytes += _request_size(req)
        limits = self.limits
        while len(self._log) > 1 and (
            len(self._log) > limits.max_logged_requests or self._log_bytes > limits.max_log_bytes
        ):
            old = self._log.popleft()
            self._log_bytes -= _request_size(old)
            self.requests_dropped += 1

    def count(self, method: str, pattern: str) -> int:
        """How many requests matched ``method`` and a route pattern.

        The pattern is relative to the base path; ``{...}`` segments match
        anything: ``server.count("POST", "/threads/{id}/runs")``.
        """
        return sum(
            1 for r in self.requests if r.method == method.upper() and _match(pattern, r.route)
        )

    def requests_to(self, endpoint: str) -> list[RecordedRequest]:
        """The recorded requests of one endpoint (``create_run``, ``cancel_run``...)."""
        return [r for r in self.requests if r.endpoint == endpoint]

    @property
    def cancel_requests(self) -> list[RecordedRequest]:
        """The recorded cancel requests."""
        return self.requests_to("cancel_run")

    def get_run(self, run_id: str) -> JSON | None:
        """A copy of the run object as GET would return it (None if unknown)."""
        run = self._store.runs.get(run_id)
        if run is None:
            return None
        self._store.expire_if_due(run)
        return copy.deepcopy(run.obj)

    def run_ids(self) -> list[str]:
        """The ids of all runs, in creation order."""
        return list(self._store.runs)

    def run_steps(self, run_id: str) -> list[JSON]:
        """Copies of a run's steps, in creation order."""
        run = self._store.runs.get(run_id)
        return copy.deepcopy(run.steps) if run else []

    def thread_messages(self, thread_id: str) -> list[JSON]:
        """Copies of a thread's messages, oldest first."""
        thread = self._store.threads.get(thread_id)
        return copy.deepcopy(thread.messages) if thread else []

    def create_thread(self, thread_id: str | None = None, metadata: Any = None) -> str:
        """Create a thread (useful with ``auto_create_threads=False``); returns its id."""
        return self._store.new_thread(thread_id, metadata=metadata).id

    async def wait_for_run(self, run_id: str, timeout: float = 5.0) -> JSON:
        """Wait until no stream drives the run (it is terminal or requires_action).

        Returns a copy of the run object.
        """
        run = self._store.runs.get(run_id)
        if run is None:
            raise FakeServerError(f"unknown run {run_id!r}")
        await asyncio.wait_for(run.settled.wait(), timeout)
        return copy.deepcopy(run.obj)

    # -- inspection: the Responses API -------------------------------------

    @property
    def responses_created(self) -> int:
        """How many responses ``POST /responses`` created."""
        return self._responses.created

    def get_response(self, response_id: str) -> JSON | None:
        """A copy of the response object as GET would return it (None if unknown)."""
        record = self._responses.find(response_id)
        return copy.deepcopy(record.obj) if record is not None else None

    def response_ids(self) -> list[str]:
        """The ids of all stored responses, in creation order."""
        return [r.id for r in self._responses.responses.values() if r.stored]

    async def wait_for_response(self, response_id: str, timeout: float = 5.0) -> JSON:
        """Wait until the response has ended (or waits for tool outputs); returns a copy."""
        record = self._responses.find(response_id)
        if record is None:
            raise FakeServerError(f"unknown response {response_id!r}")
        await asyncio.wait_for(record.done.wait(), timeout)
        return copy.deepcopy(record.obj)

    def create_conversation(
        self,
        conversation_id: str | None = None,
        items: Sequence[JSON] = (),
        metadata: Any = None,
    ) -> str:
        """Create a conversation (optionally holding input ``items``); returns its id."""
        return str(self._responses.new_conversation(conversation_id, items, metadata).obj["id"])

    def conversation_items(self, conversation_id: str) -> list[JSON]:
        """Copies of a conversation's items, oldest first."""
        record = self._responses.conversations.get(conversation_id)
        return copy.deepcopy(record.items) if record is not None else []

    async def wait_idle(self, timeout: float = 5.0) -> None:
        """Wait until every run being played has settled."""
        tasks = list(self._tasks)
        if tasks:
            await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout)

    # -- the app ----------------------------------------------------------

    def make_app(self) -> web.Application:
        """The aiohttp application (routes under the base path)."""
        app = web.Application(
            middlewares=[self._middleware], client_max_size=self.limits.max_body_bytes
        )
        app.on_response_prepare.append(self._on_prepare)
        b = self.base_path
        thread = f"{b}/threads/{{thread_id}}"
        run = f"{thread}/runs/{{run_id}}"
        app.add_routes(
            [
                web.post(
                    f"{b}/threads/runs", self._h_create_thread_and_run, name="create_thread_and_run"
                ),
                web.post(f"{b}/threads", self._h_create_thread, name="create_thread"),
                web.get(thread, self._h_get_thread, name="get_thread"),
                web.post(f"{thread}/runs", self._h_create_run, name="create_run"),
                web.get(run, self._h_get_run, name="get_run"),
                web.post(
                    f"{run}/submit_tool_outputs",
                    self._h_submit_tool_outputs,
                    name="submit_tool_outputs",
                ),
                web.post(f"{run}/cancel", self._h_cancel, name="cancel_run"),
                web.get(f"{run}/steps", self._h_list_steps, name="list_run_steps"),
                web.get(f"{thread}/runs", self._h_list_runs, name="list_runs"),
                web.get(f"{thread}/messages", self._h_list_messages, name="list_messages"),
                web.post(f"{thread}/messages", self._h_create_message, name="create_message"),
                web.post(f"{b}/assistants", self._h_create_assistant, name="create_assistant"),
                web.get(f"{b}/assistants", self._h_list_assistants, name="list_assistants"),
                web.get(
                    f"{b}/assistants/{{assistant_id}}", self._h_get_assistant, name="get_assistant"
                ),
                *self._responses.routes(b),
            ]
        )
        return app

    async def _on_prepare(self, request: web.Request, response: web.StreamResponse) -> None:
        rid = self._request_ids.get(id(request))
        if rid is not None:
            response.headers["x-request-id"] = rid

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Any]
    ) -> web.StreamResponse:
        rid = self._ids.request_id()
        self._request_ids[id(request)] = rid
        self._watchdog.busy(request.protocol, True)
        try:
            return await self._handle(request, handler, rid)
        finally:
            del self._request_ids[id(request)]
            self._bodies.pop(id(request), None)
            self._lost_replies.discard(id(request))
            self._watchdog.busy(request.protocol, False)

    async def _final_error(
        self, request: web.Request, rid: str, status: int, message: str
    ) -> web.StreamResponse:
        """Send an error answer at once, the last on its connection (``Connection: close``)."""
        resp = self._error(status, message, headers={"x-request-id": rid, "Connection": "close"})
        resp.force_close()
        await resp.prepare(request)
        await resp.write_eof()
        return resp

    async def _handle(
        self, request: web.Request, handler: Callable[[web.Request], Any], rid: str
    ) -> web.StreamResponse:
        limit = self.limits.max_body_bytes
        if request.content_length is not None and request.content_length > limit:
            return self._too_large(request, rid)
        try:
            raw = await asyncio.wait_for(request.read(), self.limits.body_timeout)
        except web.HTTPRequestEntityTooLarge:
            return self._too_large(request, rid)
        except asyncio.TimeoutError:
            resp = await self._final_error(
                request,
                rid,
                408,
                f"The request body did not arrive within {self.limits.body_timeout:g} seconds.",
            )
            # Close now: aiohttp would otherwise linger, reading the rest of the
            # body for up to 10 seconds.
            if request.transport is not None:
                request.transport.close()
            return resp
        except web.RequestPayloadError as exc:
            # A body aiohttp cannot decode (Content-Encoding: gzip that is not
            # gzip, a broken chunked framing): a 400, and the connection closes
            # since what follows on it cannot be trusted. Closed here, so that
            # aiohttp does not read on (and log the same error as unhandled).
            resp = await self._final_error(
                request, rid, 400, f"We could not read the body of your request: {_one_line(exc)}."
            )
            request.protocol.force_close()
            return resp
        body, problem = _parse_body(raw)
        self._bodies[id(request)] = (body, problem)
        route = request.path
        if self.base_path and route.startswith(self.base_path):
            route = route[len(self.base_path) :] or "/"
        info = request.match_info
        endpoint = info.route.name if info.http_exception is None else None
        query: dict[str, list[str]] = {}
        for key, value in request.query.items():
            query.setdefault(key, []).append(value)
        self._log_request(
            RecordedRequest(
                method=request.method,
                path=request.path,
                route=route,
                endpoint=endpoint,
                query=query,
                headers={k.lower(): v for k, v in request.headers.items()},
                body=body,
                raw_body=raw,
                time=self._store.clock(),
                request_id=rid,
            )
        )
        try:
            response: web.StreamResponse = await handler(request)
        except web.HTTPException as exc:
            if exc.status not in (404, 405):
                raise
            response = self._error(exc.status, f"Invalid URL ({request.method} {request.path})")
        if not response.prepared:
            response.headers["x-request-id"] = rid
        return response

    # -- responses --------------------------------------------------------

    def _too_large(self, request: web.Request, rid: str) -> web.Response:
        limit = self.limits.max_body_bytes
        resp = self._error(
            413,
            f"The request body is larger than the fake server's limit of {limit} bytes "
            f"(ServerLimits.max_body_bytes).",
            headers={"x-request-id": rid, "Connection": "close"},
        )
        resp.force_close()
        return resp

    @staticmethod
    def _json(obj: Any, status: int = 200) -> web.Response:
        return web.Response(status=status, text=dumps_pretty(obj), content_type="application/json")

    def _error(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> web.Response:
        resp = self._json(error_body(message, type=type, param=param, code=code), status)
        if headers:
            resp.headers.update(headers)
        return resp

    def _fault_error(self, faults: Faults) -> web.Response:
        status = faults.error_status or 500
        message, kind, code = _STATUS_ERRORS.get(
            status, (f"The server answered with HTTP {status}.", "server_error", None)
        )
        headers: dict[str, str] = {}
        if faults.retry_after is not None:
            ra = faults.retry_after
            headers["Retry-After"] = str(int(ra)) if float(ra).is_integer() else str(ra)
            headers["retry-after-ms"] = str(int(ra * 1000))
        return self._error(status, message, type=kind, code=code, headers=headers)

    # -- request checks ---------------------------------------------------

    def _check_auth(self, request: web.Request, *, beta: bool = True) -> web.Response | None:
        auth = request.headers.get("Authorization", "")
        key = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
        key = key or request.headers.get("api-key", "").strip()
        if not key:
            return self._error(
                401,
                "You didn't provide an API key. You need to provide your API key in an "
                "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                code="invalid_api_key",
            )
        if self.api_keys is not None and key not in self.api_keys:
            return self._error(
                401,
                "Incorrect API key provided. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
                code="invalid_api_key",
            )
        if (
            beta
            and self.require_beta_header
            and "assistants=v2" not in request.headers.get("OpenAI-Beta", "")
        ):
            return self._error(
                400,
                "You must provide the 'OpenAI-Beta' header to access the Assistants API. "
                "Please try again by setting the header 'OpenAI-Beta: assistants=v2'.",
                code="invalid_beta",
            )
        return None

    def _select_faults(self, request: web.Request, endpoint: str) -> tuple[Faults | None, bool]:
        """The faults for this request and whether to answer with their error status."""
        header = request.headers.get("x-fake-faults")
        if header:
            faults = Faults.from_json(header)
            if faults.error_status is None:
                return faults, False
            uses = self._header_fault_uses.pop(header, 0)
            self._header_fault_uses[header] = uses + 1  # most recent last
            while len(self._header_fault_uses) > _HEADER_FAULTS_KEPT:
                del self._header_fault_uses[next(iter(self._header_fault_uses))]
            return faults, uses < faults.error_count
        for slot in self._fault_queue:
            if endpoint in slot.faults.endpoints:
                f = slot.faults
                if f.error_status is not None and slot.errors_given < f.error_count:
                    slot.errors_given += 1
                    return f, True
                self._fault_queue.remove(slot)
                return f, False
        f2 = self._faults
        if f2 is not None and endpoint in f2.endpoints:
            if f2.error_status is not None and self._server_fault_errors < f2.error_count:
                self._server_fault_errors += 1
                return f2, True
            return f2, False
        return None, False

    async def _preamble(
        self, request: web.Request, endpoint: str
    ) -> tuple[Faults | None, web.Response | None]:
        denied = self._check_auth(request, beta=endpoint not in RESPONSES_ENDPOINTS)
        if denied is not None:
            return None, denied
        try:
            faults, error = self._select_faults(request, endpoint)
        except FakeServerError as exc:
            return None, self._error(400, f"Bad x-fake-faults header: {exc}")
        lost = faults is not None and faults.error_after_create
        if error and lost and endpoint in _LOST_REPLY_ENDPOINTS:
            self._lost_replies.add(id(request))
            return faults, None
        if error and faults is not None:
            return faults, self._fault_error(faults)
        return faults, None

    async def _body(self, request: web.Request) -> tuple[JSON, web.Response | None]:
        raw = await request.read()  # read once already: aiohttp keeps it
        if not raw.strip():
            return {}, None
        parsed = self._bodies.get(id(request))
        body, problem = parsed if parsed is not None else _parse_body(raw)
        if problem is not None:
            return {}, self._error(400, problem)
        if not isinstance(body, dict):
            return {}, self._error(400, "The request body must be a JSON object.")
        return body, None

    def _validate(self, kind: str, body: JSON) -> web.Response | None:
        try:
            module = importlib.import_module("streamrun._requests")
        except ImportError:  # pragma: no cover - the module ships with streamrun
            return self._minimal_validation(kind, body)
        validate: Callable[[str, Any], None] = module.validate_body
        try:
            validate(kind, body)
        except ValidationError as exc:
            message, param, code = _validation_response(exc)
            return self._error(400, message, param=param, code=code)
        return None

    def _validate_params(self, class_name: str, body: JSON) -> web.Response | None:
        """Validate ``body`` with a request class of ``streamrun._requests``."""
        try:
            module = importlib.import_module("streamrun._requests")
        except ImportError:  # pragma: no cover - the module ships with streamrun
            return None
        try:
            getattr(module, class_name).from_dict(body)
        except ValidationError as exc:
            message, param, code = _validation_response(exc)
            return self._error(400, message, param=param, code=code)
        return None

    def _minimal_validation(self, kind: str, body: JSON) -> web.Response | None:
        required = {
            "create_run": "assistant_id",
            "create_thread_and_run": "assistant_id",
            "submit_tool_outputs": "tool_outputs",
        }[kind]
        if required not in body:
            return self._error(
                400,
                f"Missing required parameter: '{required}'.",
                param=required,
                code="missing_required_parameter",
            )
        return None

    def _include(self, request: web.Request) -> tuple[bool, web.Response | None]:
        values = request.query.getall("include[]", []) + request.query.getall("include", [])
        for i, value in enumerate(values):
            if value != INCLUDE_CONTENT:
                return False, self._error(
                    400,
                    f"Invalid 'include[{i}]': must be '{INCLUDE_CONTENT}', got {value!r}.",
                    param=f"include[{i}]",
                    code="invalid_value",
                )
        return bool(values), None

    def _thread(self, thread_id: str) -> ThreadRecord | None:
        thread = self._store.threads.get(thread_id)
        if thread is None and self.auto_create_threads:
            thread = self._store.new_thread(thread_id)
        return thread

    def _no_thread(self, thread_id: str) -> web.Response:
        return self._error(404, f"No thread found with id '{thread_id}'.")

    def _find_run(self, thread_id: str, run_id: str) -> RunRecord | None:
        run = self._store.runs.get(run_id)
        if run is None or run.thread_id != thread_id:
            return None
        self._store.expire_if_due(run)
        return run

    def _no_run(self, run_id: str) -> web.Response:
        return self._error(404, f"No run found with id '{run_id}'.")

    def _request_run(self, request: web.Request) -> RunRecord | web.Response:
        """The run the request's path names, or the 404 response."""
        run_id = request.match_info["run_id"]
        run = self._find_run(request.match_info["thread_id"], run_id)
        return self._no_run(run_id) if run is None else run

    def _pick_scenario(
        self, request: web.Request, thread_id: str | None
    ) -> tuple[Scenario | Replies | None, web.Response | None]:
        name = request.headers.get("x-fake-scenario")
        if name:
            if name == ASSISTANT:
                return fake_reply, None
            if name not in READY_SCENARIOS:
                known = ", ".join(READY_SCENARIOS)
                return None, self._error(
                    400, f"Unknown x-fake-scenario {name!r}; ready scenarios: {known}."
                )
            return ready_scenario(name), None
        if self._scenario_queue:
            return self._scenario_queue.popleft(), None
        if thread_id is not None and thread_id in self._thread_scenarios:
            return self._thread_scenarios[thread_id], None
        return self._default_scenario, None

    def _take_recording(
        self, request: web.Request, endpoint: str, stream: bool
    ) -> tuple[Recording | None, web.Response | None]:
        name = request.headers.get("x-fake-recording")
        if name:
            rec = self._named_recordings.get(name)
            if rec is None:
                known = ", ".join(self._named_recordings) or "none"
                return None, self._error(
                    400, f"Unknown x-fake-recording {name!r}; registered: {known}."
                )
            if not stream:
                return None, self._error(400, 'x-fake-recording needs "stream": true.')
            return rec, None
        if not stream:
            return None, None
        for rec in self._recording_queue:
            if rec.endpoint == endpoint:
                self._recording_queue.remove(rec)
                return rec, None
        return None, None

    # -- task management --------------------------------------------------

    def _spawn(self, coro: Any) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            assert exc is not None
            self.internal_errors.append(exc)
            log.error("fake server run task failed", exc_info=exc)

    def _start_player(
        self,
        run: RunRecord,
        faults: Faults | None,
        stream: bool,
        play: Callable[[Player], Any],
    ) -> Channel | None:
        channel = Channel() if stream else None
        player = Player(self._store, run, channel, delay=faults.delay if faults else 0.0)
        run.settled.clear()
        run.task = self._spawn(play(player))
        return channel

    # -- streaming --------------------------------------------------------

    async def _serve_stream(
        self, request: web.Request, channel: Channel, faults: Faults | None
    ) -> web.StreamResponse:
        self._channels.add(channel)
        try:
            return await self._write_stream(request, channel, faults)
        finally:
            self._channels.discard(channel)

    async def _write_stream(
        self, request: web.Request, channel: Channel, faults: Faults | None
    ) -> web.StreamResponse:
        resp = web.StreamResponse(
            status=200,
            headers={
                "Content-Type": "text/event-stream; charset=utf-8",
                "Cache-Control": "no-cache",
            },
        )
        await resp.prepare(request)
        splitter = ChunkSplitter(faults)

        async def write(data: bytes | bytearray) -> None:
            for piece in splitter.split(bytes(data)):
                await resp.write(piece)

        index = 0
        try:
            if faults is not None and faults.stall_after == 0:
                await self._stall(faults.stall_seconds)
            while True:
                first = await channel.get()
                batch = [first, *channel.ready()]
                pending = bytearray()
                ended = False
                for event in batch:
                    if event is None:
                        ended = True
                        break
                    if faults is not None and faults.drop_after == index:
                        await write(pending)
                        transport = request.transport
                        if transport is not None:
                            transport.close()
                        return resp
                    if faults is not None:
                        event = faults.transform(event, index)
                    pending += event.raw
                    index += 1
                    if faults is not None and faults.stall_after == index:
                        await write(pending)
                        pending.clear()
                        await self._stall(faults.stall_seconds)
                await write(pending)
                if ended:
                    break
            await resp.write_eof()
        except ConnectionError:
            pass
        return resp

    async def _stall(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._closing.wait(), seconds)
        except asyncio.TimeoutError:
            pass

    async def _serve_recording(
        self, request: web.Request, recording: Recording, faults: Faults | None
    ) -> web.StreamResponse:
        channel = Channel()
        self._spawn(
            play_recording(
                self._store, recording.events(), channel, delay=faults.delay if faults else 0.0
            )
        )
        return await self._serve_stream(request, channel, faults)

    # -- handlers: runs ---------------------------------------------------

    async def _h_create_run(self, request: web.Request) -> web.StreamResponse:
        return await self._create(request, "create_run")

    async def _h_create_thread_and_run(self, request: web.Request) -> web.StreamResponse:
        return await self._create(request, "create_thread_and_run")

    async def _create(self, request: web.Request, endpoint: str) -> web.StreamResponse:
        faults, denied = await self._preamble(request, endpoint)
        if denied is not None:
            return denied
        body, bad = await self._body(request)
        if bad is not None:
            return bad
        include, bad = (False, None) if endpoint != "create_run" else self._include(request)
        if bad is not None:
            return bad
        bad = self._validate(endpoint, body)
        if bad is not None:
            return bad
        stream = body.get("stream") is True
        thread: ThreadRecord | None = None
        thread_id: str | None = None
        if endpoint == "create_run":
            thread_id = request.match_info["thread_id"]
            thread = self._thread(thread_id)
            if thread is None:
                return self._no_thread(thread_id)
        # A lost reply plays a scenario (recordings are not served for it).
        lost = id(request) in self._lost_replies
        recording, bad = (None, None) if lost else self._take_recording(request, endpoint, stream)
        if bad is not None:
            return bad
        if recording is not None:
            self.runs_created += 1
            return await self._serve_recording(request, recording, faults)
        if thread is not None:
            active = self._store.active_run(thread)
            if active is not None:
                return self._error(
                    400, f"Thread {thread.id} already has an active run {active.id}."
                )
        scenario, bad = self._pick_scenario(request, thread_id)
        if bad is not None:
            return bad
        assert scenario is not None
        thread_obj: JSON | None = None
        if thread is None:
            spec = body.get("thread") or {}
            thread = self._store.new_thread(
                metadata=spec.get("metadata"), tool_resources=spec.get("tool_resources")
            )
            for message in spec.get("messages") or []:
                self._store.user_message(thread, message)
            thread_obj = copy.deepcopy(thread.obj)
        else:
            for message in body.get("additional_messages") or []:
                self._store.user_message(thread, message)
        if not isinstance(scenario, Scenario):
            try:
                scenario = scenario(_last_user_text(thread))
                if not isinstance(scenario, Scenario):
                    raise ScenarioError(f"the reply engine returned {scenario!r}")
            except Exception as exc:  # a user's reply engine failed
                self.internal_errors.append(exc)
                return self._error(500, f"The reply engine failed: {exc!r}", type="server_error")
        run = self._store.new_run(
            thread,
            body,
            with_tool_resources=endpoint == "create_thread_and_run",
            include_content=include,
        )
        self.runs_created += 1
        snapshot = copy.deepcopy(run.obj)
        if id(request) in self._lost_replies:
            self._start_player(run, None, False, lambda p: p.play_new(scenario, thread_obj))
            assert faults is not None
            return self._fault_error(faults)
        channel = self._start_player(
            run, faults, stream, lambda p: p.play_new(scenario, thread_obj)
        )
        if channel is None:
            return self._json(snapshot)
        return await self._serve_stream(request, channel, faults)

    async def _h_submit_tool_outputs(self, request: web.Request) -> web.StreamResponse:
        faults, denied = await self._preamble(request, "submit_tool_outputs")
        if denied is not None:
            return denied
        body, bad = await self._body(request)
        if bad is not None:
            return bad
        bad = self._validate("submit_tool_outputs", body)
        if bad is not None:
            return bad
        stream = body.get("stream") is True
        recording, bad = (
            (None, None)
            if id(request) in self._lost_replies
            else self._take_recording(request, "submit_tool_outputs", stream)
        )
        if bad is not None:
            return bad
        if recording is not None:
            return await self._serve_recording(request, recording, faults)
        run = self._request_run(request)
        if isinstance(run, web.Response):
            return run
        if run.status != "requires_action":
            return self._error(400, f'Runs in status "{run.status}" do not accept tool outputs.')
        expected = self._store.expected_call_ids(run)
        given_items = [o for o in body.get("tool_outputs") or [] if isinstance(o, dict)]
        given = [str(o.get("tool_call_id")) for o in given_items]
        if sorted(given) != sorted(expected):
            return self._error(
                400,
                f"Expected tool outputs for call_ids {expected!r}, got {given!r}",
                param="tool_outputs",
            )
        by_id = {str(o.get("tool_call_id")): str(o.get("output") or "") for o in given_items}
        outputs = [ToolOutput(cid, by_id[cid]) for cid in expected]
        try:
            scenario = self._store.continuation(run, outputs)
        except Exception as exc:  # a user's continuation callable failed
            self.internal_errors.append(exc)
            return self._error(
                500, f"The continuation scenario failed: {exc!r}", type="server_error"
            )
        step = self._store.apply_tool_outputs(run, outputs)
        self._store.threads[run.thread_id].active_run_id = run.id
        snapshot = copy.deepcopy(run.obj)
        if id(request) in self._lost_replies:
            self._start_player(run, None, False, lambda p: p.play_continuation(step, scenario))
            assert faults is not None
            return self._fault_error(faults)
        channel = self._start_player(
            run, faults, stream, lambda p: p.play_continuation(step, scenario)
        )
        if channel is None:
            return self._json(snapshot)
        return await self._serve_stream(request, channel, faults)

    async def _h_get_run(self, request: web.Request) -> web.StreamResponse:
        _, denied = await self._preamble(request, "get_run")
        if denied is not None:
            return denied
        run = self._request_run(request)
        if isinstance(run, web.Response):
            return run
        return self._json(run.obj)

    async def _h_cancel(self, request: web.Request) -> web.StreamResponse:
        _, denied = await self._preamble(request, "cancel_run")
        if denied is not None:
            return denied
        run = self._request_run(request)
        if isinstance(run, web.Response):
            return run
        status = run.status
        if status in ("queued", "in_progress") and run.task is not None:
            run.cancel_requested = True
            run.obj["status"] = "cancelling"
            run.wakeup.set()
            return self._json(run.obj)
        if status in ("queued", "in_progress", "requires_action"):
            run.obj["status"] = "cancelling"
            snapshot = copy.deepcopy(run.obj)
            cancel_now(self._store, run)
            return self._json(snapshot)
        return self._error(400, f"Cannot cancel run with status '{status}'.")

    async def _h_list_steps(self, request: web.Request) -> web.StreamResponse:
        _, denied = await self._preamble(request, "list_run_steps")
        if denied is not None:
            return denied
        run = self._request_run(request)
        if isinstance(run, web.Response):
            return run
        include, bad = self._include(request)
        if bad is not None:
            return bad
        steps = run.steps if include else [without_result_content(s) for s in run.steps]
        listing, bad = self._page(request, steps)
        return bad or self._json(listing)

    # -- handlers: threads and messages -----------------------------------

    def _page(
        self, request: web.Request, items: Sequence[JSON]
    ) -> tuple[JSON, web.Response | None]:
        q = request.query
        order = q.get("order", "desc")
        if order not in ("asc", "desc"):
            return {}, self._error(
                400,
                f"Invalid 'order': must be 'asc' or 'desc', got {order!r}.",
                param="order",
                code="invalid_value",
            )
        try:
            limit = int(q.get("limit", "20"))
        except ValueError:
            limit = -1
        if not 1 <= limit <= 100:
            return {}, self._error(
                400,
                "Invalid 'limit': must be an integer between 1 and 100.",
                param="limit",
                code="invalid_value",
            )
        listing = page(
            copy.deepcopy(list(items)),
            order=order,
            limit=limit,
            after=q.get("after"),
            before=q.get("before"),
        )
        return listing, None

    async def _h_list_messages(self, request: web.Request) -> web.StreamResponse:
        _, denied = await self._preamble(request, "list_messages")
        if denied is not None:
            return denied
        thread_id = request.match_info["thread_id"]
        thread = self._thread(thread_id)
        if thread is None:
            return self._no_thread(thread_id)
        run_id = request.query.get("run_id")
        items = [m for m in thread.messages if run_id is None or m.get("run_id") == run_id]
        listing, bad = self._page(request, items)
        return bad or self._json(listing)

    async def _h_create_message(self, request: web.Request) -> web.StreamResponse:
        _, denied = await self._preamble(request, "create_message")
        if denied is not None:
            return denied
        body, bad = await self._body(request)
        if bad is not None:
            return bad
        bad = self._validate_params("MessageParam", body)
        if bad is not None:
            return bad
        thread_id = request.match_info["thread_id"]
        thread = self._thread(thread_id)
        if thread is None:
            return self._no_thread(thread_id)
        active = self._store.active_run(thread)
        if active is not None:
            return self._error(
                400, f"Can't add messages to {thread.id} while a run {active.id} is active."
            )
        return self._json(self._store.user_message(thread, body))

    async def _h_create_thread(self, request: web.Request) -> web.StreamResponse:
        _, denied = await self._preamble(request, "create_thread")
        if denied is not None:
            return denied
        body, bad = await self._body(request)
        if bad is not None:
            return bad
        bad = self._validate_params("ThreadParams", body)
        if bad is not None:
            return bad
        thread = self._store.new_thread(
            metadata=body.get("metadata"), tool_resources=body.get("tool_resources")
        )
        for message in body.get("messages") or []:
            if isinstance(message, dict):
                self._store.user_message(thread, message)
        return self._json(thread.obj)

    async def _h_get_thread(self, request: web.Request) -> web.StreamResponse:
        _, denied = await self._preamble(request, "get_thread")
        if denied is not None:
            return denied
        thread_id = request.match_info["thread_id"]
        thread = self._store.threads.get(thread_id)
        if thread is None:
            return self._no_thread(thread_id)
        return self._json(thread.obj)

    async def _h_list_runs(self, request: web.Request) -> web.StreamResponse:
        _, denied = await self._preamble(request, "list_runs")
        if denied is not None:
            return denied
        thread_id = request.match_info["thread_id"]
        thread = self._store.threads.get(thread_id)
        if thread is None:
            return self._no_thread(thread_id)
        runs = [r for r in self._store.runs.values() if r.thread_id == thread_id]
        for run in runs:
            self._store.expire_if_due(run)
        listing, bad = self._page(request, [r.obj for r in runs])
        return bad or self._json(listing)

    # -- handlers: assistants ---------------------------------------------

    async def _h_create_assistant(self, request: web.Request) -> web.StreamResponse:
        _, denied = await self._preamble(request, "create_assistant")
        if denied is not None:
            return denied
        body, bad = await self._body(request)
        if bad is not None:
            return bad
        bad = self._validate_assistant(body)
        if bad is not None:
            return bad
        obj: JSON = {
            "id": self._ids.new("asst_"),
            "object": "assistant",
            "created_at": self._store.now(),
            "name": body.get("name"),
            "description": body.get("description"),
            "model": body["model"],
            "instructions": body.get("instructions"),
            "tools": [normalize_tool(t) for t in body.get("tools") or []],
            "top_p": float(body["top_p"]) if body.get("top_p") is not None else 1.0,
            "temperature": (
                float(body["temperature"]) if body.get("temperature") is not None else 1.0
            ),
            "reasoning_effort": body.get("reasoning_effort"),
            "tool_resources": body.get("tool_resources") or {},
            "metadata": body.get("metadata") or {},
            "response_format": body.get("response_format") or "auto",
        }
        self._assistants[obj["id"]] = obj
        return self._json(obj)

    def _validate_assistant(self, body: JSON) -> web.Response | None:
        known = {
            "model",
            "name",
            "description",
            "instructions",
            "tools",
            "tool_resources",
            "metadata",
            "temperature",
            "top_p",
            "response_format",
            "reasoning_effort",
        }
        unknown = sorted(set(body) - known)
        if unknown:
            return self._error(
                400,
                f"Unrecognized request argument supplied: {unknown[0]}",
                param=unknown[0],
                code="unknown_parameter",
            )
        model = body.get("model")
        if not isinstance(model, str) or not model:
            if "model" not in body:
                return self._error(
                    400,
                    "Missing required parameter: 'model'.",
                    param="model",
                    code="missing_required_parameter",
                )
            return self._error(
                400,
                f"Invalid 'model': expected a non-empty string, got {model!r}.",
                param="model",
                code="invalid_value",
            )
        for key, size in (("name", 256), ("description", 512)):
            value = body.get(key)
            if value is not None and (not isinstance(value, str) or len(value) > size):
                return self._error(
                    400,
                    f"Invalid '{key}': expected a string of at most {size} characters.",
                    param=key,
                    code="invalid_value",
                )
        run_like = {
            k: body[k] for k in known - {"name", "description", "tool_resources"} if k in body
        }
        bad = self._validate_params("RunCreateParams", {"assistant_id": "asst_x", **run_like})
        if bad is None and "tool_resources" in body:
            bad = self._validate_params("ThreadParams", {"tool_resources": body["tool_resources"]})
        return bad

    async def _h_get_assistant(self, request: web.Request) -> web.StreamResponse:
        _, denied = await self._preamble(request, "get_assistant")
        if denied is not None:
            return denied
        assistant_id = request.match_info["assistant_id"]
        obj = self._assistants.get(assistant_id)
        if obj is None:
            return self._error(404, f"No assistant found with id '{assistant_id}'.")
        return self._json(obj)

    async def _h_list_assistants(self, request: web.Request) -> web.StreamResponse:
        _, denied = await self._preamble(request, "list_assistants")
        if denied is not None:
            return denied
        listing, bad = self._page(request, list(self._assistants.values()))
        return bad or self._json(listing)

    def assistant(self, assistant_id: str) -> JSON | None:
        """A copy of an assistant created with ``POST /assistants`` (None if unknown)."""
        obj = self._assistants.get(assistant_id)
        return copy.deepcopy(obj) if obj is not None else None
