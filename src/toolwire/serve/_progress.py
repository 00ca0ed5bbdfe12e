"""Progress of a plain call, from the tool to a transport (REST SSE, gRPC stream, MCP).

``Toolbox.call(progress=relay)`` hands the tool a callback it may call from the event loop
(``await ctx.report_progress(...)`` in an async tool) or from a worker thread
(``ctx.progress(...)`` in a sync one); the transport reads the reports in order with
:meth:`ProgressRelay.next`. At most ``keep`` reports wait unread (the oldest are dropped), so a
chatty tool cannot grow memory while a slow client reads.
"""

from __future__ import annotations

import asyncio
import collections
import threading
from typing import Any

from toolwire.state._tasks import TaskProgress

_MESSAGE_MAX = 2000


class ProgressRelay:
    """A thread-safe progress callback whose reports one coroutine reads in order.

    Example::

        relay = ProgressRelay()
        call = asyncio.ensure_future(box.call("crawl", args, progress=relay))
        while not call.done():
            reports = await relay.next()
    """

    def __init__(self, *, keep: int = 256) -> None:
        self._loop = asyncio.get_running_loop()
        self._thread = threading.get_ident()
        self._queue: collections.deque[TaskProgress] = collections.deque(maxlen=keep)
        self._ready = asyncio.Event()

    def __call__(self, done: float, total: float | None = None, message: str | None = None) -> None:
        try:
            report = TaskProgress(
                done=float(done),
                total=None if total is None else float(total),
                message=None if message is None else str(message)[:_MESSAGE_MAX],
            )
        except (TypeError, ValueError):
            return
        if threading.get_ident() == self._thread:
            self._put(report)
        else:
            self._loop.call_soon_threadsafe(self._put, report)

    def _put(self, report: TaskProgress) -> None:
        self._queue.append(report)
        self._ready.set()

    def pending(self) -> list[TaskProgress]:
        """Every report not read yet (and they count as read)."""
        out = list(self._queue)
        self._queue.clear()
        self._ready.clear()
        return out

    async def next(self) -> list[TaskProgress]:
        """The reports not read yet, waiting for one when there are none."""
        if not self._queue:
            await self._ready.wait()
        return self.pending()


async def relay_until(
    call: asyncio.Future[Any], relay: ProgressRelay, quiet: float = 15.0
) -> list[TaskProgress] | None:
    """The next reports of ``relay`` while ``call`` runs; None once it has finished (after
    which :meth:`ProgressRelay.pending` holds the last ones). Returns an empty list after
    ``quiet`` seconds without either (a chance to send a keep-alive)."""
    if call.done():
        return None
    reader = asyncio.ensure_future(relay.next())
    try:
        await asyncio.wait({call, reader}, timeout=quiet, return_when=asyncio.FIRST_COMPLETED)
    finally:
        if not reader.done():
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
    if reader.done() and not reader.cancelled():
        reports = reader.result()
        if reports:
            return reports
    return None if call.done() else []
