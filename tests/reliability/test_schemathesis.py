"""schemathesis with ``--checks all`` against a live ``toolwire serve`` ``/openapi.json``: zero
failures, not just zero 5xx. The server must do what its own document says, both ways: accept
every request the document allows (positive data) and refuse every one it forbids (negative
data: an empty or 201-character ``Idempotency-Key``, ``dialect=``, a batch field of the wrong
type...), answering each with a status and a body the document declares.

Served with API keys on: the seed's ``get_weather`` and the conformance tools of every return
shape (object, int, str, list, None, a Pydantic model, an optional object), one behind a scope and
one rate-limited. Left out on purpose: tools whose documented answer is a
5xx (a failing tool's 500, a timeout's 504), which ``not_a_server_error`` counts as failures.
Runs the ``st`` CLI found next to the running interpreter. Quick mode: 25 examples per
operation; ``--full``: 500.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from reliability_helpers import pick
from reliability_serve import free_port, stop, wait_port

ROOT = Path(__file__).resolve().parents[2]
KEY = "rel-schemathesis-key"
SHAPES = ROOT / "tests" / "conformance" / "conformance_tools.py"
SEED_TOOL = ROOT / "tests" / "serve" / "serve_tools.py"
TOOLS = [
    f"{SEED_TOOL}:get_weather",
    *(
        f"{SHAPES}:{name}"
        for name in (
            "as_object",
            "as_int",
            "as_str",
            "as_list",
            "as_none",
            "as_model",
            "as_optional",
            "admin_secret",
            "once_an_hour",
        )
    ),
]


@pytest.mark.slow
def test_schemathesis_all_checks_against_live_openapi(tmp_path: Path) -> None:
    st = Path(sys.executable).parent / "st"
    if not st.exists():  # the dev extra brings it; CI must not skip
        reason = f"schemathesis CLI not found at {st}"
        pytest.fail(reason) if os.environ.get("CI") == "true" else pytest.skip(reason)
    digest = hashlib.sha256(KEY.encode()).hexdigest()
    config = tmp_path / "toolwire.toml"
    config.write_text(
        '[server]\nlog_level = "error"\n\n'
        f'[auth]\napi_keys = [{{ id = "fuzz", hash = "sha256:{digest}", scopes = ["*"] }}]\n\n'
        '[auth.scopes]\n"admin_*" = ["admin"]\n'
    )
    port = free_port()
    cmd = [sys.executable, "-m", "toolwire", "serve", "--config", str(config)]
    cmd += ["--port", str(port), "--grpc-port", "-1"]
    for source in TOOLS:
        cmd += ["--tools", source]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE)
    out = ROOT / "test-output" / "reliability"
    out.mkdir(parents=True, exist_ok=True)
    try:
        wait_port(port, proc)
        done = subprocess.run(
            [
                str(st), "run", f"http://127.0.0.1:{port}/openapi.json",
                "-H", f"X-API-Key: {KEY}",
                "--max-examples", str(pick(25, 500)),
                "--checks", "all",
                "--request-timeout", "10",
                "--no-color", "--seed", "1",
            ],
            capture_output=True, text=True, timeout=pick(240, 3000), check=False,
        )  # fmt: skip
        assert proc.poll() is None, "the server died under the fuzzer"
    finally:
        stop(proc)
    (out / "schemathesis.txt").write_text(done.stdout + done.stderr)
    print("\n" + "\n".join(done.stdout.splitlines()[-25:]))
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    # Every operation was reached: one per tool, the five fixed routes and the four of tasks
    # (list, get, cancel, events; none of these tools may start one).
    assert f"Tested: {len(TOOLS) + 5 + 4}" in done.stdout, done.stdout[-3000:]
