"""Pure JSON Schema transformations that dialect exporters need.

- :func:`inline_refs`: replace local ``$ref`` with what they point to; recursion is either kept
  (as ``$ref`` into ``$defs``) or reported with its JSON path.
- :func:`to_openai_strict`: OpenAI's strict-mode subset (every object closed, every property
  required, optional ones nullable, keywords outside the subset moved into the description).
- :func:`to_gemini`: the OpenAPI-3.0-flavoured subset of Gemini function declarations.

All functions take a schema and return a new one; inputs are never modified. Where a schema
cannot be expressed, a :class:`~toolwire.ToolDefinitionError` names the JSON path.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from toolwire._errors import ToolDefinitionError
from toolwire._json import dumps
from toolwire._validate_schema import json_type

__all__ = ["gemini_any", "inline_refs", "json_path", "plain", "to_gemini", "to_openai_strict"]

Schema = dict[str, Any]

# Keywords whose value is a schema, a map of schemas or a list of schemas.
_SCHEMA_ONE = (
    "items",
    "additionalProperties",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "propertyNames",
    "unevaluatedProperties",
    "unevaluatedItems",
    "additionalItems",
)
_SCHEMA_MAP = ("properties", "patternProperties", "dependentSchemas")
_SCHEMA_LIST = ("anyOf", "oneOf", "allOf", "prefixItems")
_DEFS = ("$defs", "definitions")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def json_path(path: str, key: str | int) -> str:
    """Extend a JSON path (``$.properties.city``) by one key or index."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    if _IDENT.fullmatch(key):
        return f"{path}.{key}"
    return f"{path}[{dumps(key)}]"


def _fail(where: str, path: str, message: str) -> ToolDefinitionError:
    prefix = f"{where}: " if where else ""
    return ToolDefinitionError(f"{prefix}{path}: {message}")


def plain(value: Any) -> Any:
    """A deep copy made of dicts and lists only, so that exports never share the tool's schema."""
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


# --------------------------------------------------------------------------- $ref inlining


def _resolve(root: Mapping[str, Any], ref: str, where: str, path: str) -> Any:
    if ref == "#":
        return root
    if not ref.startswith("#/"):
        raise _fail(where, path, f"only local $ref is supported, got {ref!r}")
    node: Any = root
    for raw in ref[2:].split("/"):
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise _fail(where, path, f"$ref {ref!r} points to nothing")
    return node


def _canonical_ref(ref: str) -> str:
    return "#/$defs/" + ref[len("#/definitions/") :] if ref.startswith("#/definitions/") else ref


def inline_refs(schema: Mapping[str, Any], *, keep_recursive: bool, where: str = "") -> Schema:
    """Return ``schema`` with every local ``$ref`` replaced by its target.

    A recursive reference cannot be inlined: with ``keep_recursive`` it stays a ``$ref`` into
    ``$defs`` (which keeps only what is still referenced), otherwise a
    :class:`ToolDefinitionError` names the path. ``where`` prefixes error messages (a tool name).

    Example::

        >>> schema = {"$defs": {"C": {"type": "string"}},
        ...           "properties": {"c": {"$ref": "#/$defs/C"}}}
        >>> inline_refs(schema, keep_recursive=False)
        {'properties': {'c': {'type': 'string'}}}
    """
    kept: set[str] = set()

    def walk(node: Any, path: str, stack: tuple[str, ...]) -> Any:
        if isinstance(node, list):
            return [walk(v, json_path(path, i), stack) for i, v in enumerate(node)]
        if not isinstance(node, Mapping):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str):
            siblings = {k: v for k, v in node.items() if k != "$ref"}
            if ref in stack:
                if not keep_recursive:
                    raise _fail(where, path, f"recursive $ref {ref!r} cannot be inlined here")
                if ref != "#" and not ref.startswith(("#/$defs/", "#/definitions/")):
                    raise _fail(where, path, f"recursive $ref {ref!r} must point into $defs")
                kept.add(ref)
                return {"$ref": _canonical_ref(ref), **walk_keys(siblings, path, stack)}
            target = _resolve(schema, ref, where, path)
            if isinstance(target, bool):
                return target if not siblings else {**walk_keys(siblings, path, stack)}
            merged = {k: v for k, v in target.items() if k not in _DEFS}
            merged.update(siblings)
            return walk(merged, path, (*stack, ref))
        return walk_keys(node, path, stack)

    def walk_keys(node: Mapping[str, Any], path: str, stack: tuple[str, ...]) -> Schema:
        out: Schema = {}
        for key, value in node.items():
            sub = json_path(path, key)
            if key in _DEFS:
                continue
            if key in _SCHEMA_ONE or key in _SCHEMA_LIST:
                out[key] = walk(value, sub, stack)
            elif key in _SCHEMA_MAP and isinstance(value, Mapping):
                out[key] = {k: walk(v, json_path(sub, k), stack) for k, v in value.items()}
            else:
                out[key] = value
        return out

    result = walk(schema, "$", ("#",))
    if not isinstance(result, dict):
        raise _fail(where, "$", "the schema must be a JSON object")
    defs: Schema = {}
    done: set[str] = set()
    while pending := sorted(r for r in kept - done if r != "#"):
        for ref in pending:
            done.add(ref)
            name = _canonical_ref(ref)[len("#/$defs/") :]
            target = _resolve(schema, ref, where, f"$.$defs.{name}")
            defs[name] = walk(target, json_path("$.$defs", name), ("#", ref))
    if defs:
        result["$defs"] = dict(sorted(defs.items()))
    return result


