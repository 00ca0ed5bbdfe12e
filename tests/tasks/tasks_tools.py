"""Tools the served task tests run (``toolwire serve --tools tasks_tools.py``).

Every start and end is appended to the file named by ``$TASKS_LOG`` (``start <call id>
<pid>`` / ``end <call id> <pid>``), so a test counts runs across processes (one short
``write`` in append mode per line: lines from several processes never interleave).
"""

from __future__ import annotations

import asyncio
import os
import time

import toolwire as tw


def _log(what: str, call_id: str) -> None:
    path = os.environ.get("TASKS_LOG")
    if path:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, f"{what} {call_id} {os.getpid()}\n".encode())
        finally:
            os.close(fd)


async def _work(steps: int, delay: float, ctx: tw.Context) -> dict[str, int]:
    _log("start", ctx.call_id)
    for i in range(steps):
        await ctx.report_progress(i + 1, steps, f"step {i + 1} of {steps}")
        await asyncio.sleep(delay)
    _log("end", ctx.call_id)
    return {"steps": steps, "pid": os.getpid()}


@tw.tool(task_support="optional")
async def work(steps: int, ctx: tw.Context, delay: float = 0.05) -> dict[str, int]:
    """A long job with a side effect (not idempotent): runs at most once per task."""
    return await _work(steps, delay, ctx)


@tw.tool(task_support="optional", idempotent=True)
async def work_idem(steps: int, ctx: tw.Context, delay: float = 0.05) -> dict[str, int]:
    """The same job, safe to repeat: a task whose runner died runs again."""
    return await _work(steps, delay, ctx)


@tw.tool(task_support="required")
def sync_work(steps: int, ctx: tw.Context) -> str:
    """A sync job (in a worker thread) that only runs as a task."""
    _log("start", ctx.call_id)
    for i in range(steps):
        if ctx.progress is not None:
            ctx.progress(i + 1, steps, f"sync step {i + 1}")
        time.sleep(0.02)
    _log("end", ctx.call_id)
    return "synced"


@tw.tool(task_support="optional")
async def noop(ctx: tw.Context) -> str:
    """Does nothing (for counting and timing tasks)."""
    _log("start", ctx.call_id)
    return "ok"


@tw.tool(task_support="optional")
async def fails(ctx: tw.Context) -> str:
    """Always fails (a tool error, not a protocol one)."""
    _log("start", ctx.call_id)
    raise tw.ToolFailure("remote_error", "the upstream said no")


@tw.tool
def add(a: int, b: int) -> int:
    """A plain tool: never a task."""
    return a + b
