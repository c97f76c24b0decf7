"""Declarative partitioning in the YAML: a table's `partition_by` key and a partition's `bound`.

Both are SQL spliced into CREATE TABLE, so each is parsed (pglast) inside the statement it
will end up in, and must come out as exactly that clause and nothing more. Where the server's
spelling can be written here without asking it (plain column keys, hash bounds, DEFAULT), it
is; anything else keeps its text and is spelled by the server's probe (pipeline/canonical.py).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pglast import ast, parse_sql

from reconciler.desired.context import split_name
from reconciler.sql.fragments import SqlTextError, check_tokens
from reconciler.sql.render import ident

if TYPE_CHECKING:
    from reconciler.desired.table_scope import TableScope

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


def build_partition_key(table: TableScope) -> str | None:
    """The table's `partition_by`, checked against its columns; None after reporting."""
    if table.spec.partition_by is None:
        return None
    try:
        return partition_key(table.spec.partition_by, list(table.columns_by_name))
    except SqlTextError as exc:
        table.ctx.report(table.where.sub("partition_by"), str(exc))
        return None


def build_partition(table: TableScope) -> tuple[tuple[str, str] | None, str | None]:
    """(parent, bound) of a partition; (None, None) for any other table or after reporting."""

    ctx, spec, where = table.ctx, table.spec, table.where
    parent = spec.partition_of
    if parent is None:
        if spec.bound is not None:
            ctx.report(where.sub("bound"), "a bound is for a partition: add partition_of")
        return None, None
    pw = where.sub("partition_of")
    key = split_name(parent.table, parent.schema_, table.schema)
    if not (ctx.name_ok(key[0], pw) and ctx.name_ok(key[1], pw)):
        return None, None
    if parent.columns:
        ctx.report(pw.sub("columns"), "a parent table takes no columns")
    if spec.columns:
        ctx.report(where.sub("columns"), "a partition's columns are its parent's: list none")
    if spec.inherits:
        ctx.report(where.sub("inherits"), "a partition cannot also inherit from tables")
    if spec.bound is None:
        ctx.report(pw, "a partition needs a bound: FOR VALUES … or DEFAULT")
        return None, None
    try:
        return key, partition_bound(spec.bound)
    except SqlTextError as exc:
        ctx.report(where.sub("bound"), str(exc))
        return None, None


def build_partition_names(
    table: TableScope, partition_of: tuple[str, str] | None
) -> tuple[tuple[tuple[str, str], ...] | None, tuple[str, ...]]:
    """A partition's `attached_indexes` (sorted pairs) and `not_null` columns; a table that is
    no partition may give neither. Column names are checked against the parent once every
    table is known (references.py)."""
    spec, where = table.spec, table.where
    if partition_of is None:
        for key in ("attached_indexes", "not_null"):
            if getattr(spec, key):
                table.ctx.report(where.sub(key), f"{key} is for a partition: add partition_of")
        return None, ()
    attached = spec.attached_indexes
    pairs = tuple(sorted(attached.items())) if attached is not None else None
    if len(set(spec.not_null)) != len(spec.not_null):
        table.ctx.report(where.sub("not_null"), "a column is named twice")
    return pairs, tuple(spec.not_null)
