"""Tasks in this process's memory: the same contract as Redis, gone when the process ends.

Every method is a critical section of the event loop (no ``await`` between reading and writing
a record), so concurrent calls in one loop never race. Use it from one event loop.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import heapq
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from toolwire.state._tasks import (
    TERMINAL,
    Claim,
    EventKind,
    NewTask,
    TaskEvent,
    TaskKeyReused,
    TaskLimitReached,
    TaskProgress,
    TaskRecord,
    TaskStatus,
    TaskStore,
)

MAX_EVENTS = 1000  # per task: a watcher further behind resumes from the oldest kept


@dataclass(slots=True)
class _Entry:
    record: TaskRecord
    digest: str
    lease_until: float = 0.0
    queued: bool = True
    seq: int = 0
    events: collections.deque[TaskEvent] = field(
        default_factory=lambda: collections.deque(maxlen=MAX_EVENTS)
    )
    changed: asyncio.Event | None = None  # set (and replaced) when an event is added


class MemoryTaskStore(TaskStore):
    """Tasks for one process. ``clock`` (seconds since the epoch) is replaceable in tests.

    Example::

        tasks = Tasks(MemoryTaskStore())
    """

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._tasks: dict[str, _Entry] = {}
        self._owners: dict[str, dict[str, None]] = {}
        self._active: dict[str, set[str]] = {}
        self._idem: dict[tuple[str, str, str], str] = {}
        self._queue: collections.deque[str] = collections.deque()
        self._expiry: list[tuple[float, str]] = []
        self._wake: asyncio.Event | None = None

    # -- housekeeping ---------------------------------------------------------------------
    def _purge(self, now: float) -> None:
        while self._expiry and self._expiry[0][0] <= now:
            _, task_id = heapq.heappop(self._expiry)
            entry = self._tasks.get(task_id)
            record = entry.record if entry is not None else None
            if record is None or record.expires_at is None or record.expires_at > now:
                continue
            del self._tasks[task_id]
            self._owners.get(record.owner, {}).pop(task_id, None)
            if record.idempotency_key is not None:
                key = (record.owner, record.tool, record.idempotency_key)
                if self._idem.get(key) == task_id:
                    del self._idem[key]

    def _entry(self, task_id: str) -> _Entry | None:
        self._purge(self._clock())
        return self._tasks.get(task_id)

    def _event(
        self,
        entry: _Entry,
        kind: EventKind,
        *,
        progress: TaskProgress | None = None,
        status: TaskStatus | None = None,
    ) -> None:
        entry.seq += 1
        entry.events.append(
            TaskEvent(id=str(entry.seq), kind=kind, progress=progress, status=status)
        )
        if entry.changed is not None:
            entry.changed.set()
            entry.changed = None

    def _notify_queue(self) -> None:
        if self._wake is not None:
            self._wake.set()
            self._wake = None

    # -- the caller's side ----------------------------------------------------------------
    async def create(self, task: NewTask, *, max_active: int | None) -> tuple[TaskRecord, bool]:
        now = self._clock()
        self._purge(now)
        if task.idempotency_key is not None:
            known = self._idem.get((task.owner, task.tool, task.idempotency_key))
            entry = self._tasks.get(known) if known is not None else None
            if entry is not None:
                if entry.digest != task.arguments_digest:
                    raise TaskKeyReused(entry.record.id)
                return entry.record, False
        active = self._active.setdefault(task.owner, set())
        if max_active is not None and len(active) >= max_active:
            raise TaskLimitReached(len(active), max_active)
        record = TaskRecord.created(task, now)
        self._tasks[task.id] = _Entry(record=record, digest=task.arguments_digest)
        self._owners.setdefault(task.owner, {})[task.id] = None
        active.add(task.id)
        if task.idempotency_key is not None:
            self._idem[(task.owner, task.tool, task.idempotency_key)] = task.id
        self._queue.append(task.id)
        self._notify_queue()
        return record, True

    async def get(self, task_id: str) -> TaskRecord | None:
        entry = self._entry(task_id)
        return entry.record if entry is not None else None

    async def snapshot(self, task_id: str) -> tuple[TaskRecord | None, str | None]:
        entry = self._entry(task_id)
        if entry is None:
            return None, None
        return entry.record, (str(entry.seq) if entry.seq else None)

    async def page(
        self, owner: str, *, limit: int, cursor: str | None
    ) -> tuple[list[TaskRecord], str | None]:
        self._purge(self._clock())
        records = [self._tasks[t].record for t in self._owners.get(owner, {}) if t in self._tasks]
        records.sort(key=lambda r: (r.created_at, r.id), reverse=True)
        if cursor is not None:
            after = _parse_cursor(cursor)
            records = [r for r in records if (r.created_at, r.id) < after]
        chosen = records[:limit]
        more = len(records) > limit
        return chosen, (_cursor(chosen[-1]) if more and chosen else None)

    def _end(self, entry: _Entry, status: TaskStatus, result: bytes, now: float) -> TaskRecord:
        record = dataclasses.replace(
            entry.record,
            status=status,
            result=result,
            updated_at=now,
            expires_at=now + entry.record.result_ttl,
            runner=None,
        )
        entry.record = record
        entry.queued = False
        self._active.get(record.owner, set()).discard(record.id)
        assert record.expires_at is not None
        heapq.heappush(self._expiry, (record.expires_at, record.id))
        self._event(entry, "end", status=status)
        return record

    async def cancel(self, record: TaskRecord, result: bytes) -> TaskRecord | None:
        entry = self._entry(record.id)
        if entry is None:
            return None
        if entry.record.status in TERMINAL:
            return entry.record
        return self._end(entry, "cancelled", result, self._clock())

    async def events(self, task_id: str, after: str | None, wait: float) -> list[TaskEvent]:
        entry = self._entry(task_id)
        if entry is None:
            return []
        seen = int(after) if after is not None and after.isdigit() else 0
        if entry.seq <= seen and wait > 0:
            if entry.changed is None:
                entry.changed = asyncio.Event()
            changed = entry.changed
            try:
                await asyncio.wait_for(changed.wait(), wait)
            except TimeoutError:
                return []
        return [e for e in entry.events if int(e.id) > seen]

    # -- the runner's side ------------------------------------------------------------------
    async def claim(self, worker: str, *, count: int, lease: float, wait: float) -> list[Claim]:
        claims = self._grant(worker, count, lease)
        if claims or wait <= 0:
            return claims
        if self._wake is None:
            self._wake = asyncio.Event()
        wake = self._wake
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), wait)
        return self._grant(worker, count, lease)

    def _grant(self, worker: str, count: int, lease: float) -> list[Claim]:
        now = self._clock()
        self._purge(now)
        claims: list[Claim] = []
        while self._queue and len(claims) < count:
            entry = self._tasks.get(self._queue.popleft())
            if entry is not None and entry.queued and entry.record.status == "working":
                claims.append(self._hold(entry, worker, lease, now))
        if len(claims) < count:  # working tasks whose runner stopped renewing
            for entry in self._tasks.values():
                if len(claims) >= count:
                    break
                record = entry.record
                if (
                    record.status == "working"
                    and not entry.queued
                    and record.runner is not None
                    and entry.lease_until <= now
                ):
                    claims.append(self._hold(entry, worker, lease, now))
        return claims

    def _hold(self, entry: _Entry, worker: str, lease: float, now: float) -> Claim:
        runs = entry.record.runs
        entry.record = dataclasses.replace(entry.record, runs=runs + 1, runner=worker)
        entry.queued = False
        entry.lease_until = now + lease
        return Claim(record=entry.record, runs=runs, now=now)

    async def renew(self, worker: str, task_ids: list[str], lease: float) -> set[str]:
        now = self._clock()
        held: set[str] = set()
        for task_id in task_ids:
            entry = self._tasks.get(task_id)
            record = entry.record if entry is not None else None
            if record is not None and record.runner == worker and record.status == "working":
                assert entry is not None
                entry.lease_until = now + lease
                held.add(task_id)
        return held

    async def report(self, task_id: str, worker: str, progress: TaskProgress) -> bool:
        entry = self._tasks.get(task_id)
        if entry is None or entry.record.runner != worker or entry.record.status != "working":
            return False
        entry.record = dataclasses.replace(
            entry.record, progress=progress, updated_at=self._clock()
        )
        self._event(entry, "progress", progress=progress)
        return True

    async def finish(
        self, record: TaskRecord, status: TaskStatus, result: bytes
    ) -> TaskRecord | None:
        entry = self._tasks.get(record.id)
        if entry is None:
            return None
        if entry.record.status in TERMINAL:
            return entry.record
        return self._end(entry, status, result, self._clock())

    async def release(self, task_id: str, worker: str) -> None:
        entry = self._tasks.get(task_id)
        if entry is not None and entry.record.runner == worker:
            entry.lease_until = 0.0
            self._notify_queue()


def _cursor(record: TaskRecord) -> str:
    return f"{record.created_at!r}:{record.id}"


def _parse_cursor(cursor: str) -> tuple[float, str]:
    created, _, task_id = cursor.partition(":")
    try:
        return float(created), task_id
    except ValueError:
        raise ValueError(f"not a task list cursor: {cursor!r}") from None
