"""``Anthropic``: Claude through the Messages API and the official ``anthropic`` SDK.

Tools go out in Anthropic's dialect (``input_schema``), ``tool_choice`` as ``auto`` / ``any`` /
``none`` / ``tool`` with ``disable_parallel_tool_use`` for ``parallel_tool_calls=False``. Streams
are read as the raw SSE events the SDK decodes and assembled by
:class:`toolwire.dialects.anthropic.EventAssembler`: several ``tool_use`` blocks per turn, their
``input_json_delta`` pieces as :class:`~toolwire.ArgumentsDelta` events. Results go back as
``tool_result`` blocks (``tool_use_id``, ``is_error`` for failures) in one user message; the
assistant turn is echoed with its original blocks, so thinking blocks keep their signatures.
``cache=True`` marks the tools and the system prompt with ``cache_control`` (prompt caching).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from typing import Any

from toolwire import _json
from toolwire._calls import Parsed
from toolwire._errors import MissingExtra
from toolwire._spec import ToolSpec
from toolwire.dialects._export import export_specs
from toolwire.dialects._names import wire_names
from toolwire.dialects._stream import Assembler
from toolwire.dialects.anthropic import EventAssembler, parse_response
from toolwire.models._base import Message, ModelOptions, ModelTurn, content_text
from toolwire.models._client import EventStream, NativeClient, build_client, opened, same_calls
from toolwire.models._native import (
    append_turn,
    arguments_object,
    as_mapping,
    calls_of,
    echo_of,
    image_url,
    int_field,
    is_error_result,
    system_text,
    tool_runs,
    unique_call_ids,
    usage,
    without_nulls,
)
from toolwire.models._transport import (
    ErrorTable,
    RetryPolicy,
    StreamError,
    read_stream_error,
    status_failure,
    transport_failure,
)

__all__ = ["Anthropic"]

_FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "tool_use": "tool_calls",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "refusal": "content_filter",
    "pause_turn": "pause_turn",
}
# The ``error.type`` of an SSE ``error`` event -> the HTTP status it stands for.
_ERROR_TYPES = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}
_CACHE = {"type": "ephemeral"}


def _import(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtra(module, "anthropic") from None


class Anthropic(NativeClient):
    """Claude models through the Messages API.

    Example::

        model = Anthropic(model="claude-sonnet-4-5")            # key: ANTHROPIC_API_KEY
        thinker = Anthropic(model="claude-sonnet-4-5", thinking=2048, cache=True)
        result = await tw.Runner(model=model, tools=box).run("北京今天气温如何?")

    ``api_key=None`` lets the SDK read ``ANTHROPIC_API_KEY`` (as it always does); ``base_url``
    is the host root (the SDK adds ``/v1/messages``). ``thinking``: a token budget (extended
    thinking) or the SDK's ``thinking`` object as is. ``retries`` extra attempts on 429, 5xx,
    529 (overloaded) and connection errors, with full-jitter backoff from ``backoff`` doubling
    to ``max_backoff``, at least the ``Retry-After``; the SDK's own retries are off.
    """

    echo_api = "anthropic"

    def __init__(
        self,
        *,
        model: str,
        api_key: str | None = None,
        base_url: str | None = None,
        max_tokens: int = 4096,
        thinking: int | Mapping[str, Any] | None = None,
        cache: bool = False,
        temperature: float | None = None,
        timeout: float = 60.0,
        retries: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        client: Any = None,
        name: str | None = None,
    ) -> None:
        anthropic = _import("anthropic")
        super().__init__(
            model=model,
            name=name,
            policy=RetryPolicy(retries=retries, backoff=backoff, max_backoff=max_backoff),
            errors=_error_table(anthropic, _import("httpx2")),
            client=client
            or build_client(
                lambda: _sdk_client(
                    anthropic,
                    api_key=api_key,
                    base_url=base_url,
                    timeout=timeout,
                    max_retries=0,
                    default_headers=dict(headers or {}),
                ),
                model=name or model,
                api_key=api_key,
                keys="ANTHROPIC_API_KEY",
            ),
        )
        self.max_tokens = max_tokens
        if isinstance(thinking, int):
            thinking = {"type": "enabled", "budget_tokens": thinking}
        self.thinking = dict(thinking) if thinking is not None else None
        self.cache = cache
        self.temperature = temperature
        self.extra_body = dict(extra_body or {})
        self._stream_cls = anthropic.AsyncStream

    # --- ours -> wire ------------------------------------------------------------------

    def _map_request(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec], options: ModelOptions
    ) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "model": self.model,
            "max_tokens": options.max_tokens or self.max_tokens,
            "messages": _map_messages(messages),
        }
        system = system_text(messages)
        if system:
            block: dict[str, Any] = {"type": "text", "text": system}
            if self.cache:
                block["cache_control"] = dict(_CACHE)
            kwargs["system"] = [block]
        temperature = options.temperature if options.temperature is not None else self.temperature
        if temperature is not None:
            kwargs["temperature"] = temperature
        if self.thinking is not None:
            kwargs["thinking"] = dict(self.thinking)
        if tools:
            exported = export_specs(tools, "anthropic")
            assert isinstance(exported, list)
            if self.cache:
                # One breakpoint after the last tool caches every tool definition before it.
                exported[-1] = {**exported[-1], "cache_control": dict(_CACHE)}
            kwargs["tools"] = exported
            kwargs["tool_choice"] = _map_tool_choice(tools, options)
        if self.extra_body:
            kwargs["extra_body"] = dict(self.extra_body)
        return kwargs

    async def _send(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        # The raw JSON, not the SDK's typed objects: the dialect parser reads the wire's dicts.
        async with self._client.messages.with_streaming_response.create(**kwargs) as response:
            body = await response.read()
        data = _json.loads(body)
        return data if isinstance(data, dict) else {}

    async def _open(self, kwargs: dict[str, Any]) -> EventStream:
        return await opened(self._events(kwargs), check=_raise_error_event)

    async def _events(self, kwargs: dict[str, Any]) -> EventStream:
        """The stream's SSE events as JSON dicts (pings included: the assembler knows them)."""
        context = self._client.messages.with_streaming_response.create(**kwargs, stream=True)
        async with context as response:
            async for event in self._stream_cls.raw_events(response.http_response):
                if event.data:
                    data = _json.loads(event.data)
                    if isinstance(data, dict):
                        yield data

    # --- wire -> ours ------------------------------------------------------------------

    def _parse(self, data: dict[str, Any]) -> Parsed:
        return parse_response(data)

    def _assembler(self) -> Assembler:
        return EventAssembler()

    def _process_turn(self, parsed: Parsed) -> ModelTurn:
        meta = parsed.metadata
        raw = meta.get("usage")
        read = int_field(raw, "cache_read_input_tokens")
        write = int_field(raw, "cache_creation_input_tokens")
        fresh = int_field(raw, "input_tokens")
        prompt = None if fresh is None else fresh + (read or 0) + (write or 0)
        reason = meta.get("finish_reason")
        return ModelTurn(
            parsed=parsed,
            usage=usage(
                prompt=prompt,
                completion=int_field(raw, "output_tokens"),
                cache_read=read,
                cache_write=write,
            ),
            finish_reason=_FINISH.get(reason, reason) if isinstance(reason, str) else None,
            model=str(meta.get("model") or self.model),
        )

    def _echo_items(self, parsed: Parsed) -> list[dict[str, Any]] | None:
        blocks = parsed.metadata.get("content_blocks")
        if not isinstance(blocks, list) or not blocks:
            return None
        ids = [b.get("id") for b in blocks if b.get("type") == "tool_use"]
        return without_nulls(blocks) if same_calls(parsed, ids) else None


