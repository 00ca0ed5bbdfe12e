"""Helpers shared by the reliability suites: the quick/full switch and the event invariants.

Named ``reliability_helpers`` (not ``conftest``) so that importing it never picks up another
folder's conftest module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import pytest

FULL_EXAMPLES = 10_000
_state = {"full": False}
F = TypeVar("F", bound=Callable[..., Any])


def set_full(value: bool) -> None:
    _state["full"] = value


def full() -> bool:
    return _state["full"]


def examples(quick: int) -> int:
    """Hypothesis example count: ``quick`` in CI, at least 10,000 under ``--full``."""
    return max(FULL_EXAMPLES, quick) if full() else quick


def pick(quick: int, full_value: int) -> int:
    return full_value if full() else quick


def full_only(fn: F) -> F:
    """Skip unless ``--full`` (the long suites run by hand)."""
    marked: F = pytest.mark.skipif(not full(), reason="long suite: run with --full")(fn)
    return marked
