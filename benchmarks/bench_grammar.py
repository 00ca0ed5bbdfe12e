"""Grammar build time by toolbox size, and what the grammar costs the engine that runs it.

``toolwire.grammar.build`` from 1, 10, 100 and 1,000 tools (cold: cache cleared each time;
and a cache hit at 100), Lark and GBNF, target <= 50 ms at 100 tools. Then, in llguidance
(the engine vLLM's and SGLang's ``guidance`` backends and llama.cpp's llguidance build run):
compiling our Lark grammar beside compiling the same calls given as JSON Schema to
llguidance's own compiler (the peer), and the cost per byte of walking a valid call through
each with the byte tokenizer.

    python -m benchmarks.bench_grammar [--quick] [--json]
"""

from __future__ import annotations

import json
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

from benchmarks._harness import (
    Settings,
    divide,
    parse_args,
    payload,
    print_table,
    report,
    result,
    row,
)
from toolwire.grammar import build
from toolwire.grammar._build import _CACHE

TARGET_MS = 50.0


def tools(n: int) -> list[dict[str, Any]]:
    """``n`` tools with the shapes tool schemas have: strings, enums, bounds, nesting, lists."""
    out = []
    for i in range(n):
        props: dict[str, Any] = {
            "query": {"type": "string", "description": "what to look for"},
            "limit": {"type": "integer", "minimum": 1, "maximum": 10 + i},
            "unit": {"type": "string", "enum": ["c", "f", f"u{i}"]},
            "filters": {
                "type": "object",
                "properties": {
                    "since": {"type": "string", "format": "date"},
                    "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 5},
                },
            },
            "score": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
        }
        out.append(
            {
                "name": f"tool_{i}",
                "parameters": {"type": "object", "properties": props, "required": ["query"]},
            }
        )
    return out


CALL = {
    "name": "tool_7",
    "arguments": {
        "query": "北京的天气",
        "limit": 9,
        "unit": "c",
        "filters": {"since": "2024-05-01", "tags": ["a", "b"]},
        "score": 0.5,
    },
}


def _times_ms(fn: Callable[[], Any], repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1e3)
    return out


def _cold(specs: list[dict[str, Any]], syntax: str) -> Callable[[], Any]:
    def once() -> Any:
        _CACHE.clear()
        return build(specs, syntax=syntax, tool_choice="required", parallel=False)

    return once


def run(settings: Settings) -> dict[str, Any]:
    sizes = [1, 10, 100] if settings.quick else [1, 10, 100, 1000]
    repeats = settings.repeats
    build_ms: dict[str, dict[int, float]] = {"lark": {}, "gbnf": {}}
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # these schemas are fully enforced: a warning is a bug
        for n in sizes:
            specs = tools(n)
            for syntax in ("lark", "gbnf"):
                runs = _times_ms(
                    _cold(specs, syntax), repeats if n < 1000 else max(3, repeats // 2)
                )
                build_ms[syntax][n] = statistics.median(runs)
                rows.append(row(f"build {syntax}, {n} tools", [r * 1e3 for r in runs], ours=True))
        hundred = tools(100)
        build(hundred)
        hit = _times_ms(lambda: build(hundred), repeats * 20)
    print_table("toolwire.grammar.build (cold, µs)", rows)
    engine = _engine(settings, tools(10 if settings.quick else 100))
    return {
        "build_ms": build_ms,
        "hit_ms": statistics.median(hit),
        "engine": engine,
        "sizes": sizes,
    }


def _engine(settings: Settings, specs: list[dict[str, Any]]) -> dict[str, Any]:
    try:
        import llguidance as llg
    except ImportError:
        return {"skipped": "llguidance is not installed (pip install -e '.[dev]')"}
    tok = llg.LLTokenizer("byte")
    ours = llg.grammar_from("lark", str(build(specs, tool_choice="required", parallel=False)))
    schema = build(specs, syntax="json_schema", tool_choice="required", parallel=False)
    peer = llg.grammar_from("json_schema", json.dumps(schema))
    text = json.dumps(CALL, ensure_ascii=False).encode()
    out: dict[str, Any] = {"tools": len(specs), "bytes": len(text)}
    for label, grammar in (("ours", ours), ("llguidance json", peer)):
        compile_ms = _times_ms(
            lambda g=grammar: llg.LLMatcher(tok, g, log_level=0), settings.repeats
        )
        matcher = llg.LLMatcher(tok, grammar, log_level=0)

        def walk(m: Any = matcher, who: str = label) -> None:
            w = m.deep_copy()
            for b in text:
                if not w.consume_token(b):
                    raise AssertionError(f"{who} refused the call")
            w.compute_bitmask()

        walk_ms = _times_ms(walk, settings.repeats * 3)
        out[label] = {
            "compile_ms": statistics.median(compile_ms),
            "walk_us_per_byte": statistics.median(walk_ms) * 1e3 / len(text),
        }
    return out


def results(settings: Settings, data: dict[str, Any]) -> dict[str, Any]:
    build_ms, engine = data["build_ms"], data["engine"]
    rows = []
    for n in data["sizes"]:
        for syntax in ("lark", "gbnf"):
            ms = build_ms[syntax][n]
            judged = n == 100
            rows.append(
                result(
                    f"build {syntax}, {n} tools",
                    ours=ms,
                    unit="ms",
                    target=f"<= {TARGET_MS:g} ms" if judged else None,
                    met=ms <= TARGET_MS if judged else None,
                )
            )
    rows.append(result("build, cache hit, 100 tools", ours=data["hit_ms"], unit="ms"))
    if "ours" in engine:
        ours, peer = engine["ours"], engine["llguidance json"]
        print(
            f"llguidance, {engine['tools']} tools: compile {ours['compile_ms']:.2f} ms "
            f"(JSON Schema compiler {peer['compile_ms']:.2f} ms); "
            f"walk {ours['walk_us_per_byte']:.2f} µs/byte "
            f"({peer['walk_us_per_byte']:.2f})"
        )
        for key, unit, scale in (("compile_ms", "ms", 1.0), ("walk_us_per_byte", "µs/byte", 1.0)):
            rows.append(
                result(
                    f"llguidance {key.split('_')[0]}, {engine['tools']} tools",
                    ours=ours[key] * scale,
                    unit=unit,
                    peers={"llguidance JSON Schema compiler": peer[key] * scale},
                    ratio=divide(ours[key], peer[key]),
                )
            )
    return payload(
        "bench_grammar",
        title="Grammar build and engine cost",
        settings=settings,
        results=rows,
        extra={"engine": engine},
    )


def main(argv: list[str] | None = None) -> None:
    settings = parse_args(__doc__ or "", argv)
    report(settings, results(settings, run(settings)))


if __name__ == "__main__":
    main()
