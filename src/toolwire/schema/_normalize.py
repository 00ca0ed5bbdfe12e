"""Foreign tool schemas -> JSON Schema 2020-12.

Tool documents in the wild use type names JSON Schema does not know: BFCL writes ``"dict"``,
``"float"``, ``"tuple"`` and ``"any"``; Java-flavoured generators write ``String``, ``HashMap``,
``long``; Gemini writes ``OBJECT`` and ``STRING``. :func:`normalize_schema` rewrites all of them,
recursively, keeping descriptions, defaults and enums, and never mutates its input.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# Keys are lower-cased before lookup, so "String", "STRING" and "string" all land here.
# ``None`` means "any JSON value": the ``type`` keyword is dropped.
TYPE_NAMES: dict[str, str | None] = {
    # objects
    "object": "object",
    "dict": "object",
    "dictionary": "object",
    "map": "object",
    "hashmap": "object",
    "treemap": "object",
    "linkedhashmap": "object",
    "record": "object",
    "struct": "object",
    # arrays
    "array": "array",
    "list": "array",
    "tuple": "array",
    "set": "array",
    "arraylist": "array",
    "linkedlist": "array",
    "hashset": "array",
    "sequence": "array",
    # strings
    "string": "string",
    "str": "string",
    "char": "string",
    "character": "string",
    "text": "string",
    # integers
    "integer": "integer",
    "int": "integer",
    "long": "integer",
    "short": "integer",
    "byte": "integer",
    "bigint": "integer",
    "biginteger": "integer",
    "int32": "integer",
    "int64": "integer",
    # numbers
    "number": "number",
    "float": "number",
    "double": "number",
    "decimal": "number",
    "bigdecimal": "number",
    "float32": "number",
    "float64": "number",
    # booleans
    "boolean": "boolean",
    "bool": "boolean",
    # null
    "null": "null",
    "none": "null",
    "nonetype": "null",
    # anything
    "any": None,
    "object?": None,
    "mixed": None,
    "unknown": None,
    "type_unspecified": None,  # Gemini
}

# Keywords whose value is a single subschema.
_SUBSCHEMA_KEYS = (
    "items",
    "additionalProperties",
    "unevaluatedProperties",
    "unevaluatedItems",
    "contains",
    "propertyNames",
    "not",
    "if",
    "then",
    "else",
    "additionalItems",
)
# Keywords whose value is a list of subschemas.
_SUBSCHEMA_LIST_KEYS = ("anyOf", "oneOf", "allOf", "prefixItems")
# Keywords whose value maps names to subschemas.
_SUBSCHEMA_MAP_KEYS = ("properties", "patternProperties", "$defs", "dependentSchemas")
# Non-standard keywords some generators add that JSON Schema validators reject or misread.
_DROPPED_KEYS = frozenset({"optional", "nullable_", "required_"})


class SchemaShapeError(ValueError):
    """A schema cannot be normalized; ``path`` says where (``$.properties.x.type``)."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        super().__init__(f"{path}: {message}")


def normalize_type_name(name: str) -> tuple[bool, str | None]:
    """Map one type name to JSON Schema: ``(known, json_type_or_None_for_any)``."""
    key = name.strip().lower()
    if key in TYPE_NAMES:
        return True, TYPE_NAMES[key]
    # Generic Java-ish spellings: List<String>, Map<String, Object>, String[]
    if key.endswith("[]") or key.startswith(("list<", "arraylist<", "set<", "array<")):
        return True, "array"
    if key.startswith(("map<", "hashmap<", "dict[", "dict<")):
        return True, "object"
    if key.startswith(("list[", "tuple[", "set[")):
        return True, "array"
    if key in ("java.lang.string",):
        return True, "string"
    return False, None


