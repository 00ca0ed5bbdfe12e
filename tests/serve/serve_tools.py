"""Tools served by the serve tests (loaded by ``toolwire serve --tools``)."""

from __future__ import annotations

import asyncio
import os

import toolwire as tw
from toolwire._tools import tool
from toolwire.cli._serve import seed_tools

get_weather = seed_tools()[0]


@tool
def fail(kind: str) -> str:
    """Fail with the given error kind.

    Args:
        kind: an error kind such as remote_error
    """
    if kind == "crash":
        raise RuntimeError("boom")
    raise tw.ToolFailure(kind, f"failing as {kind}")  # type: ignore[arg-type]


@tool
async def slow(seconds: float) -> float:
    """Sleep, then answer.

    Args:
        seconds: how long
    """
    await asyncio.sleep(seconds)
    return seconds


@tool
def admin_only() -> str:
    """Needs the admin scope."""
    return "done"


@tool
def whoami(ctx: tw.Context) -> str:
    """The caller's id."""
    return ctx.caller.id if ctx.caller else "nobody"


@tool
def worker_pid() -> int:
    """The id of the process that answered (tells --workers processes apart)."""
    return os.getpid()
