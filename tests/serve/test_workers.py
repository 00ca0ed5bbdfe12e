"""``toolwire serve --workers 2`` on one Redis: both processes answer on the same ports, and a
rate limit and a breaker hold across them."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from serve_helpers import HERE, child_env, free_port, stop, wait_ready

pytestmark = [pytest.mark.anyio, pytest.mark.redis]
HEADERS = {"Content-Type": "application/json"}


async def _fresh(method: str, url: str, body: Any = None) -> tuple[int, Any]:
    # A new connection per request, so SO_REUSEPORT spreads them over both processes.
    async with (
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as s,
        s.request(method, url, data=body, headers=HEADERS) as r,
    ):
        return r.status, await r.json()


async def _per_process(base: str, seen: int = 2, within: float = 30.0) -> dict[int, Any]:
    """The dashboard figures of each worker, keyed by pid (until ``seen`` distinct pids, or
    ``within`` seconds: a loaded machine can start the second worker seconds after the first
    one answers, and until then every connection lands on the first)."""
    snapshots: dict[int, Any] = {}
    end = time.monotonic() + within
    while len(snapshots) < seen and time.monotonic() < end:
        status, data = await _fresh("GET", f"{base}/v1/dashboard")
        assert status == 200
        snapshots.setdefault(data["pid"], data)
        await asyncio.sleep(0.01)
    return snapshots


def _outcomes(snapshot: Any, tool: str) -> tuple[int, dict[str, int]]:
    figures = snapshot["tools"].get(tool, {"calls": 0, "errors": 0, "errors_by_kind": {}})
    return figures["calls"] - figures["errors"], figures["errors_by_kind"]


@pytest.mark.slow
async def test_two_workers_share_ports_rate_limits_and_breakers(
    redis_url: str, tmp_path: Path
) -> None:
    config = tmp_path / "toolwire.toml"
    config.write_text(
        f"""
[state]
backend = "redis"
url = "{redis_url}"
prefix = "tw-workers-{uuid.uuid4().hex[:8]}:"

[policies."whoami"]
rate_limit = {{ rate = 3, per = 600.0 }}

[policies."fail"]
breaker = {{ window = 4, min_calls = 2, failure_rate = 0.5, open_for = 600.0 }}
"""
    )
    port, grpc_port = free_port(), free_port()
    command = [sys.executable, "-m", "toolwire", "serve", "--config", str(config), "--workers"]
    command += ["2", "--tools", str(HERE / "serve_tools.py")]
    command += ["--port", str(port), "--grpc-port", str(grpc_port)]
    proc = subprocess.Popen(  # noqa: ASYNC220 - setup, before any I/O is measured
        command,
        env=child_env(),
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(proc, port)
        wait_ready(proc, grpc_port)
        workers = await _per_process(base)
        assert len(workers) == 2, "both worker processes answer on the one port"
        assert proc.pid not in workers  # the parent only supervises

        # Rate limit: 3 calls per 10 minutes in total, whichever process answers.
        statuses = [
            (await _fresh("POST", f"{base}/v1/tools/whoami/call", b"{}"))[0] for _ in range(14)
        ]
        assert statuses.count(200) == 3, statuses
        assert set(statuses) == {200, 429}
        # Both processes served calls of the tool: with per-process limits more would pass.
        served: dict[int, int] = defaultdict(int)
        ok_total = 0
        for pid, snap in (await _per_process(base)).items():
            ok, errors = _outcomes(snap, "whoami")
            served[pid] = ok + sum(errors.values())
            ok_total += ok
        assert ok_total == 3
        assert len(served) == 2 and all(n > 0 for n in served.values()), served

        # Breaker: tripped by failures through whichever process, open in both.
        body = json.dumps({"kind": "remote_error"}).encode()
        kinds = [
            (await _fresh("POST", f"{base}/v1/tools/fail/call", body))[1]["error"]["kind"]
            for _ in range(16)
        ]
        assert kinds[:2] == ["remote_error", "remote_error"]
        assert kinds[-6:] == ["circuit_open"] * 6, kinds
        snapshots = await _per_process(base)
        rejected = {
            pid: _outcomes(snap, "fail")[1].get("circuit_open", 0)
            for pid, snap in snapshots.items()
        }
        assert len(rejected) == 2 and all(n > 0 for n in rejected.values()), rejected
        # The dashboard reads breaker states from the shared backend: open in both.
        assert [snap["breakers"].get("fail") for snap in snapshots.values()] == ["open", "open"]
        assert all("whoami" not in snap["breakers"] for snap in snapshots.values())
    finally:
        stop(proc)
    assert proc.returncode in (0, -15), proc.stderr.read().decode() if proc.stderr else ""


@pytest.mark.slow
def test_a_taken_grpc_port_is_a_clear_refusal() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        grpc_port = str(taken.getsockname()[1])
        done = subprocess.run(
            [sys.executable, "-m", "toolwire", "serve", "--port", "0", "--grpc-port", grpc_port],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1
    assert "cannot listen for gRPC" in done.stderr and "Traceback" not in done.stderr
