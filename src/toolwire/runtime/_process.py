"""Worker processes for ``isolation="process"``: the only way to stop a stuck sync function.

Each worker serves one call at a time over a pipe. When a call times out or is cancelled the
worker is killed (SIGKILL) and a fresh one is started in its place. Handlers travel by
reference (module + qualified name), so they must be importable module-level functions; a
name that resolves to a :class:`~toolwire.Tool` is unwrapped to its handler.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import inspect
import logging
import time
from dataclasses import fields
from typing import TYPE_CHECKING, Any

from toolwire._context import Context
from toolwire._errors import ToolFailure, ToolwireError

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

log = logging.getLogger("toolwire.runtime")

_CTX_FIELDS = ("call_id", "tool_name", "caller", "deadline", "attempt", "idempotency_key")


def _resolve(module: str, qualname: str) -> Any:
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    require = getattr(obj, "require_handler", None)
    return require() if callable(require) else obj


def _worker_main(conn: Connection) -> None:  # pragma: no cover - runs in the child process
    conn.send(("ready", None))
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        module, qualname, kwargs, ctx_params, ctx_values = msg
        try:
            func = _resolve(module, qualname)
            if ctx_params:
                ctx = Context(**ctx_values)
                kwargs = {**kwargs, **dict.fromkeys(ctx_params, ctx)}
            value = func(**kwargs)
            if inspect.isawaitable(value):
                value = asyncio.run(_await(value))
            conn.send(("ok", value))
        except BaseException as exc:  # report everything; the parent decides the kind
            if isinstance(exc, ToolwireError):
                err = exc.to_error()
                payload = (err.kind, err.message, dict(err.details), err.retry_after)
            else:
                payload = ("execution_error", f"{type(exc).__name__}: {exc}", {}, None)
            try:
                conn.send(("err", payload))
            except Exception:
                conn.send(("err", ("execution_error", "the result could not be sent", {}, None)))


async def _await(value: Any) -> Any:
    return await value


def _wake(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


class _Worker:
    __slots__ = ("conn", "proc", "ready")

    def __init__(self, ctx: Any) -> None:
        parent, child = ctx.Pipe()
        self.conn: Connection = parent
        self.proc = ctx.Process(target=_worker_main, args=(child,), daemon=True, name="toolwire")
        self.proc.start()
        child.close()
        self.ready = False

    async def receive(self, timeout_at: float | None) -> Any:
        loop = asyncio.get_running_loop()
        fd = self.conn.fileno()
        while not self.conn.poll():
            fut: asyncio.Future[None] = loop.create_future()
            loop.add_reader(fd, _wake, fut)
            try:
                if timeout_at is None:
                    await fut
                else:
                    async with asyncio.timeout_at(loop.time() + (timeout_at - time.monotonic())):
                        await fut
            finally:
                loop.remove_reader(fd)
        return self.conn.recv()

    async def kill(self) -> None:
        try:
            self.proc.kill()
        finally:
            self.conn.close()
        # reaping takes a moment after SIGKILL: waited for in a thread, not on the loop
        await asyncio.to_thread(self.proc.join, 1.0)


class ProcessPool:
    """Up to ``size`` worker processes (started on first use, with the spawn method)."""

    def __init__(self, size: int = 2) -> None:
        if size < 1:
            raise ValueError("process_workers must be >= 1")
        import multiprocessing  # only programs that use process isolation pay for it

        self.size = size
        self._ctx = multiprocessing.get_context("spawn")
        self._idle: list[_Worker] = []
        self._all: set[_Worker] = set()
        self._sem: asyncio.Semaphore | None = None
        self.replaced = 0

    @property
    def pids(self) -> list[int]:
        return sorted(w.proc.pid for w in self._all if w.proc.pid is not None)

    def _spawn(self) -> _Worker:
        worker = _Worker(self._ctx)
        self._all.add(worker)
        return worker

    async def _discard(self, worker: _Worker) -> None:
        self._all.discard(worker)
        await worker.kill()

    async def run(
        self,
        handler: Any,
        kwargs: dict[str, Any],
        context: Context | None,
        ctx_params: tuple[str, ...],
        timeout: float | None,  # noqa: ASYNC109 - starts after start-up, not at the call
    ) -> Any:
        """Run ``handler(**kwargs)`` in a worker; ``timeout`` starts once a worker has it."""
        module = getattr(handler, "__module__", None)
        qualname = getattr(handler, "__qualname__", "")
        if not module or "<locals>" in qualname or "<lambda>" in qualname:
            raise ToolFailure(
                "execution_error",
                "isolation='process' needs a module-level function (importable by name)",
            )
        ctx_values = (
            {f.name: getattr(context, f.name) for f in fields(Context) if f.name in _CTX_FIELDS}
            if context is not None and ctx_params
            else None
        )
        if self._sem is None:
            self._sem = asyncio.Semaphore(self.size)
        async with self._sem:
            worker = self._idle.pop() if self._idle else self._spawn()
            healthy = False
            try:
                if not worker.ready:
                    # start-up (interpreter + imports) does not count against the call's timeout
                    await worker.receive(None)
                    worker.ready = True
                # pickled here, so that unpicklable arguments (nothing written: the worker
                # is fine) are told apart from a failed write (the worker is not)
                from multiprocessing.reduction import ForkingPickler

                try:
                    data = ForkingPickler.dumps((module, qualname, kwargs, ctx_params, ctx_values))
                except Exception as exc:
                    healthy = True
                    raise ToolFailure(
                        "execution_error", f"arguments could not be sent to the worker: {exc}"
                    ) from exc
                try:
                    worker.conn.send_bytes(data)
                except OSError as exc:
                    raise ToolFailure(
                        "execution_error", "the worker process running the tool died"
                    ) from exc
                timeout_at = None if timeout is None else time.monotonic() + timeout
                try:
                    status, payload = await worker.receive(timeout_at)
                except TimeoutError:
                    raise
                except (EOFError, OSError) as exc:  # TimeoutError is an OSError: handled above
                    raise ToolFailure(
                        "execution_error", "the worker process running the tool died"
                    ) from exc
                healthy = True
            finally:
                if healthy:
                    self._idle.append(worker)
                else:
                    # timed out, cancelled or dead: kill it and start a replacement now
                    self.replaced += 1
                    self._idle.append(self._spawn())
                    await self._discard(worker)
        if status == "ok":
            return payload
        kind, message, details, retry_after = payload
        raise ToolFailure(kind, message, details=details, retry_after=retry_after)

    async def aclose(self) -> None:
        for worker in list(self._all):
            with contextlib.suppress(Exception):
                worker.conn.send(None)
        deadline = time.monotonic() + 1.0
        for worker in list(self._all):
            while worker.proc.is_alive() and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
            await self._discard(worker)
        self._idle.clear()
