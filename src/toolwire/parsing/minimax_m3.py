"""MiniMax-M3: every tag behind the namespace token ``]<]minimax[>[``; a parameter is an element
named after it, whose value may nest elements (objects; ``<item>`` children make an array).

    ]<]minimax[>[<tool_call>
    ]<]minimax[>[<invoke name="get_weather">
    ]<]minimax[>[<city>Paris]<]minimax[>[</city>
    ]<]minimax[>[<days>3]<]minimax[>[</days>
    ]<]minimax[>[</invoke>
    ]<]minimax[>[</tool_call>

Leaf values are text typed by the tool's schema (the schema's nested properties and items
type nested leaves). The tags are read as the template writes them, the token right before
each ``<`` (SGLang also accepts whitespace between them).
"""

from __future__ import annotations

import re
from typing import Any

from toolwire.parsing._base import Engine, Run, Sections, Until
from toolwire.parsing._params import close_args, emit_value
from toolwire.parsing._record import Cue, TextFormat
from toolwire.parsing._values import coerce, param_schema

__all__ = ["FORMAT", "MinimaxM3"]

NS = "]<]minimax[>["
OPEN = NS + "<tool_call>"
CLOSE = NS + "</tool_call>"
INVOKE = NS + '<invoke name="'
INVOKE_END = NS + "</invoke>"
TAG = NS + "<"
_CHILD = re.compile(re.escape(NS) + r"<([^/>][^>]*)>")


class _Bad(ValueError):
    pass


def _child_schema(schema: Any, tag: str) -> Any:
    if not isinstance(schema, dict):
        return None
    if tag == "item" and isinstance(schema.get("items"), dict):
        return schema["items"]
    props = schema.get("properties")
    return props.get(tag) if isinstance(props, dict) else None


def _children(text: str) -> list[tuple[str, str]] | None:
    """The nested elements of a value, or None for a leaf."""
    out: list[tuple[str, str]] = []
    pos = 0
    while True:
        m = _CHILD.search(text, pos)
        if m is None:
            break
        if text[pos : m.start()].strip():
            raise _Bad("text between nested elements")
        tag = m.group(1).strip()
        start_tok, end_tok = f"{NS}<{tag}>", f"{NS}</{tag}>"
        depth, j, close_at = 1, m.end(), -1
        while depth:
            nxt_open, nxt_close = text.find(start_tok, j), text.find(end_tok, j)
            if nxt_close == -1:
                raise _Bad(f"<{tag}> without its end tag")
            if nxt_open != -1 and nxt_open < nxt_close:
                depth, j = depth + 1, nxt_open + len(start_tok)
            else:
                depth, close_at, j = depth - 1, nxt_close, nxt_close + len(end_tok)
        out.append((tag, text[m.end() : close_at]))
        pos = j
    if not out:
        return None
    if text[pos:].strip():
        raise _Bad("text after nested elements")
    return out


def mm3_value(text: str, schema: Any) -> Any:
    kids = _children(text)
    if kids is None:
        return coerce(text, schema)
    if all(tag == "item" for tag, _ in kids):
        return [mm3_value(raw, _child_schema(schema, "item")) for _, raw in kids]
    return {tag: mm3_value(raw, _child_schema(schema, tag)) for tag, raw in kids}


def mm3_block(eng: Engine, marker: str = OPEN) -> Run:
    """After ``]<]minimax[>[<tool_call>``: each invoke until the block closes."""
    while True:
        between = Until((INVOKE, CLOSE), "collect")
        m = yield between
        eng.stray(between.text, "between calls")
        if m != INVOKE:
            return
        head = Until(('">', CLOSE), "collect")
        if (yield head) != '">' or not head.text.strip():
            eng.fail_call(None, "an invoke without a name", INVOKE + head.text)
            return
        name = head.text.strip()
        call = eng.start_call(name)
        while True:
            gap = Until((INVOKE_END, TAG, CLOSE), "collect")
            m = yield gap
            eng.stray(gap.text, f"inside the call {name}")
            if m != TAG:
                break
            tag = Until((">",), "collect")
            yield tag
            key = tag.text.strip()
            value = Until((f"{NS}</{key}>", INVOKE_END, CLOSE), "collect", consume=False)
            if (yield value) == f"{NS}</{key}>":
                yield Until((f"{NS}</{key}>",), "drop")
            schema = param_schema(eng.schemas, name, key)
            try:
                emit_value(eng, call, key, mm3_value(value.text, schema))
            except _Bad as exc:
                eng.fail_call(None, f"malformed value of {key}: {exc}", value.text)
        close_args(eng, call)
        eng.finish_call(call)
        if m == CLOSE:
            return


class MinimaxM3(Sections):
    name = "minimax_m3"
    markers = (OPEN,)

    def section(self, eng: Engine, marker: str) -> Run:
        return mm3_block(eng)


FORMAT = TextFormat(
    name="minimax_m3",
    parser=MinimaxM3,
    family="MiniMax-M3",
    markers=(OPEN, INVOKE, CLOSE),
    aliases=("minimax-m3",),
    peers={"vllm": ("minimax_m3",), "sglang": ("minimax-m3",)},
    cues=(Cue(marker=OPEN, read=mm3_block),),
    reasoning=True,
    quirks="a parameter is an element named after it; nested elements make objects and arrays",
)
