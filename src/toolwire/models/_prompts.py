"""Text mode's prompts: the format record that writes the tools and results, and the rules.

For servers that return raw text (no tool parser configured), the tools go into the system
prompt the way the family was trained to read them, and the reply is parsed with
:mod:`toolwire.parsing`. Each format's record (:class:`toolwire.parsing.TextFormat`) carries its
prompt and result writers; this module picks the record and adds the tool-choice rules.
"""

from __future__ import annotations

from toolwire.parsing import TEXT_FORMATS, TextFormat, text_format

__all__ = ["prompt_format", "prompted_formats", "rules_for"]


def prompted_formats() -> tuple[str, ...]:
    """Every name ``OpenAICompatible(api="text", text_format=...)`` takes (aliases included)."""
    return tuple(name for fmt in TEXT_FORMATS.values() if fmt.prompted for name in fmt.names)


def prompt_format(name: str) -> TextFormat:
    """The record of text format ``name``; ValueError when it has no prompt to write."""
    fmt = text_format(name)
    if not fmt.prompted:
        raise ValueError(
            f"no prompt renderer for text format {name!r}; known: {', '.join(prompted_formats())}"
        )
    return fmt


def rules_for(tool_choice: str, parallel: bool) -> str:
    """Extra instructions for tool_choice / parallel_tool_calls in text mode."""
    rules = []
    if tool_choice == "required":
        rules.append("You must call at least one function in this reply.")
    elif tool_choice not in ("auto", "none"):
        rules.append(f"You must call the function `{tool_choice}` in this reply.")
    if not parallel:
        rules.append("Call at most one function per reply.")
    return ("\n\n" + " ".join(rules)) if rules else ""
