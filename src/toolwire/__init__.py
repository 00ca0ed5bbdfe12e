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
from toolwire._toolbox import Toolbox
from toolwire._tools import Tool, ToolOptions, tool
from toolwire._validate import Coercion, Validated
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
