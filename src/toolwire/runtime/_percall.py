"""Per-call and per-tool objects of the executor, and the small pure helpers it uses."""

from __future__ import annotations

import asyncio
import hashlib
import time
from typing import Any

from toolwire import _json
from toolwire._calls import ToolCall, ToolResult, new_result
from toolwire._context import Caller, ProgressCallback
from toolwire._errors import ToolError, ToolFailure
from toolwire.runtime._limits import Limiter, RetryBudget
from toolwire.runtime._policy import Breaker, Policy
from toolwire.state import BreakerConfig, BreakerState


class ToolState:
    """Per tool and executor: the resolved policy and the process-local limits."""

    __slots__ = (
        "breaker_cfg",
        "breaker_key",
        "budget",
        "cache_per_caller",
        "limiter",
        "name",
        "policy",
        "safe",
        "tool",
    )

    def __init__(self, tool: Any, policy: Policy) -> None:
        self.tool = tool
        self.name: str = tool.name  # a property on Tool: read once here, not per call
        self.policy = policy
        self.safe: bool = tool.spec.annotations.safe_to_repeat
        cap = policy.concurrency
        if tool.sequential:
            cap = 1
        self.limiter = (
            Limiter(cap, policy.max_queue, name=f"tool {tool.name}") if cap is not None else None
        )
        self.budget = RetryBudget(policy.retry.budget) if policy.retry is not None else None
        self.cache_per_caller = policy.cache is not None and policy.cache.scoped(tool)
        br = policy.breaker
        self.breaker_key = (br.key or tool.name) if br is not None else ""
        self.breaker_cfg = (
            BreakerConfig(
                window=br.window,
                window_type=br.window_type,
                min_calls=br.min_calls,
                failure_rate=br.failure_rate,
                slow_call_rate=br.slow_call_rate,
                open_for=br.open_for,
                half_open_calls=br.half_open_calls,
            )
            if br is not None
            else None
        )


# Policies are immutable: one empty policy serves every call until its tool's is resolved
# (building a frozen dataclass per call cost ~1 us).
_NO_POLICY = Policy()
_monotonic = time.monotonic


class CallState:
    """Fresh per call: what the layers learn while the call goes through the chain."""

    __slots__ = (
        "attempts",
        "box",
        "breaker_state",
        "cached",
        "call",
        "caller",
        "deadline",
        "deduplicated",
        "exc",
        "fallback_depth",
        "idem_key",
        "invoked",
        "kwargs",
        "policy",
        "progress",
        "started",
        "state",
        "tool",
    )

    def __init__(self, box: Any, call: ToolCall, caller: Caller | None, started: float):
        self.box: Any = box
        self.call = call
        self.caller = caller
        self.started = started
        self.attempts = 0
        self.cached = self.deduplicated = self.invoked = False
        self.breaker_state: BreakerState | None = None
        self.exc: BaseException | None = None
        self.deadline: float | None = None
        self.idem_key: str | None = None
        self.fallback_depth = 0
        self.kwargs: dict[str, Any] = {}
        self.tool: Any = None
        self.state: ToolState | None = None
        self.policy: Policy = _NO_POLICY
        self.progress: ProgressCallback | None = None

    def result(self, value: Any = None, error: ToolError | None = None) -> ToolResult:
        call = self.call
        return new_result(
            call.id,
            call.name,
            error is None,
            value,
            error,
            self.attempts,
            self.cached,
            _monotonic() - self.started,
        )

    def fail(self, kind: Any, message: str, **extra: Any) -> ToolResult:
        return self.result(error=ToolError(kind=kind, message=message, **extra))


class AttemptTimeout(ToolFailure):
    pass


# -- helpers ------------------------------------------------------------------------------


def cancelling() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def lease(c: CallState) -> float:
    """How long a claim (lock, pending idempotency record) may outlive a crashed owner."""
    if c.deadline is not None:
        return max(1.0, c.deadline - time.monotonic() + 1.0)
    t = c.policy.timeout
    retry = c.policy.retry
    if t is not None:
        return t * (retry.attempts if retry else 1) + 5.0
    return 300.0


# Canonical argument texts up to this size are keys as they are in process memory (hashing
# cost ~0.5 us, as much as the rest of a miss's key work); longer ones are hashed so a key
# stays small.
_RAW_KEY_MAX = 256


