"""Model clients: any OpenAI-compatible endpoint, an offline stand-in, a scripted test double.

``MODEL_KINDS`` names the clients the CLI and ``[models] kind = ...`` can build.

``OpenAICompatible`` imports the ``openai`` SDK only when it is built (extra ``openai``).
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
from toolwire.models.offline import Offline
from toolwire.models.openai_compatible import OpenAICompatible
from toolwire.models.scripted import Scripted

__all__ = [
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
    "Scripted",
    "TurnDone",
]
