"""One table from error kinds to HTTP statuses and gRPC codes, shared by every transport and by
the OpenAPI export (which must document what the server answers).

gRPC codes are kept as names (``"NOT_FOUND"``) so that this module imports no gRPC; the gRPC
transport turns them into ``grpc.StatusCode`` members.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from toolwire._errors import ERROR_KINDS, ErrorKind


@dataclass(frozen=True, slots=True, kw_only=True)
class Status:
    http: int
    grpc: str  # a grpc.StatusCode member name
    grpc_value: int  # its numeric value, for answers carried inside stream messages


STATUS: Final = MappingProxyType(
    {
        "invalid_arguments": Status(http=400, grpc="INVALID_ARGUMENT", grpc_value=3),
        "unknown_tool": Status(http=404, grpc="NOT_FOUND", grpc_value=5),
        "unauthorized": Status(http=401, grpc="UNAUTHENTICATED", grpc_value=16),
        "forbidden": Status(http=403, grpc="PERMISSION_DENIED", grpc_value=7),
        # A human must approve the call first: the request is well-formed but cannot proceed.
        "approval_required": Status(http=409, grpc="FAILED_PRECONDITION", grpc_value=9),
        "too_large": Status(http=413, grpc="RESOURCE_EXHAUSTED", grpc_value=8),
        "rate_limited": Status(http=429, grpc="RESOURCE_EXHAUSTED", grpc_value=8),
        # 499 is the de-facto "client closed request" status; a REST caller rarely sees it.
        "cancelled": Status(http=499, grpc="CANCELLED", grpc_value=1),
        # The tool itself failed: the server worked, the operation did not.
        "execution_error": Status(http=500, grpc="UNKNOWN", grpc_value=2),
        "remote_error": Status(http=502, grpc="UNAVAILABLE", grpc_value=14),
        "circuit_open": Status(http=503, grpc="UNAVAILABLE", grpc_value=14),
        # The runtime's shared state (the idempotency store) cannot be reached, so the call was
        # not run: nothing happened, and the same call may be sent again later.
        "unavailable": Status(http=503, grpc="UNAVAILABLE", grpc_value=14),
        "timeout": Status(http=504, grpc="DEADLINE_EXCEEDED", grpc_value=4),
    }
)

# Kinds whose answers carry a Retry-After header (and gRPC retry hint) when the runtime knows
# when to come back.
RETRYABLE: Final = frozenset({"rate_limited", "circuit_open", "unavailable"})

assert set(STATUS) == set(ERROR_KINDS), "every error kind needs a status"


def status_of(kind: str) -> Status:
    """The status for ``kind``; a kind outside the table (a buggy handler's) counts as
    ``execution_error`` rather than crashing the answer."""
    return STATUS.get(kind) or STATUS["execution_error"]


def http_status(kind: ErrorKind) -> int:
    """The HTTP status for a failed call of this kind."""
    return STATUS[kind].http


def grpc_code_name(kind: ErrorKind) -> str:
    """The ``grpc.StatusCode`` member name for a failed call of this kind."""
    return STATUS[kind].grpc


def kind_for_http(status: int) -> ErrorKind:
    """The error kind a client should report for an HTTP error status (first match wins)."""
    for kind, st in STATUS.items():
        if st.http == status:
            return kind  # type: ignore[return-value]
    if status >= 500:
        return "remote_error"
    return "invalid_arguments"
