"""The native clients inside the loop's other features, unchanged: a Router mixing Anthropic,
Gemini and OpenAI-compatible routes over one history, approvals (a paused run's state carries
the echoed reasoning) and ``model_tool``."""

from __future__ import annotations

import json
from collections.abc import Callable

import models_anthropic_wire as aw
import models_gemini_wire as gw
import models_responses_wire as rw
import pytest
from models_wire_server import Reply, Seen, Weather, WireServer, weather_box

import toolwire as tw
from toolwire.models import ModelOptions, OpenAICompatible
from toolwire.models.anthropic import Anthropic
from toolwire.models.gemini import SKIP_SIGNATURE, Gemini
from toolwire.models.openai_responses import OpenAIResponses

pytestmark = pytest.mark.anyio


def by_route(queues: dict[str, list[Reply]]) -> Callable[[Seen], Reply]:
    """Replies per API, so one server can stand behind several routes."""

    def reply(seen: Seen) -> Reply:
        route = (
            "anthropic"
            if seen.path.endswith("/messages")
            else "chat"
            if seen.path.endswith("/chat/completions")
            else "responses"
            if seen.path.endswith("/responses")
            else "gemini"
        )
        return queues[route].pop(0)

    return reply


def chat_answer(text: str) -> Reply:
    return Reply(
        body={
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1700000000,
            "model": "qwen2.5-7b-instruct",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 50, "completion_tokens": 9, "total_tokens": 59},
        }
    )


async def test_a_router_mixes_anthropic_gemini_and_openai_compatible_over_one_history() -> None:
    weather = Weather()
    overloaded = aw.error(529, "overloaded_error")
    queues = {
        "anthropic": [
            aw.message(
                aw.thinking("先查北京", "sig-claude=="),
                aw.tool_use("toolu_1", "get_weather", {"location": "北京"}),
            ),
            overloaded,
            overloaded,
            aw.error(400, "invalid_request_error"),
        ],
        "gemini": [
            gw.response(gw.call("get_weather", {"location": "上海"}, sig="c2lnLWdlbWluaQ==")),
            gw.error(500, "INTERNAL"),
            gw.error(500, "INTERNAL"),
        ],
        "chat": [chat_answer("北京、上海都是 25°C。")],
    }
    async with WireServer(by_route(queues)) as server:
        claude = Anthropic(
            model="claude-sonnet-4-5", base_url=server.url, api_key="k", retries=1, backoff=0
        )
        gemini = Gemini(model=gw.MODEL, base_url=server.url, api_key="k", retries=1, backoff=0)
        local = OpenAICompatible(model="qwen2.5-7b-instruct", base_url=f"{server.url}/v1")
        router = tw.Router(
            [
                tw.Route(model=claude, cost=0.1),
                tw.Route(model=gemini, cost=0.2),
                tw.Route(model=local, cost=0.3),
            ]
        )
        result = await tw.Runner(model=router, tools=weather_box(weather)).run("北京和上海?")
        for model in (claude, gemini, local):
            await model.aclose()
    assert result.ok and result.final_text == "北京、上海都是 25°C。"
    assert weather.seen == ["北京", "上海"]
    paths = [seen.path.rsplit("/", 1)[-1] for seen in server.requests]
    assert paths == [
        "messages",  # step 1: Claude calls get_weather(北京)
        "messages",  # step 2: overloaded twice (one retry) ...
        "messages",
        f"{gw.MODEL}:generateContent",  # ... so Gemini calls get_weather(上海)
        "messages",  # step 3: Claude refuses (400, not retried)
        f"{gw.MODEL}:generateContent",  # Gemini fails twice
        f"{gw.MODEL}:generateContent",
        "completions",  # the OpenAI-compatible route answers
    ]
    # Gemini, asked in step 2, sees Claude's turn rebuilt with the documented stand-in signature
    gemini_first = server.requests[3].body["contents"]
    assert gemini_first[1]["parts"][0]["thoughtSignature"] == SKIP_SIGNATURE
    assert gemini_first[2]["parts"][0]["functionResponse"]["name"] == "get_weather"
    # Claude, asked again in step 3, gets its own thinking block back, and Gemini's turn rebuilt
    claude_again = server.requests[4].body["messages"]
    assert claude_again[1]["content"][0]["signature"] == "sig-claude=="
    assert claude_again[3]["content"][0]["type"] == "tool_use"
    assert claude_again[3]["content"][0]["input"] == {"location": "上海"}
    # Gemini, asked again, echoes its own signed part
    gemini_again = server.requests[5].body["contents"]
    assert gemini_again[3]["parts"][0]["thoughtSignature"] == "c2lnLWdlbWluaQ=="
    # the OpenAI-compatible route gets plain Chat Completions messages, no echo key
    chat = server.requests[7].body["messages"]
    assert "toolwire_echo" not in json.dumps(chat)
    assert [m["role"] for m in chat] == ["user", "assistant", "tool", "assistant", "tool"]


