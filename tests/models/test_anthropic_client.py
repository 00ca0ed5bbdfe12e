"""Anthropic through the real ``anthropic`` SDK against a local server speaking the Messages API."""

from __future__ import annotations

import json
from typing import Any

import models_anthropic_wire as aw
import pytest
from models_wire_server import USER, WEATHER, Reply, Seen, Weather, WireServer, weather_box

import toolwire as tw
from toolwire._calls import ArgumentsDelta, CallFailed, CallFinished, CallStarted
from toolwire._spec import ToolSpec
from toolwire.models import ModelError, ModelOptions, TurnDone
from toolwire.models.anthropic import Anthropic

pytestmark = pytest.mark.anyio


PICTURE = [
    {
        "role": "user",
        "content": [
            {"type": "text", "text": "这是哪里?"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
            {"type": "image_url", "image_url": {"url": "https://example.test/b.jpg"}},
        ],
    }
]


def sent_key(seen: Seen) -> str | None:
    """The key as this SDK version sends it (``x-api-key``, or a bearer token)."""
    if "x-api-key" in seen.headers:
        return seen.headers["x-api-key"]
    return seen.headers.get("authorization", "").removeprefix("Bearer ") or None


def claude(server: WireServer, **kw: Any) -> Anthropic:
    kw.setdefault("retries", 2)
    kw.setdefault("backoff", 0.0)
    kw.setdefault("api_key", "sk-ant-test")
    return Anthropic(model="claude-sonnet-4-5", base_url=server.url, **kw)


async def test_a_whole_response_maps_tools_system_choice_usage_and_finish() -> None:
    reply = aw.message(
        aw.text("我来查一下。"),
        aw.tool_use("toolu_1", "get_weather", {"location": "北京"}),
        usage={
            "input_tokens": 10,
            "cache_read_input_tokens": 300,
            "cache_creation_input_tokens": 7,
        },
    )
    async with WireServer([reply]) as server, claude(server) as model:
        turn = await model.complete(USER, [WEATHER], ModelOptions())
    seen = server.requests[0]
    assert seen.path == "/v1/messages" and sent_key(seen) == "sk-ant-test"
    body = seen.body
    assert body["system"] == [{"type": "text", "text": "你是天气助手"}]
    assert body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "北京和上海?"}]}
    ]
    assert body["tools"][0]["input_schema"]["required"] == ["location"]
    assert body["tool_choice"] == {"type": "auto"} and body["max_tokens"] == 4096
    assert turn.parsed.content == "我来查一下。"
    assert [(c.id, c.name, json.loads(c.arguments)) for c in turn.parsed.calls] == [
        ("toolu_1", "get_weather", {"location": "北京"})
    ]
    assert turn.finish_reason == "tool_calls"
    assert turn.usage == {
        "prompt_tokens": 317,
        "completion_tokens": 65,
        "cache_read_tokens": 300,
        "cache_write_tokens": 7,
        "total_tokens": 382,
    }


@pytest.mark.parametrize(
    ("choice", "parallel", "wire"),
    [
        ("auto", True, {"type": "auto"}),
        ("required", True, {"type": "any"}),
        ("none", True, {"type": "none"}),
        ("spotify.play", True, {"type": "tool", "name": "spotify_play"}),
        ("auto", False, {"type": "auto", "disable_parallel_tool_use": True}),
        ("required", False, {"type": "any", "disable_parallel_tool_use": True}),
    ],
)
async def test_tool_choice_and_parallel_calls_are_mapped(
    choice: str, parallel: bool, wire: dict[str, Any]
) -> None:
    play = ToolSpec(name="spotify.play", input_schema={"type": "object", "properties": {}})
    async with WireServer([aw.message(aw.text("ok"))]) as server, claude(server) as model:
        options = ModelOptions(tool_choice=choice, parallel_tool_calls=parallel)
        await model.complete(USER, [WEATHER, play], options)
    body = server.bodies[0]
    assert body["tool_choice"] == wire
    assert [t["name"] for t in body["tools"]] == ["get_weather", "spotify_play"]


