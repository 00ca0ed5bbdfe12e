"""A tool's ``ctx.report_progress`` reaches the caller's progress callback."""

from __future__ import annotations

import pytest

import toolwire as tw

pytestmark = pytest.mark.anyio


async def test_progress_reports_reach_the_callback_in_order() -> None:
    @tw.tool
    async def crawl(pages: int, ctx: tw.Context) -> int:
        for page in range(1, pages + 1):
            await ctx.report_progress(page, pages, f"page {page}")
        return pages

    seen: list[tuple[float, float | None, str | None]] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        seen.append((done, total, message))

    box = tw.Toolbox([crawl])
    result = await box.call("crawl", {"pages": 3}, progress=on_progress)
    assert result.ok
    assert result.value == 3
    assert seen == [(1, 3, "page 1"), (2, 3, "page 2"), (3, 3, "page 3")]
    # without a callback the same tool runs and its reports go nowhere
    assert (await box.call("crawl", {"pages": 2})).value == 2


async def test_progress_from_a_sync_tool_in_a_thread() -> None:
    seen: list[float] = []

    @tw.tool
    def step(ctx: tw.Context) -> str:
        # a sync tool has no loop to await on: a sync callback is called directly
        assert ctx.progress is not None
        ctx.progress(0.5, 1.0, None)
        return "done"

    result = await tw.Toolbox([step]).call("step", {}, progress=lambda d, t, m: seen.append(d))
    assert result.value == "done"
    assert seen == [0.5]
