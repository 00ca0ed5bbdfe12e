"""Every dialect: golden structure of the seed's tool, names, annotations, CJK kept as text."""

from __future__ import annotations

import re
from typing import Any

import pytest
from export_checks import check_gemini, check_openai_strict

from toolwire._errors import ERROR_KINDS, ToolDefinitionError
from toolwire._json import dumps, loads
from toolwire._spec import ToolAnnotations, ToolSpec
from toolwire.dialects._export import EXPORT_DIALECTS, export_specs
from toolwire.dialects._names import build_name_map

SEED_PARAMS = {
    "type": "object",
    "properties": {"location": {"type": "string", "description": "城市名称"}},
    "required": ["location"],
}
SEED = ToolSpec(name="get_weather", description="获取指定城市的天气信息", input_schema=SEED_PARAMS)
PLAY = ToolSpec(
    name="spotify.play",
    description="Play songs",
    input_schema={
        "type": "object",
        "properties": {"artist": {"type": "string"}, "duration": {"type": "integer"}},
        "required": ["artist"],
    },
    annotations=ToolAnnotations(destructive=True, open_world=True),
    tags=frozenset({"music"}),
    title="Play music",
)
READ = ToolSpec(
    name="lookup",
    input_schema={"type": "object", "properties": {}},
    output_schema={"type": "string"},
    annotations=ToolAnnotations(read_only=True),
)


def test_dialect_list() -> None:
    assert EXPORT_DIALECTS == (
        "openai",
        "openai-functions",
        "openai-responses",
        "anthropic",
        "gemini",
        "mcp",
        "openapi",
    )


def test_unknown_dialect_lists_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="unknown dialect 'cohere'") as info:
        export_specs([SEED], "cohere")
    for dialect in EXPORT_DIALECTS:
        assert dialect in str(info.value)


def test_openai_chat_golden() -> None:
    assert export_specs([SEED], "openai") == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "获取指定城市的天气信息",
                "parameters": SEED_PARAMS,
            },
        }
    ]


def test_openai_functions_is_the_seed_form() -> None:
    assert export_specs([SEED], "openai-functions") == [
        {"name": "get_weather", "description": "获取指定城市的天气信息", "parameters": SEED_PARAMS}
    ]


def test_openai_responses_golden() -> None:
    assert export_specs([SEED], "openai-responses") == [
        {
            "type": "function",
            "name": "get_weather",
            "description": "获取指定城市的天气信息",
            "parameters": SEED_PARAMS,
            "strict": False,
        }
    ]
    strict = export_specs([SEED], "openai-responses", strict=True)
    assert isinstance(strict, list)
    assert strict[0]["strict"] is True
    assert strict[0]["parameters"]["additionalProperties"] is False


def test_anthropic_golden() -> None:
    assert export_specs([SEED], "anthropic") == [
        {
            "name": "get_weather",
            "description": "获取指定城市的天气信息",
            "input_schema": SEED_PARAMS,
        }
    ]
    strict = export_specs([PLAY], "anthropic", strict=True)
    assert isinstance(strict, list)
    assert strict[0]["name"] == "spotify_play"
    assert strict[0]["strict"] is True
    assert check_openai_strict(strict[0]["input_schema"]) == []


def test_gemini_golden() -> None:
    out = export_specs([SEED, READ], "gemini")
    assert out == [
        {
            "functionDeclarations": [
                {
                    "name": "get_weather",
                    "description": "获取指定城市的天气信息",
                    "parameters": SEED_PARAMS,
                },
                {"name": "lookup"},  # no parameters: left unset
            ]
        }
    ]


def test_mcp_golden() -> None:
    out = export_specs([SEED, PLAY, READ], "mcp")
    assert isinstance(out, list)
    seed, play, read = out
    assert seed == {
        "name": "get_weather",
        "description": "获取指定城市的天气信息",
        "inputSchema": SEED_PARAMS,
        "annotations": {
            "readOnlyHint": False,
            "destructiveHint": False,
            "idempotentHint": False,
            "openWorldHint": False,
        },
    }
    assert play["name"] == "spotify.play"  # MCP allows dots
    assert play["title"] == play["annotations"]["title"] == "Play music"
    assert play["annotations"]["destructiveHint"] is True
    assert play["annotations"]["openWorldHint"] is True
    assert read["annotations"]["readOnlyHint"] is True
    assert read["annotations"]["idempotentHint"] is True
    assert read["outputSchema"] == {
        "type": "object",
        "properties": {"result": {"type": "string"}},
        "required": ["result"],
    }


