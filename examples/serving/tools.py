"""The tools file of the serving tutorial (docs/tutorials/serving.md).

    toolwire serve --tools examples/serving/tools.py --port 0

Every Tool defined at the top level is served.
"""

import toolwire as tw


@tw.tool(read_only=True)
def get_weather(location: str) -> dict:
    """获取指定城市的天气信息

    Args:
        location: 城市名称
    """
    table = {"北京": 25, "上海": 27, "Paris": 18}
    return {"location": location, "temp": table.get(location, 20), "unit": "celsius"}


@tw.tool
def add(a: int, b: int) -> int:
    """Add two integers.

    Args:
        a: the first number
        b: the second number
    """
    return a + b


@tw.tool(read_only=True)
async def count_to(n: int, ctx: tw.Context) -> int:
    """Count to n, reporting progress on the way."""
    for i in range(1, n + 1):
        await ctx.report_progress(i, n, f"{i} of {n}")
    return n