def normalize_schema(schema: Any, *, path: str = "$") -> Any:
    """Return a JSON Schema 2020-12 copy of ``schema`` with foreign type names translated.

    Example::

        >>> normalize_schema({"type": "dict", "properties": {"x": {"type": "float"}}})
        {'type': 'object', 'properties': {'x': {'type': 'number'}}}
    """
    if isinstance(schema, bool):
        return schema
    if not isinstance(schema, Mapping):
        raise SchemaShapeError(path, f"a schema must be an object, got {type(schema).__name__}")
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _DROPPED_KEYS:
            continue
        if key == "type":
            _put_type(out, value, f"{path}.type")
        elif key in _SUBSCHEMA_KEYS:
            if key == "items" and isinstance(value, list):
                # draft-4 style tuple typing -> 2020-12 prefixItems
                out["prefixItems"] = [
                    normalize_schema(v, path=f"{path}.items[{i}]") for i, v in enumerate(value)
                ]
            else:
                out[key] = normalize_schema(value, path=f"{path}.{key}")
        elif key in _SUBSCHEMA_LIST_KEYS:
            if not isinstance(value, Sequence) or isinstance(value, str):
                raise SchemaShapeError(f"{path}.{key}", "must be a list of schemas")
            out[key] = [normalize_schema(v, path=f"{path}.{key}[{i}]") for i, v in enumerate(value)]
        elif key in _SUBSCHEMA_MAP_KEYS:
            if not isinstance(value, Mapping):
                raise SchemaShapeError(f"{path}.{key}", "must map names to schemas")
            out[key] = {
                str(k): normalize_schema(v, path=f"{path}.{key}.{k}") for k, v in value.items()
            }
        elif key == "required":
            out[key] = _normalize_required(value, f"{path}.required")
        elif key == "nullable" and value is True:
            # OpenAPI 3.0 / Gemini ``nullable: true`` -> a null-accepting type
            out["__nullable__"] = True
        elif key == "$ref" and isinstance(value, str) and value.startswith("#/definitions/"):
            out[key] = "#/$defs/" + value[len("#/definitions/") :]
        elif key == "definitions":
            continue  # handled via _SUBSCHEMA_MAP_KEYS below (renamed)
        else:
            out[key] = value
    if "definitions" in schema and "$defs" not in out:
        out["$defs"] = {
            str(k): normalize_schema(v, path=f"{path}.definitions.{k}")
            for k, v in schema["definitions"].items()
        }
    out.pop("definitions", None)
    if out.pop("__nullable__", False):
        _make_nullable(out)
    if "type" not in out and "properties" in out and _declared_type(schema) is None:
        out["type"] = "object"
    return out


def _declared_type(schema: Mapping[str, Any]) -> Any:
    return schema.get("type")


def _put_type(out: dict[str, Any], value: Any, path: str) -> None:
    if isinstance(value, str):
        known, json_type = normalize_type_name(value)
        if not known:
            raise SchemaShapeError(path, f"unknown type name {value!r}")
        if json_type is not None:
            out["type"] = json_type
        return
    if isinstance(value, Sequence) and not isinstance(value, str):
        types: list[str] = []
        for item in value:
            if not isinstance(item, str):
                raise SchemaShapeError(path, f"type names must be strings, got {item!r}")
            known, json_type = normalize_type_name(item)
            if not known:
                raise SchemaShapeError(path, f"unknown type name {item!r}")
            if json_type is None:
                return  # one alternative is "any": no constraint at all
            if json_type not in types:
                types.append(json_type)
        if types:
            out["type"] = types[0] if len(types) == 1 else types
        return
    raise SchemaShapeError(path, f"type must be a string or a list of strings, got {value!r}")


def _normalize_required(value: Any, path: str) -> list[str]:
    if isinstance(value, bool):
        # Some generators put ``required: true`` on a property; the object-level list is what
        # counts, so drop it here rather than failing the whole document.
        return []
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise SchemaShapeError(path, "must be a list of property names")
    names: list[str] = []
    for item in value:
        if not isinstance(item, str):
            raise SchemaShapeError(path, f"property names must be strings, got {item!r}")
        if item not in names:
            names.append(item)
    return names


def _make_nullable(out: dict[str, Any]) -> None:
    current = out.get("type")
    if current is None:
        return
    if isinstance(current, str):
        if current != "null":
            out["type"] = [current, "null"]
    elif "null" not in current:
        out["type"] = [*current, "null"]
    if "enum" in out and None not in out["enum"]:
        out["enum"] = [*out["enum"], None]


def normalize_parameters(schema: Any, *, path: str = "$.parameters") -> dict[str, Any]:
    """Normalize a tool's parameter schema and make sure it describes an object.

    ``None`` (no parameters) becomes an empty object schema.
    """
    if schema is None:
        return {"type": "object", "properties": {}}
    out = normalize_schema(schema, path=path)
    if out is True or out == {}:
        return {"type": "object", "properties": {}}
    if not isinstance(out, dict):
        raise SchemaShapeError(path, "the parameters schema must be an object schema")
    declared = out.get("type")
    if declared is None:
        out["type"] = "object"
    elif declared != "object":
        raise SchemaShapeError(
            f"{path}.type", f"the parameters must be an object, not {declared!r}"
        )
    if "required" in out and not out["required"]:
        del out["required"]
    return out
