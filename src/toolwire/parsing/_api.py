"""``parse`` and ``StreamParser``: the public entry points of the parsing layer."""

from __future__ import annotations

from typing import Any

from toolwire._calls import Parsed, StreamEvent
from toolwire.parsing._base import Engine
from toolwire.parsing._registry import TEXT_FORMATS, text_format
from toolwire.parsing._toolmap import tool_schemas

__all__ = ["FORMATS", "StreamParser", "parse"]

FORMATS: tuple[str, ...] = tuple(TEXT_FORMATS)
"""The formats' own names; ``parse`` and ``StreamParser`` also take their aliases."""


class StreamParser:
    """Parse a model's raw text as it streams in.

    ``format`` is any name in ``FORMATS`` or an alias (the peers' names: ``qwen25``,
    ``deepseekv31``, ...). ``tools`` (a Toolbox, Tools, ToolSpecs, OpenAI-style dicts or
    ``{name: schema}``) types parameter values for formats that write them as text, and flags
    calls to unknown names.

    >>> sp = StreamParser("hermes")
    >>> events = sp.feed('Hi <tool_call>{"name": "f", "argu')
    >>> events += sp.feed('ments": {"a": 1}}</tool_call>') + sp.close()
    >>> sp.result().calls[0].arguments
    '{"a":1}'

    ``reasoning_open=True`` is for chat templates that put ``<think>`` in the prompt: the output
    starts inside the reasoning, which runs to the first ``</think>`` (all of the output, if
    none comes).
    """

    def __init__(
        self, format: str = "hermes", tools: Any = None, *, reasoning_open: bool = False
    ) -> None:
        fmt = text_format(format)  # ValueError naming every known name
        self.format = format
        self._eng = Engine(fmt.parser(), tool_schemas(tools), reasoning_open=reasoning_open)
        # feed() is called once per delta: bound straight to the engine's, one call less each
        self.feed = self._eng.feed  # type: ignore[method-assign]

    def feed(self, delta: str) -> list[StreamEvent]:
        """Consume ``delta``; the events it completes. Never raises on any text."""
        return self._eng.feed(delta)

    def close(self) -> list[StreamEvent]:
        """End of the stream: finish (or repair, or report) whatever is still open."""
        return self._eng.close()

    def result(self) -> Parsed:
        """Everything parsed so far (complete after :meth:`close`)."""
        return self._eng.result()


def parse(
    text: str, format: str = "hermes", tools: Any = None, *, reasoning_open: bool = False
) -> Parsed:
    """Parse a complete model output; the same result as streaming it in any pieces.

    >>> p = parse('<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_call>')
    >>> p.calls[0].name, p.calls[0].arguments
    ('get_weather', '{"city":"Paris"}')
    >>> parse("plan it</think>Done.", reasoning_open=True).reasoning
    'plan it'
    """
    sp = StreamParser(format, tools, reasoning_open=reasoning_open)
    sp.feed(text)
    sp.close()
    return sp.result()
