"""Module-level handlers for isolation="process" tests (workers import them by name)."""

from __future__ import annotations

import os

import toolwire as tw


@tw.tool(isolation="process", policy=tw.Policy(timeout=1.0))
def spin(n: int) -> int:
    """Never returns: only killing the process stops it."""
    while True:
        n += 1


@tw.tool(isolation="process")
def whoami(x: int) -> dict[str, int]:
    """Returns the worker's pid."""
    return {"pid": os.getpid(), "x": x}


@tw.tool(isolation="process")
def explode(message: str) -> None:
    """Raises in the worker."""
    raise KeyError(message)


@tw.tool(isolation="process")
def refuse(message: str) -> None:
    """Fails with a chosen kind."""
    raise tw.ToolFailure("forbidden", message)
