"""Gemini ``streamGenerateContent`` chunks -> events and a Parsed.

Each chunk is a whole ``GenerateContentResponse`` whose parts are text fragments or complete
``functionCall`` parts, so a call starts and finishes within its chunk. Text fragments are
merged for the echoed ``metadata["parts"]``; parts carrying a ``thoughtSignature`` are kept
as they came, since the signature belongs to that part.
"""

from __future__ import annotations

from typing import Any

from toolwire.dialects._gemini import _process_chunk
from toolwire.dialects._stream import Assembler, Events


class ChunkAssembler(Assembler):
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
        super().__init__()
        self._parts: list[dict[str, Any]] = []
        self._texts: list[str] = []  # pieces of the last part, when it is plain text
        self._text_thought: bool | None = None

    def _process(self, chunk: Any, out: Events) -> None:
        for part in _process_chunk(self._c, chunk, out):
            self._keep(part)

    def _settle(self, out: Events) -> None:
        # Calls arrive whole, so nothing is left open: only the text part being merged.
        self._flush_text()
        if "finish_reason" not in self._c.metadata:
            self._c.metadata["truncated"] = True

    def _extra(self) -> dict[str, Any]:
        return {"parts": self._parts}

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
