"""An OpenAPI 3.1 document with one ``POST /v1/tools/{name}/call`` operation per tool.

``toolwire serve`` serves it as ``/openapi.json``. The request body is the tool's input
schema; a success answers the serialized :class:`~toolwire.ToolResult` with the tool's output
schema as ``value``; a failure answers a ``ToolResult`` whose ``error`` is a structured
``ToolError`` (its ``kind`` decides the status code, see :data:`STATUS_BY_KIND`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from toolwire._errors import ERROR_KINDS, ErrorKind
from toolwire._spec import ToolSpec
from toolwire._status import STATUS
from toolwire.dialects._names import wire_names
from toolwire.dialects._schema_ops import inline_refs, plain

__all__ = ["PATH_TEMPLATE", "STATUS_BY_KIND", "export"]

PATH_TEMPLATE = "/v1/tools/{name}/call"
OPENAPI_VERSION = "3.1.0"

# One table for every transport (toolwire._status); the document must say what the server does.
STATUS_BY_KIND: dict[ErrorKind, int] = {kind: STATUS[kind].http for kind in ERROR_KINDS}
_DESCRIBED: dict[str, str] = {
    "400": "The arguments do not match the input schema (`invalid_arguments`).",
    "401": "Missing or invalid credentials (`unauthorized`).",
    "403": "The caller may not call this tool (`forbidden`).",
    "413": "The arguments are too large (`too_large`).",
    "429": "Rate limited (`rate_limited`); see `error.retry_after`.",
    "503": "The tool's circuit breaker is open (`circuit_open`).",
    "504": "The call timed out (`timeout`).",
}

_ERROR_REF = {"$ref": "#/components/schemas/ToolErrorResult"}
_COMMON_SCHEMAS: dict[str, Any] = {
    "ToolError": {
        "type": "object",
        "description": "Why a call failed; `message` is written for the model to act on.",
        "properties": {
            "kind": {"type": "string", "enum": list(ERROR_KINDS)},
            "message": {"type": "string"},
            "details": {"type": "object"},
            "retry_after": {"type": ["number", "null"]},
        },
        "required": ["kind", "message"],
    },
    "ToolErrorResult": {
        "type": "object",
        "properties": {
            "call_id": {"type": "string"},
            "name": {"type": "string"},
            "ok": {"const": False},
            "error": {"$ref": "#/components/schemas/ToolError"},
            "attempts": {"type": "integer", "minimum": 0},
            "cached": {"type": "boolean"},
            "elapsed_s": {"type": "number"},
        },
        "required": ["name", "ok", "error"],
    },
}


def _rewrite_refs(node: Any, mapping: Mapping[str, str]) -> Any:
    if isinstance(node, list):
        return [_rewrite_refs(v, mapping) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _rewrite_refs(v, mapping) for k, v in node.items()}
    ref = out.get("$ref")
    if isinstance(ref, str) and ref in mapping:
        out["$ref"] = mapping[ref]
    return out


def _component_schemas(
    schema: Mapping[str, Any], base: str, where: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Inline refs; move what stays recursive into components (``#`` means the document)."""
    inlined = inline_refs(schema, keep_recursive=True, where=where)
    defs = inlined.pop("$defs", {})
    mapping = {"#": f"#/components/schemas/{base}"}
    names = wire_names(defs, "openapi")
    mapping.update({f"#/$defs/{n}": f"#/components/schemas/{base}.{names[n]}" for n in defs})
    extra = {f"{base}.{names[n]}": _rewrite_refs(s, mapping) for n, s in defs.items()}
    return _rewrite_refs(inlined, mapping), extra


def _result_schema(spec: ToolSpec, value: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "call_id": {"type": "string"},
            "name": {"const": spec.name},
            "ok": {"const": True},
            "value": value,
            "attempts": {"type": "integer", "minimum": 0},
            "cached": {"type": "boolean"},
            "elapsed_s": {"type": "number"},
        },
        "required": ["name", "ok", "value"],
    }


def _error_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ERROR_REF}}}


def _map_operation(
    spec: ToolSpec, path_name: str, op_id: str, schemas: dict[str, Any]
) -> dict[str, Any]:
    where = f"tool {spec.name!r}"
    input_schema, extra = _component_schemas(spec.input_schema, f"{path_name}.Input", where)
    schemas[f"{path_name}.Input"] = input_schema
    schemas.update(extra)
    value: dict[str, Any] = {}
    if spec.output_schema is not None:
        value, extra = _component_schemas(spec.output_schema, f"{path_name}.Output", where)
        schemas[f"{path_name}.Output"] = value
        schemas.update(extra)
        value = {"$ref": f"#/components/schemas/{path_name}.Output"}
    schemas[f"{path_name}.Result"] = _result_schema(spec, value)
    responses: dict[str, Any] = {
        "200": {
            "description": "The call succeeded.",
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{path_name}.Result"}}
            },
        }
    }
    for status, text in _DESCRIBED.items():
        responses[status] = _error_response(text)
    responses["default"] = _error_response("The call failed; `error.kind` says why.")
    hints = spec.annotations
    op: dict[str, Any] = {
        "operationId": op_id,
        "summary": spec.title or spec.name,
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{path_name}.Input"}}
            },
        },
        "responses": responses,
        "x-toolwire-tool": spec.name,
        "x-toolwire-annotations": {
            "readOnlyHint": hints.read_only,
            "destructiveHint": hints.destructive,
            "idempotentHint": hints.safe_to_repeat,
            "openWorldHint": hints.open_world,
        },
    }
    if spec.description:
        op["description"] = spec.description
    if spec.tags:
        op["tags"] = sorted(spec.tags)
    return op


def export(specs: Sequence[ToolSpec], strict: bool) -> dict[str, Any]:
    """The OpenAPI 3.1 document (``strict`` does not apply: JSON Schema is taken whole)."""
    names = [s.name for s in specs]
    path_names = wire_names(names, "openapi")
    op_ids = wire_names(names, "openai")  # identifier-like, for client generators
    schemas: dict[str, Any] = plain(_COMMON_SCHEMAS)
    paths: dict[str, Any] = {}
    for spec in specs:
        path_name = path_names[spec.name]
        operation = _map_operation(spec, path_name, op_ids[spec.name], schemas)
        paths[PATH_TEMPLATE.format(name=path_name)] = {"post": operation}
    tags = sorted({t for s in specs for t in s.tags})
    doc: dict[str, Any] = {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "toolwire tools",
            "version": "1.0.0",
            "description": "Call a tool with its arguments as the JSON request body.",
        },
        "paths": paths,
        "components": {"schemas": schemas},
    }
    if tags:
        doc["tags"] = [{"name": t} for t in tags]
    return doc
