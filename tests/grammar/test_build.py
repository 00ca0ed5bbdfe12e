"""``build``'s contract: tool_choice and parallel, warnings that list schema paths, the cache,
clear errors, and the same verdicts from the Lark text and the GBNF text."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from grammar_helpers import Engine, call_text, render

import toolwire as tw
import toolwire.grammar as tg
from toolwire.examples.seed import SEED_GET_WEATHER_SCHEMA

WEATHER = tw.Tool.from_schema(SEED_GET_WEATHER_SCHEMA)
TIME = tw.Tool.from_schema(
    {"name": "get_time", "parameters": {"type": "object", "properties": {"tz": {"type": "string"}}}}
)
CALL = {"name": "get_weather", "arguments": {"location": "北京"}}
CALL2 = {"name": "get_time", "arguments": {}}


def _both(tools: Any, **kwargs: Any) -> list[Engine]:
    return [Engine.of(str(tg.build(tools, syntax=s, **kwargs)), s) for s in ("lark", "gbnf")]


@pytest.mark.parametrize(
    ("kwargs", "accepted", "rejected"),
    [
        (
            {},
            ["", "Sunny today.", render([CALL]), render([CALL, CALL2])],
            [render(CALL), "[]", "{"],
        ),
        ({"parallel": False}, ["hi", render(CALL)], [render([CALL]), render(CALL) + render(CALL2)]),
        ({"tool_choice": "required"}, [render([CALL]), render([CALL2, CALL])], ["", "hi", "[]"]),
        (
            {"tool_choice": "required", "parallel": False},
            [render(CALL), render(CALL2)],
            [render([CALL]), "x"],
        ),
        (
            {"tool_choice": "get_time"},
            [render([CALL2, CALL2])],
            [render([CALL]), render([CALL2, CALL]), ""],
        ),
        ({"tool_choice": "none"}, ["", "no calls"], [render([CALL]), render(CALL)]),
    ],
)
def test_tool_choice_and_parallel(
    kwargs: dict[str, Any], accepted: list[str], rejected: list[str]
) -> None:
    for engine in _both([WEATHER, TIME], **kwargs):
        for text in accepted:
            assert engine.why_not(text) is None, (kwargs, text)
        for text in rejected:
            assert not engine.accepts(text), (kwargs, text)


def test_unenforced_constraints_are_warned_with_their_paths() -> None:
    tool = {
        "name": "f",
        "parameters": {
            "type": "object",
            "properties": {
                "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
                "n": {"type": "integer", "multipleOf": 5},
                "code": {"type": "string", "pattern": "^(?=a)\\w+$"},
                "s": {"not": {"type": "string"}},
            },
        },
    }
    with pytest.warns(tg.GrammarWarning) as record:
        grammar = tg.build([tool])
    problems = record[0].message.problems  # type: ignore[union-attr]
    assert {(p.path, p.keyword) for p in problems} == {
        ("/properties/tags", "uniqueItems"),
        ("/properties/n", "multipleOf"),
        ("/properties/code", "pattern"),
        ("/properties/s", "not"),
    }
    assert "f: /properties/tags uniqueItems" in str(record[0].message)
    # what is not enforced is left open, never dropped: the rest still binds
    engine = Engine.of(str(grammar))
    assert engine.accepts(render([{"name": "f", "arguments": {"tags": ["a", "a"], "n": 3}}]))
    assert not engine.accepts(render([{"name": "f", "arguments": {"n": "3"}}]))


def test_fully_enforced_schemas_warn_nothing() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tg.build([WEATHER, TIME], syntax="gbnf")


def test_the_cache_is_per_set_of_tools_and_sees_a_toolbox_change() -> None:
    box = tw.Toolbox([WEATHER])
    first = tg.build(box)
    assert tg.build(box) is first  # the same text object: no rebuild
    box.add(TIME)
    second = tg.build(box)
    assert second is not first and "get_time" in second
    assert tg.build(box, syntax="gbnf") != second


def test_clear_errors() -> None:
    with pytest.raises(ValueError, match="unknown syntax"):
        tg.build([WEATHER], syntax="ebnf")
    with pytest.raises(ValueError, match="tool_choice 'nope'"):
        tg.build([WEATHER], tool_choice="nope")
    with pytest.raises(ValueError, match="no tools"):
        tg.build([])
    impossible = {
        "name": "g",
        "parameters": {"type": "object", "properties": {"x": {"enum": []}}, "required": ["x"]},
    }
    with pytest.raises(ValueError, match=r"unsatisfiable.*g: / "):
        tg.build([impossible], tool_choice="required")


def test_many_tools_share_pieces_and_stay_valid() -> None:
    tools = [
        {
            "name": f"tool_{i}",
            "parameters": {
                "type": "object",
                "properties": {
                    "q": {"type": "string"},
                    "n": {"type": "integer", "minimum": 0, "maximum": i},
                },
                "required": ["q"],
            },
        }
        for i in range(60)
    ]
    grammar = str(tg.build(tools, tool_choice="required", parallel=False))
    assert grammar.count("STRING:") == 1  # one string token shared by every tool
    engine = Engine.of(grammar)
    assert engine.accepts(call_text("tool_42", {"q": "x", "n": 42}))
    assert not engine.accepts(call_text("tool_41", {"q": "x", "n": 42}))
    assert not engine.accepts(call_text("tool_60", {"q": "x"}))