async def test_prompt_caching_marks_the_last_tool_and_the_system_prompt() -> None:
    other = ToolSpec(name="get_time", input_schema={"type": "object", "properties": {}})
    async with WireServer([aw.message(aw.text("ok")), aw.message(aw.text("ok"))]) as server:
        async with claude(server, cache=True) as model:
            await model.complete(USER, [WEATHER, other], ModelOptions())
        async with claude(server) as plain:
            await plain.complete(USER, [WEATHER, other], ModelOptions())
    cached, uncached = server.bodies
    assert cached["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert "cache_control" not in cached["tools"][0]
    assert cached["tools"][1]["cache_control"] == {"type": "ephemeral"}
    assert "cache_control" not in json.dumps(uncached)


async def test_two_calls_streamed_in_split_frames_with_pings_and_empty_deltas() -> None:
    reply = aw.streamed(
        aw.text("查询中"),
        aw.tool_use("toolu_1", "get_weather", {"location": "北京"}),
        aw.tool_use("toolu_2", "get_weather", {"location": "上海"}),
        split=5,
        piece=3,
    )
    async with WireServer([reply]) as server, claude(server) as model:
        events = [e async for e in model.stream(USER, [WEATHER], ModelOptions(stream=True))]
    started = [e for e in events if isinstance(e, CallStarted)]
    assert [(e.index, e.id) for e in started] == [(0, "toolu_1"), (1, "toolu_2")]
    pieces = [e for e in events if isinstance(e, ArgumentsDelta)]
    assert len(pieces) > 4  # the arguments arrived in pieces, as deltas
    finished = {e.index: e.call for e in events if isinstance(e, CallFinished)}
    for index, call in finished.items():
        assert "".join(p.text for p in pieces if p.index == index) == call.arguments
    done = events[-1]
    assert isinstance(done, TurnDone)
    assert [json.loads(c.arguments)["location"] for c in done.turn.parsed.calls] == ["北京", "上海"]
    assert done.turn.parsed.content == "查询中"
    assert done.turn.finish_reason == "tool_calls"
    assert done.turn.usage["prompt_tokens"] == 377 and done.turn.usage["completion_tokens"] == 65


async def test_thinking_blocks_are_echoed_with_signatures_and_results_linked_by_id() -> None:
    weather = Weather()
    replies = [
        aw.streamed(
            aw.thinking("两个城市,并行查询。", "EqQBCgIYAhIM+sig=="),
            aw.tool_use("toolu_1", "get_weather", {"location": "北京"}),
            aw.tool_use("toolu_2", "get_weather", {"location": "火星"}),
        ),
        aw.streamed(aw.text("北京 25°C;火星没有数据。")),
    ]
    async with WireServer(replies) as server, claude(server, thinking=2048) as model:
        runner = tw.Runner(model=model, tools=weather_box(weather), stream=True)
        result = await runner.run("北京和火星的天气?")
    assert result.ok and result.final_text == "北京 25°C;火星没有数据。"
    first, second = server.bodies
    assert first["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    assistant, results = second["messages"][1], second["messages"][2]
    assert assistant["role"] == "assistant"
    assert assistant["content"][0] == {
        "type": "thinking",
        "thinking": "两个城市,并行查询。",
        "signature": "EqQBCgIYAhIM+sig==",
    }
    assert [b["id"] for b in assistant["content"][1:]] == ["toolu_1", "toolu_2"]
    assert results["role"] == "user"
    blocks = results["content"]
    assert [b["tool_use_id"] for b in blocks] == ["toolu_1", "toolu_2"]
    assert "is_error" not in blocks[0] and json.loads(blocks[0]["content"])["temp"] == 25
    assert blocks[1]["is_error"] is True
    assert "Mars" in blocks[1]["content"]


@pytest.mark.parametrize("stream", [False, True])
async def test_the_loop_runs_two_parallel_calls(stream: bool) -> None:
    weather = Weather(delay=0.05)
    calls = (
        aw.tool_use("toolu_1", "get_weather", {"location": "北京"}),
        aw.tool_use("toolu_2", "get_weather", {"location": "上海"}),
    )
    make = aw.streamed if stream else aw.message
    replies = [make(*calls), make(aw.text("北京、上海都是 25°C。"))]
    async with WireServer(replies) as server, claude(server) as model:
        result = await tw.Runner(model=model, tools=weather_box(weather), stream=stream).run(
            "北京和上海的天气?"
        )
    assert result.ok and result.final_text == "北京、上海都是 25°C。"
    assert sorted(weather.seen) == ["上海", "北京"] and weather.peak == 2
    follow = server.bodies[1]["messages"]
    assert [m["role"] for m in follow] == ["user", "assistant", "user"]
    assert [b["tool_use_id"] for b in follow[2]["content"]] == ["toolu_1", "toolu_2"]
    assert result.usage["total_tokens"] == 2 * (377 + 65)


@pytest.mark.parametrize(
    ("status", "kind", "sent"),
    [
        (400, "remote_error", 1),
        (401, "unauthorized", 1),
        (403, "forbidden", 1),
        (413, "too_large", 1),
        (429, "rate_limited", 3),
        (500, "remote_error", 3),
        (529, "rate_limited", 3),
    ],
)
async def test_errors_map_to_kinds_and_only_transient_ones_are_retried(
    status: int, kind: str, sent: int
) -> None:
    types = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error"}
    types |= {413: "request_too_large", 429: "rate_limit_error", 500: "api_error"}
    types |= {529: "overloaded_error"}
    reply = aw.error(status, types[status])
    async with WireServer(lambda seen: reply) as server, claude(server) as model:
        with pytest.raises(ModelError) as caught:
            await model.complete(USER, [WEATHER], ModelOptions())
    assert caught.value.kind == kind and caught.value.status == status
    assert len(server.requests) == sent  # one of ours plus `retries` (2); the SDK's are off


async def test_overloaded_then_ok_honours_retry_after() -> None:
    replies = [
        aw.error(529, "overloaded_error", **{"retry-after-ms": "1"}),
        aw.error(429, "rate_limit_error", **{"retry-after": "0"}),
        aw.message(aw.text("好了")),
    ]
    async with WireServer(replies) as server, claude(server) as model:
        turn = await model.complete(USER, [], ModelOptions())
    assert turn.parsed.content == "好了" and len(server.requests) == 3


async def test_an_error_event_opening_the_stream_is_retried() -> None:
    overloaded = Reply(
        events=[{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}]
    )
    replies = [overloaded, aw.streamed(aw.text("你好"))]
    async with WireServer(replies) as server, claude(server) as model:
        events = [e async for e in model.stream(USER, [], ModelOptions(stream=True))]
    assert isinstance(events[-1], TurnDone) and events[-1].turn.parsed.content == "你好"
    assert len(server.requests) == 2


async def test_a_stream_cut_mid_way_quarantines_its_calls() -> None:
    events = aw.events(
        aw.tool_use("toolu_1", "get_weather", {"location": "北京"}),
        aw.tool_use("toolu_2", "get_weather", {"location": "上海"}),
    )
    cut = next(i for i, e in enumerate(events) if e.get("index") == 1)
    reply = Reply(events=events, cut_after=cut + 3)
    async with WireServer([reply]) as server, claude(server) as model:
        out = [e async for e in model.stream(USER, [WEATHER], ModelOptions(stream=True))]
    done = out[-1]
    assert isinstance(done, TurnDone)
    assert done.turn.parsed.calls == () and done.turn.finish_reason == "error"
    assert {e.index for e in out if isinstance(e, CallFailed)} == {0, 1}
    assert model.assistant_messages(done.turn)[0].get("toolwire_echo") is None


async def test_the_key_comes_from_anthropic_api_key_when_not_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-from-env")
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)
    async with (
        WireServer([aw.message(aw.text("ok"))]) as server,
        Anthropic(model="claude-sonnet-4-5", base_url=server.url) as model,
    ):
        await model.complete(USER, [], ModelOptions())
    assert sent_key(server.requests[0]) == "sk-ant-from-env"


async def test_user_images_become_base64_and_url_sources() -> None:
    async with WireServer([aw.message(aw.text("北京"))]) as server, claude(server) as model:
        await model.complete(PICTURE, [], ModelOptions())
    assert server.bodies[0]["messages"][0]["content"] == [
        {"type": "text", "text": "这是哪里?"},
        {
            "type": "image",
            "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="},
        },
        {"type": "image", "source": {"type": "url", "url": "https://example.test/b.jpg"}},
    ]


async def test_fields_a_response_sets_to_null_are_not_echoed() -> None:
    block = {**aw.tool_use("toolu_1", "get_weather", {"location": "北京"}), "caller": None}
    text = {**aw.text("查询"), "citations": None}
    replies = [aw.message(text, block), aw.message(aw.text("25°C"))]
    async with WireServer(replies) as server, claude(server) as model:
        await tw.Runner(model=model, tools=weather_box()).run("北京?")
    echoed = server.bodies[1]["messages"][1]["content"]
    assert echoed == [aw.text("查询"), aw.tool_use("toolu_1", "get_weather", {"location": "北京"})]
