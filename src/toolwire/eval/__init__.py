"""Measure how well a model calls tools: BFCL's AST checking rules, on BFCL's data or your own.

Example::

    from toolwire.eval import ast_check
    verdict = ast_check(functions, [{"get_weather": {"city": "Paris"}}],
                        [{"get_weather": {"city": ["Paris", "paris"]}}], category="simple")
    verdict.valid, verdict.errors
"""

from toolwire.eval._checker import Verdict, ast_check
from toolwire.eval._values import standardize

__all__ = ["Verdict", "ast_check", "standardize"]
