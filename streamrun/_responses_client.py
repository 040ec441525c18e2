"""``client.responses``: the Responses API endpoints, streaming as run-stream events.

``client.responses.stream(model=..., input=...)`` opens ``POST /responses``
with ``"stream": true`` and returns a :class:`~streamrun.ResponseStream` (all
of :class:`~streamrun.RunStream`'s reading API);
``submit_tool_outputs_stream(response_id, tool_outputs=...)`` answers a
response's calls with ``function_call_output`` items in a new streaming
response (the run-stream method's shape); ``retrieve`` and ``cancel`` are the
plain endpoints. Bodies and options are validated before any I/O
(:mod:`streamrun._responses_requests`). Unlike the Assistants calls, these work
on OpenAI's own host.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ._compat import take_handler
from ._exceptions import ValidationError
from ._handler import AsyncEventHandler
from ._options import CallOptions
from ._requests import NOT_GIVEN, build_submit_tool_outputs, check_keywords, path_id
from ._response_stream import ResponseStream
from ._responses_models import ResponseObject
from ._responses_recover import cancel_response, retrieve_response
from ._responses_requests import ResponseCreateParams, build_response_create

if TYPE_CHECKING:
    from ._client import AsyncClient

__all__ = ["Responses"]

_COMMON_NAMES = (*CallOptions.NAMES, "stream", "handler", "event_handler")
_STREAM_NAMES = frozenset(_COMMON_NAMES)
_SUBMIT_NAMES = frozenset({*_COMMON_NAMES, "response_id", "tool_outputs"})


def _given(**fields: Any) -> dict[str, Any]:
    """The named fields that are not ``None`` (``None`` means "not given" here)."""
    return {k: v for k, v in fields.items() if v is not None}


class Responses:
    """Responses API endpoints: ``client.responses``.

    The streaming methods take the same per-call options as the run methods
    (``max_retries``, ``connect_timeout``, ``idle_timeout``, ``total_timeout``,
    ``cancel_on_abandon``, ``extra_headers``, ``extra_query``, ``extra_body``,
    ``tap``, and the tool loop's ``functions``, ``max_tool_rounds``,
    ``tool_timeout``).
    """

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    def stream(
        self,
        *,
        model: str,
        input: str | Sequence[Any],
        instructions: str | None = None,
        tools: Sequence[Any] | None = None,
        conversation: str | dict[str, Any] | None = None,
        previous_response_id: str | None = None,
        handler: AsyncEventHandler | None = None,
        functions: Any = None,
        **body: Any,
    ) -> ResponseStream:
        """Create a response and stream it (``POST /responses``, ``"stream": true``).

        ``body`` takes the other fields of the Create response request
        (``background``, ``temperature``, ``text``, ``reasoning``, ``tool_choice``,
        ``metadata`` …), validated before anything is sent
        (:class:`~streamrun.ValidationError`, unknown keys with a "did you
        mean"). With ``functions=`` the stream answers the response's function
        calls itself and goes on with the continuation (each round a new
        response with ``previous_response_id``, or in the ``conversation``).
        """
        handler = take_handler(handler, body)
        if functions is not None:
            body["functions"] = functions
        check_keywords(body, ResponseCreateParams, _STREAM_NAMES, "responses.stream")
        options = CallOptions.pop(body)
        fields = _given(
            input=input,
            instructions=instructions,
            tools=tools,
            conversation=conversation,
            previous_response_id=previous_response_id,
        )
        params = build_response_create(model, {**body, **fields})
        return self._open(params.to_json(), handler=handler, run_id=None, options=options)

    def submit_tool_outputs_stream(
        self,
        response_id: str,
        *,
        tool_outputs: Sequence[Any],
        handler: AsyncEventHandler | None = None,
        model: str | None = None,
        **body: Any,
    ) -> ResponseStream:
        """Answer a response's calls and stream the continuation.

        The same shape as ``client.runs.submit_tool_outputs_stream``:
        ``tool_outputs`` is a list of ``{"tool_call_id": ..., "output": ...}``
        (or :class:`~streamrun.ToolOutput`; the tool call id is the call's
        ``call_id``), all sent in one ``POST /responses`` as
        ``function_call_output`` input items with ``previous_response_id`` (or
        with ``conversation=``, when given). ``model`` defaults to the model of
        the response ``handler`` follows; pass the fields the API does not
        carry over (``tools``, ``instructions``) in ``body``. A handler that
        followed ``response_id`` goes on (same thread id, snapshots, steps).
        """
        handler = take_handler(handler, body)
        check_keywords(body, ResponseCreateParams, _SUBMIT_NAMES, "submit_tool_outputs_stream")
        options = CallOptions.pop(body)
        path_id("response_id", response_id)
        if "input" in body:
            raise ValidationError("input", "is made of tool_outputs here; do not pass it")
        outputs = build_submit_tool_outputs(tool_outputs, {}).to_json()["tool_outputs"]
        if model is None:
            run = None if handler is None else handler.current_run
            if run is None or run.id != response_id or not run.model:
                raise ValidationError(
                    "model",
                    "is required (the handler does not follow response "
                    f"{response_id!r}, so its model is not known)",
                )
            model = run.model
        fields: dict[str, Any] = {
            "input": [
                {
                    "type": "function_call_output",
                    "call_id": o["tool_call_id"],
                    "output": o["output"],
                }
                for o in outputs
            ]
        }
        if body.get("conversation", NOT_GIVEN) in (None, NOT_GIVEN):
            body.pop("conversation", None)
            fields["previous_response_id"] = response_id
        params = build_response_create(model, {**body, **fields})
        stream = self._open(params.to_json(), handler=handler, run_id=response_id, options=options)
        stream._mapper.set_tool_outputs({o["tool_call_id"]: o["output"] for o in outputs})
        return stream

    async def retrieve(self, response_id: str) -> ResponseObject:
        """``GET /responses/{response_id}``: the response as it is now."""
        return await retrieve_response(self._client._responses(), response_id)

    async def cancel(self, response_id: str) -> ResponseObject:
        """Cancel a background response (``POST /responses/{response_id}/cancel``).

        The API cancels only responses created with ``background=True``; it
        answers others with an error (:class:`~streamrun.APIStatusError`).
        """
        path_id("response_id", response_id)
        return await cancel_response(self._client._responses(), response_id)

    def _open(
        self,
        body: dict[str, Any],
        *,
        handler: AsyncEventHandler | None,
        run_id: str | None,
        options: CallOptions,
    ) -> ResponseStream:
        stream = self._client._open(
            "/responses",
            body,
            handler=handler,
            thread_id=None,
            run_id=run_id,
            options=options,
            stream_class=ResponseStream,
        )
        assert isinstance(stream, ResponseStream)
        return stream
