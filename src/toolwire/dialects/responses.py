"""OpenAI Responses API: parse responses and streams, build the follow-up input items.

Example::

    from toolwire.dialects.responses import EventAssembler, followup_items, parse_response

    parsed = parse_response(response)            # dict from the API (or .model_dump())
    results = await box.run(list(parsed.calls))
    input_items += followup_items(parsed, results)   # output echoed + function_call_output
    # with previous_response_id, send only the outputs: followup_items(..., echo=False)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from toolwire._calls import Parsed, ToolCall, ToolResult
from toolwire.dialects._responses import (
    _map_followup,
    _map_function_call_output,
    _process_response,
)
from toolwire.dialects._responses_stream import EventAssembler


def parse_response(response: Any) -> Parsed:
    """A Responses API ``response`` dict -> :class:`Parsed` (never raises).

    ``metadata`` holds ``finish_reason`` (the response status), ``usage``, ``id``, ``model``
    and ``output`` (the original output items).
    """
    return _process_response(response)


def function_call_output(result: ToolResult) -> dict[str, Any]:
    """``{"type": "function_call_output", "call_id", "output"}``."""
    return _map_function_call_output(result)


def followup_items(
    calls: Sequence[ToolCall] | Parsed, results: Sequence[ToolResult], *, echo: bool = True
) -> list[dict[str, Any]]:
    """Input items for the next request: the calls echoed (``echo``), then one output each.

    A :class:`Parsed` echoes its original output items (reasoning included); plain calls are
    echoed as ``function_call`` items. Raises ``ValueError`` if a call has no result.
    """
    return _map_followup(calls, results, echo=echo)


__all__ = ["EventAssembler", "followup_items", "function_call_output", "parse_response"]