def _sdk_client(anthropic: Any, **options: Any) -> Any:
    client = anthropic.AsyncAnthropic(**options)
    if not any(getattr(client, k, None) for k in ("api_key", "auth_token", "credentials")):
        # The SDK would only say so at the first request, as a TypeError.
        raise ValueError("no Anthropic credentials were given or found")
    return client


def _error_table(anthropic: Any, httpx2: Any) -> ErrorTable:
    """The ``anthropic`` SDK's exceptions -> our failures (subclasses before their bases)."""
    return (
        (
            anthropic.APIStatusError,
            lambda exc: status_failure(exc.status_code, exc.response.headers),
        ),
        (anthropic.APITimeoutError, transport_failure("timeout")),
        (anthropic.APIConnectionError, transport_failure()),
        (StreamError, read_stream_error),
        # Reading a stream's body after its headers: the transport's own errors.
        (httpx2.TimeoutException, transport_failure("timeout")),
        (httpx2.TransportError, transport_failure()),
    )


def _raise_error_event(event: dict[str, Any]) -> None:
    """An ``error`` event opening the stream stands for the HTTP status of its type."""
    if event.get("type") != "error":
        return
    error = as_mapping(event.get("error"))
    kind = str(error.get("type") or "api_error")
    raise StreamError(
        f"{kind}: {error.get('message') or 'the stream opened with an error event'}",
        status=_ERROR_TYPES.get(kind, 500),
    )


