"""``AsyncClient``: configuration, and the run-stream endpoints as methods.

``client.runs.stream(thread_id, assistant_id=..., **body)`` opens
``POST /threads/{thread_id}/runs``; ``client.threads.create_and_run_stream``
opens ``POST /threads/runs``; ``client.runs.submit_tool_outputs_stream``
opens ``POST /threads/{thread_id}/runs/{run_id}/submit_tool_outputs``. Each
validates its body (:mod:`streamrun._requests`) before any network I/O and
returns a :class:`~streamrun.RunStream` to use with ``async with``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

import aiohttp
from yarl import URL

from ._compat import Beta, take_handler
from ._exceptions import ValidationError
from ._handler import AsyncEventHandler
from ._models import Message, Run, Thread
from ._options import CallOptions
from ._recover import (
    RecoveredRun,
    cancel_run,
    fetch_run_messages,
    list_pages,
    recover_run,
    retrieve_run,
    run_path,
    structure_reply,
)
from ._requests import (
    MessageParam,
    RunCreateParams,
    SubmitToolOutputsParams,
    ThreadCreateAndRunParams,
    ThreadParams,
    build_run_create,
    build_submit_tool_outputs,
    build_thread_create_and_run,
    check_keywords,
    check_tap,
    encode_body,
    path_id,
    validate_include,
)
from ._response_stream import ResponseStream
from ._responses_client import Responses
from ._stream import RunStream
from ._tool_loop import Functions, ToolLoop
from ._transport import DEFAULT_MAX_RESPONSE_SIZE, AuthStyle, Timeouts, Transport
from .sse import DEFAULT_MAX_EVENT_SIZE

if TYPE_CHECKING:
    from ._conversation import Conversation

__all__ = ["AsyncClient", "Messages", "Runs", "Threads"]


# OpenAI's own host: it still serves other APIs, but no longer the Assistants endpoints.
_RETIRED_ASSISTANTS_HOST = "api.openai.com"


def _check_ids(thread_id: object, run_id: object) -> None:
    """Validate a thread id and a run id before they go into a path."""
    path_id("thread_id", thread_id)
    path_id("run_id", run_id)


class AsyncClient:
    """An async client for Assistants run streams.

    Args:
        api_key: the API key; defaults to ``$OPENAI_API_KEY``. Never shown in
            a repr, log line or exception. Required (at construction) on
            OpenAI's own host; a custom ``base_url`` needs none.
        base_url: the API root; defaults to ``$OPENAI_BASE_URL``, then
            ``https://api.openai.com/v1`` — where the hosted Assistants
            endpoints are retired, so the Assistants calls then raise
            :class:`~streamrun.ValidationError` before any I/O. Point it at
            any compatible server (a query string on it, e.g.
            ``?api-version=...``, is kept).
        The streaming methods also answer to openai-python's spellings
        (``client.beta.threads...``, ``event_handler=``): see
        :mod:`streamrun._compat`.
        organization, project: sent as ``OpenAI-Organization`` / ``OpenAI-Project``.
        default_headers: extra headers on every request (override the defaults).
        default_query: extra query parameters on every request (e.g. Azure's
            ``{"api-version": "..."}``).
        session: a caller-owned ``aiohttp.ClientSession`` (never closed by the client).
        auth_style: ``"bearer"`` (``Authorization: Bearer KEY``) or
            ``"api-key"`` (Azure-style ``api-key: KEY`` header).
        max_retries: retries of connection failures before sending and of
            429/5xx replies (never after a stream started).
        connect_timeout, idle_timeout, total_timeout: seconds (``None`` = off);
            idle is the longest silence between two reads of a stream.
        cancel_on_abandon: cancel a run on the server when its stream is left
            before the run settled.
        cancel_timeout: how long that best-effort cancel request may take.
        max_event_size: the largest single event accepted, in bytes.
        max_response_size: the largest JSON reply accepted (retrieve, cancel,
            a messages page), in bytes (16 MiB by default; ``None`` = no cap);
            a longer one raises :class:`~streamrun.ResponseTooLargeError`.
        max_connections: the connection pool size of the client's own session.
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | URL | None = None,
        *,
        organization: str | None = None,
        project: str | None = None,
        default_headers: Mapping[str, str] | None = None,
        default_query: Mapping[str, str] | None = None,
        session: aiohttp.ClientSession | None = None,
        auth_style: AuthStyle = "bearer",
        max_retries: int = 2,
        connect_timeout: float | None = 10.0,
        idle_timeout: float | None = 120.0,
        total_timeout: float | None = None,
        cancel_on_abandon: bool = True,
        cancel_timeout: float = 5.0,
        max_event_size: int | None = DEFAULT_MAX_EVENT_SIZE,
        max_connections: int = 100,
        max_response_size: int | None = DEFAULT_MAX_RESPONSE_SIZE,
    ) -> None:
        self._transport = Transport(
            api_key=api_key,
            base_url=base_url,
            auth_style=auth_style,
            organization=organization,
            project=project,
            default_headers=default_headers,
            default_query=default_query,
            session=session,
            max_retries=max_retries,
            timeouts=Timeouts(connect=connect_timeout, idle=idle_timeout, total=total_timeout),
            max_connections=max_connections,
            max_response_size=max_response_size,
        )
        self.cancel_on_abandon = cancel_on_abandon
        self.cancel_timeout = cancel_timeout
        self.max_event_size = max_event_size
        if not self._transport.has_api_key and self._transport.base_url.host == (
            _RETIRED_ASSISTANTS_HOST
        ):
            raise ValidationError(
                "api_key",
                "no API key: pass api_key= or set OPENAI_API_KEY; or set base_url= "
                "(or OPENAI_BASE_URL) to a compatible server, which may need no key "
                "(e.g. the fake server: python -m streamrun.testing)",
            )
        self.runs = Runs(self)
        self.threads = Threads(self)
        self.beta = Beta(self)
        self.responses = Responses(self)
        """The Responses API: ``client.responses.stream(...)`` and friends."""
        """openai-python's paths: ``client.beta.threads.runs.stream`` and friends."""

    @property
    def base_url(self) -> URL:
        """The API root requests go to."""
        return self._transport.base_url

    @property
    def max_retries(self) -> int:
        """The default number of retries."""
        return self._transport.max_retries

    @property
    def timeouts(self) -> Timeouts:
        """The default timeouts."""
        return self._transport.timeouts

    @property
    def session(self) -> aiohttp.ClientSession:
        """The aiohttp session in use (created on first use unless one was given)."""
        return self._transport.session

    async def aclose(self) -> None:
        """Close the client's own session (a caller-owned session stays open)."""
        await self._transport.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def conversation(
        self,
        assistant_id: str,
        *,
        thread_id: str | None = None,
        functions: Functions | None = None,
        **run_defaults: Any,
    ) -> Conversation:
        """A chat with an assistant on one thread: ``conv.send(text)`` streams each reply.

        ``thread_id`` continues an existing thread (else the first ``send``
        creates one); ``functions`` are answered by the tool loop in every
        reply; ``run_defaults`` (run body fields such as ``model`` or
        ``instructions``, and per-call options such as ``idle_timeout``) apply
        to every ``send``. Checked before any I/O. See :class:`~streamrun.Conversation`.
        """
        from ._conversation import Conversation

        return Conversation(
            self, assistant_id, thread_id=thread_id, functions=functions, **run_defaults
        )

    def __repr__(self) -> str:
        key = "set" if self._transport.has_api_key else "none"
        return f"<AsyncClient base_url={str(self.base_url)!r} api_key={key}>"

    # -- shared by the resources ------------------------------------------

    def _assistants(self) -> Transport:
        """The transport, once the base URL is known to serve the Assistants API.

        Raised before any I/O: OpenAI's hosted Assistants endpoint is retired,
        so a client left on ``https://api.openai.com/v1`` has nowhere to send
        an Assistants request.
        """
        if self._transport.base_url.host == _RETIRED_ASSISTANTS_HOST:
            raise ValidationError(
                "base_url",
                f"{self._transport.base_url} no longer serves the Assistants API "
                "(OpenAI's hosted Assistants endpoint is retired): set base_url= or "
                "OPENAI_BASE_URL to a compatible server, e.g. the fake server "
                "'python -m streamrun.testing' (http://127.0.0.1:8000/v1)",
            )
        return self._transport

    def _responses(self) -> Transport:
        """The transport for the Responses API (served on every host, OpenAI's included)."""
        return self._transport

    def _open(
        self,
        path: str,
        body: dict[str, Any],
        *,
        handler: AsyncEventHandler | None,
        thread_id: str | None,
        run_id: str | None,
        query: Sequence[tuple[str, str]] = (),
        options: CallOptions,
        stream_class: type[RunStream] = RunStream,
    ) -> RunStream:
        """A stream of ``POST path`` with ``body``, every option checked before any I/O
        (``stream_class``: :class:`~streamrun.RunStream` on the Assistants API,
        :class:`~streamrun.ResponseStream` on the Responses API)."""
        if handler is not None and not isinstance(handler, AsyncEventHandler):
            raise ValidationError(
                "handler", f"must be an AsyncEventHandler instance, got {type(handler).__name__}"
            )
        transport = (
            self._responses() if issubclass(stream_class, ResponseStream) else self._assistants()
        )
        check_tap(options.tap)
        if body.get("stream", True) is not True:
            raise ValidationError("stream", "must be true (or omitted) for a streaming method")
        tools = ToolLoop.build(
            options.functions,
            max_tool_rounds=options.max_tool_rounds,
            tool_timeout=options.tool_timeout,
        )
        if options.extra_body:
            body.update(options.extra_body)
        body["stream"] = True
        # Everything that goes on the wire is checked now, before anything is sent.
        extra = self._transport.check_options(options.extra_headers, options.extra_query)
        encode_body(body)
        stream = stream_class(
            transport=transport,
            path=path,
            body=body,
            query=[*query, *extra],
            handler=handler,
            thread_id=thread_id,
            run_id=run_id,
            settings=options.settings(
                max_retries=self.max_retries,
                timeouts=self.timeouts,
                cancel_on_abandon=self.cancel_on_abandon,
                cancel_timeout=self.cancel_timeout,
                max_event_size=self.max_event_size,
            ),
            tools=tools,
        )
        stream._loop_query = list(extra)
        return stream


