"""The keys the runtime stores state under, and the stored forms of results.

A cache entry is keyed by the tool and the canonical JSON of the validated arguments (and
the caller, when the tool's cache is per caller); an idempotency record by (tool, caller,
key). Stored results are JSON: ``{"ok", "attempts", "value" | "error"}``; an idempotency
record carries a digest of the arguments it was made with, so a key reused for other
arguments is refused instead of answered.
"""

from __future__ import annotations

import hashlib
from typing import Any

from toolwire import _json
from toolwire._calls import ToolResult
from toolwire._errors import ToolError
from toolwire.runtime._outcomes import finish, refuse
from toolwire.runtime._plan import PreparedCall

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
    one, so where it ends is unambiguous) or 32 hex digits, then the caller part. Raises
    ``TypeError``/``ValueError`` for arguments without a JSON form (not cached).
    """
    text = _json.dumps_bytes(kwargs, canonical=True)
    if local:
        body = text.decode() if len(text) <= _RAW_KEY_MAX else _digest(text)
        return f"{tool}:{body}\x00{caller_id or ''}" if per_caller else f"{tool}:{body}"
    if per_caller:
        return f"{tool}:{caller_id or ''}:{_digest(text)}"
    return f"{tool}:{_digest(text)}"


def call_cache_key(call: PreparedCall, *, local: bool) -> str | None:
    """``cache_key`` of a prepared call, or None when its arguments have no JSON form."""
    plan = call.plan
    try:
        return cache_key(plan.name, call.kwargs, call.caller_id, plan.cache_per_caller, local=local)
    except (TypeError, ValueError):
        return None


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


def idem_flight(call: PreparedCall, key: str) -> str:
    """The in-process flight of an idempotency key: a duplicate with other arguments does not
    join it (it waits for the record and is refused, see ``decode_idem``)."""
    return f"i:{key}:{arguments_tag(call.kwargs).decode()}"


# A stored idempotency record: b"a:" + the arguments' tag + b":" + the encoded result.
_TAGGED = b"a:"


def encode_idem(call: PreparedCall, result: ToolResult) -> bytes:
    return _TAGGED + arguments_tag(call.kwargs) + b":" + encode(result)


def decode_idem(call: PreparedCall, data: bytes) -> ToolResult:
    """The stored result, or ``invalid_arguments`` when the key was used with other ones."""
    if data.startswith(_TAGGED):
        tag, _, data = data[len(_TAGGED) :].partition(b":")
        if tag != arguments_tag(call.kwargs):
            return refuse(
                call,
                "invalid_arguments",
                f"idempotency key {call.idempotency_key!r} was already used for a call of "
                f"`{call.plan.name}` with different arguments; use a new key for a new call",
                # A conflict with the stored call (serve answers HTTP 409), not bad arguments.
                details={"reason": "idempotency_key_reused"},
            )
    call.stats.cached = call.stats.deduplicated = True
    return decode(call, data)


# How long a caller refused for an unreachable idempotency store should wait: the backend
# tries the store again after its own retry interval (0.5 s by default).
IDEM_RETRY_AFTER = 1.0


def idem_unavailable(call: PreparedCall) -> ToolResult:
    """The refusal of a call with an idempotency key while the store cannot be reached.

    Idempotency never fails open: without the record a retried key would run a second time
    (issue 13: 155 of 417 orders did). The call did not run, so the caller may send it again.
    """
    return refuse(
        call,
        "unavailable",
        "the idempotency store is unavailable, so the call was not run; "
        "send it again with the same idempotency key",
        retry_after=IDEM_RETRY_AFTER,
    )


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


def decode(call: PreparedCall, data: bytes) -> ToolResult:
    out = _json.loads(data)
    err = out.get("error")
    if err is None:
        return finish(call, out.get("value"))
    return finish(
        call,
        error=ToolError(
            kind=err["kind"],
            message=err["message"],
            details=err.get("details", {}),
            retry_after=err.get("retry_after"),
        ),
    )


def cache_bytes(result: ToolResult) -> bytes | None:
    """A successful result's value as stored in a cache, or None when it has no JSON form."""
    try:
        return _json.dumps_bytes(result.value)
    except (TypeError, ValueError):
        return None  # no JSON form: returned, not cached
