"""Integers of any size JSON allows are read exactly, wherever arguments are parsed.

orjson refuses integers beyond a double's range (``10**309``: "number is infinity when parsed
as double") and reads those beyond 64 bits as floats; both are valid JSON. Python itself stops
converting text to int at 4300 digits (``sys.get_int_max_str_digits()``): beyond that the
error names that limit, never "not valid JSON".
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import uvicorn
from hypothesis import given, settings
from hypothesis import strategies as st

import toolwire as tw
from toolwire import _json
from toolwire.serve._app import create_app
from toolwire.serve._service import ToolService

HUGE = 10**309
LIMIT = sys.get_int_max_str_digits()


@tw.tool
def echo(x: int) -> dict[str, Any]:
    """Give x back, with its digit count."""
    return {"x": x, "digits": len(str(abs(x)))}


@tw.tool
def anything(value: Any) -> str:
    """Say what the value is."""
    return f"{type(value).__name__}:{value!r}"[:80]


BOX = tw.Toolbox([echo, anything])


@pytest.mark.parametrize(
    "n",
    [HUGE, -HUGE, 2**64, 2**70 + 1, -(2**63) - 1, 10**4299],
    ids=["1e309", "-1e309", "2^64", "2^70+1", "-2^63-1", "4300 digits"],
)
def test_validate_keeps_big_integers_exact(n: int) -> None:
    text = json.dumps({"x": n})
    assert BOX.validate("echo", text)["x"] == n
    assert BOX.validate("echo", text.encode())["x"] == n
    assert BOX.validate("anything", json.dumps({"value": [n, {"k": n}]}))["value"] == [
        n,
        {"k": n},
    ]


@pytest.mark.anyio
async def test_call_runs_with_the_exact_integer() -> None:
    result = await BOX.call("echo", json.dumps({"x": HUGE}))
    assert result.ok, result.error
    assert result.value == {"x": HUGE, "digits": 310}


def test_beyond_pythons_digit_limit_the_error_names_that_limit() -> None:
    with pytest.raises(tw.InvalidArguments) as info:
        BOX.validate("echo", '{"x": 1%s}' % ("0" * LIMIT))
    message = str(info.value)
    assert f"{LIMIT} digits" in message and "not valid JSON" not in message


def test_floats_beyond_a_double_are_refused_by_name() -> None:
    with pytest.raises(tw.InvalidArguments) as info:
        BOX.validate("anything", '{"value": 1e400}')
    message = str(info.value)
    assert "1e400" in message and "double" in message and "not valid JSON" not in message


def test_json_loads_is_exact_too() -> None:
    assert _json.loads(str(HUGE)) == HUGE
    assert _json.loads(json.dumps({"a": [2**70 + 1]})) == {"a": [2**70 + 1]}
    assert _json.loads(b'{"a": 18446744073709551616}') == {"a": 2**64}
    assert _json.loads('{"pi": 3.14159265358979323846}') == {"pi": 3.14159265358979323846}
    with pytest.raises(ValueError, match=f"{LIMIT} digits"):
        _json.loads("1" * (LIMIT + 1))
    with pytest.raises(ValueError, match="double"):
        _json.loads("[-1e999]")
    with pytest.raises(ValueError):
        _json.loads("[NaN]")
    with pytest.raises(ValueError, match="deep"):
        _json.loads("[1" + "0" * 400 + "," + "[" * 5000 + "]" * 5000 + "]")


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=-(10**1000), max_value=10**1000))
def test_any_integer_round_trips_exactly(n: int) -> None:
    assert BOX.validate("echo", json.dumps({"x": n}))["x"] == n
    assert _json.loads(_json.dumps({"x": n})) == {"x": n}


# --- REST bodies ---------------------------------------------------------------------------


@pytest.fixture
async def rest() -> AsyncIterator[str]:
    app = create_app(ToolService(BOX), mcp=False)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started:
            break
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await asyncio.wait_for(task, 10)


async def _post(url: str, body: str) -> tuple[int, Any]:
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        headers = {"Content-Type": "application/json"}
        async with session.post(url, data=body.encode(), headers=headers) as resp:
            return resp.status, _json.loads(await resp.read())


@pytest.mark.anyio
async def test_rest_single_call_and_batch_keep_big_integers_exact(rest: str) -> None:
    status, out = await _post(f"{rest}/v1/tools/echo/call", json.dumps({"x": HUGE}))
    assert status == 200, out
    assert out["value"] == {"x": HUGE, "digits": 310}
    deep = {"value": {"x": HUGE, "pad": [[[[[[[[[[[[]]]]]]]]]]]]}}  # the full parse path
    status, out = await _post(f"{rest}/v1/tools/anything/call", json.dumps(deep))
    assert status == 200, out
    calls = [{"name": "echo", "arguments": {"x": n}} for n in (HUGE, 2**70 + 1)]
    status, out = await _post(f"{rest}/v1/calls", json.dumps({"calls": calls}))
    assert status == 200, out
    assert [r["value"]["x"] for r in out["results"]] == [HUGE, 2**70 + 1]
    status, out = await _post(f"{rest}/v1/tools/echo/call", '{"x": 1%s}' % ("0" * LIMIT))
    assert out["error"]["kind"] == "invalid_arguments"
    assert f"{LIMIT} digits" in out["error"]["message"]
