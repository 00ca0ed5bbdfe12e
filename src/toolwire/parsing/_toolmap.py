"""Turn whatever the caller passes as ``tools`` into ``{name: input_schema}``, by duck typing.

Accepted: a Toolbox or any iterable of ``Tool`` (has ``.spec``), ``ToolSpec`` (``name``,
``input_schema``), OpenAI-style dicts (``{"type": "function", "function": {...}}`` or
``{"name", "parameters"}``), Anthropic/MCP dicts (``input_schema``/``inputSchema``), or a
mapping ``{name: schema}``. The parsing layer must not import the tools layer above it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["tool_schemas"]


def _from_dict(d: Mapping[str, Any]) -> tuple[str, Any] | None:
    fn = d.get("function")
    if isinstance(fn, Mapping):
        d = fn
    name = d.get("name")
    if not isinstance(name, str):
        return None
    for key in ("parameters", "input_schema", "inputSchema"):
        schema = d.get(key)
        if isinstance(schema, Mapping):
            return name, schema
    return name, {}


def tool_schemas(tools: Any) -> dict[str, Any] | None:
    """``{name: input_schema}`` for ``tools`` (None stays None: no tool list, nothing flagged)."""
    if tools is None:
        return None
    out: dict[str, Any] = {}
    if isinstance(tools, Mapping):
        if "name" in tools or "function" in tools:  # a single tool dict
            tools = [tools]
        else:
            return {str(k): (v if isinstance(v, Mapping) else {}) for k, v in tools.items()}
    for t in tools:
        if isinstance(t, Mapping):
            item = _from_dict(t)
            if item is not None:
                out[item[0]] = item[1]
            continue
        spec = getattr(t, "spec", t)
        name = getattr(spec, "name", None)
        if isinstance(name, str):
            schema = getattr(spec, "input_schema", None)
            out[name] = schema if isinstance(schema, Mapping) else {}
    return out
