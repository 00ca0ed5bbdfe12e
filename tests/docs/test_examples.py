"""The scripts in examples/ run: the shell steps of the tutorials (serve + curl, grpcurl, the
MCP Inspector CLI, the dashboard) and the Python examples. Offline, local servers only."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from service_checks import need

pytestmark = pytest.mark.slow  # servers and subprocesses

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
INSPECTOR = (
    ROOT
    / "tests/conformance/node_modules/@modelcontextprotocol/inspector/clients/launcher/build"
    / "index.js"
)


def env() -> dict[str, str]:
    bin_dir = str(Path(sys.executable).parent)  # grpcurl comes with the dev extra
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT / "src"),
        "PYTHON": sys.executable,
        "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
    }


def run(argv: list[str], **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        cwd=ROOT,
        env={**env(), **extra},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=110,
    )


def test_serve_and_call_script() -> None:
    path = env()["PATH"]
    need(shutil.which("curl", path=path) is not None, "curl is not installed")
    need(shutil.which("grpcurl", path=path) is not None, "grpcurl (dev extra) is not installed")
    need(shutil.which("node") is not None and INSPECTOR.is_file(), "the MCP Inspector (npm ci)")
    done = run(["bash", str(EXAMPLES / "serve_and_call.sh")], INSPECTOR=str(INSPECTOR))
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert '"ok":true' in out and '"temp":25' in out  # curl, with the JSON content type
    assert out.count("event: progress") == 3 and "event: result" in out  # SSE progress
    assert '"value_json": "5"' in out  # grpcurl
    assert '"structuredContent": {\n    "result": 5' in out  # the Inspector CLI
    assert "GET / -> 200" in out  # the dashboard


def test_multi_model_review_example() -> None:
    done = run([sys.executable, str(EXAMPLES / "multi_model_review.py")])
    assert done.returncode == 0, done.stderr
    assert "APPROVE" in done.stdout


def test_run_tutorial_script_runs_a_page() -> None:
    page = ROOT / "docs/tutorials/first-tool.md"
    done = run([sys.executable, str(EXAMPLES / "run_tutorial.py"), str(page)])
    assert done.returncode == 0, done.stderr
    assert "final answer:" in done.stdout


def test_run_tutorial_script_fails_with_the_page(tmp_path: Path) -> None:
    page = tmp_path / "broken.md"
    page.write_text("```python\nraise SystemExit(3)\n```\n", encoding="utf-8")
    assert run([sys.executable, str(EXAMPLES / "run_tutorial.py"), str(page)]).returncode == 3
