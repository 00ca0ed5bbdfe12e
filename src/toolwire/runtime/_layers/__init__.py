"""The policy layers, and the fold that builds a tool's chain from the ones it uses.

Chain order, outermost first (DESIGN.md "Policy chain"): cache -> idempotency -> rate limit
-> breaker -> concurrency -> retry -> attempt (per-attempt timeout -> handler). On a shared
store (Redis) one layer, ``SharedStore``, takes the place of the four that keep state there
(and the store's part of the concurrency limit), so their decisions cost one round trip.

The chain is folded once per tool, when its plan is compiled, like Starlette builds its
middleware stack: each layer wraps the one after it, and a layer the policy does not use is
not in the chain at all. A new policy is one module with a ``Layer`` subclass and one entry
in ``CHAIN`` (and ``SHARED_CHAIN`` when it applies on a shared store too).
"""

from __future__ import annotations

from toolwire.runtime._layers.attempt import Attempt
from toolwire.runtime._layers.base import Layer
from toolwire.runtime._layers.breaker import CircuitBreaker
from toolwire.runtime._layers.cache import Caching
from toolwire.runtime._layers.concurrency import Concurrency
from toolwire.runtime._layers.idempotency import Idempotency
from toolwire.runtime._layers.rate_limit import RateLimiting
from toolwire.runtime._layers.retry import RetryLayer
from toolwire.runtime._layers.shared_store import SharedStore
from toolwire.runtime._plan import ToolPlan
from toolwire.runtime._services import Services

__all__ = ["CHAIN", "SHARED_CHAIN", "Layer", "fold"]

# outermost first; the attempt is always last
CHAIN: tuple[type[Layer], ...] = (
    Caching,
    Idempotency,
    RateLimiting,
    CircuitBreaker,
    Concurrency,
    RetryLayer,
)
SHARED_CHAIN: tuple[type[Layer], ...] = (SharedStore, Concurrency, RetryLayer)


def _fold(plan: ToolPlan, services: Services, keyed: bool) -> Layer:
    layers = SHARED_CHAIN if services.backend.shared else CHAIN
    layer: Layer = Attempt(None, plan, services)
    for cls in reversed(layers):
        if cls.applies(plan, keyed):
            layer = cls(layer, plan, services)
    return layer


def fold(plan: ToolPlan, services: Services) -> ToolPlan:
    """Build ``plan``'s two chains: for calls without and with an idempotency key."""
    plan.chain = _fold(plan, services, keyed=False)
    plan.keyed_chain = _fold(plan, services, keyed=True)
    return plan
