"""schemathesis against a live ``toolwire serve`` ``/openapi.json`` (API keys on).

The server has the seed's ``get_weather`` (the default tool set) and every route. A tool that
may legitimately time out is left out: its documented answer is HTTP 504 (``timeout``), which
schemathesis counts as a server error. Runs the ``st`` CLI found next to the running
interpreter (so it works from ``.venv/bin/python`` without an activated venv), with the key,
over every operation; ``ignored_auth`` also checks that each operation refuses no key.
Quick mode: 25 examples per operation; ``--full``: 500.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from _rel import pick
from _rel_serve import free_port, stop, wait_port

ROOT = Path(__file__).resolve().parents[2]
KEY = "rel-schemathesis-key"
CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_headers_conformance,response_schema_conformance,ignored_auth"
)


def test_schemathesis_against_live_openapi(tmp_path: Path) -> None:
    st = Path(sys.executable).parent / "st"
    if not st.exists():  # the dev extra brings it; CI must not skip
        reason = f"schemathesis CLI not found at {st}"
        pytest.fail(reason) if os.environ.get("CI") == "true" else pytest.skip(reason)
    digest = hashlib.sha256(KEY.encode()).hexdigest()
    config = tmp_path / "toolwire.toml"
    config.write_text(
        '[server]\nlog_level = "error"\n\n'
        f'[auth]\napi_keys = [{{ id = "fuzz", hash = "sha256:{digest}", scopes = ["*"] }}]\n\n'
    )
    port = free_port()
    cmd = [sys.executable, "-m", "toolwire", "serve", "--config", str(config)]
    cmd += ["--port", str(port), "--grpc-port", "-1"]
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
                "--checks", CHECKS,
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
