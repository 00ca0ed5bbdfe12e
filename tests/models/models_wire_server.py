"""A local server speaking each provider's wire format: Anthropic Messages, Gemini
``generateContent``, OpenAI Responses and Chat Completions, as JSON and as SSE.

Scripted per test: each request pops the next :class:`Reply` (or asks a function). SSE frames
are written the way each API writes them (``event:`` + ``data:`` lines for Anthropic and
Responses, ``data:`` lines with CRLF separators for Gemini, ``data: [DONE]`` for Chat
Completions); ``split`` writes every frame in small pieces, so the SDK's SSE decoder must
join frames that arrive split across reads. Binds 127.0.0.1 on an ephemeral port.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from toolwire import Tool, Toolbox
from toolwire._spec import ToolSpec


@dataclass
class Reply:
    """``body``: a JSON reply; ``events``: SSE event dicts (streamed); ``raw``: SSE frames as
    bytes, written as given; ``status``/``headers`` for errors; ``split``: write each frame in
    pieces of that many bytes; ``cut_after``: drop the connection after that many frames."""

    body: Any = None
    events: list[dict[str, Any]] | None = None
    raw: list[bytes] | None = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    split: int | None = None
    cut_after: int | None = None


@dataclass
class Seen:
    """One request the server received."""

    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: dict[str, Any]


def frame(route: str, event: dict[str, Any]) -> bytes:
    data = json.dumps(event, ensure_ascii=False)
    if route == "gemini":
        return f"data: {data}\r\n\r\n".encode()
    if route in ("anthropic", "responses"):
        return f"event: {event.get('type', 'message')}\ndata: {data}\n\n".encode()
    return f"data: {data}\n\n".encode()


class WireServer:
    """``async with WireServer(replies) as server:`` -> ``server.url``, ``server.requests``."""

    def __init__(self, replies: Sequence[Reply] | Callable[[Seen], Reply]) -> None:
        self._replies = replies if callable(replies) else list(replies)
        self.requests: list[Seen] = []
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def __aenter__(self) -> WireServer:
        app = web.Application()
        app.router.add_post("/v1/messages", self._route("anthropic"))
        app.router.add_post("/v1/responses", self._route("responses"))
        app.router.add_post("/v1/chat/completions", self._route("chat"))
        app.router.add_post("/v1beta/models/{call}", self._route("gemini"))
        app.router.add_post("/v1/models/{call}", self._route("gemini"))
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await asyncio.wait_for(self._runner.cleanup(), 10)

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [seen.body for seen in self.requests]

    def _next(self, seen: Seen) -> Reply:
        if callable(self._replies):
            return self._replies(seen)
        if not self._replies:
            return Reply(status=500, body={"error": {"message": "no scripted reply left"}})
        return self._replies.pop(0)

    def _route(self, route: str) -> Callable[[web.Request], Any]:
        async def handle(request: web.Request) -> web.StreamResponse:
            seen = Seen(
                path=request.path,
                query=dict(request.query),
                headers={k.lower(): v for k, v in request.headers.items()},
                body=await request.json(),
            )
            self.requests.append(seen)
            return await self._answer(request, route, self._next(seen))

        return handle

    async def _answer(self, request: web.Request, route: str, reply: Reply) -> web.StreamResponse:
        if reply.events is None and reply.raw is None:
            body = reply.body if reply.body is not None else {"error": {"message": "error"}}
            return web.json_response(body, status=reply.status, headers=reply.headers)
        frames = list(reply.raw or [frame(route, e) for e in reply.events or ()])
        if route == "chat" and reply.raw is None:
            frames.append(b"data: [DONE]\n\n")
        response = web.StreamResponse(
            status=reply.status, headers={"Content-Type": "text/event-stream", **reply.headers}
        )
        await response.prepare(request)
        for i, data in enumerate(frames):
            if reply.cut_after is not None and i >= reply.cut_after:
                assert request.transport is not None
                request.transport.close()  # mid-stream: no end of the chunked body
                return response
            step = reply.split or len(data)
            for start in range(0, len(data), step):
                await response.write(data[start : start + step])
                if reply.split:
                    await asyncio.sleep(0)
        await response.write_eof()
        return response


# --- the tools the loop tests call ------------------------------------------------------

WEATHER_SCHEMA = {
    "name": "get_weather",
    "description": "获取指定城市的天气信息",
    "parameters": {
        "type": "object",
        "properties": {"location": {"type": "string", "description": "城市名称"}},
        "required": ["location"],
    },
}

WEATHER = ToolSpec(
    name="get_weather",
    description=WEATHER_SCHEMA["description"],
    input_schema={
        "type": "object",
        "properties": {"location": {"type": "string"}},
        "required": ["location"],
    },
)
USER = [{"role": "system", "content": "你是天气助手"}, {"role": "user", "content": "北京和上海?"}]


class Weather:
    """The seed's get_weather: records the cities asked for and how many ran at once."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.seen: list[str] = []
        self.running = 0
        self.peak = 0

    async def __call__(self, location: str) -> dict[str, Any]:
        self.running += 1
        self.peak = max(self.peak, self.running)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            self.seen.append(location)
            if location == "火星":
                raise ValueError("no weather station on Mars")
            return {"location": location, "temp": 25, "unit": "celsius"}
        finally:
            self.running -= 1


def weather_box(weather: Weather | None = None, **options: Any) -> Toolbox:
    return Toolbox([Tool.from_schema(WEATHER_SCHEMA, handler=weather or Weather(), **options)])
