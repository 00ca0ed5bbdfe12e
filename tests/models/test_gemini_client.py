"""Gemini through the real ``google-genai`` SDK against a local server speaking its REST API."""

from __future__ import annotations

import asyncio
import gc
import json
import traceback
from typing import Any

import models_gemini_wire as gw
import pytest
from google.genai._api_client import BaseApiClient
from models_wire_server import USER, WEATHER, Reply, Weather, WireServer, weather_box

import toolwire as tw
from toolwire._calls import ArgumentsDelta, CallFinished, CallStarted, ReasoningDelta
from toolwire._spec import ToolSpec
from toolwire.models import ModelError, ModelOptions, TurnDone
from toolwire.models.gemini import SKIP_SIGNATURE, Gemini

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


def gemini(server: WireServer, **kw: Any) -> Gemini:
    kw.setdefault("retries", 2)
    kw.setdefault("backoff", 0.0)
    kw.setdefault("api_key", "gm-test")
    return Gemini(model=gw.MODEL, base_url=server.url, **kw)


async def test_a_whole_response_maps_contents_tools_choice_usage_and_finish() -> None:
    reply = gw.response(
        gw.text("我来查一下。"),
        gw.call("get_weather", {"location": "北京"}, id="fc_1", sig="c2lnLTE="),
        thoughts=30,
        cached=12,
    )
    async with WireServer([reply]) as server, gemini(server) as model:
        turn = await model.complete(USER, [WEATHER], ModelOptions())
    seen = server.requests[0]
    assert seen.path.endswith(f"/models/{gw.MODEL}:generateContent")
    assert seen.headers["x-goog-api-key"] == "gm-test"
    body = seen.body
    assert body["contents"] == [{"role": "user", "parts": [{"text": "北京和上海?"}]}]
    assert body["systemInstruction"]["parts"] == [{"text": "你是天气助手"}]
    declaration = body["tools"][0]["functionDeclarations"][0]
    assert declaration["name"] == "get_weather" and declaration["parameters"]["type"] == "OBJECT"
    assert body["toolConfig"] == {"functionCallingConfig": {"mode": "AUTO"}}
    assert [(c.id, c.name, json.loads(c.arguments)) for c in turn.parsed.calls] == [
        ("fc_1", "get_weather", {"location": "北京"})
    ]
    assert turn.parsed.content == "我来查一下。"
    assert turn.finish_reason == "tool_calls"
    assert turn.usage == {
        "prompt_tokens": 20,
        "completion_tokens": 38,
        "cache_read_tokens": 12,
        "reasoning_tokens": 30,
        "total_tokens": 58,
    }


@pytest.mark.parametrize(
    ("choice", "wire"),
    [
        ("auto", {"mode": "AUTO"}),
        ("required", {"mode": "ANY"}),
        ("none", {"mode": "NONE"}),
        ("spotify.play", {"mode": "ANY", "allowedFunctionNames": ["spotify.play"]}),
        ("play it", {"mode": "ANY", "allowedFunctionNames": ["play_it"]}),
    ],
)
async def test_tool_choice_becomes_the_function_calling_mode(
    choice: str, wire: dict[str, Any]
) -> None:
    specs = [WEATHER] + [
        ToolSpec(name=n, input_schema={"type": "object", "properties": {}})
        for n in ("spotify.play", "play it")
    ]
    async with WireServer([gw.response(gw.text("ok"))]) as server, gemini(server) as model:
        await model.complete(USER, specs, ModelOptions(tool_choice=choice))
    body = server.bodies[0]
    assert body["toolConfig"]["functionCallingConfig"] == wire
    names = [d["name"] for d in body["tools"][0]["functionDeclarations"]]
    assert names == ["get_weather", "spotify.play", "play_it"]
    # a function without parameters leaves them unset (Gemini rejects an empty OBJECT)
    assert "parameters" not in body["tools"][0]["functionDeclarations"][1]


async def test_two_calls_streamed_in_split_frames_with_thoughts_and_usage_only_chunks() -> None:
    events = gw.chunks(
        gw.text("先查北京再查上海", thought=True),
        gw.call("get_weather", {"location": "北京"}, sig="c2lnLTE="),
        gw.call("get_weather", {"location": "上海"}),
        thoughts=9,
    )
    usage_only = {"usageMetadata": gw.usage(thoughts=9), "modelVersion": gw.MODEL}
    events.insert(1, usage_only)
    async with WireServer([Reply(events=events, split=6)]) as server, gemini(server) as model:
        out = [e async for e in model.stream(USER, [WEATHER], ModelOptions(stream=True))]
    assert server.requests[0].query == {"alt": "sse"}
    assert "".join(e.text for e in out if isinstance(e, ReasoningDelta)) == "先查北京再查上海"
    started = [e for e in out if isinstance(e, CallStarted)]
    assert [e.index for e in started] == [0, 1]
    finished = {e.index: e.call for e in out if isinstance(e, CallFinished)}
    for index, call in finished.items():
        assert "".join(
            e.text for e in out if isinstance(e, ArgumentsDelta) and e.index == index
        ) == (call.arguments)
    done = out[-1]
    assert isinstance(done, TurnDone)
    assert [json.loads(c.arguments)["location"] for c in done.turn.parsed.calls] == ["北京", "上海"]
    assert done.turn.finish_reason == "tool_calls"
    assert done.turn.usage["reasoning_tokens"] == 9


