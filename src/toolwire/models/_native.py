"""What the native clients (Anthropic, Gemini, Responses) share about the runner's history.

The runner keeps one history in the Chat Completions form (assistant ``tool_calls``,
``role: "tool"`` results keyed by call id), so a :class:`~toolwire.Router` can hand it to any
route. A native client converts it to its API's form per request. What that form cannot
carry — Anthropic thinking blocks and their signatures, Gemini parts with thought signatures,
Responses reasoning items with encrypted content — rides on the assistant message under
:data:`ECHO_KEY`, tagged with the API it belongs to: the client of that API echoes it
verbatim, every other client rebuilds the turn from ``tool_calls`` (``OpenAICompatible`` drops
the key before sending). The value is plain JSON, so a paused run's state keeps it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from toolwire import _json
from toolwire._calls import ToolCall
from toolwire._errors import ERROR_KINDS
from toolwire.models._base import Message, ModelTurn, assistant_messages, content_text

ECHO_KEY = "toolwire_echo"
"""Assistant-message key: ``{"api": "anthropic" | "gemini" | "responses", "items": [...]}``."""


def with_echo(turn: ModelTurn, api: str, items: list[dict[str, Any]] | None) -> list[Message]:
    """The tools-form assistant message for ``turn``, carrying ``items`` for ``api``."""
    messages = assistant_messages(turn, "tools")
    if items:
        messages[0][ECHO_KEY] = {"api": api, "items": list(items)}
    return messages


def without_nulls(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Response items as request items: a field a response sets to null (``caller``,
    ``citations``, ``status``) is one the request must leave out, not send as null."""
    return [{k: v for k, v in item.items() if v is not None} for item in items]


def echo_of(message: Message, api: str) -> list[dict[str, Any]] | None:
    """The items ``api`` left on ``message``, or None (another API's turn, or none kept)."""
    echo = message.get(ECHO_KEY)
    if isinstance(echo, Mapping) and echo.get("api") == api and isinstance(echo.get("items"), list):
        return [item for item in echo["items"] if isinstance(item, dict)]
    return None


def without_echo(messages: Sequence[Message]) -> list[Message]:
    """``messages`` as an API that knows nothing of :data:`ECHO_KEY` must receive them."""
    if not any(ECHO_KEY in m for m in messages):
        return list(messages)
    return [{k: v for k, v in m.items() if k != ECHO_KEY} for m in messages]


def calls_of(message: Message) -> list[ToolCall]:
    """The calls of a tools-form assistant message (arguments as JSON text)."""
    calls = []
    for n, wire in enumerate(message.get("tool_calls") or ()):
        wire = as_mapping(wire)
        fn = as_mapping(wire.get("function"))
        arguments = fn.get("arguments")
        if not isinstance(arguments, str):
            arguments = _json.dumps(arguments if arguments is not None else {})
        calls.append(
            ToolCall(
                id=str(wire.get("id") or f"call_{n}"),
                name=str(fn.get("name") or ""),
                arguments=arguments or "{}",
            )
        )
    return calls


def unique_call_ids(messages: Sequence[Message]) -> Sequence[Message]:
    """``messages`` with every call id used once: a later turn reusing an id (Gemini's
    id-less calls are ``toolwire_call_<n>`` in every turn) gets ``<id>_<position>``, and so do
    its results. APIs that link results by id (Anthropic, Responses) need them distinct; a
    history without repeats comes back as it is."""
    seen: set[str] = set()
    out: list[Message] | None = None
    renames: dict[str, str] = {}
    for position, msg in enumerate(messages):
        role = msg.get("role")
        if role == "assistant" and msg.get("tool_calls"):
            renames = {}
            wires = []
            for wire in msg["tool_calls"]:
                call_id = as_mapping(wire).get("id")
                if isinstance(call_id, str) and call_id in seen:
                    renames[call_id] = f"{call_id}_{position}"
                    wire = {**wire, "id": renames[call_id]}
                seen.add(str(as_mapping(wire).get("id")))
                wires.append(wire)
            if renames:
                out = out if out is not None else list(messages)
                # The echo (if any) names the old ids: the turn is rebuilt from its calls.
                out[position] = {
                    **{k: v for k, v in msg.items() if k != ECHO_KEY},
                    "tool_calls": wires,
                }
        elif role == "tool" and msg.get("tool_call_id") in renames:
            out = out if out is not None else list(messages)
            out[position] = {**msg, "tool_call_id": renames[str(msg["tool_call_id"])]}
    return out if out is not None else messages


