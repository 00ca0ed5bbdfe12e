"""K2 Horizon (K2-v3): ``<ifm|tool_call>`` calls, key/value tags with an optional type tag, or
JSON, inside ``<ifm|tool_calls>``; reasoning in ``<ifm|think>`` (and its ``_fast`` variants).

    <ifm|tool_calls>
    <ifm|tool_call>get_weather<ifm|arg_key>days</ifm|arg_key><ifm|arg_type>integer</ifm|arg_type><ifm|arg_value>3</ifm|arg_value></ifm|tool_call>
    </ifm|tool_calls>

A body that starts with ``{`` or ``[`` is JSON calls (``{"name": ..., "arguments": ...}``).
"""

from __future__ import annotations

from toolwire.parsing._base import Engine, Peek, Run, Sections, Until
from toolwire.parsing._jsonops import JsonCalls
from toolwire.parsing._keyvalue import KVTags, kv_call, kv_section
from toolwire.parsing._record import Cue, TextFormat
from toolwire.parsing._shape import CallShape, TaggedParameters

__all__ = ["FORMAT", "K2Horizon"]

SECTION = "<ifm|tool_calls>"
SECTION_END = "</ifm|tool_calls>"
TAGS = KVTags(
    open="<ifm|tool_call>",
    close="</ifm|tool_call>",
    key="<ifm|arg_key>",
    key_end="</ifm|arg_key>",
    value="<ifm|arg_value>",
    value_end="</ifm|arg_value>",
    type="<ifm|arg_type>",
    type_end="</ifm|arg_type>",
)
THINKS = (
    ("<ifm|think>", "</ifm|think>"),
    ("<ifm|think_fast>", "</ifm|think_fast>"),
    ("<ifm|think_faster>", "</ifm|think_faster>"),
)


def k2_call(eng: Engine, marker: str = TAGS.open) -> Run:
    """After ``<ifm|tool_call>``: JSON calls, or the key/value form."""
    peek = Peek()
    ch = yield peek
    if ch in ("{", "["):
        yield JsonCalls((TAGS.close, TAGS.open), non_call="error")
        rest = Until((TAGS.close, TAGS.open), "collect", consume=False)
        if (yield rest) == TAGS.close:
            yield Until((TAGS.close,), "drop")
        eng.stray(rest.text, f"inside {TAGS.open}")
        return
    eng.unread(peek.ws)
    yield from kv_call(eng, TAGS)


def k2_section(eng: Engine, marker: str = SECTION) -> Run:
    return kv_section(eng, TAGS, SECTION_END, k2_call)


class K2Horizon(Sections):
    name = "k2_horizon"
    markers = (SECTION, TAGS.open)
    thinks = THINKS

    def section(self, eng: Engine, marker: str) -> Run:
        return k2_section(eng) if marker == SECTION else k2_call(eng)


FORMAT = TextFormat(
    name="k2_horizon",
    parser=K2Horizon,
    family="K2 Horizon (K2-v3)",
    markers=(SECTION, TAGS.open, TAGS.key, TAGS.type, TAGS.value, SECTION_END),
    peers={"sglang": ("k2_horizon",)},
    call=CallShape(
        layout=TaggedParameters(
            open=TAGS.key + "{key}" + TAGS.key_end + TAGS.value, close=TAGS.value_end
        ),
        begin=SECTION + "\n",
        call_open=TAGS.open + "{name}",
        # each call on its line; no separator that could also start the end (a grammar's lexer
        # would have to guess which)
        call_close=TAGS.close + "\n",
        end=SECTION_END,
    ),
    cues=(Cue(marker=SECTION, read=k2_section), Cue(marker=TAGS.open, read=k2_call)),
    reasoning=True,
    quirks="an optional `<ifm|arg_type>` types a value the schema does not; JSON bodies too",
)
