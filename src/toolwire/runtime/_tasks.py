"""Durable tasks: tool calls run in the background, watched, cancelled and fetched later.

``Tasks`` is the one API under every transport (``Toolbox.start``, REST, gRPC, MCP): it
stores each task in a :class:`~toolwire.state.TaskStore` (memory for one process, Redis for
replicas), and its worker claims queued tasks and runs them through ``Toolbox.call``, the one
execution path, so the tool's policies (timeout, retries, breaker, concurrency, rate limit)
apply to the task's run as to any call.

Guarantees (see ``docs/tasks.md``):

- **at most once** for a tool that is neither idempotent nor read-only, started without an
  idempotency key: its handler is started by the first claim only. If the runner disappears
  (process killed, cut off from the store past its lease), the task ends ``failed`` with the
  reason ``interrupted`` instead of running again, even if the handler had not started yet.
- **at least once** for the others (``repeatable``): a task whose runner disappeared is
  claimed again after the lease runs out and run again, up to ``max_runs`` starts. Two runs
  may then overlap (a runner that was only cut off keeps going); the first to finish wins and
  the later result is dropped.
- A task ends exactly once: ``completed``, ``failed`` or ``cancelled``, whichever is written
  first; a cancellation racing the end either wins (``cancelled``) or finds it ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from toolwire import _json
from toolwire._calls import ToolResult
from toolwire._context import Caller
from toolwire._errors import ToolError, ToolFailure
from toolwire.runtime._task_worker import Worker, encode_result
from toolwire.state._base import BackendUnavailable
from toolwire.state._tasks import (
    NewTask,
    TaskKeyReused,
    TaskLimitReached,
    TaskProgress,
    TaskRecord,
    TaskStatus,
    TaskStore,
)

if TYPE_CHECKING:
    from toolwire.runtime._plan import CallingBox

# A watcher re-reads the record after this long without events: the end is never missed when
# an event was (a store restarted without persistence, a trimmed event stream).
_RECHECK_S = 5.0
UNKNOWN_TASK = "unknown_task"
KEY_REUSED = "idempotency_key_reused"


class UnknownTask(ToolFailure):
    """No such task for this caller: it never existed, expired, or belongs to someone else
    (the three are told apart for nobody, so task ids cannot be probed)."""

    def __init__(self, task_id: str) -> None:
        super().__init__(
            "invalid_arguments",
            f"There is no task {task_id!r} (it never existed, has expired, or is not yours).",
            details={"reason": UNKNOWN_TASK, "task_id": task_id},
        )
        self.task_id = task_id


@contextlib.contextmanager
def _store_errors() -> Iterator[None]:
    """The store out of reach is ``unavailable`` for the caller (503, retry shortly)."""
    try:
        yield
    except BackendUnavailable as exc:
        raise ToolFailure(
            "unavailable",
            "The task store cannot be reached right now; try again in a moment.",
            details={"reason": "task_store_unavailable"},
            retry_after=1.0,
        ) from exc


def iso(timestamp: float) -> str:
    """``timestamp`` (seconds since the epoch) as ISO 8601 in UTC with milliseconds."""
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskInfo:
    """A task as its caller sees it: status, latest progress, the result once it ended.

    ``result`` is the :class:`~toolwire.ToolResult` of the run (or of the cancellation) once
    ``status`` is ``completed``, ``failed`` or ``cancelled``; None while ``working``.
    """

    id: str
    tool: str
    status: TaskStatus
    progress: TaskProgress | None
    result: ToolResult | None
    created_at: float
    updated_at: float
    expires_at: float | None
    result_ttl: float

    @property
    def done(self) -> bool:
        return self.status != "working"

    def to_dict(self) -> dict[str, Any]:
        """The REST shape (``GET /v1/tasks/{id}``): exactly these seven fields."""
        return {
            "task_id": self.id,
            "tool": self.tool,
            "status": self.status,
            "progress": self.progress.to_dict() if self.progress is not None else None,
            "result": self.result.to_dict() if self.result is not None else None,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
        }

    @classmethod
    def of(cls, record: TaskRecord) -> TaskInfo:
        return cls(
            id=record.id,
            tool=record.tool,
            status=record.status,
            progress=record.progress,
            result=decode_result(record.result) if record.result is not None else None,
            created_at=record.created_at,
            updated_at=record.updated_at,
            expires_at=record.expires_at,
            result_ttl=record.result_ttl,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskUpdate:
    """One thing that happened to a task: a ``progress`` report or its ``end``; ``task`` is
    the task right after it, ``id`` what to resume a watch after."""

    id: str | None
    kind: str
    task: TaskInfo


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskPage:
    tasks: list[TaskInfo]
    next_cursor: str | None


class TaskHandle:
    """A started task. ``await handle.result()`` waits for its end.

    Example::

        handle = await box.start("build_report", {"year": 2025})
        async for update in handle.watch():
            print(update.kind, update.task.progress)
        result = await handle.result()
    """

    __slots__ = ("_caller", "_tasks", "id", "tool")

    def __init__(self, tasks: Tasks, task_id: str, tool: str, caller: Caller | None) -> None:
        self._tasks = tasks
        self._caller = caller
        self.id = task_id
        self.tool = tool

    def __repr__(self) -> str:
        return f"<TaskHandle {self.id} ({self.tool})>"

    async def status(self) -> TaskInfo:
        """The task now (``.status`` is ``working``, ``completed``, ``failed`` or ``cancelled``)."""
        return await self._tasks.get(self.id, caller=self._caller)

    def watch(self, *, after: str | None = None) -> AsyncIterator[TaskUpdate]:
        """Each progress report, then the end (see :meth:`Tasks.watch`)."""
        return self._tasks.watch(self.id, caller=self._caller, after=after)

    async def result(self) -> ToolResult:
        """The tool's result once the task ended (waits: bound it with ``asyncio.timeout``)."""
        info = await self._tasks.wait(self.id, caller=self._caller)
        assert info.result is not None
        return info.result

    async def cancel(self) -> TaskInfo:
        """Ask the task to stop; the task afterwards (``cancelled``, or how it had ended)."""
        return await self._tasks.cancel(self.id, caller=self._caller)


