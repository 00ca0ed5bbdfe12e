"""``toolwire eval`` end to end: the offline model, and a local OpenAI-wire server answering
from the ground truth (100%) or wrongly (0%), through the real OpenAI SDK client."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from click.testing import CliRunner
from eval_bfcl_mutations import load, right_call, wrong_value

from toolwire.cli._main import cli
from toolwire.dialects._names import wire_names

CATS = ("simple_python", "multiple", "parallel", "parallel_multiple", "irrelevance")


def _answers(bfcl_dir: Path, wrong: bool) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for cat in CATS:
        for case, truth in load(bfcl_dir, cat)[:5]:
            names = wire_names([f["name"] for f in case["function"]])
            calls = []
            for i, entry in enumerate(
                truth or ([{case["function"][0]["name"]: {}}] if wrong else [])
            ):
                ((name, args),) = (right_call(case, entry) if truth else entry).items()
                if wrong and args:
                    first = next(iter(args))
                    args = {**args, first: wrong_value(args[first])}
                elif wrong:
                    name += "_nope"
                calls.append(
                    {
                        "id": f"c{i}",
                        "type": "function",
                        "function": {"name": names.get(name, name), "arguments": json.dumps(args)},
                    }
                )
            key = json.dumps([m for turn in case["question"] for m in turn][-1]["content"])
            out[key] = calls
    return out


@pytest.fixture
def server(request: pytest.FixtureRequest, bfcl_dir: Path) -> Iterator[str]:
    answers = _answers(bfcl_dir, wrong=request.param)

    async def chat(req: web.Request) -> web.Response:
        body = await req.json()
        calls = answers[json.dumps(body["messages"][-1]["content"])]
        message = {"role": "assistant", "content": None if calls else "No tool fits."}
        if calls:
            message["tool_calls"] = calls
        return web.json_response(
            {
                "id": "x",
                "object": "chat.completion",
                "created": 1,
                "model": "truth",
                "choices": [
                    {
                        "index": 0,
                        "message": message,
                        "finish_reason": "tool_calls" if calls else "stop",
                    }
                ],
                "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
            }
        )

    loop = asyncio.new_event_loop()
    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)


def _run(tmp_path: Path, bfcl_dir: Path, model: str, *extra: str) -> dict[str, Any]:
    out = tmp_path / "report.json"
    result = CliRunner().invoke(
        cli,
        [
            "eval",
            "--model",
            model,
            "--data",
            str(bfcl_dir),
            "--category",
            ",".join(CATS),
            "--limit",
            "5",
            "--json",
            str(out),
            *extra,
        ],
    )
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(out.read_text())
    return data


@pytest.mark.parametrize("server", [False], indirect=True)
def test_a_server_answering_the_ground_truth_scores_100(
    server: str, tmp_path: Path, bfcl_dir: Path
) -> None:
    report = _run(tmp_path, bfcl_dir, server, "--concurrency", "4")
    assert report["model"] == server
    assert set(report["categories"]) == set(CATS)
    for cat, row in report["categories"].items():
        assert row == {"total": 5, "correct": 5, "accuracy": 1.0}, (cat, report["cases"])
    case = report["cases"][0]
    assert set(case) == {"id", "valid", "errors", "calls", "latency_s", "usage"}
    assert case["usage"]["total_tokens"] == 5


@pytest.mark.parametrize("server", [True], indirect=True)
def test_a_server_answering_wrongly_scores_0(server: str, tmp_path: Path, bfcl_dir: Path) -> None:
    report = _run(tmp_path, bfcl_dir, server)
    for cat, row in report["categories"].items():
        assert row["correct"] == 0, (cat, report["cases"])
    assert all(c["errors"] for c in report["cases"])


def test_offline_model_runs_and_resumes(tmp_path: Path, bfcl_dir: Path) -> None:
    first = _run(tmp_path, bfcl_dir, "offline")
    assert sum(r["total"] for r in first["categories"].values()) == 25
    report = tmp_path / "report.json"
    partial = dict(first, cases=first["cases"][:7])
    report.write_text(json.dumps(partial))
    again = _run(tmp_path, bfcl_dir, "offline")
    assert again["categories"] == first["categories"]
    assert [c["id"] for c in again["cases"]] == [c["id"] for c in first["cases"]]
    assert again["cases"][:7] == first["cases"][:7]  # kept, not re-run


def test_html_report_has_a_chart_per_model_and_no_network(tmp_path: Path, bfcl_dir: Path) -> None:
    page = tmp_path / "report.html"
    both = _run(tmp_path, bfcl_dir, "offline", "--model", "offline", "--html", str(page))
    assert [r["model"] for r in both["models"]] == ["offline", "offline"]  # side by side
    text = page.read_text()
    assert text.count("<svg") == 1 and text.count("<rect") >= 2 * len(CATS) + 2
    assert "src=" not in text and "href=" not in text  # self-contained
