"""Typing parameter values that a format writes as plain text (qwen3_coder, glm45).

The tool's JSON Schema decides: ``"03106"`` stays a string when the schema says string, an
integer parameter written ``230.0`` becomes ``230`` (a non-integral number is kept as a number
for validation to report — never dropped). Without a schema, text that parses as JSON becomes
that JSON value, anything else stays a string.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Mapping
from typing import Any

from toolwire.parsing._repair import RepairFailed, repair

__all__ = ["coerce", "param_schema"]

_INT = re.compile(r"[-+]?\d+")
_MAX_LITERAL = 100_000


def param_schema(schemas: Mapping[str, Any] | None, tool: str, param: str) -> Any:
    """The schema of ``param`` of ``tool``, or None when unknown."""
    if not schemas:
        return None
    schema = schemas.get(tool)
    if not isinstance(schema, Mapping):
        return None
    props = schema.get("properties")
    if not isinstance(props, Mapping):
        return None
    return props.get(param)


def _types(schema: Any) -> list[str]:
    if not isinstance(schema, Mapping):
        return []
    t = schema.get("type")
    if isinstance(t, str):
        return [t]
    if isinstance(t, list):
        return [x for x in t if isinstance(x, str)]
    out: list[str] = []
    for key in ("anyOf", "oneOf"):
        for sub in schema.get(key) or ():
            out += _types(sub)
    if not out and "enum" in schema and all(isinstance(v, str) for v in schema["enum"]):
        return ["string"]
    return out


def _as_json(text: str) -> tuple[bool, Any]:
    try:  # the stdlib, not orjson: integers beyond 64 bits must stay exact
        return True, json.loads(text)
    except (ValueError, RecursionError):
        return False, None


def _number(text: str, integer: bool) -> tuple[bool, Any]:
    s = text.strip()
    if _INT.fullmatch(s):
        return True, int(s)
    try:
        f = float(s)
    except ValueError:
        return False, None
    if f != f or f in (float("inf"), float("-inf")):
        return False, None
    if integer and f.is_integer():
        return True, int(f)
    return True, f


def _structured(text: str) -> tuple[bool, Any]:
    ok, v = _as_json(text)
    if ok:
        return True, v
    if len(text) <= _MAX_LITERAL:
        try:
            return True, ast.literal_eval(text.strip())
        except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
            pass
    try:
        return True, repair(text)
    except RepairFailed:
        return False, None


def coerce(text: str, schema: Any) -> Any:
    """The value ``text`` stands for, typed by ``schema`` (see the module docstring)."""
    types = _types(schema)
    stripped = text.strip()
    if not types:
        ok, v = _as_json(stripped)
        return v if ok else text
    if "null" in types and stripped in ("null", "None"):
        return None
    if "string" in types:
        return text
    for t in types:
        if t in ("integer", "number"):
            ok, v = _number(stripped, t == "integer")
        elif t == "boolean":
            low = stripped.lower()
            ok, v = low in ("true", "false"), low == "true"
        elif t in ("object", "array"):
            ok, v = _structured(stripped)
            ok = ok and isinstance(v, dict if t == "object" else (list, tuple))
        else:
            ok, v = False, None
        if ok:
            return list(v) if isinstance(v, tuple) else v
    ok, v = _as_json(stripped)
    return v if ok else text