def call_names(messages: Sequence[Message]) -> dict[str, str]:
    """Call id -> tool name, over every assistant turn (Gemini answers results by name)."""
    names: dict[str, str] = {}
    for msg in messages:
        if msg.get("role") == "assistant":
            for call in calls_of(msg):
                names[call.id] = call.name
    return names


def arguments_object(text: str) -> dict[str, Any]:
    """A call's arguments as the object Anthropic ``input`` / Gemini ``args`` want."""
    try:
        value = _json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def is_error_result(text: str) -> bool:
    """Whether a tool message's text is toolwire's error envelope (``ToolResult.as_text``).

    The model reads the same text either way, so flagging it from the text is exact for what
    the model sees; it also survives routers, paused runs and stored histories.
    """
    if not text.startswith('{"error"'):
        return False
    try:
        value = _json.loads(text)
    except ValueError:
        return False
    if not isinstance(value, dict) or set(value) != {"error"}:
        return False
    error = value["error"]
    return isinstance(error, dict) and error.get("kind") in ERROR_KINDS and "message" in error


def result_value(text: str) -> Any:
    """A tool message's text decoded back to the value it was written from."""
    try:
        return _json.loads(text)
    except ValueError:
        return text


def system_text(messages: Sequence[Message]) -> str:
    """The system (and developer) messages joined, for APIs that take them apart."""
    return "\n\n".join(
        content_text(m.get("content"))
        for m in messages
        if m.get("role") in ("system", "developer") and m.get("content")
    )


def tool_runs(messages: Sequence[Message]) -> Iterator[tuple[Message | None, list[Message]]]:
    """Each message, with consecutive ``role: "tool"`` messages grouped: (message, []) or
    (None, [tool messages]) — the APIs here take a turn's results in one message."""
    pending: list[Message] = []
    for msg in messages:
        if msg.get("role") == "tool":
            pending.append(msg)
            continue
        if pending:
            yield None, pending
            pending = []
        yield msg, []
    if pending:
        yield None, pending


def append_turn(
    out: list[dict[str, Any]], role: str, key: str, items: list[dict[str, Any]]
) -> None:
    """Add a turn's ``items`` under ``key``, joining the turn before it when it has the same
    role: the APIs want user and model turns to alternate, so a note after the results (or
    two user messages in a row) joins the message before it, results first."""
    if out and out[-1]["role"] == role:
        out[-1][key].extend(items)
    else:
        out.append({"role": role, key: list(items)})


def image_url(part: Mapping[str, Any]) -> tuple[str, str | None] | None:
    """An ``image_url`` content part as (url, None), or (base64 data, media type) for a
    ``data:`` URL; None when the part holds no URL."""
    image = part.get("image_url")
    url = image.get("url") if isinstance(image, Mapping) else image
    if not isinstance(url, str):
        return None
    if url.startswith("data:") and ";base64," in url:
        media, data = url[5:].split(";base64,", 1)
        return data, media
    return url, None


def usage(
    *,
    prompt: int | None,
    completion: int | None,
    cache_read: int | None = None,
    cache_write: int | None = None,
    reasoning: int | None = None,
) -> dict[str, int]:
    """Usage in the names the runner sums across models (those of Chat Completions).

    ``prompt_tokens`` counts every input token, cached ones included, as OpenAI counts them;
    ``cache_read_tokens`` / ``cache_write_tokens`` say how many of them hit or filled a cache.
    """
    out: dict[str, int] = {}
    for key, value in (
        ("prompt_tokens", prompt),
        ("completion_tokens", completion),
        ("cache_read_tokens", cache_read),
        ("cache_write_tokens", cache_write),
        ("reasoning_tokens", reasoning),
    ):
        if isinstance(value, int) and not isinstance(value, bool):
            out[key] = value
    if "prompt_tokens" in out or "completion_tokens" in out:
        out["total_tokens"] = out.get("prompt_tokens", 0) + out.get("completion_tokens", 0)
    return out


def as_mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def int_field(obj: Any, *keys: str) -> int | None:
    """The first integer among ``obj[key]`` for ``keys`` (camel and snake spellings)."""
    if not isinstance(obj, Mapping):
        return None
    for key in keys:
        value = obj.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None
