"""Tool documents in the shapes found in the wild -> name, description, parameters, hints.

Shapes: the seed's / OpenAI legacy ``{"name", "description", "parameters"}`` (also Gemini and
BFCL), OpenAI chat ``{"type": "function", "function": {...}}``, the flat OpenAI Responses
form, Anthropic ``input_schema`` and MCP ``inputSchema`` (+ ``annotations``, ``outputSchema``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from toolwire._errors import ToolDefinitionError
from toolwire.schema._normalize import SchemaShapeError, normalize_parameters

_PARAMETER_KEYS = (
    "parameters",
    "input_schema",
    "inputSchema",
    "parametersJsonSchema",
    "parameters_json_schema",
)
_OUTPUT_KEYS = ("outputSchema", "output_schema", "responseJsonSchema", "response")
_MCP_HINTS = {
    "readOnlyHint": "read_only",
    "idempotentHint": "idempotent",
    "destructiveHint": "destructive",
    "openWorldHint": "open_world",
}


def _task_support(doc: Mapping[str, Any]) -> dict[str, Any]:
    """MCP's ``execution.taskSupport`` (2025-11-25) when the document declares one: absent means
    "forbidden"; a value that is not one of the three is refused by the tool constructor."""
    execution = doc.get("execution")
    if isinstance(execution, Mapping) and "taskSupport" in execution:
        return {"task_support": execution["taskSupport"]}
    return {}


def read_document(schema: Any) -> dict[str, Any]:
    """Pick name, description, parameters... out of any accepted document shape."""
    if not isinstance(schema, Mapping):
        raise ToolDefinitionError(
            f"a tool schema must be a JSON object (dict), got {type(schema).__name__}"
        )
    inner: Mapping[str, Any] = schema
    strict = schema.get("strict")
    if "function" in schema and schema.get("type", "function") == "function":
        inner = schema["function"]
        if not isinstance(inner, Mapping):
            raise ToolDefinitionError("the 'function' member of a tool schema must be an object")
        strict = inner.get("strict", strict)
    elif "functionDeclarations" in schema or "function_declarations" in schema:
        raise ToolDefinitionError(
            "this is a Gemini tool holding several function declarations;"
            " call Tool.from_schema on each declaration"
        )
    elif "type" in schema and schema.get("type") != "function" and "name" not in schema:
        raise ToolDefinitionError(
            f"tool schema of type {schema.get('type')!r} is not a function tool"
        )
    name = inner.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ToolDefinitionError(
            f"a tool schema needs a non-empty string 'name'; got keys {sorted(map(str, inner))}"
        )
    description = inner.get("description", "")
    if description is None:
        description = ""
    if not isinstance(description, str):
        raise ToolDefinitionError(f"tool {name!r}: 'description' must be a string")
    raw_params = next((inner[k] for k in _PARAMETER_KEYS if k in inner), None)
    param_key = next((k for k in _PARAMETER_KEYS if k in inner), "parameters")
    if raw_params is not None and not isinstance(raw_params, Mapping):
        raise ToolDefinitionError(
            f"tool {name!r}: {param_key!r} must be a JSON Schema object,"
            f" got {type(raw_params).__name__}"
        )
    try:
        parameters = normalize_parameters(raw_params, path=f"$.{param_key}")
    except SchemaShapeError as exc:
        raise ToolDefinitionError(f"tool {name!r}: {exc}") from exc
    output = next((inner[k] for k in _OUTPUT_KEYS if k in inner), None)
    hints: dict[str, bool] = {}
    title = inner.get("title")
    annotations = inner.get("annotations")
    if isinstance(annotations, Mapping):
        for key, field in _MCP_HINTS.items():
            if isinstance(annotations.get(key), bool):
                hints[field] = annotations[key]
        if title is None and isinstance(annotations.get("title"), str):
            title = annotations["title"]
    if title is not None and not isinstance(title, str):
        title = None
    return {
        **_task_support(inner),
        "name": name,
        "description": description,
        "parameters": parameters,
        "output": output,
        "hints": hints,
        "strict": strict if isinstance(strict, bool) else None,
        "title": title,
    }
