"""Part 5 (hardening), network side: hostile servers and hostile inputs on 127.0.0.1.

Every class of input here broke the client before: what goes on the wire
(headers, ids, bodies, base URL), redirects, gateway 502/504 retries,
Retry-After, unbounded JSON replies, endless message paging, a second run in
one stream, an unclosed stream, and keys echoed back by a server.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
from collections.abc import Awaitable, Callable
from types import MappingProxyType
from typing import Any

import attrs
import pytest
from aiohttp import web
from hypothesis import given, settings, strategies as st
from yarl import URL

import streamrun
from streamrun import AsyncClient, _stream as stream_module
from streamrun._recover import run_path
from streamrun._redact import redact_secret
from streamrun._requests import encode_body
from streamrun._transport import DEFAULT_MAX_RESPONSE_SIZE, AuthStyle

from .conftest import Handler, ReplayServer, Reply, serve

KEY = "sk-test-0123456789abcdefXYZ"
ESCAPED_KEY = "".join(f"\\u{ord(c):04x}" for c in KEY)


def run_json(run_id: str = "run_1", thread_id: str = "thread_1", status: str = "queued") -> Any:
    return {"id": run_id, "object": "thread.run", "thread_id": thread_id, "status": status}


def sse(name: str, data: Any) -> bytes:
    text = data if isinstance(data, str) else json.dumps(data)
    return f"event: {name}\ndata: {text}\n\n".encode()


DONE = b"event: done\ndata: [DONE]\n\n"


@attrs.define
class Seen:
    """The requests a test server received."""

    requests: list[tuple[str, str, dict[str, str]]] = attrs.field(factory=list)

    def add(self, request: web.Request) -> None:
        self.requests.append((request.method, request.path, dict(request.headers)))

    def paths(self, method: str | None = None) -> list[str]:
        return [p for m, p, _ in self.requests if method is None or m == method]


def recording(seen: Seen, reply: Handler | None = None) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        await request.read()
        seen.add(request)
        if reply is not None:
            return await reply(request)
        return web.json_response(run_json(status="completed"))

    return handle


async def sse_reply(request: web.Request, body: bytes) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    await response.write(body)
    await response.write_eof()
    return response


# -- §1: what goes on the wire ---------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("call", "path"),
    [
        (
            lambda c: c.runs.stream("thread_1", assistant_id="a", instructions="x\ud800y"),
            "instructions",
        ),
        (
            lambda c: c.runs.stream("thread_1", assistant_id="a", metadata={"k": "\udfff"}),
            "metadata",
        ),
        (
            lambda c: c.runs.stream("thread_1", assistant_id="a", extra_body={"z": ["\ud83d"]}),
            "z[0]",
        ),
        (
            lambda c: c.runs.stream("thread_1", assistant_id="a", max_prompt_tokens=10**5000),
            "max_prompt_tokens",
        ),
        (
            lambda c: c.runs.stream("thread_1", assistant_id="a", temperature=-(10**5000)),
            "temperature",
        ),
        (
            lambda c: c.runs.stream("thread_1", assistant_id="a", extra_body={"n": 10**5000}),
            "n",
        ),
        (
            lambda c: c.runs.stream("thread_1", assistant_id="a", extra_body={"n": float("nan")}),
            "n",
        ),
        (
            lambda c: c.runs.stream(
                "thread_1", assistant_id="a", extra_headers={"X-A": "1\r\nX-B: 2"}
            ),
            "extra_headers",
        ),
        (
            lambda c: c.runs.stream("thread_1", assistant_id="a", extra_headers={"X-A": "\ud800"}),
            "extra_headers",
        ),
        (
            lambda c: c.runs.stream("thread_1", assistant_id="a", extra_headers={"X A\n": "1"}),
            "extra_headers",
        ),
        (
            lambda c: c.runs.stream("thread_1", assistant_id="a", extra_query={"q": "\udc80"}),
            "extra_query",
        ),
        (lambda c: c.runs.stream("thread_\ud800", assistant_id="a"), "thread_id"),
        (lambda c: c.threads.create_and_run_stream(assistant_id="a\ud800"), "assistant_id"),
        (
            lambda c: c.runs.submit_tool_outputs_stream(
                "thread_1", "run_1", tool_outputs=[{"tool_call_id": "c", "output": "\ud800"}]
            ),
            "tool_outputs[0].output",
        ),
    ],
)
async def test_unsendable_request_parts_are_validation_errors_before_sending(
    call: Callable[[AsyncClient], Any], path: str
) -> None:
    seen = Seen()
    async with serve(recording(seen)) as base:
        async with AsyncClient(api_key=KEY, base_url=base + "/v1", max_retries=0) as client:
            with pytest.raises(streamrun.ValidationError) as info:
                call(client)
    assert info.value.path.startswith(path), info.value
    assert KEY not in str(info.value)
    assert seen.requests == []  # nothing was sent


ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=8)
JSONISH = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**63 - 2, max_value=2**70)
    | st.builds(lambda: 10**5000)  # past int -> str limit (st.just would repr it)
    | st.floats()
    | ANY_TEXT,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(ANY_TEXT, children, max_size=3)
    ),
    max_leaves=8,
)


@pytest.mark.parametrize(
    "value",
    [MappingProxyType({"a": 1}), range(3), {"a": [MappingProxyType({})]}],
    ids=["mapping", "range", "nested-mapping"],
)
def test_a_body_value_json_cannot_write_is_a_validation_error(value: Any) -> None:
    # json.dumps writes dicts and lists only: anything else raised TypeError when sent.
    client = AsyncClient(api_key=KEY, base_url="http://127.0.0.1:9/v1")
    with pytest.raises(streamrun.ValidationError) as info:
        client.runs.stream("thread_1", assistant_id="asst_1", extra_body={"x": value})
    assert info.value.path.startswith("x")
    assert "a JSON value" in info.value.rule


@settings(max_examples=300, deadline=None)
@given(value=JSONISH, field=st.sampled_from(["extra_body", "metadata", "instructions", "tools"]))
def test_any_request_value_is_sent_or_a_validation_error(value: Any, field: str) -> None:
    client = AsyncClient(api_key=KEY, base_url="http://127.0.0.1:9/v1")
    kwargs: dict[str, Any] = {field: {"x": value} if field == "extra_body" else value}
    try:
        stream = client.runs.stream("thread_1", assistant_id="asst_1", **kwargs)
    except streamrun.ValidationError as error:
        str(error)  # printable, whatever the value
        return
    # Accepted: the exact bytes that will be sent can be produced.
    json.loads(encode_body(stream._body))


@pytest.mark.parametrize(
    "options",
    [
        {"organization": "org\r\nX-Injected: 1"},
        {"organization": "org\ud800"},
        {"project": "proj\nX"},
        {"project": "proj\x00"},
        {"default_headers": {"X-Trace": "a\rb"}},
        {"default_headers": {"X-Trace": "\udc00"}},
        {"default_headers": {"Bad Name": "v"}},
        {"default_query": {"api-version": "\ud800"}},
        {"api_key": "sk-\ud800"},
    ],
)
def test_unsendable_client_options_are_validation_errors(options: dict[str, Any]) -> None:
    with pytest.raises(streamrun.ValidationError) as info:
        AsyncClient(**{"api_key": KEY, "base_url": "http://127.0.0.1:9/v1", **options})
    assert info.value.path.split("[")[0] in {*options, "api_key"}


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (2**63, "must be at most 2**63-1 in size, got 9223372036854775808"),
        (-(2**300), "must be at most 2**63-1 in size, got an integer of 301 bits"),
        pytest.param(
            10**5000, "must be at most 2**63-1 in size, got an integer of 16610 bits", id="10**5000"
        ),
        (float("nan"), "must be a finite number, got nan"),
    ],
)
def test_a_query_number_that_cannot_be_sent_is_a_validation_error(value: Any, problem: str) -> None:
    base = "http://127.0.0.1:9/v1"
    with pytest.raises(streamrun.ValidationError) as info:
        AsyncClient(api_key=KEY, base_url=base, default_query={"n": value})
    assert (info.value.path, info.value.rule) == ("default_query['n']", problem)
    client = AsyncClient(api_key=KEY, base_url=base)
    with pytest.raises(streamrun.ValidationError) as info:
        client.runs.stream("thread_1", assistant_id="a", extra_query={"x": value})
    assert (info.value.path, info.value.rule) == ("extra_query['x']", problem)


@pytest.mark.asyncio
async def test_query_numbers_are_sent_as_their_exact_text(replay_server: ReplayServer) -> None:
    replay_server.replies.append(Reply(body=sse("thread.run.created", run_json()) + DONE))
    big = 2**63 - 1
    numbers: dict[str, Any] = {"n": -big, "f": 0.1}  # accepted, though typed as text
    async with AsyncClient(
        api_key=KEY, base_url=replay_server.base_url, default_query=numbers
    ) as client:
        stream = client.runs.stream(
            "thread_1", assistant_id="a", extra_query={"x": 10**20 // 10**2, "y": big}
        )
        async with stream:
            await stream.until_done()
    assert replay_server.requests[0]["query"] == [
        ("n", str(-big)),
        ("f", "0.1"),
        ("x", "1000000000000000000"),
        ("y", "9223372036854775807"),
    ]


@pytest.mark.parametrize(
    "base_url",
    [
        "http://user:hunter2-secret@127.0.0.1:9/v1",
        "https://:hunter2-secret@api.example/v1",
        "http://hunter2-secret@127.0.0.1:9/v1",
    ],
)
def test_base_url_with_credentials_is_rejected_without_echoing_them(base_url: str) -> None:
    with pytest.raises(streamrun.ValidationError) as info:
        AsyncClient(api_key=KEY, base_url=base_url)
    assert info.value.path == "base_url"
    assert "hunter2" not in str(info.value) and "hunter2" not in repr(info.value.__dict__)


@settings(max_examples=300, deadline=None)
@given(value=st.text())
def test_any_header_value_is_sent_as_is_or_rejected(value: str) -> None:
    try:
        client = AsyncClient(api_key=KEY, base_url="http://127.0.0.1:9/v1", organization=value)
    except streamrun.ValidationError:
        return
    sent = client._transport.headers(accept="application/json").get("OpenAI-Organization", "")
    assert sent == value
    sent.encode("utf-8")  # no lone surrogate
    assert not any(c in sent for c in "\r\n\x00")


@pytest.mark.asyncio
@pytest.mark.parametrize("bad", [".", "..", "a\nb", "\x7f", "\udc00"])
async def test_dot_ids_are_rejected_by_every_endpoint(bad: str) -> None:
    seen = Seen()
    async with serve(recording(seen)) as base:
        async with AsyncClient(api_key=KEY, base_url=base + "/v1", max_retries=0) as client:
            calls: list[Callable[[], Any]] = [
                lambda: client.runs.stream(bad, assistant_id="a"),
                lambda: client.runs.submit_tool_outputs_stream(bad, "run_1", tool_outputs=[]),
                lambda: client.runs.submit_tool_outputs_stream("thread_1", bad, tool_outputs=[]),
                lambda: client.runs.retrieve(bad, "run_1"),
                lambda: client.runs.retrieve("thread_1", bad),
                lambda: client.runs.cancel("thread_1", bad),
                lambda: client.runs.recover(bad, "run_1"),
                lambda: client.threads.list_messages("thread_1", run_id=bad),
                lambda: client.threads.list_messages(bad, run_id="run_1"),
            ]
            for call in calls:
                with pytest.raises(streamrun.ValidationError) as info:
                    result = call()
                    if asyncio.iscoroutine(result):
                        await result
                assert info.value.path in ("thread_id", "run_id")
    assert seen.requests == []  # runs.stream("..") used to POST /v1/runs


IDS = st.text(min_size=1) | st.sampled_from([".", "..", "../..", "%2e%2e", "a/../b", "?x", "#"])


@settings(max_examples=300, deadline=None)
@given(thread_id=IDS, run_id=IDS)
def test_an_accepted_id_is_exactly_one_path_segment(thread_id: str, run_id: str) -> None:
    try:
        path = run_path(thread_id, run_id)
    except streamrun.ValidationError:
        return
    # yarl normalises "." and ".." segments the way the request URL would be.
    url = URL("http://127.0.0.1:9/v1" + path + "/cancel")
    assert url.parts[1:] == ("v1", "threads", thread_id, "runs", run_id, "cancel")


# -- §4: redirects ------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize("auth_style", ["bearer", "api-key"])
@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_redirects_are_never_followed_so_no_header_reaches_another_origin(
    auth_style: AuthStyle, status: int
) -> None:
    other = Seen()
    first = Seen()
    async with serve(recording(other)) as other_base:

        async def redirect(request: web.Request) -> web.StreamResponse:
            return web.Response(status=status, headers={"Location": other_base + request.path_qs})

        async with serve(recording(first, redirect)) as base:
            async with AsyncClient(
                api_key=KEY,
                base_url=base + "/v1",
                auth_style=auth_style,
                organization="org_private",
                project="proj_private",
                default_headers={"X-Tenant": "tenant_private"},
            ) as client:
                with pytest.raises(streamrun.APIStatusError) as info:
                    async with client.runs.stream("thread_1", assistant_id="asst_1"):
                        pytest.fail("a redirect must not open a stream")
                with pytest.raises(streamrun.APIStatusError) as info_get:
                    await client.runs.retrieve("thread_1", "run_1")
    assert other.requests == []  # neither the POST nor the GET went to the other origin
    assert first.paths("POST") == ["/v1/threads/thread_1/runs"]  # sent once, not resent
    for error in (info.value, info_get.value):
        assert error.status == status
        assert "never follows redirects" in str(error)
        assert other_base in str(error)
        assert KEY not in str(error)


# -- §5: retries never duplicate a run ------------------------------------------------


@attrs.define
class Gateway:
    """A gateway whose upstream creates the run, and which then answers ``status``."""

    status: int
    posts: list[str] = attrs.field(factory=list)
    runs_created: int = 0

    async def handle(self, request: web.Request) -> web.StreamResponse:
        await request.read()
        if request.method == "POST":
            self.posts.append(request.path)
            self.runs_created += 1  # the upstream acted before the gateway gave up
        return web.Response(
            status=self.status,
            text=f"<html>{self.status} Gateway error</html>",
            content_type="text/html",
            headers={"retry-after-ms": "1"},
        )


RUN_CREATING: list[tuple[str, Callable[[AsyncClient], streamrun.RunStream]]] = [
    ("runs.stream", lambda c: c.runs.stream("thread_1", assistant_id="asst_1")),
    ("create_and_run_stream", lambda c: c.threads.create_and_run_stream(assistant_id="asst_1")),
    (
        "submit_tool_outputs_stream",
        lambda c: c.runs.submit_tool_outputs_stream(
            "thread_1", "run_1", tool_outputs=[{"tool_call_id": "call_1", "output": "42"}]
        ),
    ),
]


@pytest.mark.asyncio
@pytest.mark.parametrize("status", [502, 504])
@pytest.mark.parametrize(("name", "open_stream"), RUN_CREATING)
async def test_gateway_502_504_on_a_run_creating_post_is_not_retried(
    status: int, name: str, open_stream: Callable[[AsyncClient], streamrun.RunStream]
) -> None:
    gateway = Gateway(status)
    async with serve(gateway.handle) as base:
        async with AsyncClient(api_key=KEY, base_url=base + "/v1", max_retries=3) as client:
            with pytest.raises(streamrun.APIStatusError) as info:
                async with open_stream(client):
                    pytest.fail("no stream on a gateway error")
    assert isinstance(info.value, streamrun.InternalServerError)
    assert info.value.status == status
    assert len(gateway.posts) == 1 and gateway.runs_created == 1  # no second run


@pytest.mark.asyncio
@pytest.mark.parametrize("status", [429, 500, 503])
async def test_other_retryable_statuses_keep_their_retry(status: int) -> None:
    gateway = Gateway(status)
    async with serve(gateway.handle) as base:
        async with AsyncClient(api_key=KEY, base_url=base + "/v1", max_retries=2) as client:
            with pytest.raises(streamrun.APIStatusError) as info:
                async with client.runs.stream("thread_1", assistant_id="asst_1"):
                    pass
    assert info.value.status == status
    assert len(gateway.posts) == 3


@pytest.mark.asyncio
@pytest.mark.parametrize("retry_after", ["-5", "-0.001", "Wed, 21 Oct 2015 07:28:00 GMT", "-inf"])
async def test_negative_or_past_retry_after_uses_the_normal_backoff(
    retry_after: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="streamrun")
    replies = [429, 200]

    async def handle(request: web.Request) -> web.StreamResponse:
        await request.read()
        if replies.pop(0) == 429:
            return web.json_response(
                {"error": {"message": "slow down"}},
                status=429,
                headers={"Retry-After": retry_after},
            )
        return await sse_reply(
            request, sse("thread.run.completed", run_json(status="completed")) + DONE
        )

    async with serve(handle) as base:
        async with AsyncClient(api_key=KEY, base_url=base + "/v1", max_retries=1) as client:
            async with client.runs.stream("thread_1", assistant_id="asst_1") as stream:
                assert (await stream.final_run()).status == "completed"
    [record] = [r for r in caplog.records if "retrying" in r.getMessage()]
    delay = float(record.getMessage().split(" in ")[1].split("s ")[0])
    assert 0.25 <= delay <= 0.5  # first retry's backoff (base 0.5 s, full jitter), not 0


# -- §2: bounded JSON replies and recovery ----------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize("chunked", [True, False])
@pytest.mark.parametrize("endpoint", ["retrieve", "cancel", "list_messages", "recover"])
async def test_json_replies_are_capped_and_read_incrementally(chunked: bool, endpoint: str) -> None:
    limit = 1024 * 1024
    total = 64 * 1024 * 1024
    sent = [0]

    async def handle(request: web.Request) -> web.StreamResponse:
        await request.read()
        head = b'{"id":"run_1","object":"thread.run","thread_id":"thread_1","pad":"'
        if not chunked:
            return web.Response(
                body=head + b"a" * (2 * limit) + b'"}', content_type="application/json"
            )
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        await response.write(head)
        block = b"a" * 65536
        with contextlib.suppress(ConnectionError):
            while sent[0] < total:
                await response.write(block)
                sent[0] += len(block)
        return response

    async with serve(handle) as base:
        async with AsyncClient(
            api_key=KEY, base_url=base + "/v1", max_retries=0, max_response_size=limit
        ) as client:
            calls: dict[str, Callable[[], Awaitable[Any]]] = {
                "retrieve": lambda: client.runs.retrieve("thread_1", "run_1"),
                "cancel": lambda: client.runs.cancel("thread_1", "run_1"),
                "list_messages": lambda: client.threads.list_messages("thread_1", run_id="run_1"),
                "recover": lambda: client.runs.recover("thread_1", "run_1", timeout=30),
            }
            with pytest.raises(streamrun.ResponseTooLargeError) as info:
                await calls[endpoint]()
    assert isinstance(info.value, streamrun.APIStatusError)
    assert info.value.limit == limit and info.value.size > limit
    assert "max_response_size" in str(info.value)
    # The client stopped reading at the cap: the server could not push the whole body.
    assert sent[0] < total // 2


def test_the_default_reply_cap_is_16_mib() -> None:
    client = AsyncClient(api_key=KEY, base_url="http://127.0.0.1:9/v1")
    assert DEFAULT_MAX_RESPONSE_SIZE == 16 * 1024 * 1024
    assert client._transport.max_response_size == DEFAULT_MAX_RESPONSE_SIZE
    with pytest.raises(streamrun.ValidationError):
        AsyncClient(api_key=KEY, base_url="http://127.0.0.1:9/v1", max_response_size=0)


def message_json(message_id: str) -> Any:
    return {
        "id": message_id,
        "object": "thread.message",
        "thread_id": "thread_1",
        "run_id": "run_1",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "text", "text": {"value": message_id, "annotations": []}}],
    }


@pytest.mark.asyncio
@pytest.mark.parametrize("via", ["list_messages", "recover"])
async def test_a_repeated_page_is_a_protocol_error(via: str) -> None:
    pages = [0]

    async def handle(request: web.Request) -> web.StreamResponse:
        if request.path.endswith("/messages"):
            pages[0] += 1
            data = [message_json("msg_1"), message_json("msg_2")]
            return web.json_response({"object": "list", "data": data, "has_more": True})
        return web.json_response(run_json(status="completed"))

    async with serve(handle) as base:
        async with AsyncClient(api_key=KEY, base_url=base + "/v1", max_retries=0) as client:
            with pytest.raises(streamrun.ProtocolError, match="does not advance") as info:
                if via == "recover":
                    await client.runs.recover("thread_1", "run_1")
                else:
                    await client.threads.list_messages("thread_1", run_id="run_1")
    assert info.value.run_id == "run_1"
    assert pages[0] == 2  # the first repeat is caught


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("endpoint", "reply"),
    [
        ("retrieve", [1]),
        ("retrieve", "run"),
        ("cancel", 5),
        ("list_messages", {"object": "list", "data": [5], "has_more": False}),
        ("list_messages", {"object": "list", "data": [{"id": 5, "content": 7}]}),
        ("list_messages", {"object": "list", "data": {"id": "x"}, "has_more": True}),
    ],
)
async def test_a_json_reply_of_the_wrong_shape_is_a_protocol_error(
    endpoint: str, reply: Any
) -> None:
    async def handle(request: web.Request) -> web.StreamResponse:
        return web.json_response(reply)

    async with serve(handle) as base:
        async with AsyncClient(api_key=KEY, base_url=base + "/v1", max_retries=0) as client:
            calls: dict[str, Callable[[], Awaitable[Any]]] = {
                "retrieve": lambda: client.runs.retrieve("thread_1", "run_1"),
                "cancel": lambda: client.runs.cancel("thread_1", "run_1"),
                "list_messages": lambda: client.threads.list_messages("thread_1", run_id="run_1"),
            }
            with pytest.raises(streamrun.ProtocolError) as info:
                await calls[endpoint]()
    assert info.value.run_id == "run_1"


@pytest.mark.asyncio
@pytest.mark.parametrize("via", ["list_messages", "recover"])
async def test_timeout_bounds_the_whole_recovery_paging_included(via: str) -> None:
    pages = [0]

    async def handle(request: web.Request) -> web.StreamResponse:
        if request.path.endswith("/messages"):
            pages[0] += 1  # a new cursor every time: pages never end
            data = [message_json(f"msg_{pages[0]}")]
            return web.json_response({"object": "list", "data": data, "has_more": True})
        return web.json_response(run_json(status="completed"))

    async with serve(handle) as base:
        async with AsyncClient(api_key=KEY, base_url=base + "/v1", max_retries=0) as client:
            with pytest.raises(streamrun.StreamTimeout) as info:
                if via == "recover":
                    await client.runs.recover("thread_1", "run_1", timeout=0.3)
                else:
                    await client.threads.list_messages("thread_1", run_id="run_1", timeout=0.3)
    assert info.value.kind == "total" and info.value.seconds == 0.3
    assert pages[0] > 1


# -- §3: one run per stream; unclosed streams ------------------------------------------


@attrs.define
class RunServer:
    """Streams ``body`` for run POSTs (then stalls with keep-alives when ``stall``)."""

    body: bytes
    stall: bool = False
    seen: Seen = attrs.field(factory=Seen)
    cancels: list[str] = attrs.field(factory=list)
    stream_closed: asyncio.Event = attrs.field(factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        await request.read()
        self.seen.add(request)
        if request.path.endswith("/cancel"):
            self.cancels.append(request.path)
            return web.json_response(run_json(status="cancelling"))
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(self.body)
        if not self.stall:
            await response.write_eof()
            return response
        try:
            for _ in range(600):
                await asyncio.sleep(0.05)
                await response.write(b": keep-alive\n\n")
        except (ConnectionError, RuntimeError):
            self.stream_closed.set()
        return response


@pytest.mark.asyncio
async def test_a_second_run_in_one_stream_is_a_protocol_error_and_cancel_keeps_the_first() -> None:
    server = RunServer(
        sse("thread.run.created", run_json("run_1"))
        + sse("thread.run.in_progress", run_json("run_1", status="in_progress"))
        + sse("thread.run.created", run_json("run_2"))
        + sse("thread.run.completed", run_json("run_2", status="completed"))
        + DONE
    )
    async with serve(server.handle) as base:
        async with AsyncClient(api_key=KEY, base_url=base + "/v1", max_retries=0) as client:
            stream = client.runs.stream("thread_1", assistant_id="asst_1")
            with pytest.raises(streamrun.ProtocolError, match="run_2") as info:
                async with stream:
                    await stream.until_done()
    assert info.value.event == "thread.run.created" and info.value.position == 2
    assert stream.run_id == "run_1" and info.value.run_id == "run_1"
    assert stream.error is info.value
    assert server.cancels == ["/v1/threads/thread_1/runs/run_1/cancel"]


@pytest.mark.asyncio
async def test_a_run_step_of_another_run_is_a_protocol_error() -> None:
    step = {
        "id": "step_1",
        "object": "thread.run.step",
        "thread_id": "thread_1",
        "run_id": "run_OTHER",
        "type": "message_creation",
        "status": "in_progress",
    }
    server = RunServer(
        sse("thread.run.created", run_json("run_1"))
        + sse("thread.run.step.created", step)
        + sse("thread.run.completed", run_json("run_1", status="completed"))
        + DONE
    )
    async with serve(server.handle) as base:
        async with AsyncClient(api_key=KEY, base_url=base + "/v1", max_retries=0) as client:
            stream = client.runs.stream("thread_1", assistant_id="asst_1")
            with pytest.raises(streamrun.ProtocolError, match="run_OTHER") as info:
                async with stream:
                    await stream.until_done()
    assert info.value.event == "thread.run.step.created"
    assert server.cancels == ["/v1/threads/thread_1/runs/run_1/cancel"]


@pytest.mark.asyncio
async def test_a_second_thread_in_create_and_run_is_a_protocol_error() -> None:
    thread_a = {"id": "thread_A", "object": "thread", "created_at": 1, "metadata": {}}
    server = RunServer(
        sse("thread.created", thread_a)
        + sse("thread.run.created", run_json("run_1", "thread_B"))
        + DONE
    )
    async with serve(server.handle) as base:
        async with AsyncClient(api_key=KEY, base_url=base + "/v1", max_retries=0) as client:
            stream = client.threads.create_and_run_stream(assistant_id="asst_1")
            with pytest.raises(streamrun.ProtocolError, match="thread_B"):
                async with stream:
                    await stream.until_done()
    assert stream.thread_id == "thread_A"


@pytest.mark.asyncio
async def test_an_unclosed_stream_warns_closes_and_cancels_when_collected() -> None:
    server = RunServer(sse("thread.run.created", run_json("run_1")), stall=True)
    async with serve(server.handle) as base:
        async with AsyncClient(api_key=KEY, base_url=base + "/v1", max_retries=0) as client:
            stream = client.runs.stream("thread_1", assistant_id="asst_1")
            await stream.__aenter__()
            event = await stream.__aiter__().__anext__()
            assert event.event == "thread.run.created"
            with pytest.warns(ResourceWarning, match="unclosed <RunStream run_id='run_1'"):
                del stream
                gc.collect()
            # The connection is closed now, and the cancel runs as a held task.
            await asyncio.wait_for(server.stream_closed.wait(), 10)
            for _ in range(500):
                if server.cancels and not stream_module._ABANDON_TASKS:
                    break
                await asyncio.sleep(0.01)
            assert server.cancels == ["/v1/threads/thread_1/runs/run_1/cancel"]
            assert not stream_module._ABANDON_TASKS


@pytest.mark.asyncio
async def test_a_settled_unclosed_stream_warns_but_cancels_nothing() -> None:
    server = RunServer(
        sse("thread.run.created", run_json("run_1"))
        + sse("thread.run.completed", run_json("run_1", status="completed")),
        stall=True,
    )
    async with serve(server.handle) as base:
        async with AsyncClient(api_key=KEY, base_url=base + "/v1", max_retries=0) as client:
            stream = client.runs.stream("thread_1", assistant_id="asst_1")
            await stream.__aenter__()
            iterator = stream.__aiter__()
            await iterator.__anext__()
            await iterator.__anext__()
            with pytest.warns(ResourceWarning):
                del stream, iterator
                gc.collect()
            await asyncio.wait_for(server.stream_closed.wait(), 10)
    assert server.cancels == []


# -- §4: the key never leaves the process ------------------------------------------------


def assert_no_key(*texts: object) -> None:
    for text in texts:
        shown = str(text)
        assert KEY not in shown
        assert KEY[:8] not in shown, shown  # no prefix either


@pytest.mark.asyncio
@pytest.mark.parametrize("escaped", [False, True])
async def test_a_key_echoed_in_an_error_reply_is_redacted_after_decoding(escaped: bool) -> None:
    echoed = ESCAPED_KEY if escaped else KEY
    body = (
        '{"error": {"message": "Incorrect API key provided: ' + echoed + '", '
        '"type": "invalid_request_error", "code": "' + echoed + '", "param": null}}'
    )

    async def handle(request: web.Request) -> web.StreamResponse:
        await request.read()
        return web.Response(
            status=401, text=body, content_type="application/json", headers={"X-Echo": KEY}
        )

    async with serve(handle) as base:
        async with AsyncClient(api_key=KEY, base_url=base + "/v1", max_retries=0) as client:
            with pytest.raises(streamrun.AuthenticationError) as info:
                await client.runs.retrieve("thread_1", "run_1")
    error = info.value
    assert "Incorrect API key provided: ***" in error.message
    assert_no_key(error, error.message, error.code, repr(error.body), repr(error.__dict__))


@pytest.mark.asyncio
@pytest.mark.parametrize("offset", [0, 150, 190, 196, 199, 1990, 64 * 1024 - 10])
async def test_a_key_in_a_non_json_reply_is_redacted_whole_wherever_the_cut_falls(
    offset: int,
) -> None:
    text = "x" * offset + KEY + "y" * 300

    async def handle(request: web.Request) -> web.StreamResponse:
        await request.read()
        status = 400 if request.path.endswith("/cancel") else 200
        echo = {"X-Echo": KEY, "X-Request-Id": "req_" + KEY}
        return web.Response(status=status, text=text, content_type="text/html", headers=echo)

    async with serve(handle) as base:
        async with AsyncClient(api_key=KEY, base_url=base + "/v1", max_retries=0) as client:
            errors: list[BaseException] = []
            calls: tuple[Callable[[], Awaitable[Any]], ...] = (
                lambda: client.runs.retrieve("thread_1", "run_1"),  # 200, not JSON
                lambda: client.runs.cancel("thread_1", "run_1"),  # 400, not JSON
            )
            for call in calls:
                with pytest.raises(streamrun.APIStatusError) as info:
                    await call()
                errors.append(info.value)
            with pytest.raises(streamrun.APIStatusError) as info:  # 200, not SSE
                async with client.runs.stream("thread_1", assistant_id="asst_1"):
                    pass
            errors.append(info.value)
    for error in errors:
        assert_no_key(error, repr(error.__dict__))


@pytest.mark.asyncio
@pytest.mark.parametrize("escaped", [False, True])
async def test_a_key_in_an_error_event_or_a_malformed_event_is_redacted(
    escaped: bool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    echoed = ESCAPED_KEY if escaped else KEY
    error_event = (
        b"event: error\ndata: "
        + ('{"error": {"message": "bad key ' + echoed + '", "code": "' + echoed + '"}}').encode()
        + b"\n\n"
    )
    malformed = b"event: thread.run.in_progress\ndata: {" + b"z" * 180 + KEY.encode() + b"\n\n"
    results: list[BaseException] = []
    for body in (error_event, malformed):
        server = RunServer(sse("thread.run.created", run_json("run_1")) + body)
        async with serve(server.handle) as base:
            async with AsyncClient(api_key=KEY, base_url=base + "/v1", max_retries=0) as client:
                with pytest.raises(streamrun.StreamFailure) as info:
                    async with client.runs.stream("thread_1", assistant_id="asst_1") as stream:
                        await stream.until_done()
        results.append(info.value)
    stream_error, protocol_error = results
    assert isinstance(stream_error, streamrun.StreamError)
    assert isinstance(protocol_error, streamrun.ProtocolError)
    assert "***" in stream_error.message
    assert_no_key(stream_error, stream_error.message, stream_error.code)
    assert_no_key(protocol_error, protocol_error.excerpt)
    for record in caplog.records:
        assert_no_key(record.getMessage())


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("key " + KEY + " end", None, "key *** end"),
        ("key " + ESCAPED_KEY + " end", None, "key *** end"),
        ("key \\u0073" + KEY[1:] + " end", None, "key *** end"),
        ("0123456789" + KEY, 14, "0123456789***"),  # redacted before the cut
        ("0123456789" + KEY + "tail", 11, "0123456789*..."),
        ("abc " + KEY[:12], None, "abc ***"),  # a key cut by an earlier read limit
        ("abc " + KEY[:12] + "\u2026'", None, "abc ***\u2026'"),  # ... before an ellipsis
        ("abc " + KEY[:3], None, "abc " + KEY[:3]),  # too short to be telling
        ("no secret here", 5, "no se..."),
    ],
)
def test_redact_secret(text: str, limit: int | None, expected: str) -> None:
    assert redact_secret(text, KEY, limit=limit) == expected
    assert redact_secret(text, None) == text


LONG_KEY = "sk-long-" + "".join(chr(ord("a") + i % 26) for i in range(200))  # longer than any cut


def _no_part_of(key: str, *texts: object) -> None:
    """Neither the key, nor 8+ characters of its start, plainly or JSON-escaped."""
    escaped = "".join(f"\\u{ord(c):04x}" for c in key)
    for text in texts:
        shown = str(text)
        assert key[:8] not in shown, shown
        assert escaped[:24] not in shown.lower(), shown  # 4 escaped characters


async def _fail_with(key: str, body: bytes, create_and_run: bool = False) -> BaseException:
    server = RunServer(body)
    async with serve(server.handle) as base:
        async with AsyncClient(api_key=key, base_url=base + "/v1", max_retries=0) as client:
            stream = (
                client.threads.create_and_run_stream(assistant_id="asst_1")
                if create_and_run
                else client.runs.stream("thread_1", assistant_id="asst_1")
            )
            with pytest.raises(streamrun.StreamFailure) as info:
                async with stream:
                    await stream.until_done()
    return info.value


@pytest.mark.asyncio
@pytest.mark.parametrize("kind", ["run", "thread"])
@pytest.mark.parametrize(
    ("key", "offset"),
    [(LONG_KEY, 0), (LONG_KEY, 40), (KEY, 0), (KEY, 60), (KEY, 70), (KEY, 76), (KEY, 79)],
)
async def test_a_key_in_a_second_run_or_thread_id_is_redacted_before_the_cut(
    kind: str, key: str, offset: int
) -> None:
    other = "x" * offset + key + "y" * 50  # the id is cut for the message: around the key
    second = run_json(other, "thread_1") if kind == "run" else run_json("run_1", other)
    error = await _fail_with(
        key, sse("thread.run.created", run_json("run_1")) + sse("thread.run.in_progress", second)
    )
    assert isinstance(error, streamrun.ProtocolError)
    assert f"names {kind}" in str(error)
    _no_part_of(key, error, error.args, error.excerpt)


@pytest.mark.asyncio
@pytest.mark.parametrize("escaped", [False, True])
@pytest.mark.parametrize(
    ("key", "offset"), [(LONG_KEY, 0), (LONG_KEY, 50), (KEY, 90), (KEY, 110), (KEY, 117)]
)
async def test_a_key_in_a_malformed_event_is_redacted_before_the_excerpt_is_cut(
    key: str, offset: int, escaped: bool
) -> None:
    written = "".join(f"\\u{ord(c):04x}" for c in key) if escaped else key
    for data in (
        '{"id": "' + "z" * offset + written + '", ',  # malformed JSON
        '{"id": 5, "status": "' + "z" * offset + written + '"}',  # a shape error
        '{"error": ["' + "z" * offset + written + '"]}',  # an error event of the wrong shape
    ):
        name = "error" if data.startswith('{"error"') else "thread.run.in_progress"
        body = sse("thread.run.created", run_json("run_1")) + sse(name, data)
        error = await _fail_with(key, body)
        assert isinstance(error, streamrun.ProtocolError), error
        _no_part_of(key, error, error.args, error.excerpt)


@pytest.mark.asyncio
async def test_a_key_in_an_oversized_events_name_is_redacted() -> None:
    body = (
        sse("thread.run.created", run_json("run_1"))
        + (f"event: x{KEY}\ndata: " + "z" * 2000 + "\n\n").encode()
    )
    server = RunServer(body)
    async with serve(server.handle) as base:
        async with AsyncClient(
            api_key=KEY, base_url=base + "/v1", max_retries=0, max_event_size=1000
        ) as client:
            with pytest.raises(streamrun.EventTooLargeError) as info:
                async with client.runs.stream("thread_1", assistant_id="asst_1") as stream:
                    await stream.until_done()
    _no_part_of(KEY, info.value, info.value.event)


# -- one run per stream: the ids the call was made with count -------------------------------


def message_event(thread_id: str, run_id: str | None) -> Any:
    return {
        "id": "msg_1",
        "object": "thread.message",
        "thread_id": thread_id,
        "run_id": run_id,
        "role": "assistant",
        "status": "in_progress",
        "content": [],
    }


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("first", "named"),
    [
        (sse("thread.run.in_progress", run_json("run_OTHER", status="in_progress")), "run_OTHER"),
        (sse("thread.run.in_progress", run_json("run_1", "thread_OTHER")), "thread_OTHER"),
        (sse("thread.message.created", message_event("thread_1", "run_OTHER")), "run_OTHER"),
        (sse("thread.message.created", message_event("thread_OTHER", "run_1")), "thread_OTHER"),
    ],
)
async def test_a_continuation_naming_another_run_or_thread_fails_and_cancels_only_its_own(
    first: bytes, named: str
) -> None:
    # submit_tool_outputs_stream(thread_1, run_1): the first event already names another.
    server = RunServer(first + sse("thread.run.completed", run_json(status="completed")) + DONE)
    async with serve(server.handle) as base:
        async with AsyncClient(api_key=KEY, base_url=base + "/v1", max_retries=0) as client:
            stream = client.runs.submit_tool_outputs_stream(
                "thread_1", "run_1", tool_outputs=[{"tool_call_id": "call_1", "output": "x"}]
            )
            with pytest.raises(streamrun.ProtocolError, match=named) as info:
                async with stream:
                    await stream.until_done()
    assert info.value.position == 0
    assert (stream.thread_id, stream.run_id) == ("thread_1", "run_1")
    assert set(server.cancels) <= {"/v1/threads/thread_1/runs/run_1/cancel"}
    assert server.cancels  # the run was left going: it is cancelled, and only it


@pytest.mark.asyncio
async def test_a_message_of_another_run_mid_stream_fails_and_cancel_keeps_the_first() -> None:
    server = RunServer(
        sse("thread.run.created", run_json("run_1"))
        + sse("thread.message.created", message_event("thread_1", "run_1"))
        + sse("thread.message.created", message_event("thread_1", "run_OTHER"))
        + DONE
    )
    async with serve(server.handle) as base:
        async with AsyncClient(api_key=KEY, base_url=base + "/v1", max_retries=0) as client:
            stream = client.runs.stream("thread_1", assistant_id="asst_1")
            with pytest.raises(streamrun.ProtocolError, match="run_OTHER") as info:
                async with stream:
                    await stream.until_done()
    assert info.value.event == "thread.message.created" and info.value.position == 2
    assert server.cancels == ["/v1/threads/thread_1/runs/run_1/cancel"]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "reply",
    [
        b"[1, 2]",
        b'"cancelling"',
        b'{"id": "run_1", "created_at": "x"}',
        b'{"id": "run_1", "required_action": 5}',
        b'{"id": "run_1", "tools": [{"type": "function", "function": 3}]}',
        b"not json",
    ],
)
async def test_cancel_with_a_malformed_cancel_reply_is_a_typed_error(reply: bytes) -> None:
    requires_action = run_json(status="requires_action")

    async def handle(request: web.Request) -> web.StreamResponse:
        await request.read()
        if request.path.endswith("/cancel"):
            return web.Response(body=reply, content_type="application/json")
        return await sse_reply(
            request,
            sse("thread.run.created", run_json())
            + sse("thread.run.requires_action", requires_action)
            + DONE,
        )

    async with serve(handle) as base:
        async with AsyncClient(api_key=KEY, base_url=base + "/v1", max_retries=0) as client:
            async with client.runs.stream("thread_1", assistant_id="asst_1") as stream:
                await stream.until_done()
                with pytest.raises(streamrun.StreamrunError) as info:
                    await stream.cancel()
    assert isinstance(info.value, (streamrun.ProtocolError, streamrun.APIStatusError))
    assert not isinstance(info.value, (TypeError, KeyError))
