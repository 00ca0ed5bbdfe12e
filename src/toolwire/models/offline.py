"""``Offline``: a deterministic stand-in for a language model. It is NOT an LLM.

It exists so that the demo, the tutorials and tests run with no model and no network. It
chooses a tool by character n-gram similarity (Chinese and English), fills the arguments by
schema-guided extraction, makes one call per entity when the request lists several, and
answers from a template over the tool results. Every answer it writes says it is offline.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from toolwire import _json
from toolwire._calls import Parsed, ToolCall
from toolwire._spec import ToolSpec
from toolwire.models._base import (
    Api,
    Message,
    Model,
    ModelOptions,
    ModelTurn,
    content_text,
)
from toolwire.models._extract import PlaceFinder, default_place_finder, extract
from toolwire.models._ngrams import is_cjk, rank_specs

__all__ = ["Offline"]

_LABEL_ZH = "（离线模型，非真实 LLM）"
_LABEL_EN = "[offline stand-in model, not an LLM] "
_UNSET: Any = object()


class Offline(Model):
    """A deterministic stand-in for an LLM, for demos and tests without a model.

    Example::

        runner = tw.Runner(model=Offline(), tools=box)
        result = await runner.run("北京、上海、广州的天气")   # three parallel get_weather calls

    ``min_score`` is the n-gram similarity below which it answers without a tool.
    ``place_finder`` maps a text to the place names it mentions (default: the weather pack's
    bundled city table when installed, else a free-text span).
    """

    name = "offline"

    def __init__(
        self,
        *,
        api: Api = "tools",
        min_score: float = 0.05,
        place_finder: PlaceFinder | None = _UNSET,
    ) -> None:
        if api == "text":
            raise ValueError("Offline speaks the tools or functions API, not text mode")
        self.api = api
        self.min_score = min_score
        self.place_finder: PlaceFinder | None = (
            default_place_finder() if place_finder is _UNSET else place_finder
        )

    async def complete(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec],
        options: ModelOptions,
    ) -> ModelTurn:
        return self.respond(messages, tools, options)

    def respond(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec],
        options: ModelOptions,
    ) -> ModelTurn:
        """The synchronous core of :meth:`complete` (deterministic for equal inputs)."""
        user_index, question = _last_user(messages)
        made, results = _since(messages[user_index + 1 :] if user_index >= 0 else [])
        calls: list[ToolCall] = []
        if tools and options.tool_choice != "none":
            planned = self.plan(question, tools, options.tool_choice)
            pending = [
                (n, a) for n, a in planned if (n, _json.dumps(a, canonical=True)) not in made
            ]
            if not options.parallel_tool_calls:
                pending = pending[:1]
            step = sum(1 for m in messages if m.get("role") == "assistant")
            calls = [_call(name, args, step, i) for i, (name, args) in enumerate(pending)]
        if calls:
            turn = Parsed(calls=tuple(calls))
            return ModelTurn(
                parsed=turn, finish_reason="tool_calls", model=self.name, usage=_usage(messages, 0)
            )
        text = self.answer(question, results)
        return ModelTurn(
            parsed=Parsed(content=text),
            finish_reason="stop",
            model=self.name,
            usage=_usage(messages, len(text)),
        )

    def plan(
        self, question: str, tools: Sequence[ToolSpec], tool_choice: str = "auto"
    ) -> list[tuple[str, dict[str, Any]]]:
        """The calls this model would make for ``question``: ``[(tool name, arguments)]``."""
        if tool_choice not in ("auto", "required", "none"):
            chosen = next((s for s in tools if s.name == tool_choice), None)
        else:
            ranked = rank_specs(question, tools)
            score, chosen = ranked[0]
            if score < self.min_score and tool_choice != "required":
                chosen = None
        if chosen is None:
            return []
        sets = extract(question, chosen.input_schema, place_finder=self.place_finder)
        return [(chosen.name, args) for args in sets]

    def answer(self, question: str, results: Sequence[tuple[str, str, Any]]) -> str:
        """The templated final answer over ``(tool, arguments JSON, result)`` triples."""
        zh = is_cjk(question)
        if not results:
            if zh:
                return _LABEL_ZH + "没有与这个问题匹配的工具；离线模型无法凭知识回答。"
            return (
                _LABEL_EN + "No tool matches this request, and an offline stand-in cannot "
                "answer from knowledge."
            )
        lines = [_LABEL_ZH + "根据工具结果：" if zh else _LABEL_EN + "From the tool results:"]
        for name, arguments, value in results:
            lines.append(f"- {name}({_inline_args(arguments)}): {_summarize(value, zh)}")
        return "\n".join(lines)


def _last_user(messages: Sequence[Message]) -> tuple[int, str]:
    for i in range(len(messages) - 1, -1, -1):
        if messages[i].get("role") == "user":
            return i, content_text(messages[i].get("content"))
    return -1, ""


def _since(messages: Sequence[Message]) -> tuple[set[tuple[str, str]], list[tuple[str, str, Any]]]:
    """Calls already made after the question, and their results in order."""
    made: set[tuple[str, str]] = set()
    by_id: dict[str, tuple[str, str]] = {}
    results: list[tuple[str, str, Any]] = []
    pending_function: tuple[str, str] | None = None
    for msg in messages:
        role = msg.get("role")
        if role == "assistant":
            for wire in msg.get("tool_calls") or ():
                fn = wire.get("function", {})
                name, arguments = str(fn.get("name", "")), str(fn.get("arguments", "{}"))
                made.add((name, _canonical(arguments)))
                by_id[str(wire.get("id"))] = (name, arguments)
            fc = msg.get("function_call")
            if fc:
                pending_function = (str(fc.get("name", "")), str(fc.get("arguments", "{}")))
                made.add((pending_function[0], _canonical(pending_function[1])))
        elif role == "tool":
            name, arguments = by_id.get(str(msg.get("tool_call_id")), ("tool", "{}"))
            results.append((name, arguments, _decode(msg.get("content"))))
        elif role == "function":
            arguments = pending_function[1] if pending_function else "{}"
            results.append((str(msg.get("name", "")), arguments, _decode(msg.get("content"))))
            pending_function = None
    return made, results


def _canonical(arguments: str) -> str:
    try:
        return _json.dumps(_json.loads(arguments), canonical=True)
    except ValueError:
        return arguments


def _decode(content: Any) -> Any:
    text = content_text(content)
    try:
        return _json.loads(text)
    except ValueError:
        return text


def _call(name: str, args: Mapping[str, Any], step: int, index: int) -> ToolCall:
    arguments = _json.dumps(args)
    digest = hashlib.sha1(f"{step}:{index}:{name}:{arguments}".encode()).hexdigest()[:12]
    return ToolCall(id=f"call_offline_{digest}", name=name, arguments=arguments)


def _inline_args(arguments: str) -> str:
    try:
        data = _json.loads(arguments)
    except ValueError:
        return arguments
    if not isinstance(data, dict):
        return arguments
    return ", ".join(f"{k}={_scalar(v)}" for k, v in data.items())


def _scalar(value: Any) -> str:
    return value if isinstance(value, str) else _json.dumps(value)


def _summarize(value: Any, zh: bool) -> str:
    if isinstance(value, dict) and set(value) == {"error"} and isinstance(value["error"], dict):
        err = value["error"]
        prefix = "调用失败" if zh else "failed"
        return f"{prefix} ({err.get('kind')}): {err.get('message')}"
    if isinstance(value, dict):
        sep = "，" if zh else ", "
        return sep.join(f"{k}={_scalar(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "; ".join(_scalar(v) for v in value)
    return _scalar(value)


def _usage(messages: Sequence[Message], completion_chars: int) -> dict[str, int]:
    # Deterministic pseudo-usage (characters / 4), so that usage accounting is exercised.
    prompt = sum(len(content_text(m.get("content"))) for m in messages) // 4 + 1
    completion = completion_chars // 4 + 1
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }
