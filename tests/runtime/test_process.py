"""isolation="process": a stuck sync function is stopped at its timeout, its worker replaced."""

from __future__ import annotations

import pytest
import runtime_proc_tools as pt

import toolwire as tw
from toolwire.runtime import Executor

pytestmark = pytest.mark.anyio


async def test_stuck_worker_is_killed_and_replaced() -> None:
    async with Executor(process_workers=1) as ex:
        box = tw.Toolbox([pt.spin, pt.whoami, pt.explode, pt.refuse], runtime=ex)
        before = await box.call("whoami", {"x": 1})
        assert before.ok
        first_pid = before.value["pid"]
        stuck = await box.call("spin", {"n": 0})
        assert stuck.error is not None
        assert stuck.error.kind == "timeout"
        assert "stopped" in stuck.error.message
        assert ex.process_pool.replaced == 1
        after = await box.call("whoami", {"x": 2})
        assert after.ok
        assert after.value["x"] == 2
        assert after.value["pid"] != first_pid
        boom = await box.call("explode", {"message": "bad"})
        assert boom.error is not None
        assert (boom.error.kind, boom.error.message) == ("execution_error", "KeyError: 'bad'")
        refused = await box.call("refuse", {"message": "no"})
        assert refused.error is not None
        assert refused.error.kind == "forbidden"
        assert (await box.call("whoami", {"x": 3})).value["pid"] == after.value["pid"]


async def test_local_functions_are_refused_clearly() -> None:
    @tw.tool(isolation="process")
    def local() -> int:
        return 1

    async with Executor() as ex:
        res = await tw.Toolbox([local], runtime=ex).call("local")
    assert res.error is not None
    assert "module-level" in res.error.message
