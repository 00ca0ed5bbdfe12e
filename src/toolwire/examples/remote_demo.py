"""The seed's architecture end to end, offline: REST and gRPC weather services as tools.

Starts the seed's FastAPI service (:mod:`.weather_rest`) and gRPC ``WeatherService``
(:mod:`.weather_grpc`) on 127.0.0.1, imports them through OpenAPI and gRPC reflection, and lets
a model call them (the offline model by default, so no network and no key are needed).
Meant to back ``toolwire demo --remote``.

Example::

    results = await run_remote_demo()
    python -m toolwire.examples.remote_demo
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from toolwire._json import dumps
from toolwire.examples import weather_grpc, weather_rest
from toolwire.remote import grpc as remote_grpc
from toolwire.remote import openapi
from toolwire.remote._http import close_clients

PROMPT = "北京、上海和广州今天天气如何?"


async def run_remote_demo(
    model: Any = None, *, prompt: str = PROMPT, echo: Callable[[str], None] = print
) -> dict[str, Any]:
    """Run the prompt once against the REST tool and once against the gRPC tool.

    Returns ``{"rest": RunResult, "grpc": RunResult}``; ``echo`` receives the narration.
    """
    from toolwire.models import Offline
    from toolwire.runner import Runner

    rest = await weather_rest.start()
    grpc_server, grpc_port = await weather_grpc.start()
    try:
        echo(f"REST service (FastAPI, POST /weather) on {rest.url}")
        echo(f"gRPC WeatherService (reflection on) on 127.0.0.1:{grpc_port}")
        rest_tools = await openapi.load(f"{rest.url}/openapi.json", allow_hosts=["127.0.0.1"])
        grpc_tools = await remote_grpc.load(
            f"127.0.0.1:{grpc_port}",
            allow_hosts=["127.0.0.1"],  # the SSRF guard refuses loopback unless allowed
            # reflection carries no comments; say what the method does, as the REST summary does
            descriptions={
                "WeatherService.GetWeather": "获取指定城市的天气信息 (weather for a city)"
            },
        )
        results: dict[str, Any] = {}
        for label, tools in (("rest", rest_tools), ("grpc", grpc_tools)):
            for t in tools:
                echo(f"[{label}] imported {t.name}: {dumps(dict(t.spec.input_schema))}")
            runner = Runner(model=model or Offline(), tools=tools, max_steps=4)
            result = await runner.run(prompt)
            for call, outcome in zip(result.calls, result.results, strict=False):
                shown = outcome.value if outcome.ok else outcome.error
                echo(f"[{label}] {call.name}({call.arguments}) -> {shown}")
            echo(f"[{label}] answer: {result.final_text}")
            results[label] = result
        return results
    finally:
        await close_clients()
        await remote_grpc.close_channels()
        await grpc_server.stop(None)
        await rest.stop()


if __name__ == "__main__":  # pragma: no cover
    asyncio.run(run_remote_demo())
