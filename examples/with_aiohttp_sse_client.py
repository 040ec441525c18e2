"""Interop: read a run stream with aiohttp-sse-client, type it with streamrun.

Some applications already consume server-sent events with
``aiohttp-sse-client`` (``pip install "streamrun[sse-client]"``). This example
POSTs a streaming run with its ``EventSource`` and types every message with
:func:`streamrun.parse_event`. Runs as written against the built-in fake
Assistants server.

Its limits, compared with streamrun's own transport (the default):

* **Reconnection re-sends the request.** When the body ends, ``EventSource``
  reconnects by sending the request again — for this POST that creates a
  second run. Here reconnection is disabled: we stop at ``[DONE]`` and the
  ``on_error`` callback (which runs before any reconnect) raises instead.
* **Long lines.** It reads line by line through aiohttp's ``readline``, which
  raises past aiohttp's line-size limit (128 KiB by default), so one large
  event (a long tool output, file search results) breaks the stream.
  streamrun feeds raw chunks to its decoder and has only a configurable
  per-event limit (16 MiB by default).
* **Line ends and bytes.** It splits on LF only (CR-only line ends are not
  recognised) and decodes UTF-8 strictly (an invalid byte raises).
* It has no timeouts between events, no retries before the first byte, no
  cancel-on-abandon and no snapshots: it only frames events.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
from aiohttp_sse_client import client as sse_client

from streamrun import DoneEvent, Event, StreamInterrupted, parse_event
from streamrun.testing import FakeAssistantsServer, scenarios


def _refuse_reconnect() -> None:
    raise StreamInterrupted(
        "the event stream ended before [DONE]; not reconnecting, since re-sending "
        "the POST would create a second run"
    )


async def stream_with_event_source(
    base_url: str, thread_id: str, assistant_id: str, api_key: str = "fake-key"
) -> list[Event]:
    """Create a run with ``EventSource`` (no reconnection) and type its events."""
    events: list[Event] = []
    headers = {"Authorization": f"Bearer {api_key}", "OpenAI-Beta": "assistants=v2"}
    body: dict[str, Any] = {"assistant_id": assistant_id, "stream": True}
    async with aiohttp.ClientSession() as session:
        source = sse_client.EventSource(
            f"{base_url}/threads/{thread_id}/runs",
            option={"method": "POST"},
            session=session,
            json=body,
            headers=headers,
            max_connect_retry=0,
            on_error=_refuse_reconnect,
        )
        async with source:
            position = 0
            try:
                async for message in source:
                    event = parse_event(message.type, message.data, position=position)
                    position += 1
                    if isinstance(event, DoneEvent):
                        break
                    events.append(event)
            except (aiohttp.ClientPayloadError, aiohttp.ClientConnectionError) as exc:
                raise StreamInterrupted(
                    f"the connection was lost after {position} events: {exc}"
                ) from exc
    return events


async def main() -> None:
    async with FakeAssistantsServer(
        scenario=scenarios.plain_text(), auto_create_threads=True
    ) as server:
        events = await stream_with_event_source(server.base_url, "thread_example", "asst_example")
        for event in events:
            print(event.event)
        print(f"{len(events)} events; runs created on the server: {server.runs_created}")


if __name__ == "__main__":
    asyncio.run(main())
