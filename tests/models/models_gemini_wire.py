"""Gemini ``generateContent`` wire shapes (REST JSON spelling), written by us after the API
reference and the shapes the ``google-genai`` SDK's tests replay.

Streams (``:streamGenerateContent?alt=sse``) send whole ``GenerateContentResponse`` objects:
thought summaries as ``thought: true`` text parts, each ``functionCall`` complete in one part
(the first one of a turn carrying the ``thoughtSignature``), an empty text part beside the
finish reason, and ``usageMetadata`` repeated, cumulative, on every chunk.
"""

from __future__ import annotations

from typing import Any

from models_wire_server import Reply

MODEL = "gemini-2.5-flash"


def text(value: str, *, thought: bool = False) -> dict[str, Any]:
    return {"text": value, "thought": True} if thought else {"text": value}


def call(
    name: str, args: dict[str, Any], *, id: str | None = None, sig: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"name": name, "args": args}
    if id is not None:
        body["id"] = id
    part: dict[str, Any] = {"functionCall": body}
    if sig is not None:
        part["thoughtSignature"] = sig
    return part


def usage(
    prompt: int = 20, answer: int = 8, thoughts: int | None = None, cached: int | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "promptTokenCount": prompt,
        "candidatesTokenCount": answer,
        "totalTokenCount": prompt + answer + (thoughts or 0),
    }
    if thoughts is not None:
        out["thoughtsTokenCount"] = thoughts
    if cached is not None:
        out["cachedContentTokenCount"] = cached
    return out


def _chunk(parts: list[dict[str, Any]], finish: str | None = None, **extra: Any) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
    if finish is not None:
        candidate["finishReason"] = finish
    return {"candidates": [candidate], "modelVersion": MODEL, "responseId": "resp-1", **extra}


def response(*parts: dict[str, Any], finish: str = "STOP", **kw: Any) -> Reply:
    return Reply(body=_chunk(list(parts), finish, usageMetadata=usage(**kw)))


def chunks(
    *parts: dict[str, Any], finish: str = "STOP", piece: int = 4, **kw: Any
) -> list[dict[str, Any]]:
    """One chunk per text piece / call part, then the finish chunk with an empty text part."""
    out: list[dict[str, Any]] = []
    meta = usage(**kw)
    for part in parts:
        if set(part) <= {"text", "thought"}:
            value = part["text"]
            for i in range(0, len(value), piece):
                out.append(_chunk([{**part, "text": value[i : i + piece]}], usageMetadata=meta))
        else:
            out.append(_chunk([part], usageMetadata=meta))
    out.append(_chunk([{"text": ""}], finish, usageMetadata=meta))
    return out


def streamed(*parts: dict[str, Any], split: int | None = None, **kw: Any) -> Reply:
    return Reply(events=chunks(*parts, **kw), split=split)


def error(status: int, name: str, message: str = "", **headers: str) -> Reply:
    body = {"error": {"code": status, "message": message or name, "status": name}}
    return Reply(status=status, body=body, headers=headers)
