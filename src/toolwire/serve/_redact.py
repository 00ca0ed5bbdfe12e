"""What a failed call tells a remote caller when error redaction is on.

A handler's exception text (``RuntimeError: could not connect to postgresql://admin:pw@...``)
and an upstream service's answer are written for the operator, not for whoever is on the other
end of the network: with redaction on they are replaced by the kind, a generic message and an
error id, and the full text goes to the ``toolwire.serve`` log under that id. Only the kinds
whose text comes from code or services the server does not control are redacted; the errors
toolwire writes itself (``invalid_arguments``, ``unknown_tool``, ``too_large``,
``rate_limited``, ``timeout``...) keep their messages, so a model can still repair its call.

On by default when the server listens on a non-loopback address (``toolwire serve`` decides;
``[server] redact_errors`` or ``--redact-errors/--no-redact-errors`` override).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace

from toolwire import _json
from toolwire._calls import ToolResult
from toolwire._context import Caller
from toolwire._errors import ToolError

logger = logging.getLogger("toolwire.serve")

# kind -> what the caller is told instead (the error id is appended)
GENERIC: dict[str, str] = {
    "execution_error": "The tool failed.",
    "remote_error": "A service the tool depends on failed.",
}


def new_error_id() -> str:
    return "err_" + uuid.uuid4().hex[:16]


def redact(result: ToolResult, *, caller: Caller | None, transport: str) -> ToolResult:
    """``result`` with its error replaced by the generic one when its kind is redacted (the
    original is logged at WARNING with the error id); any other result unchanged.

    Example::

        shown = redact(result, caller=caller, transport="rest")
        shown.error.details  # {"error_id": "err_..."}
    """
    error = result.error
    if error is None or error.kind not in GENERIC:
        return result
    error_id = new_error_id()
    logger.warning(
        "%s",
        _json.dumps(
            {
                "event": "tool_error",
                "error_id": error_id,
                "call_id": result.call_id,
                "tool": result.name,
                "caller": caller.id if caller is not None else None,
                "transport": transport,
                "kind": error.kind,
                "message": error.message,
                "details": _loggable(error.details),
            }
        ),
    )
    shown = ToolError(
        kind=error.kind,
        message=f"{GENERIC[error.kind]} The server logged the details under error id {error_id}.",
        details={"error_id": error_id},
        retry_after=error.retry_after,
    )
    return replace(result, error=shown)


def redact_problem(check: str, problem: BaseException) -> str:
    """A readiness check's failure as an unauthenticated caller may see it (the exception's
    type; its text, which may hold a connection URL, goes to the log)."""
    error_id = new_error_id()
    logger.warning("readiness check %s failed (error id %s): %r", check, error_id, problem)
    return f"{type(problem).__name__} (error id {error_id})"


def _loggable(details: object) -> object:
    try:
        _json.dumps(details)
    except (TypeError, ValueError):
        return repr(details)
    return details
