"""``--help`` names every tool-source form that ``--tools`` accepts (a newcomer read
``serve --help``, saw only the Python forms and did not know ``openapi:``/``grpc:``/``mcp:``
/``sql:``/``weather`` worked)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = str(Path(__file__).resolve().parents[2] / "src")


def help_text(command: str) -> str:
    env = {**os.environ, "PYTHONPATH": SRC, "COLUMNS": "200"}
    done = subprocess.run(
        [sys.executable, "-m", "toolwire", command, "--help"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return " ".join(done.stdout.split())


FORMS = (
    "module:attr",
    "path.py",
    "openapi:",
    "grpc:HOST:PORT",
    "mcp:URL",
    "mcp:COMMAND",
    "sql:DATABASE_URL",
    "weather",
)


@pytest.mark.parametrize("command", ["serve", "chat", "call", "eval"])
def test_help_lists_every_tool_source_form(command: str) -> None:
    text = help_text(command)
    missing = [form for form in FORMS if form not in text]
    assert not missing, f"`toolwire {command} --help` does not name {missing}"


def test_serve_help_documents_port_zero() -> None:
    assert "0 = any free port" in help_text("serve")
