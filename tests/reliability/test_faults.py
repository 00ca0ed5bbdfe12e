"""Faults: Redis killed and restarted mid-run; a server process killed mid-batch.

Every call gets exactly one outcome; a non-idempotent call never runs twice, even when a
client retries it after a crash; once the fault is gone, the retried calls complete.
Uses private redis-server processes on ephemeral ports, never the shared one.
"""

from __future__ import annotations

import asyncio
import shutil
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from reliability_serve import private_redis, start_redis, start_serve, stop

import toolwire as tw
from toolwire.runtime import Executor

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server not installed"),
]


def _box(port: int, runs: Counter[str]) -> tw.Toolbox:
    from toolwire.state.redis import RedisBackend

    @tw.tool(idempotent=False)
    async def send(note: str) -> str:
        """Send a note (a side effect).

        Args:
            note: the note
        """
        runs[note] += 1
        return note

    backend = RedisBackend(
        f"redis://127.0.0.1:{port}/0", prefix=f"rel:{uuid.uuid4().hex[:8]}:", retry_interval=0.2
    )
    return tw.Toolbox([send], runtime=Executor(backend=backend))


async def _batch(box: tw.Toolbox, notes: list[str]) -> list[tw.ToolResult]:
    return list(
        await asyncio.gather(*(box.call("send", {"note": n}, idempotency_key=n) for n in notes))
    )


async def test_redis_killed_and_restarted_mid_run(tmp_path: Path) -> None:
    runs: Counter[str] = Counter()
    with private_redis(tmp_path / "redis") as (port, procs):
        box = _box(port, runs)
        before = await _batch(box, [f"a{i}" for i in range(40)])
        assert all(r.ok for r in before)

        stop(procs[0], hard=True)  # Redis dies
        during_notes = [f"b{i}" for i in range(40)]
        during = await _batch(box, during_notes)
        assert len(during) == 40  # one result each, nothing raised
        for r in during:
            assert r.ok or (r.error is not None and r.error.kind == "unavailable"), r
            assert r.ok or r.error is None or r.error.retry_after is not None
        failed = [n for n, r in zip(during_notes, during, strict=True) if not r.ok]

        procs[0] = start_redis(None, port, tmp_path / "redis")  # back, empty
        deadline = time.monotonic() + 20
        pending = failed + [f"c{i}" for i in range(40)]
        while pending and time.monotonic() < deadline:
            results = await _batch(box, pending)
            pending = [n for n, r in zip(pending, results, strict=True) if not r.ok]
            if pending:
                await asyncio.sleep(0.2)
        assert pending == [], f"still failing after Redis came back: {pending[:5]}"
        if hasattr(box.runtime, "aclose"):
            await box.runtime.aclose()
    twice = {n: c for n, c in runs.items() if c > 1}
    assert twice == {}, f"non-idempotent calls ran twice: {twice}"
    assert set(runs) >= {f"a{i}" for i in range(40)} | {f"c{i}" for i in range(40)}


CONFIG = """
[server]
log_level = "error"

[state]
backend = "redis"
url = "redis://127.0.0.1:{port}/0"
prefix = "rel:{prefix}:"

[policies."record"]
timeout = 2.0
"""


async def _post(
    session: aiohttp.ClientSession, base: str, note: str, seconds: float
) -> dict[str, Any]:
    """One call; its single outcome: the server's result, or the transport error."""
    try:
        async with session.post(
            f"{base}/v1/tools/record/call",
            json={"note": note, "seconds": seconds},
            headers={"Idempotency-Key": note},
        ) as r:
            return {"status": r.status, "body": await r.json()}
    except (TimeoutError, aiohttp.ClientError) as exc:
        return {"status": None, "error": repr(exc)}


@pytest.mark.slow
async def test_server_killed_mid_batch_then_retried(tmp_path: Path) -> None:
    notes = [f"n{i}" for i in range(30)]
    with private_redis(tmp_path / "redis") as (port, _procs):
        config = CONFIG.format(port=port, prefix=uuid.uuid4().hex[:8])
        first = start_serve(tmp_path / "serve", config)
        timeout = aiohttp.ClientTimeout(total=30)
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session:
                calls = [
                    asyncio.create_task(_post(session, first.base, n, 0.05 * i))
                    for i, n in enumerate(notes)
                ]
                deadline = time.monotonic() + 15
                # poll: the log is written by the server process, no event to wait on
                while len(first.log.read_text().split()) < 5 and time.monotonic() < deadline:  # noqa: ASYNC110
                    await asyncio.sleep(0.02)
                stop(first.proc, hard=True)  # kill -9 mid-batch
                outcomes = await asyncio.gather(*calls)
        finally:
            stop(first.proc, hard=True)
        assert len(outcomes) == len(notes)  # exactly one outcome per call
        answered = {n for n, o in zip(notes, outcomes, strict=True) if o["status"] == 200}
        lost = [n for n, o in zip(notes, outcomes, strict=True) if o["status"] != 200]
        assert answered and lost, "the kill should land mid-batch"
        for o in outcomes:
            assert o["status"] in (200, None), o  # no 5xx before the kill

        # a new server on the same Redis; the client retries what it never got an answer to
        second = start_serve(tmp_path / "serve", config)
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session:
                # the same request again (same key, same arguments), as a client retries
                retried = await asyncio.gather(
                    *(
                        _post(session, second.base, n, 0.05 * notes.index(n))
                        for n in [*lost, *sorted(answered)]
                    )
                )
        finally:
            stop(second.proc)
        statuses = Counter(o["status"] for o in retried)
        assert statuses == {200: len(notes)}, retried
        assert all(o["body"]["ok"] for o in retried)
        log = Counter(first.log.read_text().split())
        assert {n: c for n, c in log.items() if c > 1} == {}, "a non-idempotent call ran twice"
        assert set(log) == set(notes)  # and every call ran, once


@pytest.mark.slow
async def test_an_idempotent_call_during_an_outage_is_a_retryable_503(tmp_path: Path) -> None:
    # issue 13: refused (not run), as 503 `unavailable` with Retry-After, not a 500
    with private_redis(tmp_path / "redis") as (port, procs):
        config = CONFIG.format(port=port, prefix=uuid.uuid4().hex[:8])
        served = start_serve(tmp_path / "serve", config)
        timeout = aiohttp.ClientTimeout(total=30)
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session:
                up = await _post(session, served.base, "before", 0.0)
                assert up["status"] == 200, up
                stop(procs[0], hard=True)
                async with session.post(
                    f"{served.base}/v1/tools/record/call",
                    json={"note": "during", "seconds": 0.0},
                    headers={"Idempotency-Key": "during"},
                ) as r:
                    body = await r.json()
                    assert r.status == 503, body
                    assert body["error"]["kind"] == "unavailable"
                    assert int(r.headers["Retry-After"]) >= 1
        finally:
            stop(served.proc, hard=True)
        assert "during" not in served.log.read_text().split()  # not run
