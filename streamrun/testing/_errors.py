"""Errors raised by the fake Assistants server's own API (not sent over HTTP)."""

from __future__ import annotations

from streamrun._exceptions import StreamrunError

__all__ = ["FakeServerError", "ScenarioError"]


class FakeServerError(StreamrunError):
    """The fake server was misused: a bad recording, manifest, fault spec or state."""


class ScenarioError(FakeServerError):
    """A scenario is malformed (for example a step after one that ends the run)."""
