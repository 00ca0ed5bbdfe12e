"""OpenAI chat chunk streams: every quirk real servers produce, as hand-written sequences."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from dialects_check import run
from hypothesis import given, settings
from hypothesis import strategies as st

from toolwire._calls import (
    ArgumentsDelta,
    CallFailed,
    CallFinished,
    CallStarted,
    ContentDelta,
    ReasoningDelta,
    ToolCall,
)
from toolwire.dialects.openai import ChunkAssembler


def chunk(delta: dict[str, Any] | None = None, finish: str | None = None, **extra: Any) -> dict:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": delta or {}, "logprobs": None, "finish_reason": finish}],
        **extra,
    }


def tc(
    index: int | None = 0, id: str | None = None, name: str | None = None, args: str | None = None
) -> dict:
    out: dict[str, Any] = {}
    if index is not None:
        out["index"] = index
    if id is not None:
        out["id"] = id
        out["type"] = "function"
    function: dict[str, Any] = {}
    if name is not None:
        function["name"] = name
    if args is not None:
        function["arguments"] = args
    out["function"] = function
    return out


def calls_chunk(*items: dict, finish: str | None = None) -> dict:
    return chunk({"tool_calls": list(items)}, finish)


def openai_style(calls: list[tuple[str, str, str]], pieces: int = 3) -> list[dict]:
    """How api.openai.com streams: role chunk, id+name with empty args, args pieces."""
    chunks = [chunk({"role": "assistant", "content": None})]
    for i, (cid, name, args) in enumerate(calls):
        chunks.append(calls_chunk(tc(i, cid, name, "")))
        step = max(1, len(args) // pieces)
        for at in range(0, len(args), step):
            chunks.append(calls_chunk(tc(i, args=args[at : at + step])))
    chunks.append(chunk({}, "tool_calls"))
    chunks.append(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion.chunk",
            "choices": [],
            "usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12},
        }
    )
    return chunks


def test_openai_parallel_calls() -> None:
    events, parsed = run(
        ChunkAssembler(),
        openai_style(
            [
                ("call_a", "get_weather", '{"location": "北京"}'),
                ("call_b", "get_time", '{"tz": "Asia/Shanghai"}'),
            ]
        ),
    )
    assert parsed.calls == (
        ToolCall(id="call_a", name="get_weather", arguments='{"location": "北京"}'),
        ToolCall(id="call_b", name="get_time", arguments='{"tz": "Asia/Shanghai"}'),
    )
    assert parsed.metadata["finish_reason"] == "tool_calls"
    assert parsed.metadata["usage"]["total_tokens"] == 12
    started = [e for e in events if isinstance(e, CallStarted)]
    assert [(e.index, e.id, e.name) for e in started] == [
        (0, "call_a", "get_weather"),
        (1, "call_b", "get_time"),
    ]
    assert all(isinstance(e, CallFinished) for e in events[-2:])


def test_every_call_says_index_zero_with_different_ids() -> None:
    chunks = [
        calls_chunk(tc(0, "call_1", "f", "")),
        calls_chunk(tc(0, args='{"a": ')),
        calls_chunk(tc(0, args="1}")),
        calls_chunk(tc(0, "call_2", "f", "")),
        calls_chunk(tc(0, args='{"a": 2}')),
        calls_chunk(tc(0, "call_3", "g", '{"b": 3}')),
        chunk({}, "tool_calls"),
    ]
    _, parsed = run(ChunkAssembler(), chunks)
    assert [(c.id, c.name, c.arguments) for c in parsed.calls] == [
        ("call_1", "f", '{"a": 1}'),
        ("call_2", "f", '{"a": 2}'),
        ("call_3", "g", '{"b": 3}'),
    ]


def test_index_zero_no_ids_new_name_or_complete_arguments_start_a_new_call() -> None:
    chunks = [
        calls_chunk(tc(0, name="f", args='{"a": 1}')),
        calls_chunk(tc(0, name="f", args='{"a": 2}')),
        calls_chunk(tc(0, name="g", args="{}")),
        chunk({}, "tool_calls"),
    ]
    _, parsed = run(ChunkAssembler(), chunks)
    assert [(c.name, c.arguments) for c in parsed.calls] == [
        ("f", '{"a": 1}'),
        ("f", '{"a": 2}'),
        ("g", "{}"),
    ]
    assert len({c.id for c in parsed.calls}) == 3


def test_name_repeated_on_every_delta_is_one_call() -> None:
    chunks = [
        calls_chunk(tc(0, "c1", "f", '{"text": "{[')),
        calls_chunk(tc(0, "c1", "f", 'x\\"}"')),
        calls_chunk(tc(0, None, "f", ', "n": 1}')),
        chunk({}, "tool_calls"),
    ]
    _, parsed = run(ChunkAssembler(), chunks)
    assert parsed.calls == (ToolCall(id="c1", name="f", arguments='{"text": "{[x\\"}", "n": 1}'),)


def test_missing_index() -> None:
    chunks = [
        calls_chunk(tc(None, "c1", "f", "")),
        calls_chunk(tc(None, args='{"x": ')),
        calls_chunk(tc(None, args="[1, 2]}")),
        calls_chunk(tc(None, "c2", "g", "")),
        calls_chunk(tc(None, args="{}")),
        chunk({}, "tool_calls"),
    ]
    _, parsed = run(ChunkAssembler(), chunks)
    assert [(c.id, c.name, c.arguments) for c in parsed.calls] == [
        ("c1", "f", '{"x": [1, 2]}'),
        ("c2", "g", "{}"),
    ]


def test_missing_index_and_ids() -> None:
    chunks = [
        calls_chunk(tc(None, name="f", args='{"x": 1}'), tc(None, name="f", args='{"x": 2}')),
        chunk({}, "tool_calls"),
    ]
    _, parsed = run(ChunkAssembler(), chunks)
    assert [c.arguments for c in parsed.calls] == ['{"x": 1}', '{"x": 2}']


def test_id_minted_per_delta_stays_one_call() -> None:
    chunks = [
        calls_chunk(tc(0, "c1", "f", '{"a": ')),
        calls_chunk(tc(0, "c-other", None, '"b"}')),
        chunk({}, "tool_calls"),
    ]
    _, parsed = run(ChunkAssembler(), chunks)
    assert parsed.calls == (ToolCall(id="c1", name="f", arguments='{"a": "b"}'),)


def test_whole_call_in_one_chunk_and_two_calls_in_one_chunk() -> None:
    chunks = [
        chunk({"role": "assistant", "content": "Checking."}),
        calls_chunk(tc(0, "c1", "f", '{"q": 1}'), tc(1, "c2", "g", '{"q": 2}')),
        calls_chunk(tc(2, "c3", "h", "{}"), finish="tool_calls"),
    ]
    _events, parsed = run(ChunkAssembler(), chunks)
    assert parsed.content == "Checking."
    assert [c.id for c in parsed.calls] == ["c1", "c2", "c3"]
    assert [c.arguments for c in parsed.calls] == ['{"q": 1}', '{"q": 2}', "{}"]


def test_arguments_as_object_from_lenient_servers() -> None:
    chunks = [
        calls_chunk(tc(0, "c1", "f", None) | {"function": {"name": "f", "arguments": {"a": [1]}}}),
        chunk({}, "tool_calls"),
    ]
    _, parsed = run(ChunkAssembler(), chunks)
    assert parsed.calls[0].parsed_arguments() == {"a": [1]}


def test_parameterless_call_emits_empty_object() -> None:
    events, parsed = run(
        ChunkAssembler(), [calls_chunk(tc(0, "c1", "now", "")), chunk({}, "tool_calls")]
    )
    assert parsed.calls == (ToolCall(id="c1", name="now", arguments="{}"),)
    assert ArgumentsDelta(index=0, text="{}") in events


def test_usage_only_empty_choices_done_and_garbage_chunks() -> None:
    garbage: list[Any] = [
        None,
        "[DONE]",
        42,
        [],
        {},
        {"choices": None},
        {"choices": [None]},
        {"choices": [{"delta": None}]},
        {"choices": [{"delta": {"tool_calls": "x"}}]},
        {"choices": [{"delta": {"tool_calls": [None, 5, {"function": 7}]}}]},
        {"choices": [{"delta": {"content": 5, "reasoning_content": []}}]},
        {"choices": [{"delta": {"tool_calls": [{"index": "zero", "function": {"name": 3}}]}}]},
        {"choices": [], "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}},
    ]
    chunks = [*garbage, *openai_style([("c1", "f", '{"a": 1}')])[:-1], *garbage]
    asm = ChunkAssembler()
    _, parsed = run(asm, chunks)
    assert [c.id for c in parsed.calls] == ["c1"]
    assert parsed.metadata["usage"]["total_tokens"] == 3


def test_stream_cut_before_finish_reason() -> None:
    chunks = [
        calls_chunk(tc(0, "c1", "f", '{"a": 1}')),
        calls_chunk(tc(1, "c2", "g", '{"path": "/tmp/fi')),
    ]
    events, parsed = run(ChunkAssembler(), chunks)
    assert parsed.calls == (ToolCall(id="c1", name="f", arguments='{"a": 1}'),)
    (error,) = parsed.errors
    assert error.raw == '{"path": "/tmp/fi'
    assert error.name == "g"
    assert "cut off" in error.message
    assert parsed.metadata["truncated"] is True
    assert isinstance(events[-1], CallFailed)


def test_finish_reason_length_does_not_repair() -> None:
    chunks = [calls_chunk(tc(0, "c1", "f", '{"a": "x')), chunk({}, "length")]
    _, parsed = run(ChunkAssembler(), chunks)
    assert parsed.calls == ()
    assert "finish_reason=length" in parsed.errors[0].message


def test_malformed_arguments_repaired_after_finish() -> None:
    chunks = [
        calls_chunk(tc(0, "c1", "f", "{'a': True,")),
        calls_chunk(tc(0, args="}")),
        chunk({}, "tool_calls"),
    ]
    _, parsed = run(ChunkAssembler(), chunks)
    assert parsed.calls[0].repaired
    assert parsed.calls[0].parsed_arguments() == {"a": True}


def test_call_without_name_fails_with_its_text() -> None:
    _, parsed = run(
        ChunkAssembler(), [calls_chunk(tc(0, "c1", None, '{"a": 1}')), chunk({}, "tool_calls")]
    )
    assert parsed.calls == ()
    assert parsed.errors[0].raw == '{"a": 1}'


def test_legacy_function_call_deltas() -> None:
    chunks = [
        chunk(
            {
                "role": "assistant",
                "content": None,
                "function_call": {"name": "get_weather", "arguments": ""},
            }
        ),
        chunk({"function_call": {"arguments": '{\n"location'}}),
        chunk({"function_call": {"arguments": '": "北京"\n}'}}),
        chunk({}, "function_call"),
    ]
    _, parsed = run(ChunkAssembler(), chunks)
    (call,) = parsed.calls
    assert call.name == "get_weather"
    assert call.parsed_arguments() == {"location": "北京"}
    assert parsed.metadata["finish_reason"] == "function_call"


def test_reasoning_and_content_deltas() -> None:
    chunks = [
        chunk({"role": "assistant", "reasoning_content": "Think"}),
        chunk({"reasoning_content": "ing."}),
        chunk({"reasoning": " More."}),
        chunk({"content": "Hel"}),
        chunk({"content": "lo"}),
        chunk({}, "stop"),
    ]
    events, parsed = run(ChunkAssembler(), chunks)
    assert parsed.reasoning == "Thinking. More."
    assert parsed.content == "Hello"
    assert events[0] == ReasoningDelta(text="Think")
    assert ContentDelta(text="lo") in events


def test_name_arrives_after_arguments_holds_them() -> None:
    chunks = [
        calls_chunk(tc(0, "c1", None, '{"a"')),
        calls_chunk(tc(0, None, "f", ": 1}")),
        chunk({}, "tool_calls"),
    ]
    events, parsed = run(ChunkAssembler(), chunks)
    assert parsed.calls == (ToolCall(id="c1", name="f", arguments='{"a": 1}'),)
    assert next(e for e in events if isinstance(e, ArgumentsDelta)).text == '{"a"'


def test_other_choices_are_ignored_and_counted() -> None:
    second = {"choices": [{"index": 1, "delta": {"content": "other"}, "finish_reason": None}]}
    _, parsed = run(ChunkAssembler(), [chunk({"content": "one"}), second, chunk({}, "stop")])
    assert parsed.content == "one"
    assert parsed.metadata["ignored_choices"] == 1


def test_feed_after_close_and_result_closes() -> None:
    asm = ChunkAssembler()
    asm.feed(calls_chunk(tc(0, "c1", "f", "{}")))
    parsed = asm.result()
    assert [c.id for c in parsed.calls] == ["c1"]
    assert asm.feed(chunk({"content": "late"})) == []
    assert asm.close() == []


# --- split invariance -------------------------------------------------------------------

ARGS = json.dumps(
    {
        "text": 'quote " backslash \\ brace { } [ ]',
        "emoji": "😀 \ud83d\ude00",
        "cjk": "北京",
        "nested": {"a": [1, 2.5, None, True, {"b": []}]},
        "esc": "\\u00e9 \n\t",
    },
    ensure_ascii=True,
)


def split_at(text: str, cuts: list[int]) -> list[str]:
    points = sorted({0, *cuts, len(text)})
    return [text[a:b] for a, b in itertools.pairwise(points) if b > a]


def chunks_for(pieces: list[str]) -> list[dict]:
    out = [calls_chunk(tc(0, "c1", "f", ""))]
    out += [calls_chunk(tc(0, args=p)) for p in pieces]
    out.append(chunk({}, "tool_calls"))
    return out


def test_split_at_every_position() -> None:
    # ARGS holds \uXXXX escapes and surrogate pairs: cuts land inside them too.
    assert "\\ud83d\\ude00" in ARGS
    for cut in range(len(ARGS) + 1):
        _, parsed = run(ChunkAssembler(), chunks_for(split_at(ARGS, [cut])))
        assert parsed.calls == (ToolCall(id="c1", name="f", arguments=ARGS),), cut


@settings(max_examples=150, deadline=None)
@given(
    cuts=st.lists(st.integers(min_value=0, max_value=len(ARGS)), max_size=40),
    missing_index=st.booleans(),
)
def test_random_splits_same_result(cuts: list[int], missing_index: bool) -> None:
    pieces = split_at(ARGS, cuts)
    chunks = chunks_for(pieces)
    if missing_index:
        for c in chunks:
            for item in c["choices"][0]["delta"].get("tool_calls", []):
                item.pop("index", None)
    _events, parsed = run(ChunkAssembler(), chunks)
    assert parsed.calls == (ToolCall(id="c1", name="f", arguments=ARGS),)
    assert parsed.calls[0].parsed_arguments() == json.loads(ARGS)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(max_size=5),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(st.text(max_size=3), inner, max_size=3)
            ),
            max_leaves=6,
        ),
        max_size=8,
    )
)
def test_arbitrary_chunks_never_raise(chunks: list[Any]) -> None:
    asm = ChunkAssembler()
    for c in chunks:
        asm.feed(c)
        asm.feed({"choices": [{"delta": {"tool_calls": [c]}}]})
        asm.feed({"choices": [{"delta": c}]})
    asm.close()
    asm.result()


@pytest.mark.parametrize("n", [1, 4])
def test_many_calls_keep_order(n: int) -> None:
    calls = [(f"c{i}", f"tool_{i}", json.dumps({"i": i})) for i in range(n * 5)]
    _, parsed = run(ChunkAssembler(), openai_style(calls, pieces=2))
    assert [(c.id, c.name, c.arguments) for c in parsed.calls] == calls
