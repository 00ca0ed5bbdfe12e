"""The Redis backend's connection: building the client, and the one boundary where redis-py's
errors become ``BackendUnavailable`` (as httpx maps httpcore's exceptions in one place).

redis-py is imported here, when a backend is created, never at import of the core.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from toolwire._backoff import backoff_delay
from toolwire._errors import MissingExtra
from toolwire.state._base import BackendUnavailable

log = logging.getLogger("toolwire.state")


def build_client(
    url: str | None,
    *,
    cluster: bool,
    max_connections: int,
    pool_timeout: float,
    connect_timeout: float,
    timeout: float,
    hidden_retries: bool = False,
) -> Any:
    """A redis-py asyncio client for ``url``: ``redis+cluster://`` (or ``cluster=True``) a
    ``RedisCluster``, ``redis+sentinel://`` a client of the primary a Sentinel names, else one
    node. By default with no hidden retries (``hidden_retries``: redis-py's own): an outage
    must surface where ``RedisCalls`` decides, so policies fail open or closed. A single node
    gets a blocking pool (a burst waits for a connection); a cluster or Sentinel client bounds
    its pools, and a full one is waited out by ``RedisCalls``."""
    try:
        import redis.asyncio as aioredis
        from redis.asyncio.cluster import RedisCluster
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingExtra("redis", "redis") from exc
    if url is None:
        raise ValueError("RedisBackend needs a url or a client")
    common: dict[str, Any] = {
        "socket_connect_timeout": connect_timeout,
        "socket_timeout": timeout,
    }
    if not hidden_retries:
        common["retry"] = Retry(NoBackoff(), 0)
    scheme, sep, rest = url.partition("://")
    if sep and scheme.endswith("+sentinel"):
        return _sentinel_client(url, max_connections=max_connections, common=common)
    if sep and scheme.endswith("+cluster"):
        cluster = True
        url = scheme.removesuffix("+cluster") + sep + rest
    if cluster:
        # redirections are followed all the same
        return RedisCluster.from_url(url, max_connections=max_connections, **common)
    pool = aioredis.BlockingConnectionPool.from_url(
        url, max_connections=max_connections, timeout=pool_timeout, **common
    )
    return aioredis.Redis.from_pool(pool)


def parse_sentinel_url(url: str) -> dict[str, Any]:
    """``redis+sentinel://[password@]host:port[,host2:port2]/service_name[/db]`` (or
    ``user:password@``) -> ``sentinels`` [(host, port)], ``service``, ``db``, ``username``,
    ``password``. The password is the data nodes' (primary and replicas'), not the
    sentinels'."""
    scheme, sep, rest = url.partition("://")
    if scheme != "redis+sentinel" or not sep:
        raise ValueError(f"not a redis+sentinel:// URL: {url!r}")
    where, _, path = rest.partition("/")
    userinfo, at, hosts = where.rpartition("@")
    username = password = None
    if at:
        user, colon, secret = userinfo.partition(":")
        username, password = (user or None, secret) if colon else (None, user)
    sentinels: list[tuple[str, int]] = []
    for part in hosts.split(","):
        host, colon, port = part.strip().rpartition(":")
        if not colon or not host or not port.isdigit():
            raise ValueError(f"redis+sentinel:// URL: {part!r} is not host:port")
        sentinels.append((host.strip("[]"), int(port)))
    service, _, db = path.strip("/").partition("/")
    if not service:
        raise ValueError("redis+sentinel:// URL names no service (.../service_name[/db])")
    if db and not db.isdigit():
        raise ValueError(f"redis+sentinel:// URL: database {db!r} is not a number")
    return {
        "sentinels": sentinels,
        "service": service,
        "db": int(db or 0),
        "username": username,
        "password": password,
    }


def _sentinel_client(url: str, *, max_connections: int, common: dict[str, Any]) -> Any:
    from redis.asyncio.sentinel import Sentinel

    parts = parse_sentinel_url(url)
    # typed as Any: redis-py types Sentinel's constructor in some releases and not in others
    sentinel_class: Any = Sentinel
    # the sentinels are asked with the same timeouts, without the data nodes' password
    sentinel = sentinel_class(parts["sentinels"], sentinel_kwargs=dict(common), **common)
    return sentinel.master_for(
        parts["service"],
        db=parts["db"],
        username=parts["username"],
        password=parts["password"],
        max_connections=max_connections,
    )


