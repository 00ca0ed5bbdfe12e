"""Grammars that let a model write only valid calls: Lark, GBNF, JSON Schema, structural tags."""

from toolwire.grammar._build import SYNTAXES, GrammarWarning, build
from toolwire.grammar._schema import Problem

__all__ = ["SYNTAXES", "GrammarWarning", "Problem", "build"]
