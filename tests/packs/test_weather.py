"""The weather pack against a local server answering in Open-Meteo's documented format."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from toolwire._errors import ToolFailure
from toolwire._tools import Tool
from toolwire.packs import weather
from toolwire.remote._http import close_clients

PROVINCIAL_CAPITALS = [
    "北京",
    "上海",
    "天津",
    "重庆",
    "哈尔滨",
    "长春",
    "沈阳",
    "呼和浩特",
    "石家庄",
    "太原",
    "济南",
    "郑州",
    "西安",
    "兰州",
    "银川",
    "西宁",
    "乌鲁木齐",
    "拉萨",
    "成都",
    "昆明",
    "贵阳",
    "南宁",
    "广州",
    "海口",
    "长沙",
    "武汉",
    "南昌",
    "合肥",
    "南京",
    "杭州",
    "福州",
    "台北",
    "香港",
    "澳门",
]


@dataclass
class FakeMeteo:
    base: str = ""
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    mode: str = "ok"


def _forecast_answer(lat: float, lon: float, imperial: bool) -> dict[str, Any]:
    return {
        "latitude": lat,
        "longitude": lon,
        "generationtime_ms": 0.04,
        "utc_offset_seconds": 28800,
        "timezone": "Asia/Shanghai",
        "timezone_abbreviation": "GMT+8",
        "elevation": 44.0,
        "current_units": {
            "time": "iso8601",
            "interval": "seconds",
            "temperature_2m": "°F" if imperial else "°C",
            "relative_humidity_2m": "%",
            "apparent_temperature": "°F" if imperial else "°C",
            "precipitation": "inch" if imperial else "mm",
            "weather_code": "wmo code",
            "wind_speed_10m": "mp/h" if imperial else "km/h",
            "wind_direction_10m": "°",
        },
        "current": {
            "time": "2026-05-01T14:00",
            "interval": 900,
            "temperature_2m": 77.0 if imperial else 25.0,
            "relative_humidity_2m": 60,
            "apparent_temperature": 78.1 if imperial else 25.6,
            "precipitation": 0.0,
            "weather_code": 3,
            "wind_speed_10m": 7.2,
            "wind_direction_10m": 180,
        },
    }


@pytest.fixture
async def meteo() -> AsyncIterator[FakeMeteo]:
    state = FakeMeteo()

    async def forecast(request: web.Request) -> web.Response:
        q = dict(request.query)
        state.requests.append(("forecast", q))
        if state.mode == "500":
            return web.Response(status=500, text="upstream exploded")
        if state.mode == "429":
            return web.json_response({"error": True}, status=429, headers={"Retry-After": "7"})
        if state.mode == "notjson":
            return web.Response(text="<html>maintenance</html>", content_type="text/html")
        if state.mode == "400":
            return web.json_response(
                {"error": True, "reason": "Latitude must be in range of -90 to 90°."}, status=400
            )
        answer = _forecast_answer(
            float(q["latitude"]), float(q["longitude"]), q.get("temperature_unit") == "fahrenheit"
        )
        return web.json_response(answer)

    async def search(request: web.Request) -> web.Response:
        q = dict(request.query)
        state.requests.append(("search", q))
        if q["name"].lower().startswith("springfield"):
            result = {
                "id": 4409896,
                "name": "Springfield",
                "latitude": 37.21533,
                "longitude": -93.29824,
                "elevation": 397.0,
                "feature_code": "PPLA2",
                "country_code": "US",
                "timezone": "America/Chicago",
                "population": 169176,
                "country_id": 6252001,
                "country": "United States",
                "admin1": "Missouri",
            }
            return web.json_response({"results": [result], "generationtime_ms": 0.6})
        return web.json_response({"generationtime_ms": 0.3})  # no "results": nothing found

    app = web.Application()
    app.router.add_get("/v1/forecast", forecast)
    app.router.add_get("/v1/search", search)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    state.base = f"http://127.0.0.1:{port}/v1"
    yield state
    await close_clients()
    await runner.cleanup()


def _tools(meteo: FakeMeteo, **kw: Any) -> dict[str, Tool]:
    made = weather.tools(
        f"{meteo.base}/forecast",
        f"{meteo.base}/search",
        allow_hosts=kw.pop("allow_hosts", ("127.0.0.1",)),
        **kw,
    )
    return {t.name: t for t in made}


async def _call(t: Tool, args: dict[str, Any]) -> Any:
    return await t.require_handler()(**t.validate(args))


@pytest.mark.anyio
async def test_known_city_needs_no_geocoding(meteo: FakeMeteo) -> None:
    out = await _call(_tools(meteo)["get_weather"], {"location": "北京"})
    assert [kind for kind, _ in meteo.requests] == ["forecast"]
    sent = meteo.requests[0][1]
    assert sent["latitude"] == "39.9" and sent["longitude"] == "116.41"
    assert "temperature_2m" in sent["current"] and "weather_code" in sent["current"]
    assert (
        out["location"]["name"] == "Beijing" and out["location"]["resolved_by"] == "offline table"
    )
    assert out["temperature"] == 25.0 and out["humidity"] == 60
    assert (out["conditions"], out["conditions_zh"]) == ("overcast", "阴")
    assert out["units"]["temperature"] == "°C" and out["units"]["wind_speed"] == "km/h"


@pytest.mark.anyio
async def test_imperial_units_and_coordinates(meteo: FakeMeteo) -> None:
    out = await _call(
        _tools(meteo)["get_weather"], {"location": "40.7, -74.0", "units": "imperial"}
    )
    sent = meteo.requests[0][1]
    assert sent["temperature_unit"] == "fahrenheit" and sent["wind_speed_unit"] == "mph"
    assert out["units"]["temperature"] == "°F" and out["temperature"] == 77.0
    assert out["location"]["resolved_by"] == "coordinates"


@pytest.mark.anyio
async def test_other_places_are_geocoded(meteo: FakeMeteo) -> None:
    out = await _call(_tools(meteo)["get_weather"], {"location": "Springfield, Missouri"})
    assert [kind for kind, _ in meteo.requests] == ["search", "forecast"]
    assert meteo.requests[0][1]["language"] == "en"
    assert out["location"]["admin1"] == "Missouri"
    places = await _call(_tools(meteo)["search_places"], {"name": "Springfield", "count": 50})
    assert places[0]["country"] == "United States"
    assert meteo.requests[-1][1]["count"] == "20"


@pytest.mark.anyio
async def test_unknown_place_is_a_clear_error(meteo: FakeMeteo) -> None:
    with pytest.raises(ToolFailure) as info:
        await _call(_tools(meteo)["get_weather"], {"location": "不存在的地方"})
    assert info.value.kind == "execution_error"
    assert "No place named" in info.value.message and "北京" in info.value.message
    assert meteo.requests[0][1]["language"] == "zh"


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("mode", "kind", "words"),
    [
        ("500", "remote_error", "HTTP 500"),
        ("429", "rate_limited", "429"),
        ("notjson", "remote_error", "not JSON"),
        ("400", "remote_error", "Latitude must be in range"),
    ],
)
async def test_service_failures_map_to_kinds(
    meteo: FakeMeteo, mode: str, kind: str, words: str
) -> None:
    meteo.mode = mode
    with pytest.raises(ToolFailure) as info:
        await _call(_tools(meteo)["get_weather"], {"location": "Tokyo"})
    assert info.value.kind == kind and words in info.value.message
    if mode == "429":
        assert info.value.retry_after == 7.0


@pytest.mark.anyio
async def test_out_of_range_coordinates_are_a_place_name(meteo: FakeMeteo) -> None:
    with pytest.raises(ToolFailure) as info:
        await _call(_tools(meteo)["get_weather"], {"location": "95.0,10.0"})
    # 95 is not a latitude: resolved as a place name, which the geocoder does not know
    assert info.value.kind == "execution_error"
    api = _tools(meteo)["get_weather"]
    assert api.spec.annotations.read_only and api.policy is not None


@pytest.mark.anyio
async def test_network_failure_and_ssrf(meteo: FakeMeteo) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    dead = sock.getsockname()[1]
    sock.close()
    down = weather.tools(
        f"http://127.0.0.1:{dead}/v1/forecast", allow_hosts=("127.0.0.1",), timeout_s=2
    )
    with pytest.raises(ToolFailure) as info:
        await _call(down[0], {"location": "Paris"})
    assert info.value.kind == "remote_error"
    with pytest.raises(ToolFailure) as refused:
        await _call(_tools(meteo, allow_hosts=())["get_weather"], {"location": "Paris"})
    assert refused.value.kind == "forbidden" and "127.0.0.1" in refused.value.message
    assert meteo.requests == []


def test_city_table() -> None:
    assert len(weather.CITIES) >= 150
    for name in PROVINCIAL_CAPITALS:
        city = weather.find_city(name)
        assert city is not None and city.name_zh == name, name
    for name in ("Tokyo", "Delhi", "Shanghai", "São Paulo", "Mexico City", "Cairo", "Mumbai"):
        assert weather.find_city(name) is not None, name
    assert weather.find_city("北京今天气温如何?").name == "Beijing"  # type: ignore[union-attr]
    assert [c.name for c in weather.find_cities("北京、上海和广州的天气")] == [
        "Beijing",
        "Shanghai",
        "Guangzhou",
    ]
    assert weather.find_city("sao paulo").name == "São Paulo"  # type: ignore[union-attr]
    assert weather.find_city("New York City weather").name == "New York"  # type: ignore[union-attr]
    assert weather.find_city("LA").name == "Los Angeles"  # type: ignore[union-attr]
    assert weather.find_city("I like la musique") is None
    assert weather.find_city("深圳市").country == "China"  # type: ignore[union-attr]
    assert weather.find_city("") is None and weather.find_city("weather") is None
    assert weather.describe(95) == ("thunderstorm", "雷暴")
    assert weather.describe(42)[0] == "weather code 42"
