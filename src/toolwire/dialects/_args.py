"""Finishing a call's arguments text: empty -> ``{}``, valid kept as is, malformed repaired once
(with :func:`toolwire.parsing._repair.repair`, shared with the open-model parsers).

Shared by every native dialect. Streams pass ``allow_repair=False`` when the text was cut (the
stream ended, or the model hit its token limit): repairing a truncated ``{"path": "/tmp/fi``
would run a tool with arguments the model never finished, so that becomes an error instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from toolwire import _json
from toolwire._calls import CallParseError, ToolCall
from toolwire.parsing._repair import RepairFailed, repair

MAX_REPAIR_CHARS = 256 * 1024
"""Above this size malformed arguments are reported, not repaired (repair is pure Python)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Finished:
    arguments: str
    repaired: bool = False
    appended: str = ""
    """Text appended to the streamed arguments (``{}`` for empty ones) to reach ``arguments``."""


def finish_arguments(
    raw: str, *, name: str | None, index: int | None, allow_repair: bool = True
) -> Finished | CallParseError:
    """Turn the raw arguments text of one call into its final JSON text, or an error."""
    if not raw.strip():
        # Appending keeps "concatenated deltas == final arguments" true for parameterless calls.
        return Finished(arguments=raw + "{}", appended="{}")
    try:
        value = _json.loads(raw)
    except ValueError:
        pass
    else:
        if isinstance(value, str):
            # Some servers encode the arguments twice: "\"{\\\"a\\\": 1}\"".
            inner = _loads_object(value)
            if inner is not None:
                return Finished(arguments=_json.dumps(inner), repaired=True)
        return Finished(arguments=raw)
    if not allow_repair:
        return CallParseError(
            message="the arguments were cut off before the call was complete",
            raw=raw,
            name=name,
            index=index,
        )
    if len(raw) > MAX_REPAIR_CHARS:
        return CallParseError(
            message=f"malformed arguments JSON larger than {MAX_REPAIR_CHARS} characters",
            raw=raw,
            name=name,
            index=index,
        )
    repaired = _repair(raw)
    if repaired is None:
        return CallParseError(
            message="the arguments are not valid JSON and could not be repaired",
            raw=raw,
            name=name,
            index=index,
        )
    return Finished(arguments=_json.dumps(repaired), repaired=True)


def complete_call(
    *, id: str | None, name: str, raw: str, index: int, allow_repair: bool = True
) -> ToolCall | CallParseError:
    """A call that arrived whole (a complete response, not a stream): the call, or the error."""
    outcome = finish_arguments(raw, name=name, index=index, allow_repair=allow_repair)
    if isinstance(outcome, CallParseError):
        return outcome
    return ToolCall(
        id=id or synthetic_id(index),
        name=name,
        arguments=outcome.arguments,
        repaired=outcome.repaired,
    )


def synthetic_id(index: int) -> str:
    """The id given to a call whose server sent none (stable, so results can refer to it)."""
    return f"{SYNTHETIC_ID_PREFIX}{index}"


SYNTHETIC_ID_PREFIX = "toolwire_call_"


def _loads_object(text: str) -> dict[str, Any] | None:
    try:
        value = _json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


_HAS_OBJECT = re.compile(r"[{]")


def _repair(raw: str) -> dict[str, Any] | None:
    if not _HAS_OBJECT.search(raw):
        # Without a brace json-repair turns prose into a string; that is not a call.
        return None
    try:
        # The open-model parsers' repair: code fences, the lenient scanner, then json-repair.
        value = repair(raw)
    except RepairFailed:
        return None
    except Exception:  # a foreign library's failure is ours to report, never to raise
        return None
    return value if isinstance(value, dict) else None


def object_arguments(value: Any) -> str:
    """Arguments given as an object (Gemini ``args``, Anthropic ``input``) as JSON text."""
    if value is None:
        return "{}"
    if isinstance(value, str):
        return value if value.strip() else "{}"
    try:
        return _json.dumps(value)
    except (TypeError, ValueError):
        return _json.dumps(str(value))
