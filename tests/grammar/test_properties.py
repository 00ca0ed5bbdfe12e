"""Hypothesis against llguidance: numbers in random ranges, strings of random lengths and
arguments generated from schemas, rendered with random whitespace, accepted exactly when valid."""

from __future__ import annotations

import json
import random
from decimal import Decimal
from typing import Any

from grammar_helpers import Engine, call_text
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import toolwire.grammar as tg

_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _engine(args_schema: dict[str, Any], syntax: str = "lark") -> Engine:
    tool = {
        "name": "t",
        "parameters": {"type": "object", "properties": {"x": args_schema}, "required": ["x"]},
    }
    return Engine.of(
        str(tg.build([tool], syntax=syntax, tool_choice="required", parallel=False)), syntax
    )


_decimals = st.decimals(
    min_value=-1000, max_value=1000, places=3, allow_nan=False, allow_infinity=False
)


@_SETTINGS
@given(
    lo=st.none() | _decimals,
    hi=st.none() | _decimals,
    lo_strict=st.booleans(),
    hi_strict=st.booleans(),
    probes=st.lists(_decimals, min_size=1, max_size=12),
    integer=st.booleans(),
)
def test_numbers_accepted_exactly_inside_their_bounds(
    lo: Decimal | None,
    hi: Decimal | None,
    lo_strict: bool,
    hi_strict: bool,
    probes: list[Decimal],
    integer: bool,
) -> None:
    schema: dict[str, Any] = {"type": "integer" if integer else "number"}
    if lo is not None:
        schema["exclusiveMinimum" if lo_strict else "minimum"] = float(lo)
    if hi is not None:
        schema["exclusiveMaximum" if hi_strict else "maximum"] = float(hi)
    try:
        engine = _engine(schema)
    except ValueError:  # an empty range: no call possible, refused at build time
        assume(False)
    lo_f, hi_f = (
        (None if lo is None else Decimal(str(float(lo)))),
        (None if hi is None else Decimal(str(float(hi)))),
    )
    edges = [d for d in (lo_f, hi_f) if d is not None]
    for value in [
        *probes,
        *edges,
        *(e + Decimal("0.001") for e in edges),
        *(e - Decimal("0.001") for e in edges),
    ]:
        if integer:
            value = value.to_integral_value()
        inside = (lo_f is None or (value > lo_f if lo_strict else value >= lo_f)) and (
            hi_f is None or (value < hi_f if hi_strict else value <= hi_f)
        )
        text = format(value, "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".") if not integer else text
        if text in ("-0",):
            text = "0"
        got = engine.accepts(
            call_text("t", {"x": 0})
            .replace('"x": 0', f'"x": {text}')
            .replace('"x":0', f'"x":{text}')
        )
        assert got == inside, (schema, text)


@_SETTINGS
@given(lo=st.integers(0, 6), span=st.integers(0, 6), text=st.text(max_size=14))
def test_string_lengths_count_characters_not_escapes(lo: int, span: int, text: str) -> None:
    engine = _engine({"type": "string", "minLength": lo, "maxLength": lo + span})
    assert engine.accepts(call_text("t", {"x": text})) == (lo <= len(text) <= lo + span)


# -- arguments generated from schemas ----------------------------------------------------------

_LEAF_SCHEMAS = st.sampled_from(
    [
        {"type": "string"},
        {"type": "string", "maxLength": 3},
        {"type": "string", "enum": ["a", "b c", "北"]},
        {"type": "integer", "minimum": -3, "maximum": 40},
        {"type": "number", "exclusiveMinimum": 0.5},
        {"type": "boolean"},
        {"type": ["string", "null"]},
        {"const": 7},
        {"type": "string", "pattern": "^[a-c]+\\d?$"},
    ]
)


def _schemas(depth: int = 2) -> st.SearchStrategy[dict[str, Any]]:
    if depth == 0:
        return _LEAF_SCHEMAS
    inner = _schemas(depth - 1)
    objects = st.dictionaries(
        st.sampled_from(["a", "b", "city", "名"]), inner, min_size=1, max_size=3
    ).flatmap(
        lambda props: st.lists(st.sampled_from(sorted(props)), unique=True).map(
            lambda req: {"type": "object", "properties": props, "required": req}
        )
    )
    arrays = inner.map(lambda s: {"type": "array", "items": s, "maxItems": 3})
    return st.one_of(_LEAF_SCHEMAS, objects, arrays)


def _value(draw: Any, schema: dict[str, Any]) -> Any:
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return draw(st.sampled_from(schema["enum"]))
    t = schema["type"]
    if isinstance(t, list):
        t = draw(st.sampled_from(t))
    if t == "object":
        out = {}
        for name, sub in schema["properties"].items():
            if name in schema["required"] or draw(st.booleans()):
                out[name] = _value(draw, sub)
        return out
    if t == "array":
        return [
            _value(draw, schema["items"]) for _ in range(draw(st.integers(0, schema["maxItems"])))
        ]
    if t == "string":
        if "pattern" in schema:
            return draw(st.from_regex(r"\A[a-c]+[0-9]?\Z"))  # ECMA \d is ASCII only
        return draw(st.text(max_size=schema.get("maxLength", 8)))
    if t == "integer":
        return draw(st.integers(schema["minimum"], schema["maximum"]))
    if t == "number":
        return draw(st.floats(min_value=0.5, max_value=1e6, exclude_min=True, allow_nan=False))
    if t == "boolean":
        return draw(st.booleans())
    return None


def _mutations(schema: dict[str, Any], value: Any) -> list[Any]:
    """Invalid variants of a valid ``value``: each one of the violations the issue lists."""
    if "const" in schema:
        return [8, "7"]
    if "enum" in schema:
        return ["zz", 1]
    t = schema["type"]
    if isinstance(t, list):
        return [1, True]
    if t == "object":
        out: list[Any] = [{**value, "unknown_arg": 1}, [value]]
        for name in schema["required"]:
            out.append({k: v for k, v in value.items() if k != name})
        for name, sub in schema["properties"].items():
            if name in value:
                out += [{**value, name: bad} for bad in _mutations(sub, value[name])[:2]]
        return out
    if t == "array":
        out = [value + [value[0]] * (4 - len(value))] if value else [{"a": 1}]
        if value:
            out += [[bad, *value[1:]] for bad in _mutations(schema["items"], value[0])[:2]]
        return [*out, "not a list"]
    if t == "string":
        if "maxLength" in schema:
            return [value + "x" * (schema["maxLength"] + 1 - len(value)), 3]
        if "pattern" in schema:
            return [value + "!", "d" + value]
        return [1, None]
    if t == "integer":
        return [schema["maximum"] + 1, schema["minimum"] - 1, value + 0.5, str(value)]
    if t == "number":
        return [0.5, -1, "1"]
    if t == "boolean":
        return ["true", 0]
    return [0]


@_SETTINGS
@given(schema=_schemas(), data=st.data(), seed=st.integers(0, 2**16))
def test_generated_arguments_are_accepted_and_their_mutations_rejected(
    schema: dict[str, Any], data: st.DataObject, seed: int
) -> None:
    value = data.draw(
        st.builds(lambda: None).flatmap(lambda _: st.composite(lambda d: _value(d, schema))())
    )
    grammar = {"x": schema}
    engines = {s: _engine(schema, s) for s in ("lark", "gbnf")}
    rnd = random.Random(seed)
    for syntax, engine in engines.items():
        text = call_text("t", {"x": value}, rnd)
        assert engine.why_not(text) is None, (syntax, grammar, text, engine.why_not(text))
        for bad in _mutations(schema, value):
            assert not engine.accepts(call_text("t", {"x": bad})), (
                syntax,
                grammar,
                json.dumps(bad),
            )
