"""OpenAI Responses API: complete responses in, follow-up input items out.

Calls are ``function_call`` output items; their ``call_id`` (not the item ``id``) is what the
``function_call_output`` item must name. The original output items are kept in
``metadata["output"]`` so a stateless follow-up can echo them (reasoning items included).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

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


def _process_response(response: Any) -> Parsed:
    """Parse a Responses API ``response`` object into :class:`Parsed` (never raises)."""
    response = as_dict(response)
    output = [item for item in as_list(response.get("output")) if isinstance(item, dict)]
    status = as_str(response.get("status"))
    content: list[str] = []
    reasoning: list[str] = []
    calls: list[ToolCall] = []
    errors: list[CallParseError] = []
    metadata: dict[str, Any] = {"output": output}
    for item in output:
        kind = item.get("type")
        if kind == "message":
            for part in as_list(item.get("content")):
                part = as_dict(part)
                if part.get("type") == "output_text" and isinstance(part.get("text"), str):
                    content.append(part["text"])
                elif part.get("type") == "refusal" and isinstance(part.get("refusal"), str):
                    metadata["refusal"] = True
                    content.append(part["refusal"])
        elif kind == "reasoning":
            reasoning.extend(_reasoning_texts(item))
        elif kind == "function_call":
            index = len(calls) + len(errors)
            outcome = _process_function_call(item, index, cut=status == "incomplete")
            if isinstance(outcome, ToolCall):
                calls.append(outcome)
            else:
                errors.append(outcome)
    metadata.update(response_metadata(response))
    return joined(content, reasoning, calls, errors, metadata)


def response_metadata(response: dict[str, Any]) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    if as_str(response.get("status")):
        meta["finish_reason"] = response["status"]
    meta.update(response_fields(response, ("usage", "incomplete_details", "error")))
    return meta


def _reasoning_texts(item: dict[str, Any]) -> list[str]:
    texts = []
    for key in ("summary", "content"):
        for part in as_list(item.get(key)):
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                texts.append(part["text"])
    return texts


def _process_function_call(
    item: dict[str, Any], index: int, *, cut: bool
) -> ToolCall | CallParseError:
    name = as_str(item.get("name"))
    arguments = item.get("arguments")
    raw = arguments if isinstance(arguments, str) else object_arguments(arguments)
    if name is None:
        return CallParseError(message="a function_call item without a name", raw=raw, index=index)
    call_id = as_str(item.get("call_id")) or as_str(item.get("id"))
    return complete_call(id=call_id, name=name, raw=raw, index=index, allow_repair=not cut)


# --- follow-up items (ours -> wire) -----------------------------------------------------


def _map_function_call(call: ToolCall) -> dict[str, Any]:
    return {
        "type": "function_call",
        "call_id": call.id,
        "name": call.name,
        "arguments": call.arguments,
    }


def _map_function_call_output(result: ToolResult) -> dict[str, Any]:
    return {"type": "function_call_output", "call_id": result.call_id, "output": result.as_text()}


def _map_followup(
    calls: Sequence[ToolCall] | Parsed, results: Sequence[ToolResult], *, echo: bool = True
) -> list[dict[str, Any]]:
    plain, parsed = split_calls(calls)
    ordered = match_results(plain, results)
    items: list[dict[str, Any]] = []
    if echo:
        output = parsed.metadata.get("output") if parsed is not None else None
        if isinstance(output, list) and output:
            items.extend(output)
        else:
            items.extend(_map_function_call(call) for call in plain)
    items.extend(_map_function_call_output(r) for r in ordered)
    return items
