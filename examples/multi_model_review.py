"""The seed's multi-model collaboration: "GPT-4 writes code -> ERNIE checks it".

Runs offline with two scripted stand-ins (no network, no API key):
- the *writer* (standing in for GPT-4) writes a function and then asks the checker;
- the *checker* (standing in for ERNIE) is exposed to the writer as a tool with
  ``model_tool`` and applies real checks: the code must compile and follow a domain rule
  (money is never a float).

Swap either ``Scripted`` for ``OpenAICompatible(model=..., base_url=...)`` to use real models.

    python examples/multi_model_review.py
"""

from __future__ import annotations

import ast
import asyncio
from typing import Any

from toolwire.models import Scripted
from toolwire.runner import Runner, model_tool

FIRST_DRAFT = "def total(prices):\n    return float(sum(prices))\n"
SECOND_DRAFT = (
    "from decimal import Decimal\n\n"
    "def total(prices: list[Decimal]) -> Decimal:\n    return sum(prices, Decimal(0))\n"
)


def checker(messages: list[dict[str, Any]], tools: Any, options: Any) -> str:
    """The reviewer: compiles the code and checks the industry rule."""
    code = messages[-1]["content"]
    try:
        tree = ast.parse(code)
    except SyntaxError as exc:
        return f"REJECT: does not compile ({exc.msg}, line {exc.lineno})"
    floats = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and getattr(n.func, "id", None) == "float"
    ]
    if floats:
        return "REJECT: money must not be a float (rounding errors); use decimal.Decimal"
    return "APPROVE: compiles, amounts stay Decimal"


def writer(messages: list[dict[str, Any]], tools: Any, options: Any) -> Any:
    """The author: submits a draft, revises it after a rejection, then reports."""
    reviews = [m["content"] for m in messages if m["role"] == "tool"]
    if not reviews:
        return [("review_code", {"input": FIRST_DRAFT})]
    if reviews[-1].startswith("REJECT") and len(reviews) == 1:
        return [("review_code", {"input": SECOND_DRAFT})]
    return f"Final code (review: {reviews[-1]}):\n{SECOND_DRAFT}"


async def main() -> None:
    review = model_tool(
        Scripted(checker, name="ernie-standin"),
        "review_code",
        "Ask the domain reviewer to check a piece of code before it ships.",
        instructions="You check code for compile errors and the finance team's rules.",
    )
    runner = Runner(model=Scripted(writer, name="gpt4-standin"), tools=[review], max_steps=5)
    result = await runner.run("Write total(prices) for invoice amounts.")
    for step in result.steps:
        for call, outcome in zip(step.calls, step.results, strict=True):
            print(f"step {step.index}: writer -> {call.name}: {outcome.value}")
    print(result.final_text)


if __name__ == "__main__":
    asyncio.run(main())
