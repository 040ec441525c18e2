"""Shared checks for the reliability tests: no leaked connection, task or object.

* :class:`TaskWatch` remembers the tasks alive when it was made and later
  lists the new ones still running, leaving out the fake server's own tasks
  (its run players and aiohttp.web's connection handlers).
* :func:`assert_no_checked_out_connection` and :func:`close_and_check`
  look at the client's aiohttp connector.
* :func:`live_library_objects` counts the live instances of streamrun's own
  classes (streams, events, snapshots...), for memory-growth checks.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import aiohttp

import streamrun
from streamrun import AsyncClient
from streamrun.testing import FakeAssistantsServer

__all__ = [
    "RetryCounter",
    "TaskWatch",
    "assert_no_checked_out_connection",
    "close_and_check",
    "is_server_task",
    "live_library_objects",
    "retry_records",
]

_AIOHTTP_DIR = Path(aiohttp.__file__).resolve().parent
_TESTING_DIR = Path(streamrun.__file__).resolve().parent / "testing"
_SERVER_FILES = ("web_protocol.py", "web_server.py", "web_runner.py", "web_app.py", "web.py")


def _origin(task: asyncio.Task[object]) -> Path | None:
    """The source file of the coroutine a task runs (its outermost frame)."""
    coro = task.get_coro()
    code = getattr(coro, "cr_code", None) or getattr(coro, "gi_code", None)
    if code is None:
        return None
    return Path(code.co_filename).resolve()


def _server_events(server: FakeAssistantsServer) -> set[int]:
    """The ids of the asyncio.Event objects the fake server waits on."""
    events = {id(server._closing)}
    for run in server._store.runs.values():
        events.add(id(run.wakeup))
        events.add(id(run.settled))
    return events


def is_server_task(task: asyncio.Task[object], server: FakeAssistantsServer | None = None) -> bool:
    """Whether ``task`` belongs to the fake server.

    Its run players, aiohttp.web's connection handlers and, with ``server``,
    the ``asyncio.wait_for`` tasks of its stalls and pauses (which run
    ``Event.wait`` on one of the server's events).
    """
    origin = _origin(task)
    if origin is None:
        return False
    if origin.is_relative_to(_TESTING_DIR):
        return True
    if origin.parent == _AIOHTTP_DIR and origin.name in _SERVER_FILES:
        return True
    coro = task.get_coro()
    frame = getattr(coro, "cr_frame", None)
    if (
        server is not None
        and frame is not None
        and getattr(coro, "__qualname__", "") == "Event.wait"
    ):
        return id(frame.f_locals.get("self")) in _server_events(server)
    return False


class TaskWatch:
    """Tasks that outlive what started them.

    Made at the start of a test; :meth:`leaked` lists the tasks created since
    that are still running, except the current task and the fake server's.
    """

    def __init__(self) -> None:
        self.before = frozenset(asyncio.all_tasks())

    def leaked(self, server: FakeAssistantsServer | None = None) -> list[asyncio.Task[object]]:
        """The client-side tasks created since this watch was made and still running."""
        current = asyncio.current_task()
        return [
            task
            for task in asyncio.all_tasks()
            if task not in self.before
            and task is not current
            and not task.done()
            and not is_server_task(task, server)
        ]

    async def assert_clean(
        self, client: AsyncClient, server: FakeAssistantsServer | None = None
    ) -> None:
        """No connection checked out and no client task left running.

        With ``server``, first waits until every run it plays has settled
        (so a run still going on the server is not mistaken for a leak).
        """
        if server is not None:
            await server.wait_idle()
        # Let done-callbacks of finished tasks run; a running task stays running.
        for _ in range(3):
            await asyncio.sleep(0)
        assert_no_checked_out_connection(client)
        leaked = self.leaked(server)
        assert not leaked, f"tasks left running: {leaked!r}"


def assert_no_checked_out_connection(client: AsyncClient) -> None:
    """The client's connector has no connection in use."""
    connector = client.session.connector
    assert connector is not None
    acquired = connector._acquired
    assert not acquired, f"{len(acquired)} connection(s) still checked out"


async def close_and_check(client: AsyncClient) -> None:
    """Close the client and check its session and pooled connections are closed."""
    session = client.session
    connector = session.connector
    assert connector is not None
    assert not connector._acquired, "a connection is still checked out before aclose()"
    await client.aclose()
    assert session.closed
    assert connector.closed
    assert not connector._acquired
    assert not connector._conns, "pooled connections survived aclose()"


def _library_type(cls: type) -> bool:
    module = getattr(cls, "__module__", None)
    return (
        isinstance(module, str)
        and module.startswith("streamrun.")
        and not module.startswith("streamrun.testing")
    )


def live_library_objects() -> Counter[str]:
    """The number of live instances of each streamrun class (fake server excluded)."""
    gc.collect()
    counts: Counter[str] = Counter()
    for obj in gc.get_objects():
        cls = type(obj)
        if _library_type(cls):
            counts[cls.__qualname__] += 1
    return counts


def retry_records(records: Iterable[logging.LogRecord]) -> list[logging.LogRecord]:
    """The INFO records of the ``streamrun`` logger announcing a retry."""
    return [r for r in records if _is_retry(r)]


def _is_retry(record: logging.LogRecord) -> bool:
    return (
        record.name == "streamrun"
        and record.levelno == logging.INFO
        and record.getMessage().startswith("retrying ")
    )


class RetryCounter(logging.Handler):
    """Counts the retries the ``streamrun`` logger announces, keeping no record.

    As a context manager it is the only handler of that logger (level INFO,
    no propagation), so no other handler keeps records (and, through their
    arguments, the objects they mention) alive.
    """

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.retries = 0
        self.warnings = 0
        self._saved: tuple[int, bool] | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if _is_retry(record):
            self.retries += 1
        elif record.levelno >= logging.WARNING:
            self.warnings += 1

    def __enter__(self) -> RetryCounter:
        logger = logging.getLogger("streamrun")
        self._saved = (logger.level, logger.propagate)
        logger.setLevel(logging.INFO)
        logger.propagate = False
        logger.addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        logger = logging.getLogger("streamrun")
        logger.removeHandler(self)
        assert self._saved is not None
        logger.setLevel(self._saved[0])
        logger.propagate = self._saved[1]
