"""Tool definition: @tool, Tool.from_schema in every accepted shape, Tool.from_model."""

from __future__ import annotations

import datetime
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, Field

import toolwire as tw
from toolwire._json import dumps


class Opaque:
    """Not describable as JSON Schema."""


SEED = {
    "name": "get_weather",
    "description": "获取指定城市的天气信息",
    "parameters": {
        "type": "object",
        "properties": {"location": {"type": "string", "description": "城市名称"}},
        "required": ["location"],
    },
}


def test_decorator_bare_sync_function() -> None:
    @tw.tool
    def get_weather(location: str, days: int = 1) -> dict[str, int]:
        """获取指定城市的天气信息

        Args:
            location: 城市名称
            days: 天数
        """
        return {"temp": 25, "days": days}

    assert isinstance(get_weather, tw.Tool)
    assert get_weather.name == "get_weather"
    assert get_weather.spec.description == "获取指定城市的天气信息"
    schema = get_weather.spec.input_schema
    assert schema["type"] == "object"
    assert schema["properties"]["location"] == {"type": "string", "description": "城市名称"}
    assert schema["properties"]["days"]["default"] == 1
    assert schema["required"] == ["location"]
    assert get_weather.spec.output_schema == {
        "type": "object",
        "additionalProperties": {"type": "integer"},
    }
    assert not get_weather.is_async
    assert get_weather("北京", days=2) == {"temp": 25, "days": 2}
    assert "\\u" not in dumps(schema)


def test_decorator_with_options_async() -> None:
    policy = tw.Policy(timeout=2.0)

    @tw.tool(
        name="weather",
        description="custom",
        read_only=True,
        idempotent=True,
        destructive=False,
        open_world=True,
        tags={"weather", "demo"},
        strict=True,
        policy=policy,
        isolation="inline",
        sequential=True,
        requires_approval=True,
        audit_arguments=True,
    )
    async def get_weather(location: str) -> None:
        return None

    assert get_weather.name == "weather"
    assert get_weather.spec.description == "custom"
    assert get_weather.spec.annotations == tw.ToolAnnotations(
        read_only=True, idempotent=True, open_world=True
    )
    assert get_weather.spec.tags == frozenset({"weather", "demo"})
    assert get_weather.spec.strict is True
    assert get_weather.policy is policy
    assert get_weather.isolation == "inline"
    assert get_weather.sequential and get_weather.requires_approval and get_weather.audit_arguments
    assert get_weather.is_async
    assert get_weather.spec.output_schema is None  # -> None means no output schema


def test_context_params_are_injected_not_described() -> None:
    @tw.tool
    async def whoami(greeting: str, ctx: tw.Context, maybe: tw.Context | None = None) -> str:
        return f"{greeting} {ctx.caller.id if ctx.caller else '?'}"

    assert whoami.context_params == ("ctx", "maybe")
    assert set(whoami.spec.input_schema["properties"]) == {"greeting"}
    ctx = tw.Context(call_id="c1", tool_name="whoami")
    bound = whoami.bind({"greeting": "hi"}, ctx)
    assert bound == {"greeting": "hi", "ctx": ctx, "maybe": ctx}
    plain = {"greeting": "hi"}
    assert whoami.bind(plain, ctx) is not plain


def test_bind_without_context_returns_same_dict() -> None:
    @tw.tool
    def f(x: int) -> int:
        return x

    kwargs = {"x": 1}
    assert f.bind(kwargs, tw.Context(call_id="c", tool_name="f")) is kwargs
    assert f.context_params == ()


def test_annotated_field_description_wins_over_docstring() -> None:
    @tw.tool
    def f(city: Annotated[str, Field(description="from Field")]) -> str:
        """Doc.

        Args:
            city: from docstring
        """
        return city

    assert f.spec.input_schema["properties"]["city"]["description"] == "from Field"


def test_explicit_output_schema_option() -> None:
    @tw.tool(output_schema={"type": "object", "properties": {"t": {"type": "float"}}})
    def f() -> Any:
        return {}

    assert f.spec.output_schema == {"type": "object", "properties": {"t": {"type": "number"}}}


