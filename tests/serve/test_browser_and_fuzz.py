"""The dashboard in real headless Chromium, and schemathesis against /openapi.json."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from serve_helpers import HERE, free_port, serve_command, stop, wait_ready
from service_checks import need

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def open_server() -> Iterator[str]:
    """A server without auth (loopback only), so the page and the fuzzer need no credentials."""
    port = free_port()
    proc = subprocess.Popen(
        serve_command(
            "--tools", str(HERE / "serve_tools.py"), "--port", str(port), "--grpc-port", "-1"
        ),
        env={**os.environ},
        stderr=subprocess.PIPE,
    )
    try:
        wait_ready(proc, port)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)


@pytest.mark.slow
def test_dashboard_calls_a_tool_and_lists_it(open_server: str, output_dir: Path) -> None:
    need(Path(CHROMIUM).exists(), "chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(open_server + "/")
            page.wait_for_selector("#tool-list button[data-tool='get_weather']")
            page.click("#tool-list button[data-tool='get_weather']")
            page.fill("#args", '{"location": "杭州"}')
            page.click("#call-btn")
            page.wait_for_selector("#call-result.ok")
            assert '"temp": 25' in page.inner_text("#call-result")
            row = page.wait_for_selector("#calls tbody tr:has-text('get_weather')", timeout=5000)
            assert row is not None and "ok" in row.inner_text()
            page.fill("#args", '{"location": 5}')
            page.click("#call-btn")
            page.wait_for_selector("#call-result.err")
            assert "invalid_arguments" in page.inner_text("#call-result")
            page.wait_for_selector("#calls tbody tr:has-text('invalid_arguments')", timeout=5000)
            page.wait_for_selector("#stats tbody tr:has-text('get_weather')")
            page.select_option("#dialect", "anthropic")
            page.wait_for_function(
                "document.querySelector('#schema').textContent.includes('input_schema')"
            )
            page.screenshot(path=str(output_dir / "dashboard.png"), full_page=True)
            assert not errors, errors
        finally:
            browser.close()


@pytest.mark.slow
def test_schemathesis_finds_no_server_errors(open_server: str, output_dir: Path) -> None:
    # next to this interpreter first: the venv's CLI even when the venv is not activated
    here = Path(sys.executable).parent / "st"
    st = str(here) if here.exists() else shutil.which("st") or shutil.which("schemathesis")
    need(st is not None, "schemathesis CLI is not installed")
    assert st is not None
    done = subprocess.run(
        [
            st,
            "run",
            f"{open_server}/openapi.json",
            "--max-examples",
            "25",
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,"
            "response_schema_conformance",
            "--exclude-path-regex",
            "/v1/tools/(slow|fail)/",
            "--no-color",
            "--seed",
            "1",
            "--report",
            "junit",
            "--report-dir",
            str(output_dir),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    (output_dir / "schemathesis.txt").write_text(done.stdout + done.stderr)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
