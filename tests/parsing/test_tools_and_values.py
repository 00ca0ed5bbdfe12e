"""Tool lists in every accepted shape, and schema-typed values."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from toolwire._spec import ToolSpec
from toolwire.parsing import parse
from toolwire.parsing._toolmap import tool_schemas
from toolwire.parsing._values import coerce

SCHEMA = {"type": "object", "properties": {"zip": {"type": "string"}, "n": {"type": "integer"}}}
TEXT = (
    "<tool_call>\n<function=lookup>\n<parameter=zip>\n03106\n</parameter>\n"
    "<parameter=n>\n230.0\n</parameter>\n</function>\n</tool_call>"
    "<tool_call>\n<function=other>\n</function>\n</tool_call>"
)


@pytest.mark.parametrize(
    "tools",
    [
        [ToolSpec(name="lookup", input_schema=SCHEMA)],
        [SimpleNamespace(spec=ToolSpec(name="lookup", input_schema=SCHEMA))],
        [{"type": "function", "function": {"name": "lookup", "parameters": SCHEMA}}],
        [{"name": "lookup", "parameters": SCHEMA}],
        [{"name": "lookup", "input_schema": SCHEMA}],
        {"lookup": SCHEMA},
    ],
    ids=["ToolSpec", "Tool-like", "openai", "seed", "anthropic", "mapping"],
)
def test_every_tools_shape_types_values_and_flags_unknown(tools: Any) -> None:
    assert tool_schemas(tools) == {"lookup": SCHEMA}
    res = parse(TEXT, "qwen3_coder", tools)
    assert [c.arguments for c in res.calls] == ['{"zip":"03106","n":230}', "{}"]
    assert [c.unknown_tool for c in res.calls] == [False, True]


def test_without_tools_nothing_is_flagged() -> None:
    res = parse(TEXT, "qwen3_coder")
    assert res.calls[0].arguments == '{"zip":"03106","n":230.0}'
    assert not any(c.unknown_tool for c in res.calls)


def test_toolbox_if_available() -> None:
    toolbox = pytest.importorskip("toolwire._toolbox")
    tools_mod = pytest.importorskip("toolwire._tools")
    box = toolbox.Toolbox([tools_mod.Tool.from_schema({"name": "lookup", "parameters": SCHEMA})])
    assert set(tool_schemas(box) or {}) == {"lookup"}


@pytest.mark.parametrize(
    ("text", "schema", "want"),
    [
        ("03106", {"type": "string"}, "03106"),
        ("03106", None, "03106"),
        ("12", None, 12),
        ("230.0", {"type": "integer"}, 230),
        ("2.5", {"type": "integer"}, 2.5),
        ("abc", {"type": "integer"}, "abc"),
        ("True", {"type": "boolean"}, True),
        ("null", {"type": ["string", "null"]}, None),
        ("x", {"type": ["string", "null"]}, "x"),
        ("{'a': (1, 2)}", {"type": "object"}, {"a": (1, 2)}),
        ("[1, 2]", {"type": "array"}, [1, 2]),
        ("7", {"anyOf": [{"type": "integer"}, {"type": "string"}]}, "7"),
        ("red", {"enum": ["red", "blue"]}, "red"),
        ("123456789012345678901234567890", None, 123456789012345678901234567890),
    ],
)
def test_coerce(text: str, schema: Any, want: Any) -> None:
    assert coerce(text, schema) == want
