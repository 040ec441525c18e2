"""openai-python's spellings of the streaming helpers, as one thin alias layer.

Code written for openai-python's async Assistants streaming helpers moves to
streamrun by changing the import and the client construction. Everything
below is an alias of a streamrun name, never a second implementation:

================================================  ==========================================
openai-python                                     streamrun
================================================  ==========================================
``client.beta.threads.runs.stream(...)``          ``client.runs.stream(...)``
``client.beta.threads.runs.submit_tool_outputs_stream``  ``client.runs.submit_tool_outputs_stream``
``client.beta.threads.create_and_run_stream``     ``client.threads.create_and_run_stream``
``event_handler=``                                ``handler=``
``await stream.get_final_run()``                  ``await stream.final_run()``
``await stream.get_final_messages()``             ``await stream.final_messages()``
``await stream.get_final_run_steps()``            ``await stream.final_run_steps()``
================================================  ==========================================

(``thread_id=`` / ``run_id=`` as keywords and ``await stream.until_done()``
are streamrun's own spellings too.) Hooks written as plain ``def`` are called
directly (see :mod:`streamrun._handler`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from ._exceptions import ValidationError

if TYPE_CHECKING:
    from ._client import AsyncClient, Runs
    from ._handler import AsyncEventHandler
    from ._models import Message, Run, RunStep

__all__ = [
    "Beta",
    "BetaThreads",
    "OpenAIStreamAliases",
    "take_handler",
]


def take_handler(handler: AsyncEventHandler | None, kwargs: dict[str, Any]) -> Any:
    """The handler given as ``handler=`` or as openai-python's ``event_handler=``.

    ``event_handler`` is popped from ``kwargs``; giving both is an error.
    """
    if "event_handler" not in kwargs:
        return handler
    alias = kwargs.pop("event_handler")
    if handler is not None and alias is not None:
        raise ValidationError("event_handler", "give handler= or event_handler=, not both")
    return handler if alias is None else alias


class _Finals(Protocol):
    async def final_run(self) -> Run: ...
    async def final_messages(self) -> list[Message]: ...
    async def final_run_steps(self) -> list[RunStep]: ...


class OpenAIStreamAliases:
    """openai-python's names for the final values of a stream (mixed into RunStream)."""

    __slots__ = ()

    async def get_final_run(self: _Finals) -> Run:
        """openai-python's name for :meth:`~streamrun.RunStream.final_run`."""
        return await self.final_run()

    async def get_final_messages(self: _Finals) -> list[Message]:
        """openai-python's name for :meth:`~streamrun.RunStream.final_messages`."""
        return await self.final_messages()

    async def get_final_run_steps(self: _Finals) -> list[RunStep]:
        """openai-python's name for :meth:`~streamrun.RunStream.final_run_steps`."""
        return await self.final_run_steps()


class BetaThreads:
    """``client.beta.threads``: openai-python's path to the same methods.

    ``runs`` is ``client.runs``; ``create_and_run_stream`` is
    ``client.threads.create_and_run_stream``.
    """

    def __init__(self, client: AsyncClient) -> None:
        self.runs: Runs = client.runs
        self.create_and_run_stream = client.threads.create_and_run_stream


class Beta:
    """``client.beta``: openai-python's namespace (``client.beta.threads``)."""

    def __init__(self, client: AsyncClient) -> None:
        self.threads = BetaThreads(client)
