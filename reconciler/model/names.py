"""Postgres' quote_ident() rules, so names render exactly as format_type() prints them."""

from __future__ import annotations

import re
from functools import cache

_PLAIN = re.compile(r"[a-z_][a-z0-9_]*\Z")  # `$` is legal but quote_ident quotes it


@cache
def _needs_quotes() -> frozenset[str]:
    # pglast's keyword lists are the server's own
    from pglast.keywords import (  # deferred: pglast (~35 ms), paid only where a name is rendered
        COL_NAME_KEYWORDS,
        RESERVED_KEYWORDS,
        TYPE_FUNC_NAME_KEYWORDS,
    )

    return frozenset(RESERVED_KEYWORDS | COL_NAME_KEYWORDS | TYPE_FUNC_NAME_KEYWORDS)


def quote_ident(name: str) -> str:
    """Quote like Postgres does: only names that are not plain lowercase or are keywords."""
    if _PLAIN.match(name) and name not in _needs_quotes():
        return name
    return '"' + name.replace('"', '""') + '"'


def qualified(schema: str, name: str) -> str:
    return f"{quote_ident(schema)}.{quote_ident(name)}"


def split_qualified(text: str) -> tuple[str, ...]:
    """The names of `schema.name` as quote_ident() / format('%I.%I') spell them: a quoted
    name loses its quotes (a doubled quote inside is one quote); an unquoted name is taken as
    written (it is already lower case)."""
    parts: list[str] = []
    i, n = 0, len(text)
    while i < n:
        if text[i] == '"':
            j, name = i + 1, []
            while j < n:
                if text[j] == '"':
                    if j + 1 < n and text[j + 1] == '"':
                        name.append('"')
                        j += 2
                        continue
                    break
                name.append(text[j])
                j += 1
            parts.append("".join(name))
            i = j + 1
        else:
            j = text.find(".", i)
            j = n if j < 0 else j
            parts.append(text[i:j])
            i = j
        if i < n and text[i] == ".":
            i += 1
    return tuple(parts)


NAMEDATALEN = 64  # PostgreSQL's buffer for a name, its terminating zero byte included
MAX_NAME_BYTES = NAMEDATALEN - 1  # the longest name; the server cuts longer ones silently

# The tool's own schemas: its recorded state (state/pg_schema.py) and the data kept by drops
# (ops/pg/trash.py). Never desired, never read as part of a scope, never dropped by a plan.
TOOL_SCHEMA = "reconciler"
TRASH_SCHEMA = "reconciler_trash"
TOOL_SCHEMAS = (TOOL_SCHEMA, TRASH_SCHEMA)


def make_object_name(name1: str, name2: str | None, label: str) -> str:
    """The name Postgres derives for an implicit object (`<table>_<column>_seq`, `_key` …):
    when too long for NAMEDATALEN, the longer of the two names is shortened first, one
    character at a time, as makeObjectName() does (byte lengths; characters kept whole)."""
    avail = NAMEDATALEN - 1 - len(label.encode()) - 1 - (1 if name2 else 0)
    n1, n2 = name1, name2 or ""
    while len(n1.encode()) + len(n2.encode()) > avail:
        if len(n1.encode()) > len(n2.encode()):
            n1 = n1[:-1]
        else:
            n2 = n2[:-1]
    return f"{n1}_{n2}_{label}" if name2 else f"{n1}_{label}"
