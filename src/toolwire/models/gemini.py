"""``Gemini``: Google's Gemini models through the official ``google-genai`` SDK.

Tools go out as one ``functionDeclarations`` tool (Gemini's schema subset, from our exporter);
``tool_choice`` becomes the function-calling mode (``AUTO`` / ``ANY`` / ``NONE``, one tool as
``ANY`` with ``allowedFunctionNames``). Whole responses are read as the raw JSON the SDK
received; streamed chunks (each a whole ``GenerateContentResponse`` whose ``functionCall`` parts
arrive complete) are assembled by :class:`toolwire.dialects.gemini.ChunkAssembler`. Results go
back as ``functionResponse`` parts (with the call's ``id`` when Gemini gave one) in one user
content; the model's parts are echoed as they came, so thought signatures reach the next turn.
"""

from __future__ import annotations

import importlib
import traceback
from collections.abc import Mapping, Sequence
from typing import Any

from toolwire import _json
from toolwire._calls import CallParseError, Parsed, ToolResult
from toolwire._errors import MissingExtra
from toolwire._spec import ToolSpec
from toolwire.dialects._export import export_specs
from toolwire.dialects._names import wire_names
from toolwire.dialects._stream import Assembler
from toolwire.dialects.gemini import ChunkAssembler, function_response_part, parse_response
from toolwire.models._base import Message, ModelOptions, ModelTurn, content_text
from toolwire.models._client import EventStream, NativeClient, build_client, opened
from toolwire.models._native import (
    append_turn,
    arguments_object,
    as_mapping,
    call_names,
    calls_of,
    echo_of,
    image_url,
    int_field,
    result_value,
    system_text,
    tool_runs,
    usage,
)
from toolwire.models._transport import ErrorTable, RetryPolicy, status_failure, transport_failure

__all__ = ["Gemini"]

_FINISH = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
    "LANGUAGE": "content_filter",
    "MALFORMED_FUNCTION_CALL": "error",
    "UNEXPECTED_TOOL_CALL": "error",
    "OTHER": "stop",
    "FINISH_REASON_UNSPECIFIED": "stop",
}
_MODES = {"auto": "AUTO", "required": "ANY", "none": "NONE"}
# Google's documented stand-in for a function call that Gemini did not write itself (another
# model's turn, an older history): without any signature Gemini 3 rejects the request.
SKIP_SIGNATURE = "skip_thought_signature_validator"


