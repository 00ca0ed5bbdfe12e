"""A process worker whose send failed (it died) is replaced; the call says it died."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest
import runtime_proc_tools as pt

from toolwire._errors import ToolFailure
from toolwire.runtime._process import ProcessPool

pytestmark = pytest.mark.anyio


async def test_worker_whose_send_failed_is_replaced() -> None:
    pool = ProcessPool(1)
    try:
        first = await pool.run(pt.whoami.handler, {"x": 1}, None, (), 30.0)
        pid = first["pid"]
        os.kill(pid, signal.SIGKILL)
        (worker,) = pool._all
        await asyncio.to_thread(worker.proc.join, 10.0)
        with pytest.raises(ToolFailure) as info:
            await pool.run(pt.whoami.handler, {"x": 2}, None, (), 30.0)
        assert "died" in info.value.message
        again = await pool.run(pt.whoami.handler, {"x": 3}, None, (), 30.0)
        assert again["x"] == 3 and again["pid"] != pid
    finally:
        await pool.aclose()
