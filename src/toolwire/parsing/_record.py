"""One record per text format: its parser, how it writes calls, prompts and results, how ``auto``
finds it, and what the docs say about it.

Every format module ends with ``FORMAT = TextFormat(...)``; ``_registry`` lists them, one line
each. Everything else — ``parse``/``StreamParser`` by any of the format's names, the ``auto``
detector, the text-mode prompts of :class:`~toolwire.models.OpenAICompatible`, the history a
:class:`~toolwire.Router` writes for a text model, the grammars of :mod:`toolwire.grammar` and
the table in ``docs/formats.md`` — reads the record, so a format is added in one place.

The record needs only the core data types (``ToolSpec``, ``ToolCall``, ``ToolResult``), which sit
below this layer; nothing here imports the models or the tools layer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from toolwire._calls import ToolCall, ToolResult
from toolwire._spec import ToolSpec
from toolwire.parsing._base import Engine, Format, Run
from toolwire.parsing._prompting import plain_results, shape_prompt
from toolwire.parsing._shape import CallShape
from toolwire.parsing._write import write_calls

__all__ = ["Cue", "TextFormat"]

ToolsPrompt = Callable[[Sequence[ToolSpec], str], str]
ResultsWriter = Callable[[Sequence[tuple[ToolCall, ToolResult]]], str]


# -- how ``auto`` recognises a format --------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Cue:
    """A marker by which ``format="auto"`` recognises this format's calls, and how to read them.

    ``read(eng, marker)`` runs with the marker consumed. When several formats share a marker
    (``<tool_call>``), ``first`` says which characters (after whitespace) make it this format's
    (``"{["`` for Hermes, ``"<"`` for Qwen3-Coder); the cue with ``first=""`` is the fallback.
    ``at_start``: the marker counts only at the very start of the output (a bare ``{`` or
    ``[``), where the reader gets it back in the input. ``takes_over``: the format reads the
    rest of the stream itself (marker left in the input).
    """

    marker: str
    read: Callable[[Engine, str], Run]
    first: str = ""
    at_start: bool = False
    takes_over: bool = False


# -- the record ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class TextFormat:
    """Everything about one text format, in one place.

    >>> from toolwire.parsing import TEXT_FORMATS
    >>> hermes = TEXT_FORMATS["hermes"]
    >>> hermes.write_calls([ToolCall(id="c", name="f", arguments='{"a": 1}')])
    '<tool_call>\\n{"name": "f", "arguments": {"a": 1}}\\n</tool_call>'

    ``parser`` builds the :class:`~toolwire.parsing._base.Format` that reads it; ``aliases``
    are the other names ``parse(format=...)`` accepts for it (the peers' names for the same
    wire format); ``peers`` records which name each peer server uses (``{"vllm": ("hermes",),
    "sglang": ("hermes", "qwen25")}``). ``call`` is how calls are written (None when this
    library does not write the format); ``prompt`` renders the tools into a system prompt the
    way the family was trained to read them, with ``rules`` (tool choice) appended; ``results``
    writes tool results back as the family's text. ``cues`` teach ``auto``. ``family``,
    ``markers`` and ``quirks`` are for the docs.
    """

    name: str
    parser: Callable[[], Format]
    family: str
    markers: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    peers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    call: CallShape | None = None
    prompt: ToolsPrompt | None = None
    results: ResultsWriter | None = None
    cues: tuple[Cue, ...] = ()
    reasoning: bool = False
    quirks: str = ""

    @property
    def names(self) -> tuple[str, ...]:
        """Every name that selects this format: its own, then its aliases."""
        return (self.name, *self.aliases)

    @property
    def prompted(self) -> bool:
        """Whether text mode can prompt for this format (its own prompt, or its CallShape)."""
        return self.prompt is not None or self.call is not None

    def tools_prompt(self, specs: Sequence[ToolSpec], rules: str = "") -> str:
        """The system-prompt text presenting ``specs``.

        The family's own prompt when the record has one; otherwise the tools as JSON and an
        example call written in the family's syntax by :meth:`write_calls` (so the example
        is exactly what the parser reads). ValueError when the format has neither.
        """
        if self.prompt is not None:
            return self.prompt(specs, rules)
        if self.call is None:
            raise ValueError(f"no prompt renderer for text format {self.name!r}")
        return shape_prompt(specs, rules, self.write_calls)

    def write_results(self, pairs: Sequence[tuple[ToolCall, ToolResult]]) -> str:
        """Tool results as the family's text (``Result of f: ...`` lines when it has none)."""
        return (self.results or plain_results)(pairs)

    def write_calls(self, calls: Sequence[ToolCall], content: str = "") -> str:
        """``content`` followed by ``calls`` as this format writes them (see :class:`CallShape`).

        Raises ``ValueError`` when the format has no writer or a call cannot be written in it.
        """
        if not calls:
            return content
        if self.call is None:
            raise ValueError(f"toolwire does not write calls in the {self.name!r} format")
        return write_calls(self.call, calls, content)
