"""OpenAIResponses through the real ``openai`` SDK against a local server speaking the
Responses API."""

from __future__ import annotations

import json
from typing import Any

import models_responses_wire as rw
import pytest
from models_wire_server import USER, WEATHER, Reply, Weather, WireServer, weather_box

import toolwire as tw
from toolwire._calls import ArgumentsDelta, CallFailed, CallFinished, CallStarted, ContentDelta
from toolwire._spec import ToolSpec
from toolwire.models import ModelError, ModelOptions, TurnDone
from toolwire.models.openai_responses import OpenAIResponses

pytestmark = pytest.mark.anyio


def gpt(server: WireServer, **kw: Any) -> OpenAIResponses:
    kw.setdefault("retries", 2)
    kw.setdefault("backoff", 0.0)
    kw.setdefault("api_key", "sk-test")
    return OpenAIResponses(model="gpt-5-mini", base_url=f"{server.url}/v1", **kw)


async def test_a_whole_response_maps_input_tools_choice_usage_and_finish() -> None:
    reply = rw.response(
        rw.reasoning("两个城市"),
        rw.function_call("call_1", "get_weather", {"location": "北京"}),
        cached=20,
        reasoning=5,
    )
    async with WireServer([reply]) as server, gpt(server) as model:
        turn = await model.complete(USER, [WEATHER], ModelOptions())
    seen = server.requests[0]
    assert seen.path == "/v1/responses" and seen.headers["authorization"] == "Bearer sk-test"
    body = seen.body
    assert body["instructions"] == "你是天气助手"
    assert body["input"] == [{"role": "user", "content": "北京和上海?"}]
    assert body["tools"][0] == {
        "type": "function",
        "name": "get_weather",
        "description": "获取指定城市的天气信息",
        "parameters": WEATHER.input_schema,
        "strict": False,
    }
    assert body["tool_choice"] == "auto" and "parallel_tool_calls" not in body
    assert body["store"] is False and body["include"] == ["reasoning.encrypted_content"]
    assert [(c.id, c.name) for c in turn.parsed.calls] == [("call_1", "get_weather")]
    assert turn.parsed.reasoning == "两个城市"
    assert turn.finish_reason == "tool_calls"
    assert turn.usage == {
        "prompt_tokens": 30,
        "completion_tokens": 12,
        "cache_read_tokens": 20,
        "reasoning_tokens": 5,
        "total_tokens": 42,
    }


@pytest.mark.parametrize(
    ("choice", "parallel", "wire", "flag"),
    [
        ("auto", True, "auto", None),
        ("required", True, "required", None),
        ("none", True, "none", None),
        ("spotify.play", False, {"type": "function", "name": "spotify_play"}, False),
    ],
)
async def test_tool_choice_and_parallel_calls_are_mapped(
    choice: str, parallel: bool, wire: Any, flag: bool | None
) -> None:
    play = ToolSpec(name="spotify.play", input_schema={"type": "object", "properties": {}})
    async with WireServer([rw.response(rw.message("ok"))]) as server, gpt(server) as model:
        options = ModelOptions(tool_choice=choice, parallel_tool_calls=parallel)
        await model.complete(USER, [WEATHER, play], options)
    body = server.bodies[0]
    assert body["tool_choice"] == wire
    assert body.get("parallel_tool_calls") == flag


async def test_two_calls_streamed_in_split_frames_with_content_part_events() -> None:
    reply = rw.streamed(
        rw.message("查询中"),
        rw.function_call("call_1", "get_weather", {"location": "北京"}),
        rw.function_call("call_2", "get_weather", {"location": "上海"}),
        split=9,
        piece=3,
    )
    async with WireServer([reply]) as server, gpt(server) as model:
        out = [e async for e in model.stream(USER, [WEATHER], ModelOptions(stream=True))]
    assert server.bodies[0]["stream"] is True
    assert "".join(e.text for e in out if isinstance(e, ContentDelta)) == "查询中"
    assert [(e.index, e.id) for e in out if isinstance(e, CallStarted)] == [
        (0, "call_1"),
        (1, "call_2"),
    ]
    finished = {e.index: e.call for e in out if isinstance(e, CallFinished)}
    for index, call in finished.items():
        pieces = [e.text for e in out if isinstance(e, ArgumentsDelta) and e.index == index]
        assert len(pieces) > 1 and "".join(pieces) == call.arguments
    done = out[-1]
    assert isinstance(done, TurnDone) and done.turn.finish_reason == "tool_calls"


