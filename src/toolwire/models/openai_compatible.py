"""``OpenAICompatible``: any server speaking Chat Completions, through the official SDK.

OpenAI, vLLM, SGLang, Ollama, llama.cpp, LM Studio... chosen by ``base_url``. Three APIs:
``tools`` (``tools``/``tool_calls``), ``functions`` (the seed's legacy ``functions`` /
``function_call`` and ``role: "function"`` results) and ``text`` (tools written into the
prompt in the model family's format, calls parsed out of the raw reply). Requests are retried
on 429, 5xx and connection errors with exponential backoff that honours ``Retry-After``; the
SDK's own retries are switched off so that there is exactly one retry policy.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from toolwire._calls import CallFailed, ToolCall, ToolResult
from toolwire._errors import MissingExtra
from toolwire._retry_after import retry_after
from toolwire._spec import ToolSpec
from toolwire.dialects._export import export_specs
from toolwire.dialects._names import wire_names
from toolwire.dialects.openai import ChunkAssembler, parse_response
from toolwire.models._base import (
    Api,
    Message,
    Model,
    ModelError,
    ModelEvent,
    ModelOptions,
    ModelTurn,
    TurnDone,
)
from toolwire.models._client import cut_turn
from toolwire.models._constrain import check_constrain, constrain_request, refused
from toolwire.models._native import without_echo
from toolwire.models._prompts import prompt_format, rules_for
from toolwire.models._transport import (
    ErrorTable,
    Failure,
    RetryPolicy,
    StreamError,
    read_stream_error,
    send,
    status_failure,
    translate,
    transport_failure,
)

__all__ = ["OpenAICompatible", "retry_after"]


def _import_openai() -> Any:
    try:
        return importlib.import_module("openai")
    except ImportError:
        raise MissingExtra("openai", "openai") from None


def _import_parsing() -> Any:
    return importlib.import_module("toolwire.parsing")


class OpenAICompatible(Model):
    """A Chat Completions endpoint.

    Example::

        model = OpenAICompatible(model="qwen2.5-7b-instruct", base_url="http://localhost:8000/v1")
        legacy = OpenAICompatible(model="gpt-4", api_key=key, api="functions")   # the seed's API
        raw = OpenAICompatible(model="hermes-3", base_url=url, api="text", text_format="hermes")
        strict = OpenAICompatible(model="qwen3", base_url=url, api="text", constrain="vllm")

    ``constrain`` (``"vllm"``, ``"sglang"``, ``"llama.cpp"``, ``"ollama"``, ``"openai"``) sends
    a grammar from :mod:`toolwire.grammar` in the parameter that engine reads, so the model can
    write only valid calls (see :mod:`toolwire.models._constrain` and docs/grammar.md).

    ``retries`` counts extra attempts after the first; ``backoff`` doubles per attempt up to
    ``max_backoff`` (full jitter), and a ``Retry-After`` header wins when present (capped at
    ``max_backoff``). ``timeout`` bounds each request.
    """

    text_format: str = "hermes"

    def __init__(
        self,
        *,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        api: Api = "tools",
        text_format: str = "hermes",
        timeout: float = 60.0,
        retries: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        temperature: float | None = None,
        max_tokens: int | None = None,
        stream_usage: bool = True,
        headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        client: Any = None,
        name: str | None = None,
        constrain: str | None = None,
    ) -> None:
        openai = _import_openai()
        self.model = model
        self.api = api
        self.name = name or model
        self.text_format = text_format
        if api == "text":
            prompt_format(text_format)  # fail now, not at the first request
        if constrain is not None:
            check_constrain(constrain, api=api, text_format=text_format)
        self.constrain = constrain
        self.policy = RetryPolicy(retries=retries, backoff=backoff, max_backoff=max_backoff)
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.stream_usage = stream_usage
        self.extra_body = dict(extra_body or {})
        self._errors = openai_errors(openai)
        self._client = client or openai.AsyncOpenAI(
            base_url=base_url,
            api_key=api_key or "unused",  # local servers need none; the SDK insists on one
            timeout=timeout,
            max_retries=0,
            default_headers=dict(headers or {}),
        )

    async def aclose(self) -> None:
        """Close the HTTP connections (the model is unusable afterwards)."""
        await self._client.close()

    async def __aenter__(self) -> OpenAICompatible:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # --- requests ----------------------------------------------------------------------

    async def complete(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec], options: ModelOptions
    ) -> ModelTurn:
        kwargs = self._map_request(messages, tools, options)
        response = await self._send(kwargs)
        return self._process_response(_as_dict(response), tools)

    async def stream(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec], options: ModelOptions
    ) -> AsyncIterator[ModelEvent]:
        kwargs = self._map_request(messages, tools, options)
        kwargs["stream"] = True
        if self.stream_usage:
            kwargs["stream_options"] = {"include_usage": True}
        response = await self._send(kwargs)
        usage: dict[str, int] = {}
        finish: str | None = None
        model_name = self.model
        if self.api == "text":
            parser = _import_parsing().StreamParser(
                prompt_format(self.text_format).name, tools=_names(tools)
            )
            raw: list[str] = []
        else:
            assembler = ChunkAssembler()
        cut: str | None = None
        try:
            async for chunk in response:
                data = _as_dict(chunk)
                usage = _usage(data.get("usage")) or usage
                model_name = str(data.get("model") or model_name)
                if self.api != "text":
                    for event in assembler.feed(data):
                        yield event
                    continue
                for choice in data.get("choices") or ():
                    finish = choice.get("finish_reason") or finish
                    text = (choice.get("delta") or {}).get("content")
                    if text:
                        raw.append(text)
                        for event in parser.feed(text):
                            yield event
        except Exception as exc:
            if translate(self._errors, exc) is None:
                raise
            cut = f"the stream broke: {exc.__class__.__name__}: {exc}"
        if self.api == "text":
            for event in parser.close():
                yield event
            parsed = parser.result()
            turn = ModelTurn(
                parsed=parsed,
                usage=usage,
                finish_reason=finish,
                model=model_name,
                raw_text="".join(raw),
            )
        else:
            for event in assembler.close():
                yield event
            parsed = assembler.result()
            finish = parsed.metadata.get("finish_reason")
            turn = ModelTurn(parsed=parsed, usage=usage, finish_reason=finish, model=model_name)
        if cut is not None:
            turn = cut_turn(turn, cut)
            for failure in turn.parsed.errors[len(parsed.errors) :]:
                yield CallFailed(index=failure.index, error=failure)
        yield TurnDone(turn=turn)

    async def _send(self, kwargs: dict[str, Any]) -> Any:
        try:
            return await send(
                lambda: self._client.chat.completions.create(**kwargs),
                table=self._errors,
                policy=self.policy,
                model=self.name,
            )
        except ModelError as exc:
            if self.constrain is None:
                raise
            raise refused(exc, self.constrain) from exc

    # --- ours -> wire ------------------------------------------------------------------

    def _map_request(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec], options: ModelOptions
    ) -> dict[str, Any]:
        kwargs = self._map_plain(messages, tools, options)
        if self.constrain is not None and tools:
            constrain_request(
                kwargs,
                self.constrain,
                api=self.api,
                text_format=self.text_format,
                tools=tools,
                tool_choice=options.tool_choice,
                parallel=options.parallel_tool_calls,
            )
        return kwargs

    def _map_plain(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec], options: ModelOptions
    ) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"model": self.model, "messages": without_echo(messages)}
        temperature = options.temperature if options.temperature is not None else self.temperature
        if temperature is not None:
            kwargs["temperature"] = temperature
        max_tokens = options.max_tokens or self.max_tokens
        if max_tokens is not None:
            kwargs["max_tokens"] = max_tokens
        if self.extra_body:
            kwargs["extra_body"] = dict(self.extra_body)
        if not tools:
            return kwargs
        choice = options.tool_choice
        if self.api == "text":
            if choice != "none":
                fmt = prompt_format(self.text_format)
                kwargs["messages"] = _with_system(
                    messages,
                    fmt.tools_prompt(tools, rules_for(choice, options.parallel_tool_calls)),
                )
            return kwargs
        names = wire_names([s.name for s in tools])
        if self.api == "functions":
            kwargs["functions"] = export_specs(tools, "openai-functions")
            if choice in ("auto", "none"):
                kwargs["function_call"] = choice
            elif choice != "required":  # the legacy API cannot force "some" function
                kwargs["function_call"] = {"name": names.get(choice, choice)}
            return kwargs
        kwargs["tools"] = export_specs(tools, "openai")
        if choice in ("auto", "none", "required"):
            kwargs["tool_choice"] = choice
        else:
            kwargs["tool_choice"] = {
                "type": "function",
                "function": {"name": names.get(choice, choice)},
            }
        if not options.parallel_tool_calls:
            kwargs["parallel_tool_calls"] = False
        return kwargs

    def result_messages(
        self, turn: ModelTurn, results: Sequence[tuple[ToolCall, ToolResult]]
    ) -> list[Message]:
        if self.api != "text":
            return super().result_messages(turn, results)
        return [{"role": "user", "content": prompt_format(self.text_format).write_results(results)}]

    # --- wire -> ours ------------------------------------------------------------------

    def _process_response(self, data: dict[str, Any], tools: Sequence[ToolSpec]) -> ModelTurn:
        usage = _usage(data.get("usage"))
        model_name = str(data.get("model") or self.model)
        if self.api != "text":
            parsed = parse_response(data)
            reason = parsed.metadata.get("finish_reason")
            return ModelTurn(parsed=parsed, usage=usage, finish_reason=reason, model=model_name)
        choices = data.get("choices") or [{}]
        message = choices[0].get("message") or {}
        text = message.get("content") or ""
        parsed = _import_parsing().parse(
            text, format=prompt_format(self.text_format).name, tools=_names(tools)
        )
        return ModelTurn(
            parsed=parsed,
            usage=usage,
            finish_reason=choices[0].get("finish_reason"),
            model=model_name,
            raw_text=text,
        )


def openai_errors(openai: Any) -> ErrorTable:
    """The ``openai`` SDK's exceptions -> our failures (subclasses before their bases)."""
    httpx2 = importlib.import_module("httpx2")
    return (
        (openai.APIStatusError, lambda exc: status_failure(exc.status_code, exc.response.headers)),
        (openai.APITimeoutError, transport_failure("timeout")),
        (openai.APIConnectionError, transport_failure()),
        (StreamError, read_stream_error),
        # A stream's body breaking after its headers: the transport's own errors, unwrapped.
        (httpx2.TimeoutException, transport_failure("timeout")),
        (httpx2.TransportError, transport_failure()),
        (OSError, transport_failure()),
        # The base class last: an error the server reported inside a stream (``data.error``).
        (openai.APIError, lambda exc: Failure(kind="remote_error")),
    )


def _as_dict(obj: Any) -> dict[str, Any]:
    if isinstance(obj, dict):
        return obj
    dumped = obj.model_dump(exclude_unset=True) if hasattr(obj, "model_dump") else obj.to_dict()
    assert isinstance(dumped, dict)
    return dumped


def _usage(raw: Any) -> dict[str, int]:
    if not isinstance(raw, Mapping):
        return {}
    return {k: v for k, v in raw.items() if isinstance(v, int) and not isinstance(v, bool)}


def _names(tools: Sequence[ToolSpec]) -> list[str]:
    return [s.name for s in tools]


def _with_system(messages: Sequence[Message], text: str) -> list[Message]:
    out = [dict(m) for m in messages]
    if out and out[0].get("role") == "system":
        out[0]["content"] = f"{out[0].get('content') or ''}\n\n{text}".strip()
        return out
    return [{"role": "system", "content": text}, *out]
