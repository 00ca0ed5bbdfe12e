"""The runtime: executes calls concurrently under policies (timeouts, retries, breakers,
caching, rate limits, idempotency), with state in memory or Redis."""

from toolwire.runtime._executor import Executor
from toolwire.runtime._policy import Breaker, Cache, FallbackTool, Policy, RateLimit, Retry
from toolwire.runtime._resolve import check_policy, effective_policy

__all__ = [
    "Breaker",
    "Cache",
    "Executor",
    "FallbackTool",
    "Policy",
    "RateLimit",
    "Retry",
    "check_policy",
    "effective_policy",
]
