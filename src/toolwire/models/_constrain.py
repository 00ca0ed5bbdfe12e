"""``constrain=``: the grammar of :mod:`toolwire.grammar`, in the request parameter each
serving engine reads, so a local model can write only valid calls.

=============  ===============================================  ===============================
engine         ``api="tools"``                                  ``api="text"``
=============  ===============================================  ===============================
``vllm``       ``structured_outputs.structural_tag`` (auto;     ``structured_outputs.grammar``
               required/named: vLLM's own tool_choice)          (GBNF)
``sglang``     ``response_format`` structural tag (auto; as     ``ebnf`` (GBNF)
               above otherwise)
``llama.cpp``  the server's own tool grammar (it refuses a      ``grammar`` (GBNF)
               custom grammar beside ``tools``)
``ollama``     refused: Ollama constrains JSON output only      ``response_format`` JSON Schema
                                                                (Ollama's ``format``)
``openai``     strict tools                                     strict ``response_format``
=============  ===============================================  ===============================

The JSON Schema engines force the whole reply to be one call, so in text mode they need
``text_format="llama3_json"`` (a bare JSON call, which its parser reads) and constrain only a
turn whose ``tool_choice`` demands a call. GBNF is sent to vLLM and SGLang because both of
their grammar backends read it (xgrammar natively, llguidance through its GBNF reader).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from toolwire._spec import ToolSpec
from toolwire.dialects._export import export_specs
from toolwire.grammar import build
from toolwire.models._base import ModelError

__all__ = ["CONSTRAIN_ENGINES", "check_constrain", "constrain_request", "refused"]

CONSTRAIN_ENGINES: tuple[str, ...] = ("vllm", "sglang", "llama.cpp", "ollama", "openai")
_JSON_ONLY = ("ollama", "openai")


def check_constrain(engine: str, *, api: str, text_format: str) -> None:
    """Refuse at construction a combination no request could constrain."""
    if engine not in CONSTRAIN_ENGINES:
        raise ValueError(
            f"unknown constrain engine {engine!r}; known: {', '.join(CONSTRAIN_ENGINES)}"
        )
    if api == "functions":
        raise ValueError(
            "constrain= needs api='tools' or api='text' (the legacy functions API has none)"
        )
    if engine == "ollama" and api == "tools":
        raise ValueError(
            "Ollama constrains JSON output only: use api='text', text_format='llama3_json' "
            "(its tool calls are not constrained by a grammar)"
        )
    if engine in _JSON_ONLY and api == "text" and text_format != "llama3_json":
        raise ValueError(
            f"constrain={engine!r} forces a JSON reply: use text_format='llama3_json', whose "
            "calls are bare JSON objects"
        )


def constrain_request(
    kwargs: dict[str, Any],
    engine: str,
    *,
    api: str,
    text_format: str,
    tools: Sequence[ToolSpec],
    tool_choice: str,
    parallel: bool,
) -> None:
    """Add the constraint to a Chat Completions request (``kwargs`` of the SDK's create)."""
    extra = kwargs.setdefault("extra_body", {})
    if api == "tools":
        if engine == "openai":
            kwargs["tools"] = export_specs(tools, "openai", strict=True)
        elif engine in ("vllm", "sglang") and tool_choice == "auto":
            tag = build(tools, format=text_format, syntax="structural_tag", parallel=parallel)
            if engine == "vllm":
                extra["structured_outputs"] = {
                    "structural_tag": json.dumps(tag, ensure_ascii=False)
                }
            else:
                kwargs["response_format"] = tag
        return
    if engine in _JSON_ONLY:
        if tool_choice in ("auto", "none"):
            return  # a JSON Schema cannot leave the choice to the model
        schema = build(
            tools, format=text_format, syntax="json_schema", tool_choice=tool_choice, parallel=False
        )
        body: dict[str, Any] = {"name": "tool_call", "schema": schema}
        if engine == "openai":
            body["strict"] = True
        kwargs["response_format"] = {"type": "json_schema", "json_schema": body}
        return
    grammar = build(
        tools, format=text_format, syntax="gbnf", tool_choice=tool_choice, parallel=parallel
    )
    if engine == "vllm":
        extra["structured_outputs"] = {"grammar": grammar}
    elif engine == "sglang":
        extra["ebnf"] = grammar
    else:
        extra["grammar"] = grammar


def refused(exc: ModelError, engine: str) -> ModelError:
    """A request the server rejected (400/422) says the constraint may be why."""
    if exc.status not in (400, 422):
        return exc
    return ModelError(
        f"the server refused the constrained request (constrain={engine!r}; does this engine "
        f"and version accept that parameter?): {exc}",
        kind=exc.kind,
        status=exc.status,
        retryable=False,
        model=exc.model,
    )
