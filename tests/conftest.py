"""Shared fixtures: real local services (Redis, PostgreSQL) and the shared conformance data.

A test that needs a service skips with the reason when it is absent, and fails instead when
``CI=true``: CI must never go green by skipping what it was meant to prove.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hang_guard
import pytest
from service_checks import need, port_open

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


def pytest_configure(config: pytest.Config) -> None:
    hang_guard.install(config)  # every test's setup + call + teardown is bounded


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    # pytest-randomly prints its seed in the header, which -q hides: name it again on failure
    seed = terminalreporter.config.getoption("randomly_seed", default=None)
    failed = terminalreporter.stats.get("failed") or terminalreporter.stats.get("error")
    if failed and isinstance(seed, int):
        terminalreporter.write_line(f"random order: repeat it with --randomly-seed={seed}")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def redis_url() -> str:
    need(port_open("127.0.0.1", 6379), "Redis is not running at localhost:6379")
    return "redis://127.0.0.1:6379/0"


@pytest.fixture(scope="session")
def postgres_dsn() -> str:
    need(port_open("127.0.0.1", 5432), "PostgreSQL is not running at localhost:5432")
    return os.environ.get("TOOLWIRE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def bfcl_dir() -> Path:
    path = SHARED / "data" / "bfcl"
    need(path.is_dir(), f"BFCL data not found at {path} (../shared beside the checkout)")
    return path


@pytest.fixture
def output_dir(request: pytest.FixtureRequest) -> Path:
    """A per-test folder under test-output/ for screenshots and other artefacts."""
    path = ROOT / "test-output" / request.node.name.replace("/", "_")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A private Redis Cluster, 3 primaries + 3 replicas on loopback ports, for the session
    (tests that kill nodes start their own: see ``redis_nodes``)."""
    from redis_nodes import LocalCluster, binaries_present

    need(binaries_present(), "redis-server and redis-cli are needed for a local Redis Cluster")
    cluster = LocalCluster(tmp_path_factory.mktemp("redis-cluster")).start()
    try:
        yield cluster
    finally:
        cluster.stop()
