"""One audit log line per call: who called what, how it ended, how long it took.

Arguments are redacted unless the tool opts in with ``audit_arguments=True``; credentials
never appear. Lines are JSON on the ``toolwire.audit`` logger, so any log pipeline can parse
them; nothing is formatted when that logger is disabled.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from toolwire import _json
from toolwire._calls import ToolResult
from toolwire._context import Caller

logger = logging.getLogger("toolwire.audit")
REDACTED = "[redacted]"
_REQUESTED_MAX = 200  # characters kept of a name that is no tool (any client can send one)


def audit_record(
    *,
    transport: str,
    caller: Caller | None,
    tool: str,
    result: ToolResult,
    latency_s: float,
    arguments: Mapping[str, Any] | str | bytes | None = None,
    show_arguments: bool = False,
    requested: str | None = None,
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "ts": round(time.time(), 3),
        "event": "tool_call",
        "transport": transport,
        "caller": caller.id if caller is not None else None,
        "tool": tool,
        "call_id": result.call_id,
        "outcome": "ok" if result.ok else (result.error.kind if result.error else "error"),
        "latency_ms": round(latency_s * 1000, 3),
        "attempts": result.attempts,
        "cached": result.cached,
    }
    if requested is not None:
        record["requested"] = requested[:_REQUESTED_MAX]
    error_id = result.error.details.get("error_id") if result.error is not None else None
    if error_id is not None:
        record["error_id"] = error_id
    if arguments is not None:
        record["arguments"] = _shown(arguments) if show_arguments else REDACTED
    return record


def _shown(arguments: Mapping[str, Any] | str | bytes) -> Any:
    # Arguments arrive as the JSON text the caller sent; parsed only for the tools that opt in.
    if isinstance(arguments, Mapping):
        return dict(arguments)
    try:
        return _json.loads(arguments)
    except ValueError:
        return arguments.decode("utf-8", "replace") if isinstance(arguments, bytes) else arguments


def audit(
    *,
    transport: str,
    caller: Caller | None,
    tool: str,
    result: ToolResult,
    latency_s: float,
    arguments: Mapping[str, Any] | str | bytes | None = None,
    show_arguments: bool = False,
    requested: str | None = None,
) -> None:
    """Log one call on ``toolwire.audit`` at INFO (skipped cheaply when disabled)."""
    if not logger.isEnabledFor(logging.INFO):
        return
    logger.info(
        _json.dumps(
            audit_record(
                transport=transport,
                caller=caller,
                tool=tool,
                result=result,
                latency_s=latency_s,
                arguments=arguments,
                show_arguments=show_arguments,
                requested=requested,
            )
        )
    )
