"""A local server speaking the OpenAI Chat Completions wire protocol (JSON and SSE).

Scripted per test: each request pops the next reply. Binds 127.0.0.1 on an ephemeral port;
the test that starts it stops it (``async with FakeOpenAI([...]) as server``).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Reply:
    """One scripted reply.

    ``body``: a completion dict (JSON reply); ``chunks``: SSE chunks (streamed reply);
    ``status``/``headers`` for errors; ``cut_after``: close the connection after that many
    chunks, without ``[DONE]``; ``hang``: never answer (for cancellation tests).
    """

    body: dict[str, Any] | None = None
    chunks: list[dict[str, Any]] | None = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    cut_after: int | None = None
    hang: bool = False


def completion(
    content: str | None = None,
    tool_calls: Sequence[dict[str, Any]] = (),
    *,
    function_call: dict[str, Any] | None = None,
    finish_reason: str | None = None,
    usage: dict[str, int] | None = None,
) -> Reply:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if tool_calls:
        message["tool_calls"] = list(tool_calls)
    if function_call is not None:
        message["function_call"] = function_call
    reason = finish_reason or (
        "tool_calls" if tool_calls else "function_call" if function_call else "stop"
    )
    return Reply(
        body={
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "created": 1700000000,
            "model": "fake-model",
            "choices": [{"index": 0, "message": message, "finish_reason": reason}],
            "usage": usage or {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
        }
    )


def tool_call(id: str, name: str, arguments: dict[str, Any] | str) -> dict[str, Any]:
    args = arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)
    return {"id": id, "type": "function", "function": {"name": name, "arguments": args}}


def chunk(delta: dict[str, Any], finish_reason: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "fake-model",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
        **extra,
    }


def usage_chunk(prompt: int = 10, completion: int = 5) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "fake-model",
        "choices": [],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        },
    }


class FakeOpenAI:
    """``async with FakeOpenAI(replies) as server:`` -> ``server.base_url``, ``server.requests``."""

    def __init__(self, replies: Sequence[Reply] | Callable[[dict[str, Any]], Reply]) -> None:
        self._replies = replies if callable(replies) else list(replies)
        self.requests: list[dict[str, Any]] = []
        self.disconnected = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    async def __aenter__(self) -> FakeOpenAI:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}/v1"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    def _next(self, body: dict[str, Any]) -> Reply:
        if callable(self._replies):
            return self._replies(body)
        if not self._replies:
            return Reply(status=500, body={"error": {"message": "no scripted reply left"}})
        return self._replies.pop(0)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append(body)
        reply = self._next(body)
        if reply.hang:
            # aiohttp does not cancel handlers on disconnect: watch the transport instead.
            while request.transport is not None and not request.transport.is_closing():  # noqa: ASYNC110
                await asyncio.sleep(0.01)
            self.disconnected.set()
            return web.Response(status=499)
        if reply.chunks is None:
            payload = reply.body if reply.body is not None else {"error": {"message": "error"}}
            return web.json_response(payload, status=reply.status, headers=reply.headers)
        response = web.StreamResponse(
            status=200, headers={"Content-Type": "text/event-stream", **reply.headers}
        )
        await response.prepare(request)
        for i, item in enumerate(reply.chunks):
            if reply.cut_after is not None and i >= reply.cut_after:
                # Drop the connection mid-stream: no [DONE], no end of chunked body.
                assert request.transport is not None
                request.transport.close()
                return response
            await response.write(f"data: {json.dumps(item, ensure_ascii=False)}\n\n".encode())
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response
