"""SQL fragments for model values. Identifiers always go through psycopg.sql.

Types and expressions are model text that the loader already proved to be a single type or
expression (pglast) or that came from the catalog; they are inserted verbatim, never built
from pieces of user input.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from reconciler.model.address import Address
from reconciler.model.names import make_object_name, split_qualified
from reconciler.model.pg import (
    Check,
    Column,
    Exclusion,
    ForeignKey,
    Index,
    IndexElement,
    PrimaryKey,
    Unique,
)
from reconciler.model.sequence_options import clause, sequence_type

if TYPE_CHECKING:
    from types import ModuleType


@lru_cache(maxsize=1)
def _sql() -> ModuleType:
    # deferred: start-up: a plan that renders nothing (its catalog read ahead) loads no driver
    from psycopg import sql

    return sql


@lru_cache(maxsize=65536)  # the same names over and over in a plan of thousands of tables
def ident(*parts: str) -> str:
    return _sql().Identifier(*parts).as_string(None)


def idents(names: tuple[str, ...] | list[str]) -> str:
    return ", ".join(ident(n) for n in names)


def literal(value: str | None) -> str:
    return _sql().Literal(value).as_string(None)


_SEQUENCE_TYPES = frozenset({"smallint", "integer", "bigint"})


def owned_sequence(
    schema: str, table: str, col: Column, *, if_not_exists: bool = True
) -> tuple[str, str]:
    """(before, after): create the column's own sequence (serial) before the column exists,
    and make the column its owner after, so dropping the column or table drops it too."""
    assert col.sequence is not None
    seq_type = sequence_type(col.type, col.sequence_options)
    as_type = f" AS {seq_type}" if seq_type in _SEQUENCE_TYPES else ""
    options = f" {clause(col.sequence_options)}" if col.sequence_options else ""
    return (
        f"CREATE SEQUENCE {'IF NOT EXISTS ' if if_not_exists else ''}{col.sequence}"
        f"{as_type}{options}",
        f"ALTER SEQUENCE {col.sequence} OWNED BY {ident(schema, table, col.name)}",
    )


def owned_sequence_comment(col: Column) -> list[str]:
    """COMMENT ON the column's own sequence, when it has one with a comment."""
    if col.sequence is None or col.sequence_comment is None:
        return []
    return [f"COMMENT ON SEQUENCE {col.sequence} IS {literal(col.sequence_comment)}"]


def dollar_quote(text: str, name: str = "reconciler") -> str:
    """`text` between `$name$` tags that cannot occur inside it."""
    tag, n = f"${name}$", 0
    while tag in text:
        n += 1
        tag = f"${name}{n}$"
    return f"{tag}{text}{tag}"


def guarded(statement: str, *conditions: str, same: str | None = None) -> str:
    """`statement` made re-runnable where Postgres has no IF [NOT] EXISTS for it: run in a DO
    block that lets the named errors pass (the object is there already, or gone already), so
    the second run of an up or down file changes nothing instead of failing. `same`: a SQL
    condition true when what is there is the object the statement makes; when it is false the
    error is raised (another object holds the name: a clash, never passed over)."""
    passed = "NULL" if same is None else f"IF NOT {same} THEN RAISE; END IF"
    body = f"BEGIN\n{statement};\nEXCEPTION WHEN {' OR '.join(conditions)} THEN {passed};\nEND"
    return f"DO {dollar_quote(body)}"


def run_unless(found: str, statement: str) -> str:
    """`statement` run only while the query `found` finds no row: what a second run of a file
    finds done (or found another's in its place) it leaves alone."""
    return f"DO {dollar_quote(f'BEGIN IF NOT EXISTS ({found}) THEN {statement}; END IF; END')}"


def drop_if_kind(drop: str, name: str, relkinds: str) -> str:
    """`drop` (DROP … IF EXISTS name) run only while `name` is a relation of one of
    `relkinds`: a second run of the file finds another kind of relation under the name (the
    one the plan made in its place), which it leaves alone."""
    kinds = " OR ".join(f"relkind = {literal(k)}" for k in relkinds)
    found = (
        "SELECT FROM pg_catalog.pg_class WHERE oid = pg_catalog.to_regclass("
        f"{literal(name)}) AND ({kinds})"
    )
    return f"DO {dollar_quote(f'BEGIN IF EXISTS ({found}) THEN {drop}; END IF; END')}"


def owned_sequence_address(col: Column) -> frozenset[Address]:
    """The address of the sequence a serial column owns (its grants need it), if any."""
    names = split_qualified(col.sequence) if col.sequence is not None else ()
    if len(names) != 2:
        return frozenset()
    return frozenset({Address.of("pg", "sequence", *names)})


def identity_sequence_address(schema: str, table: str, col: Column) -> frozenset[Address]:
    """The address of an identity column's sequence (its grants need it), by the name a
    CREATE gives it, if the column is an identity."""
    if col.identity is None:
        return frozenset()
    name = make_object_name(table, col.name, "seq")
    return frozenset({Address.of("pg", "sequence", schema, name)})


def identity_clause(col: Column) -> str:
    """` (START WITH 100 …)` for an identity with options of its own, else nothing."""
    return f" ({clause(col.sequence_options)})" if col.sequence_options else ""


