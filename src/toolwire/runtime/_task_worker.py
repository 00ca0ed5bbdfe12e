"""The worker of ``Tasks``: claims tasks from the store and runs each through ``Toolbox.call``.

One claim loop (at most ``workers`` tasks at once), one lease renewer for every task this
process holds, and per running task a follower that stops the run as soon as the task ends
elsewhere (cancelled by a caller on any replica, or finished by another runner). Progress
reported by the tool is written to the store with at most one write in flight per task (the
latest report wins), so a chatty tool cannot flood the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import threading
import time
from typing import TYPE_CHECKING, Any

from toolwire import _json
from toolwire._backoff import backoff_delay
from toolwire._calls import ToolResult
from toolwire._context import Caller
from toolwire._errors import ToolError
from toolwire.state._base import BackendUnavailable
from toolwire.state._tasks import Claim, TaskProgress, TaskRecord, TaskStatus, TaskStore

if TYPE_CHECKING:
    from toolwire.runtime._plan import CallingBox

log = logging.getLogger("toolwire.tasks")

_MESSAGE_MAX = 2000  # characters of a progress message kept
_RETRY_FIRST_S = 0.05  # backoff of the store loops while the store is unreachable
_RETRY_MAX_S = 2.0
_UNSET: Any = object()


def encode_result(result: ToolResult) -> bytes:
    """A result as the store keeps it (the REST shape of ``POST .../call``, as JSON)."""
    try:
        return _json.dumps_bytes(result.to_dict())
    except (TypeError, ValueError) as exc:
        broken = ToolResult(
            call_id=result.call_id,
            name=result.name,
            ok=False,
            error=ToolError(
                kind="execution_error",
                message=f"`{result.name}` returned a value that is not JSON data: {exc}",
            ),
            attempts=result.attempts,
            elapsed_s=result.elapsed_s,
        )
        return _json.dumps_bytes(broken.to_dict())


def failure(record: TaskRecord, kind: str, message: str, reason: str) -> bytes:
    """The stored result of a task that ended without a run of its own."""
    result = ToolResult(
        call_id=record.id,
        name=record.tool,
        ok=False,
        error=ToolError(kind=kind, message=message, details={"reason": reason}),  # type: ignore[arg-type]
        attempts=0,
    )
    return encode_result(result)


class _Callers(dict[str, Caller | None]):
    """The callers of tasks started in this process, for their run here. Bounded: a task run
    by another replica never comes back for its caller, and the oldest are dropped (their run
    here, if any, gets the stored id and scopes instead)."""

    def __init__(self, cap: int = 10_000) -> None:
        super().__init__()
        self.cap = cap

    def __setitem__(self, key: str, value: Caller | None) -> None:
        super().__setitem__(key, value)
        if len(self) > self.cap:
            del self[next(iter(self))]


class _Run:
    """One task this process runs: the call, and why it was stopped (None: not stopped)."""

    __slots__ = ("call", "record", "stopped", "task")

    def __init__(self, record: TaskRecord) -> None:
        self.record = record
        self.call: asyncio.Future[ToolResult] | None = None
        self.task: asyncio.Task[None] | None = None
        self.stopped: str | None = None

    @property
    def is_stopped(self) -> bool:
        return self.stopped is not None

    def stop(self, why: str) -> None:
        if self.stopped is None:
            self.stopped = why
        if self.call is not None:
            self.call.cancel()


class _Progress:
    """The progress callback handed to ``Toolbox.call``: callable from the loop (async tools)
    or from a worker thread (sync tools); writes the latest report, one write at a time."""

    def __init__(self, store: TaskStore, task_id: str, worker: str, run: _Run) -> None:
        self._store = store
        self._task_id = task_id
        self._worker = worker
        self._run = run
        self._loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()
        self._latest: TaskProgress | None = None
        self._writer: asyncio.Task[None] | None = None

    def __call__(self, done: float, total: float | None = None, message: str | None = None) -> None:
        try:
            progress = TaskProgress(
                done=float(done),
                total=None if total is None else float(total),
                message=None if message is None else str(message)[:_MESSAGE_MAX],
            )
        except (TypeError, ValueError):
            return  # not numbers: nothing a caller could read
        if threading.get_ident() == self._thread:
            self._set(progress)
        else:
            self._loop.call_soon_threadsafe(self._set, progress)

    def _set(self, progress: TaskProgress) -> None:
        self._latest = progress
        if self._writer is None or self._writer.done():
            self._writer = self._loop.create_task(self._write())

    async def _write(self) -> None:
        while self._latest is not None:
            progress, self._latest = self._latest, None
            try:
                held = await self._store.report(self._task_id, self._worker, progress)
            except BackendUnavailable:
                continue  # progress is best effort: the next report (or the end) follows
            if not held:
                self._run.stop("lost")
                return

    async def flush(self) -> None:
        writer = self._writer
        if writer is not None and not writer.done():
            with contextlib.suppress(Exception):
                await writer


class Worker:
    """Claims and runs tasks for one process (see the module docstring)."""

    def __init__(
        self,
        store: TaskStore,
        *,
        workers: int,
        lease: float,
        max_runs: int,
        shutdown_grace: float,
    ) -> None:
        self.store = store
        self.box: CallingBox | None = None
        self.workers = workers
        self.lease = lease
        self.max_runs = max_runs
        self.shutdown_grace = shutdown_grace
        self.id = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        # the callers of tasks started here (with credentials, never stored), for their run
        self.callers = _Callers()
        self._running: dict[str, _Run] = {}
        self._claimer: asyncio.Task[None] | None = None
        self._renewer: asyncio.Task[None] | None = None
        self._free: asyncio.Event | None = None
        self._closing = False

    @property
    def running(self) -> list[str]:
        return list(self._running)

    def ensure_running(self) -> None:
        if self._closing:
            return
        if self._claimer is None or self._claimer.done():
            self._free = asyncio.Event()
            self._claimer = asyncio.get_running_loop().create_task(self._claim_loop())
        if self._renewer is None or self._renewer.done():
            self._renewer = asyncio.get_running_loop().create_task(self._renew_loop())

    def cancelled(self, task_id: str) -> None:
        run = self._running.get(task_id)
        if run is not None:
            run.stop("cancelled")

    async def aclose(self) -> None:
        self._closing = True
        claimer = self._claimer
        if claimer is not None:
            claimer.cancel()
        # the grace starts now, not once the claim loop has ended: a claim blocked on the
        # store may take the cancellation only when its read returns (up to a second on a
        # loaded host), and the running tasks must not get that time on top
        runs = [r.task for r in self._running.values() if r.task is not None]
        if runs:
            await asyncio.wait(runs, timeout=self.shutdown_grace)
        for run in list(self._running.values()):
            run.stop("shutdown")
        if claimer is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await claimer
        for run in list(self._running.values()):
            run.stop("shutdown")  # and what that last claim started
        runs = [r.task for r in self._running.values() if r.task is not None]
        if runs:
            await asyncio.wait(runs, timeout=max(5.0, self.lease))
        if self._renewer is not None:
            self._renewer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._renewer
        self.callers.clear()

    # -- loops ------------------------------------------------------------------------------
    async def _claim_loop(self) -> None:
        failures = 0  # in a row: the store is unreachable (every replica backs off, jittered)
        while not self._closing:
            free = self.workers - len(self._running)
            if free <= 0:
                assert self._free is not None
                self._free.clear()
                await self._free.wait()
                continue
            try:
                claims = await self.store.claim(self.id, count=free, lease=self.lease, wait=1.0)
            except BackendUnavailable:
                failures += 1
                await asyncio.sleep(backoff_delay(failures, _RETRY_FIRST_S, _RETRY_MAX_S))
                continue
            except Exception:  # a bug must not stop this process from running tasks
                log.exception("toolwire tasks: claiming failed")
                await asyncio.sleep(_RETRY_MAX_S)
                continue
            failures = 0
            for claim in claims:
                self._spawn(claim)

    async def _renew_loop(self) -> None:
        wait = self.lease / 3
        while True:
            await asyncio.sleep(wait)
            ids = list(self._running)
            if not ids:
                wait = self.lease / 3
                continue
            try:
                held = await self.store.renew(self.id, ids, self.lease)
            except BackendUnavailable:
                wait = min(0.5, self.lease / 3)  # try again soon: the lease is running out
                continue
            except Exception:
                log.exception("toolwire tasks: renewing leases failed")
                wait = min(0.5, self.lease / 3)
                continue
            wait = self.lease / 3
            for task_id in ids:
                run = self._running.get(task_id)
                if run is not None and task_id not in held:
                    run.stop("lost")  # ended elsewhere, or another runner took it over

    def _spawn(self, claim: Claim) -> None:
        run = _Run(claim.record)
        task_id = claim.record.id
        self._running[task_id] = run

        def done(_: asyncio.Task[None]) -> None:
            if self._running.get(task_id) is run:
                del self._running[task_id]
            if self._free is not None:
                self._free.set()

        run.task = asyncio.get_running_loop().create_task(self._run(claim, run))
        run.task.add_done_callback(done)

    # -- one task -----------------------------------------------------------------------------
    async def _run(self, claim: Claim, run: _Run) -> None:
        record = claim.record
        caller = self.callers.pop(record.id, _UNSET)
        if caller is _UNSET:
            caller = (
                Caller(id=record.owner, scopes=frozenset(record.scopes)) if record.owner else None
            )
        if claim.runs > 0 and not record.repeatable:
            await self._interrupted(record, "The process running this task stopped")
            return
        if claim.runs >= self.max_runs:
            await self._interrupted(
                record,
                f"The task was started {claim.runs} times and the process running it stopped "
                "every time; it is not started again.",
                once=False,
            )
            return
        deadline: float | None = None
        if record.deadline is not None:
            left = record.deadline - claim.now
            if left <= 0:
                await self._end(
                    record,
                    "failed",
                    failure(record, "timeout", "The task's time ran out before it ran.", "timeout"),
                )
                return
            deadline = time.monotonic() + left
        if run.is_stopped:  # shut down before it began: handed back or ended
            await self._stopped(record, run)
            return
        box = self.box
        if box is None:  # pragma: no cover - Tasks attaches the box before starting us
            await self.store.release(record.id, self.id)
            return
        progress = _Progress(self.store, record.id, self.id, run)
        follower = asyncio.get_running_loop().create_task(self._follow(record.id, run))
        run.call = asyncio.ensure_future(
            box.call(
                record.tool,
                record.arguments,
                caller=caller,
                idempotency_key=record.idempotency_key,
                call_id=record.id,
                deadline=deadline,
                progress=progress,
            )
        )
        try:
            result = await run.call
        except asyncio.CancelledError:
            if run.stopped is None:
                raise  # this worker is being torn down
            await self._stopped(record, run)
            return
        finally:
            follower.cancel()
        await progress.flush()
        status: TaskStatus = "completed" if result.ok else "failed"
        await self._end(record, status, encode_result(result))

    async def _stopped(self, record: TaskRecord, run: _Run) -> None:
        if run.stopped != "shutdown":
            return  # cancelled or ended elsewhere, or taken over: the store has its ending
        if record.repeatable:
            with contextlib.suppress(BackendUnavailable):
                await self.store.release(record.id, self.id)  # another process runs it now
            return
        await self._interrupted(record, "The server running this task shut down")

    async def _interrupted(self, record: TaskRecord, what: str, *, once: bool = True) -> None:
        """End ``record`` ``failed`` (``interrupted``) without running it (again)."""
        message = what
        if once:  # the at-most-once rule, said to whoever reads the result
            message = (
                f"{what} before it finished. `{record.tool}` is not idempotent and the task has "
                "no idempotency key, so it was not run again: check whether it took effect "
                "before starting it again."
            )
        await self._end(
            record, "failed", failure(record, "execution_error", message, "interrupted")
        )

    async def _follow(self, task_id: str, run: _Run) -> None:
        """Stop the run when the task ends elsewhere (a cancellation on another replica)."""
        after: str | None = None
        while True:
            try:
                events = await self.store.events(task_id, after, wait=5.0)
            except BackendUnavailable:
                await asyncio.sleep(0.5)
                continue
            for event in events:
                after = event.id
                if event.kind == "end":
                    run.stop("ended")
                    return

    async def _end(self, record: TaskRecord, status: TaskStatus, result: bytes) -> None:
        failures = 0
        give_up = None
        while True:
            try:
                await self.store.finish(record, status, result)
                return
            except BackendUnavailable:
                now = time.monotonic()
                if self._closing:
                    give_up = give_up or now + self.shutdown_grace
                    if now >= give_up:
                        log.warning(
                            "toolwire tasks: could not record the end of %s (store unreachable)",
                            record.id,
                        )
                        return
                failures += 1
                await asyncio.sleep(backoff_delay(failures, _RETRY_FIRST_S, _RETRY_MAX_S))
