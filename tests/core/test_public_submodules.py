"""Pin ``__all__`` of every public submodule (``toolwire`` itself: test_exported_members.py).

A public module is one whose dotted path has no part starting with ``_`` (``toolwire.examples``
is sample code, not API). An export added or dropped by accident fails here; when it is
meant, change the pin with it. Every pinned name must resolve.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "toolwire"

PINS: dict[str, list[str]] = {
    "toolwire.cli": ["main"],
    "toolwire.config": [
        "Config",
        "ConfigError",
        "find_config",
        "load_config",
        "load_tools",
        "parse_config",
    ],
    "toolwire.dialects": [],
    "toolwire.dialects.anthropic": [
        "EventAssembler",
        "assistant_message",
        "followup_messages",
        "parse_response",
        "tool_result_block",
    ],
    "toolwire.dialects.gemini": [
        "ChunkAssembler",
        "followup_contents",
        "function_response_part",
        "model_content",
        "parse_response",
    ],
    "toolwire.dialects.openai": [
        "ChunkAssembler",
        "assistant_message",
        "followup_messages",
        "parse_response",
        "tool_message",
    ],
    "toolwire.dialects.responses": [
        "EventAssembler",
        "followup_items",
        "function_call_output",
        "parse_response",
    ],
    "toolwire.eval": ["Verdict", "ast_check", "standardize"],
    "toolwire.grammar": ["GrammarWarning", "Problem", "SYNTAXES", "build"],
    "toolwire.models": [
        "Anthropic",
        "Gemini",
        "MODEL_KINDS",
        "Message",
        "Model",
        "ModelError",
        "ModelEvent",
        "ModelKind",
        "ModelOptions",
        "ModelTurn",
        "Offline",
        "OpenAICompatible",
        "OpenAIResponses",
        "Scripted",
        "TurnDone",
    ],
    "toolwire.models.anthropic": ["Anthropic"],
    "toolwire.models.gemini": ["Gemini"],
    "toolwire.models.offline": ["Offline"],
    "toolwire.models.openai_compatible": ["OpenAICompatible", "retry_after"],
    "toolwire.models.openai_responses": ["OpenAIResponses"],
    "toolwire.models.scripted": ["Scripted", "ScriptedRequest", "to_turn"],
    "toolwire.observe": [
        "BreakerEvent",
        "CallRecord",
        "Metrics",
        "Observers",
        "Record",
        "Subscriber",
        "ToolMetrics",
        "UNKNOWN_TOOL",
        "get_metrics",
        "metrics_text",
        "tool_span",
        "tracing_active",
    ],
    "toolwire.packs": [],
    "toolwire.packs.sql": [
        "Limits",
        "PostgresDatabase",
        "SQLiteDatabase",
        "build_postgres",
        "check_read_only",
        "close_pools",
        "connect",
        "sample_database",
        "tools",
    ],
    "toolwire.packs.weather": [
        "CITIES",
        "City",
        "FORECAST_URL",
        "GEOCODING_URL",
        "WEATHER_CODES",
        "describe",
        "find_cities",
        "find_city",
        "tools",
    ],
    "toolwire.parsing": [
        "ALIASES",
        "CallShape",
        "FORMATS",
        "JsonArguments",
        "JsonObject",
        "Layout",
        "PythonicCall",
        "StreamParser",
        "TEXT_FORMATS",
        "TaggedParameters",
        "TextFormat",
        "parse",
        "text_format",
    ],
    "toolwire.parsing.apertus": ["Apertus", "FORMAT"],
    "toolwire.parsing.cohere_command": ["CohereCommand", "FORMAT"],
    "toolwire.parsing.deepseek_v3": ["DeepSeekV3", "FORMAT", "calls_section"],
    "toolwire.parsing.deepseek_v31": ["DeepSeekV31", "FORMAT"],
    "toolwire.parsing.deepseek_v32": ["DSML", "DeepSeekV32", "FORMAT", "dsml_tags"],
    "toolwire.parsing.deepseek_v4": ["DeepSeekV4", "FORMAT"],
    "toolwire.parsing.dots": ["Dots", "FORMAT"],
    "toolwire.parsing.functiongemma": ["FORMAT", "FunctionGemma"],
    "toolwire.parsing.gemma4": ["FORMAT", "Gemma4"],
    "toolwire.parsing.gigachat3": ["FORMAT", "GigaChat3"],
    "toolwire.parsing.gigachat35": ["FORMAT", "GigaChat35"],
    "toolwire.parsing.glm45": ["FORMAT", "Glm45", "TAGS", "glm_block"],
    "toolwire.parsing.glm47": ["FORMAT", "Glm47"],
    "toolwire.parsing.granite": ["FORMAT", "Granite"],
    "toolwire.parsing.granite_20b_fc": ["FORMAT", "Granite20bFc"],
    "toolwire.parsing.harmony": ["FORMAT", "Harmony"],
    "toolwire.parsing.hermes": ["FORMAT", "Hermes", "hermes_block"],
    "toolwire.parsing.hunyuan": ["FORMAT", "Hunyuan", "hunyuan_section"],
    "toolwire.parsing.inkling": ["FORMAT", "Inkling"],
    "toolwire.parsing.internlm": ["FORMAT", "InternLM", "internlm_action"],
    "toolwire.parsing.jamba": ["FORMAT", "Jamba", "jamba_block"],
    "toolwire.parsing.k2_horizon": ["FORMAT", "K2Horizon"],
    "toolwire.parsing.kimi_k2": ["FORMAT", "KimiK2", "kimi_section", "name_from_id"],
    "toolwire.parsing.kimi_k3": ["FORMAT", "KimiK3"],
    "toolwire.parsing.lfm2": ["FORMAT", "Lfm2"],
    "toolwire.parsing.llama3_json": ["FORMAT", "Llama3Json", "calls_joined"],
    "toolwire.parsing.longcat": ["FORMAT", "Longcat"],
    "toolwire.parsing.minicpm5": ["FORMAT", "MiniCPM5"],
    "toolwire.parsing.minimax_m2": ["FORMAT", "MinimaxM2"],
    "toolwire.parsing.minimax_m3": ["FORMAT", "MinimaxM3"],
    "toolwire.parsing.mistral": ["FORMAT", "Mistral", "mistral_calls"],
    "toolwire.parsing.muse": ["FORMAT", "Muse"],
    "toolwire.parsing.olmo3": ["FORMAT", "Olmo3"],
    "toolwire.parsing.phi4_mini": ["FORMAT", "Phi4Mini"],
    "toolwire.parsing.poolside_v1": ["FORMAT", "PoolsideV1"],
    "toolwire.parsing.pythonic": ["END", "FORMAT", "IDENT_START", "Pythonic", "START"],
    "toolwire.parsing.qwen3_coder": ["FORMAT", "Qwen3Coder", "qwen_block", "qwen_function"],
    "toolwire.parsing.seed_oss": ["FORMAT", "SeedOss"],
    "toolwire.parsing.solar_open2": ["FORMAT", "SolarOpen2"],
    "toolwire.parsing.step3": ["FORMAT", "Step3"],
    "toolwire.parsing.trinity": ["FORMAT", "Trinity"],
    "toolwire.parsing.xlam": ["FORMAT", "Xlam", "fenced_calls"],
    "toolwire.remote": [],
    "toolwire.remote.grpc": ["discover", "input_schema", "load", "output_schema"],
    "toolwire.remote.mcp": [
        "Session",
        "close_sessions",
        "discover",
        "load",
        "server_parameters",
        "session_of",
    ],
    "toolwire.remote.openapi": [
        "ApiKey",
        "Basic",
        "Bearer",
        "auth_from_config",
        "discover",
        "load",
    ],
    "toolwire.runner": [
        "ApprovalRequired",
        "CallQuarantined",
        "Route",
        "Router",
        "RunEvent",
        "RunFinished",
        "RunResult",
        "RunState",
        "Runner",
        "Scorer",
        "Step",
        "StepStarted",
        "StopReason",
        "filter_specs",
        "lexical_scores",
        "model_tool",
        "top_k",
    ],
    "toolwire.runtime": [
        "Breaker",
        "Cache",
        "Executor",
        "FallbackTool",
        "Policy",
        "RateLimit",
        "Retry",
        "TaskHandle",
        "TaskInfo",
        "TaskPage",
        "TaskUpdate",
        "Tasks",
        "UnknownTask",
        "backoff_delay",
        "check_policy",
        "effective_policy",
    ],
    "toolwire.schema": [
        "Docstring",
        "FunctionShape",
        "SchemaShapeError",
        "function_shape",
        "model_schema",
        "normalize_parameters",
        "normalize_schema",
        "normalize_type_name",
        "parse_docstring",
        "type_schema",
    ],
    "toolwire.serve": [],
    "toolwire.serve.grpc_client": ["GrpcToolClient", "error_from_rpc", "result_from_message"],
    "toolwire.state": [
        "Admission",
        "BREAKER_STATES",
        "BackendUnavailable",
        "BreakerConfig",
        "BreakerState",
        "CallPlan",
        "Claim",
        "Clearance",
        "IdemRecord",
        "MemoryBackend",
        "MemoryTaskStore",
        "NewTask",
        "Outcome",
        "RateDecision",
        "RedisTaskStore",
        "Settlement",
        "SlotStatus",
        "SlotWatch",
        "StateBackend",
        "Stop",
        "TaskEvent",
        "TaskKeyReused",
        "TaskLimitReached",
        "TaskProgress",
        "TaskRecord",
        "TaskStore",
        "Transition",
    ],
    "toolwire.state.memory": ["MemoryBackend"],
    "toolwire.state.redis": ["RedisBackend"],
}


def public_modules() -> list[str]:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        parts = path.relative_to(SRC.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if len(parts) == 1 or parts[1] == "examples":
            continue
        if not any(part.startswith("_") for part in parts[1:]):
            found.append(".".join(parts))
    return found


def test_every_public_submodule_is_pinned() -> None:
    assert sorted(public_modules()) == sorted(PINS)


@pytest.mark.parametrize("name", sorted(PINS))
def test_exports_are_pinned(name: str) -> None:
    module = importlib.import_module(name)
    assert hasattr(module, "__all__"), f"{name} has no __all__"
    assert sorted(module.__all__) == PINS[name]
    for export in module.__all__:
        assert getattr(module, export) is not None, f"{name}.{export}"
