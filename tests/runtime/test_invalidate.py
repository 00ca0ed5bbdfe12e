"""``Executor.invalidate`` drops the key the executor stored: the tool's own per-caller
setting and the validated arguments."""

from __future__ import annotations

import pytest
from runtime_fixtures import backend_fixture, redis_prefix_fixture  # noqa: F401

import toolwire as tw
from toolwire.runtime import Executor
from toolwire.state import StateBackend

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("per_caller", [False, True])
async def test_invalidate_uses_the_tools_per_caller_and_validated_arguments(
    backend: StateBackend, per_caller: bool
) -> None:
    calls = [0]

    @tw.tool(read_only=True, policy=tw.Policy(cache=tw.Cache(ttl=60, per_caller=per_caller)))
    def g(x: int, y: int = 3) -> int:
        """G."""
        calls[0] += 1
        return calls[0]

    ex = Executor(backend=backend)
    box = tw.Toolbox([g], runtime=ex)
    who = tw.Caller(id="alice")
    await box.call("g", {"x": 1}, caller=who)
    assert await ex.invalidate(g, {"x": 1}, caller=who) == 1
    await box.call("g", {"x": 1}, caller=who)
    assert await ex.invalidate("g", '{"x": 1}', caller=who) == 1
    assert calls[0] == 2
