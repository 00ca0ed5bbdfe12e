"""Export tool specs to a model dialect: one small module per dialect, chosen from a registry.

Example::

    >>> from toolwire._spec import ToolSpec
    >>> export_specs([ToolSpec(name="spotify.play")], "openai")[0]["function"]["name"]
    'spotify_play'
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from toolwire._spec import ToolSpec
from toolwire.dialects import (
    _export_anthropic,
    _export_gemini,
    _export_mcp,
    _export_openai,
    _export_openapi,
)

__all__ = ["EXPORT_DIALECTS", "Exported", "export_specs"]

Exported = list[dict[str, Any]] | dict[str, Any]
Exporter = Callable[[Sequence[ToolSpec], bool], Exported]

_EXPORTERS: dict[str, Exporter] = {
    "openai": _export_openai.export_chat,
    "openai-functions": _export_openai.export_functions,
    "openai-responses": _export_openai.export_responses,
    "anthropic": _export_anthropic.export,
    "gemini": _export_gemini.export,
    "mcp": _export_mcp.export,
    "openapi": _export_openapi.export,
}
EXPORT_DIALECTS: tuple[str, ...] = (
    "openai",
    "openai-functions",
    "openai-responses",
    "anthropic",
    "gemini",
    "mcp",
    "openapi",
)


def export_specs(
    specs: Sequence[ToolSpec], dialect: str, *, strict: bool = False
) -> list[dict[str, Any]] | dict[str, Any]:
    """Describe ``specs`` the way ``dialect`` expects them in a request.

    Returns what goes into the request as is: the ``tools`` list for ``openai``,
    ``openai-responses``, ``anthropic`` and ``gemini``, the ``functions`` list for
    ``openai-functions``, MCP ``Tool`` objects for ``mcp`` and an OpenAPI 3.1 document (a dict)
    for ``openapi``. Names a dialect forbids are exported as wire names (see
    :func:`toolwire.dialects._names.build_name_map`). ``strict`` applies OpenAI's strict mode
    (``openai*`` and ``anthropic``); a tool whose spec says ``strict=True`` is strict anyway.
    """
    try:
        exporter = _EXPORTERS[dialect]
    except KeyError:
        raise ValueError(
            f"unknown dialect {dialect!r}; expected one of: {', '.join(EXPORT_DIALECTS)}"
        ) from None
    return exporter(specs, strict)