@pytest.mark.parametrize("stream", [False, True])
async def test_the_loop_echoes_reasoning_statelessly_and_answers_by_call_id(stream: bool) -> None:
    weather = Weather(delay=0.05)
    items = (
        rw.reasoning("两个城市", encrypted="gAAAA-secret"),
        rw.function_call("call_1", "get_weather", {"location": "北京"}),
        rw.function_call("call_2", "get_weather", {"location": "火星"}),
    )
    make = rw.streamed if stream else rw.response
    replies = [make(*items), make(rw.message("北京 25°C。"))]
    async with WireServer(replies) as server, gpt(server) as model:
        runner = tw.Runner(model=model, tools=weather_box(weather), stream=stream)
        result = await runner.run("北京和火星的天气?")
    assert result.ok and result.final_text == "北京 25°C。"
    assert weather.peak == 2
    sent = server.bodies[1]["input"]
    assert [i.get("type", i.get("role")) for i in sent] == [
        "user",
        "reasoning",
        "function_call",
        "function_call",
        "function_call_output",
        "function_call_output",
    ]
    assert sent[1]["encrypted_content"] == "gAAAA-secret"
    assert all("id" not in item for item in sent[1:4])  # unstored: no server ids echoed
    outputs = sent[4:]
    assert [o["call_id"] for o in outputs] == ["call_1", "call_2"]
    assert json.loads(outputs[0]["output"])["temp"] == 25
    assert json.loads(outputs[1]["output"])["error"]["kind"] == "execution_error"


async def test_unencrypted_reasoning_is_not_echoed_when_stateless_and_kept_when_stored() -> None:
    items = (
        rw.reasoning("想一想", encrypted=None),
        rw.function_call("call_1", "get_weather", {"location": "北京"}),
    )
    for store, expected in ((False, ["function_call"]), (True, ["reasoning", "function_call"])):
        replies = [rw.response(*items), rw.response(rw.message("好"))]
        async with WireServer(replies) as server, gpt(server, store=store) as model:
            await tw.Runner(model=model, tools=weather_box()).run("北京?")
        sent = server.bodies[1]["input"]
        assert [i["type"] for i in sent[1:-1]] == expected
        assert ("include" in server.bodies[0]) is not store
        if store:
            assert sent[1]["id"] == "rs_1"


async def test_an_incomplete_response_maps_to_length_and_its_cut_call_is_quarantined() -> None:
    events = rw.events(rw.function_call("call_1", "get_weather", {"location": "北京"}))
    # the output ran out of tokens inside the arguments
    events = [e for e in events if e["type"] != "response.function_call_arguments.done"]
    events = [e for e in events if e["type"] != "response.output_item.done"]
    events[-1]["response"]["status"] = "incomplete"
    events[-1]["response"]["incomplete_details"] = {"reason": "max_output_tokens"}
    events[-1]["response"]["output"] = []
    for event in events:
        if event["type"] == "response.function_call_arguments.delta":
            event["delta"] = event["delta"][:2]
    async with WireServer([Reply(events=events)]) as server, gpt(server) as model:
        out = [e async for e in model.stream(USER, [WEATHER], ModelOptions(stream=True))]
    done = out[-1]
    assert isinstance(done, TurnDone)
    assert done.turn.finish_reason == "length" and done.turn.parsed.calls == ()
    assert [e.index for e in out if isinstance(e, CallFailed)] == [0]


@pytest.mark.parametrize(
    ("status", "kind", "sent"),
    [
        (400, "remote_error", 1),
        (401, "unauthorized", 1),
        (429, "rate_limited", 3),
        (500, "remote_error", 3),
        (503, "remote_error", 3),
    ],
)
async def test_errors_map_to_kinds_and_only_transient_ones_are_retried(
    status: int, kind: str, sent: int
) -> None:
    reply = rw.error(status, "error")
    async with WireServer(lambda seen: reply) as server, gpt(server) as model:
        with pytest.raises(ModelError) as caught:
            await model.complete(USER, [WEATHER], ModelOptions())
    assert caught.value.kind == kind and caught.value.status == status
    assert len(server.requests) == sent


async def test_an_error_event_opening_the_stream_is_retried() -> None:
    opening = Reply(events=[{"type": "error", "code": "server_error", "message": "boom"}])
    replies = [opening, rw.streamed(rw.message("你好"))]
    async with WireServer(replies) as server, gpt(server) as model:
        out = [e async for e in model.stream(USER, [], ModelOptions(stream=True))]
    done = out[-1]
    assert isinstance(done, TurnDone) and done.turn.parsed.content == "你好"
    assert len(server.requests) == 2


async def test_a_stream_without_response_completed_quarantines_its_calls() -> None:
    events = rw.events(rw.function_call("call_1", "get_weather", {"location": "北京"}))[:-2]
    async with WireServer([Reply(events=events)]) as server, gpt(server) as model:
        out = [e async for e in model.stream(USER, [WEATHER], ModelOptions(stream=True))]
    done = out[-1]
    assert isinstance(done, TurnDone)
    assert done.turn.parsed.calls == () and done.turn.finish_reason == "error"


async def test_the_key_comes_from_openai_api_key_when_not_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    async with (
        WireServer([rw.response(rw.message("ok"))]) as server,
        OpenAIResponses(model="gpt-5-mini", base_url=f"{server.url}/v1") as model,
    ):
        await model.complete(USER, [], ModelOptions())
    assert server.requests[0].headers["authorization"] == "Bearer sk-from-env"
