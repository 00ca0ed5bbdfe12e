"""Toolbox: unique names, lookup (also by exported wire name), subsets, export, validate."""

from __future__ import annotations

import pytest

import toolwire as tw
from toolwire.dialects._names import build_name_map


@tw.tool(tags={"weather"}, read_only=True)
def get_weather(location: str) -> dict[str, int]:
    """获取指定城市的天气信息"""
    return {"temp": 25}


def get_time(zone: str = "UTC") -> str:
    """Current time."""
    return "12:00"


SPOTIFY = tw.Tool.from_schema(
    {
        "name": "spotify.play",
        "parameters": {
            "type": "dict",
            "properties": {"artist": {"type": "string"}, "duration": {"type": "integer"}},
            "required": ["artist", "duration"],
        },
    },
    tags=["music"],
)


def make_box() -> tw.Toolbox:
    return tw.Toolbox([get_weather, get_time, SPOTIFY])


def test_plain_callables_are_wrapped_and_order_kept() -> None:
    box = make_box()
    assert len(box) == 3
    assert box.names() == ["get_weather", "get_time", "spotify.play"]
    assert [t.name for t in box] == box.names()
    assert isinstance(box.get("get_time"), tw.Tool)
    assert "get_time" in box
    assert get_weather in box
    assert "nope" not in box
    assert 3 not in box


def test_duplicate_name_is_an_error() -> None:
    box = make_box()
    with pytest.raises(tw.ToolDefinitionError, match="duplicate tool name 'get_weather'"):
        box.add(tw.tool(name="get_weather")(lambda: None))
    with pytest.raises(tw.ToolDefinitionError, match="tools or functions"):
        box.add(42)  # type: ignore[arg-type]


def test_get_resolves_wire_names() -> None:
    box = make_box()
    assert box.get("spotify.play") is SPOTIFY
    assert box.get("spotify_play") is SPOTIFY
    assert "spotify_play" in box
    wire = {w for w, original in build_name_map(box.names()).items() if original == "spotify.play"}
    assert wire == {"spotify_play"}
    # the map is rebuilt when tools are added
    box.add(tw.tool(name="spotify_play")(lambda: None))
    assert box.get("spotify_play").name == "spotify_play"
    assert box.get("spotify.play") is SPOTIFY


def test_unknown_tool_suggests_close_names() -> None:
    box = make_box()
    with pytest.raises(tw.UnknownTool) as info:
        box.get("get_wether")
    assert info.value.suggestions[0] == "get_weather"
    assert info.value.kind == "unknown_tool"
    with pytest.raises(tw.UnknownTool) as info:
        box.get("SPOTIFY_PLAY")
    assert "spotify.play" in info.value.suggestions
    with pytest.raises(tw.UnknownTool) as info:
        tw.Toolbox().get("x")
    assert info.value.suggestions == ()


def test_subset_by_names_globs_tags() -> None:
    box = make_box()
    assert box.subset(names=["get_time"]).names() == ["get_time"]
    assert box.subset(names=["spotify_play"]).names() == ["spotify.play"]
    assert box.subset(globs=["get_*"]).names() == ["get_weather", "get_time"]
    assert box.subset(tags=["music"]).names() == ["spotify.play"]
    assert box.subset(names=["get_time"], tags=["music"]).names() == ["get_time", "spotify.play"]
    assert box.subset().names() == box.names()
    assert box.subset(globs=[]).names() == []
    with pytest.raises(tw.UnknownTool):
        box.subset(names=["missing"])
    with pytest.raises(TypeError):
        box.subset(names="get_time")  # type: ignore[arg-type]


def test_subset_shares_the_runtime() -> None:
    sentinel = object()
    box = tw.Toolbox([get_weather], runtime=sentinel)
    assert box.runtime is sentinel
    assert box.subset(names=["get_weather"]).runtime is sentinel


def test_validate_through_the_box() -> None:
    box = make_box()
    assert box.validate("get_weather", '{"location": "北京"}') == {"location": "北京"}
    assert box.validate("spotify_play", b'{"artist": "A", "duration": "20"}') == {
        "artist": "A",
        "duration": 20,
    }
    with pytest.raises(tw.InvalidArguments) as info:
        box.validate("spotify.play", "{}")
    assert [p.path for p in info.value.problems] == ["$.artist", "$.duration"]
    with pytest.raises(tw.UnknownTool):
        box.validate("nope", "{}")


def test_export_delegates_to_dialects() -> None:
    box = make_box()
    exported = box.export("openai")
    assert isinstance(exported, list)
    names = [item["function"]["name"] for item in exported]
    assert names == ["get_weather", "get_time", "spotify_play"]
    functions = box.export("openai-functions")
    assert isinstance(functions, list)
    assert functions[0]["description"] == "获取指定城市的天气信息"
    with pytest.raises(ValueError, match="unknown dialect"):
        box.export("cobol")


# runtime entry points (the real executor, in memory) -----------------------------------------


@tw.tool
async def echo(text: str, ctx: tw.Context) -> dict[str, str]:
    return {"text": text, "call_id": ctx.call_id, "caller": ctx.caller.id if ctx.caller else ""}


def test_cache_policy_on_a_side_effecting_tool_is_refused() -> None:
    @tw.tool(policy=tw.Policy(cache=tw.Cache(ttl=1.0)))
    def write(x: int) -> int:
        return x

    with pytest.raises(tw.ToolDefinitionError, match="neither read_only nor idempotent"):
        tw.Toolbox([write])


@pytest.mark.anyio
async def test_call_builds_a_tool_call_and_delegates() -> None:
    box = tw.Toolbox([echo, get_weather, SPOTIFY])
    result = await box.call("echo", {"text": "北京"}, caller=tw.Caller(id="u1"), call_id="c-1")
    assert result.ok, result.error
    assert result.call_id == "c-1"
    assert result.value == {"text": "北京", "call_id": "c-1", "caller": "u1"}
    text_result = await box.call("echo", '{"text": "x"}')
    assert text_result.ok and text_result.call_id.startswith("tw_")
    bytes_result = await box.call("echo", b'{"text": "y"}')
    assert bytes_result.ok and bytes_result.value["text"] == "y"


@pytest.mark.anyio
async def test_call_failures_are_results() -> None:
    box = tw.Toolbox([echo, SPOTIFY])
    bad = await box.call("echo", {"text": 1})
    assert not bad.ok and bad.error is not None
    assert bad.error.kind == "invalid_arguments"
    unknown = await box.call("ehco", {})
    assert unknown.error is not None and unknown.error.kind == "unknown_tool"
    schema_only = await box.call("spotify_play", {"artist": "A", "duration": 1})
    assert schema_only.error is not None
    assert schema_only.error.kind == "execution_error"
    assert "no handler" in schema_only.error.message
    broken = await box.call("echo", b'{"text": "\xff"}')
    assert broken.error is not None and broken.error.kind == "invalid_arguments"


@pytest.mark.anyio
async def test_run_and_run_iter_delegate() -> None:
    box = tw.Toolbox([echo])
    calls = [tw.ToolCall(id=f"c{i}", name="echo", arguments=f'{{"text": "{i}"}}') for i in range(3)]
    results = await box.run(calls)
    assert [r.call_id for r in results] == ["c0", "c1", "c2"]
    assert all(r.ok for r in results)
    seen = [r.call_id async for r in box.run_iter(calls)]
    assert sorted(seen) == ["c0", "c1", "c2"]
    sub = box.subset(names=["echo"])
    assert sub.runtime is box.runtime
