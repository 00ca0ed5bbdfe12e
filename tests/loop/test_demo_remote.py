"""``toolwire demo --remote``: the seed's REST and gRPC services imported and called, offline."""

from __future__ import annotations

import subprocess
import sys


def test_demo_remote_imports_and_calls_both_services() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "toolwire", "demo", "--remote"],
        capture_output=True,
        text=True,
        timeout=120,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout
    assert "REST service (FastAPI, POST /weather)" in out
    assert "gRPC WeatherService (reflection on)" in out
    # one call per city through each imported tool, answered by the seed's simulated services
    for city in ("北京", "上海", "广州"):
        assert f'get_weather({{"location":"{city}"}})' in out
        assert f'WeatherService.GetWeather({{"name":"{city}"}})' in out
    assert out.count("'temp': 25") == 6
