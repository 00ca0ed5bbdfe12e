"""Tools of the many-replica test (``toolwire serve --tools``): each execution is counted
in Redis (``$REL_REDIS_URL``, keys under ``$REL_PREFIX``), per key and per process."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import redis.asyncio as aioredis

from toolwire._errors import ToolFailure
from toolwire._tools import tool

_client: list[Any] = []


def _redis() -> Any:
    if not _client:
        _client.append(aioredis.from_url(os.environ["REL_REDIS_URL"]))
    return _client[0]


@tool(read_only=False, idempotent=False)
async def work(key: str) -> str:
    """A side effect that must run once per idempotency key.

    Args:
        key: the caller's key (also sent as Idempotency-Key)
    """
    prefix = os.environ["REL_PREFIX"]
    # both counts in one transaction: a kill cannot land between them
    pipe = _redis().pipeline(transaction=True)
    pipe.hincrby(prefix + "runs", key, 1)
    pipe.hset(f"{prefix}by:{os.getpid()}", key, 1)
    await pipe.execute()
    await asyncio.sleep(0.002)
    return key


@tool(read_only=True)
async def limited(i: int) -> int:
    """A rate-limited lookup (the limit is shared by every replica).

    Args:
        i: echoed back
    """
    return i


@tool(read_only=False, idempotent=False)
async def upstream(fail: bool = False) -> str:
    """A flaky upstream behind a shared breaker.

    Args:
        fail: fail as if the upstream were down
    """
    if fail:
        raise ToolFailure("remote_error", "the upstream is down")
    return "fine"
