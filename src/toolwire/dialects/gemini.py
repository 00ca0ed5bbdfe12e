"""Gemini: parse ``generateContent`` responses and stream chunks, build the follow-up.

Example::

    from toolwire.dialects.gemini import ChunkAssembler, followup_contents, parse_response

    parsed = parse_response(response)            # dict from the REST API
    results = await box.run(list(parsed.calls))
    contents += followup_contents(parsed, results)
    # [{"role": "model", "parts": [...]}, {"role": "user", "parts": [{"functionResponse": ...}]}]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from toolwire._calls import Parsed, ToolCall, ToolResult
from toolwire.dialects._gemini import (
    _map_followup,
    _map_function_response,
    _map_model_content,
    _process_response,
)
from toolwire.dialects._gemini_stream import ChunkAssembler


def parse_response(response: Any) -> Parsed:
    """A ``generateContent`` response dict -> :class:`Parsed` (never raises).

    ``metadata`` holds ``finish_reason``, ``usage``, ``model`` and ``parts`` (the original
    parts, echoed by :func:`followup_contents`).
    """
    return _process_response(response)


def model_content(calls: Sequence[ToolCall] | Parsed) -> dict[str, Any]:
    """The ``role: "model"`` content that carried the calls."""
    return _map_model_content(calls)


def function_response_part(result: ToolResult) -> dict[str, Any]:
    """``{"functionResponse": {"name", "response", "id"?}}``; failures under ``"error"``."""
    return _map_function_response(result)


def followup_contents(
    calls: Sequence[ToolCall] | Parsed, results: Sequence[ToolResult], *, role: str = "user"
) -> list[dict[str, Any]]:
    """The model content, then one content (``role``: "user", or legacy "function") holding a
    ``functionResponse`` part per call, in call order. Raises ``ValueError`` on a missing
    result."""
    return _map_followup(calls, results, role=role)


__all__ = [
    "ChunkAssembler",
    "followup_contents",
    "function_response_part",
    "model_content",
    "parse_response",
]
