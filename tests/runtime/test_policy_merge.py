"""Policy parts merge one way: ``fail_open`` from the executor's default survives a tool's
own policy like every other part."""

from __future__ import annotations

import toolwire as tw
from toolwire.runtime import Executor


def test_fail_open_from_the_executor_default_survives_a_tool_policy() -> None:
    @tw.tool(read_only=True, policy=tw.Policy(timeout=5))
    def t(x: int) -> int:
        """T."""
        return x

    ex = Executor(default_policy=tw.Policy(fail_open=False))
    assert ex.policy_for(t).fail_open is False
    assert Executor().policy_for(t).fail_open is None  # unset: means open
    assert tw.Policy(fail_open=False).merged(tw.Policy(fail_open=True)).fail_open is True
    assert tw.Policy(fail_open=False).merged(tw.Policy()).fail_open is False
