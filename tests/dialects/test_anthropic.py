"""Anthropic Messages: complete responses, follow-ups and stream event sequences."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from dialects_check import run
from hypothesis import given, settings
from hypothesis import strategies as st

from toolwire import _json
from toolwire._calls import ArgumentsDelta, CallStarted, ToolCall, ToolResult
from toolwire._errors import ToolError
from toolwire.dialects.anthropic import (
    EventAssembler,
    assistant_message,
    followup_messages,
    parse_response,
    tool_result_block,
)

MESSAGE = {
    "id": "msg_01Aq9w938a90dw8q",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-4-5",
    "content": [
        {"type": "thinking", "thinking": "Need the weather.", "signature": "EqQBCgIYAhIM1gbcDa9G"},
        {"type": "text", "text": "I'll check the weather in 北京."},
        {
            "type": "tool_use",
            "id": "toolu_01A09q90qw90lq917835lq9",
            "name": "get_weather",
            "input": {"location": "北京", "unit": "celsius"},
        },
        {"type": "tool_use", "id": "toolu_02", "name": "get_time", "input": {}},
    ],
    "stop_reason": "tool_use",
    "stop_sequence": None,
    "usage": {"input_tokens": 472, "output_tokens": 91},
}


def test_message_with_tool_use_blocks() -> None:
    parsed = parse_response(MESSAGE)
    assert parsed.content == "I'll check the weather in 北京."
    assert parsed.reasoning == "Need the weather."
    assert parsed.calls == (
        ToolCall(
            id="toolu_01A09q90qw90lq917835lq9",
            name="get_weather",
            arguments='{"location":"北京","unit":"celsius"}',
        ),
        ToolCall(id="toolu_02", name="get_time", arguments="{}"),
    )
    assert parsed.metadata["finish_reason"] == "tool_use"
    assert parsed.metadata["usage"] == {"input_tokens": 472, "output_tokens": 91}


@pytest.mark.parametrize(
    "garbage",
    [
        None,
        "x",
        {"content": "x"},
        {"content": [None, 1, {"type": "tool_use"}]},
        {"content": [{"type": "tool_use", "name": "f", "input": "{'a': 1,"}]},
    ],
)
def test_garbage_never_raises(garbage: Any) -> None:
    parse_response(garbage)


def test_nameless_tool_use_is_an_error_not_dropped() -> None:
    parsed = parse_response({"content": [{"type": "tool_use", "id": "t", "input": {"a": 1}}]})
    assert parsed.calls == ()
    assert parsed.errors[0].raw == '{"a":1}'


# --- follow-ups -------------------------------------------------------------------------


def test_followup_echoes_original_blocks_and_marks_errors() -> None:
    parsed = parse_response(MESSAGE)
    ok = ToolResult(
        call_id="toolu_01A09q90qw90lq917835lq9", name="get_weather", ok=True, value={"temp": 25}
    )
    failed = ToolResult(
        call_id="toolu_02",
        name="get_time",
        ok=False,
        error=ToolError(kind="execution_error", message="clock unavailable"),
    )
    assistant, user = followup_messages(parsed, [failed, ok])
    assert assistant == {"role": "assistant", "content": MESSAGE["content"]}
    assert user["role"] == "user"
    assert user["content"][0] == {
        "type": "tool_result",
        "tool_use_id": "toolu_01A09q90qw90lq917835lq9",
        "content": '{"temp":25}',
    }
    assert user["content"][1]["is_error"] is True
    assert _json.loads(user["content"][1]["content"])["error"]["message"] == "clock unavailable"


def test_assistant_message_rebuilt_from_calls() -> None:
    call = ToolCall(id="t1", name="f", arguments='{"a": [1]}')
    assert assistant_message([call], content="ok") == {
        "role": "assistant",
        "content": [
            {"type": "text", "text": "ok"},
            {"type": "tool_use", "id": "t1", "name": "f", "input": {"a": [1]}},
        ],
    }
    result = ToolResult(call_id="t1", name="f", ok=True, value="done")
    assert tool_result_block(result) == {
        "type": "tool_result",
        "tool_use_id": "t1",
        "content": "done",
    }
    with pytest.raises(ValueError, match="t1"):
        followup_messages([call], [])


# --- streams ----------------------------------------------------------------------------


def stream(
    blocks: list[list[dict[str, Any]]], stop_reason: str = "tool_use", end: bool = True
) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = [
        {
            "type": "message_start",
            "message": {
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "model": "claude",
                "content": [],
                "stop_reason": None,
                "usage": {"input_tokens": 10, "output_tokens": 1},
            },
        },
        {"type": "ping"},
    ]
    for index, block in enumerate(blocks):
        start, *deltas = block
        events.append({"type": "content_block_start", "index": index, "content_block": start})
        events += [{"type": "content_block_delta", "index": index, "delta": d} for d in deltas]
        events.append({"type": "content_block_stop", "index": index})
    if end:
        events.append(
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                "usage": {"output_tokens": 42},
            }
        )
        events.append({"type": "message_stop"})
    return events


def text_block(*pieces: str) -> list[dict[str, Any]]:
    return [{"type": "text", "text": ""}, *({"type": "text_delta", "text": p} for p in pieces)]


def tool_block(id: str, name: str, *pieces: str) -> list[dict[str, Any]]:
    return [
        {"type": "tool_use", "id": id, "name": name, "input": {}},
        *({"type": "input_json_delta", "partial_json": p} for p in pieces),
    ]


def test_stream_thinking_text_and_two_tools() -> None:
    events = stream(
        [
            [
                {"type": "thinking", "thinking": ""},
                {"type": "thinking_delta", "thinking": "Let me "},
                {"type": "thinking_delta", "thinking": "check."},
                {"type": "signature_delta", "signature": "EqQBCg"},
            ],
            text_block("Okay, ", "checking."),
            tool_block("toolu_1", "get_weather", "", '{"location": ', '"北京"}'),
            tool_block("toolu_2", "get_time"),
        ]
    )
    evs, parsed = run(EventAssembler(), events)
    assert parsed.reasoning == "Let me check."
    assert parsed.content == "Okay, checking."
    assert parsed.calls == (
        ToolCall(id="toolu_1", name="get_weather", arguments='{"location": "北京"}'),
        ToolCall(id="toolu_2", name="get_time", arguments="{}"),
    )
    assert parsed.metadata["finish_reason"] == "tool_use"
    assert parsed.metadata["usage"] == {"input_tokens": 10, "output_tokens": 42}
    assert [e.id for e in evs if isinstance(e, CallStarted)] == ["toolu_1", "toolu_2"]
    blocks = parsed.metadata["content_blocks"]
    assert blocks[0] == {"type": "thinking", "thinking": "Let me check.", "signature": "EqQBCg"}
    assert blocks[2] == {
        "type": "tool_use",
        "id": "toolu_1",
        "name": "get_weather",
        "input": {"location": "北京"},
    }
    # The follow-up echoes the rebuilt blocks, signature included.
    assistant, _ = followup_messages(
        parsed,
        [
            ToolResult(call_id="toolu_1", name="get_weather", ok=True, value=1),
            ToolResult(call_id="toolu_2", name="get_time", ok=True, value=2),
        ],
    )
    assert assistant["content"] == blocks


def test_whole_input_in_start_block_without_deltas() -> None:
    events = stream([[{"type": "tool_use", "id": "t", "name": "f", "input": {"a": 1}}]])
    evs, parsed = run(EventAssembler(), events)
    assert parsed.calls == (ToolCall(id="t", name="f", arguments='{"a":1}'),)
    assert ArgumentsDelta(index=0, text='{"a":1}') in evs


def test_cut_by_max_tokens_is_an_error_not_a_guess() -> None:
    events = stream(
        [tool_block("t", "write_file", '{"path": "/tmp/a", "body": "hel')], stop_reason="max_tokens"
    )
    _, parsed = run(EventAssembler(), events)
    assert parsed.calls == ()
    assert parsed.errors[0].raw == '{"path": "/tmp/a", "body": "hel'
    assert "max_tokens" in parsed.errors[0].message


def test_bad_json_with_normal_stop_is_repaired() -> None:
    events = stream([tool_block("t", "f", "{'a': 1,", "}")])
    _, parsed = run(EventAssembler(), events)
    assert parsed.calls[0].repaired
    assert parsed.calls[0].parsed_arguments() == {"a": 1}


def test_stream_cut_mid_block() -> None:
    events = stream([text_block("hi"), tool_block("t", "f", '{"a": 1')], end=False)[:-1]
    _, parsed = run(EventAssembler(), events)
    assert parsed.content == "hi"
    assert parsed.errors[0].raw == '{"a": 1'
    assert parsed.metadata["truncated"] is True


def test_complete_block_survives_missing_message_stop() -> None:
    events = stream([tool_block("t", "f", '{"a": 1}')], end=False)
    _, parsed = run(EventAssembler(), events)
    assert parsed.calls == (ToolCall(id="t", name="f", arguments='{"a": 1}'),)


def test_garbage_events_never_raise() -> None:
    garbage: list[Any] = [
        None,
        3,
        "x",
        {},
        {"type": "content_block_delta"},
        {"type": "content_block_start"},
        {"type": "content_block_start", "index": 9, "content_block": 5},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta"}},
        {"type": "content_block_stop", "index": "a"},
        {"type": "message_delta", "delta": 4},
        {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
        {"type": "unknown_future_event"},
    ]
    events = stream([tool_block("t", "f", '{"a": 1}')])
    _, parsed = run(EventAssembler(), garbage + events + garbage)
    assert [c.id for c in parsed.calls] == ["t"]
    assert parsed.metadata["error"]["type"] == "overloaded_error"


def test_orphan_text_delta_is_kept() -> None:
    _, parsed = run(
        EventAssembler(),
        [
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": "hi"},
            }
        ],
    )
    assert parsed.content == "hi"


def test_server_tool_blocks_are_echoed_not_called() -> None:
    events = stream(
        [
            [
                {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {}},
                {"type": "input_json_delta", "partial_json": '{"query": "x"}'},
            ],
            [{"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": []}],
        ],
        stop_reason="end_turn",
    )
    _, parsed = run(EventAssembler(), events)
    assert parsed.calls == ()
    assert parsed.metadata["content_blocks"][0]["input"] == {"query": "x"}
    assert parsed.metadata["content_blocks"][1]["type"] == "web_search_tool_result"


ARGS = json.dumps({"s": 'q " \\ { [ ', "u": "😀 北京", "n": [1, {"x": None}]}, ensure_ascii=True)


@settings(max_examples=100, deadline=None)
@given(cuts=st.lists(st.integers(min_value=0, max_value=len(ARGS)), max_size=30))
def test_split_invariance(cuts: list[int]) -> None:
    points = sorted({0, *cuts, len(ARGS)})
    pieces = [ARGS[a:b] for a, b in itertools.pairwise(points) if b > a]
    _, parsed = run(EventAssembler(), stream([tool_block("t", "f", *pieces)]))
    assert parsed.calls == (ToolCall(id="t", name="f", arguments=ARGS),)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.dictionaries(
            st.sampled_from(["type", "index", "delta", "content_block", "message", "usage"]),
            st.none()
            | st.integers(-1, 3)
            | st.text(max_size=4)
            | st.sampled_from(
                [
                    "content_block_start",
                    "content_block_delta",
                    "content_block_stop",
                    "message_delta",
                    "message_stop",
                ]
            )
            | st.fixed_dictionaries(
                {
                    "type": st.sampled_from(
                        ["text", "tool_use", "input_json_delta", "text_delta", "thinking_delta"]
                    )
                }
            ),
            max_size=4,
        ),
        max_size=12,
    )
)
def test_arbitrary_events_never_raise(events: list[Any]) -> None:
    asm = EventAssembler()
    for event in events:
        asm.feed(event)
    asm.close()
    asm.result()
