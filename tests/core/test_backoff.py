"""The project's one backoff formula: its bounds, and that every retry loop uses it."""

from __future__ import annotations

import ast
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

import toolwire.runtime
from toolwire._backoff import backoff_delay

SRC = Path(__file__).resolve().parents[2] / "src" / "toolwire"


@given(
    attempt=st.integers(min_value=1, max_value=80),
    base=st.floats(min_value=0.0, max_value=10.0),
    cap=st.floats(min_value=0.0, max_value=60.0),
    floor=st.none() | st.floats(min_value=0.0, max_value=120.0),
)
def test_full_jitter_under_the_cap_and_at_least_the_floor(
    attempt: int, base: float, cap: float, floor: float | None
) -> None:
    delay = backoff_delay(attempt, base, cap, floor)
    assert delay >= 0.0
    if floor is None or floor <= min(cap, base * 2 ** (attempt - 1)):
        assert delay <= min(cap, base * 2 ** (attempt - 1))
    if floor is not None:
        assert delay >= floor


def test_one_public_name() -> None:
    assert toolwire.runtime.backoff_delay is backoff_delay
    assert "backoff_delay" in toolwire.runtime.__all__


def test_every_module_takes_it_from_its_home() -> None:
    """No second backoff function, and no import of it from anywhere but ``toolwire._backoff``
    (the model clients once reached into the runtime's private ``_limits`` for it)."""
    users = []
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            own = (
                isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and "backoff" in node.name
            )
            if own and path.name != "_backoff.py":
                raise AssertionError(f"{path}: a backoff function of its own, {node.name}")
            if isinstance(node, ast.ImportFrom) and any(
                a.name == "backoff_delay" for a in node.names
            ):
                assert node.module == "toolwire._backoff", (path, node.module)
                users.append(path.relative_to(SRC).as_posix())
    # the retry loops of every layer: state, runtime, models
    assert {
        "state/_redis_client.py",
        "runtime/_layers/retry.py",
        "runtime/_settle.py",
        "runtime/_task_worker.py",
        "models/_transport.py",
    } <= set(users)
