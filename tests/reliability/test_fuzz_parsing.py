"""Fuzz the text-format parsers and the incremental JSON scanner beyond the parsing suite.

The parsing package's own tests check generated calls and token soup per format; here every
format also gets the recorded model outputs of every *other* format, mutated (spans deleted,
duplicated, spliced), in random splits, with and without a tool list; pathological inputs
must finish within the test timeout (nothing hangs, work stays linear).
"""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_helpers import examples, pick
from stream_invariants import check_stream

from toolwire.parsing import FORMATS, StreamParser, parse
from toolwire.parsing._jsonscan import JsonScanner

DATA = Path(__file__).resolve().parent.parent / "data" / "formats"
CORPUS: list[str] = sorted(
    {
        case["text"]
        for path in DATA.glob("*.json")
        for case in json.loads(path.read_text(encoding="utf-8"))
        if isinstance(case.get("text"), str)
    }
)
TOOLS = {
    "get_weather": {
        "type": "object",
        "properties": {"location": {"type": "string"}, "days": {"type": "integer"}},
    },
    "f": {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "boolean"}}},
}
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


def _stream(fmt: str, pieces: list[str], tools: Any) -> Any:
    sp = StreamParser(fmt, tools)
    events: list[Any] = []
    for p in pieces:
        events += sp.feed(p)
    events += sp.close()
    res = sp.result()
    check_stream(events, res, objects=False)
    assert not any("internal parser error" in e.message for e in res.errors), res.errors
    return res


def _split(text: str, cuts: list[int]) -> list[str]:
    bounds = sorted({0, len(text), *(c % (len(text) + 1) for c in cuts)})
    return [text[a:b] for a, b in itertools.pairwise(bounds)]


EDITS = st.lists(
    st.tuples(st.sampled_from(["delete", "dup", "splice", "insert"]), st.integers(0, 10**6), TEXT),
    max_size=4,
)


def _mutate(text: str, edits: list[tuple[str, int, str]]) -> str:
    for op, seed, junk in edits:
        n = len(text) + 1
        a, b = sorted((seed % n, (seed // n) % n))
        if op == "delete":
            text = text[:a] + text[b:]
        elif op == "dup":
            text = text[:b] + text[a:b] + text[b:]
        elif op == "splice":
            other = CORPUS[seed % len(CORPUS)]
            text = text[:a] + other[: len(other) // 2] + text[b:]
        else:
            text = text[:a] + junk + text[a:]
    return text


@pytest.mark.skipif(not CORPUS, reason="no recorded format vectors found")
@pytest.mark.parametrize("fmt", FORMATS)
@settings(
    max_examples=examples(60),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    start=st.integers(0, 10**6),
    edits=EDITS,
    cuts=st.lists(st.integers(0, 10**6), max_size=8),
    with_tools=st.booleans(),
)
def test_mutated_model_outputs(
    fmt: str, start: int, edits: list[Any], cuts: list[int], with_tools: bool
) -> None:
    text = _mutate(CORPUS[start % len(CORPUS)], edits)
    tools = TOOLS if with_tools else None
    whole = parse(text, fmt, tools)
    assert _stream(fmt, _split(text, cuts), tools) == whole
    assert _stream(fmt, [text], tools) == whole


# ----------------------------------------------------------------------------- no hangs

PATHOLOGICAL = {
    "deep_arrays": "<tool_call>" + "[" * 50_000,
    "deep_objects": '<tool_call>{"name": "f", "arguments": ' + '{"a":' * 20_000,
    "open_string": '<tool_call>{"name": "f", "arguments": {"a": "' + "x\\" * 50_000,
    "many_open_tags": "<tool_call>" * 20_000,
    "many_partial_tags": "<tool_ca" * 20_000,
    "brackets": "[TOOL_CALLS][" * 10_000,
    "unicode_escapes": '<tool_call>{"name":"f","arguments":{"a":"' + "\\ud800" * 20_000,
    "numbers": '<tool_call>{"name":"f","arguments":{"a":' + "1" * 100_000,
}


@pytest.mark.timeout(60)
@pytest.mark.parametrize("case", sorted(PATHOLOGICAL))
@pytest.mark.parametrize("fmt", FORMATS)
def test_pathological_inputs_finish(fmt: str, case: str) -> None:
    text = PATHOLOGICAL[case]
    step = pick(997, 4)  # 4-character deltas in full mode: the worst case for per-feed costs
    _stream(fmt, [text[i : i + step] for i in range(0, len(text), step)], None)


# ----------------------------------------------------------------------------- the scanner

FINITE = st.floats(allow_nan=False, allow_infinity=False)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**30), 10**30) | FINITE | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=20,
)


def _scan(pieces: list[str]) -> tuple[JsonScanner, bool]:
    sc = JsonScanner([])
    for p in pieces:
        i = sc.feed(p)
        assert 0 <= i <= len(p)
    return sc, sc.finish()


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b or math.isclose(a, b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return bool(a == b)


@settings(max_examples=examples(300), deadline=None)
@given(
    value=JSON_VALUES,
    indent=st.sampled_from([None, 1, 4]),
    cuts=st.lists(st.integers(0, 10**6), max_size=10),
)
def test_scanner_valid_json_any_split(value: Any, indent: int | None, cuts: list[int]) -> None:
    text = json.dumps(value, indent=indent, ensure_ascii=bool(indent))
    sc, whole = _scan(_split(text, cuts))
    assert whole and sc.done and not sc.repaired
    assert _same(json.loads("".join(sc.sink)), value)


@settings(max_examples=examples(300), deadline=None)
@given(
    value=JSON_VALUES,
    cut=st.integers(0, 10**6),
    junk=st.sampled_from(["", "'", "//c\n", "True", ",", "/*", "\\", "\\u12", '"', "}", "]"]),
)
def test_scanner_repair_always_valid_json(value: Any, cut: int, junk: str) -> None:
    text = json.dumps(value, ensure_ascii=False)
    text = text[: cut % (len(text) + 1)] + junk
    sc, whole = _scan([text])
    out = "".join(sc.sink)
    if whole and out:  # whatever it repaired, the output is one valid JSON value
        json.loads(out)


# found by this suite, fixed in parsing (71efe83): a lone comment is not a whole value
@pytest.mark.parametrize("text", ["/*", "//"])
def test_scanner_comment_alone_is_no_value(text: str) -> None:
    sc, whole = _scan([text])
    assert not whole or "".join(sc.sink), "finish() says whole but emitted nothing"


@settings(max_examples=examples(300), deadline=None)
@given(text=st.text(max_size=200), cuts=st.lists(st.integers(0, 10**6), max_size=10))
def test_scanner_arbitrary_text_split_invariant(text: str, cuts: list[int]) -> None:
    a, wa = _scan([text])
    b, wb = _scan(_split(text, cuts))
    assert (wa, a.failed, a.repaired, a.sink and "".join(a.sink)) == (
        wb,
        b.failed,
        b.repaired,
        b.sink and "".join(b.sink),
    )
    if wa and a.sink:
        json.loads("".join(a.sink))