def _map_tool_choice(tools: Sequence[ToolSpec], options: ModelOptions) -> dict[str, Any]:
    choice = options.tool_choice
    if choice == "none":
        return {"type": "none"}
    if choice == "auto":
        out: dict[str, Any] = {"type": "auto"}
    elif choice == "required":
        out = {"type": "any"}
    else:
        names = wire_names([s.name for s in tools], "anthropic")
        out = {"type": "tool", "name": names.get(choice, choice)}
    if not options.parallel_tool_calls:
        out["disable_parallel_tool_use"] = True
    return out


def _map_messages(messages: Sequence[Message]) -> list[dict[str, Any]]:
    """The tools-form history -> Messages API ``messages`` (system messages go apart)."""
    out: list[dict[str, Any]] = []
    for msg, results in tool_runs(unique_call_ids(messages)):
        if msg is None:
            append_turn(out, "user", "content", [_map_result(r) for r in results])
            continue
        role = msg.get("role")
        if role == "assistant":
            blocks = echo_of(msg, "anthropic")
            if blocks is None:
                blocks = _map_assistant(msg)
            if blocks:
                append_turn(out, "assistant", "content", blocks)
        elif role in ("user", "function"):
            blocks = _map_user_content(msg.get("content"))
            if blocks:
                append_turn(out, "user", "content", blocks)
    return out


def _map_assistant(msg: Message) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    text = content_text(msg.get("content"))
    if text:
        blocks.append({"type": "text", "text": text})
    blocks.extend(
        {"type": "tool_use", "id": c.id, "name": c.name, "input": arguments_object(c.arguments)}
        for c in calls_of(msg)
    )
    return blocks


def _map_result(msg: Message) -> dict[str, Any]:
    text = content_text(msg.get("content"))
    block: dict[str, Any] = {
        "type": "tool_result",
        "tool_use_id": str(msg.get("tool_call_id", "")),
        "content": text,
    }
    if is_error_result(text):
        block["is_error"] = True
    return block


def _map_user_content(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    blocks: list[dict[str, Any]] = []
    for part in content if isinstance(content, list) else ():
        if not isinstance(part, dict):
            continue
        if part.get("type") == "text" and part.get("text"):
            blocks.append({"type": "text", "text": str(part["text"])})
        elif part.get("type") == "image_url" and (found := image_url(part)) is not None:
            value, media = found
            source = (
                {"type": "base64", "media_type": media, "data": value}
                if media is not None
                else {"type": "url", "url": value}
            )
            blocks.append({"type": "image", "source": source})
    return blocks
