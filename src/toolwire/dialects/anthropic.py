"""Anthropic Messages: parse responses and streams, build the follow-up messages.

Example::

    from toolwire.dialects.anthropic import EventAssembler, followup_messages, parse_response

    parsed = parse_response(message)             # dict from the API (or .model_dump())
    results = await box.run(list(parsed.calls))
    messages += followup_messages(parsed, results)
    # [{"role": "assistant", "content": [...original blocks...]},
    #  {"role": "user", "content": [{"type": "tool_result", "tool_use_id": ..., ...}]}]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from toolwire._calls import Parsed, ToolCall, ToolResult
from toolwire.dialects._anthropic import (
    _map_assistant_message,
    _map_followup,
    _map_tool_result,
    _process_message,
)
from toolwire.dialects._anthropic_stream import EventAssembler


def parse_response(response: Any) -> Parsed:
    """A Messages API response dict -> :class:`Parsed` (never raises).

    ``metadata`` holds ``finish_reason`` (the stop reason), ``usage``, ``id``, ``model`` and
    ``content_blocks`` (the original blocks, echoed by :func:`followup_messages`).
    """
    return _process_message(response)


def assistant_message(
    calls: Sequence[ToolCall] | Parsed, *, content: str | None = None
) -> dict[str, Any]:
    """The assistant turn carrying the calls (a Parsed echoes its original blocks)."""
    return _map_assistant_message(calls, content=content)


def tool_result_block(result: ToolResult) -> dict[str, Any]:
    """``{"type": "tool_result", "tool_use_id", "content"}`` (+ ``is_error`` on failure)."""
    return _map_tool_result(result)


def followup_messages(
    calls: Sequence[ToolCall] | Parsed,
    results: Sequence[ToolResult],
    *,
    content: str | None = None,
) -> list[dict[str, Any]]:
    """The assistant turn, then one user message with a ``tool_result`` block per call.

    Raises ``ValueError`` if a call has no result (the API rejects such a history).
    """
    return _map_followup(calls, results, content=content)


__all__ = [
    "EventAssembler",
    "assistant_message",
    "followup_messages",
    "parse_response",
    "tool_result_block",
]
