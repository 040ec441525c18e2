"""Per-call options of the streaming methods, and the settings one stream runs with.

Every streaming method takes its request body as keyword arguments plus the
per-call options of :class:`CallOptions` (their names are its fields, listed
nowhere else). :meth:`CallOptions.settings` applies them over the client's
defaults: the :class:`StreamSettings` a :class:`~streamrun.RunStream` gets.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import attrs

from ._transport import UNSET, Timeouts

__all__ = ["CallOptions", "StreamSettings"]


@attrs.frozen(kw_only=True)
class StreamSettings:
    """How one stream runs: timeouts, retries before it starts, cancel-on-abandon, limits."""

    max_retries: int
    timeouts: Timeouts
    cancel_on_abandon: bool
    cancel_timeout: float
    max_event_size: int | None
    extra_headers: Mapping[str, str] | None = None
    tap: Callable[[bytes], None] | None = None


@attrs.frozen(kw_only=True)
class CallOptions:
    """The per-call options of a streaming method (``None`` / unset: the client's default).

    ``extra_headers`` / ``extra_query`` apply to this request only;
    ``extra_body`` fields are sent as they are, unvalidated (for compatible
    servers that accept more than the API); ``tap`` is called with every chunk
    of bytes received, before decoding (for recording). ``functions`` (a list of
    functions, or a mapping name -> function), ``max_tool_rounds`` and
    ``tool_timeout`` run the tool loop (:mod:`streamrun._tool_loop`).
    """

    max_retries: int | None = None
    connect_timeout: float | None = UNSET
    idle_timeout: float | None = UNSET
    total_timeout: float | None = UNSET
    cancel_on_abandon: bool | None = None
    extra_headers: Mapping[str, str] | None = None
    extra_query: Mapping[str, Any] | None = None
    extra_body: Mapping[str, Any] | None = None
    tap: Callable[[bytes], None] | None = None
    functions: Any = None
    max_tool_rounds: int | None = None
    tool_timeout: float | None = None

    NAMES: ClassVar[tuple[str, ...]]
    """The option names (the fields), in order."""

    @classmethod
    def pop(cls, kwargs: dict[str, Any]) -> CallOptions:
        """Take the options out of a method's keyword arguments (the rest is the body)."""
        return cls(**{name: kwargs.pop(name) for name in _NAMES if name in kwargs})

    def settings(
        self,
        *,
        max_retries: int,
        timeouts: Timeouts,
        cancel_on_abandon: bool,
        cancel_timeout: float,
        max_event_size: int | None,
    ) -> StreamSettings:
        """These options applied over the client's defaults (the keyword arguments)."""
        return StreamSettings(
            max_retries=max_retries if self.max_retries is None else self.max_retries,
            timeouts=timeouts.merge(self.connect_timeout, self.idle_timeout, self.total_timeout),
            cancel_on_abandon=(
                cancel_on_abandon if self.cancel_on_abandon is None else self.cancel_on_abandon
            ),
            cancel_timeout=cancel_timeout,
            max_event_size=max_event_size,
            extra_headers=self.extra_headers,
            tap=self.tap,
        )


CallOptions.NAMES = tuple(field.name for field in attrs.fields(CallOptions))
_NAMES = CallOptions.NAMES
