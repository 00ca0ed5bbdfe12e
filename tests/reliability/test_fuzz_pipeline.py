"""Model output -> parse -> validate -> execute, fuzzed end to end.

Whatever a model writes, in any format, every call it contains gets exactly one result, in
order, with a known error kind when it fails; the handler runs only with validated arguments
(a non-idempotent handler counts its runs, and no call id may run twice).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_helpers import examples

import toolwire as tw
from toolwire._errors import ERROR_KINDS, InvalidArguments, UnknownTool
from toolwire.parsing import FORMATS, parse

TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=10)
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**80), 2**80) | st.floats() | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)
NAMES = st.sampled_from(["get_weather", "record", "pkg.lookup", "pkg_lookup", "nope", ""]) | TEXT


def _box(runs: list[tuple[str, dict[str, Any]]]) -> tw.Toolbox:
    async def get_weather(location: str, days: int = 1, unit: str = "celsius") -> dict[str, Any]:
        """Weather for a city.

        Args:
            location: city name
            days: 1..14
            unit: celsius or fahrenheit
        """
        return {"location": location, "days": days}

    def record(note: str, tags: list[str] | None = None) -> int:
        """Write a note (not idempotent)."""
        runs.append(("record", {"note": note, "tags": tags}))
        return len(runs)

    lookup = tw.Tool.from_schema(
        {
            "name": "pkg.lookup",
            "description": "look something up",
            "parameters": {
                "type": "object",
                "properties": {
                    "q": {"type": "string", "maxLength": 50},
                    "mode": {"enum": ["a", "b"]},
                    "n": {"type": "integer", "minimum": 0, "maximum": 5},
                    "filters": {
                        "type": "array",
                        "items": {"type": "object", "properties": {"k": {"type": "string"}}},
                    },
                },
                "required": ["q"],
                "additionalProperties": False,
            },
        },
        lambda **kw: kw,
    )
    return tw.Toolbox([tw.tool(get_weather), tw.tool(record), lookup])


@settings(
    max_examples=examples(200),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    name=NAMES,
    arguments=VALUES.map(lambda v: json.dumps(v, ensure_ascii=False))
    | VALUES
    | TEXT
    | st.binary(max_size=40),
)
def test_validate_raises_only_documented_errors(name: str, arguments: Any) -> None:
    box = _box([])
    if not isinstance(arguments, (str, bytes, dict)):
        arguments = json.dumps(arguments, default=str)
    try:
        out = box.validate(name, arguments)
    except (InvalidArguments, UnknownTool) as exc:
        error = exc.to_error()
        assert error.kind in ("invalid_arguments", "unknown_tool", "too_large")
        assert error.message
        return
    assert isinstance(out, dict)


CALL_TEXT = st.lists(
    st.tuples(NAMES, st.dictionaries(TEXT, VALUES, max_size=3) | VALUES), max_size=4
)


def _hermes(calls: list[tuple[str, Any]], junk: str) -> str:
    body = "".join(
        "<tool_call>" + json.dumps({"name": n, "arguments": a}, ensure_ascii=False) + "</tool_call>"
        for n, a in calls
    )
    return junk + body


@pytest.mark.slow
@settings(
    max_examples=examples(100),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    fmt=st.sampled_from(FORMATS),
    calls=CALL_TEXT,
    junk=TEXT,
    cut=st.integers(0, 10**6),
)
def test_every_parsed_call_gets_exactly_one_result(
    fmt: str, calls: list[tuple[str, Any]], junk: str, cut: int
) -> None:
    text = _hermes(calls, junk)
    text = text[: len(text) - cut % 7]  # sometimes cut the stream short
    parsed = parse(text, fmt, None)
    runs: list[tuple[str, dict[str, Any]]] = []
    box = _box(runs)
    results = asyncio.run(box.run(list(parsed.calls)))
    assert [r.call_id for r in results] == [c.id for c in parsed.calls]
    for call, result in zip(parsed.calls, results, strict=True):
        if result.ok:
            assert call.name in box or box.get(call.name)
        else:
            assert result.error is not None and result.error.kind in ERROR_KINDS
            assert result.error.message
    # a non-idempotent tool ran once per successful call of it, never more
    assert len(runs) == sum(
        1 for c, r in zip(parsed.calls, results, strict=True) if r.ok and r.name == "record"
    )


@pytest.mark.anyio
async def test_duplicate_call_ids_in_one_batch_each_get_a_result() -> None:
    """A model that repeats a call id: every call still gets its own result, in order."""
    runs: list[tuple[str, dict[str, Any]]] = []
    box = _box(runs)
    calls = [
        tw.ToolCall(id="same", name="record", arguments=json.dumps({"note": str(i)}))
        for i in range(5)
    ]
    results = await box.run(calls)
    assert len(results) == 5
    assert all(r.call_id == "same" for r in results)
    assert sum(r.ok for r in results) == len(runs)
