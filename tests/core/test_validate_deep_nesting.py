"""Deep nesting that reaches the stdlib JSON fallbacks (exact big integers, duplicate keys,
JSON text inside a string) is a structured ``InvalidArguments``, never a ``RecursionError``
(found in review; each test failed before its fix)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import toolwire as tw

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LONG = "1234567890123456789012"  # past 64 bits: orjson reads it as a float, so it is re-read


@tw.tool
def echo(x: Any = 0, y: list[Any] | None = None, z: dict[str, Any] | None = None) -> Any:
    """Echo x.

    Args:
        x: anything
        y: a list
        z: an object
    """
    return x


BOX = tw.Toolbox([echo])


def nested(depth: int, leaf: str, opener: str = "[") -> str:
    closer = "]" if opener == "[" else "}"
    if opener == "{":
        return '{"k": ' * depth + leaf + closer * depth
    return opener * depth + leaf + closer * depth


def outcome(text: str) -> str:
    problems: list[tw.ArgumentProblem] = []
    try:
        BOX.validate("echo", text)
    except tw.InvalidArguments as exc:
        problems = list(exc.problems)
    return "invalid" if problems else "ok"


@pytest.mark.parametrize("depth", [65, 500, 990, 1000, 1020, 1100])
def test_deep_nesting_with_a_long_integer(depth: int) -> None:
    assert outcome('{"x": ' + nested(depth, LONG) + "}") == "invalid"


@pytest.mark.parametrize("depth", [65, 500, 990, 1000, 1020, 1100])
def test_deep_nesting_with_a_duplicate_key(depth: int) -> None:
    assert outcome('{"x": 1, "x": ' + nested(depth, "1") + "}") == "invalid"
    assert outcome('{"x": ' + nested(depth, '{"a": 1, "a": 2}') + "}") == "invalid"


@pytest.mark.parametrize("depth", [100, 990, 1020, 3000])
@pytest.mark.parametrize("key", ["y", "z"])
def test_deep_json_text_inside_a_string(depth: int, key: str) -> None:
    # lenient validation reads JSON text in a string as the array/object; the depth limit holds
    assert outcome(json.dumps({key: nested(depth, "1")})) == "invalid"


def test_shallow_payloads_of_the_same_shapes_still_pass() -> None:
    assert BOX.validate("echo", '{"x": [[' + LONG + "]]}") == {"x": [[int(LONG)]]}
    assert BOX.validate("echo", json.dumps({"y": "[[1]]"})) == {"y": [[1]]}
    assert outcome('{"x": 1, "x": 2}') == "invalid"


def test_a_call_reports_invalid_arguments_not_an_internal_error() -> None:
    result = asyncio.run(BOX.call("echo", '{"x": ' + nested(1000, LONG) + "}"))
    assert result.error is not None and result.error.kind == "invalid_arguments"


shapes = st.sampled_from(["long", "dup", "dup_inner", "string", "plain"])


@SETTINGS
@given(depth=st.integers(min_value=0, max_value=1100), shape=shapes, opener=st.sampled_from("[{"))
def test_any_depth_is_success_or_invalid_arguments(depth: int, shape: str, opener: str) -> None:
    if shape == "long":
        text = '{"x": ' + nested(depth, LONG, opener) + "}"
    elif shape == "dup":
        text = '{"x": 1, "x": ' + nested(depth, "1", opener) + "}"
    elif shape == "dup_inner":
        text = '{"x": ' + nested(depth, '{"a": 1, "a": 2}', opener) + "}"
    elif shape == "string":
        text = json.dumps({"y" if opener == "[" else "z": nested(depth, "1", opener)})
    else:
        text = '{"x": ' + nested(depth, "1", opener) + "}"
    got = outcome(text)  # anything but InvalidArguments propagates and fails the test
    if depth >= 64:
        assert got == "invalid"