def fails_over(client: Any) -> bool:
    """True for a client that follows a failover (a cluster's, or a Sentinel's primary)."""
    from redis.asyncio.sentinel import SentinelConnectionPool

    pool = getattr(client, "connection_pool", None)
    return is_cluster(client) or isinstance(pool, SentinelConnectionPool)


def is_cluster(client: Any) -> bool:
    from redis.asyncio.cluster import RedisCluster

    return isinstance(client, RedisCluster)


class PoolWait:
    """The one wait for a connection of a full pool, shared by the state backend's
    ``RedisCalls`` and the Redis task store; :meth:`call` runs an operation through it.

    A full pool is load, not an outage: nothing was sent, so the operation waits its turn and
    tries again for as long as connections keep coming free (operations of this ``PoolWait``
    ending, whatever their outcome). It gives up (``BackendUnavailable``, without marking the
    store down) only once no connection has come free for ``pool_timeout`` seconds: every
    connection is stuck on a server that stopped answering, or held by blocking commands. A
    burst of any size on a healthy store is served in the end; the caller's own deadline
    bounds how long it is willing to wait.

    Two kinds of full pool: a blocking pool (single node) waits ``pool_timeout`` itself and
    raises redis-py's "No connection available" (a ``ConnectionError`` from the wait's
    ``TimeoutError``); a cluster node's (or redis-py's default) pool raises
    ``MaxConnectionsError`` at once, and the wait is a jittered backoff of up to 50 ms.
    """

    def __init__(self, pool_timeout: float, *, label: str = "Redis") -> None:
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import MaxConnectionsError

        self.pool_timeout = pool_timeout
        self.label = label
        self._max_connections: type[BaseException] = MaxConnectionsError
        self._connection_error: type[BaseException] = RedisConnectionError
        self._freed_at = float("-inf")  # when an operation last gave its connection back
        self._logged = False

    async def call(self, func: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any) -> Any:
        began = time.monotonic()  # this operation has waited for a connection since then
        waits = 0
        while True:
            tried = time.monotonic()
            try:
                out = await func(*args, **kwargs)
            except BaseException as exc:
                blocking = self._blocking_pool_timed_out(exc)
                if not blocking and not isinstance(exc, self._max_connections):
                    self._freed_at = time.monotonic()  # it held a connection, given back now
                    raise
                now = time.monotonic()
                if blocking:  # the pool waited pool_timeout itself: did anyone get one?
                    stalled = self._freed_at < tried
                else:
                    stalled = now - max(began, self._freed_at) >= self.pool_timeout
                if stalled:
                    raise self._exhausted(exc) from exc
                if not blocking:
                    waits += 1
                    await asyncio.sleep(backoff_delay(waits, 0.001, 0.05))
                continue
            self._freed_at = time.monotonic()
            return out

    def _blocking_pool_timed_out(self, exc: BaseException) -> bool:
        """A blocking pool's "no connection available" (a ConnectionError raised from the
        wait's TimeoutError); connection failures raise TimeoutError or a ConnectionError of
        their own, never chained to a TimeoutError."""
        return type(exc) is self._connection_error and isinstance(exc.__cause__, TimeoutError)

    def _exhausted(self, exc: BaseException) -> BackendUnavailable:
        # load, not an outage: only this operation gives up; the next one tries again at once
        said = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        message = (
            f"{self.label}: the connection pool stayed full, no connection coming free for "
            f"{self.pool_timeout:g} s ({said}); raise max_connections or pool_timeout"
        )
        if not self._logged:
            self._logged = True
            log.warning("%s", message)
        return BackendUnavailable(message)


