"""The model <-> tool loop: ``Runner``, ``Router``, ``model_tool`` and the run records."""

from toolwire.runner._events import (
    ApprovalRequired,
    CallQuarantined,
    RunEvent,
    RunFinished,
    RunResult,
    Step,
    StepStarted,
    StopReason,
)
from toolwire.runner._model_tool import model_tool
from toolwire.runner._router import Route, Router
from toolwire.runner._runner import Runner
from toolwire.runner._select import Scorer, filter_specs, lexical_scores, top_k
from toolwire.runner._state import RunState

__all__ = [
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
]