# --------------------------------------------------------------------------- shared helpers


def _note(schema: Schema, notes: list[str]) -> None:
    if notes:
        text = "; ".join(notes)
        desc = schema.get("description")
        schema["description"] = f"{desc} ({text})" if desc else text[0].upper() + text[1:]


def _fmt(value: Any) -> str:
    return value if isinstance(value, str) else dumps(value)


def _types_of(schema: Mapping[str, Any]) -> list[str]:
    t = schema.get("type")
    if isinstance(t, str):
        return [t]
    if isinstance(t, list):
        return [x for x in t if isinstance(x, str)]
    return []


def _normalize(node: Mapping[str, Any], where: str, path: str) -> Schema:
    """Rewrite spellings both subsets dislike: oneOf, single allOf, const, untyped enum."""
    out = dict(node)
    if "oneOf" in out:
        # The branches of generated unions are disjoint in practice; anyOf is what both accept.
        out["anyOf"] = list(out.pop("oneOf")) + list(out.pop("anyOf", []))
    if "allOf" in out:
        parts = out.pop("allOf")
        for part in parts:
            if not isinstance(part, Mapping):
                raise _fail(where, path, "allOf with a boolean schema is not supported")
            for key, value in part.items():
                if key == "properties" and isinstance(out.get("properties"), Mapping):
                    out["properties"] = {**out["properties"], **value}
                elif key == "required" and isinstance(out.get("required"), list):
                    out["required"] = list(dict.fromkeys([*out["required"], *value]))
                elif key in out and out[key] != value and key != "description":
                    raise _fail(where, path, f"allOf parts disagree on {key!r}; cannot merge")
                else:
                    out.setdefault(key, value)
    if "const" in out:
        const = out.pop("const")
        out.setdefault("enum", [const])
    if "enum" in out and "type" not in out and "anyOf" not in out:
        kinds = list(dict.fromkeys(json_type(v) for v in out["enum"]))
        out["type"] = kinds[0] if len(kinds) == 1 else kinds
    return out


_TYPE_KEYWORDS: dict[str, frozenset[str]] = {
    "object": frozenset(
        {"properties", "required", "additionalProperties", "minProperties", "maxProperties"}
        | {"patternProperties", "propertyNames", "unevaluatedProperties", "dependentRequired"}
        | {"dependentSchemas"}
    ),
    "array": frozenset(
        {"items", "prefixItems", "minItems", "maxItems", "uniqueItems", "contains"}
        | {"minContains", "maxContains", "unevaluatedItems"}
    ),
    "string": frozenset({"pattern", "minLength", "maxLength", "format"}),
    "number": frozenset(
        {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "format"}
    ),
}
_TYPE_KEYWORDS["integer"] = _TYPE_KEYWORDS["number"]
_ALL_TYPED = frozenset().union(*_TYPE_KEYWORDS.values())


