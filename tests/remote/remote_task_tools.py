"""Tools of the served MCP task-import tests (``toolwire serve --tools remote_task_tools.py``).

Each reports its call id (a task's id when it runs as one) so a test can tell a task call from
a plain one and find the task on the server."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import toolwire as tw

GATE_S = 30.0  # how long a step waits to be seen before the task gives up


@tw.tool(task_support="required")
async def stepped(steps: int, gate: str, ctx: tw.Context) -> str:
    """A job that only runs as a task, saying its id in each step. After each step it waits
    until the caller has seen it (the caller makes the file ``gate/<step>``): a caller that
    learns of progress by polling (the 2026-07-28 extension) cannot miss a step however slow
    the machine. Answers its task's id."""
    for i in range(1, steps + 1):
        await ctx.report_progress(i, steps, f"{ctx.call_id} step {i} of {steps}")
        seen, deadline = Path(gate) / str(i), time.monotonic() + GATE_S
        while not seen.exists():
            if time.monotonic() > deadline:
                raise tw.ToolFailure("timeout", f"the caller never saw step {i}")
            await asyncio.sleep(0.01)
    return ctx.call_id


@tw.tool(task_support="required")
async def refuse(ctx: tw.Context) -> str:
    """A task that always fails (a tool error)."""
    await asyncio.sleep(0.01)
    raise tw.ToolFailure("execution_error", "the ledger is closed")


@tw.tool(task_support="required")
async def hang(ctx: tw.Context) -> str:
    """A task that runs until it is cancelled, saying its id as progress."""
    for i in range(100_000):
        await ctx.report_progress(i + 1, None, f"{ctx.call_id} tick {i + 1}")
        await asyncio.sleep(0.05)
    return "never"


@tw.tool(task_support="optional")
async def whoami(ctx: tw.Context) -> str:
    """May run as a task; the importer calls it plainly."""
    return ctx.call_id


@tw.tool
def add(a: int, b: int) -> int:
    """A plain tool: never a task."""
    return a + b
