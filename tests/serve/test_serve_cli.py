"""The operator's side of ``toolwire serve``: ``toolwire keys``, ``--port 0`` with workers, the
audit log switched on from the command line or the file."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx2 as httpx
import pytest
from serve_helpers import HERE, start_serve, stop

from toolwire.serve._auth import hash_api_key


def _toolwire(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "toolwire", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_keys_new_makes_an_entry_the_server_accepts(tmp_path: Path) -> None:
    made = _toolwire("keys", "new", "--id", "ci", "--scope", "weather")
    assert made.returncode == 0, made.stderr
    key = re.search(r"^key:\s+(\S+)$", made.stdout, re.M)
    entry = re.search(r"^entry:\s+(.+)$", made.stdout, re.M)
    assert key is not None and entry is not None, made.stdout
    assert f'hash = "{hash_api_key(key.group(1))}"' in entry.group(1)
    hashed = _toolwire("keys", "hash", stdin=key.group(1) + "\n")
    assert hashed.stdout.strip() == hash_api_key(key.group(1))
    assert _toolwire("keys", "hash", key.group(1)).stdout == hashed.stdout

    config = tmp_path / "toolwire.toml"
    config.write_text(f"[auth]\napi_keys = [{entry.group(1)}]\n")
    server = start_serve("--config", str(config), "--port", "0", "--grpc-port", "-1")
    try:
        with httpx.Client(base_url=server.base, timeout=10) as client:
            assert client.get("/v1/tools").status_code == 401
            answer = client.post(
                "/v1/tools/get_weather/call",
                json={"location": "Paris"},
                headers={"X-API-Key": key.group(1)},
            )
        assert answer.status_code == 200, answer.text
        assert answer.json()["value"]["location"] == "Paris"
    finally:
        stop(server.proc)


def _pids_over_fresh_connections(
    ask: Callable[[], int], *, want: int = 2, attempts: int = 200
) -> set[int]:
    seen: set[int] = set()
    for _ in range(attempts):
        seen.add(ask())
        if len(seen) >= want:
            break
    return seen


@pytest.mark.slow
def test_two_workers_on_port_0_share_one_port_and_report_it(tmp_path: Path) -> None:
    audit = tmp_path / "audit.jsonl"
    server = start_serve(
        "--tools",
        str(HERE / "serve_tools.py"),
        "--workers",
        "2",
        "--port",
        "0",
        "--grpc-port",
        "0",
        "--audit-log",
        str(audit),
    )
    calls = 0
    try:
        assert server.grpc_port is not None and server.grpc_port != server.port
        ready = [line for line in server.stderr.lines if "toolwire serve:" in line]
        assert len(ready) == 1 and "2 workers" in ready[0], server.stderr.text

        def rest_pid() -> int:
            nonlocal calls
            # a new connection per request, so the kernel may hand it to either worker
            with httpx.Client(base_url=server.base, timeout=10) as client:
                answer = client.post("/v1/tools/worker_pid/call", json={})
            calls += 1
            return int(answer.json()["value"])

        def grpc_pid() -> int:
            nonlocal calls
            import grpc

            from toolwire.serve._gen import tools_pb2, tools_pb2_grpc

            with grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
                stub = tools_pb2_grpc.ToolServiceStub(channel)
                answer = stub.CallTool(tools_pb2.CallToolRequest(name="worker_pid"), timeout=10)
            calls += 1
            return int(json.loads(answer.value_json))

        rest_pids = _pids_over_fresh_connections(rest_pid)
        grpc_pids = _pids_over_fresh_connections(grpc_pid)
        assert len(rest_pids) == 2, "both workers answer on the one REST port"
        assert grpc_pids == rest_pids, "and on the one gRPC port"
        assert server.proc.pid not in rest_pids  # the parent only supervises
    finally:
        stop(server.proc)
    lines = [json.loads(line) for line in audit.read_text().splitlines()]
    assert len(lines) == calls, "every call of either worker is one whole line"
    assert {line["transport"] for line in lines} == {"rest", "grpc"}
    assert {line["tool"] for line in lines} == {"worker_pid"}


@pytest.mark.slow
def test_a_taken_port_fails_the_workers_parent_clearly() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        for flag in ("--port", "--grpc-port"):
            args = {"--port": "0", "--grpc-port": "0", flag: port}
            done = _toolwire("serve", "--workers", "2", *(x for kv in args.items() for x in kv))
            assert done.returncode == 1, done.stderr
            assert "cannot listen" in done.stderr and port in done.stderr
            assert "Traceback" not in done.stderr


def test_the_audit_log_from_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "toolwire.toml"
    config.write_text('[server]\naudit_log = "logs/audit.jsonl"\n')
    (tmp_path / "logs").mkdir()
    server = start_serve("--config", str(config), "--port", "0", "--grpc-port", "-1")
    try:
        with httpx.Client(base_url=server.base, timeout=10) as client:
            client.post("/v1/tools/get_weather/call", json={"location": "Paris"})
            client.post("/v1/tools/no_such/call", json={})
    finally:
        stop(server.proc)
    lines = [
        json.loads(line) for line in (tmp_path / "logs" / "audit.jsonl").read_text().splitlines()
    ]
    assert [(x["tool"], x["outcome"]) for x in lines] == [
        ("get_weather", "ok"),
        ("__unknown__", "unknown_tool"),
    ]
    assert lines[1]["requested"] == "no_such" and lines[0]["arguments"] == "[redacted]"
    # audit lines go to the file only, not to the console
    assert '"event":"tool_call"' not in server.stderr.text
