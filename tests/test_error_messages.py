"""Errors a person can read: one line, said once, no HTML, no aiohttp noise."""

from __future__ import annotations

import socket
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web

from streamrun import APIConnectionError, APIStatusError, AsyncClient
from streamrun._cli import main
from streamrun._redact import page_excerpt
from streamrun._transport import _connect_failure

from .conftest import serve

# What ``python -m http.server`` answers to a POST: 13 lines of HTML.
PLAIN_SERVER_PAGE = """<!DOCTYPE HTML>
<html lang="en">
    <head>
        <meta charset="utf-8">
        <title>Error response</title>
    </head>
    <body>
        <h1>Error response</h1>
        <p>Error code: 501</p>
        <p>Message: Unsupported method (&#x27;POST&#x27;).</p>
        <p>Error code explanation: 501 - Server does not support this operation.</p>
    </body>
</html>
"""


@pytest.fixture
def plain_web_server() -> Iterator[str]:
    """A real ``http.server`` on 127.0.0.1 (it answers POST with an HTML 501)."""

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def assert_one_readable_line(text: str) -> None:
    assert "\n" not in text
    assert "<" not in text and "&#" not in text
    assert len(text) <= 260


# -- page_excerpt


def test_page_excerpt_of_the_plain_server_page() -> None:
    assert page_excerpt(PLAIN_SERVER_PAGE.encode()) == (
        "Error response Error code: 501 Message: Unsupported method ('POST'). "
        "Error code explanation: 501 - Server does not support this operation."
    )


def test_page_excerpt_drops_scripts_and_styles_and_cuts_long_pages() -> None:
    page = (
        "<html><head><style>body{color:red}</style></head><body>"
        "<script>var x = '<p>hidden</p>';</script>"
        f"<h1>502 Bad Gateway</h1><p>{'upstream failed; ' * 40}</p></body></html>"
    )
    excerpt = page_excerpt(page)
    assert excerpt.startswith("502 Bad Gateway upstream failed;")
    assert "color" not in excerpt and "hidden" not in excerpt
    assert len(excerpt) == 200 and excerpt.endswith("…")


def test_page_excerpt_keeps_plain_text_and_a_title_only_page() -> None:
    assert page_excerpt("  upstream\n\n  timed   out\t") == "upstream timed out"
    assert page_excerpt("a < b and c > d") == "a < b and c > d"  # not HTML: no tag stripping
    assert page_excerpt("<html><head><title>Gone</title></head></html>") == "Gone"


# -- in the library's exceptions and in the CLI


@pytest.mark.asyncio
async def test_an_html_501_from_a_plain_web_server_is_one_line(plain_web_server: str) -> None:
    async with AsyncClient(api_key="k", base_url=plain_web_server, max_retries=0) as client:
        with pytest.raises(APIStatusError) as info:
            async with client.runs.stream("thread_1", assistant_id="asst_1"):
                pass
    text = str(info.value)
    assert info.value.status == 501
    assert text.startswith("HTTP 501: Error response Error code: 501 Message: Unsupported method")
    assert_one_readable_line(text)
    assert "<html" in info.value.body  # the whole page stays on the exception


def test_the_cli_prints_the_html_501_as_one_line(
    plain_web_server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "run",
        "--base-url",
        plain_web_server,
        "--api-key",
        "sk-x",
        "--assistant",
        "asst_1",
        "-m",
        "hi",
    ]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: HTTP 501: Error response")
    assert_one_readable_line(err.rstrip("\n"))


@pytest_asyncio.fixture
async def html_200() -> AsyncIterator[str]:
    async def page(request: web.Request) -> web.Response:
        return web.Response(text=PLAIN_SERVER_PAGE.replace("501", "200"), content_type="text/html")

    async with serve(page) as origin:
        yield f"{origin}/v1"


@pytest.mark.asyncio
async def test_a_2xx_html_page_instead_of_a_stream_or_json_is_one_line(html_200: str) -> None:
    async with AsyncClient(api_key="k", base_url=html_200) as client:
        with pytest.raises(APIStatusError) as info:
            async with client.runs.stream("thread_1", assistant_id="asst_1"):
                pass
        assert str(info.value).startswith(
            "HTTP 200: expected an event stream (text/event-stream), got text/html"
        )
        assert "Error code: 200" in str(info.value)
        assert_one_readable_line(str(info.value))
        with pytest.raises(APIStatusError) as info:
            await client.runs.retrieve("thread_1", "run_1")
        assert "the reply is not JSON: Error response Error code: 200" in str(info.value)
        assert_one_readable_line(str(info.value))


