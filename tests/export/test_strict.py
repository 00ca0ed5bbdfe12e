"""OpenAI strict mode: closed objects, everything required, optional made nullable."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from export_checks import check_openai_strict, obj, schemas
from hypothesis import given, settings
from hypothesis import strategies as st

from toolwire._errors import ToolDefinitionError
from toolwire.dialects._schema_ops import to_openai_strict

SEED = {
    "type": "object",
    "properties": {"location": {"type": "string", "description": "城市名称"}},
    "required": ["location"],
}


def test_seed_schema_becomes_closed() -> None:
    out = to_openai_strict(SEED)
    assert out == {**SEED, "additionalProperties": False}
    assert check_openai_strict(out) == []


def test_optional_properties_become_required_and_nullable() -> None:
    schema = obj(
        {
            "a": {"type": "string"},
            "b": {"type": "integer", "default": 3, "description": "次数"},
            "c": {"enum": ["x", "y"]},
            "d": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
            "e": {"type": ["string", "null"]},
        },
        ["a"],
    )
    out = to_openai_strict(schema)
    props = out["properties"]
    assert out["required"] == ["a", "b", "c", "d", "e"]
    assert props["a"] == {"type": "string"}
    assert props["b"] == {"type": ["integer", "null"], "description": "次数 (default: 3)"}
    assert props["c"] == {"enum": ["x", "y", None], "type": ["string", "null"]}
    assert props["d"]["anyOf"][-1] == {"type": "null"}
    assert props["e"] == {"type": ["string", "null"]}
    assert check_openai_strict(out) == []


def test_unsupported_keywords_move_into_the_description() -> None:
    schema = obj(
        {
            "name": {"type": "string", "minLength": 2, "maxLength": 5, "format": "email"},
            "url": {"type": "string", "format": "uri"},
            "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
        },
        ["name", "url", "tags"],
        **{"$schema": "https://json-schema.org/draft/2020-12/schema"},
    )
    out = to_openai_strict(schema)
    props = out["properties"]
    assert props["name"] == {
        "type": "string",
        "format": "email",
        "description": "MinLength: 2; maxLength: 5",
    }
    assert props["url"] == {"type": "string", "description": "Format: uri"}
    assert props["tags"]["description"] == "UniqueItems: true"
    assert "$schema" not in out
    assert check_openai_strict(out) == []


def test_spellings_are_normalized() -> None:
    schema = obj(
        {
            "u": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
            "k": {"const": "fixed"},
            "m": {"allOf": [obj({"x": {"type": "number"}}, ["x"])], "description": "merged"},
        },
        ["u", "k", "m"],
    )
    out = to_openai_strict(schema)
    assert out["properties"]["u"] == {"anyOf": [{"type": "string"}, {"type": "integer"}]}
    assert out["properties"]["k"] == {"enum": ["fixed"], "type": "string"}
    m = out["properties"]["m"]
    assert m["properties"] == {"x": {"type": "number"}}
    assert m["additionalProperties"] is False
    assert m["description"] == "merged"
    assert check_openai_strict(out) == []


def test_refs_are_inlined_and_recursion_kept() -> None:
    schema = obj(
        {"city": {"$ref": "#/$defs/City"}, "tree": {"$ref": "#/$defs/Node"}},
        ["city", "tree"],
        **{
            "$defs": {
                "City": obj({"name": {"type": "string"}}, ["name"]),
                "Node": obj({"kids": {"type": "array", "items": {"$ref": "#/$defs/Node"}}}),
            }
        },
    )
    out = to_openai_strict(schema)
    assert out["properties"]["city"]["properties"] == {"name": {"type": "string"}}
    assert set(out["$defs"]) == {"Node"}
    kids = out["$defs"]["Node"]["properties"]["kids"]
    assert kids["type"] == ["array", "null"]
    assert kids["items"] == {"$ref": "#/$defs/Node"}
    assert check_openai_strict(out) == []


def test_definitions_keyword_and_root_recursion() -> None:
    schema = obj(
        {"next": {"$ref": "#"}, "v": {"$ref": "#/definitions/V"}},
        ["next", "v"],
        definitions={"V": {"type": "integer"}},
    )
    out = to_openai_strict(schema)
    assert out["properties"]["next"] == {"$ref": "#"}
    assert out["properties"]["v"] == {"type": "integer"}
    assert check_openai_strict(out) == []


def test_input_is_not_modified() -> None:
    schema = obj({"a": {"type": "integer", "default": 1}}, [], **{"$defs": {"X": {}}})
    before = copy.deepcopy(schema)
    to_openai_strict(schema)
    assert schema == before


@pytest.mark.parametrize(
    ("schema", "path", "what"),
    [
        (obj({"m": {"type": "object", "additionalProperties": {"type": "string"}}}),
         "$.properties.m", "open map"),
        (obj({"m": {"type": "object"}}), "$.properties.m", "undeclared keys"),
        (obj({"m": {"type": "object", "patternProperties": {"^x": {}}}}),
         "$.properties.m", "pattern"),
        (obj({"a": {}}), "$.properties.a", "any-value"),
        (obj({"a": {"description": "whatever"}}), "$.properties.a", "any-value"),
        (obj({"t": {"type": "array", "prefixItems": [{"type": "string"}]}}),
         "$.properties.t", "tuples"),
        (obj({"t": {"type": "array"}}), "$.properties.t", "items"),
        (obj({"n": {"not": {"type": "string"}}}), "$.properties.n", "`not`"),
        (obj({"r": {"$ref": "https://example.com/s.json"}}), "$.properties.r", "local"),
        (obj({"r": {"$ref": "#/$defs/Missing"}}), "$.properties.r", "points to nothing"),
        ({"anyOf": [obj({})]}, "$", "object"),
        ({"type": "string"}, "$", "object"),
        (obj({"x": {"allOf": [{"type": "string"}, {"type": "integer"}]}}),
         "$.properties.x", "disagree"),
    ],
)  # fmt: skip
def test_impossible_schemas_name_the_path(schema: dict[str, Any], path: str, what: str) -> None:
    with pytest.raises(ToolDefinitionError) as info:
        to_openai_strict(schema, where="tool 'demo'")
    message = str(info.value)
    assert message.startswith(f"tool 'demo': {path}:"), message
    assert what in message


def test_nesting_limit() -> None:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(11):
        schema = obj({"x": schema}, ["x"])
    with pytest.raises(ToolDefinitionError, match="10 levels"):
        to_openai_strict(schema)
    for _ in range(1):
        schema = schema["properties"]["x"]
    assert check_openai_strict(to_openai_strict(schema)) == []


def test_free_root_object_is_fine() -> None:
    out = to_openai_strict({"type": "object"})
    assert out == {
        "type": "object",
        "properties": {},
        "required": [],
        "additionalProperties": False,
    }


@settings(max_examples=150, deadline=None)
@given(props=st.dictionaries(st.text(min_size=1, max_size=5), schemas, max_size=5))
def test_random_schemas_convert_or_fail_clearly(props: dict[str, Any]) -> None:
    schema = obj(props, sorted(props)[:1])
    try:
        out = to_openai_strict(schema)
    except ToolDefinitionError as exc:
        message = str(exc)
    else:
        assert check_openai_strict(out) == []
        return
    assert "$" in message
