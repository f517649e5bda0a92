"""Loaded by tests/api/schemathesis.sh through SCHEMATHESIS_HOOKS: a work-around in the tool, not
in what it tests.

On CPython 3.11, `ast.parse` can raise SystemError("AST constructor recursion depth mismatch")
after the recursion limit has changed (python/cpython#106905), and hypothesis changes it while it
generates. hypothesis parses source files only to print a filter's lambda in a strategy's
description, so there a description of "<unknown>" is as good, instead of the error ending the
run as a schemathesis "Runtime Error" that says nothing about the API.
"""

import sys

if sys.version_info[:2] == (3, 11):
    from hypothesis.internal import lambda_sources

    _describe = lambda_sources._lambda_description

    def _lambda_description(f, *args, **kwargs):
        try:
            return _describe(f, *args, **kwargs)
        except SystemError:
            return "lambda: <unknown>"

    lambda_sources._lambda_description = _lambda_description
