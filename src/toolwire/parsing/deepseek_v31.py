"""DeepSeek V3.1 / V3.2: ``<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>f<｜tool▁sep｜>{...}``
``<｜tool▁call▁end｜><｜tool▁calls▁end｜>`` — the name then bare JSON arguments.

The V3 reader already tells the two layouts apart by what precedes the separator, so this
format is that reader under its own name.
"""

from __future__ import annotations

from toolwire.parsing.deepseek_v3 import DeepSeekV3

__all__ = ["DeepSeekV31"]


class DeepSeekV31(DeepSeekV3):
    name = "deepseek_v31"