def test_openapi_document_is_valid_openapi_31() -> None:
    validator = pytest.importorskip("openapi_spec_validator")
    recursive = ToolSpec(
        name="tree.walk",
        input_schema={
            "type": "object",
            "properties": {"root": {"$ref": "#/$defs/Node"}},
            "$defs": {
                "Node": {
                    "type": "object",
                    "properties": {"kids": {"type": "array", "items": {"$ref": "#/$defs/Node"}}},
                }
            },
        },
        output_schema={"type": "object", "properties": {"n": {"type": "integer"}}},
    )
    doc = export_specs([SEED, PLAY, READ, recursive], "openapi")
    assert isinstance(doc, dict)
    validator.validate(doc)
    assert doc["openapi"] == "3.1.0"
    assert set(doc["paths"]) == {
        "/v1/tools/get_weather/call",
        "/v1/tools/spotify.play/call",
        "/v1/tools/lookup/call",
        "/v1/tools/tree.walk/call",
    }
    play = doc["paths"]["/v1/tools/spotify.play/call"]["post"]
    assert play["operationId"] == "spotify_play"
    assert play["x-toolwire-tool"] == "spotify.play"
    assert play["tags"] == ["music"]
    body = play["requestBody"]["content"]["application/json"]["schema"]
    schemas = doc["components"]["schemas"]
    assert schemas[body["$ref"].rsplit("/", 1)[1]] == PLAY.input_schema
    assert schemas["ToolError"]["properties"]["kind"]["enum"] == list(ERROR_KINDS)
    assert {"200", "400", "429", "default"} <= set(play["responses"])
    walk = schemas["tree.walk.Input"]
    assert walk["properties"]["root"]["properties"]["kids"]["items"] == {
        "$ref": "#/components/schemas/tree.walk.Input.Node"
    }
    assert "tree.walk.Input.Node" in schemas
    result = schemas["tree.walk.Result"]
    assert result["properties"]["value"] == {"$ref": "#/components/schemas/tree.walk.Output"}


@pytest.mark.parametrize("dialect", EXPORT_DIALECTS)
def test_cjk_is_kept_as_text(dialect: str) -> None:
    text = dumps(export_specs([SEED], dialect))
    assert "获取指定城市的天气信息" in text
    assert "城市名称" in text
    assert "\\u" not in text
    assert loads(text) == export_specs([SEED], dialect)


@pytest.mark.parametrize("dialect", EXPORT_DIALECTS)
def test_exported_names_resolve_back(dialect: str) -> None:
    specs = [
        ToolSpec(name=n)
        for n in ["spotify.play", "spotify_play", "a" * 70, "获取天气", "3d.render", "x y"]
    ]
    names = _exported_names(export_specs(specs, dialect), dialect)
    mapping = build_name_map([s.name for s in specs], dialect)
    assert len(set(names)) == len(specs)
    assert sorted(mapping[n] for n in names) == sorted(s.name for s in specs)


def _exported_names(exported: Any, dialect: str) -> list[str]:
    if dialect == "openai":
        return [t["function"]["name"] for t in exported]
    if dialect == "gemini":
        return [d["name"] for d in exported[0]["functionDeclarations"]]
    if dialect == "openapi":
        return [re.sub(r"^/v1/tools/(.*)/call$", r"\1", p) for p in exported["paths"]]
    return [t["name"] for t in exported]


def test_strict_flag_per_tool_and_per_export() -> None:
    flagged = ToolSpec(name="flagged", input_schema=SEED_PARAMS, strict=True)
    plain_out = export_specs([SEED, flagged], "openai")
    assert isinstance(plain_out, list)
    assert "strict" not in plain_out[0]["function"]
    assert plain_out[1]["function"]["strict"] is True
    strict_out = export_specs([SEED, flagged], "openai", strict=True)
    assert isinstance(strict_out, list)
    assert all(t["function"]["strict"] for t in strict_out)
    for tool in strict_out:
        assert check_openai_strict(tool["function"]["parameters"]) == []


def test_strict_impossible_names_the_tool_and_path() -> None:
    open_map = ToolSpec(
        name="tagger",
        input_schema={
            "type": "object",
            "properties": {
                "labels": {"type": "object", "additionalProperties": {"type": "string"}}
            },
        },
    )
    assert export_specs([open_map], "openai")  # fine without strict
    with pytest.raises(ToolDefinitionError, match=r"tool 'tagger': \$\.properties\.labels"):
        export_specs([open_map], "openai", strict=True)


def test_gemini_export_fits_the_subset() -> None:
    out = export_specs([SEED, PLAY], "gemini")
    assert isinstance(out, list)
    for decl in out[0]["functionDeclarations"]:
        assert re.fullmatch(r"[a-zA-Z_][a-zA-Z0-9_.-]{0,63}", decl["name"])
        assert check_gemini(decl["parameters"]) == []


@pytest.mark.parametrize("dialect", EXPORT_DIALECTS)
def test_export_does_not_share_the_spec_schema(dialect: str) -> None:
    spec = ToolSpec(
        name="t", input_schema={"type": "object", "properties": {"a": {"type": "string"}}}
    )
    before = dumps(spec.input_schema)
    exported = export_specs([spec], dialect)
    _scribble(exported)
    assert dumps(spec.input_schema) == before


def _scribble(node: Any) -> None:
    if isinstance(node, dict):
        for value in list(node.values()):
            _scribble(value)
        node["x-scribbled"] = True
    elif isinstance(node, list):
        for value in node:
            _scribble(value)
