"""streamrun: an async client for OpenAI Assistants run streams."""

from __future__ import annotations

from ._version import __version__

__all__ = ["__version__"]