def _split_types(node: Schema) -> Schema:
    """Turn ``type: [a, b, ...]`` with a structured type among them into ``anyOf`` branches."""
    types = _types_of(node)
    real = [t for t in types if t != "null"]
    if not isinstance(node.get("type"), list) or len(real) < 2:
        return node
    if not {"object", "array"} & set(real) or "anyOf" in node:
        return node
    common = {k: v for k, v in node.items() if k not in _ALL_TYPED and k not in ("type", "enum")}
    branches: list[Schema] = []
    for t in types:
        branch: Schema = {"type": t}
        branch.update({k: v for k, v in node.items() if k in _TYPE_KEYWORDS.get(t, ())})
        if "enum" in node:
            branch["enum"] = [v for v in node["enum"] if json_type(v) == t]
        branches.append(branch)
    common["anyOf"] = branches
    return common


# --------------------------------------------------------------------------- OpenAI strict

_STRICT_KEEP = frozenset(
    {"type", "properties", "required", "additionalProperties", "items", "enum", "anyOf"}
    | {"$ref", "$defs", "description", "title"}
    | {"pattern", "format", "multipleOf", "maximum", "exclusiveMaximum", "minimum"}
    | {"exclusiveMinimum", "minItems", "maxItems"}
)
_STRICT_FORMATS = frozenset(
    {"date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid"}
)
_STRICT_IMPOSSIBLE = {
    "patternProperties": "keys matching a pattern (an open map)",
    "propertyNames": "constraints on key names",
    "unevaluatedProperties": "unevaluatedProperties",
    "dependentRequired": "dependentRequired",
    "dependentSchemas": "dependentSchemas",
    "not": "`not`",
    "if": "if/then/else",
    "prefixItems": "tuples (prefixItems)",
    "contains": "`contains`",
}
_DROP = frozenset(
    {"$schema", "$id", "$comment", "$anchor", "deprecated", "readOnly", "writeOnly"}
    | {"nullable", "discriminator", "then", "else", "minContains", "maxContains"}
    | {"unevaluatedItems", "additionalItems", "contentSchema"}
)
_OPENAI_MAX_PROPERTIES = 5000
_OPENAI_MAX_DEPTH = 10


def _nullable(schema: Schema) -> Schema:
    """Let ``schema`` also accept null (how strict mode spells "optional")."""
    if "$ref" in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    out = dict(schema)
    if "anyOf" in out and "type" not in out:
        if not any(b.get("type") == "null" for b in out["anyOf"] if isinstance(b, Mapping)):
            out["anyOf"] = [*out["anyOf"], {"type": "null"}]
        return out
    types = _types_of(out)
    if types and "null" not in types:
        out["type"] = [*types, "null"]
    if "enum" in out and None not in out["enum"]:
        out["enum"] = [*out["enum"], None]
    return out


def to_openai_strict(schema: Mapping[str, Any], *, where: str = "") -> Schema:
    """Rewrite an input schema into OpenAI's strict-mode subset.

    Every object gets ``additionalProperties: false`` and lists all its properties as
    required; properties that were optional become nullable (their default moves into the
    description). Keywords outside the subset move into the description; constructs strict
    mode cannot express (open maps, ``{}`` any-value schemas, tuples, ``not``...) raise
    :class:`ToolDefinitionError` naming the JSON path.

    Example::

        >>> to_openai_strict({"type": "object", "properties": {"n": {"type": "integer"}}})
        {'type': 'object', 'properties': {'n': {'type': ['integer', 'null']}}, \
'required': ['n'], 'additionalProperties': False}
    """
    inlined = inline_refs(schema, keep_recursive=True, where=where)
    if "object" not in _types_of(inlined) or "anyOf" in inlined:
        raise _fail(where, "$", "strict mode needs an object (not a union) at the top")
    counter = [0]
    out = _strict(inlined, "$", where, counter, depth=0, root=True)
    if "$defs" in inlined:
        out["$defs"] = {
            name: _strict(sub, json_path("$.$defs", name), where, counter, depth=0)
            for name, sub in inlined["$defs"].items()
        }
    if counter[0] > _OPENAI_MAX_PROPERTIES:
        raise _fail(where, "$", f"{counter[0]} properties; strict mode allows at most 5000")
    return out


