"""The event feed of the Redis task store: one ``XREAD BLOCK`` over every task event stream
this process follows (a watcher, a runner following its task for a cancellation), so a
thousand of them hold one Redis connection, not a thousand.

A waiter asks for the events of one stream after an id; the shared read asks Redis for every
waited stream after the oldest id its waiters hold, and hands each waiter what is newer than
its own. A new waiter joins at the read's next round (``_FEED_BLOCK_MS`` at most).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

from toolwire import _json
from toolwire.state._base import BackendUnavailable
from toolwire.state._tasks import TASK_STATUSES, TaskEvent, TaskProgress, TaskStatus

# (streams: name -> after id, block ms or None) -> the XREAD reply; raises BackendUnavailable
Read = Callable[[dict[str, str], int | None], Awaitable[Any]]

# bounds how long a new waiter may wait behind a read blocked on other streams, and how
# often an idle feed asks Redis
_FEED_BLOCK_MS = 50


class _Waiter:
    __slots__ = ("after", "future")

    def __init__(self, after: tuple[int, int], future: asyncio.Future[list[TaskEvent]]) -> None:
        self.after = after
        self.future = future


class Feed:
    """One ``XREAD BLOCK`` over the event streams every waiter of this process follows, so a
    thousand watchers hold one connection, not a thousand."""

    def __init__(self, read: Read) -> None:
        self._read_streams = read
        self._waiters: dict[str, list[_Waiter]] = {}
        self._reader: asyncio.Task[None] | None = None

    async def wait(self, key: str, after: str | None, wait: float) -> list[TaskEvent]:
        start = after or "0-0"
        if wait <= 0:
            reply = await self._read_streams({key: start}, None)
            return _events(reply, key)
        # what is there already comes back from the shared read's next round (XREAD after an
        # id answers at once when there is something after it)
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
                reply = await self._read_streams(streams, _FEED_BLOCK_MS)
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


def _status(text: str) -> TaskStatus:
    return text if text in TASK_STATUSES else "failed"
