"""The exceptions streamrun raises.

Every exception is rooted at :class:`StreamrunError`::

    StreamrunError
    ├── ValidationError (also ValueError)    a request body broke a rule; nothing was sent
    ├── StreamConsumedError                   a stream's events were already consumed
    ├── APIConnectionError                    no HTTP reply (connect / send failed)
    ├── APIStatusError                        a non-2xx reply (or a 200 that is not SSE)
    │   ├── BadRequestError                   400
    │   ├── AuthenticationError               401
    │   ├── PermissionDeniedError             403
    │   ├── NotFoundError                     404
    │   ├── ConflictError                     409
    │   ├── UnprocessableEntityError          422
    │   ├── RateLimitError                    429
    │   ├── InternalServerError               5xx
    │   └── ResponseTooLargeError             a JSON reply exceeded max_response_size
    └── StreamFailure                         raised while a stream was being read
        ├── StreamError                       the server sent an ``error`` event
        ├── StreamInterrupted                 the connection ended before ``[DONE]``
        ├── StreamTimeout (also TimeoutError) connect / idle / total timeout expired
        ├── ToolLoopError                     the tool loop stopped the run (rounds, expiry)
        └── ProtocolError                     the bytes or JSON broke the protocol
            └── EventTooLargeError            one event exceeded the size limit

Every :class:`StreamFailure` carries ``run_id`` (when known) and ``last_event``
(the last event delivered before the failure, or ``None``). The API key never
appears in any message.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "EventTooLargeError",
    "InternalServerError",
    "NotFoundError",
    "PermissionDeniedError",
    "ProtocolError",
    "RateLimitError",
    "ResponseTooLargeError",
    "StreamConsumedError",
    "StreamError",
    "StreamFailure",
    "StreamInterrupted",
    "StreamTimeout",
    "StreamrunError",
    "ToolLoopError",
    "UnprocessableEntityError",
    "ValidationError",
    "status_error_class",
]


class StreamrunError(Exception):
    """Base class of every error streamrun raises."""


class ValidationError(StreamrunError, ValueError):
    """A request body broke a rule of the API; nothing was sent.

    ``path`` is the dotted location of the offending field (for example
    ``tools[2].function.name``) and ``rule`` says what the rule is.
    """

    def __init__(self, path: str, rule: str) -> None:
        self.path = path
        self.rule = rule
        super().__init__(f"{path}: {rule}" if path else rule)


class StreamConsumedError(StreamrunError):
    """The events of a stream can be consumed once; they were already consumed."""


class APIConnectionError(StreamrunError):
    """The request could not be sent or no reply arrived (DNS, refused, reset, TLS)."""


class APIStatusError(StreamrunError):
    """The server replied with a non-2xx status (or a 2xx that is not an event stream).

    Carries the HTTP ``status``, the fields of the official error body
    (``message``, ``type``, ``code``, ``param``), the raw decoded ``body`` and
    the ``request_id`` from the ``x-request-id`` header.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        type: str | None = None,
        code: str | None = None,
        param: str | None = None,
        body: Any = None,
        request_id: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = message
        self.status = status
        self.type = type
        self.code = code
        self.param = param
        self.body = body
        self.request_id = request_id
        self.headers = dict(headers or {})
        text = f"HTTP {status}: {message}"
        if code:
            text += f" (code={code})"
        if request_id:
            text += f" [request id {request_id}]"
        super().__init__(text)


class BadRequestError(APIStatusError):
    """HTTP 400: the server rejected the request."""


class AuthenticationError(APIStatusError):
    """HTTP 401: the API key is missing or invalid."""


class PermissionDeniedError(APIStatusError):
    """HTTP 403: the key may not do this."""


class NotFoundError(APIStatusError):
    """HTTP 404: unknown thread, assistant or run (or a wrong base URL)."""


class ConflictError(APIStatusError):
    """HTTP 409: the request conflicts with the resource's state."""


class UnprocessableEntityError(APIStatusError):
    """HTTP 422: the request was understood but cannot be processed."""


class RateLimitError(APIStatusError):
    """HTTP 429: rate limited or out of quota."""


class InternalServerError(APIStatusError):
    """HTTP 5xx: the server failed."""


