"""Each test here ends with a garbage collection inside a short event loop of its own, and fails
if a finalizer raised (``sys.unraisablehook``) or put a failing task into that loop.

An SDK client left behind (unclosed, or half-built and held by an exception's frames) is
finalized at whatever later collection happens to run: its ``__del__`` then schedules its
``aclose`` into the event loop of an unrelated test, which anyio fails. Collecting here pins
such a leak to the test that made it. Cheap: what existed before the test is frozen
(``gc.freeze()``) while it runs, so the collection scans only the objects the test made.
"""

from __future__ import annotations

import asyncio
import gc
import sys
from collections.abc import Iterator
from typing import Any

import pytest


async def _collect() -> None:
    gc.collect()
    for _ in range(3):  # the tasks finalizers scheduled, and what those tasks schedule in turn
        await asyncio.sleep(0)


@pytest.fixture(autouse=True)
def _no_leftover_finalizers() -> Iterator[None]:
    gc.freeze()  # what is already there (earlier tests' garbage too) is not this test's
    try:
        yield
        _collect_in_a_loop()
    finally:
        gc.unfreeze()


def _collect_in_a_loop() -> None:
    seen: list[str] = []

    def unraisable(info: Any) -> None:
        seen.append(f"{info.exc_type.__name__}: {info.exc_value} ({info.err_msg} {info.object!r})")

    def loop_error(_loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        seen.append(f"{context.get('message')}: {context.get('exception')!r}")

    old_hook = sys.unraisablehook
    sys.unraisablehook = unraisable
    loop = asyncio.new_event_loop()  # not set as the current loop: anyio's own stays as it is
    loop.set_exception_handler(loop_error)
    try:
        loop.run_until_complete(_collect())
        gc.collect()  # the finished tasks themselves: "Task exception was never retrieved"
    finally:
        loop.close()
        sys.unraisablehook = old_hook
    assert not seen, f"left for the garbage collector to finalize: {seen}"
