"""Declarative partitioning in the YAML: a table's `partition_by` key and a partition's `bound`.

Both are SQL spliced into CREATE TABLE, so each is parsed (pglast) inside the statement it
will end up in, and must come out as exactly that clause and nothing more. Where the server's
spelling can be written here without asking it (plain column keys, hash bounds, DEFAULT), it
is; anything else keeps its text and is spelled by the server's probe (canonical.py).
"""

from __future__ import annotations

import re

from pglast import ast, parse_sql

from reconciler.desired.sqltext import SqlTextError, check_tokens
from reconciler.ops.sqltext import ident

STRATEGIES = {"r": "RANGE", "l": "LIST", "h": "HASH"}
_SPACE = re.compile(r"\s+")
_FIRST_WORD = re.compile(r"\s*\w+\s*", re.ASCII)


def _create(sql: str, what: str, text: str) -> ast.CreateStmt:
    try:
        stmts = parse_sql(sql)
    except Exception as exc:  # pglast raises its own ParseError
        args = getattr(exc, "args", ())
        reason = str(args[0]) if args else type(exc).__name__
        raise SqlTextError(f"invalid {what} '{text}': {reason}") from None
    stmt = stmts[0].stmt if len(stmts) == 1 else None
    extra = (
        not isinstance(stmt, ast.CreateStmt)
        or stmt.options
        or stmt.tablespacename
        or stmt.accessMethod
        or stmt.constraints
    )
    if extra:
        raise SqlTextError(f"the {what} '{text}' must be exactly that clause")
    assert isinstance(stmt, ast.CreateStmt)
    return stmt


def partition_key(text: str, columns: list[str]) -> str:
    """`RANGE (at)`, `LIST (kind)`, `HASH (id)`: checked, spelled as the server spells plain
    column keys; the names of `columns` (when the table declares any) must hold every one."""
    what = "partition key"
    check_tokens(text, what)
    text = _SPACE.sub(" ", text.strip())
    stmt = _create(f"CREATE TABLE x () PARTITION BY {text}", what, text)
    spec = stmt.partspec
    if spec is None or stmt.partbound is not None:
        raise SqlTextError(f"the {what} '{text}' must be RANGE, LIST or HASH (…)")
    strategy = STRATEGIES[str(spec.strategy)]
    elements = spec.partParams or ()
    names = [e.name for e in elements]
    if columns:
        missing = [n for n in names if n is not None and n not in columns]
        if missing:
            raise SqlTextError(f"the {what} names no column '{missing[0]}' of this table")
    if all(e.name and not e.collation and not e.opclass for e in elements):
        return f"{strategy} ({', '.join(ident(n) for n in names)})"
    return f"{strategy} {_FIRST_WORD.sub('', text, count=1)}"


def partition_bound(text: str) -> str:
    """`FOR VALUES IN (…)`, `FOR VALUES FROM (…) TO (…)`, `FOR VALUES WITH (MODULUS m,
    REMAINDER r)` or `DEFAULT`: checked and, where that needs no server, spelled as it is."""
    what = "partition bound"
    check_tokens(text, what)
    text = _SPACE.sub(" ", text.strip())
    stmt = _create(f"CREATE TABLE x PARTITION OF y {text}", what, text)
    bound = stmt.partbound
    if bound is None or stmt.partspec is not None:
        raise SqlTextError(f"the {what} '{text}' must be FOR VALUES … or DEFAULT")
    if bound.is_default:
        return "DEFAULT"
    if bound.strategy == "h":
        return f"FOR VALUES WITH (modulus {bound.modulus}, remainder {bound.remainder})"
    return f"FOR VALUES {_FIRST_WORD.sub('', _FIRST_WORD.sub('', text, count=1), count=1)}"
