"""Iterate a run's typed events, then print the final answer and usage.

Runs as written against the built-in fake Assistants server (no key, no
network). To use a real, compatible server instead, set OPENAI_BASE_URL,
OPENAI_API_KEY, STREAMRUN_THREAD and STREAMRUN_ASSISTANT.
"""

from __future__ import annotations

import asyncio
import os
import sys

from streamrun import (
    AsyncClient,
    Run,
    TextDeltaBlock,
    ThreadMessageDelta,
    ThreadRunStepCreated,
    UnknownEvent,
)
from streamrun.testing import FakeAssistantsServer, scenarios


async def stream_one_run(client: AsyncClient, thread_id: str, assistant_id: str) -> None:
    async with client.runs.stream(
        thread_id,
        assistant_id=assistant_id,
        additional_messages=[{"role": "user", "content": "How does photosynthesis work?"}],
    ) as stream:
        status = ""  # the last run status printed (created and queued both say "queued")
        mid_line = False  # text was printed without its line being ended

        def note(text: str) -> None:
            nonlocal mid_line
            if mid_line:
                print()
                mid_line = False
            print(text)

        async for event in stream:
            if isinstance(event, ThreadMessageDelta):
                for part in event.data.delta.content:
                    if isinstance(part, TextDeltaBlock) and part.text and part.text.value:
                        print(part.text.value, end="", flush=True)
                        mid_line = True
            elif isinstance(event, ThreadRunStepCreated):
                note(f"[step {event.data.type}]")
            elif isinstance(event, UnknownEvent):
                note(f"[an event this version does not know: {event.event}]")
            elif isinstance(event.data, Run) and event.data.status != status:
                status = event.data.status
                note(f"[run {status}]")
        note("")
        run = await stream.final_run()
        messages = await stream.final_messages()
    print(f"final status: {run.status}; messages: {len(messages)}; usage: {run.usage}")


async def main() -> None:
    if os.environ.get("OPENAI_BASE_URL"):
        async with AsyncClient() as client:
            await stream_one_run(
                client, os.environ["STREAMRUN_THREAD"], os.environ["STREAMRUN_ASSISTANT"]
            )
        return
    async with FakeAssistantsServer(
        scenario=scenarios.plain_text(), auto_create_threads=True
    ) as server:
        async with AsyncClient(api_key="fake-key", base_url=server.base_url) as client:
            await stream_one_run(client, "thread_example", "asst_example")


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)
