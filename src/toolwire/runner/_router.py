"""``Router``: choose the model per request by rules, fall back to the next one on failure."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field, replace

from toolwire._spec import ToolSpec
from toolwire.models._base import (
    Api,
    Message,
    Model,
    ModelError,
    ModelEvent,
    ModelOptions,
    ModelTurn,
    TurnDone,
    last_user_text,
)
from toolwire.models._history import convert_history
from toolwire.models._ngrams import is_cjk


@dataclass(frozen=True, slots=True, kw_only=True)
class Route:
    """A model and what it is good for.

    ``capabilities``: e.g. ``{"tools", "code", "vision", "long_context"}``; ``languages``:
    language codes it serves well (empty: any); ``cost``: relative price, cheaper first.
    """

    model: Model
    capabilities: frozenset[str] = frozenset({"tools"})
    languages: frozenset[str] = frozenset()
    cost: float = 1.0


@dataclass(slots=True)
class Attempt:
    model: str
    error: str | None = None


@dataclass(slots=True)
class _Log:
    attempts: list[Attempt] = field(default_factory=list)


class Router(Model):
    """A model that delegates each request to the first suitable route, cheapest first.

    A route is suitable when it has every capability the request needs (``tools`` when
    tools are offered, plus ``require``) and serves the request's language (``zh`` when the
    last user message contains Chinese, else ``en``). When the chosen model fails with a
    :class:`ModelError` the next suitable one is tried. ``last_attempts`` records what happened.

    Routes may speak different APIs (``tools``, legacy ``functions``, ``text``): the router
    writes the history in the tools form whichever route answered, and converts it to a
    route's own form (:func:`~toolwire.models._history.convert_history`) just before asking
    that route, so a fallback model continues the same conversation.

    Example::

        router = tw.Router([
            Route(model=qwen, languages=frozenset({"zh"}), cost=0.2),
            Route(model=gpt, capabilities=frozenset({"tools", "code"}), cost=1.0),
        ])
        runner = tw.Runner(model=router, tools=box)
    """

    name = "router"
    # The history's one form; routes on other APIs get a converted copy per request.
    api: Api = "tools"

    def __init__(
        self, routes: Sequence[Route | Model], *, require: Iterable[str] = (), fallback: bool = True
    ) -> None:
        self.routes = [r if isinstance(r, Route) else Route(model=r) for r in routes]
        if not self.routes:
            raise ValueError("a Router needs at least one route")
        self.require = frozenset(require)
        self.fallback = fallback
        self.last_attempts: list[Attempt] = []

    def candidates(self, messages: Sequence[Message], tools: Sequence[ToolSpec]) -> list[Route]:
        """The routes suitable for this request, in the order they will be tried."""
        need = set(self.require)
        if tools:
            need.add("tools")
        language = "zh" if is_cjk(last_user_text(messages)) else "en"
        fit = [
            r
            for r in self.routes
            if need <= r.capabilities and (not r.languages or language in r.languages)
        ]
        if not fit:
            fit = [r for r in self.routes if need <= r.capabilities] or list(self.routes)
        return sorted(fit, key=lambda r: r.cost)

    async def complete(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec], options: ModelOptions
    ) -> ModelTurn:
        self.last_attempts = []
        errors: list[str] = []
        routes = self.candidates(messages, tools)
        for route in routes if self.fallback else routes[:1]:
            attempt = Attempt(model=route.model.describe())
            self.last_attempts.append(attempt)
            try:
                history = self._history_for(route.model, messages)
                return _written_by(await route.model.complete(history, tools, options), route.model)
            except ModelError as exc:
                attempt.error = str(exc)
                errors.append(f"{attempt.model}: {exc}")
        raise ModelError("every routed model failed: " + "; ".join(errors), model=self.name)

    async def stream(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec], options: ModelOptions
    ) -> AsyncIterator[ModelEvent]:
        self.last_attempts = []
        errors: list[str] = []
        routes = self.candidates(messages, tools)
        for route in routes if self.fallback else routes[:1]:
            attempt = Attempt(model=route.model.describe())
            self.last_attempts.append(attempt)
            started = False
            try:
                history = self._history_for(route.model, messages)
                async for event in route.model.stream(history, tools, options):
                    started = True
                    if isinstance(event, TurnDone):
                        yield TurnDone(turn=_written_by(event.turn, route.model))
                        return
                    yield event
            except ModelError as exc:
                if started:
                    raise  # events already went out; switching models now would mix answers
                attempt.error = str(exc)
                errors.append(f"{attempt.model}: {exc}")
        raise ModelError("every routed model failed: " + "; ".join(errors), model=self.name)

    def assistant_messages(self, turn: ModelTurn) -> list[Message]:
        # The model that answered writes its turn: a native client keeps what its API needs
        # echoed (thinking signatures...) on the tools-form message; other routes ignore it.
        writer = turn.parsed.metadata.get(_WRITER)
        if isinstance(writer, Model) and writer.api == "tools":
            return writer.assistant_messages(turn)
        return super().assistant_messages(turn)

    @staticmethod
    def _history_for(model: Model, messages: Sequence[Message]) -> Sequence[Message]:
        """``messages`` in ``model``'s form; a history it cannot be given fails this route."""
        if model.api == "tools":
            return messages
        try:
            return convert_history(messages, model.api, text_format=model.text_format)
        except ValueError as exc:
            raise ModelError(
                f"the history cannot be written for {model.describe()} ({model.api}): {exc}",
                kind="invalid_arguments",
                model=model.describe(),
            ) from exc

    def describe(self) -> str:
        chosen = next((a.model for a in reversed(self.last_attempts) if a.error is None), None)
        return f"router -> {chosen}" if chosen else "router"


_WRITER = "router_writer"


def _written_by(turn: ModelTurn, model: Model) -> ModelTurn:
    """``turn`` marked with the model that answered, for :meth:`Router.assistant_messages`."""
    metadata = {**turn.parsed.metadata, _WRITER: model}
    return replace(turn, parsed=replace(turn.parsed, metadata=metadata))
