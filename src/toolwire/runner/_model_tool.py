"""``model_tool``: one model exposed as a tool that another model can call."""

from __future__ import annotations

from collections.abc import Sequence

from toolwire._tools import Tool
from toolwire.models._base import Message, Model, ModelOptions
from toolwire.runner._runner import Runner


def model_tool(
    model: Model,
    name: str,
    description: str,
    instructions: str = "",
    *,
    tools: Sequence[Tool] = (),
    max_steps: int = 4,
) -> Tool:
    """A tool whose handler asks ``model`` (with ``instructions`` as its system prompt).

    The seed's "GPT-4 writes the code -> ERNIE checks it": the checker becomes a tool the
    writer (or a coordinator) calls with ``{"input": "..."}`` and gets the checker's answer.
    Given ``tools``, the inner model runs its own loop with them (at most ``max_steps``).

    Example::

        checker = tw.model_tool(ernie, "check_code", "Review code for domain rules.",
                                instructions="You are a strict reviewer...")
        runner = tw.Runner(model=gpt4, tools=[checker])
    """
    inner = Runner(model=model, tools=list(tools), max_steps=max_steps) if tools else None

    async def handler(input: str) -> str:
        messages: list[Message] = []
        if instructions:
            messages.append({"role": "system", "content": instructions})
        messages.append({"role": "user", "content": input})
        if inner is not None:
            result = await inner.run(messages)
            return result.final_text
        turn = await model.complete(messages, [], ModelOptions(tool_choice="none"))
        return turn.parsed.content

    schema = {
        "name": name,
        "description": description,
        "parameters": {
            "type": "object",
            "properties": {
                "input": {"type": "string", "description": "What to ask this model, in full."}
            },
            "required": ["input"],
        },
    }
    return Tool.from_schema(schema, handler=handler)
