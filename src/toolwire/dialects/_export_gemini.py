"""Gemini ``tools``: one Tool holding every function declaration (REST JSON spelling)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from toolwire._spec import ToolSpec
from toolwire.dialects._names import wire_names
from toolwire.dialects._schema_ops import to_gemini

__all__ = ["export"]


def _map_declaration(spec: ToolSpec, name: str) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name}
    if spec.description:
        out["description"] = spec.description
    params = to_gemini(spec.input_schema, where=f"tool {spec.name!r}")
    # A function without parameters leaves them unset: Gemini rejects an empty OBJECT.
    if params.get("properties"):
        out["parameters"] = params
    return out


def export(specs: Sequence[ToolSpec], strict: bool) -> list[dict[str, Any]]:
    """``[{"functionDeclarations": [...]}]``; Gemini has no strict flag, so it is ignored."""
    names = wire_names([s.name for s in specs], "gemini")
    return [{"functionDeclarations": [_map_declaration(s, names[s.name]) for s in specs]}]
