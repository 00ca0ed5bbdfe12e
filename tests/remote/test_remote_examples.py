"""The seed's services as runnable examples, imported back as tools (REST via OpenAPI)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from toolwire._context import Context
from toolwire.examples import weather_rest
from toolwire.remote import openapi
from toolwire.remote._http import close_clients

SEED_PROTO = """syntax = "proto3";
service WeatherService {
  rpc GetWeather (Location) returns (WeatherData) {}
}
message Location {
  string name = 1;
}
message WeatherData {
  int32 temp = 1;
  int32 humidity = 2;
}"""


@pytest.fixture
async def rest_url() -> AsyncIterator[str]:
    service = await weather_rest.start()
    yield service.url
    await close_clients()
    await service.stop()


@pytest.mark.anyio
async def test_weather_rest_imports_as_the_seeds_tool(rest_url: str) -> None:
    tools = await openapi.load(f"{rest_url}/openapi.json", allow_hosts=["127.0.0.1"])
    assert [t.name for t in tools] == ["get_weather"]
    weather = tools[0]
    assert weather.spec.input_schema["required"] == ["location"]
    assert "获取指定城市的天气信息" in weather.description
    assert not weather.spec.annotations.idempotent  # POST, as in the seed
    ctx = Context(call_id="c", tool_name="get_weather")
    kwargs = weather.bind(weather.validate({"location": "北京"}), ctx)
    assert await weather.require_handler()(**kwargs) == {"temp": 25, "humidity": 60}


def test_proto_is_the_seeds() -> None:
    proto = Path(weather_rest.__file__).parent / "proto" / "weather.proto"
    lines = [line.rstrip() for line in proto.read_text(encoding="utf-8").splitlines()]
    assert lines == SEED_PROTO.splitlines()


@pytest.mark.anyio
async def test_remote_demo_calls_both_services() -> None:
    from toolwire.examples.remote_demo import run_remote_demo

    lines: list[str] = []
    results = await run_remote_demo(echo=lines.append)
    for label, tool_name, arg in (("rest", "get_weather", "location"),
                                  ("grpc", "WeatherService.GetWeather", "name")):  # fmt: skip
        run = results[label]
        assert run.ok
        assert [c.name for c in run.calls] == [tool_name] * 3
        assert all(r.ok and r.value == {"temp": 25, "humidity": 60} for r in run.results)
        assert any(f'"{arg}":"广州"' in line for line in lines)
