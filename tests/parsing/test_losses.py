"""The losses issue 14 found with the peers' vectors: each call is read, or its text reported.

Every case fails on the parsers before the fix (a call vanished, or text was dropped with no
error) and runs whole, char by char and in every split here (``run_all_ways``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from parsing_harness import run_all_ways

from toolwire._calls import Parsed, ToolCall
from toolwire.parsing import TEXT_FORMATS, TaggedParameters, parse
from toolwire.parsing._write import write_calls

STRING_PARAM = {"type": "object", "properties": {"s": {"type": "string"}}}

DS_CALLS = "<｜tool▁calls▁begin｜>"


def _calls(result: Parsed) -> list[tuple[str, Any]]:
    return [(c.name, json.loads(c.arguments)) for c in result.calls]


def test_hermes_two_objects_in_one_block_are_two_calls() -> None:
    # vLLM's hermes parser test data writes {A}, {B} inside one <tool_call>: B used to vanish
    text = '<tool_call>{"name": "a", "arguments": {"x": 1}}, {"name": "b", "arguments": {}}'
    text += "</tool_call>"
    result = run_all_ways("hermes", text)
    assert _calls(result) == [("a", {"x": 1}), ("b", {})]
    assert not result.errors and result.content == ""


def test_hermes_text_after_the_call_inside_the_block_is_reported() -> None:
    text = '<tool_call>{"name": "a", "arguments": {}} and then some</tool_call>'
    result = run_all_ways("hermes", text)
    assert _calls(result) == [("a", {})]
    assert [e.raw for e in result.errors] == [" and then some"]


@pytest.mark.parametrize("fmt", ["deepseek_v31", "deepseek_v3"])
def test_deepseek_truncated_after_the_section_marker_keeps_the_text(fmt: str) -> None:
    # the output stopped after the marker and the name: both used to disappear silently
    result = run_all_ways(fmt, f"Let me check.{DS_CALLS}get_weather")
    assert result.calls == ()
    assert result.content == "Let me check."
    assert [e.raw for e in result.errors] == [f"{DS_CALLS}get_weather"]


def test_mistral_v11_without_args_token_is_a_call() -> None:
    # vLLM decodes v11+ output with [ARGS] skipped as a special token
    result = run_all_ways("mistral", '[TOOL_CALLS]add{"a": 3.5, "b": 4}')
    assert _calls(result) == [("add", {"a": 3.5, "b": 4})]
    two = run_all_ways("mistral", '[TOOL_CALLS]add{"a": 1}[TOOL_CALLS]mul{"b": 2}')
    assert _calls(two) == [("add", {"a": 1}), ("mul", {"b": 2})]


def test_llama3_json_calls_on_separate_lines() -> None:
    text = '{"name": "a", "parameters": {"x": 1}}\n{"name": "b", "parameters": {"y": 2}}'
    result = run_all_ways("llama3_json", text)
    assert _calls(result) == [("a", {"x": 1}), ("b", {"y": 2})]
    assert not result.errors


def test_pythonic_second_list_after_prose() -> None:
    text = "[get_weather(city='Paris')]\nNow the time: [get_time(zone='UTC')] done"
    result = run_all_ways("pythonic", text)
    assert _calls(result) == [("get_weather", {"city": "Paris"}), ("get_time", {"zone": "UTC"})]
    assert result.content == "\nNow the time:  done"


def test_pythonic_brackets_in_prose_stay_content() -> None:
    text = "See [the docs](https://x.y) and [1, 2] or [note]."
    result = run_all_ways("pythonic", text)
    assert result.calls == () and not result.errors and result.content == text


def test_lfm2_is_its_own_format() -> None:
    # vLLM tests/tool_parsers/test_lfm2_tool_parser.py (content after the calls)
    text = "<|tool_call_start|>[get_candidate_status(candidate_id='12345')]<|tool_call_end|>\n"
    text += "Checking the current status of candidate ID 12345."
    result = run_all_ways("lfm2", text)
    assert _calls(result) == [("get_candidate_status", {"candidate_id": "12345"})]
    assert result.content == "\nChecking the current status of candidate ID 12345."


def test_olmo3_calls_one_per_line() -> None:
    # vLLM tests/tool_parsers/test_olmo3_tool_parser.py parallel_calls
    text = "<function_calls>get_weather(city='San Francisco', metric='celsius')\nget_time()"
    text += "</function_calls>"
    result = run_all_ways("olmo3", text)
    assert _calls(result) == [
        ("get_weather", {"city": "San Francisco", "metric": "celsius"}),
        ("get_time", {}),
    ]
    assert result.content == "" and not result.errors


def test_deepseek_v32_dsml() -> None:
    text = (
        "<｜DSML｜function_calls>\n"
        '<｜DSML｜invoke name="get_weather">\n'
        '<｜DSML｜parameter name="location" string="true">杭州</｜DSML｜parameter>\n'
        '<｜DSML｜parameter name="days" string="false">3</｜DSML｜parameter>\n'
        "</｜DSML｜invoke>\n"
        "</｜DSML｜function_calls>"
    )
    result = run_all_ways("deepseek_v32", text)
    assert _calls(result) == [("get_weather", {"location": "杭州", "days": 3})]
    assert result.content == "" and not result.errors


def test_seed_oss_tags_never_leak_into_content() -> None:
    text = "<seed:think>plan</seed:think>\n<seed:tool_call>\n<function=get_weather>\n"
    text += "<parameter=location>Barcelona, Spain</parameter>\n</function>\n</seed:tool_call>"
    result = run_all_ways("seed_oss", text)
    assert _calls(result) == [("get_weather", {"location": "Barcelona, Spain"})]
    assert result.reasoning == "plan" and result.content == "\n"
    assert "seed:" not in result.content


def test_pythonic_cut_in_the_first_name_is_content_once() -> None:
    # found by tests/parsing/test_shapes.py: "[g" came back as content "[gg"
    assert run_all_ways("pythonic", "[g").content == "[g"
    assert run_all_ways("pythonic", "[get_we").content == "[get_we"


def test_pythonic_keywords_may_be_unicode_identifiers() -> None:
    # found by tests/parsing/test_shapes.py: a key such as 城市 (a valid Python keyword) failed
    result = run_all_ways("pythonic", '[plan(城市="北京 😀", n=2.5)]')
    assert _calls(result) == [("plan", {"城市": "北京 😀", "n": 2.5})]


@pytest.mark.parametrize("fmt", ["glm45", "glm47", "poolside_v1"])
def test_key_value_call_cut_at_the_next_tag_keeps_its_text(fmt: str) -> None:
    # found by tests/parsing/test_shapes.py: the cut "<" became part of the name
    result = run_all_ways(fmt, "<tool_call>get_weather\n<")
    assert result.calls == ()
    assert [e.raw for e in result.errors] == ["get_weather\n<"]


@pytest.mark.parametrize(
    "fmt",
    sorted(
        name
        for name, record in TEXT_FORMATS.items()
        if record.call is not None and isinstance(record.call.layout, TaggedParameters)
    ),
)
@pytest.mark.parametrize("value", ["\n", "a\n", "\na", "\n\n", "\na\n", ""])
def test_text_values_keep_their_edge_newlines(fmt: str, value: str) -> None:
    # DSML, dots, MiniCPM, MiniMax-M2 and Step-3 readers drop the newline a template puts right
    # inside a value's tags; their writer wrote values bare, so "\n" came back as "" (found by
    # hypothesis on deepseek_v4 through auto).
    record = TEXT_FORMATS[fmt]
    assert record.call is not None
    call = ToolCall(id="c1", name="f", arguments=json.dumps({"s": value}))
    text = write_calls(record.call, [call])
    tools = [{"type": "function", "function": {"name": "f", "parameters": STRING_PARAM}}]
    res = parse(text, fmt, tools)
    assert [json.loads(c.arguments) for c in res.calls] == [{"s": value}]
