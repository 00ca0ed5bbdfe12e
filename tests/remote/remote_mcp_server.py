"""A small MCP server for the tests: run as a stdio server, or mount its HTTP app.

``python mcp_server.py <log file>`` serves over stdio and appends its PID to the log file
when it starts, so a test can count spawned processes and kill one.
"""

from __future__ import annotations

import asyncio
import os
import sys

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import ToolAnnotations

server = MCPServer("toolwire-test", log_level="WARNING")
calls = {"counter": 0}


@server.tool(annotations=ToolAnnotations(readOnlyHint=True, title="Add two numbers"))
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@server.tool(annotations=ToolAnnotations(idempotentHint=True, openWorldHint=False))
def echo(text: str) -> str:
    """Echo the text back."""
    return text


@server.tool(annotations=ToolAnnotations(destructiveHint=True))
def bump() -> int:
    """Increment a counter (not idempotent)."""
    calls["counter"] += 1
    return calls["counter"]


@server.tool(annotations=ToolAnnotations(readOnlyHint=True))
def pid() -> int:
    """The server's process id."""
    return os.getpid()


@server.tool()
def boom(reason: str) -> str:
    """Always fails."""
    raise ValueError(f"boom: {reason}")


@server.tool(structured_output=False)
def parts() -> list[str]:
    """Several text parts."""
    return ["one", "two"]


@server.tool(annotations=ToolAnnotations(readOnlyHint=True))
async def slow(seconds: float) -> str:
    """Sleep, then answer."""
    await asyncio.sleep(seconds)
    return "done"


@server.tool(annotations=ToolAnnotations(readOnlyHint=True))
async def steps(count: int, ctx: Context) -> int:
    """Report progress for each step."""
    for i in range(count):
        await ctx.report_progress(i + 1, count, f"step {i + 1}")
    return count


if __name__ == "__main__":
    with open(sys.argv[1], "a", encoding="utf-8") as log:
        log.write(f"{os.getpid()}\n")
    server.run("stdio")
