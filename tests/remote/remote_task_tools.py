"""Tools of the served MCP task-import tests (``toolwire serve --tools remote_task_tools.py``).

Each reports its call id (a task's id when it runs as one) so a test can tell a task call from
a plain one and find the task on the server."""

from __future__ import annotations

import asyncio

import toolwire as tw


@tw.tool(task_support="required")
async def crunch(steps: int, ctx: tw.Context) -> dict[str, object]:
    """A job that only runs as a task, reporting each step."""
    for i in range(steps):
        await ctx.report_progress(i + 1, steps, f"step {i + 1} of {steps}")
        await asyncio.sleep(0.05)
    return {"steps": steps, "call_id": ctx.call_id}


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


@tw.tool(task_support="required")
async def tagged(steps: int, ctx: tw.Context) -> str:
    """A task saying its id in every step; answers that id."""
    for i in range(steps):
        await ctx.report_progress(i + 1, steps, f"{ctx.call_id} step {i + 1}")
        await asyncio.sleep(0.05)
    return ctx.call_id


@tw.tool(task_support="optional")
async def whoami(ctx: tw.Context) -> str:
    """May run as a task; the importer calls it plainly."""
    return ctx.call_id


@tw.tool
def add(a: int, b: int) -> int:
    """A plain tool: never a task."""
    return a + b
