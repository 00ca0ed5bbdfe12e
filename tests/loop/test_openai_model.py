"""OpenAICompatible driven through the real openai SDK against a local fake server."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from loop_fake_openai import FakeOpenAI, Reply, chunk, completion, tool_call, usage_chunk

from toolwire._calls import CallFinished, CallStarted, ContentDelta
from toolwire._spec import ToolSpec
from toolwire.models import ModelError, ModelOptions, OpenAICompatible, TurnDone
from toolwire.models.openai_compatible import retry_after

pytestmark = pytest.mark.anyio

WEATHER = ToolSpec(
    name="get_weather",
    description="获取指定城市的天气信息",
    input_schema={
        "type": "object",
        "properties": {"location": {"type": "string", "description": "城市名称"}},
        "required": ["location"],
    },
)
USER = [{"role": "user", "content": "北京今天气温如何?"}]


def model(server: FakeOpenAI, **kw: Any) -> OpenAICompatible:
    kw.setdefault("retries", 2)
    kw.setdefault("backoff", 0.0)
    return OpenAICompatible(model="fake-model", base_url=server.base_url, **kw)


async def collect(m: OpenAICompatible, options: ModelOptions | None = None) -> list[Any]:
    async with m:
        return [e async for e in m.stream(USER, [WEATHER], options or ModelOptions(stream=True))]


async def test_single_tool_call_sends_tools_and_parses_the_call() -> None:
    reply = completion(tool_calls=[tool_call("call_1", "get_weather", {"location": "北京"})])
    async with FakeOpenAI([reply]) as server, model(server) as m:
        turn = await m.complete(USER, [WEATHER], ModelOptions())
    sent = server.requests[0]
    assert sent["tools"][0]["function"]["name"] == "get_weather"
    assert sent["tool_choice"] == "auto"
    assert "parallel_tool_calls" not in sent
    assert [(c.id, c.name, c.arguments) for c in turn.parsed.calls] == [
        ("call_1", "get_weather", '{"location": "北京"}')
    ]
    assert turn.usage["total_tokens"] == 15
    assert turn.finish_reason == "tool_calls"


async def test_parallel_calls_and_options_on_the_wire() -> None:
    calls = [tool_call(f"c{i}", "get_weather", {"location": c}) for i, c in enumerate("甲乙丙")]
    async with FakeOpenAI([completion(tool_calls=calls)]) as server:
        options = ModelOptions(tool_choice="get_weather", parallel_tool_calls=False)
        async with model(server) as m:
            turn = await m.complete(USER, [WEATHER], options)
    assert len(turn.parsed.calls) == 3
    sent = server.requests[0]
    assert sent["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    assert sent["parallel_tool_calls"] is False


async def test_legacy_functions_api() -> None:
    reply = completion(function_call={"name": "get_weather", "arguments": '{"location":"北京"}'})
    async with FakeOpenAI([reply]) as server, model(server, api="functions") as m:
        turn = await m.complete(USER, [WEATHER], ModelOptions())
    sent = server.requests[0]
    assert "tools" not in sent
    assert sent["functions"][0]["name"] == "get_weather"
    assert sent["function_call"] == "auto"
    (call,) = turn.parsed.calls
    assert call.name == "get_weather"
    assert call.parsed_arguments() == {"location": "北京"}


async def test_retries_429_honouring_retry_after_then_succeeds() -> None:
    replies = [
        Reply(status=429, body={"error": {"message": "slow down"}}, headers={"Retry-After": "0"}),
        Reply(status=503, body={"error": {"message": "busy"}}),
        completion("ok"),
    ]
    async with FakeOpenAI(replies) as server, model(server) as m:
        turn = await m.complete(USER, [WEATHER], ModelOptions())
    assert turn.parsed.content == "ok"
    assert len(server.requests) == 3


async def test_500s_exhaust_retries_into_a_model_error() -> None:
    replies = [Reply(status=500, body={"error": {"message": "boom"}}) for _ in range(3)]
    async with FakeOpenAI(replies) as server:
        with pytest.raises(ModelError) as info:
            async with model(server, retries=2) as m:
                await m.complete(USER, [WEATHER], ModelOptions())
    assert info.value.status == 500
    assert info.value.retryable
    assert len(server.requests) == 3


async def test_4xx_is_not_retried() -> None:
    async with FakeOpenAI([Reply(status=401, body={"error": {"message": "bad key"}})]) as server:
        with pytest.raises(ModelError) as info:
            async with model(server) as m:
                await m.complete(USER, [WEATHER], ModelOptions())
    assert info.value.kind == "unauthorized"
    assert len(server.requests) == 1


async def test_connection_refused_is_a_model_error() -> None:
    m = OpenAICompatible(model="x", base_url="http://127.0.0.1:9/v1", retries=1, backoff=0.0)
    async with m:
        with pytest.raises(ModelError) as info:
            await m.complete(USER, [WEATHER], ModelOptions())
    assert info.value.retryable


def test_retry_after_header_forms() -> None:
    assert retry_after({"Retry-After": "2"}) == 2.0
    assert retry_after({"retry-after-ms": "250"}) == 0.25
    assert retry_after({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0
    assert retry_after({}) is None
    assert retry_after({"Retry-After": "soon"}) is None


async def test_stream_with_quirks_all_index_zero_and_missing_ids() -> None:
    chunks = [
        chunk({"role": "assistant", "content": "查询中"}),
        # two calls that both say index 0, told apart by their ids
        chunk({"tool_calls": [{"index": 0, "id": "a", "function": {"name": "get_weather"}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"location":"北京"}'}}]}),
        chunk({"tool_calls": [{"index": 0, "id": "b", "function": {"name": "get_weather"}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"location":"上海"}'}}]}),
        # a third one with no id at all
        chunk({"tool_calls": [{"index": 2, "function": {"name": "get_weather"}}]}),
        chunk({"tool_calls": [{"index": 2, "function": {"arguments": '{"location":"广州"}'}}]}),
        chunk({}, finish_reason="tool_calls"),
        usage_chunk(7, 3),
    ]
    async with FakeOpenAI([Reply(chunks=chunks)]) as server:
        events = await collect(model(server))
    assert server.requests[0]["stream"] is True
    done = events[-1]
    assert isinstance(done, TurnDone)
    calls = done.turn.parsed.calls
    assert [c.parsed_arguments()["location"] for c in calls] == ["北京", "上海", "广州"]
    assert len({c.id for c in calls}) == 3 and all(c.id for c in calls)
    assert done.turn.usage["total_tokens"] == 10
    assert any(isinstance(e, ContentDelta) for e in events)
    assert sum(isinstance(e, CallStarted) for e in events) == 3
    assert sum(isinstance(e, CallFinished) for e in events) == 3


async def test_stream_cut_mid_call_quarantines_the_call() -> None:
    chunks = [
        chunk({"role": "assistant", "content": ""}),
        chunk({"tool_calls": [{"index": 0, "id": "a", "function": {"name": "get_weather"}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"location": "Bei'}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": 'jing"}'}}]}),
    ]
    async with FakeOpenAI([Reply(chunks=chunks, cut_after=3)]) as server:
        events = await collect(model(server))
    turn = events[-1].turn
    assert turn.parsed.calls == ()
    assert len(turn.parsed.errors) == 1
    assert turn.parsed.errors[0].name == "get_weather"
    assert '"Bei' in turn.parsed.errors[0].raw


async def test_text_mode_renders_tools_and_parses_raw_calls() -> None:
    raw = (
        '让我查一下。<tool_call>\n{"name": "get_weather", "arguments": {"location": "北京"}}'
        "\n</tool_call>"
    )
    async with (
        FakeOpenAI([completion(raw)]) as server,
        model(server, api="text", text_format="hermes") as m,
    ):
        turn = await m.complete(USER, [WEATHER], ModelOptions())
    sent = server.requests[0]
    assert "tools" not in sent
    assert sent["messages"][0]["role"] == "system"
    assert "<tools>" in sent["messages"][0]["content"]
    assert "get_weather" in sent["messages"][0]["content"]
    (call,) = turn.parsed.calls
    assert call.parsed_arguments() == {"location": "北京"}
    assert turn.raw_text == raw


@pytest.mark.parametrize("text_format", ["qwen", "qwen25"])
async def test_text_mode_qwen_formats_parse_their_replies(text_format: str) -> None:
    # Qwen 2/2.5 are prompted like Hermes; their replies must be read by the Hermes parser
    # (there is no parsing format named after them), whole and streamed.
    raw = '<tool_call>\n{"name": "get_weather", "arguments": {"location": "广州"}}\n</tool_call>'
    pieces = [raw[:9], raw[9:40], raw[40:]]
    chunks = [chunk({"content": p}) for p in pieces] + [chunk({}, finish_reason="stop")]
    async with FakeOpenAI([completion(raw), Reply(chunks=chunks)]) as server:
        async with model(server, api="text", text_format=text_format) as m:
            turn = await m.complete(USER, [WEATHER], ModelOptions())
        events = await collect(model(server, api="text", text_format=text_format))
    for got in (turn, events[-1].turn):
        (call,) = got.parsed.calls
        assert call.name == "get_weather" and call.parsed_arguments() == {"location": "广州"}


async def test_text_mode_streaming() -> None:
    pieces = [
        "<tool",
        '_call>\n{"name": "get_weather", ',
        '"arguments": {"location": "上海"}}',
        "\n</tool_call>",
    ]
    chunks = [chunk({"content": p}) for p in pieces] + [chunk({}, finish_reason="stop")]
    async with FakeOpenAI([Reply(chunks=chunks)]) as server:
        events = await collect(model(server, api="text"))
    turn = events[-1].turn
    (call,) = turn.parsed.calls
    assert call.parsed_arguments() == {"location": "上海"}


async def test_cancelling_a_request_drops_the_connection() -> None:
    async with FakeOpenAI([Reply(hang=True)]) as server, model(server) as m:
        task = asyncio.create_task(m.complete(USER, [WEATHER], ModelOptions()))
        while not server.requests:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.wait_for(server.disconnected.wait(), 10)
