"""``toolwire chat --model anthropic:MODEL | gemini:MODEL | responses:MODEL`` and
``[models.NAME] kind = ...`` against a local server speaking each wire format (the CLI runs its
own event loop, so the server runs on a thread of its own)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import models_anthropic_wire as aw
import models_gemini_wire as gw
import models_responses_wire as rw
import pytest
from click.testing import CliRunner
from models_wire_server import Reply, Seen, WireServer

from toolwire.cli._main import cli

ASK = "北京今天气温如何?"


def scripted(seen: Seen) -> Reply:
    """The seed's get_weather call, then an answer, in the API the request came in."""
    body = str(seen.body)
    answered = any(mark in body for mark in ("tool_result", "functionResponse", "call_output"))
    if seen.path.endswith("/messages"):
        if answered:
            return aw.message(aw.text("北京 25°C"))
        return aw.message(aw.tool_use("toolu_1", "get_weather", {"location": "北京"}))
    if seen.path.endswith("/responses"):
        if answered:
            return rw.response(rw.message("北京 25°C"))
        return rw.response(rw.function_call("call_1", "get_weather", {"location": "北京"}))
    if answered:
        return gw.response(gw.text("北京 25°C"))
    return gw.response(gw.call("get_weather", {"location": "北京"}))


@pytest.fixture
def server() -> Iterator[WireServer]:
    wire = WireServer(scripted)
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    stop: asyncio.Event | None = None

    async def serve() -> None:
        nonlocal stop
        stop = asyncio.Event()
        async with wire:
            ready.set()
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield wire
    finally:
        assert stop is not None
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        if not thread.is_alive():
            loop.close()


def test_anthropic_kind_with_the_sdks_own_variables(
    server: WireServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The CLI reads no key for this kind: the anthropic SDK reads its own variables.
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-cli")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
    result = CliRunner().invoke(cli, ["chat", ASK, "--model", "anthropic:claude-sonnet-4-5"])
    assert result.exit_code == 0, result.output
    assert "北京 25°C" in result.output
    first, second = server.requests
    assert first.body["model"] == "claude-sonnet-4-5"
    assert first.body["tools"][0]["name"] == "get_weather"
    assert second.body["messages"][-1]["content"][0]["tool_use_id"] == "toolu_1"


@pytest.mark.parametrize(
    ("kind", "model", "base", "path"),
    [
        ("gemini", "gemini-2.5-flash", "", ":generateContent"),
        ("responses", "gpt-5-mini", "/v1", "/v1/responses"),
        ("anthropic", "claude-sonnet-4-5", "", "/v1/messages"),
    ],
)
def test_a_models_table_names_the_kind(
    server: WireServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    model: str,
    base: str,
    path: str,
) -> None:
    monkeypatch.setenv("MY_KEY", "secret-from-env")
    config = tmp_path / "toolwire.toml"
    config.write_text(
        f'[models.native]\nkind = "{kind}"\nmodel = "{model}"\n'
        f'base_url = "{server.url}{base}"\napi_key_env = "MY_KEY"\n',
        encoding="utf-8",
    )
    args = ["chat", ASK, "--model", "native", "--config", str(config)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "北京 25°C" in result.output
    assert len(server.requests) == 2 and all(s.path.endswith(path) for s in server.requests)
    assert "secret-from-env" in sent_key(server.requests[0])


def sent_key(seen: Seen) -> str:
    headers = seen.headers
    return headers.get("x-goog-api-key") or headers.get("x-api-key") or headers["authorization"]
