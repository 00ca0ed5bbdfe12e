"""A Router over models on different APIs: one history, each route reads it in its own form."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest
from loop_fake_openai import FakeOpenAI, Reply, chunk, completion

from toolwire import Route, Router, Runner, Tool, Toolbox
from toolwire._calls import ToolCall
from toolwire._spec import ToolSpec
from toolwire.models import Message, ModelError, ModelOptions, Offline, OpenAICompatible, Scripted
from toolwire.parsing import parse

pytestmark = pytest.mark.anyio

SEED = {
    "name": "get_weather",
    "description": "获取指定城市的天气信息",
    "parameters": {
        "type": "object",
        "properties": {"location": {"type": "string", "description": "城市名称"}},
        "required": ["location"],
    },
}
TEMPS = {"北京": 25, "上海": 30}


def weather_box() -> Toolbox:
    async def get_weather(location: str) -> dict[str, Any]:
        if location not in TEMPS:
            raise ValueError(f"no data for {location}")
        return {"location": location, "temp": TEMPS[location]}

    return Toolbox([Tool.from_schema(SEED, handler=get_weather)])


def tool_form_is_whole(messages: Sequence[Message]) -> list[tuple[str, str]]:
    """Every tool_call answered by a tool message with its id; (name, result text) pairs."""
    calls = {
        c["id"]: c["function"]["name"]
        for m in messages
        if m["role"] == "assistant"
        for c in m.get("tool_calls") or ()
    }
    answered = [(calls[m["tool_call_id"]], m["content"]) for m in messages if m["role"] == "tool"]
    assert len(answered) == len(calls)
    return answered


@pytest.mark.parametrize("stream", [False, True])
async def test_text_route_fails_mid_run_and_a_tools_route_continues(stream: bool) -> None:
    raw = (
        "我来查一下。\n"
        '<tool_call>\n{"name": "get_weather", "arguments": {"location": "北京"}}\n</tool_call>\n'
        '<tool_call>\n{"name": "get_weather", "arguments": {"location": "上海"}}\n</tool_call>'
    )
    streamed = [chunk({"content": raw[:20]}), chunk({"content": raw[20:]}, finish_reason="stop")]
    first = Reply(chunks=streamed) if stream else completion(raw)
    seen: list[list[Message]] = []

    def hosted(messages: Sequence[Message], tools: Any, options: ModelOptions) -> str:
        seen.append(list(messages))
        return "北京 25°C，上海 30°C"

    async with (
        FakeOpenAI([first, Reply(status=500)]) as server,
        OpenAICompatible(
            model="open-model", base_url=server.base_url, api="text", retries=0, backoff=0.0
        ) as open_model,
    ):
        router = Router(
            [Route(model=open_model, cost=0.1), Route(model=Scripted(hosted, name="hosted"))]
        )
        runner = Runner(model=router, tools=weather_box(), stream=stream)
        result = await runner.run("北京、上海的天气")
    assert result.stop_reason == "final_answer"
    assert result.final_text == "北京 25°C，上海 30°C"
    assert [a.model for a in router.last_attempts] == ["open-model", "hosted"]
    assert router.last_attempts[0].error is not None

    # The hosted model got the tools form: both calls, each result on its own call id.
    (history,) = seen
    answered = tool_form_is_whole(history)
    assert [(n, json.loads(t)["temp"]) for n, t in answered] == [
        ("get_weather", 25),
        ("get_weather", 30),
    ]
    # The run's own history is the tools form too, although a text model made the calls.
    assert result.messages[1]["content"].strip() == "我来查一下。"
    assert len(result.messages[1]["tool_calls"]) == 2

    # The open model's second request (the one that failed) carried the text form.
    sent = server.requests[1]["messages"]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user"]
    reparsed = parse(sent[2]["content"], format="hermes", tools=["get_weather"])
    assert reparsed.content.strip() == "我来查一下。"
    assert [c.parsed_arguments() for c in reparsed.calls] == [
        {"location": "北京"},
        {"location": "上海"},
    ]
    assert sent[3]["content"].count("<tool_response>") == 2
    assert '"temp":25' in sent[3]["content"] and '"temp":30' in sent[3]["content"]


@pytest.mark.parametrize("stream", [False, True])
async def test_tools_route_fails_mid_run_and_a_functions_route_continues(stream: bool) -> None:
    hosted = Scripted(
        [
            [("get_weather", {"location": "北京"}), ("get_weather", {"location": "广州"})],
            ModelError("hosted model overloaded", retryable=True),
        ],
        name="hosted",
    )
    legacy = Offline(api="functions")
    router = Router([Route(model=hosted, cost=0.1), Route(model=legacy, cost=1.0)])
    result = await Runner(model=router, tools=weather_box(), stream=stream).run("北京、广州的天气")
    assert result.stop_reason == "final_answer"
    assert [a.model for a in router.last_attempts] == ["hosted", "offline"]
    # One result per call, the failure included, in the tools form, by call id.
    answered = tool_form_is_whole(result.messages)
    assert json.loads(answered[0][1])["temp"] == 25
    assert json.loads(answered[1][1])["error"]["kind"] == "execution_error"
    # The functions model read its own form: it saw both calls made (it made no new one) and
    # answered from both results, the success and the failure, each under its own arguments.
    assert result.final_text.splitlines()[1:] == [
        "- get_weather(location=北京): location=北京，temp=25",
        "- get_weather(location=广州): 调用失败 (execution_error): ValueError: no data for 广州",
    ]


async def test_a_history_a_route_cannot_read_falls_back_to_the_next_route() -> None:
    odd = ToolCall(id="c1", name="f", arguments='{"not an identifier": 1}')
    history: list[Message] = [
        {"role": "user", "content": "go"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": odd.id,
                    "type": "function",
                    "function": {"name": "f", "arguments": odd.arguments},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "1"},
    ]
    async with (
        FakeOpenAI([]) as server,
        OpenAICompatible(
            model="llama4", base_url=server.base_url, api="text", text_format="pythonic"
        ) as pythonic,
    ):
        router = Router([Route(model=pythonic, cost=0.1), Scripted(["done"], name="hosted")])
        turn = await router.complete(history, [ToolSpec(name="f", input_schema={})], ModelOptions())
    assert turn.parsed.content == "done"
    assert server.requests == []  # nothing unreadable was sent
    assert "cannot be written as a Python call" in (router.last_attempts[0].error or "")
