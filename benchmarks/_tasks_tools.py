"""The tool ``bench_tasks`` serves to time recovery: each start is appended to ``$BENCH_LOG``
as ``<time.time()> <call id> <pid>`` (one short append-mode write: lines never interleave)."""

from __future__ import annotations

import asyncio
import os
import time

import toolwire as tw


@tw.tool(task_support="optional", idempotent=True)
async def long_job(seconds: float, ctx: tw.Context) -> int:
    """Runs ``seconds`` (safe to repeat: a task whose replica died is run again)."""
    path = os.environ.get("BENCH_LOG")
    if path:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, f"{time.time():.6f} {ctx.call_id} {os.getpid()}\n".encode())
        finally:
            os.close(fd)
    await asyncio.sleep(seconds)
    return os.getpid()
