"""MCP ``Tool`` objects (as returned by ``tools/list``), as plain dicts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from toolwire._spec import ToolSpec
from toolwire.dialects._names import wire_names
from toolwire.dialects._schema_ops import plain

__all__ = ["RESULT_KEY", "export", "output_schema_for"]

# MCP requires an object output schema; any other result is wrapped under this key (and the
# structured content a server returns must be wrapped the same way).
RESULT_KEY = "result"


def output_schema_for(spec: ToolSpec) -> dict[str, Any] | None:
    """The MCP ``outputSchema`` of ``spec``: its output schema, wrapped when not an object."""
    if spec.output_schema is None:
        return None
    schema: dict[str, Any] = plain(spec.output_schema)
    if schema.get("type") == "object":
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
    return tool


def export(specs: Sequence[ToolSpec], strict: bool) -> list[dict[str, Any]]:
    """One MCP tool per spec; MCP takes full JSON Schema, so ``strict`` changes nothing."""
    names = wire_names([s.name for s in specs], "mcp")
    return [_map_tool(s, names[s.name]) for s in specs]
