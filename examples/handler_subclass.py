"""An event-handler subclass: live text, tool calls, and a function called for the model.

Code written for the official SDK's ``AsyncAssistantEventHandler`` moves to
streamrun by changing the import. ``functions=`` runs the function the
assistant asks for and goes on with the run's continuation in the same stream
and the same handler, so each call is shown once, with its output. Runs as
written against the built-in fake Assistants server (no key, no network).
"""

from __future__ import annotations

import asyncio
import json

from streamrun import (
    AsyncClient,
    AsyncEventHandler,
    FunctionToolCall,
    Message,
    RunStep,
    Text,
    TextDelta,
    ToolCall,
    ToolCallDelta,
)
from streamrun.testing import FakeAssistantsServer, scenarios


def get_current_weather(location: str, unit: str = "celsius") -> str:
    """The local function the assistant asks for."""
    return json.dumps({"location": location, "temperature": 18, "unit": unit})


class Printer(AsyncEventHandler):
    async def on_text_created(self, text: Text) -> None:
        print("\nassistant > ", end="", flush=True)

    async def on_text_delta(self, delta: TextDelta, snapshot: Text) -> None:
        print(delta.value or "", end="", flush=True)

    async def on_tool_call_created(self, tool_call: ToolCall) -> None:
        if isinstance(tool_call, FunctionToolCall):
            function = tool_call.function
            print(f"\nassistant > {function.name}({function.arguments}", end="", flush=True)
        else:
            print(f"\nassistant > {tool_call.type}(", end="", flush=True)

    async def on_tool_call_delta(self, delta: ToolCallDelta, snapshot: ToolCall) -> None:
        function = getattr(delta, "function", None)
        if function is not None and function.arguments:
            print(function.arguments, end="", flush=True)

    async def on_tool_call_done(self, tool_call: ToolCall) -> None:
        print(")", flush=True)

    async def on_tool_output(self, tool_call: ToolCall, output: str) -> None:
        print(f"  -> {output}", flush=True)

    async def on_run_step_done(self, run_step: RunStep) -> None:
        if run_step.usage is not None:
            print(f"\n[step {run_step.type} used {run_step.usage.total_tokens} tokens]")

    async def on_message_done(self, message: Message) -> None:
        print()


async def main() -> None:
    async with FakeAssistantsServer(
        scenario=scenarios.function_call(), auto_create_threads=True
    ) as server:
        async with AsyncClient(api_key="fake-key", base_url=server.base_url) as client:
            thread = await client.threads.create(
                messages=[{"role": "user", "content": "Weather in Paris?"}]
            )
            async with client.runs.stream(
                thread.id,
                assistant_id="asst_example",
                handler=Printer(),
                functions=[get_current_weather],
            ) as stream:
                run = await stream.final_run()
            print(f"run {run.status}; usage: {run.usage}")


if __name__ == "__main__":
    asyncio.run(main())
