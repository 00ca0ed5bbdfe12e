"""Gemini ``streamGenerateContent`` chunks -> events and a Parsed.

Each chunk is a whole ``GenerateContentResponse`` whose parts are text fragments or complete
``functionCall`` parts, so a call starts and finishes within its chunk. Text fragments are
merged for the echoed ``metadata["parts"]``; parts carrying a ``thoughtSignature`` are kept
as they came, since the signature belongs to that part.
"""

from __future__ import annotations

from typing import Any

from toolwire._calls import Parsed, StreamEvent
from toolwire.dialects._gemini import _process_chunk
from toolwire.dialects._stream import Collector, Events


class ChunkAssembler:
    """Assemble a streamed Gemini response (chunks as parsed from SSE ``data:`` lines).

    Example::

        asm = ChunkAssembler()
        for chunk in chunks:
            for event in asm.feed(chunk):
                ...
        asm.close()
        parsed = asm.result()
    """

    def __init__(self) -> None:
        self._c = Collector()
        self._parts: list[dict[str, Any]] = []
        self._texts: list[str] = []  # pieces of the last part, when it is plain text
        self._text_thought: bool | None = None

    def feed(self, chunk: Any) -> list[StreamEvent]:
        """Process one chunk; never raises."""
        out: Events = []
        if self._c.closed:
            return out
        try:
            for part in _process_chunk(self._c, chunk, out):
                self._keep(part)
        except Exception as exc:  # feed() must never raise on what a server sends
            self._c.error(f"unreadable chunk: {exc.__class__.__name__}", chunk, out)
        return out

    def close(self) -> list[StreamEvent]:
        """End of stream (calls arrive whole, so nothing is left open)."""
        if not self._c.closed:
            self._c.closed = True
            self._flush_text()
            if "finish_reason" not in self._c.metadata:
                self._c.metadata["truncated"] = True
        return []

    def result(self) -> Parsed:
        self.close()
        return self._c.parsed({"parts": self._parts})

    def _keep(self, part: dict[str, Any]) -> None:
        plain = set(part) <= {"text", "thought"} and isinstance(part.get("text"), str)
        thought = part.get("thought") is True
        if plain and (not self._texts or self._text_thought == thought):
            self._texts.append(part["text"])
            self._text_thought = thought
            return
        self._flush_text()
        if plain:
            self._texts.append(part["text"])
            self._text_thought = thought
        else:
            self._parts.append(part)

    def _flush_text(self) -> None:
        if self._texts:
            part: dict[str, Any] = {"text": "".join(self._texts)}
            if self._text_thought:
                part["thought"] = True
            self._parts.append(part)
            self._texts = []
            self._text_thought = None
