"""Property-based tests: random schemas, random instances, random bytes.

Validation must never raise anything but ``InvalidArguments``; instances built to match a
schema must validate unchanged; whatever lenient validation accepts must satisfy the schema.
"""

from __future__ import annotations

import json
import math
from typing import Any

import jsonschema_rs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import toolwire as tw

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

names = st.text(alphabet=st.sampled_from("abcxyz_城市"), min_size=1, max_size=6)
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=12,
)

leaf_schemas = st.sampled_from(
    [
        {"type": "string"},
        {"type": "integer"},
        {"type": "number"},
        {"type": "boolean"},
        {"type": "null"},
        {},
        {"type": "string", "enum": ["a", "b", "北京"]},
        {"type": ["string", "null"]},
        {"type": "integer", "minimum": 0, "maximum": 10},
        {"anyOf": [{"type": "integer"}, {"type": "null"}]},
    ]
)


def _object_schema(
    children: st.SearchStrategy[dict[str, Any]],
) -> st.SearchStrategy[dict[str, Any]]:
    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        props = draw(st.dictionaries(names, children, max_size=4))
        required = draw(st.lists(st.sampled_from(sorted(props)), unique=True)) if props else []
        schema: dict[str, Any] = {"type": "object", "properties": props}
        if required:
            schema["required"] = required
        if draw(st.booleans()):
            schema["additionalProperties"] = False
        return schema

    return build()


schemas = st.recursive(
    leaf_schemas,
    lambda inner: _object_schema(inner) | st.builds(lambda s: {"type": "array", "items": s}, inner),
    max_leaves=8,
)
top_schemas = _object_schema(schemas)


def instance_of(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """A strategy for values that satisfy ``schema`` (for the subset generated above)."""
    if "anyOf" in schema:
        return st.one_of(*[instance_of(s) for s in schema["anyOf"]])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if isinstance(kind, list):
        return st.one_of(*[instance_of({"type": k}) for k in kind])
    if kind == "string":
        return st.text(max_size=10)
    if kind == "integer":
        return st.integers(schema.get("minimum", -(2**40)), schema.get("maximum", 2**40))
    if kind == "number":
        return st.floats(allow_nan=False, allow_infinity=False) | st.integers(-1000, 1000)
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    if kind == "array":
        return st.lists(instance_of(schema["items"]), max_size=3)
    if kind == "object":
        props = schema.get("properties", {})
        required = set(schema.get("required", ()))

        @st.composite
        def build(draw: st.DrawFn) -> dict[str, Any]:
            out = {}
            for name, sub in props.items():
                if name in required or draw(st.booleans()):
                    out[name] = draw(instance_of(sub))
            return out

        return build()
    return json_values


def _outcome(tool: tw.Tool, arguments: Any, strict: bool) -> dict[str, Any] | tw.InvalidArguments:
    """The validated arguments, or the InvalidArguments raised (anything else propagates)."""
    try:
        return tool.validate(arguments, strict=strict)
    except tw.InvalidArguments as exc:
        return exc


def _tool(schema: dict[str, Any]) -> tw.Tool:
    return tw.Tool.from_schema({"name": "t", "parameters": schema})


@SETTINGS
@given(st.data(), top_schemas)
def test_matching_instances_validate_unchanged(data: st.DataObject, schema: dict[str, Any]) -> None:
    instance = data.draw(instance_of(schema))
    tool = _tool(schema)
    text = json.dumps(instance, ensure_ascii=False)
    for strict in (False, True):
        assert tool.validate(text, strict=strict) == instance
        assert tool.validate(text.encode(), strict=strict) == instance
        assert tool.validate(instance, strict=strict) == instance


@SETTINGS
@given(top_schemas, json_values)
def test_any_value_gives_a_result_or_invalid_arguments(schema: dict[str, Any], value: Any) -> None:
    tool = _tool(schema)
    validator = jsonschema_rs.validator_for(dict(tool.spec.input_schema))

    for arguments in (value, json.dumps(value), json.dumps(json.dumps(value))):
        for strict in (False, True):
            out = _outcome(tool, arguments, strict)
            if isinstance(out, tw.InvalidArguments):
                assert out.problems
                assert out.message
                assert all(p.path.startswith("$") for p in out.problems)
            else:
                assert isinstance(out, dict)
                assert validator.is_valid(out)  # lenient or not, what passes is valid
                if strict and isinstance(arguments, dict):
                    assert out == arguments


@SETTINGS
@given(top_schemas, st.binary(max_size=64) | st.text(max_size=64))
def test_garbage_text_never_crashes(schema: dict[str, Any], garbage: bytes | str) -> None:
    tool = _tool(schema)
    for strict in (False, True):
        out = _outcome(tool, garbage, strict)
        if isinstance(out, tw.InvalidArguments):
            assert out.problems
        else:
            assert isinstance(out, dict)


@SETTINGS
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "a": st.integers(-100, 100) | st.integers(-100, 100).map(str),
            "b": st.floats(allow_nan=False, allow_infinity=False, width=32)
            | st.floats(-1e6, 1e6).map(repr),
            "c": st.booleans() | st.sampled_from(["true", "false", "True"]),
            "d": st.text(max_size=5),
            "e": st.lists(st.integers(0, 9), max_size=3) | st.integers(0, 9),
        },
    )
)
def test_function_tools_receive_python_types(arguments: dict[str, Any]) -> None:
    @tw.tool
    def f(
        a: int = 0, b: float = 0.0, c: bool = False, d: str = "", e: list[int] | None = None
    ) -> None:
        return None

    out = f.validate(arguments)
    assert set(out) == set(arguments)
    for key, kind in (("a", int), ("b", float), ("c", bool), ("d", str), ("e", list)):
        if key in out:
            assert type(out[key]) is kind, (key, out[key])
    if "b" in out:
        assert math.isfinite(out["b"])


@SETTINGS
@given(top_schemas, json_values, st.booleans())
def test_the_quick_path_agrees_with_the_full_path(
    schema: dict[str, Any], value: Any, with_handler: bool
) -> None:
    # A handler taking named parameters makes the validator drop (and report) unknown keys,
    # which the quick path must then leave to the full path.
    def handler(a: Any = None, b: Any = None) -> None:
        return None

    tool = tw.Tool.from_schema(
        {"name": "t", "parameters": schema}, handler if with_handler else None
    )
    validator = tool._get_validator()
    for text in (json.dumps(value, ensure_ascii=False), json.dumps({"a": value})):
        quick = validator.quick(text)
        if quick is None:
            continue
        try:
            full, notes = validator._check_fully(text, False)
        except tw.InvalidArguments as exc:
            raise AssertionError(f"quick path accepted what the full path rejects: {exc}") from exc
        assert quick == full
        assert not notes
