"""``build``: the grammar that lets a model write only valid calls to a set of tools."""

from __future__ import annotations

import copy
import warnings
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from toolwire.grammar._calls import json_call, text_format_start
from toolwire.grammar._dicts import call_json_schema, structural_tag
from toolwire.grammar._ir import NOTHING, Node, Rules, alt, chars, lit, opt, rep, seq
from toolwire.grammar._print import to_gbnf, to_lark
from toolwire.grammar._scalars import ws
from toolwire.grammar._schema import Problem, SchemaCompiler
from toolwire.grammar._shapes import call_shape, known_formats
from toolwire.parsing._toolmap import tool_schemas

__all__ = ["SYNTAXES", "GrammarWarning", "build"]

Syntax = Literal["lark", "gbnf", "json_schema", "structural_tag"]
SYNTAXES: tuple[str, ...] = ("lark", "gbnf", "json_schema", "structural_tag")


class GrammarWarning(UserWarning):
    """Schema constraints a grammar does not enforce; ``problems`` lists each with its path."""

    def __init__(self, problems: tuple[Problem, ...], syntax: str) -> None:
        self.problems = problems
        listed = "\n".join(f"  {p}" for p in problems)
        super().__init__(
            f"the {syntax} grammar does not enforce {len(problems)} schema constraint(s); "
            f"the tool's own validation still checks them:\n{listed}"
        )


@dataclass(frozen=True, slots=True)
class _Built:
    value: str | dict[str, Any]
    problems: tuple[Problem, ...]
    schemas: tuple[Any, ...]  # held so the identity check of a cache hit stays valid


_CACHE: OrderedDict[tuple[Any, ...], _Built] = OrderedDict()
_CACHE_SIZE = 64


def build(
    tools: Any,
    *,
    format: str = "json",
    syntax: str = "lark",
    tool_choice: str = "auto",
    parallel: bool = True,
) -> str | dict[str, Any]:
    """A grammar accepting exactly the valid calls to ``tools``, written as ``format`` does.

    ``tools``: a Toolbox, Tools, ToolSpecs or schema dicts (as :class:`StreamParser` takes).
    ``format``: ``"json"`` (``{"name": ..., "arguments": {...}}``, a list of them when
    ``parallel``) or a text format of :mod:`toolwire.parsing`. ``syntax``: ``"lark"``,
    ``"gbnf"`` (text) or ``"json_schema"``, ``"structural_tag"`` (dicts). ``tool_choice``:
    ``"auto"`` (free text; a call, once begun, must be valid), ``"required"``, ``"none"`` or a
    tool's name. ``parallel=False`` allows at most one call.

    Constraints a syntax cannot express are reported in one :class:`GrammarWarning` listing
    their schema paths. Results are cached per set of tools (a toolbox that gains a tool, or a
    new schema object, is a new entry); treat the schemas as immutable, as ToolSpec does.

    >>> import toolwire as tw
    >>> g = build([tw.Tool.from_schema({"name": "ping", "parameters": {"type": "object"}})],
    ...           tool_choice="required", parallel=False)
    >>> g.splitlines()[2]
    'start: call-ping WS'
    """
    schemas = tool_schemas(tools)
    if not schemas:
        raise ValueError("no tools to build a grammar for")
    if syntax not in SYNTAXES:
        raise ValueError(f"unknown syntax {syntax!r}; known: {', '.join(SYNTAXES)}")
    if tool_choice not in ("auto", "required", "none") and tool_choice not in schemas:
        raise ValueError(
            f"tool_choice {tool_choice!r} is neither auto/required/none nor one of the tools "
            f"({', '.join(schemas)})"
        )
    key = (
        format,
        syntax,
        tool_choice,
        bool(parallel),
        tuple(schemas),
        tuple(map(id, schemas.values())),
    )
    hit = _CACHE.get(key)
    if hit is not None and all(a is b for a, b in zip(hit.schemas, schemas.values(), strict=True)):
        _CACHE.move_to_end(key)
    else:
        hit = _compile(schemas, format, syntax, tool_choice, bool(parallel))
        _CACHE[key] = hit
        if len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    if hit.problems:
        warnings.warn(GrammarWarning(hit.problems, syntax), stacklevel=2)
    return copy.deepcopy(hit.value) if isinstance(hit.value, dict) else hit.value


def _compile(
    schemas: Mapping[str, Any], format: str, syntax: str, tool_choice: str, parallel: bool
) -> _Built:
    problems: list[Problem] = []
    chosen = {
        n: s
        for n, s in schemas.items()
        if tool_choice in ("auto", "required", "none") or n == tool_choice
    }
    shape = None
    if format != "json":
        shape = call_shape(format)
        if shape is None:
            known = ", ".join(["json", *known_formats()])
            raise ValueError(f"no grammar for format {format!r}; known: {known}")
    if syntax in ("lark", "gbnf"):
        rules = Rules()
        if shape is None:
            start = _json_start(rules, problems, chosen, tool_choice, parallel)
        else:
            start = text_format_start(rules, problems, chosen, shape, tool_choice, parallel)
        text = to_lark(rules, start) if syntax == "lark" else to_gbnf(rules, start)
        return _Built(text, tuple(problems), tuple(schemas.values()))
    if syntax == "json_schema":
        value: dict[str, Any] = call_json_schema(chosen, tool_choice, parallel, problems, shape)
    else:
        value = structural_tag(chosen, shape, tool_choice, parallel, problems)
    return _Built(value, tuple(problems), tuple(schemas.values()))


def arguments(rules: Rules, problems: list[Problem], name: str, schema: Any) -> Node:
    """The arguments object of tool ``name`` (NOTHING, with a problem, when none is valid)."""
    compiler = SchemaCompiler(rules, problems, name, schema)
    node = compiler.value(schema, "", "args")
    if node == NOTHING:
        problems.append(Problem(name, "", "", "no arguments satisfy the schema: tool left out"))
    return node


def _json_start(
    rules: Rules,
    problems: list[Problem],
    schemas: Mapping[str, Any],
    tool_choice: str,
    parallel: bool,
) -> Node:
    text = rules.define(
        "text", opt(seq(chars("{[").complement(), rep(chars("").complement(), 0, None))), token=True
    )
    if tool_choice == "none":
        return text
    calls = [
        json_call(rules, n, a)
        for n, s in schemas.items()
        if (a := arguments(rules, problems, n, s)) != NOTHING
    ]
    if not calls:
        raise ValueError(
            "none of the tools can be called, every arguments schema is unsatisfiable: "
            + "; ".join(map(str, problems))
        )
    call = rules.define("call", alt(*calls))
    w = ws(rules)
    if parallel:
        sep = seq(w, lit(","), w)
        call = rules.define(
            "calls", seq(lit("["), w, call, rep(seq(sep, call), 0, None), w, lit("]"))
        )
    body = seq(call, w)
    return alt(text, body) if tool_choice == "auto" else body
