"""``toolwire call`` loads remote tools, calls and closes their clients in one event loop."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from serve_helpers import free_port, stop, wait_ready


def test_call_through_openapi_closes_its_http_clients(tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "toolwire.toml"
    # The outbound guard refuses loopback unless the source allows it.
    config.write_text(
        f'[[sources]]\nopenapi = "http://127.0.0.1:{port}/openapi.json"\n'
        'allow_hosts = ["127.0.0.1"]\n'
    )
    api = subprocess.Popen(
        [sys.executable, "-m", "toolwire.examples.weather_rest", "--port", str(port)],
        stderr=subprocess.PIPE,
    )
    try:
        wait_ready(api, port)
        done = subprocess.run(
            [
                sys.executable,
                "-X",
                "dev",  # asyncio debug: unclosed resources are reported on stderr
                "-m",
                "toolwire",
                "call",
                "get_weather",
                "location=Paris",
                "--config",
                str(config),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        stop(api)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["value"] == {"temp": 25, "humidity": 60}
    assert "Unclosed" not in done.stderr, done.stderr
    assert "Event loop is closed" not in done.stderr, done.stderr
