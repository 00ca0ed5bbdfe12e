"""State backends: the same behaviour from memory and from a real Redis."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from runtime_fixtures import backend_fixture, redis_prefix_fixture  # noqa: F401

from toolwire.state import BreakerConfig, MemoryBackend, StateBackend
from toolwire.state._breaker import BreakerCore

pytestmark = pytest.mark.anyio

CFG = BreakerConfig(window=4, min_calls=4, failure_rate=0.5, open_for=0.5, half_open_calls=1)


async def _record(be: StateBackend, key: str, outcome: str, cfg: BreakerConfig = CFG) -> str:
    adm = await be.breaker_acquire(key, cfg)
    assert adm.allowed
    tr = await be.breaker_record(key, cfg, adm.generation, outcome, False)  # type: ignore[arg-type]
    return tr.new


async def _open(be: StateBackend, key: str) -> None:
    for outcome in ("success", "success", "failure", "failure"):
        await _record(be, key, outcome)
    assert await be.breaker_state(key) == "open"


async def test_breaker_opens_exactly_at_threshold(backend: StateBackend) -> None:
    assert await _record(backend, "b", "success") == "closed"
    assert await _record(backend, "b", "failure") == "closed"
    assert await _record(backend, "b", "success") == "closed"  # 1/3 failures, below min_calls
    assert await _record(backend, "b", "success") == "closed"  # 4 calls, 25%
    # the window slides to failure, success, success, failure: 50% reaches the threshold
    assert await _record(backend, "b", "failure") == "open"


async def test_breaker_open_rejects_then_admits_exactly_one_trial(backend: StateBackend) -> None:
    await _open(backend, "k")
    adm = await backend.breaker_acquire("k", CFG)
    assert not adm.allowed
    assert adm.state == "open"
    assert adm.retry_after is not None
    assert 0 < adm.retry_after <= CFG.open_for
    await asyncio.sleep(CFG.open_for + 0.05)
    admissions = await asyncio.gather(*(backend.breaker_acquire("k", CFG) for _ in range(50)))
    allowed = [a for a in admissions if a.allowed]
    assert len(allowed) == 1
    assert all(a.state == "half_open" for a in admissions)
    assert all(a.retry_after for a in admissions if not a.allowed)
    # the trial succeeds -> closed
    tr = await backend.breaker_record("k", CFG, allowed[0].generation, "success", False)
    assert (tr.old, tr.new) == ("half_open", "closed")
    assert (await backend.breaker_acquire("k", CFG)).allowed


async def test_breaker_failed_trial_reopens(backend: StateBackend) -> None:
    await _open(backend, "k")
    await asyncio.sleep(CFG.open_for + 0.05)
    trial = await backend.breaker_acquire("k", CFG)
    assert trial.allowed
    tr = await backend.breaker_record("k", CFG, trial.generation, "failure", False)
    assert (tr.old, tr.new) == ("half_open", "open")
    assert not (await backend.breaker_acquire("k", CFG)).allowed


async def test_breaker_ignored_trial_gives_its_permit_back(backend: StateBackend) -> None:
    await _open(backend, "k")
    await asyncio.sleep(CFG.open_for + 0.05)
    trial = await backend.breaker_acquire("k", CFG)
    assert not (await backend.breaker_acquire("k", CFG)).allowed
    await backend.breaker_record("k", CFG, trial.generation, "ignore", False)
    assert (await backend.breaker_acquire("k", CFG)).allowed


async def test_breaker_stale_generation_is_ignored(backend: StateBackend) -> None:
    early = await backend.breaker_acquire("k", CFG)
    await _open(backend, "k")
    tr = await backend.breaker_record("k", CFG, early.generation, "success", False)
    assert tr.new == "open"


async def test_breaker_slow_calls_trip(backend: StateBackend) -> None:
    cfg = BreakerConfig(window=3, min_calls=3, slow_call_rate=0.6, open_for=5)
    for _ in range(3):
        adm = await backend.breaker_acquire("s", cfg)
        tr = await backend.breaker_record("s", cfg, adm.generation, "success", True)
    assert tr.new == "open"


async def test_breaker_time_window(backend: StateBackend) -> None:
    cfg = BreakerConfig(window=60, window_type="time", min_calls=3, failure_rate=0.6)
    states = [await _record(backend, "t", o, cfg) for o in ("failure", "success", "failure")]
    assert states == ["closed", "closed", "open"]


async def test_breaker_forced_states(backend: StateBackend) -> None:
    await backend.breaker_force("f", "forced_open")
    adm = await backend.breaker_acquire("f", CFG)
    assert (adm.allowed, adm.state) == (False, "forced_open")
    await backend.breaker_force("f", "disabled")
    for _ in range(6):
        assert await _record(backend, "f", "failure") == "disabled"
    await backend.breaker_force("f", None)
    assert await backend.breaker_state("f") == "closed"


async def test_rate_limit_gcra(backend: StateBackend) -> None:
    decisions = [await backend.rate_acquire("r", 5, 1.0, 0.0) for _ in range(6)]
    assert [d.allowed for d in decisions] == [True] * 5 + [False]
    assert decisions[-1].retry_after is not None
    assert 0 < decisions[-1].retry_after <= 0.2 + 1e-6
    waited = await backend.rate_acquire("r", 5, 1.0, 0.5)
    assert waited.allowed
    assert 0 < waited.wait <= 0.5
    slow = await backend.rate_acquire("r2", 0.5, 1.0, 0.0)  # fewer than one per period
    assert slow.allowed


async def test_cache_ttl_and_prefix_invalidation(backend: StateBackend) -> None:
    await backend.cache_set("tool:a", b"1", 60, 100)
    await backend.cache_set("tool:b", b"2", 60, 100)
    await backend.cache_set("other:a", b"3", 0.05, 100)
    assert await backend.cache_get("tool:a") == b"1"
    await asyncio.sleep(0.1)
    assert await backend.cache_get("other:a") is None
    assert await backend.cache_delete("tool:*") == 2
    assert await backend.cache_get("tool:b") is None


async def test_memory_cache_is_lru_bounded() -> None:
    be = MemoryBackend()
    for i in range(5):
        await be.cache_set(f"k{i}", b"x", 60, 3)
    await be.cache_get("k2")
    await be.cache_set("k5", b"x", 60, 3)
    assert [await be.cache_get(f"k{i}") is not None for i in range(6)] == [
        False, False, True, False, True, True,
    ]  # fmt: skip


async def test_locks_and_idempotency_records(backend: StateBackend) -> None:
    assert await backend.lock_acquire("l", "me", 5)
    assert not await backend.lock_acquire("l", "you", 5)
    await backend.lock_release("l", "you")  # not the owner: no effect
    assert not await backend.lock_acquire("l", "you", 5)
    await backend.lock_release("l", "me")
    assert await backend.lock_acquire("l", "you", 5)

    assert (await backend.idem_begin("i", "me", 5)).status == "new"
    assert (await backend.idem_begin("i", "you", 5)).status == "pending"
    await backend.idem_abandon("i", "you")  # not ours
    assert (await backend.idem_begin("i", "you", 5)).status == "pending"
    await backend.idem_finish("i", "me", b'{"v":1}', 5)
    rec = await backend.idem_begin("i", "you", 5)
    assert (rec.status, rec.data) == ("done", b'{"v":1}')
    assert (await backend.idem_begin("j", "me", 5)).status == "new"
    await backend.idem_abandon("j", "me")
    assert (await backend.idem_begin("j", "you", 5)).status == "new"


# -- the window math against a naive model ----------------------------------------------

outcomes = st.lists(st.tuples(st.booleans(), st.booleans()), max_size=60)
configs = st.builds(
    BreakerConfig,
    window=st.integers(1, 12),
    min_calls=st.integers(1, 12),
    failure_rate=st.sampled_from([0.25, 0.5, 0.75, 1.0]),
    slow_call_rate=st.sampled_from([0.5, 1.0]),
    open_for=st.just(1000.0),
)


def _naive_open_index(cfg: BreakerConfig, seq: list[tuple[bool, bool]]) -> int | None:
    for i in range(len(seq)):
        win = seq[max(0, i + 1 - cfg.window) : i + 1]
        if len(win) < min(cfg.min_calls, cfg.window):
            continue
        f = sum(x[0] for x in win) / len(win)
        s = sum(x[1] for x in win) / len(win)
        if f >= cfg.failure_rate or s >= cfg.slow_call_rate:
            return i
    return None


@given(cfg=configs, seq=outcomes)
def test_count_window_matches_naive_model(cfg: BreakerConfig, seq: list[tuple[bool, bool]]) -> None:
    core = BreakerCore(cfg)
    opened = None
    for i, (failed, slow) in enumerate(seq):
        adm = core.acquire(0.0)
        assert adm.allowed
        tr = core.record(0.0, adm.generation, "failure" if failed else "success", slow)
        if tr.new == "open":
            opened = i
            break
    assert opened == _naive_open_index(cfg, seq)


@settings(max_examples=25, deadline=None)
@given(cfg=configs, seq=outcomes)
def test_redis_script_matches_memory(
    redis_url: str, cfg: BreakerConfig, seq: list[tuple[bool, bool]]
) -> None:
    import uuid

    from toolwire.state.redis import RedisBackend

    async def scenario() -> tuple[list[str], list[str]]:
        prefix = f"twtest:{uuid.uuid4().hex[:12]}:"
        red = RedisBackend(redis_url, prefix=prefix)
        mem = MemoryBackend()
        got: tuple[list[str], list[str]] = ([], [])
        try:
            for be, out in ((mem, got[0]), (red, got[1])):
                for failed, slow in seq:
                    adm = await be.breaker_acquire("x", cfg)
                    if not adm.allowed:
                        out.append("rejected")
                        continue
                    outcome = "failure" if failed else "success"
                    tr = await be.breaker_record("x", cfg, adm.generation, outcome, slow)
                    out.append(tr.new)
        finally:
            async for key in red.client.scan_iter(match=prefix + "*"):
                await red.client.delete(key)
            await red.aclose()
        return got

    mem_states, red_states = asyncio.run(scenario())
    assert mem_states == red_states


async def test_cache_get_or_lock_and_set_unlock(backend: StateBackend) -> None:
    assert await backend.cache_get_or_lock("g", "me", 5) == (None, True)
    assert await backend.cache_get_or_lock("g", "you", 5) == (None, False)
    await backend.cache_set_unlock("g", b"v", 5, 10, "me")
    assert await backend.cache_get_or_lock("g", "you", 5) == (b"v", False)
    assert await backend.lock_acquire("c:g", "you", 5)  # the fill lock was released
