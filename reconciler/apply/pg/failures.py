"""What a failed statement means: whether to retry it, run it outside a transaction, or stop,
and the sentence it becomes (the change it belongs to and the server's own words, or, for a
NOT NULL the rows refuse, the column as the user wrote it and how many rows hold NULL).

Must not: change anything (the one query it runs is a NULL count, read-only and bounded by a
statement timeout, after the failed transaction was rolled back); executor.py decides what to
do with the answer.
"""

from __future__ import annotations

import re

import psycopg
from psycopg.pq import TransactionStatus

from reconciler.errors import ConnectionFailed, ReconcilerError
from reconciler.plan import PlannedChange
from reconciler.sql.render import ident
from reconciler.state.privileges import privilege_reason

# "unsafe use of new value of enum type" / "cannot run inside a transaction block"
NEEDS_OUTSIDE = frozenset({"55P04", "25001"})
LOCK_NOT_AVAILABLE = "55P03"
QUERY_CANCELED = "57014"
CHECK_VIOLATION = "23514"
NOT_NULL_VIOLATION = "23502"
NN_CHECK_PREFIX = "reconciler_nn_"  # the check that proves NOT NULL online (ops/pg/column_alter)
NULL_COUNT_TIMEOUT = "5s"


class Stopped(ReconcilerError):
    """A transaction or statement that failed; `head` says where and why alone."""

    def __init__(self, summary: str, *, head: str) -> None:
        super().__init__(summary)
        self.head = head


class Failed(Exception):
    """A statement failed; `head` says where and why, the caller says what was kept."""

    def __init__(self, head: str, sqlstate: str | None, at_statement: bool) -> None:
        super().__init__(head)
        self.head = head
        self.sqlstate = sqlstate
        self.at_statement = at_statement


def failure(
    change: PlannedChange | None,
    exc: psycopg.Error,
    *,
    conn: psycopg.Connection,
    what: str,
    at_round: int,
    lock_retries: int,
) -> Exception:
    """What a failed statement becomes: ConnectionFailed when the connection is gone, else a
    Failed saying where (the change, or the round it was sent in) and why."""
    if isinstance(exc, psycopg.OperationalError) and (conn.closed or conn.broken):
        return ConnectionFailed(
            f"The connection to PostgreSQL was lost during the {what}; the "
            "transaction was not committed, so nothing of it was applied.",
            detail=pg_message(exc),
        )
    where = f" at {change.address}" if change else " while recording state"
    if change and at_round > 1:
        where = f" at {change.address} or one of the {at_round - 1} statements after it"
    hint = ""
    if exc.sqlstate == LOCK_NOT_AVAILABLE:
        hint = (
            f" (a table lock could not be taken within lock_timeout, "
            f"{lock_retries} retries included; retry when it is quieter)"
        )
    reason = not_null_reason(change, exc, conn) or privilege_reason(exc, conn) or pg_message(exc)
    head = f"The {what} failed{where}: {reason}{hint}."
    return Failed(head, exc.sqlstate, change is not None)


DEPENDENT_OBJECTS = "2BP01"  # "cannot drop … because other objects depend on it"


def pg_message(exc: psycopg.Error) -> str:
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag else None
    text = (primary or str(exc)).strip().splitlines()[0]
    detail = getattr(diag, "message_detail", None) if diag else None
    if exc.sqlstate == DEPENDENT_OBJECTS and detail:
        # The server names the dependents only in the detail, one per line: say them.
        return f"{text} ({'; '.join(line.strip() for line in detail.splitlines())})"
    return text


def not_null_reason(
    change: PlannedChange | None, exc: psycopg.Error, conn: psycopg.Connection
) -> str | None:
    """For a column that cannot become NOT NULL (its SET NOT NULL, or the internal check that
    proves it online, refused by rows holding NULL): "public.tags.label has NULL in 10 rows"
    and what to do; None for any other failure."""
    diag = exc.diag
    schema, table = diag.schema_name, diag.table_name
    if not (schema and table):
        return None
    if exc.sqlstate == NOT_NULL_VIOLATION and diag.column_name:
        checked = column = diag.column_name
        tested = ident(column)
    elif (
        exc.sqlstate == CHECK_VIOLATION
        and change is not None
        and (diag.constraint_name or "").startswith(NN_CHECK_PREFIX)
    ):
        tested = _checked_expression(change, diag.constraint_name or "")
        if tested is None:
            return None
        checked = tested.strip('"').replace('""', '"')
        prefix = f"pg.column.{schema}.{table}."
        column = change.address[len(prefix) :] if change.address.startswith(prefix) else checked
    else:
        return None
    name = f"{schema}.{table}.{column}"
    count = _count_nulls(conn, ident(schema, table), tested)
    rows = "some rows" if count is None else f"{count} row{'s' if count != 1 else ''}"
    return (
        f"{name} has NULL in {rows}, so it cannot be NOT NULL; fill them first "
        f"(UPDATE {ident(schema, table)} SET {ident(column)} = … WHERE {tested} IS NULL; a new "
        "default does not fill existing rows) or keep the column nullable, then apply again"
    )


def _checked_expression(change: PlannedChange, constraint: str) -> str | None:
    """The column (as quoted in the SQL) that the plan's check `constraint` tests for NULL."""
    pattern = rf'ADD CONSTRAINT "?{re.escape(constraint)}"? CHECK \((.+?) IS NOT NULL\)'
    for sql in change.up:
        if found := re.search(pattern, sql):
            return found.group(1)
    return None


def _count_nulls(conn: psycopg.Connection, table: str, column: str) -> int | None:
    """The rows of `table` where `column` is NULL now, or None when that cannot be known in
    NULL_COUNT_TIMEOUT (or the connection is not usable: lost, or still in a transaction)."""
    if conn.closed or conn.broken or conn.info.transaction_status != TransactionStatus.IDLE:
        return None
    try:
        with conn.transaction():
            conn.execute("SELECT set_config('statement_timeout', %s, true)", (NULL_COUNT_TIMEOUT,))
            row = conn.execute(f"SELECT count(*) FROM {table} WHERE {column} IS NULL").fetchone()
    except psycopg.Error:
        return None
    return int(row[0]) if row else None