async def test_approvals_pause_and_resume_with_the_reasoning_kept_in_the_state() -> None:
    weather = Weather()
    replies = [
        aw.message(
            aw.thinking("要先问一下", "sig-approval=="),
            aw.tool_use("toolu_1", "get_weather", {"location": "北京"}),
        ),
        aw.message(aw.text("北京 25°C。")),
    ]
    box = weather_box(weather, requires_approval=True)
    async with (
        WireServer(replies) as server,
        Anthropic(model="claude-sonnet-4-5", base_url=server.url, api_key="k") as claude,
    ):
        runner = tw.Runner(model=claude, tools=box)
        paused = await runner.run("北京?")
        assert paused.stop_reason == "approval_required" and weather.seen == []
        assert paused.state is not None
        stored = json.dumps(paused.state.to_dict(), ensure_ascii=False)  # e.g. kept in a database
        result = await runner.resume(stored, approve=["toolu_1"])
    assert result.ok and result.final_text == "北京 25°C。" and weather.seen == ["北京"]
    assistant = server.bodies[1]["messages"][1]
    assert assistant["content"][0] == {
        "type": "thinking",
        "thinking": "要先问一下",
        "signature": "sig-approval==",
    }


@pytest.mark.slow
async def test_model_tool_lets_one_native_model_check_another() -> None:
    queues = {
        "responses": [
            rw.response(rw.function_call("call_1", "check_code", {"input": "SELECT * FROM t"})),
            rw.response(rw.message("审查意见:缺少 LIMIT。")),
        ],
        "anthropic": [aw.message(aw.text("缺少 LIMIT,可能返回过多行。"))],
    }
    async with WireServer(by_route(queues)) as server:
        writer = OpenAIResponses(model="gpt-5-mini", base_url=f"{server.url}/v1", api_key="k")
        checker = Anthropic(model="claude-sonnet-4-5", base_url=server.url, api_key="k")
        reviewer = tw.model_tool(
            checker, "check_code", "请审查这段代码。", instructions="你是严格的 SQL 审查员。"
        )
        result = await tw.Runner(model=writer, tools=[reviewer]).run("写一个查询并审查")
        await writer.aclose()
        await checker.aclose()
    assert result.ok and result.final_text == "审查意见:缺少 LIMIT。"
    asked = server.requests[1].body
    assert asked["system"][0]["text"] == "你是严格的 SQL 审查员。"
    assert asked["messages"][0]["content"][0]["text"] == "SELECT * FROM t"
    assert "tools" not in asked  # the checker is asked without tools
    answered = server.requests[2].body["input"][-1]
    assert answered["type"] == "function_call_output" and "LIMIT" in answered["output"]


def _gemini_history() -> list[dict[str, object]]:
    """Two turns of Gemini's id-less calls: both are toolwire_call_0."""
    out: list[dict[str, object]] = [{"role": "user", "content": "北京,然后上海?"}]
    for city in ("北京", "上海"):
        call = {
            "id": "toolwire_call_0",
            "type": "function",
            "function": {"name": "get_weather", "arguments": json.dumps({"location": city})},
        }
        out.append({"role": "assistant", "content": None, "tool_calls": [call]})
        out.append({"role": "tool", "tool_call_id": "toolwire_call_0", "content": city})
    return out


async def test_call_ids_repeated_across_turns_go_out_distinct_with_their_results() -> None:
    queues = {
        "anthropic": [aw.message(aw.text("好"))],
        "responses": [rw.response(rw.message("好"))],
    }
    async with WireServer(by_route(queues)) as server:
        async with Anthropic(model="claude-sonnet-4-5", base_url=server.url, api_key="k") as c:
            await c.complete(_gemini_history(), [], ModelOptions())
        async with OpenAIResponses(
            model="gpt-5-mini", base_url=f"{server.url}/v1", api_key="k"
        ) as r:
            await r.complete(_gemini_history(), [], ModelOptions())
    messages = server.bodies[0]["messages"]
    uses = [b["id"] for m in messages for b in m["content"] if b["type"] == "tool_use"]
    results = [
        (b["tool_use_id"], b["content"])
        for m in messages
        for b in m["content"]
        if b["type"] == "tool_result"
    ]
    assert uses == ["toolwire_call_0", "toolwire_call_0_3"]
    assert results == [("toolwire_call_0", "北京"), ("toolwire_call_0_3", "上海")]
    items = server.bodies[1]["input"]
    calls = [i["call_id"] for i in items if i.get("type") == "function_call"]
    outputs = [
        (i["call_id"], i["output"]) for i in items if i.get("type") == "function_call_output"
    ]
    assert calls == ["toolwire_call_0", "toolwire_call_0_3"]
    assert outputs == [("toolwire_call_0", "北京"), ("toolwire_call_0_3", "上海")]


async def test_a_streamed_router_turn_keeps_the_answering_models_echo() -> None:
    queues = {
        "anthropic": [
            aw.streamed(
                aw.thinking("先查", "sig-stream=="),
                aw.tool_use("toolu_1", "get_weather", {"location": "北京"}),
            ),
            aw.streamed(aw.text("25°C")),
        ]
    }
    async with (
        WireServer(by_route(queues)) as server,
        Anthropic(model="claude-sonnet-4-5", base_url=server.url, api_key="k") as claude,
    ):
        runner = tw.Runner(model=tw.Router([claude]), tools=weather_box(), stream=True)
        result = await runner.run("北京?")
    assert result.ok and result.final_text == "25°C"
    assert server.bodies[1]["messages"][1]["content"][0]["signature"] == "sig-stream=="
    assert "router_writer" not in json.dumps(result.to_dict(), default=str)
