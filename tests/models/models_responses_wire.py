"""OpenAI Responses wire shapes, written by us after the API reference and the event sequences
the ``openai-python`` SDK's streaming helpers accumulate.

A stream opens with ``response.created`` / ``response.in_progress``; each output item has its
``response.output_item.added`` and ``.done``; reasoning summaries come as
``response.reasoning_summary_part.added`` + ``..._text.delta``; text as
``response.content_part.added`` + ``response.output_text.delta``; calls as
``response.function_call_arguments.delta`` + ``.done``; ``response.completed`` carries the whole
response with its usage. Every event has a ``sequence_number``.
"""

from __future__ import annotations

import json
from itertools import count
from typing import Any

from models_wire_server import Reply

MODEL = "gpt-5-mini-2025-08-07"


def message(text: str, id: str = "msg_1") -> dict[str, Any]:
    return {
        "type": "message",
        "id": id,
        "status": "completed",
        "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }


def function_call(
    call_id: str, name: str, args: dict[str, Any], id: str | None = None
) -> dict[str, Any]:
    return {
        "type": "function_call",
        "id": id or f"fc_{call_id}",
        "call_id": call_id,
        "name": name,
        "arguments": json.dumps(args, ensure_ascii=False),
        "status": "completed",
    }


def reasoning(
    summary: str, encrypted: str | None = "gAAAAABo-encrypted", id: str = "rs_1"
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "type": "reasoning",
        "id": id,
        "summary": [{"type": "summary_text", "text": summary}],
    }
    if encrypted is not None:
        item["encrypted_content"] = encrypted
    return item


def usage(input: int = 30, output: int = 12, cached: int = 0, reasoning: int = 0) -> dict[str, Any]:
    return {
        "input_tokens": input,
        "input_tokens_details": {"cached_tokens": cached},
        "output_tokens": output,
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": input + output,
    }


def response_body(*items: dict[str, Any], status: str = "completed", **kw: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": "resp_1",
        "object": "response",
        "created_at": 1760000000,
        "status": status,
        "model": MODEL,
        "output": list(items),
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": usage(**kw),
    }
    if status == "incomplete":
        body["incomplete_details"] = {"reason": "max_output_tokens"}
    return body


def response(*items: dict[str, Any], **kw: Any) -> Reply:
    return Reply(body=response_body(*items, **kw))


def events(
    *items: dict[str, Any], piece: int = 5, complete: bool = True, **kw: Any
) -> list[dict[str, Any]]:
    seq = count()
    start = {**response_body(**kw), "status": "in_progress", "usage": None}
    out: list[dict[str, Any]] = [
        {"type": "response.created", "response": start},
        {"type": "response.in_progress", "response": start},
    ]
    for index, item in enumerate(items):
        kind = item["type"]
        base = {"output_index": index, "item_id": item["id"]}
        if kind == "reasoning":
            out.append(
                {
                    "type": "response.output_item.added",
                    "output_index": index,
                    "item": {**item, "summary": []},
                }
            )
            out.append(
                {
                    **base,
                    "type": "response.reasoning_summary_part.added",
                    "summary_index": 0,
                    "part": {"type": "summary_text", "text": ""},
                }
            )
            text = item["summary"][0]["text"]
            for i in range(0, len(text), piece):
                out.append(
                    {
                        **base,
                        "type": "response.reasoning_summary_text.delta",
                        "summary_index": 0,
                        "delta": text[i : i + piece],
                    }
                )
        elif kind == "message":
            out.append(
                {
                    "type": "response.output_item.added",
                    "output_index": index,
                    "item": {**item, "content": [], "status": "in_progress"},
                }
            )
            out.append(
                {
                    **base,
                    "type": "response.content_part.added",
                    "content_index": 0,
                    "part": {"type": "output_text", "text": "", "annotations": []},
                }
            )
            text = item["content"][0]["text"]
            for i in range(0, len(text), piece):
                out.append(
                    {
                        **base,
                        "type": "response.output_text.delta",
                        "content_index": 0,
                        "delta": text[i : i + piece],
                    }
                )
            out.append(
                {**base, "type": "response.output_text.done", "content_index": 0, "text": text}
            )
        else:
            out.append(
                {
                    "type": "response.output_item.added",
                    "output_index": index,
                    "item": {**item, "arguments": "", "status": "in_progress"},
                }
            )
            args = item["arguments"]
            for i in range(0, len(args), piece):
                out.append(
                    {
                        **base,
                        "type": "response.function_call_arguments.delta",
                        "delta": args[i : i + piece],
                    }
                )
            out.append({**base, "type": "response.function_call_arguments.done", "arguments": args})
        out.append({"type": "response.output_item.done", "output_index": index, "item": item})
    if complete:
        out.append({"type": "response.completed", "response": response_body(*items, **kw)})
    for event in out:
        event["sequence_number"] = next(seq)
    return out


def streamed(*items: dict[str, Any], split: int | None = None, **kw: Any) -> Reply:
    return Reply(events=events(*items, **kw), split=split)


def error(status: int, kind: str, code: str | None = None, **headers: str) -> Reply:
    body = {"error": {"message": kind, "type": kind, "param": None, "code": code}}
    return Reply(status=status, body=body, headers=headers)
