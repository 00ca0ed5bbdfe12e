"""Tools served by the multi-replica and gRPC load suites (``toolwire serve --tools``).

``compute`` and ``record`` append a line to ``$REL_LOG`` on every execution: both server
processes write the same file, so it counts executions across the replicas.
"""

from __future__ import annotations

import asyncio
import os

from toolwire._errors import ToolFailure
from toolwire._tools import tool


def _log(line: str) -> None:
    # a blocking append on purpose: the line lands before the result is sent
    with open(os.environ["REL_LOG"], "a", encoding="utf-8") as fh:
        fh.write(line + "\n")


@tool(read_only=False, idempotent=False)
async def upstream(fail: bool = False) -> str:
    """Call a flaky upstream (its breaker is shared through Redis).

    Args:
        fail: make this call fail as if the upstream were down
    """
    if fail:
        raise ToolFailure("remote_error", "the upstream is down")
    return "fine"


@tool(read_only=True)
async def limited(i: int) -> int:
    """A rate-limited lookup.

    Args:
        i: echoed back
    """
    return i


@tool(read_only=True)
async def compute(x: int) -> int:
    """An expensive, cacheable computation.

    Args:
        x: the input
    """
    _log(f"compute {x}")
    await asyncio.sleep(0.2)
    return x * x


@tool(read_only=False, idempotent=False)
async def record(note: str) -> str:
    """Write a note once (a side effect that must never happen twice).

    Args:
        note: what to write
    """
    _log(f"record {note}")
    await asyncio.sleep(0.3)
    return note


@tool(read_only=True)
async def echo(i: int, delay: float = 0.0) -> dict[str, int]:
    """Answer with the number asked, after a short wait (so calls overlap).

    Args:
        i: the number
        delay: seconds to wait first
    """
    await asyncio.sleep(delay)
    return {"i": i, "square": i * i}
