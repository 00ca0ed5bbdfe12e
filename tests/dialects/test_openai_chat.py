"""OpenAI Chat Completions: complete responses and follow-up messages."""

from __future__ import annotations

import json

import pytest

from toolwire import _json
from toolwire._calls import Parsed, ToolCall, ToolResult
from toolwire._errors import ToolError
from toolwire.dialects.openai import (
    assistant_message,
    followup_messages,
    parse_response,
    tool_message,
)

TOOL_CALLS_RESPONSE = {
    "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
    "object": "chat.completion",
    "created": 1741570283,
    "model": "gpt-4o-2024-08-06",
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_12345xyz",
                        "type": "function",
                        "function": {
                            "name": "get_weather",
                            "arguments": '{"location":"北京"}',
                        },
                    },
                    {
                        "id": "call_67890abc",
                        "type": "function",
                        "function": {
                            "name": "get_weather",
                            "arguments": '{"location": "Paris, France", "unit": "celsius"}',
                        },
                    },
                ],
                "refusal": None,
                "annotations": [],
            },
            "logprobs": None,
            "finish_reason": "tool_calls",
        }
    ],
    "usage": {"prompt_tokens": 82, "completion_tokens": 37, "total_tokens": 119},
    "service_tier": "default",
    "system_fingerprint": "fp_fc9f1d7035",
}

# The seed: openai.ChatCompletion.create(..., functions=functions)
LEGACY_RESPONSE = {
    "id": "chatcmpl-7Qyqp",
    "object": "chat.completion",
    "model": "gpt-4-0613",
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": None,
                "function_call": {
                    "name": "get_weather",
                    "arguments": '{\n  "location": "北京"\n}',
                },
            },
            "finish_reason": "function_call",
        }
    ],
    "usage": {"prompt_tokens": 60, "completion_tokens": 16, "total_tokens": 76},
}


def test_tool_calls_response() -> None:
    parsed = parse_response(TOOL_CALLS_RESPONSE)
    assert parsed.content == ""
    assert parsed.errors == ()
    assert parsed.calls == (
        ToolCall(id="call_12345xyz", name="get_weather", arguments='{"location":"北京"}'),
        ToolCall(
            id="call_67890abc",
            name="get_weather",
            arguments='{"location": "Paris, France", "unit": "celsius"}',
        ),
    )
    assert parsed.metadata["finish_reason"] == "tool_calls"
    assert parsed.metadata["usage"]["total_tokens"] == 119
    assert parsed.metadata["model"] == "gpt-4o-2024-08-06"


def test_legacy_function_call_response() -> None:
    parsed = parse_response(LEGACY_RESPONSE)
    assert len(parsed.calls) == 1
    call = parsed.calls[0]
    assert call.name == "get_weather"
    assert call.arguments == '{\n  "location": "北京"\n}'  # exactly as the model wrote it
    assert call.parsed_arguments() == {"location": "北京"}
    assert call.id  # a stable id is given so the result can refer to it
    assert parsed.metadata["finish_reason"] == "function_call"


def test_content_reasoning_and_plain_answer() -> None:
    response = {
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "北京今天 25°C。",
                    "reasoning_content": "The user asks about Beijing.",
                },
                "finish_reason": "stop",
            }
        ]
    }
    parsed = parse_response(response)
    assert parsed == Parsed(
        content="北京今天 25°C。",
        reasoning="The user asks about Beijing.",
        metadata={"finish_reason": "stop"},
    )


def test_bare_message_and_content_parts() -> None:
    parsed = parse_response(
        {
            "role": "assistant",
            "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}],
            "tool_calls": [{"id": "c1", "function": {"name": "f", "arguments": {"x": 1}}}],
        }
    )
    assert parsed.content == "ab"
    assert parsed.calls == (ToolCall(id="c1", name="f", arguments='{"x":1}'),)


def test_empty_and_missing_arguments_become_empty_object() -> None:
    parsed = parse_response(
        {
            "role": "assistant",
            "tool_calls": [
                {"id": "a", "function": {"name": "f", "arguments": ""}},
                {"id": "b", "function": {"name": "g"}},
            ],
        }
    )
    assert [c.arguments for c in parsed.calls] == ["{}", "{}"]


