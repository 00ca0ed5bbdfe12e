"""Reliability suites: a quick mode for CI, ``--full`` by hand.

    pytest tests/reliability                 # quick: a few hundred examples, short runs
    pytest tests/reliability --full          # >= 10,000 examples per property, long suites
    TOOLWIRE_RELIABILITY_FULL=1 pytest ...   # the same, when the option can't be passed

``--full`` is only known when ``tests/reliability`` is among pytest's arguments (pytest reads
options from the conftest files of the paths it is given); the variable works from anywhere.
"""

from __future__ import annotations

import os

import pytest
import reliability_helpers


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--full",
        action="store_true",
        default=False,
        help="reliability suites: >= 10,000 hypothesis examples each and the long load runs",
    )


def pytest_configure(config: pytest.Config) -> None:
    full = bool(config.getoption("--full", default=False))
    reliability_helpers.set_full(
        full or os.environ.get("TOOLWIRE_RELIABILITY_FULL", "") not in ("", "0")
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # 10,000 examples take minutes per property: lift the suite-wide 120 s test timeout.
    if not reliability_helpers.full():
        return
    here = str(config.rootpath / "tests" / "reliability")
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(pytest.mark.timeout(3600))
