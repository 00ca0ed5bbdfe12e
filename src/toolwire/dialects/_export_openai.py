"""OpenAI: Chat Completions ``tools``, the legacy ``functions`` list and Responses tools."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from toolwire._spec import ToolSpec
from toolwire.dialects._names import wire_names
from toolwire.dialects._schema_ops import plain, to_openai_strict

__all__ = ["export_chat", "export_functions", "export_responses", "parameters_for"]


def parameters_for(spec: ToolSpec, *, strict: bool) -> dict[str, Any]:
    """The input schema as OpenAI-style dialects take it, in strict mode when asked."""
    if strict:
        return to_openai_strict(spec.input_schema, where=f"tool {spec.name!r}")
    out: dict[str, Any] = plain(spec.input_schema)
    return out


def _is_strict(spec: ToolSpec, strict: bool) -> bool:
    return strict or spec.strict is True


def _map_function(spec: ToolSpec, name: str, strict: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name}
    if spec.description:
        out["description"] = spec.description
    out["parameters"] = parameters_for(spec, strict=strict)
    return out


def export_chat(specs: Sequence[ToolSpec], strict: bool) -> list[dict[str, Any]]:
    """``[{"type": "function", "function": {"name", "description", "parameters", "strict"?}}]``."""
    names = wire_names([s.name for s in specs], "openai")
    tools = []
    for spec in specs:
        use_strict = _is_strict(spec, strict)
        function = _map_function(spec, names[spec.name], use_strict)
        if use_strict:
            function["strict"] = True
        tools.append({"type": "function", "function": function})
    return tools


def export_functions(specs: Sequence[ToolSpec], strict: bool) -> list[dict[str, Any]]:
    """The legacy ``functions`` list, as in the seed (``{"name", "description", "parameters"}``).

    That parameter has no ``strict`` flag; in strict mode the schemas are still rewritten.
    """
    names = wire_names([s.name for s in specs], "openai-functions")
    return [_map_function(s, names[s.name], _is_strict(s, strict)) for s in specs]


def export_responses(specs: Sequence[ToolSpec], strict: bool) -> list[dict[str, Any]]:
    """Responses API tools: flat ``{"type": "function", "name", ..., "strict"}``.

    ``strict`` is always written: the Responses API defaults it to true when omitted.
    """
    names = wire_names([s.name for s in specs], "openai-responses")
    tools = []
    for spec in specs:
        use_strict = _is_strict(spec, strict)
        tool: dict[str, Any] = {"type": "function"}
        tool.update(_map_function(spec, names[spec.name], use_strict))
        tool["strict"] = use_strict
        tools.append(tool)
    return tools
