"""Redis state: several processes or replicas share breakers, rate limits, cache, idempotency.

Every read-then-write is one Lua script (one round trip, atomic on the server), and time comes
from the server's ``TIME`` so processes with different clocks agree. redis-py is imported
when the backend is created, never at module import of the core.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from toolwire._errors import MissingExtra
from toolwire.state._base import (
    WAITER_TTL,
    Admission,
    BackendUnavailable,
    BreakerConfig,
    BreakerState,
    CallPlan,
    Clearance,
    IdemRecord,
    Outcome,
    RateDecision,
    Settlement,
    SlotStatus,
    StateBackend,
    Transition,
)
from toolwire.state._redis_keys import CACHE_LOCK, check_prefix, glob_escape, tag, tagged, untagged
from toolwire.state._redis_lua import (
    ACQUIRE,
    ADMIT,
    FORCE,
    GET_OR_LOCK,
    IDEM_BEGIN,
    IDEM_FINISH,
    RATE,
    RECORD,
    RELEASE,
    SET_UNLOCK,
    SETTLE,
    SLOT_ACQUIRE,
    SLOT_RELEASE,
    SLOT_RENEW,
)

log = logging.getLogger("toolwire.state")


class RedisBackend(StateBackend):
    """Shared state in Redis. Give a URL or an existing ``redis.asyncio.Redis`` client.

    Redis Cluster: a ``redis+cluster://host:port`` (or ``rediss+cluster://``) URL, or
    ``cluster=True`` with a ``redis://`` URL of any node, builds a
    ``redis.asyncio.cluster.RedisCluster``; a ``RedisCluster`` may be passed as ``client``
    too. Every key of one tool carries the tool name as a hash tag (``toolwire:c:{tool}:...``,
    see ``_redis_keys``), so each call's scripts touch one slot. A ``Breaker.key`` shared
    between tools lives in its own slot: on a cluster its admission and record then take a
    second round trip of their own.

    While Redis is unreachable every operation raises :class:`BackendUnavailable` at once
    (without a network attempt for ``retry_interval`` seconds); one warning is logged per
    outage and one info line when it is back.

    Built from a URL, the client uses a blocking pool of ``max_connections`` connections
    (default 50, per backend and event loop): under a burst larger than the pool, operations
    wait up to ``pool_timeout`` seconds for a free connection. A full pool is load, not an
    outage: it never turns the shared policies off for ``retry_interval``. Only an operation
    that waited the whole ``pool_timeout`` raises :class:`BackendUnavailable` (its policy then
    fails open or closed for that one call). A ``client`` you pass keeps its own pool; if that
    pool raises ``MaxConnectionsError`` when full (redis-py's default), the operation is
    retried until ``pool_timeout`` as well.

    A tool's ``Policy.concurrency`` holds across every process on the store: a running call
    holds one of the tool's slots under a lease of ``concurrency_lease`` seconds, renewed
    (one round trip per tool, a third of the lease apart) while the call runs, so the slots
    of a process that dies come back by themselves within that time.

    Example::

        backend = RedisBackend("redis://127.0.0.1:6379/0", prefix="myapp:")
        executor = Executor(backend=backend)
    """

    shared = True

    def __init__(
        self,
        url: str | None = None,
        *,
        client: Any = None,
        prefix: str = "toolwire:",
        connect_timeout: float = 0.5,
        timeout: float = 2.0,
        retry_interval: float = 0.5,
        max_connections: int = 50,
        pool_timeout: float = 5.0,
        cluster: bool = False,
        concurrency_lease: float = 15.0,
    ) -> None:
        if max_connections < 1:
            raise ValueError(f"max_connections must be at least 1, got {max_connections}")
        if not concurrency_lease > 0:
            raise ValueError(f"concurrency_lease must be positive, got {concurrency_lease}")
        check_prefix(prefix)
        try:
            import redis.asyncio as aioredis
            from redis.asyncio.cluster import RedisCluster
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff
            from redis.exceptions import (
                ClusterDownError,
                MaxConnectionsError,
                RedisClusterException,
                RedisError,
            )
            from redis.exceptions import ConnectionError as RedisConnectionError
            from redis.exceptions import TimeoutError as RedisTimeoutError
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise MissingExtra("redis", "redis") from exc
        if client is None:
            if url is None:
                raise ValueError("RedisBackend needs a url or a client")
            scheme, sep, rest = url.partition("://")
            if sep and scheme.endswith("+cluster"):
                cluster = True
                url = scheme.removesuffix("+cluster") + sep + rest
        if client is None and cluster:
            assert url is not None
            # max_connections bounds each node's pool; a full one raises
            # MaxConnectionsError, which _call waits out up to pool_timeout. No retries:
            # an outage must surface at once (redirections are followed all the same)
            client = RedisCluster.from_url(
                url,
                max_connections=max_connections,
                socket_connect_timeout=connect_timeout,
                socket_timeout=timeout,
                retry=Retry(NoBackoff(), 0),
            )
        elif client is None:
            assert url is not None
            # no hidden retries: an outage must surface at once so policies can fail open/closed;
            # a blocking pool makes a burst wait for a connection instead of failing
            pool = aioredis.BlockingConnectionPool.from_url(
                url,
                max_connections=max_connections,
                timeout=pool_timeout,
                socket_connect_timeout=connect_timeout,
                socket_timeout=timeout,
                retry=Retry(NoBackoff(), 0),
            )
            client = aioredis.Redis.from_pool(pool)
        self.client = client
        self.prefix = prefix
        # on a cluster a script's keys must share a slot; one node runs any combination
        self.cluster = isinstance(client, RedisCluster)
        self._retry_interval = retry_interval
        self._pool_timeout = pool_timeout
        self._pool_full: type[BaseException] = MaxConnectionsError
        self._pool_full_logged = False
        self._outage: tuple[type[BaseException], ...] = (
            RedisConnectionError,
            RedisTimeoutError,
            OSError,
            ClusterDownError,  # a cluster that lost a shard answers CLUSTERDOWN
        )
        # the cluster client's own errors (no reachable node, slots not covered) are not
        # RedisError; those caused by an outage are told apart in _call
        self._errors: tuple[type[BaseException], ...] = (RedisError, RedisClusterException)
        self._down_since: float | None = None
        self._next_try = 0.0
        self._acquire = client.register_script(ACQUIRE)
        self._record = client.register_script(RECORD)
        self._force = client.register_script(FORCE)
        self._rate = client.register_script(RATE)
        self._release = client.register_script(RELEASE)
        self._idem = client.register_script(IDEM_BEGIN)
        self._idem_finish = client.register_script(IDEM_FINISH)
        self._get_or_lock = client.register_script(GET_OR_LOCK)
        self._set_unlock = client.register_script(SET_UNLOCK)
        self._admit = client.register_script(ADMIT)
        self._settle = client.register_script(SETTLE)
        self._slot_acquire = client.register_script(SLOT_ACQUIRE)
        self._slot_release = client.register_script(SLOT_RELEASE)
        self._slot_renew = client.register_script(SLOT_RENEW)
        # Loaded together before the first script runs (one pipelined round trip) and again
        # after an outage: otherwise each script's first call on a server that has not seen it
        # (a fresh or restarted Redis) costs two more trips (NOSCRIPT, SCRIPT LOAD).
        self._scripts = (
            self._acquire, self._record, self._force, self._rate, self._release, self._idem,
            self._idem_finish, self._get_or_lock, self._set_unlock, self._admit, self._settle,
            self._slot_acquire, self._slot_release, self._slot_renew,
        )  # fmt: skip
        self._scripts_loaded = False
        self.concurrency_lease = concurrency_lease
        # the slots this backend's calls hold (slot key -> holders), renewed by one task
        self._held: dict[str, set[str]] = {}
        self._renewer: asyncio.Task[None] | None = None

    # -- outage handling ----------------------------------------------------------------
    @property
    def available(self) -> bool:
        return self._down_since is None

    async def _call(self, func: Any, *args: Any, **kwargs: Any) -> Any:
        if self._down_since is not None and time.monotonic() < self._next_try:
            raise BackendUnavailable("Redis is unreachable")
        give_up: float | None = None
        pause = 0.001
        while True:
            try:
                out = await func(*args, **kwargs)
                break
            except self._pool_full as exc:
                # a non-blocking pool is full: nothing was sent, so waiting and trying again
                # is safe; bounded like the blocking pool's wait
                now = time.monotonic()
                if give_up is None:
                    give_up = now + self._pool_timeout
                if now >= give_up:
                    raise self._pool_exhausted(exc) from exc
                await asyncio.sleep(min(pause, give_up - now))
                pause = min(pause * 2, 0.05)
            except self._outage as exc:
                if _pool_wait_timed_out(exc):
                    raise self._pool_exhausted(exc) from exc
                self._mark_down(exc)
                raise BackendUnavailable(f"Redis is unreachable: {exc}") from exc
            except self._errors as exc:
                if isinstance(exc.__cause__, self._outage):
                    # a cluster client that reached no node at all
                    self._mark_down(exc)
                    raise BackendUnavailable(f"Redis is unreachable: {exc}") from exc
                # reachable but refusing (misconfiguration, OOM, a script error): not an outage
                log.error("Redis state backend error: %s: %s", type(exc).__name__, exc)
                raise BackendUnavailable(f"Redis answered with an error: {exc}") from exc
        if self._down_since is not None:
            log.info(
                "Redis state backend is reachable again after %.1f s; shared policies resumed",
                time.monotonic() - self._down_since,
            )
            self._down_since = None
        return out

    def _pool_exhausted(self, exc: BaseException) -> BackendUnavailable:
        # load, not an outage: only this operation gives up; the next one tries again at once
        message = (
            f"Redis connection pool stayed full for {self._pool_timeout:g} s "
            f"({type(exc).__name__}: {exc}); raise max_connections or pool_timeout"
        )
        if not self._pool_full_logged:
            self._pool_full_logged = True
            log.warning("Redis state backend: %s", message)
        return BackendUnavailable(message)

    def _mark_down(self, exc: BaseException) -> None:
        now = time.monotonic()
        self._scripts_loaded = False  # the server may come back without them
        self._next_try = now + self._retry_interval
        if self._down_since is None:
            self._down_since = now
            log.warning(
                "Redis state backend unreachable (%s: %s); policies fail open or closed as "
                "configured until it is back",
                type(exc).__name__,
                exc,
            )

    async def _script(self, script: Any, keys: Sequence[str], args: Sequence[Any]) -> Any:
        if not self._scripts_loaded:
            await self._load_scripts()
        return await self._call(script, keys=list(keys), args=list(args))

    async def _load_scripts(self) -> None:
        if self.cluster:
            # each node learns a script on its first call there (redis-py reloads it then)
            self._scripts_loaded = True
            return
        pipe = self.client.pipeline(transaction=False)
        for script in self._scripts:
            pipe.script_load(script.script)
        await self._call(pipe.execute)
        self._scripts_loaded = True

    def _k(self, kind: str, key: str) -> str:
        return f"{self.prefix}{kind}:{tagged(key)}"

    def _lock_key(self, key: str) -> str:
        # a cache fill lock ("c:" + cache key) shares its cache entry's tag
        if key.startswith(CACHE_LOCK):
            return f"{self.prefix}lk:{CACHE_LOCK}{tagged(key[len(CACHE_LOCK) :])}"
        return self._k("lk", key)

    def _split(self, *keys: str | None) -> bool:
        """True on a cluster when the given keys (None: unused) do not share one tag."""
        return self.cluster and len({tag(k) for k in keys if k is not None}) > 1

    # -- breaker ------------------------------------------------------------------------
    async def breaker_acquire(self, key: str, config: BreakerConfig) -> Admission:
        allowed, state, gen, retry = await self._script(
            self._acquire, [self._k("br", key)], [config.open_for, config.half_open_calls]
        )
        retry_after = float(retry)
        return Admission(
            allowed=bool(allowed),
            state=_text(state),  # type: ignore[arg-type]
            generation=int(gen),
            retry_after=None if retry_after < 0 else retry_after,
        )

    async def breaker_record(
        self, key: str, config: BreakerConfig, generation: int, outcome: Outcome, slow: bool
    ) -> Transition:
        old, new = await self._script(
            self._record,
            [self._k("br", key), self._k("brw", key)],
            [
                generation,
                outcome,
                int(slow),
                config.window,
                config.window_type,
                config.min_calls,
                repr(config.failure_rate),
                repr(config.slow_call_rate),
                config.half_open_calls,
            ],
        )
        return Transition(old=_text(old), new=_text(new))  # type: ignore[arg-type]

    async def breaker_state(self, key: str) -> BreakerState:
        state = await self._call(self.client.hget, self._k("br", key), "st")
        return _text(state) if state else "closed"  # type: ignore[return-value]

    async def breaker_force(self, key: str, state: BreakerState | None) -> None:
        await self._script(
            self._force, [self._k("br", key), self._k("brw", key)], [state or "closed"]
        )

    # -- rate limit ---------------------------------------------------------------------
    async def rate_acquire(
        self, key: str, rate: float, per: float, max_wait: float
    ) -> RateDecision:
        interval = per / rate
        allowed, wait = await self._script(
            self._rate, [self._k("rl", key)], [repr(interval), repr(max(per, interval)), max_wait]
        )
        if allowed:
            return RateDecision(allowed=True, wait=float(wait))
        return RateDecision(allowed=False, retry_after=float(wait))

    # -- cache --------------------------------------------------------------------------
    async def cache_get(self, key: str) -> bytes | None:
        value = await self._call(self.client.get, self._k("c", key))
        return bytes(value) if value is not None else None

    async def cache_set(self, key: str, value: bytes, ttl: float, max_entries: int) -> None:
        # Redis bounds memory with its own eviction policy; max_entries applies in memory only
        await self._call(self.client.set, self._k("c", key), value, px=max(1, int(ttl * 1000)))

    async def cache_delete(self, key: str) -> int:
        if not key.endswith("*"):
            return int(await self._call(self.client.delete, self._k("c", key)))
        start = key[:-1]
        if ":" in start:
            # the group is whole: one exact pattern (on a cluster, keys of one slot)
            return int(await self._call(self._sweep, glob_escape(self._k("c", start)) + "*", ""))
        # the group itself is cut short: look at every cache key and read it back
        return int(await self._call(self._sweep, glob_escape(self.prefix + "c:") + "*", start))

    async def _sweep(self, match: str, start: str) -> int:
        """Delete the keys matching ``match`` (whose key starts with ``start``)."""
        deleted = 0
        skip = len(self.prefix) + 2
        batch: list[Any] = []
        # scan_iter walks every primary of a cluster; DEL of a batch is split by slot
        async for name in self.client.scan_iter(match=match, count=500):
            if start and not _starts(name, skip, start):
                continue
            batch.append(name)
            if len(batch) >= 500:
                deleted += int(await self.client.delete(*batch))
                batch.clear()
        if batch:
            deleted += int(await self.client.delete(*batch))
        return deleted

    async def cache_get_or_lock(
        self, key: str, owner: str, ttl: float
    ) -> tuple[bytes | None, bool]:
        found, value = await self._script(
            self._get_or_lock,
            [self._k("c", key), self._lock_key(CACHE_LOCK + key)],
            [owner, max(1, int(ttl * 1000))],
        )
        if found:
            return bytes(value), False
        return None, bool(value)

    async def cache_set_unlock(
        self, key: str, value: bytes, ttl: float, max_entries: int, owner: str
    ) -> None:
        await self._script(
            self._set_unlock,
            [self._k("c", key), self._lock_key(CACHE_LOCK + key)],
            [value, max(1, int(ttl * 1000)), owner],
        )

    # -- locks --------------------------------------------------------------------------
    async def lock_acquire(self, key: str, owner: str, ttl: float) -> bool:
        got = await self._call(
            self.client.set, self._lock_key(key), owner, nx=True, px=max(1, int(ttl * 1000))
        )
        return bool(got)

    async def lock_release(self, key: str, owner: str) -> None:
        await self._script(self._release, [self._lock_key(key)], [owner])

    # -- idempotency --------------------------------------------------------------------
    async def idem_begin(self, key: str, owner: str, ttl: float) -> IdemRecord:
        out = await self._script(self._idem, [self._k("id", key)], [owner, max(1, int(ttl * 1000))])
        status = _text(out[0])
        if status == "done":
            return IdemRecord(status="done", data=bytes(out[1]))
        return IdemRecord(status=status)  # type: ignore[arg-type]

    async def idem_finish(self, key: str, owner: str, data: bytes, ttl: float) -> None:
        await self._script(
            self._idem_finish,
            [self._k("id", key)],
            ["p:" + owner, b"d:" + data, max(1, int(ttl * 1000))],
        )

    async def idem_abandon(self, key: str, owner: str) -> None:
        await self._script(self._release, [self._k("id", key)], ["p:" + owner])

    # -- one call's decisions and writes: one script each ---------------------------------
    async def admit(self, plan: CallPlan) -> Clearance:
        if self._split(
            plan.cache_key, plan.idem_key, plan.rate_key, plan.breaker_key, plan.slot_key
        ):
            return await self._admit_apart(plan)
        use = ""
        keys: list[str] = []
        args: list[Any] = [plan.owner, max(1, int(plan.lease * 1000)), ""]
        if plan.cache_key is not None:
            use += "c"
            keys += [self._k("c", plan.cache_key), self._lock_key(CACHE_LOCK + plan.cache_key)]
        if plan.idem_key is not None:
            use += "i"
            keys.append(self._k("id", plan.idem_key))
        if plan.rate_key is not None:
            use += "r"
            interval = plan.per / plan.rate
            keys.append(self._k("rl", plan.rate_key))
            args += [repr(interval), repr(max(plan.per, interval)), repr(plan.max_wait)]
        cfg = plan.breaker
        if plan.breaker_key is not None and cfg is not None:
            use += "b"
            keys.append(self._k("br", plan.breaker_key))
            args += [repr(cfg.open_for), cfg.half_open_calls]
        if plan.slot_key is not None:
            use += "s"
            keys += self._slot_keys(plan.slot_key)
            args += self._slot_args(plan)
        if len(use) <= 1:
            # one policy: its own smaller script is the same single round trip
            return await super().admit(plan)
        args[2] = use
        out = await self._script(self._admit, keys, args)
        stop = _text(out[0])
        if stop in ("cache_hit", "idem_done"):
            return Clearance(stop=stop, data=bytes(out[1]))  # type: ignore[arg-type]
        if stop in ("cache_busy", "idem_pending"):
            return Clearance(stop=stop)  # type: ignore[arg-type]
        if stop == "rate_limited":
            return Clearance(stop="rate_limited", retry_after=float(out[4]))
        adm = None
        if "b" in use and len(out) > 5:
            retry_after = float(out[8])
            adm = Admission(
                allowed=bool(out[5]),
                state=_text(out[6]),  # type: ignore[arg-type]
                generation=int(out[7]),
                retry_after=None if retry_after < 0 else retry_after,
            )
        if stop == "circuit_open":
            return Clearance(stop="circuit_open", breaker=adm)
        slot: SlotStatus | None = None
        if len(out) > 9 and out[9]:
            slot = _text(out[9])  # type: ignore[assignment]
            if slot == "held":
                assert plan.slot_key is not None
                self._hold(plan.slot_key, plan.slot_holder)
        return Clearance(
            cache_locked=bool(out[2]),
            idem_claimed=bool(out[3]),
            wait=float(out[4]),
            breaker=adm,
            slot=slot,
        )

    async def _admit_apart(self, plan: CallPlan) -> Clearance:
        """``admit`` on a cluster when the plan's keys live in several slots: a shared
        ``Breaker.key`` is asked in a second step (and the concurrency slot, which comes after
        the breaker in the chain, in a third), anything else policy by policy."""
        bkey, cfg = plan.breaker_key, plan.breaker
        if (
            bkey is None
            or cfg is None
            or self._split(plan.cache_key, plan.idem_key, plan.rate_key, plan.slot_key)
        ):
            return await super().admit(plan)
        clr = await self.admit(replace(plan, breaker_key=None, breaker=None, slot_key=None))
        if clr.stop is not None or clr.wait > 0:
            return clr  # as in one step: a positive wait asks the breaker after sleeping
        try:
            adm = await self.breaker_acquire(bkey, cfg)
            if adm.allowed and plan.slot_key is not None:
                slot = await self.slot_acquire(
                    plan.slot_key, plan.slot_holder, plan.slot_limit, plan.slot_queue
                )
                return replace(clr, breaker=adm, slot=slot)
        except BaseException:
            await self._undo(plan, clr.cache_locked, clr.idem_claimed)
            raise
        if not adm.allowed:
            await self._undo(plan, clr.cache_locked, clr.idem_claimed)
            return Clearance(stop="circuit_open", breaker=adm)
        return replace(clr, breaker=adm)

    async def _settle_apart(self, plan: CallPlan, outcome: Settlement) -> Transition | None:
        """``settle`` on a cluster with a breaker in a slot of its own: the breaker record
        and the rest in two steps, both attempted (as ``StateBackend.settle`` does)."""
        assert plan.breaker_key is not None and plan.breaker is not None
        assert outcome.breaker_generation is not None
        failed: BackendUnavailable | None = None
        transition = None
        try:
            transition = await self.breaker_record(
                plan.breaker_key,
                plan.breaker,
                outcome.breaker_generation,
                outcome.outcome,
                outcome.slow,
            )
        except BackendUnavailable as exc:
            failed = exc
        try:
            await self.settle(
                replace(plan, breaker_key=None, breaker=None),
                replace(outcome, breaker_generation=None),
            )
        except BackendUnavailable as exc:
            failed = failed or exc
        if failed is not None:
            raise failed
        return transition

    async def settle(self, plan: CallPlan, outcome: Settlement) -> Transition | None:
        cmode = imode = ""
        ckey = plan.cache_key
        if ckey is not None:
            if outcome.cache_value is not None:
                cmode += "s"
            if outcome.cache_locked:
                cmode += "u"
        if outcome.idem_claimed and plan.idem_key is not None:
            imode = "f" if outcome.idem_data is not None else "a"
        cfg = plan.breaker
        bkey = plan.breaker_key
        record = outcome.breaker_generation is not None and bkey is not None and cfg is not None
        skey = plan.slot_key if outcome.slot_release else None
        if skey is not None:
            self._drop(skey, plan.slot_holder)  # not renewed even if this write fails
        if bool(cmode) + bool(imode) + record + (skey is not None) <= 1:
            # one write (or none): its own smaller script is the same single round trip
            return await super().settle(plan, outcome)
        used_c = ckey if cmode else None
        used_i = plan.idem_key if imode else None
        if self._split(used_c, used_i, skey, bkey if record else None):
            if record and not self._split(used_c, used_i, skey):
                return await self._settle_apart(plan, outcome)
            return await super().settle(plan, outcome)
        keys: list[str] = []
        args: list[Any] = [plan.owner, cmode, imode, "1" if record else "", "1" if skey else ""]
        if cmode:
            assert ckey is not None
            keys += [self._k("c", ckey), self._lock_key(CACHE_LOCK + ckey)]
            if outcome.cache_value is not None:
                args += [outcome.cache_value, max(1, int(plan.cache_ttl * 1000))]
        if imode:
            assert plan.idem_key is not None
            keys.append(self._k("id", plan.idem_key))
            if outcome.idem_data is not None:
                args += [outcome.idem_data, max(1, int(plan.idem_ttl * 1000))]
        if skey is not None:
            keys += self._slot_keys(skey)
            args.append(plan.slot_holder)
        if record:
            assert cfg is not None and bkey is not None
            keys += [self._k("br", bkey), self._k("brw", bkey)]
            args += [
                outcome.breaker_generation,
                outcome.outcome,
                int(outcome.slow),
                cfg.window,
                cfg.window_type,
                cfg.min_calls,
                repr(cfg.failure_rate),
                repr(cfg.slow_call_rate),
                cfg.half_open_calls,
            ]
        out = await self._script(self._settle, keys, args)
        if not record or not out:
            return None
        return Transition(old=_text(out[0]), new=_text(out[1]))  # type: ignore[arg-type]

    # -- concurrency slots ------------------------------------------------------------------
    def _slot_keys(self, key: str) -> list[str]:
        return [self._k("sem", key), self._k("semq", key), self._k("semx", key)]

    def _slot_args(self, plan: CallPlan) -> list[Any]:
        return [
            plan.slot_holder,
            plan.slot_limit,
            -1 if plan.slot_queue is None else plan.slot_queue,
            max(1, int(self.concurrency_lease * 1000)),
            int(WAITER_TTL * 1000),
        ]

    async def slot_acquire(
        self, key: str, holder: str, limit: int, max_queue: int | None
    ) -> SlotStatus:
        plan = CallPlan(
            owner="", lease=0.0, slot_key=key, slot_holder=holder, slot_limit=limit,
            slot_queue=max_queue,
        )  # fmt: skip
        out = await self._script(self._slot_acquire, self._slot_keys(key), self._slot_args(plan))
        status: SlotStatus = _text(out)  # type: ignore[assignment]
        if status == "held":
            self._hold(key, holder)
        return status

    async def slot_release(self, key: str, holder: str) -> None:
        self._drop(key, holder)
        await self._script(self._slot_release, self._slot_keys(key), [holder])

    def _hold(self, key: str, holder: str) -> None:
        """Keep ``holder``'s lease alive until it is given back (see ``_renew_slots``)."""
        self._held.setdefault(key, set()).add(holder)
        task = self._renewer
        loop = asyncio.get_running_loop()
        if task is None or task.done() or task.get_loop() is not loop:
            self._renewer = loop.create_task(self._renew_slots())

    def _drop(self, key: str, holder: str) -> None:
        holders = self._held.get(key)
        if holders is not None:
            holders.discard(holder)
            if not holders:
                del self._held[key]

    async def _renew_slots(self) -> None:
        """Extend the leases of the slots held here, a third of the lease apart, one round
        trip per tool; ends when nothing is held. A process that dies stops renewing, so its
        slots come back within ``concurrency_lease``."""
        lease_ms = max(1, int(self.concurrency_lease * 1000))
        while self._held:
            await asyncio.sleep(self.concurrency_lease / 3)
            for key, holders in list(self._held.items()):
                try:
                    lost = await self._script(
                        self._slot_renew, [self._k("sem", key)], [lease_ms, *holders]
                    )
                except BackendUnavailable:
                    continue  # tried again next time; a lease may run out meanwhile
                for name in lost:
                    holder = _text(name)
                    if holder in self._held.get(key, ()):
                        # its lease ran out first (the loop or Redis stalled): the call runs
                        # on, but its slot may have gone to another caller
                        log.warning("concurrency slot of %s expired before renewal", key)
                        self._drop(key, holder)

    async def aclose(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
            self._renewer = None
        await self.client.aclose()


def _pool_wait_timed_out(exc: BaseException) -> bool:
    """True for a blocking pool's "no connection available" (a ConnectionError raised from the
    wait's TimeoutError); connection failures raise TimeoutError or a ConnectionError of their
    own, never chained to a TimeoutError."""
    from redis.exceptions import ConnectionError as RedisConnectionError

    return type(exc) is RedisConnectionError and isinstance(exc.__cause__, TimeoutError)


def _starts(name: Any, skip: int, start: str) -> bool:
    """True when the stored key ``name`` (``prefix`` + ``c:`` first) names a key that
    starts with ``start``."""
    try:
        return untagged(_text(name)[skip:]).startswith(start)
    except (ValueError, UnicodeDecodeError):  # not one of ours
        return False


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
