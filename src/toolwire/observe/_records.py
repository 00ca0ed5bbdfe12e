"""What the runtime reports: one record per call and one event per breaker state change."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

log = logging.getLogger("toolwire.observe")


@dataclass(frozen=True, slots=True, kw_only=True)
class CallRecord:
    """One finished call. ``outcome`` is ``"ok"`` or the error kind.

    ``breaker_state`` is the state the call met (None when the tool has no breaker).
    """

    kind: Literal["call"] = "call"
    tool: str
    call_id: str
    caller: str | None
    ok: bool
    outcome: str
    attempts: int
    latency_s: float
    cached: bool = False
    deduplicated: bool = False
    breaker_state: str | None = None
    started_at: float = 0.0  # time.time()


@dataclass(frozen=True, slots=True, kw_only=True)
class BreakerEvent:
    """A breaker changed state (``key`` is the tool name or the shared ``Breaker.key``)."""

    kind: Literal["breaker"] = "breaker"
    key: str
    old: str
    new: str
    at: float  # time.time()


Record = CallRecord | BreakerEvent
Subscriber = Callable[[Record], None]


class Observers:
    """A list of subscribers; a failing subscriber is logged, never breaks a call.

    ``subs`` is read directly on the call path (an empty list: build no record at all).
    """

    __slots__ = ("subs",)

    def __init__(self) -> None:
        self.subs: list[Subscriber] = []

    def __bool__(self) -> bool:
        return bool(self.subs)

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        self.subs.append(callback)

        def unsubscribe() -> None:
            if callback in self.subs:
                self.subs.remove(callback)

        return unsubscribe

    def emit(self, record: Record) -> None:
        for sub in tuple(self.subs):
            try:
                sub(record)
            except Exception:
                log.exception("toolwire subscriber %r failed", sub)
