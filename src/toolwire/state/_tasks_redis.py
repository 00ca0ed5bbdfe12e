"""Tasks in Redis: every replica sees every task, and a task outlives the replica running it.

Built on Redis's own primitives: a hash per task, a stream per task for its events, and one
queue stream with the consumer group ``workers``. A new task is an entry of the queue; a
runner reads it with ``XREADGROUP`` (it is then pending for that runner) and holds it under a
lease it renews, which also resets the entry's idle time (``XCLAIM ... JUSTID``). When a runner
dies its entries go idle; after a lease others take them over with ``XAUTOCLAIM`` and the claim
script decides, from the record, whether the task is granted again (see ``_tasks_lua``).

Key layout (``<prefix><kind>:{tasks}<rest>``, the scheme of ``_redis_keys``): every key of the
task store carries the hash tag ``{tasks}``, so each script touches one slot and works on
Redis Cluster; the price is that all tasks live on the shard holding that slot (a queue is one
slot in any Redis job queue):

    tk:{tasks}:<id>        the record (hash)
    te:{tasks}:<id>        its events (stream, ~1000 kept)
    tq:{tasks}             the queue (stream, group "workers")
    to:{tasks}:<owner>     the owner's tasks by creation time (sorted set, for listing)
    ta:{tasks}:<owner>     the owner's working tasks (set, for the per-caller limit)
    ti:{tasks}:<digest>    an idempotency key -> "<task id>|<arguments digest>"

Owners and idempotency keys appear only as digests.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import Callable
from typing import Any

from toolwire import _json
from toolwire._errors import MissingExtra
from toolwire.state._base import BackendUnavailable
from toolwire.state._redis_keys import check_prefix, tagged
from toolwire.state._tasks import (
    TASK_STATUSES,
    Claim,
    NewTask,
    TaskEvent,
    TaskKeyReused,
    TaskLimitReached,
    TaskProgress,
    TaskRecord,
    TaskStatus,
    TaskStore,
)
from toolwire.state._tasks_lua import (
    CLAIM,
    CREATE,
    END,
    GROUP,
    MAX_EVENTS,
    RELEASE,
    RENEW,
    REPORT,
    SNAPSHOT,
    decode_claim,
    decode_create,
    decode_end,
    decode_snapshot,
    fields,
)

_GROUP_TAG = "tasks"
_BLOCK_MAX_MS = 1000  # under the client's socket timeout: a blocking read is not an outage
_FEED_BLOCK_MS = 100
_RENEW_BATCH = 100
_RELEASED_IDLE_MS = 24 * 3600 * 1000


class RedisTaskStore(TaskStore):
    """Tasks shared by every process using the same Redis (and ``prefix``).

    Give a URL (``redis://``, or ``redis+cluster://`` for a cluster) or a client; or share a
    state backend's client with :meth:`from_backend`. ``index_cap`` bounds the tasks listed per
    owner (the oldest drop out of the list, not out of the store).

    Example::

        store = RedisTaskStore("redis://127.0.0.1:6379/0", prefix="myapp:")
        box = tw.Toolbox(tools, tasks=Tasks(store))
    """

    shared = True

    def __init__(
        self,
        url: str | None = None,
        *,
        client: Any = None,
        prefix: str = "toolwire:",
        cluster: bool = False,
        connect_timeout: float = 0.5,
        timeout: float = 2.0,
        max_connections: int = 50,
        index_cap: int = 10_000,
    ) -> None:
        check_prefix(prefix)
        try:
            import redis.asyncio as aioredis
            from redis.asyncio.cluster import RedisCluster
            from redis.exceptions import RedisClusterException, RedisError, ResponseError
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise MissingExtra("redis", "redis") from exc
        self._owns_client = client is None
        if client is None:
            if url is None:
                raise ValueError("RedisTaskStore needs a url or a client")
            scheme, sep, rest = url.partition("://")
            if sep and scheme.endswith("+cluster"):
                cluster = True
                url = scheme.removesuffix("+cluster") + sep + rest
            common = {
                "socket_connect_timeout": connect_timeout,
                "socket_timeout": max(timeout, _BLOCK_MAX_MS / 1000 + 1.0),
            }
            if cluster:
                client = RedisCluster.from_url(url, max_connections=max_connections, **common)
            else:
                pool = aioredis.BlockingConnectionPool.from_url(
                    url, max_connections=max_connections, timeout=timeout, **common
                )
                client = aioredis.Redis.from_pool(pool)
        self.client = client
        self.prefix = prefix
        self.index_cap = index_cap
        self._errors: tuple[type[BaseException], ...] = (RedisError, RedisClusterException, OSError)
        self._response_error: type[BaseException] = ResponseError
        self._create = client.register_script(CREATE)
        self._claim = client.register_script(CLAIM)
        self._renew = client.register_script(RENEW)
        self._report = client.register_script(REPORT)
        self._end = client.register_script(END)
        self._release = client.register_script(RELEASE)
        self._snapshot = client.register_script(SNAPSHOT)
        self._group_ready = False
        self._sweep_at = 0.0
        self._sweep_from: Any = "0-0"
        self._feed = _Feed(self)

    @classmethod
    def from_backend(cls, backend: Any, **options: Any) -> RedisTaskStore:
        """A store on a :class:`~toolwire.state.redis.RedisBackend`'s client and prefix."""
        return cls(client=backend.client, prefix=backend.prefix, **options)

    # -- keys ---------------------------------------------------------------------------------
    def _key(self, kind: str, rest: str | None = None) -> str:
        if rest is None:
            return f"{self.prefix}{kind}:{{{_GROUP_TAG}}}"
        return f"{self.prefix}{kind}:{tagged(f'{_GROUP_TAG}:{rest}')}"

    def record_key(self, task_id: str) -> str:
        return self._key("tk", task_id)

    def events_key(self, task_id: str) -> str:
        return self._key("te", task_id)

    @property
    def queue_key(self) -> str:
        return self._key("tq")

    def _owner_keys(self, owner: str) -> tuple[str, str]:
        digest = _digest(owner)
        return self._key("to", digest), self._key("ta", digest)

    def _idem_key(self, owner: str, tool: str, key: str) -> str:
        return self._key("ti", _digest(owner, tool, key))

    # -- plumbing -------------------------------------------------------------------------------
    async def _call(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return await func(*args, **kwargs)
        except self._errors as exc:
            if isinstance(exc, self._response_error) and "NOGROUP" in str(exc):
                self._group_ready = False  # the server lost the queue (restarted empty)
            raise BackendUnavailable(f"Redis (tasks): {type(exc).__name__}: {exc}") from exc

    async def _script(self, script: Any, keys: list[str], args: list[Any]) -> Any:
        return await self._call(script, keys=keys, args=args)

    async def _ensure_group(self) -> None:
        if self._group_ready:
            return
        try:
            await self.client.xgroup_create(self.queue_key, GROUP, id="0", mkstream=True)
        except self._response_error as exc:
            if "BUSYGROUP" not in str(exc):
                raise BackendUnavailable(f"Redis (tasks): {exc}") from exc
        except self._errors as exc:
            raise BackendUnavailable(f"Redis (tasks): {type(exc).__name__}: {exc}") from exc
        self._group_ready = True

    # -- the caller's side ----------------------------------------------------------------------
    async def create(self, task: NewTask, *, max_active: int | None) -> tuple[TaskRecord, bool]:
        await self._ensure_group()
        index, active = self._owner_keys(task.owner)
        keys = [self.record_key(task.id), self.queue_key, index, active]
        if task.idempotency_key is not None:
            keys.append(self._idem_key(task.owner, task.tool, task.idempotency_key))
        args = [
            task.id,
            task.tool,
            task.owner,
            _json.dumps(list(task.scopes)),
            task.arguments,
            task.arguments_digest,
            task.idempotency_key or "",
            "1" if task.repeatable else "0",
            -1 if task.timeout is None else int(task.timeout * 1000),
            int(task.result_ttl * 1000),
            -1 if max_active is None else max_active,
            self.index_cap,
            _digest(task.owner),
        ]
        for _ in range(2):  # twice: the key's task may expire between the script and the read
            verdict, value = decode_create(await self._script(self._create, keys, args))
            if verdict == "created":
                now = int(value) / 1000
                return _new_record(task, now), True
            if verdict == "limit":
                assert max_active is not None
                raise TaskLimitReached(int(value), max_active)
            if verdict == "reused":
                raise TaskKeyReused(value)
            earlier = await self.get(value)
            if earlier is not None:
                return earlier, False
        raise BackendUnavailable("Redis (tasks): the idempotency key's task vanished twice")

    async def get(self, task_id: str) -> TaskRecord | None:
        found = await self._call(self.client.hgetall, self.record_key(task_id))
        return _record(task_id, fields(_flat(found))) if found else None

    async def snapshot(self, task_id: str) -> tuple[TaskRecord | None, str | None]:
        reply = await self._script(
            self._snapshot, [self.record_key(task_id), self.events_key(task_id)], []
        )
        found, last = decode_snapshot(reply)
        return (_record(task_id, found) if found else None), last

    async def page(
        self, owner: str, *, limit: int, cursor: str | None
    ) -> tuple[list[TaskRecord], str | None]:
        index, _ = self._owner_keys(owner)
        top: Any = "+inf"
        after: tuple[float, str] | None = None
        if cursor is not None:
            score, _, task_id = cursor.partition(":")
            try:
                after = (float(score), task_id)
            except ValueError:
                raise ValueError(f"not a task list cursor: {cursor!r}") from None
            top = after[0]
        wanted: list[tuple[str, float]] = []
        offset = 0
        while len(wanted) <= limit:
            batch = await self._call(
                self.client.zrevrangebyscore,
                index,
                top,
                "-inf",
                start=offset,
                num=limit + 1,
                withscores=True,
            )
            if not batch:
                break
            offset += len(batch)
            for member, score in batch:
                task_id = member.decode() if isinstance(member, bytes) else str(member)
                if after is not None and (score, task_id) >= after:
                    continue
                wanted.append((task_id, score))
        more = len(wanted) > limit
        wanted = wanted[:limit]
        pipe = self.client.pipeline(transaction=False)
        for task_id, _ in wanted:
            pipe.hgetall(self.record_key(task_id))
        found = await self._call(pipe.execute) if wanted else []
        records: list[TaskRecord] = []
        gone: list[str] = []
        for (task_id, _), raw in zip(wanted, found, strict=True):
            if raw:
                records.append(_record(task_id, fields(_flat(raw))))
            else:
                gone.append(task_id)
        if gone:  # expired since: drop them from the index too
            with contextlib.suppress(BackendUnavailable):
                await self._call(self.client.zrem, index, *gone)
        next_cursor = f"{wanted[-1][1]!r}:{wanted[-1][0]}" if more and wanted else None
        return records, next_cursor

    async def cancel(self, record: TaskRecord, result: bytes) -> TaskRecord | None:
        return await self._finish(record, "cancelled", result)

    async def events(self, task_id: str, after: str | None, wait: float) -> list[TaskEvent]:
        return await self._feed.wait(self.events_key(task_id), after, wait)

    # -- the runner's side ------------------------------------------------------------------------
    async def claim(self, worker: str, *, count: int, lease: float, wait: float) -> list[Claim]:
        await self._ensure_group()
        lease_ms = int(lease * 1000)
        entries: list[Any] = []
        now = time.monotonic()
        if now >= self._sweep_at:  # entries whose runner stopped renewing its lease
            self._sweep_at = now + min(lease / 2, 5.0)
            reply = await self._call(
                self.client.xautoclaim,
                self.queue_key,
                GROUP,
                worker,
                lease_ms,
                start_id=self._sweep_from,
                count=count,
            )
            self._sweep_from = reply[0] if reply else "0-0"
            entries.extend(reply[1] if reply else ())
        if len(entries) < count:
            block = None if entries or wait <= 0 else min(_BLOCK_MAX_MS, max(1, int(wait * 1000)))
            reply = await self._call(
                self.client.xreadgroup,
                GROUP,
                worker,
                {self.queue_key: ">"},
                count=count - len(entries),
                block=block,
            )
            for _stream, items in reply or ():
                entries.extend(items)
        claims: list[Claim] = []
        for qid, body in entries:
            if not body:
                continue  # an entry deleted while pending
            raw_id = body.get(b"id") or body.get("id")
            if raw_id is None:
                continue
            task_id = raw_id.decode() if isinstance(raw_id, bytes) else str(raw_id)
            granted = decode_claim(
                await self._script(
                    self._claim,
                    [self.record_key(task_id), self.queue_key],
                    [worker, lease_ms, qid],
                )
            )
            if granted is not None:
                runs, now_ms, found = granted
                claims.append(Claim(record=_record(task_id, found), runs=runs, now=now_ms / 1000))
        return claims

    async def renew(self, worker: str, task_ids: list[str], lease: float) -> set[str]:
        held: set[str] = set()
        for start in range(0, len(task_ids), _RENEW_BATCH):
            batch = task_ids[start : start + _RENEW_BATCH]
            reply = await self._script(
                self._renew,
                [self.queue_key, *(self.record_key(t) for t in batch)],
                [worker, int(lease * 1000)],
            )
            held.update(t for t, ok in zip(batch, reply, strict=True) if int(ok) == 1)
        return held

    async def report(self, task_id: str, worker: str, progress: TaskProgress) -> bool:
        reply = await self._script(
            self._report,
            [self.record_key(task_id), self.events_key(task_id)],
            [worker, _json.dumps(progress.to_dict()), MAX_EVENTS],
        )
        return int(reply) == 1

    async def finish(
        self, record: TaskRecord, status: TaskStatus, result: bytes
    ) -> TaskRecord | None:
        return await self._finish(record, status, result)

    async def _finish(
        self, record: TaskRecord, status: TaskStatus, result: bytes
    ) -> TaskRecord | None:
        _, active = self._owner_keys(record.owner)
        keys = [self.record_key(record.id), self.events_key(record.id), self.queue_key, active]
        if record.idempotency_key is not None:
            keys.append(self._idem_key(record.owner, record.tool, record.idempotency_key))
        reply = await self._script(self._end, keys, [status, result, record.id, MAX_EVENTS])
        found = decode_end(reply)
        return _record(record.id, found) if found else None

    async def release(self, task_id: str, worker: str) -> None:
        await self._script(
            self._release,
            [self.record_key(task_id), self.queue_key],
            [worker, _RELEASED_IDLE_MS],
        )
        self._sweep_at = 0.0  # and look for it (or others) on the next claim

    async def aclose(self) -> None:
        await self._feed.aclose()
        if self._owns_client:
            with contextlib.suppress(Exception):
                await self.client.aclose()


class _Waiter:
    __slots__ = ("after", "future")

    def __init__(self, after: tuple[int, int], future: asyncio.Future[list[TaskEvent]]) -> None:
        self.after = after
        self.future = future


class _Feed:
    """One ``XREAD BLOCK`` over the event streams every waiter of this process follows, so a
    thousand watchers hold one connection, not a thousand."""

    def __init__(self, store: RedisTaskStore) -> None:
        self._store = store
        self._waiters: dict[str, list[_Waiter]] = {}
        self._reader: asyncio.Task[None] | None = None

    async def wait(self, key: str, after: str | None, wait: float) -> list[TaskEvent]:
        start = after or "0-0"
        # what is there already comes back at once, without waiting for the shared read
        reply = await self._store._call(self._store.client.xread, {key: start}, count=100)
        ready = _events(reply, key)
        if ready or wait <= 0:
            return ready
        waiter = _Waiter(_stream_id(start), asyncio.get_running_loop().create_future())
        self._waiters.setdefault(key, []).append(waiter)
        if self._reader is None or self._reader.done():
            self._reader = asyncio.get_running_loop().create_task(self._read())
        try:
            return await asyncio.wait_for(asyncio.shield(waiter.future), wait)
        except TimeoutError:
            return []
        finally:
            waiting = self._waiters.get(key)
            if waiting is not None:
                with contextlib.suppress(ValueError):
                    waiting.remove(waiter)
                if not waiting:
                    del self._waiters[key]

    async def _read(self) -> None:
        while self._waiters:
            streams = {
                key: _id_text(min(w.after for w in waiters))
                for key, waiters in self._waiters.items()
                if waiters
            }
            try:
                reply = await self._store._call(
                    self._store.client.xread, streams, count=100, block=_FEED_BLOCK_MS
                )
            except BackendUnavailable:
                await asyncio.sleep(0.2)  # waiters time out on their own meanwhile
                continue
            for key in streams:
                events = _events(reply, key)
                if not events:
                    continue
                for waiter in list(self._waiters.get(key, ())):
                    mine = [e for e in events if _stream_id(e.id) > waiter.after]
                    if mine and not waiter.future.done():
                        waiter.future.set_result(mine)

    async def aclose(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader


def _events(reply: Any, key: str) -> list[TaskEvent]:
    out: list[TaskEvent] = []
    for stream, items in reply or ():
        name = stream.decode() if isinstance(stream, bytes) else str(stream)
        if name != key:
            continue
        for raw_id, body in items:
            event_id = raw_id.decode() if isinstance(raw_id, bytes) else str(raw_id)
            data = {_text(k): v for k, v in (body or {}).items()}
            kind = _text(data.get("k", b""))
            if kind == "progress":
                progress = TaskProgress.from_dict(_json.loads(data.get("p", b"null")))
                out.append(TaskEvent(id=event_id, kind="progress", progress=progress))
            elif kind == "end":
                status = _text(data.get("s", b""))
                out.append(TaskEvent(id=event_id, kind="end", status=_status(status)))
    return out


def _stream_id(text: str) -> tuple[int, int]:
    ms, _, seq = text.partition("-")
    try:
        return int(ms), int(seq or 0)
    except ValueError:
        return 0, 0


def _id_text(value: tuple[int, int]) -> str:
    return f"{value[0]}-{value[1]}"


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _flat(mapping: Any) -> list[Any]:
    """``HGETALL`` as parsed by redis-py (a dict) back to the flat reply ``fields`` reads."""
    if isinstance(mapping, dict):
        return [item for pair in mapping.items() for item in pair]
    return list(mapping or ())


def _status(text: str) -> TaskStatus:
    return text if text in TASK_STATUSES else "failed"


def _digest(*parts: str) -> str:
    joined = "\x00".join(parts).encode("utf-8", "surrogateescape")
    return hashlib.blake2b(joined, digest_size=16).hexdigest()


def _ms(found: dict[str, bytes], name: str) -> float | None:
    raw = found.get(name)
    return int(raw) / 1000 if raw else None


def _record(task_id: str, found: dict[str, bytes]) -> TaskRecord:
    progress = found.get("progress")
    idem = found.get("idem")
    runner = _text(found.get("runner", b""))
    created = _ms(found, "created") or 0.0
    return TaskRecord(
        id=task_id,
        tool=_text(found.get("tool", b"")),
        owner=_text(found.get("owner", b"")),
        scopes=tuple(_json.loads(found.get("scopes", b"[]"))),
        arguments=_text(found.get("args", b"{}")),
        idempotency_key=_text(idem) if idem else None,
        repeatable=found.get("rep") == b"1",
        status=_status(_text(found.get("status", b"failed"))),
        progress=TaskProgress.from_dict(_json.loads(progress)) if progress else None,
        result=found.get("result") or None,
        created_at=created,
        updated_at=_ms(found, "updated") or created,
        expires_at=_ms(found, "expires"),
        deadline=_ms(found, "deadline"),
        result_ttl=(_ms(found, "ttl") or 0.0),
        runs=int(found.get("runs", b"0")),
        runner=runner or None,
    )


def _new_record(task: NewTask, now: float) -> TaskRecord:
    return TaskRecord(
        id=task.id,
        tool=task.tool,
        owner=task.owner,
        scopes=task.scopes,
        arguments=task.arguments,
        idempotency_key=task.idempotency_key,
        repeatable=task.repeatable,
        status="working",
        progress=None,
        result=None,
        created_at=now,
        updated_at=now,
        expires_at=None,
        deadline=None if task.timeout is None else now + task.timeout,
        result_ttl=task.result_ttl,
        runs=0,
        runner=None,
    )
