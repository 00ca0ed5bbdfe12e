"""A text format's calls as a grammar, from its call shape (see :mod:`._shapes`).

    output := text? calls        tool_choice "auto" (or text alone: no call)
    calls  := begin call (separator call)* end
    call   := call_open body call_close

Text before the calls is one token that runs up to and including the format's *marker* (the
literal the calls open with, cut before its first whitespace: ``<tool_call>``,
``[TOOL_CALLS]``), so it can never contain a call the parser would read; the calls then go
on from just after the marker. Formats whose calls are bare at the start of the output
(Llama 3 JSON) have a second way in there, and their plain text must not start like a call.
``{index}`` in ``call_open``/``call_close`` numbers the calls: the grammar spells out the
first :data:`MAX_INDEXED` positions.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from toolwire.grammar._ir import (
    EPS,
    NOTHING,
    Chars,
    Node,
    Rules,
    alt,
    avoiding,
    chars,
    lit,
    opt,
    rep,
    seq,
    until,
)
from toolwire.grammar._pattern import ANY_CHAR, PatternError, parse_pattern
from toolwire.grammar._scalars import ws
from toolwire.grammar._schema import Problem, SchemaCompiler, member_list
from toolwire.parsing import CallShape, JsonArguments, PythonicCall, TaggedParameters

__all__ = ["MAX_INDEXED", "json_call", "text_format_start"]

MAX_INDEXED = 16


def json_call(
    rules: Rules,
    name: str,
    args: Node,
    *,
    name_key: str = "name",
    args_key: str = "arguments",
    hint: str = "",
) -> Node:
    """``{"<name_key>": "<name>", "<args_key>": <args>}`` with JSON whitespace free."""
    w = ws(rules)
    body = seq(
        *(lit("{"), w, lit(_quoted(name_key)), w, lit(":"), w, lit(_quoted(name)), w, lit(",")),
        *(w, lit(_quoted(args_key)), w, lit(":"), w, args, w, lit("}")),
    )
    return rules.define(hint or f"call-{name}", body)


def _quoted(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def marker(text: str) -> str:
    """The part of ``text`` a parser keys on: up to its first whitespace after a non-space,
    and before its first character comes back (a limit of :func:`~._ir.avoiding`)."""
    cut = len(text)
    for i, ch in enumerate(text):
        if i and (ch.isspace() or ch == text[0]):
            cut = i
            break
    return text[:cut]


class _Calls:
    def __init__(
        self,
        rules: Rules,
        problems: list[Problem],
        schemas: Mapping[str, Any],
        shape: CallShape,
    ) -> None:
        self.rules = rules
        self.shape = shape
        self.layout = shape.layout
        self.indexed = "{index}" in shape.call_open + shape.call_close
        self.bodies: dict[str, Node] = {}
        for name, schema in schemas.items():
            body = self._body(problems, name, schema)
            if body == NOTHING:
                problems.append(
                    Problem(name, "", "", "no arguments satisfy the schema: tool left out")
                )
            else:
                self.bodies[name] = body
        if not self.bodies:
            raise ValueError(
                "none of the tools can be called, every arguments schema is unsatisfiable: "
                + "; ".join(map(str, problems))
            )

    # -- one call --------------------------------------------------------------------------

    def _body(self, problems: list[Problem], name: str, schema: Any) -> Node:
        compiler = SchemaCompiler(self.rules, problems, name, schema)
        layout = self.layout
        if isinstance(layout, TaggedParameters):
            return self._tagged(compiler, schema, layout)
        if isinstance(layout, PythonicCall):
            return self._pythonic(compiler, name, schema)
        args = compiler.value(schema, "", "args")
        if args == NOTHING or isinstance(layout, JsonArguments):
            return args
        return json_call(
            self.rules,
            name,
            args,
            name_key=layout.name_key,
            args_key=layout.arguments_key,
            hint=f"{name}-json",
        )

    def _tagged(self, compiler: SchemaCompiler, schema: Any, layout: TaggedParameters) -> Node:
        """``open(key) value close`` per argument, in the schema's order; strings as raw text."""
        props = schema.get("properties") if isinstance(schema, Mapping) else None
        if not isinstance(props, Mapping):
            compiler.note("", "properties", "a tagged-parameter call needs declared properties")
            props = {}
        required = set(schema.get("required", ())) if isinstance(schema, Mapping) else set()
        extra = schema.get("additionalProperties") if isinstance(schema, Mapping) else None
        if extra not in (None, False):
            compiler.note("", "additionalProperties", "only declared arguments can be written")
        open_, close = layout.open, layout.close
        close_marker = marker(close) or close
        close_rest = close[len(close_marker) :]
        parts: list[Node] = []
        for key, sub in props.items():
            path = f"/properties/{key}"
            raw = _raw_string(compiler, sub, path, close_marker)
            head = lit(open_.replace("{key}", key))
            if raw is not None:
                value = self.rules.define(
                    f"{compiler.tool}-{key}-text", seq(raw, lit(close_marker)), token=True
                )
                element = seq(head, value, lit(close_rest))
            else:
                # a value written as JSON opens with json_open where the format has one (DSML)
                json_head = lit((layout.json_open or open_).replace("{key}", key))
                node = compiler.value(sub, path, key)
                element = NOTHING if node == NOTHING else seq(json_head, node, lit(close))
            if element == NOTHING and key in required:
                return NOTHING
            parts.append(element if key in required else opt(element))
        return self.rules.define(f"{compiler.tool}-params", seq(*parts))

    def _pythonic(self, compiler: SchemaCompiler, name: str, schema: Any) -> Node:
        """``name(key=<JSON value>, ...)``: keyword arguments in the schema's order."""
        props = schema.get("properties") if isinstance(schema, Mapping) else None
        props = props if isinstance(props, Mapping) else {}
        required = set(schema.get("required", ())) if isinstance(schema, Mapping) else set()
        members: list[tuple[Node, bool]] = []
        for key, sub in props.items():
            path = f"/properties/{key}"
            node = compiler.value(sub, path, key) if key.isidentifier() else NOTHING
            if not key.isidentifier():
                compiler.note(path, "", "not a Python identifier: cannot be a keyword argument")
            if node == NOTHING:
                if key in required:
                    return NOTHING
                continue
            members.append((seq(lit(f"{key}="), node), key in required))
        inner, needed = member_list(self.rules, members, lit(", "), NOTHING, f"{name}-kwargs")
        body = inner if needed else opt(inner)
        return self.rules.define(f"{name}-py", seq(lit(f"{name}("), body, lit(")")))

    def call(self, name: str, index: int, *, skip: int = 0) -> Node:
        """Call ``index`` to ``name``, less its first ``skip`` characters (all literal)."""
        opening = self._fill(self.shape.call_open, name, index)
        closing = self._fill(self.shape.call_close, name, index)
        # One rule per call, ending at its close: a lexer that fuses rules into one lexeme
        # (llguidance's GBNF reader does) then still ends that lexeme at a fixed delimiter.
        hint = f"call-{name}" + (f"-{index}" if self.indexed else "") + ("-rest" if skip else "")
        return self.rules.define(
            hint, seq(lit(opening[skip:]), self.bodies[name], lit(closing)), keep=True
        )

    def _fill(self, template: str, name: str, index: int) -> str:
        return template.replace("{name}", name).replace("{index}", str(index))

    def any_call(self, index: int) -> Node:
        key = ("any-call", index if self.indexed else 0)
        if key not in self.rules.memo:
            calls = [self.call(n, index) for n in self.bodies]
            self.rules.memo[key] = self.rules.define(
                f"call-{index}" if self.indexed else "call", alt(*calls)
            )
        return self.rules.memo[key]

    def more(self, index: int, parallel: bool) -> Node:
        """The calls after the first, from ``index`` on."""
        if not parallel:
            return EPS
        sep = lit(self.shape.separator)
        if not self.indexed:
            return rep(seq(sep, self.any_call(1)), 0, None)
        if index >= MAX_INDEXED:
            return EPS
        return opt(seq(sep, self.any_call(index), self.more(index + 1, parallel)))

    def block(self, begin: str, end: str, parallel: bool, *, skip: int = 0) -> Node:
        """A turn's calls, less the first ``skip`` characters of ``begin + call_open``."""
        firsts = []
        for name in self.bodies:
            lead = begin[skip:] if skip <= len(begin) else ""
            inner = max(0, skip - len(begin))
            firsts.append(seq(lit(lead), self.call(name, 0, skip=inner)))
        return seq(alt(*firsts), self.more(1, parallel), lit(end))