class Tasks:
    """Tasks of one toolbox over one store; shared by every transport serving the toolbox.

    ``result_ttl``: seconds a finished task (and its result) is kept. ``max_per_caller``:
    working tasks one caller may have (more are refused as ``rate_limited``). ``workers``:
    tasks this process runs at once. ``lease``: seconds a runner holds a task without renewing
    (renewed a third of it apart); another process may take it over after that. ``timeout``:
    seconds from a task's creation after which its run is stopped (None: the tool's own policy
    timeouts only). ``max_runs``: starts of a repeatable task (one whose runners keep
    disappearing is failed after that many). ``shutdown_grace``: seconds ``aclose`` lets
    running tasks finish before stopping them.

    Example::

        box = tw.Toolbox([build_report], tasks=Tasks(RedisTaskStore(url), workers=4))
    """

    def __init__(
        self,
        store: TaskStore | None = None,
        *,
        result_ttl: float = 24 * 3600.0,
        max_per_caller: int | None = 100,
        workers: int = 16,
        lease: float = 30.0,
        timeout: float | None = None,
        max_runs: int = 3,
        shutdown_grace: float = 10.0,
    ) -> None:
        for name, value in (("result_ttl", result_ttl), ("lease", lease)):
            if not value > 0:
                raise ValueError(f"Tasks: {name} must be positive, got {value!r}")
        if workers < 1 or max_runs < 1 or (max_per_caller is not None and max_per_caller < 1):
            raise ValueError("Tasks: workers, max_runs and max_per_caller must be at least 1")
        if timeout is not None and not timeout > 0:
            raise ValueError(f"Tasks: timeout must be positive, got {timeout!r}")
        if store is None:
            from toolwire.state._tasks_memory import MemoryTaskStore

            store = MemoryTaskStore()
        self.store = store
        self.result_ttl = result_ttl
        self.max_per_caller = max_per_caller
        self.timeout = timeout
        self._box: CallingBox | None = None
        self._worker = Worker(
            store,
            workers=workers,
            lease=lease,
            max_runs=max_runs,
            shutdown_grace=shutdown_grace,
        )

    # -- wiring -----------------------------------------------------------------------------
    def _attach(self, box: CallingBox) -> None:
        if self._box is not None and self._box is not box:
            raise ValueError("these Tasks already serve another toolbox")
        self._box = box
        self._worker.box = box

    @property
    def box(self) -> CallingBox:
        if self._box is None:
            raise RuntimeError("Tasks is not attached to a toolbox: pass it as Toolbox(tasks=...)")
        return self._box

    @property
    def worker_id(self) -> str:
        return self._worker.id

    async def run(self) -> None:
        """Start this process's worker (claims and runs tasks) in the running loop; idempotent.

        ``start`` does it too; a server calls it at startup so that tasks left by a replica
        that stopped are taken over even before this one starts any.
        """
        self.box  # noqa: B018 - refuse to run unattached
        self._worker.ensure_running()

    async def aclose(self) -> None:
        """Stop claiming; give running tasks ``shutdown_grace`` seconds, then stop them (a
        repeatable one is handed back for another process, another ends ``interrupted``)."""
        await self._worker.aclose()

    async def __aenter__(self) -> Tasks:
        await self.run()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- the caller's side --------------------------------------------------------------------
    async def start(
        self,
        name: str,
        arguments: Any = "{}",
        *,
        caller: Caller | None = None,
        idempotency_key: str | None = None,
    ) -> TaskHandle:
        """Validate the call and store it as a task; it runs in the background.

        Raises :class:`~toolwire.UnknownTool`, :class:`~toolwire.InvalidArguments`, or
        :class:`~toolwire.ToolFailure` when the tool's ``task_support`` is ``forbidden``
        (``invalid_arguments``), the caller has ``max_per_caller`` working tasks
        (``rate_limited``) or the idempotency key was used for other arguments. With a key
        used before (same caller, tool and arguments) the handle is that task's.
        """
        info = await self.begin(name, arguments, caller=caller, idempotency_key=idempotency_key)
        return TaskHandle(self, info.id, info.tool, caller)

    async def begin(
        self,
        name: str,
        arguments: Any = "{}",
        *,
        caller: Caller | None = None,
        idempotency_key: str | None = None,
    ) -> TaskInfo:
        """:meth:`start`, answering the task as stored (what a transport shows at once)."""
        box = self.box
        tool = box.get(name)
        if tool.spec.task_support == "forbidden":
            raise ToolFailure(
                "invalid_arguments",
                f"`{tool.name}` does not run as a task (its task_support is 'forbidden'); "
                "call it directly instead.",
                details={"reason": "task_support_forbidden", "tool": tool.name},
            )
        text = _arguments_text(arguments)
        tool.validate(text)  # bad arguments fail now, not later in the background
        owner = caller.id if caller is not None else ""
        task = NewTask(
            id=new_task_id(),
            tool=tool.name,
            owner=owner,
            scopes=tuple(sorted(caller.scopes)) if caller is not None else (),
            arguments=text,
            arguments_digest=_digest(text),
            idempotency_key=idempotency_key,
            repeatable=tool.annotations.safe_to_repeat or idempotency_key is not None,
            timeout=self.timeout,
            result_ttl=self.result_ttl,
        )
        # the caller itself (its credentials are never stored) for a run in this process
        self._worker.callers[task.id] = caller
        try:
            with _store_errors():
                record, _ = await self.store.create(task, max_active=self.max_per_caller)
        except TaskLimitReached as exc:
            self._worker.callers.pop(task.id, None)
            raise ToolFailure(
                "rate_limited",
                f"You have {exc.active} tasks working (the limit is {exc.limit}); wait for one "
                "to end or cancel one.",
                details={"reason": "task_limit", "limit": exc.limit},
                retry_after=1.0,
            ) from None
        except TaskKeyReused as exc:
            self._worker.callers.pop(task.id, None)
            raise ToolFailure(
                "invalid_arguments",
                f"Idempotency key {idempotency_key!r} was already used to start task "
                f"{exc.task_id} of `{tool.name}` with other arguments; use a new key.",
                details={"reason": KEY_REUSED, "task_id": exc.task_id},
            ) from None
        except BaseException:
            self._worker.callers.pop(task.id, None)
            raise
        if record.id != task.id:  # the key's earlier task
            self._worker.callers.pop(task.id, None)
        self._worker.ensure_running()
        return TaskInfo.of(record)

    def handle(self, task_id: str, *, caller: Caller | None = None) -> TaskHandle:
        """A handle on an existing task (nothing is checked until it is used)."""
        return TaskHandle(self, task_id, "", caller)

    async def _own(self, task_id: str, caller: Caller | None) -> TaskRecord:
        with _store_errors():
            record = await self.store.get(task_id) if _plausible(task_id) else None
        if record is None or record.owner != (caller.id if caller is not None else ""):
            raise UnknownTask(task_id)
        return record

    async def get(self, task_id: str, *, caller: Caller | None = None) -> TaskInfo:
        """The task now; :class:`UnknownTask` when ``caller`` has none by that id."""
        return TaskInfo.of(await self._own(task_id, caller))

    async def list(
        self, *, caller: Caller | None = None, limit: int = 100, cursor: str | None = None
    ) -> TaskPage:
        """``caller``'s tasks, newest first, ``limit`` (1-1000) at a time."""
        if not 1 <= limit <= 1000:
            raise ToolFailure("invalid_arguments", "limit must be between 1 and 1000")
        owner = caller.id if caller is not None else ""
        try:
            with _store_errors():
                records, after = await self.store.page(owner, limit=limit, cursor=cursor)
        except ValueError:
            raise ToolFailure(
                "invalid_arguments",
                "The cursor is not one this server gave out; start again without it.",
                details={"reason": "bad_cursor"},
            ) from None
        return TaskPage(tasks=[TaskInfo.of(r) for r in records], next_cursor=after)

    async def cancel(self, task_id: str, *, caller: Caller | None = None) -> TaskInfo:
        """Cancel a working task (its run is stopped wherever it runs); the task afterwards.

        A task that had ended stays as it ended (this is not an error).
        """
        record = await self._own(task_id, caller)
        if record.done:
            return TaskInfo.of(record)
        cancelled = ToolResult(
            call_id=record.id,
            name=record.tool,
            ok=False,
            error=ToolError(kind="cancelled", message="The task was cancelled by its caller."),
            attempts=0,
        )
        with _store_errors():
            after = await self.store.cancel(record, encode_result(cancelled))
        if after is None:
            raise UnknownTask(task_id)
        self._worker.cancelled(task_id)  # this process's run, if any, stops now
        return TaskInfo.of(after)

    async def watch(
        self, task_id: str, *, caller: Caller | None = None, after: str | None = None
    ) -> AsyncIterator[TaskUpdate]:
        """Each progress report as it happens, then the end; returns after the end.

        Without ``after`` the first update is the latest progress already reported (if any);
        with ``after`` (an update's ``id``) it resumes after that update. A task that has
        already ended yields its end at once.
        """
        with _store_errors():
            found = await self.store.snapshot(task_id) if _plausible(task_id) else (None, None)
        record, last = found
        if record is None or record.owner != (caller.id if caller is not None else ""):
            raise UnknownTask(task_id)
        info = TaskInfo.of(record)
        if after is None:
            if info.done:
                yield TaskUpdate(id=last, kind="end", task=info)
                return
            if info.progress is not None:
                yield TaskUpdate(id=last, kind="progress", task=info)
            after = last
        quiet = 0.0
        while True:
            try:
                events = await self.store.events(task_id, after, wait=0.0 if info.done else 1.0)
            except BackendUnavailable:  # ride out an outage: the task goes on meanwhile
                await asyncio.sleep(0.5)
                quiet += 0.5
                continue
            if not events and info.done:  # resumed after the end, or its events are gone
                yield TaskUpdate(id=last, kind="end", task=info)
                return
            if not events:
                quiet += 1.0
                if quiet >= _RECHECK_S:
                    quiet = 0.0
                    fresh = await self._fresh(task_id)
                    if fresh is not None and fresh.done:
                        yield TaskUpdate(id=after, kind="end", task=TaskInfo.of(fresh))
                        return
                continue
            quiet = 0.0
            for event in events:
                after = event.id
                if event.kind == "end":
                    final = await self._fresh(task_id)
                    if final is None:  # the store did not answer: the end is known anyway
                        continue
                    yield TaskUpdate(id=event.id, kind="end", task=TaskInfo.of(final))
                    return
                if event.progress is not None:
                    info = replace(info, progress=event.progress)
                    yield TaskUpdate(id=event.id, kind="progress", task=info)

    async def _fresh(self, task_id: str) -> TaskRecord | None:
        """The record again (None while the store is unreachable); ``UnknownTask`` when it is
        gone (expired, or lost with a store that restarted empty)."""
        try:
            record = await self.store.get(task_id)
        except BackendUnavailable:
            return None
        if record is None:
            raise UnknownTask(task_id)
        return record

    async def wait(self, task_id: str, *, caller: Caller | None = None) -> TaskInfo:
        """The task once it has ended (waits: bound it with ``asyncio.timeout``)."""
        async for update in self.watch(task_id, caller=caller):
            if update.kind == "end":
                return update.task
        raise UnknownTask(task_id)  # pragma: no cover - watch ends with the end or raises


