"""Format name -> format class. A dict, so adding a format is one line."""

from __future__ import annotations

from toolwire.parsing._base import Format
from toolwire.parsing.hermes import Hermes

__all__ = ["REGISTRY"]

REGISTRY: dict[str, type[Format]] = {cls.name: cls for cls in (Hermes,)}
