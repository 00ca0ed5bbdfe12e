"""The ``<invoke name="f"><parameter name="a">1</parameter></invoke>`` family, read once for all.

MiniMax-M2 (``<minimax:tool_call>``), DeepSeek V3.2 and V4 (DSML: ``<｜DSML｜invoke ...>``) and
Step-3 (``<steptml:invoke ...>``) write a call as an element named by a ``name="..."`` attribute
holding one element per parameter; they differ only in the tag names. A parameter may say
what its value is (DSML's ``string="true"``: the text as it is; ``string="false"``: JSON);
otherwise the tool's schema types the text. DeepSeek V3.2 may also write the arguments as one
JSON object instead of parameter elements. A value ends only at its own end tag (or, when that
is missing, at the next parameter or the end of the call), so values may contain other tags.
Text between the elements that is not whitespace is reported, never dropped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

from toolwire.parsing._base import Call, Engine, Op, Peek, Run, Until
from toolwire.parsing._jsonops import JsonArgs, JsonCalls
from toolwire.parsing._params import close_args, emit_param, emit_value, trim_newlines

__all__ = ["InvokeTags", "invoke_calls", "invoke_one"]

_STRING_ATTR = re.compile(r"""\bstring\s*=\s*["']?(true|false)""")
_CDATA = re.compile(r"<!\[CDATA\[(.*)\]\]>", re.S)


@dataclass(frozen=True, slots=True, kw_only=True)
class InvokeTags:
    """The tag names of one family.

    ``invokes``: what opens a call, up to the name's ``=`` (``'<invoke name='``; the name may
    be quoted or not; several spellings allowed); ``invoke_ends``: what closes it; ``params`` /
    ``param_ends`` likewise for a parameter. ``trim``: drop one newline right inside a value's
    tags (layout, not value). ``json``: a section may hold JSON call objects instead.
    """

    invokes: tuple[str, ...]
    invoke_ends: tuple[str, ...]
    params: tuple[str, ...]
    param_ends: tuple[str, ...]
    trim: bool = True
    json: bool = False


def _attr_string(attrs: str) -> bool | None:
    m = _STRING_ATTR.search(attrs)
    return None if m is None else m.group(1) == "true"


def _name_attrs(eng: Engine) -> Generator[Op, Any, tuple[str, str]]:
    """After ``name=``: the name (quoted or not) and the rest of the tag's attributes; the
    closing ``>`` is consumed."""
    peek = Peek()
    ch = yield peek
    if ch in ('"', "'"):
        yield Until((ch,), "drop")
        name = Until((ch, ">", "\n"), "collect")
        if (yield name) != ch:  # no closing quote: the tag ends the name
            return name.text.strip(), ""
        attrs = Until((">",), "collect")
        yield attrs
        return name.text.strip(), attrs.text
    bare = Until((">", "\n"), "collect")
    yield bare
    word, _, rest = bare.text.strip().partition(" ")
    return word, rest


def invoke_calls(
    eng: Engine, tags: InvokeTags, ends: tuple[str, ...]
) -> Generator[Op, Any, str | None]:
    """Calls up to (and including) one of ``ends`` (the section's close): that end, or None.

    With ``tags.json``, a section that starts with ``{`` or ``[`` holds JSON call objects
    instead (dots writes either).
    """
    if tags.json:
        peek = Peek()
        if (yield peek) in ("{", "["):
            yield JsonCalls(ends, non_call="error")
        else:
            eng.unread(peek.ws)
    while True:
        between = Until((*tags.invokes, *ends), "collect")
        m = yield between
        eng.stray(between.text, "between calls")
        if m is None or m in ends:
            return m  # type: ignore[no-any-return]
        yield from invoke_one(eng, tags, ends)


def invoke_one(eng: Engine, tags: InvokeTags, ends: tuple[str, ...] = ()) -> Run:
    """After an invoke's ``name=``: the name, its parameters (or JSON), the close tag."""
    name, _ = yield from _name_attrs(eng)
    if not name:
        rest = Until((*tags.invoke_ends, *ends), "collect", consume=False)
        yield rest
        eng.fail_call(None, "a call without a name", rest.text)
        return
    call = eng.start_call(name)
    peek = Peek()
    if (yield peek) == "{":  # the arguments as one JSON object
        yield JsonArgs(call, (*tags.invoke_ends, *ends))
        after = Until((*tags.invoke_ends, *tags.invokes, *ends), "collect", consume=False)
        if (yield after) in tags.invoke_ends:
            yield Until(tags.invoke_ends, "drop")
        eng.stray(after.text, f"after the arguments of {name}")
        return
    eng.unread(peek.ws)
    stops = (*tags.params, *tags.invoke_ends, *tags.invokes, *ends)
    while True:
        between = Until(stops, "collect", consume=False)
        m = yield between
        eng.stray(between.text, f"inside the call {name}")
        if m is None or m not in tags.params:
            break
        yield Until(tags.params, "drop")
        yield from _param(eng, call, tags)
    close_args(eng, call)
    eng.finish_call(call)
    if m in tags.invoke_ends:
        yield Until(tags.invoke_ends, "drop")


def _param(eng: Engine, call: Call, tags: InvokeTags) -> Run:
    key, attrs = yield from _name_attrs(eng)
    value = Until((*tags.param_ends, *tags.params, *tags.invoke_ends), "collect", consume=False)
    if (yield value) in tags.param_ends:
        yield Until(tags.param_ends, "drop")
    text = trim_newlines(value.text) if tags.trim else value.text
    cdata = _CDATA.fullmatch(text.strip())
    if cdata is not None:  # MiniCPM wraps multi-line text as XML character data
        text = cdata.group(1)
    as_string = _attr_string(attrs)
    if as_string is True:
        emit_value(eng, call, key, text)
        return
    if as_string is False:
        try:  # the stdlib: integers beyond 64 bits stay exact
            emit_value(eng, call, key, json.loads(text))
            return
        except (ValueError, RecursionError):
            pass
    emit_param(eng, call, key, text)
