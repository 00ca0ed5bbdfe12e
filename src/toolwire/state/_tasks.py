"""The contract every task store implements (memory, Redis).

A task is one tool call run in the background: its record (tool, owner, arguments, status,
latest progress, result), a place in the queue that hands it to one runner at a time, and the
events (progress reports, the end) its watchers follow. The store is mechanism only; what may
run again after a runner disappears is decided by ``runtime._tasks`` from the record's
``runs`` and ``repeatable``.

Every operation that reads and then writes is one atomic step of the store (a critical section
in memory, a Lua script in Redis), so replicas sharing a store never race:

- ``claim`` grants a queued task, or one whose runner's lease has run out, to one runner and
  counts the run (``runs`` is the count *before* this claim, so exactly one claimer ever sees
  0);
- ``finish`` and ``cancel`` end a task only while it is ``working``: the first ending wins and
  every later one leaves the record as it is;
- ``renew`` and ``report`` succeed only for the runner holding the lease.

Times are the store's own clock (seconds since the epoch: the process's in memory, the
server's ``TIME`` in Redis), so processes with different clocks agree. Stores raise
:class:`~toolwire.state.BackendUnavailable` (and only that) when unreachable.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Literal, get_args

TaskStatus = Literal["working", "completed", "failed", "cancelled"]
TASK_STATUSES: tuple[TaskStatus, ...] = get_args(TaskStatus)
TERMINAL: frozenset[str] = frozenset({"completed", "failed", "cancelled"})
EventKind = Literal["progress", "end"]


class TaskLimitReached(Exception):
    """``create`` refused: the owner already has ``limit`` working tasks."""

    def __init__(self, active: int, limit: int) -> None:
        super().__init__(f"{active} working tasks, limit {limit}")
        self.active = active
        self.limit = limit


class TaskKeyReused(Exception):
    """``create`` refused: the idempotency key names a task started with other arguments."""

    def __init__(self, task_id: str) -> None:
        super().__init__(f"the key belongs to task {task_id}")
        self.task_id = task_id


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskProgress:
    """What a tool last reported through ``ctx.report_progress(done, total, message)``."""

    done: float
    total: float | None = None
    message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"done": self.done, "total": self.total, "message": self.message}

    @classmethod
    def from_dict(cls, data: Any) -> TaskProgress | None:
        if not isinstance(data, dict) or not isinstance(data.get("done"), (int, float)):
            return None
        total = data.get("total")
        message = data.get("message")
        return cls(
            done=float(data["done"]),
            total=float(total) if isinstance(total, (int, float)) else None,
            message=message if isinstance(message, str) else None,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class NewTask:
    """What ``create`` stores. ``arguments_digest`` tells a reused idempotency key apart;
    ``timeout`` (seconds from creation) becomes the record's ``deadline``; ``result_ttl`` is
    how long the finished task is kept."""

    id: str
    tool: str
    owner: str
    scopes: tuple[str, ...] = ()
    arguments: str = "{}"
    arguments_digest: str = ""
    idempotency_key: str | None = None
    repeatable: bool = False
    timeout: float | None = None
    result_ttl: float = 24 * 3600.0


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskRecord:
    """A task as stored. ``result`` is the :class:`~toolwire.ToolResult` as JSON bytes (see
    ``runtime._tasks``); ``runs`` counts the claims that started it; ``runner`` holds the
    lease (None when queued or ended); ``expires_at`` is set once it ended."""

    id: str
    tool: str
    owner: str
    scopes: tuple[str, ...]
    arguments: str
    idempotency_key: str | None
    repeatable: bool
    status: TaskStatus
    progress: TaskProgress | None
    result: bytes | None
    created_at: float
    updated_at: float
    expires_at: float | None
    deadline: float | None
    result_ttl: float
    runs: int
    runner: str | None

    @property
    def done(self) -> bool:
        return self.status in TERMINAL

    @classmethod
    def created(cls, task: NewTask, now: float) -> TaskRecord:
        """The record ``create`` stores for ``task`` at ``now``: working, never run."""
        return cls(
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


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskEvent:
    """One event of a task, in order: a progress report, or its ``end`` (with the status)."""

    id: str  # opaque, increasing within one task
    kind: EventKind
    progress: TaskProgress | None = None
    status: TaskStatus | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Claim:
    """A task granted to a runner: ``runs`` is how many claims started it before this one
    (0 for its first run), ``now`` the store's clock at the grant."""

    record: TaskRecord
    runs: int
    now: float


class TaskStore(ABC):
    """Durable task records, a leased queue and per-task events.

    ``shared`` is True when several processes use the same store (Redis): then a task
    outlives the process that started it.
    """

    shared: bool = False

    # -- the caller's side ----------------------------------------------------------------
    @abstractmethod
    async def create(self, task: NewTask, *, max_active: int | None) -> tuple[TaskRecord, bool]:
        """Store and queue ``task``; ``(record, True)``.

        With an idempotency key already used by ``task.owner`` for ``task.tool`` (while that
        task is kept), nothing is created: ``(that task's record, False)``, or
        :class:`TaskKeyReused` when it was started with other arguments. Raises
        :class:`TaskLimitReached` when the owner has ``max_active`` working tasks.
        """

    @abstractmethod
    async def get(self, task_id: str) -> TaskRecord | None:
        """The record, or None when there is none (never was, or expired)."""

    @abstractmethod
    async def snapshot(self, task_id: str) -> tuple[TaskRecord | None, str | None]:
        """The record and the id of its last event (None: none yet), read together."""

    @abstractmethod
    async def page(
        self, owner: str, *, limit: int, cursor: str | None
    ) -> tuple[list[TaskRecord], str | None]:
        """``owner``'s tasks, newest first, ``limit`` at a time; the cursor of the next page."""

    @abstractmethod
    async def cancel(self, record: TaskRecord, result: bytes) -> TaskRecord | None:
        """End the working task ``record`` (as read) as ``cancelled`` with ``result``; the
        record afterwards (another terminal status when it had ended first), None when it is
        gone."""

    @abstractmethod
    async def events(self, task_id: str, after: str | None, wait: float) -> list[TaskEvent]:
        """The task's events after ``after`` (None: from its first), waiting up to ``wait``
        seconds for one when there are none yet (an empty list then)."""

    # -- the runner's side ------------------------------------------------------------------
    @abstractmethod
    async def claim(self, worker: str, *, count: int, lease: float, wait: float) -> list[Claim]:
        """Up to ``count`` tasks for ``worker`` to run, holding each under a ``lease`` of that
        many seconds: queued ones, and working ones whose runner's lease ran out. Waits up to
        ``wait`` seconds when there are none."""

    @abstractmethod
    async def renew(self, worker: str, task_ids: list[str], lease: float) -> set[str]:
        """Extend ``worker``'s leases; the ids still held (the others ended or were taken)."""

    @abstractmethod
    async def report(self, task_id: str, worker: str, progress: TaskProgress) -> bool:
        """Record the latest progress and add a progress event; False when ``worker`` does not
        hold the task any more (it ended, or another runner took it)."""

    @abstractmethod
    async def finish(
        self, record: TaskRecord, status: TaskStatus, result: bytes
    ) -> TaskRecord | None:
        """End the working task ``record`` (as claimed) with ``status`` and ``result``; the
        first ending wins. The record afterwards, None when it is gone."""

    @abstractmethod
    async def release(self, task_id: str, worker: str) -> None:
        """Give a held task back at once (this runner stops): another claim may take it now."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
