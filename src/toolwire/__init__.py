"""toolwire: reliable function calling for language models.

Define a tool once, export it to every model dialect, parse calls from any model's output,
validate and execute them safely, and serve them over REST, gRPC and MCP.
"""

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
from toolwire.runtime._policy import Breaker, Cache, FallbackTool, Policy, RateLimit, Retry

__version__ = "0.1.0"

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
    "ToolAnnotations",
    "ToolCall",
    "ToolDefinitionError",
    "ToolError",
    "ToolFailure",
    "ToolResult",
    "ToolResultEvent",
    "ToolSpec",
    "ToolwireError",
    "UnknownTool",
    "__version__",
]
