"""Anthropic Messages streams: SSE event dicts -> events and a Parsed.

Events: ``message_start``, ``content_block_start`` (``text``/``thinking``/``tool_use``),
``content_block_delta`` (``text_delta``, ``input_json_delta``, ``thinking_delta``,
``signature_delta``), ``content_block_stop``, ``message_delta`` (stop reason, usage),
``message_stop``, ``ping``, ``error``. A ``tool_use`` block whose JSON is invalid at its stop
waits for the stop reason: ``max_tokens`` means it was cut (an error, never a repaired guess),
anything else means the model wrote bad JSON (repaired once).
"""

from __future__ import annotations

from typing import Any

from toolwire import _json
from toolwire.dialects._args import object_arguments
from toolwire.dialects._stream import Assembler, CallBuffer, Events, as_dict, as_int, as_str


class _Block:
    __slots__ = ("call", "parts", "signature", "start", "type")

    def __init__(self, start: dict[str, Any]) -> None:
        self.start = start
        self.type = start.get("type")
        self.parts: list[str] = []
        self.signature: list[str] = []
        self.call: CallBuffer | None = None


class EventAssembler(Assembler):
    """Assemble a streamed Anthropic Messages response.

    Example::

        asm = EventAssembler()
        for event in sse_events:        # dicts: {"type": "content_block_delta", ...}
            for ev in asm.feed(event):
                ...
        asm.close()
        parsed = asm.result()
    """

    _unit = "event"

    def __init__(self) -> None:
        super().__init__()
        self._blocks: dict[int, _Block] = {}
        self._order: list[int] = []
        self._deferred: list[CallBuffer] = []
        self._stop_reason: str | None = None
        self._stopped = False

    def _settle(self, out: Events) -> None:
        self._settle_deferred(out)
        open_calls = [b.call for b in self._blocks.values() if b.call and not b.call.done]
        if open_calls:
            self._c.metadata["truncated"] = True
            for buf in open_calls:
                self._c.finish(buf, out, cut="the stream ended before content_block_stop")

    def _extra(self) -> dict[str, Any]:
        return {"content_blocks": self._content_blocks()}

    # --- wire -> ours -------------------------------------------------------------------

    def _process(self, event: Any, out: Events) -> None:
        if not isinstance(event, dict):
            self._c.note_ignored()
            return
        kind = event.get("type")
        meta = self._c.metadata
        if kind == "message_start":
            message = as_dict(event.get("message"))
            for key in ("id", "model"):
                if as_str(message.get(key)):
                    meta[key] = message[key]
            if isinstance(message.get("usage"), dict):
                meta["usage"] = dict(message["usage"])
        elif kind == "content_block_start":
            self._process_block_start(as_int(event.get("index")), event, out)
        elif kind == "content_block_delta":
            self._process_block_delta(as_int(event.get("index")), event, out)
        elif kind == "content_block_stop":
            self._process_block_stop(as_int(event.get("index")), out)
        elif kind == "message_delta":
            reason = as_str(as_dict(event.get("delta")).get("stop_reason"))
            if reason:
                self._stop_reason = reason
                meta["finish_reason"] = reason
                self._settle_deferred(out)
            if isinstance(event.get("usage"), dict):
                meta["usage"] = {**meta.get("usage", {}), **event["usage"]}
        elif kind == "message_stop":
            self._stopped = True
            self._settle_deferred(out)
        elif kind == "error":
            meta["error"] = event.get("error")
        elif kind != "ping":
            self._c.note_ignored()

    def _process_block_start(self, index: int | None, event: dict[str, Any], out: Events) -> None:
        start = as_dict(event.get("content_block"))
        if index is None or index in self._blocks or not start:
            self._c.note_ignored()
            return
        block = self._blocks[index] = _Block(start)
        self._order.append(index)
        if block.type == "text":
            self._text(block, start.get("text"), out)
        elif block.type == "thinking":
            self._thinking(block, start.get("thinking"), out)
        elif block.type == "tool_use":
            block.call = self._c.new_call()
            self._c.identify(
                block.call, id=as_str(start.get("id")), name=as_str(start.get("name")), out=out
            )

    def _process_block_delta(self, index: int | None, event: dict[str, Any], out: Events) -> None:
        block = self._blocks.get(index) if index is not None else None
        delta = as_dict(event.get("delta"))
        kind = delta.get("type")
        if block is None:
            # A delta without its start: keep text rather than lose it.
            if kind == "text_delta":
                self._c.add_content(delta.get("text"), out)
            elif kind == "thinking_delta":
                self._c.add_reasoning(delta.get("thinking"), out)
            else:
                self._c.note_ignored()
            return
        if kind == "text_delta":
            self._text(block, delta.get("text"), out)
        elif kind == "thinking_delta":
            self._thinking(block, delta.get("thinking"), out)
        elif kind == "signature_delta" and isinstance(delta.get("signature"), str):
            block.signature.append(delta["signature"])
        elif kind == "input_json_delta":
            text = delta.get("partial_json")
            if block.call is not None:
                self._c.add_arguments(block.call, text, out)
            elif isinstance(text, str):
                block.parts.append(text)  # server tools: kept for the echo, not ours to run

    def _process_block_stop(self, index: int | None, out: Events) -> None:
        block = self._blocks.get(index) if index is not None else None
        if block is None or block.call is None or block.call.done:
            return
        buf = block.call
        if not buf.parts:
            initial = block.start.get("input")
            if initial:  # proxies that send the whole input in the start block
                self._c.add_arguments(buf, object_arguments(initial), out)
        raw = "".join(buf.parts)
        if raw.strip() and not _is_json(raw):
            self._deferred.append(buf)  # cut by max_tokens, or bad JSON? the stop reason says
            return
        self._c.finish(buf, out)

    def _settle_deferred(self, out: Events) -> None:
        if not self._deferred or (self._stop_reason is None and not self._stopped):
            if self._c.closed:
                for buf in self._deferred:
                    self._c.finish(buf, out, cut="the stream ended before the stop reason")
                self._deferred.clear()
            return
        cut = "stop_reason=max_tokens" if self._stop_reason == "max_tokens" else None
        for buf in self._deferred:
            self._c.finish(buf, out, cut=cut)
        self._deferred.clear()

    def _text(self, block: _Block, text: Any, out: Events) -> None:
        if isinstance(text, str) and text:
            block.parts.append(text)
            self._c.add_content(text, out)

    def _thinking(self, block: _Block, text: Any, out: Events) -> None:
        if isinstance(text, str) and text:
            block.parts.append(text)
            self._c.add_reasoning(text, out)

    # --- the blocks to echo in the follow-up -------------------------------------------

    def _content_blocks(self) -> list[dict[str, Any]]:
        blocks: list[dict[str, Any]] = []
        for index in self._order:
            block = self._blocks[index]
            if block.type == "text":
                blocks.append({**block.start, "text": "".join(block.parts)})
            elif block.type == "thinking":
                signature = "".join(block.signature) or block.start.get("signature", "")
                blocks.append(
                    {**block.start, "thinking": "".join(block.parts), "signature": signature}
                )
            elif block.type == "tool_use":
                call = self._c.calls.get(block.call.index) if block.call else None
                if call is not None:
                    blocks.append({**block.start, "input": _json.loads(call.arguments)})
            elif block.parts:
                blocks.append({**block.start, "input": _loads_or_text("".join(block.parts))})
            else:
                blocks.append(dict(block.start))
        return blocks


def _is_json(text: str) -> bool:
    try:
        _json.loads(text)
    except ValueError:
        return False
    return True


def _loads_or_text(text: str) -> Any:
    try:
        return _json.loads(text)
    except ValueError:
        return text