def test_bad_definitions_raise_tool_definition_error() -> None:
    def positional(x: int, /) -> int:
        return x

    with pytest.raises(tw.ToolDefinitionError, match="positional-only"):
        tw.tool(positional)

    def takes_opaque(x: Opaque) -> None:
        return None

    with pytest.raises(tw.ToolDefinitionError, match="parameter 'x'"):
        tw.tool(takes_opaque)

    class Local:
        pass

    def takes_local(y: int, z: Local) -> None:  # unresolvable under postponed annotations
        return None

    with pytest.raises(tw.ToolDefinitionError, match="type hint of 'z'"):
        tw.tool(takes_local)

    with pytest.raises(tw.ToolDefinitionError, match="isolation"):
        tw.tool(isolation="fork")(lambda: None)  # type: ignore[call-overload]

    with pytest.raises(tw.ToolDefinitionError, match="name"):
        tw.tool(name="has space")(lambda: None)

    with pytest.raises(tw.ToolDefinitionError, match="already a tool"):
        tw.tool(tw.tool(lambda: None))


def test_schema_only_tool_cannot_run() -> None:
    weather = tw.Tool.from_schema(SEED)
    assert weather.handler is None
    with pytest.raises(tw.ToolFailure) as info:
        weather.require_handler()
    assert info.value.kind == "execution_error"
    assert "no handler" in info.value.message
    assert "export and validation only" in info.value.message
    with pytest.raises(tw.ToolFailure):
        weather(location="北京")


def test_from_schema_seed_form() -> None:
    weather = tw.Tool.from_schema(SEED)
    assert weather.name == "get_weather"
    assert weather.spec.description == "获取指定城市的天气信息"
    assert weather.spec.input_schema == SEED["parameters"]
    assert weather.validate('{"location": "北京"}') == {"location": "北京"}


def test_from_schema_openai_wrapper_keeps_strict() -> None:
    doc = {"type": "function", "function": {**SEED, "strict": True}}
    weather = tw.Tool.from_schema(doc)
    assert weather.name == "get_weather"
    assert weather.spec.strict is True


def test_from_schema_openai_responses_flat_form() -> None:
    doc = {"type": "function", **SEED, "strict": False}
    weather = tw.Tool.from_schema(doc)
    assert weather.name == "get_weather"
    assert weather.spec.strict is False
    assert weather.spec.input_schema["required"] == ["location"]


def test_from_schema_anthropic() -> None:
    doc = {"name": "get_weather", "description": "d", "input_schema": SEED["parameters"]}
    assert tw.Tool.from_schema(doc).spec.input_schema == SEED["parameters"]


def test_from_schema_mcp_with_annotations_and_output() -> None:
    doc = {
        "name": "get_weather",
        "title": "Weather",
        "inputSchema": SEED["parameters"],
        "outputSchema": {"type": "object", "properties": {"temp": {"type": "number"}}},
        "annotations": {"readOnlyHint": True, "openWorldHint": True, "title": "ignored"},
    }
    weather = tw.Tool.from_schema(doc)
    assert weather.spec.annotations.read_only
    assert weather.spec.annotations.open_world
    assert not weather.spec.annotations.destructive
    assert weather.spec.title == "Weather"
    assert weather.spec.output_schema == doc["outputSchema"]
    # explicit options win over the document's hints
    assert not tw.Tool.from_schema(doc, read_only=False).spec.annotations.read_only


def test_from_schema_gemini_uppercase_types() -> None:
    doc = {
        "name": "get_weather",
        "parameters": {
            "type": "OBJECT",
            "properties": {
                "location": {"type": "STRING"},
                "days": {"type": "INTEGER", "nullable": True},
                "tags": {"type": "ARRAY", "items": {"type": "STRING"}},
            },
            "required": ["location"],
        },
    }
    schema = tw.Tool.from_schema(doc).spec.input_schema
    assert schema["type"] == "object"
    assert schema["properties"]["location"] == {"type": "string"}
    assert schema["properties"]["days"] == {"type": ["integer", "null"]}
    assert schema["properties"]["tags"] == {"type": "array", "items": {"type": "string"}}


