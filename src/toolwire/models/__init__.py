"""Model clients: any OpenAI-compatible endpoint, Anthropic, Gemini and the OpenAI Responses
API natively, an offline stand-in, a scripted test double.

``MODEL_KINDS`` names the clients the CLI and ``[models] kind = ...`` can build. Each vendor
client imports its SDK only when it is built (extras ``openai``, ``anthropic``, ``gemini``).
"""

from toolwire.models._base import (
    Message,
    Model,
    ModelError,
    ModelEvent,
    ModelOptions,
    ModelTurn,
    TurnDone,
)
from toolwire.models._kinds import MODEL_KINDS, ModelKind
from toolwire.models.anthropic import Anthropic
from toolwire.models.gemini import Gemini
from toolwire.models.offline import Offline
from toolwire.models.openai_compatible import OpenAICompatible
from toolwire.models.openai_responses import OpenAIResponses
from toolwire.models.scripted import Scripted

__all__ = [
    "MODEL_KINDS",
    "Anthropic",
    "Gemini",
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
]
