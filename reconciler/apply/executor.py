"""Run a plan's statements in one transaction, under the lock, recording state in it.

The DDL and the state rows commit together or not at all. Before the transaction an attempt
row is written on its own (autocommit), so a run killed mid-way leaves a record saying so;
the transaction itself dies with the connection and Postgres rolls it back.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg

from reconciler.apply.timeouts import Timeouts
from reconciler.errors import ConnectionFailed, ReconcilerError
from reconciler.plan import PlannedChange, Step


@dataclass(frozen=True, slots=True)
class Executed:
    started_at: datetime
    finished_at: datetime
    duration_ms: int
    statements: int


# "unsafe use of new value of enum type" / "cannot run inside a transaction block"
_NEEDS_OUTSIDE = frozenset({"55P04", "25001"})


def run_statements(
    conn: psycopg.Connection,
    steps: list[Step],
    *,
    timeouts: Timeouts,
    log: Callable[[str], None],
    before_commit: Callable[[], None],
    what: str = "apply",
) -> Executed:
    """Execute `steps` in one transaction; `before_commit` records state in that transaction.

    Everything runs in the one transaction first. Only when Postgres refuses that because a
    statement needs to run outside a transaction (a new enum value used by a later statement)
    is the whole apply retried with those statements run first, each on its own and logged;
    they are idempotent (IF NOT EXISTS) and only touch objects that existed before the plan.
    """
    started = datetime.now(UTC)
    t0 = time.monotonic()
    try:
        count = _attempt(conn, steps, timeouts, log, before_commit, hoist=False, what=what)
    except _Failed as failed:
        retry = failed.sqlstate in _NEEDS_OUTSIDE and any(not s.transactional for s in steps)
        if not retry:
            raise failed.error from None
        log("retry with the statements that must run outside the transaction first")
        try:
            count = _attempt(conn, steps, timeouts, log, before_commit, hoist=True, what=what)
        except _Failed as again:
            raise again.error from None
    finished = datetime.now(UTC)
    return Executed(started, finished, int((time.monotonic() - t0) * 1000), count)


class _Failed(Exception):
    def __init__(self, error: ReconcilerError, sqlstate: str | None) -> None:
        super().__init__(str(error))
        self.error = error
        self.sqlstate = sqlstate


def _attempt(
    conn: psycopg.Connection,
    steps: list[Step],
    timeouts: Timeouts,
    log: Callable[[str], None],
    before_commit: Callable[[], None],
    *,
    hoist: bool,
    what: str,
) -> int:
    count = outside = 0
    current: PlannedChange | None = None
    try:
        for step in (s for s in steps if hoist and not s.transactional):
            current = step.change
            log(f"run outside the transaction  {step.change.address}: {step.sql}")
            conn.execute(step.sql.encode())
            count += 1
            outside += 1
        with conn.transaction():
            conn.execute(
                "SELECT set_config('lock_timeout', %s, true), "
                "set_config('statement_timeout', %s, true), "
                "set_config('search_path', 'public', true)",
                (timeouts.lock_timeout, timeouts.statement_timeout),
            )
            for step in (s for s in steps if s.transactional or not hoist):
                current = step.change
                if step.sql.lstrip().startswith("--"):
                    log(f"skip   {step.change.address}: {step.sql}")
                    continue
                log(f"run    {step.change.address}: {step.sql}")
                conn.execute(step.sql.encode())
                count += 1
            current = None
            before_commit()
    except psycopg.OperationalError as exc:
        if conn.closed or conn.broken:
            raise ConnectionFailed(
                "The connection to PostgreSQL was lost during the apply; the transaction was "
                "not committed, so nothing of it was applied.",
                detail=_pg_message(exc),
            ) from None
        raise _Failed(_failed(current, exc, outside, what), exc.sqlstate) from None
    except psycopg.Error as exc:
        raise _Failed(_failed(current, exc, outside, what), exc.sqlstate) from None
    return count


def _pg_message(exc: psycopg.Error) -> str:
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag else None
    return (primary or str(exc)).strip().splitlines()[0]


def _failed(
    change: PlannedChange | None, exc: psycopg.Error, outside: int, what: str
) -> ReconcilerError:
    where = f" at {change.address}" if change else " while recording state"
    hint = ""
    if getattr(exc, "sqlstate", None) == "55P03":
        hint = " (a table lock could not be taken within lock_timeout; retry when it is quieter)"
    kept = (
        "nothing was changed."
        if not outside
        else f"nothing else was changed, but the {outside} statement(s) Postgres only runs "
        "outside a transaction (adding enum values) stay applied; they are harmless and "
        "idempotent, and a new plan will not repeat them."
    )
    return ReconcilerError(
        f"The {what} failed{where}: {_pg_message(exc)}{hint}. The transaction was rolled back; "
        + kept,
    )
