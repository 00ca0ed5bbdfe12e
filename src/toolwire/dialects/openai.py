"""OpenAI Chat Completions: parse responses and streams, build the follow-up messages.

Example::

    from toolwire.dialects.openai import ChunkAssembler, followup_messages, parse_response

    parsed = parse_response(completion)          # dict from the API (or .model_dump())
    results = await box.run(list(parsed.calls))
    messages += followup_messages(parsed, results)                 # role "tool"
    messages += followup_messages(parsed, results, legacy=True)    # the seed's role "function"
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from toolwire._calls import Parsed, ToolCall, ToolResult
from toolwire.dialects._openai_chat import (
    _map_assistant_message,
    _map_followup,
    _map_tool_result,
    _process_chat_completion,
)
from toolwire.dialects._openai_stream import ChunkAssembler


def parse_response(response: Any) -> Parsed:
    """A Chat Completions response dict (or a bare assistant message) -> :class:`Parsed`.

    Never raises: calls that cannot be read are in ``Parsed.errors`` with their raw text.
    ``metadata`` holds ``finish_reason``, ``usage``, ``id`` and ``model`` when present.
    """
    return _process_chat_completion(response)


def assistant_message(
    calls: Sequence[ToolCall], *, content: str | None = None, legacy: bool = False
) -> dict[str, Any]:
    """The assistant message carrying ``calls`` (``tool_calls``, or ``function_call``)."""
    return _map_assistant_message(calls, content=content, legacy=legacy)


def tool_message(result: ToolResult, *, legacy: bool = False) -> dict[str, Any]:
    """``{"role": "tool", "tool_call_id", "content"}``, or legacy ``{"role": "function"}``."""
    return _map_tool_result(result, legacy=legacy)


def followup_messages(
    calls: Sequence[ToolCall] | Parsed,
    results: Sequence[ToolResult],
    *,
    content: str | None = None,
    legacy: bool = False,
) -> list[dict[str, Any]]:
    """The assistant message echoing the calls, then one result message per call in order.

    ``legacy=True`` writes the ``functions`` API shape: an assistant ``function_call`` and a
    ``role: "function"`` result per call. Raises ``ValueError`` if a call has no result.
    """
    return _map_followup(calls, results, content=content, legacy=legacy)


__all__ = [
    "ChunkAssembler",
    "assistant_message",
    "followup_messages",
    "parse_response",
    "tool_message",
]
