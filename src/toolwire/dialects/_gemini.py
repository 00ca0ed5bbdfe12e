"""Gemini ``generateContent``: responses (and stream chunks) in, follow-up contents out.

Parts of ``candidates[0].content``: ``text`` (``thought: true`` marks reasoning) and
``functionCall {name, args, id?}`` with ``args`` an object. Both the REST camelCase and the
SDK's snake_case (``function_call``) spellings are read. Calls without an id get a synthetic
one, which is left out of the ``functionResponse`` sent back (Gemini matches those by name and
order). The original parts are kept in ``metadata["parts"]`` so the follow-up can echo them
with their ``thoughtSignature``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from toolwire import _json
from toolwire._calls import Parsed, ToolCall, ToolResult
from toolwire.dialects._args import SYNTHETIC_ID_PREFIX, object_arguments
from toolwire.dialects._followup import match_results, split_calls
from toolwire.dialects._stream import (
    Collector,
    Events,
    as_dict,
    as_list,
    as_str,
)


def _get(obj: dict[str, Any], camel: str, snake: str) -> Any:
    value = obj.get(camel)
    return obj.get(snake) if value is None else value


def _process_chunk(collector: Collector, chunk: Any, out: Events) -> list[dict[str, Any]]:
    """Apply one response (or stream chunk) to ``collector``; returns its raw parts."""
    if not isinstance(chunk, dict):
        collector.note_ignored()
        return []
    meta = collector.metadata
    usage = _get(chunk, "usageMetadata", "usage_metadata")
    if isinstance(usage, dict):
        meta["usage"] = usage
    for camel, snake, key in (
        ("modelVersion", "model_version", "model"),
        ("responseId", "response_id", "id"),
    ):
        value = as_str(_get(chunk, camel, snake))
        if value:
            meta[key] = value
    feedback = _get(chunk, "promptFeedback", "prompt_feedback")
    if isinstance(feedback, dict):
        meta["prompt_feedback"] = feedback
    candidates = as_list(chunk.get("candidates"))
    candidate = as_dict(candidates[0]) if candidates else {}
    parts = [
        p for p in as_list(as_dict(candidate.get("content")).get("parts")) if isinstance(p, dict)
    ]
    for part in parts:
        _process_part(collector, part, out)
    reason = as_str(_get(candidate, "finishReason", "finish_reason"))
    if reason:
        meta["finish_reason"] = reason
    return parts


def _process_part(collector: Collector, part: dict[str, Any], out: Events) -> None:
    call = _get(part, "functionCall", "function_call")
    if isinstance(call, dict):
        collector.whole_call(
            id=as_str(call.get("id")),
            name=as_str(call.get("name")),
            arguments=object_arguments(call.get("args")),
            out=out,
        )
        return
    text = part.get("text")
    if part.get("thought") is True:
        collector.add_reasoning(text, out)
    else:
        collector.add_content(text, out)


def _process_response(response: Any) -> Parsed:
    """Parse a ``generateContent`` response into :class:`Parsed` (never raises)."""
    collector = Collector()
    out: Events = []
    try:
        parts = _process_chunk(collector, response, out)
    except Exception as exc:  # never raise on what a server sends
        collector.error(f"unreadable response: {exc.__class__.__name__}", response, out)
        parts = []
    return collector.parsed({"parts": parts})


# --- follow-up contents (ours -> wire) --------------------------------------------------


def _real_id(call_id: str) -> str | None:
    return None if call_id.startswith(SYNTHETIC_ID_PREFIX) else call_id


def _map_function_call(call: ToolCall) -> dict[str, Any]:
    try:
        args = _json.loads(call.arguments)
    except ValueError:
        args = {}
    body: dict[str, Any] = {"name": call.name, "args": args}
    if _real_id(call.id):
        body["id"] = call.id
    return {"functionCall": body}


def _map_model_content(calls: Sequence[ToolCall] | Parsed) -> dict[str, Any]:
    plain, parsed = split_calls(calls)
    if parsed is not None:
        parts = parsed.metadata.get("parts")
        if isinstance(parts, list) and parts:
            return {"role": "model", "parts": list(parts)}
    out: list[dict[str, Any]] = []
    if parsed is not None and parsed.content:
        out.append({"text": parsed.content})
    out.extend(_map_function_call(call) for call in plain)
    return {"role": "model", "parts": out}


def _map_function_response(result: ToolResult) -> dict[str, Any]:
    if result.ok:
        value = _json.loads(_json.dumps(result.value))
        response = value if isinstance(value, dict) else {"result": value}
    else:
        assert result.error is not None
        response = {"error": result.error.to_dict()}
    body: dict[str, Any] = {"name": result.name, "response": response}
    if _real_id(result.call_id):
        body["id"] = result.call_id
    return {"functionResponse": body}


def _map_followup(
    calls: Sequence[ToolCall] | Parsed, results: Sequence[ToolResult], *, role: str = "user"
) -> list[dict[str, Any]]:
    plain, _ = split_calls(calls)
    ordered = match_results(plain, results)
    return [
        _map_model_content(calls),
        {"role": role, "parts": [_map_function_response(r) for r in ordered]},
    ]