class ResponseTooLargeError(APIStatusError):
    """A JSON reply (retrieve, cancel, a messages page) exceeded ``max_response_size``.

    ``size`` is how many bytes were seen (at least; or the announced
    ``Content-Length``), ``limit`` the cap. Reading stopped at the cap: memory
    stays bounded whatever the server sends.
    """

    def __init__(
        self,
        message: str,
        *,
        size: int,
        limit: int,
        status: int,
        request_id: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.size = size
        self.limit = limit
        super().__init__(message, status=status, request_id=request_id, headers=headers)


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def status_error_class(status: int) -> type[APIStatusError]:
    """The :class:`APIStatusError` subclass for an HTTP status code."""
    if status >= 500:
        return InternalServerError
    return _STATUS_CLASSES.get(status, APIStatusError)


class StreamFailure(StreamrunError):
    """Base of the errors raised while a stream is being read.

    ``run_id`` is the run's id when an event had named it; ``last_event`` is
    the last event delivered before the failure. Everything received before
    the failure stays readable on the stream (``current_run``,
    ``current_message_snapshot``, ``current_run_step_snapshot``).
    """

    run_id: str | None
    last_event: Any

    def __init__(self, message: str, *, run_id: str | None = None, last_event: Any = None) -> None:
        super().__init__(message)
        self.run_id = run_id
        self.last_event = last_event


class StreamError(StreamFailure):
    """The server sent an ``error`` event; ``code``, ``message``, ``type``, ``param``."""

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        type: str | None = None,
        param: str | None = None,
        run_id: str | None = None,
        last_event: Any = None,
    ) -> None:
        self.message = message
        self.code = code
        self.type = type
        self.param = param
        text = f"error event from the server: {message}"
        if code:
            text += f" (code={code})"
        super().__init__(text, run_id=run_id, last_event=last_event)


class StreamInterrupted(StreamFailure):
    """The connection ended (closed or reset) before ``data: [DONE]``.

    The run may still be going on the server: ``RunStream.recover()`` fetches
    its outcome without creating a second run.
    """


class StreamTimeout(StreamFailure, TimeoutError):
    """A connect, idle (between events) or total timeout expired.

    ``kind`` is ``"connect"``, ``"idle"`` or ``"total"``; ``seconds`` the limit.
    """

    def __init__(
        self,
        message: str,
        *,
        kind: str = "idle",
        seconds: float | None = None,
        run_id: str | None = None,
        last_event: Any = None,
    ) -> None:
        self.kind = kind
        self.seconds = seconds
        super().__init__(message, run_id=run_id, last_event=last_event)


class ToolLoopError(StreamFailure):
    """The tool loop (``functions=``) stopped a run: it cancelled the functions still
    running and the run on the server.

    ``reason`` is ``"max_tool_rounds"`` (the run asked for more rounds of tool calls
    than ``max_tool_rounds``) or ``"expiring"`` (functions were still running when
    the run was about to expire); ``run_id`` names the run.
    """

    def __init__(
        self,
        message: str,
        *,
        reason: str,
        run_id: str | None = None,
        last_event: Any = None,
    ) -> None:
        self.reason = reason
        super().__init__(message, run_id=run_id, last_event=last_event)


class ProtocolError(StreamFailure):
    """The server's bytes broke the protocol (malformed JSON in a known event, ...).

    ``event`` is the SSE event name, ``position`` the 0-based index of the event
    in the stream (when known) and ``excerpt`` the start of the offending data.
    """

    def __init__(
        self,
        message: str,
        *,
        event: str | None = None,
        position: int | None = None,
        excerpt: str | None = None,
        run_id: str | None = None,
        last_event: Any = None,
    ) -> None:
        self.event = event
        self.position = position
        self.excerpt = excerpt
        super().__init__(message, run_id=run_id, last_event=last_event)


class EventTooLargeError(ProtocolError):
    """One event grew past the decoder's ``max_event_size`` (bytes)."""

    def __init__(
        self, size: int, limit: int, *, position: int | None = None, event: str | None = None
    ) -> None:
        self.size = size
        self.limit = limit
        named = f"event {event!r}" if event else "event"
        where = f" (#{position} in the stream)" if position is not None else ""
        super().__init__(
            f"{named}{where} exceeds the size limit: at least {size} bytes > "
            f"max_event_size={limit}",
            event=event,
            position=position,
        )
