"""What an importer found: the tools, and each remote tool that could not become one, with why.

One remote operation with a schema toolwire cannot use (a regex jsonschema-rs refuses, a body
type it cannot send, a streaming gRPC method) must not sink the whole import: it is skipped,
logged as a warning naming it and the reason, and listed in :attr:`Discovery.skipped`. The
three importers (``openapi``, ``grpc``, ``mcp``) each have ``discover()`` returning this, and
``load()`` returning only the tools.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, ParamSpec

from toolwire._tools import Tool

log = logging.getLogger("toolwire.remote")
P = ParamSpec("P")

# What building one tool may raise when its remote schema cannot be converted or compiled:
# ToolDefinitionError (a ValueError) from Tool.from_schema, and the descriptor and document
# walks' own complaints. Anything else is a bug and propagates.
CONVERSION_ERRORS = (ValueError, TypeError, LookupError, RecursionError)


@dataclass(frozen=True, slots=True, kw_only=True)
class Discovery:
    """The tools an importer made, and the remote tools it skipped (name -> reason).

    Example::

        found = await toolwire.remote.openapi.discover("https://api.example.com/openapi.json")
        for name, reason in found.skipped.items():
            print(f"not imported: {name}: {reason}")
    """

    tools: list[Tool]
    skipped: dict[str, str] = field(default_factory=dict)

    def skip(self, source: str, name: str, reason: str) -> None:
        """Record (and log) that ``name`` of ``source`` did not become a tool."""
        self.skipped[name] = reason
        log.warning("%s: %s skipped: %s", source, name, reason)


def tools_only(
    discover: Callable[P, Awaitable[Discovery]], doc: str
) -> Callable[P, Coroutine[Any, Any, list[Tool]]]:
    """An importer's ``load``: ``discover`` with the same parameters, returning only the tools
    (what was skipped is logged). One wrapper, so the three importers cannot drift apart."""

    async def load(*args: P.args, **kwargs: P.kwargs) -> list[Tool]:
        return (await discover(*args, **kwargs)).tools

    functools.update_wrapper(load, discover)  # __wrapped__: the signature shows the parameters
    load.__name__ = load.__qualname__ = "load"
    load.__doc__ = doc
    return load
