"""Format name -> format class. A dict, so adding a format is one line."""

from __future__ import annotations

from toolwire.parsing._auto import Auto
from toolwire.parsing._base import Format
from toolwire.parsing.deepseek_v3 import DeepSeekV3
from toolwire.parsing.deepseek_v31 import DeepSeekV31
from toolwire.parsing.glm45 import Glm45
from toolwire.parsing.granite import Granite
from toolwire.parsing.harmony import Harmony
from toolwire.parsing.hermes import Hermes
from toolwire.parsing.internlm import InternLM
from toolwire.parsing.jamba import Jamba
from toolwire.parsing.kimi_k2 import KimiK2
from toolwire.parsing.llama3_json import Llama3Json
from toolwire.parsing.mistral import Mistral
from toolwire.parsing.phi4_mini import Phi4Mini
from toolwire.parsing.pythonic import Pythonic
from toolwire.parsing.qwen3_coder import Qwen3Coder
from toolwire.parsing.xlam import Xlam

__all__ = ["REGISTRY"]

_ALL: tuple[type[Format], ...] = (
    Hermes,
    Llama3Json,
    Mistral,
    DeepSeekV3,
    DeepSeekV31,
    Qwen3Coder,
    Glm45,
    KimiK2,
    Harmony,
    Pythonic,
    Granite,
    InternLM,
    Jamba,
    Xlam,
    Phi4Mini,
    Auto,
)

REGISTRY: dict[str, type[Format]] = {cls.name: cls for cls in _ALL}
