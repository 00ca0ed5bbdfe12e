"""``toolwire tools list|export`` through click's runner, with real tool sources."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from toolwire.cli._main import cli
from toolwire.examples.seed import SEED_GET_WEATHER_SCHEMA

TOOLS_FILE = """
import toolwire._tools as t

play = t.Tool.from_schema({"name": "spotify.play", "description": "播放",
                           "parameters": {"type": "dict", "properties": {
                               "artist": {"type": "string"}}, "required": ["artist"]}})
free = t.Tool.from_schema({"name": "tagger", "parameters": {"type": "object", "properties": {
    "labels": {"type": "object", "additionalProperties": {"type": "string"}}}}})
ALL = [play, free]
NOT_A_TOOL = 3
"""


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["tools", *args])
    return result.exit_code, result.output


def test_default_export_is_the_seed_tool() -> None:
    code, out = _run("export")
    assert code == 0, out
    assert "获取指定城市的天气信息" in out
    assert "\\u" not in out
    params = SEED_GET_WEATHER_SCHEMA["parameters"]
    assert json.loads(out) == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "获取指定城市的天气信息",
                "parameters": params,
            },
        }
    ]


def test_every_dialect_and_strict() -> None:
    for dialect in ("openai-functions", "openai-responses", "anthropic", "gemini", "mcp"):
        code, out = _run("export", "--dialect", dialect, "--pretty")
        assert code == 0, out
        assert "城市名称" in out
    code, out = _run("export", "--dialect", "openapi")
    assert json.loads(out)["openapi"] == "3.1.0"
    code, out = _run("export", "--strict")
    assert json.loads(out)[0]["function"]["strict"] is True
    code, out = _run("export", "--dialect", "cohere")
    assert code != 0
    assert "openai" in out


def test_tools_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "mytools.py"
    path.write_text(TOOLS_FILE, encoding="utf-8")
    code, out = _run("list", "--tools", str(path))
    assert code == 0, out
    assert out.splitlines() == ["spotify.play\t播放", "tagger\t"]
    code, out = _run("export", "--tools", f"{path}:play", "--dialect", "openai")
    assert json.loads(out)[0]["function"]["name"] == "spotify_play"
    code, out = _run("list", "--json", "--tools", f"{path}:ALL")
    assert [row["name"] for row in json.loads(out)] == ["spotify.play", "tagger"]


def test_errors_are_clear(tmp_path: Path) -> None:
    path = tmp_path / "mytools.py"
    path.write_text(TOOLS_FILE, encoding="utf-8")
    code, out = _run("export", "--tools", f"{path}:ALL", "--strict")
    assert code == 1
    assert "tool 'tagger': $.properties.labels" in out
    code, out = _run("list", "--tools", f"{path}:NOT_A_TOOL")
    assert code == 2
    assert "not a Tool" in out
    code, out = _run("list", "--tools", f"{path}:missing")
    assert "has no 'missing'" in out
    code, out = _run("list", "--tools", "no_such_module_xyz:tools")
    assert code == 2
    assert "cannot import" in out
    code, out = _run("list", "--tools", str(tmp_path / "nope.py"))
    assert "no such file" in out


def test_module_attr_source() -> None:
    code, out = _run("list", "--tools", "toolwire.examples.seed:SEED_GET_WEATHER_SCHEMA")
    assert code == 2  # a dict is not a Tool
    assert "not a Tool" in out
