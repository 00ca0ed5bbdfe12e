"""The seed's FastAPI weather service: ``POST /weather?location=...`` with simulated data.

As in the seed, ``location`` is a query parameter and the answer is simulated
(``{"temp": 25, "humidity": 60}``). FastAPI publishes ``/openapi.json``, which
``toolwire.remote.openapi.load`` turns into a ``get_weather`` tool.

Run it::

    uvicorn toolwire.examples.weather_rest:app --port 8000
    python -m toolwire.examples.weather_rest --port 8000
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass, field
from typing import Any

from toolwire._errors import MissingExtra

try:
    from fastapi import FastAPI
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtra("fastapi", "serve") from exc


def create_app() -> FastAPI:
    """A fresh app with the seed's one route."""
    api = FastAPI(title="Weather (toolwire seed example)", version="1.0")

    @api.post(
        "/weather",
        operation_id="get_weather",
        summary="获取指定城市的天气信息 (get the weather for a city; simulated data)",
    )
    def weather_api(location: str) -> dict[str, int]:
        # 模拟天气数据 (simulated weather data, as in the seed)
        return {"temp": 25, "humidity": 60}

    return api


app = create_app()


@dataclass(frozen=True, slots=True, kw_only=True)
class Running:
    """A weather service started by :func:`start`."""

    port: int
    server: Any = field(repr=False)
    task: asyncio.Task[None] = field(repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        self.server.should_exit = True
        await self.task


async def start(host: str = "127.0.0.1", port: int = 0) -> Running:
    """Serve :data:`app` with uvicorn in this event loop (``port=0``: any free port).

    Example::

        service = await start()
        tools = await toolwire.remote.openapi.load(
            f"{service.url}/openapi.json", allow_hosts=["127.0.0.1"]
        )
        await service.stop()
    """
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # re-raise why the server could not start
            raise RuntimeError("the weather service stopped while starting")
        await asyncio.sleep(0.01)
    return Running(port=server.servers[0].sockets[0].getsockname()[1], server=server, task=task)


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description="The seed's FastAPI weather service")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":  # pragma: no cover
    main()
