"""A private ``redis-server`` for tests that stop, kill or restart it, or need one that has
loaded nothing yet: on an ephemeral loopback port, never the shared 6379 one."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    """A private ``redis-server`` on an ephemeral loopback port, never the shared one: a test
    may stop and restart it, and it starts with nothing loaded (no keys, no scripts)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

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
        self.stop(hard=True)
        raise RuntimeError("redis-server did not start")

    def stop(self, *, hard: bool = False) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        proc.kill() if hard else proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@pytest.fixture(name="private_redis")
def private_redis_fixture() -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        # same rule as service_checks.need: skip locally, fail in CI
        (pytest.fail if os.environ.get("CI", "").lower() == "true" else pytest.skip)(
            "redis-server binary not installed"
        )
    srv = RedisServer()
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()
