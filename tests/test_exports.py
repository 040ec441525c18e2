"""The public surface: ``__all__`` is sorted, complete and importable; layers import downward."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import streamrun

PACKAGE = Path(streamrun.__file__).parent


def test_all_is_sorted_and_importable() -> None:
    names = streamrun.__all__
    assert list(names) == sorted(names)
    assert len(set(names)) == len(names)
    for name in names:
        assert hasattr(streamrun, name), name


def test_every_public_name_is_in_all() -> None:
    public = {n for n in vars(streamrun) if not n.startswith("_")} - {"annotations"}
    # Submodules (and the __future__ import) are attributes of the package, not API.
    modules = {n for n in public if type(getattr(streamrun, n)).__name__ == "module"}
    assert public - modules == set(streamrun.__all__) - {"__version__"}


def test_public_classes_have_docstrings() -> None:
    for name in streamrun.__all__:
        obj = getattr(streamrun, name)
        if isinstance(obj, type):
            assert obj.__doc__ and obj.__doc__.strip(), name


def _imports(module: str) -> set[str]:
    path = PACKAGE / (module.replace("streamrun.", "").replace(".", "/") + ".py")
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.level == 1:
            # from . import _json
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


# Each layer may import only the layers below it.
LAYERS = [
    {"_version", "_exceptions", "_json"},
    {"sse"},
    {"_models", "_converter", "_events", "_requests", "_function_tool"},
    {"_accumulate", "_protocol_runs"},
    {"_paths", "_retry", "_transport", "_options", "_recover"},
    {"_handler", "_pipeline"},
    {"_tool_loop", "_stream", "_client", "_conversation"},
    {"_recording", "_display", "_cli", "__main__"},
]


def test_layers_import_only_downward() -> None:
    allowed: set[str] = set()
    for layer in LAYERS:
        allowed |= layer
        for module in layer:
            local = {m for m in _imports(module) if (PACKAGE / f"{m}.py").exists() and m != module}
            assert local <= allowed, f"{module} imports {local - allowed}"


def test_sse_has_no_aiohttp_or_asyncio() -> None:
    assert not {"aiohttp", "asyncio"} & _imports("sse")


def test_accumulate_has_no_io() -> None:
    assert not {"aiohttp", "asyncio"} & _imports("_accumulate")


def test_pipeline_and_protocol_adapter_have_no_io() -> None:
    # The pipeline reads any async iterator of bytes; only the driver (_stream) knows aiohttp.
    assert not {"aiohttp", "asyncio"} & _imports("_pipeline")
    assert not {"aiohttp", "asyncio"} & _imports("_protocol_runs")


def test_submodules_import() -> None:
    for module in ("streamrun.sse", "streamrun.testing"):
        importlib.import_module(module)
