"""The served ``/openapi.json``: a typed operation per tool plus the fixed routes.

Per-tool operations come from ``box.export("openapi")`` when the toolbox can export that
dialect (request body = the tool's input schema); they are re-rooted under
``/v1/tools/{name}/call`` and merged with the fixed routes described here, whose shapes match
what ``_rest.py`` answers.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from toolwire._errors import ERROR_KINDS
from toolwire._status import STATUS

DIALECTS = ("openai", "openai-functions", "openai-responses", "anthropic", "gemini", "mcp")
# An Idempotency-Key (header or batch field) is 1 to this many characters; the REST routes
# refuse anything else with 400, as this document says.
IDEMPOTENCY_KEY_MAX = 200
# The detail that marks a key reused with other arguments: answered 409, a conflict with the
# stored call, not a problem with the arguments themselves.
KEY_REUSED = "idempotency_key_reused"

_ERROR = {
    "type": "object",
    "required": ["kind", "message"],
    "properties": {
        "kind": {"type": "string", "enum": list(ERROR_KINDS)},
        "message": {"type": "string"},
        "details": {"type": "object"},
        "retry_after": {"type": "number"},
    },
}
_RESULT = {
    "type": "object",
    "required": ["call_id", "name", "ok", "attempts", "cached", "elapsed_s"],
    "properties": {
        "call_id": {"type": "string"},
        "name": {"type": "string"},
        "ok": {"type": "boolean"},
        "value": {},
        "error": {"$ref": "#/components/schemas/ToolError"},
        "attempts": {"type": "integer"},
        "cached": {"type": "boolean"},
        "elapsed_s": {"type": "number"},
    },
}
_ERROR_BODY = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"$ref": "#/components/schemas/ToolError"}},
}


def _json_content(schema: Mapping[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": dict(schema)}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _error_responses(statuses: Iterable[int], schema: str = "ErrorBody") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for status in sorted(set(statuses)):
        out[str(status)] = {
            "description": _describe(status),
            "content": _json_content(_ref(schema)),
        }
    return out


def _describe(status: int) -> str:
    if status == 415:
        return "the body is not declared application/json"
    kinds = [k for k, s in STATUS.items() if s.http == status]
    if status == 400:
        kinds.append("a malformed Idempotency-Key")
    if status == 409:
        kinds.append("the Idempotency-Key was already used with other arguments")
    return ", ".join(kinds) if kinds else "error"


# 415: a POST body not declared application/json (see _rest.require_json).
_CALL_ERRORS = {s.http for s in STATUS.values()} | {415}
_AUTH = (401,)
_IDEMPOTENCY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": IDEMPOTENCY_KEY_MAX},
    "description": (
        "Calls repeated with the same key and arguments run once (within the runtime's window); "
        "the same key with other arguments is refused (409). Keys are per caller and per tool."
    ),
}


def build_openapi(
    tools: list[Any], *, title: str, version: str, exported: Any = None
) -> dict[str, Any]:
    """The merged document. ``exported`` is ``box.export("openapi")`` (None: built here)."""
    if isinstance(exported, Mapping) and isinstance(exported.get("paths"), Mapping):
        doc = copy.deepcopy(dict(exported))
    else:
        doc = _fallback(tools)
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas.setdefault("ToolError", _ERROR)
    schemas.setdefault(
        "ToolErrorResult", {**copy.deepcopy(_RESULT), "required": ["name", "ok", "error"]}
    )
    schemas["ToolResult"] = _RESULT
    schemas["ErrorBody"] = _ERROR_BODY
    for item in doc["paths"].values():
        op = item.get("post") if isinstance(item, dict) else None
        if not isinstance(op, dict):
            continue
        # Statuses come from serve's one table, whatever the exporter assumed.
        ok = op.get("responses", {}).get("200") or {
            "description": "the tool's result",
            "content": _json_content(_ref("ToolResult")),
        }
        op["responses"] = {
            "200": ok,
            **_error_responses(_CALL_ERRORS, "ToolErrorResult"),
            # refused before a call exists: the bare error body
            **_error_responses((*_AUTH, 415)),
        }
        op["parameters"] = [_IDEMPOTENCY]

    doc["paths"].update(_fixed_paths(tools[0].spec.name if tools else None))
    components.setdefault("securitySchemes", {}).update(
        {
            "bearer": {"type": "http", "scheme": "bearer"},
            "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
        }
    )
    doc["info"] = {**doc.get("info", {}), "title": title, "version": version}
    doc["openapi"] = "3.1.0"
    doc["security"] = [{}, {"bearer": []}, {"apiKey": []}]
    return doc


def _fallback(tools: list[Any]) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for tool in tools:
        spec = tool.spec
        ok_schema: dict[str, Any] = copy.deepcopy(_RESULT)
        if spec.output_schema:
            ok_schema["properties"]["value"] = dict(spec.output_schema)
        paths[f"/v1/tools/{spec.name}/call"] = {
            "post": {
                "operationId": f"call_{spec.name}",
                "summary": spec.title or spec.name,
                "requestBody": {"required": True, "content": _json_content(spec.input_schema)},
                "responses": {"200": {"description": "ok", "content": _json_content(ok_schema)}},
                "x-toolwire-tool": spec.name,
            }
        }
    return {"paths": paths, "components": {"schemas": {}}}


def _fixed_paths(example_tool: str | None) -> dict[str, Any]:
    list_schema = {
        "type": "object",
        "required": ["tools"],
        "properties": {"tools": {"type": "array"}},
    }
    return {
        "/v1/tools": {
            "get": {
                "operationId": "list_tools",
                "summary": "List tools, or export them to a model dialect",
                "parameters": [
                    {
                        "name": "dialect",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "string", "enum": list(DIALECTS)},
                    }
                ],
                "responses": {
                    "200": {
                        "description": "the tools",
                        "content": _json_content({"type": "object"}),
                    },
                    **_error_responses((400, *_AUTH)),
                },
            }
        },
        "/v1/tools/{name}": {
            "get": {
                "operationId": "get_tool",
                "summary": "One tool's description and schemas",
                "parameters": [
                    {
                        "name": "name",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                        # a name that exists, so a client (or a fuzzer) can reach the 200
                        **({"example": example_tool} if example_tool else {}),
                    }
                ],
                "responses": {
                    "200": {
                        "description": "the tool",
                        "content": _json_content({"type": "object"}),
                    },
                    **_error_responses((404, *_AUTH)),
                },
            }
        },
        "/v1/calls": {
            "post": {
                "operationId": "call_batch",
                "summary": "Run a batch of calls concurrently, one result each, in order",
                "requestBody": {
                    "required": True,
                    "content": _json_content(
                        {
                            "type": "object",
                            "required": ["calls"],
                            "properties": {
                                "calls": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "required": ["name"],
                                        "properties": {
                                            "name": {"type": "string"},
                                            "arguments": {
                                                "type": ["object", "string", "null"],
                                                "description": "an object, or JSON text",
                                            },
                                            "id": {"type": ["string", "null"]},
                                            "idempotency_key": {
                                                "type": ["string", "null"],
                                                "minLength": 1,
                                                "maxLength": IDEMPOTENCY_KEY_MAX,
                                            },
                                        },
                                    },
                                }
                            },
                        }
                    ),
                },
                "responses": {
                    "200": {
                        "description": "one result per call",
                        "content": _json_content(
                            {
                                "type": "object",
                                "required": ["results"],
                                "properties": {
                                    "results": {"type": "array", "items": _ref("ToolResult")}
                                },
                            }
                        ),
                    },
                    **_error_responses((400, 413, 415, 429, *_AUTH)),
                },
            }
        },
        "/healthz": {
            "get": {
                "operationId": "healthz",
                "responses": {
                    "200": {"description": "alive", "content": _json_content({"type": "object"})}
                },
                "security": [],
            }
        },
        "/readyz": {
            "get": {
                "operationId": "readyz",
                "responses": {
                    "200": {
                        "description": "ready",
                        "content": _json_content(list_schema | {"required": []}),
                    },
                    "503": {
                        "description": "not ready",
                        "content": _json_content({"type": "object"}),
                    },
                },
                "security": [],
            }
        },
    }
