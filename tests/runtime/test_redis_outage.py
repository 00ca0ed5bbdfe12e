"""Redis stopped mid-run and restarted: no call lost, fail-open/closed as configured, recovery.

Runs against its own redis-server on an ephemeral port, never the shared one.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest

import toolwire as tw
from toolwire.runtime import Executor
from toolwire.state.redis import RedisBackend

pytestmark = pytest.mark.anyio


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None


@pytest.fixture
def server() -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        # same rule as conftest.need: skip locally, fail in CI
        (pytest.fail if os.environ.get("CI", "").lower() == "true" else pytest.skip)(
            "redis-server binary not installed"
        )
    srv = RedisServer()
    srv.start()
    yield srv
    srv.stop()


async def test_outage_and_recovery(server: RedisServer, caplog: pytest.LogCaptureFixture) -> None:
    runs = {"open": 0, "closed": 0}
    limit = tw.RateLimit(rate=1000, per=1)
    breaker = tw.Breaker(window=10, min_calls=10, open_for=60)

    @tw.tool(read_only=True, policy=tw.Policy(rate_limit=limit, breaker=breaker, fail_open=True))
    def lenient(i: int) -> int:
        runs["open"] += 1
        return i

    @tw.tool(read_only=True, policy=tw.Policy(rate_limit=limit, fail_open=False))
    def strict(i: int) -> int:
        runs["closed"] += 1
        return i

    backend = RedisBackend(f"redis://127.0.0.1:{server.port}/0", retry_interval=0.05)
    box = tw.Toolbox([lenient, strict], runtime=Executor(backend=backend))
    phases: list[list[tw.ToolResult]] = []

    async def batch(tag: int) -> list[tw.ToolResult]:
        return await box.run(
            [
                tw.ToolCall(id=f"{tag}-{i}-{name}", name=name, arguments=f'{{"i": {i}}}')
                for i in range(10)
                for name in ("lenient", "strict")
            ]
        )

    caplog.set_level(logging.INFO, logger="toolwire.state")
    phases.append(await batch(0))  # up
    server.stop()
    phases.append(await batch(1))  # down
    phases.append(await batch(2))  # still down
    server.start()
    await asyncio.sleep(0.1)  # past retry_interval: the next call probes Redis again
    phases.append(await batch(3))  # back
    await backend.aclose()

    for results in phases:
        assert len(results) == 20
        assert all(r.ok for r in results if r.name == "lenient")  # fail open: nothing lost
    up, down1, down2, back = phases
    assert all(r.ok for r in up + back)
    for results in (down1, down2):
        strict_kinds = {r.error.kind for r in results if r.name == "strict" and r.error}
        assert strict_kinds == {"rate_limited"}  # fail closed, with a clear kind
    assert runs == {"open": 40, "closed": 20}
    outage_lines = [r for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(outage_lines) == 1  # one line per outage, not one per call
    assert any("reachable again" in r.getMessage() for r in caplog.records)
