"""The two dict syntaxes: a JSON Schema of the call, and a structural tag per tool.

``json_schema`` is what OpenAI's strict ``response_format``, vLLM/SGLang guided JSON and
Ollama's ``format`` take: the whole output is the call (``{"name", "arguments"}``, or a list).
Each tool's schema moves under ``$defs`` with its local ``$ref`` pointers rewritten, and
objects with declared properties gain ``additionalProperties: false`` (an unknown argument
is refused, as in the Lark and GBNF grammars).

``structural_tag`` is vLLM's and SGLang's ``{"type": "structural_tag", "structures": [{"begin",
"schema", "end"}], "triggers": [...]}``: free text until a trigger, then one tool's call. It
cannot force a call, nor limit the calls to one: those are reported, and left to the
request's ``tool_choice``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from toolwire.grammar._calls import marker
from toolwire.grammar._schema import Problem
from toolwire.parsing import CallShape, JsonObject

__all__ = ["call_json_schema", "closed", "structural_tag"]


def closed(schema: Any, prefix: str = "", *, close: bool = True) -> Any:
    """A copy of ``schema``: declared objects closed, local ``$ref``s under ``prefix``, and
    OpenAPI's ``nullable`` written as JSON Schema (engines read only the latter)."""
    if isinstance(schema, list):
        return [closed(s, prefix, close=close) for s in schema]
    if not isinstance(schema, Mapping):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "$ref" and isinstance(value, str) and value.startswith("#") and prefix:
            out[key] = prefix + value[1:]
        elif key == "allOf" and isinstance(value, list):
            # each part sees only its own properties: closing one would refuse the others'
            out[key] = [closed(v, prefix, close=False) for v in value]
        elif key == "nullable":
            continue
        elif key in ("properties", "$defs", "definitions", "patternProperties", "dependentSchemas"):
            out[key] = (
                {k: closed(v, prefix) for k, v in value.items()}
                if isinstance(value, Mapping)
                else value
            )
        elif key in ("enum", "const", "default", "examples", "required"):
            out[key] = value
        else:
            out[key] = closed(value, prefix)
    if close and "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    if schema.get("nullable") is True:
        return {"anyOf": [out, {"type": "null"}]}
    return out


def _pointer(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


def call_json_schema(
    schemas: Mapping[str, Any],
    tool_choice: str,
    parallel: bool,
    problems: list[Problem],
    shape: CallShape | None = None,
) -> dict[str, Any]:
    """The JSON Schema of the output: the ``json`` format's, or a format whose call is a bare
    JSON object (Llama 3 JSON: one call; its ``; ``-joined list is not JSON)."""
    name_key, args_key = "name", "arguments"
    if shape is not None:
        layout = shape.layout
        if not isinstance(layout, JsonObject) or any(
            (shape.begin, shape.end, shape.call_open, shape.call_close)
        ):
            raise ValueError(
                "syntax='json_schema' describes outputs that are JSON: format='json', or a format "
                "whose call is a bare JSON object (llama3_json)"
            )
        name_key, args_key = layout.name_key, layout.arguments_key
        if parallel:
            problems.append(Problem("*", "", "parallel", "one call: joined calls are not JSON"))
            parallel = False
    if tool_choice == "none":
        raise ValueError("tool_choice='none' allows no call: there is no call schema to send")
    if tool_choice == "auto":
        problems.append(
            Problem(
                "*", "", "tool_choice", "'auto' cannot be a JSON Schema: the schema forces a call"
            )
        )
    defs = {name: closed(schema, f"#/$defs/{_pointer(name)}") for name, schema in schemas.items()}
    calls = [
        {
            "type": "object",
            "properties": {
                name_key: {"const": name},
                args_key: {"$ref": f"#/$defs/{_pointer(name)}"},
            },
            "required": [name_key, args_key],
            "additionalProperties": False,
        }
        for name in schemas
    ]
    one: dict[str, Any] = calls[0] if len(calls) == 1 else {"anyOf": calls}
    body = {"type": "array", "items": one, "minItems": 1} if parallel else one
    return {"$defs": defs, **body}


def structural_tag(
    schemas: Mapping[str, Any],
    shape: CallShape | None,
    tool_choice: str,
    parallel: bool,
    problems: list[Problem],
) -> dict[str, Any]:
    """vLLM's / SGLang's structural tag: each tool's opening, arguments schema and closing."""
    if tool_choice == "none":
        raise ValueError("tool_choice='none' allows no call: there is no structural tag to send")
    kind = getattr(shape.layout, "kind", "") if shape is not None else "json_object"
    if shape is not None and (
        kind not in ("json_object", "json_arguments")
        or shape.begin
        or shape.end
        or "{index}" in shape.call_open + shape.call_close
    ):
        raise ValueError(
            "a structural tag holds one JSON arguments object per call between fixed texts; "
            "this format's calls do not fit (use syntax='lark' or 'gbnf')"
        )
    if tool_choice != "auto":
        problems.append(
            Problem(
                "*",
                "",
                "tool_choice",
                f"{tool_choice!r} cannot be forced by a structural tag: send tool_choice too",
            )
        )
    if not parallel:
        problems.append(
            Problem("*", "", "parallel", "a structural tag cannot limit the calls to one")
        )
    structures = []
    for name, schema in schemas.items():
        opening = shape.call_open.replace("{name}", name) if shape is not None else ""
        closing = shape.call_close.replace("{name}", name) if shape is not None else ""
        if kind == "json_object":
            layout = shape.layout if shape is not None else JsonObject()
            assert isinstance(layout, JsonObject)
            name_key, args_key = layout.name_key, layout.arguments_key
            quoted = json.dumps(name, ensure_ascii=False)
            opening += "{" + f"{json.dumps(name_key)}: {quoted}, {json.dumps(args_key)}: "
            closing = "}" + closing
        structures.append({"begin": opening, "schema": closed(schema), "end": closing})
    triggers = sorted({marker(s["begin"]) for s in structures})
    return {"type": "structural_tag", "structures": structures, "triggers": triggers}
