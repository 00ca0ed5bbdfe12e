"""OpenAI Responses API: complete responses, follow-up items and stream event sequences."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from dialects_check import run
from hypothesis import given, settings
from hypothesis import strategies as st

from toolwire._calls import ArgumentsDelta, ToolCall, ToolResult
from toolwire._errors import ToolError
from toolwire.dialects.responses import (
    EventAssembler,
    followup_items,
    function_call_output,
    parse_response,
)

REASONING = {
    "type": "reasoning",
    "id": "rs_1",
    "summary": [{"type": "summary_text", "text": "Weather lookup needed."}],
}
MESSAGE = {
    "type": "message",
    "id": "msg_1",
    "status": "completed",
    "role": "assistant",
    "content": [{"type": "output_text", "text": "Let me check.", "annotations": []}],
}
CALL_1 = {
    "type": "function_call",
    "id": "fc_1",
    "call_id": "call_1",
    "name": "get_weather",
    "arguments": '{"location":"北京"}',
    "status": "completed",
}
CALL_2 = {
    "type": "function_call",
    "id": "fc_2",
    "call_id": "call_2",
    "name": "get_time",
    "arguments": "",
    "status": "completed",
}
RESPONSE = {
    "id": "resp_1",
    "object": "response",
    "created_at": 1741476777,
    "status": "completed",
    "model": "gpt-4.1",
    "output": [REASONING, MESSAGE, CALL_1, CALL_2],
    "usage": {"input_tokens": 291, "output_tokens": 23, "total_tokens": 314},
}


def test_response_with_function_calls() -> None:
    parsed = parse_response(RESPONSE)
    assert parsed.content == "Let me check."
    assert parsed.reasoning == "Weather lookup needed."
    assert parsed.calls == (
        ToolCall(id="call_1", name="get_weather", arguments='{"location":"北京"}'),
        ToolCall(id="call_2", name="get_time", arguments="{}"),
    )
    assert parsed.metadata["finish_reason"] == "completed"
    assert parsed.metadata["usage"]["total_tokens"] == 314


def test_incomplete_response_does_not_repair_cut_arguments() -> None:
    cut = {**CALL_1, "arguments": '{"location": "北', "status": "incomplete"}
    parsed = parse_response(
        {
            "status": "incomplete",
            "output": [cut],
            "incomplete_details": {"reason": "max_output_tokens"},
        }
    )
    assert parsed.calls == ()
    assert parsed.errors[0].raw == '{"location": "北'
    assert parsed.metadata["incomplete_details"] == {"reason": "max_output_tokens"}


@pytest.mark.parametrize(
    "garbage",
    [
        None,
        [],
        {"output": 3},
        {"output": [1, {"type": 5}]},
        {"output": [{"type": "function_call"}]},
    ],
)
def test_garbage_never_raises(garbage: Any) -> None:
    parse_response(garbage)


def test_followup_items() -> None:
    parsed = parse_response(RESPONSE)
    ok = ToolResult(call_id="call_1", name="get_weather", ok=True, value={"temp": 25})
    bad = ToolResult(
        call_id="call_2", name="get_time", ok=False, error=ToolError(kind="timeout", message="slow")
    )
    items = followup_items(parsed, [bad, ok])
    assert items[:4] == [REASONING, MESSAGE, CALL_1, CALL_2]  # echoed as returned
    assert items[4] == {
        "type": "function_call_output",
        "call_id": "call_1",
        "output": '{"temp":25}',
    }
    assert json.loads(items[5]["output"])["error"]["kind"] == "timeout"
    assert followup_items(parsed, [ok, bad], echo=False) == items[4:]
    plain = followup_items(list(parsed.calls), [ok, bad])
    assert plain[0] == {
        "type": "function_call",
        "call_id": "call_1",
        "name": "get_weather",
        "arguments": '{"location":"北京"}',
    }
    assert function_call_output(ok) == items[4]
    with pytest.raises(ValueError, match="call_2"):
        followup_items(parsed, [ok])


# --- streams ----------------------------------------------------------------------------


def call_events(index: int, item: dict[str, Any], pieces: list[str]) -> list[dict[str, Any]]:
    added = {**item, "arguments": "", "status": "in_progress"}
    events: list[dict[str, Any]] = [
        {"type": "response.output_item.added", "output_index": index, "item": added}
    ]
    events += [
        {
            "type": "response.function_call_arguments.delta",
            "item_id": item["id"],
            "output_index": index,
            "delta": p,
        }
        for p in pieces
    ]
    events.append(
        {
            "type": "response.function_call_arguments.done",
            "item_id": item["id"],
            "output_index": index,
            "arguments": "".join(pieces),
        }
    )
    events.append(
        {
            "type": "response.output_item.done",
            "output_index": index,
            "item": {**item, "arguments": "".join(pieces)},
        }
    )
    return events


def full_stream(response: dict[str, Any] = RESPONSE) -> list[dict[str, Any]]:
    created = {**response, "status": "in_progress", "output": []}
    return [
        {"type": "response.created", "response": created},
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {**REASONING, "summary": []},
        },
        {
            "type": "response.reasoning_summary_text.delta",
            "item_id": "rs_1",
            "output_index": 0,
            "summary_index": 0,
            "delta": "Weather lookup ",
        },
        {
            "type": "response.reasoning_summary_text.delta",
            "item_id": "rs_1",
            "output_index": 0,
            "summary_index": 0,
            "delta": "needed.",
        },
        {"type": "response.output_item.done", "output_index": 0, "item": REASONING},
        {
            "type": "response.output_item.added",
            "output_index": 1,
            "item": {**MESSAGE, "content": []},
        },
        {
            "type": "response.output_text.delta",
            "item_id": "msg_1",
            "output_index": 1,
            "content_index": 0,
            "delta": "Let me ",
        },
        {
            "type": "response.output_text.delta",
            "item_id": "msg_1",
            "output_index": 1,
            "content_index": 0,
            "delta": "check.",
        },
        {"type": "response.output_item.done", "output_index": 1, "item": MESSAGE},
        *call_events(2, CALL_1, ['{"loca', 'tion":"', '北京"}']),
        *call_events(3, CALL_2, []),
        {"type": "response.completed", "response": response},
    ]


def test_stream_matches_complete_response() -> None:
    events, parsed = run(EventAssembler(), full_stream())
    whole = parse_response(RESPONSE)
    assert parsed.calls == whole.calls
    assert parsed.content == whole.content
    assert parsed.reasoning == whole.reasoning
    assert parsed.metadata["output"] == RESPONSE["output"]
    assert parsed.metadata["usage"] == RESPONSE["usage"]
    assert parsed.metadata["finish_reason"] == "completed"
    assert ArgumentsDelta(index=1, text="{}") in events


def test_missed_deltas_are_recovered_from_done() -> None:
    events = [e for e in full_stream() if e["type"] != "response.function_call_arguments.delta"]
    _, parsed = run(EventAssembler(), events)
    assert parsed.calls == parse_response(RESPONSE).calls


def test_calls_only_in_completed_are_recovered() -> None:
    events = [e for e in full_stream() if e["type"] in ("response.created", "response.completed")]
    _, parsed = run(EventAssembler(), events)
    assert parsed.calls == parse_response(RESPONSE).calls


def test_deltas_without_added_item() -> None:
    events = [e for e in full_stream() if e["type"] != "response.output_item.added"]
    _, parsed = run(EventAssembler(), events)
    assert parsed.calls == parse_response(RESPONSE).calls


def test_stream_cut_mid_arguments() -> None:
    events = full_stream()[:12]  # through the second delta of call_1
    _, parsed = run(EventAssembler(), events)
    assert parsed.calls == ()
    assert parsed.errors[0].raw == '{"location":"'
    assert parsed.errors[0].name == "get_weather"
    assert parsed.metadata["truncated"] is True
    assert parsed.content == "Let me check."


def test_incomplete_status_fails_open_call() -> None:
    events = [
        *full_stream()[:12],
        {
            "type": "response.incomplete",
            "response": {**RESPONSE, "status": "incomplete", "output": []},
        },
    ]
    _, parsed = run(EventAssembler(), events)
    assert "status=incomplete" in parsed.errors[0].message


def test_garbage_events_never_raise() -> None:
    garbage: list[Any] = [
        None,
        5,
        "x",
        {},
        {"type": "response.output_item.added", "item": 3},
        {"type": "response.function_call_arguments.delta", "delta": 4},
        {"type": "response.function_call_arguments.done"},
        {"type": "response.completed", "response": []},
        {"type": "error", "code": "server_error", "message": "boom"},
        {"type": "response.future_event"},
    ]
    _, parsed = run(EventAssembler(), [*garbage[:-3], *full_stream(), *garbage])
    assert parsed.calls == parse_response(RESPONSE).calls
    assert parsed.metadata["error"]["code"] == "server_error"


ARGS = json.dumps({"s": 'q " \\ { [', "u": "😀 北京", "n": [1, {"x": None}]}, ensure_ascii=True)


@settings(max_examples=100, deadline=None)
@given(cuts=st.lists(st.integers(min_value=0, max_value=len(ARGS)), max_size=30))
def test_split_invariance(cuts: list[int]) -> None:
    points = sorted({0, *cuts, len(ARGS)})
    pieces = [ARGS[a:b] for a, b in itertools.pairwise(points) if b > a]
    item = {**CALL_1, "arguments": ARGS}
    response = {**RESPONSE, "output": [item]}
    events = [
        {"type": "response.created", "response": {**response, "output": []}},
        *call_events(0, item, pieces),
        {"type": "response.completed", "response": response},
    ]
    _, parsed = run(EventAssembler(), events)
    assert parsed.calls == (ToolCall(id="call_1", name="get_weather", arguments=ARGS),)