@lru_cache(maxsize=4096)  # defaults such as now() repeat on every table
def default_clause(text: str) -> str:
    """`DEFAULT <text>` of a column or a domain, the text in parentheses when it is more than
    the restricted expression a DEFAULT clause reads there: `NOT x`, `a AND b`, `x IS NULL`,
    `x IN (…)` do not parse, and a trailing `COLLATE "C"` would become the column's (or the
    domain's) own collation instead of the default's. ALTER … SET DEFAULT reads any
    expression and takes the text as it is."""
    from pglast import ast, parse_sql  # deferred: start-up: a plan the cache answers renders none

    try:
        (stmt,) = parse_sql(f"CREATE TABLE t (c int DEFAULT {text}\n)")
        (column,) = stmt.stmt.tableElts
        bare = (
            isinstance(column, ast.ColumnDef)
            and column.collClause is None
            and len(column.constraints or ()) == 1
        )
    except Exception:  # any parse failure: the parenthesized form is the safe one
        bare = False
    return f"DEFAULT {text}" if bare else f"DEFAULT ({text})"


def column_def(col: Column) -> str:
    parts = [ident(col.name), col.type]
    if col.collation:
        parts.append(f"COLLATE {col.collation}")
    if col.generated is not None:
        parts.append(f"GENERATED ALWAYS AS ({col.generated}) STORED")
    if col.identity:
        parts.append(f"GENERATED {col.identity.upper()} AS IDENTITY{identity_clause(col)}")
    if col.default is not None:
        parts.append(default_clause(col.default))
    if not col.nullable:
        parts.append("NOT NULL")
    return " ".join(parts)


def deferral(deferrable: bool, initially_deferred: bool) -> str:
    if not deferrable:
        return ""
    return " DEFERRABLE INITIALLY DEFERRED" if initially_deferred else " DEFERRABLE"


def storage_clause(options: tuple[str, ...]) -> str:
    """` WITH (fillfactor=70, …)` of an index or a key's index with storage parameters."""
    return f" WITH ({', '.join(options)})" if options else ""


def constraint_def(c: PrimaryKey | Unique | Check | ForeignKey | Exclusion) -> str:
    head = f"CONSTRAINT {ident(c.name)} "
    if isinstance(c, PrimaryKey):
        return (
            head
            + f"PRIMARY KEY ({idents(c.columns)})"
            + storage_clause(c.options)
            + deferral(c.deferrable, c.initially_deferred)
        )
    if isinstance(c, Unique):
        nnd = " NULLS NOT DISTINCT" if c.nulls_not_distinct else ""
        return (
            head
            + f"UNIQUE{nnd} ({idents(c.columns)})"
            + storage_clause(c.options)
            + deferral(c.deferrable, c.initially_deferred)
        )
    if isinstance(c, Exclusion):
        return head + c.definition
    if isinstance(c, Check):
        no_inherit = " NO INHERIT" if c.no_inherit else ""
        return head + f"CHECK ({c.expression}){no_inherit}" + ("" if c.valid else " NOT VALID")
    match = " MATCH FULL" if c.match_full else ""
    return (
        head
        + f"FOREIGN KEY ({idents(c.columns)}) REFERENCES {ident(c.ref_schema, c.ref_table)}"
        + f" ({idents(c.ref_columns)}){match}"
        + f" ON UPDATE {c.on_update.upper()} ON DELETE {c.on_delete.upper()}"
        + deferral(c.deferrable, c.initially_deferred)
        + ("" if c.valid else " NOT VALID")
    )


def plain_add_constraint(
    table: str, c: PrimaryKey | Unique | Check | ForeignKey | Exclusion
) -> str:
    """ALTER TABLE … ADD CONSTRAINT as a person writes it, without a re-run guard: the
    constraint on a line of its own."""
    return f"ALTER TABLE {table}\n    ADD {constraint_def(c)}"


def index_element(e: IndexElement) -> str:
    text = ident(e.column) if e.column is not None else f"({e.expression})"
    if e.collation:
        text += f" COLLATE {e.collation}"
    if e.opclass:
        text += f" {e.opclass}"
    if e.order == "desc":
        text += " DESC"
    if e.nulls:
        text += f" NULLS {e.nulls.upper()}"
    return text


def index_def(ix: Index, *, if_not_exists: bool = True, concurrently: bool = False) -> str:
    unique = "UNIQUE " if ix.unique else ""
    conc = "CONCURRENTLY " if concurrently else ""
    ine = "IF NOT EXISTS " if if_not_exists else ""
    text = (
        f"CREATE {unique}INDEX {conc}{ine}{ident(ix.name)} ON {ident(ix.schema, ix.table)}"
        f" USING {ident(ix.method)} ({', '.join(index_element(e) for e in ix.elements)})"
    )
    if ix.include:
        text += f" INCLUDE ({idents(ix.include)})"
    if ix.nulls_not_distinct:
        text += " NULLS NOT DISTINCT"
    text += storage_clause(ix.options)
    if ix.where is not None:
        text += f" WHERE {ix.where}"
    return text
