"""Fuzz the four native stream assemblers with valid streams, then with broken ones.

A valid stream split anywhere must give back exactly the calls that were sent. A stream that
a flaky server or proxy mangles (chunks dropped, repeated, swapped, cut short, corrupted,
garbage injected) must still never raise and never lose a started call: each one ends exactly
once, as a call or as an error carrying its raw text.
"""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_helpers import examples
from stream_invariants import check_stream

from toolwire.dialects import anthropic, gemini, openai, responses

Call = tuple[str, str, dict[str, Any]]  # id, name, arguments

NAMES = st.from_regex(r"[a-zA-Z_][a-zA-Z0-9_.-]{0,20}", fullmatch=True)
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=16)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT
    | st.sampled_from(["{", "}", '"', "\\", "\\u12", "北京", "😀", "\n", "</tool_call>"])
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=10,
)
ARGS = st.dictionaries(TEXT, VALUES, max_size=4)
CALLS = st.lists(st.tuples(NAMES, ARGS), max_size=3).map(
    lambda cs: [(f"call_{i}", n, a) for i, (n, a) in enumerate(cs)]
)
GARBAGE = st.recursive(
    st.none() | st.booleans() | st.integers() | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=6,
)


def _pieces(text: str, cuts: list[int]) -> list[str]:
    bounds = sorted({0, len(text), *(c % (len(text) + 1) for c in cuts)})
    return [text[a:b] for a, b in itertools.pairwise(bounds)] or [""]


def _dump(args: dict[str, Any]) -> str:
    return json.dumps(args, ensure_ascii=False)


def openai_stream(content: str, calls: list[Call], cuts: list[int]) -> list[Any]:
    out: list[Any] = [{"choices": [{"index": 0, "delta": {"role": "assistant"}}]}]
    if content:
        out.append({"choices": [{"index": 0, "delta": {"content": content}}]})
    for i, (cid, name, args) in enumerate(calls):
        for j, piece in enumerate(_pieces(_dump(args), cuts)):
            fn: dict[str, Any] = {"arguments": piece}
            tc: dict[str, Any] = {"index": i, "function": fn}
            if j == 0:
                tc.update(id=cid, type="function")
                fn["name"] = name
            out.append({"choices": [{"index": 0, "delta": {"tool_calls": [tc]}}]})
    out.append({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]})
    return out


def anthropic_stream(content: str, calls: list[Call], cuts: list[int]) -> list[Any]:
    out: list[Any] = [{"type": "message_start", "message": {"id": "msg_1", "content": []}}]
    base = 0
    if content:
        out += [
            {"type": "content_block_start", "index": 0, "content_block": {"type": "text"}},
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": content},
            },
            {"type": "content_block_stop", "index": 0},
        ]
        base = 1
    for i, (cid, name, args) in enumerate(calls):
        k = base + i
        block = {"type": "tool_use", "id": cid, "name": name, "input": {}}
        out.append({"type": "content_block_start", "index": k, "content_block": block})
        for piece in _pieces(_dump(args), cuts):
            delta = {"type": "input_json_delta", "partial_json": piece}
            out.append({"type": "content_block_delta", "index": k, "delta": delta})
        out.append({"type": "content_block_stop", "index": k})
    out += [
        {"type": "message_delta", "delta": {"stop_reason": "tool_use"}},
        {"type": "message_stop"},
    ]
    return out


def responses_stream(content: str, calls: list[Call], cuts: list[int]) -> list[Any]:
    out: list[Any] = [{"type": "response.created", "response": {"id": "resp_1"}}]
    base = 0
    if content:
        out.append({"type": "response.output_text.delta", "output_index": 0, "delta": content})
        base = 1
    for i, (cid, name, args) in enumerate(calls):
        k, item_id, text = base + i, f"fc_{i}", _dump(args)
        item = {"type": "function_call", "id": item_id, "call_id": cid, "name": name}
        out.append(
            {
                "type": "response.output_item.added",
                "output_index": k,
                "item": {**item, "arguments": ""},
            }
        )
        for piece in _pieces(text, cuts):
            out.append(
                {
                    "type": "response.function_call_arguments.delta",
                    "item_id": item_id,
                    "output_index": k,
                    "delta": piece,
                }
            )
        out.append(
            {
                "type": "response.function_call_arguments.done",
                "item_id": item_id,
                "output_index": k,
                "arguments": text,
            }
        )
        done = {**item, "arguments": text, "status": "completed"}
        out.append({"type": "response.output_item.done", "output_index": k, "item": done})
    out.append({"type": "response.completed", "response": {"id": "resp_1"}})
    return out


def gemini_stream(content: str, calls: list[Call], cuts: list[int]) -> list[Any]:
    def chunk(parts: list[Any], finish: str | None = None) -> dict[str, Any]:
        cand: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
        if finish:
            cand["finishReason"] = finish
        return {"candidates": [cand]}

    out: list[Any] = []
    for piece in _pieces(content, cuts) if content else []:
        out.append(chunk([{"text": piece}]))
    for _cid, name, args in calls:
        out.append(chunk([{"functionCall": {"name": name, "args": args}}]))
    out.append(chunk([], "STOP"))
    return out


