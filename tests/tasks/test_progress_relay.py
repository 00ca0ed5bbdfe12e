"""The plain-call progress relay: reports from the loop and from worker threads, in order,
bounded; a plain call of a sync tool reports progress through ``Toolbox.call``."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

import toolwire as tw
from toolwire.serve._progress import ProgressRelay, relay_until

pytestmark = pytest.mark.anyio


async def test_reports_from_threads_and_the_loop_arrive_in_order() -> None:
    relay = ProgressRelay()
    relay(1, 3, "loop")

    def work() -> None:
        relay(2, 3, "thread")
        relay(3, 3, None)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(5)
    got: list[float] = []
    async with asyncio.timeout(5):
        while len(got) < 3:
            got += [r.done for r in await relay.next()]
    assert got == [1, 2, 3]
    relay("not a number")  # type: ignore[arg-type]  # ignored, not raised
    assert relay.pending() == []


async def test_at_most_keep_reports_wait_unread() -> None:
    relay = ProgressRelay(keep=3)
    for i in range(10):
        relay(i)
    assert [r.done for r in relay.pending()] == [7, 8, 9]


async def test_a_sync_tools_plain_call_reports_through_the_relay() -> None:
    @tw.tool
    def crawl(pages: int, ctx: tw.Context) -> int:
        for page in range(pages):
            assert ctx.progress is not None
            ctx.progress(page + 1, pages, f"page {page + 1}")
            time.sleep(0.01)
        return pages

    relay = ProgressRelay()
    call = asyncio.ensure_future(tw.Toolbox([crawl]).call("crawl", {"pages": 4}, progress=relay))
    seen: list[str | None] = []
    async with asyncio.timeout(10):
        while (reports := await relay_until(call, relay, 1.0)) is not None:
            seen += [r.message for r in reports]
    seen += [r.message for r in relay.pending()]
    assert seen == ["page 1", "page 2", "page 3", "page 4"]
    assert call.result().value == 4
