"""What every parser guarantees, checked for every format on generated calls."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from parsing_harness import check_events, split_at, stream
from parsing_render import AUTO_READS_OTHERWISE, RENDER

from toolwire._calls import ArgumentsDelta
from toolwire.parsing import FORMATS, TEXT_FORMATS, StreamParser, TaggedParameters, parse
from toolwire.parsing._events import arguments_delta
from toolwire.parsing._jsonscan import JsonScanner

NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True)
KEYS = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8)
STRINGS = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=24
) | st.sampled_from(["{", "}", "[", "]", '"', "\\", "</tool_call>", "<|call|>", "北京", "😀"])
# A text-valued format cannot hold its own value end tag in a value (nothing escapes it), nor
# the tags that end a value whose end tag is missing (Qwen3-Coder's </function>, <parameter=).
_ENDS = ("</arg_value>", "</parameter>", "</function>", "<parameter=")
# ... and likewise every tagged format's value and call end tags (from its record)
_ENDS += tuple(
    tag
    for fmt in TEXT_FORMATS.values()
    if fmt.call is not None and isinstance(fmt.call.layout, TaggedParameters)
    for tag in (
        fmt.call.layout.close.strip(),
        fmt.call.call_close.strip().split("\n")[0],
        fmt.call.layout.open.split("{key}")[0].strip(),
    )
    if tag
)
STRINGS = STRINGS.filter(lambda s: not any(end in s for end in _ENDS))
SCALARS = st.none() | st.booleans() | st.integers(-(10**20), 10**20) | STRINGS
SCALARS |= st.floats(allow_nan=False, allow_infinity=False, width=64)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=12,
)
ARGS = st.dictionaries(st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True), VALUES, max_size=5)
CALLS = st.lists(st.tuples(NAMES, ARGS), min_size=0, max_size=3)
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20)

RENDERED = sorted(set(RENDER) & set(FORMATS))


@pytest.mark.parametrize("fmt", RENDERED)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calls=CALLS, data=st.data())
def test_generated_calls_roundtrip(fmt: str, calls: list[Any], data: st.DataObject) -> None:
    text, tools = RENDER[fmt](calls)
    whole = parse(text, fmt, tools)
    assert [(c.name, json.loads(c.arguments)) for c in whole.calls] == [
        (n, json.loads(json.dumps(a))) for n, a in calls
    ]
    assert not whole.errors
    assert all(not c.repaired for c in whole.calls)
    cuts = data.draw(st.lists(st.integers(0, len(text)), max_size=20))
    for pieces in (split_at(text, cuts), list(text)):
        res, events = stream(fmt, pieces, tools)
        assert res == whole
        check_events(res, events)


@pytest.mark.parametrize("fmt", RENDERED)
@settings(max_examples=25, deadline=None)
@given(calls=CALLS, before=TEXT, after=TEXT)
def test_content_around_calls_is_kept(fmt: str, calls: list[Any], before: str, after: str) -> None:
    body, tools = RENDER[fmt](calls)
    if fmt in ("pythonic", "llama3_json"):  # calls only at the start of the output
        text = body + f" {before.strip('<[{`f(|')}"
    else:
        text = f"Sure. {before.strip('<[{`f(|')} " + body + after.strip("<[{`f(|")
    res = parse(text, fmt, tools)
    assert len(res.calls) == len(calls)
    if fmt not in ("pythonic", "llama3_json"):
        assert res.content.startswith("Sure. ")
    res2, events = stream(fmt, list(text), tools)
    assert res2 == res
    check_events(res2, events)


@pytest.mark.parametrize("fmt", FORMATS)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_feed_never_raises(fmt: str, data: st.DataObject) -> None:
    frags = [
        "<tool_call>",
        "</tool_call>",
        "{",
        "}",
        "[",
        "]",
        '"',
        "'",
        "\\",
        ":",
        ",",
        "<|",
        "|>",
        "[TOOL_CALLS]",
        "[ARGS]",
        "<function=",
        "<parameter=",
        "</parameter>",
        "<arg_key>",
        "<|tool_call_begin|>",
        "<|channel|>",
        "<|message|>",
        "<|call|>",
        "to=functions.f",
        "<｜tool▁calls▁begin｜>",
        "<｜tool▁sep｜>",
        "functools[",
        "```json",
        "<think>",
        "(",
        ")",
        "=",
        "True",
        "\n",
    ]
    pieces = data.draw(st.lists(st.sampled_from(frags) | TEXT, max_size=30))
    sp = StreamParser(fmt)
    events: list[Any] = []
    for p in pieces:
        events += sp.feed(p)
    events += sp.close()
    res = sp.result()
    check_events(res, events)
    assert not any("internal parser error" in e.message for e in res.errors)
    assert res == parse("".join(pieces), fmt)


@pytest.mark.parametrize("size", [64 * 1024, 256 * 1024])
def test_scanner_work_is_linear(size: int) -> None:
    value = '{"content": "' + ('ab{c}[d]\\"e 北京 ' * (size // 20))[:size] + '", "n": [1, 2]}'
    sink: list[str] = []
    sc = JsonScanner(sink)
    for i in range(0, len(value), 4):
        sc.feed(value[i : i + 4])
    assert sc.done
    # each 4-char delta costs a bounded number of steps, whatever came before
    assert sc.steps <= 3 * len(value)


def test_scanner_steps_grow_linearly() -> None:
    def steps(n: int) -> int:
        value = "[" + ",".join(['{"k": "v\\n", "x": [1, 2.5, true]}'] * n) + "]"
        sc = JsonScanner([])
        for i in range(0, len(value), 4):
            sc.feed(value[i : i + 4])
        assert sc.done
        return sc.steps

    small, big = steps(500), steps(4000)
    assert 7.5 <= big / small <= 8.5


def test_long_arguments_stream_in_many_deltas() -> None:
    payload = "x" * (256 * 1024)
    text = '<tool_call>{"name": "write", "arguments": {"data": "' + payload + '"}}</tool_call>'
    sp = StreamParser("hermes")
    deltas = 0
    for i in range(0, len(text), 4):
        deltas += sum(1 for e in sp.feed(text[i : i + 4]) if e.kind == "arguments_delta")
    sp.close()
    assert deltas > len(payload) // 8  # arguments streamed as they arrive, not at the end
    assert json.loads(sp.result().calls[0].arguments)["data"] == payload


@pytest.mark.parametrize("fmt", RENDERED)
@settings(max_examples=25, deadline=None)
@given(calls=CALLS)
def test_auto_detects_every_format(fmt: str, calls: list[Any]) -> None:
    if fmt in AUTO_READS_OTHERWISE:
        pytest.skip(AUTO_READS_OTHERWISE[fmt])
    text, tools = RENDER[fmt](calls)
    res = parse(text, "auto", tools)
    assert [(c.name, json.loads(c.arguments)) for c in res.calls] == [
        (n, json.loads(json.dumps(a))) for n, a in calls
    ]
    res2, events = stream("auto", list(text), tools)
    assert res2 == res
    check_events(res2, events)


@settings(max_examples=150, deadline=None)
@given(value=VALUES, cut=st.floats(0, 1))
def test_scanner_closers_make_any_prefix_parse(value: Any, cut: float) -> None:
    text = json.dumps(value, ensure_ascii=False, indent=1)
    sink: list[str] = []
    sc = JsonScanner(sink)
    sc.feed(text[: int(len(text) * cut)])
    snapshot = "".join(sink) + sc.closers()
    if snapshot:  # empty only before the first token is complete
        json.loads(snapshot)  # a valid snapshot at any point


def test_repair_of_truncated_and_fenced_json() -> None:
    res = parse('<tool_call>```json\n{"name": "f", "arguments": {"a": 1}}\n```</tool_call>')
    assert [(c.name, c.arguments, c.repaired) for c in res.calls] == [("f", '{"a":1}', True)]
    assert not res.errors


def test_arguments_delta_shortcut_builds_the_same_event() -> None:
    # The per-delta constructor writes the slots directly; it must stay the dataclass itself.
    fast = arguments_delta(3, "x")
    plain = ArgumentsDelta(index=3, text="x")
    assert type(fast) is ArgumentsDelta
    assert fast == plain and hash(fast) == hash(plain) and repr(fast) == repr(plain)
    assert dataclasses.astuple(fast) == ("arguments_delta", 3, "x")
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.text = "y"  # type: ignore[misc]


def _work(fmt: str, text: str, chunk: int, tools: Any) -> int:
    sp = StreamParser(fmt, tools)
    for i in range(0, len(text), chunk):
        sp.feed(text[i : i + chunk])
    sp.close()
    assert len(sp.result().calls) > 0
    return sp._eng.work  # characters the operations searched or copied


@pytest.mark.parametrize("fmt", [*RENDERED, "auto"])
@pytest.mark.parametrize("chunk", [1 << 30, 16 * 1024])
def test_whole_texts_and_big_chunks_cost_linear_work(fmt: str, chunk: int) -> None:
    # Issue 13: 400 KB of repeated calls cost ~10x 100 KB (each call copied the rest of the
    # input when it put a marker back, and every absent marker was searched to the end).
    source = "hermes" if fmt == "auto" else fmt
    block, tools = RENDER[source]([("get_weather", {"city": "Paris", "days": 3})])
    block += "\nok "
    small, big = block * (64 * 1024 // len(block)), block * (256 * 1024 // len(block))
    w_small, w_big = _work(fmt, small, chunk, tools), _work(fmt, big, chunk, tools)
    # each character looked at about once, whatever the size (quadratic work passes 2x at once)
    assert w_small <= 2 * len(small) and w_big <= 2 * len(big), (w_small, w_big)
    if chunk > len(big):  # whole texts: the work grows with the text (chunks add a bounded
        assert w_big / w_small <= 4.4, (w_small, w_big)  # copy at their boundaries)


UNCLOSED = {  # each call opened by the next one's marker: the reader puts the marker back
    "hermes": '<tool_call>{"name": "f", "arguments": {"a": 1}}',
    "auto": '<tool_call>{"name": "f", "arguments": {"a": 1}}',
    "glm45": "<tool_call>f\n<arg_key>a</arg_key>\n<arg_value>1</arg_value>\n",
    "qwen3_coder": "<tool_call>\n<function=f>\n<parameter=a>\n1\n</parameter>\n</function>\n",
}


@pytest.mark.parametrize("fmt", sorted(UNCLOSED))
def test_calls_opened_by_the_next_marker_cost_linear_work(fmt: str) -> None:
    block = UNCLOSED[fmt]
    small, big = block * (64 * 1024 // len(block)), block * (256 * 1024 // len(block))
    w_small, w_big = _work(fmt, small, 1 << 30, None), _work(fmt, big, 1 << 30, None)
    assert parse(big, fmt).calls[-1].arguments == '{"a":1}'
    assert w_big <= 2 * len(big) and w_big / w_small <= 4.4, (w_small, w_big)