DIALECTS: dict[str, tuple[Callable[[], Any], Callable[..., list[Any]]]] = {
    "openai": (openai.ChunkAssembler, openai_stream),
    "anthropic": (anthropic.EventAssembler, anthropic_stream),
    "responses": (responses.EventAssembler, responses_stream),
    "gemini": (gemini.ChunkAssembler, gemini_stream),
}


# Gemini hands over ``functionCall.args`` as it came, even when it is not an object (found by
# this suite; validation then rejects it with invalid_arguments). The other three dialects
# turn non-object arguments into a parse error.
OBJECTS_ONLY = {"openai": True, "anthropic": True, "responses": True, "gemini": False}


def _run(make: Callable[[], Any], chunks: list[Any], *, objects: bool = True) -> Any:
    asm = make()
    events: list[Any] = []
    for chunk in chunks:
        events += asm.feed(chunk)
    events += asm.close()
    events += asm.close()  # closing twice is harmless
    events += asm.feed({"late": "chunk"})  # and so is a chunk after the end
    parsed = asm.result()
    check_stream(events, parsed, objects=objects)
    return parsed


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
@settings(
    max_examples=examples(120),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(content=TEXT, calls=CALLS, cuts=st.lists(st.integers(0, 10_000), max_size=6))
def test_valid_streams_give_back_every_call(
    dialect: str, content: str, calls: list[Call], cuts: list[int]
) -> None:
    make, render = DIALECTS[dialect]
    parsed = _run(make, render(content, calls, cuts))
    got = [(c.name, json.loads(c.arguments)) for c in parsed.calls]
    assert got == [(name, json.loads(_dump(args))) for _, name, args in calls]
    assert not parsed.errors
    if dialect != "gemini":  # Gemini calls carry no id on the wire
        assert [c.id for c in parsed.calls] == [cid for cid, _, _ in calls]


# ----------------------------------------------------------------------------- chaos

OPS = st.lists(
    st.tuples(
        st.sampled_from(["drop", "dup", "swap", "cut", "garbage", "corrupt", "retype"]),
        st.integers(0, 10_000),
        GARBAGE,
    ),
    min_size=1,
    max_size=5,
)


def _corrupt(chunk: Any, seed: int, junk: Any) -> Any:
    """Replace one nested value of a chunk (a string, an index, a whole object) with junk."""
    chunk = copy.deepcopy(chunk)
    nodes: list[tuple[Any, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                nodes.append((node, k))
                walk(v)
        elif isinstance(node, list):
            for k, v in enumerate(node):
                nodes.append((node, k))
                walk(v)

    walk(chunk)
    if not nodes:
        return junk
    parent, key = nodes[seed % len(nodes)]
    value = parent[key]
    if isinstance(value, str) and value and seed % 3:
        cut = seed % len(value)
        parent[key] = value[:cut] + str(junk)[:3] + value[cut + 1 :]
    else:
        parent[key] = junk
    return chunk


def _mangle(chunks: list[Any], ops: list[tuple[str, int, Any]]) -> list[Any]:
    out = list(chunks)
    for op, seed, junk in ops:
        if not out:
            break
        i = seed % len(out)
        if op == "drop":
            del out[i]
        elif op == "dup":
            out.insert(i, copy.deepcopy(out[i]))
        elif op == "swap" and i + 1 < len(out):
            out[i], out[i + 1] = out[i + 1], out[i]
        elif op == "cut":
            out = out[:i]
        elif op == "garbage":
            out.insert(i, junk)
        elif op == "corrupt":
            out[i] = _corrupt(out[i], seed, junk)
        elif op == "retype":  # the same chunk as the wrong dialect's shape
            other = list(DIALECTS.values())[seed % len(DIALECTS)][1]
            out[i : i + 1] = other("x", [("c9", "f", {"a": 1})], [seed])
    return out


@pytest.mark.slow
@pytest.mark.parametrize("dialect", sorted(DIALECTS))
@settings(
    max_examples=examples(150),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    content=TEXT,
    calls=CALLS,
    cuts=st.lists(st.integers(0, 10_000), max_size=4),
    ops=OPS,
)
def test_mangled_streams_never_raise_or_lose_a_call(
    dialect: str, content: str, calls: list[Call], cuts: list[int], ops: list[Any]
) -> None:
    make, render = DIALECTS[dialect]
    _run(make, _mangle(render(content, calls, cuts), ops), objects=OBJECTS_ONLY[dialect])


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
@settings(max_examples=examples(100), deadline=None)
@given(chunks=st.lists(GARBAGE, max_size=8))
def test_pure_garbage_never_raises(dialect: str, chunks: list[Any]) -> None:
    make, _ = DIALECTS[dialect]
    _run(make, chunks, objects=OBJECTS_ONLY[dialect])


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
@settings(max_examples=examples(100), deadline=None)
@given(response=GARBAGE)
def test_parse_response_never_raises(dialect: str, response: Any) -> None:
    module = {"openai": openai, "anthropic": anthropic, "responses": responses, "gemini": gemini}
    parsed = module[dialect].parse_response(response)
    for call in parsed.calls:
        assert isinstance(json.loads(call.arguments), dict) or not OBJECTS_ONLY[dialect]
