"""A schema jsonschema-rs cannot compile is refused when the tool is defined (or added to a
toolbox), naming the problem, instead of failing every call with an internal error (found in
review; each test failed before its fix)."""

from __future__ import annotations

import pytest

import toolwire as tw
from toolwire._spec import ToolSpec

BAD_PATTERN = {"type": "object", "properties": {"q": {"type": "string", "pattern": "(unclosed"}}}


def test_an_uncompilable_schema_is_refused_at_definition() -> None:
    with pytest.raises(tw.ToolDefinitionError, match=r"tool 's'.*cannot be compiled.*unclosed"):
        tw.Tool.from_schema(
            {"name": "s", "description": "d", "parameters": BAD_PATTERN}, handler=lambda q="": q
        )


def test_an_uncompilable_schema_is_refused_by_toolbox_add() -> None:
    # a Tool built directly from a spec skips the constructors; adding it is where calls
    # become possible, so the schema is checked there
    bad = tw.Tool(ToolSpec(name="s", input_schema=BAD_PATTERN), lambda q="": q)
    box = tw.Toolbox()
    with pytest.raises(tw.ToolDefinitionError, match="unclosed"):
        box.add(bad)
    assert "s" not in box
    good = tw.Tool(ToolSpec(name="s", input_schema={"type": "object"}), lambda: 1)
    assert box.add(good) is good


def test_a_compilable_schema_keeps_its_validator_from_definition() -> None:
    tool = tw.Tool.from_schema(
        {"name": "s", "parameters": {"type": "object", "properties": {"q": {"pattern": "^a"}}}}
    )
    with pytest.raises(tw.InvalidArguments):
        tool.validate('{"q": "b"}')
    assert tool.validate('{"q": "abc"}') == {"q": "abc"}
