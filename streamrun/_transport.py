"""HTTP transport on aiohttp: auth, base URL, headers, errors, retries, timeouts.

One :class:`Transport` per :class:`~streamrun.AsyncClient`. It owns (or
borrows) the ``aiohttp.ClientSession``, builds URLs from ``base_url`` and
``default_query`` (no host is hard-coded), sends the auth header in the
configured style (``Authorization: Bearer`` or Azure-style ``api-key``), turns
non-2xx replies into the :class:`~streamrun.APIStatusError` family, and retries
what is safe to retry (see :mod:`streamrun._retry`) — only before the first
byte of a reply body was handed to a stream.

Timeouts: aiohttp's default ``ClientTimeout`` has ``total=300``, which would
cut a long run after five minutes; streamrun uses ``total=None`` unless a
total timeout is asked for, ``sock_connect`` for the connect timeout and
``sock_read`` for the idle timeout (the longest silence between two reads).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import aiohttp
import attrs
from multidict import CIMultiDict
from yarl import URL

from . import _json
from ._exceptions import (
    APIConnectionError,
    APIStatusError,
    ResponseTooLargeError,
    StreamTimeout,
    ValidationError,
    status_error_class,
)
from ._redact import page_excerpt, redact_json, redact_secret
from ._requests import encode_body, validate_header, validate_query_value
from ._retry import RETRY_STATUSES, retry_delay
from ._version import __version__

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_RESPONSE_SIZE",
    "GATEWAY_STATUSES",
    "AuthStyle",
    "Timeouts",
    "Transport",
    "page_excerpt",  # from _redact, for the modules that still import it from here
    "timeout_error",
]

logger = logging.getLogger("streamrun")

DEFAULT_BASE_URL = "https://api.openai.com/v1"
AuthStyle = Literal["bearer", "api-key"]
_ERROR_BODY_LIMIT = 64 * 1024
DEFAULT_MAX_RESPONSE_SIZE = 16 * 1024 * 1024
"""The default cap, in bytes, on a JSON reply (retrieve, cancel, a messages page)."""
GATEWAY_STATUSES = frozenset({502, 504})
"""Statuses a gateway may send after the upstream acted: never retried on a POST that
creates or continues a run (the run may exist; a resend would start a second one)."""
_DECODE_ERRORS: tuple[type[Exception], ...] = (*_json.JSONDecodeError, RecursionError)


@attrs.frozen(kw_only=True)
class Timeouts:
    """Timeouts in seconds; ``None`` disables one.

    ``connect``: establishing the connection. ``idle``: the longest silence
    while waiting for the reply or between two reads of the stream.
    ``total``: the whole request, stream included (off by default: a run may
    legitimately stream for a long time).
    """

    connect: float | None = 10.0
    idle: float | None = 120.0
    total: float | None = None

    def merge(
        self,
        connect: float | object | None,
        idle: float | object | None,
        total: float | object | None,
    ) -> Timeouts:
        """A copy with the values that are not :data:`UNSET` replaced."""
        changes: dict[str, Any] = {}
        for name, value in (("connect", connect), ("idle", idle), ("total", total)):
            if value is not UNSET:
                changes[name] = value
        return attrs.evolve(self, **changes) if changes else self

    def client_timeout(self) -> aiohttp.ClientTimeout:
        """The aiohttp equivalent."""
        return aiohttp.ClientTimeout(
            total=self.total, connect=None, sock_connect=self.connect, sock_read=self.idle
        )


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


def timeout_error(exc: BaseException, timeouts: Timeouts, doing: str) -> StreamTimeout:
    """The :class:`~streamrun.StreamTimeout` an aiohttp/asyncio timeout stands for.

    ``doing`` completes the message: ``"connect timeout (10.0s) <doing>"``.
    """
    kind: str
    seconds: float | None
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        kind, seconds = "connect", timeouts.connect
    elif isinstance(exc, aiohttp.SocketTimeoutError) or timeouts.total is None:
        kind, seconds = "idle", timeouts.idle
    else:
        kind, seconds = "total", timeouts.total
    return StreamTimeout(f"{kind} timeout ({seconds}s) {doing}", kind=kind, seconds=seconds)


def _connect_failure(exc: aiohttp.ClientConnectorError) -> str:
    """Why a connection failed, once ("Connection refused"), without aiohttp's
    "Cannot connect to host ... ssl:default [...]" wrapping."""
    error = exc.os_error
    reason = error.strerror or str(error) or type(error).__name__
    if (
        error.errno
        and not isinstance(error, socket.gaierror)
        and (not error.strerror or error.strerror.startswith("Connect call failed"))
    ):
        # asyncio's "Connect call failed ('127.0.0.1', 9)" repeats the address: say why.
        reason = os.strerror(error.errno)
    return f"{exc.host}:{exc.port}: {reason}"


class Transport:
    """Sends requests for a client; see the module docstring."""

    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str | URL | None,
        auth_style: AuthStyle = "bearer",
        organization: str | None = None,
        project: str | None = None,
        default_headers: Mapping[str, str] | None = None,
        default_query: Mapping[str, str] | None = None,
        session: aiohttp.ClientSession | None = None,
        max_retries: int = 2,
        timeouts: Timeouts | None = None,
        max_connections: int = 100,
        max_response_size: int | None = DEFAULT_MAX_RESPONSE_SIZE,
    ) -> None:
        if api_key is None:
            api_key = os.environ.get("OPENAI_API_KEY")
        if base_url is None:
            base_url = os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL
        try:
            url = URL(str(base_url))
        except (ValueError, UnicodeError) as exc:
            problem = f"is not a valid URL ({type(exc).__name__})"
            raise ValidationError("base_url", problem) from None
        if url.user is not None or url.password is not None:
            # Never echo it: the userinfo is a secret (and aiohttp would send it as Basic auth).
            raise ValidationError(
                "base_url",
                "must not contain credentials (user:password@); pass the key as api_key",
            )
        if not url.is_absolute() or url.scheme not in ("http", "https"):
            raise ValidationError(
                "base_url", f"must be an absolute http(s) URL, got {str(base_url)!r}"
            )
        if auth_style not in ("bearer", "api-key"):
            raise ValidationError(
                "auth_style", f"must be 'bearer' or 'api-key', got {auth_style!r}"
            )
        if max_retries < 0:
            raise ValidationError("max_retries", f"must be >= 0, got {max_retries!r}")
        if api_key is not None and any(c in api_key for c in "\r\n\0"):
            raise ValidationError("api_key", "must not contain line breaks or NUL characters")
        if api_key is not None:
            try:
                validate_header("api_key", "api-key", api_key)
            except ValidationError as exc:
                # The rule never shows the value; keep the path short.
                raise ValidationError("api_key", exc.rule) from None
        if max_response_size is not None and max_response_size < 1:
            raise ValidationError(
                "max_response_size",
                f"must be a positive number of bytes, got {max_response_size!r}",
            )
        self.max_response_size = max_response_size
        self._api_key = api_key
        # A query string on base_url (e.g. ?api-version=...) joins the default query.
        query: list[tuple[str, str]] = list(url.query.items())
        query.extend(
            (k, validate_query_value("default_query", k, v))
            for k, v in (default_query or {}).items()
        )
        self.default_query: tuple[tuple[str, str], ...] = tuple(query)
        self.base_url = url.with_query(None).with_fragment(None)
        self._base = str(self.base_url).rstrip("/")
        self.auth_style: AuthStyle = auth_style
        self.max_retries = max_retries
        self.timeouts = timeouts or Timeouts()
        self._session = session
        self._owns_session = session is None
        self._max_connections = max_connections
        headers: CIMultiDict[str] = CIMultiDict()
        headers["OpenAI-Beta"] = "assistants=v2"
        headers["User-Agent"] = f"streamrun/{__version__}"
        if organization:
            validate_header("organization", "OpenAI-Organization", organization)
            headers["OpenAI-Organization"] = organization
        if project:
            validate_header("project", "OpenAI-Project", project)
            headers["OpenAI-Project"] = project
        for key, value in (default_headers or {}).items():
            validate_header("default_headers", key, value)
            headers[key] = value
        self._headers = headers

    # -- configuration ---------------------------------------------------

    @property
    def has_api_key(self) -> bool:
        """Whether an API key is configured (the key itself is never exposed)."""
        return bool(self._api_key)

    def secrets(self) -> tuple[str, ...]:
        """The secrets :meth:`redact` masks (the API key), for redactors that need them
        (a key cut across stream fragments: :mod:`streamrun._redact_fragments`)."""
        return (self._api_key,) if self._api_key else ()

    def redact(self, text: str, *, limit: int | None = None) -> str:
        """``text`` with the API key replaced by ``***`` (see :func:`redact_secret`)."""
        return redact_secret(text, self._api_key, limit=limit)

    def redact_headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """A copy of reply headers with the API key redacted from every value."""
        return {k: self.redact(v) for k, v in headers.items()}

    def redact_bytes(self, raw: bytes, *, limit: int = 200) -> str:
        """A readable excerpt of a reply body: decoded, redacted, then cut to ``limit``."""
        return self.redact(raw.decode("utf-8", "replace"), limit=limit)

    def check_options(
        self,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, Any] | None = None,
    ) -> list[tuple[str, str]]:
        """Raise :class:`ValidationError` for a per-call header or query value that cannot
        be sent (a line break, a lone surrogate, a name that is not a token, an
        integer past 2**63-1); return the query parameters as the text sent."""
        for key, value in (extra_headers or {}).items():
            validate_header("extra_headers", key, value)
        return [
            (key, validate_query_value("extra_query", key, value))
            for key, value in (extra_query or {}).items()
        ]

    def url(self, path: str) -> str:
        """The absolute URL of an API path such as ``/threads/x/runs``."""
        return self._base + path

    def headers(self, *, accept: str, extra: Mapping[str, str] | None = None) -> CIMultiDict[str]:
        """The request headers (auth included)."""
        headers: CIMultiDict[str] = CIMultiDict(self._headers)
        if self._api_key:
            if self.auth_style == "bearer":
                headers["Authorization"] = f"Bearer {self._api_key}"
            else:
                headers["api-key"] = self._api_key
        headers["Accept"] = accept
        headers["Content-Type"] = "application/json"
        for key, value in (extra or {}).items():
            validate_header("extra_headers", key, value)
            headers[key] = value
        return headers

    def params(
        self,
        query: Sequence[tuple[str, str]] = (),
        extra: Mapping[str, str] | None = None,
    ) -> list[tuple[str, str]]:
        """The query parameters: defaults, then the call's own."""
        params = list(self.default_query)
        params.extend(query)
        params.extend(
            (k, validate_query_value("extra_query", k, v)) for k, v in (extra or {}).items()
        )
        return params

    # -- session -----------------------------------------------------------

    @property
    def session(self) -> aiohttp.ClientSession:
        """The aiohttp session (created on first use when the client owns it)."""
        if self._session is None or (self._owns_session and self._session.closed):
            connector = aiohttp.TCPConnector(limit=self._max_connections)
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=self.timeouts.client_timeout()
            )
        return self._session

    async def aclose(self) -> None:
        """Close the session if this transport created it (a caller's session is left open)."""
        if self._owns_session and self._session is not None and not self._session.closed:
            await self._session.close()

    # -- requests ----------------------------------------------------------

    async def send(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        query: Sequence[tuple[str, str]] = (),
        accept: str = "application/json",
        max_retries: int | None = None,
        timeouts: Timeouts | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, str] | None = None,
        creates_run: bool = False,
    ) -> aiohttp.ClientResponse:
        """Send a request and return the 2xx response, headers read, body unread.

        Retries connection failures before sending and 429/5xx replies, except
        502/504 when ``creates_run`` (a POST that creates or continues a run: a
        gateway may answer 502/504 after the upstream created the run, and a
        resend would create a second one). Redirects are never followed: a 3xx
        reply is an :class:`~streamrun.APIStatusError` (following one could
        carry the key and identifying headers to another origin).
        raises :class:`~streamrun.APIStatusError` (subclass by status),
        :class:`~streamrun.APIConnectionError` or
        :class:`~streamrun.StreamTimeout` (``kind="connect"`` or ``"idle"``).
        The caller must release the returned response.
        """
        retries = self.max_retries if max_retries is None else max_retries
        timeouts = timeouts or self.timeouts
        url = self.url(path)
        headers = self.headers(accept=accept, extra=extra_headers)
        params = self.params(query, extra_query)
        data = None if json_body is None else encode_body(json_body)
        attempt = 0
        while True:
            try:
                response = await self.session.request(
                    method,
                    url,
                    data=data,
                    headers=headers,
                    params=params,
                    timeout=timeouts.client_timeout(),
                    allow_redirects=False,
                )
            except (aiohttp.ClientConnectorCertificateError, aiohttp.ClientSSLError) as exc:
                raise APIConnectionError(
                    f"TLS error talking to {self.base_url.host}: {self.redact(str(exc))}"
                ) from exc
            except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
                # Nothing was sent: safe to retry.
                if attempt < retries:
                    delay = retry_delay(attempt) or 0.0
                    logger.info(
                        "retrying %s %s in %.2fs after connection failure (%s), retry %d of %d",
                        method,
                        path,
                        delay,
                        type(exc).__name__,
                        attempt + 1,
                        retries,
                    )
                    attempt += 1
                    await asyncio.sleep(delay)
                    continue
                if isinstance(exc, aiohttp.ConnectionTimeoutError):
                    raise timeout_error(
                        exc, timeouts, f"connecting to {self.base_url.host}"
                    ) from exc
                raise APIConnectionError(
                    f"cannot connect to {self.redact(_connect_failure(exc))}"
                ) from exc
            except asyncio.TimeoutError as exc:  # distinct from TimeoutError on 3.10
                raise timeout_error(
                    exc, timeouts, f"waiting for the reply to {method} {path}"
                ) from exc
            except aiohttp.ClientError as exc:
                # Sent (or partly sent) but no reply: the request may have taken
                # effect on the server, so it is never retried.
                raise APIConnectionError(
                    f"{method} {path} failed after the request was sent: "
                    f"{type(exc).__name__}: {self.redact(str(exc))}"
                ) from exc
            if response.status < 300:
                return response
            if response.status < 400:
                raise self._redirect_error(response, method, path)
            error = await self._status_error(response)
            wait = retry_delay(attempt, response.headers)
            retryable = response.status in RETRY_STATUSES and not (
                creates_run and response.status in GATEWAY_STATUSES
            )
            if retryable and attempt < retries and wait is not None:
                logger.info(
                    "retrying %s %s in %.2fs after HTTP %d, retry %d of %d",
                    method,
                    path,
                    wait,
                    response.status,
                    attempt + 1,
                    retries,
                )
                attempt += 1
                await asyncio.sleep(wait)
                continue
            raise error

    def _redirect_error(
        self, response: aiohttp.ClientResponse, method: str, path: str
    ) -> APIStatusError:
        """The error for a 3xx reply (the response is released): redirects are not followed."""
        response.release()
        location = response.headers.get("Location", "")
        try:
            target = URL(location)
            shown = str(target.origin()) if target.is_absolute() else "the same origin"
        except (ValueError, UnicodeError):
            shown = "an invalid location"
        headers = self.redact_headers(response.headers)
        return status_error_class(response.status)(
            f"{method} {path} was redirected to {self.redact(shown, limit=200)}: streamrun "
            "never follows redirects (they could carry the API key and the OpenAI-* headers "
            "to another host, or repeat a run-creating POST); set base_url to the final URL",
            status=response.status,
            request_id=self.redact(response.headers.get("X-Request-Id", "")) or None,
            headers=headers,
        )

    async def _status_error(self, response: aiohttp.ClientResponse) -> APIStatusError:
        """Read a non-2xx reply and build its typed error (the response is released)."""
        try:
            raw = await response.content.read(_ERROR_BODY_LIMIT)
        except (aiohttp.ClientError, asyncio.TimeoutError):
            raw = b""
        finally:
            response.release()
        # A server may echo the key ("Incorrect API key provided: sk-..."), also
        # JSON-escaped or in a header: build_status_error redacts after decoding.
        return build_status_error(
            response.status, response.reason, raw, dict(response.headers), secret=self._api_key
        )

    async def _read_capped(self, response: aiohttp.ClientResponse, method: str, path: str) -> bytes:
        limit = self.max_response_size
        body, size = await _read_limited(response, limit)
        if size is not None:
            assert limit is not None
            response.close()  # do not drain the rest: drop the connection
            raise ResponseTooLargeError(
                f"{method} {path}: the reply exceeds max_response_size={limit} bytes "
                f"(at least {size} bytes); reading stopped there",
                size=size,
                limit=limit,
                status=response.status,
                request_id=self.redact(response.headers.get("X-Request-Id", "")) or None,
                headers=self.redact_headers(response.headers),
            )
        return body

    async def request_json(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        query: Sequence[tuple[str, str]] = (),
        max_retries: int | None = None,
        timeouts: Timeouts | None = None,
    ) -> Any:
        """Send a request and decode its JSON reply.

        The reply is read in chunks up to ``max_response_size`` bytes; a longer
        one raises :class:`~streamrun.ResponseTooLargeError` without being
        buffered.
        """
        response = await self.send(
            method,
            path,
            json_body=json_body,
            query=query,
            max_retries=max_retries,
            timeouts=timeouts,
        )
        try:
            body = await self._read_capped(response, method, path)
        except asyncio.TimeoutError as exc:  # distinct from TimeoutError on 3.10
            raise timeout_error(
                exc, timeouts or self.timeouts, f"reading the reply to {method} {path}"
            ) from exc
        except aiohttp.ClientError as exc:
            raise APIConnectionError(
                f"{method} {path}: reading the reply failed: "
                f"{type(exc).__name__}: {self.redact(str(exc))}"
            ) from exc
        finally:
            response.release()
        try:
            return _json.loads(body)
        except _DECODE_ERRORS as exc:
            raise APIStatusError(
                f"{method} {path}: the reply is not JSON: {page_excerpt(body, redact=self.redact)}",
                status=response.status,
                request_id=self.redact(response.headers.get("X-Request-Id", "")) or None,
                headers=self.redact_headers(response.headers),
            ) from exc


