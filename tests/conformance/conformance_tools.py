"""The tools every conformance suite serves (loaded by ``toolwire serve --tools``).

One tool per return shape (object, int, str, list, None, a Pydantic model, an optional object),
one that fails with any error kind and message (ASCII or not), one that reports progress and
can be cancelled, one behind a scope, one rate-limited, one that always times out.
"""

from __future__ import annotations

import asyncio

import pydantic

import toolwire as tw

CANCELLED: list[str] = []  # call ids whose handler saw the cancellation (read over `cancelled`)


class Point(pydantic.BaseModel):
    x: int
    y: int
    label: str = ""


@tw.tool(read_only=True)
def as_object(key: str) -> dict[str, str]:
    """Echo a key as an object.

    Args:
        key: any text
    """
    return {"key": key}


@tw.tool(read_only=True)
def as_int(n: int) -> int:
    """Echo an integer.

    Args:
        n: any integer
    """
    return n


@tw.tool(read_only=True)
def as_str(text: str) -> str:
    """Echo a string.

    Args:
        text: any text
    """
    return text


@tw.tool(read_only=True)
def as_list(n: int) -> list[int]:
    """The integers 0..n-1.

    Args:
        n: how many (0-50)
    """
    return list(range(max(0, min(n, 50))))


@tw.tool(read_only=True)
def as_none() -> None:
    """Return nothing."""


@tw.tool(read_only=True)
def as_model(x: int, y: int, label: str = "") -> Point:
    """A point, as a Pydantic model.

    Args:
        x: abscissa
        y: ordinate
        label: a name for it
    """
    return Point(x=x, y=y, label=label)


@tw.tool(read_only=True)
def as_optional(present: bool) -> dict[str, int] | None:
    """An object or null.

    Args:
        present: whether to return the object
    """
    return {"one": 1} if present else None


@tw.tool
def fail(kind: str, message: str, retry_after: float | None = None) -> str:
    """Fail with the given error kind and message.

    Args:
        kind: an error kind such as remote_error
        message: the error message (any text)
        retry_after: seconds after which to retry
    """
    raise tw.ToolFailure(kind, message, retry_after=retry_after)  # type: ignore[arg-type]


@tw.tool(read_only=True)
async def count(steps: int, delay: float, ctx: tw.Context) -> int:
    """Count to ``steps``, reporting progress after each step, ``delay`` seconds apart.

    Args:
        steps: how many steps (at most 100)
        delay: seconds between steps (at most 5)
    """
    try:
        for i in range(1, min(steps, 100) + 1):
            await asyncio.sleep(min(delay, 5.0))
            await ctx.report_progress(i, steps, f"step {i}")
    except asyncio.CancelledError:
        CANCELLED.append(ctx.call_id)
        raise
    return steps


@tw.tool(read_only=True)
def cancelled() -> int:
    """How many ``count`` calls have been cancelled so far."""
    return len(CANCELLED)


@tw.tool(read_only=True, policy=tw.Policy(timeout=0.05))
async def too_slow() -> str:
    """Always times out (its policy allows 50 ms; it takes 5 s)."""
    await asyncio.sleep(5)
    return "late"


@tw.tool(read_only=True)
def admin_secret() -> str:
    """Needs the admin scope."""
    return "secret"


@tw.tool(read_only=True, policy=tw.Policy(rate_limit=tw.RateLimit(rate=1, per=3600)))
def once_an_hour() -> str:
    """Answers once; then it is rate limited."""
    return "ok"
