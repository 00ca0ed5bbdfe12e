"""``OpenAIResponses``: OpenAI's Responses API through the official ``openai`` SDK.

Tools go out flat (``{"type": "function", "name", "parameters", "strict"}``), ``tool_choice`` as
``auto`` / ``required`` / ``none`` / ``{"type": "function", "name"}``, ``parallel_tool_calls``
as is. Streams are the SDK's typed events, assembled by
:class:`toolwire.dialects.responses.EventAssembler` (``function_call_arguments.delta`` pieces as
:class:`~toolwire.ArgumentsDelta` events). Results go back as ``function_call_output`` items
naming the call's ``call_id``. The client is stateless by default (``store=False``): it asks for
``reasoning.encrypted_content`` and echoes each turn's output items — reasoning included —
without their server ids, which an unstored response cannot resolve.
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
from toolwire.dialects.responses import EventAssembler, parse_response
from toolwire.models._base import Message, ModelOptions, ModelTurn, content_text
from toolwire.models._client import (
    EventStream,
    NativeClient,
    build_client,
    opened,
    same_calls,
    sse_data,
)
from toolwire.models._native import (
    as_mapping,
    calls_of,
    echo_of,
    int_field,
    system_text,
    tool_runs,
    unique_call_ids,
    usage,
    without_nulls,
)
from toolwire.models._transport import RetryPolicy, StreamError
from toolwire.models.openai_compatible import openai_errors

__all__ = ["OpenAIResponses"]

_INCOMPLETE = {"max_output_tokens": "length", "content_filter": "content_filter"}
# The ``code`` of an ``error`` event opening a stream -> the HTTP status it stands for.
_ERROR_CODES = {"rate_limit_exceeded": 429, "server_error": 500, "server_is_overloaded": 503}


def _import_openai() -> Any:
    try:
        return importlib.import_module("openai")
    except ImportError:
        raise MissingExtra("openai", "openai") from None


class OpenAIResponses(NativeClient):
    """A model behind the Responses API (``POST /v1/responses``).

    Example::

        model = OpenAIResponses(model="gpt-5-mini")               # key: OPENAI_API_KEY
        thinker = OpenAIResponses(model="o4-mini", reasoning={"effort": "medium"})
        result = await tw.Runner(model=model, tools=box).run("北京今天气温如何?")

    ``api_key=None`` lets the SDK read ``OPENAI_API_KEY`` (as it always does); ``base_url``
    includes ``/v1``. ``reasoning`` is the API's ``reasoning`` object as is. ``store=True`` lets
    the server keep responses (item ids are then echoed as they came). ``retries`` extra
    attempts on 429, 5xx and connection errors, full-jitter backoff honouring ``Retry-After``;
    the SDK's own retries are off.
    """

    echo_api = "responses"

    def __init__(
        self,
        *,
        model: str,
        api_key: str | None = None,
        base_url: str | None = None,
        reasoning: Mapping[str, Any] | None = None,
        store: bool = False,
        temperature: float | None = None,
        max_tokens: int | None = None,
        timeout: float = 60.0,
        retries: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        headers: Mapping[str, str] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        client: Any = None,
        name: str | None = None,
    ) -> None:
        openai = _import_openai()
        super().__init__(
            model=model,
            name=name,
            policy=RetryPolicy(retries=retries, backoff=backoff, max_backoff=max_backoff),
            errors=openai_errors(openai),
            client=client
            or build_client(
                lambda: openai.AsyncOpenAI(
                    api_key=api_key,
                    base_url=base_url,
                    timeout=timeout,
                    max_retries=0,
                    default_headers=dict(headers or {}),
                ),
                model=name or model,
                api_key=api_key,
                keys="OPENAI_API_KEY",
            ),
        )
        self.reasoning = dict(reasoning) if reasoning is not None else None
        self.store = store
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.extra_body = dict(extra_body or {})

    # --- ours -> wire ------------------------------------------------------------------

    def _map_request(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec], options: ModelOptions
    ) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "model": self.model,
            "input": _map_input(messages, stateless=not self.store),
            "store": self.store,
        }
        system = system_text(messages)
        if system:
            kwargs["instructions"] = system
        if not self.store:
            # Unstored reasoning can only come back as its encrypted content.
            kwargs["include"] = ["reasoning.encrypted_content"]
        if self.reasoning is not None:
            kwargs["reasoning"] = dict(self.reasoning)
        temperature = options.temperature if options.temperature is not None else self.temperature
        if temperature is not None:
            kwargs["temperature"] = temperature
        max_tokens = options.max_tokens or self.max_tokens
        if max_tokens is not None:
            kwargs["max_output_tokens"] = max_tokens
        if tools:
            kwargs["tools"] = export_specs(tools, "openai-responses")
            choice = options.tool_choice
            if choice in ("auto", "required", "none"):
                kwargs["tool_choice"] = choice
            else:
                names = wire_names([s.name for s in tools], "openai-responses")
                kwargs["tool_choice"] = {"type": "function", "name": names.get(choice, choice)}
            if not options.parallel_tool_calls:
                kwargs["parallel_tool_calls"] = False
        if self.extra_body:
            kwargs["extra_body"] = dict(self.extra_body)
        return kwargs

    async def _send(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        create = self._client.responses.with_streaming_response.create
        async with create(**_as_extra_body(kwargs)) as response:
            body = await response.read()
        data = _json.loads(body)
        return data if isinstance(data, dict) else {}

    async def _open(self, kwargs: dict[str, Any]) -> EventStream:
        return await opened(self._events(kwargs), check=_raise_error_event)

    async def _events(self, kwargs: dict[str, Any]) -> EventStream:
        """The stream's events as the JSON the server sent (no typed objects on the way)."""
        create = self._client.responses.with_streaming_response.create
        async with create(**_as_extra_body({**kwargs, "stream": True})) as response:
            async for event in sse_data(response.iter_lines()):
                yield event

    # --- wire -> ours ------------------------------------------------------------------

    def _parse(self, data: dict[str, Any]) -> Parsed:
        return parse_response(data)

    def _assembler(self) -> Assembler:
        return EventAssembler()

    def _process_turn(self, parsed: Parsed) -> ModelTurn:
        meta = parsed.metadata
        raw = meta.get("usage")
        status = meta.get("finish_reason")
        if status == "completed":
            finish: str | None = "tool_calls" if parsed.calls else "stop"
        elif status == "incomplete":
            why = as_mapping(meta.get("incomplete_details")).get("reason")
            finish = _INCOMPLETE.get(str(why), "length")
        else:
            finish = "error" if status in ("failed", "cancelled") else status
        return ModelTurn(
            parsed=parsed,
            usage=usage(
                prompt=int_field(raw, "input_tokens"),
                completion=int_field(raw, "output_tokens"),
                cache_read=int_field(as_mapping(raw).get("input_tokens_details"), "cached_tokens"),
                reasoning=int_field(
                    as_mapping(raw).get("output_tokens_details"), "reasoning_tokens"
                ),
            ),
            finish_reason=finish,
            model=str(meta.get("model") or self.model),
        )

    def _echo_items(self, parsed: Parsed) -> list[dict[str, Any]] | None:
        output = parsed.metadata.get("output")
        if not isinstance(output, list) or not output:
            return None
        ids = [i.get("call_id") or i.get("id") for i in output if i.get("type") == "function_call"]
        return without_nulls(output) if same_calls(parsed, ids) else None


