"""How each format writes calls, to generate texts from arbitrary calls (hypothesis, vectors).

``RAW[fmt](calls)`` takes ``(name, arguments JSON text)`` pairs (for formats whose arguments are
JSON); ``RENDER[fmt](calls)`` takes ``(name, arguments dict)`` and returns ``(text, tools)``:
formats that write values as text need the schema to type them back.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from toolwire._calls import ToolCall
from toolwire.parsing import TEXT_FORMATS

Raw = list[tuple[str, str]]
Calls = list[tuple[str, dict[str, Any]]]


def _obj(n: str, a: str, key: str = "arguments") -> str:
    return f'{{"name": {json.dumps(n)}, "{key}": {a}}}'


DS_CALLS = "<｜tool▁calls▁begin｜>"
DS_CALLS_END = "<｜tool▁calls▁end｜>"
DS_CALL = "<｜tool▁call▁begin｜>"
DS_CALL_END = "<｜tool▁call▁end｜>"
DS_SEP = "<｜tool▁sep｜>"

RAW: dict[str, Callable[[Raw], str]] = {
    "hermes": lambda cs: "".join(f"<tool_call>\n{_obj(n, a)}\n</tool_call>\n" for n, a in cs),
    "llama3_json": lambda cs: (
        ("<|python_tag|>" + "; ".join(_obj(n, a, "parameters") for n, a in cs)) if cs else ""
    ),
    "mistral": lambda cs: "".join(f"[TOOL_CALLS]{n}[ARGS]{a}" for n, a in cs),
    "granite": lambda cs: (
        ("<|tool_call|>[" + ", ".join(_obj(n, a) for n, a in cs) + "]") if cs else ""
    ),
    "internlm": lambda cs: "".join(
        f"<|action_start|><|plugin|>\n{_obj(n, a, 'parameters')}<|action_end|>\n" for n, a in cs
    ),
    "jamba": lambda cs: (
        ("<tool_calls>[" + ", ".join(_obj(n, a) for n, a in cs) + "]</tool_calls>") if cs else ""
    ),
    "xlam": lambda cs: (
        ("```json\n[" + ", ".join(_obj(n, a) for n, a in cs) + "]\n```") if cs else ""
    ),
    "phi4_mini": lambda cs: (
        ("functools[" + ", ".join(_obj(n, a) for n, a in cs) + "]") if cs else ""
    ),
    "deepseek_v3": lambda cs: (
        (
            DS_CALLS
            + "".join(
                f"{DS_CALL}function{DS_SEP}{n}\n```json\n{a}\n```{DS_CALL_END}" for n, a in cs
            )
            + DS_CALLS_END
        )
        if cs
        else ""
    ),
    "deepseek_v31": lambda cs: (
        (DS_CALLS + "".join(f"{DS_CALL}{n}{DS_SEP}{a}{DS_CALL_END}" for n, a in cs) + DS_CALLS_END)
        if cs
        else ""
    ),
    "kimi_k2": lambda cs: (
        (
            "<|tool_calls_section_begin|>"
            + "".join(
                f"<|tool_call_begin|>functions.{n}:{i}<|tool_call_argument_begin|>{a}<|tool_call_end|>"
                for i, (n, a) in enumerate(cs)
            )
            + "<|tool_calls_section_end|>"
        )
        if cs
        else ""
    ),
    "harmony": lambda cs: "".join(
        f"<|start|>assistant<|channel|>commentary to=functions.{n} <|constrain|>json"
        f"<|message|>{a}<|call|>"
        for n, a in cs
    ),
}


def _text_value(v: Any) -> str:
    return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)


def schemas_for(calls: Calls) -> list[dict[str, Any]]:
    """Tools typing each text-written value back (a string parameter stays a string)."""
    tools: dict[str, dict[str, Any]] = {}
    for n, a in calls:
        props = tools.setdefault(n, {"name": n, "parameters": {"properties": {}}})
        for k, v in a.items():
            schema = {"type": "string"} if isinstance(v, str) else {}
            # two calls of one tool disagreeing on a parameter's type: leave it untyped
            known = props["parameters"]["properties"].setdefault(k, schema)
            if known != schema:
                props["parameters"]["properties"][k] = {}
    return list(tools.values())


def qwen3_coder(calls: Calls) -> tuple[str, Any]:
    out = []
    for n, a in calls:
        params = "".join(f"<parameter={k}>\n{_text_value(v)}\n</parameter>\n" for k, v in a.items())
        out.append(f"<tool_call>\n<function={n}>\n{params}</function>\n</tool_call>\n")
    return "".join(out), schemas_for(calls)


def glm45(calls: Calls) -> tuple[str, Any]:
    out = []
    for n, a in calls:
        params = "".join(
            f"<arg_key>{k}</arg_key>\n<arg_value>{_text_value(v)}</arg_value>\n"
            for k, v in a.items()
        )
        out.append(f"<tool_call>{n}\n{params}</tool_call>\n")
    return "".join(out), schemas_for(calls)


def pythonic(calls: Calls) -> tuple[str, Any]:
    if not calls:
        return "", None
    body = ", ".join(
        f"{n}(" + ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in a.items()) + ")"
        for n, a in calls
    )
    return f"[{body}]", None


def _from_raw(fmt: str) -> Callable[[Calls], tuple[str, Any]]:
    def render(calls: Calls) -> tuple[str, Any]:
        return RAW[fmt]([(n, json.dumps(a, ensure_ascii=False)) for n, a in calls]), None

    return render


RENDER: dict[str, Callable[[Calls], tuple[str, Any]]] = {fmt: _from_raw(fmt) for fmt in RAW}
RENDER.update({"qwen3_coder": qwen3_coder, "glm45": glm45, "pythonic": pythonic})


# Formats that share another's markers exactly: auto reads them with that format's reader.
AUTO_READS_OTHERWISE = {
    "poolside_v1": "GLM-4.5's tags: auto reads them as glm45, whose values keep their newlines",
}


def _from_record(fmt: str) -> Callable[[Calls], tuple[str, Any]]:
    """Every other format is written by its own record's CallShape writer."""

    def render(calls: Calls) -> tuple[str, Any]:
        made = [
            ToolCall(id=f"c{i}", name=n, arguments=json.dumps(a, ensure_ascii=False))
            for i, (n, a) in enumerate(calls)
        ]
        text = TEXT_FORMATS[fmt].write_calls(made)
        return text, schemas_for(calls) if calls else None

    return render


for _name, _record in TEXT_FORMATS.items():
    if _record.call is not None and _name not in RENDER:
        RENDER[_name] = _from_record(_name)
