"""Argument validation: every problem reported, lenient coercions, hostile input."""

from __future__ import annotations

import datetime
import decimal
import enum
import uuid
from typing import Any, Literal

import pytest
from pydantic import BaseModel

import toolwire as tw

SEED = tw.Tool.from_schema(
    {
        "name": "get_weather",
        "description": "获取指定城市的天气信息",
        "parameters": {
            "type": "object",
            "properties": {"location": {"type": "string", "description": "城市名称"}},
            "required": ["location"],
        },
    }
)

ORDER = tw.Tool.from_schema(
    {
        "name": "order",
        "parameters": {
            "type": "object",
            "properties": {
                "items": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"sku": {"type": "string"}, "qty": {"type": "integer"}},
                        "required": ["sku", "qty"],
                        "additionalProperties": False,
                    },
                },
                "express": {"type": "boolean"},
                "price": {"type": "number"},
                "tags": {"type": "array", "items": {"type": "string"}},
                "size": {"enum": ["S", "M", "L"]},
                "note": {"type": ["string", "null"]},
                "meta": {"type": "object"},
            },
            "required": ["items"],
            "additionalProperties": False,
        },
    }
)


def problems(tool: tw.Tool, arguments: Any, **kw: Any) -> list[tuple[str, str | None]]:
    with pytest.raises(tw.InvalidArguments) as info:
        tool.validate(arguments, **kw)
    assert info.value.tool == tool.name
    assert info.value.message.startswith(f"The arguments for `{tool.name}` are invalid")
    return [(p.path, p.expected) for p in info.value.problems]


def test_happy_path_str_bytes_mapping() -> None:
    assert SEED.validate('{"location": "北京"}') == {"location": "北京"}
    assert SEED.validate('{"location": "北京"}'.encode()) == {"location": "北京"}
    assert SEED.validate(bytearray('{"location": "北京"}'.encode())) == {"location": "北京"}
    given = {"location": "北京"}
    out = SEED.validate(given)
    assert out == given
    assert out is not given  # the caller's dict is never modified


def test_every_problem_is_listed_with_paths() -> None:
    args = {
        "items": [{"sku": "a", "qty": 1}, {"sku": 2, "qty": 1}, {"sku": "c", "qty": "x", "z": 1}],
        "express": "maybe",
        "size": "XL",
        "bogus": 1,
    }
    found = problems(ORDER, args)
    paths = [p for p, _ in found]
    assert "$.items[1].sku" in paths
    assert "$.items[2].qty" in paths
    assert "$.items[2].z" in paths
    assert "$.express" in paths
    assert "$.size" in paths
    assert "$.bogus" in paths
    assert dict(found)["$.items[2].qty"] == "integer"
    assert dict(found)["$.size"] == 'one of ["S", "M", "L"]'


def test_message_names_expected_and_got_and_parameters() -> None:
    with pytest.raises(tw.InvalidArguments) as info:
        SEED.validate('{"location": 3}')
    message = info.value.message
    assert "$.location: expected string, got integer 3" in message
    assert "Parameters: location (string, required)." in message
    error = info.value.to_error()
    assert error.kind == "invalid_arguments"
    assert error.details["problems"][0]["got"] == "integer 3"


def test_missing_required_property() -> None:
    assert problems(SEED, "{}") == [("$.location", "string")]


def test_extra_properties_allowed_unless_forbidden() -> None:
    assert SEED.validate('{"location": "x", "unit": "c"}') == {"location": "x", "unit": "c"}
    assert problems(ORDER, '{"items": [], "x": 1}') == [("$.x", None)]


def test_function_tools_drop_unknown_arguments_and_report_it() -> None:
    @tw.tool
    def f(a: int) -> int:
        return a

    report = f.validate_report('{"a": 1, "b": 2}')
    assert report.arguments == {"a": 1}
    assert [c.path for c in report.coercions] == ["$.b"]

    @tw.tool
    def g(a: int, **rest: Any) -> int:
        return a

    assert g.validate('{"a": 1, "b": 2}') == {"a": 1, "b": 2}


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('{"location": "x"', "not valid JSON"),
        ('{"location": NaN}', "NaN and Infinity"),
        ('{"location": Infinity}', "NaN and Infinity"),
        ("", "empty"),
        ("[1, 2]", "must be a JSON object"),
        ("42", "must be a JSON object"),
        ('{"location": "x", "location": "y"}', 'duplicate key "location"'),
    ],
)
def test_malformed_input_is_a_structured_error(text: str, needle: str) -> None:
    with pytest.raises(tw.InvalidArguments) as info:
        SEED.validate(text, strict=True)
    assert needle in info.value.message


def test_malformed_json_reports_position() -> None:
    with pytest.raises(tw.InvalidArguments) as info:
        SEED.validate('{"location": "x",\n "a": }')
    problem = info.value.problems[0]
    assert problem.path == "$"
    assert "line 2" in problem.message
    assert "char" in problem.message


def test_non_utf8_bytes() -> None:
    with pytest.raises(tw.InvalidArguments) as info:
        SEED.validate(b'{"location": "\xff\xfe"}')
    assert "not valid UTF-8" in info.value.problems[0].message


def test_nan_in_a_mapping_is_rejected() -> None:
    assert problems(ORDER, {"items": [], "price": float("nan")}) == [("$.price", "a finite number")]


def test_non_json_values_in_a_mapping() -> None:
    found = problems(SEED, {"location": object(), 1: "x"})
    assert ("$.location", "a JSON value") in found
    assert len(found) == 2


def test_duplicate_keys_nested_are_detected() -> None:
    with pytest.raises(tw.InvalidArguments, match='duplicate key "qty"'):
        ORDER.validate('{"items": [{"sku": "a", "qty": 1, "qty": 2}]}')
    # colons inside strings do not cause false alarms
    assert SEED.validate('{"location": "http://x:80/a:b"}') == {"location": "http://x:80/a:b"}


def test_size_limit() -> None:
    big = '{"location": "' + "x" * (1 << 20) + '"}'
    with pytest.raises(tw.InvalidArguments) as info:
        SEED.validate(big)
    assert info.value.too_large
    assert info.value.to_error().kind == "too_large"
    with pytest.raises(tw.InvalidArguments) as info:
        SEED.validate(big.encode())
    assert info.value.too_large
    # 300k CJK characters are ~900 KB of UTF-8: under the limit
    assert len(SEED.validate('{"location": "' + "北" * 300_000 + '"}')["location"]) == 300_000
    with pytest.raises(tw.InvalidArguments) as info:
        SEED.validate('{"location": "' + "北" * 400_000 + '"}')
    assert info.value.too_large


def test_custom_limits() -> None:
    small = tw.Tool.from_schema({"name": "s"}, max_argument_bytes=10)
    with pytest.raises(tw.InvalidArguments) as info:
        small.validate('{"a": "0123456789"}')
    assert info.value.too_large
    shallow = tw.Tool.from_schema({"name": "s"}, max_depth=2)
    assert shallow.validate('{"a":[1]}') == {"a": [1]}
    with pytest.raises(tw.InvalidArguments, match="deeper than 2"):
        shallow.validate('{"a":[[1]]}')


def test_depth_limit() -> None:
    deep = '{"a": ' + "[" * 70 + "]" * 70 + "}"
    with pytest.raises(tw.InvalidArguments, match="deeper than 64"):
        SEED.validate(deep)
    with pytest.raises(tw.InvalidArguments, match="nest too deeply"):
        SEED.validate('{"a": ' + "[" * 5000 + "]" * 5000 + "}")
    nested: Any = []
    for _ in range(70):
        nested = [nested]
    with pytest.raises(tw.InvalidArguments, match="deeper than 64"):
        SEED.validate({"location": "x", "a": nested})
    ok = '{"location": "x", "a": ' + "[" * 60 + "]" * 60 + "}"
    assert SEED.validate(ok)["location"] == "x"


def test_big_integers_stay_exact() -> None:
    tool = tw.Tool.from_schema(
        {"name": "n", "parameters": {"type": "object", "properties": {"n": {"type": "integer"}}}}
    )
    assert tool.validate('{"n": 123456789012345678901234567890}') == {
        "n": 123456789012345678901234567890
    }


def test_wrong_argument_type() -> None:
    with pytest.raises(tw.InvalidArguments, match="JSON text or an object"):
        SEED.validate(42)  # type: ignore[arg-type]


# coercions ---------------------------------------------------------------------------------


def test_coercions_are_applied_and_reported() -> None:
    report = ORDER.validate_report(
        '{"items": [{"sku": "a", "qty": "2"}], "express": "true", "price": "9.5", "tags": "x"}'
    )
    assert report.arguments == {
        "items": [{"sku": "a", "qty": 2}],
        "express": True,
        "price": 9.5,
        "tags": ["x"],
    }
    assert {c.path for c in report.coercions} == {
        "$.items[0].qty",
        "$.express",
        "$.price",
        "$.tags",
    }
    assert all(c.to_dict()["message"] for c in report.coercions)


def test_lone_object_wrapped_then_repaired() -> None:
    report = ORDER.validate_report('{"items": {"sku": "a", "qty": "1"}}')
    assert report.arguments == {"items": [{"sku": "a", "qty": 1}]}
    assert len(report.coercions) == 2


def test_double_encoded_arguments() -> None:
    report = SEED.validate_report('"{\\"location\\": \\"北京\\"}"')
    assert report.arguments == {"location": "北京"}
    assert "double-encoded" in report.coercions[0].message
    nested = ORDER.validate_report('{"items": "[{\\"sku\\": \\"a\\", \\"qty\\": 1}]"}')
    assert nested.arguments == {"items": [{"sku": "a", "qty": 1}]}