_OPTION_NAMES = CallOptions.NAMES


# The keywords of each streaming method besides its body fields (for "did you mean").
_COMMON_NAMES = (*_OPTION_NAMES, "stream", "handler", "event_handler")
_RUN_NAMES = frozenset({*_COMMON_NAMES, "include", "thread_id"})
_SUBMIT_NAMES = frozenset({*_COMMON_NAMES, "thread_id", "run_id"})
_CREATE_AND_RUN_NAMES = frozenset({*_COMMON_NAMES, "thread"})


def _split_options(kwargs: dict[str, Any]) -> CallOptions:
    """Pop the per-call options out of the keyword arguments (the rest is the body)."""
    return CallOptions.pop(kwargs)


class Runs:
    """Run endpoints: ``client.runs``.

    Every streaming method also takes these per-call options:
    ``max_retries``, ``connect_timeout``, ``idle_timeout``, ``total_timeout``,
    ``cancel_on_abandon``, ``extra_headers``, ``extra_query`` and
    ``extra_body`` (fields sent as they are, unvalidated, for compatible
    servers that accept more than the API), ``tap`` (a function called
    with every chunk of bytes received, before decoding: for recording), and
    the tool loop's ``functions`` (a list of functions named by ``__name__``,
    or a mapping name -> function; sync or ``async def``), ``max_tool_rounds``
    (default 10) and ``tool_timeout`` (seconds per call, default none): with
    ``functions=`` the stream runs the run's function calls itself, submits
    their outputs and goes on with the continuation (see the README's "Tools").
    """

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    def stream(
        self,
        thread_id: str,
        *,
        assistant_id: str,
        handler: AsyncEventHandler | None = None,
        include: Sequence[str] | None = None,
        **body: Any,
    ) -> RunStream:
        """Create a run on a thread and stream it (``POST /threads/{thread_id}/runs``).

        ``body`` takes every field of the Create run request (model,
        reasoning_effort, instructions, additional_instructions,
        additional_messages, tools, metadata, temperature, top_p,
        max_prompt_tokens, max_completion_tokens, truncation_strategy,
        tool_choice, parallel_tool_calls, response_format) as dicts or the
        ``*Param`` classes; it is validated before anything is sent
        (:class:`~streamrun.ValidationError`). ``include`` becomes the
        ``include[]`` query parameter.
        """
        handler = take_handler(handler, body)
        check_keywords(body, RunCreateParams, _RUN_NAMES, "runs.stream")
        options = _split_options(body)
        thread = path_id("thread_id", thread_id)
        params = build_run_create(assistant_id, body)
        query = [("include[]", value) for value in validate_include(include or [])]
        return self._client._open(
            f"/threads/{thread}/runs",
            params.to_json(),
            handler=handler,
            thread_id=thread_id,
            run_id=None,
            query=query,
            options=options,
        )

    def submit_tool_outputs_stream(
        self,
        thread_id: str,
        run_id: str,
        *,
        tool_outputs: Sequence[Any],
        handler: AsyncEventHandler | None = None,
        **body: Any,
    ) -> RunStream:
        """Submit tool outputs and stream the run's continuation.

        ``POST /threads/{thread_id}/runs/{run_id}/submit_tool_outputs``;
        ``tool_outputs`` is a list of ``{"tool_call_id": ..., "output": ...}``
        (or :class:`~streamrun.ToolOutput`), all of them in one request.
        """
        handler = take_handler(handler, body)
        check_keywords(body, SubmitToolOutputsParams, _SUBMIT_NAMES, "submit_tool_outputs_stream")
        options = _split_options(body)
        _check_ids(thread_id, run_id)
        path = run_path(thread_id, run_id)
        params = build_submit_tool_outputs(tool_outputs, body)
        return self._client._open(
            path + "/submit_tool_outputs",
            params.to_json(),
            handler=handler,
            thread_id=thread_id,
            run_id=run_id,
            options=options,
        )

    async def list(
        self, thread_id: str, *, order: _Order = "asc", limit: int | None = None
    ) -> list[Run]:
        """The runs of a thread (``GET /threads/{thread_id}/runs``), every page.

        ``order`` by creation time (``"asc"``: oldest first); ``limit`` caps how
        many are returned (``None``: all).
        """
        path = _thread_path(thread_id) + "/runs"
        _check_listing(order, limit)
        return await list_pages(self._client._assistants(), path, Run, order=order, limit=limit)

    async def retrieve(self, thread_id: str, run_id: str) -> Run:
        """``GET`` a run."""
        _check_ids(thread_id, run_id)
        return await retrieve_run(self._client._assistants(), thread_id, run_id)

    async def cancel(self, thread_id: str, run_id: str) -> Run:
        """Ask the server to cancel a run; returns the run (usually ``cancelling``)."""
        _check_ids(thread_id, run_id)
        raw = await cancel_run(self._client._assistants(), thread_id, run_id)
        return structure_reply(raw, Run, f"POST cancel run {run_id}", run_id)

    async def recover(
        self, thread_id: str, run_id: str, *, timeout: float = 600.0, poll_interval: float = 0.25
    ) -> RecoveredRun:
        """Wait for a run to settle and fetch its messages (see ``RunStream.recover``)."""
        _check_ids(thread_id, run_id)
        return await recover_run(
            self._client._assistants(),
            thread_id,
            run_id,
            timeout=timeout,
            poll_interval=poll_interval,
        )


