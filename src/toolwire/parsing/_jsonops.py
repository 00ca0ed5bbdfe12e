"""Operations that read JSON with the incremental scanner: bare arguments, or call objects."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from toolwire.parsing._base import NEED, Call, Engine, Op, Until
from toolwire.parsing._jsonscan import _DONE, _FAILED, JsonScanner, canon
from toolwire.parsing._repair import RepairFailed, repair, scan_whole

__all__ = ["ARG_KEYS", "CallKeys", "JsonArgs", "JsonCalls", "settle_arguments"]

ARG_KEYS = frozenset({"arguments", "parameters"})


@dataclass(frozen=True, slots=True, kw_only=True)
class CallKeys:
    """The keys of a call object: most families write ``{"name", "arguments"}``; Cohere writes
    ``{"tool_call_id", "tool_name", "parameters"}``, Inkling ``{"name", "args"}``."""

    name: frozenset[str] = frozenset({"name"})
    arguments: frozenset[str] = ARG_KEYS
    id: str | None = None


DEFAULT_KEYS = CallKeys()


def settle_arguments(eng: Engine, call: Call, raw: str, *, note: str = "") -> None:
    """Finish ``call`` from its whole raw argument text after the scanner gave up on it."""
    body = raw.strip()
    if not body and not call.parts:
        eng.finish_call(call)
        return
    try:
        value = repair(body)
    except RepairFailed as exc:
        eng.fail_call(call, f"malformed arguments{note}: {exc}", raw)
        return
    _finish_with(eng, call, value, raw)


def _finish_with(eng: Engine, call: Call, value: Any, raw: str) -> None:
    text = canon(value)
    done = call.emitted
    if not text.startswith(done):
        eng.fail_call(call, "repaired arguments differ from the text already streamed", raw)
        return
    eng.args(call, text[len(done) :])
    eng.finish_call(call, repaired=True)


class JsonArgs(Op):
    """A JSON arguments value for an already started ``call``, streamed as it arrives.

    ``ends`` are the markers that follow the value; they bound the raw text to repair when the
    scanner cannot continue. The call is finished (or failed) by this operation.
    """

    def __init__(self, call: Call, ends: Iterable[str]) -> None:
        self.call = call
        self.ends = tuple(ends)
        self.sink: list[str] = []
        self.sc = JsonScanner(self.sink)
        self.raw: list[str] = []
        self.tail: Until | None = None

    def step(self, eng: Engine) -> Any:
        if self.tail is None:
            i = eng.pos
            j = self.sc.feed(eng.buf, i)
            if j > i:
                self.raw.append(eng.buf[i:j])
                eng.pos = j
            if self.sink:
                eng.args(self.call, "".join(self.sink))
                self.sink.clear()
            if self.sc.done:
                eng.finish_call(self.call, repaired=self.sc.repaired)
                return None
            if not self.sc.failed:
                if not eng.eof:
                    return NEED
                if self.sc.finish():
                    eng.args(self.call, "".join(self.sink))
                    eng.finish_call(self.call, repaired=True)
                    return None
            self.tail = Until(self.ends, "collect", consume=False)
        if self.tail.step(eng) is NEED:
            return NEED
        settle_arguments(eng, self.call, "".join(self.raw) + self.tail.text)
        return None


class _Elem:
    __slots__ = ("args", "argstr", "call", "call_id", "is_obj", "key", "name", "other", "target")

    def __init__(self, is_obj: bool) -> None:
        self.is_obj = is_obj
        self.key: str | None = None
        self.name: list[str] = []
        self.args: list[str] = []
        self.argstr: list[str] = []
        self.other: list[str] = []
        self.call: Call | None = None
        self.call_id: list[str] = []
        self.target: str = ""  # which arguments form was seen: "", "json" or "string"


class JsonCalls(Op):
    """One JSON value holding calls: ``{"name", "arguments"|"parameters"}`` or a list of them.

    Arguments stream as soon as the name is known. ``non_call="content"``: when the value turns
    out to hold no call at all, its raw text is content (a bare JSON answer); ``"error"``: each
    non-call element is a ``CallFailed``. Result: the number of calls started.
    """

    def __init__(
        self,
        ends: Iterable[str] = (),
        *,
        non_call: Literal["content", "error"],
        prefix: str = "",
        keys: CallKeys = DEFAULT_KEYS,
    ) -> None:
        self.keys = keys
        self.ends = tuple(ends)
        self.prefix = prefix  # content that opened the value (a code fence), shown if no call
        self.non_call = non_call
        self.junk: list[str] = []
        self.sc = JsonScanner(
            self.junk, watch=2, on_start=self._on_start, on_end=self._on_end, on_key=self._on_key
        )
        self.base = -1
        self.elem: _Elem | None = None
        self.raw: list[str] = []
        self.tail: Until | None = None
        self.eng: Engine | None = None
        self.started = 0
        self.finished = 0  # elements fully handled
        self.deferred: list[tuple[str, str]] = []
        self.any_repair = False

    # -- scanner hooks ----------------------------------------------------------------------

    def _on_start(self, depth: int, ch: str) -> None:
        if depth == 0:
            self.base = 0 if ch == "{" else (1 if ch == "[" else -1)
            self.sc.watch = self.base + 1
            if self.base != 0:
                return
        e = self.elem
        if depth == self.base:
            self.elem = e = _Elem(ch == "{")
            self.sc.repaired = False
            self.sc.sink = e.other
        elif depth == self.base + 1 and e is not None and e.is_obj and e.key is not None:
            key, e.key = e.key, None
            quoted = ch == '"' or ch == "'"
            if key in self.keys.name and not e.name and quoted:
                self.sc.sink = e.name
            elif key == self.keys.id and not e.call_id and quoted and e.call is None:
                self.sc.sink = e.call_id
            elif key in self.keys.arguments and not e.target:
                e.target = "string" if quoted else "json"
                self.sc.sink = e.argstr if quoted else e.args

    def _on_end(self, depth: int, _: str) -> None:
        e = self.elem
        if e is None:
            return
        if depth == self.base + 1:
            if self.sc.sink is e.name and e.call is None:
                self._maybe_start(e)
            self.sc.sink = e.other
        elif depth == self.base:
            self._finish_elem(e)
            self.elem = None
            self.sc.sink = self.junk

    def _on_key(self, depth: int, key: str) -> None:
        if depth == self.base and self.elem is not None:
            self.elem.key = key

    # -- calls ------------------------------------------------------------------------------

    def _maybe_start(self, e: _Elem) -> None:
        assert self.eng is not None
        try:
            name = orjson.loads("".join(e.name))
        except orjson.JSONDecodeError:
            return
        call_id = None
        if e.call_id:
            try:
                decoded = orjson.loads("".join(e.call_id))
            except orjson.JSONDecodeError:
                decoded = None
            call_id = str(decoded) if decoded not in (None, "") else None
        if isinstance(name, str) and name:
            e.call = self.eng.start_call(name, call_id)
            self.started += 1

    def _flush(self) -> None:
        e = self.elem
        if e is not None and e.call is not None and e.args:
            assert self.eng is not None
            self.eng.args(e.call, "".join(e.args))
            e.args.clear()

    def _finish_elem(self, e: _Elem) -> None:
        assert self.eng is not None
        self.finished += 1
        rep = self.sc.repaired
        self.any_repair = self.any_repair or rep
        if e.call is None:
            raw = "".join(e.other) + "".join(e.args) + "".join(e.argstr)
            self.deferred.append(("not a call object (no name)", raw))
            return
        self._flush()
        if e.target == "string":
            try:
                inner = orjson.loads("".join(e.argstr))
            except orjson.JSONDecodeError:
                inner = ""
            scanned = scan_whole(inner) if isinstance(inner, str) and inner.strip() else None
            if scanned is None:
                if isinstance(inner, str) and inner.strip():
                    settle_arguments(self.eng, e.call, inner, note=" (a JSON string)")
                    return
                self.eng.finish_call(e.call, repaired=rep)
                return
            self.eng.args(e.call, scanned[0])
            rep = rep or scanned[1]
        self.eng.finish_call(e.call, repaired=rep)

    def _emit_deferred(self, raw_all: str) -> None:
        assert self.eng is not None
        if self.started == 0 and self.non_call == "content":
            self.eng.content(self.prefix + raw_all)
        else:
            for msg, raw in self.deferred:
                self.eng.fail_call(None, msg, raw)
        self.deferred.clear()

    # -- the operation ----------------------------------------------------------------------

    def step(self, eng: Engine) -> Any:
        self.eng = eng
        if self.tail is None:
            sc = self.sc
            i = eng.pos
            j = sc.feed(eng.buf, i)
            if j > i:
                self.raw.append(eng.buf[i:j])
                eng.pos = j
            e = self.elem
            if e is not None and e.args and e.call is not None:
                eng.args(e.call, "".join(e.args))
                e.args.clear()
            if eng.eof and sc.st != _DONE and sc.st != _FAILED and sc.started:
                sc.finish()
            if sc.st == _DONE:
                if self.base == -1:  # a bare scalar, not calls
                    self.deferred.append(("not a call object", "".join(self.raw)))
                self._emit_deferred("".join(self.raw))
                return self.started
            if sc.st != _FAILED and not eng.eof:
                return NEED
            self.tail = Until(self.ends, "collect", consume=False)
        if self.tail.step(eng) is NEED:
            return NEED
        raw = "".join(self.raw) + self.tail.text
        self._recover(eng, raw)
        return self.started

    def _recover(self, eng: Engine, raw: str) -> None:
        """The scanner gave up: repair the whole raw text once and reconcile with what streamed."""
        e = self.elem
        if not raw.strip():
            self._emit_deferred(raw)
            return
        try:
            value = repair(raw)
        except RepairFailed as exc:
            if e is not None and e.call is not None:
                eng.fail_call(e.call, f"malformed call: {exc}", raw)
            elif self.started == 0 and self.non_call == "content":
                self.deferred.clear()
                eng.content(self.prefix + raw)
                return
            else:
                self.deferred.append((f"malformed call: {exc}", raw))
            self._emit_deferred(raw)
            return
        items = value if isinstance(value, list) else [value]
        rest = items[self.finished :]
        if e is not None and e.call is not None and rest:
            item, rest = rest[0], rest[1:]
            args = _args_of(item, self.keys)
            if args is None:
                eng.fail_call(e.call, "malformed call", raw)
            else:
                _finish_with(eng, e.call, args, raw)
        for item in rest:
            name = _name_of(item, self.keys)
            if not isinstance(name, str) or not name:
                self.deferred.append(("not a call object (no name)", canon(item)))
                continue
            call = eng.start_call(name)
            self.started += 1
            args = _args_of(item, self.keys)
            eng.args(call, canon({} if args is None else args))
            eng.finish_call(call, repaired=True)
        if self.started == 0 and not self.deferred:  # repair found nothing: keep the raw text
            self.deferred.append(("malformed call: no call found", raw))
        self._emit_deferred(raw)


def _name_of(item: Any, keys: CallKeys) -> Any:
    if not isinstance(item, dict):
        return None
    return next((item[k] for k in sorted(keys.name) if k in item), None)


def _args_of(item: Any, keys: CallKeys = DEFAULT_KEYS) -> Any:
    if not isinstance(item, dict):
        return None
    for key in sorted(keys.arguments):
        if key in item:
            args = item[key]
            if isinstance(args, str):
                try:
                    return repair(args) if args.strip() else {}
                except RepairFailed:
                    return args
            return {} if args is None else args
    return {}
