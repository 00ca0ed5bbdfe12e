"""Two ``toolwire serve`` replicas on one (private) Redis, under concurrent load from both:
shared breaker (including exactly one half-open trial across both), shared rate limit,
shared cache (single flight across replicas) and idempotency (one execution per key).
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from reliability_helpers import pick
from reliability_serve import HERE, child_env, free_port, private_redis, stop, wait_port

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.slow,  # two `toolwire serve` processes and a private redis-server (6 s setup)
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server not installed"),
]

OPEN_FOR = 2.0
RATE = 25
CONFIG = """
[server]
log_level = "error"

[server.limits]
max_in_flight = 8192

[state]
backend = "redis"
url = "redis://127.0.0.1:{port}/0"
prefix = "rel:{prefix}:"

[policies."upstream"]
breaker = {{ window = 10, min_calls = 4, failure_rate = 0.5, open_for = {open_for} }}

[policies."limited"]
rate_limit = {{ rate = {rate}, per = 60.0 }}

[policies."compute"]
cache = {{ ttl = 60.0 }}
"""


@dataclass
class Replicas:
    bases: list[str]
    log: Path

    def runs(self) -> Counter[str]:
        return Counter(self.log.read_text().splitlines())


@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replicas]:
    folder = tmp_path_factory.mktemp("replicas")
    log = folder / "runs.log"
    log.touch()
    with private_redis(folder / "redis") as (redis_port, _procs):
        config = folder / "toolwire.toml"
        config.write_text(
            CONFIG.format(
                port=redis_port, prefix=uuid.uuid4().hex[:8], open_for=OPEN_FOR, rate=RATE
            )
        )
        env = child_env(REL_LOG=str(log))
        procs: list[subprocess.Popen[bytes]] = []
        ports = [free_port(), free_port()]
        try:
            for port in ports:
                cmd = [sys.executable, "-m", "toolwire", "serve", "--config", str(config)]
                cmd += ["--tools", str(HERE / "reliability_replica_tools.py"), "--port", str(port)]
                cmd += ["--grpc-port", "-1"]
                procs.append(subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE))
            for proc, port in zip(procs, ports, strict=True):
                wait_port(port, proc)
            yield Replicas([f"http://127.0.0.1:{p}" for p in ports], log)
        finally:
            for proc in procs:
                stop(proc)


async def _call(
    s: aiohttp.ClientSession, base: str, tool: str, args: dict[str, Any], key: str | None = None
) -> dict[str, Any]:
    headers = {"Idempotency-Key": key} if key else {}
    async with s.post(f"{base}/v1/tools/{tool}/call", json=args, headers=headers) as r:
        body = await r.json()
        body["status"] = r.status
        return body


def _kind(body: dict[str, Any]) -> str:
    return "ok" if body.get("ok") else str(body["error"]["kind"])


async def _both(
    replicas: Replicas, tool: str, args: list[dict[str, Any]], keys: list[str] | None = None
) -> list[dict[str, Any]]:
    """Every call sent at once, alternating between the two replicas."""
    a, b = replicas.bases
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as s:
        return list(
            await asyncio.gather(
                *(
                    _call(s, (a, b)[i % 2], tool, arg, keys[i] if keys else None)
                    for i, arg in enumerate(args)
                )
            )
        )


async def test_breaker_is_shared(replicas: Replicas) -> None:
    # tripped by calls one after another, alternating replicas: twenty sent at once may all be
    # admitted before the first failure is recorded (it failed so under CI load), which is
    # what any breaker does with calls already in flight, not a sharing fault
    async with aiohttp.ClientSession() as s:
        failing = [
            await _call(s, replicas.bases[i % 2], "upstream", {"fail": True}) for i in range(20)
        ]
    kinds = Counter(_kind(r) for r in failing)
    assert set(kinds) <= {"remote_error", "circuit_open"} and kinds["circuit_open"], kinds
    for base in replicas.bases:  # open everywhere, whichever replica tripped it
        async with aiohttp.ClientSession() as s:
            rejected = [await _call(s, base, "upstream", {}) for _ in range(5)]
        assert {_kind(r) for r in rejected} == {"circuit_open"}, rejected
        assert {r["status"] for r in rejected} == {503}
    await asyncio.sleep(OPEN_FOR + 0.2)
    # half-open: exactly one trial across both replicas; it fails, so the breaker reopens
    trials = await _both(replicas, "upstream", [{"fail": True}] * 20)
    trial_kinds = Counter(_kind(r) for r in trials)
    assert trial_kinds == {"remote_error": 1, "circuit_open": 19}, trial_kinds
    await asyncio.sleep(OPEN_FOR + 0.2)
    async with aiohttp.ClientSession() as s:
        probe = await _call(s, replicas.bases[1], "upstream", {})
    assert _kind(probe) == "ok", probe  # the successful trial closes it
    healthy = await _both(replicas, "upstream", [{}] * 20)
    assert Counter(_kind(r) for r in healthy) == {"ok": 20}
    print(f"\nbreaker: tripping {dict(kinds)}; half-open {dict(trial_kinds)}; recovered 20/20")


async def test_rate_limit_is_shared(replicas: Replicas) -> None:
    n = pick(100, 1000)
    results = await _both(replicas, "limited", [{"i": i} for i in range(n)])
    kinds = Counter(_kind(r) for r in results)
    assert set(kinds) <= {"ok", "rate_limited"}, kinds
    assert 0 < kinds["ok"] <= RATE, kinds  # the total over both replicas, in one window
    assert {r["status"] for r in results if not r["ok"]} <= {429}
    for r in results:
        assert not r["ok"] or r["value"] == int(r["value"])
    print(f"\nrate limit {RATE}/60 s: {n} calls over both replicas -> {dict(kinds)}")


async def test_cache_is_shared(replicas: Replicas) -> None:
    a, b = replicas.bases
    keys = list(range(20))
    async with aiohttp.ClientSession() as s:
        first = await asyncio.gather(*(_call(s, a, "compute", {"x": x}) for x in keys))
        second = await asyncio.gather(*(_call(s, b, "compute", {"x": x}) for x in keys))
    assert [r["value"] for r in first] == [r["value"] for r in second] == [x * x for x in keys]
    assert not any(r["cached"] for r in first)
    assert all(r["cached"] for r in second), second  # computed through A, a hit through B
    # a stampede: the same misses through both replicas at once
    fresh = list(range(100, 100 + pick(20, 200)))
    args = [{"x": x} for x in fresh for _ in range(4)]
    t0 = time.monotonic()
    burst = await _both(replicas, "compute", args)
    elapsed = time.monotonic() - t0
    assert [r["value"] for r in burst] == [a["x"] ** 2 for a in args]
    runs = replicas.runs()
    ran = {x: runs[f"compute {x}"] for x in keys + fresh}
    assert {x: c for x, c in ran.items() if c != 1} == {}, "a cached value computed twice"
    hits = sum(r["cached"] for r in burst)
    print(
        f"\ncache: {len(args)} calls of {len(fresh)} misses over both: {hits} hits, each "
        f"computed once ({elapsed:.2f} s)"
    )


async def test_idempotency_across_replicas(replicas: Replicas) -> None:
    notes = [f"n{i}" for i in range(pick(25, 250))]
    args = [{"note": n} for n in notes for _ in range(4)]
    keys = [a["note"] for a in args]
    results = await _both(replicas, "record", args, keys)
    assert [r["status"] for r in results] == [200] * len(args), results
    assert [r["value"] for r in results] == keys
    runs = replicas.runs()
    assert {n: runs[f"record {n}"] for n in notes if runs[f"record {n}"] != 1} == {}
    print(
        f"\nidempotency: {len(args)} calls, {len(notes)} keys, each key sent twice to each "
        "replica at once: every note recorded once"
    )
