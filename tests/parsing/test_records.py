"""One record per text format: names, writers and parsers agree, and a CallShape is a grammar.

Every format that writes calls is checked on generated calls: what ``write_calls`` writes, the
format's own parser (and ``auto``) reads back to the same names and arguments, whole and in
random splits; and a recogniser built from the :class:`CallShape` alone (the way
``toolwire.grammar`` builds its grammars) accepts exactly that text.
"""

from __future__ import annotations

import json
import re
import string
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from parsing_harness import check_events, split_at, stream
from parsing_render import AUTO_READS_OTHERWISE, schemas_for

import toolwire.parsing
from toolwire._calls import ToolCall
from toolwire.parsing import (
    ALIASES,
    FORMATS,
    TEXT_FORMATS,
    CallShape,
    JsonArguments,
    JsonObject,
    PythonicCall,
    TaggedParameters,
    parse,
    text_format,
)

WRITTEN = sorted(name for name, fmt in TEXT_FORMATS.items() if fmt.call is not None)

IDENT = st.from_regex(r"[a-z_][a-z0-9_]{0,10}", fullmatch=True)
TEXTS = st.text(alphabet=string.ascii_letters + string.digits + " .,:!?北京😀", max_size=16)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXTS
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXTS, inner, max_size=3),
    max_leaves=8,
)
CALLS = st.lists(
    st.tuples(IDENT, st.dictionaries(IDENT, VALUES, max_size=4)), min_size=1, max_size=3
)
CONTENT = st.text(alphabet=string.ascii_letters + " .,!?北京", max_size=24)


def test_parsing_exports_are_pinned() -> None:
    assert sorted(toolwire.parsing.__all__) == [
        "ALIASES",
        "CallShape",
        "FORMATS",
        "JsonArguments",
        "JsonObject",
        "Layout",
        "PythonicCall",
        "StreamParser",
        "TEXT_FORMATS",
        "TaggedParameters",
        "TextFormat",
        "parse",
        "text_format",
    ]


def test_every_record_is_consistent() -> None:
    assert tuple(TEXT_FORMATS) == FORMATS
    seen: set[str] = set()
    for name, fmt in TEXT_FORMATS.items():
        assert fmt.name == name == fmt.parser().name
        assert fmt.family
        for alias in fmt.names:
            assert alias not in seen, f"{alias} names two formats"
            seen.add(alias)
    assert set(ALIASES) == seen - set(FORMATS)


def test_aliases_parse_as_their_format() -> None:
    text = '<tool_call>{"name": "f", "arguments": {"a": 1}}</tool_call>'
    for alias in ("qwen", "qwen25"):
        assert text_format(alias).name == "hermes"
        assert parse(text, alias) == parse(text, "hermes")
    with pytest.raises(ValueError, match=r"unknown format .nope.*qwen25"):
        parse(text, "nope")


def _tool_calls(made: list[tuple[str, dict[str, Any]]]) -> list[ToolCall]:
    return [
        ToolCall(id=f"c{i}", name=n, arguments=json.dumps(a, ensure_ascii=False))
        for i, (n, a) in enumerate(made)
    ]


def _writable(fmt: str, made: list[tuple[str, dict[str, Any]]]) -> bool:
    layout = TEXT_FORMATS[fmt].call.layout  # type: ignore[union-attr]
    if isinstance(layout, TaggedParameters):
        # a text value cannot hold its own end tag (nothing escapes it), nor be a string that
        # reads as another type when the schema allows any type
        return all(layout.close.strip() not in str(v) for _, a in made for v in a.values())
    return True


@pytest.mark.parametrize("fmt", WRITTEN)
@settings(max_examples=40, deadline=None)
@given(made=CALLS, content=CONTENT, data=st.data())
def test_written_calls_parse_back(
    fmt: str, made: list[tuple[str, dict[str, Any]]], content: str, data: st.DataObject
) -> None:
    if not _writable(fmt, made):
        return
    record = TEXT_FORMATS[fmt]
    calls = _tool_calls(made)
    tools = schemas_for(made)
    text = record.write_calls(calls, content)
    whole = parse(text, fmt, tools)
    assert not whole.errors, whole.errors
    assert [(c.name, json.loads(c.arguments)) for c in whole.calls] == [
        (c.name, json.loads(c.arguments)) for c in calls
    ]
    assert whole.content.strip() == content.strip()
    cuts = data.draw(st.lists(st.integers(0, len(text)), max_size=12))
    res, events = stream(fmt, split_at(text, cuts), tools)
    assert res == whole
    check_events(res, events)
    if fmt in AUTO_READS_OTHERWISE:
        return
    auto = parse(text, "auto", tools)
    assert [(c.name, json.loads(c.arguments)) for c in auto.calls] == [
        (c.name, json.loads(c.arguments)) for c in whole.calls
    ]


# -- a recogniser generated from the CallShape alone ----------------------------------------

_NAME = r"[A-Za-z_][\w.\-]*"
_JSON = r"(?:\{.*?\}|\[.*?\])"  # enough for a recogniser of whole texts (bodies are checked)


_HOLES = {"{name}": _NAME, "{index}": r"\d+", "{key}": _NAME}


def _literal(template: str) -> str:
    """A template's text as a pattern: its placeholders match names and indexes."""
    parts = re.split(r"(\{name\}|\{index\}|\{key\})", template)
    return "".join(_HOLES.get(p) or re.escape(p) for p in parts)


def _body(shape: CallShape) -> str:
    layout = shape.layout
    if isinstance(layout, JsonObject):
        name, args = json.dumps(layout.name_key), json.dumps(layout.arguments_key)
        return rf'\{{\s*{name}\s*:\s*"{_NAME}"\s*,\s*{args}\s*:\s*{_JSON}\s*\}}'
    if isinstance(layout, JsonArguments):
        return _JSON
    if isinstance(layout, TaggedParameters):
        opens = {layout.open, layout.json_open or layout.open}
        open_ = "(?:" + "|".join(_literal(o) for o in opens) + ")"
        return "(?:" + open_ + ".*?" + re.escape(layout.close) + ")*"
    assert isinstance(layout, PythonicCall)
    return _NAME + r"\(.*?\)"


def shape_regex(shape: CallShape, *, after_text: bool) -> re.Pattern[str]:
    """``begin call (separator call)* end``, from the shape's fields only."""
    begin, end = shape.begin, shape.end
    if after_text:
        begin = begin if shape.begin_after_text is None else shape.begin_after_text
        end = end if shape.end_after_text is None else shape.end_after_text
    call = _literal(shape.call_open) + _body(shape) + _literal(shape.call_close)
    sep = re.escape(shape.separator)
    return re.compile(re.escape(begin) + call + f"(?:{sep}{call})*" + re.escape(end), re.S)


@pytest.mark.parametrize("fmt", WRITTEN)
@settings(max_examples=30, deadline=None)
@given(made=CALLS, content=CONTENT)
def test_call_shape_describes_what_is_written(
    fmt: str, made: list[tuple[str, dict[str, Any]]], content: str
) -> None:
    shape = TEXT_FORMATS[fmt].call
    assert shape is not None
    calls = _tool_calls(made)
    text = TEXT_FORMATS[fmt].write_calls(calls)
    assert shape_regex(shape, after_text=False).fullmatch(text), text
    if content:
        said = TEXT_FORMATS[fmt].write_calls(calls, content)
        assert said.startswith(content + shape.text_gap)
        rest = said[len(content + shape.text_gap) :]
        assert shape_regex(shape, after_text=True).fullmatch(rest), rest
