"""The README's set-up is true: two commands, an install that works, CI runs the same."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", README, re.S | re.M)
    assert match, title
    return match.group(1)


def two_commands() -> list[str]:
    block = re.search(r"```console\n(.*?)```", section("The two commands"), re.S)
    assert block
    return [line[2:] for line in block.group(1).splitlines() if line.startswith("$ ")]


def test_the_two_commands_are_two() -> None:
    demo, tests = two_commands()
    # The first installs the runtime package only, in a virtualenv, and runs the demo.
    assert demo == "python -m venv .venv && .venv/bin/pip install . && .venv/bin/streamrun demo"
    # The second installs the test extra and runs the suite.
    assert tests.startswith('python -m venv .venv && .venv/bin/pip install -e ".[test]" && ')
    assert tests.endswith(".venv/bin/python -m pytest -q")


def test_no_install_from_an_index_that_does_not_have_it() -> None:
    assert not re.search(r"pip install [\"']?streamrun\b", README)
    install = section("Install")
    assert "pip install ." in install and "python -m build" in install


def test_ci_runs_the_readmes_test_command_in_its_own_virtualenv() -> None:
    # .ci/run reads the command from the README; run that extraction here.
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    extraction = script[script.index("readme_test=$(") : script.index("if [[ -z")]
    out = subprocess.run(
        ["bash", "-c", f'{extraction}\nVENV=.ci/venv PYTHON=python3\necho "$readme_test"'],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.strip() == two_commands()[1]
    assert 'command="${readme_test//.venv/$VENV}"' in script
    assert 'eval "$command"' in script and 'rm -rf "$VENV"' in script


def test_the_error_table_says_a_handler_serves_one_stream() -> None:
    row = next(
        line for line in section("Failure handling").splitlines() if "`StreamConsumedError`" in line
    )
    assert "handler" in row and "another" in row