def cache_key(
    tool: str, kwargs: Any, caller_id: str | None, per_caller: bool, *, local: bool = False
) -> str:
    """The cache key of a call: the tool and the canonical JSON of its validated arguments.

    ``local`` (an in-process store) keeps a short canonical text as it is instead of hashing
    it, and puts the caller id last, after a NUL. The forms never collide: after ``tool:``
    comes either a JSON object (starts with ``{``; no proper prefix of a JSON text is itself
    one, so where it ends is unambiguous) or 32 hex digits, then the caller part.
    """
    text = _json.dumps_bytes(kwargs, canonical=True)
    if local:
        body = text.decode() if len(text) <= _RAW_KEY_MAX else _digest(text)
        return f"{tool}:{body}\x00{caller_id or ''}" if per_caller else f"{tool}:{body}"
    if per_caller:
        return f"{tool}:{caller_id or ''}:{_digest(text)}"
    return f"{tool}:{_digest(text)}"


def _digest(text: bytes) -> str:
    return hashlib.blake2b(text, digest_size=16).hexdigest()


def idem_key(tool: str, caller_id: str | None, key: str) -> str:
    """The store key of an idempotency key: one per (tool, caller, key), unambiguously.

    The parts are hashed as a JSON list, so no choice of caller id and key (both may contain
    any character) can name another caller's record.
    """
    text = _json.dumps_bytes([tool, caller_id or "", key])
    return f"{tool}:{_digest(text)}"


def arguments_tag(kwargs: Any) -> bytes:
    """A digest of a call's validated arguments, stored with its idempotency record."""
    try:
        text = _json.dumps_bytes(kwargs, canonical=True)
    except (TypeError, ValueError):
        text = repr(sorted(kwargs.items(), key=lambda kv: kv[0])).encode()
    return _digest(text).encode()


# How long a caller refused for an unreachable idempotency store should wait: the backend
# tries the store again after its own retry interval (0.5 s by default).
IDEM_RETRY_AFTER = 1.0


def idem_unavailable(c: CallState) -> ToolResult:
    """The refusal of a call with an idempotency key while the store cannot be reached.

    Idempotency never fails open: without the record a retried key would run a second time
    (issue 13: 155 of 417 orders did). The call did not run, so the caller may send it again.
    """
    return c.fail(
        "unavailable",
        "the idempotency store is unavailable, so the call was not run; "
        "send it again with the same idempotency key",
        retry_after=IDEM_RETRY_AFTER,
    )


# A stored idempotency record: b"a:" + the arguments' tag + b":" + the encoded result.
_TAGGED = b"a:"


def encode_idem(c: CallState, result: ToolResult) -> bytes:
    return _TAGGED + arguments_tag(c.kwargs) + b":" + encode(result)


def decode_idem(c: CallState, data: bytes) -> ToolResult:
    """The stored result, or ``invalid_arguments`` when the key was used with other ones."""
    if data.startswith(_TAGGED):
        tag, _, data = data[len(_TAGGED) :].partition(b":")
        if tag != arguments_tag(c.kwargs):
            return c.fail(
                "invalid_arguments",
                f"idempotency key {c.idem_key!r} was already used for a call of "
                f"`{c.tool.name}` with different arguments; use a new key for a new call",
                # A conflict with the stored call (serve answers HTTP 409), not bad arguments.
                details={"reason": "idempotency_key_reused"},
            )
    c.cached = c.deduplicated = True
    return decode(c, data)


def breaker_outcome(c: CallState, br: Breaker, result: ToolResult | None) -> Any:
    if result is None or not c.invoked:
        return "ignore"  # cancelled, or refused before reaching the tool
    err = result.error
    if err is None:
        return "success"
    if err.kind == "cancelled":
        return "ignore"
    if not br.record_on:
        return "failure"
    for item in br.record_on:
        if isinstance(item, str):
            if item == err.kind:
                return "failure"
        elif c.exc is not None and isinstance(c.exc, item):
            return "failure"
    return "success"


def encode(result: ToolResult) -> bytes:
    out: dict[str, Any] = {"ok": result.ok, "attempts": result.attempts}
    if result.error is not None:
        out["error"] = result.error.to_dict()
    else:
        out["value"] = result.value
    try:
        return _json.dumps_bytes(out)
    except (TypeError, ValueError):
        out["value"] = repr(result.value)
        return _json.dumps_bytes(out)


def decode(c: CallState, data: bytes) -> ToolResult:
    out = _json.loads(data)
    err = out.get("error")
    if err is None:
        return c.result(value=out.get("value"))
    return c.result(
        error=ToolError(
            kind=err["kind"],
            message=err["message"],
            details=err.get("details", {}),
            retry_after=err.get("retry_after"),
        )
    )
