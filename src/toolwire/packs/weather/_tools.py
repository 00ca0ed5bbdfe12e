"""Live weather from Open-Meteo (no API key): ``get_weather`` and ``search_places``."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal

from toolwire._errors import ToolFailure
from toolwire._tools import Tool, tool
from toolwire.packs.weather._cities import City, find_city
from toolwire.packs.weather._codes import describe
from toolwire.remote._http import Response, client_for, failure_for
from toolwire.remote._ssrf import Guard
from toolwire.runtime._policy import Cache, Policy, Retry

FORECAST_URL = "https://api.open-meteo.com/v1/forecast"
GEOCODING_URL = "https://geocoding-api.open-meteo.com/v1/search"
CURRENT = (
    "temperature_2m,relative_humidity_2m,apparent_temperature,precipitation,weather_code,"
    "wind_speed_10m,wind_direction_10m"
)
_LATLON = re.compile(r"^\s*(-?\d{1,2}(?:\.\d+)?)\s*[,，\s]\s*(-?\d{1,3}(?:\.\d+)?)\s*$")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


def default_policy(timeout_s: float) -> Policy:
    """Retry transient failures, cache answers for five minutes, bound each attempt."""
    return Policy(
        timeout=timeout_s,
        retry=Retry(retry_on=("timeout", "rate_limited", "remote_error"), attempts=3),
        cache=Cache(ttl=300.0),
    )


class _OpenMeteo:
    def __init__(
        self, forecast_url: str, geocoding_url: str, guard: Guard, timeout_s: float
    ) -> None:
        self.forecast_url = forecast_url
        self.geocoding_url = geocoding_url
        self.guard = guard
        self.timeout_s = timeout_s

    async def _get(self, url: str, params: dict[str, Any], what: str) -> Any:
        response: Response = await client_for(self.guard).request(
            "GET", url, params=params, timeout_s=self.timeout_s
        )
        failure = failure_for(response, what)
        if failure is not None:
            reason = _reason(response)
            if reason and failure.kind == "remote_error":
                raise ToolFailure(
                    "remote_error", f"{what}: {reason}", details=dict(failure.details)
                )
            raise failure
        try:
            return response.json()
        except ValueError as exc:
            raise ToolFailure(
                "remote_error",
                f"{what}: the service answered with something that is not JSON.",
                details={"url": response.url, "body": response.body[:200].decode(errors="replace")},
            ) from exc

    async def geocode(self, name: str, count: int) -> list[dict[str, Any]]:
        language = "zh" if _CJK.search(name) else "en"
        data = await self._get(
            self.geocoding_url,
            {"name": name, "count": count, "language": language, "format": "json"},
            f"Looking up the place {name!r}",
        )
        results = data.get("results") if isinstance(data, dict) else None
        return [r for r in results or [] if isinstance(r, dict) and "latitude" in r]

    async def resolve(self, location: str) -> dict[str, Any]:
        text = location.strip()
        if not text:
            raise ToolFailure("execution_error", "The location is empty; name a city or place.")
        match = _LATLON.match(text)
        if match:
            lat, lon = float(match.group(1)), float(match.group(2))
            if -90 <= lat <= 90 and -180 <= lon <= 180:
                return {
                    "name": text,
                    "latitude": lat,
                    "longitude": lon,
                    "resolved_by": "coordinates",
                }
        city = find_city(text)
        if city is not None:
            return _from_city(city)
        found = await self.geocode(text, 1)
        if not found:
            raise ToolFailure(
                "execution_error",
                f"No place named {text!r} was found. Use a city name (in English or Chinese, "
                "e.g. 'Beijing' or '北京'), optionally with the country, or 'latitude,longitude'.",
                details={"location": text},
            )
        top = found[0]
        return {
            "name": top.get("name", text),
            "country": top.get("country"),
            "admin1": top.get("admin1"),
            "latitude": float(top["latitude"]),
            "longitude": float(top["longitude"]),
            "resolved_by": "geocoding",
        }

    async def current(self, place: dict[str, Any], units: str) -> dict[str, Any]:
        params: dict[str, Any] = {
            "latitude": place["latitude"],
            "longitude": place["longitude"],
            "current": CURRENT,
            "timezone": "auto",
        }
        if units == "imperial":
            params.update(
                temperature_unit="fahrenheit", wind_speed_unit="mph", precipitation_unit="inch"
            )
        data = await self._get(
            self.forecast_url, params, f"Getting the weather for {place['name']}"
        )
        now = data.get("current") if isinstance(data, dict) else None
        if not isinstance(now, dict):
            raise ToolFailure(
                "remote_error",
                "The weather service answered without current conditions.",
                details={"answer": str(data)[:200]},
            )
        given = data.get("current_units") or {}
        code = now.get("weather_code")
        words, words_zh = describe(code)
        return {
            "location": place,
            "time": now.get("time"),
            "timezone": data.get("timezone"),
            "temperature": now.get("temperature_2m"),
            "feels_like": now.get("apparent_temperature"),
            "humidity": now.get("relative_humidity_2m"),
            "precipitation": now.get("precipitation"),
            "wind_speed": now.get("wind_speed_10m"),
            "wind_direction": now.get("wind_direction_10m"),
            "weather_code": code,
            "conditions": words,
            "conditions_zh": words_zh,
            "units": {
                "temperature": given.get("temperature_2m", "°C" if units == "metric" else "°F"),
                "humidity": given.get("relative_humidity_2m", "%"),
                "precipitation": given.get("precipitation", "mm" if units == "metric" else "inch"),
                "wind_speed": given.get("wind_speed_10m", "km/h" if units == "metric" else "mp/h"),
                "wind_direction": given.get("wind_direction_10m", "°"),
            },
        }


def _reason(response: Response) -> str | None:
    """Open-Meteo explains 400s as ``{"error": true, "reason": "..."}``."""
    try:
        body = response.json()
    except ValueError:
        return None
    if isinstance(body, dict) and body.get("error") and isinstance(body.get("reason"), str):
        return f"the service refused the request (HTTP {response.status}): {body['reason']}"
    return None


def _from_city(city: City) -> dict[str, Any]:
    return {
        "name": city.name,
        "name_zh": city.name_zh,
        "country": city.country,
        "latitude": city.latitude,
        "longitude": city.longitude,
        "resolved_by": "offline table",
    }


def tools(
    forecast_url: str = FORECAST_URL,
    geocoding_url: str = GEOCODING_URL,
    *,
    allow_hosts: Sequence[str] = (),
    timeout_s: float = 10.0,
    policy: Policy | None = None,
) -> list[Tool]:
    """``get_weather(location, units)`` and ``search_places(name, count)`` on Open-Meteo.

    Common places resolve through the bundled city table without a geocoding call. Point the
    URLs at a mirror or a test server (add its host to ``allow_hosts`` when it is private).

    Example::

        from toolwire.packs import weather
        box = tw.Toolbox(weather.tools())
        await box.call("get_weather", {"location": "北京"})
    """
    api = _OpenMeteo(forecast_url, geocoding_url, Guard(allow_hosts=tuple(allow_hosts)), timeout_s)
    chosen = policy or default_policy(timeout_s)

    @tool(
        name="get_weather",
        description="Get the current weather for a city or place (获取指定城市的天气信息): "
        "temperature, feels-like temperature, humidity, precipitation, wind and conditions "
        "in words, with units.",
        read_only=True,
        open_world=True,
        policy=chosen,
        tags={"weather"},
    )
    async def get_weather(
        location: str, units: Literal["metric", "imperial"] = "metric"
    ) -> dict[str, Any]:
        """Current conditions.

        Args:
            location: City name in any language (e.g. "北京", "New York", "Paris, France")
                or "latitude,longitude".
            units: "metric" (°C, km/h, mm) or "imperial" (°F, mph, inch).
        """
        place = await api.resolve(location)
        return await api.current(place, units)

    @tool(
        name="search_places",
        description="Find places by name and return their country, region and coordinates; "
        "use it when a place name is ambiguous.",
        read_only=True,
        open_world=True,
        policy=chosen,
        tags={"weather"},
    )
    async def search_places(name: str, count: int = 5) -> list[dict[str, Any]]:
        """Search places.

        Args:
            name: Place name in any language.
            count: How many matches to return (1-20).
        """
        count = max(1, min(20, count))
        found = await api.geocode(name, count)
        keep = ("name", "country", "admin1", "latitude", "longitude", "timezone", "population")
        return [{k: r[k] for k in keep if k in r} for r in found]

    return [get_weather, search_places]