@pytest.mark.asyncio
async def test_a_refused_connection_is_said_once_without_ssl_noise(closed_port: int) -> None:
    base = f"http://127.0.0.1:{closed_port}/v1"
    async with AsyncClient(api_key="k", base_url=base, max_retries=0) as client:
        with pytest.raises(APIConnectionError) as info:
            async with client.runs.stream("thread_1", assistant_id="asst_1"):
                pass
    assert str(info.value) == f"cannot connect to 127.0.0.1:{closed_port}: Connection refused"


def test_a_dns_failure_is_said_once_without_ssl_noise() -> None:
    key = SimpleNamespace(host="api.example.test", port=443, ssl=True)
    exc = aiohttp.ClientConnectorError(key, socket.gaierror(-2, "Name or service not known"))  # type: ignore[arg-type]
    assert "ssl" in str(exc)  # aiohttp's own text, for contrast
    assert _connect_failure(exc) == "api.example.test:443: Name or service not known"


# -- a key echoed with HTML entities (review B4) -------------------------------------

LONG_KEY = "sk-proj-" + "A1b2C3d4E5f6G7h8" * 10  # 168 characters, like a project key
ENTITY_KEY = "".join(f"&#{ord(ch)};" for ch in LONG_KEY[:20]) + LONG_KEY[20:]
KEY_PAGE = f"<html><body><h1>Denied</h1><p>Bad key {ENTITY_KEY}</p></body></html>"


def assert_no_key(text: str) -> None:
    assert LONG_KEY not in text
    assert LONG_KEY[:20] not in text  # nor a long start of it


def test_page_excerpt_redacts_after_decoding_entities_and_before_the_cut() -> None:
    def redact(text: str) -> str:
        return text.replace(LONG_KEY, "***")

    assert page_excerpt(KEY_PAGE, redact=redact) == "Denied Bad key ***"
    assert LONG_KEY in page_excerpt(KEY_PAGE)  # what a redaction before decoding missed
    # The cut comes after the redaction: no start of the key survives it.
    cut = page_excerpt(KEY_PAGE, limit=40, redact=redact)
    assert cut == "Denied Bad key ***"
    assert page_excerpt("x" * 30 + LONG_KEY, limit=40, redact=redact) == "x" * 30 + "***"


def key_page(status: int) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        await request.read()
        return web.Response(status=status, text=KEY_PAGE, content_type="text/html")

    return handle


@pytest.mark.asyncio
async def test_an_html_error_page_echoing_the_key_as_entities_is_redacted() -> None:
    async with serve(key_page(401)) as origin:
        async with AsyncClient(api_key=LONG_KEY, base_url=f"{origin}/v1", max_retries=0) as c:
            with pytest.raises(APIStatusError) as info:
                async with c.runs.stream("thread_1", assistant_id="asst_1"):
                    pass
    assert str(info.value) == "HTTP 401: Denied Bad key ***"
    assert_no_key(str(info.value))


@pytest.mark.asyncio
async def test_a_non_json_reply_echoing_the_key_as_entities_is_redacted() -> None:
    async with serve(key_page(200)) as origin:
        async with AsyncClient(api_key=LONG_KEY, base_url=f"{origin}/v1", max_retries=0) as c:
            with pytest.raises(APIStatusError) as info:
                await c.runs.retrieve("thread_1", "run_1")
    assert "the reply is not JSON: Denied Bad key ***" in str(info.value)
    assert_no_key(str(info.value))


@pytest.mark.asyncio
async def test_a_non_sse_200_page_echoing_the_key_as_entities_is_redacted() -> None:
    async with serve(key_page(200)) as origin:
        async with AsyncClient(api_key=LONG_KEY, base_url=f"{origin}/v1", max_retries=0) as c:
            with pytest.raises(APIStatusError) as info:
                async with c.runs.stream("thread_1", assistant_id="asst_1"):
                    pass
    assert_no_key(str(info.value))
