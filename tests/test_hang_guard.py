"""The hang guard (tests/hang_guard.py) ends a run whose fixture teardown hangs.

A tiny pytest session in a subprocess: an async fixture (anyio, as the Redis fixtures are)
whose teardown blocks its event loop for good after the test failed, the case pytest-timeout
did not stop. pytest-timeout is switched off there, so only the guard can end it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import hang_guard

HERE = Path(__file__).resolve().parent

CONFTEST = """
import hang_guard

def pytest_configure(config):
    hang_guard.install(config)
"""

HANGING = """
import threading

import pytest

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
async def stuck_resource():
    yield "resource"
    threading.Event().wait()  # a teardown waiting for an answer that never comes


async def test_fails_then_teardown_hangs(stuck_resource):
    assert stuck_resource == "something else"


def test_never_reached():
    pass
"""


def test_a_hanging_teardown_ends_the_run_with_every_stack(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(CONFTEST)
    (tmp_path / "test_hanging.py").write_text(textwrap.dedent(HANGING))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(HERE), *sys.path]))
    env[hang_guard.ENV] = "2"
    # bounded: were the guard broken, this raises TimeoutExpired instead of hanging the suite
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:timeout", "-p", "no:cacheprovider",
         "-p", "no:randomly", "--no-cov", "-q", "-o", "addopts=", "test_hanging.py"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == hang_guard.EXIT_CODE, (proc.returncode, proc.stdout, proc.stderr)
    err = proc.stderr
    assert "hang guard: test_hanging.py::test_fails_then_teardown_hangs ran over 2 s" in err
    assert "stuck_resource" in err  # the dump shows where the teardown is stuck
    assert "most recent call first" in err
    assert "test_never_reached" not in proc.stdout + err
