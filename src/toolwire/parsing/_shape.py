"""How a format writes the calls of one turn, as data: what its chat template produces.

:class:`CallShape` is read by the writer (:mod:`toolwire.parsing._write`, used for the history
a text-mode model is shown) and by :mod:`toolwire.grammar`, which builds constrained-decoding
grammars from it; the two must agree with the format's parser, and the tests check they do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "CallShape",
    "JsonArguments",
    "JsonObject",
    "Layout",
    "PythonicCall",
    "TaggedParameters",
]


# -- how one call's name and arguments are laid out ------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class JsonObject:
    """The call is one JSON object holding the name and the arguments.

    ``{"<name_key>": "<name>", "<arguments_key>": <arguments object>}``, keys in that order
    (``{"name": "f", "arguments": {"a": 1}}``). The parsers also accept ``"parameters"`` for
    ``"arguments"`` and the reverse.
    """

    kind: Literal["json_object"] = "json_object"
    name_key: str = "name"
    arguments_key: str = "arguments"


@dataclass(frozen=True, slots=True, kw_only=True)
class JsonArguments:
    """The name is written by ``call_open`` (its ``{name}``); the body is the arguments object."""

    kind: Literal["json_arguments"] = "json_arguments"


@dataclass(frozen=True, slots=True, kw_only=True)
class TaggedParameters:
    """One tagged element per argument, in the arguments' order: ``open`` + value + ``close``.

    ``open`` holds ``{key}`` (the argument's name). The value is written as text: a string as
    itself (no quotes, no escapes: the value cannot contain ``close``), any other value as JSON
    (``3``, ``true``, ``{"a": [1]}``), after ``json_open`` instead of ``open`` when that is set.
    Parsers type the text back by the tool's schema (or by what the tag says).
    """

    kind: Literal["tagged_parameters"] = "tagged_parameters"
    open: str
    close: str
    #: the open tag for a value written as JSON (not a string), when it differs from ``open``
    #: (DSML says ``string="false"`` there)
    json_open: str | None = None
    #: the format's readers drop one newline right inside a value's tags (where its template
    #: puts them), so a string starting or ending with a newline is written with one more there
    trimmed: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class PythonicCall:
    """``name(key=value, ...)``: keyword arguments whose values are JSON literals.

    Keys must be identifiers; the parsers also read Python literals (``'x'``, ``True``, ``None``,
    tuples).
    """

    kind: Literal["pythonic"] = "pythonic"


Layout = JsonObject | JsonArguments | TaggedParameters | PythonicCall


@dataclass(frozen=True, slots=True, kw_only=True)
class CallShape:
    """How a format writes the calls of one turn: the text its chat template produces.

    The grammar, for calls ``c_0 .. c_n`` (at least one)::

        calls  := begin  call(c_0, 0)  (separator  call(c_i, i))*  end
        call   := call_open  body  call_close

    ``call_open`` and ``call_close`` may hold ``{name}`` (the function name, as written) and
    ``{index}`` (the call's position in the turn, from 0); no other placeholder exists, and
    every other character is literal. ``body`` is laid out by ``layout``:

    - :class:`JsonObject`: ``{"name": "f", "arguments": {...}}`` (keys from the layout);
    - :class:`JsonArguments`: the arguments object alone (the name is in ``call_open``);
    - :class:`TaggedParameters`: ``open(key) value close`` per argument, values as text;
    - :class:`PythonicCall`: ``f(a=1, b="x")``.

    JSON is written the way the templates' ``tojson`` writes it (``", "`` and ``": "``,
    non-ASCII as itself); a grammar should accept any JSON whitespace, as the parsers do.

    ``begin_after_text`` / ``end_after_text`` replace ``begin`` / ``end`` when the turn has
    words before its calls (formats whose calls are bare only at the start of the output:
    Llama 3 JSON needs ``<|python_tag|>`` after text); None means the same as at the start.
    ``text_gap`` is what the writer puts between those words and the calls.

    A grammar built from this accepts what :meth:`TextFormat.write_calls` writes, and the format's
    parser reads it back to the same names and arguments (``tests/parsing/test_records.py``).
    """

    layout: Layout
    begin: str = ""
    end: str = ""
    call_open: str = ""
    call_close: str = ""
    separator: str = ""
    begin_after_text: str | None = None
    end_after_text: str | None = None
    text_gap: str = "\n"
