"""The key/value family: a name, then ``<arg_key>k</arg_key><arg_value>v</arg_value>`` pairs.

GLM-4.5 to 4.7 (``<tool_call>f<arg_key>...``), Hunyuan (``<tool_call>f<tool_sep><arg_key>...``)
and K2 Horizon (``<ifm|tool_call>f<ifm|arg_key>...``, an optional ``<ifm|arg_type>`` between
key and value) write a call the same way with other tag names. Values are text typed by the
tool's schema (or by the call's own type tag); a value ends only at its own end tag, so values
may contain other tags. Text between the tags that is not whitespace is reported.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from toolwire.parsing._base import Engine, Run, Until
from toolwire.parsing._params import close_args, emit_param, emit_value, trim_newlines
from toolwire.parsing._values import param_schema

__all__ = ["KVTags", "kv_call", "kv_section"]

_NAME = re.compile(r"[A-Za-z_][\w.\-]*")


@dataclass(frozen=True, slots=True, kw_only=True)
class KVTags:
    """One family's tags. ``sep``: what ends the name when the family writes one
    (Hunyuan's ``<tool_sep>``); ``type``/``type_end``: K2's optional type tags; ``value=""``:
    the value starts right after ``key_end`` (Solar's ``<|tool_arg:value|>`` is both);
    ``trim``: one newline just inside the value's tags is layout (Poolside)."""

    open: str
    close: str
    key: str
    key_end: str
    value: str
    value_end: str
    sep: str = ""
    type: str = ""
    type_end: str = ""
    trim: bool = False
    #: a value also ends at the call's close tag (its own end tag may be missing)
    close_ends_value: bool = False


def _looks_like_call(eng: Engine, name: str, *, has_args: bool) -> bool:
    if _NAME.fullmatch(name) is None:
        return False
    # A bare word without arguments is a call only if the tools say such a tool exists.
    return has_args or (eng.schemas is not None and name in eng.schemas)


def _declared(text: str, declared: str) -> tuple[bool, object]:
    """A value by the type the call declares (K2's ``<ifm|arg_type>``): (known, value)."""
    if declared in ("", "any"):
        return False, None
    if declared in ("string", "str"):
        return True, text
    try:  # the stdlib: integers beyond 64 bits stay exact
        return True, json.loads(text.strip())
    except (ValueError, RecursionError):
        return False, None


def kv_call(eng: Engine, tags: KVTags, *, guessed: bool = False) -> Run:
    """After the call's open tag: the name, the key/value pairs, the close tag.

    ``guessed``: the format was only inferred (``auto``), so the body must look like a call —
    a function-like name, with key tags or known to ``tools`` — before it is one; otherwise
    (``<tool_call>garbage</tool_call>``) it is an error, never a call named garbage.
    """
    ends = (tags.key, tags.close, tags.open)
    head = Until((tags.sep, *ends) if tags.sep else ends, "collect", consume=False)
    m = yield head
    name = head.text.strip()
    if tags.sep and m == tags.sep:
        yield Until((tags.sep,), "drop")
        gap = Until(ends, "collect", consume=False)
        m = yield gap
        eng.stray(gap.text, f"after the name {name}")
    problem = None
    if not name:
        problem = f"a {tags.open} without a function name"
    elif m is None and _NAME.fullmatch(name) is None:
        # the output ended inside the head (``get_weather\n<``): not a name, keep the text
        problem = f"a {tags.open} cut before its arguments"
    elif guessed and not _looks_like_call(eng, name, has_args=m == tags.key):
        problem = f"a {tags.open} holding neither JSON nor a recognisable call"
    if problem is not None:
        rest = Until((tags.close, tags.open), "collect")
        if (yield rest) == tags.open:
            eng.unread(tags.open)
        eng.fail_call(None, problem, head.text + rest.text)
        return
    call = eng.start_call(name)
    while True:
        between = Until(ends, "collect")
        m = yield between
        eng.stray(between.text, f"inside the call {name}")
        if m != tags.key:
            break
        key = Until((tags.key_end, tags.close), "collect", consume=False)
        if (yield key) != tags.key_end:
            continue
        yield Until((tags.key_end,), "drop")
        declared = ""
        if tags.type:
            gap = Until((tags.type, tags.value, tags.key, tags.close), "collect", consume=False)
            if (yield gap) == tags.type:
                yield Until((tags.type,), "drop")
                kind = Until((tags.type_end, tags.value, tags.close), "collect")
                if (yield kind) == tags.type_end:
                    declared = kind.text.strip().lower()
        if tags.value:
            nxt = Until((tags.value, tags.key, tags.close, tags.open), "collect", consume=False)
            if (yield nxt) != tags.value:
                eng.stray(nxt.text, f"inside the call {name}")
                emit_param(eng, call, key.text.strip(), "")
                continue
            eng.stray(nxt.text, f"inside the call {name}")
            yield Until((tags.value,), "drop")
        # only the value's own end tag ends it: values may contain other tags
        stops = (tags.value_end, tags.close) if tags.close_ends_value else (tags.value_end,)
        value = Until(stops, "collect", consume=False)
        if (yield value) == tags.value_end:
            yield Until((tags.value_end,), "drop")
        text = trim_newlines(value.text) if tags.trim else value.text
        # the tool's schema wins; the call's own type tag types what the schema does not
        if declared and param_schema(eng.schemas, name, key.text.strip()) is None:
            ok, typed = _declared(text, declared)
            if ok:
                emit_value(eng, call, key.text.strip(), typed)
                continue
        emit_param(eng, call, key.text.strip(), text)
    close_args(eng, call)
    eng.finish_call(call)
    if m == tags.open:
        eng.unread(tags.open)


def kv_section(eng: Engine, tags: KVTags, end: str, read: Callable[[Engine], Run]) -> Run:
    """After a section's open tag: each call (``read`` after its ``tags.open``) until ``end``."""
    while True:
        between = Until((tags.open, end), "collect")
        m = yield between
        eng.stray(between.text, "between calls")
        if m != tags.open:
            return
        yield from read(eng)