def new_task_id() -> str:
    """128 random bits (the id is the only thing a caller needs to name a task, so it must
    not be guessable), prefixed so logs and errors say what it is."""
    return "task_" + secrets.token_hex(16)


def _plausible(task_id: Any) -> bool:
    # bounded before it reaches the store (a key name, an event stream name)
    return isinstance(task_id, str) and 0 < len(task_id) <= 128 and task_id.isprintable()


def _digest(text: str) -> str:
    try:
        canonical = _json.dumps_bytes(_json.loads(text), canonical=True)
    except ValueError:
        canonical = text.encode("utf-8", "surrogateescape")
    return hashlib.blake2b(canonical, digest_size=16).hexdigest()


def _arguments_text(arguments: Any) -> str:
    if isinstance(arguments, str):
        return arguments
    if isinstance(arguments, (bytes, bytearray, memoryview)):
        return bytes(arguments).decode("utf-8", "surrogateescape")
    if arguments is None:
        return "{}"
    return _json.dumps(arguments)


def decode_result(data: bytes) -> ToolResult:
    """A stored result (``encode_result``) back as a :class:`~toolwire.ToolResult`."""
    raw = _json.loads(data)
    error = raw.get("error")
    return ToolResult(
        call_id=str(raw.get("call_id", "")),
        name=str(raw.get("name", "")),
        ok=bool(raw.get("ok")),
        value=raw.get("value"),
        error=None
        if not isinstance(error, dict)
        else ToolError(
            kind=error.get("kind", "execution_error"),
            message=str(error.get("message", "")),
            details=error.get("details") or {},
            retry_after=error.get("retry_after"),
        ),
        attempts=int(raw.get("attempts", 0)),
        cached=bool(raw.get("cached", False)),
        elapsed_s=float(raw.get("elapsed_s", 0.0)),
    )
