"""``toolwire eval``: ast_check's cost per case, and cases per second end to end (the OpenAI SDK
client -> a local OpenAI-wire server on loopback -> ast_check) at concurrency 1 and 16.

    python -m benchmarks.bench_eval [--quick] [--json]

The server answers every request with the case's ground-truth call, so every case is judged
fully (100% correct is checked). No peer: BFCL's checker needs ~30 SDKs and torch installed.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import threading
import time
from pathlib import Path
from typing import Any

from aiohttp import web

from benchmarks._harness import parse_args, payload, report, result
from toolwire.eval import ast_check
from toolwire.eval._run import Case, load_bfcl, run_cases
from toolwire.models.openai_compatible import OpenAICompatible

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "bfcl"
FN = {
    "name": "get_weather",
    "parameters": {
        "type": "dict",
        "required": ["city"],
        "properties": {"city": {"type": "string"}, "unit": {"type": "string"}},
    },
}
TRUTH = [{"get_weather": {"city": ["Paris", "paris, fr"], "unit": ["", "celsius"]}}]


def _cases(n: int) -> list[Case]:
    if DATA.is_dir():
        # the cases whose first acceptable values make a right call (not nested dicts)
        cases = [c for c in load_bfcl(DATA, "simple_python") if _is_right(c)]
        return (cases * (n // len(cases) + 1))[:n]
    from toolwire._tools import Tool

    spec = Tool.from_schema(FN).spec
    return [
        Case(
            id=f"c{i}",
            category="simple",
            functions=[FN],
            answer=TRUTH,
            specs=[spec],
            messages=[{"role": "user", "content": f"weather in Paris #{i}"}],
        )
        for i in range(n)
    ]


def _first(values: list[Any]) -> Any:
    return next(v for v in values if v != "")


def _right(case: Case) -> dict[str, Any]:
    ((name, params),) = case.answer[0].items()
    return {name: {p: _first(v) for p, v in params.items() if any(x != "" for x in v)}}


def _is_right(case: Case) -> bool:
    return ast_check(case.functions, [_right(case)], case.answer, category=case.category).valid


def checker_us(cases: list[Case], repeats: int) -> float:
    calls = [[_right(c)] for c in cases]
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        for case, call in zip(cases, calls, strict=True):
            ast_check(case.functions, call, case.answer, category=case.category)
        runs.append((time.perf_counter() - start) / len(cases) * 1e6)
    return statistics.median(runs)


class Server:
    """A loopback OpenAI-wire server answering each question with its case's right call."""

    def __init__(self, cases: list[Case]) -> None:
        self.answers = {}
        for case in cases:
            ((name, args),) = _right(case).items()
            self.answers[json.dumps(case.messages[-1]["content"])] = {
                "id": "x",
                "object": "chat.completion",
                "created": 1,
                "model": "bench",
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "tool_calls",
                        "message": {
                            "role": "assistant",
                            "content": None,
                            "tool_calls": [
                                {
                                    "id": "c0",
                                    "type": "function",
                                    "function": {
                                        "name": name.replace(".", "_"),
                                        "arguments": json.dumps(args),
                                    },
                                }
                            ],
                        },
                    }
                ],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            }

    async def chat(self, req: web.Request) -> web.Response:
        body = await req.json()
        return web.json_response(self.answers[json.dumps(body["messages"][-1]["content"])])

    def __enter__(self) -> str:
        self.loop = asyncio.new_event_loop()
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self.chat)
        self.runner = web.AppRunner(app, access_log=None)
        self.loop.run_until_complete(self.runner.setup())
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        return f"http://127.0.0.1:{port}/v1"

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


async def end_to_end(url: str, cases: list[Case], concurrency: int) -> float:
    model = OpenAICompatible(model="bench", base_url=url, retries=0)
    try:
        start = time.perf_counter()
        results = await run_cases(model, cases, concurrency=concurrency)
        seconds = time.perf_counter() - start
    finally:
        await model.aclose()
    wrong = [r for r in results if not r["valid"]]
    assert not wrong, wrong[:2]  # every case judged right, or the figure measures failures
    return len(cases) / seconds


def main(argv: list[str] | None = None) -> None:
    settings = parse_args(__doc__.split("\n")[0], argv)
    cases = _cases(100 if settings.quick else 800)
    per_case = checker_us(cases, settings.repeats)
    print(f"ast_check: {per_case:.1f} µs per case ({len(cases)} simple_python cases)")
    rows = [result("ast_check per case", ours=per_case, unit="µs/case")]
    with Server(cases) as url:
        for concurrency in (1, 16):
            rate = asyncio.run(end_to_end(url, cases, concurrency))
            print(f"end to end, concurrency {concurrency}: {rate:.0f} cases/s")
            rows.append(
                result(f"end to end, c={concurrency}", ours=rate, unit="cases/s", better="higher")
            )
    report(settings, payload("bench_eval", title="toolwire eval", settings=settings, results=rows))


if __name__ == "__main__":
    main()
