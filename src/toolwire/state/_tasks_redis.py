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
from toolwire.state._redis_client import PoolWait, build_client
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
from toolwire.state._tasks_feed import Feed
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
    decode_claims,
    decode_create,
    decode_end,
    decode_snapshot,
    fields,
)

_GROUP_TAG = "tasks"
_BLOCK_MAX_MS = 1000  # under the client's socket timeout: a blocking read is not an outage
_RENEW_BATCH = 100
_RELEASED_IDLE_MS = 24 * 3600 * 1000


class RedisTaskStore(TaskStore):
    """Tasks shared by every process using the same Redis (and ``prefix``).

    Give a URL (``redis://``, ``redis+cluster://`` for a cluster, ``redis+sentinel://`` behind
    Sentinel) or a client; or share a
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
            from redis.exceptions import (
                RedisClusterException,
                RedisError,
                ResponseError,
            )
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise MissingExtra("redis", "redis") from exc
        self._owns_client = client is None
        if client is None:
            if url is None:
                raise ValueError("RedisTaskStore needs a url or a client")
            client = build_client(
                url,
                cluster=cluster,
                max_connections=max_connections,
                pool_timeout=timeout,
                connect_timeout=connect_timeout,
                timeout=max(timeout, _BLOCK_MAX_MS / 1000 + 1.0),
                hidden_retries=True,  # the store rides out a lost connection as before
            )
        self.client = client
        self.prefix = prefix
        self.index_cap = index_cap
        self._errors: tuple[type[BaseException], ...] = (RedisError, RedisClusterException, OSError)
        self._response_error: type[BaseException] = ResponseError
        # a burst (1,000 starts at once) queues for a connection: load, not an outage
        self._pool = PoolWait(timeout, label="Redis (tasks)")
        self._create = client.register_script(CREATE)
        self._claim = client.register_script(CLAIM)
        self._renew = client.register_script(RENEW)
        self._report = client.register_script(REPORT)
        self._end = client.register_script(END)
        self._release = client.register_script(RELEASE)
        self._snapshot = client.register_script(SNAPSHOT)
        self._group_ready = False
        self._group_lock = asyncio.Lock()
        self._sweep_at = 0.0
        self._sweep_from: Any = "0-0"
        self._feed = Feed(self._xread)

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
            return await self._pool.call(func, *args, **kwargs)
        except self._errors as exc:
            if isinstance(exc, self._response_error) and "NOGROUP" in str(exc):
                self._group_ready = False  # the server lost the queue (restarted empty)
            raise BackendUnavailable(f"Redis (tasks): {type(exc).__name__}: {exc}") from exc

    async def _script(self, script: Any, keys: list[str], args: list[Any]) -> Any:
        return await self._call(script, keys=keys, args=args)

    async def _xread(self, streams: dict[str, str], block: int | None) -> Any:
        return await self._call(self.client.xread, streams, count=100, block=block)

    async def _ensure_group(self) -> None:
        if self._group_ready:
            return
        # one creation in flight: a burst of first starts (1,000 at once) would otherwise open
        # a connection each just to be told BUSYGROUP, and time out connecting on a busy host
        async with self._group_lock:
            await self._create_group()  # unless the call ahead of us made it

    async def _create_group(self) -> None:
        if self._group_ready:
            return
        try:
            await self._pool.call(
                self.client.xgroup_create, self.queue_key, GROUP, id="0", mkstream=True
            )
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
                return TaskRecord.created(task, now), True
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

        async def read_records() -> Any:
            # built per attempt: a pipeline is emptied by an execute that failed
            pipe = self.client.pipeline(transaction=False)
            for task_id, _ in wanted:
                pipe.hgetall(self.record_key(task_id))
            return await pipe.execute()

        found = await self._call(read_records) if wanted else []
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
        found: list[tuple[str, Any]] = []
        for qid, body in entries:
            raw_id = (body or {}).get(b"id") or (body or {}).get("id")
            if raw_id is not None:  # (no body: an entry deleted while pending)
                found.append((raw_id.decode() if isinstance(raw_id, bytes) else str(raw_id), qid))
        if not found:
            return []
        reply = await self._script(
            self._claim,
            [self.queue_key, *(self.record_key(task_id) for task_id, _ in found)],
            [worker, lease_ms, *(qid for _, qid in found)],
        )
        claims: list[Claim] = []
        for (task_id, _), granted in zip(found, decode_claims(reply), strict=True):
            if granted is not None:
                runs, now_ms, record = granted
                claims.append(Claim(record=_record(task_id, record), runs=runs, now=now_ms / 1000))
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
