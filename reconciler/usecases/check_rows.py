"""`reconciler check`, step 4: what the scratch copy cannot show, tried on the live rows.

The scratch database holds the live schema without a single row, so a pending plan that
adds a NOT NULL column without a default, a check, a foreign key, a unique constraint or
index, or sets NOT NULL, always "applies" there, and may still fail on production data.
Each such change is asked of the live database instead, read-only: first which of its tables
hold rows at all (one EXISTS per table, in one query: trash.holding_rows), then, for those,
whether a row violates the new rule. Each question runs in a read-only transaction under a
short statement_timeout, so a huge table cannot stall the check: what could not be answered
in time is reported as not proved, never as passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import psycopg
from psycopg import sql

from reconciler.model.address import Address
from reconciler.model.pg import Check, ForeignKey, Index, PrimaryKey, Table, Unique
from reconciler.model.words import counted
from reconciler.ops.base import MAY_FAIL
from reconciler.pipeline.trash import holding_rows

if TYPE_CHECKING:
    from reconciler.model.snapshot import PgSnapshot
    from reconciler.plan import Plan, PlannedChange

STEP = "rows"
TIMEOUT = "5s"  # per question; an unanswered one is "not proved"


class _Report(Protocol):
    def passed(self, step: str, message: str) -> None: ...
    def failed(self, step: str, message: str) -> None: ...
    def note(self, step: str, message: str) -> None: ...


@dataclass(frozen=True, slots=True)
class Question:
    """One way a change may fail on existing rows, and how to ask the live rows."""

    plan: str
    what: str  # "check things_note_short"
    table: tuple[str, str]
    violation: sql.Composable | None  # a query true when a row breaks it; None: rows alone do
    reason: str  # said when it breaks


def check_rows(
    report: _Report, conn: psycopg.Connection, pending: list[Plan], want: PgSnapshot | None
) -> None:
    questions, unknown = [], []
    for p in pending:
        for c in p.changes:
            if c.engine != "pg" or c.action not in ("create", "change"):
                continue
            q = _question(p.name, c, want)
            if q is not None:
                questions.append(q)
            elif (hazard := _data_hazard(c)) is not None:
                unknown.append(f"{p.name}: {c.address} ({hazard})")
    held = holding_rows(conn, _existing(conn, {q.table for q in questions}))
    proved = 0
    for q in questions:
        if q.table not in held:
            proved += 1
            continue
        where = f"{q.table[0]}.{q.table[1]}"
        if q.violation is None:
            report.failed(STEP, f"{q.plan}: {q.what} fails on the live rows of {where}: {q.reason}")
            continue
        answer = _ask(conn, q.violation)
        if answer is None:
            report.note(
                STEP,
                f"{q.plan}: {q.what} is not proved against the live rows of {where} (not "
                f"answered within {TIMEOUT}, or it reads what only the plan creates)",
            )
        elif answer:
            report.failed(STEP, f"{q.plan}: {q.what} fails on the live rows of {where}: {q.reason}")
        else:
            proved += 1
    for line in unknown:
        report.note(STEP, f"cannot prove against the live rows (the scratch copy has none): {line}")
    if proved:
        held = counted(proved, "change")
        report.passed(STEP, f"{held} that may fail on existing data: the live rows allow them")


def _existing(conn: psycopg.Connection, tables: set[tuple[str, str]]) -> list[tuple[str, str]]:
    """Those of `tables` that exist live (a table the plan renames or creates has no rows
    to ask about under that name)."""
    if not tables:
        return []
    ordered = sorted(tables)
    names = [sql.Identifier(*t).as_string(conn) for t in ordered]
    rows = conn.execute(
        "SELECT i FROM unnest(%s::text[]) WITH ORDINALITY AS q(t, i) "
        "WHERE to_regclass(q.t) IS NOT NULL",
        (names,),
    ).fetchall()
    return [ordered[i - 1] for (i,) in rows]


def _data_hazard(c: PlannedChange) -> str | None:
    """What in a change may fail on rows: its may-fail hazard, or a rewrite that fails on
    values that do not convert (a type change)."""
    for h in c.hazards:
        if h["code"] == MAY_FAIL or "fails on" in h["message"]:
            return h["message"]
    return None


def _question(plan: str, c: PlannedChange, want: PgSnapshot | None) -> Question | None:
    addr = Address.parse(c.address)
    kind, parts = addr.kind, addr.parts[2:]
    hazards = " ".join(h["message"] for h in c.hazards if h["code"] == MAY_FAIL)
    if kind == "column" and len(parts) == 3 and "NOT NULL" in hazards:
        schema, table, column = parts
        what = f"column {schema}.{table}.{column}"
        if c.action == "create":
            reason = "it is added NOT NULL without a default, and the table has rows"
            return Question(plan, what, (schema, table), None, reason)
        query = sql.SQL("SELECT FROM {} WHERE {} IS NULL").format(
            sql.Identifier(schema, table), sql.Identifier(column)
        )
        return Question(plan, f"NOT NULL on {what}", (schema, table), query, "rows hold NULLs")
    if want is None:
        return None
    if kind == "constraint" and len(parts) == 3 and hazards:
        t = want.tables.get((parts[0], parts[1]))
        found = [k for k in (t.constraints() if t else ()) if k.name == parts[2]]
        return _constraint(plan, t, found[0]) if t and found else None
    if kind == "index" and len(parts) == 2 and c.action == "create":
        ix = want.indexes.get((parts[0], parts[1]))
        if ix is not None and ix.unique and (ix.schema, ix.table) in want.tables:
            return _unique_index(plan, ix)
    return None


def _constraint(plan: str, t: Table, k: object) -> Question | None:
    table = sql.Identifier(t.schema, t.name)
    key = (t.schema, t.name)
    if isinstance(k, Check):
        query = sql.SQL("SELECT FROM {} WHERE NOT ({})").format(table, sql.SQL(k.expression))
        return Question(plan, f"check {k.name}", key, query, "some rows violate it")
    if isinstance(k, (Unique, PrimaryKey)):
        cols = [sql.Identifier(c) for c in k.columns]
        distinct = isinstance(k, Unique) and k.nulls_not_distinct
        query = _duplicates(table, cols, skip_nulls=not distinct)
        what = f"{'unique' if isinstance(k, Unique) else 'primary key'} {k.name}"
        return Question(plan, what, key, query, "rows hold duplicate keys")
    if isinstance(k, ForeignKey):
        mine = [sql.SQL("x.{}").format(sql.Identifier(c)) for c in k.columns]
        theirs = [sql.SQL("y.{}").format(sql.Identifier(c)) for c in k.ref_columns]
        present = sql.SQL(" AND ").join(sql.SQL("{} IS NOT NULL").format(m) for m in mine)
        match = sql.SQL(" AND ").join(
            sql.SQL("{} = {}").format(a, b) for a, b in zip(theirs, mine, strict=True)
        )
        query = sql.SQL("SELECT FROM {} x WHERE {} AND NOT EXISTS (SELECT FROM {} y WHERE {})")
        query = query.format(table, present, sql.Identifier(k.ref_schema, k.ref_table), match)
        reason = f"rows reference keys missing from {k.ref_schema}.{k.ref_table}"
        return Question(plan, f"foreign key {k.name}", key, query, reason)
    return None


def _unique_index(plan: str, ix: Index) -> Question:
    table = sql.Identifier(ix.schema, ix.table)
    keys: list[sql.Composable] = [
        sql.Identifier(e.column)
        if e.column
        else sql.SQL("({})").format(sql.SQL(e.expression or ""))
        for e in ix.elements
    ]
    query = _duplicates(table, keys, skip_nulls=not ix.nulls_not_distinct, where=ix.where)
    reason = "rows hold duplicate keys"
    return Question(
        plan, f"unique index {ix.schema}.{ix.name}", (ix.schema, ix.table), query, reason
    )


def _duplicates(
    table: sql.Composable, keys: list[sql.Composable], *, skip_nulls: bool, where: str | None = None
) -> sql.Composable:
    """Rows sharing a key: NULLs never collide unless NULLS NOT DISTINCT."""
    conditions = [sql.SQL("({})").format(sql.SQL(where))] if where else []
    if skip_nulls:
        conditions += [sql.SQL("{} IS NOT NULL").format(k) for k in keys]
    filtered = sql.SQL(" WHERE ") + sql.SQL(" AND ").join(conditions) if conditions else sql.SQL("")
    return sql.SQL("SELECT FROM {}{} GROUP BY {} HAVING count(*) > 1").format(
        table, filtered, sql.SQL(", ").join(keys)
    )


def _ask(conn: psycopg.Connection, violation: sql.Composable) -> bool | None:
    """Whether a row violates it; None when the server could not say in time."""
    try:
        with conn.transaction(force_rollback=True):
            conn.execute("SET TRANSACTION READ ONLY")
            conn.execute(f"SET LOCAL statement_timeout = '{TIMEOUT}'")
            conn.execute("SET LOCAL lock_timeout = '1s'")
            row = conn.execute(sql.SQL("SELECT EXISTS ({})").format(violation)).fetchone()
    except psycopg.Error:
        return None
    return bool(row and row[0])