def test_strict_turns_coercions_off() -> None:
    assert problems(ORDER, '{"items": [], "express": "true"}', strict=True) == [
        ("$.express", "boolean")
    ]
    assert problems(SEED, '"{\\"location\\": \\"x\\"}"', strict=True) == [("$", "object")]
    assert problems(ORDER, '{"items": {"sku": "a", "qty": 1}}', strict=True) == [
        ("$.items", "array")
    ]


def test_uncoercible_values_still_fail() -> None:
    assert sorted(problems(ORDER, '{"items": [], "price": "cheap", "express": "yes"}')) == [
        ("$.express", "boolean"),
        ("$.price", "number"),
    ]
    assert problems(ORDER, '{"items": [], "price": "nan"}') == [("$.price", "number")]


def test_null_and_empty_arguments_leniently_mean_no_arguments() -> None:
    now = tw.Tool.from_schema({"name": "now"})
    assert now.validate_report("null").arguments == {}
    assert now.validate_report("").arguments == {}
    assert now.validate_report("").coercions[0].message == "empty arguments read as {}"


# Python types for function tools -----------------------------------------------------------


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Item(BaseModel):
    sku: str
    qty: int = 1


@tw.tool
def rich(
    when: datetime.datetime,
    day: datetime.date,
    ident: uuid.UUID,
    amount: decimal.Decimal,
    color: Color,
    item: Item,
    items: list[Item],
    point: tuple[float, float],
    labels: set[str],
    mode: Literal["a", "b"] = "a",
    ratio: float = 1.0,
) -> None:
    return None


def kwargs_json() -> dict[str, Any]:
    return {
        "when": "2024-05-01T12:00:00Z",
        "day": "2024-05-01",
        "ident": "12345678-1234-5678-1234-567812345678",
        "amount": "1.10",
        "color": "red",
        "item": {"sku": "a"},
        "items": [{"sku": "b", "qty": "2"}],
        "point": [1, 2.5],
        "labels": ["x", "y"],
        "ratio": 2,
    }


def test_python_types_for_function_tools() -> None:
    kwargs = rich.validate(
        {
            "when": "2024-05-01T12:00:00Z",
            "day": "2024-05-01",
            "ident": "12345678-1234-5678-1234-567812345678",
            "amount": "1.10",
            "color": "red",
            "item": {"sku": "a"},
            "items": [{"sku": "b", "qty": "2"}],
            "point": [1, 2.5],
            "labels": ["x", "y"],
            "ratio": 2,
        }
    )
    assert kwargs["when"] == datetime.datetime(2024, 5, 1, 12, tzinfo=datetime.UTC)
    assert kwargs["day"] == datetime.date(2024, 5, 1)
    assert kwargs["ident"] == uuid.UUID("12345678-1234-5678-1234-567812345678")
    assert kwargs["amount"] == decimal.Decimal("1.10")
    assert kwargs["color"] is Color.RED
    assert kwargs["item"] == Item(sku="a")
    assert kwargs["items"] == [Item(sku="b", qty=2)]
    assert kwargs["point"] == (1.0, 2.5)
    assert kwargs["labels"] == {"x", "y"}
    with pytest.raises(tw.InvalidArguments, match="non-unique"):  # a set: uniqueItems
        rich.validate({**kwargs_json(), "labels": ["x", "x"]})
    assert kwargs["ratio"] == 2.0 and isinstance(kwargs["ratio"], float)
    assert "mode" not in kwargs  # omitted arguments keep the handler's own defaults


def test_pydantic_level_problems_are_reported() -> None:
    with pytest.raises(tw.InvalidArguments) as info:
        rich.validate(
            {
                "when": "yesterday",
                "day": "2024-13-01",
                "ident": "nope",
                "amount": "1",
                "color": "red",
                "item": {"sku": "a"},
                "items": [],
                "point": [1, 2],
                "labels": [],
            }
        )
    # formats are checked by pydantic (JSON Schema treats them as annotations): all reported
    paths = {p.path for p in info.value.problems}
    assert paths == {"$.when", "$.day", "$.ident"}
    assert all(p.got for p in info.value.problems)


def test_fast_path_types_are_exact() -> None:
    @tw.tool
    def f(n: int, x: float, s: str | None = None) -> None:
        return None

    assert f.validate('{"n": 1, "x": 1.5}') == {"n": 1, "x": 1.5}
    out = f.validate('{"n": 2.0, "x": 1}')  # JSON-valid, but Python wants int and float
    assert out == {"n": 2, "x": 1.0}
    assert type(out["n"]) is int and type(out["x"]) is float
    assert f.validate('{"n": "3", "x": "4", "s": null}') == {"n": 3, "x": 4.0, "s": None}


def test_schema_tool_with_handler_drops_names_the_handler_cannot_take() -> None:
    def handler(location: str) -> str:
        return location

    weather = tw.Tool.from_schema(
        {"name": "w", "parameters": dict(SEED.spec.input_schema)}, handler
    )
    assert weather.validate('{"location": "x"}') == {"location": "x"}
    report = weather.validate_report('{"location": "x", "unit": "c"}')
    assert report.arguments == {"location": "x"}
    assert report.coercions[0].message == "unknown argument ignored"