def _strict(
    node: Any, path: str, where: str, counter: list[int], *, depth: int, root: bool = False
) -> Schema:
    if not isinstance(node, Mapping):
        raise _fail(where, path, "strict mode cannot express a boolean schema (true/false)")
    node = _split_types(_normalize(node, where, path))
    for key, what in _STRICT_IMPOSSIBLE.items():
        if key in node:
            raise _fail(where, path, f"strict mode cannot express {what}")
    if "$ref" in node:
        return {k: v for k, v in node.items() if k in ("$ref", "description")}
    types = _types_of(node)
    if not types and "anyOf" not in node:
        raise _fail(where, path, "strict mode needs a type here; an any-value schema ({}) is open")
    out: Schema = {}
    notes: list[str] = []
    for key, value in node.items():
        if key in _DROP or key in ("properties", "required", "additionalProperties", "items"):
            continue
        if key == "anyOf":
            out["anyOf"] = [
                _strict(b, json_path(json_path(path, "anyOf"), i), where, counter, depth=depth)
                for i, b in enumerate(value)
            ]
        elif key == "format" and value not in _STRICT_FORMATS:
            notes.append(f"format: {_fmt(value)}")
        elif key in _STRICT_KEEP:
            out[key] = value
        else:
            notes.append(f"{key}: {_fmt(value)}")
    if "object" in types:
        _strict_object(node, out, path, where, counter, depth=depth, root=root)
    if "array" in types:
        items = node.get("items")
        if items is None:
            raise _fail(where, path, "strict mode needs `items` for an array")
        out["items"] = _strict(items, json_path(path, "items"), where, counter, depth=depth + 1)
    _note(out, notes)
    return out


def _strict_object(
    node: Schema,
    out: Schema,
    path: str,
    where: str,
    counter: list[int],
    *,
    depth: int,
    root: bool,
) -> None:
    if depth >= _OPENAI_MAX_DEPTH:
        raise _fail(where, path, "strict mode allows at most 10 levels of nested objects")
    extra = node.get("additionalProperties")
    if extra is not None and extra is not False:
        raise _fail(where, path, "strict mode cannot express an open map (additionalProperties)")
    if "properties" not in node and not root and extra is None:
        raise _fail(
            where, path, "strict mode cannot express an object with undeclared keys (a free dict)"
        )
    props = node.get("properties") or {}
    required = set(node.get("required") or ())
    new_props: Schema = {}
    for name, sub in props.items():
        counter[0] += 1
        sub_path = json_path(json_path(path, "properties"), name)
        converted = _strict(sub, sub_path, where, counter, depth=depth + 1)
        if name not in required:
            converted = _nullable(converted)
        new_props[name] = converted
    out["properties"] = new_props
    out["required"] = list(new_props)
    out["additionalProperties"] = False


# --------------------------------------------------------------------------- Gemini

_GEMINI_KEEP = frozenset(
    {"type", "format", "title", "description", "nullable", "enum", "items", "minItems"}
    | {"maxItems", "properties", "required", "minProperties", "maxProperties", "minLength"}
    | {"maxLength", "pattern", "anyOf", "minimum", "maximum", "propertyOrdering"}
)
_GEMINI_TYPES = frozenset({"string", "number", "integer", "boolean", "array", "object"})
_GEMINI_FORMATS = {
    "string": frozenset({"enum", "date-time"}),
    "number": frozenset({"float", "double"}),
    "integer": frozenset({"int32", "int64"}),
}
_GEMINI_DROP = _DROP | frozenset(
    {"additionalProperties", "patternProperties", "propertyNames", "unevaluatedProperties"}
    | {"dependentRequired", "dependentSchemas", "not", "if", "contains", "$defs"}
)


def gemini_any(description: str | None = None) -> Schema:
    """Gemini has no any-value schema: the closest is a nullable union of every type."""
    out: Schema = {
        "anyOf": [
            {"type": "string"},
            {"type": "number"},
            {"type": "boolean"},
            {"type": "object"},
            {"type": "array", "items": {"type": "string"}},
        ],
        "nullable": True,
    }
    if description:
        out["description"] = description
    return out


