"""The model <-> tool loop with real toolboxes, the offline and scripted models, and the
OpenAI-compatible client against the local fake server."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from loop_fake_openai import FakeOpenAI, Reply, chunk, completion, tool_call

from toolwire._calls import CallParseError, Parsed, ToolCall
from toolwire._toolbox import Toolbox
from toolwire._tools import Tool
from toolwire.models import ModelError, Offline, OpenAICompatible, Scripted
from toolwire.runner import (
    ApprovalRequired,
    CallQuarantined,
    Route,
    Router,
    RunFinished,
    Runner,
    RunState,
    model_tool,
)

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


class Weather:
    """A simulated weather handler that records concurrency."""

    def __init__(self, delay: float = 0.02) -> None:
        self.delay = delay
        self.active = 0
        self.peak = 0
        self.seen: list[str] = []

    async def __call__(self, location: str) -> dict[str, Any]:
        self.active += 1
        self.peak = max(self.peak, self.active)
        try:
            await asyncio.sleep(self.delay)
            self.seen.append(location)
            return {"location": location, "temp": 25, "humidity": 60}
        finally:
            self.active -= 1


def weather_box(handler: Weather | None = None, **options: Any) -> tuple[Toolbox, Weather]:
    handler = handler or Weather()
    return Toolbox([Tool.from_schema(SEED, handler=handler, **options)]), handler


async def test_offline_seed_prompt_with_the_legacy_function_message() -> None:
    box, weather = weather_box()
    result = await Runner(model=Offline(api="functions"), tools=box).run("北京今天气温如何?")
    assert result.stop_reason == "final_answer"
    assert weather.seen == ["北京"]
    roles = [m["role"] for m in result.messages]
    assert roles == ["user", "assistant", "function", "assistant"]
    assert result.messages[1]["function_call"]["name"] == "get_weather"
    assert json.loads(result.messages[2]["content"])["temp"] == 25
    assert "离线" in result.final_text and "北京" in result.final_text
    assert len(result.steps) == 2


async def test_offline_three_cities_run_concurrently() -> None:
    box, weather = weather_box(Weather(delay=0.05))
    result = await Runner(model=Offline(), tools=box).run("北京、上海、广州的天气")
    assert sorted(weather.seen) == sorted(["北京", "上海", "广州"])
    assert weather.peak == 3
    assert [m["role"] for m in result.messages].count("tool") == 3
    for city in ("北京", "上海", "广州"):
        assert city in result.final_text


async def test_offline_answers_without_a_tool_when_nothing_matches() -> None:
    box, weather = weather_box()
    result = await Runner(model=Offline(), tools=box).run("你好")
    assert result.ok and weather.seen == []
    assert result.calls == []


async def test_parallel_tool_calls_off_runs_one_at_a_time() -> None:
    box, weather = weather_box()
    runner = Runner(model=Offline(), tools=box, parallel_tool_calls=False)
    result = await runner.run("北京、上海、广州的天气")
    assert weather.peak == 1
    assert len(result.calls) == 3
    assert len(result.steps) == 4  # one call per step, then the answer


async def test_tool_choice_none_and_required() -> None:
    box, _ = weather_box()
    none = await Runner(model=Offline(), tools=box, tool_choice="none").run("北京的天气")
    assert none.calls == []
    forced = await Runner(model=Offline(), tools=box, tool_choice="required").run("Beijing?")
    assert len(forced.calls) == 1 and forced.ok  # forced on step 1 only, then it answers


async def test_invalid_arguments_go_back_for_repair() -> None:
    box, weather = weather_box()
    model = Scripted(
        [("get_weather", {"city": "北京"}), ("get_weather", {"location": "北京"}), "25"]
    )
    result = await Runner(model=model, tools=box).run("北京今天气温如何?")
    assert result.ok and result.final_text == "25"
    first = result.results[0]
    assert not first.ok and first.error is not None and first.error.kind == "invalid_arguments"
    repair = model.requests[1].messages[-1]
    assert repair["role"] == "tool" and "location" in repair["content"]
    assert weather.seen == ["北京"]


async def test_repair_budget_exhaustion_stops_the_run() -> None:
    box, _ = weather_box()
    model = Scripted([("get_weather", {"nope": 1})], repeat_last=True)
    result = await Runner(model=model, tools=box, repair_budget=2, max_steps=10).run("x")
    assert result.stop_reason == "repair_budget_exhausted"
    assert len(model.requests) == 3
    assert result.error is not None


async def test_max_steps_gives_a_clear_stop_reason() -> None:
    box, _ = weather_box()
    model = Scripted([("get_weather", {"location": "北京"})], repeat_last=True)
    result = await Runner(model=model, tools=box, max_steps=3).run("loop forever")
    assert result.stop_reason == "max_steps"
    assert len(model.requests) == 3 and not result.ok


async def test_unknown_tool_and_model_error() -> None:
    box, _ = weather_box()
    model = Scripted([("get_wether", {"location": "北京"}), ModelError("down")])
    result = await Runner(model=model, tools=box).run("x")
    assert result.results[0].error is not None
    assert result.results[0].error.kind == "unknown_tool"
    assert result.stop_reason == "model_error" and result.state is not None


async def test_approval_pauses_and_resumes_through_json() -> None:
    deleted: list[str] = []

    def delete_file(path: str) -> str:
        deleted.append(path)
        return f"deleted {path}"

    danger = Tool.from_schema(
        {
            "name": "delete_file",
            "description": "Delete a file",
            "parameters": {
                "type": "object",
                "properties": {"path": {"type": "string"}},
                "required": ["path"],
            },
        },
        handler=delete_file,
        requires_approval=True,
    )
    box, weather = weather_box()
    box.add(danger)
    calls = [
        ("get_weather", {"location": "北京"}),
        ("delete_file", {"path": "/a"}),
        ("delete_file", {"path": "/b"}),
    ]
    model = Scripted([calls, "done"])
    runner = Runner(model=model, tools=box)
    paused = await runner.run("clean up")
    assert paused.stop_reason == "approval_required"
    assert [c.name for c in paused.pending] == ["delete_file", "delete_file"]
    assert weather.seen == ["北京"] and deleted == []
    saved = json.dumps(json.loads(paused.state.to_json()))  # through plain JSON
    a, b = (c.id for c in paused.pending)
    result = await runner.resume(RunState.from_json(saved), approve=[a], deny=[b])
    assert result.ok and result.final_text == "done"
    assert deleted == ["/a"]
    tool_msgs = [m for m in model.requests[1].messages if m["role"] == "tool"]
    assert len(tool_msgs) == 3  # one per call, in call order
    assert "denied" in tool_msgs[2]["content"]


async def test_undecided_calls_stay_pending() -> None:
    tool = Tool.from_schema(SEED, handler=Weather(), requires_approval=True)
    runner = Runner(model=Scripted([("get_weather", {"location": "x"}), "ok"]), tools=[tool])
    paused = await runner.run("x")
    again = await runner.resume(paused.state.to_dict())
    assert again.stop_reason == "approval_required" and len(again.pending) == 1


async def test_cancelling_a_run_cancels_in_flight_tools() -> None:
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def slow(location: str) -> str:
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return "never"

    box = Toolbox([Tool.from_schema(SEED, handler=slow)])
    runner = Runner(model=Offline(), tools=box)
    task = asyncio.create_task(runner.run("北京天气"))
    await asyncio.wait_for(started.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.wait_for(cancelled.wait(), 10)


async def test_cancelling_a_run_cancels_the_model_request() -> None:
    box, _ = weather_box()
    async with FakeOpenAI([Reply(hang=True)]) as server:
        model = OpenAICompatible(model="m", base_url=server.base_url, retries=0)
        async with model:
            task = asyncio.create_task(Runner(model=model, tools=box).run("北京天气"))
            while not server.requests:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await asyncio.wait_for(server.disconnected.wait(), 10)


async def test_top_k_and_filters_limit_the_tools_sent() -> None:
    def make(name: str, description: str, tags: frozenset[str] = frozenset()) -> Tool:
        schema = {"name": name, "description": description, "parameters": {"type": "object"}}
        return Tool.from_schema(schema, handler=lambda: "ok", tags=tags)

    tools = [
        Tool.from_schema(SEED, handler=Weather()),
        make("run_query", "Run a read-only SQL query on the shop database"),
        make("send_email", "Send an email to a customer"),
        make("translate", "Translate text between languages", frozenset({"text"})),
        make("stock_price", "股票价格查询"),
    ]
    model = Scripted(["ok", "ok", "ok"])
    await Runner(model=model, tools=tools, top_k=2).run("北京今天天气怎么样")
    assert [s.name for s in model.requests[0].tools][:1] == ["get_weather"]
    assert len(model.requests[0].tools) == 2
    await Runner(model=model, tools=tools, include=["run_*", "send_*"]).run("x")
    assert [s.name for s in model.requests[1].tools] == ["run_query", "send_email"]
    await Runner(model=model, tools=tools, tags=["text"]).run("x")
    assert [s.name for s in model.requests[2].tools] == ["translate"]


async def test_stream_yields_events_in_order() -> None:
    box, _ = weather_box()
    runner = Runner(model=Offline(), tools=box)
    kinds = [e.kind async for e in runner.stream("北京、上海的天气")]
    assert kinds[0] == "step_started"
    assert kinds.count("call_finished") == 2 and kinds.count("tool_result") == 2
    assert kinds.index("call_finished") < kinds.index("tool_result")
    assert kinds[-1] == "run_finished" and kinds.count("step_finished") == 2


async def test_router_falls_back_and_routes_by_language() -> None:
    zh = Scripted([ModelError("zh model down", retryable=True)], name="zh-model")
    en = Scripted(["fallback answer"], name="en-model")
    router = Router(
        [
            Route(model=zh, languages=frozenset({"zh"}), cost=0.1),
            Route(model=en, cost=1.0),
        ]
    )
    result = await Runner(model=router, tools=[]).run("你好")
    assert result.final_text == "fallback answer"
    assert [a.model for a in router.last_attempts] == ["zh-model", "en-model"]
    english = Scripted(["hello"], name="en2")
    router2 = Router([Route(model=zh, languages=frozenset({"zh"})), Route(model=english)])
    assert (await Runner(model=router2).run("hi there")).final_text == "hello"
    # Mixed APIs are allowed: the router keeps the tools form (test_router_mixed_apis.py).
    assert Router([Offline(api="functions"), Offline()]).api == "tools"


async def test_model_tool_lets_one_model_check_anothers_work() -> None:
    def checker(messages: Any, tools: Any, options: Any) -> str:
        code = messages[-1]["content"]
        assert messages[0]["role"] == "system"
        return "PASS" if "def " in code else "FAIL: no function"

    check = model_tool(Scripted(checker), "check_code", "Review code", "You review code.")
    writer = Scripted([("check_code", {"input": "def f(): return 1"}), "reviewed"])
    result = await Runner(model=writer, tools=[check]).run("write f")
    assert result.results[0].value == "PASS"


# --- through the OpenAI wire -------------------------------------------------------------


async def test_multi_step_run_over_the_wire() -> None:
    box, weather = weather_box()
    replies = [
        completion(tool_calls=[tool_call("c1", "get_weather", {"location": "北京"})]),
        completion(
            tool_calls=[
                tool_call("c2", "get_weather", {"location": "上海"}),
                tool_call("c3", "get_weather", {"location": "广州"}),
            ]
        ),
        completion("北京 25°C"),
    ]
    async with (
        FakeOpenAI(replies) as server,
        OpenAICompatible(model="m", base_url=server.base_url) as model,
    ):
        result = await Runner(model=model, tools=box).run("北京今天气温如何?")
    assert result.final_text == "北京 25°C"
    assert weather.seen[0] == "北京" and len(weather.seen) == 3
    last = server.requests[2]["messages"]
    assert [m["role"] for m in last] == ["user", "assistant", "tool", "assistant", "tool", "tool"]
    assert last[2]["tool_call_id"] == "c1"
    assert result.usage["total_tokens"] == 45


async def test_legacy_function_call_over_the_wire() -> None:
    box, _ = weather_box()
    replies = [
        completion(function_call={"name": "get_weather", "arguments": '{"location": "北京"}'}),
        completion("晴, 25°C"),
    ]
    async with FakeOpenAI(replies) as server:
        model = OpenAICompatible(model="gpt-4", base_url=server.base_url, api="functions")
        async with model:
            result = await Runner(model=model, tools=box).run("北京今天气温如何?")
    assert result.final_text == "晴, 25°C"
    second = server.requests[1]["messages"]
    assert second[1]["function_call"]["name"] == "get_weather"
    assert second[2]["role"] == "function" and second[2]["name"] == "get_weather"


async def test_stream_cut_mid_call_is_quarantined_and_never_resent() -> None:
    box, weather = weather_box()
    cut = Reply(
        chunks=[
            chunk({"role": "assistant", "content": ""}),
            chunk({"tool_calls": [{"index": 0, "id": "a", "function": {"name": "get_weather"}}]}),
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"location": "北'}}]}),
        ],
        cut_after=3,
    )
    good = Reply(
        chunks=[
            chunk(
                {
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": "b",
                            "type": "function",
                            "function": {
                                "name": "get_weather",
                                "arguments": '{"location": "北京"}',
                            },
                        }
                    ]
                }
            ),
            chunk({}, finish_reason="tool_calls"),
        ]
    )
    final = Reply(chunks=[chunk({"content": "25°C"}), chunk({}, finish_reason="stop")])
    async with (
        FakeOpenAI([cut, good, final]) as server,
        OpenAICompatible(model="m", base_url=server.base_url) as model,
    ):
        events = [e async for e in Runner(model=model, tools=box).stream("北京天气")]
    result = events[-1].result
    assert isinstance(events[-1], RunFinished) and result.final_text == "25°C"
    assert any(isinstance(e, CallQuarantined) for e in events)
    assert weather.seen == ["北京"]
    resent = json.dumps(server.requests[1]["messages"], ensure_ascii=False)
    assert '"tool_calls"' not in resent  # the broken call never went back as a call
    assert "could not be parsed" in resent


async def test_text_mode_run_over_the_wire() -> None:
    box, weather = weather_box()
    raw = '<tool_call>\n{"name": "get_weather", "arguments": {"location": "广州"}}\n</tool_call>'
    async with FakeOpenAI([completion(raw), completion("广州 25°C")]) as server:
        model = OpenAICompatible(model="m", base_url=server.base_url, api="text")
        async with model:
            result = await Runner(model=model, tools=box).run("广州天气")
    assert result.final_text == "广州 25°C" and weather.seen == ["广州"]
    follow = server.requests[1]["messages"]
    assert follow[-2] == {"role": "assistant", "content": raw}
    assert follow[-1]["role"] == "user" and "<tool_response>" in follow[-1]["content"]


async def test_unparseable_call_in_a_paused_step_is_reported_after_resume() -> None:
    deleted: list[str] = []

    def delete_file(path: str) -> str:
        deleted.append(path)
        return f"deleted {path}"

    danger = Tool.from_schema(
        {"name": "delete_file", "parameters": {"type": "object", "properties": {"path": {}}}},
        handler=delete_file,
        requires_approval=True,
    )
    broken = CallParseError(message="unterminated JSON", raw='{"name": "delete_file", "ar')
    step = Parsed(
        calls=(ToolCall(id="d1", name="delete_file", arguments='{"path": "/a"}'),),
        errors=(broken,),
    )
    model = Scripted([step, "done"])
    runner = Runner(model=model, tools=[danger])
    paused = await runner.run("clean up")
    assert paused.stop_reason == "approval_required"
    saved = json.dumps(json.loads(paused.state.to_json()))  # through plain JSON
    assert RunState.from_json(saved).quarantined == (broken,)
    result = await runner.resume(RunState.from_json(saved), approve=["d1"])
    assert result.ok
    assert deleted == ["/a"]
    sent = model.requests[1].messages
    notes = [m for m in sent if m["role"] == "user" and broken.raw in str(m["content"])]
    assert len(notes) == 1  # the model learns the broken call did not run, exactly once
    assert result.state is None or result.state.quarantined == ()


async def test_approval_event_in_stream() -> None:
    tool = Tool.from_schema(SEED, handler=Weather(), requires_approval=True)
    runner = Runner(model=Scripted([("get_weather", {"location": "x"})]), tools=[tool])
    events = [e async for e in runner.stream("x")]
    assert any(isinstance(e, ApprovalRequired) for e in events)
    assert events[-1].result.stop_reason == "approval_required"


def test_run_state_rejects_unknown_versions() -> None:
    with pytest.raises(ValueError, match="version"):
        RunState.from_json('{"version": 99, "messages": []}')
    state = RunState(
        messages=({"role": "user", "content": "x"},), pending=(ToolCall(id="1", name="a"),)
    )
    assert RunState.from_json(state.to_json()) == state
