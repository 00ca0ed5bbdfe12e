"""OpenAI Chat Completions streams: ``chat.completion.chunk`` dicts -> events and a Parsed.

Real servers deviate from OpenAI's own stream in ways that lose calls in naive assemblers;
each is handled here (and pinned by a test):

- several calls that all say ``index: 0`` but carry different ids are separate calls;
- a missing ``index``: a delta with a new name starts a call, one without continues the last;
- the id (and name) only on the first delta, or repeated on every delta;
- a whole call in one delta, two calls in one chunk, arguments given as an object;
- usage-only chunks, empty ``choices``, ``[DONE]``, non-dict garbage: ignored;
- a stream cut before ``finish_reason``: complete calls finish, cut ones fail with their text;
- the legacy ``function_call`` delta; ``reasoning_content``/``reasoning`` deltas.
"""

from __future__ import annotations

from typing import Any

from toolwire.dialects._args import object_arguments
from toolwire.dialects._stream import (
    Assembler,
    CallBuffer,
    Events,
    as_int,
    as_str,
)

_LEGACY_SLOT = -1


class ChunkAssembler(Assembler):
    """Assemble a streamed Chat Completions response.

    Feed each chunk as parsed from an SSE ``data:`` line; ``feed`` never raises and its work
    is proportional to the chunk.

    Example::

        asm = ChunkAssembler()
        for chunk in chunks:            # dicts from the SSE stream
            for event in asm.feed(chunk):
                ...                     # ContentDelta, CallStarted, ArgumentsDelta, ...
        asm.close()
        parsed = asm.result()           # Parsed(content, calls, errors, reasoning, metadata)
    """

    def __init__(self) -> None:
        super().__init__()
        self._slots: dict[int, CallBuffer] = {}
        self._by_id: dict[str, CallBuffer] = {}
        self._last: CallBuffer | None = None
        self._finish_reason: str | None = None

    def _settle(self, out: Events) -> None:
        if self._finish_reason is None:
            if any(not b.done for b in self._c.buffers):
                self._c.metadata["truncated"] = True
            self._finish_open(out, cut="the stream ended before finish_reason")
        else:
            self._finish_open(out, cut=None)

    # --- wire -> ours -------------------------------------------------------------------

    # This is the per-chunk path of every streamed token, so it reads fields with plain
    # dict lookups and type checks inline rather than through the as_* helpers.

    def _process(self, chunk: Any, out: Events) -> None:
        if not isinstance(chunk, dict):
            self._c.note_ignored()
            return
        meta = self._c.metadata
        for key in ("id", "model"):
            if key not in meta:
                value = chunk.get(key)
                if isinstance(value, str) and value:
                    meta[key] = value
        usage = chunk.get("usage")
        if isinstance(usage, dict):
            meta["usage"] = usage
        error = chunk.get("error")
        if isinstance(error, dict):
            meta["error"] = error
        choices = chunk.get("choices")
        if not isinstance(choices, list):
            return
        for choice in choices:
            if not isinstance(choice, dict):
                continue
            index = choice.get("index")
            if index and isinstance(index, int) and not isinstance(index, bool):
                # One conversation turn per assembler: with n > 1 only the first choice counts.
                meta["ignored_choices"] = meta.get("ignored_choices", 0) + 1
                continue
            delta = choice.get("delta")
            if isinstance(delta, dict) and delta:
                self._process_delta(delta, out)
            reason = choice.get("finish_reason")
            if isinstance(reason, str) and reason:
                self._finish(reason, out)

    def _process_delta(self, delta: dict[str, Any], out: Events) -> None:
        items = delta.get("tool_calls")
        if items is not None and len(delta) == 1:  # the usual streamed delta: nothing else
            self._process_tool_calls(items, out)
            return
        self._process_text(delta, out)
        self._process_tool_calls(items, out)
        legacy = delta.get("function_call")
        if isinstance(legacy, dict):
            buf = self._slots.get(_LEGACY_SLOT)
            if buf is None or buf.done:
                buf = self._slots[_LEGACY_SLOT] = self._c.new_call()
            self._update(buf, None, legacy, out)

    def _process_text(self, delta: dict[str, Any], out: Events) -> None:
        c = self._c
        text = delta.get("reasoning_content")
        if text:
            c.add_reasoning(text, out)
        text = delta.get("reasoning")
        if text:
            c.add_reasoning(text, out)
        text = delta.get("content")
        if text:
            c.add_content(text, out)
        refusal = delta.get("refusal")
        if isinstance(refusal, str) and refusal:
            c.metadata["refusal"] = True
            c.add_content(refusal, out)

    def _process_tool_calls(self, items: Any, out: Events) -> None:
        if isinstance(items, list):
            for item in items:
                if isinstance(item, dict):
                    self._process_tool_call(item, out)

    def _process_tool_call(self, item: dict[str, Any], out: Events) -> None:
        function = item.get("function")
        if not isinstance(function, dict):
            function = {}
        id = as_str(item.get("id"))
        index = as_int(item.get("index"))
        if id is None and not function.get("name"):
            # The common delta: more arguments for the call in this slot. Same outcome as
            # _route + _update (no identity to record), without their lookups.
            buf = self._last if index is None else self._slots.get(index)
            if buf is not None and not buf.done:
                arguments = function.get("arguments")
                if arguments is not None and not isinstance(arguments, str):
                    arguments = object_arguments(arguments)
                self._c.add_arguments(buf, arguments, out)
                return
        buf = self._route(index, id, function)
        self._update(buf, id, function, out)

    def _route(self, index: int | None, id: str | None, function: dict[str, Any]) -> CallBuffer:
        name = as_str(function.get("name"))
        current = self._last if index is None else self._slots.get(index)
        if current is not None and current.done:
            current = None
        if id is not None:
            known = self._by_id.get(id)
            if known is not None and not known.done:
                return self._remember(index, known)
            # A fresh id without a name, while the current call is still unfinished, comes
            # from servers that mint an id per delta; a fresh id with a name is a new call
            # (the "every call says index 0" quirk).
            if (
                current is not None
                and name is None
                and (current.id is None or not current.looks_complete())
            ):
                return self._remember(index, current)
            buf = self._c.new_call()
            self._by_id[id] = buf
            return self._remember(index, buf)
        if current is None:
            return self._remember(index, self._c.new_call())
        if (
            name is not None
            and current.name is not None
            and (name != current.name or current.looks_complete())
        ):
            # A second name on the same slot: a new call (servers that reuse index 0 and
            # send no ids, or send no index at all).
            return self._remember(index, self._c.new_call())
        return current

    def _remember(self, index: int | None, buf: CallBuffer) -> CallBuffer:
        if index is not None:
            self._slots[index] = buf
        self._last = buf
        return buf

    def _update(
        self, buf: CallBuffer, id: str | None, function: dict[str, Any], out: Events
    ) -> None:
        if id is not None and buf.id is None:
            self._by_id.setdefault(id, buf)
        self._c.identify(buf, id=id, name=as_str(function.get("name")), out=out)
        arguments = function.get("arguments")
        if arguments is not None and not isinstance(arguments, str):
            arguments = object_arguments(arguments)
        self._c.add_arguments(buf, arguments, out)

    def _finish(self, reason: str, out: Events) -> None:
        self._finish_reason = reason
        self._c.metadata["finish_reason"] = reason
        cut = "finish_reason=length" if reason == "length" else None
        self._finish_open(out, cut=cut)

    def _finish_open(self, out: Events, *, cut: str | None) -> None:
        self._c.finish_all(out, cut=cut)
        self._slots.clear()
        self._by_id.clear()
        self._last = None
