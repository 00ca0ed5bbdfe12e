"""Python types -> JSON Schema 2020-12, and foreign schemas -> JSON Schema (normalization)."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import glob
import json
import os
import uuid
from typing import Annotated, Any, Literal, Optional, Union

import jsonschema_rs
import pytest
from pydantic import BaseModel, Field
from service_checks import need
from typing_extensions import TypedDict  # pydantic needs it on Python < 3.12

import toolwire as tw
from toolwire.schema import normalize_parameters, normalize_schema, type_schema
from toolwire.schema._normalize import SchemaShapeError


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Movie(TypedDict):
    title: str
    year: int


@dataclasses.dataclass
class Point:
    x: float
    y: float = 0.0


class Item(BaseModel):
    sku: str
    qty: int = 1


class Tree(BaseModel):
    value: int
    children: list[Tree] = []


@pytest.mark.parametrize(
    ("tp", "expected"),
    [
        (str, {"type": "string"}),
        (int, {"type": "integer"}),
        (float, {"type": "number"}),
        (bool, {"type": "boolean"}),
        (type(None), {"type": "null"}),
        (Literal["a", "b"], {"type": "string", "enum": ["a", "b"]}),
        (Literal[1], {"type": "integer", "const": 1}),
        (list[int], {"type": "array", "items": {"type": "integer"}}),
        (
            tuple[int, str],
            {
                "type": "array",
                "prefixItems": [{"type": "integer"}, {"type": "string"}],
                "minItems": 2,
                "maxItems": 2,
            },
        ),
        (tuple[int, ...], {"type": "array", "items": {"type": "integer"}}),
        (set[str], {"type": "array", "items": {"type": "string"}, "uniqueItems": True}),
        (dict[str, int], {"type": "object", "additionalProperties": {"type": "integer"}}),
        (Optional[int], {"anyOf": [{"type": "integer"}, {"type": "null"}]}),  # noqa: UP045
        (int | None, {"anyOf": [{"type": "integer"}, {"type": "null"}]}),
        (Union[int, str], {"anyOf": [{"type": "integer"}, {"type": "string"}]}),  # noqa: UP007
        (datetime.datetime, {"type": "string", "format": "date-time"}),
        (datetime.date, {"type": "string", "format": "date"}),
        (uuid.UUID, {"type": "string", "format": "uuid"}),
        (Annotated[str, Field(description="城市")], {"type": "string", "description": "城市"}),
        (Annotated[int, Field(ge=1, le=5)], {"type": "integer", "minimum": 1, "maximum": 5}),
    ],
)
def test_type_mapping(tp: Any, expected: dict[str, Any]) -> None:
    assert type_schema(tp) == expected


def test_decimal_accepts_number_or_string() -> None:
    schema = type_schema(decimal.Decimal)
    assert {s["type"] for s in schema["anyOf"]} == {"number", "string"}


def test_enum_typeddict_dataclass_model_use_defs_without_title_noise() -> None:
    @tw.tool
    def f(color: Color, movie: Movie, point: Point, item: Item, items: list[Item]) -> None:
        return None

    schema = f.spec.input_schema
    defs = schema["$defs"]
    assert defs["Color"] == {"type": "string", "enum": ["red", "blue"]}
    assert defs["Movie"]["properties"] == {"title": {"type": "string"}, "year": {"type": "integer"}}
    assert defs["Point"]["properties"]["y"] == {"type": "number", "default": 0.0}
    assert defs["Item"]["required"] == ["sku"]
    assert schema["properties"]["color"] == {"$ref": "#/$defs/Color"}
    assert schema["properties"]["items"] == {"type": "array", "items": {"$ref": "#/$defs/Item"}}
    assert '"title": "' not in json.dumps(
        schema
    )  # no generated titles (a property may be named so)
    jsonschema_rs.meta.validate(schema)  # a valid 2020-12 schema


def test_hand_written_titles_are_kept() -> None:
    @tw.tool
    def f(a: Annotated[int, Field(title="Amount in cents")]) -> None:
        return None

    assert f.spec.input_schema["properties"]["a"]["title"] == "Amount in cents"


def test_recursive_model_keeps_ref() -> None:
    @tw.tool
    def walk(tree: Tree) -> int:
        return tree.value

    schema = walk.spec.input_schema
    assert schema["$defs"]["Tree"]["properties"]["children"]["items"] == {"$ref": "#/$defs/Tree"}
    kwargs = walk.validate({"tree": {"value": 1, "children": [{"value": 2}]}})
    assert kwargs["tree"].children[0].value == 2


def test_unannotated_and_any_parameters_accept_anything() -> None:
    @tw.tool
    def f(a, b: Any = None):  # type: ignore[no-untyped-def]
        return a

    assert f.spec.input_schema["properties"]["a"] == {}
    assert f.validate({"a": [1, {"x": None}]}) == {"a": [1, {"x": None}]}
    assert f.spec.output_schema is None


def test_chinese_text_never_escaped_in_json() -> None:
    @tw.tool
    def f(城市: Annotated[str, Field(description="城市名称")]) -> None:
        """获取天气"""

    text = tw.Toolbox([f]).export("openai")
    from toolwire._json import dumps

    dumped = dumps(text)
    assert "城市名称" in dumped and "\\u" not in dumped
    assert f.validate('{"城市": "北京"}') == {"城市": "北京"}


# normalization -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("foreign", "expected"),
    [
        ("dict", "object"),
        ("float", "number"),
        ("tuple", "array"),
        ("String", "string"),
        ("Boolean", "boolean"),
        ("ArrayList", "array"),
        ("HashMap", "object"),
        ("long", "integer"),
        ("double", "number"),
        ("char", "string"),
        ("int", "integer"),
        ("OBJECT", "object"),
        ("NUMBER", "number"),
        ("List<String>", "array"),
        ("String[]", "array"),
        ("Map<String, Object>", "object"),
    ],
)
def test_foreign_type_names(foreign: str, expected: str) -> None:
    assert normalize_schema({"type": foreign}) == {"type": expected}


@pytest.mark.parametrize("anything", ["any", "Any", "ANY", "TYPE_UNSPECIFIED"])
def test_any_drops_the_type(anything: str) -> None:
    assert normalize_schema({"type": anything, "description": "d"}) == {"description": "d"}
    assert normalize_schema({"type": ["string", anything]}) == {}


def test_normalization_is_recursive_and_keeps_keywords() -> None:
    foreign = {
        "type": "dict",
        "properties": {
            "a": {
                "type": "array",
                "items": {"type": "dict", "properties": {"x": {"type": "float"}}},
            },
            "b": {"type": "HashMap", "additionalProperties": {"type": "long"}},
            "c": {"anyOf": [{"type": "String"}, {"type": "null"}], "default": None},
            "d": {"type": "string", "enum": ["x", "y"], "default": "x", "description": "说明"},
            "e": {"type": "tuple", "items": [{"type": "float"}, {"type": "float"}]},
            "f": {"$ref": "#/definitions/F"},
        },
        "definitions": {"F": {"type": "Boolean"}},
        "required": ["a", "a"],
    }
    out = normalize_schema(foreign)
    assert out["type"] == "object"
    props = out["properties"]
    assert props["a"]["items"] == {"type": "object", "properties": {"x": {"type": "number"}}}
    assert props["b"] == {"type": "object", "additionalProperties": {"type": "integer"}}
    assert props["c"] == {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None}
    assert props["d"] == {
        "type": "string",
        "enum": ["x", "y"],
        "default": "x",
        "description": "说明",
    }
    assert props["e"] == {"type": "array", "prefixItems": [{"type": "number"}, {"type": "number"}]}
    assert props["f"] == {"$ref": "#/$defs/F"}
    assert out["$defs"] == {"F": {"type": "boolean"}}
    assert out["required"] == ["a"]
    assert foreign["type"] == "dict"  # input untouched


def test_nullable_and_bad_shapes() -> None:
    assert normalize_schema({"type": "string", "nullable": True, "enum": ["a"]}) == {
        "type": ["string", "null"],
        "enum": ["a", None],
    }
    with pytest.raises(SchemaShapeError, match=r"\$.properties.x.type"):
        normalize_schema({"properties": {"x": {"type": "widget"}}})
    with pytest.raises(SchemaShapeError):
        normalize_schema({"type": 3})
    with pytest.raises(SchemaShapeError):
        normalize_schema([])
    assert normalize_parameters(None) == {"type": "object", "properties": {}}
    assert normalize_parameters({}) == {"type": "object", "properties": {}}
    assert normalize_parameters({"properties": {}, "required": []}) == {
        "properties": {},
        "type": "object",
    }


def _first_answer(params: dict[str, Any]) -> dict[str, Any]:
    """The first acceptable value of each parameter (``""`` means "may be omitted");
    nested objects hold lists of acceptable values too."""
    out: dict[str, Any] = {}
    for key, options in params.items():
        if not isinstance(options, list) or not options or options[0] == "":
            continue
        value = options[0]
        if isinstance(value, dict):
            value = _first_answer(value)
        elif isinstance(value, list):
            value = [_first_answer(v) if isinstance(v, dict) else v for v in value]
        out[key] = value
    return out


def _bfcl_files(bfcl_dir: Any) -> list[str]:
    files = sorted(glob.glob(os.path.join(str(bfcl_dir), "BFCL_v4_*.json")))
    need(bool(files), f"BFCL data not found in {bfcl_dir}")
    return files


def test_every_bfcl_document_normalizes_and_ground_truth_validates(bfcl_dir: Any) -> None:
    files = _bfcl_files(bfcl_dir)
    tools = 0
    calls = 0
    rejected: list[str] = []
    for path in files:
        answers: dict[str, Any] = {}
        answer_path = os.path.join(str(bfcl_dir), "possible_answer", os.path.basename(path))
        if os.path.exists(answer_path):
            with open(answer_path, encoding="utf-8") as fh:
                for line in fh:
                    entry = json.loads(line)
                    answers[entry["id"]] = entry["ground_truth"]
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                case = json.loads(line)
                by_name = {}
                for doc in case["function"]:
                    made = tw.Tool.from_schema(doc)
                    jsonschema_rs.meta.validate(dict(made.spec.input_schema))
                    assert made.spec.input_schema["type"] == "object"
                    by_name[made.name] = made
                    tools += 1
                for call in answers.get(case["id"], []):
                    for name, params in call.items():
                        first = _first_answer(params)
                        calls += 1
                        try:
                            by_name[name].validate(first)
                        except tw.InvalidArguments as exc:
                            rejected.append(f"{case['id']} {name}: {exc.problems[0].message}")
    print(f"BFCL: {tools} function documents loaded, {calls} ground-truth calls validated")
    print(f"BFCL: {len(rejected)} ground-truth calls rejected:", *rejected, sep="\n  ")
    assert tools > 1000 and calls > 900
    # The only rejections allowed are ground truths that break their own schema (BFCL accepts
    # Python expressions such as data['sales'] where numbers are declared).
    assert len(rejected) <= 5
