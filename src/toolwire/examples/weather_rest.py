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


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description="The seed's FastAPI weather service")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":  # pragma: no cover
    main()
