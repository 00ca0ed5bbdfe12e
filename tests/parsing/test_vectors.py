"""Every vector file, every format: whole, char by char, and in random splits."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from parsing_harness import (
    check_events,
    check_expected,
    load_vectors,
    run_all_ways,
    split_at,
    stream,
)

from toolwire.parsing import parse

VECTORS = load_vectors()
IDS = [f"{fmt}:{case['name']}" for fmt, case in VECTORS]


@pytest.mark.parametrize(("fmt", "case"), VECTORS, ids=IDS)
def test_vector_whole_and_char_by_char(fmt: str, case: dict[str, Any]) -> None:
    result = run_all_ways(fmt, case["text"], case.get("tools"))
    check_expected(result, case)


# Cases marked "auto": false are ambiguous without the format's name; they are not collected.
AUTO = [(fmt, case) for fmt, case in VECTORS if case.get("auto", True) is not False]


@pytest.mark.parametrize(("fmt", "case"), AUTO, ids=[f"{fmt}:{case['name']}" for fmt, case in AUTO])
def test_vector_auto_detects(fmt: str, case: dict[str, Any]) -> None:
    result = parse(case["text"], "auto", case.get("tools"))
    check_expected(result, case)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_vectors_random_splits(data: st.DataObject) -> None:
    fmt, case = data.draw(st.sampled_from(VECTORS))
    text = case["text"]
    cuts = data.draw(st.lists(st.integers(0, max(len(text), 1)), max_size=12))
    res, events = stream(fmt, split_at(text, cuts), case.get("tools"))
    assert res == parse(text, fmt, case.get("tools"))
    check_events(res, events)
