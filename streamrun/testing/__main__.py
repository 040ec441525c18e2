"""``python -m streamrun.testing``: run the fake server until Ctrl-C.

It serves the Assistants run endpoints and the Responses API (``POST
/v1/responses``, retrieve/resume, cancel, conversations) from the same scenarios.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Sequence

from ._errors import FakeServerError
from ._faults import Faults
from ._recordings import load_manifest
from ._replies import ASSISTANT
from ._server import FakeAssistantsServer
from .scenarios import READY_SCENARIOS


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m streamrun.testing",
        description="Run a fake OpenAI server: the Assistants run endpoints and the Responses "
        "API (prints its base URL first).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port (0: a free one)")
    parser.add_argument("--base-path", default="/v1", help="URL prefix of the API (/v1)")
    parser.add_argument(
        "--scenario",
        default=ASSISTANT,
        choices=sorted([ASSISTANT, *READY_SCENARIOS]),
        help="default scenario of runs and responses (assistant: the reply engine of the "
        "CLI's --fake, which answers from the message: weather questions call a function)",
    )
    parser.add_argument(
        "--auto-create-threads",
        action="store_true",
        help="create unknown thread ids on first use (default: 404, as the real API)",
    )
    parser.add_argument(
        "--fixtures",
        metavar="DIR",
        help="directory with manifest.json: recordings selectable by the x-fake-recording header",
    )
    parser.add_argument(
        "--faults", metavar="JSON", help="server-wide faults, e.g. '{\"delay\": 0.05}'"
    )
    parser.add_argument(
        "--api-key",
        action="append",
        dest="api_keys",
        metavar="KEY",
        help="accepted API key (repeatable; default: any non-empty key)",
    )
    return parser


async def _serve(args: argparse.Namespace) -> None:
    faults = Faults.from_json(args.faults) if args.faults else None
    server = FakeAssistantsServer(
        host=args.host,
        port=args.port,
        base_path=args.base_path,
        scenario=args.scenario,
        faults=faults,
        api_keys=args.api_keys,
        auto_create_threads=args.auto_create_threads,
    )
    if args.fixtures:
        for name, rec in load_manifest(args.fixtures).items():
            server.register_recording(name, rec)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    async with server:
        print(server.base_url, flush=True)
        if args.fixtures:
            names = ", ".join(server.recording_names)
            print(f"recordings (x-fake-recording): {names}", file=sys.stderr, flush=True)
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: parse ``argv`` and serve until SIGINT/SIGTERM."""
    args = _parser().parse_args(argv)
    try:
        asyncio.run(_serve(args))
    except FakeServerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
