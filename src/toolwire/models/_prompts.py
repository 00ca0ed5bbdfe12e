"""Tools and tool results written in an open model family's own prompt format.

For servers that return raw text (no tool parser configured), the tools go into the system
prompt the way the family was trained to read them, and the reply is parsed with
:mod:`toolwire.parsing`. One renderer per family, chosen from a registry.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from toolwire import _json
from toolwire._calls import ToolCall, ToolResult
from toolwire._spec import ToolSpec


def _function(spec: ToolSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "description": spec.description,
        "parameters": dict(spec.input_schema),
    }


def _value(result: ToolResult) -> Any:
    if result.ok:
        return result.value
    assert result.error is not None
    return {"error": result.error.to_dict()}


def _hermes_tools(specs: Sequence[ToolSpec], rules: str) -> str:
    lines = "\n".join(_json.dumps({"type": "function", "function": _function(s)}) for s in specs)
    return (
        "# Tools\n\nThese functions are available to you; their signatures are listed between "
        f"<tools> and </tools>:\n<tools>\n{lines}\n</tools>\n\n"
        "To call a function, write a JSON object with its name and arguments between "
        "<tool_call> and </tool_call>, one block per call:\n"
        '<tool_call>\n{"name": "<function name>", "arguments": {<arguments>}}\n</tool_call>' + rules
    )


def _hermes_results(pairs: Sequence[tuple[ToolCall, ToolResult]]) -> str:
    return "\n".join(
        "<tool_response>\n"
        + _json.dumps({"name": call.name, "content": _value(result)})
        + "\n</tool_response>"
        for call, result in pairs
    )


def _llama3_tools(specs: Sequence[ToolSpec], rules: str) -> str:
    functions = "\n\n".join(
        _json.dumps({"type": "function", "function": _function(s)}) for s in specs
    )
    return (
        "You can call the functions below. To call one, reply with only a JSON object of the "
        'form {"name": "<function name>", "parameters": {<argument name>: <value>}} and '
        "nothing else. Use a function only when it helps answer the question.\n\n"
        + functions
        + rules
    )


def _plain_results(pairs: Sequence[tuple[ToolCall, ToolResult]]) -> str:
    return "\n".join(
        f"Result of {call.name}: {_json.dumps(_value(result))}" for call, result in pairs
    )


def _mistral_tools(specs: Sequence[ToolSpec], rules: str) -> str:
    functions = _json.dumps([{"type": "function", "function": _function(s)} for s in specs])
    return (
        f"[AVAILABLE_TOOLS] {functions} [/AVAILABLE_TOOLS]\n"
        'To call functions, reply with [TOOL_CALLS] followed by a JSON list of {"name": ..., '
        '"arguments": {...}} objects.' + rules
    )


def _mistral_results(pairs: Sequence[tuple[ToolCall, ToolResult]]) -> str:
    return "\n".join(
        "[TOOL_RESULTS] "
        + _json.dumps({"call_id": call.id, "content": _value(result)})
        + " [/TOOL_RESULTS]"
        for call, result in pairs
    )


def _pythonic_tools(specs: Sequence[ToolSpec], rules: str) -> str:
    functions = _json.dumps([_function(s) for s in specs])
    return (
        "You can call these functions (JSON Schema signatures):\n"
        + functions
        + "\n\nTo call functions, reply with only a Python list of calls with keyword "
        "arguments, for example [func_a(x=1, name='b'), func_b()]." + rules
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class PromptFormat:
    tools: Callable[[Sequence[ToolSpec], str], str]
    results: Callable[[Sequence[tuple[ToolCall, ToolResult]]], str]
    parser: str  # the toolwire.parsing format that reads the replies this prompt asks for


PROMPT_FORMATS: dict[str, PromptFormat] = {
    "hermes": PromptFormat(tools=_hermes_tools, results=_hermes_results, parser="hermes"),
    # Qwen 2/2.5 use Hermes' <tool_call> tags: same prompt, same parser
    "qwen": PromptFormat(tools=_hermes_tools, results=_hermes_results, parser="hermes"),
    "qwen25": PromptFormat(tools=_hermes_tools, results=_hermes_results, parser="hermes"),
    "llama3_json": PromptFormat(tools=_llama3_tools, results=_plain_results, parser="llama3_json"),
    "mistral": PromptFormat(tools=_mistral_tools, results=_mistral_results, parser="mistral"),
    "pythonic": PromptFormat(tools=_pythonic_tools, results=_plain_results, parser="pythonic"),
}


def prompt_format(name: str) -> PromptFormat:
    try:
        return PROMPT_FORMATS[name]
    except KeyError:
        raise ValueError(
            f"no prompt renderer for text format {name!r}; known: {', '.join(PROMPT_FORMATS)}"
        ) from None


def rules_for(tool_choice: str, parallel: bool) -> str:
    """Extra instructions for tool_choice / parallel_tool_calls in text mode."""
    rules = []
    if tool_choice == "required":
        rules.append("You must call at least one function in this reply.")
    elif tool_choice not in ("auto", "none"):
        rules.append(f"You must call the function `{tool_choice}` in this reply.")
    if not parallel:
        rules.append("Call at most one function per reply.")
    return ("\n\n" + " ".join(rules)) if rules else ""
