"""convert_history: the tools-form history a Router keeps, written for functions and text models."""

from __future__ import annotations

import json
import string
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from toolwire._calls import Parsed, ToolCall, ToolResult
from toolwire._errors import ToolError
from toolwire.models._base import ModelTurn, assistant_messages, result_messages
from toolwire.models._history import convert_history
from toolwire.models._prompts import prompt_format, prompted_formats
from toolwire.models._text_calls import write_calls
from toolwire.parsing import parse

# Every name text mode takes (qwen is an alias of hermes), and the format that reads it.
PROMPT_FORMATS = prompted_formats()
PARSER_FOR = {name: prompt_format(name).name for name in PROMPT_FORMATS}


def call(id: str, name: str, **args: Any) -> ToolCall:
    return ToolCall(id=id, name=name, arguments=json.dumps(args, ensure_ascii=False))


def ok(c: ToolCall, value: Any) -> ToolResult:
    return ToolResult(call_id=c.id, name=c.name, ok=True, value=value)


def failed(c: ToolCall) -> ToolResult:
    error = ToolError(kind="timeout", message="the weather service did not answer in 5 s")
    return ToolResult(call_id=c.id, name=c.name, ok=False, error=error)


def canonical(calls: list[ToolCall], results: list[ToolResult], content: str = "") -> list[Any]:
    """What a Router writes: the tools form, through the same writers the Runner uses."""
    turn = ModelTurn(parsed=Parsed(content=content, calls=tuple(calls)))
    return [
        *assistant_messages(turn, "tools"),
        *result_messages(list(zip(calls, results, strict=True)), "tools"),
    ]


BJ = call("c1", "get_weather", location="北京")
SH = call("c2", "get_weather", location="上海")
GZ = call("c3", "get_time", zone="Asia/Shanghai")
USER = {"role": "user", "content": "北京、上海的天气和时间"}


def test_every_prompted_format_writes_calls_and_results() -> None:
    # one record per format: a prompt without a call writer would leave a history unwritable
    assert {"hermes", "qwen", "qwen25", "llama3_json", "mistral", "pythonic"} <= set(PARSER_FOR)
    assert all(prompt_format(name).call is not None for name in PROMPT_FORMATS)


def test_tools_form_is_left_as_it_is() -> None:
    history = [USER, *canonical([BJ], [ok(BJ, {"temp": 25})])]
    assert convert_history(history, "tools") == history


def test_parallel_calls_become_function_pairs_in_call_order() -> None:
    results = [ok(BJ, {"temp": 25}), ok(SH, {"temp": 30}), ok(GZ, "12:00")]
    history = [USER, *canonical([BJ, SH, GZ], results, content="Checking.")]
    # The results arrive out of order: pairing is by id, output in call order.
    history = [history[0], history[1], history[3], history[4], history[2]]
    history.append({"role": "assistant", "content": "done"})
    out = convert_history(history, "functions")
    assert [m["role"] for m in out] == ["user", *["assistant", "function"] * 3, "assistant"]
    calls = [m["function_call"] for m in out[1:7:2]]
    assert [(c["name"], json.loads(c["arguments"])) for c in calls] == [
        ("get_weather", {"location": "北京"}),
        ("get_weather", {"location": "上海"}),
        ("get_time", {"zone": "Asia/Shanghai"}),
    ]
    assert [(m["name"], m["content"]) for m in out[2:8:2]] == [
        ("get_weather", '{"temp":25}'),
        ("get_weather", '{"temp":30}'),
        ("get_time", "12:00"),
    ]
    assert out[1]["content"] == "Checking."  # the turn's words are kept, on its first call
    assert all(m["content"] is None for m in out[3:7:2])
    assert out[-1] == {"role": "assistant", "content": "done"}


def test_functions_form_is_what_a_functions_model_writes_itself() -> None:
    calls = [BJ, SH]
    results = [ok(BJ, {"temp": 25}), failed(SH)]
    turn = ModelTurn(parsed=Parsed(calls=tuple(calls)))
    native = [
        *assistant_messages(turn, "functions"),
        *result_messages(list(zip(calls, results, strict=True)), "functions"),
    ]
    assert convert_history(canonical(calls, results), "functions") == native
    error = json.loads(native[-1]["content"])["error"]
    assert error["kind"] == "timeout"


