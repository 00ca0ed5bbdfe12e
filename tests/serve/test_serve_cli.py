"""The operator's side of ``toolwire serve``: ``toolwire keys``, ``--port 0`` with workers, the
audit log switched on from the command line or the file."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx2 as httpx
from serve_helpers import start_serve, stop

from toolwire.serve._auth import hash_api_key


def _toolwire(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "toolwire", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_keys_new_makes_an_entry_the_server_accepts(tmp_path: Path) -> None:
    made = _toolwire("keys", "new", "--id", "ci", "--scope", "weather")
    assert made.returncode == 0, made.stderr
    key = re.search(r"^key:\s+(\S+)$", made.stdout, re.M)
    entry = re.search(r"^entry:\s+(.+)$", made.stdout, re.M)
    assert key is not None and entry is not None, made.stdout
    assert f'hash = "{hash_api_key(key.group(1))}"' in entry.group(1)
    hashed = _toolwire("keys", "hash", stdin=key.group(1) + "\n")
    assert hashed.stdout.strip() == hash_api_key(key.group(1))
    assert _toolwire("keys", "hash", key.group(1)).stdout == hashed.stdout

    config = tmp_path / "toolwire.toml"
    config.write_text(f"[auth]\napi_keys = [{entry.group(1)}]\n")
    server = start_serve("--config", str(config), "--port", "0", "--grpc-port", "-1")
    try:
        with httpx.Client(base_url=server.base, timeout=10) as client:
            assert client.get("/v1/tools").status_code == 401
            answer = client.post(
                "/v1/tools/get_weather/call",
                json={"location": "Paris"},
                headers={"X-API-Key": key.group(1)},
            )
        assert answer.status_code == 200, answer.text
        assert answer.json()["value"]["location"] == "Paris"
    finally:
        stop(server.proc)
