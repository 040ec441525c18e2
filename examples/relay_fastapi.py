"""Relay a run stream to a browser with FastAPI (or Starlette): ``stream.to_sse()``.

``stream.to_sse()`` is the body of a ``StreamingResponse``: the relay opens the
run stream when the response starts and closes it when it ends, so a browser
that goes away cancels the run on the server.

Serve it with ``uvicorn`` (``create_app`` with your client), or run this file:
it calls the app in-process (httpx's ASGI transport) against the built-in fake
Assistants server (no key, no network) and prints the relayed text.
"""

from __future__ import annotations

import asyncio
import json

import httpx
from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from streamrun import AsyncClient
from streamrun.relay import SSE_HEADERS
from streamrun.sse import SSEDecoder
from streamrun.testing import FakeAssistantsServer, scenarios


class ChatRequest(BaseModel):
    thread_id: str
    message: str


def create_app(client: AsyncClient, assistant_id: str) -> FastAPI:
    app = FastAPI()

    @app.post("/chat")
    async def chat(request: ChatRequest) -> StreamingResponse:
        stream = client.runs.stream(
            request.thread_id,
            assistant_id=assistant_id,
            additional_messages=[{"role": "user", "content": request.message}],
        )
        # SSE_HEADERS: text/event-stream; charset=utf-8, no-cache, X-Accel-Buffering: no.
        return StreamingResponse(stream.to_sse(), headers=SSE_HEADERS)

    return app


async def main() -> None:
    async with FakeAssistantsServer(
        scenario=scenarios.plain_text(), auto_create_threads=True
    ) as server:
        async with AsyncClient(api_key="sk-fake", base_url=server.base_url) as client:
            app = create_app(client, "asst_example")
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://app") as http:
                response = await http.post(
                    "/chat", json={"thread_id": "thread_example", "message": "Photosynthesis?"}
                )
    print(f"content-type: {response.headers['content-type']}")
    events = SSEDecoder().feed(response.content)
    for sse in events:
        if sse.event == "thread.message.delta":
            for part in json.loads(sse.data)["delta"]["content"]:
                if part["type"] == "text":
                    print(part["text"]["value"], end="")
    print(f"\nrelayed {len(events) - 1} events; ended with {events[-1].event}")


if __name__ == "__main__":
    asyncio.run(main())
