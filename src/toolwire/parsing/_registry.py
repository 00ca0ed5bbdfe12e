"""Every text format, one line each: name -> :class:`~toolwire.parsing._record.TextFormat`.

A format module ends with ``FORMAT = TextFormat(...)``; adding a format is that module plus one
line in ``_FORMATS``. ``auto`` is built here from the other formats' cues, in this order (where
two formats claim the same marker and character, the earlier one wins).
"""

from __future__ import annotations

from functools import partial

from toolwire.parsing import (
    apertus,
    cohere_command,
    deepseek_v3,
    deepseek_v4,
    deepseek_v31,
    deepseek_v32,
    dots,
    functiongemma,
    gemma4,
    gigachat3,
    gigachat35,
    glm45,
    glm47,
    granite,
    granite_20b_fc,
    harmony,
    hermes,
    hunyuan,
    inkling,
    internlm,
    jamba,
    k2_horizon,
    kimi_k2,
    kimi_k3,
    lfm2,
    llama3_json,
    longcat,
    minicpm5,
    minimax_m2,
    minimax_m3,
    mistral,
    muse,
    olmo3,
    phi4_mini,
    poolside_v1,
    pythonic,
    qwen3_coder,
    seed_oss,
    solar_open2,
    step3,
    trinity,
    xlam,
)
from toolwire.parsing._auto import Auto
from toolwire.parsing._base import THINK
from toolwire.parsing._record import TextFormat

__all__ = ["ALIASES", "TEXT_FORMATS", "text_format"]

_FORMATS: tuple[TextFormat, ...] = (
    hermes.FORMAT,
    llama3_json.FORMAT,
    mistral.FORMAT,
    deepseek_v3.FORMAT,
    deepseek_v31.FORMAT,
    qwen3_coder.FORMAT,
    glm45.FORMAT,
    kimi_k2.FORMAT,
    harmony.FORMAT,
    pythonic.FORMAT,
    granite.FORMAT,
    internlm.FORMAT,
    jamba.FORMAT,
    xlam.FORMAT,
    phi4_mini.FORMAT,
    glm47.FORMAT,
    seed_oss.FORMAT,
    minimax_m2.FORMAT,
    deepseek_v32.FORMAT,
    deepseek_v4.FORMAT,
    step3.FORMAT,
    hunyuan.FORMAT,
    k2_horizon.FORMAT,
    lfm2.FORMAT,
    olmo3.FORMAT,
    apertus.FORMAT,
    cohere_command.FORMAT,
    dots.FORMAT,
    functiongemma.FORMAT,
    gemma4.FORMAT,
    gigachat3.FORMAT,
    gigachat35.FORMAT,
    granite_20b_fc.FORMAT,
    inkling.FORMAT,
    kimi_k3.FORMAT,
    longcat.FORMAT,
    minicpm5.FORMAT,
    minimax_m3.FORMAT,
    muse.FORMAT,
    poolside_v1.FORMAT,
    solar_open2.FORMAT,
    trinity.FORMAT,
)

_AUTO = TextFormat(
    name="auto",
    parser=partial(
        Auto,
        tuple(cue for fmt in _FORMATS for cue in fmt.cues),
        # every family's reasoning tags
        tuple(dict.fromkeys((*THINK, *(t for fmt in _FORMATS for t in fmt.parser().thinks)))),
    ),
    family="any of the above, found by its markers",
    reasoning=True,
)

TEXT_FORMATS: dict[str, TextFormat] = {fmt.name: fmt for fmt in (*_FORMATS, _AUTO)}
"""Each format by its own name (``FORMATS`` lists these names)."""

ALIASES: dict[str, str] = {
    alias: fmt.name for fmt in TEXT_FORMATS.values() for alias in fmt.aliases
}
"""Other accepted names (the peers' names for the same wire format) -> the format's name."""


def text_format(name: str) -> TextFormat:
    """The record of the format called ``name`` (its own name or an alias).

    >>> text_format("qwen25").name
    'hermes'
    """
    fmt = TEXT_FORMATS.get(name) or TEXT_FORMATS.get(ALIASES.get(name, ""))
    if fmt is None:
        known = ", ".join(sorted((*TEXT_FORMATS, *ALIASES)))
        raise ValueError(f"unknown format {name!r}; known: {known}")
    return fmt
