"""OpenAI Responses API streams: typed SSE events -> events and a Parsed.

Calls are tracked by item id and by ``output_index`` (either may be missing on a proxy's
events). ``response.function_call_arguments.done`` and ``response.output_item.done`` carry the
whole text: when deltas were missed, the missing remainder is emitted so the concatenated
``ArgumentsDelta`` texts still equal the final arguments. Calls present only in
``response.completed`` are recovered from it.
"""

from __future__ import annotations

from typing import Any

from toolwire.dialects._args import object_arguments
from toolwire.dialects._responses import response_metadata
from toolwire.dialects._stream import (
    Assembler,
    CallBuffer,
    Events,
    as_dict,
    as_int,
    as_list,
    as_str,
)

_TEXT_EVENTS = {"response.output_text.delta"}
_REASONING_EVENTS = {
    "response.reasoning_summary_text.delta",
    "response.reasoning_text.delta",
}


class EventAssembler(Assembler):
    """Assemble a streamed Responses API response.

    Example::

        asm = EventAssembler()
        for event in sse_events:        # dicts: {"type": "response.output_text.delta", ...}
            for ev in asm.feed(event):
                ...
        asm.close()
        parsed = asm.result()
    """

    _unit = "event"

    def __init__(self) -> None:
        super().__init__()
        self._by_item: dict[str, CallBuffer] = {}
        self._by_output: dict[int, CallBuffer] = {}
        self._items: dict[int, dict[str, Any]] = {}
        self._final_output: list[dict[str, Any]] | None = None
        self._status: str | None = None

    def _settle(self, out: Events) -> None:
        if any(not b.done for b in self._c.buffers):
            if self._status != "completed":
                self._c.metadata["truncated"] = True
            cut = None if self._status == "completed" else "the stream ended before the call"
            self._c.finish_all(out, cut=cut)

    def _extra(self) -> dict[str, Any]:
        output = self._final_output
        if output is None:
            output = [self._items[i] for i in sorted(self._items)]
        return {"output": output}

    # --- wire -> ours -------------------------------------------------------------------

    def _process(self, event: Any, out: Events) -> None:
        if not isinstance(event, dict):
            self._c.note_ignored()
            return
        kind = event.get("type")
        if kind in _TEXT_EVENTS:
            self._c.add_content(event.get("delta"), out)
        elif kind in _REASONING_EVENTS:
            self._c.add_reasoning(event.get("delta"), out)
        elif kind == "response.refusal.delta":
            self._c.metadata["refusal"] = True
            self._c.add_content(event.get("delta"), out)
        elif kind == "response.output_item.added":
            self._process_item(event, out, done=False)
        elif kind == "response.function_call_arguments.delta":
            buf = self._lookup(event)
            if buf is None:
                buf = self._open(event, as_dict(event.get("item")), out)
            self._c.add_arguments(buf, event.get("delta"), out)
        elif kind == "response.function_call_arguments.done":
            buf = self._lookup(event) or self._open(event, {}, out)
            self._c.identify(buf, id=None, name=as_str(event.get("name")), out=out)
            self._complete_text(buf, event.get("arguments"), out)
            if buf.name is not None:
                self._c.finish(buf, out)
        elif kind == "response.output_item.done":
            self._process_item(event, out, done=True)
        elif kind in ("response.created", "response.in_progress"):
            self._c.metadata.update(response_metadata(as_dict(event.get("response"))))
            self._c.metadata.pop("finish_reason", None)
        elif kind in ("response.completed", "response.incomplete", "response.failed"):
            self._process_final(as_dict(event.get("response")), out)
        elif kind == "error":
            self._c.metadata["error"] = {k: v for k, v in event.items() if k != "type"}
        else:
            self._c.note_ignored()

    def _lookup(self, event: dict[str, Any]) -> CallBuffer | None:
        item_id = as_str(event.get("item_id"))
        if item_id is not None and item_id in self._by_item:
            return self._by_item[item_id]
        index = as_int(event.get("output_index"))
        return self._by_output.get(index) if index is not None else None

    def _open(self, event: dict[str, Any], item: dict[str, Any], out: Events) -> CallBuffer:
        buf = self._c.new_call()
        item_id = as_str(event.get("item_id")) or as_str(item.get("id"))
        if item_id is not None:
            self._by_item[item_id] = buf
        index = as_int(event.get("output_index"))
        if index is not None:
            self._by_output[index] = buf
        self._c.identify(
            buf,
            id=as_str(item.get("call_id")) or as_str(event.get("call_id")),
            name=as_str(item.get("name")) or as_str(event.get("name")),
            out=out,
        )
        return buf

    def _process_item(self, event: dict[str, Any], out: Events, *, done: bool) -> None:
        item = as_dict(event.get("item"))
        index = as_int(event.get("output_index"))
        if index is not None and item:
            self._items[index] = item
        if item.get("type") != "function_call":
            return
        lookup = {"item_id": item.get("id"), "output_index": index}
        buf = self._lookup(lookup) or self._open(lookup, item, out)
        self._c.identify(
            buf, id=as_str(item.get("call_id")), name=as_str(item.get("name")), out=out
        )
        if done:
            self._complete_text(buf, item.get("arguments"), out)
            self._c.finish(buf, out)

    def _complete_text(self, buf: CallBuffer, whole: Any, out: Events) -> None:
        """Reconcile the deltas with a whole-text field, emitting only what was missed."""
        if buf.done or whole is None:
            return
        text = whole if isinstance(whole, str) else object_arguments(whole)
        have = "".join(buf.parts)
        if text.startswith(have) and len(text) > len(have):
            self._c.add_arguments(buf, text[len(have) :], out)
        elif have != text:
            self._c.metadata["arguments_mismatch"] = True

    def _process_final(self, response: dict[str, Any], out: Events) -> None:
        meta = response_metadata(response)
        self._status = as_str(response.get("status"))
        self._c.metadata.update(meta)
        output = [i for i in as_list(response.get("output")) if isinstance(i, dict)]
        if output:
            self._final_output = output
        seen = {b.id for b in self._c.buffers}
        for position, item in enumerate(output):
            if item.get("type") != "function_call":
                continue
            call_id, name = as_str(item.get("call_id")), as_str(item.get("name"))
            buf = self._lookup({"item_id": item.get("id"), "output_index": position})
            if buf is not None:
                if not buf.done:
                    self._c.identify(buf, id=call_id, name=name, out=out)
                    self._complete_text(buf, item.get("arguments"), out)
            elif call_id not in seen:
                # Only in the final response: the item's events never reached us.
                arguments = item.get("arguments")
                text = arguments if isinstance(arguments, str) else object_arguments(arguments)
                self._c.whole_call(id=call_id, name=name, arguments=text, out=out)
        cut = None if self._status == "completed" else f"status={self._status}"
        self._c.finish_all(out, cut=cut)
