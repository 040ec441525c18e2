"""A terminal chatbot with a function tool, in about ten lines.

Runs as written against the built-in fake Assistants server (no key, no
network): type a question, an empty line (or end of input) quits. For the real
service, drop the fake server and use ``AsyncClient()`` with ``OPENAI_API_KEY``.
"""

from __future__ import annotations

import asyncio
import sys

from streamrun import AsyncClient
from streamrun.testing import FakeAssistantsServer, scenarios


def get_current_weather(location: str, unit: str = "celsius") -> str:
    """The current weather at a place."""
    return f"18 degrees {unit}, light rain in {location}"


async def chat(client: AsyncClient) -> None:
    conversation = client.conversation("asst_example", functions=[get_current_weather])
    while question := await asyncio.to_thread(input_line, "you > "):
        async with conversation.send(question) as reply:
            async for text in reply.text_deltas:
                print(text, end="", flush=True)
        print()


def input_line(prompt: str) -> str:
    print(prompt, end="", flush=True)
    return sys.stdin.readline().strip()


async def main() -> None:
    async with FakeAssistantsServer(scenario=scenarios.function_call()) as server:
        async with AsyncClient(api_key="fake-key", base_url=server.base_url) as client:
            await chat(client)


if __name__ == "__main__":
    asyncio.run(main())
