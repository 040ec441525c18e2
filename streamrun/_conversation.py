"""``Conversation``: a chat with an assistant on one thread, one streamed reply per ``send``.

::

    conv = client.conversation("asst_123", functions=[get_weather])
    async with conv.send("Weather in Paris?") as reply:
        async for text in reply.text_deltas:
            print(text, end="")

The first ``send`` without a thread creates it with the run
(``POST /threads/runs``); later ones add the message to the same thread with
the run (``runs.stream(..., additional_messages=[...])``): one request per
turn either way. ``functions`` go to every run, so each reply answers its
tool calls inside its stream (the tool loop).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._exceptions import ValidationError
from ._requests import path_id
from ._tool_loop import Functions, ToolLoop

if TYPE_CHECKING:
    from ._client import AsyncClient
    from ._handler import AsyncEventHandler
    from ._models import Message
    from ._stream import RunStream

__all__ = ["Conversation"]

_SET_BY_SEND = frozenset({"thread", "additional_messages", "assistant_id", "thread_id"})


class Conversation:
    """A conversation with one assistant on one thread (``client.conversation(...)``).

    :meth:`send` streams each reply as a :class:`~streamrun.RunStream`;
    :attr:`thread_id` is the thread once known; :meth:`messages` lists it.
    """

    def __init__(
        self,
        client: AsyncClient,
        assistant_id: str,
        *,
        thread_id: str | None = None,
        functions: Functions | None = None,
        **run_defaults: Any,
    ) -> None:
        path_id("assistant_id", assistant_id)
        if thread_id is not None:
            path_id("thread_id", thread_id)
        _check_body(run_defaults)
        for name in ("max_tool_rounds", "tool_timeout"):
            if name in run_defaults and functions is None:
                raise ValidationError(name, "only applies with functions=")
        if functions is not None:
            # Checked once, here; every send builds its own loop from them.
            ToolLoop.build(
                functions,
                max_tool_rounds=run_defaults.get("max_tool_rounds"),
                tool_timeout=run_defaults.get("tool_timeout"),
            )
        self._client = client
        self.assistant_id = assistant_id
        """The assistant every reply comes from."""
        self._thread_id = thread_id
        self._functions = functions
        self._defaults = run_defaults
        self._first: RunStream | None = None  # the stream creating the thread

    @property
    def thread_id(self) -> str | None:
        """The conversation's thread: the one given, or the one the first ``send``
        created (``None`` until its stream named it)."""
        if self._thread_id is None and self._first is not None:
            self._thread_id = self._first.thread_id
            if self._thread_id is not None:
                self._first = None  # known: the stream need not be kept
        return self._thread_id

    def send(
        self,
        content: str | list[Any],
        *,
        handler: AsyncEventHandler | None = None,
        **run_body: Any,
    ) -> RunStream:
        """Post ``content`` as the user's message and stream the assistant's reply.

        Use it with ``async with``. ``content`` is a string or a list of content
        parts; ``run_body`` (run fields and per-call options) overrides the
        conversation's defaults for this reply. Checked before any I/O.
        """
        _check_body(run_body)
        body = {**self._defaults, **run_body}
        if self._functions is not None:
            body.setdefault("functions", self._functions)
        message = {"role": "user", "content": content}
        thread_id = self.thread_id
        if thread_id is None:
            stream = self._client.threads.create_and_run_stream(
                assistant_id=self.assistant_id,
                thread={"messages": [message]},
                handler=handler,
                **body,
            )
            self._first = stream
            return stream
        return self._client.runs.stream(
            thread_id,
            assistant_id=self.assistant_id,
            additional_messages=[message],
            handler=handler,
            **body,
        )

    async def messages(self) -> list[Message]:
        """Every message of the thread, oldest first (``[]`` before the thread exists)."""
        thread_id = self.thread_id
        if thread_id is None:
            return []
        return await self._client.threads.messages.list(thread_id, order="asc")

    def __repr__(self) -> str:
        return f"<Conversation assistant_id={self.assistant_id!r} thread_id={self.thread_id!r}>"


def _check_body(body: dict[str, Any]) -> None:
    for name in sorted(_SET_BY_SEND & set(body)):
        raise ValidationError(name, "is set by the conversation (use send(content) for messages)")
    if "handler" in body:
        raise ValidationError("handler", "is given per reply: send(content, handler=...)")