def test_from_schema_bfcl_document() -> None:
    doc = {
        "name": "spotify.play",
        "description": "Play specific tracks from a given artist for a specific time duration.",
        "parameters": {
            "type": "dict",
            "properties": {
                "artist": {"type": "string", "description": "The artist."},
                "duration": {"type": "integer", "description": "Minutes."},
                "coords": {"type": "tuple", "items": {"type": "float"}},
                "data": {"type": "any", "description": "anything"},
                "flag": {"type": "boolean", "default": True, "optional": True},
            },
            "required": ["artist", "duration"],
        },
    }
    spotify = tw.Tool.from_schema(doc)
    props = spotify.spec.input_schema["properties"]
    assert spotify.spec.input_schema["type"] == "object"
    assert props["coords"] == {"type": "array", "items": {"type": "number"}}
    assert props["data"] == {"description": "anything"}
    assert props["flag"] == {"type": "boolean", "default": True}
    assert spotify.validate({"artist": "Taylor Swift", "duration": 20, "data": [1]}) == {
        "artist": "Taylor Swift",
        "duration": 20,
        "data": [1],
    }


def test_from_schema_missing_parameters_means_no_arguments() -> None:
    now = tw.Tool.from_schema({"name": "now", "description": "current time"})
    assert now.spec.input_schema == {"type": "object", "properties": {}}
    assert now.validate("{}") == {}


def test_from_schema_with_handler_gets_plain_json() -> None:
    seen: dict[str, Any] = {}

    def handler(location: str, ctx: tw.Context) -> str:
        seen["location"] = location
        return location

    weather = tw.Tool.from_schema(SEED, handler)
    assert weather.context_params == ("ctx",)
    assert weather.validate('{"location": "北京"}') == {"location": "北京"}


@pytest.mark.parametrize(
    ("doc", "needle"),
    [
        ([], "JSON object"),
        ({"description": "x"}, "'name'"),
        ({"name": ""}, "'name'"),
        ({"name": "x", "parameters": []}, "'parameters' must be a JSON Schema object"),
        ({"name": "x", "parameters": {"type": "string"}}, "must be an object"),
        ({"name": "x", "parameters": {"type": "frob"}}, "unknown type name 'frob'"),
        ({"name": "x", "description": 3}, "description"),
        ({"type": "function", "function": "nope"}, "'function' member"),
        ({"functionDeclarations": []}, "each declaration"),
        ({"type": "web_search"}, "not a function tool"),
        ({"name": "x", "parameters": {"type": "object", "required": "a"}}, "required"),
        (
            {"name": "x", "parameters": {"type": "object", "properties": {"a": {"minimum": "z"}}}},
            "not valid JSON Schema",
        ),
    ],
)
def test_from_schema_bad_shapes(doc: Any, needle: str) -> None:
    with pytest.raises(tw.ToolDefinitionError, match=needle.replace("(", r"\(")):
        tw.Tool.from_schema(doc)


class Order(BaseModel):
    """Place an order."""

    sku: str
    qty: int = 1
    when: datetime.date | None = None


def test_from_model_passes_instance_when_annotated() -> None:
    def place(order: Order, ctx: tw.Context) -> str:
        """Order something."""
        return order.sku

    placed = tw.Tool.from_model(Order, place)
    assert placed.name == "place"
    assert placed.spec.description == "Order something."
    assert placed.context_params == ("ctx",)
    assert set(placed.spec.input_schema["properties"]) == {"sku", "qty", "when"}
    kwargs = placed.validate('{"sku": "A1", "when": "2024-05-01"}')
    assert isinstance(kwargs["order"], Order)
    assert kwargs["order"].when == datetime.date(2024, 5, 1)


def test_from_model_passes_fields_otherwise() -> None:
    def place(sku: str, qty: int, when: datetime.date | None) -> str:
        return sku

    placed = tw.Tool.from_model(Order, place, name="place_order")
    assert placed.name == "place_order"
    assert placed.spec.description == "Place an order."
    assert placed.validate({"sku": "A1", "qty": "3"}) == {"sku": "A1", "qty": 3, "when": None}


def test_from_model_rejects_non_models() -> None:
    with pytest.raises(tw.ToolDefinitionError, match="pydantic model"):
        tw.Tool.from_model(dict, None)  # type: ignore[arg-type]
