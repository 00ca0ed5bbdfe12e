"""``MODEL_KINDS``: every model client the CLI and ``toolwire.toml`` can name, one line each.

``toolwire chat --model KIND:MODEL`` and ``[models.NAME] kind = "KIND"`` pick a client here.
Each kind names its class by import path, so naming one never imports another's SDK, and says
which extra keyword options a ``[models.NAME]`` table may pass it. Adding a model client is its
module plus one line in ``MODEL_KINDS``.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from toolwire.models._base import Model

__all__ = ["MODEL_KINDS", "ModelKind"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelKind:
    """How to build one kind of model client from plain values.

    ``target`` is ``"module:Class"`` (imported by :meth:`load`). The class takes ``model``,
    ``base_url`` and ``api_key`` keywords (unless ``remote=False``: a client with no endpoint,
    such as ``Offline``, takes none of them), plus any of ``options``. ``key_env`` is the
    environment variable the CLI reads the API key from when the config names none.

    >>> MODEL_KINDS["openai-compatible"].load().__name__
    'OpenAICompatible'
    """

    target: str
    options: frozenset[str] = frozenset()
    key_env: str | None = None
    remote: bool = True

    def load(self) -> type[Model]:
        module, _, attr = self.target.partition(":")
        cls = getattr(importlib.import_module(module), attr)
        assert isinstance(cls, type) and issubclass(cls, Model), self.target
        return cls

    def build(
        self,
        *,
        model: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Model:
        """An instance; ``options`` outside :attr:`options` are a ``ValueError``."""
        extra = dict(options or {})
        unknown = sorted(set(extra) - self.options)
        if unknown:
            raise ValueError(
                f"{self.target.rpartition(':')[2]} takes no option {', '.join(unknown)}; "
                f"it takes: {', '.join(sorted(self.options)) or 'none'}"
            )
        kwargs: dict[str, Any] = dict(extra)
        if self.remote:
            kwargs.update(model=model or "default", base_url=base_url, api_key=api_key)
        return self.load()(**kwargs)


MODEL_KINDS: dict[str, ModelKind] = {
    "openai-compatible": ModelKind(
        target="toolwire.models.openai_compatible:OpenAICompatible",
        options=frozenset({"api", "text_format"}),
        key_env="OPENAI_API_KEY",
    ),
    "offline": ModelKind(
        target="toolwire.models.offline:Offline", options=frozenset({"api"}), remote=False
    ),
    # the native clients' SDKs read their own key variables when no key is given
    "anthropic": ModelKind(target="toolwire.models.anthropic:Anthropic"),
    "gemini": ModelKind(target="toolwire.models.gemini:Gemini"),
    "responses": ModelKind(target="toolwire.models.openai_responses:OpenAIResponses"),
}
"""Kind name -> :class:`ModelKind`: one line per client."""
