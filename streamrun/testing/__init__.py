"""A faithful fake of the OpenAI Assistants run endpoints and the Responses API, for tests.

``FakeAssistantsServer`` runs aiohttp.web on a real socket (127.0.0.1, a
random port) and speaks the run stream protocol exactly as the service
does: scripted runs (:class:`Scenario` and its steps, or the ready scenarios
of :mod:`streamrun.testing.scenarios`), recorded transcripts served byte for
byte (:class:`Recording`, :func:`load_manifest`) and injected faults
(:class:`Faults`). It keeps the state of threads, runs, messages and
assistants across requests and records requests in a bounded log
(:class:`ServerLimits`). A run on an unknown thread id is a 404 unless
``auto_create_threads=True``; :func:`fake_reply` is the reply engine of
``python -m streamrun.testing`` and the CLI's ``--fake``.

::

    from streamrun.testing import FakeAssistantsServer, Faults, scenarios

    async with FakeAssistantsServer() as server:
        server.queue_scenario(scenarios.function_call())
        server.queue_faults(Faults(drop_after=5))
        thread_id = server.create_thread()
        ...  # point a client at server.base_url

The same server answers the Responses API (``POST /v1/responses``, streamed
or not, ``GET /v1/responses/{id}`` with ``stream=true&starting_after=N`` for
background responses, cancel, and the Conversations endpoints it needs),
playing the same scenarios with the same faults; see
``streamrun/testing/_responses_server.py``.

A pytest fixture ``fake_assistants_server`` is provided by the
``streamrun.testing.pytest_plugin`` plugin; ``python -m streamrun.testing``
runs a server from the command line.

This package only depends on aiohttp, attrs and the standard library (plus
``streamrun._exceptions`` and the request validators ``streamrun._requests``
and ``streamrun._responses_requests``); it does not use the streamrun client.
"""

from __future__ import annotations

from . import scenarios
from ._errors import FakeServerError, ScenarioError
from ._faults import FAULT_LIMITS, RUN_ENDPOINTS, Faults
from ._recordings import Recording, load_manifest
from ._replies import ASSISTANT, Replies, fake_reply
from ._scenarios import (
    Annotation,
    CodeInterpreterCall,
    ErrorEvent,
    Fail,
    FileCitation,
    FilePath,
    FileSearchCall,
    FileSearchResult,
    FunctionCall,
    FunctionCalls,
    Incomplete,
    Pause,
    Refusal,
    Scenario,
    Step,
    TextReply,
    ToolOutput,
    Usage,
    split_fragments,
)
from ._server import FakeAssistantsServer, RecordedRequest, ServerLimits
from .scenarios import READY_SCENARIOS, ready_scenario

__all__ = [
    "ASSISTANT",
    "FAULT_LIMITS",
    "READY_SCENARIOS",
    "RUN_ENDPOINTS",
    "Annotation",
    "CodeInterpreterCall",
    "ErrorEvent",
    "Fail",
    "FakeAssistantsServer",
    "FakeServerError",
    "Faults",
    "FileCitation",
    "FilePath",
    "FileSearchCall",
    "FileSearchResult",
    "FunctionCall",
    "FunctionCalls",
    "Incomplete",
    "Pause",
    "RecordedRequest",
    "Recording",
    "Refusal",
    "Replies",
    "Scenario",
    "ScenarioError",
    "ServerLimits",
    "Step",
    "TextReply",
    "ToolOutput",
    "Usage",
    "fake_reply",
    "load_manifest",
    "ready_scenario",
    "scenarios",
    "split_fragments",
]
