"""Relay a run stream to a browser with aiohttp.web: ``streamrun.relay.sse_response``.

The server holds the key and opens the run stream; the browser (here played by
an aiohttp client, or the page of ``streamrun web``) reads the relayed
server-sent events. Closing the browser tab cancels the run on the server.

Runs as written against the built-in fake Assistants server (no key, no
network): it serves the relay on 127.0.0.1, posts one message to it and prints
the relayed text. With ``--serve`` it keeps serving (POST /chat with
``{"thread_id": ..., "message": ...}``).
"""

from __future__ import annotations

import asyncio
import json
import sys

import aiohttp
from aiohttp import web

from streamrun import AsyncClient
from streamrun.relay import sse_response
from streamrun.sse import SSEDecoder
from streamrun.testing import FakeAssistantsServer, scenarios

CLIENT = web.AppKey("client", AsyncClient)


async def chat(request: web.Request) -> web.StreamResponse:
    body = await request.json()
    client = request.app[CLIENT]
    # Not entered here: the relay opens the stream and closes it (cancelling
    # the run if the browser leaves early).
    stream = client.runs.stream(
        body["thread_id"],
        assistant_id="asst_example",
        additional_messages=[{"role": "user", "content": body["message"]}],
    )
    return await sse_response(request, stream)


def make_app(client: AsyncClient) -> web.Application:
    app = web.Application()
    app[CLIENT] = client
    app.router.add_post("/chat", chat)
    return app


async def play_the_browser(url: str) -> None:
    """What the page does, in Python: POST, then decode the relayed events."""
    decoder = SSEDecoder()
    count = 0
    async with aiohttp.ClientSession() as session:
        async with session.post(
            url, json={"thread_id": "thread_example", "message": "How does photosynthesis work?"}
        ) as response:
            print(f"content-type: {response.headers['Content-Type']}")
            async for chunk in response.content.iter_any():
                for sse in decoder.feed(chunk):
                    count += 1
                    if sse.event == "thread.message.delta":
                        for part in json.loads(sse.data)["delta"]["content"]:
                            if part["type"] == "text":
                                print(part["text"]["value"], end="", flush=True)
                    elif sse.event in ("done", "error"):
                        print(f"\nrelayed {count - 1} events; ended with {sse.event}")


async def main() -> None:
    async with FakeAssistantsServer(
        scenario=scenarios.plain_text(), auto_create_threads=True
    ) as server:
        async with AsyncClient(api_key="sk-fake", base_url=server.base_url) as client:
            runner = web.AppRunner(make_app(client))
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 8081 if "--serve" in sys.argv else 0)
            await site.start()
            url = f"http://127.0.0.1:{runner.addresses[0][1]}/chat"
            try:
                if "--serve" in sys.argv:
                    print(f"POST {url} (Ctrl-C to stop)")
                    await asyncio.Event().wait()
                await play_the_browser(url)
            finally:
                await runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