@pytest.mark.parametrize("stream", [False, True])
async def test_the_loop_echoes_signatures_and_answers_by_function_response(stream: bool) -> None:
    weather = Weather(delay=0.05)
    calls = (
        gw.call("get_weather", {"location": "北京"}, sig="c2lnLTE="),
        gw.call("get_weather", {"location": "火星"}),
    )
    make = gw.streamed if stream else gw.response
    replies = [make(gw.text("两个城市", thought=True), *calls), make(gw.text("北京 25°C。"))]
    async with WireServer(replies) as server, gemini(server) as model:
        runner = tw.Runner(model=model, tools=weather_box(weather), stream=stream)
        result = await runner.run("北京和火星的天气?")
    assert result.ok and result.final_text == "北京 25°C。"
    assert sorted(weather.seen) == ["北京", "火星"] and weather.peak == 2
    contents = server.bodies[1]["contents"]
    assert [c["role"] for c in contents] == ["user", "model", "user"]
    model_parts = contents[1]["parts"]
    assert model_parts[0] == {
        "functionCall": {"name": "get_weather", "args": {"location": "北京"}},
        "thoughtSignature": "c2lnLTE=",
    }
    assert len(model_parts) == 2  # the unsigned thought summary is not sent back
    answers = [p["functionResponse"] for p in contents[2]["parts"]]
    assert [a["name"] for a in answers] == ["get_weather", "get_weather"]
    assert answers[0]["response"]["temp"] == 25
    assert answers[1]["response"]["error"]["kind"] == "execution_error"
    assert all("id" not in a for a in answers)  # Gemini gave no ids: matched by order


