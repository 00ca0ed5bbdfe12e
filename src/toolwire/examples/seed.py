"""The seed document's ``get_weather`` function, exactly as it defines it.

The original request (``shared/seed/``, in Chinese) walks through OpenAI function calling with
this one definition, passed to ``openai.ChatCompletion.create(functions=...)``. It is kept here
verbatim, Chinese descriptions included, as the default tool of ``toolwire tools`` and of the
benchmarks.

Example::

    >>> from toolwire.examples.seed import SEED_GET_WEATHER_SCHEMA
    >>> SEED_GET_WEATHER_SCHEMA["parameters"]["required"]
    ['location']
"""

from __future__ import annotations

from typing import Any

__all__ = ["SEED_GET_WEATHER_SCHEMA", "SEED_WEATHER_ARGUMENTS"]

SEED_GET_WEATHER_SCHEMA: dict[str, Any] = {
    "name": "get_weather",
    "description": "获取指定城市的天气信息",
    "parameters": {
        "type": "object",
        "properties": {"location": {"type": "string", "description": "城市名称"}},
        "required": ["location"],
    },
}

# The arguments the seed's model produces for "北京今天气温如何?".
SEED_WEATHER_ARGUMENTS = '{"location": "北京"}'