class RedisCalls:
    """Every operation of the backend goes through :meth:`call`: redis-py's errors become
    ``BackendUnavailable``; after a connection failure the store counts as down for
    ``retry_interval`` seconds (operations fail at once, without a network attempt); one
    warning is logged per outage and one info line when it is back.

    A connect that timed out sent nothing and is tried once more at once (the timer may have
    run out because this process stalled, not Redis): a store that does not accept
    connections costs a probe up to twice ``connect_timeout``.

    A full connection pool is load, not an outage: an operation waits its turn (see
    :class:`PoolWait`) and gives up only once no connection came free for ``pool_timeout``
    seconds; the store is not marked down for it.

    On a client that follows failovers (``failover_wait`` > 0: a cluster, a Sentinel) a node
    that stops answering may be a primary whose replica is about to take over: the operation
    is tried again, with a backoff of up to 0.2 s, for up to ``failover_wait`` seconds before
    it counts as an outage; while it is down, the probe after ``retry_interval`` is one try.
    A cluster client that reaches no node at all is an outage at once.
    A try again may repeat a script the lost node ran (and replicated) before it died. That
    never runs a call twice: the repeated step finds the fill lock and the pending idempotency
    record it took as its own (they hold the call's owner id) and goes on with them, every
    other call still finds them taken; a rate-limit token may be taken twice.
    """

    def __init__(
        self, *, retry_interval: float, pool_timeout: float, failover_wait: float = 0.0
    ) -> None:
        from redis.exceptions import (
            ClusterDownError,
            NoScriptError,
            RedisClusterException,
            RedisError,
            SlotNotCoveredError,
            TryAgainError,
        )
        from redis.exceptions import ConnectionError as RedisConnectionError
        from redis.exceptions import TimeoutError as RedisTimeoutError

        self.retry_interval = retry_interval
        self.pool_timeout = pool_timeout
        self.failover_wait = failover_wait
        # what a failover in progress looks like, besides a connection that fails
        self._moving: tuple[type[BaseException], ...] = (SlotNotCoveredError, TryAgainError)
        self._pool = PoolWait(pool_timeout)
        self._connection_error: type[BaseException] = RedisConnectionError
        self._timeout: type[BaseException] = RedisTimeoutError
        self._outage: tuple[type[BaseException], ...] = (
            RedisConnectionError,
            RedisTimeoutError,
            OSError,
            ClusterDownError,  # a cluster that lost a shard answers CLUSTERDOWN
        )
        # the cluster client's own errors (no reachable node, slots not covered) are not
        # RedisError; those caused by an outage are told apart in call()
        self._errors: tuple[type[BaseException], ...] = (RedisError, RedisClusterException)
        # the server lost its scripts (restart, failover): ``Scripts`` loads them again
        self.no_script: type[BaseException] = NoScriptError
        self.down_since: float | None = None
        self._next_try = 0.0
        self.on_down: Callable[[], None] = lambda: None

    async def call(self, func: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any) -> Any:
        if self.down_since is not None and time.monotonic() < self._next_try:
            raise BackendUnavailable("Redis is unreachable")
        fresh = up = self.down_since is None
        connect_retried = False
        failover_until: float | None = None
        while True:
            try:
                out = await self._pool.call(func, *args, **kwargs)  # (waits out a full pool)
                break
            except self._moving as exc:
                failover_until = await self._ride_out(exc, failover_until, waits=up)
            except self.no_script:
                raise
            except self._outage as exc:
                if fresh and type(exc) is self._connection_error:
                    # A pooled connection to a server that restarted (or failed over) breaks
                    # on first use; the new server never saw the command, and redis-py has
                    # dropped the connection: try once more on a new one before calling it
                    # an outage (a server that is down refuses that one at once).
                    fresh = False
                    continue
                if not connect_retried and self._connect_timed_out(exc):
                    # Nothing was sent, and the timer may have run out only because this
                    # process stalled (a blocked event loop, a starved CPU), not Redis: try
                    # once more at once, up or probing, before calling it an outage.
                    connect_retried = True
                    continue
                failover_until = await self._ride_out(exc, failover_until, waits=up)
            except self._errors as exc:
                if isinstance(exc.__cause__, self._outage):
                    # a cluster client that reached no node at all
                    self._mark_down(exc)
                    raise BackendUnavailable(f"Redis is unreachable: {exc}") from exc
                # reachable but refusing (misconfiguration, OOM, a script error): not an outage
                log.error("Redis state backend error: %s: %s", type(exc).__name__, exc)
                raise BackendUnavailable(f"Redis answered with an error: {exc}") from exc
        if self.down_since is not None:
            log.info(
                "Redis state backend is reachable again after %.1f s; shared policies resumed",
                time.monotonic() - self.down_since,
            )
            self.down_since = None
        return out

    async def _ride_out(self, exc: BaseException, until: float | None, *, waits: bool) -> float:
        """Wait a little for a failover to end, and return when waiting stops; or, once
        ``failover_wait`` has passed (or with none), mark the store down and raise. Only an
        operation that found the store up ``waits``: once it is down, a probe is one try."""
        now = time.monotonic()
        if until is None:
            until = now + (self.failover_wait if waits else 0.0)
        if now >= until:
            self._mark_down(exc)
            raise BackendUnavailable(f"Redis is unreachable: {exc}") from exc
        # a failover takes about a second or more: pace the tries, the first one soon
        pause = min(0.2, max(0.02, (self.failover_wait - (until - now)) / 2))
        await asyncio.sleep(min(pause, until - now))
        return until

    def _connect_timed_out(self, exc: BaseException) -> bool:
        """True for redis-py's "Timeout connecting to server" (raised while it handles the
        connect's own TimeoutError): no command was sent on that connection."""
        return (
            isinstance(exc, self._timeout)
            and isinstance(exc.__context__, TimeoutError)
            and str(exc).startswith("Timeout connecting")
        )

    def _mark_down(self, exc: BaseException) -> None:
        now = time.monotonic()
        self._next_try = now + self.retry_interval
        self.on_down()
        if self.down_since is None:
            self.down_since = now
            log.warning(
                "Redis state backend unreachable (%s: %s); policies fail open or closed as "
                "configured until it is back",
                type(exc).__name__,
                exc,
            )