def to_gemini(schema: Mapping[str, Any], *, where: str = "") -> Schema:
    """Rewrite an input schema into the subset Gemini function declarations accept.

    ``$ref`` is inlined (recursion is an error), ``const`` becomes ``enum``, ``type: [T,
    "null"]`` becomes ``nullable``, ``oneOf`` becomes ``anyOf``, tuples become arrays, and
    keywords Gemini lacks are moved into the description or dropped.

    Example::

        >>> to_gemini({"type": "object", "properties": {"u": {"type": ["string", "null"]}}})
        {'type': 'object', 'properties': {'u': {'type': 'string', 'nullable': True}}}
    """
    inlined = inline_refs(schema, keep_recursive=False, where=where)
    if "object" not in _types_of(inlined):
        raise _fail(where, "$", "Gemini needs an object at the top of the parameters")
    return _gemini(inlined, "$", where)


def _gemini(node: Any, path: str, where: str) -> Schema:
    if not isinstance(node, Mapping):
        return gemini_any() if node is not False else {"type": "null"}
    node = _split_types(_normalize(node, where, path))
    out: Schema = {}
    notes: list[str] = []
    nullable = False
    types = [t for t in _types_of(node) if t != "null"]
    if "null" in _types_of(node):
        nullable = True
    if "prefixItems" in node:
        node = _tuple_to_array(node)
        types = ["array"]
    branches = node.get("anyOf")
    if isinstance(branches, list):
        kept = [b for b in branches if not (isinstance(b, Mapping) and b.get("type") == "null")]
        nullable = nullable or len(kept) < len(branches)
        converted = [
            _gemini(b, json_path(json_path(path, "anyOf"), i), where) for i, b in enumerate(kept)
        ]
        if len(converted) == 1 and not types:
            single = converted[0]
            for key, value in node.items():
                if key in ("description", "title") and key not in single:
                    single[key] = value
            if nullable:
                single["nullable"] = True
            return single
        out["anyOf"] = converted
    if len(types) > 1:
        out["anyOf"] = [{"type": t} for t in types]
        types = []
    if types:
        if types[0] not in _GEMINI_TYPES:
            raise _fail(where, path, f"Gemini has no type {types[0]!r}")
        out["type"] = types[0]
    elif "anyOf" not in out:
        return gemini_any(node.get("description"))
    for key, value in node.items():
        if key in ("type", "anyOf", "properties", "items", "required", "nullable"):
            continue
        if key == "enum":
            _gemini_enum(out, value, notes)
            nullable = nullable or None in value
        elif key == "format":
            allowed = _GEMINI_FORMATS.get(out.get("type", ""), frozenset())
            if value in allowed:
                out["format"] = value
            else:
                notes.append(f"format: {_fmt(value)}")
        elif key in _GEMINI_KEEP:
            out[key] = value
        elif key not in _GEMINI_DROP:
            notes.append(f"{key}: {_fmt(value)}")
    if out.get("type") == "object" and isinstance(node.get("properties"), Mapping):
        props_path = json_path(path, "properties")
        out["properties"] = {
            name: _gemini(sub, json_path(props_path, name), where)
            for name, sub in node["properties"].items()
        }
        required = [r for r in node.get("required") or () if r in out["properties"]]
        if required:
            out["required"] = required
    if out.get("type") == "array":
        items = node.get("items")
        out["items"] = (
            _gemini(items, json_path(path, "items"), where) if items is not None else gemini_any()
        )
    if nullable:
        out["nullable"] = True
    _note(out, notes)
    return out


def _gemini_enum(out: Schema, values: list[Any], notes: list[str]) -> None:
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, str) for v in present):
        out["enum"] = present
    elif present:
        # Gemini enums hold strings only; other values are stated for the model instead.
        notes.append("one of: " + ", ".join(_fmt(v) for v in present))


def _tuple_to_array(node: Schema) -> Schema:
    prefix = list(node["prefixItems"])
    out = {k: v for k, v in node.items() if k not in ("prefixItems", "items")}
    out["type"] = "array"
    out["items"] = prefix[0] if len(prefix) == 1 else {"anyOf": prefix}
    if node.get("items") is False or "items" not in node:
        out["minItems"] = out["maxItems"] = len(prefix)
    kinds = ", ".join(
        _fmt(p.get("type", "any")) if isinstance(p, Mapping) else "any" for p in prefix
    )
    _note(out, [f"items in this order: {kinds}"])
    return out
