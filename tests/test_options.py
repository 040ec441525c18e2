"""The per-call options are listed in one place (streamrun._options.CallOptions)."""

from __future__ import annotations

from typing import Any

import attrs

from streamrun import AsyncClient
from streamrun._options import CallOptions


def lookup(city: str) -> str:
    """A function for the tool loop."""
    return city


def test_every_call_option_is_taken_out_of_the_body() -> None:
    values: dict[str, Any] = {
        "max_retries": 1,
        "connect_timeout": 1.0,
        "idle_timeout": None,
        "total_timeout": 5.0,
        "cancel_on_abandon": False,
        "extra_headers": {"X-A": "1"},
        "extra_query": {"q": 1},
        "extra_body": {"custom": True},
        "tap": print,
        "functions": [lookup],
        "max_tool_rounds": 3,
        "tool_timeout": 2.5,
    }
    assert set(values) == {f.name for f in attrs.fields(CallOptions)}
    client = AsyncClient(api_key="sk-test", base_url="http://127.0.0.1:9/v1")
    stream = client.runs.stream("thread_1", assistant_id="asst_1", **values)
    settings = stream._settings
    assert settings.max_retries == 1
    assert (settings.timeouts.connect, settings.timeouts.idle) == (1.0, None)
    assert settings.timeouts.total == 5.0
    assert settings.cancel_on_abandon is False
    assert settings.tap is print
    assert stream._body["custom"] is True
    assert ("q", "1") in stream._query
    tools = stream._tools
    assert tools is not None and list(tools.specs) == ["lookup"]
    assert (tools.max_tool_rounds, tools.tool_timeout) == (3, 2.5)
    defaults = client.threads.create_and_run_stream(assistant_id="asst_1")._settings
    assert defaults.max_retries == client.max_retries
    assert defaults.timeouts == client.timeouts
    assert defaults.cancel_on_abandon is True
