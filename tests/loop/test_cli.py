"""``toolwire demo``, ``chat`` and ``call`` through click's CliRunner (and one subprocess)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest
from _fake_openai import FakeOpenAI, completion, tool_call
from click.testing import CliRunner

from toolwire.cli._main import cli


def test_demo_runs_offline_and_shows_every_step() -> None:
    result = CliRunner().invoke(cli, ["demo"])
    assert result.exit_code == 0, result.output
    out = result.output
    for expected in (
        "offline stand-in",
        "simulated",
        '"name": "get_weather"',  # the functions list sent
        "the model's call: get_weather",
        'validated arguments: {"location":"北京"}',
        "executed through the policies",
        '"role":"function"',  # the legacy message sent back
        "final answer",
        "cache hits on the repeat: 3/3",
    ):
        assert expected in out, expected
    assert out.count("miss") >= 3 and out.count("hit") >= 3


def test_demo_as_a_subprocess_without_a_tty() -> None:
    env = {**os.environ, "NO_COLOR": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "toolwire.cli", "demo"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    if proc.returncode != 0 and "No module named toolwire.cli.__main__" in proc.stderr:
        proc = subprocess.run(
            [sys.executable, "-c", "from toolwire.cli._main import main; main(['demo'])"],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
            check=False,
        )
    assert proc.returncode == 0, proc.stderr
    assert "final answer" in proc.stdout


@pytest.fixture
def fake_server() -> Iterator[FakeOpenAI]:
    """The fake OpenAI server on its own loop thread (the CLI runs its own asyncio loop)."""
    replies = [
        completion(function_call={"name": "get_weather", "arguments": '{"location": "北京"}'}),
        completion("北京：17°C"),
        completion(
            tool_calls=[
                tool_call(f"c{i}", "get_weather", {"location": c})
                for i, c in enumerate(["北京", "上海", "广州"])
            ]
        ),
        completion("三城天气如上"),
        completion(
            tool_calls=[
                tool_call(f"d{i}", "get_weather", {"location": c})
                for i, c in enumerate(["北京", "上海", "广州"])
            ]
        ),
        completion("三城天气如上"),
    ]
    server = FakeOpenAI(replies)
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    stop: asyncio.Event | None = None

    async def serve() -> None:
        nonlocal stop
        stop = asyncio.Event()
        async with server:
            ready.set()
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    assert ready.wait(10)
    yield server
    assert stop is not None
    loop.call_soon_threadsafe(stop.set)
    thread.join(10)
    loop.close()


def test_demo_with_a_model_url(fake_server: FakeOpenAI) -> None:
    result = CliRunner().invoke(
        cli, ["demo", "--model", fake_server.base_url, "--api", "functions"]
    )
    assert result.exit_code == 0, result.output
    assert "北京：17°C" in result.output
    assert fake_server.requests[0]["functions"][0]["name"] == "get_weather"


def test_chat_one_shot_says_it_is_offline() -> None:
    result = CliRunner().invoke(cli, ["chat", "北京今天气温如何?"])
    assert result.exit_code == 0, result.output
    assert "offline stand-in" in result.output
    assert "北京" in result.output


def test_chat_falls_back_when_the_model_is_unreachable() -> None:
    result = CliRunner().invoke(cli, ["chat", "上海天气", "--model", "http://127.0.0.1:9/v1"])
    assert result.exit_code == 0, result.output
    assert "falling back" in result.output
    assert "上海" in result.output


def test_chat_json_and_interactive() -> None:
    result = CliRunner().invoke(cli, ["chat", "广州天气", "--json"])
    assert result.exit_code == 0
    data = json.loads(result.output.strip().splitlines()[-1])
    assert data["stop_reason"] == "final_answer"
    session = CliRunner().invoke(cli, ["chat"], input="北京天气\nexit\n")
    assert session.exit_code == 0 and "北京" in session.output


def test_call_with_pairs_and_json() -> None:
    ok = CliRunner().invoke(cli, ["call", "get_weather", "location=北京"])
    assert ok.exit_code == 0
    assert json.loads(ok.output)["value"]["location"] == "北京"
    bad = CliRunner().invoke(cli, ["call", "get_weather", "--json", '{"location": 3}'])
    assert bad.exit_code == 1
    assert json.loads(bad.output)["error"]["kind"] == "invalid_arguments"
    unknown = CliRunner().invoke(cli, ["call", "get_wether", "location=x"])
    assert unknown.exit_code == 1 and "unknown_tool" in unknown.output
    usage = CliRunner().invoke(cli, ["call", "get_weather", "nonsense"])
    assert usage.exit_code == 2


def test_multi_model_example_runs() -> None:
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    proc = subprocess.run(
        [sys.executable, os.path.join(root, "examples", "multi_model_review.py")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "REJECT" in proc.stdout and "APPROVE" in proc.stdout