def test_malformed_arguments_are_repaired_and_flagged() -> None:
    parsed = parse_response(
        {
            "role": "assistant",
            "tool_calls": [
                {"id": "a", "function": {"name": "f", "arguments": "{'city': 'Paris', 'n': True,}"}}
            ],
        }
    )
    (call,) = parsed.calls
    assert call.repaired
    assert call.parsed_arguments() == {"city": "Paris", "n": True}


def test_double_encoded_arguments_are_unwrapped() -> None:
    text = json.dumps(json.dumps({"a": 1}))
    parsed = parse_response(
        {
            "role": "assistant",
            "tool_calls": [{"id": "a", "function": {"name": "f", "arguments": text}}],
        }
    )
    assert parsed.calls[0].parsed_arguments() == {"a": 1}
    assert parsed.calls[0].repaired


def test_unrepairable_arguments_are_errors_with_raw_text() -> None:
    parsed = parse_response(
        {
            "role": "assistant",
            "tool_calls": [
                {"id": "a", "function": {"name": "f", "arguments": "I cannot do that"}},
                {"id": "b", "function": {"arguments": "{}"}},
                {"id": "c", "function": {"name": "g", "arguments": "{}"}},
            ],
        }
    )
    assert [c.id for c in parsed.calls] == ["c"]
    assert len(parsed.errors) == 2
    assert parsed.errors[0].raw == "I cannot do that"
    assert parsed.errors[0].name == "f"
    assert "name" in parsed.errors[1].message


@pytest.mark.parametrize(
    "garbage",
    [
        None,
        1,
        "x",
        [],
        {"choices": None},
        {"choices": [None, 3]},
        {"choices": [{"message": 5}]},
        {"choices": [{"message": {"tool_calls": "nope"}}]},
        {"choices": [{"message": {"tool_calls": [None, {"function": None}]}}]},
    ],
)
def test_garbage_never_raises(garbage: object) -> None:
    parsed = parse_response(garbage)
    assert parsed.calls == ()


# --- follow-up messages -----------------------------------------------------------------

OK = ToolResult(call_id="call_12345xyz", name="get_weather", ok=True, value={"temp": 25})
FAILED = ToolResult(
    call_id="call_67890abc",
    name="get_weather",
    ok=False,
    error=ToolError(kind="timeout", message="the weather service did not answer in 5 s"),
)


def test_followup_tool_role() -> None:
    parsed = parse_response(TOOL_CALLS_RESPONSE)
    messages = followup_messages(parsed, [FAILED, OK])  # results in any order
    assert messages[0] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_12345xyz",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"location":"北京"}'},
            },
            {
                "id": "call_67890abc",
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "arguments": '{"location": "Paris, France", "unit": "celsius"}',
                },
            },
        ],
    }
    assert messages[1] == {
        "role": "tool",
        "tool_call_id": "call_12345xyz",
        "content": '{"temp":25}',
    }
    assert messages[2]["tool_call_id"] == "call_67890abc"
    assert _json.loads(messages[2]["content"])["error"]["kind"] == "timeout"


def test_followup_legacy_function_role_as_in_the_seed() -> None:
    parsed = parse_response(LEGACY_RESPONSE)
    result = ToolResult(
        call_id=parsed.calls[0].id, name="get_weather", ok=True, value={"temp": 25, "humidity": 60}
    )
    messages = followup_messages(parsed, [result], legacy=True)
    assert messages == [
        {
            "role": "assistant",
            "content": None,
            "function_call": {"name": "get_weather", "arguments": '{\n  "location": "北京"\n}'},
        },
        {"role": "function", "name": "get_weather", "content": '{"temp":25,"humidity":60}'},
    ]


def test_single_message_builders() -> None:
    assert tool_message(OK, legacy=True)["role"] == "function"
    assert tool_message(OK)["tool_call_id"] == "call_12345xyz"
    call = ToolCall(id="x", name="f", arguments="{}")
    assert assistant_message([call], content="hi")["content"] == "hi"
    with pytest.raises(ValueError, match="exactly one"):
        assistant_message([call, call], legacy=True)


def test_followup_requires_one_result_per_call() -> None:
    parsed = parse_response(TOOL_CALLS_RESPONSE)
    with pytest.raises(ValueError, match="call_67890abc"):
        followup_messages(parsed, [OK])
    with pytest.raises(ValueError, match="two results"):
        followup_messages(parsed, [OK, OK, FAILED])
    stray = ToolResult(call_id="zzz", name="f", ok=True, value=1)
    with pytest.raises(ValueError, match="zzz"):
        followup_messages(parsed, [OK, FAILED, stray])
