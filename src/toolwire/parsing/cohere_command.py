"""Cohere Command A / R7B: channels between special tokens, calls as a JSON list.

    <|START_THINKING|>I will look it up.<|END_THINKING|><|START_ACTION|>
    [{"tool_call_id": "0", "tool_name": "get_weather", "parameters": {"city": "Paris"}}]
    <|END_ACTION|>
    <|START_RESPONSE|>It is sunny.<|END_RESPONSE|>

The thinking channel is reasoning, the response channel (or text outside channels) content;
citation tags (``<co>...</co: 0:[1]>``) are dropped from both, keeping the cited text, as the
peers do. The model's ``tool_call_id`` is kept as the call id. vLLM names the format
``cohere_command3`` (Command A) and ``cohere_command4``; both parse the same.
"""

from __future__ import annotations

from toolwire.parsing._base import Engine, Format, Run, Until
from toolwire.parsing._jsonops import CallKeys, JsonCalls
from toolwire.parsing._record import Cue, TextFormat
from toolwire.parsing._shape import CallShape, JsonObject

__all__ = ["FORMAT", "CohereCommand"]

THINK = "<|START_THINKING|>"
THINK_END = "<|END_THINKING|>"
RESPONSE = "<|START_RESPONSE|>"
RESPONSE_END = "<|END_RESPONSE|>"
ACTION = "<|START_ACTION|>"
ACTION_END = "<|END_ACTION|>"
TEXT = "<|START_TEXT|>"
TEXT_END = "<|END_TEXT|>"
CITE = "<co>"
CITE_END = "</co"
KEYS = CallKeys(name=frozenset({"tool_name", "name"}), id="tool_call_id")
_FRAMING = (RESPONSE, RESPONSE_END, TEXT, TEXT_END)


def cohere_action(eng: Engine, marker: str = ACTION) -> Run:
    yield JsonCalls((ACTION_END,), non_call="error", keys=KEYS)
    rest = Until((ACTION_END, ACTION), "collect", consume=False)
    if (yield rest) == ACTION_END:
        yield Until((ACTION_END,), "drop")
    eng.stray(rest.text, f"inside {ACTION}")


class CohereCommand(Format):
    name = "cohere_command"
    markers = (ACTION, THINK, RESPONSE)

    def run(self, eng: Engine) -> Run:
        thinking = False
        while True:
            m = yield Until(
                (THINK, THINK_END, ACTION, CITE, CITE_END, *_FRAMING),
                "reasoning" if thinking else "content",
            )
            if m is None:
                return
            if m in (THINK, THINK_END):
                thinking = m == THINK
            elif m == ACTION:
                thinking = False
                yield from cohere_action(eng)
            elif m == CITE_END:  # "</co: 0:[1]>": the reference list is not text
                yield Until((">",), "drop")


FORMAT = TextFormat(
    name="cohere_command",
    parser=CohereCommand,
    family="Cohere Command A, Command R7B",
    markers=(ACTION, ACTION_END, THINK, RESPONSE),
    aliases=("cohere_command3", "cohere_command4"),
    peers={"vllm": ("cohere_command3", "cohere_command4"), "sglang": ("cohere_command4",)},
    call=CallShape(
        layout=JsonObject(name_key="tool_name", arguments_key="parameters"),
        begin=ACTION + "[",
        separator=", ",
        end="]" + ACTION_END,
        text_gap="",
    ),
    cues=(Cue(marker=ACTION, read=cohere_action),),
    reasoning=True,
    quirks="the model's `tool_call_id` is the call id; citation tags are dropped",
)
