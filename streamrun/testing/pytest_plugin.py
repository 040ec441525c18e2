"""pytest plugin: the ``fake_assistants_server`` fixture.

Loaded automatically when streamrun is installed (entry point ``pytest11``).
The fixture is async (it needs pytest-asyncio) and yields a started
:class:`~streamrun.testing.FakeAssistantsServer`, closed after the test.
Constructor arguments can be given with a marker::

    @pytest.mark.fake_assistants_server(scenario="function_call", auto_create_threads=True)
    @pytest.mark.asyncio
    async def test_x(fake_assistants_server): ...
"""

from __future__ import annotations

import importlib.util
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ._server import FakeAssistantsServer

__all__ = ["fake_assistants_server"]

_MARKER = "fake_assistants_server"


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker carrying the server's constructor arguments."""
    config.addinivalue_line(
        "markers",
        f"{_MARKER}(**kwargs): arguments for the fake_assistants_server fixture",
    )


def _kwargs(request: pytest.FixtureRequest) -> dict[str, Any]:
    marker = request.node.get_closest_marker(_MARKER)
    return dict(marker.kwargs) if marker is not None else {}


if importlib.util.find_spec("pytest_asyncio") is not None:
    import pytest_asyncio

    @pytest_asyncio.fixture
    async def fake_assistants_server(
        request: pytest.FixtureRequest,
    ) -> AsyncIterator[FakeAssistantsServer]:
        """A started fake Assistants server (``server.base_url``), closed after the test."""
        from ._server import FakeAssistantsServer

        async with FakeAssistantsServer(**_kwargs(request)) as server:
            yield server

else:  # pragma: no cover - depends on the environment

    @pytest.fixture(name="fake_assistants_server")
    def _fake_assistants_server_unavailable() -> None:
        """Unavailable: the fixture needs pytest-asyncio."""
        pytest.fail("the fake_assistants_server fixture needs pytest-asyncio")
