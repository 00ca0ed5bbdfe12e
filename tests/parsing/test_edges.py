"""Edges of detection and recovery: auto on ambiguous tags, reasoning opened by the prompt,
pythonic calls cut at the end. Each runs whole, char by char and in random splits."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from parsing_harness import check_events, run_all_ways, split_at

from toolwire._calls import Parsed
from toolwire.parsing import FORMATS, StreamParser, parse
from toolwire.parsing._jsonscan import JsonScanner


def _calls(result: Parsed) -> list[tuple[str, Any, bool]]:
    return [(c.name, json.loads(c.arguments), c.repaired) for c in result.calls]


# -- auto: <tool_call> with neither JSON nor a GLM call -------------------------------------


@pytest.mark.parametrize(
    "body",
    ["garbage", "this is not json", "garbage<arg_value>1</arg_value>", "1abc", "f(x)"],
)
def test_auto_reports_a_tag_holding_no_call(body: str) -> None:
    result = run_all_ways("auto", f"a <tool_call>{body}</tool_call> b")
    assert result.calls == ()
    assert len(result.errors) == 1 and result.errors[0].name is None
    assert result.errors[0].raw == body
    assert result.content == "a  b"


def test_auto_reads_glm_when_it_looks_like_glm() -> None:
    text = "<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Paris</arg_value>\n"
    text += "</tool_call>"
    assert _calls(run_all_ways("auto", text)) == [("get_weather", {"city": "Paris"}, False)]
    # no arguments: a call only when the tools name it
    bare = "<tool_call>get_time</tool_call>"
    assert _calls(run_all_ways("auto", bare, {"get_time": {"type": "object"}})) == [
        ("get_time", {}, False)
    ]
    assert run_all_ways("auto", bare).calls == ()
    # the GLM format itself, asked for by name, still reads a bare name as a call
    assert _calls(run_all_ways("glm45", bare)) == [("get_time", {}, False)]


def test_auto_prefers_hermes_json_after_the_tag() -> None:
    text = '<tool_call>\n{"name": "f", "arguments": {"a": 1}}\n</tool_call>'
    assert _calls(run_all_ways("auto", text)) == [("f", {"a": 1}, False)]


# -- reasoning opened by the prompt ---------------------------------------------------------


def _stream(fmt: str, pieces: list[str], **kw: Any) -> tuple[Parsed, list[Any]]:
    sp = StreamParser(fmt, **kw)
    events: list[Any] = []
    for p in pieces:
        events += sp.feed(p)
    events += sp.close()
    return sp.result(), events


OPEN_CASES = [
    ("hermes", 'plan <tool_call> not yet</think>ok<tool_call>{"name": "f", "arguments": {}}'),
    ("qwen3_coder", "plan</think>\n<tool_call>\n<function=f>\n</function>\n</tool_call>"),
    ("xlam", 'plan</think>[{"name": "f", "arguments": {}}]'),
    ("auto", 'plan</th</think>{"name": "f", "parameters": {}}'),
]


@pytest.mark.parametrize(("fmt", "text"), OPEN_CASES)
def test_reasoning_open_reads_up_to_the_first_close(fmt: str, text: str) -> None:
    whole = parse(text, fmt, reasoning_open=True)
    assert whole.reasoning == text[: text.index("</think>")]
    assert [c.name for c in whole.calls] == ["f"]
    assert "</think>" not in whole.content and not whole.errors
    for pieces in ([text], list(text)):
        res, events = _stream(fmt, pieces, reasoning_open=True)
        assert res == whole
        check_events(res, events)
    # without the option the same text reads differently: the reasoning is not recognised
    assert parse(text, fmt).reasoning != whole.reasoning


def test_reasoning_open_without_a_close_is_all_reasoning() -> None:
    text = '<tool_call>{"name": "f", "arguments": {}}</tool_call>'
    result = parse(text, "hermes", reasoning_open=True)
    assert result.reasoning == text and result.calls == () and result.content == ""


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_reasoning_open_is_split_invariant(data: st.DataObject) -> None:
    fmt, text = data.draw(st.sampled_from(OPEN_CASES))
    cuts = data.draw(st.lists(st.integers(0, len(text)), max_size=10))
    res, events = _stream(fmt, split_at(text, cuts), reasoning_open=True)
    assert res == parse(text, fmt, reasoning_open=True)
    check_events(res, events)


def test_every_format_accepts_reasoning_open() -> None:
    for fmt in FORMATS:
        assert parse("x</think>y", fmt, reasoning_open=True).reasoning == "x"


# -- pythonic: the output ends inside a call ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "calls"),
    [
        ('[f(a=1, b="x"', [("f", {"a": 1, "b": "x"}, True)]),
        ("[f(a=1), g(c=[1, 2]", [("f", {"a": 1}, False), ("g", {"c": [1, 2]}, True)]),
        ("[f(a=1, ", [("f", {"a": 1}, True)]),
        ("[f(a={'k': None}", [("f", {"a": {"k": None}}, True)]),
        ("[f(a=True", [("f", {"a": True}, True)]),
        ("[f(a=1), g(", [("f", {"a": 1}, False), ("g", {}, True)]),
    ],
)
def test_pythonic_call_cut_with_whole_arguments_is_repaired(
    text: str, calls: list[tuple[str, Any, bool]]
) -> None:
    result = run_all_ways("pythonic", text)
    assert _calls(result) == calls
    assert result.errors == () and result.content == ""


@pytest.mark.parametrize("text", ['[f(a=1, b="x', "[f(a=[1, 2", "[f(a=1, b=12", "[f(a", "[f(a="])
def test_pythonic_call_cut_inside_an_argument_fails_with_its_text(text: str) -> None:
    result = run_all_ways("pythonic", text)
    assert result.calls == ()
    assert len(result.errors) == 1 and result.errors[0].name == "f"
    assert result.errors[0].raw == text


def test_auto_parameterless_glm_call_needs_the_tools() -> None:
    # The glm45 vector "parallel_and_parameterless", read by auto: the bare "now" is only a
    # call when the tools name it (the vector itself is not collected for auto).
    text = "<tool_call>a\n<arg_key>x</arg_key>\n<arg_value>1</arg_value>\n</tool_call>"
    text += "<tool_call>now\n</tool_call>"
    tools = {"a": {"type": "object"}, "now": {"type": "object"}}
    assert _calls(run_all_ways("auto", text, tools)) == [("a", {"x": 1}, False), ("now", {}, False)]
    alone = run_all_ways("auto", text)
    assert _calls(alone) == [("a", {"x": 1}, False)]
    assert [e.raw for e in alone.errors] == ["now\n"]


def test_auto_bare_glm_word_is_a_call_only_for_a_known_tool() -> None:
    # glm45 vectors "think" and "unknown_tool_flagged", read by auto
    think = "<think>plan</think><tool_call>f\n</tool_call>"
    known = run_all_ways("auto", think, {"f": {"type": "object"}})
    assert known.reasoning == "plan" and _calls(known) == [("f", {}, False)]
    unknown = run_all_ways("auto", "<tool_call>nope\n</tool_call>", {"f": {"type": "object"}})
    assert unknown.calls == () and [e.raw for e in unknown.errors] == ["nope\n"]
    # with arguments the shape is unmistakable: an unknown name is a flagged call
    text = "<tool_call>nope<arg_key>a</arg_key><arg_value>1</arg_value></tool_call>"
    flagged = run_all_ways("auto", text, {"f": {"type": "object"}})
    assert [(c.name, c.unknown_tool) for c in flagged.calls] == [("nope", True)]


# -- the scanner: a comment alone is no value ------------------------------------------------


@pytest.mark.parametrize("text", ["/*", "//", "/* note */", "// note\n"])
def test_scanner_comment_alone_is_not_a_whole_value(text: str) -> None:
    sc = JsonScanner([])
    sc.feed(text)
    assert not sc.started and not sc.finish() and sc.sink == []
    result = run_all_ways("hermes", f"<tool_call>{text}</tool_call>")
    assert result.calls == () and len(result.errors) == 1


def test_scanner_comment_then_value_is_repaired() -> None:
    sc = JsonScanner([])
    sc.feed('/* c */ {"a": 1')
    assert sc.started and sc.finish() and "".join(sc.sink) == '{"a":1}' and sc.repaired
