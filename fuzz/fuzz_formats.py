"""Coverage-guided fuzzing of every text-format tool-call parser (atheris).

    python fuzz/fuzz_formats.py -max_total_time=600 [corpus_dir]
    FUZZ_FORMAT=hermes python fuzz/fuzz_formats.py ...      # one format only

The first byte picks the format (unless ``FUZZ_FORMAT`` is set), the rest is model output,
streamed in fuzzer-chosen pieces. ``feed``/``close`` must never raise; streaming in pieces
must equal ``parse`` of the whole text; every started call must end exactly once; every
finished call must carry valid JSON arguments; no "internal parser error" may surface.
"""

from __future__ import annotations

import itertools
import json
import os
import sys
from typing import Any

import atheris

with atheris.instrument_imports():
    from toolwire._calls import CallFailed, CallFinished, CallStarted
    from toolwire.parsing import FORMATS, StreamParser, parse

ONLY = os.environ.get("FUZZ_FORMAT")
TOOLS = {"get_weather": {"type": "object", "properties": {"location": {"type": "string"}}}}


def _check(events: list[Any]) -> None:
    started: set[int] = set()
    ended: set[int] = set()
    for ev in events:
        if isinstance(ev, CallStarted):
            if ev.index in started:
                raise AssertionError(f"CallStarted twice for {ev.index}")
            started.add(ev.index)
        elif isinstance(ev, (CallFinished, CallFailed)) and ev.index in started:
            if ev.index in ended:
                raise AssertionError(f"call {ev.index} ended twice")
            ended.add(ev.index)
    if started - ended:
        raise AssertionError(f"calls started but never ended: {sorted(started - ended)}")


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    fmt = ONLY or FORMATS[fdp.ConsumeIntInRange(0, len(FORMATS) - 1)]
    tools = TOOLS if fdp.ConsumeBool() else None
    cuts = sorted(fdp.ConsumeIntListInRange(fdp.ConsumeIntInRange(0, 8), 0, 4096))
    text = fdp.ConsumeUnicodeNoSurrogates(4096)
    bounds = [0, *(c for c in cuts if c < len(text)), len(text)]
    sp = StreamParser(fmt, tools)
    events: list[Any] = []
    for a, b in itertools.pairwise(bounds):
        events += sp.feed(text[a:b])
    events += sp.close()
    streamed = sp.result()
    _check(events)
    if streamed != parse(text, fmt, tools):
        raise AssertionError(f"{fmt}: streaming in pieces differs from parse() for {text!r}")
    if any("internal parser error" in e.message for e in streamed.errors):
        raise AssertionError(f"{fmt}: internal parser error for {text!r}")
    for call in streamed.calls:
        try:
            json.loads(call.arguments)
        except (RecursionError, ValueError) as exc:
            if isinstance(exc, json.JSONDecodeError):
                raise AssertionError(f"{fmt}: arguments not JSON: {call.arguments!r}") from exc


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
