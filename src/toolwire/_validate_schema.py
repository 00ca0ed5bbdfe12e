"""Helpers for argument validation: JSON paths, value descriptions, schema navigation (which
subschemas apply at an instance path), the lenient coercions and the repair message."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from toolwire._errors import ArgumentProblem

_INT_RE = re.compile(r"[-+]?\d+")
_NUM_RE = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
_IDENT_RE = re.compile(r"[^\W\d]\w*")
NOTHING: Any = object()  # "no coercion applies"


def json_path(parts: Any) -> str:
    """``["items", 2, "qty"]`` -> ``$.items[2].qty``."""
    out = ["$"]
    for part in parts:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif _IDENT_RE.fullmatch(part):
            out.append(f".{part}")
        else:
            out.append(f"[{json.dumps(part, ensure_ascii=False)}]")
    return "".join(out)


def describe_value(value: Any, limit: int = 60) -> str:
    """A short text naming a JSON value's type and showing it: ``string "abc"``."""
    kind = json_type(value)
    if value is None:
        return "null"
    try:
        text = json.dumps(value, ensure_ascii=False, default=repr)
    except (ValueError, TypeError):
        text = repr(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f"{kind} {text}"


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def repair_message(tool: str, problems: list[ArgumentProblem], schema: Mapping[str, Any]) -> str:
    """The text a model reads to repair its call: every problem, then the expected shape."""
    lines = [
        f"The arguments for `{tool}` are invalid and the tool was not run."
        " Fix these and call it again:"
    ]
    for p in problems:
        detail = p.message
        if p.expected and p.expected not in detail:
            detail += f" (expected {p.expected})"
        lines.append(f"- {p.path}: {detail}")
    props = schema.get("properties")
    if isinstance(props, Mapping) and props:
        required = set(schema.get("required") or ())
        parts = []
        for name, sub in list(props.items())[:30]:
            types = types_of(expand(schema, sub, 0)) if isinstance(sub, Mapping) else set()
            kind = "/".join(sorted(types)) or "any"
            parts.append(f"{name} ({kind}{', required' if name in required else ''})")
        lines.append("Parameters: " + "; ".join(parts) + ".")
    return "\n".join(lines)


def resolve_ref(root: Mapping[str, Any], ref: str) -> Any:
    if not ref.startswith("#"):
        return None
    node: Any = root
    for part in ref[1:].split("/"):
        if not part:
            continue
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def expand(root: Mapping[str, Any], node: Any, depth: int) -> list[Mapping[str, Any]]:
    """A schema plus every subschema an instance may have to match (refs, anyOf, allOf...)."""
    if not isinstance(node, Mapping) or depth > 16:
        return []
    out: list[Mapping[str, Any]] = [node]
    ref = node.get("$ref")
    if isinstance(ref, str):
        out.extend(expand(root, resolve_ref(root, ref), depth + 1))
    for key in ("anyOf", "oneOf", "allOf"):
        subs = node.get(key)
        if isinstance(subs, list):
            for sub in subs:
                out.extend(expand(root, sub, depth + 1))
    return out


def candidates_at(
    root: Mapping[str, Any], schema: Mapping[str, Any], path: list[Any]
) -> list[Mapping[str, Any]]:
    current = expand(root, schema, 0)
    for part in path:
        following: list[Mapping[str, Any]] = []
        for node in current:
            if isinstance(part, int):
                prefix = node.get("prefixItems")
                if isinstance(prefix, list) and part < len(prefix):
                    following.extend(expand(root, prefix[part], 0))
                elif isinstance(node.get("items"), Mapping):
                    following.extend(expand(root, node["items"], 0))
            else:
                props = node.get("properties")
                if isinstance(props, Mapping) and part in props:
                    following.extend(expand(root, props[part], 0))
                elif isinstance(node.get("additionalProperties"), Mapping):
                    following.extend(expand(root, node["additionalProperties"], 0))
        current = following
    return current


def types_of(candidates: list[Mapping[str, Any]]) -> set[str]:
    types: set[str] = set()
    for node in candidates:
        declared = node.get("type")
        if isinstance(declared, str):
            types.add(declared)
        elif isinstance(declared, list):
            types.update(t for t in declared if isinstance(t, str))
    return types


def allowed_names(candidates: list[Mapping[str, Any]]) -> list[str]:
    names: list[str] = []
    for node in candidates:
        props = node.get("properties")
        if isinstance(props, Mapping):
            names.extend(str(n) for n in props if n not in names)
    return names


def coerce(value: Any, types: set[str]) -> Any:
    if isinstance(value, str):
        text = value.strip()
        if "integer" in types and _INT_RE.fullmatch(text):
            return int(text)
        if ("number" in types or "integer" in types) and _NUM_RE.fullmatch(text):
            number = float(text)
            if math.isfinite(number):
                if "number" in types:
                    return int(text) if _INT_RE.fullmatch(text) else number
                if number.is_integer():
                    return int(number)
        if "boolean" in types and text.lower() in ("true", "false"):
            return text.lower() == "true"
        if ("object" in types or "array" in types) and text[:1] in ("{", "["):
            try:
                inner = json.loads(text, parse_constant=reject_constant)
            except (ValueError, RecursionError):
                # not JSON, or nested past the parser's stack: not a usable value
                return NOTHING
            if (isinstance(inner, dict) and "object" in types) or (
                isinstance(inner, list) and "array" in types
            ):
                return inner
    if "array" in types and not isinstance(value, list):
        return [value]
    return NOTHING


def pydantic_problem(err: Any) -> ArgumentProblem:
    # Only reached from a pydantic error, so pydantic is loaded; not imported at module level
    # so that ``import toolwire`` does not pay for it.
    from pydantic import BaseModel

    loc = [part for part in err.get("loc", ()) if isinstance(part, (str, int))]
    value = err.get("input")
    return ArgumentProblem(
        path=json_path(loc),
        message=str(err.get("msg", "invalid value")),
        expected=None,
        got=describe_value(value) if not isinstance(value, BaseModel) else None,
    )


def reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


# Keywords that only annotate: a subschema made of these and ``type`` constrains nothing else.
_ANNOTATIONS = frozenset(
    ("title", "description", "default", "examples", "deprecated", "readOnly", "writeOnly")
) | {"$comment"}
_FLAT_ROOT = _ANNOTATIONS | {"type", "properties", "required", "additionalProperties", "$schema"}
_FLAT_PROPERTY = _ANNOTATIONS | {"type"}
# The Python types orjson reads each JSON type as. An integral float (1.0) is a JSON Schema
# "integer" too, but is left out: the fast path then answers "not sure" and the full check runs.
_JSON_TYPES: dict[str, frozenset[type]] = {
    "string": frozenset({str}),
    "integer": frozenset({int}),
    "number": frozenset({int, float}),
    "boolean": frozenset({bool}),
    "null": frozenset({type(None)}),
    "array": frozenset({list}),
    "object": frozenset({dict}),
}


class FlatShape:
    """What a flat object schema checks, when that is only each property's JSON type, the
    required names and whether other names are allowed (see :func:`flat_shape`).

    ``types`` maps each property to the exact Python types of the values it accepts (None:
    any value); ``required`` are the names that must be present; ``open`` is whether names
    not in ``types`` are allowed (with any value).
    """

    __slots__ = ("open", "required", "types")

    def __init__(
        self, types: dict[str, frozenset[type] | None], required: frozenset[str], open: bool
    ) -> None:
        self.types = types
        self.required = required
        self.open = open


def flat_shape(schema: Mapping[str, Any]) -> FlatShape | None:
    """The :class:`FlatShape` of ``schema``, or None when it checks anything more.

    Most tool schemas are of this kind (``{"type": "object", "properties": {"location":
    {"type": "string"}}, "required": ["location"]}``); for them a call's arguments can be
    checked exactly with a dict lookup and a ``type()`` per argument, no validator call. Any
    keyword not understood here (formats, enums, bounds, patterns, references, combinators,
    a non-object root) answers None, and the compiled validator decides.
    """
    if not isinstance(schema, Mapping) or schema.get("type", "object") != "object":
        return None
    if not schema.keys() <= _FLAT_ROOT:
        return None
    properties = schema.get("properties", {})
    required = schema.get("required", [])
    extra = schema.get("additionalProperties", True)
    if (
        not isinstance(properties, Mapping)
        or not isinstance(required, list)
        or not all(isinstance(name, str) for name in required)
        or type(extra) is not bool
    ):
        return None
    types: dict[str, frozenset[type] | None] = {}
    for name, sub in properties.items():
        if sub is True:
            types[name] = None
            continue
        if not isinstance(sub, Mapping) or not sub.keys() <= _FLAT_PROPERTY:
            return None
        kind = sub.get("type")
        if kind is None:
            types[name] = None
            continue
        kinds = [kind] if isinstance(kind, str) else kind
        if not isinstance(kinds, list) or not kinds or not all(k in _JSON_TYPES for k in kinds):
            return None
        types[name] = frozenset().union(*(_JSON_TYPES[k] for k in kinds))
    return FlatShape(types, frozenset(required), extra)
