"""Tools served by the reliability suites (loaded by ``toolwire serve --tools``).

``record`` is the non-idempotent one: it appends its note to ``$REL_LOG`` after its work is
done, so the log is the ground truth of how many times each call really ran.
"""

from __future__ import annotations

import asyncio
import os

from toolwire._tools import tool
from toolwire.cli._serve import seed_tools

get_weather = seed_tools()[0]


@tool(idempotent=False, read_only=False)
async def record(note: str, seconds: float = 0.0) -> str:
    """Write a note once (a side effect that must never happen twice).

    Args:
        note: what to write
        seconds: work before writing
    """
    await asyncio.sleep(seconds)
    # a blocking append on purpose: the line lands before the result is sent
    with open(os.environ["REL_LOG"], "a", encoding="utf-8") as fh:  # noqa: ASYNC230
        fh.write(note + "\n")
    return note
