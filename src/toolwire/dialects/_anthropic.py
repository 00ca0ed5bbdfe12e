"""Anthropic Messages: complete responses in, follow-up messages out.

``tool_use`` blocks are calls (``input`` is an object: its JSON text becomes the arguments),
``thinking`` blocks are reasoning, ``text`` blocks are content. The original blocks are kept in
``metadata["content_blocks"]`` because the follow-up must echo them unchanged: thinking blocks
carry a signature the API checks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from toolwire import _json
from toolwire._calls import CallParseError, Parsed, ToolCall, ToolResult
from toolwire.dialects._args import complete_call, object_arguments
from toolwire.dialects._followup import match_results, split_calls
from toolwire.dialects._stream import (
    as_dict,
    as_list,
    as_str,
    joined,
    response_fields,
)


def _process_message(response: Any) -> Parsed:
    """Parse a Messages API response into :class:`Parsed` (never raises)."""
    response = as_dict(response)
    content: list[str] = []
    reasoning: list[str] = []
    calls: list[ToolCall] = []
    errors: list[CallParseError] = []
    blocks = [b for b in as_list(response.get("content")) if isinstance(b, dict)]
    for block in blocks:
        kind = block.get("type")
        if kind == "text" and isinstance(block.get("text"), str):
            content.append(block["text"])
        elif kind == "thinking" and isinstance(block.get("thinking"), str):
            reasoning.append(block["thinking"])
        elif kind == "tool_use":
            _process_tool_use(block, len(calls) + len(errors), calls, errors)
    metadata: dict[str, Any] = {"content_blocks": blocks}
    if as_str(response.get("stop_reason")):
        metadata["finish_reason"] = response["stop_reason"]
    metadata.update(response_fields(response))
    return joined(content, reasoning, calls, errors, metadata)


def _process_tool_use(
    block: dict[str, Any], index: int, calls: list[ToolCall], errors: list[CallParseError]
) -> None:
    name = as_str(block.get("name"))
    raw = object_arguments(block.get("input"))
    if name is None:
        errors.append(CallParseError(message="a tool_use block without a name", raw=raw))
        return
    outcome = complete_call(id=as_str(block.get("id")), name=name, raw=raw, index=index)
    if isinstance(outcome, CallParseError):
        errors.append(outcome)
    else:
        calls.append(outcome)


# --- follow-up messages (ours -> wire) --------------------------------------------------


def _map_tool_use(call: ToolCall) -> dict[str, Any]:
    try:
        arguments = _json.loads(call.arguments)
    except ValueError:
        arguments = {}
    return {"type": "tool_use", "id": call.id, "name": call.name, "input": arguments}


def _map_assistant_message(
    calls: Sequence[ToolCall] | Parsed, *, content: str | None = None
) -> dict[str, Any]:
    """The assistant turn: the original blocks when known (signatures intact), else rebuilt."""
    calls, parsed = split_calls(calls)
    if parsed is not None and content is None:
        blocks = parsed.metadata.get("content_blocks")
        if isinstance(blocks, list) and blocks:
            return {"role": "assistant", "content": list(blocks)}
        content = parsed.content
    out: list[dict[str, Any]] = []
    if content:
        out.append({"type": "text", "text": content})
    out.extend(_map_tool_use(call) for call in calls)
    return {"role": "assistant", "content": out}


def _map_tool_result(result: ToolResult) -> dict[str, Any]:
    block: dict[str, Any] = {
        "type": "tool_result",
        "tool_use_id": result.call_id,
        "content": result.as_text(),
    }
    if not result.ok:
        block["is_error"] = True
    return block


def _map_followup(
    calls: Sequence[ToolCall] | Parsed,
    results: Sequence[ToolResult],
    *,
    content: str | None = None,
) -> list[dict[str, Any]]:
    plain, _ = split_calls(calls)
    ordered = match_results(plain, results)
    return [
        _map_assistant_message(calls, content=content),
        {"role": "user", "content": [_map_tool_result(r) for r in ordered]},
    ]
