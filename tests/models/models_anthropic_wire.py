"""Anthropic Messages wire shapes, written by us after the SDK's recorded fixtures.

The stream follows ``anthropic-sdk-python`` ``tests/lib/streaming/fixtures/tool_use_response.txt``
(a ``ping`` after the first block start, an empty ``input_json_delta`` before the pieces,
``message_delta`` with cumulative ``output_tokens``) and the documented thinking stream
(``thinking_delta`` then one ``signature_delta`` before the block stops).
"""

from __future__ import annotations

import json
from typing import Any

from models_wire_server import Reply

USAGE = {
    "input_tokens": 377,
    "cache_creation_input_tokens": 0,
    "cache_read_input_tokens": 0,
    "output_tokens": 1,
    "service_tier": "standard",
}


def text(value: str) -> dict[str, Any]:
    return {"type": "text", "text": value}


def tool_use(id: str, name: str, input: dict[str, Any]) -> dict[str, Any]:
    return {"type": "tool_use", "id": id, "name": name, "input": input}


def thinking(value: str, signature: str) -> dict[str, Any]:
    return {"type": "thinking", "thinking": value, "signature": signature}


def message(
    *blocks: dict[str, Any],
    stop_reason: str | None = None,
    usage: dict[str, Any] | None = None,
) -> Reply:
    reason = stop_reason or (
        "tool_use" if any(b["type"] == "tool_use" for b in blocks) else "end_turn"
    )
    return Reply(
        body={
            "id": "msg_019Q1hrJbZG26Fb9BQhrkHEr",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4-20250514",
            "content": list(blocks),
            "stop_reason": reason,
            "stop_sequence": None,
            "usage": {**USAGE, "output_tokens": 65, **(usage or {})},
        }
    )


def _pieces(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def events(
    *blocks: dict[str, Any],
    stop_reason: str | None = None,
    usage: dict[str, Any] | None = None,
    piece: int = 7,
    stop: bool = True,
) -> list[dict[str, Any]]:
    """The SSE events of a streamed message with ``blocks`` (arguments in ``piece``-char parts)."""
    reason = stop_reason or (
        "tool_use" if any(b["type"] == "tool_use" for b in blocks) else "end_turn"
    )
    out: list[dict[str, Any]] = [
        {
            "type": "message_start",
            "message": {
                "id": "msg_019Q1hrJbZG26Fb9BQhrkHEr",
                "type": "message",
                "role": "assistant",
                "model": "claude-sonnet-4-20250514",
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {**USAGE, **(usage or {})},
            },
        }
    ]
    for index, block in enumerate(blocks):
        kind = block["type"]
        if kind == "text":
            start: dict[str, Any] = {"type": "text", "text": ""}
            deltas = [{"type": "text_delta", "text": t} for t in _pieces(block["text"], piece)]
        elif kind == "thinking":
            start = {"type": "thinking", "thinking": "", "signature": ""}
            deltas = [
                {"type": "thinking_delta", "thinking": t} for t in _pieces(block["thinking"], piece)
            ]
            deltas.append({"type": "signature_delta", "signature": block["signature"]})
        else:
            start = {**block, "input": {}, "caller": {"type": "direct"}}
            raw = json.dumps(block["input"], ensure_ascii=False)
            deltas = [{"type": "input_json_delta", "partial_json": ""}]
            deltas += [{"type": "input_json_delta", "partial_json": p} for p in _pieces(raw, piece)]
        out.append({"type": "content_block_start", "index": index, "content_block": start})
        if index == 0:
            out.append({"type": "ping"})
        out.extend({"type": "content_block_delta", "index": index, "delta": d} for d in deltas)
        out.append({"type": "content_block_stop", "index": index})
    if stop:
        out.append(
            {
                "type": "message_delta",
                "delta": {"stop_reason": reason, "stop_sequence": None},
                "usage": {"output_tokens": 65},
            }
        )
        out.append({"type": "message_stop"})
    return out


def streamed(*blocks: dict[str, Any], split: int | None = None, **kw: Any) -> Reply:
    return Reply(events=events(*blocks, **kw), split=split)


def error(status: int, kind: str, message: str = "", **headers: str) -> Reply:
    body = {"type": "error", "error": {"type": kind, "message": message or kind}}
    return Reply(status=status, body=body, headers=headers)
