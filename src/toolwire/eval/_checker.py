"""``ast_check``: is a model's answer one of the acceptable ones? BFCL's AST rules, in Python.

The categories follow BFCL's routing by name: ``parallel`` in the name (``parallel``,
``parallel_multiple``) matches calls to expected calls in any order; ``multiple`` checks the
one call against the function the ground truth names; anything else (``simple``,
``simple_python``) expects exactly one call of the first function; ``irrelevance`` is right
when there is no call at all (``relevance``: when there is one). The value rules are in
:mod:`toolwire.eval._values`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from toolwire._calls import ToolCall
from toolwire._spec import ToolSpec

# The dialects whose wire names a toolbox resolves back to the original (``spotify_play`` for
# ``spotify.play``): a model that was shown wire names calls them by those names.
from toolwire._toolbox import _ALIAS_DIALECTS
from toolwire._tools import Tool
from toolwire.dialects._names import build_name_map
from toolwire.eval._values import Problem, value_problem

Function = Mapping[str, Any] | ToolSpec | Tool
Call = Mapping[str, Any] | ToolCall
_UNSUPPORTED = ("java", "javascript", "multi_turn")


@dataclass(frozen=True, slots=True, kw_only=True)
class Verdict:
    """The outcome of one check: ``valid``, and why not in ``errors`` (empty when valid).

    ``kind`` names the first rule that failed (``wrong_count``, ``wrong_name``,
    ``missing_required``, ``unexpected_param``, ``type``, ``nested_type``, ``value``,
    ``dict_key``, ``dict_value``, ``list_dict_count``, ``missing_optional``, ``no_match``,
    ``decode``, ``format``, ``unknown_function``, ``irrelevant_call``, ``no_call``);
    ``""`` when valid.
    """

    valid: bool
    errors: list[str] = field(default_factory=list)
    kind: str = ""


_VALID = Verdict(valid=True)


def _invalid(kind: str, *errors: str) -> Verdict:
    return Verdict(valid=False, errors=list(errors), kind=kind)


@dataclass(frozen=True, slots=True)
class _Doc:
    """What the checker reads of a function document."""

    name: str
    properties: Mapping[str, Mapping[str, Any]]
    required: tuple[str, ...]


def _doc(fn: Function) -> _Doc:
    if isinstance(fn, Tool):
        fn = fn.spec
    if isinstance(fn, ToolSpec):
        name, schema = fn.name, fn.input_schema
    else:
        inner = fn.get("function")
        if isinstance(inner, Mapping):  # {"type": "function", "function": {...}}
            fn = inner
        name = str(fn.get("name", ""))
        schema = fn.get("parameters") or fn.get("input_schema") or fn.get("inputSchema") or {}
    props = schema.get("properties") if isinstance(schema, Mapping) else None
    required = schema.get("required") if isinstance(schema, Mapping) else None
    return _Doc(
        name=name,
        properties=props if isinstance(props, Mapping) else {},
        required=tuple(r for r in required or () if isinstance(r, str)),
    )


def _resolver(names: Sequence[str]) -> dict[str, str]:
    """Wire name -> function name, for every dialect a toolbox resolves."""
    out: dict[str, str] = {}
    for dialect in _ALIAS_DIALECTS:
        for wire, original in build_name_map(names, dialect).items():
            out.setdefault(wire, original)
    return out


def _decode(
    calls: Iterable[Call], names: Sequence[str]
) -> tuple[list[tuple[str, Any]] | None, Verdict]:
    """Calls as ``(name, arguments)``, or None and why (BFCL: a decoding failure, or output
    not of the ``[{name: {param: value}}]`` form)."""
    out: list[tuple[str, Any]] = []
    aliases: dict[str, str] | None = None
    for call in calls:
        if isinstance(call, ToolCall):
            try:
                args = call.parsed_arguments()
            except ValueError as exc:
                return None, _invalid(
                    "decode", f"call {call.name!r}: arguments are not JSON: {exc}"
                )
            name = call.name
            if name not in names:  # the model saw the tools under their wire names
                aliases = aliases if aliases is not None else _resolver(names)
                name = aliases.get(name, name)
        elif isinstance(call, Mapping) and len(call) == 1:
            ((name, args),) = call.items()
        else:
            return None, _invalid("format", f"not a call of the form {{name: {{...}}}}: {call!r}")
        if not isinstance(args, dict):
            return None, _invalid("format", f"call {name!r}: arguments are not an object: {args!r}")
        out.append((name, args))
    return out, _VALID


def _expected(entry: Any) -> tuple[str, Mapping[str, Any]]:
    if isinstance(entry, Mapping) and len(entry) == 1:
        ((name, params),) = entry.items()
        if isinstance(params, Mapping):
            return str(name), params
    raise ValueError(f"a ground-truth call must be {{name: {{param: [values]}}}}, got {entry!r}")


def check_call(
    doc: _Doc, name: str, args: Mapping[str, Any], expected: Mapping[str, Any]
) -> Verdict:
    """One call against one expected call (BFCL's ``simple_function_checker``)."""
    if name != doc.name:
        return _invalid("wrong_name", f"the function {doc.name!r} was expected, got {name!r}")
    for param in doc.required:
        if param not in args:
            return _invalid("missing_required", f"the required parameter {param!r} is missing")
    for param, value in args.items():
        schema = doc.properties.get(param)
        if schema is None or param not in expected:
            return _invalid("unexpected_param", f"unexpected parameter {param!r}")
        accepted = expected[param]
        if not isinstance(accepted, list):
            return _invalid("value", f"{param!r}: the ground truth lists no values ({accepted!r})")
        problem: Problem | None = value_problem(
            param, value, accepted, schema if isinstance(schema, Mapping) else {}
        )
        if problem is not None:
            return _invalid(problem.kind, problem.message)
    for param, accepted in expected.items():
        if param not in args and not (isinstance(accepted, list) and "" in accepted):
            return _invalid("missing_optional", f"the parameter {param!r} is missing")
    return _VALID


def _find(docs: Sequence[_Doc], name: str) -> _Doc | None:
    return next((d for d in docs if d.name == name), None)


def _unknown(name: str) -> Verdict:
    return _invalid("unknown_function", f"the expected function {name!r} is not documented")


def _parallel(docs: Sequence[_Doc], got: list[tuple[str, Any]], answer: Sequence[Any]) -> Verdict:
    """Each expected call, in order, takes the first unmatched call that passes (greedy, as
    BFCL does: an earlier expected call can take a call a later one needed)."""
    if len(got) != len(answer):
        return _invalid("wrong_count", f"{len(answer)} calls were expected, got {len(got)}")
    left = list(range(len(got)))
    for i, entry in enumerate(answer):
        name, params = _expected(entry)
        doc = _find(docs, name)
        if doc is None:
            return _unknown(name)
        tried: list[str] = []
        for j in left:
            verdict = check_call(doc, got[j][0], got[j][1], params)
            if verdict.valid:
                left.remove(j)
                break
            tried.append(f"call {j}: {'; '.join(verdict.errors)}")
        else:
            return _invalid("no_match", f"no call matches expected call {i} ({name})", *tried)
    return _VALID


def ast_check(
    functions: Sequence[Function],
    calls: Sequence[Call],
    possible_answer: Sequence[Any] | None,
    *,
    category: str,
) -> Verdict:
    """Check a model's calls against BFCL's ground truth, by BFCL's AST rules for Python.

    ``functions`` are the documents the model was given (BFCL's, OpenAI's or MCP's shape, or
    ``ToolSpec``/``Tool``); ``calls`` are BFCL's decoded form ``[{name: {param: value}}]`` or
    ``ToolCall``s (whose wire names, such as ``spotify_play``, resolve to the documents');
    ``possible_answer`` is BFCL's ground truth, ``[{name: {param: [acceptable values]}}]``
    (``""`` = may be omitted), and is ignored for ``irrelevance``.

    Example::

        >>> fn = {"name": "area", "parameters": {"type": "dict", "required": ["r"],
        ...       "properties": {"r": {"type": "float"}, "unit": {"type": "string"}}}}
        >>> ast_check([fn], [{"area": {"r": 2}}], [{"area": {"r": [2.0], "unit": ["", "m"]}}],
        ...           category="simple").valid
        True
    """
    if any(word in category for word in _UNSUPPORTED):
        raise ValueError(f"category {category!r}: only BFCL's Python categories are checked")
    docs = [_doc(fn) for fn in functions]
    got, failure = _decode(calls, [d.name for d in docs])
    if "relevance" in category:
        made_call = bool(got)  # BFCL: output that does not decode is no call
        if "irrelevance" in category:
            return _invalid("irrelevant_call", "no call was expected") if made_call else _VALID
        return _VALID if made_call else _invalid("no_call", "a call was expected")
    if got is None:
        return failure
    answer = list(possible_answer or ())
    if "parallel" in category:
        return _parallel(docs, got, answer)
    if "multiple" in category:
        if len(got) != len(answer):
            return _invalid("wrong_count", f"{len(answer)} calls were expected, got {len(got)}")
        if not answer:
            return _VALID  # no call expected, none made (BFCL has no such case: it raises)
        name, params = _expected(answer[0])
        doc = _find(docs, name)
        return _unknown(name) if doc is None else check_call(doc, *got[0], params)
    if len(got) != 1:
        return _invalid("wrong_count", f"one call was expected, got {len(got)}")
    if not docs or not answer:
        return _invalid("unknown_function", "no function document or no ground truth")
    return check_call(docs[0], *got[0], _expected(answer[0])[1])
