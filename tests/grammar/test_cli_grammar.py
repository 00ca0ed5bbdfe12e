"""``toolwire tools grammar``: the installed command prints a grammar llguidance compiles."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner
from grammar_helpers import Engine

from toolwire.cli._main import cli

HERMES_CALL = (
    '<tool_call>\n{"name": "get_weather", "arguments": {"location": "北京"}}\n</tool_call>'
)


def test_the_command_prints_a_gbnf_grammar_for_hermes() -> None:
    # the real entry point, as a user runs it (the seed's get_weather by default)
    command = ["tools", "grammar", "--format", "hermes", "--syntax", "gbnf"]
    command += ["--tool-choice", "required"]
    out = subprocess.run(
        [sys.executable, "-m", "toolwire", *command],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert out.stdout.startswith("root ::= ")
    engine = Engine.of(out.stdout, "gbnf")
    assert engine.accepts(HERMES_CALL)
    assert not engine.accepts("No call.")


def test_dict_syntaxes_print_json_and_warnings_go_to_stderr(tmp_path: Path) -> None:
    source = tmp_path / "tools.py"
    source.write_text(
        "import toolwire as tw\n"
        "t = tw.Tool.from_schema({'name': 'pick', 'parameters': {'type': 'object', 'properties': "
        "{'n': {'type': 'integer', 'multipleOf': 3}}}})\n"
    )
    runner = CliRunner()
    args = ["--syntax", "json_schema", "--tool-choice", "pick", "--no-parallel"]
    result = runner.invoke(cli, ["tools", "grammar", "--tools", str(source), *args])
    assert result.exit_code == 0, result.output
    schema = json.loads(result.stdout)
    assert schema["properties"]["name"] == {"const": "pick"}
    result = runner.invoke(cli, ["tools", "grammar", "--tools", str(source)])
    assert result.exit_code == 0
    assert "pick: /properties/n multipleOf" in result.stderr
    assert result.stdout.startswith("%llguidance {}")


def test_bad_options_are_clear_errors() -> None:
    result = CliRunner().invoke(cli, ["tools", "grammar", "--format", "nope"])
    assert result.exit_code != 0
    assert "no grammar for format 'nope'" in result.output
