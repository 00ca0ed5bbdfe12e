"""Gemini: complete responses, functionResponse follow-ups and stream chunks."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from dialects_check import run
from hypothesis import given, settings
from hypothesis import strategies as st

from toolwire._calls import ToolCall, ToolResult
from toolwire._errors import ToolError
from toolwire.dialects.gemini import (
    ChunkAssembler,
    followup_contents,
    function_response_part,
    model_content,
    parse_response,
)

PARTS = [
    {"text": "The user wants the weather.", "thought": True},
    {"text": "Checking both cities."},
    {
        "functionCall": {"name": "get_weather", "args": {"location": "北京"}},
        "thoughtSignature": "CiQB0e2Kb",
    },
    {"functionCall": {"name": "get_weather", "args": {"location": "Paris"}, "id": "fc-2"}},
    {"functionCall": {"name": "now"}},
]
RESPONSE = {
    "candidates": [
        {"content": {"role": "model", "parts": PARTS}, "finishReason": "STOP", "index": 0}
    ],
    "usageMetadata": {"promptTokenCount": 40, "candidatesTokenCount": 20, "totalTokenCount": 60},
    "modelVersion": "gemini-2.5-flash",
    "responseId": "abc",
}


def test_response_with_function_calls() -> None:
    parsed = parse_response(RESPONSE)
    assert parsed.reasoning == "The user wants the weather."
    assert parsed.content == "Checking both cities."
    assert [(c.name, c.arguments) for c in parsed.calls] == [
        ("get_weather", '{"location":"北京"}'),
        ("get_weather", '{"location":"Paris"}'),
        ("now", "{}"),
    ]
    assert parsed.calls[1].id == "fc-2"
    assert len({c.id for c in parsed.calls}) == 3
    assert parsed.metadata["finish_reason"] == "STOP"
    assert parsed.metadata["usage"]["totalTokenCount"] == 60
    assert parsed.metadata["model"] == "gemini-2.5-flash"


def test_sdk_snake_case_dump() -> None:
    parsed = parse_response(
        {
            "candidates": [
                {
                    "content": {
                        "parts": [{"function_call": {"name": "f", "args": {"a": 1}, "id": "x"}}]
                    },
                    "finish_reason": "STOP",
                }
            ],
            "usage_metadata": {"total_token_count": 3},
        }
    )
    assert parsed.calls == (ToolCall(id="x", name="f", arguments='{"a":1}'),)
    assert parsed.metadata["finish_reason"] == "STOP"


@pytest.mark.parametrize(
    "garbage",
    [
        None,
        1,
        {"candidates": 3},
        {"candidates": [None]},
        {"candidates": [{"content": {"parts": [1, {}]}}]},
        {"candidates": [{"content": {"parts": [{"functionCall": {"args": {"a": 1}}}]}}]},
    ],
)
def test_garbage_never_raises(garbage: Any) -> None:
    parse_response(garbage)


def test_nameless_call_is_an_error() -> None:
    parsed = parse_response(
        {"candidates": [{"content": {"parts": [{"functionCall": {"args": {"a": 1}}}]}}]}
    )
    assert parsed.calls == ()
    assert parsed.errors[0].raw == '{"a":1}'


def test_followup_contents() -> None:
    parsed = parse_response(RESPONSE)
    c1, c2, c3 = parsed.calls
    results = [
        ToolResult(call_id=c2.id, name="get_weather", ok=True, value={"temp": 18}),
        ToolResult(call_id=c1.id, name="get_weather", ok=True, value=25),
        ToolResult(
            call_id=c3.id,
            name="now",
            ok=False,
            error=ToolError(kind="timeout", message="clock slow"),
        ),
    ]
    model, user = followup_contents(parsed, results)
    assert model == {"role": "model", "parts": PARTS}  # signatures echoed untouched
    assert user["role"] == "user"
    assert user["parts"] == [
        {"functionResponse": {"name": "get_weather", "response": {"result": 25}}},
        {"functionResponse": {"name": "get_weather", "response": {"temp": 18}, "id": "fc-2"}},
        {
            "functionResponse": {
                "name": "now",
                "response": {"error": {"kind": "timeout", "message": "clock slow"}},
            }
        },
    ]
    _, legacy = followup_contents(parsed, results, role="function")
    assert legacy["role"] == "function"
    assert function_response_part(results[0]) == user["parts"][1]


def test_model_content_rebuilt_from_calls() -> None:
    call = ToolCall(id="fc-9", name="f", arguments='{"a": [1]}')
    assert model_content([call]) == {
        "role": "model",
        "parts": [{"functionCall": {"name": "f", "args": {"a": [1]}, "id": "fc-9"}}],
    }


# --- streams ----------------------------------------------------------------------------


def chunk(*parts: dict[str, Any], finish: str | None = None, **extra: Any) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": list(parts)}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    return {"candidates": [candidate], "modelVersion": "gemini-2.5-flash", **extra}


def test_stream_text_thoughts_and_whole_calls() -> None:
    chunks = [
        chunk({"text": "The user wants ", "thought": True}),
        chunk({"text": "the weather.", "thought": True}),
        chunk({"text": "Checking "}),
        chunk({"text": "both cities."}),
        chunk(PARTS[2], PARTS[3]),  # two calls in one chunk
        chunk(PARTS[4], finish="STOP", usageMetadata={"totalTokenCount": 60}),
    ]
    _events, parsed = run(ChunkAssembler(), chunks)
    whole = parse_response(RESPONSE)
    assert parsed.calls == whole.calls
    assert parsed.content == whole.content
    assert parsed.reasoning == whole.reasoning
    assert parsed.metadata["finish_reason"] == "STOP"
    assert parsed.metadata["parts"] == PARTS  # text fragments merged, call parts kept whole


def test_stream_without_finish_reason_is_flagged() -> None:
    _, parsed = run(ChunkAssembler(), [chunk({"text": "hi"})])
    assert parsed.metadata["truncated"] is True
    assert parsed.content == "hi"


def test_garbage_chunks_never_raise() -> None:
    garbage: list[Any] = [
        None,
        "x",
        3,
        {},
        {"candidates": []},
        {"candidates": [{}]},
        {"candidates": [{"content": {"parts": [{"functionCall": 4}]}}]},
        {"candidates": [{"content": {"parts": [{"text": 5}]}}]},
    ]
    _, parsed = run(ChunkAssembler(), [*garbage, chunk(PARTS[3], finish="STOP"), *garbage])
    assert [c.id for c in parsed.calls] == ["fc-2"]


@settings(max_examples=100, deadline=None)
@given(st.text(min_size=1, max_size=40), st.lists(st.integers(0, 40), max_size=8))
def test_text_split_invariance(text: str, cuts: list[int]) -> None:
    points = sorted({0, *(c for c in cuts if c < len(text)), len(text)})
    pieces = [text[a:b] for a, b in itertools.pairwise(points) if b > a]
    _, parsed = run(ChunkAssembler(), [*(chunk({"text": p}) for p in pieces), chunk(finish="STOP")])
    assert parsed.content == text
    assert parsed.metadata["parts"] == [{"text": text}]
