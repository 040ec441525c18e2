"""HTTP-level behaviour of the client with aioresponses: errors, retries, headers, secrets."""

from __future__ import annotations

import logging
import ssl
import types
from collections.abc import Callable
from typing import Any, cast

import aiohttp
import pytest
from aioresponses import aioresponses

import streamrun
from streamrun import AsyncClient

BASE = "http://api.test/v1"
URL = f"{BASE}/threads/thread_1/runs"
KEY = "sk-secret-0123456789"
SSE_OK = (
    b'event: thread.run.created\ndata: {"id":"run_1","object":"thread.run","thread_id":"thread_1",'
    b'"status":"queued"}\n\n'
    b'event: thread.run.completed\ndata: {"id":"run_1","object":"thread.run",'
    b'"thread_id":"thread_1","status":"completed"}\n\n'
    b"event: done\ndata: [DONE]\n\n"
)


def error_body(message: str, code: str | None = None) -> dict[str, Any]:
    return {
        "error": {"message": message, "type": "invalid_request_error", "param": "x", "code": code}
    }


async def run_once(client: AsyncClient, **kwargs: Any) -> streamrun.Run:
    async with client.runs.stream("thread_1", assistant_id="asst_1", **kwargs) as stream:
        return await stream.final_run()


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, streamrun.BadRequestError),
        (401, streamrun.AuthenticationError),
        (403, streamrun.PermissionDeniedError),
        (404, streamrun.NotFoundError),
        (409, streamrun.ConflictError),
        (422, streamrun.UnprocessableEntityError),
        (429, streamrun.RateLimitError),
        (500, streamrun.InternalServerError),
        (503, streamrun.InternalServerError),
    ],
)
async def test_status_errors_are_typed(status: int, cls: type[streamrun.APIStatusError]) -> None:
    with aioresponses() as mocked:
        mocked.post(
            URL,
            status=status,
            payload=error_body("it failed", code="some_code"),
            headers={"x-request-id": "req_123"},
        )
        async with AsyncClient(api_key=KEY, base_url=BASE, max_retries=0) as client:
            with pytest.raises(cls) as info:
                await run_once(client)
    error = info.value
    assert isinstance(error, streamrun.APIStatusError)
    assert isinstance(error, streamrun.StreamrunError)
    assert error.status == status
    assert error.message == "it failed"
    assert error.code == "some_code"
    assert error.param == "x"
    assert error.type == "invalid_request_error"
    assert error.request_id == "req_123"
    assert KEY not in str(error)
    assert KEY not in repr(error.__dict__)


@pytest.mark.asyncio
async def test_non_json_error_body() -> None:
    with aioresponses() as mocked:
        mocked.post(URL, status=502, body="Bad gateway from proxy")
        async with AsyncClient(api_key=KEY, base_url=BASE, max_retries=0) as client:
            with pytest.raises(streamrun.InternalServerError, match="Bad gateway from proxy"):
                await run_once(client)


@pytest.mark.asyncio
async def test_retries_429_then_success(caplog: pytest.LogCaptureFixture) -> None:
    with aioresponses() as mocked:
        mocked.post(
            URL, status=429, payload=error_body("slow down"), headers={"retry-after-ms": "10"}
        )
        mocked.post(URL, status=503, payload=error_body("busy"), headers={"Retry-After": "0"})
        mocked.post(URL, status=200, body=SSE_OK, content_type="text/event-stream")
        caplog.set_level(logging.INFO, logger="streamrun")
        async with AsyncClient(api_key=KEY, base_url=BASE, max_retries=2) as client:
            run = await run_once(client)
    assert run.status == "completed"
    retries = [r for r in caplog.records if "retrying" in r.getMessage()]
    assert len(retries) == 2
    assert all(KEY not in r.getMessage() for r in caplog.records)


@pytest.mark.asyncio
async def test_exhausted_retries_raise_last_error() -> None:
    with aioresponses() as mocked:
        for _ in range(3):
            mocked.post(URL, status=500, payload=error_body("down"), headers={"Retry-After": "0"})
        async with AsyncClient(api_key=KEY, base_url=BASE, max_retries=2) as client:
            with pytest.raises(streamrun.InternalServerError, match="down"):
                await run_once(client)


