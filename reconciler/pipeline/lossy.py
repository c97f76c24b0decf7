"""Whether a column's live values survive a change of its type, asked of the server.

A type change runs `ALTER COLUMN … TYPE new USING col::new`, and an explicit cast does not
fail where it can truncate or round instead: varchar(5) keeps five characters, numeric(10,0)
rounds, date drops the time of day. Whether that happens depends on the rows, not the types,
so no list of "narrowing" types can say it. Before a plan is written, each type change is
tried on the live values instead: a value survives when converting it and converting the
result back gives it again, compared as text under "C" so that nothing an equality operator
forgives (a scale, a trailing blank, a case) passes for the same value.

The check only reads, inside read-only transactions that are always rolled back, one scan per
table with every changed column of that table in it, the tables in statements of
per_table.CHUNK (a transaction each: each scan locks its table until the transaction ends,
and the server's lock table is shared and fixed in size). Each
statement is bounded (statement_timeout, lock_timeout): a check that times out or that the
server refuses cannot prove anything, and says so. When the batch fails, tables and then
columns are tried one by one, to tell which conversion fails and on what.

Outcomes: SURVIVES (every value converts back unchanged, or there are none); EMPTY (the
types have no cast between them, but the column holds no value: the plan converts it as
NULL, checking under the ALTER's lock that it still holds none); CHANGES (some
do not, counted when possible); COMPUTED (an explicit USING computes the new values: nothing
to round-trip, so they may change); UNPROVEN (timed out, or could not be tried); PENDING (the
plan creates the new type, and the table has rows); FAILS (the conversion raises on an
existing value: the apply would fail). judge() turns all but SURVIVES and FAILS into
`destructive` hazards and refuses FAILS at plan time.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg

from reconciler.connect import APPLY_SEARCH_PATH
from reconciler.errors import InputError, Problem
from reconciler.introspect.pg.per_table import CHUNK
from reconciler.ops.base import Change
from reconciler.ops.pg.column import RenameColumn
from reconciler.ops.pg.column_alter import AlterColumn
from reconciler.ops.pg.table import RenameTable
from reconciler.sql.render import ident

CHECK_TIMEOUT = 5.0  # seconds per statement; a check that needs longer proves nothing
BUDGET = 20.0  # seconds for all statements of one check, retries included

SURVIVES = "survives"
CHANGES = "changes"
COMPUTED = "computed"
UNPROVEN = "unproven"
PENDING = "pending"  # the new type does not exist before the plan runs, and there are rows
FAILS = "fails"
EMPTY = "empty"  # no cast between the types, but no value to convert either: made NULL


@dataclass(frozen=True, slots=True)
class TypeChange:
    """One column conversion: the live column, its type now and after, and the USING
    expression when one is written (None: the plain cast the plan runs)."""

    schema: str
    table: str
    column: str
    old_type: str
    new_type: str
    using: str | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    change: TypeChange
    outcome: str
    changed: int | None = None  # values that change; None when not counted ("at least one")
    reason: str = ""  # why UNPROVEN or FAILS, in the server's words when it gave some

    @property
    def destructive(self) -> bool:
        return self.outcome in (CHANGES, COMPUTED, UNPROVEN, PENDING)

    def hazard(self) -> str:
        """What happens to the values, after `type old → new` ("" when they all survive)."""
        col = self.change.column
        if self.outcome == CHANGES and self.changed is not None:
            s = "" if self.changed == 1 else "s"
            return (
                f"changes {self.changed} existing value{s} of {col} (converted back, they "
                "differ from what they were)"
            )
        if self.outcome == CHANGES:
            return f"changes at least one existing value of {col} (it does not convert back)"
        if self.outcome == COMPUTED:
            return f"computes the values of {col} with its USING expression, which may change them"
        if self.outcome == PENDING:
            return (
                f"cannot prove the existing values of {col} survive: the plan creates type "
                f"{self.change.new_type}, so they cannot be tried on it"
            )
        if self.outcome in (UNPROVEN, FAILS):
            return f"cannot prove the existing values of {col} survive: {self.reason}"
        return ""

    def refusal(self) -> str:
        c = self.change
        return (
            f"column {c.schema}.{c.table}.{c.column} cannot change type {c.old_type} → "
            f"{c.new_type}: converting its existing values fails ({self.reason})"
        )


def verdicts(
    conn: psycopg.Connection,
    changes: Sequence[TypeChange | tuple[str, str, str, str, str, str | None]],
    *,
    timeout: float = CHECK_TIMEOUT,
    budget: float = BUDGET,
) -> list[Verdict]:
    """One Verdict per change, in order. Reads only; never raises for what it finds."""
    items = [c if isinstance(c, TypeChange) else TypeChange(*c) for c in changes]
    if not items:
        return []
    run = _Run(conn, timeout, time.monotonic() + budget)
    found: dict[int, Verdict] = {}
    plans: dict[tuple[str, str], list[_Column]] = {}
    with _checking(conn):
        for i, (c, fact) in enumerate(zip(items, _facts(run, items), strict=True)):
            if isinstance(fact, str):
                found[i] = Verdict(c, UNPROVEN, reason=fact)
            else:
                plans.setdefault((c.schema, c.table), []).append(_Column(i, c, *fact))
    tables = list(plans.values())
    for start in range(0, len(tables), CHUNK):  # a transaction holds CHUNK tables' locks at most
        with _checking(conn):
            found.update(run.tables(tables[start : start + CHUNK]))
    return [found[i] for i in range(len(items))]


@contextmanager
def _checking(conn: psycopg.Connection) -> Iterator[None]:
    """A read-only transaction, always rolled back, under the settings of the check."""
    with conn.transaction(force_rollback=True):
        conn.execute("SET LOCAL transaction_read_only = on")
        # a USING expression's bare names mean what they will in the apply
        conn.execute("SELECT pg_catalog.set_config('search_path', %s, true)", (APPLY_SEARCH_PATH,))
        # Floats print in the shortest text that reads back exactly, whatever the session
        # says, so a float that a conversion moves never prints as its old value.
        conn.execute("SET LOCAL extra_float_digits = 1")
        yield


@dataclass(frozen=True, slots=True)
class _Column:
    i: int
    change: TypeChange
    old_is_enum: bool
    new_is_enum: bool
    pending: bool  # the new type is not there yet: only whether the table has rows is asked

    def forward(self) -> str:
        """The conversion the plan runs (ops/pg/column_alter.py: an enum goes through text)."""
        c = self.change
        if c.using is not None:
            return f"({c.using})"
        via = "::text" if self.old_is_enum else ""
        return f"{ident(c.column)}{via}::{c.new_type}"

    def back(self) -> str:
        via = "::text" if self.old_is_enum or self.new_is_enum else ""
        return f"({self.forward()}){via}::{self.change.old_type}"

    def counted(self) -> str:
        """Per row: the values that change; with a USING, only that it evaluates."""
        if self.pending:
            return "count(*)"
        if self.change.using is not None:
            return f"count({self.forward()})"
        was = f'({ident(self.change.column)})::text COLLATE "C"'
        return f'count(*) FILTER (WHERE ({self.back()})::text COLLATE "C" IS DISTINCT FROM {was})'


_FACTS_SQL = """
SELECT a.attnum IS NOT NULL, coalesce(t.typtype = 'e', false), to_regtype(q.n) IS NOT NULL,
       coalesce(nt.typtype = 'e', false)
FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[]) WITH ORDINALITY AS q(s, t, c, n, i)
LEFT JOIN pg_catalog.pg_attribute a
  ON a.attrelid = to_regclass(quote_ident(q.s) || '.' || quote_ident(q.t))
 AND a.attname = q.c AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_catalog.pg_type nt ON nt.oid = to_regtype(q.n)
ORDER BY q.i
"""


def _facts(run: _Run, items: list[TypeChange]) -> list[tuple[bool, bool, bool] | str]:
    """Per change: (old is an enum, new is an enum, new is pending), or why it cannot be tried."""
    columns = [[getattr(c, f) for c in items] for f in ("schema", "table", "column", "new_type")]
    try:
        rows = run.ask(_FACTS_SQL, columns)
    except (psycopg.Error, _OutOfTime) as exc:
        return [run.said(exc)] * len(items)
    out: list[tuple[bool, bool, bool] | str] = []
    for c, (exists, old_enum, new_known, new_enum) in zip(items, rows, strict=True):
        if not exists:
            out.append(f"column {c.schema}.{c.table}.{c.column} is not there to read")
        else:
            out.append((old_enum, new_enum, not new_known))
    return out


class _Run:
    """Statements under one deadline, each in a savepoint so a refusal leaves the rest usable."""

    def __init__(self, conn: psycopg.Connection, timeout: float, deadline: float) -> None:
        self.conn, self.timeout, self.deadline = conn, timeout, deadline

    def ask(self, query: str, params: Sequence[object] = ()) -> list[tuple]:
        left = min(self.timeout, self.deadline - time.monotonic())
        if left <= 0:
            raise _OutOfTime()
        ms = max(int(left * 1000), 1)
        with self.conn.transaction():
            self.conn.execute(f"SET LOCAL statement_timeout = {ms}")
            self.conn.execute(f"SET LOCAL lock_timeout = {ms}")
            return self.conn.execute(query, params or None).fetchall()

    def tables(self, tables: list[list[_Column]]) -> dict[int, Verdict]:
        if not tables:
            return {}
        try:
            (row,) = self.ask(f"SELECT {', '.join(f'({_scan(cols)})' for cols in tables)}")
        except (psycopg.Error, _OutOfTime) as exc:
            if len(tables) > 1:  # which table: one statement each
                return {i: v for cols in tables for i, v in self.tables([cols]).items()}
            if isinstance(exc, psycopg.Error) and not _timed_out(exc):
                return {col.i: self.column(col) for col in tables[0]}
            # A scan that ran out of time would do so again column by column.
            return {
                col.i: Verdict(col.change, UNPROVEN, reason=self.said(exc)) for col in tables[0]
            }
        return {
            col.i: _counted(col, n)
            for cols, counts in zip(tables, row, strict=True)
            for col, n in zip(cols, counts, strict=True)
        }

    def column(self, col: _Column) -> Verdict:
        """One column on its own: first whether the conversion itself passes every value
        (else the apply would fail: FAILS), then whether they all convert back."""
        c, table = col.change, ident(col.change.schema, col.change.table)
        if col.pending:
            try:
                ((n,),) = self.ask(f"SELECT {col.counted()} FROM {table}")
            except (psycopg.Error, _OutOfTime) as exc:
                return Verdict(c, UNPROVEN, reason=self.said(exc))
            return _counted(col, n)
        try:
            self.ask(f"SELECT count({col.forward()}) FROM {table}")
        except (psycopg.Error, _OutOfTime) as exc:
            fails = isinstance(exc, psycopg.Error) and _refused_value(exc)
            if fails and exc.sqlstate == "42846" and c.using is None and not self._held(col):
                return Verdict(c, EMPTY)
            return Verdict(c, FAILS if fails else UNPROVEN, reason=self.said(exc))
        if c.using is not None:
            return Verdict(c, COMPUTED)
        try:
            ((n,),) = self.ask(f"SELECT {col.counted()} FROM {table}")
        except (psycopg.Error, _OutOfTime) as exc:
            if isinstance(exc, psycopg.Error) and _refused_value(exc):
                return Verdict(c, CHANGES, reason=self.said(exc))  # one does not convert back
            return Verdict(c, UNPROVEN, reason=self.said(exc))
        return _counted(col, n)

    def _held(self, col: _Column) -> bool:
        """Whether the column holds a value (True too when that cannot be found out)."""
        c = col.change
        try:
            ((n,),) = self.ask(
                f"SELECT count(*) FROM (SELECT FROM {ident(c.schema, c.table)} "
                f"WHERE {ident(c.column)} IS NOT NULL LIMIT 1) AS v"
            )
        except (psycopg.Error, _OutOfTime):
            return True
        return bool(n)

    def said(self, exc: Exception) -> str:
        if isinstance(exc, _OutOfTime):
            return "the check ran out of time"
        assert isinstance(exc, psycopg.Error)
        if exc.sqlstate == "57014":
            return f"the check did not finish within {self.timeout:g} s"
        if exc.sqlstate == "55P03":
            return "another session holds a lock on the table"
        primary = exc.diag.message_primary if exc.diag else None
        return (primary or str(exc).strip().splitlines()[0]).rstrip(".")


def _scan(cols: list[_Column]) -> str:
    table = ident(cols[0].change.schema, cols[0].change.table)
    return f"SELECT ARRAY[{', '.join(c.counted() for c in cols)}]::bigint[] FROM {table}"


def _counted(col: _Column, n: int) -> Verdict:
    if col.pending:
        return Verdict(col.change, PENDING) if n else Verdict(col.change, SURVIVES)
    if col.change.using is not None:
        return Verdict(col.change, COMPUTED)
    return Verdict(col.change, CHANGES, changed=n) if n else Verdict(col.change, SURVIVES)


def _timed_out(exc: psycopg.Error) -> bool:
    return exc.sqlstate in ("57014", "55P03")  # statement_timeout, lock_timeout


def _refused_value(exc: psycopg.Error) -> bool:
    """A data exception or a domain's constraint: a value the conversion cannot take, which
    the ALTER would meet too. 42846: no conversion between the types at all."""
    state = exc.sqlstate or ""
    return state[:2] in ("22", "23") or state == "42846"


class _OutOfTime(Exception):
    """The check's whole budget is spent: what is left is not tried."""


