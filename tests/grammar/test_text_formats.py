"""Text formats: the grammar accepts exactly what the family's template writes for valid
calls (the issue's examples verbatim, and our call writers' output), our parser reads the
accepted text back to the same calls, and every mutation is rejected."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from grammar_helpers import Engine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import toolwire.grammar as tg
from toolwire._calls import ToolCall
from toolwire.parsing import TEXT_FORMATS, parse, text_format

WEATHER = {
    "name": "get_weather",
    "parameters": {
        "type": "object",
        "properties": {
            "location": {"type": "string"},
            "unit": {"type": "string", "enum": ["c", "f"]},
            "days": {"type": "integer", "minimum": 1, "maximum": 14},
        },
        "required": ["location"],
    },
}
TIME = {"name": "get_time", "parameters": {"type": "object", "properties": {}}}
TOOLS = [WEATHER, TIME]

# The issue's examples, verbatim: (format, one call, how two calls are joined)
EXAMPLES = {
    "hermes": (
        '<tool_call>\n{"name": "get_weather", "arguments": {"location": "北京"}}\n</tool_call>',
        "\n",
    ),
    "qwen3_coder": (
        "<tool_call>\n<function=get_weather>\n<parameter=location>\n北京\n</parameter>\n"
        "</function>\n</tool_call>",
        "\n",
    ),
    "mistral": ('[TOOL_CALLS]get_weather[ARGS]{"location": "北京"}', ""),
    "llama3_json": ('{"name": "get_weather", "parameters": {"location": "北京"}}', "; "),
}
FORMATS = list(EXAMPLES)
# every format whose record says how it writes calls: its grammar comes from that description
RENDERED = sorted(name for name, record in TEXT_FORMATS.items() if record.call is not None)


def _engines(format: str, **kwargs: Any) -> list[Engine]:
    return [
        Engine.of(str(tg.build(TOOLS, format=format, syntax=s, **kwargs)), s)
        for s in ("lark", "gbnf")
    ]


def _calls(text: str, format: str) -> list[tuple[str, Any]]:
    parsed = parse(text, format=format, tools=TOOLS)
    assert not parsed.errors, parsed.errors
    return [(c.name, json.loads(c.arguments)) for c in parsed.calls]


@pytest.mark.parametrize("format", FORMATS)
def test_the_issue_examples_are_accepted_and_read_back(format: str) -> None:
    one, joiner = EXAMPLES[format]
    two = one + joiner + one
    for engine in _engines(format, tool_choice="required"):
        assert engine.why_not(one) is None
        assert engine.why_not(two) is None
    for engine in _engines(format, tool_choice="required", parallel=False):
        assert engine.accepts(one)
        assert not engine.accepts(two)
    assert _calls(two, format) == [("get_weather", {"location": "北京"})] * 2


MUTATIONS = {
    "unknown tool": ("get_weather", "get_wether"),
    "unknown argument": ("location", "place"),
}


@pytest.mark.parametrize("format", FORMATS)
@pytest.mark.parametrize("mutation", list(MUTATIONS))
def test_mutated_examples_are_rejected(format: str, mutation: str) -> None:
    one, _ = EXAMPLES[format]
    old, new = MUTATIONS[mutation]
    for engine in _engines(format, tool_choice="required"):
        assert not engine.accepts(one.replace(old, new, 1))


def _render(format: str, calls: list[tuple[str, dict[str, Any]]], content: str = "") -> str:
    """The calls as the format's own record writes them (the writer the grammar must match)."""
    tool_calls = [
        ToolCall(id=f"c{i}", name=n, arguments=json.dumps(a, ensure_ascii=False))
        for i, (n, a) in enumerate(calls)
    ]
    return text_format(format).write_calls(tool_calls, content)


def _bad_arguments() -> list[dict[str, Any]]:
    return [
        {},  # missing required
        {"location": "x", "unit": "k"},  # enum violation
        {"location": "x", "days": 0},  # below the minimum
        {"location": "x", "days": 15},  # above the maximum
        {"location": "x", "days": "three"},  # wrong type (also as raw text)
        {"location": "x", "extra": 1},  # unknown argument
    ]


_ARGS = st.fixed_dictionaries(
    {
        "location": st.text(
            st.characters(blacklist_categories=["Cs"], blacklist_characters="\r"), max_size=12
        )
    },
    optional={"unit": st.sampled_from(["c", "f"]), "days": st.integers(1, 14)},
)
_ORDER = list(WEATHER["parameters"]["properties"])  # type: ignore[index]
# grammars take the arguments in the schema's order, as llguidance's and xgrammar's do
_CALL = st.one_of(
    st.tuples(st.just("get_weather"), _ARGS.map(lambda a: {k: a[k] for k in _ORDER if k in a})),
    st.just(("get_time", {})),
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    format=st.sampled_from(RENDERED),
    calls=st.lists(_CALL, min_size=1, max_size=3),
    content=st.sampled_from(["", "Let me check."]),
    seed=st.integers(0, 99),
)
def test_rendered_calls_are_accepted_read_back_and_mutations_rejected(
    format: str, calls: list[tuple[str, dict[str, Any]]], content: str, seed: int
) -> None:
    if format == "qwen3_coder":  # raw text values cannot hold the closing tag's lead
        calls = [
            (n, {k: (v.replace("\n", " ") if isinstance(v, str) else v) for k, v in a.items()})
            for n, a in calls
        ]
    text = _render(format, calls, content)
    required = _engines(format, tool_choice="required")
    auto = _engines(format)
    for engine in auto:
        assert engine.why_not(text) is None, (format, text)
        assert engine.why_not(content) is None
    if not content:
        for engine in required:
            assert engine.why_not(text) is None, (format, text)
    assert _calls(text, format) == [(n, a) for n, a in calls]
    bad = random.Random(seed).choice(_bad_arguments())
    mutated = _render(format, [*calls[:-1], ("get_weather", bad)], content)
    for engine in auto:
        assert not engine.accepts(mutated), (format, mutated)


@pytest.mark.parametrize("format", FORMATS)
def test_none_allows_text_but_no_call(format: str) -> None:
    one, _ = EXAMPLES[format]
    for engine in _engines(format, tool_choice="none"):
        assert engine.accepts("Just words, no call.")
        assert not engine.accepts(one)
        assert not engine.accepts(
            "Words first. " + (one if format != "llama3_json" else "<|python_tag|>" + one)
        )


def test_a_named_tool_choice_allows_only_that_tool() -> None:
    one, _ = EXAMPLES["hermes"]
    other = '<tool_call>\n{"name": "get_time", "arguments": {}}\n</tool_call>'
    for engine in _engines("hermes", tool_choice="get_time"):
        assert engine.accepts(other)
        assert not engine.accepts(one)


def test_an_unknown_format_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="no grammar for format 'nope'; known: json, "):
        tg.build(TOOLS, format="nope")