class Threads:
    """Thread endpoints: ``client.threads`` (and its messages: ``client.threads.messages``)."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client
        self.messages = Messages(client)

    async def create(self, **body: Any) -> Thread:
        """Create a thread (``POST /threads``).

        ``body``: ``messages`` (a list of ``{"role": ..., "content": ...}`` or
        :class:`~streamrun.MessageParam`), ``tool_resources``, ``metadata``;
        validated before anything is sent (:class:`~streamrun.ThreadParams`).
        """
        params = ThreadParams.from_dict(body)
        transport = self._client._assistants()
        raw = await transport.request_json("POST", "/threads", json_body=params.to_json())
        return structure_reply(raw, Thread, "POST /threads", None)

    async def retrieve(self, thread_id: str) -> Thread:
        """``GET`` a thread."""
        path = _thread_path(thread_id)
        raw = await self._client._assistants().request_json("GET", path)
        return structure_reply(raw, Thread, f"GET thread {thread_id}", None)

    def create_and_run_stream(
        self,
        *,
        assistant_id: str,
        thread: Mapping[str, Any] | Any | None = None,
        handler: AsyncEventHandler | None = None,
        **body: Any,
    ) -> RunStream:
        """Create a thread and a run on it, and stream the run (``POST /threads/runs``).

        ``thread`` is ``{"messages": [...], "tool_resources": ..., "metadata": ...}``
        (or :class:`~streamrun.ThreadParams`); the stream starts with
        ``thread.created``.
        """
        handler = take_handler(handler, body)
        check_keywords(
            body, ThreadCreateAndRunParams, _CREATE_AND_RUN_NAMES, "create_and_run_stream"
        )
        options = _split_options(body)
        params = build_thread_create_and_run(assistant_id, thread, body)
        return self._client._open(
            "/threads/runs",
            params.to_json(),
            handler=handler,
            thread_id=None,
            run_id=None,
            options=options,
        )

    async def list_messages(
        self, thread_id: str, *, run_id: str, timeout: float | None = 600.0
    ) -> list[Message]:
        """The messages a run created on a thread, oldest first.

        ``timeout`` bounds the whole listing, every page included
        (:class:`~streamrun.StreamTimeout`, ``kind="total"``); a page that does
        not advance the listing is a :class:`~streamrun.ProtocolError`.
        """
        _check_ids(thread_id, run_id)
        return await fetch_run_messages(
            self._client._assistants(), thread_id, run_id, timeout=timeout
        )


_Order = Literal["asc", "desc"]


def _thread_path(thread_id: str) -> str:
    """The API path of a thread (the id checked and quoted)."""
    return f"/threads/{path_id('thread_id', thread_id)}"


def _check_listing(order: object, limit: object) -> None:
    """Validate a listing's ``order`` and ``limit`` before any I/O."""
    if order not in ("asc", "desc"):
        raise ValidationError("order", f"must be 'asc' or 'desc', got {order!r}")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValidationError("limit", f"must be an integer >= 1 or None, got {limit!r}")


