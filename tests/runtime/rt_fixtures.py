"""Fixtures for the runtime tests, imported by the test modules (kept out of a conftest.py
here so that the runtime tests share the root conftest's fixtures unchanged).

Every teardown is bounded: a Redis that stopped answering must fail the test, not hang it
(pytest-timeout cannot interrupt an async fixture's teardown).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from toolwire.state import MemoryBackend, StateBackend

TEARDOWN_S = 10.0


async def _drop_prefix(client: object, prefix: str) -> None:
    async with asyncio.timeout(TEARDOWN_S):
        async for key in client.scan_iter(match=prefix + "*", count=500):  # type: ignore[attr-defined]
            await client.delete(key)  # type: ignore[attr-defined]


async def close_backend(backend: StateBackend, prefix: str | None = None) -> None:
    """Drop a Redis backend's keys (when ``prefix`` is given) and close it, bounded."""
    try:
        if prefix is not None:
            await _drop_prefix(backend.client, prefix)  # type: ignore[attr-defined]
    finally:
        async with asyncio.timeout(TEARDOWN_S):
            await backend.aclose()


@pytest.fixture(name="redis_prefix")
def redis_prefix_fixture() -> str:
    return f"twtest:{uuid.uuid4().hex[:12]}:"


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


class ComposedMemory(MemoryBackend):
    """Memory state driven like a shared store: the executor goes through ``admit`` and
    ``settle``, whose default implementations compose the per-policy methods."""

    shared = True


@pytest.fixture(name="backend", params=["memory", "composed", "redis"])
async def backend_fixture(
    request: pytest.FixtureRequest, redis_prefix: str
) -> AsyncIterator[StateBackend]:
    if request.param == "memory":
        yield MemoryBackend()
        return
    if request.param == "composed":
        yield ComposedMemory()
        return
    url = request.getfixturevalue("redis_url")
    from toolwire.state.redis import RedisBackend

    be = RedisBackend(url, prefix=redis_prefix)
    try:
        yield be
    finally:
        await close_backend(be, redis_prefix)


@pytest.fixture(name="redis_backend")
async def redis_backend_fixture(redis_url: str, redis_prefix: str) -> AsyncIterator[StateBackend]:
    from toolwire.state.redis import RedisBackend

    be = RedisBackend(redis_url, prefix=redis_prefix)
    try:
        yield be
    finally:
        await close_backend(be, redis_prefix)