def _static(template: str) -> str:
    cut = min(
        (i for i in (template.find("{name}"), template.find("{index}")) if i >= 0),
        default=len(template),
    )
    return template[:cut]


def text_format_start(
    rules: Rules,
    problems: list[Problem],
    schemas: Mapping[str, Any],
    shape: CallShape,
    tool_choice: str,
    parallel: bool,
) -> Node:
    """The whole output a model may write in this format under ``tool_choice``."""
    after_begin = shape.begin if shape.begin_after_text is None else shape.begin_after_text
    after_end = shape.end if shape.end_after_text is None else shape.end_after_text
    trigger = marker(after_begin + _static(shape.call_open))
    if not trigger:
        raise ValueError("the format's calls after text open with no marker: no grammar for them")
    start_marker = marker(shape.begin + _static(shape.call_open))
    separate_start = start_marker != trigger  # calls at the very start open differently
    plain, lead = avoiding(trigger), until(trigger)
    if separate_start:
        # Neither text token may start like the calls that open the output (a bare JSON
        # object, a pythonic list), or the lexer could not tell them apart at that character.
        first = chars((start_marker[:1] or "{[") + trigger[0]).complement()
        plain = alt(EPS, seq(first, plain))
        lead = alt(lit(trigger), seq(first, lead))
    text = rules.define("text", plain, token=True)
    if tool_choice == "none":
        return text
    calls = _Calls(rules, problems, schemas, shape)
    at_start = calls.block(shape.begin, shape.end, parallel)
    if tool_choice != "auto":
        return at_start
    lead_in = rules.define("text-then-call", lead, token=True)
    after_text = seq(lead_in, calls.block(after_begin, after_end, parallel, skip=len(trigger)))
    return alt(text, at_start, after_text) if separate_start else alt(text, after_text)


def _raw_string(compiler: SchemaCompiler, schema: Any, path: str, close: str) -> Node | None:
    """A string argument written as itself, up to ``close``: its characters (None: not a string)."""
    if not isinstance(schema, Mapping):
        return None
    values = [schema["const"]] if "const" in schema else schema.get("enum")
    if isinstance(values, list) and values and all(isinstance(v, str) for v in values):
        return alt(*(lit(v) for v in values if close not in v))
    if schema.get("type") != "string" or values is not None:
        return None
    lo, hi = schema.get("minLength", 0), schema.get("maxLength")
    if isinstance(schema.get("pattern"), str):
        try:
            return parse_pattern(schema["pattern"])
        except PatternError as exc:
            compiler.note(path, "pattern", f"not enforced: {exc}")
    if lo or hi is not None:
        # a bounded value may not hold the marker's first character at all (a narrowing)
        return rep(ANY_CHAR.minus(Chars(((ord(close[0]), ord(close[0])),))), int(lo), hi)
    return avoiding(close)
