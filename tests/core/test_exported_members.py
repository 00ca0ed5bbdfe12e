"""Pin the public names of ``toolwire`` (add a name here when you add it to ``__all__``)."""

import toolwire

EXPECTED = [
    "model_tool",
    "Runner",
    "RunState",
    "RunResult",
    "Router",
    "Route",
    "Executor",
    "ERROR_KINDS",
    "ArgumentProblem",
    "ArgumentsDelta",
    "Breaker",
    "Cache",
    "CallFailed",
    "CallFinished",
    "CallParseError",
    "CallStarted",
    "Caller",
    "Coercion",
    "ContentDelta",
    "Context",
    "ErrorKind",
    "FallbackTool",
    "InvalidArguments",
    "MissingExtra",
    "Parsed",
    "Policy",
    "RateLimit",
    "ReasoningDelta",
    "Retry",
    "StepFinished",
    "TaskHandle",
    "TaskInfo",
    "Tasks",
    "Tool",
    "ToolAnnotations",
    "ToolCall",
    "ToolDefinitionError",
    "ToolError",
    "ToolFailure",
    "ToolOptions",
    "ToolResult",
    "ToolResultEvent",
    "ToolSpec",
    "Toolbox",
    "ToolwireError",
    "UnknownTool",
    "Validated",
    "__version__",
    "tool",
]


def test_all_is_pinned() -> None:
    assert sorted(toolwire.__all__) == sorted(EXPECTED)


def test_every_exported_name_exists_and_is_public() -> None:
    for name in toolwire.__all__:
        member = getattr(toolwire, name)
        module = getattr(member, "__module__", None)
        if module is not None and isinstance(member, type):
            assert module.startswith("toolwire"), name


def test_all_has_no_duplicates() -> None:
    assert len(toolwire.__all__) == len(set(toolwire.__all__))


def test_lazy_names_are_not_imported_until_used() -> None:
    import subprocess
    import sys

    code = (
        "import sys, toolwire as tw; "
        "assert 'toolwire.runner' not in sys.modules; "
        "assert tw.Runner.__name__ == 'Runner'; "
        "assert 'toolwire.runner' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_grammar_surface_is_pinned() -> None:
    import toolwire.grammar

    assert toolwire.grammar.__all__ == ["SYNTAXES", "GrammarWarning", "Problem", "build"]