class Scripts:
    """The backend's Lua scripts by name: run one, or several in one pipelined round trip.

    All are loaded together (one pipelined ``SCRIPT LOAD`` round trip) before the first one
    runs, and again after an outage or a ``NOSCRIPT`` answer (a restarted or failed-over
    server): otherwise each script's first call on a server without it would cost two more
    round trips. On a cluster each node learns a script on its first call there.
    """

    def __init__(
        self, client: Any, calls: RedisCalls, scripts: Mapping[str, str], *, cluster: bool
    ) -> None:
        self.client = client
        self.calls = calls
        self.cluster = cluster
        self._objects = {name: client.register_script(text) for name, text in scripts.items()}
        self._no_script = calls.no_script
        self.loaded = False
        calls.on_down = self._forget

    def _forget(self) -> None:
        self.loaded = False  # the server may come back without them

    async def _load(self) -> None:
        async def send() -> Any:  # (a pipeline is emptied by its execute: built per try)
            pipe = self.client.pipeline(transaction=False)
            for script in self._objects.values():
                pipe.script_load(script.script)
            return await pipe.execute()

        await self.calls.call(send)
        self.loaded = True

    async def run(self, name: str, keys: Sequence[str], args: Sequence[Any]) -> Any:
        script = self._objects[name]
        if self.cluster:
            return await self.calls.call(script, keys=list(keys), args=list(args))
        if not self.loaded:
            await self._load()
        try:
            return await self.calls.call(self.client.evalsha, script.sha, len(keys), *keys, *args)
        except self._no_script:
            pass
        await self._load()
        return await self.calls.call(self.client.evalsha, script.sha, len(keys), *keys, *args)

    async def run_many(
        self, batch: Sequence[tuple[str, Sequence[str], Sequence[Any]]]
    ) -> list[Any]:
        """Each ``(name, keys, args)`` in order, in one round trip; a reply per script (an
        error reply is an exception instance in its place)."""
        if self.cluster:  # its keys may live on several nodes: one step each, concurrently
            return list(await asyncio.gather(*(self._run_or_error(n, k, a) for n, k, a in batch)))
        if not self.loaded:
            await self._load()
        replies = await self._pipelined(batch)
        if any(isinstance(r, self._no_script) for r in replies):
            await self._load()
            again = [i for i, r in enumerate(replies) if isinstance(r, self._no_script)]
            redo = await self._pipelined([batch[i] for i in again])
            for i, reply in zip(again, redo, strict=True):
                replies[i] = reply
        return replies

    async def _pipelined(
        self, batch: Sequence[tuple[str, Sequence[str], Sequence[Any]]]
    ) -> list[Any]:
        async def send() -> Any:  # (a pipeline is emptied by its execute: built per try)
            pipe = self.client.pipeline(transaction=False)
            for name, keys, args in batch:
                pipe.evalsha(self._objects[name].sha, len(keys), *keys, *args)
            return await pipe.execute(raise_on_error=False)

        return list(await self.calls.call(send))

    async def _run_or_error(self, name: str, keys: Sequence[str], args: Sequence[Any]) -> Any:
        try:
            return await self.run(name, keys, args)
        except BackendUnavailable as exc:
            if self.calls.down_since is not None:
                raise
            return exc
