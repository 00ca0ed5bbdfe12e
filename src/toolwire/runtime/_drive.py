"""Run an async handler's first step before paying for a timeout.

Most fast tools (lookups, computations, cache hits) finish without ever suspending. Stepping
the coroutine once ourselves returns their value with no timer at all; only a handler that
actually suspends gets wrapped (by the caller) in ``asyncio.timeout``, where its cost is
small next to the I/O it waits for. The wrapper below resumes the half-run coroutine exactly
as ``await`` would: it passes each yielded future up to the task and forwards every value
and exception (including cancellation) back down.
"""

from __future__ import annotations

from collections.abc import Coroutine, Generator
from typing import Any


class Started:
    """An awaitable continuing a coroutine that already yielded ``first``."""

    __slots__ = ("coro", "first")

    def __init__(self, coro: Coroutine[Any, Any, Any], first: Any) -> None:
        self.coro = coro
        self.first = first

    def __await__(self) -> Generator[Any, Any, Any]:
        coro = self.coro
        pending = self.first
        while True:
            try:
                sent = yield pending
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:  # cancellation or any thrown-in exception
                try:
                    pending = coro.throw(exc)
                except StopIteration as done:
                    return done.value
                continue
            try:
                pending = coro.send(sent)
            except StopIteration as done:
                return done.value


def first_step(coro: Coroutine[Any, Any, Any]) -> tuple[Any, Started | None]:
    """Step once: ``(value, None)`` if it finished, else ``(None, awaitable for the rest)``."""
    try:
        pending = coro.send(None)
    except StopIteration as done:
        return done.value, None
    return None, Started(coro, pending)
