"""``need()`` and ``port_open()``: one rule for tests that need a service or a tool.

A test that needs something skips with the reason when it is absent, and fails instead when
``CI=true``: CI must never go green by skipping what it was meant to prove. Imported by name
(``from service_checks import need``), not through ``conftest``: under pytest's prepend
import mode every ``conftest.py`` is the module ``conftest``, so which one that name means
depends on the collection order.
"""

from __future__ import annotations

import os
import socket

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


def need(condition: bool, reason: str) -> None:
    """Skip the calling test when ``condition`` is false, or fail it under ``CI=true``."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required for CI but unavailable: {reason}")
    pytest.skip(reason)


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
