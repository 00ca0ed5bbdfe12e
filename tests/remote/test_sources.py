"""``load_sources``: the text and table forms used by --tools and toolwire.toml."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolwire._errors import ToolFailure
from toolwire._sources import load_source, load_sources, parse_source
from toolwire.examples import weather_grpc
from toolwire.remote import grpc as remote_grpc

TOOLS_FILE = """
from toolwire._tools import Tool, tool

@tool
def shout(text: str) -> str:
    return text.upper()

def whisper(text: str) -> str:
    return text.lower()

def make() -> list[Tool]:
    return [tool(whisper)]

async def make_async() -> list[Tool]:
    return [shout]

NOT_A_TOOL = 3
"""


def test_parse_source_forms() -> None:
    assert parse_source("openapi:http://h/openapi.json") == {
        "type": "openapi",
        "spec": "http://h/openapi.json",
    }
    assert parse_source("grpc:127.0.0.1:50051") == {"type": "grpc", "target": "127.0.0.1:50051"}
    assert parse_source("mcp:python -m srv") == {"type": "mcp", "server": "python -m srv"}
    assert parse_source("sql:sqlite:///x.db") == {"type": "sql", "url": "sqlite:///x.db"}
    assert parse_source("weather") == {"type": "weather"}
    assert parse_source("pkg.mod:attr") == {"type": "python", "module": "pkg.mod", "attr": "attr"}
    assert parse_source("pkg.mod") == {"type": "python", "module": "pkg.mod"}
    assert parse_source("a/b.py") == {"type": "python", "path": "a/b.py"}
    assert parse_source("a/b.py:make") == {"type": "python", "path": "a/b.py", "attr": "make"}
    with pytest.raises(ValueError):
        parse_source("  ")


@pytest.mark.anyio
async def test_python_sources(tmp_path: Path) -> None:
    path = tmp_path / "my_tools.py"
    path.write_text(TOOLS_FILE)
    assert [t.name for t in await load_source(str(path))] == ["shout"]
    assert [t.name for t in await load_source(f"{path}:make")] == ["whisper"]
    assert [t.name for t in await load_source(f"{path}:make_async")] == ["shout"]
    assert [t.name for t in await load_source(f"{path}:whisper")] == ["whisper"]
    with pytest.raises(ValueError):
        await load_source(f"{path}:NOT_A_TOOL")
    packs = await load_sources(["sql:sample", "weather", "toolwire.packs.weather:tools"])
    assert [t.name for t in packs] == [
        "list_tables", "describe_table", "run_query",
        "get_weather", "search_places", "get_weather", "search_places",
    ]  # fmt: skip
    with pytest.raises(ValueError):
        await load_source({"type": "ftp"})
    with pytest.raises(ValueError):
        await load_source({"type": "openapi"})
    with pytest.raises(ValueError):
        await load_source({"type": "mcp"})
    with pytest.raises(ValueError):
        await load_source({"type": "grpc"})


@pytest.mark.anyio
async def test_remote_sources_text_and_table() -> None:
    server, port = await weather_grpc.start()
    try:
        with pytest.raises(ToolFailure) as info:  # loopback needs the allowlist
            await load_sources([f"grpc:127.0.0.1:{port}"])
        assert info.value.kind == "forbidden"
        by_text = await load_sources([f"grpc:127.0.0.1:{port}"], allow_hosts=["127.0.0.1"])
        by_table = await load_sources(
            [
                {
                    "type": "grpc",
                    "target": f"127.0.0.1:{port}",
                    "qualified": False,
                    "allow_hosts": ["127.0.0.1"],
                }
            ]
        )
        assert [t.name for t in by_text] == ["WeatherService.GetWeather"]
        assert [t.name for t in by_table] == ["GetWeather"]
    finally:
        await remote_grpc.close_channels()
        await server.stop(None)


@pytest.mark.anyio
async def test_config_tables_paths_and_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from toolwire.config import Config

    spec = {
        "openapi": "3.1.0",
        "servers": [{"url": "http://127.0.0.1:9/api"}],
        "paths": {"/ping": {"get": {"operationId": "ping", "responses": {}}}},
    }
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "api.json").write_text(json.dumps(spec))
    (tmp_path / "mine.py").write_text(TOOLS_FILE)
    monkeypatch.setenv("TW_TEST_TOKEN", "s3cret")
    config = Config(path=tmp_path / "toolwire.toml")
    tools = await load_sources(
        [
            {"openapi": "specs/api.json", "auth": {"type": "bearer", "token_env": "TW_TEST_TOKEN"}},
            {"path": "mine.py"},
            {"module": "toolwire.packs.weather:tools"},
        ],
        config=config,
    )
    assert [t.name for t in tools] == ["ping", "shout", "get_weather", "search_places"]
    server, port = await weather_grpc.start()
    try:
        by_key = await load_sources(
            [{"grpc": f"127.0.0.1:{port}", "allow_hosts": ["127.0.0.1"]}], config=config
        )
        assert [t.name for t in by_key] == ["WeatherService.GetWeather"]
    finally:
        await remote_grpc.close_channels()
        await server.stop(None)
