"""Pieces shared by the formats' prompt and result writers (tools as JSON, results as JSON).

For servers that return raw text (no tool parser configured), the tools go into the system
prompt the way the family was trained to read them, and each format's record says how
(:attr:`~toolwire.parsing._record.TextFormat.prompt`). These are the parts several families
share; a family's own wording lives in its format module.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from toolwire import _json
from toolwire._calls import ToolCall, ToolResult
from toolwire._spec import ToolSpec

__all__ = [
    "example_call",
    "function_of",
    "hermes_results",
    "hermes_tools",
    "plain_results",
    "result_value",
    "shape_prompt",
    "tool_json",
]

Pairs = Sequence[tuple[ToolCall, ToolResult]]


def function_of(spec: ToolSpec) -> dict[str, Any]:
    """``{"name", "description", "parameters"}``: the function object every template prints."""
    return {
        "name": spec.name,
        "description": spec.description,
        "parameters": dict(spec.input_schema),
    }


def tool_json(spec: ToolSpec) -> str:
    """``{"type": "function", "function": {...}}`` as one line of JSON."""
    return _json.dumps({"type": "function", "function": function_of(spec)})


def result_value(result: ToolResult) -> Any:
    """What a result writer shows: the value, or ``{"error": {...}}`` for a failed call."""
    if result.ok:
        return result.value
    assert result.error is not None
    return {"error": result.error.to_dict()}


def hermes_tools(specs: Sequence[ToolSpec], rules: str) -> str:
    """The Hermes / Qwen prompt: signatures inside ``<tools>``, calls inside ``<tool_call>``."""
    lines = "\n".join(tool_json(s) for s in specs)
    return (
        "# Tools\n\nThese functions are available to you; their signatures are listed between "
        f"<tools> and </tools>:\n<tools>\n{lines}\n</tools>\n\n"
        "To call a function, write a JSON object with its name and arguments between "
        "<tool_call> and </tool_call>, one block per call:\n"
        '<tool_call>\n{"name": "<function name>", "arguments": {<arguments>}}\n</tool_call>' + rules
    )


def hermes_results(pairs: Pairs) -> str:
    """Each result in a ``<tool_response>`` block, as Hermes and Qwen templates write them."""
    return "\n".join(
        "<tool_response>\n"
        + _json.dumps({"name": call.name, "content": result_value(result)})
        + "\n</tool_response>"
        for call, result in pairs
    )


def plain_results(pairs: Pairs) -> str:
    """``Result of f: {...}`` lines, for families whose template has no result markup."""
    return "\n".join(
        f"Result of {call.name}: {_json.dumps(result_value(result))}" for call, result in pairs
    )


_PLACEHOLDERS: dict[str, Any] = {
    "string": "...",
    "integer": 1,
    "number": 1.5,
    "boolean": True,
    "array": [],
    "object": {},
}


def example_call(spec: ToolSpec) -> ToolCall:
    """A call of ``spec`` with placeholder values for (up to two of) its parameters."""
    props = spec.input_schema.get("properties")
    args: dict[str, Any] = {}
    if isinstance(props, dict):
        for key, sub in list(props.items())[:2]:
            kind = sub.get("type") if isinstance(sub, dict) else None
            args[key] = _PLACEHOLDERS.get(kind if isinstance(kind, str) else "string", "...")
    return ToolCall(id="example", name=spec.name, arguments=_json.dumps(args))


def shape_prompt(
    specs: Sequence[ToolSpec], rules: str, write: Callable[[Sequence[ToolCall]], str]
) -> str:
    """Tools as JSON, then how to call one: an example in the family's own syntax."""
    lines = "\n".join(tool_json(s) for s in specs)
    example = write([example_call(specs[0])]) if specs else ""
    return (
        "# Tools\n\nYou may call these functions (JSON Schema signatures):\n"
        f"{lines}\n\nTo call a function, write the call exactly in this form (one such call "
        f"per function you call):\n{example}" + rules
    )
