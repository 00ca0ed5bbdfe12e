"""The one boundary between a model client and its vendor SDK: errors and retries.

Each client describes its SDK's exceptions in one table (:data:`ErrorTable`: exception classes
in the order they are checked, each with the function that reads it into a :class:`Failure`),
the way httpx maps httpcore's exceptions. :func:`send` is the one retry loop every client uses:
429, 5xx, Anthropic's 529 and transport errors are retried with full-jitter backoff
(:func:`toolwire.runtime.backoff_delay`, the project's one backoff formula),
a ``Retry-After`` / ``retry-after-ms`` header setting the least wait. The SDKs' own retries are
switched off by every client, so there is exactly one retry policy.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from toolwire._backoff import backoff_delay
from toolwire._errors import ErrorKind
from toolwire._retry_after import retry_after
from toolwire.models._base import ModelError

T = TypeVar("T")

# status -> (our kind, retried here). Statuses not listed: remote_error, retried when >= 500.
_STATUS: dict[int, tuple[ErrorKind, bool]] = {
    400: ("remote_error", False),
    401: ("unauthorized", False),
    403: ("forbidden", False),
    404: ("remote_error", False),
    408: ("timeout", True),
    409: ("remote_error", False),
    413: ("too_large", False),
    429: ("rate_limited", True),
    501: ("remote_error", False),
    529: ("rate_limited", True),  # Anthropic "overloaded_error": back off like a 429
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Failure:
    """What one foreign exception means to us.

    ``retry``: this request may be sent again; ``retry_after``: the server's least wait.
    """

    kind: ErrorKind
    status: int | None = None
    retry: bool = False
    retry_after: float | None = None


class StreamError(Exception):
    """An error event that opens a stream, raised inside the retry loop so that it is retried
    (or reported) like the HTTP status it stands for (e.g. Anthropic ``overloaded_error``)."""

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status


Reader = Callable[[Any], Failure]
ErrorTable = Sequence[tuple[type[BaseException] | tuple[type[BaseException], ...], Reader]]


def status_failure(status: int, headers: Mapping[str, str] | None = None) -> Failure:
    """The failure an HTTP error status means (headers give the ``Retry-After``)."""
    kind, retry = _STATUS.get(status, ("remote_error", status >= 500))
    return Failure(kind=kind, status=status, retry=retry, retry_after=retry_after(headers or {}))


def transport_failure(kind: ErrorKind = "remote_error") -> Reader:
    """A reader for errors without a status (connection refused, reset, timed out)."""

    def read(exc: Any) -> Failure:
        return Failure(kind=kind, retry=True)

    return read


def read_stream_error(exc: StreamError) -> Failure:
    return status_failure(exc.status)


def translate(table: ErrorTable, exc: BaseException) -> Failure | None:
    """The failure ``exc`` means per ``table``; None when it is not the SDK's to report."""
    for classes, read in table:
        if isinstance(exc, classes):
            return read(exc)
    return None


def model_error(failure: Failure, exc: BaseException, model: str) -> ModelError:
    where = f"HTTP {failure.status}" if failure.status is not None else type(exc).__name__
    return ModelError(
        f"the model {model!r} request failed ({where}): {exc}",
        kind=failure.kind,
        status=failure.status,
        retryable=failure.retry or failure.status == 409,
        model=model,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """``retries`` extra attempts after the first; the wait before attempt n+1 is uniform in
    ``[0, min(max_backoff, backoff * 2**n)]``, and at least the server's ``Retry-After``
    (capped at ``max_backoff``)."""

    retries: int = 3
    backoff: float = 0.5
    max_backoff: float = 30.0

    def delay(self, attempt: int, hinted: float | None) -> float:
        floor = min(hinted, self.max_backoff) if hinted is not None else None
        return backoff_delay(attempt + 1, self.backoff, self.max_backoff, floor)


async def send(
    request: Callable[[], Awaitable[T]], *, table: ErrorTable, policy: RetryPolicy, model: str
) -> T:
    """``await request()``, retried per ``policy``; SDK errors leave as :class:`ModelError`."""
    attempt = 0
    while True:
        try:
            return await request()
        except Exception as exc:
            failure = translate(table, exc)
            if failure is None:
                raise
            if not failure.retry or attempt >= policy.retries:
                raise model_error(failure, exc, model) from exc
        await asyncio.sleep(policy.delay(attempt, failure.retry_after))
        attempt += 1
