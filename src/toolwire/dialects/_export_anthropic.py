"""Anthropic Messages API ``tools``: ``{"name", "description", "input_schema"}``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from toolwire._spec import ToolSpec
from toolwire.dialects._export_openai import parameters_for
from toolwire.dialects._names import wire_names

__all__ = ["export"]


def export(specs: Sequence[ToolSpec], strict: bool) -> list[dict[str, Any]]:
    """One tool object per spec; ``strict`` rewrites schemas to the strict subset and flags it."""
    names = wire_names([s.name for s in specs], "anthropic")
    tools = []
    for spec in specs:
        use_strict = strict or spec.strict is True
        tool: dict[str, Any] = {"name": names[spec.name]}
        if spec.description:
            tool["description"] = spec.description
        tool["input_schema"] = parameters_for(spec, strict=use_strict)
        if use_strict:
            tool["strict"] = True
        tools.append(tool)
    return tools