@pytest.mark.parametrize("fmt", [None, *PROMPT_FORMATS])
def test_error_results_in_text_form_match_the_text_writers(fmt: str | None) -> None:
    calls = [BJ, SH]
    results = [ok(BJ, {"temp": 25}), failed(SH)]
    out = convert_history([USER, *canonical(calls, results)], "text", text_format=fmt)
    assert [m["role"] for m in out] == ["user", "assistant", "user"]
    pairs = list(zip(calls, results, strict=True))
    if fmt is None:
        assert out[2:] == result_messages(pairs, "text")
    else:
        assert out[2]["content"] == prompt_format(fmt).write_results(pairs)
    assert "the weather service did not answer" in out[2]["content"]
    parsed = parse(out[1]["content"], format=PARSER_FOR[fmt or "hermes"], tools=["get_weather"])
    assert [c.parsed_arguments() for c in parsed.calls] == [
        {"location": "北京"},
        {"location": "上海"},
    ]


def test_a_pending_call_and_a_stray_result_are_kept() -> None:
    history = [
        USER,
        *canonical([BJ], [ok(BJ, {"temp": 25})]),
        {"role": "assistant", "content": None, "tool_calls": [_wire(SH)]},  # no result yet
        {"role": "tool", "tool_call_id": "c1", "content": "late copy"},  # its turn was earlier
    ]
    functions = convert_history(history, "functions")
    assert functions[3] == {
        "role": "assistant",
        "content": None,
        "function_call": {"name": "get_weather", "arguments": SH.arguments},
    }
    assert functions[4] == {"role": "function", "name": "get_weather", "content": "late copy"}
    text = convert_history(history, "text", text_format="mistral")
    assert "[TOOL_CALLS]" in text[3]["content"]
    assert '"call_id":"c1"' in text[4]["content"] and "late copy" in text[4]["content"]


def test_a_call_the_format_cannot_write_is_a_value_error() -> None:
    odd = ToolCall(id="x", name="f", arguments='{"not an identifier": 1}')
    history = [USER, *canonical([odd], [ok(odd, 1)])]
    with pytest.raises(ValueError, match="Python call"):
        convert_history(history, "text", text_format="pythonic")
    assert "not an identifier" in convert_history(history, "text")[1]["content"]


def _wire(c: ToolCall) -> dict[str, Any]:
    return {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}


# --- round trip: what convert_history writes, the text parser reads back ----------------

IDENT = st.from_regex(r"[a-z_][a-z0-9_]{0,11}", fullmatch=True)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False, width=32)
    | st.text(max_size=20)
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
CALLS = st.lists(
    st.tuples(IDENT, st.dictionaries(IDENT, VALUES, max_size=4)), min_size=1, max_size=4
)
CONTENT = st.text(alphabet=string.ascii_letters + " .,!?北京天气", max_size=30)


@settings(max_examples=150, deadline=None)
@given(fmt=st.sampled_from(sorted(PROMPT_FORMATS)), made=CALLS, content=CONTENT)
def test_text_calls_parse_back_to_the_same_calls(
    fmt: str, made: list[tuple[str, dict[str, Any]]], content: str
) -> None:
    calls = [
        ToolCall(id=f"c{i}", name=name, arguments=json.dumps(args, ensure_ascii=False))
        for i, (name, args) in enumerate(made)
    ]
    results = [ok(c, {"n": i}) for i, c in enumerate(calls)]
    history = [USER, *canonical(calls, results, content=content)]
    out = convert_history(history, "text", text_format=fmt)
    said = out[1]["content"]
    assert said == write_calls(calls, content, fmt)
    parsed = parse(said, format=PARSER_FOR[fmt])
    assert not parsed.errors
    assert [c.name for c in parsed.calls] == [c.name for c in calls]
    assert [c.parsed_arguments() for c in parsed.calls] == [c.parsed_arguments() for c in calls]
    assert parsed.content.strip() == content.strip()
    # Every result is delivered, in call order, to the right call.
    assert out[2]["content"] == prompt_format(fmt).write_results(
        list(zip(calls, results, strict=True))
    )
