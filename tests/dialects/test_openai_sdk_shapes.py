"""The assembler and parser read what the real ``openai`` SDK models dump (all fields set)."""

from __future__ import annotations

import pytest
from dialects_check import run
from pydantic import TypeAdapter

from toolwire._calls import ToolCall, ToolResult
from toolwire.dialects.openai import ChunkAssembler, followup_messages, parse_response

chat = pytest.importorskip("openai.types.chat")


def test_sdk_chunks_with_none_fields() -> None:
    Chunk = chat.ChatCompletionChunk
    raw = [
        {"choices": [{"index": 0, "delta": {"role": "assistant", "content": None}}]},
        {
            "choices": [
                {
                    "index": 0,
                    "delta": {
                        "tool_calls": [
                            {
                                "index": 0,
                                "id": "call_a",
                                "type": "function",
                                "function": {"name": "get_weather", "arguments": ""},
                            }
                        ]
                    },
                }
            ]
        },
        {
            "choices": [
                {
                    "index": 0,
                    "delta": {
                        "tool_calls": [{"index": 0, "function": {"arguments": '{"location": "北'}}]
                    },
                }
            ]
        },
        {
            "choices": [
                {
                    "index": 0,
                    "delta": {"tool_calls": [{"index": 0, "function": {"arguments": '京"}'}}]},
                }
            ]
        },
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
        {"choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}},
    ]
    dumped = [
        Chunk.model_validate(
            {"id": "x", "object": "chat.completion.chunk", "created": 1, "model": "m", **c}
        ).model_dump()
        for c in raw
    ]
    # The SDK fills every field: ids, names and arguments are None where not sent.
    assert dumped[2]["choices"][0]["delta"]["tool_calls"][0]["id"] is None
    _, parsed = run(ChunkAssembler(), dumped)
    assert parsed.calls == (
        ToolCall(id="call_a", name="get_weather", arguments='{"location": "北京"}'),
    )
    assert parsed.metadata["usage"]["total_tokens"] == 3


def test_sdk_completion_and_followup_round_trip() -> None:
    completion = chat.ChatCompletion.model_validate(
        {
            "id": "x",
            "object": "chat.completion",
            "created": 1,
            "model": "m",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "tool_calls",
                    "message": {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [
                            {
                                "id": "call_a",
                                "type": "function",
                                "function": {"name": "f", "arguments": "{}"},
                            }
                        ],
                    },
                }
            ],
        }
    )
    parsed = parse_response(completion.model_dump())
    assert parsed.calls == (ToolCall(id="call_a", name="f", arguments="{}"),)
    messages = followup_messages(
        parsed, [ToolResult(call_id="call_a", name="f", ok=True, value="done")]
    )
    # The SDK's request param types accept what we build.
    adapter = TypeAdapter(chat.ChatCompletionMessageParam)
    for message in messages:
        adapter.validate_python(message)
