"""A tool for the drain test: its call marks that it started, then holds until released."""

from __future__ import annotations

import asyncio
from pathlib import Path

import toolwire as tw


@tw.tool(read_only=True)
async def hold(folder: str) -> str:
    """Hold until the test releases the call.

    Args:
        folder: where the started and release marks live
    """
    (Path(folder) / "started").touch()
    for _ in range(600):  # bounded: at most 60 s
        if (Path(folder) / "release").exists():
            return "finished"
        await asyncio.sleep(0.1)
    return "never released"
