"""JSON Schema -> grammar nodes for the JSON values it accepts.

Covered: ``type`` (one or a list), ``enum``, ``const``, ``properties`` / ``required`` /
``additionalProperties``, ``items`` / ``prefixItems`` / ``minItems`` / ``maxItems``,
``minimum`` / ``maximum`` / ``exclusiveMinimum`` / ``exclusiveMaximum`` (both drafts),
``minLength`` / ``maxLength``, ``pattern``, ``format`` (date, time, date-time, uuid, ipv4),
``anyOf`` / ``oneOf`` / ``allOf``, OpenAPI's ``nullable``, and ``$ref`` into ``$defs`` /
``definitions`` (recursion included). Annotations (``default``, ``description``...) constrain
nothing and are skipped. Everything else is recorded as a :class:`Problem` with its schema
path: the grammar then accepts more than the schema there, and the caller warns.

Properties are written in the order the schema lists them (as llguidance and xgrammar do);
an optional one may be left out. Unless ``additionalProperties`` allows them, an object with
declared properties accepts no others.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from toolwire.grammar._ir import NOTHING, Node, Ref, Rules, alt, lit, opt, rep, seq
from toolwire.grammar._numbers import decimal_range, integer_range
from toolwire.grammar._pattern import PatternError, parse_pattern
from toolwire.grammar._scalars import (
    FORMATS,
    any_value,
    encode_chars,
    json_literal,
    string_of_length,
    string_token,
    ws,
)

__all__ = ["Problem", "SchemaCompiler", "member_list"]

_ANNOTATIONS = frozenset(
    {
        "title",
        "description",
        "default",
        "examples",
        "example",
        "$schema",
        "$id",
        "$comment",
        "$anchor",
        "deprecated",
        "readOnly",
        "writeOnly",
        "contentMediaType",
        "contentEncoding",
        "$defs",
        "definitions",
        "discriminator",
        "externalDocs",
        "xml",
    }
)
_HANDLED = frozenset(
    {
        "type",
        "enum",
        "const",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "prefixItems",
        "minItems",
        "maxItems",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "minLength",
        "maxLength",
        "pattern",
        "format",
        "anyOf",
        "oneOf",
        "allOf",
        "$ref",
        "nullable",
        "multipleOf",
    }
)
_BY_TYPE = {
    "object": ("properties", "required", "additionalProperties"),
    "array": ("items", "prefixItems", "minItems", "maxItems"),
    "string": ("minLength", "maxLength", "pattern", "format"),
    "number": ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"),
}
_OBJECT_UNSUPPORTED = (
    "minProperties",
    "maxProperties",
    "patternProperties",
    "propertyNames",
    "dependentRequired",
    "dependentSchemas",
    "unevaluatedProperties",
)
_TYPES = ("object", "array", "string", "integer", "number", "boolean", "null")


@dataclass(frozen=True, slots=True)
class Problem:
    """A schema constraint the grammar does not enforce (it accepts more there)."""

    tool: str
    path: str
    keyword: str
    reason: str

    def __str__(self) -> str:
        return f"{self.tool}: {self.path or '/'} {self.keyword}: {self.reason}"


class SchemaCompiler:
    """Compiles the schemas of one tool into a shared :class:`Rules` table."""

    def __init__(self, rules: Rules, problems: list[Problem], tool: str, root: Any) -> None:
        self.rules = rules
        self.problems = problems
        self.tool = tool
        self.root = root
        self.hint = tool

    def note(self, path: str, keyword: str, reason: str) -> None:
        self.problems.append(Problem(self.tool, path, keyword, reason))

    # -- entry -----------------------------------------------------------------------------

    def value(self, schema: Any, path: str, hint: str = "") -> Node:
        """Nodes for the JSON texts ``schema`` accepts; NOTHING when it accepts none."""
        if schema is True or (isinstance(schema, Mapping) and not _constraining(schema)):
            return any_value(self.rules)
        if schema is False:
            return NOTHING
        if not isinstance(schema, Mapping):
            self.note(path, "", f"not a schema: {schema!r}")
            return any_value(self.rules)
        schema = dict(schema)
        if "$ref" in schema:
            return self._ref(schema, path, hint)
        if "allOf" in schema:
            schema = self._all_of(schema, path)
        for key in schema:
            if key not in _HANDLED and key not in _ANNOTATIONS and not key.startswith("x-"):
                self.note(path, key, "not enforced by the grammar")
        node = self._choices(schema, path, hint)
        if schema.get("nullable") is True and node != NOTHING:
            node = alt(node, lit("null"))
        return node

    def _choices(self, schema: dict[str, Any], path: str, hint: str) -> Node:
        for keyword in ("anyOf", "oneOf"):
            branches = schema.get(keyword)
            if isinstance(branches, list):
                base = {k: v for k, v in schema.items() if k not in ("anyOf", "oneOf", "nullable")}
                if keyword == "oneOf" and not _disjoint(branches):
                    self.note(
                        path, "oneOf", "treated as anyOf (a value matching two branches passes)"
                    )
                nodes = [
                    self.value(
                        _merge(base, b, self, f"{path}/{keyword}/{i}"),
                        f"{path}/{keyword}/{i}",
                        hint,
                    )
                    for i, b in enumerate(branches)
                ]
                return (
                    alt(*(n for n in nodes if n != NOTHING))
                    if any(n != NOTHING for n in nodes)
                    else NOTHING
                )
        if "const" in schema:
            return json_literal(self.rules, schema["const"])
        if "enum" in schema and isinstance(schema["enum"], list):
            values = [json_literal(self.rules, v) for v in schema["enum"]]
            return alt(*values) if values else NOTHING
        types = schema.get("type")
        if isinstance(types, str):
            types = [types]
        if not isinstance(types, list):
            types = _inferred_types(schema)
            if not types:
                return any_value(self.rules)
        nodes = [self._typed(t, schema, path, hint) for t in types]
        live = [n for n in nodes if n != NOTHING]
        return alt(*live) if live else NOTHING

    def _typed(self, t: str, schema: dict[str, Any], path: str, hint: str) -> Node:
        if t == "object":
            return self._object(schema, path, hint)
        if t == "array":
            return self._array(schema, path, hint)
        if t == "string":
            return self._string(schema, path, hint)
        if t in ("integer", "number"):
            return self._number(t, schema, path, hint)
        if t == "boolean":
            return alt(lit("true"), lit("false"))
        if t == "null":
            return lit("null")
        self.note(path, "type", f"unknown type {t!r}")
        return any_value(self.rules)

    # -- references and composition --------------------------------------------------------

    def _ref(self, schema: dict[str, Any], path: str, hint: str) -> Node:
        ref = schema["$ref"]
        target = _resolve(self.root, ref) if isinstance(ref, str) else None
        if target is None:
            self.note(path, "$ref", f"cannot resolve {ref!r} (only local #/... references)")
            return any_value(self.rules)
        siblings = {k: v for k, v in schema.items() if k != "$ref" and k not in _ANNOTATIONS}
        if siblings:
            return self.value(
                _merge(dict(target) if isinstance(target, Mapping) else {}, siblings, self, path),
                path,
                hint,
            )
        key = ("ref", id(self.root), ref)
        cached = self.rules.memo.get(key)
        if cached is not None:
            return cached
        name = self.rules.reserve(f"{self.tool}-{ref.rsplit('/', 1)[-1]}")
        node = Ref(name)
        self.rules.memo[key] = node
        body = self.value(target, ref.lstrip("#"), ref.rsplit("/", 1)[-1])
        if body == NOTHING:
            # A rule must have a body: NUL cannot occur in JSON text, so this never matches.
            body = lit("\x00")
            self.note(ref.lstrip("#"), "$ref", "accepts no value")
        self.rules.fill(name, body)
        return node

    def _all_of(self, schema: dict[str, Any], path: str) -> dict[str, Any]:
        merged = {k: v for k, v in schema.items() if k != "allOf"}
        parts = schema["allOf"]
        if not isinstance(parts, list):
            self.note(path, "allOf", "not a list")
            return merged
        for i, part in enumerate(parts):
            if isinstance(part, Mapping) and "$ref" in part:
                resolved = _resolve(self.root, part["$ref"])
                part = resolved if isinstance(resolved, Mapping) else {}
            if isinstance(part, Mapping):
                merged = _merge(merged, part, self, f"{path}/allOf/{i}")
        return merged

    # -- objects and arrays ----------------------------------------------------------------

    def _object(self, schema: dict[str, Any], path: str, hint: str) -> Node:
        rules = self.rules
        w = ws(rules)
        props = schema.get("properties")
        props = dict(props) if isinstance(props, Mapping) else {}
        required = [r for r in schema.get("required", ()) if isinstance(r, str)]
        for name in required:
            if name not in props:
                props[name] = True
        for keyword in _OBJECT_UNSUPPORTED:
            if keyword in schema:
                self.note(path, keyword, "not enforced by the grammar")
        members: list[tuple[Node, bool]] = []
        for name, sub in props.items():
            node = self.value(sub, f"{path}/properties/{name}", name)
            if node == NOTHING:
                if name in required:
                    return NOTHING
                continue
            key = json_literal(rules, name)
            members.append((seq(key, w, lit(":"), w, node), name in required))
        # Declared properties (even none) close the object unless additionalProperties opens
        # it: an unknown argument is a model's mistake. A bare {"type": "object"} is free-form.
        declared = "properties" in schema or bool(props)
        extra_schema = schema.get("additionalProperties", None if declared else True)
        extra: Node = NOTHING
        if extra_schema is not None and extra_schema is not False:
            value = self.value(extra_schema, f"{path}/additionalProperties", "extra")
            if value != NOTHING:
                extra = seq(string_token(rules), w, lit(":"), w, value)
        sep = seq(w, lit(","), w)
        inner, required_after = member_list(
            rules, members, sep, extra, f"{self.hint}-{hint or 'obj'}"
        )
        body = seq(inner, w) if required_after else opt(seq(inner, w))
        return rules.define(f"{self.hint}-{hint or 'obj'}", seq(lit("{"), w, body, lit("}")))

    def _array(self, schema: dict[str, Any], path: str, hint: str) -> Node:
        rules = self.rules
        w = ws(rules)
        for keyword in (
            "uniqueItems",
            "contains",
            "minContains",
            "maxContains",
            "unevaluatedItems",
        ):
            if keyword in schema and not (keyword == "uniqueItems" and schema[keyword] is False):
                self.note(path, keyword, "not enforced by the grammar")
        lo = _count(schema.get("minItems"), 0)
        hi = _count(schema.get("maxItems"), None)
        prefix = schema.get("prefixItems")
        prefix = list(prefix) if isinstance(prefix, list) else []
        items = schema.get("items", True)
        if isinstance(items, list):  # draft 4-7 tuple form
            prefix, items = list(items), schema.get("additionalItems", True)
        item = self.value(items, f"{path}/items", f"{hint}-item")
        positional = [
            self.value(s, f"{path}/prefixItems/{i}", f"{hint}-{i}") for i, s in enumerate(prefix)
        ]
        sep = seq(w, lit(","), w)
        # Build from the end: after position k, the rest of the list.
        limit = len(positional) if hi is None else min(hi, len(positional))
        rest_lo = max(lo - limit, 0)
        rest_hi = None if hi is None else hi - limit
        tail: Node = (
            NOTHING if item == NOTHING or rest_hi == 0 else rep(seq(sep, item), rest_lo, rest_hi)
        )
        if tail == NOTHING and rest_lo == 0:
            tail = lit("")
        for k in range(limit - 1, -1, -1):
            here = seq(sep if k else lit(""), positional[k], tail)
            tail = here if k < lo else opt(here)
        if not positional:
            first = seq(item, rep(seq(sep, item), max(lo - 1, 0), None if hi is None else hi - 1))
            if item == NOTHING or hi == 0:
                first = NOTHING
            tail = first if lo > 0 else opt(first) if first != NOTHING else lit("")
        if tail == NOTHING:
            return NOTHING
        body = (
            seq(lit("["), w, tail, w, lit("]")) if tail != lit("") else seq(lit("["), w, lit("]"))
        )
        return rules.define(f"{self.hint}-{hint or 'list'}", body)

    # -- scalars ---------------------------------------------------------------------------

    def _string(self, schema: dict[str, Any], path: str, hint: str) -> Node:
        lo = _count(schema.get("minLength"), 0)
        hi = _count(schema.get("maxLength"), None)
        pattern, fmt = schema.get("pattern"), schema.get("format")
        body: Node | None = None
        if isinstance(pattern, str):
            try:
                body = encode_chars(parse_pattern(pattern))
            except PatternError as exc:
                self.note(path, "pattern", f"not enforced: {exc}")
            if fmt is not None:
                self.note(path, "format", "not enforced beside a pattern")
        elif isinstance(fmt, str):
            if fmt in FORMATS:
                body = FORMATS[fmt]
            else:
                self.note(path, "format", f"{fmt!r} not enforced")
        if body is not None and (lo > 0 or hi is not None):
            self.note(path, "minLength/maxLength", "not enforced beside a pattern or format")
        if body is None and (lo > 0 or hi is not None):
            body = string_of_length(lo, hi)
        return string_token(
            self.rules, body, hint=f"{self.hint}-{hint or 'str'}" if body else "string"
        )

    def _number(self, t: str, schema: dict[str, Any], path: str, hint: str) -> Node:
        bounds = _bounds(schema)
        step = schema.get("multipleOf")
        if step is not None:
            if _is_int(step) and int(step) == 1:
                t = "integer"
            elif not (t == "integer" and _is_int(step) and int(step) == 1):
                self.note(path, "multipleOf", "not enforced by the grammar")
        lo, lo_strict, hi, hi_strict = bounds
        if t == "integer":
            ilo = None if lo is None else (math.floor(lo) + 1 if lo_strict else math.ceil(lo))
            ihi = None if hi is None else (math.ceil(hi) - 1 if hi_strict else math.floor(hi))
            if ilo is not None and ihi is not None and ilo > ihi:
                return NOTHING
            node = integer_range(ilo, ihi)
            name = "integer" if ilo is None and ihi is None else f"{self.hint}-{hint or 'int'}"
        else:
            node = decimal_range(lo, hi, lo_strict=lo_strict, hi_strict=hi_strict)
            name = "number" if lo is None and hi is None else f"{self.hint}-{hint or 'num'}"
        if node == NOTHING:
            return NOTHING
        return self.rules.define(name, node, token=True)


# -- helpers ---------------------------------------------------------------------------------


def member_list(
    rules: Rules, members: list[tuple[Node, bool]], sep: Node, extra: Node, hint: str
) -> tuple[Node, bool]:
    """One or more of ``members`` (each ``(node, required)``) in order, joined by ``sep``, then
    any number of ``extra`` (NOTHING: none); and whether one is required (else the caller
    makes the list optional). Rules per position keep it linear in the members."""
    # nonempty[after]: one or more members from i on (`after`: one was written before)
    nonempty: dict[bool, Node] = {
        after: seq(sep if after else lit(""), extra, rep(seq(sep, extra), 0, None))
        for after in (False, True)
    }
    required_after = False  # is any member at index >= i required?
    for i in range(len(members) - 1, -1, -1):
        member, is_required = members[i]
        rest_true = nonempty[True] if required_after else opt(nonempty[True])
        new: dict[bool, Node] = {}
        for after in (False, True):
            written = seq(sep if after else lit(""), member, rest_true)
            body = written if is_required else alt(written, nonempty[after])
            new[after] = rules.define(f"{hint}-m{i}", body)
        nonempty = new
        required_after = required_after or is_required
    return nonempty[False], required_after


def _constraining(schema: Mapping[str, Any]) -> bool:
    return any(k not in _ANNOTATIONS and not str(k).startswith("x-") for k in schema)


def _inferred_types(schema: Mapping[str, Any]) -> list[str]:
    found = [t for t, keys in _BY_TYPE.items() if any(k in schema for k in keys)]
    return found if len(found) == 1 else []


def _disjoint(branches: list[Any]) -> bool:
    seen: set[str] = set()
    for b in branches:
        t = b.get("type") if isinstance(b, Mapping) else None
        if not isinstance(t, str) or t not in _TYPES:
            return False
        kind = "number" if t in ("integer", "number") else t
        if kind in seen:
            return False
        seen.add(kind)
    return True


def _resolve(root: Any, ref: str) -> Any:
    if ref == "#":
        return root
    if not ref.startswith("#/"):
        return None
    node = root
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def _merge(a: Mapping[str, Any], b: Any, owner: SchemaCompiler, path: str) -> dict[str, Any]:
    """``a`` and ``b`` as one schema (allOf, a branch under its parent, $ref siblings)."""
    out = dict(a)
    if not isinstance(b, Mapping):
        if b is False:
            out["enum"] = []
        return out
    for key, value in b.items():
        if key not in out:
            out[key] = value
        elif key == "properties" and isinstance(value, Mapping):
            props = dict(out[key])
            for name, sub in value.items():
                props[name] = (
                    _merge(props[name], sub, owner, path)
                    if isinstance(props.get(name), Mapping)
                    else sub
                )
            out[key] = props
        elif key == "required":
            out[key] = list(dict.fromkeys([*out[key], *value]))
        elif key in ("minimum", "minLength", "minItems", "exclusiveMinimum"):
            out[key] = max(out[key], value)
        elif key in ("maximum", "maxLength", "maxItems", "exclusiveMaximum"):
            out[key] = min(out[key], value)
        elif key == "type":
            ta = {out[key]} if isinstance(out[key], str) else set(out[key])
            tb = {value} if isinstance(value, str) else set(value)
            both = [t for t in _TYPES if t in ta & tb] or (
                ["integer"] if {"integer", "number"} <= ta | tb else []
            )
            out[key] = both if both else []
        elif key == "enum" and isinstance(value, list):
            out[key] = [v for v in out[key] if v in value]
        elif out[key] != value and key not in _ANNOTATIONS:
            owner.note(path, key, "conflicting values in allOf: the first is used")
    return out


def _count(value: Any, default: int | None) -> Any:
    return int(value) if _is_int(value) and value >= 0 else default


def _is_int(value: Any) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and float(value).is_integer()
    )


def _decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        return None
    return d if d.is_finite() else None


def _bounds(schema: Mapping[str, Any]) -> tuple[Decimal | None, bool, Decimal | None, bool]:
    lo, hi = _decimal(schema.get("minimum")), _decimal(schema.get("maximum"))
    lo_strict = hi_strict = False
    ex_lo, ex_hi = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    if ex_lo is True:  # draft 4: a flag on minimum
        lo_strict = lo is not None
    elif (d := _decimal(ex_lo)) is not None and (lo is None or d >= lo):
        lo, lo_strict = d, True
    if ex_hi is True:
        hi_strict = hi is not None
    elif (d := _decimal(ex_hi)) is not None and (hi is None or d <= hi):
        hi, hi_strict = d, True
    return lo, lo_strict, hi, hi_strict
