"""Two ``toolwire serve`` processes on one Redis: a breaker tripped through one rejects
through the other."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from pathlib import Path

import aiohttp
import pytest
from serve_helpers import HERE, free_port, serve_command, stop, wait_ready

pytestmark = [pytest.mark.anyio, pytest.mark.redis]


@pytest.mark.slow
async def test_breaker_state_is_shared_through_redis(redis_url: str, tmp_path: Path) -> None:
    config = tmp_path / "toolwire.toml"
    config.write_text(
        f"""
[state]
backend = "redis"
url = "{redis_url}"
prefix = "tw-test-{uuid.uuid4().hex[:8]}:"

[policies."fail"]
breaker = {{ window = 4, min_calls = 2, failure_rate = 0.5, open_for = 60.0 }}
"""
    )
    procs = []
    ports = []
    try:
        for _ in range(2):
            port = free_port()
            proc = subprocess.Popen(  # noqa: ASYNC220 - setup, before any I/O is measured
                serve_command(
                    "--config",
                    str(config),
                    "--tools",
                    str(HERE / "serve_tools.py"),
                    "--port",
                    str(port),
                    "--grpc-port",
                    "-1",
                ),
                env={**os.environ},
                stderr=subprocess.PIPE,
            )
            procs.append(proc)
            ports.append(port)
        for proc, port in zip(procs, ports, strict=True):
            wait_ready(proc, port)
        a, b = (f"http://127.0.0.1:{p}/v1/tools/fail/call" for p in ports)
        body = json.dumps({"kind": "remote_error"})
        headers = {"Content-Type": "application/json"}
        async with aiohttp.ClientSession() as s:
            async with s.get(f"http://127.0.0.1:{ports[1]}/readyz") as r:
                assert r.status == 200
            kinds = []
            for _ in range(3):
                async with s.post(a, data=body, headers=headers) as r:
                    kinds.append((await r.json())["error"]["kind"])
            assert kinds[:2] == ["remote_error", "remote_error"]
            async with s.post(b, data=body, headers=headers) as r:
                answer = await r.json()
                assert r.status == 503, answer
                assert answer["error"]["kind"] == "circuit_open"
                assert "Retry-After" in r.headers
    finally:
        for proc in procs:
            stop(proc)
