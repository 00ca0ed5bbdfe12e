"""Structural checkers for exported schemas, written from the dialects' documented rules.

They are deliberately independent of the exporter's own tables: each walks a schema and
returns every breach with its JSON path (an empty list means the schema conforms).
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

OPENAI_STRICT_KEYWORDS = {
    "type", "properties", "required", "additionalProperties", "items", "enum", "anyOf",
    "$ref", "$defs", "description", "title", "pattern", "format", "multipleOf", "maximum",
    "exclusiveMaximum", "minimum", "exclusiveMinimum", "minItems", "maxItems",
}  # fmt: skip
OPENAI_STRICT_FORMATS = {
    "date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid",
}  # fmt: skip
JSON_TYPES = {"string", "number", "integer", "boolean", "array", "object", "null"}

GEMINI_KEYWORDS = {
    "type", "format", "title", "description", "nullable", "enum", "items", "minItems",
    "maxItems", "properties", "required", "minProperties", "maxProperties", "minLength",
    "maxLength", "pattern", "anyOf", "minimum", "maximum", "propertyOrdering",
}  # fmt: skip
GEMINI_TYPES = {"string", "number", "integer", "boolean", "array", "object"}


def _types(node: dict[str, Any]) -> list[str]:
    t = node.get("type")
    return [t] if isinstance(t, str) else list(t or [])


def check_openai_strict(schema: dict[str, Any]) -> list[str]:
    """Breaches of OpenAI strict mode: closed objects, all required, the keyword subset."""
    problems: list[str] = []
    defs = schema.get("$defs", {})
    if "object" not in _types(schema) or "anyOf" in schema:
        problems.append("$: the top must be an object, not a union")

    def walk(node: Any, path: str) -> None:
        if not isinstance(node, dict):
            problems.append(f"{path}: boolean schema")
            return
        extra = set(node) - OPENAI_STRICT_KEYWORDS
        if extra:
            problems.append(f"{path}: unsupported keywords {sorted(extra)}")
        if "$ref" in node:
            ref = node["$ref"]
            if ref != "#" and not (ref.startswith("#/$defs/") and ref[8:] in defs):
                problems.append(f"{path}: dangling $ref {ref}")
            return
        types = _types(node)
        if not types and "anyOf" not in node:
            problems.append(f"{path}: no type")
        if set(types) - JSON_TYPES:
            problems.append(f"{path}: unknown type {types}")
        if "format" in node and node["format"] not in OPENAI_STRICT_FORMATS:
            problems.append(f"{path}: format {node['format']}")
        if "enum" in node and "null" in types and None not in node["enum"]:
            problems.append(f"{path}: nullable enum without null")
        if "object" in types:
            if node.get("additionalProperties") is not False:
                problems.append(f"{path}: additionalProperties is not false")
            props = node.get("properties", {})
            if sorted(node.get("required", [])) != sorted(props):
                problems.append(f"{path}: not every property is required")
            for name, sub in props.items():
                walk(sub, f"{path}.properties.{name}")
        if "array" in types:
            if "items" not in node:
                problems.append(f"{path}: array without items")
            else:
                walk(node["items"], f"{path}.items")
        for i, branch in enumerate(node.get("anyOf", [])):
            walk(branch, f"{path}.anyOf[{i}]")

    walk({k: v for k, v in schema.items() if k != "$defs"}, "$")
    for name, sub in defs.items():
        walk(sub, f"$.$defs.{name}")
    return problems


def check_gemini(schema: dict[str, Any]) -> list[str]:
    """Breaches of Gemini's function-declaration Schema subset."""
    problems: list[str] = []

    def walk(node: Any, path: str) -> None:
        if not isinstance(node, dict):
            problems.append(f"{path}: not an object")
            return
        extra = set(node) - GEMINI_KEYWORDS
        if extra:
            problems.append(f"{path}: unsupported keywords {sorted(extra)}")
        t = node.get("type")
        if t is None and "anyOf" not in node:
            problems.append(f"{path}: no type")
        if t is not None and t not in GEMINI_TYPES:
            problems.append(f"{path}: type {t!r} (one type name expected)")
        if "nullable" in node and not isinstance(node["nullable"], bool):
            problems.append(f"{path}: nullable must be a boolean")
        if "enum" in node and (t != "string" or not all(isinstance(v, str) for v in node["enum"])):
            problems.append(f"{path}: enum outside strings")
        if t == "object":
            props = node.get("properties", {})
            if set(node.get("required", [])) - set(props):
                problems.append(f"{path}: required names a missing property")
            for name, sub in props.items():
                walk(sub, f"{path}.properties.{name}")
        if t == "array":
            if "items" not in node:
                problems.append(f"{path}: array without items")
            else:
                walk(node["items"], f"{path}.items")
        for i, branch in enumerate(node.get("anyOf", [])):
            walk(branch, f"{path}.anyOf[{i}]")

    walk(schema, "$")
    return problems


def obj(props: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "properties": props, **extra}
    if required is not None:
        out["required"] = required
    return out


# Random schemas for property tests.
_leaf = st.one_of(
    st.fixed_dictionaries({"type": st.sampled_from(["string", "integer", "number", "boolean"])}),
    st.fixed_dictionaries(
        {"type": st.just("string")},
        optional={"format": st.sampled_from(["uuid", "uri"]), "minLength": st.integers(0, 3)},
    ),
    st.fixed_dictionaries({"enum": st.lists(st.integers() | st.text(max_size=3), min_size=1)}),
    st.fixed_dictionaries({"const": st.text(max_size=3)}),
    st.just({}),
)


def _extend(children: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    props = st.dictionaries(st.text(min_size=1, max_size=4), children, max_size=4)
    return st.one_of(
        st.builds(lambda p, r: obj(p, [k for k in p if r]), props, st.booleans()),
        st.builds(lambda i: {"type": "array", "items": i}, children),
        st.builds(lambda bs: {"anyOf": bs}, st.lists(children, min_size=1, max_size=3)),
        st.builds(
            lambda t: {"type": [t["type"], "null"]} if isinstance(t.get("type"), str) else t,
            children,
        ),
        st.builds(lambda v: {"type": "object", "additionalProperties": v}, children),
    )


schemas = st.recursive(_leaf, _extend, max_leaves=12)
