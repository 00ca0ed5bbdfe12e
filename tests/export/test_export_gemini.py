"""Gemini's function-declaration subset: refs inlined, nullable, enums, keywords translated."""

from __future__ import annotations

from typing import Any

import pytest
from export_checks import check_gemini, obj, schemas
from hypothesis import given, settings
from hypothesis import strategies as st

from toolwire._errors import ToolDefinitionError
from toolwire.dialects._schema_ops import to_gemini


def test_seed_schema_is_unchanged() -> None:
    seed = obj({"location": {"type": "string", "description": "城市名称"}}, ["location"])
    assert to_gemini(seed) == seed


def test_nullable_and_unions() -> None:
    out = to_gemini(
        obj(
            {
                "a": {"type": ["string", "null"]},
                "b": {"anyOf": [{"type": "integer"}, {"type": "null"}], "description": "数量"},
                "c": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
                "d": {"type": ["string", "integer"]},
            }
        )
    )
    props = out["properties"]
    assert props["a"] == {"type": "string", "nullable": True}
    assert props["b"] == {"type": "integer", "description": "数量", "nullable": True}
    assert props["c"] == {"anyOf": [{"type": "string"}, {"type": "integer"}]}
    assert props["d"] == {"anyOf": [{"type": "string"}, {"type": "integer"}]}
    assert check_gemini(out) == []


def test_enums_and_const() -> None:
    out = to_gemini(
        obj(
            {
                "unit": {"enum": ["celsius", "fahrenheit", None]},
                "k": {"const": "fixed"},
                "n": {"type": "integer", "enum": [1, 2, 3], "description": "级别"},
            }
        )
    )
    props = out["properties"]
    assert props["unit"] == {"type": "string", "enum": ["celsius", "fahrenheit"], "nullable": True}
    assert props["k"] == {"type": "string", "enum": ["fixed"]}
    assert props["n"] == {"type": "integer", "description": "级别 (one of: 1, 2, 3)"}
    assert check_gemini(out) == []


def test_refs_inlined_and_keywords_translated() -> None:
    schema = obj(
        {
            "city": {"$ref": "#/$defs/City", "description": "城市"},
            "when": {"type": "string", "format": "date-time"},
            "url": {"type": "string", "format": "uri"},
            "n": {"type": "number", "exclusiveMinimum": 0, "default": 1.5, "format": "double"},
            "m": {"type": "object", "additionalProperties": {"type": "integer"}},
            "pair": {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}]},
            "any": {},
        },
        ["city"],
        **{"$defs": {"City": obj({"name": {"type": "string"}}, ["name"], title="City")}},
    )
    out = to_gemini(schema)
    props = out["properties"]
    assert props["city"] == {
        "type": "object",
        "title": "City",
        "description": "城市",
        "properties": {"name": {"type": "string"}},
        "required": ["name"],
    }
    assert props["when"] == {"type": "string", "format": "date-time"}
    assert props["url"] == {"type": "string", "description": "Format: uri"}
    assert props["n"] == {
        "type": "number",
        "format": "double",
        "description": "ExclusiveMinimum: 0; default: 1.5",
    }
    assert props["m"] == {"type": "object"}
    assert props["pair"]["type"] == "array"
    assert props["pair"]["items"] == {"anyOf": [{"type": "string"}, {"type": "integer"}]}
    assert props["pair"]["minItems"] == props["pair"]["maxItems"] == 2
    assert "anyOf" in props["any"]
    assert out["required"] == ["city"]
    assert check_gemini(out) == []


def test_recursion_is_an_error_with_the_path() -> None:
    schema = obj(
        {"tree": {"$ref": "#/$defs/Node"}},
        **{"$defs": {"Node": obj({"kids": {"type": "array", "items": {"$ref": "#/$defs/Node"}}})}},
    )
    with pytest.raises(ToolDefinitionError, match=r"\$\.properties\.tree\.properties\.kids\.items"):
        to_gemini(schema, where="tool 't'")


def test_top_must_be_an_object() -> None:
    with pytest.raises(ToolDefinitionError, match="object"):
        to_gemini({"type": "string"})


@settings(max_examples=150, deadline=None)
@given(props=st.dictionaries(st.text(min_size=1, max_size=5), schemas, max_size=5))
def test_random_schemas_always_fit_the_subset(props: dict[str, Any]) -> None:
    out = to_gemini(obj(props, sorted(props)[:1]))
    assert check_gemini(out) == []
