"""OpenAI Chat Completions: complete responses in, follow-up messages out.

Covers ``message.tool_calls`` and the legacy ``message.function_call`` (the seed's
``functions=`` API), and the fields OpenAI-compatible servers add (``reasoning_content`` from
vLLM/DeepSeek, ``reasoning``, content given as a list of parts, arguments given as an object).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from toolwire._calls import CallParseError, Parsed, ToolCall, ToolResult
from toolwire.dialects._args import complete_call, object_arguments
from toolwire.dialects._followup import match_results
from toolwire.dialects._stream import as_dict, as_list, as_str, response_fields


def _process_chat_completion(response: Any) -> Parsed:
    """Parse a Chat Completions response (or a bare assistant message) into :class:`Parsed`."""
    response = as_dict(response)
    metadata: dict[str, Any] = {}
    if "choices" in response:
        choices = as_list(response.get("choices"))
        choice = as_dict(choices[0]) if choices else {}
        message = as_dict(choice.get("message"))
        if choice.get("finish_reason") is not None:
            metadata["finish_reason"] = choice.get("finish_reason")
        metadata.update(response_fields(response))
    else:
        message = response
    content = _process_content(message.get("content"))
    refusal = as_str(message.get("refusal"))
    if refusal:
        metadata["refusal"] = refusal
        content = content + refusal if content else refusal
    reasoning = as_str(message.get("reasoning_content")) or as_str(message.get("reasoning")) or ""
    calls: list[ToolCall] = []
    errors: list[CallParseError] = []
    raw_calls = as_list(message.get("tool_calls"))
    for index, item in enumerate(raw_calls):
        item = as_dict(item)
        function = as_dict(item.get("function"))
        _process_call(
            id=as_str(item.get("id")),
            function=function,
            index=index,
            calls=calls,
            errors=errors,
            raw=item,
        )
    legacy = message.get("function_call")
    if isinstance(legacy, dict):
        _process_call(
            id=None,
            function=legacy,
            index=len(raw_calls),
            calls=calls,
            errors=errors,
            raw=legacy,
        )
    return Parsed(
        content=content,
        calls=tuple(calls),
        errors=tuple(errors),
        reasoning=reasoning,
        metadata=metadata,
    )


def _process_content(value: Any) -> str:
    if isinstance(value, str):
        return value
    # Some servers send content as a list of parts: [{"type": "text", "text": "..."}].
    return "".join(
        part["text"]
        for part in as_list(value)
        if isinstance(part, dict) and isinstance(part.get("text"), str)
    )


def _process_call(
    *,
    id: str | None,
    function: dict[str, Any],
    index: int,
    calls: list[ToolCall],
    errors: list[CallParseError],
    raw: Any,
) -> None:
    name = as_str(function.get("name"))
    arguments = function.get("arguments")
    text = arguments if isinstance(arguments, str) else object_arguments(arguments)
    if name is None:
        errors.append(
            CallParseError(
                message="a tool call without a function name", raw=_raw_text(raw), index=index
            )
        )
        return
    outcome = complete_call(id=id, name=name, raw=text, index=index)
    if isinstance(outcome, CallParseError):
        errors.append(outcome)
    else:
        calls.append(outcome)


def _raw_text(raw: Any) -> str:
    return object_arguments(raw)


# --- follow-up messages (ours -> wire) --------------------------------------------------


def _map_assistant_message(
    calls: Sequence[ToolCall], *, content: str | None = None, legacy: bool = False
) -> dict[str, Any]:
    """The assistant message that carried ``calls``, to put back into the history."""
    message: dict[str, Any] = {"role": "assistant", "content": content or None}
    if legacy:
        if len(calls) != 1:
            raise ValueError("a legacy function_call message carries exactly one call")
        message["function_call"] = {"name": calls[0].name, "arguments": calls[0].arguments}
    elif calls:
        message["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            }
            for call in calls
        ]
    return message


def _map_tool_result(result: ToolResult, *, legacy: bool = False) -> dict[str, Any]:
    """A result as a ``role: "tool"`` message, or the seed's legacy ``role: "function"``."""
    if legacy:
        return {"role": "function", "name": result.name, "content": result.as_text()}
    return {"role": "tool", "tool_call_id": result.call_id, "content": result.as_text()}


def _map_followup(
    calls: Sequence[ToolCall] | Parsed,
    results: Sequence[ToolResult],
    *,
    content: str | None = None,
    legacy: bool = False,
) -> list[dict[str, Any]]:
    if isinstance(calls, Parsed):
        content = calls.content if content is None else content
        calls = calls.calls
    ordered = match_results(calls, results)
    if not legacy:
        return [
            _map_assistant_message(calls, content=content),
            *(_map_tool_result(r) for r in ordered),
        ]
    # The functions API has one call per assistant turn: alternate call and result.
    messages: list[dict[str, Any]] = []
    for position, (call, result) in enumerate(zip(calls, ordered, strict=True)):
        text = content if position == 0 else None
        messages.append(_map_assistant_message([call], content=text, legacy=True))
        messages.append(_map_tool_result(result, legacy=True))
    return messages