def _import(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtra(module, "gemini") from None


class Gemini(NativeClient):
    """Gemini through the ``generateContent`` API.

    Example::

        model = Gemini(model="gemini-2.5-flash")           # key: GEMINI_API_KEY / GOOGLE_API_KEY
        thinker = Gemini(model="gemini-2.5-pro", thinking=1024)
        result = await tw.Runner(model=model, tools=box).run("北京今天气温如何?")

    ``api_key=None`` lets the SDK read ``GOOGLE_API_KEY`` or ``GEMINI_API_KEY`` (as it always
    does); ``base_url`` goes to the SDK's ``HttpOptions(base_url=...)``, ``api_version`` too
    (the SDK's default, ``v1beta``, when None). ``thinking``: a thinking budget in tokens (thought
    summaries included) or the SDK's ``thinking_config`` as is. ``retries`` extra attempts on
    408, 429, 5xx and connection errors with full-jitter backoff, at least the ``Retry-After``;
    the SDK's own retries stay off. Gemini has no switch for one call per turn, so
    ``parallel_tool_calls=False`` is not sent (the runner still runs the calls one at a time).
    """

    echo_api = "gemini"

    def __init__(
        self,
        *,
        model: str,
        api_key: str | None = None,
        base_url: str | None = None,
        api_version: str | None = None,
        thinking: int | Mapping[str, Any] | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        timeout: float = 60.0,
        retries: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        headers: Mapping[str, str] | None = None,
        client: Any = None,
        name: str | None = None,
    ) -> None:
        genai = _import("google.genai")
        options: dict[str, Any] = {"timeout": int(timeout * 1000), "retry_options": None}
        if base_url is not None:
            options["base_url"] = base_url
        if api_version is not None:
            options["api_version"] = api_version
        if headers:
            options["headers"] = dict(headers)
        super().__init__(
            model=model,
            name=name,
            policy=RetryPolicy(retries=retries, backoff=backoff, max_backoff=max_backoff),
            errors=_error_table(_import("google.genai.errors")),
            client=client
            or build_client(
                lambda: _sdk_client(genai, api_key, options),
                model=name or model,
                api_key=api_key,
                keys="GEMINI_API_KEY or GOOGLE_API_KEY",
            ),
        )
        if isinstance(thinking, int):
            thinking = {"thinking_budget": thinking, "include_thoughts": True}
        self.thinking = dict(thinking) if thinking is not None else None
        self.temperature = temperature
        self.max_tokens = max_tokens

    async def aclose(self) -> None:
        """Close the HTTP connections, the SDK's async and sync ones (the model is unusable
        afterwards)."""
        try:
            await self._client.aio.aclose()
        finally:
            self._client.close()

    # --- ours -> wire ------------------------------------------------------------------

    def _map_request(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec], options: ModelOptions
    ) -> dict[str, Any]:
        config: dict[str, Any] = {"automatic_function_calling": {"disable": True}}
        system = system_text(messages)
        if system:
            config["system_instruction"] = system
        temperature = options.temperature if options.temperature is not None else self.temperature
        if temperature is not None:
            config["temperature"] = temperature
        max_tokens = options.max_tokens or self.max_tokens
        if max_tokens is not None:
            config["max_output_tokens"] = max_tokens
        if self.thinking is not None:
            config["thinking_config"] = dict(self.thinking)
        if tools:
            config["tools"] = export_specs(tools, "gemini")
            config["tool_config"] = {"function_calling_config": _map_tool_choice(tools, options)}
        return {"model": self.model, "contents": _map_contents(messages), "config": config}

    async def _send(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        # The raw JSON the SDK received (its typed objects would only be dumped back to dicts).
        config = {**kwargs["config"], "should_return_http_response": True}
        response = await self._client.aio.models.generate_content(**{**kwargs, "config": config})
        body = response.sdk_http_response.body if response.sdk_http_response else None
        data = _json.loads(body) if body else {}
        return data if isinstance(data, dict) else {}

    async def _open(self, kwargs: dict[str, Any]) -> EventStream:
        # The SDK sends the request when the stream is first read: read it in the retry loop.
        return await opened(self._chunks(kwargs))

    async def _chunks(self, kwargs: dict[str, Any]) -> EventStream:
        """The SDK's typed chunks as the REST JSON spelling the dialect reads."""
        chunks = await self._client.aio.models.generate_content_stream(**kwargs)
        try:
            async for chunk in chunks:
                yield chunk.model_dump(mode="json", by_alias=True, exclude_none=True)
        finally:
            await chunks.aclose()

    # --- wire -> ours ------------------------------------------------------------------

    def _parse(self, data: dict[str, Any]) -> Parsed:
        return parse_response(data)

    def _assembler(self) -> Assembler:
        return ChunkAssembler()

    def _process_turn(self, parsed: Parsed) -> ModelTurn:
        meta = parsed.metadata
        raw = meta.get("usage")
        answer = int_field(raw, "candidatesTokenCount", "candidates_token_count")
        thoughts = int_field(raw, "thoughtsTokenCount", "thoughts_token_count")
        completion = (
            None if answer is None and thoughts is None else (answer or 0) + (thoughts or 0)
        )
        reason = meta.get("finish_reason")
        finish = _FINISH.get(reason, reason.lower()) if isinstance(reason, str) else None
        if finish == "stop" and parsed.calls:
            finish = "tool_calls"
        if reason == "MALFORMED_FUNCTION_CALL" and not parsed.calls:
            parsed = _malformed(parsed)
        return ModelTurn(
            parsed=parsed,
            usage=usage(
                prompt=int_field(raw, "promptTokenCount", "prompt_token_count"),
                completion=completion,
                cache_read=int_field(raw, "cachedContentTokenCount", "cached_content_token_count"),
                reasoning=thoughts,
            ),
            finish_reason=finish,
            model=str(meta.get("model") or self.model),
        )

    def _echo_items(self, parsed: Parsed) -> list[dict[str, Any]] | None:
        parts = parsed.metadata.get("parts")
        if not isinstance(parts, list) or not parts:
            return None
        names = [as_mapping(_call_of(p)).get("name") for p in parts if _call_of(p) is not None]
        if names != [c.name for c in parsed.calls]:
            return None
        # Unsigned thought summaries and empty text tell the model nothing on the way back.
        kept = [p for p in parts if _signed(p) or not (p.get("thought") or p.get("text") == "")]
        return kept or None


def _sdk_client(genai: Any, api_key: str | None, options: dict[str, Any]) -> Any:
    """``genai.Client``; when it refuses (no key, bad options) its half-built API client is
    defused and dropped at once. Left alone, that object lives on in the error's frames until
    some later garbage collection, whose ``__del__`` then schedules the SDK's ``aclose`` into
    whatever event loop is running by then, where it fails on the clients it never got."""
    try:
        return genai.Client(api_key=api_key, http_options=genai.types.HttpOptions(**options))
    except Exception as exc:
        half_built = _import("google.genai._api_client").BaseApiClient
        for frame, _ in traceback.walk_tb(exc.__traceback__):
            local = frame.f_locals  # a snapshot, kept by the frame: emptied below
            if isinstance(local.get("self"), half_built):
                # what the SDK's close/aclose read, as "nothing to close"
                nothing = {
                    "_http_options": genai.types.HttpOptions(),
                    "_httpx_client": None,
                    "_async_httpx_client": None,
                    "_authorized_session": None,
                    "_aiohttp_sessions": {},
                }
                for attr, value in nothing.items():
                    vars(local["self"]).setdefault(attr, value)
                local.clear()
        traceback.clear_frames(exc.__traceback__)  # the SDK's locals go now, not at a later GC
        raise


def _error_table(errors: Any) -> ErrorTable:
    """The ``google-genai`` SDK's exceptions -> our failures (its transport is aiohttp when
    installed, httpx2 otherwise; both kinds of transport error are listed)."""
    table: list[Any] = [
        (errors.APIError, lambda exc: status_failure(exc.code, _headers(exc.response))),
    ]
    for module, timeout, transport in (
        ("aiohttp", "ServerTimeoutError", "ClientError"),
        ("httpx2", "TimeoutException", "TransportError"),
    ):
        try:
            found = importlib.import_module(module)
        except ImportError:  # pragma: no cover - one of them comes with the SDK
            continue
        table.append((getattr(found, timeout), transport_failure("timeout")))
        table.append((getattr(found, transport), transport_failure()))
    table.append((TimeoutError, transport_failure("timeout")))
    return tuple(table)


def _headers(response: Any) -> dict[str, str]:
    headers = getattr(response, "headers", None)
    return {str(k): str(v) for k, v in headers.items()} if isinstance(headers, Mapping) else {}


def _signed(part: dict[str, Any]) -> bool:
    return bool(part.get("thoughtSignature") or part.get("thought_signature"))


def _call_of(part: dict[str, Any]) -> Any:
    return part.get("functionCall", part.get("function_call"))


def _malformed(parsed: Parsed) -> Parsed:
    """A call Gemini could not write: quarantined, so the model is asked to call again."""
    error = CallParseError(
        message="Gemini reported a malformed function call (finishReason MALFORMED_FUNCTION_CALL)",
        raw=str(parsed.metadata.get("finish_message") or parsed.content),
    )
    return Parsed(
        content=parsed.content,
        calls=parsed.calls,
        errors=(*parsed.errors, error),
        reasoning=parsed.reasoning,
        metadata=parsed.metadata,
    )


def _map_tool_choice(tools: Sequence[ToolSpec], options: ModelOptions) -> dict[str, Any]:
    choice = options.tool_choice
    if choice in _MODES:
        return {"mode": _MODES[choice]}
    names = wire_names([s.name for s in tools], "gemini")
    return {"mode": "ANY", "allowed_function_names": [names.get(choice, choice)]}


def _map_contents(messages: Sequence[Message]) -> list[dict[str, Any]]:
    """The tools-form history -> ``contents`` (system messages go to the config)."""
    # Ids Gemini did not give repeat across turns (toolwire_call_0...): a result takes its
    # name from the turn just before it first, from any turn only when that one lacks it.
    anywhere = call_names(messages)
    names: dict[str, str] = {}
    out: list[dict[str, Any]] = []
    for msg, results in tool_runs(messages):
        if msg is None:
            append_turn(
                out, "user", "parts", [_map_result(r, {**anywhere, **names}) for r in results]
            )
            continue
        role = msg.get("role")
        if role == "assistant":
            names = {c.id: c.name for c in calls_of(msg)}
            parts = echo_of(msg, "gemini")
            if parts is None:
                parts = _map_model_parts(msg)
            if parts:
                append_turn(out, "model", "parts", parts)
        elif role == "user":
            parts = _map_user_parts(msg.get("content"))
            if parts:
                append_turn(out, "user", "parts", parts)
    return out


def _map_model_parts(msg: Message) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    text = content_text(msg.get("content"))
    if text:
        parts.append({"text": text})
    for n, call in enumerate(calls_of(msg)):
        part: dict[str, Any] = {
            "functionCall": {"name": call.name, "args": arguments_object(call.arguments)}
        }
        if n == 0:
            part["thoughtSignature"] = SKIP_SIGNATURE
        parts.append(part)
    return parts


def _map_result(msg: Message, names: Mapping[str, str]) -> dict[str, Any]:
    call_id = str(msg.get("tool_call_id", ""))
    text = content_text(msg.get("content"))
    # The text decoded back to its value: an error's text is already {"error": {...}}.
    result = ToolResult(
        call_id=call_id,
        name=names.get(call_id, str(msg.get("name") or "tool")),
        ok=True,
        value=result_value(text),
    )
    return function_response_part(result)


def _map_user_parts(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"text": content}] if content else []
    parts: list[dict[str, Any]] = []
    for item in content if isinstance(content, list) else ():
        if not isinstance(item, dict):
            continue
        if item.get("type") == "text" and item.get("text"):
            parts.append({"text": str(item["text"])})
        elif item.get("type") == "image_url" and (found := image_url(item)) is not None:
            value, media = found
            if media is not None:
                parts.append({"inlineData": {"mimeType": media, "data": value}})
            else:
                parts.append({"fileData": {"fileUri": value}})
    return parts