@pytest.mark.asyncio
async def test_per_call_max_retries_overrides_client() -> None:
    with aioresponses() as mocked:
        mocked.post(URL, status=500, payload=error_body("down"), headers={"Retry-After": "0"})
        mocked.post(URL, status=200, body=SSE_OK, content_type="text/event-stream")
        async with AsyncClient(api_key=KEY, base_url=BASE, max_retries=0) as client:
            run = await run_once(client, max_retries=1)
    assert run.status == "completed"


@pytest.mark.asyncio
async def test_400_is_not_retried() -> None:
    with aioresponses() as mocked:
        mocked.post(URL, status=400, payload=error_body("bad"))
        mocked.post(URL, status=200, body=SSE_OK, content_type="text/event-stream")
        async with AsyncClient(api_key=KEY, base_url=BASE, max_retries=3) as client:
            with pytest.raises(streamrun.BadRequestError):
                await run_once(client)


def test_key_never_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    client = AsyncClient(api_key=KEY, base_url=BASE)
    assert KEY not in repr(client)
    assert KEY not in str(vars(client))
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://env.test/v1")
    env_client = AsyncClient()
    assert str(env_client.base_url) == "http://env.test/v1"
    assert "sk-from-env" not in repr(env_client)


def test_default_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    assert str(AsyncClient(api_key="k").base_url) == "https://api.openai.com/v1"


def test_bad_base_url_is_a_validation_error() -> None:
    with pytest.raises(streamrun.ValidationError, match="base_url"):
        AsyncClient(api_key="k", base_url="not a url")


@pytest.mark.asyncio
async def test_connection_refused_is_retried_then_api_connection_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="streamrun")
    # Port 9 on 127.0.0.1 (discard) is closed on this machine: connect is refused.
    async with AsyncClient(api_key=KEY, base_url="http://127.0.0.1:9/v1", max_retries=1) as client:
        with pytest.raises(streamrun.APIConnectionError) as info:
            await run_once(client)
    assert "cannot connect to 127.0.0.1" in str(info.value)
    assert KEY not in str(info.value)
    retries = [r for r in caplog.records if "retrying" in r.getMessage()]
    assert len(retries) == 1
    assert "connection failure" in retries[0].getMessage()
    assert "retry 1 of 1" in retries[0].getMessage()


def _connect_error(message: str) -> Exception:
    key = types.SimpleNamespace(host="127.0.0.1", port=9, ssl=True, is_ssl=False)
    return aiohttp.ClientConnectorError(cast(Any, key), OSError(111, message))


def _certificate_error(message: str) -> Exception:
    key = types.SimpleNamespace(host="127.0.0.1", port=9, ssl=True, is_ssl=True)
    return aiohttp.ClientConnectorCertificateError(
        cast(Any, key), ssl.SSLCertVerificationError(1, message)
    )


def _sent_error(message: str) -> Exception:
    return aiohttp.ClientOSError(104, message)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("make_error", "attempts", "prefix"),
    [
        (_connect_error, 2, "cannot connect to"),  # nothing was sent: retried
        (_certificate_error, 1, "TLS error talking to"),
        (_sent_error, 1, "failed after the request was sent"),  # may have taken effect
    ],
    ids=["connect", "certificate", "after-send"],
)
async def test_connection_error_text_is_redacted(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    make_error: Callable[[str], Exception],
    attempts: int,
    prefix: str,
) -> None:
    calls: list[str] = []

    async def failing_request(self: aiohttp.ClientSession, method: str, url: Any, **kw: Any) -> Any:
        calls.append(method)
        raise make_error(f"boom {KEY} boom")

    monkeypatch.setattr(aiohttp.ClientSession, "request", failing_request)
    caplog.set_level(logging.DEBUG, logger="streamrun")
    async with AsyncClient(api_key=KEY, base_url=BASE, max_retries=1) as client:
        with pytest.raises(streamrun.APIConnectionError) as info:
            await run_once(client)
    assert len(calls) == attempts
    text = str(info.value)
    assert prefix in text
    assert KEY not in text
    assert "boom *** boom" in text
    assert KEY not in repr(info.value)
    assert all(KEY not in r.getMessage() for r in caplog.records)
