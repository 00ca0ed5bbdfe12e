"""``toolwire demo``, ``chat`` and ``call`` through click's CliRunner (and one subprocess)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from loop_fake_openai import FakeOpenAI, completion, tool_call

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


def _unreachable_url() -> str:
    """A loopback URL where nothing listens (the port was just free)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/v1"


def test_chat_with_an_unreachable_model_is_an_error() -> None:
    url = _unreachable_url()
    for args in (["chat", "上海天气"], ["chat", "上海天气", "--json"], ["chat"]):
        result = CliRunner().invoke(cli, [*args, "--model", url], input="上海天气\n")
        assert result.exit_code == 1, (args, result.output)
        if "--json" in args:
            assert (
                json.loads(result.stdout.strip().splitlines()[-1])["stop_reason"] == "model_error"
            )
        else:
            assert "error: the model failed" in result.stderr, result.output
            assert "--fallback-offline" in result.stderr
        assert "offline stand-in model (deterministic" not in result.output


def test_chat_falls_back_to_the_stand_in_only_when_asked() -> None:
    url = _unreachable_url()
    result = CliRunner().invoke(cli, ["chat", "上海天气", "--model", url, "--fallback-offline"])
    assert result.exit_code == 0, result.output
    assert "falling back" in result.stderr
    assert "上海" in result.stdout
    as_json = CliRunner().invoke(
        cli, ["chat", "上海天气", "--model", url, "--fallback-offline", "--json"]
    )
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout.strip().splitlines()[-1])["stop_reason"] == "final_answer"


def _sibling_tools(folder: Path) -> None:
    """A tools file that imports the module beside it, as users write them."""
    (folder / "pricing.py").write_text("def total(a: int, b: int) -> int:\n    return a + b\n")
    (folder / "mytools.py").write_text(
        "import toolwire as tw\nfrom pricing import total\n\n\n"
        "@tw.tool\ndef add(a: int, b: int) -> int:\n"
        '    """Add two numbers."""\n    return total(a, b)\n'
    )


def _toolwire_script(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The installed ``toolwire`` script (its sys.path[0] is its bin folder, not the cwd)."""
    script = Path(sys.executable).with_name("toolwire")
    if not script.exists():
        pytest.skip("the toolwire script is not installed next to the interpreter")
    return subprocess.run(
        [str(script), *args], capture_output=True, text=True, timeout=60, cwd=cwd, check=False
    )


def test_a_tools_file_imports_its_sibling_modules(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    _sibling_tools(project)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for spec in (str(project / "mytools.py"), f"{project / 'mytools.py'}:add"):
        done = _toolwire_script("call", "--tools", spec, "add", "a=2", "b=3", cwd=elsewhere)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["value"] == 5


def test_a_module_spec_imports_from_the_current_folder(tmp_path: Path) -> None:
    _sibling_tools(tmp_path)
    for spec in ("mytools:add", "mytools"):
        done = _toolwire_script("call", "--tools", spec, "add", "a=2", "b=3", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["value"] == 5


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