async def _read_limited(
    response: aiohttp.ClientResponse, limit: int | None
) -> tuple[bytes, int | None]:
    """The body, or ``(b"", size)`` as soon as it is known to exceed ``limit``."""
    if limit is not None:
        announced = response.content_length
        if announced is not None and announced > limit:
            return b"", announced
    buffer = bytearray()
    while True:
        chunk = await response.content.readany()
        if not chunk:
            return bytes(buffer), None
        buffer += chunk
        if limit is not None and len(buffer) > limit:
            return b"", len(buffer)


def build_status_error(
    status: int,
    reason: str | None,
    raw: bytes,
    headers: Mapping[str, str],
    *,
    secret: str | None = None,
) -> APIStatusError:
    """The typed error for a non-2xx reply with body ``raw``.

    ``secret`` (the API key) is redacted from the decoded body, every field
    taken from it, and the header values.
    """
    body: Any = None
    message = ""
    fields: dict[str, str | None] = {"type": None, "code": None, "param": None}
    if raw:
        try:
            body = redact_json(_json.loads(raw), secret)
        except _DECODE_ERRORS:
            body = redact_secret(raw.decode("utf-8", "replace"), secret)
    headers = {k: redact_secret(v, secret) for k, v in headers.items()}
    reason = redact_secret(reason, secret) if reason else reason
    error = body.get("error", body) if isinstance(body, dict) else None
    if isinstance(error, dict):
        message = str(error.get("message") or "")
        for key in fields:
            value = error.get(key)
            fields[key] = None if value is None else str(value)
    elif isinstance(error, str):
        message = error
    elif isinstance(body, str):
        # Redacted after HTML entities are decoded and before the excerpt is cut.
        message = page_excerpt(body, redact=lambda text: redact_secret(text, secret))
    if not message:
        message = reason or "error"
    cls = status_error_class(status)
    return cls(
        message,
        status=status,
        type=fields["type"],
        code=fields["code"],
        param=fields["param"],
        body=body,
        request_id=next((v for k, v in headers.items() if k.lower() == "x-request-id"), None),
        headers=dict(headers),
    )
