"""``OpenAICompatible(constrain=...)`` against a local OpenAI-wire server: each engine gets the
grammar in its own parameter (checked by compiling what was sent with llguidance), the
constrained reply is parsed into calls, and a server that refuses the parameter is a clear
error."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from loop_fake_openai import FakeOpenAI, Reply, completion, tool_call

from toolwire._spec import ToolSpec
from toolwire.models import ModelError, ModelOptions, OpenAICompatible

sys.path.insert(0, str(Path(__file__).parents[1] / "grammar"))
from grammar_helpers import Engine, llg

pytestmark = pytest.mark.anyio

WEATHER = ToolSpec(
    name="get_weather",
    input_schema={
        "type": "object",
        "properties": {"location": {"type": "string"}},
        "required": ["location"],
    },
)
USER = [{"role": "user", "content": "北京今天气温如何?"}]
HERMES = '<tool_call>\n{"name": "get_weather", "arguments": {"location": "北京"}}\n</tool_call>'


def _model(server: FakeOpenAI, **kw: Any) -> OpenAICompatible:
    return OpenAICompatible(model="m", base_url=server.base_url, retries=0, **kw)


@pytest.mark.parametrize(
    ("engine", "where"),
    [
        ("vllm", lambda body: body["structured_outputs"]["grammar"]),
        ("sglang", lambda body: body["ebnf"]),
        ("llama.cpp", lambda body: body["grammar"]),
    ],
)
async def test_text_mode_sends_a_gbnf_grammar_the_engine_reads(engine: str, where: Any) -> None:
    async with (
        FakeOpenAI([completion("Checking. " + HERMES)]) as server,
        _model(server, api="text", text_format="hermes", constrain=engine) as m,
    ):
        turn = await m.complete(USER, [WEATHER], ModelOptions())
    grammar = where(server.requests[0])
    sent = Engine.of(grammar, "gbnf")
    assert sent.accepts("Checking. " + HERMES)
    assert not sent.accepts(HERMES.replace("location", "city"))
    assert [(c.name, json.loads(c.arguments)) for c in turn.parsed.calls] == [
        ("get_weather", {"location": "北京"})
    ]


async def test_text_mode_respects_tool_choice_and_parallel() -> None:
    async with (
        FakeOpenAI([completion(HERMES)]) as server,
        _model(server, api="text", constrain="llama.cpp") as m,
    ):
        await m.complete(
            USER, [WEATHER], ModelOptions(tool_choice="required", parallel_tool_calls=False)
        )
    sent = Engine.of(server.requests[0]["grammar"], "gbnf")
    assert sent.accepts(HERMES)
    assert not sent.accepts("No call.")
    assert not sent.accepts(HERMES + "\n" + HERMES)


async def test_vllm_tools_mode_sends_a_structural_tag_for_auto_only() -> None:
    reply = completion(None, [tool_call("c1", "get_weather", {"location": "北京"})])
    async with FakeOpenAI([reply, reply]) as server, _model(server, constrain="vllm") as m:
        await m.complete(USER, [WEATHER], ModelOptions())
        await m.complete(USER, [WEATHER], ModelOptions(tool_choice="required"))
    tag = json.loads(server.requests[0]["structured_outputs"]["structural_tag"])
    assert tag["triggers"] == ["<tool_call>"]
    assert tag["structures"][0]["begin"].startswith('<tool_call>\n{"name": "get_weather"')
    tags = [
        llg.StructTag(trigger="<tool_call>", begin=s["begin"], grammar=s["schema"], end=s["end"])
        for s in tag["structures"]
    ]
    assert Engine.of(llg.StructTag.to_grammar(tags, assume_special=False), "lark").accepts(
        "Hi " + HERMES
    )
    # required: vLLM enforces its own tool_choice; nothing is added
    assert "structured_outputs" not in server.requests[1]
    assert server.requests[1]["tool_choice"] == "required"


async def test_sglang_tools_mode_sends_the_tag_as_response_format() -> None:
    async with FakeOpenAI([completion("hi")]) as server, _model(server, constrain="sglang") as m:
        await m.complete(USER, [WEATHER], ModelOptions())
    assert server.requests[0]["response_format"]["type"] == "structural_tag"


async def test_openai_tools_are_strict() -> None:
    async with FakeOpenAI([completion("hi")]) as server, _model(server, constrain="openai") as m:
        await m.complete(USER, [WEATHER], ModelOptions())
    fn = server.requests[0]["tools"][0]["function"]
    assert fn["strict"] is True and fn["parameters"]["additionalProperties"] is False


@pytest.mark.parametrize("engine", ["ollama", "openai"])
async def test_json_engines_force_one_bare_json_call_in_text_mode(engine: str) -> None:
    reply = '{"name": "get_weather", "parameters": {"location": "北京"}}'
    async with (
        FakeOpenAI([completion(reply), completion("words")]) as server,
        _model(server, api="text", text_format="llama3_json", constrain=engine) as m,
    ):
        turn = await m.complete(USER, [WEATHER], ModelOptions(tool_choice="required"))
        await m.complete(USER, [WEATHER], ModelOptions())
    fmt = server.requests[0]["response_format"]
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"].get("strict", False) is (engine == "openai")
    sent = Engine.of(
        llg.grammar_from("json_schema", json.dumps(fmt["json_schema"]["schema"])), "llguidance"
    )
    assert sent.accepts(reply)
    assert not sent.accepts(reply.replace("get_weather", "get_time"))
    assert [c.name for c in turn.parsed.calls] == ["get_weather"]
    assert "response_format" not in server.requests[1]  # auto: a JSON Schema cannot leave it open


async def test_a_server_that_refuses_the_parameter_is_a_clear_error() -> None:
    refusal = Reply(status=400, body={"error": {"message": "Unrecognized request argument: ebnf"}})
    async with FakeOpenAI([refusal]) as server, _model(server, api="text", constrain="sglang") as m:
        with pytest.raises(
            ModelError, match=r"refused the constrained request.*sglang.*ebnf"
        ) as info:
            await m.complete(USER, [WEATHER], ModelOptions())
    assert info.value.status == 400


def test_impossible_combinations_fail_at_construction() -> None:
    with pytest.raises(ValueError, match="unknown constrain engine"):
        OpenAICompatible(model="m", constrain="tgi")
    with pytest.raises(ValueError, match="Ollama constrains JSON output only"):
        OpenAICompatible(model="m", constrain="ollama")
    with pytest.raises(ValueError, match="text_format='llama3_json'"):
        OpenAICompatible(model="m", api="text", text_format="hermes", constrain="openai")
    with pytest.raises(ValueError, match="functions"):
        OpenAICompatible(model="m", api="functions", constrain="vllm")
