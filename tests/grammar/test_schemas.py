# ruff: noqa: E501  (a table of cases reads best one case per line)
"""Each JSON Schema keyword, compiled to Lark and to GBNF and run in llguidance byte by byte:
the valid arguments accepted, each kind of violation rejected, both syntaxes agreeing."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from grammar_helpers import Engine, call_text

import toolwire.grammar as tg


def _engines(schema: dict[str, Any]) -> dict[str, Engine]:
    tool = {"name": "t", "parameters": schema}
    with warnings.catch_warnings():
        warnings.simplefilter("error", tg.GrammarWarning)  # every case here is fully enforced
        return {
            syntax: Engine.of(
                str(tg.build([tool], syntax=syntax, tool_choice="required", parallel=False)), syntax
            )
            for syntax in ("lark", "gbnf")
        }


def _obj(props: dict[str, Any], required: tuple[str, ...] = ("x",), **extra: Any) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": list(required), **extra}


CASES: list[tuple[str, dict[str, Any], list[Any], list[Any]]] = [
    # (id, arguments schema, valid arguments, invalid arguments)
    ("string", _obj({"x": {"type": "string"}}), [{"x": ""}, {"x": "北京"}, {"x": 'a"\\\n\u0001'}],
     [{"x": 1}, {"x": None}, {}, {"x": "a", "y": 1}]),
    ("integer", _obj({"x": {"type": "integer"}}), [{"x": 0}, {"x": -17}, {"x": 123456789012}],
     [{"x": 1.5}, {"x": "1"}, {"x": True}]),
    ("number", _obj({"x": {"type": "number"}}), [{"x": 0}, {"x": -1.25e-3}, {"x": 3.5}],
     [{"x": "3"}, {"x": [1]}]),
    ("boolean-null", _obj({"x": {"type": "boolean"}, "y": {"type": "null"}}, ("x", "y")),
     [{"x": True, "y": None}, {"x": False, "y": None}], [{"x": 0, "y": None}, {"x": True, "y": 0}]),
    ("type-list", _obj({"x": {"type": ["string", "integer"]}}), [{"x": "a"}, {"x": 3}],
     [{"x": 1.5}, {"x": None}]),
    ("enum", _obj({"x": {"enum": ["c", "f", 3, None]}}), [{"x": "c"}, {"x": 3}, {"x": None}],
     [{"x": "k"}, {"x": "C"}, {"x": 4}]),
    ("const", _obj({"x": {"const": {"a": [1, "b"]}}}), [{"x": {"a": [1, "b"]}}],
     [{"x": {"a": [1]}}, {"x": {"a": [1, "c"]}}, {"x": "a"}]),
    ("required-optional", _obj({"a": {"type": "integer"}, "b": {"type": "integer"},
                                "c": {"type": "integer"}}, ("b",)),
     [{"b": 1}, {"a": 1, "b": 2}, {"b": 2, "c": 3}, {"a": 1, "b": 2, "c": 3}],
     [{}, {"a": 1}, {"a": 1, "c": 3}, {"b": 1, "d": 4}]),
    ("all-optional", _obj({"a": {"type": "integer"}, "b": {"type": "string"}}, ()),
     [{}, {"a": 1}, {"b": "x"}, {"a": 1, "b": "x"}], [{"c": 1}, {"a": "x"}]),
    ("nested", _obj({"x": _obj({"y": {"type": "array", "items": _obj({"z": {"type": "boolean"}}, ("z",))}}, ("y",))}),
     [{"x": {"y": []}}, {"x": {"y": [{"z": True}, {"z": False}]}}],
     [{"x": {"y": [{"z": 1}]}}, {"x": {}}, {"x": {"y": [{}]}}, {"x": {"y": {"z": True}}}]),
    ("items-bounds", _obj({"x": {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 3}}),
     [{"x": [1, 2]}, {"x": [1, 2, 3]}], [{"x": []}, {"x": [1]}, {"x": [1, 2, 3, 4]}, {"x": [1, "a"]}]),
    ("prefix-items", _obj({"x": {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}],
                                 "items": False}}),
     [{"x": []}, {"x": ["a"]}, {"x": ["a", 1]}], [{"x": [1]}, {"x": ["a", 1, 2]}]),
    ("min-max", _obj({"x": {"type": "integer", "minimum": -5, "maximum": 120}}),
     [{"x": -5}, {"x": 0}, {"x": 99}, {"x": 120}], [{"x": -6}, {"x": 121}, {"x": 1000}, {"x": -50}]),
    ("exclusive-2020", _obj({"x": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1.5}}),
     [{"x": 0.001}, {"x": 1}, {"x": 1.4999}], [{"x": 0}, {"x": 0.0}, {"x": 1.5}, {"x": 1.50}, {"x": -0.1}, {"x": 2}]),
    ("exclusive-draft4", _obj({"x": {"type": "integer", "minimum": 1, "exclusiveMinimum": True,
                                     "maximum": 10, "exclusiveMaximum": True}}),
     [{"x": 2}, {"x": 9}], [{"x": 1}, {"x": 10}]),
    ("decimal-bounds", _obj({"x": {"type": "number", "minimum": -2.75, "maximum": 10.05}}),
     [{"x": -2.75}, {"x": -2.7}, {"x": 0}, {"x": 10.05}, {"x": 10.049}, {"x": 3}],
     [{"x": -2.76}, {"x": 10.051}, {"x": 11}, {"x": -3}]),
    ("lengths", _obj({"x": {"type": "string", "minLength": 2, "maxLength": 4}}),
     [{"x": "ab"}, {"x": "北京市区"}, {"x": 'a"'}], [{"x": "a"}, {"x": "abcde"}, {"x": ""}]),
    ("pattern", _obj({"x": {"type": "string", "pattern": "^[A-Z]{3}-\\d+$"}}),
     [{"x": "ABC-1"}, {"x": "XYZ-2024"}], [{"x": "AB-1"}, {"x": "ABC-"}, {"x": "abc-1"}, {"x": "ABC-1x"}]),
    ("pattern-unanchored", _obj({"x": {"type": "string", "pattern": "ab|\"q"}}),
     [{"x": "ab"}, {"x": "xxaby"}, {"x": 'say "q'}], [{"x": "a b"}, {"x": ""}, {"x": "q"}]),
    ("format", _obj({"x": {"type": "string", "format": "date"}, "y": {"type": "string", "format": "uuid"}}, ("x", "y")),
     [{"x": "2024-02-29", "y": "123e4567-e89b-12d3-a456-426614174000"}],
     [{"x": "2024-13-01", "y": "123e4567-e89b-12d3-a456-426614174000"}, {"x": "2024-01-01", "y": "nope"}]),
    ("anyOf", _obj({"x": {"anyOf": [{"type": "string", "maxLength": 1}, {"type": "integer", "minimum": 10}]}}),
     [{"x": "a"}, {"x": 10}], [{"x": "ab"}, {"x": 9}]),
    ("oneOf-disjoint", _obj({"x": {"oneOf": [{"type": "boolean"}, {"type": "array", "items": {"type": "null"}}]}}),
     [{"x": True}, {"x": [None]}], [{"x": [1]}, {"x": "true"}]),
    ("nullable", _obj({"x": {"type": "string", "nullable": True}}), [{"x": "a"}, {"x": None}], [{"x": 1}]),
    ("allOf", _obj({"x": {"allOf": [_obj({"a": {"type": "integer"}}, ("a",)), {"properties": {"b": {"type": "string"}}, "required": ["b"]}]}}),
     [{"x": {"a": 1, "b": "s"}}], [{"x": {"a": 1}}, {"x": {"b": "s"}}]),
    ("ref-defs", {"type": "object", "properties": {"x": {"$ref": "#/$defs/unit"}}, "required": ["x"],
                  "$defs": {"unit": {"enum": ["c", "f"]}}},
     [{"x": "c"}], [{"x": "k"}]),
    ("ref-recursive", {"type": "object", "properties": {"x": {"$ref": "#/definitions/node"}}, "required": ["x"],
                       "definitions": {"node": {"type": "object", "properties": {
                           "v": {"type": "integer"},
                           "kids": {"type": "array", "items": {"$ref": "#/definitions/node"}}},
                           "required": ["v"]}}},
     [{"x": {"v": 1}}, {"x": {"v": 1, "kids": [{"v": 2, "kids": [{"v": 3}]}, {"v": 4}]}}],
     [{"x": {"kids": []}}, {"x": {"v": 1, "kids": [{"v": "2"}]}}]),
    ("defaults", _obj({"x": {"type": "string"}, "unit": {"type": "string", "enum": ["c", "f"], "default": "c"}}),
     [{"x": "a"}, {"x": "a", "unit": "f"}], [{"x": "a", "unit": "k"}]),
    ("additional-schema", _obj({"x": {"type": "integer"}}, additionalProperties={"type": "string"}),
     [{"x": 1}, {"x": 1, "note": "a", "more": "b"}], [{"x": 1, "note": 2}]),
    ("free-object", _obj({"x": {"type": "object"}}), [{"x": {}}, {"x": {"a": [1, {"b": None}], "c": "d"}}],
     [{"x": []}, {"x": "{}"}]),
    ("no-parameters", {"type": "object", "properties": {}}, [{}], [{"x": 1}]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("schema", "valid", "invalid"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_keyword_accepts_valid_and_rejects_violations(
    schema: dict[str, Any], valid: list[Any], invalid: list[Any]
) -> None:
    for syntax, engine in _engines(schema).items():
        for args in valid:
            for text in (call_text("t", args), call_text("t", args, _Spaced())):
                assert engine.why_not(text) is None, (syntax, text, engine.why_not(text))
        for args in invalid:
            assert not engine.accepts(call_text("t", args)), (syntax, args)


def test_an_unknown_tool_name_is_rejected() -> None:
    engine = _engines(_obj({"x": {"type": "string"}}))
    for e in engine.values():
        assert not e.accepts(call_text("u", {"x": "a"}))
        assert not e.accepts(call_text("tt", {"x": "a"}))


class _Spaced:
    """A stand-in for random.Random that always picks the widest whitespace."""

    def choice(self, options: list[str]) -> str:
        return options[-1]