_HOW = (
    "Say how to compute the new values with `using:` on the column (e.g. "
    "using: to_timestamp(created)), change or remove the values that do not convert first, "
    "or keep the type."
)


def judge(
    conn: psycopg.Connection, changes: Iterable[Change], *, timeout: float = CHECK_TIMEOUT
) -> list[Change]:
    """`changes` with every column type change that rewrites values judged on the live rows
    (AlterColumn.value_change); raises InputError when a conversion fails on existing values."""
    changes = list(changes)
    tables = {(c.schema, c.new_name): c.old_name for c in changes if isinstance(c, RenameTable)}
    columns = {
        (c.schema, c.table, c.new_name): c.old_name for c in changes if isinstance(c, RenameColumn)
    }
    picked = [i for i, c in enumerate(changes) if isinstance(c, AlterColumn) and c.retypes()]
    if not picked:
        return changes
    asks = []
    for i in picked:
        c = changes[i]
        assert isinstance(c, AlterColumn)
        # Renames of the same plan have not run yet: the live rows sit under the old names.
        name = c.new.name
        asks.append(
            TypeChange(
                c.schema,
                tables.get((c.schema, c.table), c.table),
                columns.get((c.schema, c.table, name), name),
                c.old.type,
                c.new.type,
                c.new.using,
            )
        )
    found = verdicts(conn, asks, timeout=timeout)
    failed = [(changes[i], v) for i, v in zip(picked, found, strict=True) if v.outcome == FAILS]
    if failed:
        problems = [Problem(v.refusal(), source=_source(c)) for c, v in failed]
        if len(problems) == 1:
            raise InputError(
                problems[0].message[0].upper() + problems[0].message[1:] + ".",
                detail=_HOW,
                source=problems[0].source,
            )
        raise InputError(
            f"{len(problems)} column type changes would fail on existing values.",
            detail=_HOW,
            problems=problems,
        )
    out = list(changes)
    for i, v in zip(picked, found, strict=True):
        c = out[i]
        assert isinstance(c, AlterColumn)
        if v.outcome == PENDING and c.new_is_enum:
            # An enum's input takes a label exactly or raises: a value it accepts is kept,
            # so the conversion to an enum the plan creates can fail but change nothing.
            continue
        if v.outcome == EMPTY:
            out[i] = dataclasses.replace(c, value_change="", no_cast=True)
            continue
        out[i] = dataclasses.replace(c, value_change=v.hazard())
    return out


def _source(c: Change) -> str | None:
    return c.new.source if isinstance(c, AlterColumn) else None
