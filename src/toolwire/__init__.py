"""toolwire: reliable function calling for language models.

Define a tool once, export it to every model dialect, parse calls from any model's output,
validate and execute them safely, and serve them over REST, gRPC and MCP.
"""

import importlib
from typing import TYPE_CHECKING, Any

from toolwire._calls import (
    ArgumentsDelta,
    CallFailed,
    CallFinished,
    CallParseError,
    CallStarted,
    ContentDelta,
    Parsed,
    ReasoningDelta,
    StepFinished,
    ToolCall,
    ToolResult,
    ToolResultEvent,
)
from toolwire._context import Caller, Context
from toolwire._errors import (
    ERROR_KINDS,
    ArgumentProblem,
    ErrorKind,
    InvalidArguments,
    MissingExtra,
    ToolDefinitionError,
    ToolError,
    ToolFailure,
    ToolwireError,
    UnknownTool,
)
from toolwire._spec import ToolAnnotations, ToolSpec
from toolwire._toolbox import Toolbox
from toolwire._tools import Tool, ToolOptions, tool
from toolwire._validate import Coercion, Validated
from toolwire.runtime._policy import Breaker, Cache, FallbackTool, Policy, RateLimit, Retry

if TYPE_CHECKING:
    from toolwire.runner import Route, Router, Runner, RunResult, RunState, model_tool
    from toolwire.runtime import Executor, TaskHandle, TaskInfo, Tasks

__version__ = "0.1.0"

# The loop and the executor are imported on first use so that ``import toolwire`` stays cheap
# for code that only defines, exports or validates tools (PEP 562).
_LAZY = {
    "Executor": "toolwire.runtime",
    "Route": "toolwire.runner",
    "Router": "toolwire.runner",
    "RunResult": "toolwire.runner",
    "RunState": "toolwire.runner",
    "Runner": "toolwire.runner",
    "TaskHandle": "toolwire.runtime",
    "TaskInfo": "toolwire.runtime",
    "Tasks": "toolwire.runtime",
    "model_tool": "toolwire.runner",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'toolwire' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


__all__ = [
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
    "Executor",
    "FallbackTool",
    "InvalidArguments",
    "MissingExtra",
    "Parsed",
    "Policy",
    "RateLimit",
    "ReasoningDelta",
    "Retry",
    "Route",
    "Router",
    "RunResult",
    "RunState",
    "Runner",
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
    "model_tool",
    "tool",
]
