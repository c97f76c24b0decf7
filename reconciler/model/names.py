"""Postgres' quote_ident() rules, so names render exactly as format_type() prints them."""

from __future__ import annotations

import re

from pglast.keywords import COL_NAME_KEYWORDS, RESERVED_KEYWORDS, TYPE_FUNC_NAME_KEYWORDS

_PLAIN = re.compile(r"[a-z_][a-z0-9_]*\Z")  # `$` is legal but quote_ident quotes it
_NEEDS_QUOTES = RESERVED_KEYWORDS | COL_NAME_KEYWORDS | TYPE_FUNC_NAME_KEYWORDS


def quote_ident(name: str) -> str:
    """Quote like Postgres does: only names that are not plain lowercase or are keywords."""
    if _PLAIN.match(name) and name not in _NEEDS_QUOTES:
        return name
    return '"' + name.replace('"', '""') + '"'


def qualified(schema: str, name: str) -> str:
    return f"{quote_ident(schema)}.{quote_ident(name)}"
