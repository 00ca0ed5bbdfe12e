"""One history, three APIs: the tools form converted to the functions or text form.

A :class:`~toolwire.Router` keeps the conversation in the tools form (assistant ``tool_calls``,
``role: "tool"`` results keyed by call id) whichever route answered, and converts it for a
route whose model speaks another API just before the request. The converted messages are the
ones that model would have written itself (the writers of :mod:`toolwire.models._base`,
:mod:`toolwire.models._prompts` and :mod:`toolwire.models._text_calls`), so switching models
mid-conversation reads to each model like its own history.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from toolwire import _json
from toolwire._calls import ToolCall, ToolResult
from toolwire.models._base import Api, Message, content_text, result_messages
from toolwire.models._prompts import prompt_format
from toolwire.models._text_calls import write_calls


def convert_history(
    messages: Sequence[Message], to_api: Api, *, text_format: str | None = None
) -> list[Message]:
    """``messages`` (tools form) written in ``to_api``'s form.

    ``functions``: the legacy API carries one call per assistant message, so a turn of several
    calls becomes consecutive assistant ``function_call`` / ``role: "function"`` pairs in call
    order (its words go on the first). ``text``: calls rendered in ``text_format`` (``hermes``
    when None) after the turn's words, results as the user message text mode writes for them
    (the family's writer, or the generic ``<tool_response>`` block when None). Results are
    matched to calls by id; a call without a result and a result without its call are kept.
    Other messages pass through unchanged. Raises ``ValueError`` when a call cannot be written
    in the target format (e.g. non-identifier argument names in ``pythonic``).
    """
    if to_api == "tools":
        return list(messages)
    names = _call_names(messages)
    taken: set[int] = set()
    out: list[Message] = []
    for index, msg in enumerate(messages):
        if index in taken:
            continue
        role = msg.get("role")
        wires = msg.get("tool_calls") if role == "assistant" else None
        if wires:
            calls = [_call(w, index, n) for n, w in enumerate(wires)]
            found = _results_for(messages, index, calls, taken)
            content = content_text(msg.get("content"))
            out.extend(_turn(content, calls, found, to_api, text_format))
        elif role == "tool":
            # A result whose call is not in the turn before it: still delivered, by name.
            call_id = str(msg.get("tool_call_id", ""))
            call = ToolCall(id=call_id, name=names.get(call_id, str(msg.get("name") or "tool")))
            written = _results([(call, msg)], to_api, text_format)
            # functions: the result message alone; repeating its call would invent arguments.
            out.extend(written[-1:] if to_api == "functions" else written)
        else:
            out.append(msg)
    return out


def _call_names(messages: Sequence[Message]) -> dict[str, str]:
    names: dict[str, str] = {}
    for index, msg in enumerate(messages):
        if msg.get("role") == "assistant":
            for n, wire in enumerate(msg.get("tool_calls") or ()):
                call = _call(wire, index, n)
                names[call.id] = call.name
    return names


def _call(wire: Any, index: int, n: int) -> ToolCall:
    wire = wire if isinstance(wire, Mapping) else {}
    fn = wire.get("function") if isinstance(wire.get("function"), Mapping) else {}
    arguments = fn.get("arguments")
    if not isinstance(arguments, str):
        arguments = _json.dumps(arguments if arguments is not None else {})
    return ToolCall(
        id=str(wire.get("id") or f"call_{index}_{n}"),
        name=str(fn.get("name") or ""),
        arguments=arguments or "{}",
    )


def _results_for(
    messages: Sequence[Message], index: int, calls: Sequence[ToolCall], taken: set[int]
) -> dict[str, Message]:
    """The results of ``calls``: ``role: "tool"`` messages after the turn, before the next one."""
    wanted = {c.id for c in calls}
    found: dict[str, Message] = {}
    for later in range(index + 1, len(messages)):
        msg = messages[later]
        if msg.get("role") == "assistant":
            break
        call_id = str(msg.get("tool_call_id", ""))
        if msg.get("role") == "tool" and call_id in wanted and call_id not in found:
            found[call_id] = msg
            taken.add(later)
    return found


def _turn(
    content: str,
    calls: Sequence[ToolCall],
    found: Mapping[str, Message],
    to_api: Api,
    text_format: str | None,
) -> list[Message]:
    answered = [(c, found[c.id]) for c in calls if c.id in found]
    if to_api == "text":
        said = write_calls(calls, content, text_format or "hermes")
        return [{"role": "assistant", "content": said}, *_results(answered, to_api, text_format)]
    out: list[Message] = []
    for call in calls:
        if call.id in found:
            out.extend(_results([(call, found[call.id])], to_api, text_format))
        else:  # not answered yet (e.g. waiting for approval): the call alone
            out.append(_function_call(call))
    if content:
        out[0] = {**out[0], "content": content}
    return out


def _function_call(call: ToolCall) -> Message:
    return {
        "role": "assistant",
        "content": None,
        "function_call": {"name": call.name, "arguments": call.arguments},
    }


def _results(
    pairs: Sequence[tuple[ToolCall, Message]], to_api: Api, text_format: str | None
) -> list[Message]:
    if not pairs:
        return []
    if to_api == "functions":
        # The text the model saw, verbatim (as_text of a str value is the str itself).
        written = [(c, _result(c, content_text(m.get("content")), decode=False)) for c, m in pairs]
        return result_messages(written, "functions")
    # Text writers render the result's value as JSON: decode the text back to that value (an
    # error's text decodes to the same {"error": ...} object the writers produce for errors).
    written = [(c, _result(c, content_text(m.get("content")), decode=True)) for c, m in pairs]
    if text_format is None:
        return result_messages(written, "text")
    return [{"role": "user", "content": prompt_format(text_format).write_results(written)}]


def _result(call: ToolCall, text: str, *, decode: bool) -> ToolResult:
    value: Any = text
    if decode:
        try:
            value = _json.loads(text)
        except ValueError:
            value = text
    return ToolResult(call_id=call.id, name=call.name, ok=True, value=value)