async def test_a_turn_gemini_did_not_write_gets_the_documented_stand_in_signature() -> None:
    history = [
        {"role": "user", "content": "北京?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_9",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"location": "北京"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_9", "content": '{"temp": 25}'},
    ]
    async with WireServer([gw.response(gw.text("25°C"))]) as server, gemini(server) as model:
        await model.complete(history, [WEATHER], ModelOptions())
    contents = server.bodies[0]["contents"]
    assert contents[1]["parts"][0]["thoughtSignature"] == SKIP_SIGNATURE
    assert contents[2]["parts"][0]["functionResponse"] == {
        "name": "get_weather",
        "response": {"temp": 25},
        "id": "call_9",
    }


async def test_results_are_named_after_their_own_turn_when_ids_repeat() -> None:
    clock = tw.Tool.from_schema(
        {"name": "get_time", "parameters": {"type": "object", "properties": {}}},
        handler=lambda: "12:00",
    )
    replies = [
        gw.response(gw.call("get_weather", {"location": "北京"})),
        gw.response(gw.call("get_time", {})),  # Gemini gives no ids: both are call 0
        gw.response(gw.text("北京 25°C,12:00")),
    ]
    box = weather_box()
    box.add(clock)
    async with WireServer(replies) as server, gemini(server) as model:
        result = await tw.Runner(model=model, tools=box).run("北京天气和时间?")
    assert result.ok
    answers = [
        p["functionResponse"]["name"]
        for c in server.bodies[2]["contents"]
        for p in c["parts"]
        if "functionResponse" in p
    ]
    assert answers == ["get_weather", "get_time"]


async def test_a_malformed_function_call_goes_back_for_repair() -> None:
    weather = Weather()
    replies = [
        gw.response(gw.text(""), finish="MALFORMED_FUNCTION_CALL"),
        gw.response(gw.call("get_weather", {"location": "北京"})),
        gw.response(gw.text("25°C")),
    ]
    async with WireServer(replies) as server, gemini(server) as model:
        result = await tw.Runner(model=model, tools=weather_box(weather)).run("北京?")
    assert result.ok and result.final_text == "25°C" and weather.seen == ["北京"]
    assert len(result.steps[0].quarantined) == 1
    note = server.bodies[1]["contents"][-1]["parts"][-1]["text"]
    assert "could not be parsed" in note


@pytest.mark.parametrize(
    ("status", "name", "kind", "sent"),
    [
        (400, "INVALID_ARGUMENT", "remote_error", 1),
        (401, "UNAUTHENTICATED", "unauthorized", 1),
        (403, "PERMISSION_DENIED", "forbidden", 1),
        (429, "RESOURCE_EXHAUSTED", "rate_limited", 3),
        (500, "INTERNAL", "remote_error", 3),
        (503, "UNAVAILABLE", "remote_error", 3),
    ],
)
async def test_errors_map_to_kinds_and_only_transient_ones_are_retried(
    status: int, name: str, kind: str, sent: int
) -> None:
    reply = gw.error(status, name)
    async with WireServer(lambda seen: reply) as server, gemini(server) as model:
        with pytest.raises(ModelError) as caught:
            await model.complete(USER, [WEATHER], ModelOptions())
    assert caught.value.kind == kind and caught.value.status == status
    assert len(server.requests) == sent


async def test_a_stream_refused_with_429_is_retried_then_streams() -> None:
    replies = [
        gw.error(429, "RESOURCE_EXHAUSTED", **{"retry-after": "0"}),
        gw.streamed(gw.text("你好")),
    ]
    async with WireServer(replies) as server, gemini(server) as model:
        out = [e async for e in model.stream(USER, [], ModelOptions(stream=True))]
    done = out[-1]
    assert isinstance(done, TurnDone) and done.turn.parsed.content == "你好"
    assert done.turn.finish_reason == "stop" and len(server.requests) == 2


async def test_a_stream_without_a_finish_reason_quarantines_its_calls() -> None:
    events = gw.chunks(gw.call("get_weather", {"location": "北京"}))[:-1]  # no finish chunk
    async with WireServer([Reply(events=events)]) as server, gemini(server) as model:
        out = [e async for e in model.stream(USER, [WEATHER], ModelOptions(stream=True))]
    done = out[-1]
    assert isinstance(done, TurnDone)
    assert done.turn.parsed.calls == () and len(done.turn.parsed.errors) == 1
    assert done.turn.finish_reason == "error"


async def test_the_key_comes_from_gemini_api_key_when_not_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    monkeypatch.setenv("GEMINI_API_KEY", "gm-from-env")
    async with (
        WireServer([gw.response(gw.text("ok"))]) as server,
        Gemini(model=gw.MODEL, base_url=server.url) as model,
    ):
        await model.complete(USER, [], ModelOptions())
    assert server.requests[0].headers["x-goog-api-key"] == "gm-from-env"


async def test_a_refused_setup_leaves_nothing_of_the_sdk_for_a_later_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The SDK's half-built client used to live on in the error's frames until some later
    # collection, whose __del__ put a failing aclose (AttributeError: _async_httpx_client)
    # into whatever event loop ran then: another test's, which anyio failed.
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    loop = asyncio.get_running_loop()
    errors: list[object] = []
    old = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: errors.append(context))
    try:
        with pytest.raises(ModelError) as caught:
            Gemini(model=gw.MODEL)
        assert caught.value.kind == "unauthorized"
        assert "No API key" in str(caught.value)  # the SDK's reason stays in the message
        frames = traceback.walk_tb(caught.value.__cause__.__traceback__)
        assert not [f for f, _ in frames if isinstance(f.f_locals.get("self"), BaseApiClient)]
        del caught, frames  # what is left of the error goes now, in this test's loop
        gc.collect()
        for _ in range(3):
            await asyncio.sleep(0)
        gc.collect()
    finally:
        loop.set_exception_handler(old)
    assert errors == []


async def test_aclose_closes_every_connection_pool_the_sdk_opened() -> None:
    async with WireServer([gw.response(gw.text("ok"))]) as server:
        model = gemini(server)
        await model.complete(USER, [], ModelOptions())
        api = model._client._api_client
        await model.aclose()
    assert api._httpx_client.is_closed  # the sync one too: aio.aclose() leaves it open
    assert api._async_httpx_client is None or api._async_httpx_client.is_closed
    assert all(session.closed for session in api._aiohttp_sessions.values())


async def test_user_images_become_inline_data_and_file_data() -> None:
    async with WireServer([gw.response(gw.text("北京"))]) as server, gemini(server) as model:
        await model.complete(PICTURE, [], ModelOptions())
    text, inline, linked = server.bodies[0]["contents"][0]["parts"]
    assert text == {"text": "这是哪里?"}
    assert inline["inlineData"]["data"] == "iVBORw0KGgo="
    # the SDK writes these fields in snake case; the API reads both spellings
    mime = inline["inlineData"].get("mimeType", inline["inlineData"].get("mime_type"))
    assert mime == "image/png"
    uri = linked["fileData"].get("fileUri", linked["fileData"].get("file_uri"))
    assert uri == "https://example.test/b.jpg"