def _as_extra_body(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The request as the SDK's ``extra_body``: it is wire JSON already, and the SDK's typed
    transform of ``input`` walks every echoed item recursively (about 40% of a streamed step
    on the benchmark's local server); auth, errors and timeouts stay the SDK's."""
    body = {k: v for k, v in kwargs.items() if k != "extra_body"}
    return {"extra_body": {**body, **kwargs.get("extra_body", {})}}


def _raise_error_event(event: dict[str, Any]) -> None:
    """An ``error`` event opening the stream stands for the HTTP status of its code."""
    if event.get("type") != "error":
        return
    code = str(event.get("code") or "")
    raise StreamError(
        f"{code or 'error'}: {event.get('message') or 'the stream opened with an error event'}",
        status=_ERROR_CODES.get(code, 400),
    )


def _map_input(messages: Sequence[Message], *, stateless: bool) -> list[dict[str, Any]]:
    """The tools-form history -> ``input`` items (system messages become ``instructions``)."""
    items: list[dict[str, Any]] = []
    for msg, results in tool_runs(unique_call_ids(messages)):
        if msg is None:
            items.extend(
                {
                    "type": "function_call_output",
                    "call_id": str(r.get("tool_call_id", "")),
                    "output": content_text(r.get("content")),
                }
                for r in results
            )
            continue
        role = msg.get("role")
        if role == "assistant":
            echoed = echo_of(msg, "responses")
            if echoed is not None:
                items.extend(_replayable(echoed) if stateless else echoed)
            else:
                items.extend(_map_assistant(msg))
        elif role == "user":
            items.append({"role": "user", "content": _map_user_content(msg.get("content"))})
    return items


def _replayable(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Output items as an unstored conversation can send them back: without server ids, and
    reasoning only when it carries its encrypted content."""
    out = []
    for item in items:
        if item.get("type") == "reasoning" and not item.get("encrypted_content"):
            continue
        out.append({k: v for k, v in item.items() if k != "id"})
    return out


def _map_assistant(msg: Message) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    text = content_text(msg.get("content"))
    if text:
        items.append({"role": "assistant", "content": text})
    items.extend(
        {"type": "function_call", "call_id": c.id, "name": c.name, "arguments": c.arguments}
        for c in calls_of(msg)
    )
    return items


def _map_user_content(content: Any) -> Any:
    if not isinstance(content, list):
        return content_text(content)
    parts: list[dict[str, Any]] = []
    for part in content:
        if not isinstance(part, dict):
            continue
        if part.get("type") == "text":
            parts.append({"type": "input_text", "text": str(part.get("text", ""))})
        elif part.get("type") == "image_url":
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, dict) else image
            if isinstance(url, str):
                parts.append({"type": "input_image", "image_url": url})
    return parts
