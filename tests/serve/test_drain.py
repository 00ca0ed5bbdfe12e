"""SIGTERM drains ``toolwire serve`` (issue #19): /readyz answers 503 at once, the call in
flight gets its answer, and the process exits 0 within its grace period."""

from __future__ import annotations

import json
import signal
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from serve_helpers import HERE, child_env, start_serve, stop

CONFIG = """
[server]
log_level = "error"
shutdown_delay = 5.0
shutdown_grace = 20.0
"""


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def _until(check: object, what: str, limit: float = 30.0) -> None:
    give_up = time.monotonic() + limit
    while not check():  # type: ignore[operator]
        assert time.monotonic() < give_up, f"{what} did not happen"
        time.sleep(0.05)


@pytest.mark.slow
def test_sigterm_drains_the_call_in_flight_and_exits_zero(tmp_path: Path) -> None:
    (tmp_path / "toolwire.toml").write_text(CONFIG)
    server = start_serve(
        "--config", str(tmp_path / "toolwire.toml"), "--tools",
        str(HERE / "serve_drain_tools.py"), "--port", "0", "--grpc-port", "-1",
        env=child_env(),
    )  # fmt: skip
    answer: dict[str, object] = {}

    def call() -> None:
        req = urllib.request.Request(
            f"{server.base}/v1/tools/hold/call",
            data=json.dumps({"folder": str(tmp_path)}).encode(),
            headers={"content-type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=60) as resp:
            answer["status"] = resp.status
            answer["body"] = json.loads(resp.read())

    caller = threading.Thread(target=call, daemon=True)
    try:
        assert _get(f"{server.base}/readyz") == 200
        caller.start()
        _until(lambda: (tmp_path / "started").exists(), "the call starting")
        server.proc.send_signal(signal.SIGTERM)
        # draining: not ready any more, while the call is still running
        _until(lambda: _get(f"{server.base}/readyz") == 503, "/readyz answering 503")
        assert server.proc.poll() is None and caller.is_alive()
        (tmp_path / "release").touch()
        caller.join(30)
        assert answer.get("status") == 200, answer
        body = answer["body"]
        assert isinstance(body, dict) and body.get("value") == "finished", body
        assert server.proc.wait(timeout=30) == 0  # the grace period bounds the wait
    finally:
        (tmp_path / "release").touch()
        stop(server.proc)
