"""The loop against each provider's wire format: a local server and the clients that talk to it.

``python -m benchmarks._wire_loop --serve`` starts one aiohttp server (in its own process, so its
CPU is not the client's) that answers Anthropic ``/v1/messages``, Gemini
``/v1beta/models/M:generateContent`` (and ``:streamGenerateContent``), OpenAI ``/v1/responses``
and ``/v1/chat/completions``, as JSON or SSE. It is stateless: a request that carries a tool
result gets the final answer, any other gets one ``get_weather`` call, so every run is the same
two steps. :func:`contenders` builds, for each API, our client and pydantic-ai's client for the
same provider, each running those two steps through its own agent loop.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from benchmarks._harness import Row, Settings, divide, result, row

ROOT = Path(__file__).resolve().parent.parent
PROMPT = "北京今天气温如何?"
ARGS = {"location": "北京"}
ANSWER = "北京 25°C"

# --------------------------------------------------------------------------- the wire replies


def _anthropic(answer: bool) -> dict[str, Any]:
    block = (
        {"type": "text", "text": ANSWER}
        if answer
        else {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": ARGS}
    )
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5",
        "content": [block],
        "stop_reason": "end_turn" if answer else "tool_use",
        "stop_sequence": None,
        "usage": {"input_tokens": 30, "output_tokens": 10},
    }


def _anthropic_events(answer: bool) -> list[dict[str, Any]]:
    start = (
        {"type": "text", "text": ""} if answer else {**_anthropic(False)["content"][0], "input": {}}
    )
    delta = (
        {"type": "text_delta", "text": ANSWER}
        if answer
        else {"type": "input_json_delta", "partial_json": json.dumps(ARGS, ensure_ascii=False)}
    )
    message = {**_anthropic(answer), "content": [], "stop_reason": None}
    return [
        {"type": "message_start", "message": message},
        {"type": "content_block_start", "index": 0, "content_block": start},
        {"type": "ping"},
        {"type": "content_block_delta", "index": 0, "delta": delta},
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn" if answer else "tool_use"},
            "usage": {"output_tokens": 10},
        },
        {"type": "message_stop"},
    ]


def _gemini(answer: bool) -> dict[str, Any]:
    part = {"text": ANSWER} if answer else {"functionCall": {"name": "get_weather", "args": ARGS}}
    return {
        "candidates": [
            {"content": {"role": "model", "parts": [part]}, "finishReason": "STOP", "index": 0}
        ],
        "usageMetadata": {
            "promptTokenCount": 30,
            "candidatesTokenCount": 10,
            "totalTokenCount": 40,
        },
        "modelVersion": "gemini-2.5-flash",
        "responseId": "resp_1",
    }


def _responses(answer: bool) -> dict[str, Any]:
    item = (
        {
            "type": "message",
            "id": "msg_1",
            "status": "completed",
            "role": "assistant",
            "content": [{"type": "output_text", "text": ANSWER, "annotations": []}],
        }
        if answer
        else {
            "type": "function_call",
            "id": "fc_1",
            "call_id": "call_1",
            "name": "get_weather",
            "arguments": json.dumps(ARGS, ensure_ascii=False),
            "status": "completed",
        }
    )
    return {
        "id": "resp_1",
        "object": "response",
        "created_at": 1760000000,
        "status": "completed",
        "model": "gpt-5-mini",
        "output": [item],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": {
            "input_tokens": 30,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": 10,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 40,
        },
    }


def _responses_events(answer: bool) -> list[dict[str, Any]]:
    body = _responses(answer)
    item = body["output"][0]
    base = {"output_index": 0, "item_id": item["id"]}
    if answer:
        middle = [
            {
                "type": "response.output_item.added",
                "output_index": 0,
                "item": {**item, "content": []},
            },
            {**base, "type": "response.output_text.delta", "content_index": 0, "delta": ANSWER},
        ]
    else:
        middle = [
            {
                "type": "response.output_item.added",
                "output_index": 0,
                "item": {**item, "arguments": ""},
            },
            {**base, "type": "response.function_call_arguments.delta", "delta": item["arguments"]},
            {
                **base,
                "type": "response.function_call_arguments.done",
                "arguments": item["arguments"],
            },
        ]
    events = [
        {"type": "response.created", "response": {**body, "status": "in_progress", "output": []}},
        *middle,
        {"type": "response.output_item.done", "output_index": 0, "item": item},
        {"type": "response.completed", "response": body},
    ]
    for n, event in enumerate(events):
        event["sequence_number"] = n
    return events


def _chat(answer: bool) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": ANSWER if answer else None}
    if not answer:
        message["tool_calls"] = [
            {
                "id": "call_1",
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "arguments": json.dumps(ARGS, ensure_ascii=False),
                },
            }
        ]
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "qwen2.5-7b-instruct",
        "choices": [
            {"index": 0, "message": message, "finish_reason": "stop" if answer else "tool_calls"}
        ],
        "usage": {"prompt_tokens": 30, "completion_tokens": 10, "total_tokens": 40},
    }


# What a request carrying a tool result contains, per API.
_RESULT_MARKS = {
    "anthropic": b'"tool_result"',
    "gemini": b'"functionResponse"',
    "responses": b'"function_call_output"',
    "chat": b'"tool_call_id"',
}


def _sse(route: str, events: list[dict[str, Any]]) -> bytes:
    out = []
    for event in events:
        data = json.dumps(event, ensure_ascii=False)
        if route == "gemini":
            out.append(f"data: {data}\r\n\r\n")
        else:
            out.append(f"event: {event['type']}\ndata: {data}\n\n")
    return "".join(out).encode()


def _replies() -> dict[tuple[str, bool, bool], bytes]:
    """(route, answer, streamed) -> the body, encoded once."""
    table: dict[tuple[str, bool, bool], bytes] = {}
    for answer in (False, True):
        table["anthropic", answer, False] = json.dumps(_anthropic(answer)).encode()
        table["anthropic", answer, True] = _sse("anthropic", _anthropic_events(answer))
        table["gemini", answer, False] = json.dumps(_gemini(answer)).encode()
        table["gemini", answer, True] = _sse("gemini", [_gemini(answer)])
        table["responses", answer, False] = json.dumps(_responses(answer)).encode()
        table["responses", answer, True] = _sse("responses", _responses_events(answer))
        table["chat", answer, False] = json.dumps(_chat(answer)).encode()
    return table


async def _serve() -> None:
    from aiohttp import web

    replies = _replies()

    def handler(route: str) -> Callable[[Any], Awaitable[Any]]:
        async def handle(request: Any) -> Any:
            body = await request.read()
            streamed = request.path.endswith(":streamGenerateContent") or b'"stream":true' in (
                body.replace(b" ", b"")
            )
            data = replies[route, _RESULT_MARKS[route] in body, streamed]
            kind = "text/event-stream" if streamed else "application/json"
            return web.Response(body=data, content_type=kind)

        return handle

    app = web.Application()
    app.router.add_post("/v1/messages", handler("anthropic"))
    app.router.add_post("/v1/responses", handler("responses"))
    app.router.add_post("/v1/chat/completions", handler("chat"))
    for version in ("v1", "v1beta"):
        app.router.add_post(f"/{version}/models/{{call}}", handler("gemini"))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(site._server.sockets[0].getsockname()[1], flush=True)  # type: ignore[union-attr]
    # Serve until the parent closes our stdin.
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await runner.cleanup()


class WireServer:
    """The server in a child process: ``with WireServer() as url: ...``."""

    def __enter__(self) -> str:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks._wire_loop", "--serve"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._proc.stdout is not None
        port = self._proc.stdout.readline().strip()
        if not port:
            self._proc.kill()
            raise RuntimeError("the wire server did not start")
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc: object) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.close()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()


# --------------------------------------------------------------------------- the contenders

Bench = Callable[[], Awaitable[Any]]
Made = tuple[Bench, Callable[[], Awaitable[None]]]  # the two-step run, and how to close it


async def _weather(location: str) -> dict[str, Any]:
    return {"location": location, "temp": 25}


def _ours(client: Callable[[str], Any], *, stream: bool) -> Callable[[str], Awaitable[Made]]:
    async def make(url: str) -> Made:
        from toolwire import Runner, Tool, Toolbox

        schema = {
            "name": "get_weather",
            "description": "获取指定城市的天气信息",
            "parameters": {
                "type": "object",
                "properties": {"location": {"type": "string"}},
                "required": ["location"],
            },
        }
        model = client(url)
        runner = Runner(
            model=model, tools=Toolbox([Tool.from_schema(schema, handler=_weather)]), stream=stream
        )

        async def bench() -> Any:
            result = await runner.run(PROMPT)
            assert result.ok and result.final_text == ANSWER, result
            return result

        return bench, model.aclose

    return make


def _pydantic_ai(model: Callable[[str], Any]) -> Callable[[str], Awaitable[Made]]:
    async def make(url: str) -> Made:
        from pydantic_ai import Agent

        agent = Agent(model(url))

        @agent.tool_plain
        async def get_weather(location: str) -> dict[str, Any]:
            """获取指定城市的天气信息"""
            return await _weather(location)

        async def bench() -> Any:
            result = await agent.run(PROMPT)
            assert result.output == ANSWER, result.output
            return result

        async def close() -> None:
            return None

        return bench, close

    return make


def _anthropic_ours(url: str) -> Any:
    from toolwire.models import Anthropic

    return Anthropic(model="claude-sonnet-4-5", base_url=url, api_key="k", retries=0)


def _gemini_ours(url: str) -> Any:
    from toolwire.models import Gemini

    return Gemini(model="gemini-2.5-flash", base_url=url, api_key="k", retries=0)


def _responses_ours(url: str) -> Any:
    from toolwire.models import OpenAIResponses

    return OpenAIResponses(model="gpt-5-mini", base_url=f"{url}/v1", api_key="k", retries=0)


def _chat_ours(url: str) -> Any:
    from toolwire.models import OpenAICompatible

    return OpenAICompatible(model="qwen2.5-7b-instruct", base_url=f"{url}/v1", retries=0)


def _anthropic_peer(url: str) -> Any:
    from pydantic_ai.models.anthropic import AnthropicModel
    from pydantic_ai.providers.anthropic import AnthropicProvider

    return AnthropicModel(
        "claude-sonnet-4-5", provider=AnthropicProvider(api_key="k", base_url=url)
    )


def _gemini_peer(url: str) -> Any:
    from pydantic_ai.models.google import GoogleModel
    from pydantic_ai.providers.google import GoogleProvider

    return GoogleModel("gemini-2.5-flash", provider=GoogleProvider(api_key="k", base_url=url))


def _responses_peer(url: str) -> Any:
    from pydantic_ai.models.openai import OpenAIResponsesModel
    from pydantic_ai.providers.openai import OpenAIProvider

    provider = OpenAIProvider(api_key="k", base_url=f"{url}/v1")
    return OpenAIResponsesModel("gpt-5-mini", provider=provider)


def _chat_peer(url: str) -> Any:
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.openai import OpenAIProvider

    provider = OpenAIProvider(api_key="k", base_url=f"{url}/v1")
    return OpenAIChatModel("qwen2.5-7b-instruct", provider=provider)


# API -> {contender: how to make it}; the first of each is ours, whole responses.
CONTENDERS: dict[str, dict[str, Callable[[str], Awaitable[Made]]]] = {
    "anthropic": {
        "toolwire Anthropic": _ours(_anthropic_ours, stream=False),
        "toolwire Anthropic, streamed": _ours(_anthropic_ours, stream=True),
        "pydantic-ai AnthropicModel": _pydantic_ai(_anthropic_peer),
    },
    "gemini": {
        "toolwire Gemini": _ours(_gemini_ours, stream=False),
        "toolwire Gemini, streamed": _ours(_gemini_ours, stream=True),
        "pydantic-ai GoogleModel": _pydantic_ai(_gemini_peer),
    },
    "responses": {
        "toolwire OpenAIResponses": _ours(_responses_ours, stream=False),
        "toolwire OpenAIResponses, streamed": _ours(_responses_ours, stream=True),
        "pydantic-ai OpenAIResponsesModel": _pydantic_ai(_responses_peer),
    },
    "chat": {
        "toolwire OpenAICompatible": _ours(_chat_ours, stream=False),
        "pydantic-ai OpenAIChatModel": _pydantic_ai(_chat_peer),
    },
}


async def compare(url: str, *, runs: int, repeats: int) -> dict[str, list[float] | str]:
    """µs per two-step run for every contender, rounds alternating in a rotating order (the
    machine's noise lands on all of them alike); a contender that cannot start gets its why."""
    made: dict[str, Made] = {}
    out: dict[str, list[float] | str] = {}
    for table in CONTENDERS.values():
        for name, make in table.items():
            try:
                made[name] = await make(url)
                for _ in range(max(3, runs // 10)):  # warm-up: connections, lazy imports
                    await made[name][0]()
            except ImportError as exc:
                out[name] = f"not installed ({exc.name})"
                made.pop(name, None)
            except Exception as exc:  # a peer's API moved: say so, keep the others
                out[name] = f"failed: {exc!r}"[:160]
                made.pop(name, None)
    names = list(made)
    for repeat in range(repeats):
        order = names[repeat % len(names) :] + names[: repeat % len(names)] if names else []
        for name in order:
            bench = made[name][0]
            start = time.perf_counter()
            for _ in range(runs):
                await bench()
            runs_us = out.setdefault(name, [])
            assert isinstance(runs_us, list)
            runs_us.append((time.perf_counter() - start) / runs * 1e6)
    for _bench, close in made.values():
        await close()
    return out


# --------------------------------------------------------------------------- for bench_loop

# Per API: (ours, whole responses), (ours, streamed), pydantic-ai's client for the provider.
WIRE_ROWS = {
    "Anthropic Messages": (
        "toolwire Anthropic",
        "toolwire Anthropic, streamed",
        "pydantic-ai AnthropicModel",
    ),
    "Gemini generateContent": (
        "toolwire Gemini",
        "toolwire Gemini, streamed",
        "pydantic-ai GoogleModel",
    ),
    "OpenAI Responses": (
        "toolwire OpenAIResponses",
        "toolwire OpenAIResponses, streamed",
        "pydantic-ai OpenAIResponsesModel",
    ),
    "Chat Completions": ("toolwire OpenAICompatible", None, "pydantic-ai OpenAIChatModel"),
}
BASELINE = "toolwire OpenAICompatible"


def wire_rows(settings: Settings) -> dict[str, Row]:
    """µs per step (a two-step run / 2), each client against its local wire server."""
    with WireServer() as url:
        measured = asyncio.run(
            compare(url, runs=15 if settings.quick else 120, repeats=settings.repeats)
        )
    rows: dict[str, Row] = {}
    for name, runs in measured.items():
        if isinstance(runs, str):
            rows[name] = Row(name=name, median_us=None, note=runs)
        else:
            rows[name] = row(name, [r / 2 for r in runs], ours=name == BASELINE)
    base = rows.get(BASELINE)
    print("\nLoop step against a local wire server (a call, then the answer; µs per step)")
    print(
        f"{'':30}{'toolwire':>10}{'streamed':>10}{'pydantic-ai':>13}{'vs pyd-ai':>11}{'vs Chat':>9}"
    )
    for api, (ours, streamed, peer) in WIRE_ROWS.items():
        cells = [rows.get(n) if n else None for n in (ours, streamed, peer)]
        values = [c.median_us if c is not None else None for c in cells]
        text = "".join(f"{v:10.0f}" if v is not None else f"{'—':>10}" for v in values[:2])
        text += f"{values[2]:13.0f}" if values[2] is not None else f"{'—':>13}"
        vs_peer = divide(values[0], values[2])
        vs_chat = divide(values[0], base.median_us if base else None)
        text += f"{vs_peer:10.2f}x" if vs_peer else f"{'':>11}"
        text += f"{vs_chat:8.2f}x" if vs_chat else ""
        print(f"{api:30}{text}")
    for r in rows.values():
        if r.median_us is None:
            print(f"  {r.name}: {r.note}")
    return rows


def wire_results(rows: dict[str, Row]) -> list[dict[str, Any]]:
    base = rows.get(BASELINE)
    out = []
    for api, (ours, streamed, peer) in WIRE_ROWS.items():
        mine = rows.get(ours)
        peers: dict[str, float | None] = {}
        notes: dict[str, str] = {}
        for name in (peer, BASELINE if ours != BASELINE else None):
            if name is not None and name in rows:
                peers[name] = rows[name].median_us
                notes[name] = rows[name].note
        live = rows.get(streamed) if streamed else None
        streamed_note = (
            f"; streamed: {live.median_us:.0f} µs" if live and live.median_us is not None else ""
        )
        out.append(
            result(
                f"loop step against a local {api} server, whole responses",
                ours=mine.median_us if mine else None,
                unit="µs",
                peers=peers,
                peer_notes={k: v for k, v in notes.items() if peers.get(k) is None},
                ratio=divide(mine.median_us if mine else None, base.median_us if base else None)
                if ours != BASELINE
                else None,
                note="per step: one HTTP round trip + parse + the loop; ratio vs OpenAICompatible"
                + streamed_note,
            )
        )
    return out


if __name__ == "__main__" and "--serve" in sys.argv:
    asyncio.run(_serve())
