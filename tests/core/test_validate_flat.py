"""The flat-schema fast path: what it accepts is exactly what the compiled validator accepts.

Most tool schemas only name each argument's JSON type and the required ones; for those
``ArgumentValidator.quick`` checks a ``type()`` per argument instead of calling jsonschema-rs
(``_validate_schema.flat_shape``). It may answer "not sure" (None) and leave the call to the
full check, but anything it returns must be valid, unchanged and free of duplicate keys.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema_rs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import toolwire as tw
from toolwire._validate import ArgumentValidator
from toolwire._validate_schema import flat_shape
from toolwire.examples.seed import SEED_GET_WEATHER_SCHEMA

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

TYPES = ["string", "integer", "number", "boolean", "null", "array", "object"]
names = st.sampled_from(["a", "b", "city", "城市", "n"])
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)
property_schemas = (
    st.builds(lambda t: {"type": t}, st.sampled_from(TYPES))
    | st.builds(
        lambda ts: {"type": ts},
        st.lists(st.sampled_from(TYPES), min_size=1, max_size=3, unique=True),
    )
    | st.builds(lambda t: {"type": t, "description": "d", "title": "t"}, st.sampled_from(TYPES))
    | st.just({})
    | st.just(True)
)


@st.composite
def flat_schemas(draw: st.DrawFn) -> dict[str, Any]:
    properties = draw(st.dictionaries(names, property_schemas, max_size=4))
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if properties:
        schema["required"] = draw(st.lists(st.sampled_from(sorted(properties)), unique=True))
    extra = draw(st.sampled_from([None, True, False]))
    if extra is not None:
        schema["additionalProperties"] = extra
    return schema


@SETTINGS
@given(schema=flat_schemas(), instance=st.dictionaries(names, json_values, max_size=4),
       ascii_only=st.booleans())  # fmt: skip
def test_what_the_fast_path_accepts_the_validator_accepts(
    schema: dict[str, Any], instance: dict[str, Any], ascii_only: bool
) -> None:
    assert flat_shape(schema) is not None
    text = json.dumps(instance, ensure_ascii=ascii_only)
    quick = ArgumentValidator("t", schema).quick(text)
    valid = jsonschema_rs.validator_for(schema).is_valid(instance)
    if quick is not None:
        assert valid, (schema, text)
        assert quick == instance
    elif valid and not _needs_the_full_check(instance):
        pytest.fail(f"a valid flat instance left the fast path: {schema} {text}")


def _needs_the_full_check(instance: dict[str, Any]) -> bool:
    # what the fast path leaves to the full check on purpose: text with a ':' besides the
    # keys' (a possible duplicate key), nesting, long integers, and floats (1.0 is an integer)
    text = json.dumps(instance)
    return (
        text.count(":") > len(instance)
        or any(isinstance(v, (float, list, dict)) for v in instance.values())
        or any(isinstance(v, int) and abs(v) >= 10**18 for v in instance.values())
    )


@SETTINGS
@given(schema=flat_schemas(), key=names, first=json_scalars, second=json_scalars)
def test_a_duplicate_key_never_takes_the_fast_path(
    schema: dict[str, Any], key: str, first: Any, second: Any
) -> None:
    text = f"{{{json.dumps(key)}: {json.dumps(first)}, {json.dumps(key)}: {json.dumps(second)}}}"
    assert ArgumentValidator("t", schema).quick(text) is None


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "properties": {"a": {"type": "string", "minLength": 1}}},
        {"type": "object", "properties": {"a": {"type": "string", "format": "date"}}},
        {"type": "object", "properties": {"a": {"enum": ["x"]}}},
        {"type": "object", "properties": {"a": {"$ref": "#/$defs/x"}}, "$defs": {"x": {}}},
        {"type": "object", "properties": {"a": {"anyOf": [{"type": "string"}]}}},
        {"type": "object", "properties": {"a": False}},
        {"type": "object", "additionalProperties": {"type": "string"}},
        {"type": "object", "minProperties": 1},
        {"type": "array"},
    ],
)
def test_any_other_keyword_leaves_the_check_to_the_validator(schema: dict[str, Any]) -> None:
    assert flat_shape(schema) is None
    # and the validator's answer stands: an instance it refuses is refused
    v = ArgumentValidator("t", schema)
    assert v.quick('{"a": ""}') is None or jsonschema_rs.validator_for(schema).is_valid({"a": ""})


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "properties": {"a": {"type": "str"}}},
        {"type": "object", "properties": {"a": {"type": []}}},
        {"type": "object", "properties": ["a"]},
        {"type": "object", "required": "a"},
    ],
)
def test_a_schema_the_validator_would_refuse_is_not_flat(schema: dict[str, Any]) -> None:
    assert flat_shape(schema) is None


def test_the_seed_schema_is_flat_and_checked_without_the_validator() -> None:
    shape = flat_shape(SEED_GET_WEATHER_SCHEMA["parameters"])
    assert shape is not None and shape.required == {"location"}
    v = ArgumentValidator("get_weather", SEED_GET_WEATHER_SCHEMA["parameters"])
    assert v.quick('{"location": "北京"}') == {"location": "北京"}
    assert v.quick('{"location": 1}') is None
    assert v.quick("{}") is None
    with pytest.raises(tw.InvalidArguments):
        v.check('{"location": 1}', strict=True)


def test_a_function_tool_keeps_its_parameter_types_on_the_fast_path() -> None:
    @tw.tool
    def f(n: int, label: str = "x") -> int:
        return n

    validator = f._get_validator()
    assert validator.quick('{"n": 3}') == {"n": 3}
    assert validator.quick('{"n": 3, "other": 1}') is None  # dropped and reported by check
    assert validator.quick('{"n": true}') is None
    assert f.validate('{"n": 3, "other": 1}') == {"n": 3}
