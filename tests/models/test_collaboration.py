"""The seed's "GPT-4 writes the code -> ERNIE checks it", as docs/models.md shows it: ERNIE
through Baidu's OpenAI-compatible endpoint, GPT-4 through the Responses API, both played by a
local server speaking those wire formats."""

from __future__ import annotations

import json

import models_responses_wire as rw
import pytest
from models_wire_server import Reply, Seen, WireServer

import toolwire as tw
from toolwire.models import Model, OpenAICompatible, OpenAIResponses

pytestmark = pytest.mark.anyio

FIRST = "def total(prices):\n    return float(sum(prices))\n"
SECOND = (
    "from decimal import Decimal\n\n"
    "def total(prices: list[Decimal]) -> Decimal:\n    return sum(prices, Decimal(0))\n"
)


def clients(gpt_url: str, ernie_url: str) -> tuple[OpenAIResponses, OpenAICompatible]:
    """The two models of docs/models.md, with the base URLs as parameters."""
    gpt4 = OpenAIResponses(model="gpt-4.1", base_url=gpt_url, api_key="sk-openai")
    ernie = OpenAICompatible(
        model="ernie-4.5-turbo-128k", base_url=ernie_url, api_key="qianfan-key", name="ernie"
    )
    return gpt4, ernie


def collaboration(gpt4: Model, ernie: Model) -> tw.Runner:
    """The example of docs/models.md: ERNIE becomes a tool GPT-4 calls."""
    review = tw.model_tool(
        ernie,
        "review_code",
        "Ask the finance domain reviewer to check code before it ships.",
        instructions="你是金融行业代码审查员:金额不得使用 float。回答 APPROVE 或 REJECT 加理由。",
    )
    return tw.Runner(
        model=gpt4,
        tools=[review],
        instructions="Write the code, have it reviewed, fix what the reviewer rejects.",
        max_steps=6,
    )


def chat(text: str) -> Reply:
    return Reply(
        body={
            "id": "chatcmpl-ernie",
            "object": "chat.completion",
            "created": 1700000000,
            "model": "ernie-4.5-turbo-128k",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 80, "completion_tokens": 20, "total_tokens": 100},
        }
    )


def the_two_models(seen: Seen) -> Reply:
    """GPT-4 on /v1/responses submits a draft, revises after a REJECT; ERNIE on
    /v1/chat/completions applies the rule to the code it is given."""
    if seen.path.endswith("/chat/completions"):
        code = seen.body["messages"][-1]["content"]
        if "float(" in code:
            return chat("REJECT: 金额使用了 float,会有舍入误差;请改用 decimal.Decimal。")
        return chat("APPROVE: 金额保持 Decimal。")
    reviews = [i["output"] for i in seen.body["input"] if i.get("type") == "function_call_output"]
    if not reviews:
        return rw.response(rw.function_call("call_1", "review_code", {"input": FIRST}))
    if reviews[-1].startswith("REJECT"):
        return rw.response(rw.function_call("call_2", "review_code", {"input": SECOND}))
    return rw.response(rw.message(f"最终代码(审查:{reviews[-1]}):\n{SECOND}"))


async def test_gpt4_writes_and_ernie_checks_through_its_openai_compatible_endpoint() -> None:
    async with WireServer(the_two_models) as server:
        gpt4, ernie = clients(f"{server.url}/v1", f"{server.url}/v1")
        async with gpt4, ernie:
            result = await collaboration(gpt4, ernie).run(
                "Write total(prices) for invoice amounts."
            )
    assert result.ok and "APPROVE" in result.final_text and "Decimal" in result.final_text
    assert [r.value.split(":")[0] for r in result.results] == ["REJECT", "APPROVE"]
    ernie_requests = [s for s in server.requests if s.path.endswith("/chat/completions")]
    assert len(ernie_requests) == 2
    first = ernie_requests[0]
    assert first.headers["authorization"] == "Bearer qianfan-key"
    assert first.body["model"] == "ernie-4.5-turbo-128k"
    assert first.body["messages"][0]["role"] == "system" and "float" in json.dumps(
        first.body["messages"][0], ensure_ascii=False
    )
    gpt_requests = [s for s in server.requests if s.path.endswith("/responses")]
    assert gpt_requests[0].headers["authorization"] == "Bearer sk-openai"
    assert gpt_requests[0].body["tools"][0]["name"] == "review_code"
