"""Redis state: several processes or replicas share breakers, rate limits, cache, idempotency.

Every read-then-write is one Lua script (one round trip, atomic on the server; the scripts
and the decoders of their replies are in ``state._lua``), and time comes from the server's
``TIME`` so processes with different clocks agree. The client is built, and redis-py's errors
translated, in ``state._redis_client``; redis-py is imported when the backend is created,
never at module import of the core.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from toolwire.state._base import (
    SLOT_RECHECK,
    Admission,
    BackendUnavailable,
    BreakerConfig,
    BreakerState,
    CallPlan,
    Clearance,
    EventWatch,
    IdemRecord,
    Outcome,
    RateDecision,
    Settlement,
    SlotStatus,
    StateBackend,
    Transition,
    budget_cap,
)
from toolwire.state._lua import SCRIPTS
from toolwire.state._lua.breaker import decode_acquire, decode_record
from toolwire.state._lua.budget import decode_budget
from toolwire.state._lua.call import (
    admit_request,
    decode_admit,
    decode_settle,
    ms,
    record_args,
    settle_request,
    slot_args,
)
from toolwire.state._lua.common import breaker_state, text
from toolwire.state._lua.rate import decode_rate, rate_args
from toolwire.state._lua.slots import decode_slot_acquire, decode_slot_renew
from toolwire.state._lua.store import decode_get_or_lock, decode_idem_begin
from toolwire.state._redis_client import (
    RedisCalls,
    Scripts,
    build_client,
    fails_over,
    is_cluster,
)
from toolwire.state._redis_keys import CACHE_LOCK, KeyNames, glob_escape, tag, untagged

__all__ = ["RedisBackend"]

log = logging.getLogger("toolwire.state")

Write = tuple[CallPlan, Settlement]


class RedisBackend(StateBackend):
    """Shared state in Redis. Give a URL or an existing ``redis.asyncio.Redis`` client.

    Redis Cluster: a ``redis+cluster://host:port`` (or ``rediss+cluster://``) URL, or
    ``cluster=True`` with a ``redis://`` URL of any node, builds a
    ``redis.asyncio.cluster.RedisCluster``; a ``RedisCluster`` may be passed as ``client``
    too. Every key of one tool carries the tool name as a hash tag (``toolwire:c:{tool}:...``,
    see ``_redis_keys``), so each call's scripts touch one slot. A ``Breaker.key`` shared
    between tools lives in its own slot: on a cluster its admission and record then take a
    second round trip of their own.

    Redis Sentinel: a ``redis+sentinel://[password@]host:port[,host2:port2]/service[/db]`` URL
    follows the primary the sentinels name (the password is the data nodes').

    While Redis is unreachable every operation raises :class:`BackendUnavailable` at once
    (without a network attempt for ``retry_interval`` seconds); one warning is logged per
    outage and one info line when it is back. On a cluster or behind Sentinel a node that
    stops answering may be a primary being replaced: an operation then tries again for up to
    ``failover_wait`` seconds (a call waits for the failover instead of failing) before the
    store counts as unreachable.

    Built from a URL, the client uses a blocking pool of ``max_connections`` connections
    (default 50, per backend and event loop): under a burst larger than the pool, operations
    queue for a free connection, and keep waiting as long as connections keep coming free. A
    full pool is load, not an outage: it never turns the shared policies off for
    ``retry_interval``. Only an operation that saw no connection come free for a whole
    ``pool_timeout`` raises :class:`BackendUnavailable` (its policy then fails open or closed
    for that one call); the caller's deadline still bounds the wait. A ``client`` you pass
    keeps its own pool; if that pool raises ``MaxConnectionsError`` when full (redis-py's
    default), the operation waits the same way.

    A tool's ``Policy.concurrency`` holds across every process on the store: a running call
    holds one of the tool's slots under a lease of ``concurrency_lease`` seconds, renewed
    (one round trip per tool, a third of the lease apart) while the call runs, so the slots
    of a process that dies come back by themselves within that time. A caller queued for a
    slot is woken when one is given back (a per-process wake list in Redis, popped by one
    BLPOP per tool: one more pooled connection while callers wait) and asks again at least
    every ``state.SLOT_RECHECK`` seconds in case a wake-up was lost.

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
        failover_wait: float = 5.0,
    ) -> None:
        if max_connections < 1:
            raise ValueError(f"max_connections must be at least 1, got {max_connections}")
        if failover_wait < 0:
            raise ValueError(f"failover_wait must not be negative, got {failover_wait}")
        if not concurrency_lease > 0:
            raise ValueError(f"concurrency_lease must be positive, got {concurrency_lease}")
        self.names = KeyNames(prefix)
        if client is None:
            client = build_client(
                url,
                cluster=cluster,
                max_connections=max_connections,
                pool_timeout=pool_timeout,
                connect_timeout=connect_timeout,
                timeout=timeout,
            )
        self.client = client
        self.prefix = prefix
        # on a cluster a script's keys must share a slot; one node runs any combination
        self.cluster = is_cluster(client)
        self._calls = RedisCalls(
            retry_interval=retry_interval,
            pool_timeout=pool_timeout,
            failover_wait=failover_wait if fails_over(client) else 0.0,
        )
        self._scripts = Scripts(client, self._calls, SCRIPTS, cluster=self.cluster)
        self.concurrency_lease = concurrency_lease
        # the slots this backend's calls hold (slot key -> holders), renewed by one task
        self._held: dict[str, set[str]] = {}
        self._renewer: asyncio.Task[None] | None = None
        # queued callers of this backend waiting for a wake-up: (slot key, owner) -> holder ->
        # watch, each (slot key, owner) served by one task blocked on its wake list
        self._watches: dict[tuple[str, str], dict[str, EventWatch]] = {}
        self._listeners: dict[tuple[str, str], asyncio.Task[None]] = {}
        # a listener's BLPOP returns within this, under the socket timeout
        self._block = min(SLOT_RECHECK, timeout / 2)

    @property
    def available(self) -> bool:
        return self._calls.down_since is None

    async def _call(self, func: Any, *args: Any, **kwargs: Any) -> Any:
        return await self._calls.call(func, *args, **kwargs)

    async def _script(self, name: str, keys: Sequence[str], args: Sequence[Any]) -> Any:
        return await self._scripts.run(name, keys, args)

    def _k(self, kind: str, key: str) -> str:
        return self.names.key(kind, key)

    def _split(self, *keys: str | None) -> bool:
        """True on a cluster when the given keys (None: unused) do not share one tag."""
        return self.cluster and len({tag(k) for k in keys if k is not None}) > 1

    # -- breaker ------------------------------------------------------------------------
    async def breaker_acquire(self, key: str, config: BreakerConfig) -> Admission:
        reply = await self._script(
            "acquire", [self._k("br", key)], [config.open_for, config.half_open_calls]
        )
        return decode_acquire(reply)

    async def breaker_record(
        self, key: str, config: BreakerConfig, generation: int, outcome: Outcome, slow: bool
    ) -> Transition:
        plan = CallPlan(owner="", lease=0.0, breaker_key=key, breaker=config)
        args = record_args(
            plan, Settlement(breaker_generation=generation, outcome=outcome, slow=slow)
        )
        reply = await self._script("record", [self._k("br", key), self._k("brw", key)], args)
        return decode_record(reply)

    async def breaker_state(self, key: str) -> BreakerState:
        state = await self._call(self.client.hget, self._k("br", key), "st")
        return breaker_state(state) if state else "closed"

    async def breaker_force(self, key: str, state: BreakerState | None) -> None:
        await self._script("force", [self._k("br", key), self._k("brw", key)], [state or "closed"])

    # -- rate limit ---------------------------------------------------------------------
    async def rate_acquire(
        self, key: str, rate: float, per: float, max_wait: float
    ) -> RateDecision:
        reply = await self._script("rate", [self._k("rl", key)], rate_args(rate, per, max_wait))
        return decode_rate(reply)

    # -- cache --------------------------------------------------------------------------
    async def cache_get(self, key: str) -> bytes | None:
        value = await self._call(self.client.get, self._k("c", key))
        return bytes(value) if value is not None else None

    async def cache_set(self, key: str, value: bytes, ttl: float, max_entries: int) -> None:
        # Redis bounds memory with its own eviction policy; max_entries applies in memory only
        await self._call(self.client.set, self._k("c", key), value, px=ms(ttl))

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
        reply = await self._script(
            "get_or_lock",
            [self._k("c", key), self.names.lock(CACHE_LOCK + key)],
            [owner, ms(ttl)],
        )
        return decode_get_or_lock(reply)

    async def cache_set_unlock(
        self, key: str, value: bytes, ttl: float, max_entries: int, owner: str
    ) -> None:
        await self._script(
            "set_unlock",
            [self._k("c", key), self.names.lock(CACHE_LOCK + key)],
            [value, ms(ttl), owner],
        )

    # -- locks --------------------------------------------------------------------------
    async def lock_acquire(self, key: str, owner: str, ttl: float) -> bool:
        got = await self._call(self.client.set, self.names.lock(key), owner, nx=True, px=ms(ttl))
        return bool(got)

    async def lock_release(self, key: str, owner: str) -> None:
        await self._script("release", [self.names.lock(key)], [owner])

    # -- idempotency --------------------------------------------------------------------
    async def idem_begin(self, key: str, owner: str, ttl: float) -> IdemRecord:
        reply = await self._script("idem_begin", [self._k("id", key)], [owner, ms(ttl)])
        return decode_idem_begin(reply)

    async def idem_finish(self, key: str, owner: str, data: bytes, ttl: float) -> None:
        await self._script(
            "idem_finish", [self._k("id", key)], ["p:" + owner, b"d:" + data, ms(ttl)]
        )

    async def idem_abandon(self, key: str, owner: str) -> None:
        await self._script("release", [self._k("id", key)], ["p:" + owner])

    # -- one call's decisions and writes: one script each ---------------------------------
    def _admit_split(self, plan: CallPlan) -> bool:
        return self._split(
            plan.cache_key, plan.idem_key, plan.rate_key, plan.breaker_key, plan.slot_key
        )

    async def admit(self, plan: CallPlan) -> Clearance:
        if self._admit_split(plan):
            return await self._admit_apart(plan)
        keys, args = admit_request(plan, self.names, self.concurrency_lease)
        return self._admitted(plan, decode_admit(await self._script("admit", keys, args)))

    def _admitted(self, plan: CallPlan, clr: Clearance) -> Clearance:
        if clr.slot == "held":
            assert plan.slot_key is not None
            self._hold(plan.slot_key, plan.slot_holder)
        return clr

    async def admit_after(
        self, writes: Sequence[Write], plan: CallPlan
    ) -> tuple[Clearance, list[Transition | None]]:
        """The writes of earlier calls and this call's admission in one pipelined round trip
        (on a cluster: sent at once, each to its node, so the admission may arrive first)."""
        if not writes:
            return await self.admit(plan), []
        if self.cluster or self._admit_split(plan):
            transitions, clr = await asyncio.gather(self.settle_many(writes), self.admit(plan))
            return clr, transitions
        batch, slots = self._settle_batch(writes)
        keys, args = admit_request(plan, self.names, self.concurrency_lease)
        replies = await self._scripts.run_many([*batch, ("admit", keys, args)])
        admission = replies.pop()
        if isinstance(admission, BaseException):
            raise BackendUnavailable(f"Redis answered with an error: {admission}")
        return self._admitted(plan, decode_admit(admission)), self._settled(slots, replies)

    async def settle(self, plan: CallPlan, outcome: Settlement) -> Transition | None:
        return (await self.settle_many([(plan, outcome)]))[0]

    async def settle_many(self, writes: Sequence[Write]) -> list[Transition | None]:
        """Every write's ``SETTLE`` in one pipelined round trip (on a cluster, a write whose
        keys span slots is split up; the writes go to their nodes at once)."""
        if self.cluster:
            return list(await asyncio.gather(*(self._settle_one(p, o) for p, o in writes)))
        batch, slots = self._settle_batch(writes)
        if not batch:
            return [None] * len(writes)
        return self._settled(slots, await self._scripts.run_many(batch))

    def _settle_batch(
        self, writes: Sequence[Write]
    ) -> tuple[list[tuple[str, Sequence[str], Sequence[Any]]], list[int | None]]:
        """The ``SETTLE`` scripts of ``writes`` and, per write, the index of its reply."""
        batch: list[tuple[str, Sequence[str], Sequence[Any]]] = []
        slots: list[int | None] = []
        for plan, outcome in writes:
            if outcome.slot_release and plan.slot_key is not None:
                self._drop(plan.slot_key, plan.slot_holder)  # not renewed even if this fails
            request = settle_request(plan, outcome, self.names)
            if request is None:
                slots.append(None)
                continue
            slots.append(len(batch))
            batch.append(("settle", *request))
        return batch, slots

    def _settled(self, slots: list[int | None], replies: list[Any]) -> list[Transition | None]:
        out: list[Transition | None] = []
        for index in slots:
            if index is None:
                out.append(None)
                continue
            reply = replies[index]
            if isinstance(reply, BaseException):
                # the store refused this write (a script error): sending it again would not
                # help; its claims expire with their lease
                log.error("Redis state backend: an after-call write failed: %s", reply)
                out.append(None)
            else:
                out.append(decode_settle(reply))
        return out

    async def _settle_one(self, plan: CallPlan, outcome: Settlement) -> Transition | None:
        """One write on a cluster: in one script, or split where its keys span slots."""
        ckey = plan.cache_key if (outcome.cache_locked or outcome.cache_value) else None
        ikey = plan.idem_key if outcome.idem_claimed else None
        skey = plan.slot_key if outcome.slot_release else None
        record = outcome.breaker_generation is not None and plan.breaker_key is not None
        if skey is not None:
            self._drop(skey, plan.slot_holder)
        if not self._split(ckey, ikey, skey, plan.breaker_key if record else None):
            request = settle_request(plan, outcome, self.names)
            if request is None:
                return None
            return decode_settle(await self._script("settle", *request))
        if record and not self._split(ckey, ikey, skey):
            return await self._settle_apart(plan, outcome)
        return await super().settle(plan, outcome)  # policy by policy

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
        """A write on a cluster with a breaker in a slot of its own: the breaker record and
        the rest in two steps, both attempted (as ``StateBackend.settle`` does)."""
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
            await self._settle_one(
                replace(plan, breaker_key=None, breaker=None),
                replace(outcome, breaker_generation=None),
            )
        except BackendUnavailable as exc:
            failed = failed or exc
        if failed is not None:
            raise failed
        return transition

    # -- retry budgets -----------------------------------------------------------------------
    async def retry_budget(
        self, key: str, deposits: int, ratio: float, reserve: float, spend: bool
    ) -> bool:
        args = [deposits, repr(ratio), repr(reserve), repr(budget_cap(ratio, reserve))]
        reply = await self._script("budget", [self._k("rb", key)], [*args, "1" if spend else ""])
        return decode_budget(reply)

    # -- concurrency slots ------------------------------------------------------------------
    async def slot_acquire(
        self, key: str, holder: str, limit: int, max_queue: int | None
    ) -> SlotStatus:
        plan = CallPlan(
            owner="", lease=0.0, slot_key=key, slot_holder=holder, slot_limit=limit,
            slot_queue=max_queue,
        )  # fmt: skip
        reply = await self._script(
            "slot_acquire",
            self.names.slots(key),
            slot_args(plan, self.concurrency_lease, self.names),
        )
        status = decode_slot_acquire(reply)
        if status == "held":
            self._hold(key, holder)
        return status

    async def slot_release(self, key: str, holder: str) -> None:
        self._drop(key, holder)
        await self._script("slot_release", self.names.slots(key), [holder, self.names.wake(key)])

    def slot_watch(self, key: str, holder: str) -> EventWatch:
        """Wake-ups pushed by the scripts onto this process's wake list of ``key`` (one per
        owner, the holder name up to its last ``:``), popped by one BLPOP task per list."""
        group = (key, holder.rpartition(":")[0])

        def forget(watch: EventWatch) -> None:
            watches = self._watches.get(group, {})
            if watches.get(holder) is watch:
                del watches[holder]

        watch = EventWatch(forget)
        self._watches.setdefault(group, {})[holder] = watch
        task = self._listeners.get(group)
        loop = asyncio.get_running_loop()
        if task is None or task.done() or task.get_loop() is not loop:
            self._listeners[group] = loop.create_task(self._listen(group))
        return watch

    async def _listen(self, group: tuple[str, str]) -> None:
        """Hand the names popped from a wake list to their waiters; ends once none is left
        (checked at least every ``_block`` seconds, the bound of one BLPOP)."""
        key, owner = group
        name = self.names.wake(key) + owner
        while self._watches.get(group):
            try:
                got = await self._call(self.client.blpop, [name], timeout=self._block)
            except BackendUnavailable:
                await asyncio.sleep(self._block)  # the waiters ask again on their own
                continue
            if got:
                watch = self._watches.get(group, {}).get(text(got[1]))
                if watch is not None:
                    watch.wake()
        self._watches.pop(group, None)
        if self._listeners.get(group) is asyncio.current_task():
            del self._listeners[group]

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
        lease_ms = ms(self.concurrency_lease)
        while self._held:
            await asyncio.sleep(self.concurrency_lease / 3)
            for key, holders in list(self._held.items()):
                try:
                    reply = await self._script(
                        "slot_renew", [self._k("sem", key)], [lease_ms, *holders]
                    )
                except BackendUnavailable:
                    continue  # tried again next time; a lease may run out meanwhile
                for holder in decode_slot_renew(reply):
                    if holder in self._held.get(key, ()):
                        # its lease ran out first (the loop or Redis stalled): the call runs
                        # on, but its slot may have gone to another caller
                        log.warning("concurrency slot of %s expired before renewal", key)
                        self._drop(key, holder)

    async def aclose(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
            self._renewer = None
        for task in self._listeners.values():
            task.cancel()
        self._listeners.clear()
        await self.client.aclose()


def _starts(name: Any, skip: int, start: str) -> bool:
    """True when the stored key ``name`` (``prefix`` + ``c:`` first) names a key that
    starts with ``start``."""
    try:
        text = name.decode() if isinstance(name, bytes) else str(name)
        return untagged(text[skip:]).startswith(start)
    except (ValueError, UnicodeDecodeError):  # not one of ours
        return False