class Messages:
    """Message endpoints of threads: ``client.threads.messages``."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def create(self, thread_id: str, **body: Any) -> Message:
        """Add a message to a thread (``POST /threads/{thread_id}/messages``).

        ``body``: ``role`` (``"user"`` or ``"assistant"``), ``content`` (a string
        or content parts), ``attachments``, ``metadata``; validated before
        anything is sent (:class:`~streamrun.MessageParam`).
        """
        path = _thread_path(thread_id) + "/messages"
        params = MessageParam.from_dict(body)
        transport = self._client._assistants()
        raw = await transport.request_json("POST", path, json_body=params.to_json())
        return structure_reply(raw, Message, f"POST {path}", None)

    async def list(
        self,
        thread_id: str,
        *,
        run_id: str | None = None,
        order: _Order = "asc",
        limit: int | None = None,
    ) -> list[Message]:
        """The messages of a thread (``GET /threads/{thread_id}/messages``), every page.

        ``run_id`` keeps those one run created; ``order`` by creation time
        (``"asc"``: oldest first); ``limit`` caps how many are returned
        (``None``: all).
        """
        path = _thread_path(thread_id) + "/messages"
        query: list[tuple[str, str]] = []
        if run_id is not None:
            path_id("run_id", run_id)  # a non-empty string
            query.append(("run_id", run_id))
        _check_listing(order, limit)
        return await list_pages(
            self._client._assistants(), path, Message, query=query, order=order, limit=limit
        )
