"""Live weather on the Open-Meteo API (no key), with an offline table of world cities.

Example::

    from toolwire.packs import weather
    box = tw.Toolbox(weather.tools())
    weather.find_city("北京今天气温如何?").name   # 'Beijing'
"""

from toolwire.packs.weather._cities import CITIES, City, find_cities, find_city
from toolwire.packs.weather._codes import WEATHER_CODES, describe
from toolwire.packs.weather._tools import FORECAST_URL, GEOCODING_URL, tools

__all__ = [
    "CITIES",
    "FORECAST_URL",
    "GEOCODING_URL",
    "WEATHER_CODES",
    "City",
    "describe",
    "find_cities",
    "find_city",
    "tools",
]
