"""The public surface: ``__all__`` is sorted, complete and importable; layers import downward."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import streamrun

PACKAGE = Path(streamrun.__file__).parent


def test_all_is_sorted_and_importable() -> None:
    names = streamrun.__all__
    assert list(names) == sorted(names)
    assert len(set(names)) == len(names)
    for name in names:
        assert hasattr(streamrun, name), name


def test_every_public_name_is_in_all() -> None:
    for name in streamrun.__all__:
        getattr(streamrun, name)  # load every lazy name first
    public = {n for n in vars(streamrun) if not n.startswith("_")} - {"annotations"}
    # Submodules (and the __future__ import) are attributes of the package, not API.
    modules = {n for n in public if type(getattr(streamrun, n)).__name__ == "module"}
    assert public - modules == set(streamrun.__all__) - {"__version__"}
    assert set(streamrun.__all__) <= set(dir(streamrun))


def _type_checking_imports() -> dict[str, str]:
    """Name -> module of the ``if typing.TYPE_CHECKING:`` block of ``__init__``."""
    tree = ast.parse((PACKAGE / "__init__.py").read_text())
    found: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "typing.TYPE_CHECKING":
            for stmt in node.body:
                assert isinstance(stmt, ast.ImportFrom), ast.unparse(stmt)
                for alias in stmt.names:
                    # ``X as X``: the explicit re-export type checkers need.
                    assert alias.asname == alias.name, ast.unparse(stmt)
                    found[alias.name] = "." * stmt.level + (stmt.module or "")
    return found


def test_lazy_names_match_the_type_checking_imports_and_all() -> None:
    lazy = streamrun._MODULE_OF
    assert lazy == _type_checking_imports()
    assert set(lazy) | {"__version__"} == set(streamrun.__all__)
    for name, module in lazy.items():
        assert getattr(streamrun, name) is getattr(
            importlib.import_module(module, "streamrun"), name
        ), name


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'AsyncClinet'"):
        streamrun.AsyncClinet  # type: ignore[attr-defined]  # noqa: B018


def test_import_streamrun_loads_no_aiohttp_attrs_or_cattrs() -> None:
    # A fresh interpreter: what ``import streamrun`` (and so ``streamrun --version``) loads.
    code = (
        "import sys, streamrun; "
        "print(sorted(m for m in ('aiohttp', 'attrs', 'cattrs', 'streamrun._client') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=PACKAGE.parent
    ).stdout
    assert out.strip() == "[]"


def test_public_classes_have_docstrings() -> None:
    for name in streamrun.__all__:
        obj = getattr(streamrun, name)
        if isinstance(obj, type):
            assert obj.__doc__ and obj.__doc__.strip(), name


def _module_exists(name: str) -> bool:
    """A module of the package: ``name.py`` or a subpackage ``name/__init__.py``."""
    return (PACKAGE / f"{name}.py").exists() or (PACKAGE / name / "__init__.py").exists()


def _imports(module: str) -> set[str]:
    """The top-level names a module imports (its package's ``streamrun.X`` as ``X``).

    A subpackage (``testing``) is read whole: its ``__init__.py`` and every
    submodule, with its own relative imports left out.
    """
    name = module.replace("streamrun.", "").replace(".", "/")
    package = PACKAGE / name
    paths = sorted(package.glob("*.py")) if package.is_dir() else [PACKAGE / f"{name}.py"]
    found = set()
    for path in paths:
        base = 2 if package.is_dir() else 1  # the level of ``from streamrun import``
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == base and node.module:
                found.add(node.module.split(".")[0])
            elif isinstance(node, ast.ImportFrom) and node.level == base:
                # from . import _json
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    found.add(_local(alias.name))
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(_local(node.module))
    return found


def _local(dotted: str) -> str:
    """``streamrun.X...`` as ``X`` (a module of the package); another module's top name."""
    parts = dotted.split(".")
    if parts[0] == "streamrun" and len(parts) > 1:
        return parts[1]
    return parts[0]


# Each layer may import only the layers below it.
LAYERS = [
    {"_version", "_exceptions", "_json", "_redact", "_redact_fragments"},
    {"sse"},
    {"_models", "_responses_models", "_converter", "_events", "_requests", "_function_tool"},
    {"_responses_events", "_responses_requests"},
    {"_callbacks"},
    {"_accumulate", "_responses_map", "_protocol_runs", "_protocol_responses"},
    {"_retry", "_transport", "_options", "_recover", "_responses_recover", "_relaying"},
    {"_handler", "_pipeline"},
    {
        "_compat",
        "_tool_loop",
        "_stream",
        "_response_stream",
        "_responses_client",
        "_client",
        "_conversation",
    },
    # The fake server (a package) sits under the commands that serve it (--fake):
    # it imports only _exceptions of the library.
    {"testing"},
    {
        "_recording",
        "_display",
        "_cli",
        "_cli_responses",
        "__main__",
        "_rehydrate",
        "relay",
        "_web",
        "_web_responses",
    },
]


def test_layers_import_only_downward() -> None:
    allowed: set[str] = set()
    for layer in LAYERS:
        allowed |= layer
        for module in layer:
            local = {m for m in _imports(module) if _module_exists(m) and m != module}
            assert local <= allowed, f"{module} imports {local - allowed}"


def test_the_testing_package_is_read_whole() -> None:
    # ``from streamrun._exceptions import ...`` in its submodules counts.
    assert {"_exceptions", "aiohttp"} <= _imports("testing")
    assert "_engine" not in _imports("testing")  # its own modules are not layers


def test_sse_has_no_aiohttp_or_asyncio() -> None:
    assert not {"aiohttp", "asyncio"} & _imports("sse")


def test_redaction_is_pure() -> None:
    # The transport, the relay and the CLI share it: it depends on nothing of theirs.
    assert _imports("_redact") <= {"__future__", "functools", "html", "re", "collections", "typing"}


def test_accumulate_has_no_io() -> None:
    assert not {"aiohttp", "asyncio"} & _imports("_accumulate")


def test_pipeline_and_protocol_adapter_have_no_io() -> None:
    # The pipeline reads any async iterator of bytes; only the driver (_stream) knows aiohttp.
    assert not {"aiohttp", "asyncio"} & _imports("_pipeline")
    assert not {"aiohttp", "asyncio"} & _imports("_protocol_runs")
    assert not {"aiohttp", "asyncio"} & _imports("_protocol_responses")


def test_responses_mapping_has_no_io() -> None:
    for module in ("_responses_models", "_responses_events", "_responses_map"):
        assert not {"aiohttp", "asyncio"} & _imports(module), module


def test_submodules_import() -> None:
    for module in ("streamrun.sse", "streamrun.testing", "streamrun.relay"):
        importlib.import_module(module)


@pytest.mark.parametrize("argv", [["--version"], ["--help"], ["run", "--help"], []])
def test_cli_help_and_version_load_no_aiohttp_attrs_or_cattrs(argv: list[str]) -> None:
    # What the ``streamrun`` console script runs: ``from streamrun._cli import main``.
    code = (
        "import sys\n"
        "from streamrun._cli import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('aiohttp', 'attrs', 'cattrs', 'streamrun._client', 'streamrun.testing')\n"
        "print(sorted(m for m in heavy if m in sys.modules), file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=PACKAGE.parent
    )
    assert result.stderr.splitlines()[-1] == "[]"
    assert "streamrun" in result.stdout + result.stderr


def test_cli_ready_scenario_names_match_the_fake_server() -> None:
    from streamrun import _cli, testing

    assert list(_cli.READY_SCENARIOS) == sorted(testing.READY_SCENARIOS)


def test_cli_module_imports_its_runtime_when_used_beyond_main() -> None:
    code = (
        "import sys\n"
        "import streamrun._cli as cli\n"
        "assert 'aiohttp' not in sys.modules\n"
        "session = cli.Session\n"  # any name but main: the commands' modules are imported
        "assert 'streamrun._client' in sys.modules and cli.AsyncClient.__name__ == 'AsyncClient'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=PACKAGE.parent)
