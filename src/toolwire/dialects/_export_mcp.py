"""MCP ``Tool`` objects (as returned by ``tools/list``), as plain dicts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from toolwire._spec import ToolSpec
from toolwire.dialects._names import wire_names
from toolwire.dialects._schema_ops import plain

__all__ = ["RESULT_KEY", "export", "output_schema_for", "structured_content", "wraps_output"]

# MCP up to 2025-11-25 requires an object output schema (clients reject the whole tools/list
# otherwise); any other result is wrapped under this key, on every revision so that a tool
# looks the same to every client, and the structured content is wrapped the same way.
RESULT_KEY = "result"


def wraps_output(spec: ToolSpec) -> bool:
    """Whether ``spec``'s value travels as ``{"result": value}`` in MCP (its output schema is
    not an object schema: an int, a string, a list, ``X | None``...)."""
    return spec.output_schema is not None and spec.output_schema.get("type") != "object"


def output_schema_for(spec: ToolSpec) -> dict[str, Any] | None:
    """The MCP ``outputSchema`` of ``spec``: its output schema, wrapped when not an object.

    Example::

        output_schema_for(as_int.spec)
        # {"type": "object", "properties": {"result": {"type": "integer"}}, "required": ["result"]}
    """
    if spec.output_schema is None:
        return None
    schema: dict[str, Any] = plain(spec.output_schema)
    if not wraps_output(spec):
        return schema
    defs = schema.pop("$defs", None)
    wrapped: dict[str, Any] = {
        "type": "object",
        "properties": {RESULT_KEY: schema},
        "required": [RESULT_KEY],
    }
    if defs is not None:
        wrapped["$defs"] = defs
    return wrapped


def structured_content(spec: ToolSpec, value: Any) -> Any:
    """The MCP ``structuredContent`` for a successful call of ``spec`` that returned ``value``
    (already JSON-shaped): ``None`` without an output schema, else what
    :func:`output_schema_for` describes."""
    if spec.output_schema is None:
        return None
    return {RESULT_KEY: value} if wraps_output(spec) else value


def _map_tool(spec: ToolSpec, name: str) -> dict[str, Any]:
    tool: dict[str, Any] = {"name": name}
    if spec.title:
        tool["title"] = spec.title
    if spec.description:
        tool["description"] = spec.description
    tool["inputSchema"] = plain(spec.input_schema)
    output = output_schema_for(spec)
    if output is not None:
        tool["outputSchema"] = output
    hints = spec.annotations
    annotations: dict[str, Any] = {}
    if spec.title:
        annotations["title"] = spec.title
    annotations.update(
        readOnlyHint=hints.read_only,
        destructiveHint=hints.destructive,
        idempotentHint=hints.idempotent or hints.read_only,
        openWorldHint=hints.open_world,
    )
    tool["annotations"] = annotations
    if spec.task_support != "forbidden":  # absent means forbidden (MCP 2025-11-25)
        tool["execution"] = {"taskSupport": spec.task_support}
    return tool


def export(specs: Sequence[ToolSpec], strict: bool) -> list[dict[str, Any]]:
    """One MCP tool per spec; MCP takes full JSON Schema, so ``strict`` changes nothing."""
    names = wire_names([s.name for s in specs], "mcp")
    return [_map_tool(s, names[s.name]) for s in specs]
